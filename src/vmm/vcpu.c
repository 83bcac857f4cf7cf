// SPDX-License-Identifier: GPL-2.0-or-later
/* vCPU setup, the run loop, and the exit-reason dispatch table. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "internal.h"

int vmm_vcpu_init(struct vmm_vm *vm, unsigned id)
{
	struct vmm_vcpu *v = &vm->vcpu[id];
	int r;

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0)
		return -errno;
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		r = -errno;
		goto err_fd;
	}
	/* Some backends ignore this (kvm_pvm does); the cpuid stage reports what the guest saw. */
	if (ioctl(v->fd, KVM_SET_CPUID2, vm->cpuid) < 0) {
		r = -errno;
		goto err_run;
	}
	return 0;

err_run:
	munmap(v->run, vm->run_size);
	v->run = NULL;
err_fd:
	close(v->fd);
	v->fd = -1;
	return r;
}

void vmm_vcpu_fini(struct vmm_vcpu *v)
{
	if (v->run)
		munmap(v->run, v->vm->run_size);
	v->run = NULL;
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
}

static void real_seg(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){ .base = (uint64_t)sel << 4, .limit = 0xffff, .selector = sel,
				   .type = type, .present = 1, .s = 1 };
}

int vmm_vcpu_set_real_mode(struct vmm_vcpu *v, uint16_t cs, uint16_t ip, uint16_t sp)
{
	struct kvm_sregs sr;
	struct kvm_regs regs = { .rip = ip, .rsp = sp, .rflags = 2 };

	if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	real_seg(&sr.cs, cs, 11);
	real_seg(&sr.ds, 0, 3);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.cr0 = 0x60000010;	/* reset value: CD|NW|ET, PE=0 */
	sr.cr4 = 0;
	sr.efer = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &sr) < 0 || ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/*
 * Long-mode fallback: the VMM does what the guest's own switch would have done
 * (same page-table layout and selectors as guest/smoke.S), then enters at rip.
 */
