// SPDX-License-Identifier: GPL-2.0-or-later
/* MMIO bus: routes KVM_EXIT_MMIO to registered windows, caps MMIO exits to stop storms. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int vmm_mmio_register(struct vmm_mmio_bus *bus, uint64_t base, uint64_t len, vmm_mmio_fn fn, void *opaque)
{
	if (!len || bus->n >= sizeof(bus->r) / sizeof(bus->r[0]))
		return -ENOSPC;
	bus->r[bus->n++] = (struct vmm_mmio_range){ base, len, fn, opaque };
	return 0;
}

int vmm_mmio_dispatch(struct vmm_mmio_bus *bus, struct vmm_vcpu *vcpu, char *why, size_t len)
{
	struct kvm_run *run = vcpu->run;
	uint64_t addr = run->mmio.phys_addr;
	unsigned n = run->mmio.len;

	if (++bus->exits > VMM_MMIO_EXIT_CAP) {
		snprintf(why, len, "MMIO storm: more than %u MMIO exits (last %s at 0x%llx)",
			 VMM_MMIO_EXIT_CAP, run->mmio.is_write ? "write" : "read",
			 (unsigned long long)addr);
		return -EMLINK;
	}
	if (n == 0 || n > sizeof(run->mmio.data)) {
		snprintf(why, len, "MMIO: malformed exit (len %u)", n);
		return -EPROTO;
	}
	for (unsigned i = 0; i < bus->n; i++) {
		const struct vmm_mmio_range *m = &bus->r[i];

		if (addr >= m->base && addr - m->base < m->len && n <= m->len - (addr - m->base))
			return m->fn(vcpu, addr, run->mmio.is_write, n, run->mmio.data, m->opaque);
	}
	if (run->mmio.is_write) {
		uint64_t v = 0;

		memcpy(&v, run->mmio.data, n);
		snprintf(why, len, "MMIO: guest wrote 0x%llx (%u bytes) to unmapped guest-physical 0x%llx",
			 (unsigned long long)v, n, (unsigned long long)addr);
	} else {
		snprintf(why, len, "MMIO: guest read %u bytes from unmapped guest-physical 0x%llx",
			 n, (unsigned long long)addr);
	}
	return -EFAULT;
}
