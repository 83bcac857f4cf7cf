// SPDX-License-Identifier: GPL-2.0-or-later
/* VM lifetime: creation, the single RAM slot, irqchip/PIT, image loading, guest memory access. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "internal.h"

/* Intel needs a TSS area for real mode; put it just below 4 GiB, clear of RAM and MMIO. */
#define VMM_TSS_ADDR	0xfffbd000ul

int vmm_vm_create(struct vmm_vm *vm, int sys_fd, size_t mem_size, unsigned n_vcpus, bool irqchip)
{
	struct kvm_userspace_memory_region region;
	struct kvm_pit_config pit = { .flags = 0 };
	unsigned i;
	int r, mmap_size;

	memset(vm, 0, sizeof(*vm));
	vm->sys_fd = sys_fd;
	vm->vm_fd = -1;
	vm->mem = MAP_FAILED;
	vm->irqchip = irqchip;
	for (i = 0; i < VMM_MAX_VCPUS; i++)
		vm->vcpu[i].fd = -1;
	if (n_vcpus < 1 || n_vcpus > VMM_MAX_VCPUS)
		return -EINVAL;

	mmap_size = ioctl(sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run))
		return mmap_size < 0 ? -errno : -EINVAL;
	vm->run_size = (size_t)mmap_size;

	r = pthread_mutex_init(&vm->lock, NULL);
	if (r)
		return -r;
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		r = pthread_cond_init(&vm->cond, &ca);
		pthread_condattr_destroy(&ca);
		if (r) {
			r = -r;
			goto err_mutex;
		}
	}

	vm->vm_fd = ioctl(sys_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		r = -errno;
		goto err_cond;
	}
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, VMM_TSS_ADDR) < 0) {
		r = -errno;
		goto err_vm;
	}

	/* Private anonymous memory: zero at entry, which the guest protocol promises. */
	vm->mem_size = mem_size;
	vm->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		r = -errno;
		goto err_vm;
	}
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0, .memory_size = mem_size,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		r = -errno;
		goto err_mem;
	}

	if (irqchip) {
		if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0 ||
		    ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
			r = -errno;
			goto err_mem;
		}
	}

	r = vmm_kvm_supported_cpuid(sys_fd, &vm->cpuid);
	if (r)
		goto err_mem;

	vm->n_vcpus = n_vcpus;
	for (i = 0; i < n_vcpus; i++) {
		r = vmm_vcpu_init(vm, i);
		if (r)
			goto err_vcpus;
	}
	return 0;

err_vcpus:
	while (i--)
		vmm_vcpu_fini(&vm->vcpu[i]);
	free(vm->cpuid);
	vm->cpuid = NULL;
err_mem:
	munmap(vm->mem, mem_size);
	vm->mem = MAP_FAILED;
err_vm:
	close(vm->vm_fd);
	vm->vm_fd = -1;
err_cond:
	pthread_cond_destroy(&vm->cond);
err_mutex:
	pthread_mutex_destroy(&vm->lock);
	return r;
}

/* Only for callers whose vCPU threads have all been joined. */
void vmm_vm_destroy(struct vmm_vm *vm)
{
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		vmm_vcpu_fini(&vm->vcpu[i]);
	free(vm->cpuid);
	if (vm->mem != MAP_FAILED)
		munmap(vm->mem, vm->mem_size);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->lock);
}

void *vmm_gpa(struct vmm_vm *vm, uint64_t gpa, size_t len)
{
	if (gpa > vm->mem_size || len > vm->mem_size - gpa)
		return NULL;
	return vm->mem + gpa;
}

int vmm_vm_load(struct vmm_vm *vm, uint64_t gpa, const void *img, size_t len)
{
	void *dst = vmm_gpa(vm, gpa, len);

	if (!dst)
		return -EFBIG;
	memcpy(dst, img, len);
	return 0;
}

/* Walk 4-level page tables in our own view of guest RAM (4 KiB, 2 MiB and 1 GiB leaves). */
int vmm_walk(struct vmm_vm *vm, uint64_t cr3, uint64_t va, uint64_t *pa)
{
	const uint64_t addr_mask = 0x000ffffffffff000ull;
	uint64_t table = cr3 & addr_mask;

	for (int level = 3; level >= 0; level--) {
		unsigned idx = (va >> (12 + 9 * level)) & 511;
		uint64_t *pte = vmm_gpa(vm, table + idx * 8, 8);

		if (!pte)
			return -EFAULT;
		if (!(*pte & 1))
			return -ENOENT;
		if (level > 0 && level < 3 && (*pte & 0x80)) {
			uint64_t size = 1ull << (12 + 9 * level);

			*pa = (*pte & addr_mask & ~(size - 1)) | (va & (size - 1));
			return 0;
		}
		table = *pte & addr_mask;
	}
	*pa = table | (va & 0xfff);
	return 0;
}

/* KVM_RUN returns EINTR when the signal lands; immediate_exit covers the window before it. */
void vmm_kick_locked(struct vmm_vcpu *v)
{
	v->kick_pending = true;
	v->run->immediate_exit = 1;
	if (v->has_thread && !v->finished)
		pthread_kill(v->thread, SIGUSR1);
}

void vmm_vm_stop_locked(struct vmm_vm *vm)
{
	vm->stop = true;
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if (vm->vcpu[i].run)
			vmm_kick_locked(&vm->vcpu[i]);
	pthread_cond_broadcast(&vm->cond);
}
