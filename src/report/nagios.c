// SPDX-License-Identifier: GPL-2.0-or-later
/* --format nagios: the one-line output of a monitoring plugin, with performance data. */
#include <errno.h>

#include "report/report.h"
#include "util.h"

/*
 * The exit codes already follow the plugin convention (0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN), so the service state word is the verdict's. Nagios takes the text before
 * '|' as the status line and what follows as performance data: 'label'=value[UOM];warn;
 * crit;min;max. Check ids are [a-z0-9._], so nothing needs quoting and no '|' can appear.
 */
static const char *const service_state[] = {
	[VERDICT_READY] = "OK",
	[VERDICT_DEGRADED] = "WARNING",
	[VERDICT_NOT_READY] = "CRITICAL",
	[VERDICT_UNKNOWN] = "UNKNOWN",
};

/* The verdict in words, as the status line reads it. */
static const char *const verdict_words[] = {
	[VERDICT_READY] = "ready",
	[VERDICT_DEGRADED] = "degraded",
	[VERDICT_NOT_READY] = "not ready",
	[VERDICT_UNKNOWN] = "unknown",
};

/* " (a, b, c)": the ids of the checks with this status, in report order. */
static void ids_with(FILE *out, const struct run *run, enum check_status st)
{
	const char *sep = " (";

	for (unsigned i = 0; i < run->n; i++)
		if (!run->pending[i] && run->result[i].status == st) {
			fprintf(out, "%s%s", sep, run->check[i]->id);
			sep = ", ";
		}
	if (sep[0] == ',')
		fputc(')', out);
}

static const char *plural(unsigned n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int report_nagios(FILE *out, const struct report *rep)
{
	const struct run *run = rep->run;
	unsigned count[_CHECK_STATUS_MAX] = { 0 }, total = 0;
	const struct check_result *boot = NULL;

	for (unsigned i = 0; i < run->n; i++) {
		if (run->pending[i])
			continue;
		count[run->result[i].status]++;
		total++;
		if (streq(run->check[i]->id, "vm.smoke_boot") && run->result[i].status != CHECK_SKIP)
			boot = &run->result[i];
	}
	fprintf(out, "VIRT-DOCTOR %s - %s: ", service_state[rep->verdict], verdict_words[rep->verdict]);
	switch (rep->verdict) {
	case VERDICT_NOT_READY:
		fprintf(out, "%u failed", count[CHECK_FAIL]);
		ids_with(out, run, CHECK_FAIL);
		fprintf(out, ", %u %s", count[CHECK_WARN], plural(count[CHECK_WARN], "warning", "warnings"));
		break;
	case VERDICT_DEGRADED:
		fprintf(out, "%u %s", count[CHECK_WARN], plural(count[CHECK_WARN], "warning", "warnings"));
		ids_with(out, run, CHECK_WARN);
		break;
	case VERDICT_READY:
		fprintf(out, "%u passed", count[CHECK_PASS]);
		break;
	case VERDICT_UNKNOWN:
		fputs("nothing passed, warned or failed", out);
		break;
	}
	fprintf(out, ", %u skipped", count[CHECK_SKIP]);
	/* Counts with min 0 and max the number of checks; a fail is critical, a warn a warning. */
	fprintf(out, " | checks_pass=%u;;;0;%u checks_warn=%u;0;;0;%u checks_fail=%u;;0;0;%u "
		"checks_skip=%u;;;0;%u duration=%llu.%06llus;;;0",
		count[CHECK_PASS], total, count[CHECK_WARN], total, count[CHECK_FAIL], total,
		count[CHECK_SKIP], total, (unsigned long long)(run->us / 1000000),
		(unsigned long long)(run->us % 1000000));
	/* The smoke boot's own time, when one ran: the figure that moves with the host's KVM. */
	if (boot)
		fprintf(out, " smoke_boot=%llu.%06llus;;;0", (unsigned long long)(boot->us / 1000000),
			(unsigned long long)(boot->us % 1000000));
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}
