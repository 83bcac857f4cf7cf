/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure parsers for the small values sysfs and procfs hand out (module state, parameters). */
#ifndef VD_SYSFS_VALUE_H
#define VD_SYSFS_VALUE_H

#include <stddef.h>

/* /sys/module/NAME/initstate: "live", "coming", "going" (kernel/module/sysfs.c). */
enum sysfs_initstate { INITSTATE_LIVE, INITSTATE_COMING, INITSTATE_GOING, INITSTATE_OTHER };
enum sysfs_initstate sysfs_parse_initstate(const char *value);

/* A bool module parameter as the kernel prints it: Y/N (param_get_bool) or 1/0 (int
 * parameters used as flags, e.g. kvm_amd's nested), the whole value. 1, 0, or -EINVAL for
 * anything else. */
int sysfs_parse_bool(const char *value);

/* A sysfs number attribute ("0x10de", "0x030000", "0xa1"): hex with or without 0x, nothing
 * after it, at most max. 0 or -EINVAL. */
int sysfs_parse_hex(const char *value, unsigned long max, unsigned long *out);

#endif
