// SPDX-License-Identifier: GPL-2.0-or-later
/* kvm.device: /dev/kvm exists, is the KVM character device, and this user can open it. */
#include <errno.h>
#include <fcntl.h>
#include <libudev.h>
#include <sys/sysmacros.h>

#include "checks/accounts.h"
#include "checks/check.h"
#include "checks/libvirt.h"
#include "checks/qemu_account.h"
#include "checks/udev_cleanup.h"
#include "checks/udev_rules.h"
#include "util.h"

#define KVM_MAJOR 10
#define KVM_MINOR 232	/* misc device minor reserved for KVM */

static void add_rule_line(const char *item, void *data)
{
	detail_list_add(data, "udev_rules", item);
}

static void find_kvm_rules(const struct host *h, struct check_result *r, struct kvm_rule *kr)
{
	kvm_rules_scan(h, udev_rules_dirs, n_udev_rules_dirs, kr, add_rule_line, r);
	if (!kr->matches)
		detail_list_add(r, "udev_rules", NULL);
	if (kr->where[0])
		detail_str(r, "udev_rule", "%s", kr->where);
	else
		detail_null(r, "udev_rule");
	if (kr->group[0])
		detail_str(r, "udev_group", "%s", kr->group);
	else
		detail_null(r, "udev_group");
	if (kr->mode[0])
		detail_str(r, "udev_mode", "%s", kr->mode);
	else
		detail_null(r, "udev_mode");
}

/* Live: what udev itself knows about the node (its database entry, or the kernel's uevent
 * when udevd never ran): properties and tags. */
static void udev_facts(struct check_result *r)
{
	_cleanup_(udevp) struct udev *u = udev_new();
	_cleanup_(udev_devicep) struct udev_device *d = NULL;
	struct udev_list_entry *e;
	char item[256];

	if (!u)
		return;
	d = udev_device_new_from_devnum(u, 'c', makedev(KVM_MAJOR, KVM_MINOR));
	if (!d) {
		detail_str(r, "udev_error", "libudev does not know char device %d:%d", KVM_MAJOR, KVM_MINOR);
		return;
	}
	detail_bool(r, "udev_initialized", udev_device_get_is_initialized(d) > 0);
	detail_list_add(r, "udev_properties", NULL);
	udev_list_entry_foreach(e, udev_device_get_properties_list_entry(d)) {
		sfmt(item, "%s=%s", udev_list_entry_get_name(e), udev_list_entry_get_value(e) ?: "");
		detail_list_add(r, "udev_properties", item);
	}
	detail_list_add(r, "udev_tags", NULL);
	udev_list_entry_foreach(e, udev_device_get_tags_list_entry(d))
		detail_list_add(r, "udev_tags", udev_list_entry_get_name(e));
}

/* What udev has to say about a node whose permissions keep users out. */
static void udev_advice(struct check_result *r, const struct kvm_rule *kr, const struct stat *st,
			const char *group)
{
	char base[sizeof(r->advice)];

	scopy(base, r->advice);
	unsigned long want = kr->mode[0] ? strtoul(kr->mode, NULL, 8) : 0;
	bool mode_ok = !kr->mode[0] || want == (st->st_mode & 07777);
	bool group_ok = !kr->group[0] || (group && streq(kr->group, group));

	if (!kr->where[0])
		result_advise(r, "%s No udev rule sets /dev/kvm's group or mode (none matches KERNEL==\"kvm\" in "
			      "/etc, /run, /usr/lib or /lib udev/rules.d): add one, e.g. /etc/udev/rules.d/"
			      "65-kvm.rules: KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\".", base);
	else if (!mode_ok || !group_ok)
		result_advise(r, "%s The udev rule %s sets %s%s%s%s but the node is %04o %s: the rule has not "
			      "been applied yet; run udevadm trigger --sysname-match=kvm (or reboot).", base,
			      kr->where, kr->group[0] ? "GROUP=" : "", kr->group, kr->mode[0] ? " MODE=" : "",
			      kr->mode, st->st_mode & 07777, group ? group : "?");
}

