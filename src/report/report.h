/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Renderers: the same gathered results as text for people or JSON for machines. */
#ifndef VD_REPORT_H
#define VD_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "checks/check.h"
#include "checks/osrelease.h"

/* Major = breaking; see docs/report.md "Versioning". 1.1: kind, generated_at. */
#define REPORT_SCHEMA_VERSION "1.2.0"
#define REPORT_SCHEMA_MAJOR 1

struct report {
	const struct run *run;
	const struct host *host;
	const struct host_identity *ident;
	enum verdict verdict;
	time_t generated_at;
	int format;		/* main.c's output format, for its renderer switch */	/* when the checks ran (seconds since the epoch, UTC) */
	bool mutated;
	bool verbose;
	bool color;
	bool quiet;	/* text: only the verdict line and problems */
};

int report_text(FILE *out, const struct report *rep);
int report_json(FILE *out, const struct report *rep);
int report_prometheus(FILE *out, const struct report *rep);
/* One line for a Nagios/Icinga plugin: status, the failing and warning checks, perfdata. */
int report_nagios(FILE *out, const struct report *rep);
/* A label value in double quotes, escaped as the exposition format requires. */
void prom_label_value(FILE *out, const char *s);
/* "2026-11-26T03:30:45Z" into buf (>= 21 bytes). */
void report_time_rfc3339(time_t t, char *buf, size_t size);

#endif
