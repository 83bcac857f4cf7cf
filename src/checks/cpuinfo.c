// SPDX-License-Identifier: GPL-2.0-or-later
/* Pure /proc/cpuinfo parsing: architecture by signature table, then per-arch virt features. */
#include <ctype.h>
#include <errno.h>

#include "checks/cpuinfo.h"
#include "util.h"

const char *cpu_extension_name(enum cpu_extension e)
{
	static const char *const names[] = {
		[CPU_EXT_NONE] = "none", [CPU_EXT_VMX] = "vmx", [CPU_EXT_SVM] = "svm",
	};
	return names[e];
}

/*
 * Only the first processor block is read: flags differ across CPUs only on broken systems.
 * A value is a copy of any length (a 4095-byte cut once turned vmx past it into "no VT-x");
 * the caller's read bound on the file is the bound. "" until seen.
 */
struct kv {
	char *value;
	bool seen;
};

enum {
	K_VENDOR_ID, K_FLAGS, K_VMX_FLAGS, K_MODEL_NAME, K_FEATURES, K_CPU_ARCH, K_PROCESSOR_LEGACY,
	K_CPU, K_ISA, K_CPU_FAMILY_LOONG, K_MODEL_NAME_LOONG, K_TYPE, K_S390_FEATURES, K_PLATFORM,
	K_MAX
};

static const char *const keys[K_MAX] = {
	[K_VENDOR_ID] = "vendor_id",
	[K_FLAGS] = "flags",
	[K_VMX_FLAGS] = "vmx flags",
	[K_MODEL_NAME] = "model name",
	[K_FEATURES] = "Features",
	[K_CPU_ARCH] = "CPU architecture",
	[K_PROCESSOR_LEGACY] = "Processor",
	[K_CPU] = "cpu",
	[K_ISA] = "isa",
	[K_CPU_FAMILY_LOONG] = "CPU Family",
	[K_MODEL_NAME_LOONG] = "Model Name",
	[K_TYPE] = "type",
	[K_S390_FEATURES] = "features",
	[K_PLATFORM] = "platform",
};

/* Architecture signatures: the first row whose key is present (and value matches) wins. */
struct arch_signature {
	const char *arch;
	int key;
	const char *value_contains;	/* NULL: presence is enough */
};

static const struct arch_signature arch_signatures[] = {
	{ .arch = "s390x", .key = K_VENDOR_ID, .value_contains = "IBM/S390" },
	{ .arch = "x86", .key = K_FLAGS },
	{ .arch = "loongarch64", .key = K_CPU_FAMILY_LOONG, .value_contains = "Loongson" },
	{ .arch = "riscv", .key = K_ISA, .value_contains = "rv" },
	{ .arch = "arm", .key = K_CPU_ARCH },
	{ .arch = "ppc", .key = K_CPU, .value_contains = "POWER" },
	{ .arch = "ppc", .key = K_PLATFORM },
	{ .arch = "sparc64", .key = K_TYPE, .value_contains = "sun4" },
	{ .arch = "sparc64", .key = K_CPU, .value_contains = "Sparc" },
};

static int key_index(const char *key, size_t len)
{
	for (int i = 0; i < K_MAX; i++)
		if (strlen(keys[i]) == len && memcmp(keys[i], key, len) == 0)
			return i;
	return -1;
}

/* [*s, *e) without leading and trailing white space. */
static void trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* A single-letter extension in a RISC-V ISA string such as "rv64imafdch_zicsr". */
static bool riscv_has_letter(const char *isa, char letter)
{
	const char *p = isa + 4;	/* past "rv64" / "rv32" */

	if (strlen(isa) < 4)
		return false;
	for (; *p && *p != '_' && !isspace((unsigned char)*p); p++)
		if (*p == letter)
			return true;
	return false;
}