int vmm_vcpu_set_long_mode(struct vmm_vcpu *v, uint64_t rip, uint64_t rsp)
{
	struct vmm_vm *vm = v->vm;
	uint64_t *pml4 = vmm_gpa(vm, VD_PML4, 4096), *pdpt = vmm_gpa(vm, VD_PDPT, 4096);
	uint64_t *pd0 = vmm_gpa(vm, VD_PD0, 4096), *pd3 = vmm_gpa(vm, VD_PD3, 4096);
	uint64_t *gdt = vmm_gpa(vm, VD_GDT_FALLBACK, 32);
	struct kvm_regs regs = { .rip = rip, .rsp = rsp, .rflags = 2 };
	struct kvm_sregs sr;
	struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 0x18, .type = 11,
				    .present = 1, .s = 1, .l = 1, .g = 1 };
	struct kvm_segment data = { .base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 3,
				    .present = 1, .s = 1, .db = 1, .g = 1 };

	if (!pml4 || !pdpt || !pd0 || !pd3 || !gdt)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	memset(pd0, 0, 4096);
	memset(pd3, 0, 4096);
	pml4[0] = VD_PDPT | 3;
	pdpt[0] = VD_PD0 | 3;
	pdpt[3] = VD_PD3 | 3;
	for (uint64_t i = 0; i < (vm->mem_size + (2u << 20) - 1) >> 21 && i < 512; i++)
		pd0[i] = (i << 21) | 0x83;
	pd3[0] = VD_MMIO_BASE | 0x9b;
	gdt[0] = 0;
	gdt[1] = 0x00cf9a000000ffffull;
	gdt[2] = 0x00cf92000000ffffull;
	gdt[3] = 0x00af9a000000ffffull;

	if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	sr.cs = code;
	sr.ds = sr.es = sr.fs = sr.gs = sr.ss = data;
	sr.gdt.base = VD_GDT_FALLBACK;
	sr.gdt.limit = 31;
	sr.cr3 = VD_PML4;
	sr.cr4 = 0x20;			/* PAE */
	sr.cr0 = 0x80000011;		/* PG | ET | PE */
	sr.efer = 0x500;		/* LME | LMA */
	if (ioctl(v->fd, KVM_SET_SREGS, &sr) < 0 || ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/* Guest-linear rip -> our pointer; paging goes through our own walk of the guest's tables. */
int vmm_vcpu_read_insn(struct vmm_vcpu *v, uint64_t *rip, uint8_t *bytes, size_t n)
{
	struct kvm_regs regs;
	struct kvm_sregs sr;
	uint64_t lin, pa;
	const uint8_t *p;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0 || ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	*rip = regs.rip;
	lin = ((sr.efer & 0x400) && sr.cs.l) ? regs.rip : sr.cs.base + regs.rip;
	pa = lin;
	if ((sr.cr0 & 0x80000001u) == 0x80000001u && (sr.efer & 0x400)) {
		if (vmm_walk(v->vm, sr.cr3, lin, &pa))
			return -EFAULT;
	} else if (sr.cr0 & 0x80000000u) {
		return -EOPNOTSUPP;	/* 32-bit paging: not used by our guests */
	}
	p = vmm_gpa(v->vm, pa, n);
	if (!p)
		return -EFAULT;
	memcpy(bytes, p, n);
	return 0;
}

int vmm_vcpu_where(struct vmm_vcpu *v, char *buf, size_t len)
{
	uint8_t b[8];
	uint64_t rip = 0;
	int r = vmm_vcpu_read_insn(v, &rip, b, sizeof(b));

	if (r == -EFAULT || r == -EOPNOTSUPP) {
		snprintf(buf, len, "rip 0x%llx (insn bytes unreadable)", (unsigned long long)rip);
		return 0;
	}
	if (r)
		return r;
	snprintf(buf, len, "rip 0x%llx, insn bytes %02x %02x %02x %02x %02x %02x %02x %02x",
		 (unsigned long long)rip, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
	return 0;
}

/* Exit handlers return VMM_RUN_CONTINUE, VMM_RUN_STOP or -errno; vm->lock is held. */
typedef int (*exit_fn)(struct vmm_vcpu *v);

static int exit_fatal(struct vmm_vcpu *v)
{
	char what[160];

	vmm_exit_describe(v->run, what, sizeof(what));
	return v->vm->hooks.fault(v, what, v->vm->hooks.opaque);
}

static int exit_io(struct vmm_vcpu *v)
{
	char why[160];
	int r = vmm_io_dispatch(&v->vm->io, v, why, sizeof(why));

	return r < 0 ? v->vm->hooks.fault(v, why, v->vm->hooks.opaque) : r;
}

static int exit_mmio(struct vmm_vcpu *v)
{
	char why[160];
	int r = vmm_mmio_dispatch(&v->vm->mmio, v, why, sizeof(why));

	return r < 0 ? v->vm->hooks.fault(v, why, v->vm->hooks.opaque) : r;
}

static int exit_hlt(struct vmm_vcpu *v)
{
	return v->vm->hooks.hlt(v, v->vm->hooks.opaque);
}

static int exit_ignore(struct vmm_vcpu *v)
{
	(void)v;
	return VMM_RUN_CONTINUE;
}

static const struct exit_desc {
	const char *name;
	const char *what;	/* plain words for reports */
	exit_fn fn;
} exit_table[] = {
	[KVM_EXIT_UNKNOWN]	  = { "UNKNOWN", "unknown exit", exit_fatal },
	[KVM_EXIT_EXCEPTION]	  = { "EXCEPTION", "unhandled guest exception", exit_fatal },
	[KVM_EXIT_IO]		  = { "IO", "port I/O", exit_io },
	[KVM_EXIT_HYPERCALL]	  = { "HYPERCALL", "hypercall", exit_fatal },
	[KVM_EXIT_DEBUG]	  = { "DEBUG", "debug exit", exit_fatal },
	[KVM_EXIT_HLT]		  = { "HLT", "guest executed HLT", exit_hlt },
	[KVM_EXIT_MMIO]		  = { "MMIO", "access to guest-physical memory outside RAM", exit_mmio },
	[KVM_EXIT_IRQ_WINDOW_OPEN] = { "IRQ_WINDOW_OPEN", "interrupt window open", exit_ignore },
	[KVM_EXIT_SHUTDOWN]	  = { "SHUTDOWN", "triple fault (guest shut down)", exit_fatal },
	[KVM_EXIT_FAIL_ENTRY]	  = { "FAIL_ENTRY", "VM entry failed", exit_fatal },
	[KVM_EXIT_INTR]		  = { "INTR", "interrupted by a signal", exit_ignore },
	[KVM_EXIT_SET_TPR]	  = { "SET_TPR", "TPR access", exit_fatal },
	[KVM_EXIT_TPR_ACCESS]	  = { "TPR_ACCESS", "TPR access", exit_fatal },
	[KVM_EXIT_NMI]		  = { "NMI", "NMI", exit_fatal },
	[KVM_EXIT_INTERNAL_ERROR] = { "INTERNAL_ERROR", "KVM internal error", exit_fatal },
	[KVM_EXIT_SYSTEM_EVENT]	  = { "SYSTEM_EVENT", "system event (reset/shutdown request)", exit_fatal },
	[KVM_EXIT_IOAPIC_EOI]	  = { "IOAPIC_EOI", "IOAPIC EOI", exit_ignore },
};
#define N_EXITS (sizeof(exit_table) / sizeof(exit_table[0]))

static const struct exit_desc *exit_lookup(uint32_t reason)
{
	return reason < N_EXITS && exit_table[reason].name ? &exit_table[reason] : NULL;
}

const char *vmm_exit_name(uint32_t reason)
{
	const struct exit_desc *d = exit_lookup(reason);

	return d ? d->name : NULL;
}

static const char *const suberror_names[] = {
	[KVM_INTERNAL_ERROR_EMULATION] = "emulation failure",
	[KVM_INTERNAL_ERROR_SIMUL_EX] = "exception while delivering an exception",
	[KVM_INTERNAL_ERROR_DELIVERY_EV] = "exit while delivering an event",
	[KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON] = "unexpected exit reason",
};

const char *vmm_internal_suberror_name(uint32_t sub)
{
	if (sub < sizeof(suberror_names) / sizeof(suberror_names[0]) && suberror_names[sub])
		return suberror_names[sub];
	return "unknown suberror";
}

int vmm_exit_describe(const struct kvm_run *run, char *buf, size_t len)
{
	const struct exit_desc *d = exit_lookup(run->exit_reason);

	if (!d) {
		snprintf(buf, len, "exit reason %u (not known to this VMM)", run->exit_reason);
		return -ENOENT;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(buf, len, "FAIL_ENTRY: VM entry failed, hardware reason 0x%llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_UNKNOWN:
		snprintf(buf, len, "UNKNOWN: unknown exit, hardware reason 0x%llx",
			 (unsigned long long)run->hw.hardware_exit_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(buf, len, "INTERNAL_ERROR: %s (suberror %u)",
			 vmm_internal_suberror_name(run->internal.suberror), run->internal.suberror);
		break;
	case KVM_EXIT_EXCEPTION:
		snprintf(buf, len, "EXCEPTION: unhandled guest exception %u, error code 0x%x",
			 run->ex.exception, run->ex.error_code);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		snprintf(buf, len, "SYSTEM_EVENT: guest requested %s (type %u)",
			 run->system_event.type == KVM_SYSTEM_EVENT_RESET ? "reset" :
			 run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN ? "shutdown" : "an event",
			 run->system_event.type);
		break;
	case KVM_EXIT_IO:
		snprintf(buf, len, "IO: unhandled port I/O: %s port 0x%x, size %u",
			 run->io.direction == KVM_EXIT_IO_OUT ? "out to" : "in from",
			 run->io.port, run->io.size);
		break;
	case KVM_EXIT_MMIO:
		snprintf(buf, len, "MMIO: unhandled %s at guest-physical 0x%llx, %u bytes",
			 run->mmio.is_write ? "write" : "read",
			 (unsigned long long)run->mmio.phys_addr, run->mmio.len);
		break;
	default:
		snprintf(buf, len, "%s: %s", d->name, d->what);
	}
	return 0;
}

static int vcpu_run_loop(struct vmm_vcpu *v)
{
	struct vmm_vm *vm = v->vm;
	int r = VMM_RUN_CONTINUE;

	while (r == VMM_RUN_CONTINUE) {
		int ret = ioctl(v->fd, KVM_RUN, 0);
		int err = errno;
		uint64_t n = __atomic_add_fetch(&vm->exits, 1, __ATOMIC_RELAXED);
		uint64_t zero = 0, now = vmm_now_ns();

		v->n_exits++;
		__atomic_compare_exchange_n(&vm->first_exit_ns, &zero, now, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		pthread_mutex_lock(&vm->lock);
		if (vm->stop) {
			r = VMM_RUN_STOP;
		} else if (ret < 0 && (err == EINTR || err == EAGAIN)) {
			bool kicked = v->kick_pending;

			v->kick_pending = false;
			v->run->immediate_exit = 0;
			if (kicked)
				r = vm->hooks.kicked(v, vm->hooks.opaque);
		} else if (ret < 0) {
			char why[96];

			snprintf(why, sizeof(why), "KVM_RUN failed: %s", strerror(err));
			r = vm->hooks.fault(v, why, vm->hooks.opaque);
		} else if (n > VMM_EXIT_CAP) {
			r = vm->hooks.fault(v, "exit storm: guest exceeded the VMM's exit budget",
					    vm->hooks.opaque);
		} else {
			const struct exit_desc *d = exit_lookup(v->run->exit_reason);

			r = d ? d->fn(v) : exit_fatal(v);
		}
		pthread_mutex_unlock(&vm->lock);
	}
	return r < 0 ? r : 0;
}

static void *vcpu_thread(void *arg)
{
	struct vmm_vcpu *v = arg;
	struct vmm_vm *vm = v->vm;
	bool run;

	/* Publishing the tid tells the child this thread finished libc's start-up syscalls. */
	pthread_mutex_lock(&vm->lock);
	v->tid = (pid_t)syscall(SYS_gettid);
	pthread_cond_broadcast(&vm->cond);
	while (!v->go && !vm->stop)
		pthread_cond_wait(&vm->cond, &vm->lock);
	run = !vm->stop;
	pthread_mutex_unlock(&vm->lock);
	if (run)
		vcpu_run_loop(v);
	pthread_mutex_lock(&vm->lock);
	v->finished = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

int vmm_vcpu_start_thread(struct vmm_vcpu *v)
{
	int r = pthread_create(&v->thread, NULL, vcpu_thread, v);

	if (r)
		return -r;
	v->has_thread = true;
	return 0;
}
