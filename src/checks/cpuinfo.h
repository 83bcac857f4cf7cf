/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure /proc/cpuinfo parsing: text in, facts out, no I/O. */
#ifndef VD_CPUINFO_H
#define VD_CPUINFO_H

#include <stdbool.h>

enum cpu_extension { CPU_EXT_NONE, CPU_EXT_VMX, CPU_EXT_SVM };
const char *cpu_extension_name(enum cpu_extension e);

struct cpuinfo {
	char arch[16];		/* x86_64, i386, aarch64, arm, ppc64, ppc, s390x, riscv64, loongarch64, sparc64, unknown */
	char vendor[64];	/* x86 vendor_id, or "" */
	char model[128];	/* model name / cpu / Model Name, whatever the arch calls it */
	unsigned processors;
	enum cpu_extension extension;
	bool hypervisor;	/* x86 `hypervisor` flag: this kernel runs as a guest */
	bool ept, vpid, unrestricted_guest;	/* Intel, from flags or `vmx flags` */
	bool npt;		/* AMD nested paging */
	bool vmx_flags_line;	/* the kernel printed `vmx flags` (5.8+) */
	bool arch_virt;		/* non-x86: the feature KVM needs (s390 sie, riscv H, loongarch lvz) */
	bool arch_virt_known;	/* ...and cpuinfo can show it on this arch */
};

/* 0, -EBADMSG when the text has no recognisable cpuinfo structure, or -ENOMEM. Lines of
 * any length are read whole. */
int cpuinfo_parse(const char *text, struct cpuinfo *ci);

#endif