static void classify(struct kv *kv, struct cpuinfo *ci)
{
	const char *arch = "unknown";

	for (size_t i = 0; i < ARRAY_SIZE(arch_signatures); i++) {
		const struct arch_signature *s = &arch_signatures[i];

		if (!kv[s->key].seen)
			continue;
		if (s->value_contains && !strstr(kv[s->key].value, s->value_contains))
			continue;
		arch = s->arch;
		break;
	}

	/* Flags without vendor_id is a truncated x86 file, not an x86 machine we can judge. */
	if (streq(arch, "x86") && !kv[K_VENDOR_ID].seen)
		arch = "unknown";

	if (streq(arch, "x86")) {
		const char *flags = kv[K_FLAGS].value;
		const char *vmxf = kv[K_VMX_FLAGS].seen ? kv[K_VMX_FLAGS].value : flags;

		scopy(ci->arch, words_contain(flags, "lm") ? "x86_64" : "i386");
		scopy(ci->vendor, kv[K_VENDOR_ID].value);
		scopy(ci->model, kv[K_MODEL_NAME].value);
		if (words_contain(flags, "vmx"))
			ci->extension = CPU_EXT_VMX;
		else if (words_contain(flags, "svm"))
			ci->extension = CPU_EXT_SVM;
		ci->hypervisor = words_contain(flags, "hypervisor");
		ci->vmx_flags_line = kv[K_VMX_FLAGS].seen;
		ci->ept = words_contain(vmxf, "ept");
		ci->vpid = words_contain(vmxf, "vpid");
		ci->unrestricted_guest = words_contain(vmxf, "unrestricted_guest");
		ci->npt = words_contain(flags, "npt");
		return;
	}

	scopy(ci->arch, arch);
	if (streq(arch, "arm")) {
		/* "CPU architecture: 8" is ARMv8; a 32-bit kernel on v8 also says 8, but then
		 * the legacy "Processor" line names the v7l/v8l user mode. */
		bool v8 = atoi(kv[K_CPU_ARCH].value) >= 8 || startswith(kv[K_CPU_ARCH].value, "AArch64");
		bool legacy32 = kv[K_PROCESSOR_LEGACY].seen && strstr(kv[K_PROCESSOR_LEGACY].value, "v7");

		scopy(ci->arch, v8 && !legacy32 ? "aarch64" : "arm");
		scopy(ci->model, kv[K_MODEL_NAME].seen ?
			 kv[K_MODEL_NAME].value : kv[K_PROCESSOR_LEGACY].value);
	} else if (streq(arch, "ppc")) {
		bool is64 = strstr(kv[K_CPU].value, "POWER") || strstr(kv[K_CPU].value, "PPC970") ||
			    strstr(kv[K_CPU].value, "Cell");

		scopy(ci->arch, is64 ? "ppc64" : "ppc");
		scopy(ci->model, kv[K_CPU].value);
	} else if (streq(arch, "s390x")) {
		scopy(ci->vendor, kv[K_VENDOR_ID].value);
		ci->arch_virt_known = kv[K_S390_FEATURES].seen;
		ci->arch_virt = words_contain(kv[K_S390_FEATURES].value, "sie");
	} else if (streq(arch, "riscv")) {
		const char *isa = kv[K_ISA].value;

		scopy(ci->arch, startswith(isa, "rv32") ? "riscv32" : "riscv64");
		ci->arch_virt_known = true;
		ci->arch_virt = riscv_has_letter(isa, 'h');
	} else if (streq(arch, "loongarch64")) {
		scopy(ci->model, kv[K_MODEL_NAME_LOONG].value);
		ci->arch_virt_known = kv[K_FEATURES].seen;
		ci->arch_virt = words_contain(kv[K_FEATURES].value, "lvz");
	} else if (streq(arch, "sparc64")) {
		scopy(ci->model, kv[K_CPU].value);
	}
}

int cpuinfo_parse(const char *text, struct cpuinfo *ci)
{
	static char empty[] = "";
	struct kv kv[K_MAX];
	unsigned pairs = 0, processors = 0;
	const char *p = text;
	int r = 0;

	memset(ci, 0, sizeof(*ci));
	for (int i = 0; i < K_MAX; i++)
		kv[i] = (struct kv){ .value = empty };
	/* Lines are scanned in place, whatever their length: nothing is cut. */
	while (*p) {
		const char *eol = strchrnul(p, '\n');
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		const char *ks = p, *ke = colon, *vs, *ve = eol;
		int k;

		p = *eol ? eol + 1 : eol;
		if (!colon)
			continue;
		vs = colon + 1;
		trim(&ks, &ke);
		trim(&vs, &ve);
		if (ks == ke)
			continue;
		pairs++;
		if (ke - ks == 9 && memcmp(ks, "processor", 9) == 0)
			processors++;
		k = key_index(ks, (size_t)(ke - ks));
		if (k < 0 || kv[k].seen)
			continue;
		kv[k].value = strndup(vs, (size_t)(ve - vs));
		if (!kv[k].value) {
			kv[k].value = empty;
			r = -ENOMEM;
			break;
		}
		kv[k].seen = true;
	}
	/* Fewer than a couple of key: value pairs is not cpuinfo, whatever else it is. */
	if (r == 0 && pairs < 2)
		r = -EBADMSG;
	if (r == 0) {
		classify(kv, ci);
		if (streq(ci->arch, "unknown"))
			r = -EBADMSG;
		ci->processors = processors;
	}
	for (int i = 0; i < K_MAX; i++)
		if (kv[i].value != empty)
			free(kv[i].value);
	return r;
}
