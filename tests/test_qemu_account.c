// SPDX-License-Identifier: GPL-2.0-or-later
/* The account libvirt's QEMU runs as: resolution, the DAC judgement, and kvm.device on fixture roots. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "checks/qemu_account.h"
#include "harness.h"

#define ID "kvm.device"

static const char passwd[] =
	"root:x:0:0:root:/root:/bin/bash\n"
	"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	"libvirt-qemu:x:64055:993:Libvirt Qemu,,,:/var/lib/libvirt:/usr/sbin/nologin\n"
	"qemu:x:107:107:qemu user:/:/sbin/nologin\n";
static const char group[] =
	"root:x:0:\n"
	"kvm:x:993:alice\n"
	"libvirt-qemu:x:64055:libvirt-qemu\n"
	"qemu:x:107:\n"
	"kvm36:x:36:qemu\n"
	"nogroup:x:65534:\n";

static struct qemu_account account(const char *user, const char *grp)
{
	struct qemu_account a = { 0 };

	scopy(a.user, user);
	scopy(a.group, grp);
	return a;
}

static bool has_gid(const struct qemu_account *a, gid_t gid)
{
	for (unsigned i = 0; i < a->n_groups; i++)
		if (a->groups[i] == gid)
			return true;
	return false;
}

/* getgrouplist semantics: the passwd primary group, every group listing the user, the gid. */
static void test_resolve(void **state)
{
	struct qemu_account a = account("libvirt-qemu", "libvirt-qemu");

	(void)state;
	assert_int_equal(qemu_account_resolve_text(&a, passwd, group), 0);
	assert_true(a.resolved);
	assert_int_equal(a.uid, 64055);
	assert_int_equal(a.gid, 64055);
	assert_int_equal(a.n_groups, 2);
	assert_true(has_gid(&a, 993));	/* primary group kvm, not listed as a member */
	assert_true(has_gid(&a, 64055));
	assert_string_equal(a.group_names[0], "kvm");

	/* Fedora's qemu: primary qemu, member of kvm (gid 36 here). */
	a = account("qemu", "qemu");
	assert_int_equal(qemu_account_resolve_text(&a, passwd, group), 0);
	assert_true(has_gid(&a, 107) && has_gid(&a, 36));
	assert_false(has_gid(&a, 993));

	/* libvirt's "+N": an id, even without a passwd line. */
	a = account("+0", "+0");
	assert_int_equal(qemu_account_resolve_text(&a, passwd, group), 0);
	assert_int_equal(a.uid, 0);
	a = account("+4242", "+4242");
	assert_int_equal(qemu_account_resolve_text(&a, passwd, group), 0);
	assert_int_equal(a.uid, 4242);
	assert_int_equal(a.n_groups, 1);
	/* A bare number that is no name is an id too; an unknown name is an error. */
	a = account("4243", "kvm");
	assert_int_equal(qemu_account_resolve_text(&a, passwd, group), 0);
	assert_int_equal(a.uid, 4243);
	assert_int_equal(a.gid, 993);
	a = account("ghost", "kvm");
	assert_int_equal(qemu_account_resolve_text(&a, passwd, group), -ENOENT);
	assert_false(a.resolved);
	assert_non_null(strstr(a.error, "'ghost'"));
	a = account("qemu", "ghosts");
	assert_int_equal(qemu_account_resolve_text(&a, passwd, group), -ENOENT);
	assert_non_null(strstr(a.error, "'ghosts'"));
}

static struct stat node(mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st = { .st_mode = S_IFCHR | mode, .st_uid = uid, .st_gid = gid };

	return st;
}

