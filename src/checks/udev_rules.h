/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The udev rules behind /dev/kvm's group and mode, read the way udev orders them. */
#ifndef VD_UDEV_RULES_H
#define VD_UDEV_RULES_H

#include "host.h"

/* udev's rule directories, highest priority first (kvm.device looks at all of them). */
extern const char *const udev_rules_dirs[];
extern const unsigned n_udev_rules_dirs;

struct kvm_rule {
	char where[320];	/* "FILE:LINE: text" of the last line that sets GROUP or MODE */
	char file[256];		/* ...and its FILE */
	char group[64], mode[16];
	unsigned matches;
};

/*
 * Every rule line for KERNEL=="kvm" in dirs (a file name in an earlier directory hides the
 * same name in later ones; the survivors apply in lexical order of their names, so the last
 * assignment wins). each, when not NULL, gets "FILE:LINE: text" for every such line.
 */
void kvm_rules_scan(const struct host *h, const char *const *dirs, unsigned n_dirs,
		    struct kvm_rule *kr, void (*each)(const char *item, void *data), void *data);

#endif
