// SPDX-License-Identifier: GPL-2.0-or-later
/* The sandboxed child: builds the VM, locks itself down, runs the vCPUs under a watchdog. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>

#include "internal.h"

/*
 * Valgrind implements no seccomp(2), and its own core makes syscalls no allow-list would
 * grant, so under valgrind (make valgrind) the child runs without the filter and says so.
 * RUNNING_ON_VALGRIND is a magic no-op sequence that only valgrind's synthetic CPU answers:
 * nothing outside a process can make it true, so it is no way to switch the sandbox off.
 */
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#else
#define UNDER_VALGRIND() false
#endif

/* Fixed fd for the report pipe so everything else can be closed in one call. */
#define REC_FD 3

static void on_kick(int sig)
{
	(void)sig;	/* only here so KVM_RUN returns EINTR */
}

static void __attribute__((noreturn, format(printf, 4, 5)))
die_setup(struct vmm_session *s, uint64_t t_stage, enum vmm_outcome o, const char *fmt, ...)
{
	char msg[192];
	va_list ap;
	struct vmm_record end = { .type = VMM_REC_END, .status = o };

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vmm_session_stage(s, 0, VMM_STAGE_FAIL, (vmm_now_ns() - t_stage) / 1000, "%s", msg);
	snprintf(end.text, sizeof(end.text), "create_vm failed: %s", msg);
	vmm_send(s->rec_fd, &end);
	_exit(0);
}

static int isolate_fds(int rec_fd)
{
	int null;

	if (rec_fd != REC_FD && dup2(rec_fd, REC_FD) < 0)
		return -errno;
	if (syscall(SYS_close_range, REC_FD + 1, ~0u, 0) < 0)
		return -errno;
	/* stdin/stdout are not ours to use; stderr stays for sanitizer reports. */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return -errno;
	dup2(null, 0);
	dup2(null, 1);
	close(null);
	return 0;
}

static void send_meta(struct vmm_session *s, uint64_t create_us)
{
	uint64_t first = __atomic_load_n(&s->vm->first_exit_ns, __ATOMIC_RELAXED);
	struct vmm_record r = { .type = VMM_REC_META, .v = {
		create_us, first > s->t0_ns ? (first - s->t0_ns) / 1000 : 0,
		__atomic_load_n(&s->vm->exits, __ATOMIC_RELAXED) } };

	vmm_send(s->rec_fd, &r);
}

/*
 * How long before the deadline the watchdog samples each running vCPU's registers, so that at
 * the deadline it can tell a slow guest (it exited, or its registers moved) from a stuck one.
 * A quarter of the time left for a short --timeout.
 */
#define PROGRESS_WINDOW_NS 250000000ull

/* The child's own watchdog: kicks vCPUs at their deadlines and stops them at the global one. */
static void watchdog(struct vmm_session *s)
{
	struct vmm_vm *vm = s->vm;

	pthread_mutex_lock(&vm->lock);
	for (;;) {
		uint64_t now = vmm_now_ns(), next = s->timed_out ? 0 : s->deadline_ns;
		bool all_done = true;
		struct timespec ts;

		if (s->sample_at_ns && now >= s->sample_at_ns) {
			/* Each running vCPU's kicked hook records its registers and runs on. */
			s->sample_at_ns = 0;
			for (unsigned i = 0; i < vm->n_vcpus; i++)
				if (vm->vcpu[i].go && vm->vcpu[i].has_thread && !vm->vcpu[i].finished) {
					vm->vcpu[i].sample_pending = true;
					vmm_kick_locked(&vm->vcpu[i]);
				}
		} else if (s->sample_at_ns && s->sample_at_ns < next) {
			next = s->sample_at_ns;
		}

		for (unsigned i = 0; i < vm->n_vcpus; i++) {
			struct vmm_vcpu *v = &vm->vcpu[i];

			if (v->has_thread && !v->finished)
				all_done = false;
			if (v->kick_at_ns && v->kick_at_ns <= now) {
				v->kick_at_ns = 0;
				vmm_kick_locked(v);
			} else if (v->kick_at_ns && (!next || v->kick_at_ns < next)) {
				next = v->kick_at_ns;
			}
		}
		if (all_done)
			break;
		if (!s->timed_out && now >= s->deadline_ns) {
			/* Each vCPU's kicked hook reports where it was stuck. */
			s->timed_out = true;
			for (unsigned i = 0; i < vm->n_vcpus; i++)
				if (vm->vcpu[i].go)
					vmm_kick_locked(&vm->vcpu[i]);
				else
					pthread_cond_broadcast(&vm->cond);
			continue;
		}
		if (s->timed_out && !s->ended && now >= s->deadline_ns + 50000000u) {
			/* No vCPU was in KVM_RUN to report it (e.g. all waiting): end it here. */
			s->ended = true;
			s->outcome = VMM_OUTCOME_TIMEOUT;
			snprintf(s->message, sizeof(s->message), "watchdog expired in the child after %u ms",
				 s->timeout_ms);
			vmm_vm_stop_locked(vm);
		}
		if (!next)
			next = now + 50000000;	/* after the deadline: re-check every 50 ms */
		ts.tv_sec = (time_t)(next / 1000000000u);
		ts.tv_nsec = (long)(next % 1000000000u);
		pthread_cond_timedwait(&vm->cond, &vm->lock, &ts);
	}
	pthread_mutex_unlock(&vm->lock);
}

