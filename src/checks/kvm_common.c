// SPDX-License-Identifier: GPL-2.0-or-later
/* KVM facts shared by several checks: the backend table and small host lookups. */
#include <errno.h>
#include <sys/utsname.h>

#include "checks/kvm.h"
#include "checks/sysfs_value.h"
#include "util.h"

const struct kvm_backend kvm_backends[] = {
	{ .module = "kvm_intel", .arch = "x86_64", .needs = CPU_EXT_VMX, .what = "Intel VT-x" },
	{ .module = "kvm_amd", .arch = "x86_64", .needs = CPU_EXT_SVM, .what = "AMD-V" },
	{ .module = "kvm_pvm", .arch = "x86_64", .paravirtual = true,
	  .what = "PVM, paravirtual KVM without VT-x/AMD-V" },
	{ .module = "kvm_hv", .arch = "ppc64", .what = "POWER hypervisor mode" },
	{ .module = "kvm_pr", .arch = "ppc64", .paravirtual = true, .what = "POWER problem-state KVM" },
};
const unsigned n_kvm_backends = ARRAY_SIZE(kvm_backends);

const struct kvm_backend *kvm_backend_find(const char *module)
{
	for (unsigned i = 0; i < n_kvm_backends; i++)
		if (streq(kvm_backends[i].module, module))
			return &kvm_backends[i];
	return NULL;
}

void kvm_backend_probe(const struct host *h, struct kvm_backend_facts *f)
{
	memset(f, 0, sizeof(*f));
	for (unsigned i = 0; i < n_kvm_backends; i++) {
		char path[64];

		sfmt(path, "/sys/module/%s", kvm_backends[i].module);
		if (host_exists(h, path)) {
			scopy(f->backend, kvm_backends[i].module);
			f->paravirtual = kvm_backends[i].paravirtual;
			return;
		}
	}
}

int kvm_nested_param(const struct host *h, const char *backend, bool *on, char *raw, size_t size)
{
	char path[128], value[16];
	int r;

	sfmt(path, "/sys/module/%s/parameters/nested", backend);
	r = host_read_line(h, path, value, sizeof(value));
	if (r < 0)
		return r;
	if (raw)
		snprintf(raw, size, "%s", value);
	/* kvm_intel prints Y/N, kvm_amd and kvm_hv print 1/0. */
	r = sysfs_parse_bool(value);
	if (r < 0)
		return -EBADMSG;
	*on = r;
	return 0;
}

/* Several checks and the report header all want the CPU; the file can be megabytes. */
struct host_cache {
	bool cpuinfo_done;
	int cpuinfo_err;
	struct cpuinfo cpuinfo;
};

static int read_cpuinfo(const struct host *h, struct cpuinfo *ci)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = host_read(h, "/proc/cpuinfo", HOST_READ_MAX, &text, &len);
	if (r < 0)
		return r;
	if (!len)
		return -ENODATA;	/* say "empty", not "unrecognised" */
	/* The kernel ends every processor block with a blank line; a copy cut short (in a
	 * --root) could lose "vmx" from the flags line and be misjudged, so refuse it. */
	if (text[len - 1] != '\n')
		return -ENOMSG;
	return cpuinfo_parse(text, ci);
}

int host_cpuinfo(struct host *h, struct cpuinfo *ci)
{
	struct host_cache *c = h->cache;

	if (!c) {
		/* The cache is an optimisation: without memory for it, just read again. */
		c = calloc(1, sizeof(*c));
		if (!c)
			return read_cpuinfo(h, ci);
		h->cache = c;
	}
	if (!c->cpuinfo_done) {
		c->cpuinfo_err = read_cpuinfo(h, &c->cpuinfo);
		c->cpuinfo_done = true;
	}
	if (c->cpuinfo_err == 0)
		*ci = c->cpuinfo;
	return c->cpuinfo_err;
}

struct only_dir {
	char name[256];
	unsigned n;
};

static int count_dir(const char *name, void *data)
{
	struct only_dir *o = data;

	o->n++;
	scopy(o->name, name);
	return 0;
}

int host_kernel_release(const struct host *h, char *buf, size_t size)
{
	struct only_dir o = { 0 };
	struct utsname u;

	if (h->live) {
		if (uname(&u) < 0)
			return -errno;
		snprintf(buf, size, "%s", u.release);
		return 0;
	}
	if (host_read_line(h, "/proc/sys/kernel/osrelease", buf, size) == 0 && buf[0])
		return 0;
	/* An image prepared before first boot has no /proc, but one kernel in /lib/modules. */
	if (host_list_dir(h, "/lib/modules", count_dir, &o) == 0 && o.n == 1) {
		snprintf(buf, size, "%s", o.name);
		return 0;
	}
	return -ENOENT;
}
