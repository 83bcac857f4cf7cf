// SPDX-License-Identifier: GPL-2.0-or-later
/* The stage machine: turns guest reports and exits into stage verdicts backed by VMM-side evidence. */
#include <cpuid.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

const char *const vmm_smoke_stage_names[VMM_SMOKE_N_STAGES] = {
	"create_vm", "real_mode", "timer_irq", "long_mode", "cpuid",
	"memory", "mmio", "second_vcpu", "halt",
};

/* Index of the payload's only guest stage. */
#define PAYLOAD_RUN 1

static uint64_t us_since(uint64_t t0)
{
	uint64_t now = vmm_now_ns();

	return now > t0 ? (now - t0) / 1000 : 0;
}

static const char *stage_name(const struct vmm_session *s, unsigned idx)
{
	if (!s->smoke)
		return idx == PAYLOAD_RUN ? "run" : "create_vm";
	return idx < VMM_SMOKE_N_STAGES ? vmm_smoke_stage_names[idx] : "?";
}

void vmm_send(int fd, const struct vmm_record *r)
{
	/* A short or failed write means the parent is gone; nothing useful to do then. */
	while (write(fd, r, sizeof(*r)) < 0 && errno == EINTR)
		;
}

static void vrecord(struct vmm_session *s, uint32_t type, unsigned idx, uint32_t status,
		    uint64_t us, const char *fmt, va_list ap)
{
	struct vmm_record r = { .type = type, .index = idx, .status = status, .v = { us } };

	snprintf(r.name, sizeof(r.name), "%s", stage_name(s, idx));
	if (fmt)
		vsnprintf(r.text, sizeof(r.text), fmt, ap);
	vmm_send(s->rec_fd, &r);
}

void vmm_session_stage(struct vmm_session *s, unsigned idx, enum vmm_stage_status st,
		       uint64_t us, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vrecord(s, VMM_REC_STAGE, idx, st, us, fmt, ap);
	va_end(ap);
	if (s->cur == idx)
		s->cur = 0;
}

void vmm_session_begin(struct vmm_session *s, unsigned idx)
{
	struct vmm_record r = { .type = VMM_REC_RUNNING, .index = idx };

	s->cur = idx;
	s->stage_t0 = vmm_now_ns();
	snprintf(r.name, sizeof(r.name), "%s", stage_name(s, idx));
	vmm_send(s->rec_fd, &r);
}

void vmm_session_end_locked(struct vmm_session *s, enum vmm_outcome o, const char *fmt, ...)
{
	va_list ap;

	if (s->ended)
		return;
	s->ended = true;
	s->outcome = o;
	va_start(ap, fmt);
	vsnprintf(s->message, sizeof(s->message), fmt, ap);
	va_end(ap);
	vmm_vm_stop_locked(s->vm);
}

/* Fail the open stage with this evidence and end the run. */
static int __attribute__((format(printf, 3, 4)))
fail(struct vmm_session *s, enum vmm_outcome o, const char *fmt, ...)
{
	char detail[192];
	unsigned idx = s->cur;
	va_list ap;

	if (s->ended)
		return VMM_RUN_STOP;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (idx) {
		vmm_session_stage(s, idx, VMM_STAGE_FAIL, us_since(s->stage_t0), "%s", detail);
		vmm_session_end_locked(s, o, "stage %s failed: %s", stage_name(s, idx), detail);
	} else {
		vmm_session_end_locked(s, o, "%s", detail);
	}
	return VMM_RUN_STOP;
}

