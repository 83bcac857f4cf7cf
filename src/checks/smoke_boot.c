// SPDX-License-Identifier: GPL-2.0-or-later
/* vm.smoke_boot: the proof - boot the built-in guest with our own VMM and judge each stage. */
#include <errno.h>

#include "checks/check.h"
#include "util.h"
#include "vmm/vmm.h"

static void run_smoke(struct check_ctx *ctx, struct check_result *r)
{
	const struct check_result *api = run_result(ctx->run, "kvm.api");
	struct detail_stage stages[VMM_MAX_STAGES];
	struct vmm_options opt;
	struct vmm_report rep;
	unsigned unsupported = 0, failed = 0;
	char unsupported_names[128] = "";
	int err;

	if (!ctx->opt->boot) {
		result_set(r, CHECK_SKIP, "disabled by --no-boot");
		return;
	}
	if (api && api->status != CHECK_PASS) {
		result_set(r, CHECK_SKIP, "kvm.api did not pass (%s)", api->summary);
		return;
	}

	vmm_options_default(&opt);
	if (ctx->opt->boot_vcpus)
		opt.vcpus = ctx->opt->boot_vcpus;
	if (ctx->opt->boot_memory_mib)
		opt.memory_mib = ctx->opt->boot_memory_mib;
	if (ctx->opt->boot_timeout_ms)
		opt.timeout_ms = ctx->opt->boot_timeout_ms;
	opt.payload_path = ctx->opt->boot_payload;

	err = vmm_smoke_boot(&opt, &rep);
	if (err < 0) {
		/* Not proven is not ready: a VMM that cannot even start is a failure. */
		result_set(r, CHECK_FAIL, "could not start the VMM: %s", strerror(-err));
		return;
	}

	for (size_t i = 0; i < rep.n_stages && i < VMM_MAX_STAGES; i++) {
		const struct vmm_stage *s = &rep.stages[i];

		memset(&stages[i], 0, sizeof(stages[i]));
		sfmt(stages[i].name, "%s", s->name);
		sfmt(stages[i].status, "%s", vmm_stage_status_name(s->status));
		stages[i].us = s->us;
		sfmt(stages[i].note, "%s", s->detail);
		if (s->status == VMM_STAGE_FAIL)
			failed++;
		if (s->status == VMM_STAGE_UNSUPPORTED) {
			size_t n = strlen(unsupported_names);

			snprintf(unsupported_names + n, sizeof(unsupported_names) - n, "%s%s",
				 unsupported++ ? ", " : "", s->name);
		}
	}
	detail_stages(r, "stages", stages, (unsigned)rep.n_stages);
	detail_str(r, "outcome", "%s", vmm_outcome_name(rep.outcome));
	if (vmm_progress_name(rep.timeout_progress))
		detail_str(r, "timeout_progress", "%s", vmm_progress_name(rep.timeout_progress));
	else
		detail_null(r, "timeout_progress");
	detail_int(r, "vcpus", rep.vcpus);
	detail_int(r, "memory_mib", rep.memory_mib);
	detail_uint(r, "exits", rep.exits);
	detail_uint(r, "create_vm_us", rep.create_vm_us);
	detail_uint(r, "first_insn_us", rep.first_insn_us);
	detail_uint(r, "total_us", rep.total_us);
	if (rep.child_peak_rss_kib > 0)
		detail_int(r, "child_peak_rss_kib", rep.child_peak_rss_kib);
	if (opt.payload_path)
		detail_str(r, "payload", "%s", opt.payload_path);

	if (rep.outcome != VMM_OUTCOME_OK || failed) {
		result_set(r, CHECK_FAIL, "%s: %s", vmm_outcome_name(rep.outcome), rep.message);
		return;
	}
	if (unsupported) {
		result_set(r, CHECK_WARN, "guest booted in %.1f ms; unsupported on this backend: %s",
			   (double)rep.total_us / 1000.0, unsupported_names);
		return;
	}
	result_set(r, CHECK_PASS, "guest booted: %zu stages passed on %u vCPU%s in %.1f ms",
		   rep.n_stages, rep.vcpus, rep.vcpus == 1 ? "" : "s", (double)rep.total_us / 1000.0);
}

const struct check check_vm_smoke_boot = {
	.id = "vm.smoke_boot",
	.title = "Boot a tiny guest with the built-in VMM",
	.run = run_smoke,
	.flags = CHECK_LIVE_ONLY,
	.explain =
	"Boots a tiny guest built into virt-doctor with its own VMM (no QEMU), in a forked,\n"
	"seccomp-sandboxed child with a watchdog. The guest starts in real mode, takes a timer\n"
	"interrupt, enters long mode, runs CPUID, writes and checks every page of its RAM,\n"
	"answers an MMIO access, starts a second vCPU and halts; each stage is timed.\n"
	"\n"
	"A stage passes only when the VMM saw the evidence itself (the memory checksum, the\n"
	"MMIO exit, the second vCPU running), never on the guest's word. A stage the KVM\n"
	"backend cannot do (some paravirtual backends emulate guest code) is reported as\n"
	"unsupported with the evidence, which makes the check warn.\n"
	"\n"
	"Why: everything else only suggests KVM works; this runs a guest. Skipped with\n"
	"--no-boot, under --root, or when kvm.api failed. `virt-doctor boot` runs it alone.",
};
