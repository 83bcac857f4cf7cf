// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the guest-to-VMM report protocol, fed arbitrary port-I/O sequences through the
 * real port-I/O bus (ioport.c) into the real decoder (report_channel.c), no VM needed.
 * Input: 1 byte mode (bit 0: stage protocol, bits 1-4: last stage), then 8-byte records
 * { u16 port; u8 size; u8 flags (bit 0 out, bits 1-3 count-1); u32 value }. */
// seeds: fuzz/corpus/report_channel/*
#include <errno.h>
#include <stdio.h>

#include "fuzz.h"
#include "vmm/internal.h"

/* What report_port() in stages.c does with the decoder's answer, minus the KVM state checks:
 * a refusal ends the session with the reason (fail() there), anything else continues. */
struct session {
	struct rc_state rc;
	bool ended;
	char why[160];
};

struct io_record {
	uint16_t port;
	uint8_t size, flags;
	uint32_t value;
};

static int on_report(struct vmm_vcpu *v, uint16_t port, bool out, unsigned size, uint32_t *val,
		     void *opaque)
{
	struct session *s = opaque;
	struct rc_state *st = &s->rc;
	struct rc_event ev;
	int r;

	(void)v;
	FUZZ_ASSERT(!s->ended);
	s->why[0] = '\0';
	r = rc_decode(st, port, out, size, *val, &ev, s->why, sizeof(s->why));
	if (r) {
		/* Every refusal explains itself in one line. */
		FUZZ_ASSERT(r == -EPROTO || r == -EMLINK);
		FUZZ_ASSERT(s->why[0] && !strchr(s->why, '\n'));
		s->ended = true;
		return VMM_RUN_STOP;
	}
	FUZZ_ASSERT(ev.type > RC_EV_NONE && ev.type <= RC_EV_FAIL);
	FUZZ_ASSERT(strcmp(rc_event_name(ev.type), "?") != 0);
	FUZZ_ASSERT(st->n_values <= VD_MAX_VALUES);
	FUZZ_ASSERT(st->cur <= 0xff);
	if (ev.type == RC_EV_VALUE)
		FUZZ_ASSERT(st->cur && st->values[st->n_values - 1] == *val);
	if (ev.type == RC_EV_DONE)
		FUZZ_ASSERT(st->done);
	return 0;
}

FUZZ_TARGET(report_channel)
{
	/* A run page as KVM lays it out: struct kvm_run, then the I/O data area. */
	static union { struct kvm_run run; uint8_t bytes[4096]; } page;
	struct vmm_vm *vm = calloc(1, sizeof(*vm));
	struct vmm_vcpu *vcpu;
	struct session s = { .ended = false };
	char why[160];
	uint8_t mode;

	if (!vm)
		abort();
	if (!size)
		goto out;
	mode = data[0];
	data++, size--;
	rc_init(&s.rc, mode & 1, (mode >> 1) & 0xf);
	vm->run_size = sizeof(page);
	vcpu = &vm->vcpu[0];
	vcpu->vm = vm;
	vcpu->run = &page.run;
	if (vmm_io_register(&vm->io, VD_PORT_CTL, 2, on_report, &s) ||
	    vmm_io_register(&vm->io, VD_PORT_DATA, 4, on_report, &s))
		abort();

	for (; size >= sizeof(struct io_record); data += sizeof(struct io_record), size -= sizeof(struct io_record)) {
		struct io_record rec;
		unsigned count;
		int r;

		memcpy(&rec, data, sizeof(rec));
		count = ((rec.flags >> 1) & 7) + 1;
		memset(&page, 0, sizeof(page));
		page.run.exit_reason = KVM_EXIT_IO;
		page.run.io.direction = rec.flags & 1 ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN;
		page.run.io.size = rec.size;
		page.run.io.port = rec.port;
		page.run.io.count = count;
		page.run.io.data_offset = sizeof(struct kvm_run);
		/* rep outs: the same value repeated, as a string instruction would send. */
		for (unsigned i = 0; i < count && rec.size <= 4; i++)
			memcpy(page.bytes + sizeof(struct kvm_run) + i * rec.size, &rec.value, rec.size);
		why[0] = '\0';
		r = vmm_io_dispatch(&vm->io, vcpu, why, sizeof(why));
		if (r < 0)	/* the bus refused it: a malformed exit or a port nobody serves */
			FUZZ_ASSERT((r == -EPROTO || r == -ENODEV) && why[0] && !strchr(why, '\n'));
		else
			FUZZ_ASSERT(r == VMM_RUN_CONTINUE || (r == VMM_RUN_STOP && s.ended));
		if (r)
			break;	/* the VMM ends the session on any of these */
		/* The VMM's long-mode fallback jumps the protocol ahead; let the fuzzer do it too. */
		if (rec.port == 0xffff)
			rc_skip_to(&s.rc, rec.value & 0xf);
	}
out:
	free(vm);
	return 0;
}