static int pass(struct vmm_session *s, unsigned idx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int pass(struct vmm_session *s, unsigned idx, const char *fmt, ...)
{
	char detail[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	vmm_session_stage(s, idx, VMM_STAGE_PASS, us_since(s->stage_t0), "%s", detail);
	return VMM_RUN_CONTINUE;
}

static int get_state(struct vmm_vcpu *v, struct kvm_regs *regs, struct kvm_sregs *sr)
{
	if ((regs && ioctl(v->fd, KVM_GET_REGS, regs) < 0) || (sr && ioctl(v->fd, KVM_GET_SREGS, sr) < 0))
		return -errno;
	return 0;
}

#define CR0_PE 0x1ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull
#define RFLAGS_IF 0x200ull

/* ---- evidence checks at the guest's END of each stage ---- */

static int end_real_mode(struct vmm_session *s, struct vmm_vcpu *v)
{
	struct kvm_regs regs;
	struct kvm_sregs sr;

	if (get_state(v, &regs, &sr))
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "cannot read vCPU state");
	if (sr.cr0 & CR0_PE)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "claimed real mode but CR0=0x%llx", sr.cr0);
	if (s->rc.n_values != 1 || s->rc.values[0] != VD_BOOTINFO_MAGIC_V)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "guest did not echo the boot info magic");
	return pass(s, VD_STAGE_REAL_MODE, "vCPU0 ran real-mode code at %04x:%04llx (CR0.PE=0) and read boot info magic 0x%08x",
		    sr.cs.selector, regs.rip, s->rc.values[0]);
}

/* The OUT must come from inside an interrupt: IF clear now, IF set in the interrupted frame. */
static int on_tick(struct vmm_session *s, struct vmm_vcpu *v)
{
	struct kvm_regs regs;
	struct kvm_sregs sr;
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_PIC_MASTER };
	uint16_t *frame, *ivt;
	uint64_t lin;

	if (s->cur != VD_STAGE_TIMER_IRQ || v->id != 0)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "timer tick report outside the timer_irq stage");
	if (++s->ticks > 64)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "more than 64 timer ticks (one-shot PIT expected)");
	if (get_state(v, &regs, &sr))
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "cannot read vCPU state");
	/* A software INT 8 looks the same to the CPU; only the PIC knows IRQ0 is in service. */
	if (ioctl(s->vm->vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "cannot read the PIC state: %s", strerror(errno));
	if (!(chip.chip.pic.isr & 1)) {
		s->bad_ticks++;
		snprintf(s->tick_detail, sizeof(s->tick_detail),
			 "tick at %04x:%04llx but IRQ0 is not in service at the PIC (software INT, not the timer)",
			 sr.cs.selector, regs.rip);
		return VMM_RUN_CONTINUE;
	}
	frame = vmm_gpa(s->vm, sr.ss.base + (regs.rsp & 0xffff) + 4, 6);
	ivt = vmm_gpa(s->vm, 8 * 4, 4);
	lin = sr.cs.base + regs.rip;
	if ((sr.cr0 & CR0_PE) || (regs.rflags & RFLAGS_IF) || !frame || !(frame[2] & RFLAGS_IF) ||
	    lin < (uint64_t)ivt[1] * 16 + ivt[0] || lin > (uint64_t)ivt[1] * 16 + ivt[0] + 64) {
		s->bad_ticks++;
		snprintf(s->tick_detail, sizeof(s->tick_detail),
			 "tick at %04x:%04llx is not in an IRQ handler (RFLAGS 0x%llx, vector 8 -> %04x:%04x)",
			 sr.cs.selector, regs.rip, regs.rflags, ivt[1], ivt[0]);
		return VMM_RUN_CONTINUE;
	}
	if (s->ticks == 1)
		snprintf(s->tick_detail, sizeof(s->tick_detail),
			 "IRQ0 -> IVT vector 8 handler %04x:%04x after %llu us, interrupted %04x:%04x with IF=1",
			 ivt[1], ivt[0], (unsigned long long)us_since(s->stage_t0), frame[1], frame[0]);
	return VMM_RUN_CONTINUE;
}

static int end_timer_irq(struct vmm_session *s)
{
	if (s->bad_ticks)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "%s", s->tick_detail);
	if (!s->ticks)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "no timer interrupt observed by the VMM");
	if (s->rc.n_values != 1 || s->rc.values[0] == 0 || s->rc.values[0] > s->ticks)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "guest tick count %u does not match %u seen by the VMM",
			    s->rc.n_values ? s->rc.values[0] : 0, s->ticks);
	return pass(s, VD_STAGE_TIMER_IRQ, "%s", s->tick_detail);
}