/* One permission class applies, as in the kernel: owner, else group, else other. */
static void test_can_open(void **state)
{
	struct qemu_account a = account("libvirt-qemu", "libvirt-qemu"), r = account("+0", "+0");
	struct stat st;

	(void)state;
	assert_int_equal(qemu_account_resolve_text(&a, passwd, group), 0);
	assert_int_equal(qemu_account_resolve_text(&r, passwd, group), 0);
	st = node(0600, 0, 0);
	assert_false(qemu_account_can_open(&a, &st));
	assert_true(qemu_account_can_open(&r, &st));
	st = node(0660, 0, 993);
	assert_true(qemu_account_can_open(&a, &st));
	st = node(0606, 0, 993);	/* in the group: the other bits do not apply */
	assert_false(qemu_account_can_open(&a, &st));
	st = node(0666, 0, 0);
	assert_true(qemu_account_can_open(&a, &st));
	st = node(0066, 64055, 993);	/* the owner: the group bits do not apply */
	assert_false(qemu_account_can_open(&a, &st));
	st = node(0640, 0, 993);	/* read-only is not enough: QEMU opens O_RDWR */
	assert_false(qemu_account_can_open(&a, &st));
}

/* ---- kvm.device on fixture roots ---- */

static void write_text(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char path[512];
	FILE *f;

	sfmt(path, "%s%s", dir, rel);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static json_t *device_report(const char *dir, bool as_nobody)
{
	struct result res = { 0 };
	json_t *j;

	if (as_nobody)
		RUN_NOBODY(&res, "--root", (char *)dir, "--format", "json", "check", ID);
	else
		RUN(&res, "--root", (char *)dir, "--format", "json", "check", ID);
	j = parse_json(res.out);
	result_clear(&res);
	return j;
}

static const char *dstr(json_t *j, const char *key)
{
	return json_string_value(detail(j, ID, key));
}

static const char *summary(json_t *j)
{
	return json_string_value(json_object_get(find_check(j, ID), "summary"));
}

#define COPY_OR_SKIP(name, dir) \
	do { \
		if (!fixture_copy((name), (dir), sizeof(dir))) \
			SKIP_BECAUSE("%s needs root to create its device nodes", (name)); \
	} while (0)

/* Debian's qemu.conf with user/group commented out: the distribution's default, which is in kvm. */
static void test_conf_commented(void **state)
{
	char dir[256];
	json_t *j;

	(void)state;
	COPY_OR_SKIP("intel-vmx-kvm-intel", dir);
	write_text(dir, "/etc/libvirt/qemu.conf", "#user = \"libvirt-qemu\"\n#group = \"libvirt-qemu\"\n", 0600);
	j = device_report(dir, false);
	assert_string_equal(check_status(j, ID), "pass");
	assert_string_equal(dstr(j, "qemu_user"), "libvirt-qemu");
	assert_string_equal(dstr(j, "qemu_group"), "libvirt-qemu");
	assert_string_equal(dstr(j, "qemu_account_source"), "distribution default");
	assert_true(list_has(detail(j, ID, "qemu_groups"), "kvm"));
	assert_true(json_is_true(detail(j, ID, "qemu_access")));
	json_decref(j);
	remove_tree(dir);
}

/* qemu.conf names an account outside kvm: the 0660 root:kvm node shuts it out. */
static void test_conf_user_not_in_group(void **state)
{
	char dir[256];
	json_t *j;

	(void)state;
	COPY_OR_SKIP("intel-vmx-kvm-intel", dir);
	write_text(dir, "/etc/libvirt/qemu.conf", "user = \"nobody\"\ngroup = \"nogroup\"\n", 0600);
	j = device_report(dir, false);
	assert_string_equal(check_status(j, ID), "fail");
	assert_string_equal(dstr(j, "qemu_account_source"), "qemu.conf");
	assert_string_equal(dstr(j, "qemu_user"), "nobody");
	assert_true(json_is_false(detail(j, ID, "qemu_access")));
	assert_non_null(strstr(summary(j), "nobody"));
	assert_non_null(strstr(summary(j), "Could not access KVM kernel module: Permission denied"));
	/* The mode is right; the account is not in the group: add it, do not rewrite udev. */
	assert_non_null(strstr(json_string_value(json_object_get(find_check(j, ID), "advice")),
			       "usermod -aG kvm nobody"));
	assert_false(has_fix(j, ID, "udev.kvm_permissions"));
	json_decref(j);

	/* The same account in the group passes. */
	write_text(dir, "/etc/libvirt/qemu.conf", "user = \"alice\"\ngroup = \"kvm\"\n", 0600);
	j = device_report(dir, false);
	assert_string_equal(check_status(j, ID), "pass");
	assert_string_equal(dstr(j, "qemu_user"), "alice");
	assert_true(json_is_true(detail(j, ID, "qemu_access")));
	json_decref(j);
	remove_tree(dir);
}

/* The fresh state of this project's machine: 0600 root:root, libvirt installed. */
static void test_pvm_root_only(void **state)
{
	char dir[256];
	json_t *j;

	(void)state;
	COPY_OR_SKIP("pvm", dir);
	j = device_report(dir, false);
	assert_string_equal(check_status(j, ID), "fail");
	assert_string_equal(dstr(j, "qemu_user"), "libvirt-qemu");
	assert_true(json_is_false(detail(j, ID, "qemu_access")));
	assert_true(has_fix(j, ID, "udev.kvm_permissions"));
	assert_non_null(strstr(summary(j), "Could not access KVM kernel module: Permission denied"));
	json_decref(j);
	remove_tree(dir);
}

/* Not root and qemu.conf 0600: the default is assumed and said so; never a fail for that. */
static void test_conf_unreadable(void **state)
{
	char dir[256], node_path[300];
	json_t *j;

	(void)state;
	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) < 0)
		SKIP_BECAUSE("needs root and setpriv to run as nobody");
	COPY_OR_SKIP("intel-vmx-kvm-intel", dir);
	assert_int_equal(chmod(dir, 0755), 0);
	write_text(dir, "/etc/libvirt/qemu.conf", "user = \"nobody\"\n", 0600);
	sfmt(node_path, "%s/dev/kvm", dir);
	/* World-usable: nobody may open it, and so may the assumed libvirt-qemu. */
	assert_int_equal(chmod(node_path, 0666), 0);
	j = device_report(dir, true);
	assert_string_equal(check_status(j, ID), "pass");
	assert_string_equal(dstr(j, "qemu_account_source"), "assumed (qemu.conf unreadable)");
	assert_string_equal(dstr(j, "qemu_user"), "libvirt-qemu");
	json_decref(j);
	/* Other bits only: nobody may, the assumed account (in kvm) may not: a warning. */
	assert_int_equal(chmod(node_path, 0606), 0);
	j = device_report(dir, true);
	assert_string_equal(check_status(j, ID), "warn");
	assert_true(json_is_false(detail(j, ID, "qemu_access")));
	assert_non_null(strstr(summary(j), "if qemu.conf keeps the default"));
	json_decref(j);
	remove_tree(dir);
}

