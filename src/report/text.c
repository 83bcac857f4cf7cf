// SPDX-License-Identifier: GPL-2.0-or-later
/* Text report: one aligned line per check, then the verdict; --verbose adds the evidence. */
#include <errno.h>
#include <inttypes.h>

#include "report/report.h"
#include "util.h"

static const char *const status_colors[] = {
	[CHECK_PASS] = "\033[32m",
	[CHECK_WARN] = "\033[33m",
	[CHECK_FAIL] = "\033[31;1m",
	[CHECK_SKIP] = "\033[2m",
};

static const char *const verdict_text[] = {
	[VERDICT_READY] = "ready: this host can run KVM guests",
	[VERDICT_DEGRADED] = "degraded: KVM guests can run here, read the warnings",
	[VERDICT_NOT_READY] = "not ready: fix the failures before this host can run KVM guests",
	[VERDICT_UNKNOWN] = "unknown: not enough could be checked to decide",
};

/*
 * A failure need not be KVM's: with libvirtd down the guest still boots. Saying "cannot run
 * KVM guests" after booting one would be false, so a proven KVM is named in the verdict.
 */
static const char *verdict_text_for(const struct report *rep)
{
	const struct check_result *boot = run_result(rep->run, "vm.smoke_boot");

	if (rep->verdict == VERDICT_NOT_READY && boot && boot->status == CHECK_PASS)
		return "not ready: KVM works (the test guest booted), but fix the failures before "
		       "putting this host into service";
	return verdict_text[rep->verdict];
}

static const int verdict_status[] = {
	[VERDICT_READY] = CHECK_PASS,
	[VERDICT_DEGRADED] = CHECK_WARN,
	[VERDICT_NOT_READY] = CHECK_FAIL,
	[VERDICT_UNKNOWN] = CHECK_SKIP,
};

/* Everything printed may come from a hostile --root or a guest: no escape sequences, no
 * line breaks that forge report lines (see str_sanitize). */
static void put(FILE *out, const char *s)
{
	_cleanup_free_ char *clean = str_sanitize(s, STR_TEXT);

	fputs(clean ? clean : "?", out);
}

static void print_detail(FILE *out, const struct detail *d)
{
	fprintf(out, "        %-22s ", d->key);
	switch (d->type) {
	case DETAIL_STRING:
		put(out, d->string);
		fputc('\n', out);
		break;
	case DETAIL_BOOL:
		fprintf(out, "%s\n", d->boolean ? "yes" : "no");
		break;
	case DETAIL_INT:
		fprintf(out, "%" PRId64 "\n", d->integer);
		break;
	case DETAIL_NULL:
		fprintf(out, "-\n");
		break;
	case DETAIL_LIST:
		for (unsigned i = 0; i < d->list.n; i++) {
			fputs(i ? ", " : "", out);
			put(out, d->list.items[i]);
		}
		fprintf(out, "%s\n", d->list.n ? "" : "(none)");
		break;
	case DETAIL_STAGES:
		fputc('\n', out);
		for (unsigned i = 0; i < d->stages.n; i++) {
			const struct detail_stage *s = &d->stages.items[i];

			fprintf(out, "          %-12s %-11s %10" PRIu64 " us  ", s->name, s->status, s->us);
			put(out, s->note);
			fputc('\n', out);
		}
		break;
	}
}

int report_text(FILE *out, const struct report *rep)
{
	const struct run *run = rep->run;
	size_t idw = 0;

	for (unsigned i = 0; i < run->n; i++)
		if (strlen(run->check[i]->id) > idw)
			idw = strlen(run->check[i]->id);

	for (unsigned i = 0; i < run->n; i++) {
		const struct check_result *r = &run->result[i];
		const char *on = rep->color ? status_colors[r->status] : "";
		const char *off = rep->color ? "\033[0m" : "";

		if (rep->quiet && (r->status == CHECK_PASS || r->status == CHECK_SKIP))
			continue;
		fprintf(out, "%s%-4s%s  %-*s  ", on, check_status_name(r->status), off, (int)idw,
			run->check[i]->id);
		put(out, r->summary);
		fputc('\n', out);
		if (!rep->verbose)
			continue;
		for (unsigned j = 0; j < r->n_details; j++)
			print_detail(out, &r->details[j]);
		if (r->advice[0]) {
			fprintf(out, "        %-22s ", "advice");
			put(out, r->advice);
			fputc('\n', out);
		}
		for (unsigned j = 0; j < r->n_fixes; j++)
			fprintf(out, "        %-22s %s\n", "fix", r->fixes[j]);
	}
	if (!rep->quiet)
		fputc('\n', out);
	fprintf(out, "%sverdict%s: %s\n",
		rep->color ? status_colors[verdict_status[rep->verdict]] : "",
		rep->color ? "\033[0m" : "", verdict_text_for(rep));
	return ferror(out) ? -EIO : 0;
}
