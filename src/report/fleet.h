/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `virt-doctor fleet`: merge many JSON reports into one view of a fleet. */
#ifndef VD_FLEET_H
#define VD_FLEET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define FLEET_SCHEMA_VERSION "1.0.0"
#define FLEET_FILE_MAX (4u << 20)	/* a report is ~10 KiB; anything above 4 MiB is hostile */
#define FLEET_STRING_MAX 256		/* host-supplied strings are cut to this many bytes */
#define FLEET_NAMES_WIDTH 100
#define FLEET_CLOCK_SKEW 86400		/* a report may be dated this far after --now, no further */
#define FLEET_TIME_MAX 253402300799LL	/* 9999-12-31T23:59:59Z: the last time RFC 3339 can write */		/* text: characters of host names per line before "+N more" */

enum fleet_format { FLEET_TEXT, FLEET_JSON, FLEET_CSV };

struct fleet_options {
	time_t now;
	int64_t stale_after;	/* seconds; a report older than this is stale */
	bool all_names;		/* text: list every host name, not the first few */
	unsigned threads;	/* parser threads; 0 = one per CPU, at most 4 */
};

struct fleet;
/* Read every report in paths (files, or directories read non-recursively for *.json). */
int fleet_load(struct fleet **out, char *const paths[], unsigned n, const struct fleet_options *o);
/* One report from memory, named name (as a file would be): the same parse, checks and
 * aggregation as fleet_load. For the fuzzer and tests. */
int fleet_load_buffer(struct fleet **out, const char *name, const char *buf, size_t len,
		      const struct fleet_options *o);
int fleet_render(FILE *out, const struct fleet *f, enum fleet_format fmt);
/* Worst verdict's exit code; at least 1 when a report is stale or unreadable; 3 when none read. */
int fleet_exit_code(const struct fleet *f);
void fleet_free(struct fleet *f);

/* "90", "90s", "15m", "12h", "7d", "2w" → seconds; -EINVAL otherwise. */
int fleet_parse_duration(const char *s, int64_t *out);
/* RFC 3339 ("2026-11-26T03:30:45Z", "...+01:00", fraction ignored) or epoch seconds ("@1700000000"). */
int fleet_parse_time(const char *s, time_t *out);

#endif
