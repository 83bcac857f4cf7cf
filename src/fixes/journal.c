// SPDX-License-Identifier: GPL-2.0-or-later
/* The fix journal reader: parses the JSON lines apply.c writes and finds whether the last
 * `fix --apply` ended. The file may be damaged (a kill mid-line, a full disk, an editor), so
 * every line is bounded and checked; a bad line is counted and skipped, never fatal. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixes/journal.h"
#include "util.h"

static int bad(char *err, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (err && size) {
		va_start(ap, fmt);
		vsnprintf(err, size, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

/* A string member into buf. Absent: "" (or -ENOENT when required). Too long: -E2BIG unless
 * cutting it is harmless (cut). Not a string: -EINVAL. */
static int get_str(json_t *o, const char *key, char *buf, size_t size, bool required, bool cut)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	size_t n;

	buf[0] = '\0';
	if (!v)
		return required ? -ENOENT : 0;
	if (!json_is_string(v))
		return -EINVAL;
	s = json_string_value(v);
	n = json_string_length(v);
	if (memchr(s, '\0', n))
		return -EINVAL;	/* "\u0000" inside: not a name we wrote */
	if (n >= size && !cut)
		return -E2BIG;
	strtcpy(buf, s, size);
	return 0;
}

static const char *why(int r)
{
	return r == -ENOENT ? "missing" : r == -E2BIG ? "too long" : "not a string";
}

#define GET(o, key, buf, required, cut) \
	do { \
		int r_ = get_str((o), (key), (buf), sizeof(buf), (required), (cut)); \
		if (r_ < 0) \
			return bad(err, errsize, "\"%s\" is %s", (key), why(r_)); \
	} while (0)

/*
 * Deepest [ and { nesting of a JSON text, strings skipped. jansson recurses once per level to
 * parse and again to free, on the caller's stack: 2000 '[' in an 8 KiB line crashed `fix`
 * under `ulimit -s 128`. Counted before jansson sees the line, so no stack depends on it.
 */
static unsigned json_nesting(const char *s, size_t len)
{
	unsigned depth = 0, deepest = 0;
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		if (in_string) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_string = false;
		} else if (s[i] == '"') {
			in_string = true;
		} else if (s[i] == '[' || s[i] == '{') {
			if (++depth > deepest)
				deepest = depth;
		} else if ((s[i] == ']' || s[i] == '}') && depth) {
			depth--;
		}
	}
	return deepest;
}

int journal_parse_line(const char *line, size_t len, struct journal_line *out, char *err, size_t errsize)
{
	static const struct { const char *name; enum journal_event ev; } events[] = {
		{ "apply-start", JOURNAL_APPLY_START },
		{ "step", JOURNAL_STEP },
		{ "apply-end", JOURNAL_APPLY_END },
	};
	_cleanup_(json_decrefp) json_t *o = NULL;
	json_error_t e;
	char kind[16], event[16];
	json_t *step;
	bool known = false;

	memset(out, 0, sizeof(*out));
	if (len > JOURNAL_LINE_MAX)
		return bad(err, errsize, "line longer than %u bytes", JOURNAL_LINE_MAX);
	if (json_nesting(line, len) > JOURNAL_DEPTH_MAX)
		return bad(err, errsize, "nested deeper than %u levels", JOURNAL_DEPTH_MAX);
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &e);
	if (!o)
		return bad(err, errsize, "not JSON (column %d: %.60s)", e.column, e.text);
	if (!json_is_object(o))
		return bad(err, errsize, "not a JSON object");
	GET(o, "kind", kind, true, false);
	if (!streq(kind, "fix-journal"))
		return bad(err, errsize, "kind is not \"fix-journal\"");
	GET(o, "event", event, false, false);
	if (!event[0]) {
		out->event = JOURNAL_LEGACY_STEP;
		known = true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(events) && !known; i++)
		if (streq(event, events[i].name)) {
			out->event = events[i].ev;
			known = true;
		}
	if (!known)
		return bad(err, errsize, "unknown event \"%.20s\"", event);
	GET(o, "time", out->time, true, false);
	if (out->event != JOURNAL_LEGACY_STEP) {
		GET(o, "run", out->run, true, false);
		if (!out->run[0])
			return bad(err, errsize, "\"run\" is empty");
	}
	switch (out->event) {
	case JOURNAL_STEP:
	case JOURNAL_LEGACY_STEP:
		GET(o, "fix", out->fix, true, false);
		GET(o, "action", out->action, true, false);
		GET(o, "result", out->result, true, false);
		step = json_object_get(o, "step");
		if (!json_is_integer(step) || json_integer_value(step) < 1 || json_integer_value(step) > 1000)
			return bad(err, errsize, "\"step\" is not an integer from 1 to 1000");
		out->step = (unsigned)json_integer_value(step);
		GET(o, "file", out->target, false, true);
		if (!out->target[0])
			GET(o, "module", out->target, false, true);
		if (!out->target[0]) {
			json_t *argv0 = json_array_get(json_object_get(o, "argv"), 0);

			if (json_is_string(argv0))
				strtcpy(out->target, json_string_value(argv0), sizeof(out->target));
		}
		break;
	case JOURNAL_APPLY_END:
		GET(o, "outcome", out->outcome, true, false);
		break;
	case JOURNAL_APPLY_START:
		break;
	}
	return 0;
}