static int on_mark(struct vmm_session *s, struct vmm_vcpu *v, unsigned mark)
{
	struct kvm_sregs sr;
	bool ok;

	if (s->cur != VD_STAGE_LONG_MODE || mark != s->mark + 1)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "unexpected progress mark %u", mark);
	if (get_state(v, NULL, &sr))
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "cannot read vCPU state");
	if (mark == VD_MARK_PM32)
		ok = (sr.cr0 & CR0_PE) && sr.cs.db && !(sr.efer & EFER_LMA);
	else
		ok = (sr.cr0 & CR0_PG) && (sr.cr4 & CR4_PAE) && (sr.efer & EFER_LMA);
	if (!ok)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "mark %u claimed but CR0 0x%llx CR4 0x%llx EFER 0x%llx CS.D %u",
			    mark, sr.cr0, sr.cr4, sr.efer, sr.cs.db);
	s->mark = mark;
	return VMM_RUN_CONTINUE;
}

static int end_long_mode(struct vmm_session *s, struct vmm_vcpu *v)
{
	struct kvm_sregs sr;
	uint64_t pa;

	if (get_state(v, NULL, &sr))
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "cannot read vCPU state");
	if (!(sr.efer & EFER_LMA) || !sr.cs.l || (sr.cr0 & (CR0_PG | CR0_PE)) != (CR0_PG | CR0_PE) ||
	    !(sr.cr4 & CR4_PAE) || s->mark != VD_MARK_PAGING)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "not in 64-bit mode: CR0 0x%llx CR4 0x%llx EFER 0x%llx CS.L %u, mark %u",
			    sr.cr0, sr.cr4, sr.efer, sr.cs.l, s->mark);
	for (uint64_t va = 0; va < s->vm->mem_size; va += 2u << 20)
		if (vmm_walk(s->vm, sr.cr3, va, &pa) || pa != va)
			return fail(s, VMM_OUTCOME_GUEST_FAILED, "guest page tables (CR3 0x%llx) do not identity-map 0x%llx",
				    sr.cr3, (unsigned long long)va);
	if (vmm_walk(s->vm, sr.cr3, VD_MMIO_BASE, &pa) || pa != VD_MMIO_BASE)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "guest page tables do not map the MMIO window");
	return pass(s, VD_STAGE_LONG_MODE, "guest switched itself real->pm32->paging->64-bit: EFER 0x%llx (LMA), CS.L=1, CR3 0x%llx identity-maps %zu MiB (VMM walk)",
		    sr.efer, sr.cr3, s->vm->mem_size >> 20);
}

static void vendor_str(char out[13], uint32_t b, uint32_t d, uint32_t c)
{
	memcpy(out, &b, 4);
	memcpy(out + 4, &d, 4);
	memcpy(out + 8, &c, 4);
	out[12] = 0;
	for (int i = 0; i < 12; i++)
		if (out[i] && (out[i] < 0x20 || out[i] > 0x7e))
			out[i] = '?';
}

static int end_cpuid(struct vmm_session *s)
{
	const uint32_t *x = s->rc.values;
	const struct kvm_cpuid_entry2 *e = vmm_cpuid_find(s->vm->cpuid, 0, 0);
	unsigned ha = 0, hb = 0, hc = 0, hd = 0;
	char guest[13], kvm[13] = "", host[13], hv[13];
	const char *src;

	if (s->rc.n_values != 8)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "guest reported %u CPUID values, expected 8", s->rc.n_values);
	vendor_str(guest, x[1], x[2], x[3]);
	if (e)
		vendor_str(kvm, e->ebx, e->edx, e->ecx);
	__cpuid(0, ha, hb, hc, hd);
	vendor_str(host, hb, hd, hc);
	if (e && !strcmp(guest, kvm))
		src = "KVM_GET_SUPPORTED_CPUID";
	else if (!strcmp(guest, host))
		src = "host CPUID (KVM_SET_CPUID2 not applied by this KVM)";
	else
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "guest saw vendor '%s', KVM supports '%s', host is '%s'",
			    guest, kvm, host);
	vendor_str(hv, x[5], x[6], x[7]);
	return pass(s, VD_STAGE_CPUID, "vendor '%s' (max leaf 0x%x) matches %s; leaf 0x40000000: '%s' max 0x%x",
		    guest, x[0], src, hv[0] ? hv : "none", x[4]);
}

