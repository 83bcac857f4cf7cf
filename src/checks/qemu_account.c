// SPDX-License-Identifier: GPL-2.0-or-later
/* Which account libvirt's system QEMU runs as, its groups, and what it may open. */
#include <errno.h>
#include <stdlib.h>

#include "checks/accounts.h"
#include "checks/libvirt.h"
#include "checks/osrelease.h"
#include "checks/qemu_account.h"
#include "fixes/distro.h"
#include "util.h"

/* libvirt's virGetUserID/virGetGroupID: "+N" is the id N; a name is looked up first, and
 * only a name that does not exist but is all digits is taken as an id. */
static bool plus_id(const char *s, unsigned long *id)
{
	char *end;

	if (s[0] != '+' || !s[1])
		return false;
	errno = 0;
	*id = strtoul(s + 1, &end, 10);
	return !errno && !*end && *id <= 0xfffffffful;
}

static bool digits_id(const char *s, unsigned long *id)
{
	char *end;

	if (!*s)
		return false;
	errno = 0;
	*id = strtoul(s, &end, 10);
	return !errno && !*end && *id <= 0xfffffffful;
}

static void add_gid(struct qemu_account *a, gid_t gid, const char *name)
{
	for (unsigned i = 0; i < a->n_groups; i++)
		if (a->groups[i] == gid)
			return;
	if (a->n_groups >= QEMU_ACCOUNT_GROUPS_MAX)
		return;
	a->groups[a->n_groups] = gid;
	scopy(a->group_names[a->n_groups], name ? name : "");
	a->n_groups++;
}

struct member_walk {
	struct qemu_account *a;
	const char *user;
};

static bool add_if_member(const struct group_entry *g, void *data)
{
	struct member_walk *w = data;

	if (group_has_member(g, w->user))
		add_gid(w->a, g->gid, g->name);
	return false;
}

static void gid_name(const char *group, gid_t gid, char *name, size_t size)
{
	struct group_entry g;

	if (group && group_find_by_gid(group, gid, &g) == 0)
		strtcpy(name, g.name, size);
	else
		name[0] = '\0';
}

int qemu_account_resolve_text(struct qemu_account *a, const char *passwd, const char *group)
{
	char user_name[64] = "", name[64];
	struct group_entry g;
	gid_t primary = (gid_t)-1;
	unsigned long id;

	a->resolved = false;
	a->n_groups = 0;
	if (plus_id(a->user, &id)) {
		a->uid = (uid_t)id;
		/* A numeric user still gets its passwd entry's name and primary group, if any. */
		if (passwd)
			passwd_find_by_uid(passwd, a->uid, user_name, sizeof(user_name), &primary);
	} else if (passwd && passwd_find_by_name(passwd, a->user, &a->uid, &primary) == 0) {
		scopy(user_name, a->user);
	} else if (digits_id(a->user, &id)) {
		a->uid = (uid_t)id;
		if (passwd)
			passwd_find_by_uid(passwd, a->uid, user_name, sizeof(user_name), &primary);
	} else {
		sfmt(a->error, "user '%s' (qemu.conf user) does not exist in /etc/passwd", a->user);
		return -ENOENT;
	}

	if (plus_id(a->group, &id)) {
		a->gid = (gid_t)id;
	} else if (group && group_find_by_name(group, a->group, &g) == 0) {
		a->gid = g.gid;
	} else if (digits_id(a->group, &id)) {
		a->gid = (gid_t)id;
	} else {
		sfmt(a->error, "group '%s' (qemu.conf group) does not exist in /etc/group", a->group);
		return -ENOENT;
	}

	/* virGetGroupList: getgrouplist(user, primary) plus the configured gid. */
	if (primary != (gid_t)-1) {
		gid_name(group, primary, name, sizeof(name));
		add_gid(a, primary, name);
	}
	if (user_name[0] && group) {
		struct member_walk w = { a, user_name };

		group_foreach(group, add_if_member, &w);
	}
	gid_name(group, a->gid, name, sizeof(name));
	add_gid(a, a->gid, name);
	a->resolved = true;
	a->error[0] = '\0';
	return 0;
}