/* Offline we cannot open(), so apply the permission bits to the user's groups. */
static bool modeled_access(const struct host *h, const struct stat *st, const char *user,
			   gid_t primary, const struct group_entry *grp, bool have_grp)
{
	if (h->uid == 0)
		return true;
	if (st->st_uid == h->uid)
		return (st->st_mode & 0600) == 0600;
	if (st->st_gid == primary || (have_grp && user && group_has_member(grp, user)))
		return (st->st_mode & 0060) == 0060;
	return (st->st_mode & 0006) == 0006;
}

/*
 * libvirt's QEMU opens /dev/kvm itself, as the account qemu.conf names (libvirtd, as root,
 * opens tun and vhost-net and passes the fds, so those are not judged for it). Fills the
 * qemu_* details; returns 1 may open, 0 may not, -1 unknown or libvirt absent.
 */
static int judge_qemu(struct check_ctx *ctx, struct check_result *r, const struct stat *st,
		      struct qemu_account *qa)
{
	char du[64], dg[64];
	int err;

	memset(qa, 0, sizeof(*qa));
	if (!libvirt_daemon_installed(ctx->host)) {
		detail_null(r, "qemu_access");
		return -1;
	}
	qemu_account_defaults(ctx->host, du, sizeof(du), dg, sizeof(dg));
	err = qemu_account_get(ctx->host, du[0] ? du : NULL, dg[0] ? dg : NULL, qa);
	if (qa->user[0])
		detail_str(r, "qemu_user", "%s", qa->user);
	if (qa->group[0])
		detail_str(r, "qemu_group", "%s", qa->group);
	if (qa->source)
		detail_str(r, "qemu_account_source", "%s", qa->source);
	if (err < 0 || !qa->resolved) {
		detail_str(r, "qemu_account_error", "%s", qa->error);
		detail_null(r, "qemu_access");
		return -1;
	}
	detail_list_add(r, "qemu_groups", NULL);
	for (unsigned i = 0; i < qa->n_groups; i++) {
		char gid[24];

		sfmt(gid, "%u", (unsigned)qa->groups[i]);
		detail_list_add(r, "qemu_groups", qa->group_names[i][0] ? qa->group_names[i] : gid);
	}
	bool ok = qemu_account_can_open(qa, st);

	detail_bool(r, "qemu_access", ok);
	return ok;
}

/* The account's groups, for a summary: "kvm, libvirt-qemu". */
static void group_list(const struct qemu_account *qa, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < qa->n_groups && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "",
				      qa->group_names[i][0] ? qa->group_names[i] : "?");
}