/* Recompute from our own view of guest RAM: every page's pattern, the count and the sum. */
static int end_memory(struct vmm_session *s)
{
	uint64_t nonce = (uint64_t)s->nonce << 32 | s->nonce, sum = 0;
	uint32_t pages = (uint32_t)((s->vm->mem_size - VD_MEMTEST_BASE) >> 12), bad = 0;
	uint64_t first_bad = 0, guest_sum;

	if (s->rc.n_values != 3)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "guest reported %u memory values, expected 3", s->rc.n_values);
	for (uint64_t a = VD_MEMTEST_BASE; a < s->vm->mem_size; a += 4096) {
		uint64_t w;

		memcpy(&w, s->vm->mem + a, 8);
		sum += w;
		if (w != a + nonce && !bad++)
			first_bad = a;
	}
	guest_sum = (uint64_t)s->rc.values[2] << 32 | s->rc.values[1];
	if (bad)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "%u of %u pages lack the pattern in VMM memory (first at 0x%llx)",
			    bad, pages, (unsigned long long)first_bad);
	if (s->rc.values[0] != pages || guest_sum != sum)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "guest checksum 0x%llx over %u pages, VMM sees 0x%llx over %u",
			    (unsigned long long)guest_sum, s->rc.values[0], (unsigned long long)sum, pages);
	return pass(s, VD_STAGE_MEMORY, "checksum 0x%016llx over %u pages (1 MiB..%zu MiB) matches VMM view",
		    (unsigned long long)sum, pages, s->vm->mem_size >> 20);
}

static int mmio_dev(struct vmm_vcpu *v, uint64_t addr, bool write, unsigned len, uint8_t *data, void *opaque)
{
	struct vmm_session *s = opaque;
	uint64_t off = addr - VD_MMIO_BASE;
	uint32_t val = 0;

	(void)v;
	if (write) {
		memcpy(&val, data, len < 4 ? len : 4);
		if (s->smoke && (s->cur != VD_STAGE_MMIO || off != 0 || len != 4 ||
				 val != (s->nonce ^ VD_MMIO_XOR)))
			return fail(s, VMM_OUTCOME_GUEST_FAILED, "unexpected MMIO write 0x%x (%u bytes) at 0x%llx",
				    val, len, (unsigned long long)addr);
		if (off == 0 && len == 4) {
			s->mmio_write_ok = true;
			s->mmio_answer = __builtin_bswap32(val);
		}
		return VMM_RUN_CONTINUE;
	}
	if (s->smoke && (s->cur != VD_STAGE_MMIO || off != 4 || len != 4 || !s->mmio_write_ok))
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "unexpected MMIO read (%u bytes) at 0x%llx",
			    len, (unsigned long long)addr);
	memset(data, 0xff, len);
	if (off == 4 && len == 4) {
		memcpy(data, &s->mmio_answer, 4);
		s->mmio_read_ok = s->mmio_write_ok;
	}
	return VMM_RUN_CONTINUE;
}

static int end_mmio(struct vmm_session *s)
{
	if (!s->mmio_write_ok || !s->mmio_read_ok)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "VMM saw no MMIO %s", s->mmio_write_ok ? "read" : "write");
	if (s->rc.n_values != 1 || s->rc.values[0] != s->mmio_answer)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "guest reported 0x%x, VMM answered 0x%x",
			    s->rc.n_values ? s->rc.values[0] : 0, s->mmio_answer);
	return pass(s, VD_STAGE_MMIO, "VMM saw write 0x%08x at 0x%x and answered read at 0x%x with 0x%08x; guest got it",
		    __builtin_bswap32(s->mmio_answer), VD_MMIO_BASE, VD_MMIO_BASE + 4, s->mmio_answer);
}

