// SPDX-License-Identifier: GPL-2.0-or-later
/* user.groups: is the invoking user in the groups that give access to KVM and libvirt (from /etc/group). */
#include <errno.h>

#include "checks/accounts.h"
#include "checks/check.h"
#include "util.h"

/* Group names that grant access, per purpose, in the order distributions use them. */
struct access_group {
	const char *purpose;	/* "kvm" or "libvirt" */
	const char *name;
	const char *who;
};

static const struct access_group access_groups[] = {
	{ "kvm", "kvm", "every distribution (owns /dev/kvm)" },
	{ "libvirt", "libvirt", "Debian 9+, Ubuntu 16.10+, Fedora, RHEL, Arch, SUSE" },
	{ "libvirt", "libvirtd", "older Debian and Ubuntu" },
};

/* A libvirt without its group (a container, a minimal install) still counts as installed. */
static const char *const libvirt_daemons[] = {
	"/usr/sbin/libvirtd", "/usr/sbin/virtqemud", "/usr/bin/libvirtd",
};

struct membership {
	const char *user;
	gid_t primary;
	struct check_result *r;
};

static bool is_member(const struct group_entry *g, const struct membership *m)
{
	return g->gid == m->primary || (m->user && group_has_member(g, m->user));
}

static bool collect_group(const struct group_entry *g, void *data)
{
	struct membership *m = data;

	if (is_member(g, m))
		detail_list_add(m->r, "groups", g->name);
	return false;
}

/* The group for a purpose that exists in this root (the first in table order), or NULL. */
static const char *find_group(const char *text, const char *purpose, const struct membership *m,
			      bool *member)
{
	const char *found = NULL;

	*member = false;
	for (size_t i = 0; i < ARRAY_SIZE(access_groups); i++) {
		struct group_entry g;

		if (!streq(access_groups[i].purpose, purpose) ||
		    group_find_by_name(text, access_groups[i].name, &g) < 0)
			continue;
		if (!found)
			found = access_groups[i].name;
		if (is_member(&g, m)) {
			*member = true;
			return access_groups[i].name;
		}
	}
	return found;
}

