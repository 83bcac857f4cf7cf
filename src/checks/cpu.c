// SPDX-License-Identifier: GPL-2.0-or-later
/* cpu.virt_extensions: does the CPU give KVM what it needs, as the kernel and CPUID see it. */
#include <errno.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "checks/check.h"
#include "checks/cpuinfo.h"
#include "checks/kvm.h"
#include "util.h"

/* What KVM needs on architectures without vmx/svm, and how cpuinfo shows it (if at all). */
struct arch_rule {
	const char *arch;
	const char *needs;
};

static const struct arch_rule arch_rules[] = {
	{ "aarch64", "KVM needs the kernel booted at EL2 (hyp mode); cpuinfo cannot show it" },
	{ "arm", "32-bit ARM hosts lost KVM in Linux 5.7; run a 64-bit kernel" },
	{ "ppc64", "KVM-HV needs a bare-metal POWER host (PowerNV); under PowerVM only KVM-PR works" },
	{ "ppc", "only the slow KVM-PR flavour exists for 32-bit PowerPC" },
	{ "s390x", "KVM needs the SIE facility (the `sie` feature)" },
	{ "riscv64", "KVM needs the hypervisor (H) extension in the ISA string" },
	{ "riscv32", "KVM needs the hypervisor (H) extension in the ISA string" },
	{ "loongarch64", "KVM needs the LVZ virtualization extension (the `lvz` feature)" },
	{ "sparc64", "Linux KVM has no SPARC port" },
};

struct cpuid_facts {
	bool known, vmx, svm, hypervisor;
};

/* Live only: CPUID tells what the silicon offers even when firmware disabled it and the
 * kernel hid the flag from cpuinfo. */
static void probe_cpuid(struct cpuid_facts *f)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return;
	f->known = true;
	f->vmx = c & (1u << 5);
	f->hypervisor = c & (1u << 31);
	if (__get_cpuid(0x80000001, &a, &b, &c, &d))
		f->svm = c & (1u << 2);
#else
	(void)f;
#endif
}

static void judge_x86(struct check_ctx *ctx, struct check_result *r, const struct cpuinfo *ci)
{
	struct kvm_backend_facts kb;
	struct cpuid_facts cf = { 0 };

	if (ctx->host->live) {
		probe_cpuid(&cf);
		if (cf.known) {
			detail_bool(r, "cpuid_vmx", cf.vmx);
			detail_bool(r, "cpuid_svm", cf.svm);
		}
	}

	if (ci->extension == CPU_EXT_VMX) {
		if (!ci->ept) {
			result_set(r, CHECK_WARN, "%s: VT-x without EPT; guests run with slow shadow paging",
				   ci->vendor);
			return;
		}
		result_set(r, CHECK_PASS, "%s: VT-x with EPT%s%s", ci->vendor,
			   ci->unrestricted_guest ? " and unrestricted guest" : "",
			   ci->hypervisor ? " (nested: this host is itself a guest)" : "");
		return;
	}
	if (ci->extension == CPU_EXT_SVM) {
		if (!ci->npt) {
			result_set(r, CHECK_WARN, "%s: AMD-V without NPT; guests run with slow shadow paging",
				   ci->vendor);
			return;
		}
		result_set(r, CHECK_PASS, "%s: AMD-V with NPT%s", ci->vendor,
			   ci->hypervisor ? " (nested: this host is itself a guest)" : "");
		return;
	}

	/* No vmx/svm. That is not the end of KVM: a paravirtual backend may provide it. */
	kvm_backend_probe(ctx->host, &kb);
	if (kb.paravirtual) {
		result_set(r, CHECK_WARN,
			   "no VT-x/AMD-V, but KVM is provided by the paravirtual %s backend", kb.backend);
		result_advise(r, "This is a guest whose kernel offers KVM through %s (PVM): guests run "
			      "only as PVM-enabled kernels, everything else goes through KVM's instruction "
			      "emulator. kvm.api and vm.smoke_boot show what really works.", kb.backend);
		return;
	}
	if (cf.known && (cf.vmx || cf.svm)) {
		result_set(r, CHECK_FAIL, "the CPU has %s but the kernel hides it: disabled in firmware",
			   cf.vmx ? "VT-x" : "AMD-V");
		result_advise(r, "Enable Intel VT-x (\"Virtualization Technology\") or AMD SVM in the "
			      "firmware setup, then power-cycle the machine.");
		result_fix(r, "firmware.enable_virtualization");
		return;
	}
	if (ci->hypervisor) {
		result_set(r, CHECK_FAIL, "this is a virtual machine without nested virtualization");
		result_advise(r, "Enable nested virtualization on the outer hypervisor (KVM: nested=1 "
			      "and -cpu host; VMware: \"Expose hardware assisted virtualization\"; "
			      "Hyper-V: Set-VMProcessor -ExposeVirtualizationExtensions $true).");
		result_fix(r, "hypervisor.enable_nested");
		return;
	}
	result_set(r, CHECK_FAIL, "no VT-x/AMD-V: the CPU lacks it or firmware disabled it");
	result_advise(r, "Enable Intel VT-x or AMD SVM in the firmware setup; if the CPU has none, "
		      "KVM cannot run here (QEMU falls back to slow TCG emulation).");
	result_fix(r, "firmware.enable_virtualization");
}