void vmm_child_main(const struct vmm_child_args *a)
{
	const struct vmm_options *opt = a->opt;
	struct vmm_session s;
	struct vmm_vm vm;
	struct vmm_record end = { .type = VMM_REC_END };
	struct sigaction sa = { .sa_handler = on_kick };
	uint64_t t_stage, create_us;
	unsigned n_vcpus = a->smoke ? opt->vcpus : 1;
	char why[160];
	int sys_fd = -1, r;
	size_t mem_size = (size_t)opt->memory_mib << 20;
	uint32_t bootinfo[4];

	/* If the doctor dies, so do we; and no orphan if it already died before prctl. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != a->parent)
		_exit(1);
	if (isolate_fds(a->rec_fd))
		_exit(1);

	memset(&vm, 0, sizeof(vm));
	vmm_session_init(&s, &vm, REC_FD, a->smoke);
	s.t0_ns = a->t0_ns;
	s.timeout_ms = opt->timeout_ms;
	/* Leave the parent a margin to read our report before its hard kill. */
	s.deadline_ns = a->t0_ns + (uint64_t)opt->timeout_ms * 1000000u -
			(uint64_t)(opt->timeout_ms / 10 < 100 ? opt->timeout_ms / 10 : 100) * 1000000u;
	s.sample_at_ns = s.deadline_ns - (s.deadline_ns - a->t0_ns < 4 * PROGRESS_WINDOW_NS ?
					  (s.deadline_ns - a->t0_ns) / 4 : PROGRESS_WINDOW_NS);

	t_stage = vmm_now_ns();
	vmm_session_begin(&s, 0);
	r = vmm_kvm_open(opt->kvm_path, &sys_fd);
	if (r)
		die_setup(&s, t_stage, VMM_OUTCOME_SETUP_FAILED, "cannot open %s: %s", opt->kvm_path, strerror(-r));
	if (vmm_kvm_check_caps(sys_fd, why, sizeof(why)))
		die_setup(&s, t_stage, VMM_OUTCOME_SETUP_FAILED, "%s", why);
	/* Interrupts only matter to the smoke protocol; plain payloads see HLT exits instead. */
	r = vmm_vm_create(&vm, sys_fd, mem_size, n_vcpus, a->smoke);
	if (r)
		die_setup(&s, t_stage, VMM_OUTCOME_SETUP_FAILED, "VM creation failed: %s", strerror(-r));
	if (getrandom(&s.nonce, sizeof(s.nonce), 0) != sizeof(s.nonce))
		s.nonce = (uint32_t)vmm_now_ns();
	bootinfo[0] = VD_BOOTINFO_MAGIC_V;
	bootinfo[1] = opt->memory_mib;
	bootinfo[2] = n_vcpus;
	bootinfo[3] = s.nonce;
	r = vmm_vm_load(&vm, VD_LOAD_ADDR, a->image, a->image_len);
	if (!r)
		r = vmm_vm_load(&vm, VD_BOOTINFO, bootinfo, sizeof(bootinfo));
	if (!r)
		r = vmm_session_attach(&s);
	if (!r)
		r = vmm_vcpu_set_real_mode(&vm.vcpu[0], 0, VD_LOAD_ADDR, VD_BSP_STACK);
	if (r)
		die_setup(&s, t_stage, VMM_OUTCOME_SETUP_FAILED, "guest setup failed: %s", strerror(-r));
	if (a->smoke) {
		memcpy(&s.lm64_entry, a->image + VD_HDR_LM64_OFF, 4);
		memcpy(&s.ap16_entry, a->image + VD_HDR_AP16_OFF, 4);
	}

	sigaction(SIGUSR1, &sa, NULL);
	for (unsigned i = 0; i < n_vcpus; i++) {
		r = vmm_vcpu_start_thread(&vm.vcpu[i]);
		if (r) {
			pthread_mutex_lock(&vm.lock);
			vmm_vm_stop_locked(&vm);
			pthread_mutex_unlock(&vm.lock);
			die_setup(&s, t_stage, VMM_OUTCOME_SETUP_FAILED, "cannot start vCPU thread: %s", strerror(-r));
		}
	}
	/* Thread start-up (rseq, robust list) must happen before the filter forbids it. */
	pthread_mutex_lock(&vm.lock);
	for (unsigned i = 0; i < n_vcpus; i++)
		while (!vm.vcpu[i].tid)
			pthread_cond_wait(&vm.cond, &vm.lock);
	pthread_mutex_unlock(&vm.lock);
	/* The system fd is only needed to build the VM. */
	close(sys_fd);

	if (!opt->no_seccomp && !UNDER_VALGRIND()) {
		r = vmm_sandbox_install(REC_FD);
		if (r) {
			pthread_mutex_lock(&vm.lock);
			vmm_vm_stop_locked(&vm);
			pthread_mutex_unlock(&vm.lock);
			die_setup(&s, t_stage, VMM_OUTCOME_SETUP_FAILED, "seccomp filter failed: %s", strerror(-r));
		}
	}
	if (a->forbidden_syscall)
		socket(AF_INET, SOCK_STREAM, 0);	/* test hook: must be killed right here */

	create_us = (vmm_now_ns() - t_stage) / 1000;
	vmm_session_stage(&s, 0, VMM_STAGE_PASS, create_us,
			  "KVM API %d, %u vCPU%s, %u MiB%s%s", KVM_API_VERSION, n_vcpus, n_vcpus > 1 ? "s" : "",
			  opt->memory_mib, a->smoke ? ", irqchip+PIT" : "", opt->no_seccomp ? "" :
			  UNDER_VALGRIND() ? ", seccomp off (under valgrind)" : ", seccomp on");
	send_meta(&s, create_us);

	pthread_mutex_lock(&vm.lock);
	if (!s.smoke)
		vmm_session_begin(&s, 1);
	vm.vcpu[0].go = true;
	pthread_cond_broadcast(&vm.cond);
	pthread_mutex_unlock(&vm.lock);

	watchdog(&s);
	for (unsigned i = 0; i < n_vcpus; i++)
		pthread_join(vm.vcpu[i].thread, NULL);

	send_meta(&s, create_us);
	if (!s.ended) {
		s.outcome = VMM_OUTCOME_GUEST_FAILED;
		snprintf(s.message, sizeof(s.message), "all vCPUs stopped without a verdict");
	}
	end.status = s.outcome;
	end.pad = s.outcome == VMM_OUTCOME_TIMEOUT ? s.progress : VMM_PROGRESS_NONE;
	snprintf(end.text, sizeof(end.text), "%s", s.message);
	vmm_send(REC_FD, &end);
	/* _exit: no atexit work (and no sanitizer leak scan) under the sandbox. */
	_exit(0);
}