static void run_groups(struct check_ctx *ctx, struct check_result *r)
{
	struct host *h = ctx->host;
	_cleanup_free_ char *text = NULL;
	const struct check_result *dev = run_result(ctx->run, "kvm.device");
	const struct detail *access = dev ? detail_get(dev, "user_access") : NULL;
	struct membership m = { .r = r, .primary = h->gid };
	char user[64] = "", problems[256] = "";
	const char *kvm_group, *libvirt_group;
	bool in_kvm, in_libvirt, libvirt_installed = false;
	enum check_status st = CHECK_PASS;
	struct stat kst;
	int err;

	detail_int(r, "uid", h->uid);
	if (host_user_name(h, h->uid, user, sizeof(user), &m.primary) == 0) {
		detail_str(r, "user", "%s", user);
		m.user = user;
	} else {
		detail_null(r, "user");
	}
	if (h->uid == 0) {
		result_set(r, CHECK_PASS, "root needs no group to use KVM or libvirt");
		return;
	}
	err = host_read(h, "/etc/group", HOST_READ_MAX, &text, NULL);
	if (err < 0) {
		result_set(r, CHECK_SKIP, "/etc/group: %s", host_strerror(err));
		return;
	}
	detail_list_add(r, "groups", NULL);
	group_foreach(text, collect_group, &m);

	kvm_group = find_group(text, "kvm", &m, &in_kvm);
	libvirt_group = find_group(text, "libvirt", &m, &in_libvirt);
	if (kvm_group)
		detail_bool(r, "in_kvm", in_kvm);
	else
		detail_null(r, "in_kvm");
	if (libvirt_group)
		detail_bool(r, "in_libvirt", in_libvirt);
	else
		detail_null(r, "in_libvirt");
	libvirt_installed = libvirt_group != NULL;
	for (size_t i = 0; i < ARRAY_SIZE(libvirt_daemons) && !libvirt_installed; i++)
		libvirt_installed = host_exists(h, libvirt_daemons[i]);

	/*
	 * The kvm group matters only while /dev/kvm is group-restricted. kvm.device already
	 * opened it (or modelled the bits): agree with its answer rather than guess again.
	 */
	if (kvm_group && !in_kvm) {
		bool world = host_stat(h, "/dev/kvm", &kst) == 0 && (kst.st_mode & 0006) == 0006;

		if (access && access->type == DETAIL_BOOL && !access->boolean) {
			st = CHECK_FAIL;
			snprintf(problems, sizeof(problems), "not in %s, so /dev/kvm is closed to %s",
				 kvm_group, user[0] ? user : "this user");
			result_fix(r, "user.add_to_kvm_group");
		} else if (!world && !(access && access->type == DETAIL_BOOL)) {
			/* No /dev/kvm yet (module not loaded): it will be root:kvm 0660 once it is. */
			st = CHECK_WARN;
			snprintf(problems, sizeof(problems), "not in %s (needed once /dev/kvm appears)",
				 kvm_group);
			result_fix(r, "user.add_to_kvm_group");
		}
	}
	if (libvirt_installed && !in_libvirt) {
		size_t n = strlen(problems);

		if (st < CHECK_WARN)
			st = CHECK_WARN;
		snprintf(problems + n, sizeof(problems) - n, "%snot in %s: virsh and virt-manager need "
			 "root or a polkit password for qemu:///system", n ? "; " : "",
			 libvirt_group ? libvirt_group : "libvirt");
		result_fix(r, "user.add_to_libvirt_group");
	}
	if (st != CHECK_PASS) {
		result_set(r, st, "%s: %s", user[0] ? user : "this user", problems);
		result_advise(r, "sudo usermod -aG %s%s%s %s, then log out and back in (group membership is "
			      "read at login).", strstr(problems, "/dev/kvm") ? kvm_group : "",
			      strstr(problems, "/dev/kvm") && libvirt_installed && !in_libvirt ? "," : "",
			      libvirt_installed && !in_libvirt ? (libvirt_group ? libvirt_group : "libvirt") : "",
			      user[0] ? user : "$USER");
		return;
	}
	result_set(r, CHECK_PASS, "%s%s%s%s%s", user[0] ? user : "this user",
		   in_kvm ? " is in kvm" : kvm_group ? " is not in kvm, which /dev/kvm's mode makes unneeded" : "",
		   in_libvirt ? (in_kvm || kvm_group ? " and " : " is in ") : "",
		   in_libvirt ? libvirt_group : "",
		   !kvm_group && !libvirt_installed ? ": no kvm or libvirt group on this host" : "");
}

const struct check check_user_groups = {
	.id = "user.groups",
	.title = "User in the kvm and libvirt groups",
	.run = run_groups,
	.explain =
	"Reads the root's /etc/passwd and /etc/group (no NSS, so it works under --root) for\n"
	"the user being diagnosed: the one running virt-doctor, or the one who typed sudo\n"
	"(SUDO_UID). Reports every group the user is in (primary and listed) and whether\n"
	"those include kvm and libvirt (libvirtd on older Debian and Ubuntu).\n"
	"\n"
	"Verdict:\n"
	"- root: pass, root needs no group.\n"
	"- not in kvm while /dev/kvm is closed to the user (kvm.device's user_access is\n"
	"  false): fail, like kvm.device. Not in kvm while /dev/kvm is world-usable (RHEL's\n"
	"  0666): fine. No /dev/kvm yet: warn, it will be root:kvm 0660 once it appears.\n"
	"- libvirt installed (its group or daemon exists) and the user is not in its group:\n"
	"  warn. qemu:///system then needs root or a polkit password for every virsh call.\n"
	"\n"
	"Fix: sudo usermod -aG kvm,libvirt $USER, then log out and back in: group\n"
	"membership is read at login (or start a shell with newgrp).",
};
