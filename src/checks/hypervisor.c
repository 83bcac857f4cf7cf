// SPDX-License-Identifier: GPL-2.0-or-later
/* host.hypervisor: is this host itself a guest, of which hypervisor, and what that means for its guests. */
#include <ctype.h>
#include <errno.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "checks/check.h"
#include "checks/kvm.h"
#include "util.h"

/*
 * CPUID leaf 0x40000000: EBX, ECX, EDX spell the hypervisor's vendor. Compared with
 * spaces and NULs removed, since vendors pad differently. Parallels stores "prl hyperv"
 * byte-swapped in each register, hence the scramble.
 */
struct cpuid_signature {
	const char *signature;
	const char *name;
};

static const struct cpuid_signature cpuid_signatures[] = {
	{ "KVMKVMKVM", "KVM" },
	{ "Linux KVM Hv", "KVM" },	/* KVM with Hyper-V enlightenments */
	{ "TCGTCGTCGTCG", "QEMU TCG" },
	{ "Microsoft Hv", "Hyper-V" },
	{ "VMwareVMware", "VMware" },
	{ "XenVMMXenVMM", "Xen" },
	{ "bhyve bhyve ", "bhyve" },
	{ "ACRNACRNACRN", "ACRN" },
	{ "QNXQVMBSQG", "QNX hypervisor" },
	{ " lrpepyh  vr", "Parallels" },
	{ "VBoxVBoxVBox", "VirtualBox" },
	{ "Jailhouse", "Jailhouse" },
	{ "Apple VZ", "Apple Virtualization" },
};

/* SMBIOS strings the kernel exposes in /sys/class/dmi/id; both needles must match. */
struct dmi_signature {
	const char *file;
	const char *needle;
	const char *product;	/* also required in product_name, or NULL */
	const char *name;
};

static const struct dmi_signature dmi_signatures[] = {
	{ "sys_vendor", "QEMU", NULL, "KVM/QEMU" },
	{ "product_name", "KVM", NULL, "KVM" },
	{ "sys_vendor", "Amazon EC2", NULL, "Amazon EC2 (KVM/Nitro)" },
	{ "product_name", "Google Compute Engine", NULL, "Google Compute Engine (KVM)" },
	{ "product_name", "OpenStack", NULL, "OpenStack (KVM)" },
	{ "sys_vendor", "Microsoft Corporation", "Virtual Machine", "Hyper-V" },
	{ "sys_vendor", "VMware", NULL, "VMware" },
	{ "product_name", "VirtualBox", NULL, "VirtualBox" },
	{ "sys_vendor", "innotek GmbH", NULL, "VirtualBox" },
	{ "sys_vendor", "Xen", NULL, "Xen" },
	{ "bios_vendor", "Xen", NULL, "Xen" },
	{ "sys_vendor", "Parallels", NULL, "Parallels" },
	{ "bios_vendor", "BHYVE", NULL, "bhyve" },
	{ "sys_vendor", "Bochs", NULL, "Bochs/QEMU" },
	{ "board_vendor", "Hetzner", "vServer", "Hetzner Cloud (KVM)" },
};

static const char *const dmi_files[] = { "sys_vendor", "product_name", "board_vendor", "bios_vendor" };

static void squeeze(const char *in, size_t n, char *out, size_t size)
{
	size_t k = 0;

	for (size_t i = 0; i < n && in[i] && k + 1 < size; i++)
		if (in[i] != ' ')
			out[k++] = in[i];
	out[k] = '\0';
}

/* Live x86 only. 0 with the raw signature, -ENODEV when the CPU reports no hypervisor. */
static int cpuid_hypervisor(char *sig, size_t size)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;
	char raw[13];

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 31)))
		return -ENODEV;
	__cpuid(0x40000000, a, b, c, d);
	memcpy(raw, &b, 4);
	memcpy(raw + 4, &c, 4);
	memcpy(raw + 8, &d, 4);
	raw[12] = '\0';
	for (int i = 0; i < 12; i++)
		if (raw[i] && !isprint((unsigned char)raw[i]))
			raw[i] = '?';
	snprintf(sig, size, "%s", raw);
	return 0;
#else
	(void)sig, (void)size;
	return -ENOTSUP;
#endif
}

static const char *cpuid_name(const char *sig)
{
	char a[16], b[16];

	squeeze(sig, 12, a, sizeof(a));
	for (size_t i = 0; i < ARRAY_SIZE(cpuid_signatures); i++) {
		squeeze(cpuid_signatures[i].signature, 12, b, sizeof(b));
		if (streq(a, b))
			return cpuid_signatures[i].name;
	}
	return NULL;
}

struct dmi_facts {
	char value[ARRAY_SIZE(dmi_files)][128];
};

static const char *dmi_value(const struct dmi_facts *f, const char *file)
{
	for (size_t i = 0; i < ARRAY_SIZE(dmi_files); i++)
		if (streq(dmi_files[i], file))
			return f->value[i];
	return "";
}

static const char *dmi_name(const struct dmi_facts *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(dmi_signatures); i++) {
		const struct dmi_signature *s = &dmi_signatures[i];

		if (!strstr(dmi_value(f, s->file), s->needle))
			continue;
		if (s->product && !strstr(dmi_value(f, "product_name"), s->product))
			continue;
		return s->name;
	}
	return NULL;
}

