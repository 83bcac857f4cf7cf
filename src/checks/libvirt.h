/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure parsers behind libvirt.daemon: libvirtd.conf values and polkit rules for libvirt. */
#ifndef VD_LIBVIRT_H
#define VD_LIBVIRT_H

#include <stdbool.h>
#include <stddef.h>

#include "host.h"

/*
 * The value of `key = value` in libvirt's config syntax (libvirtd.conf, virtqemud.conf):
 * quotes removed, '#' comments ignored, the last assignment wins as in libvirt.
 * 0, -ENOENT when the key is not set, -ENOSPC when the value does not fit.
 */
int libvirt_conf_get(const char *text, const char *key, char *val, size_t size);

/*
 * Groups a polkit rules file lets manage libvirt (action org.libvirt.unix.manage) through
 * subject.isInGroup("NAME"). A heuristic for a hint, not a JavaScript interpreter: a file that
 * mentions the action contributes every group it tests. Returns how many were stored.
 */
unsigned polkit_libvirt_groups(const char *text, char (*groups)[64], unsigned max);

/* A libvirt daemon that runs QEMU guests (libvirtd or virtqemud) is installed in the root. */
bool libvirt_daemon_installed(const struct host *h);

#endif
