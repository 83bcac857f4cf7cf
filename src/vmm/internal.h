/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Interfaces shared between the VMM's own source files; not part of the public API. */
#ifndef VMM_INTERNAL_H
#define VMM_INTERNAL_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "vmm.h"
#include "guest/protocol.h"

#define VMM_MAX_VCPUS		8
#define VMM_MIN_MEM_MIB		2
#define VMM_MAX_MEM_MIB		1024
#define VMM_MAX_PAYLOAD		(1u << 20)
#define VMM_MMIO_EXIT_CAP	4096	/* more MMIO exits than this is a storm */
#define VMM_EXIT_CAP		200000	/* any guest needing more exits is misbehaving */

static inline void vmm_freep(void *p) { free(*(void **)p); }
static inline void vmm_closep(int *fd) { if (*fd >= 0) close(*fd); }
#define _cleanup_free_ __attribute__((cleanup(vmm_freep)))
#define _cleanup_close_ __attribute__((cleanup(vmm_closep)))

uint64_t vmm_now_ns(void);

/* kvm.c: system handle and capabilities */
int vmm_kvm_open(const char *path, int *sys_fd);
int vmm_kvm_check_caps(int sys_fd, char *why, size_t len);
int vmm_kvm_supported_cpuid(int sys_fd, struct kvm_cpuid2 **out);
const struct kvm_cpuid_entry2 *vmm_cpuid_find(const struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx);

struct vmm_vcpu;
typedef int (*vmm_io_fn)(struct vmm_vcpu *vcpu, uint16_t port, bool out, unsigned size,
			 uint32_t *val, void *opaque);
typedef int (*vmm_mmio_fn)(struct vmm_vcpu *vcpu, uint64_t addr, bool write, unsigned len,
			   uint8_t *data, void *opaque);

/* What an exit handler asks of the run loop; negative values are -errno. */
enum { VMM_RUN_CONTINUE = 0, VMM_RUN_STOP = 1 };

/* ioport.c: port-I/O bus */
struct vmm_io_range { uint16_t base, len; vmm_io_fn fn; void *opaque; };
struct vmm_io_bus { struct vmm_io_range r[8]; unsigned n; };
int vmm_io_register(struct vmm_io_bus *bus, uint16_t base, uint16_t len, vmm_io_fn fn, void *opaque);
int vmm_io_dispatch(struct vmm_io_bus *bus, struct vmm_vcpu *vcpu, char *why, size_t len);

/* mmio.c: MMIO bus with a storm cap */
struct vmm_mmio_range { uint64_t base, len; vmm_mmio_fn fn; void *opaque; };
struct vmm_mmio_bus { struct vmm_mmio_range r[4]; unsigned n; unsigned long exits; };
int vmm_mmio_register(struct vmm_mmio_bus *bus, uint64_t base, uint64_t len, vmm_mmio_fn fn, void *opaque);
int vmm_mmio_dispatch(struct vmm_mmio_bus *bus, struct vmm_vcpu *vcpu, char *why, size_t len);

struct vmm_vcpu {
	struct vmm_vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool has_thread;
	bool go;		/* may enter KVM_RUN; under vm->lock */
	bool finished;		/* thread left its run loop; under vm->lock */
	bool kick_pending;	/* watchdog asked KVM_RUN to return; under vm->lock */
	uint64_t kick_at_ns;	/* watchdog kicks at this time; 0 = never */
	pid_t tid;
	/* Progress sampling (its own thread, under vm->lock): KVM_RUN returns, and the registers
	 * the watchdog's sample kick found, to compare with at the deadline. */
	uint64_t n_exits;
	bool sample_pending, sampled;
	uint64_t sample_exits, sample_ns;
	struct kvm_regs sample_regs;
};

/* Callbacks from the run loop into whoever drives the guest (stages.c). Called with vm->lock held. */
struct vmm_vm_hooks {
	int (*fault)(struct vmm_vcpu *v, const char *what, void *opaque);	/* fatal exit */
	int (*hlt)(struct vmm_vcpu *v, void *opaque);
	int (*kicked)(struct vmm_vcpu *v, void *opaque);	/* KVM_RUN returned after a watchdog kick */
	void *opaque;
};

struct vmm_vm {
	int sys_fd, vm_fd;
	size_t run_size;
	uint8_t *mem;
	size_t mem_size;
	unsigned n_vcpus;
	bool irqchip;
	struct kvm_cpuid2 *cpuid;	/* KVM_GET_SUPPORTED_CPUID, as set on every vCPU */
	struct vmm_vcpu vcpu[VMM_MAX_VCPUS];
	struct vmm_io_bus io;
	struct vmm_mmio_bus mmio;
	struct vmm_vm_hooks hooks;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;			/* every vCPU thread must leave; under lock */
	uint64_t exits;			/* atomic */
	uint64_t first_exit_ns;		/* atomic; 0 until the guest first exits */
};

/* vm.c: VM, memory slot, irqchip, loading, guest memory access */
int vmm_vm_create(struct vmm_vm *vm, int sys_fd, size_t mem_size, unsigned n_vcpus, bool irqchip);
void vmm_vm_destroy(struct vmm_vm *vm);
int vmm_vm_load(struct vmm_vm *vm, uint64_t gpa, const void *img, size_t len);
void *vmm_gpa(struct vmm_vm *vm, uint64_t gpa, size_t len);	/* NULL if outside RAM */
int vmm_walk(struct vmm_vm *vm, uint64_t cr3, uint64_t va, uint64_t *pa);
void vmm_vm_stop_locked(struct vmm_vm *vm);
void vmm_kick_locked(struct vmm_vcpu *v);