static int on_start_ap(struct vmm_session *s, struct vmm_vcpu *v, unsigned id)
{
	struct vmm_vcpu *ap;
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	int r;

	if (s->cur != VD_STAGE_SECOND_VCPU || v->id != 0 || id != 1 || id >= s->vm->n_vcpus || s->vm->vcpu[id].go)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "bad request to start vCPU %u", id);
	ap = &s->vm->vcpu[id];
	/* With the in-kernel LAPIC an AP waits for INIT/SIPI; we start it directly instead. */
	r = vmm_vcpu_set_real_mode(ap, (s->ap16_entry >> 4) & 0xf000, s->ap16_entry & 0xffff, VD_AP_STACK);
	if (!r && ioctl(ap->fd, KVM_SET_MP_STATE, &mp) < 0)
		r = -errno;
	if (r)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "cannot start vCPU %u: %s", id, strerror(-r));
	ap->go = true;
	pthread_cond_broadcast(&s->vm->cond);
	return VMM_RUN_CONTINUE;
}

static int end_second_vcpu(struct vmm_session *s)
{
	uint32_t token = s->nonce ^ VD_AP_XOR, box;

	if (s->vm->n_vcpus < 2) {
		vmm_session_stage(s, VD_STAGE_SECOND_VCPU, VMM_STAGE_NOT_RUN, us_since(s->stage_t0),
				  "only 1 vCPU configured");
		return VMM_RUN_CONTINUE;
	}
	memcpy(&box, s->vm->mem + VD_MAILBOX, 4);
	if (!s->ap_checkin)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "vCPU 1 never checked in on its own thread");
	if (box != token || s->rc.n_values != 1 || s->rc.values[0] != token)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "mailbox 0x%08x / reported 0x%08x, expected token 0x%08x",
			    box, s->rc.n_values ? s->rc.values[0] : 0, token);
	return pass(s, VD_STAGE_SECOND_VCPU, "vCPU 1 ran real-mode code on its own thread (tid %d), checked in after %llu us; token 0x%08x in VMM memory",
		    (int)s->vm->vcpu[1].tid, (unsigned long long)((s->ap_checkin_ns - s->stage_t0) / 1000), token);
}

static int on_end(struct vmm_session *s, struct vmm_vcpu *v, unsigned stage)
{
	switch (stage) {
	case VD_STAGE_REAL_MODE:	return end_real_mode(s, v);
	case VD_STAGE_TIMER_IRQ:	return end_timer_irq(s);
	case VD_STAGE_LONG_MODE:	return end_long_mode(s, v);
	case VD_STAGE_CPUID:		return end_cpuid(s);
	case VD_STAGE_MEMORY:		return end_memory(s);
	case VD_STAGE_MMIO:		return end_mmio(s);
	case VD_STAGE_SECOND_VCPU:	return end_second_vcpu(s);
	default:
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "stage %u cannot be ended by the guest", stage);
	}
}

static int on_begin(struct vmm_session *s, struct vmm_vcpu *v, unsigned stage)
{
	struct kvm_sregs sr;

	vmm_session_begin(s, stage);
	/* The long-mode switch only counts if the guest starts it from real mode itself. */
	if (stage == VD_STAGE_REAL_MODE || stage == VD_STAGE_LONG_MODE) {
		if (get_state(v, NULL, &sr))
			return fail(s, VMM_OUTCOME_GUEST_FAILED, "cannot read vCPU state");
		if (sr.cr0 & CR0_PE)
			return fail(s, VMM_OUTCOME_GUEST_FAILED, "stage must begin in real mode, CR0 is 0x%llx", sr.cr0);
	}
	return VMM_RUN_CONTINUE;
}