static void run_hypervisor(struct check_ctx *ctx, struct check_result *r)
{
	struct host *h = ctx->host;
	struct dmi_facts dmi = { 0 };
	struct kvm_backend_facts kb;
	struct cpuinfo ci;
	const char *name = NULL, *source = NULL;
	char sig[16] = "", path[64], what[64] = "a guest of an unnamed hypervisor";
	bool have_ci, flag = false, have_dmi = false;

	for (size_t i = 0; i < ARRAY_SIZE(dmi_files); i++) {
		sfmt(path, "/sys/class/dmi/id/%s", dmi_files[i]);
		if (host_read_line(h, path, dmi.value[i], sizeof(dmi.value[i])) == 0 && dmi.value[i][0])
			have_dmi = true;
	}
	have_ci = host_cpuinfo(h, &ci) == 0;
	flag = have_ci && ci.hypervisor;

	if (h->live && cpuid_hypervisor(sig, sizeof(sig)) == 0) {
		detail_str(r, "cpuid_signature", "%s", sig);
		name = cpuid_name(sig);
		source = "cpuid";
	}
	if (!name && (name = dmi_name(&dmi)))
		source = "dmi";
	if (!source && flag)
		source = "cpuinfo";

	if (dmi_value(&dmi, "sys_vendor")[0])
		detail_str(r, "dmi_vendor", "%s", dmi_value(&dmi, "sys_vendor"));
	else
		detail_null(r, "dmi_vendor");
	if (dmi_value(&dmi, "product_name")[0])
		detail_str(r, "dmi_product", "%s", dmi_value(&dmi, "product_name"));
	else
		detail_null(r, "dmi_product");

	if (!source) {
		detail_bool(r, "is_guest", false);
		detail_null(r, "hypervisor");
		detail_null(r, "source");
		if (!have_ci && !have_dmi && !h->live) {
			result_set(r, CHECK_SKIP, "neither cpuinfo nor DMI strings to judge by");
			return;
		}
		if (have_dmi)
			result_set(r, CHECK_PASS, "bare metal: %s %s", dmi_value(&dmi, "sys_vendor"),
				   dmi_value(&dmi, "product_name"));
		else
			result_set(r, CHECK_PASS, "bare metal (no hypervisor signature)");
		return;
	}
	detail_bool(r, "is_guest", true);
	if (name)
		detail_str(r, "hypervisor", "%s", name);
	else
		detail_null(r, "hypervisor");
	detail_str(r, "source", "%s", source);

	if (name)
		sfmt(what, "a %s guest", name);
	kvm_backend_probe(h, &kb);
	detail_bool(r, "vmx_or_svm", have_ci && ci.extension != CPU_EXT_NONE);
	detail_bool(r, "pvm", streq(kb.backend, "kvm_pvm"));
	if (have_ci && ci.extension != CPU_EXT_NONE) {
		result_set(r, CHECK_PASS, "%s with %s passed through: guests here run nested",
			   what, cpu_extension_name(ci.extension));
		result_advise(r, "Nested guests work but pay for every exit twice (the outer hypervisor "
			      "handles it first); expect I/O-heavy guests to be slower than on bare metal.");
		return;
	}
	if (streq(kb.backend, "kvm_pvm")) {
		result_set(r, CHECK_WARN, "%s without VT-x/AMD-V: KVM works through PVM "
			   "(paravirtual), guests run but slower", what);
		result_advise(r, "PVM runs guests without hardware virtualization: page-table switches "
			      "and privileged operations are emulated by the PVM host kernel. Guests "
			      "need PVM-aware kernels; for full speed enable nested virtualization "
			      "on the outer hypervisor.");
		return;
	}
	result_set(r, CHECK_WARN, "%s without VT-x/AMD-V: KVM cannot run here unless the outer "
		   "hypervisor exposes nested virtualization", what);
	result_advise(r, "On the outer host: enable nested virtualization for this VM (KVM: kvm_intel "
		      "nested=1 and <cpu mode='host-passthrough'/>; VMware: 'Expose hardware assisted "
		      "virtualization'; Hyper-V: Set-VMProcessor -ExposeVirtualizationExtensions $true).");
	result_fix(r, "hypervisor.enable_nested");
}

const struct check check_host_hypervisor = {
	.id = "host.hypervisor",
	.title = "Is this host itself a virtual machine",
	.run = run_hypervisor,
	.explain =
	"Tells whether this host is itself a guest, and of what. Three sources, in order:\n"
	"- live on x86 only, CPUID: leaf 1 ECX bit 31 says a hypervisor is present, leaf\n"
	"  0x40000000 names it (KVMKVMKVM, Microsoft Hv, VMwareVMware, XenVMMXenVMM,\n"
	"  TCGTCGTCGTCG, bhyve bhyve, ACRNACRNACRN, QNXQVMBSQG, Parallels, VBoxVBoxVBox...);\n"
	"- the DMI strings in /sys/class/dmi/id (sys_vendor, product_name, board_vendor,\n"
	"  bios_vendor): QEMU, Amazon EC2, Google Compute Engine, VMware, VirtualBox, Xen...;\n"
	"- the hypervisor flag in /proc/cpuinfo (a guest, name unknown).\n"
	"\n"
	"What it means for guests run here:\n"
	"- bare metal: pass.\n"
	"- a guest that sees vmx/svm: nested virtualization; guests run, each VM exit costs a\n"
	"  round trip through the outer hypervisor: pass, with that note.\n"
	"- a guest without vmx/svm but with the kvm_pvm backend: KVM works paravirtually, and\n"
	"  what PVM cannot do natively is emulated: warn.\n"
	"- a guest without vmx/svm and without PVM: KVM cannot work until the outer hypervisor\n"
	"  exposes virtualization (fix hypervisor.enable_nested, human steps there): warn.\n"
	"  cpu.virt_extensions gives the failing verdict; this check gives the reason.\n"
	"\n"
	"Under --root the CPUID probe is off; DMI and cpuinfo still decide.",
};