/* vcpu.c: vCPU setup, run loop, exit table */
int vmm_vcpu_init(struct vmm_vm *vm, unsigned id);
void vmm_vcpu_fini(struct vmm_vcpu *v);
int vmm_vcpu_set_real_mode(struct vmm_vcpu *v, uint16_t cs, uint16_t ip, uint16_t sp);
int vmm_vcpu_set_long_mode(struct vmm_vcpu *v, uint64_t rip, uint64_t rsp);
int vmm_vcpu_start_thread(struct vmm_vcpu *v);
int vmm_vcpu_read_insn(struct vmm_vcpu *v, uint64_t *rip, uint8_t *bytes, size_t n);
int vmm_vcpu_where(struct vmm_vcpu *v, char *buf, size_t len);	/* "rip 0x..., insn bytes .." */
const char *vmm_exit_name(uint32_t reason);
int vmm_exit_describe(const struct kvm_run *run, char *buf, size_t len);
const char *vmm_internal_suberror_name(uint32_t sub);

/* report_channel.c: pure decoder of the guest report protocol */
enum rc_event_type {
	RC_EV_NONE, RC_EV_BEGIN, RC_EV_END, RC_EV_VALUE, RC_EV_MARK, RC_EV_TICK,
	RC_EV_START_AP, RC_EV_CHECKIN, RC_EV_PARK, RC_EV_DONE, RC_EV_FAIL,
};
struct rc_state {
	bool stages;		/* full stage protocol; false = payload (DONE/FAIL only) */
	unsigned last_stage;	/* highest stage id */
	unsigned cur;		/* open stage id, 0 = none */
	unsigned next;		/* stage id the next BEGIN must name */
	uint32_t values[VD_MAX_VALUES];
	unsigned n_values;
	unsigned long events;
	bool done;
};
struct rc_event { enum rc_event_type type; unsigned stage, arg; uint32_t value; };
void rc_init(struct rc_state *st, bool stages, unsigned last_stage);
int rc_decode(struct rc_state *st, uint16_t port, bool out, unsigned size, uint32_t value,
	      struct rc_event *ev, char *why, size_t len);
void rc_skip_to(struct rc_state *st, unsigned next);
const char *rc_event_name(enum rc_event_type t);

/* sandbox.c */
int vmm_sandbox_install(int report_fd);

/* Child -> parent records (fixed size; one write() each, < PIPE_BUF so atomic). */
enum { VMM_REC_STAGE = 1, VMM_REC_RUNNING, VMM_REC_META, VMM_REC_END };
struct vmm_record {
	uint32_t type, index, status, pad;	/* END: pad = enum vmm_progress */
	uint64_t v[3];
	char name[32];
	char text[256];
};

/* smoke.c: the parent's decoder of child records (raw: sizeof(struct vmm_record) bytes) */
struct vmm_report;
void vmm_record_apply(struct vmm_report *out, const void *raw, bool *ended);
/* smoke.c: a report as the parent starts it, before any record */
void vmm_report_start(struct vmm_report *out, const struct vmm_options *opt, bool smoke);

/* stages.c: the stage machine that turns exits into evidence */
#define VMM_SMOKE_N_STAGES (VD_STAGE_LAST + 1)
extern const char *const vmm_smoke_stage_names[VMM_SMOKE_N_STAGES];

struct vmm_session {
	struct vmm_vm *vm;
	int rec_fd;
	bool smoke;			/* stage protocol (image has the VDGH header) */
	uint32_t lm64_entry, ap16_entry;
	uint32_t nonce;
	uint64_t t0_ns;			/* vmm_smoke_boot() start, CLOCK_MONOTONIC */
	uint64_t deadline_ns;		/* child-side watchdog */
	uint64_t sample_at_ns;		/* progress sample before the deadline; 0 once taken */
	enum vmm_progress progress;	/* judged at the deadline */
	unsigned timeout_ms;
	struct rc_state rc;
	size_t n_stages;
	unsigned cur;			/* stage index in progress (0 = none after create_vm) */
	uint64_t stage_t0;
	bool ended, timed_out;
	enum vmm_outcome outcome;
	char message[256];
	/* evidence */
	unsigned ticks, bad_ticks;
	char tick_detail[160];
	unsigned mark;
	bool lm_fallback;
	char lm_detail[192];
	bool mmio_write_ok, mmio_read_ok;
	uint32_t mmio_answer;
	unsigned mmio_accesses;
	bool ap_checkin;
	uint64_t ap_checkin_ns;
	bool ap_parked, halt_check;
	uint64_t done_ns;	/* when the guest reported done: the HLT must follow */
};
void vmm_session_init(struct vmm_session *s, struct vmm_vm *vm, int rec_fd, bool smoke);
int vmm_session_attach(struct vmm_session *s);	/* registers ports, MMIO device, hooks */
void vmm_session_stage(struct vmm_session *s, unsigned idx, enum vmm_stage_status st,
		       uint64_t us, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void vmm_session_begin(struct vmm_session *s, unsigned idx);
void vmm_session_end_locked(struct vmm_session *s, enum vmm_outcome o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vmm_send(int fd, const struct vmm_record *r);

/* child.c */
struct vmm_child_args {
	const struct vmm_options *opt;
	const uint8_t *image;
	size_t image_len;
	bool smoke;
	int rec_fd;
	uint64_t t0_ns;
	pid_t parent;
	bool forbidden_syscall;		/* test hook, see docs/guest-protocol.md */
};
void vmm_child_main(const struct vmm_child_args *a) __attribute__((noreturn));

/* guest/embed.S */
extern const uint8_t vmm_smoke_guest_start[], vmm_smoke_guest_end[];

#endif
