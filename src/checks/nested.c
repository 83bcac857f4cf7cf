// SPDX-License-Identifier: GPL-2.0-or-later
/* cpu.nested: may guests on this host run KVM guests of their own (the backend's `nested` parameter). */
#include <errno.h>

#include "checks/check.h"
#include "checks/kvm.h"
#include "util.h"

static void run_nested(struct check_ctx *ctx, struct check_result *r)
{
	struct kvm_backend_facts kb;
	const struct kvm_backend *b;
	char raw[16];
	bool on;
	int err;

	kvm_backend_probe(ctx->host, &kb);
	if (!kb.backend[0]) {
		detail_null(r, "backend");
		detail_null(r, "nested");
		result_set(r, CHECK_SKIP, "no KVM vendor module (kvm_intel, kvm_amd, kvm_hv) is loaded, so "
			   "there is no nested setting to read");
		return;
	}
	b = kvm_backend_find(kb.backend);
	detail_str(r, "backend", "%s", kb.backend);
	if (kb.paravirtual && streq(kb.backend, "kvm_pvm")) {
		detail_null(r, "nested");
		result_set(r, CHECK_SKIP, "kvm_pvm: nested virtualization does not apply (PVM runs guests "
			   "without VT-x/AMD-V, and offers none to them)");
		return;
	}
	err = kvm_nested_param(ctx->host, kb.backend, &on, raw, sizeof(raw));
	if (err == -EBADMSG) {
		detail_str(r, "nested_raw", "%s", raw);
		detail_null(r, "nested");
		result_set(r, CHECK_SKIP, "%s nested=%s: not a value this check knows", kb.backend, raw);
		return;
	}
	if (err < 0) {
		detail_null(r, "nested");
		result_set(r, CHECK_SKIP, "%s has no readable nested parameter (%s)", kb.backend,
			   host_strerror(err));
		return;
	}
	detail_str(r, "nested_raw", "%s", raw);
	detail_bool(r, "nested", on);
	if (on) {
		result_set(r, CHECK_PASS, "nested virtualization on (%s nested=%s): guests here can run "
			   "their own KVM guests", kb.backend, raw);
		return;
	}
	/* Off is the right default for most hosts: it costs nothing to the guests that run here. */
	result_set(r, CHECK_PASS, "nested virtualization off (%s nested=%s): guests run, but cannot "
		   "run KVM guests themselves", kb.backend, raw);
	result_advise(r, "Only needed when a guest must itself be a KVM host (CI runners, labs): "
		      "options %s nested=1 in /etc/modprobe.d/kvm.conf, then reload %s with no guest "
		      "running (%s).", kb.backend, kb.backend, b ? b->what : "");
	result_fix(r, "modules.enable_nested");
}

const struct check check_cpu_nested = {
	.id = "cpu.nested",
	.title = "Nested virtualization for guests",
	.run = run_nested,
	.explain =
	"Reads the nested parameter of the active KVM vendor module:\n"
	"/sys/module/kvm_intel/parameters/nested (Y/N), kvm_amd (1/0), kvm_hv on POWER.\n"
	"On, guests on this host see VT-x/AMD-V and can run their own KVM guests (a CI runner\n"
	"that boots VMs, a lab of hypervisors). Off, guests run normally but have no KVM.\n"
	"\n"
	"Verdict: pass either way. Nested off is not a problem for running guests here, and\n"
	"the kernel's default differs by vendor and version (kvm_amd on since 2009, kvm_intel\n"
	"only since Linux 4.20), so a warning would flag healthy hosts. When off, the advice and the\n"
	"fix modules.enable_nested say how to turn it on for those who need it.\n"
	"\n"
	"Skipped, saying why, when no vendor module is loaded (nothing to read; see\n"
	"kvm.modules), and under kvm_pvm: PVM is itself how KVM runs inside a VM without\n"
	"VT-x/AMD-V, and it offers no virtualization extensions to its guests, so nested\n"
	"does not apply. Whether this host is itself a guest is host.hypervisor's business.\n"
	"\n"
	"Fix: echo 'options kvm_intel nested=1' > /etc/modprobe.d/kvm.conf (or kvm_amd),\n"
	"then, with no guest running, modprobe -r kvm_intel && modprobe kvm_intel.",
};
