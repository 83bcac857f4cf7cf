// SPDX-License-Identifier: GPL-2.0-or-later
/* Speed floor for `make bench`: the least KVM work that runs a guest instruction to an exit. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
	/* out %al, $0xe9 ; hlt — one port exit, the same first step the smoke guest takes. */
	static const uint8_t code[] = { 0xe6, 0xe9, 0xf4 };
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm, cpu, sz;
	struct kvm_userspace_memory_region reg = { .memory_size = 4096 };
	struct kvm_sregs sr;
	struct kvm_regs regs = { .rip = 0, .rflags = 2 };
	struct kvm_run *run;
	uint8_t *mem;

	if (kvm < 0 || (vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0)
		return perror("kvm"), 1;
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return perror("mmap"), 1;
	for (unsigned i = 0; i < sizeof(code); i++)
		mem[i] = code[i];
	reg.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &reg) < 0 || (cpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0 ||
	    (sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) < 0)
		return perror("vcpu"), 1;
	run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (run == MAP_FAILED || ioctl(cpu, KVM_GET_SREGS, &sr) < 0)
		return perror("run"), 1;
	sr.cs.base = 0;
	sr.cs.selector = 0;
	if (ioctl(cpu, KVM_SET_SREGS, &sr) < 0 || ioctl(cpu, KVM_SET_REGS, &regs) < 0)
		return perror("regs"), 1;
	do {
		if (ioctl(cpu, KVM_RUN, 0) < 0)
			return perror("KVM_RUN"), 1;
	} while (run->exit_reason == KVM_EXIT_IO);
	return run->exit_reason == KVM_EXIT_HLT ? 0 : 1;
}