/* An empty os-release: no distribution, no default, and no hang (words_contain("", ...) spun). */
static void test_empty_os_release(void **state)
{
	char dir[256];
	json_t *j;

	(void)state;
	assert_false(words_contain("debian ubuntu", ""));
	COPY_OR_SKIP("intel-vmx-kvm-intel", dir);
	write_text(dir, "/etc/os-release", "", 0644);
	j = device_report(dir, false);
	assert_string_equal(check_status(j, ID), "pass");
	assert_true(json_is_null(detail(j, ID, "qemu_access")));
	assert_non_null(dstr(j, "qemu_account_error"));
	json_decref(j);
	remove_tree(dir);
}

/* No libvirt daemon in the tree: judged as before, and qemu_access is null. */
static void test_no_libvirt(void **state)
{
	char dir[256];
	json_t *j;

	(void)state;
	COPY_OR_SKIP("nested-guest", dir);
	j = device_report(dir, false);
	assert_string_equal(check_status(j, ID), "pass");
	assert_true(json_is_null(detail(j, ID, "qemu_access")));
	assert_null(detail(j, ID, "qemu_user"));
	json_decref(j);
	remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_can_open),
		cmocka_unit_test(test_conf_commented),
		cmocka_unit_test(test_conf_user_not_in_group),
		cmocka_unit_test(test_pvm_root_only),
		cmocka_unit_test(test_conf_unreadable),
		cmocka_unit_test(test_empty_os_release),
		cmocka_unit_test(test_no_libvirt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
