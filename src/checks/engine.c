// SPDX-License-Identifier: GPL-2.0-or-later
/* The check engine: result builders, the offline-root rule, run order and the verdict. */
#include <stdio.h>

#include "cache.h"
#include "checks/check.h"
#include "util.h"

static void vformat_line(char *buf, size_t size, const char *fmt, va_list ap)
{
	vsnprintf(buf, size, fmt, ap);
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

void result_set(struct check_result *r, enum check_status s, const char *fmt, ...)
{
	va_list ap;

	r->status = s;
	va_start(ap, fmt);
	vformat_line(r->summary, sizeof(r->summary), fmt, ap);
	va_end(ap);
}

void result_advise(struct check_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat_line(r->advice, sizeof(r->advice), fmt, ap);
	va_end(ap);
}

void result_fix(struct check_result *r, const char *fix_id)
{
	for (unsigned i = 0; i < r->n_fixes; i++)
		if (streq(r->fixes[i], fix_id))
			return;
	if (r->n_fixes < CHECK_FIXES_MAX)
		r->fixes[r->n_fixes++] = fix_id;
}

static struct detail *detail_slot(struct check_result *r, const char *key)
{
	struct detail *d;

	for (unsigned i = 0; i < r->n_details; i++)
		if (streq(r->details[i].key, key))
			return &r->details[i];
	if (r->n_details >= CHECK_DETAILS_MAX)
		return NULL;	/* a programming error; dropping a detail beats crashing */
	d = &r->details[r->n_details++];
	memset(d, 0, sizeof(*d));
	snprintf(d->key, sizeof(d->key), "%s", key);
	d->type = DETAIL_NULL;
	return d;
}

static void detail_clear(struct detail *d)
{
	if (d->type == DETAIL_STRING)
		free(d->string);
	else if (d->type == DETAIL_LIST) {
		for (unsigned i = 0; i < d->list.n; i++)
			free(d->list.items[i]);
		free(d->list.items);
	}
	else if (d->type == DETAIL_STAGES)
		free(d->stages.items);
	d->type = DETAIL_NULL;
}

void detail_str(struct check_result *r, const char *key, const char *fmt, ...)
{
	struct detail *d = detail_slot(r, key);
	va_list ap;
	char *s;
	int n;

	if (!d)
		return;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	detail_clear(d);
	if (n < 0)
		return;
	d->type = DETAIL_STRING;
	d->string = s;
}

void detail_bool(struct check_result *r, const char *key, bool v)
{
	struct detail *d = detail_slot(r, key);

	if (!d)
		return;
	detail_clear(d);
	d->type = DETAIL_BOOL;
	d->boolean = v;
}

void detail_int(struct check_result *r, const char *key, int64_t v)
{
	struct detail *d = detail_slot(r, key);

	if (!d)
		return;
	detail_clear(d);
	d->type = DETAIL_INT;
	d->integer = v;
}

void detail_uint(struct check_result *r, const char *key, uint64_t v)
{
	detail_int(r, key, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

void detail_null(struct check_result *r, const char *key)
{
	struct detail *d = detail_slot(r, key);

	if (d)
		detail_clear(d);
}

void detail_list_add(struct check_result *r, const char *key, const char *item)
{
	struct detail *d = detail_slot(r, key);

	if (!d)
		return;
	if (d->type != DETAIL_LIST) {
		detail_clear(d);
		d->type = DETAIL_LIST;
		d->list.n = 0;
		d->list.items = NULL;
	}
	if (item && !d->list.items)
		d->list.items = calloc(DETAIL_LIST_MAX, sizeof(*d->list.items));
	if (item && d->list.items && d->list.n < DETAIL_LIST_MAX) {
		char *s = strdup(item);

		if (s)
			d->list.items[d->list.n++] = s;
	}
}

void detail_stages(struct check_result *r, const char *key, const struct detail_stage *s, unsigned n)
{
	struct detail *d = detail_slot(r, key);
	struct detail_stage *copy;

	if (!d)
		return;
	detail_clear(d);
	copy = calloc(n ? n : 1, sizeof(*copy));
	if (!copy)
		return;
	memcpy(copy, s, n * sizeof(*copy));
	d->type = DETAIL_STAGES;
	d->stages.items = copy;
	d->stages.n = n;
}

const struct detail *detail_get(const struct check_result *r, const char *key)
{
	for (unsigned i = 0; i < r->n_details; i++)
		if (streq(r->details[i].key, key))
			return &r->details[i];
	return NULL;
}

void result_free(struct check_result *r)
{
	for (unsigned i = 0; i < r->n_details; i++)
		detail_clear(&r->details[i]);
	r->n_details = 0;
}

void run_check(struct check_ctx *ctx, const struct check *c, struct check_result *r)
{
	uint64_t t0 = now_us();

	/*
	 * A result is 13 KiB, nearly all of it detail slots; detail_slot() clears each slot it
	 * hands out, so clearing the header is enough, and the untouched pages of a calloc'd run
	 * are never faulted in.
	 */
	r->status = CHECK_PASS;
	r->summary[0] = r->advice[0] = '\0';
	r->n_details = r->n_fixes = 0;
	r->us = 0;
	if ((c->flags & CHECK_LIVE_ONLY) && !ctx->host->live)
		result_set(r, CHECK_SKIP, "offline root");
	else
		c->run(ctx, r);
	r->us = now_us() - t0;
}

/* A check whose start hook runs in this run: live, or allowed offline. */
static bool starts(const struct check_ctx *ctx, const struct check *c)
{
	return c->start && (ctx->host->live || !(c->flags & CHECK_LIVE_ONLY));
}

/*
 * Run the listed checks into run, results in list order. The start hooks go first, so their
 * child processes (QEMU's --version, the libvirt conversation) begin before anything else;
 * the checks that own them are collected after every other check, so those children overlap
 * with the whole rest of the run instead of only with the checks listed before them. The
 * report order stays the list order; run_result() sees a result only once its check ran.
 */
void run_checks(struct check_ctx *ctx, struct run *run, const struct check *const *list, unsigned n)
{
	uint64_t t0 = now_us();

	if (n > ARRAY_SIZE(run->result))
		n = ARRAY_SIZE(run->result);
	cache_key_forget();	/* the host may have changed since the last run (fix --apply) */
	run->n = n;
	for (unsigned i = 0; i < n; i++) {
		run->check[i] = list[i];
		run->pending[i] = true;
	}
	for (unsigned i = 0; i < n; i++)
		if (starts(ctx, list[i]))
			list[i]->start(ctx);
	for (int collect = 0; collect < 2; collect++)
		for (unsigned i = 0; i < n; i++)
			if (starts(ctx, list[i]) == (collect == 1)) {
				run_check(ctx, list[i], &run->result[i]);
				run->pending[i] = false;
			}
	run->us = now_us() - t0;
}

/* Every registered check but the smoke boot: what a fix plan needs is facts, not a boot. */
void run_checks_no_boot(struct check_ctx *ctx, struct run *run)
{
	const struct check *list[ARRAY_SIZE(run->check)];
	unsigned n = 0;

	for (unsigned i = 0; i < n_checks && n < ARRAY_SIZE(list); i++)
		if (!streq(checks[i]->id, "vm.smoke_boot"))
			list[n++] = checks[i];
	run_checks(ctx, run, list, n);
}

const struct check_result *run_result(const struct run *run, const char *id)
{
	if (!run)
		return NULL;
	for (unsigned i = 0; i < run->n; i++)
		if (!run->pending[i] && streq(run->check[i]->id, id))
			return &run->result[i];
	return NULL;
}

void run_free(struct run *run)
{
	for (unsigned i = 0; i < run->n; i++)
		result_free(&run->result[i]);
	run->n = 0;
}

/*
 * A fail anywhere means not ready; a warning means it works with a caveat. Skips are
 * neutral, but a run in which nothing passed has proven nothing: unknown.
 */
enum verdict run_verdict(const struct run *run)
{
	bool warn = false, pass = false;

	for (unsigned i = 0; i < run->n; i++) {
		switch (run->result[i].status) {
		case CHECK_FAIL:
			return VERDICT_NOT_READY;
		case CHECK_WARN:
			warn = true;
			break;
		case CHECK_PASS:
			pass = true;
			break;
		default:
			break;
		}
	}
	if (warn)
		return VERDICT_DEGRADED;
	return pass ? VERDICT_READY : VERDICT_UNKNOWN;
}
