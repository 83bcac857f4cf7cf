/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Public API of the virt-doctor VMM: boot a smoke guest in a sandboxed child and report. */
#ifndef VMM_VMM_H
#define VMM_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vmm_stage_status { VMM_STAGE_PASS, VMM_STAGE_FAIL, VMM_STAGE_UNSUPPORTED, VMM_STAGE_NOT_RUN };
const char *vmm_stage_status_name(enum vmm_stage_status s); /* "pass","fail","unsupported","not-run" */

#define VMM_MAX_STAGES 16
struct vmm_stage {
	char name[32];		/* stable ids: "create_vm","real_mode","timer_irq","long_mode","cpuid","memory","mmio","second_vcpu","halt"; payloads: "create_vm","run" */
	enum vmm_stage_status status;
	uint64_t us;		/* microseconds this stage took (VMM timestamps) */
	char detail[192];	/* one line: evidence or reason */
};

enum vmm_outcome { VMM_OUTCOME_OK, VMM_OUTCOME_GUEST_FAILED, VMM_OUTCOME_TIMEOUT, VMM_OUTCOME_SECCOMP_KILLED, VMM_OUTCOME_CRASHED, VMM_OUTCOME_SETUP_FAILED };
const char *vmm_outcome_name(enum vmm_outcome o); /* "ok","guest-failed","timeout","seccomp-killed","crashed","setup-failed" */

/*
 * At a timeout, what the watchdog saw the reporting vCPU do in the window before it: a slow
 * guest (4 concurrent 8-vCPU 1 GiB boots on 2 cores) is not a hung one.
 */
enum vmm_progress {
	VMM_PROGRESS_NONE,	/* not a timeout */
	VMM_PROGRESS_UNKNOWN,	/* no sample: the vCPU was not in KVM_RUN when the window began */
	VMM_PROGRESS_MOVING,	/* it exited, or its registers changed, in the window: slow */
	VMM_PROGRESS_STUCK,	/* no exit and the same registers: stuck (hypercall, tight loop) */
};
const char *vmm_progress_name(enum vmm_progress p); /* NULL, "unknown", "progressing", "stuck" */

struct vmm_options {
	unsigned vcpus;		/* default 2 (1..8) */
	unsigned memory_mib;	/* default 16 (2..1024) */
	unsigned timeout_ms;	/* default 5000 */
	const char *payload_path;/* NULL = built-in smoke guest; else raw flat real-mode image */
	const char *kvm_path;	/* "/dev/kvm" */
	bool no_seccomp;	/* tests only */
};
void vmm_options_default(struct vmm_options *o);

struct vmm_report {
	enum vmm_outcome outcome;
	char message[256];	/* one line: why it ended like this */
	struct vmm_stage stages[VMM_MAX_STAGES];
	size_t n_stages;
	unsigned vcpus, memory_mib;
	uint64_t create_vm_us, first_insn_us, total_us, exits;
	long child_peak_rss_kib;	/* from wait4 rusage */
	char stage_running[32];	/* stage in progress when it ended badly */
	enum vmm_progress timeout_progress;
};

/*
 * Runs the guest in a forked child with a watchdog. Returns 0 when a report was
 * produced (whatever the guest did), -errno when it could not even try (bad
 * options, fork/pipe failure, payload unreadable: -ENOENT, -EINVAL for empty/too big).
 */
int vmm_smoke_boot(const struct vmm_options *opt, struct vmm_report *out);

#endif