static void judge_other(struct check_ctx *ctx, struct check_result *r, const struct cpuinfo *ci)
{
	const struct arch_rule *rule = NULL;
	bool dev = host_exists(ctx->host, "/dev/kvm");

	for (size_t i = 0; i < ARRAY_SIZE(arch_rules); i++)
		if (streq(arch_rules[i].arch, ci->arch))
			rule = &arch_rules[i];
	if (rule)
		detail_str(r, "requirement", "%s", rule->needs);

	/* No vmx/svm exists on these architectures; never fail for that. */
	if (ci->arch_virt_known && !ci->arch_virt && !dev) {
		result_set(r, CHECK_WARN, "%s: the CPU does not show the virtualization feature: %s",
			   ci->arch, rule ? rule->needs : "unknown requirement");
		return;
	}
	if (dev) {
		result_set(r, CHECK_PASS, "%s: no vmx/svm on this architecture; /dev/kvm is present",
			   ci->arch);
		return;
	}
	result_set(r, CHECK_SKIP, "%s: cpuinfo cannot decide (%s); kvm.device and kvm.api do",
		   ci->arch, rule ? rule->needs : "no known rule");
}

static void run_cpu(struct check_ctx *ctx, struct check_result *r)
{
	struct cpuinfo ci;
	int err = host_cpuinfo(ctx->host, &ci);

	/* The content was wrong (unrecognised, empty, cut short); anything else came from reading it. */
	if (err == -EBADMSG || err == -ENODATA || err == -ENOMSG) {
		result_set(r, CHECK_SKIP, "/proc/cpuinfo: %s", host_strerror(err));
		return;
	}
	if (err < 0) {
		result_set(r, CHECK_SKIP, "cannot read /proc/cpuinfo: %s", host_strerror(err));
		return;
	}

	detail_str(r, "arch", "%s", ci.arch);
	if (ci.vendor[0])
		detail_str(r, "vendor", "%s", ci.vendor);
	if (ci.model[0])
		detail_str(r, "model", "%s", ci.model);
	detail_int(r, "processors", ci.processors);
	detail_str(r, "extension", "%s", cpu_extension_name(ci.extension));
	detail_bool(r, "hypervisor_flag", ci.hypervisor);
	if (ci.extension == CPU_EXT_VMX) {
		detail_bool(r, "ept", ci.ept);
		detail_bool(r, "vpid", ci.vpid);
		detail_bool(r, "unrestricted_guest", ci.unrestricted_guest);
		detail_bool(r, "vmx_flags_line", ci.vmx_flags_line);
	} else if (ci.extension == CPU_EXT_SVM) {
		detail_bool(r, "npt", ci.npt);
	}

	if (streq(ci.arch, "x86_64") || streq(ci.arch, "i386"))
		judge_x86(ctx, r, &ci);
	else
		judge_other(ctx, r, &ci);
}

const struct check check_cpu_virt_extensions = {
	.id = "cpu.virt_extensions",
	.title = "CPU virtualization extensions (VT-x/AMD-V, EPT/NPT)",
	.run = run_cpu,
	.explain =
	"Reads /proc/cpuinfo: the architecture, vendor and model, the vmx (Intel VT-x) or svm\n"
	"(AMD-V) flag, second-level paging (EPT on Intel, from the `vmx flags` line on Linux 5.8+;\n"
	"NPT on AMD), and the `hypervisor` flag that marks a kernel running inside a VM.\n"
	"Live, it also asks CPUID, which shows VT-x even when firmware disabled it and the\n"
	"kernel hid the flag.\n"
	"\n"
	"Why: KVM on x86 needs VT-x or AMD-V; without EPT/NPT every guest page-table update\n"
	"traps to the host (shadow paging), several times slower.\n"
	"\n"
	"Not every KVM needs the flags: a paravirtual backend such as kvm_pvm offers /dev/kvm\n"
	"inside an ordinary VM. Then this check warns instead of failing, and kvm.api and\n"
	"vm.smoke_boot prove what works. Other architectures have no vmx/svm: the check says\n"
	"what KVM needs there (EL2 on arm64, SIE on s390x, H on RISC-V, LVZ on LoongArch).\n"
	"\n"
	"Fix: enable \"Intel Virtualization Technology\" / \"SVM Mode\" in the firmware setup\n"
	"and power-cycle; inside a VM, enable nested virtualization on the outer hypervisor.",
};
