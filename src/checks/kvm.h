/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What several checks need to know about KVM on the host: backends, the device, cpuinfo. */
#ifndef VD_KVM_H
#define VD_KVM_H

#include <stdbool.h>
#include <stddef.h>

#include "checks/cpuinfo.h"
#include "host.h"

struct kvm_backend {
	const char *module;	/* kernel module name as /sys/module spells it */
	const char *arch;	/* cpuinfo arch it belongs to */
	enum cpu_extension needs;	/* CPU flag it drives, CPU_EXT_NONE for paravirtual ones */
	bool paravirtual;
	const char *what;
};

extern const struct kvm_backend kvm_backends[];
extern const unsigned n_kvm_backends;
const struct kvm_backend *kvm_backend_find(const char *module);

struct kvm_backend_facts {
	char backend[32];	/* the active backend module, "" if none */
	bool paravirtual;
};

/* Which backend is active, judged from the root's /sys/module (no live probe). */
void kvm_backend_probe(const struct host *h, struct kvm_backend_facts *f);

/* The backend's `nested` module parameter (Y/N/1/0): 0 with *on set and the raw value in
 * raw, -ENOENT when the backend has no such parameter, -EBADMSG for an unknown value. */
int kvm_nested_param(const struct host *h, const char *backend, bool *on, char *raw, size_t size);

/* /proc/cpuinfo through the host context, read and parsed once per host; 0 or -errno
 * (-EBADMSG when garbled). */
int host_cpuinfo(struct host *h, struct cpuinfo *ci);

/* The kernel release whose modules we inspect: uname live, /proc/sys/kernel/osrelease
 * under --root, else the only directory in /lib/modules. */
int host_kernel_release(const struct host *h, char *buf, size_t size);

/* A kernel module's state as kvm.modules judges it, through libkmod on the root's
 * /lib/modules: "loaded", "built-in", "available", "missing" or "loading-or-unloading".
 * loadable_modules: the kernel supports loading modules (/proc/modules). 0 or -errno
 * (state is then "missing"). */
int kernel_module_state(const struct host *h, const char *name, const char **state,
			bool *loadable_modules);

#endif
