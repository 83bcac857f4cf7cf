/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the libvirt checks: config and polkit parsers, the serving daemon, socket probes. */
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

/* The daemon that serves qemu:///system: the monolithic libvirtd or the modular virtqemud. */
struct libvirt_daemon {
	const char *name;	/* "libvirtd" or "virtqemud" (static strings) */
	const char *bin;	/* its binary, NULL when only its socket was found */
	const char *sock, *sock_ro;
	bool modular;		/* virtqemud: networks and storage are virtnetworkd's and virtstoraged's */
};
/*
 * Which one libvirt.daemon judges: live, the one whose socket is there; else libvirtd when
 * installed, then virtqemud. 0, or -ENOENT when neither is installed.
 */
int libvirt_pick_daemon(const struct host *h, struct libvirt_daemon *d);

/* Connect to a unix socket without blocking longer than timeout_ms. 0 or -errno
 * (-ETIMEDOUT when a full backlog never cleared). Live only: the caller checks. */
int unix_socket_probe(const char *path, unsigned timeout_ms);

#endif
