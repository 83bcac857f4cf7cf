// SPDX-License-Identifier: GPL-2.0-or-later
/* The parent's side of the child -> parent record pipe: raw records in, a bounded report out. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char *vmm_stage_status_name(enum vmm_stage_status s)
{
	static const char *const names[] = {
		[VMM_STAGE_PASS] = "pass", [VMM_STAGE_FAIL] = "fail",
		[VMM_STAGE_UNSUPPORTED] = "unsupported", [VMM_STAGE_NOT_RUN] = "not-run",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const char *vmm_outcome_name(enum vmm_outcome o)
{
	static const char *const names[] = {
		[VMM_OUTCOME_OK] = "ok", [VMM_OUTCOME_GUEST_FAILED] = "guest-failed",
		[VMM_OUTCOME_TIMEOUT] = "timeout", [VMM_OUTCOME_SECCOMP_KILLED] = "seccomp-killed",
		[VMM_OUTCOME_CRASHED] = "crashed", [VMM_OUTCOME_SETUP_FAILED] = "setup-failed",
	};

	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}

const char *vmm_progress_name(enum vmm_progress p)
{
	static const char *const names[] = {
		[VMM_PROGRESS_NONE] = NULL, [VMM_PROGRESS_UNKNOWN] = "unknown",
		[VMM_PROGRESS_MOVING] = "progressing", [VMM_PROGRESS_STUCK] = "stuck",
	};

	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : NULL;
}

void vmm_options_default(struct vmm_options *o)
{
	*o = (struct vmm_options){ .vcpus = 2, .memory_mib = 16, .timeout_ms = 5000,
				   .payload_path = NULL, .kvm_path = "/dev/kvm", .no_seccomp = false };
}

void vmm_report_start(struct vmm_report *out, const struct vmm_options *opt, bool smoke)
{
	memset(out, 0, sizeof(*out));
	out->n_stages = smoke ? VMM_SMOKE_N_STAGES : 2;
	for (size_t i = 0; i < out->n_stages; i++) {
		snprintf(out->stages[i].name, sizeof(out->stages[i].name), "%s",
			 smoke ? vmm_smoke_stage_names[i] : (i ? "run" : "create_vm"));
		out->stages[i].status = VMM_STAGE_NOT_RUN;
	}
	out->vcpus = smoke ? opt->vcpus : 1;
	out->memory_mib = opt->memory_mib;
	out->child_peak_rss_kib = -1;
}

static void apply(struct vmm_report *out, const struct vmm_record *r, bool *ended)
{
	switch (r->type) {
	case VMM_REC_STAGE:
		if (r->index < out->n_stages) {
			struct vmm_stage *st = &out->stages[r->index];

			st->status = r->status <= VMM_STAGE_NOT_RUN ? r->status : VMM_STAGE_FAIL;
			st->us = r->v[0];
			snprintf(st->detail, sizeof(st->detail), "%.*s", (int)sizeof(st->detail) - 1, r->text);
			if (st->status == VMM_STAGE_PASS && !strcmp(out->stage_running, st->name))
				out->stage_running[0] = 0;
		}
		break;
	case VMM_REC_RUNNING:
		if (r->index < out->n_stages)
			snprintf(out->stage_running, sizeof(out->stage_running), "%s", out->stages[r->index].name);
		break;
	case VMM_REC_META:
		out->create_vm_us = r->v[0];
		out->first_insn_us = r->v[1];
		out->exits = r->v[2];
		break;
	case VMM_REC_END:
		*ended = true;
		out->outcome = r->status <= VMM_OUTCOME_SETUP_FAILED ? r->status : VMM_OUTCOME_CRASHED;
		snprintf(out->message, sizeof(out->message), "%.*s", (int)sizeof(out->message) - 1, r->text);
		out->timeout_progress = out->outcome == VMM_OUTCOME_TIMEOUT && r->pad <= VMM_PROGRESS_STUCK ?
					r->pad : VMM_PROGRESS_NONE;
		if (out->outcome == VMM_OUTCOME_TIMEOUT && !out->timeout_progress)
			out->timeout_progress = VMM_PROGRESS_UNKNOWN;
		break;
	}
}

/* The child is the less trusted side: a record is raw bytes until bounded and terminated. */
void vmm_record_apply(struct vmm_report *out, const void *raw, bool *ended)
{
	struct vmm_record r;

	memcpy(&r, raw, sizeof(r));
	r.name[sizeof(r.name) - 1] = 0;
	r.text[sizeof(r.text) - 1] = 0;
	apply(out, &r, ended);
}