static int payload_port(struct vmm_session *s, struct rc_event *ev)
{
	if (ev->type == RC_EV_FAIL)
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "guest reported failure code %u", ev->arg);
	pass(s, PAYLOAD_RUN, "guest reported done after %llu exits",
	     (unsigned long long)__atomic_load_n(&s->vm->exits, __ATOMIC_RELAXED));
	vmm_session_end_locked(s, VMM_OUTCOME_OK, "guest reported done");
	return VMM_RUN_STOP;
}

/*
 * After "done" the guest executes CLI; HLT. The VMM kicks vCPU0 out of KVM_RUN every
 * HALT_POLL_NS to read its MP state, and gives up after HALT_GRACE_NS: two instructions
 * can take milliseconds when they are emulated on a loaded host.
 */
#define HALT_POLL_NS 1000000ull
#define HALT_GRACE_NS 500000000ull

static int report_port(struct vmm_vcpu *v, uint16_t port, bool out, unsigned size, uint32_t *val, void *opaque)
{
	struct vmm_session *s = opaque;
	struct rc_event ev;
	char why[160];

	if (s->ended)
		return VMM_RUN_STOP;
	if (rc_decode(&s->rc, port, out, size, *val, &ev, why, sizeof(why)))
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "protocol error: %s", why);
	if (!s->smoke)
		return payload_port(s, &ev);
	/* Only vCPU 1's own check-in and park may come from it; everything else is the BSP's. */
	if ((v->id != 0) != (ev.type == RC_EV_CHECKIN || ev.type == RC_EV_PARK) ||
	    (v->id && ev.arg != v->id))
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "report '%s' from the wrong vCPU (%u)", rc_event_name(ev.type), v->id);
	switch (ev.type) {
	case RC_EV_BEGIN:	return on_begin(s, v, ev.stage);
	case RC_EV_END:		return on_end(s, v, ev.stage);
	case RC_EV_VALUE:	return VMM_RUN_CONTINUE;
	case RC_EV_MARK:	return on_mark(s, v, ev.arg);
	case RC_EV_TICK:	return on_tick(s, v);
	case RC_EV_START_AP:	return on_start_ap(s, v, ev.arg);
	case RC_EV_CHECKIN:
		if (s->cur != VD_STAGE_SECOND_VCPU || s->ap_checkin)
			return fail(s, VMM_OUTCOME_GUEST_FAILED, "unexpected check-in from vCPU %u", v->id);
		s->ap_checkin = true;
		s->ap_checkin_ns = vmm_now_ns();
		return VMM_RUN_CONTINUE;
	case RC_EV_PARK:
		s->ap_parked = true;
		return VMM_RUN_STOP;	/* this vCPU's thread only */
	case RC_EV_FAIL:
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "guest reported failure code %u", ev.arg);
	case RC_EV_DONE:
		/* Prove the HLT: let it run briefly, then look at its MP state. */
		s->halt_check = true;
		s->done_ns = vmm_now_ns();
		v->kick_at_ns = s->done_ns + HALT_POLL_NS;
		pthread_cond_broadcast(&s->vm->cond);
		return VMM_RUN_CONTINUE;
	default:
		return fail(s, VMM_OUTCOME_GUEST_FAILED, "unhandled report");
	}
}

static bool exit_is_fatal_cpu_state(uint32_t reason)
{
	return reason == KVM_EXIT_INTERNAL_ERROR || reason == KVM_EXIT_SHUTDOWN ||
	       reason == KVM_EXIT_FAIL_ENTRY || reason == KVM_EXIT_EXCEPTION || reason == KVM_EXIT_UNKNOWN;
}

