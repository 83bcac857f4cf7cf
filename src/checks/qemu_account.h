/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The account libvirt's system QEMU runs as (qemu.conf user/group, else the distribution's
 * default) with its groups, and whether that account may open a device node. */
#ifndef VD_QEMU_ACCOUNT_H
#define VD_QEMU_ACCOUNT_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "host.h"

#define QEMU_CONF "/etc/libvirt/qemu.conf"
#define QEMU_ACCOUNT_GROUPS_MAX 32

/* Where user and group came from: the report's qemu_account_source. */
#define QEMU_SOURCE_CONF "qemu.conf"
#define QEMU_SOURCE_DEFAULT "distribution default"
#define QEMU_SOURCE_ASSUMED "assumed (qemu.conf unreadable)"

struct qemu_account {
	char user[64], group[64];	/* as configured ("libvirt-qemu", "+0") */
	const char *source;		/* one of QEMU_SOURCE_*; NULL when no account is known */
	char error[160];		/* why the account could not be resolved ("" when it was) */
	bool resolved;			/* uid, gid and groups below are valid */
	uid_t uid;
	gid_t gid;			/* the process's gid: the configured group */
	/* What libvirt gives the process: the user's primary gid, every group that lists the
	 * user (getgrouplist), and gid. Names parallel to gids; "" when a gid has no name. */
	gid_t groups[QEMU_ACCOUNT_GROUPS_MAX];
	char group_names[QEMU_ACCOUNT_GROUPS_MAX][64];
	unsigned n_groups;
};

/*
 * Pure: resolve a.user/a.group against passwd(5) and group(5) text the way libvirt does
 * ("+N" is a numeric id; a name is looked up first, then a number is taken as an id) and
 * compute the supplementary groups. Fills uid, gid, groups and resolved, or error.
 * 0, or -ENOENT when the user or group does not exist.
 */
int qemu_account_resolve_text(struct qemu_account *a, const char *passwd, const char *group);

/* Pure: the kernel's DAC decision for open(O_RDWR) of a node with st's owner, group and mode
 * by this account (root bypasses). Needs a resolved account. */
bool qemu_account_can_open(const struct qemu_account *a, const struct stat *st);

/*
 * Through the host: user and group from the root's /etc/libvirt/qemu.conf; where it leaves
 * one unset, is missing or unreadable, the distribution default from dflt_user/dflt_group
 * (data/distros [libvirt]); then resolved in the root's /etc/passwd and /etc/group.
 * 0; -ENOENT when no user is known at all (a.error says why); -errno from resolving.
 */
int qemu_account_get(const struct host *h, const char *dflt_user, const char *dflt_group,
		     struct qemu_account *a);

/* The distribution's default QEMU user and group from data/distros for this host's
 * os-release; "" when the data has none. 0 or -errno (no data, malformed data). */
int qemu_account_defaults(struct host *h, char *user, size_t usize, char *group, size_t gsize);

/* For checks other than kvm.device: resolve the account (defaults from data/distros) and judge
 * the root's /dev/kvm for it. 1 may open, 0 may not, -1 unknown (qa->error, or no node). */
int qemu_account_kvm_access(struct host *h, struct qemu_account *qa);

#endif