void journal_scan(const char *buf, size_t len, bool partial_first, struct journal_state *st)
{
	const char *p = buf, *end = buf + len;

	memset(st, 0, sizeof(*st));
	st->tail_only = partial_first;
	if (partial_first) {
		const char *nl = memchr(p, '\n', len);

		p = nl ? nl + 1 : end;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		struct journal_line l;
		char err[96];

		if (n == 0 || (n == 1 && p[0] == '\r')) {
			p += n + 1;
			continue;
		}
		st->lines++;
		if (!nl) {
			/* The writer ends every line with '\n' in one write: a last line without it was
			 * cut short (killed, disk full). */
			snprintf(err, sizeof(err), "unterminated last line");
			goto skip;
		}
		if (journal_parse_line(p, n, &l, err, sizeof(err)) < 0)
			goto skip;
		switch (l.event) {
		case JOURNAL_APPLY_START:
			memset(&st->last, 0, sizeof(st->last));
			st->found = true;
			st->ended = false;
			st->steps = 0;
			st->outcome[0] = '\0';
			scopy(st->run, l.run);
			scopy(st->started, l.time);
			break;
		case JOURNAL_STEP:
			/* Another run's lines may interleave (two applies at once): count ours only. */
			if (st->found && streq(l.run, st->run)) {
				st->steps++;
				st->last = l;
			}
			break;
		case JOURNAL_APPLY_END:
			if (st->found && streq(l.run, st->run)) {
				st->ended = true;
				scopy(st->outcome, l.outcome);
			}
			break;
		case JOURNAL_LEGACY_STEP:
			break;
		}
		p += n + 1;
		continue;
skip:
		if (!st->malformed++) {
			st->first_bad_line = st->lines;
			scopy(st->first_error, err);
		}
		p += n + (nl ? 1 : 0);
	}
}

int journal_read_fd(int fd, struct journal_state *st)
{
	_cleanup_free_ char *buf = NULL;
	struct stat s;
	off_t off = 0;
	size_t want, len = 0;
	bool partial;

	if (fstat(fd, &s) < 0)
		return -errno;
	if (!S_ISREG(s.st_mode))
		return -EINVAL;
	/* Past the limit: the tail, plus the byte before it, which says whether the tail starts
	 * on a line boundary (then its first line is whole). */
	if (s.st_size > (off_t)JOURNAL_TAIL_MAX)
		off = s.st_size - (off_t)JOURNAL_TAIL_MAX - 1;
	want = (size_t)(s.st_size - off);
	buf = malloc(want + 1);
	if (!buf)
		return -ENOMEM;
	/* pread up to the size seen: lines appended meanwhile belong to a run that is not ours. */
	while (len < want) {
		ssize_t n = pread(fd, buf + len, want - len, off + (off_t)len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (off == 0) {
		journal_scan(buf, len, false, st);
		return 0;
	}
	if (len == 0)
		return -EIO;	/* shrank under us */
	partial = buf[0] != '\n';
	journal_scan(buf + 1, len - 1, partial, st);
	st->tail_only = true;
	return 0;
}