static int hook_fault(struct vmm_vcpu *v, const char *what, void *opaque)
{
	struct vmm_session *s = opaque;
	char where[96] = "";
	int r;

	if (s->ended)
		return VMM_RUN_STOP;
	vmm_vcpu_where(v, where, sizeof(where));
	if (s->smoke && s->cur == VD_STAGE_LONG_MODE && v->id == 0 && !s->lm_fallback &&
	    exit_is_fatal_cpu_state(v->run->exit_reason)) {
		s->lm_fallback = true;
		vmm_session_stage(s, VD_STAGE_LONG_MODE, VMM_STAGE_UNSUPPORTED, us_since(s->stage_t0),
				  "%s at %s after mark %u; VMM entered long mode for the guest (fallback)",
				  what, where, s->mark);
		r = vmm_vcpu_set_long_mode(v, s->lm64_entry, VD_BSP_STACK);
		if (r)
			return fail(s, VMM_OUTCOME_GUEST_FAILED, "long-mode fallback failed: %s", strerror(-r));
		rc_skip_to(&s->rc, VD_STAGE_CPUID);
		return VMM_RUN_CONTINUE;
	}
	return fail(s, VMM_OUTCOME_GUEST_FAILED, "vCPU%u %s at %s", v->id, what, where);
}

static int hook_hlt(struct vmm_vcpu *v, void *opaque)
{
	struct vmm_session *s = opaque;
	char where[96] = "";

	vmm_vcpu_where(v, where, sizeof(where));
	if (!s->smoke) {
		pass(s, PAYLOAD_RUN, "HLT: guest halted at %s after %llu exits", where,
		     (unsigned long long)__atomic_load_n(&s->vm->exits, __ATOMIC_RELAXED));
		vmm_session_end_locked(s, VMM_OUTCOME_OK, "guest halted");
		return VMM_RUN_STOP;
	}
	return fail(s, VMM_OUTCOME_GUEST_FAILED, "HLT: guest halted unexpectedly at %s", where);
}

static bool insn_is_hypercall(const uint8_t *b)
{
	return b[0] == 0x0f && b[1] == 0x01 && (b[2] == 0xc1 || b[2] == 0xd9 || b[2] == 0xd4);
}

/*
 * The watchdog's sample before the deadline against the registers now: did this vCPU exit
 * (more KVM_RUN returns than the two kicks) or change a register in between? Only what KVM
 * shows: a guest that loops while changing registers is "progressing" too, so the word
 * "stuck" is kept for a vCPU that neither exited nor moved.
 */
static enum vmm_progress judge_progress(struct vmm_vcpu *v, char *how, size_t size)
{
	struct kvm_regs now;

	if (!v->sampled || ioctl(v->fd, KVM_GET_REGS, &now) < 0)
		return VMM_PROGRESS_UNKNOWN;
	if (v->n_exits - v->sample_exits > 1)
		snprintf(how, size, "%llu exits", (unsigned long long)(v->n_exits - v->sample_exits - 1));
	else if (now.rip != v->sample_regs.rip)
		snprintf(how, size, "rip 0x%llx -> 0x%llx", (unsigned long long)v->sample_regs.rip,
			 (unsigned long long)now.rip);
	else if (memcmp(&now, &v->sample_regs, sizeof(now)) != 0)
		snprintf(how, size, "registers changed, rip 0x%llx", (unsigned long long)now.rip);
	else
		return VMM_PROGRESS_STUCK;
	return VMM_PROGRESS_MOVING;
}

