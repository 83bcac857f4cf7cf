// SPDX-License-Identifier: GPL-2.0-or-later
/* Prometheus text exposition format for node_exporter's textfile collector; see docs/report.md. */
#include <errno.h>

#include "report/report.h"
#include "util.h"
#include "version.h"

/* Label values: backslash, double quote and line feed are the only escapes the format has. */
void prom_label_value(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '"')
			fputs("\\\"", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void header(FILE *out, const char *name, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* Microseconds as seconds: the base unit Prometheus wants, with the precision we measured. */
static void seconds(FILE *out, uint64_t us)
{
	fprintf(out, " %llu.%06llu\n", (unsigned long long)(us / 1000000),
		(unsigned long long)(us % 1000000));
}

static const struct check_result *smoke_result(const struct run *run)
{
	for (unsigned i = 0; i < run->n; i++)
		if (streq(run->check[i]->id, "vm.smoke_boot"))
			return &run->result[i];
	return NULL;
}

static void smoke_boot(FILE *out, const struct run *run)
{
	const struct check_result *r = smoke_result(run);
	const struct detail *outcome, *stages;

	/* A boot that did not run (--no-boot, --root, no KVM) has no series: absence, not 0. */
	if (!r || r->status == CHECK_SKIP)
		return;
	outcome = detail_get(r, "outcome");
	header(out, "virt_doctor_smoke_boot_success",
	       "1 when the smoke guest booted and every stage passed or was worked around, else 0.");
	fprintf(out, "virt_doctor_smoke_boot_success %d\n",
		outcome && outcome->type == DETAIL_STRING && streq(outcome->string, "ok") &&
		r->status != CHECK_FAIL);
	stages = detail_get(r, "stages");
	if (!stages || stages->type != DETAIL_STAGES || !stages->stages.n)
		return;
	header(out, "virt_doctor_smoke_boot_stage_duration_seconds",
	       "Time each smoke-boot stage took, in seconds.");
	for (unsigned i = 0; i < stages->stages.n; i++) {
		fputs("virt_doctor_smoke_boot_stage_duration_seconds{stage=", out);
		prom_label_value(out, stages->stages.items[i].name);
		fputc('}', out);
		seconds(out, stages->stages.items[i].us);
	}
}

int report_prometheus(FILE *out, const struct report *rep)
{
	static const enum verdict verdicts[] = { VERDICT_READY, VERDICT_DEGRADED, VERDICT_NOT_READY,
						  VERDICT_UNKNOWN };
	const struct run *run = rep->run;

	header(out, "virt_doctor_info", "virt-doctor version and JSON report schema version; always 1.");
	fputs("virt_doctor_info{version=", out);
	prom_label_value(out, VIRT_DOCTOR_VERSION);
	fputs(",schema_version=", out);
	prom_label_value(out, REPORT_SCHEMA_VERSION);
	fputs("} 1\n", out);

	header(out, "virt_doctor_verdict", "Verdict of the last run: 1 for the current one, 0 for the others.");
	for (size_t i = 0; i < ARRAY_SIZE(verdicts); i++)
		fprintf(out, "virt_doctor_verdict{verdict=\"%s\"} %d\n", verdict_name(verdicts[i]),
			verdicts[i] == rep->verdict);

	header(out, "virt_doctor_check_status",
	       "Status of each check: 1 for the current status, 0 for the others.");
	for (unsigned i = 0; i < run->n; i++)
		for (int s = 0; s < _CHECK_STATUS_MAX; s++) {
			fputs("virt_doctor_check_status{check=", out);
			prom_label_value(out, run->check[i]->id);
			fprintf(out, ",status=\"%s\"} %d\n", check_status_name(s),
				(int)run->result[i].status == s);
		}

	header(out, "virt_doctor_check_duration_seconds", "Time each check took, in seconds.");
	for (unsigned i = 0; i < run->n; i++) {
		fputs("virt_doctor_check_duration_seconds{check=", out);
		prom_label_value(out, run->check[i]->id);
		fputc('}', out);
		seconds(out, run->result[i].us);
	}

	smoke_boot(out, run);

	header(out, "virt_doctor_last_run_timestamp_seconds",
	       "When the checks ran, in seconds since the Unix epoch.");
	fprintf(out, "virt_doctor_last_run_timestamp_seconds %lld\n", (long long)rep->generated_at);
	return ferror(out) ? -EIO : 0;
}
