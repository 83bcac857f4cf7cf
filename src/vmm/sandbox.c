// SPDX-License-Identifier: GPL-2.0-or-later
/* Seccomp allow-list for the VMM child once the VM is built: only what the run loop needs. */
#include <errno.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "internal.h"

static void seccomp_ctxp(scmp_filter_ctx *c)
{
	if (*c)
		seccomp_release(*c);
}

/* The KVM ioctls the run loop and the evidence checks use, nothing that creates or maps. */
static const unsigned long allowed_ioctls[] = {
	KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS,
	KVM_GET_MP_STATE, KVM_SET_MP_STATE, KVM_GET_IRQCHIP,
};

/* Thread wake-ups, kicks (pthread_kill = getpid+gettid+tgkill), time, and dying. */
static const int allowed_syscalls[] = {
	SCMP_SYS(futex), SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(tgkill),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(sched_yield),
	SCMP_SYS(madvise), SCMP_SYS(munmap),	/* glibc releasing a finished thread's stack */
	SCMP_SYS(sigaltstack),			/* sanitizer runtimes tear down per-thread alt stacks */
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

int vmm_sandbox_install(int report_fd)
{
	__attribute__((cleanup(seccomp_ctxp))) scmp_filter_ctx ctx = NULL;
	int r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	/* The vCPU threads exist already; the filter must cover them too. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r)
		return r;
	for (size_t i = 0; i < sizeof(allowed_syscalls) / sizeof(allowed_syscalls[0]); i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed_syscalls[i], 0);
		if (r)
			return r;
	}
	for (size_t i = 0; i < sizeof(allowed_ioctls) / sizeof(allowed_ioctls[0]); i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, allowed_ioctls[i]));
		if (r)
			return r;
	}
	/* Allocators (and sanitizer runtimes) may map memory, but never executable memory. */
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
			     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r)
		return r;
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
			     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)report_fd));
	if (r)
		return r;
	return seccomp_load(ctx);
}
