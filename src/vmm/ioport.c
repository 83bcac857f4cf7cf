// SPDX-License-Identifier: GPL-2.0-or-later
/* Port-I/O bus: routes KVM_EXIT_IO to registered port ranges; anything else is a guest error. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int vmm_io_register(struct vmm_io_bus *bus, uint16_t base, uint16_t len, vmm_io_fn fn, void *opaque)
{
	if (!len || bus->n >= sizeof(bus->r) / sizeof(bus->r[0]))
		return -ENOSPC;
	bus->r[bus->n++] = (struct vmm_io_range){ base, len, fn, opaque };
	return 0;
}

int vmm_io_dispatch(struct vmm_io_bus *bus, struct vmm_vcpu *vcpu, char *why, size_t len)
{
	struct kvm_run *run = vcpu->run;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	unsigned size = run->io.size;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	const struct vmm_io_range *hit = NULL;

	/* Never trust the kernel-provided layout blindly: the data must lie in the run page. */
	if ((size != 1 && size != 2 && size != 4) || !run->io.count ||
	    run->io.data_offset + (uint64_t)size * run->io.count > vcpu->vm->run_size) {
		snprintf(why, len, "IO: malformed port I/O exit (size %u, count %u)", size, run->io.count);
		return -EPROTO;
	}
	for (unsigned i = 0; i < bus->n; i++)
		if (run->io.port >= bus->r[i].base && run->io.port - bus->r[i].base < bus->r[i].len)
			hit = &bus->r[i];
	if (!hit) {
		uint32_t v = 0;

		memcpy(&v, data, size);
		if (out)
			snprintf(why, len, "IO: unhandled port I/O: out to port 0x%x, size %u, value 0x%x",
				 run->io.port, size, v);
		else
			snprintf(why, len, "IO: unhandled port I/O: in from port 0x%x, size %u",
				 run->io.port, size);
		return -ENODEV;
	}
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		uint32_t v = 0;
		int r;

		if (out)
			memcpy(&v, data, size);
		r = hit->fn(vcpu, run->io.port, out, size, &v, hit->opaque);
		if (r)
			return r;
		if (!out)
			memcpy(data, &v, size);
	}
	return VMM_RUN_CONTINUE;
}