static int timed_out(struct vmm_session *s, struct vmm_vcpu *v)
{
	uint64_t now = vmm_now_ns();
	unsigned ms = (unsigned)((now - s->t0_ns) / 1000000);
	unsigned window = v->sampled ? (unsigned)((now - v->sample_ns) / 1000000) : 0;
	const char *stage = s->cur ? stage_name(s, s->cur) : "(between stages)";
	char where[96] = "", how[64] = "";
	uint8_t b[16];
	uint64_t rip = 0;

	s->progress = judge_progress(v, how, sizeof(how));
	vmm_vcpu_where(v, where, sizeof(where));
	if (s->progress == VMM_PROGRESS_MOVING)
		return fail(s, VMM_OUTCOME_TIMEOUT,
			    "still running after %u ms in %s: vCPU%u progressed in the last %u ms (%s), %s",
			    ms, stage, v->id, window, how,
			    s->smoke ? "slow here, not hung (busy host? raise --timeout)" :
				       "slow or looping, not hung in KVM_RUN");
	if (!vmm_vcpu_read_insn(v, &rip, b, sizeof(b)) && insn_is_hypercall(b))
		return fail(s, VMM_OUTCOME_GUEST_FAILED,
			    "KVM_RUN did not return for %u ms: vCPU%u stuck in a hypercall (VMCALL/VMMCALL) at %s, which this VMM does not serve",
			    ms, v->id, where);
	if (s->progress == VMM_PROGRESS_STUCK)
		return fail(s, VMM_OUTCOME_TIMEOUT,
			    "KVM_RUN did not return for %u ms in %s; vCPU%u no exit, same registers for %u ms: stuck; %s",
			    ms, stage, v->id, window, where);
	return fail(s, VMM_OUTCOME_TIMEOUT, "KVM_RUN did not return for %u ms in %s; vCPU%u %s (progress not sampled)",
		    ms, stage, v->id, where);
}

static int hook_kicked(struct vmm_vcpu *v, void *opaque)
{
	struct vmm_session *s = opaque;
	struct kvm_mp_state mp;
	char where[96] = "";

	if (s->ended)
		return VMM_RUN_STOP;
	if (s->timed_out)
		return timed_out(s, v);
	if (v->sample_pending) {
		/* The watchdog's sample before the deadline; other kick purposes still apply. */
		v->sample_pending = false;
		if (ioctl(v->fd, KVM_GET_REGS, &v->sample_regs) == 0) {
			v->sampled = true;
			v->sample_exits = v->n_exits;
			v->sample_ns = vmm_now_ns();
		}
	}
	if (s->halt_check && v->id == 0) {
		if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0)
			return fail(s, VMM_OUTCOME_GUEST_FAILED, "cannot read MP state: %s", strerror(errno));
		vmm_vcpu_where(v, where, sizeof(where));
		if (mp.mp_state != KVM_MP_STATE_HALTED) {
			uint64_t now = vmm_now_ns();

			/* Every guest instruction may be emulated and the host busy: look again. */
			if (now - s->done_ns < HALT_GRACE_NS) {
				v->kick_at_ns = now + HALT_POLL_NS;
				pthread_cond_broadcast(&s->vm->cond);
				return VMM_RUN_CONTINUE;
			}
			return fail(s, VMM_OUTCOME_GUEST_FAILED, "vCPU0 not halted %llu ms after done (mp_state %u, %s)",
				    (unsigned long long)((now - s->done_ns) / 1000000), mp.mp_state, where);
		}
		pass(s, VD_STAGE_HALT, "vCPU0 in HLT after done (mp_state HALTED, %s)", where);
		vmm_session_end_locked(s, VMM_OUTCOME_OK, "all stages ran");
		return VMM_RUN_STOP;
	}
	return VMM_RUN_CONTINUE;
}

void vmm_session_init(struct vmm_session *s, struct vmm_vm *vm, int rec_fd, bool smoke)
{
	memset(s, 0, sizeof(*s));
	s->vm = vm;
	s->rec_fd = rec_fd;
	s->smoke = smoke;
	s->n_stages = smoke ? VMM_SMOKE_N_STAGES : 2;
	rc_init(&s->rc, smoke, VD_STAGE_LAST);
}

int vmm_session_attach(struct vmm_session *s)
{
	struct vmm_vm *vm = s->vm;
	int r;

	vm->hooks = (struct vmm_vm_hooks){ hook_fault, hook_hlt, hook_kicked, s };
	r = vmm_io_register(&vm->io, VD_PORT_CTL, 2, report_port, s);
	if (!r)
		r = vmm_io_register(&vm->io, VD_PORT_DATA, 4, report_port, s);
	if (!r)
		r = vmm_mmio_register(&vm->mmio, VD_MMIO_BASE, VD_MMIO_SIZE, mmio_dev, s);
	return r;
}