static void run_device(struct check_ctx *ctx, struct check_result *r)
{
	struct qemu_account qa;
	int qemu_ok;
	_cleanup_(group_entry_clear) struct group_entry grp = { .members = "" };
	struct kvm_rule kr = { 0 };
	char user[64] = "", owner[64] = "";
	gid_t primary = (gid_t)-1;
	bool have_grp, access_ok;
	int grp_err;
	struct stat st;
	int err;

	err = host_stat(ctx->host, "/dev/kvm", &st);
	if (err == -ENOENT) {
		detail_bool(r, "exists", false);
		detail_bool(r, "user_access", false);
		result_set(r, CHECK_FAIL, "/dev/kvm does not exist");
		result_advise(r, "The KVM module is not loaded (modprobe kvm_intel or kvm_amd), or "
			      "virtualization is disabled in firmware, or this is a container without "
			      "the device passed in (--device /dev/kvm). libvirt then refuses every "
			      "<domain type='kvm'> with \"invalid argument: could not get preferred "
			      "machine for ... type=kvm\", and virt-install falls back to plain emulation "
			      "(TCG), many times slower.");
		result_fix(r, "modules.load_kvm");
		return;
	}
	if (err < 0) {
		detail_bool(r, "user_access", false);
		result_set(r, CHECK_SKIP, "cannot stat /dev/kvm: %s", strerror(-err));
		return;
	}
	detail_bool(r, "exists", true);
	detail_str(r, "mode", "%04o", st.st_mode & 07777);
	detail_int(r, "uid", st.st_uid);
	detail_int(r, "gid", st.st_gid);
	if (host_user_name(ctx->host, st.st_uid, owner, sizeof(owner), NULL) == 0)
		detail_str(r, "owner", "%s", owner);
	grp_err = host_group(ctx->host, st.st_gid, &grp);
	have_grp = grp_err == 0;
	if (have_grp) {
		detail_str(r, "group", "%s", grp.name);
	} else {
		/* Say why the group has no name, naming the file, rather than a bare "?". */
		detail_str(r, "group_error", "/etc/group: %s", grp_err == -ENOENT ?
			   "no valid line for this gid" : host_strerror(grp_err));
		sfmt(grp.name, "gid %u", (unsigned)st.st_gid);
	}
	find_kvm_rules(ctx->host, r, &kr);
	if (ctx->host->live)
		udev_facts(r);

	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != KVM_MAJOR || minor(st.st_rdev) != KVM_MINOR) {
		detail_bool(r, "user_access", false);
		if (S_ISCHR(st.st_mode))
			result_set(r, CHECK_FAIL, "/dev/kvm is char %u:%u, not the KVM device 10:232",
				   major(st.st_rdev), minor(st.st_rdev));
		else
			result_set(r, CHECK_FAIL, "/dev/kvm is not a character device");
		result_advise(r, "Remove the bogus /dev/kvm and let udev recreate it (udevadm trigger).");
		return;
	}

	if (host_user_name(ctx->host, ctx->host->uid, user, sizeof(user), &primary) == 0)
		detail_str(r, "user", "%s", user);
	else
		detail_int(r, "user_uid", ctx->host->uid);
	if (primary == (gid_t)-1)
		primary = ctx->host->gid;

	if (ctx->host->live && ctx->host->subject_is_self) {
		/* The only honest answer to "can I open it" is to open it. */
		int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

		access_ok = fd >= 0;
		err = access_ok ? 0 : -errno;
		if (fd >= 0)
			close(fd);
		detail_str(r, "access_method", "open(O_RDWR)");
		if (!access_ok)
			detail_str(r, "open_error", "%s", strerror(-err));
	} else {
		access_ok = modeled_access(ctx->host, &st, user[0] ? user : NULL, primary, &grp, have_grp);
		detail_str(r, "access_method", "permission bits and the root's /etc/group");
	}
	detail_bool(r, "user_access", access_ok);
	qemu_ok = judge_qemu(ctx, r, &st, &qa);

	if (!access_ok) {
		const char *who = user[0] ? user : "this user";

		if ((st.st_mode & 0060) == 0060 && have_grp) {
			result_set(r, CHECK_FAIL, "%s cannot open /dev/kvm: not in group %s", who, grp.name);
			result_advise(r, "sudo usermod -aG %s %s, then log out and back in (or: newgrp %s).",
				      grp.name, user[0] ? user : "$USER", grp.name);
			result_fix(r, "user.add_to_kvm_group");
		} else {
			result_set(r, CHECK_FAIL, "%s cannot open /dev/kvm (mode %04o %s:%s)", who,
				   st.st_mode & 07777, owner[0] ? owner : "?", grp.name);
			result_advise(r, "Give /dev/kvm mode 0660 and group kvm with a udev rule "
				      "(KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\"), then add the user to kvm.");
			udev_advice(r, &kr, &st, have_grp ? grp.name : NULL);
			result_fix(r, "udev.kvm_permissions");
			result_fix(r, "user.add_to_kvm_group");
		}
		return;
	}
	if (qemu_ok == 0) {
		char groups[200];
		bool group_bits = (st.st_mode & 0060) == 0060;
		/* Without root qemu.conf may be unreadable: then the account is an assumption. */
		bool assumed = streq(qa.source, QEMU_SOURCE_ASSUMED);

		group_list(&qa, groups, sizeof(groups));
		result_set(r, assumed ? CHECK_WARN : CHECK_FAIL, "libvirt's QEMU runs as %s (groups %s)%s, "
			   "which cannot open /dev/kvm (mode %04o %s:%s): guests fail with \"Could not access "
			   "KVM kernel module: Permission denied\"", qa.user, groups,
			   assumed ? " if qemu.conf keeps the default" : "", st.st_mode & 07777,
			   owner[0] ? owner : "?", grp.name);
		if (group_bits)
			result_advise(r, "libvirt starts QEMU as %s (%s, %s), which is not in group %s: "
				      "usermod -aG %s %s, then restart the libvirt daemon.", qa.user,
				      qa.source, QEMU_CONF, grp.name, grp.name, qa.user);
		else {
			result_advise(r, "libvirt starts QEMU as %s (%s), and QEMU opens /dev/kvm itself. Give "
				      "/dev/kvm group kvm and mode 0660 (chgrp kvm /dev/kvm; chmod 0660 /dev/kvm) "
				      "and keep it so with a udev rule.", qa.user, qa.source);
			udev_advice(r, &kr, &st, have_grp ? grp.name : NULL);
			result_fix(r, "udev.kvm_permissions");
		}
		return;
	}
	if ((st.st_mode & 0066) == 0) {
		/* Fine for root, but libvirt runs QEMU as an unprivileged user (libvirt-qemu, qemu). */
		result_set(r, CHECK_WARN, "/dev/kvm is usable, but only by %s (mode %04o %s:%s)",
			   owner[0] ? owner : "its owner", st.st_mode & 07777, owner[0] ? owner : "?",
			   grp.name);
		result_advise(r, "Unprivileged users and libvirt's QEMU processes cannot use KVM. "
			      "Distributions ship a udev rule giving /dev/kvm mode 0660 and group kvm.");
		udev_advice(r, &kr, &st, have_grp ? grp.name : NULL);
		result_fix(r, "udev.kvm_permissions");
		return;
	}
	result_set(r, CHECK_PASS, "/dev/kvm 10:232 mode %04o %s:%s, usable by %s", st.st_mode & 07777,
		   owner[0] ? owner : "?", grp.name, user[0] ? user : "this user");
}

