/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fix journal reader: one JSON line -> struct, and "did the last fix --apply finish?". */
#ifndef VD_FIXES_JOURNAL_H
#define VD_FIXES_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

/* A journal line longer than this is malformed (real ones are < 1 KiB). */
#define JOURNAL_LINE_MAX 8192
#define JOURNAL_DEPTH_MAX 16	/* our lines nest 3 deep; jansson recurses once per level */
/* Only the tail of the file is read: the last run is at the end, the file only grows. */
#define JOURNAL_TAIL_MAX (1u << 20)

enum journal_event {
	JOURNAL_APPLY_START,
	JOURNAL_STEP,
	JOURNAL_APPLY_END,
	JOURNAL_LEGACY_STEP,	/* a step line written before runs had ids (no "event") */
};

struct journal_line {
	enum journal_event event;
	char run[48];		/* "" for a legacy step */
	char time[32];
	/* step */
	char fix[64];
	unsigned step;		/* 1-based within the fix */
	char action[16];
	char result[16];
	char target[128];	/* file, module or argv[0], for messages */
	/* apply-end */
	char outcome[16];
};

/* Parse one line (no trailing newline needed; len bytes, need not be NUL-terminated).
 * 0, or -EBADMSG with err saying what is wrong. */
int journal_parse_line(const char *line, size_t len, struct journal_line *out, char *err, size_t errsize);

struct journal_state {
	bool found;		/* an apply-start was seen */
	bool ended;		/* and its apply-end */
	char run[48], started[32];
	unsigned steps;		/* step lines of that run */
	struct journal_line last;	/* the last of them (valid when steps > 0) */
	char outcome[16];	/* from apply-end */
	unsigned lines, malformed;	/* lines looked at, lines skipped as malformed */
	unsigned first_bad_line;	/* 1-based within what was read; 0 when none */
	char first_error[128];
	bool tail_only;		/* the file was larger than JOURNAL_TAIL_MAX: only its end was read */
};

/* Summarize a journal text. partial_first: buf starts mid-file, so its first line is a
 * fragment and is dropped. Never fails: bad lines are counted and skipped. */
void journal_scan(const char *buf, size_t len, bool partial_first, struct journal_state *st);
/* Read the last JOURNAL_TAIL_MAX bytes of the open file fd and scan them. 0 or -errno. */
int journal_read_fd(int fd, struct journal_state *st);

#endif