bool qemu_account_can_open(const struct qemu_account *a, const struct stat *st)
{
	mode_t m = st->st_mode;

	if (a->uid == 0)
		return true;	/* CAP_DAC_OVERRIDE: libvirt leaves root's QEMU its capabilities */
	/* The kernel picks one class: owner, else group, else other. */
	if (st->st_uid == a->uid)
		return (m & 0600) == 0600;
	for (unsigned i = 0; i < a->n_groups; i++)
		if (a->groups[i] == st->st_gid)
			return (m & 0060) == 0060;
	return (m & 0006) == 0006;
}

int qemu_account_defaults(struct host *h, char *user, size_t usize, char *group, size_t gsize)
{
	struct host_identity id;
	struct distro_set set;
	struct distro d;
	char dir[4096], err[256];
	const char *v;
	int r;

	user[0] = group[0] = '\0';
	r = distro_data_dir(NULL, dir, sizeof(dir));
	if (r < 0)
		return r;
	r = distro_set_load(&set, dir, err, sizeof(err));
	if (r < 0)
		return r;
	host_identify(h, &id);
	distro_select(&set, &id.os, &d);
	v = distro_get(&d, "libvirt", "qemu_user");
	if (v)
		strtcpy(user, v, usize);
	v = distro_get(&d, "libvirt", "qemu_group");
	if (v)
		strtcpy(group, v, gsize);
	distro_free(&d);
	distro_set_free(&set);
	return 0;
}

int qemu_account_get(const struct host *h, const char *dflt_user, const char *dflt_group,
		     struct qemu_account *a)
{
	_cleanup_free_ char *conf = NULL, *passwd = NULL, *group = NULL;
	bool from_conf = false;
	int r;

	memset(a, 0, sizeof(*a));
	r = host_read(h, QEMU_CONF, HOST_READ_MAX, &conf, NULL);
	if (r == 0) {
		from_conf |= libvirt_conf_get(conf, "user", a->user, sizeof(a->user)) == 0;
		from_conf |= libvirt_conf_get(conf, "group", a->group, sizeof(a->group)) == 0;
	}
	/* A key qemu.conf leaves unset keeps libvirt's build-time default: the distribution's. */
	if (!a->user[0] && dflt_user)
		scopy(a->user, dflt_user);
	if (!a->group[0] && dflt_group)
		scopy(a->group, dflt_group);
	if (!a->user[0] || !a->group[0]) {
		sfmt(a->error, "%s sets no %s and the distribution data has no default",
		     r == 0 ? QEMU_CONF : r == -ENOENT ? "no " QEMU_CONF : "unreadable " QEMU_CONF,
		     !a->user[0] ? "user" : "group");
		return -ENOENT;
	}
	/* Unreadable (not root): libvirt still reads it, we can only assume the default. */
	a->source = from_conf ? QEMU_SOURCE_CONF : r == 0 || r == -ENOENT ? QEMU_SOURCE_DEFAULT :
		QEMU_SOURCE_ASSUMED;
	host_read(h, "/etc/passwd", HOST_READ_MAX, &passwd, NULL);
	host_read(h, "/etc/group", HOST_READ_MAX, &group, NULL);
	return qemu_account_resolve_text(a, passwd, group);
}

int qemu_account_kvm_access(struct host *h, struct qemu_account *qa)
{
	char du[64], dg[64];
	struct stat st;

	qemu_account_defaults(h, du, sizeof(du), dg, sizeof(dg));
	if (qemu_account_get(h, du[0] ? du : NULL, dg[0] ? dg : NULL, qa) < 0 || !qa->resolved)
		return -1;
	if (host_stat(h, "/dev/kvm", &st) < 0 || !S_ISCHR(st.st_mode))
		return -1;
	return qemu_account_can_open(qa, &st);
}