const struct check check_kvm_device = {
	.id = "kvm.device",
	.title = "/dev/kvm device node and access",
	.run = run_device,
	.explain =
	"Looks at /dev/kvm: it must exist and be the character device 10:232. Reports its\n"
	"mode, owner and group, and whether the user running virt-doctor can open it\n"
	"read-write. Live, it simply opens it; under --root it applies the permission bits to\n"
	"the user's groups as the root's /etc/passwd and /etc/group define them.\n"
	"\n"
	"Why: every KVM user (QEMU, libvirt's QEMU processes, Firecracker) opens /dev/kvm.\n"
	"\"Could not access KVM kernel module: Permission denied\" means the user is not in\n"
	"the device's group; \"No such file or directory\" means the module is not loaded.\n"
	"\n"
	"Where a libvirt daemon is installed it also judges the node for the account libvirt's\n"
	"system QEMU runs as, since QEMU opens /dev/kvm itself: user and group from\n"
	"/etc/libvirt/qemu.conf, or the distribution's default when they are commented out\n"
	"(data/distros, [libvirt]: Debian libvirt-qemu, Fedora qemu), with the groups libvirt\n"
	"gives it (its primary group, every group listing it, the configured group), from the\n"
	"root's /etc/passwd and /etc/group. If that account cannot open the node, every libvirt\n"
	"guest fails with \"Could not access KVM kernel module: Permission denied\": a fail.\n"
	"(tun and vhost-net are opened by the daemon as root, so they are not its business.)\n"
	"Without root qemu.conf may be unreadable: then the default is assumed, said so, and a\n"
	"mismatch is only a warning. Without libvirt, a node only root can open is a warning.\n"
	"\n"
	"Who sets the mode: udev, from a rule line matching KERNEL==\"kvm\". The check reads the\n"
	"rule files as udev does (/etc, /run, /usr/local/lib, /usr/lib, /lib udev/rules.d; a file\n"
	"name in an earlier directory hides the same name later; files apply in name order; the\n"
	"last GROUP=/MODE= wins) and reports that line (udev_rule, udev_group, udev_mode). Live,\n"
	"it also asks libudev for the device's properties and tags. A 0600 node with no rule\n"
	"means the rule is missing; a rule the node disagrees with means it was not applied\n"
	"yet (udevadm trigger, or reboot).\n"
	"\n"
	"Fix: sudo usermod -aG kvm $USER and log in again; chgrp kvm /dev/kvm and chmod 0660\n"
	"/dev/kvm now, and a udev rule KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\" where the\n"
	"distribution lacks one (udev.kvm_permissions; without udev the change lasts until boot).",
};
