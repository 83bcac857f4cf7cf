/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Renderers: the same gathered results as text for people or JSON for machines. */
#ifndef VD_REPORT_H
#define VD_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "checks/check.h"
#include "checks/osrelease.h"

#define REPORT_SCHEMA_VERSION "1.0.0"

struct report {
	const struct run *run;
	const struct host *host;
	const struct host_identity *ident;
	enum verdict verdict;
	bool mutated;
	bool verbose;
	bool color;
	bool quiet;	/* text: only the verdict line and problems */
};

int report_text(FILE *out, const struct report *rep);
int report_json(FILE *out, const struct report *rep);

#endif
