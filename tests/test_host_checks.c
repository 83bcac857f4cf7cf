// SPDX-License-Identifier: GPL-2.0-or-later
/* emulator.qemu, host.hypervisor, host.resources, cpu.nested, user.groups: fixture roots and this host. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <cmocka.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "harness.h"

static const char *summary(json_t *j, const char *id)
{
	return json_string_value(json_object_get(find_check(j, id), "summary"));
}

static json_t *live_check(struct result *res, char *const env[], const char *id, const char *extra)
{
	if (extra)
		RUN_ENV(res, env, "--format", "json", "check", (char *)extra, (char *)id);
	else
		RUN_ENV(res, env, "--format", "json", "check", (char *)id);
	return parse_json(res->out);
}

static json_t *root_check(const char *dir, char *const env[], int *status)
{
	struct result res = { 0 };
	json_t *j;

	RUN_ENV(&res, env, "--root", (char *)dir, "--format", "json", "check");
	j = parse_json(res.out);
	*status = res.status;
	result_clear(&res);
	return j;
}

/* ---- emulator.qemu ---- */

static const char *host_qemu(void)
{
	static char path[128];
	struct utsname u;

	uname(&u);
	sfmt(path, "/usr/bin/qemu-system-%s", streq(u.machine, "arm64") ? "aarch64" : u.machine);
	return access(path, X_OK) == 0 ? path : NULL;
}

static void test_emulator_live_found(void **state)
{
	struct result res = { 0 }, ver = { 0 };
	const char *qemu = host_qemu(), *v;
	json_t *j;

	(void)state;
	if (!qemu)
		SKIP_BECAUSE("no QEMU for this architecture in /usr/bin");
	j = live_check(&res, NULL, "emulator.qemu", NULL);
	assert_string_not_equal(check_status(j, "emulator.qemu"), "fail");
	assert_non_null(json_string_value(detail(j, "emulator.qemu", "emulator")));
	assert_true(list_has(detail(j, "emulator.qemu", "candidates"), qemu));
	v = json_string_value(detail(j, "emulator.qemu", "version"));
	assert_non_null(v);
	/* The version is what the binary itself says. */
	run_env(&ver, NULL, (char *const[]){ (char *)qemu, (char *)"--version", NULL });
	assert_non_null(strstr(ver.out, "QEMU emulator version "));
	assert_non_null(strstr(ver.out, v));
	assert_true(json_is_null(detail(j, "emulator.qemu", "deep")));
	if (access("/usr/bin/qemu-img", X_OK) == 0) {
		assert_string_equal(check_status(j, "emulator.qemu"), "pass");
		assert_string_equal(json_string_value(detail(j, "emulator.qemu", "qemu_img")), "/usr/bin/qemu-img");
		assert_non_null(json_string_value(detail(j, "emulator.qemu", "qemu_img_version")));
	}
	json_decref(j);
	result_clear(&res);
	result_clear(&ver);
}

static void test_emulator_missing(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "no-extensions", NULL, &st);
	assert_string_equal(check_status(j, "emulator.qemu"), "fail");
	assert_non_null(strstr(summary(j, "emulator.qemu"), "no qemu-system-x86_64"));
	assert_non_null(strstr(summary(j, "emulator.qemu"),
			       "libvirt says 'Cannot find suitable emulator for x86_64'"));
	assert_true(json_is_null(detail(j, "emulator.qemu", "emulator")));
	assert_true(json_is_null(detail(j, "emulator.qemu", "qemu_img")));
	assert_int_equal(json_array_size(detail(j, "emulator.qemu", "candidates")), 0);
	assert_true(has_fix(j, "emulator.qemu", "packages.install_qemu"));
	json_decref(j);
}

static void test_emulator_rhel_libexec(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "rhel9-intel", NULL, &st);
	assert_string_equal(check_status(j, "emulator.qemu"), "pass");
	assert_string_equal(json_string_value(detail(j, "emulator.qemu", "emulator")), "/usr/libexec/qemu-kvm");
	assert_true(list_has(detail(j, "emulator.qemu", "candidates"), "/usr/libexec/qemu-kvm"));
	/* Offline the binaries are never run. */
	assert_true(json_is_null(detail(j, "emulator.qemu", "version")));
	json_decref(j);
}

static void test_emulator_no_qemu_img(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "arm64", NULL, &st);
	assert_string_equal(check_status(j, "emulator.qemu"), "warn");
	assert_string_equal(json_string_value(detail(j, "emulator.qemu", "arch")), "aarch64");
	assert_string_equal(json_string_value(detail(j, "emulator.qemu", "emulator")),
			    "/usr/bin/qemu-system-aarch64");
	assert_true(json_is_null(detail(j, "emulator.qemu", "qemu_img")));
	assert_true(has_fix(j, "emulator.qemu", "packages.install_qemu"));
	json_decref(j);
}

/* A file without execute bits is no emulator. */
static void test_emulator_not_executable(void **state)
{
	char dir[256], path[512];
	json_t *j;
	int st;

	(void)state;
	if (!fixture_copy("intel-vmx-kvm-intel", dir, sizeof(dir)))
		SKIP_BECAUSE("needs root to create device nodes");
	sfmt(path, "%s/usr/bin/qemu-system-x86_64", dir);
	assert_int_equal(chmod(path, 0644), 0);
	j = root_check(dir, NULL, &st);
	assert_string_equal(check_status(j, "emulator.qemu"), "fail");
	assert_int_equal(st, 2);
	json_decref(j);
	remove_tree(dir);
}

/* Is any process still running with this word in its command line? */
static bool process_with_arg(const char *word)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	bool found = false;

	assert_non_null(d);
	while (!found && (de = readdir(d))) {
		char path[300], buf[4096];
		ssize_t n;
		int fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		sfmt(path, "/proc/%s/cmdline", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		for (ssize_t i = 0; i < n; i++)
			if (!buf[i])
				buf[i] = ' ';
		if (n > 0) {
			buf[n] = '\0';
			found = strstr(buf, word) != NULL;
		}
	}
	closedir(d);
	return found;
}

/* An emulator that never answers: the check gives up in its bound, kills it and its child. */
static void test_emulator_timeout(void **state)
{
	char dir[] = "/tmp/vd-emu-hang.XXXXXX", path[300], env_path[400];
	struct result res = { 0 };
	struct utsname u;
	uint64_t t0, us;
	json_t *j;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	uname(&u);
	sfmt(path, "%s/qemu-system-%s", dir, u.machine);
	f = fopen(path, "we");
	assert_non_null(f);
	/* The odd duration marks its sleep so we can see it is gone afterwards. */
	fputs("#!/bin/sh\nsleep 31.4159\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	sfmt(env_path, "PATH=%s:/usr/bin:/bin", dir);
	t0 = now_us();
	j = live_check(&res, (char *const[]){ env_path, NULL }, "emulator.qemu", NULL);
	us = now_us() - t0;
	printf("emulator.qemu with a hanging emulator returned after %llu ms\n",
	       (unsigned long long)(us / 1000));
	assert_true(us < 4000000);	/* 2 s bound plus start-up */
	assert_string_equal(check_status(j, "emulator.qemu"), "fail");
	assert_string_equal(json_string_value(detail(j, "emulator.qemu", "emulator")), path);
	assert_non_null(strstr(summary(j, "emulator.qemu"), "timed out"));
	assert_false(process_with_arg("31.4159"));
	assert_false(process_with_arg(dir));
	json_decref(j);
	result_clear(&res);
	unlink(path);
	rmdir(dir);
}

/* An emulator that cannot even be executed (an empty file with x bits): fail, saying why. */
static void test_emulator_unrunnable(void **state)
{
	char dir[] = "/tmp/vd-emu-empty.XXXXXX", path[300], env_path[400];
	struct result res = { 0 };
	struct utsname u;
	const char *err;
	json_t *j;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	uname(&u);
	sfmt(path, "%s/qemu-system-%s", dir, u.machine);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	assert_true(fd >= 0);
	close(fd);
	sfmt(env_path, "PATH=%s:/usr/bin:/bin", dir);
	j = live_check(&res, (char *const[]){ env_path, NULL }, "emulator.qemu", NULL);
	assert_string_equal(check_status(j, "emulator.qemu"), "fail");
	assert_non_null(strstr(summary(j, "emulator.qemu"), "--version failed"));
	err = json_string_value(detail(j, "emulator.qemu", "version_error"));
	assert_non_null(err);
	assert_non_null(strstr(err, "cannot execute"));
	assert_true(has_fix(j, "emulator.qemu", "packages.install_qemu"));
	json_decref(j);
	result_clear(&res);
	unlink(path);
	rmdir(dir);
}

/*
 * --deep against the real QEMU. The oracle is QEMU itself, run here directly: if it
 * dies with an error line, the check must report that very line; if it keeps running
 * (killed by timeout after 3 s), KVM accepted it and the check must pass.
 */
static void test_emulator_deep(void **state)
{
	struct result res = { 0 }, q = { 0 };
	const char *qemu = host_qemu(), *err;
	char line[256] = "";
	struct utsname u;
	json_t *j;

	(void)state;
	uname(&u);
	if (!qemu || access("/dev/kvm", R_OK | W_OK) < 0 || !streq(u.machine, "x86_64"))
		SKIP_BECAUSE("needs x86_64 QEMU in /usr/bin and a usable /dev/kvm");
	run_env(&q, NULL, (char *const[]){ (char *)"/usr/bin/timeout", (char *)"3", (char *)qemu,
		(char *)"-machine", (char *)"q35,accel=kvm", (char *)"-cpu", (char *)"host",
		(char *)"-m", (char *)"64", (char *)"-smp", (char *)"1", (char *)"-nodefaults",
		(char *)"-no-user-config", (char *)"-display", (char *)"none", (char *)"-S", NULL });
	err = strstr(q.err, "error:");
	if (err) {
		const char *start = err;

		while (start > q.err && start[-1] != '\n')
			start--;
		snprintf(line, sizeof(line), "%.*s", (int)(strchrnul(start, '\n') - start), start);
	}
	j = live_check(&res, NULL, "emulator.qemu", "--deep");
	if (q.status == 124) {
		assert_string_equal(json_string_value(detail(j, "emulator.qemu", "deep")), "kvm");
		assert_string_equal(check_status(j, "emulator.qemu"), "pass");
	} else {
		printf("QEMU with -cpu host here: %s\n", line[0] ? line : "(no error line)");
		assert_true(line[0]);
		assert_string_equal(json_string_value(detail(j, "emulator.qemu", "deep_error")), line);
		assert_non_null(strstr(summary(j, "emulator.qemu"), line));
		assert_string_not_equal(check_status(j, "emulator.qemu"), "pass");
		if (strstr(line, "failed to set MSR")) {
			/* This machine: qemu64 works, only host-passthrough is broken. */
			assert_string_equal(json_string_value(detail(j, "emulator.qemu", "deep")),
					    "kvm-without-host-cpu");
			assert_string_equal(check_status(j, "emulator.qemu"), "warn");
		}
	}
	json_decref(j);
	result_clear(&res);
	result_clear(&q);
}

static void test_deep_usage(void **state)
{
	struct result res = { 0 };

	(void)state;
	RUN(&res, "--help");
	assert_non_null(strstr(res.out, "--deep"));
	result_clear(&res);
	RUN(&res, "list", "--deep");
	assert_int_equal(res.status, 3);
	result_clear(&res);
	/* Before the verb it means the same as after it. */
	RUN(&res, "--deep", "--format", "json", "check", "host.os");
	assert_int_equal(res.status, 0);
	result_clear(&res);
}

/* ---- host.hypervisor ---- */

static void test_hypervisor_fixtures(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "intel-vmx-kvm-intel", NULL, &st);
	assert_string_equal(check_status(j, "host.hypervisor"), "pass");
	assert_true(json_is_false(detail(j, "host.hypervisor", "is_guest")));
	assert_true(json_is_null(detail(j, "host.hypervisor", "hypervisor")));
	assert_string_equal(json_string_value(detail(j, "host.hypervisor", "dmi_vendor")), "Dell Inc.");
	assert_string_equal(json_string_value(detail(j, "host.hypervisor", "dmi_product")), "Latitude E4310");
	json_decref(j);

	FIXTURE_OR_SKIP(j, "nested-guest", NULL, &st);
	assert_string_equal(check_status(j, "host.hypervisor"), "pass");
	assert_true(json_is_true(detail(j, "host.hypervisor", "is_guest")));
	assert_string_equal(json_string_value(detail(j, "host.hypervisor", "hypervisor")), "KVM/QEMU");
	assert_string_equal(json_string_value(detail(j, "host.hypervisor", "source")), "dmi");
	assert_string_equal(json_string_value(detail(j, "host.hypervisor", "dmi_product")),
			    "Standard PC (Q35 + ICH9, 2009)");
	assert_true(json_is_true(detail(j, "host.hypervisor", "vmx_or_svm")));
	json_decref(j);

	/* A VirtualBox guest without VT-x: the outer hypervisor must expose it. */
	FIXTURE_OR_SKIP(j, "no-extensions", NULL, &st);
	assert_string_equal(check_status(j, "host.hypervisor"), "warn");
	assert_string_equal(json_string_value(detail(j, "host.hypervisor", "hypervisor")), "VirtualBox");
	assert_true(has_fix(j, "host.hypervisor", "hypervisor.enable_nested"));
	json_decref(j);

	/* Only the cpuinfo flag, and PVM doing the work. */
	FIXTURE_OR_SKIP(j, "pvm", NULL, &st);
	assert_string_equal(check_status(j, "host.hypervisor"), "warn");
	assert_string_equal(json_string_value(detail(j, "host.hypervisor", "source")), "cpuinfo");
	assert_true(json_is_null(detail(j, "host.hypervisor", "hypervisor")));
	assert_true(json_is_true(detail(j, "host.hypervisor", "pvm")));
	assert_false(has_fix(j, "host.hypervisor", "hypervisor.enable_nested"));
	json_decref(j);
}

static void test_hypervisor_live(void **state)
{
	struct result res = { 0 };
	json_t *j;

	(void)state;
	j = live_check(&res, NULL, "host.hypervisor", NULL);
#if defined(__x86_64__) || defined(__i386__)
	{
		unsigned a, b, c, d;
		char sig[13] = "";

		__cpuid(1, a, b, c, d);
		if (c & (1u << 31)) {
			__cpuid(0x40000000, a, b, c, d);
			memcpy(sig, &b, 4);
			memcpy(sig + 4, &c, 4);
			memcpy(sig + 8, &d, 4);
			assert_true(json_is_true(detail(j, "host.hypervisor", "is_guest")));
			assert_string_equal(json_string_value(detail(j, "host.hypervisor", "cpuid_signature")), sig);
			if (streq(sig, "KVMKVMKVM")) {
				assert_string_equal(json_string_value(detail(j, "host.hypervisor", "hypervisor")), "KVM");
				assert_string_equal(json_string_value(detail(j, "host.hypervisor", "source")), "cpuid");
			}
		} else if (!json_is_true(detail(j, "host.hypervisor", "is_guest"))) {
			assert_string_equal(check_status(j, "host.hypervisor"), "pass");
		}
	}
#endif
	json_decref(j);
	result_clear(&res);
}

/* ---- cpu.nested ---- */

static void test_nested_fixtures(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "intel-vmx-kvm-intel", NULL, &st);
	assert_string_equal(check_status(j, "cpu.nested"), "pass");
	assert_true(json_is_true(detail(j, "cpu.nested", "nested")));
	assert_string_equal(json_string_value(detail(j, "cpu.nested", "backend")), "kvm_intel");
	/* Same reader as kvm.modules: both must agree. */
	assert_true(json_is_true(detail(j, "kvm.modules", "nested")));
	assert_false(has_fix(j, "cpu.nested", "modules.enable_nested"));
	json_decref(j);

	FIXTURE_OR_SKIP(j, "nested-guest", NULL, &st);
	assert_string_equal(check_status(j, "cpu.nested"), "pass");
	assert_true(json_is_false(detail(j, "cpu.nested", "nested")));
	assert_string_equal(json_string_value(detail(j, "cpu.nested", "nested_raw")), "N");
	assert_true(has_fix(j, "cpu.nested", "modules.enable_nested"));
	json_decref(j);

	FIXTURE_OR_SKIP(j, "pvm", NULL, &st);
	assert_string_equal(check_status(j, "cpu.nested"), "skip");
	assert_non_null(strstr(summary(j, "cpu.nested"), "kvm_pvm"));
	json_decref(j);

	FIXTURE_OR_SKIP(j, "amd-svm-no-module", NULL, &st);
	assert_string_equal(check_status(j, "cpu.nested"), "skip");
	assert_non_null(strstr(summary(j, "cpu.nested"), "no KVM vendor module"));
	json_decref(j);
}

/* A value the kernel never prints is a skip that names it, not a guess. */
static void test_nested_bad_value(void **state)
{
	char dir[256], path[512];
	json_t *j;
	FILE *f;
	int st;

	(void)state;
	if (!fixture_copy("intel-vmx-kvm-intel", dir, sizeof(dir)))
		SKIP_BECAUSE("needs root to create device nodes");
	sfmt(path, "%s/sys/module/kvm_intel/parameters/nested", dir);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs("maybe\n", f);
	fclose(f);
	j = root_check(dir, NULL, &st);
	assert_string_equal(check_status(j, "cpu.nested"), "skip");
	assert_string_equal(json_string_value(detail(j, "cpu.nested", "nested_raw")), "maybe");
	json_decref(j);
	remove_tree(dir);
}

static void test_nested_live(void **state)
{
	struct result res = { 0 };
	json_t *j;

	(void)state;
	j = live_check(&res, NULL, "cpu.nested", NULL);
	if (access("/sys/module/kvm_pvm", F_OK) == 0 && access("/sys/module/kvm_intel", F_OK) < 0 &&
	    access("/sys/module/kvm_amd", F_OK) < 0)
		assert_string_equal(check_status(j, "cpu.nested"), "skip");
	else if (access("/sys/module/kvm_intel/parameters/nested", R_OK) == 0)
		assert_string_equal(check_status(j, "cpu.nested"), "pass");
	json_decref(j);
	result_clear(&res);
}

/* ---- host.resources ---- */

static void test_resources_fixtures(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "intel-vmx-kvm-intel", NULL, &st);
	assert_string_equal(check_status(j, "host.resources"), "pass");
	assert_int_equal(json_integer_value(detail(j, "host.resources", "mem_total_kib")), 7995524);
	assert_int_equal(json_integer_value(detail(j, "host.resources", "mem_available_kib")), 6135872);
	assert_int_equal(json_integer_value(detail(j, "host.resources", "hugepage_size_kib")), 2048);
	assert_string_equal(json_string_value(detail(j, "host.resources", "images_dir")),
			    "/var/lib/libvirt/images");
	assert_true(json_integer_value(detail(j, "host.resources", "images_free_bytes")) > 0);
	assert_string_equal(json_string_value(detail(j, "host.resources", "cgroup_version")), "2");
	assert_true(list_has(detail(j, "host.resources", "cgroup_controllers"), "memory"));
	json_decref(j);

	FIXTURE_OR_SKIP(j, "rhel9-intel", NULL, &st);
	assert_int_equal(json_integer_value(detail(j, "host.resources", "hugepages_total")), 8192);
	assert_int_equal(json_integer_value(detail(j, "host.resources", "hugepages_free")), 6144);
	json_decref(j);

	/* 1.5 GiB available: warn. */
	FIXTURE_OR_SKIP(j, "nested-guest", NULL, &st);
	assert_string_equal(check_status(j, "host.resources"), "warn");
	json_decref(j);

	/* 400 MiB available: fail. */
	FIXTURE_OR_SKIP(j, "no-extensions", NULL, &st);
	assert_string_equal(check_status(j, "host.resources"), "fail");
	assert_true(json_is_null(detail(j, "host.resources", "cgroup_version")));
	json_decref(j);
}

/* The images directory inside the root is what gets measured: a 1 MiB tmpfs there fails. */
static void test_resources_small_disk(void **state)
{
	char dir[256], images[512];
	json_t *j;
	int st;

	(void)state;
	if (geteuid() != 0)
		SKIP_BECAUSE("mounting a tmpfs needs root");
	if (!fixture_copy("intel-vmx-kvm-intel", dir, sizeof(dir)))
		SKIP_BECAUSE("needs root to create device nodes");
	sfmt(images, "%s/var/lib/libvirt/images", dir);
	if (mount("vd-emu-tmpfs", images, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") < 0) {
		remove_tree(dir);
		SKIP_BECAUSE("cannot mount tmpfs: %s", strerror(errno));
	}
	j = root_check(dir, NULL, &st);
	umount(images);
	assert_string_equal(check_status(j, "host.resources"), "fail");
	assert_true(json_integer_value(detail(j, "host.resources", "images_free_bytes")) <= 1 << 20);
	assert_non_null(strstr(summary(j, "host.resources"), "only 0.0 GiB free in /var/lib/libvirt/images"));
	json_decref(j);
	remove_tree(dir);
}

static void test_resources_live(void **state)
{
	struct result res = { 0 };
	_cleanup_free_ char *text = NULL;
	unsigned long long total = 0;
	const char *p;
	json_t *j;
	int fd;

	(void)state;
	fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	text = read_all(fd);
	close(fd);
	p = strstr(text, "MemTotal:");
	assert_non_null(p);
	total = strtoull(p + strlen("MemTotal:"), NULL, 10);
	j = live_check(&res, NULL, "host.resources", NULL);
	assert_int_equal(json_integer_value(detail(j, "host.resources", "mem_total_kib")), total);
	assert_non_null(json_string_value(detail(j, "host.resources", "images_dir")));
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
		assert_string_equal(json_string_value(detail(j, "host.resources", "cgroup_version")), "2");
	else if (access("/sys/fs/cgroup/memory", F_OK) == 0)
		assert_true(list_has(detail(j, "host.resources", "cgroup_controllers"), "memory"));
	json_decref(j);
	result_clear(&res);
}

/* ---- user.groups ---- */

static void test_groups_fixtures(void **state)
{
	char *alice[] = { (char *)"SUDO_UID=1000", (char *)"SUDO_GID=1000", NULL };
	json_t *j;
	int st;

	(void)state;
	/* As root: nothing needed. */
	FIXTURE_OR_SKIP(j, "nested-guest", NULL, &st);
	assert_string_equal(check_status(j, "user.groups"), "pass");
	assert_int_equal(json_integer_value(detail(j, "user.groups", "uid")), 0);
	json_decref(j);

	FIXTURE_OR_SKIP(j, "intel-vmx-kvm-intel", alice, &st);
	assert_string_equal(check_status(j, "user.groups"), "pass");
	assert_string_equal(json_string_value(detail(j, "user.groups", "user")), "alice");
	assert_true(json_is_true(detail(j, "user.groups", "in_kvm")));
	assert_true(json_is_true(detail(j, "user.groups", "in_libvirt")));
	assert_true(list_has(detail(j, "user.groups", "groups"), "sudo"));
	assert_true(list_has(detail(j, "user.groups", "groups"), "alice"));
	json_decref(j);

	/* /dev/kvm 0660 root:kvm and alice not in kvm: fail, as kvm.device does. */
	FIXTURE_OR_SKIP(j, "nested-guest", alice, &st);
	assert_string_equal(check_status(j, "kvm.device"), "fail");
	assert_string_equal(check_status(j, "user.groups"), "fail");
	assert_true(json_is_false(detail(j, "user.groups", "in_kvm")));
	assert_true(has_fix(j, "user.groups", "user.add_to_kvm_group"));
	assert_true(json_is_null(detail(j, "user.groups", "in_libvirt")));
	json_decref(j);

	/* RHEL: /dev/kvm is 0666 so kvm does not matter, but libvirt's group does. */
	FIXTURE_OR_SKIP(j, "rhel9-intel", alice, &st);
	assert_string_equal(check_status(j, "user.groups"), "warn");
	assert_true(json_is_false(detail(j, "user.groups", "in_kvm")));
	assert_true(json_is_false(detail(j, "user.groups", "in_libvirt")));
	assert_true(has_fix(j, "user.groups", "user.add_to_libvirt_group"));
	assert_false(has_fix(j, "user.groups", "user.add_to_kvm_group"));
	json_decref(j);
}

/* Live as nobody: the verdict agrees with kvm.device's real open(). */
static void test_groups_live_nobody(void **state)
{
	struct result res = { 0 };
	json_t *j, *access_ok;

	(void)state;
	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) < 0)
		SKIP_BECAUSE("needs root and setpriv");
	RUN_NOBODY(&res, "--format", "json", "check", "kvm.device", "user.groups");
	j = parse_json(res.out);
	assert_string_equal(json_string_value(detail(j, "user.groups", "user")), "nobody");
	access_ok = detail(j, "kvm.device", "user_access");
	if (json_is_false(access_ok) && json_is_false(detail(j, "user.groups", "in_kvm")))
		assert_string_equal(check_status(j, "user.groups"), "fail");
	if (json_is_true(access_ok))
		assert_string_not_equal(check_status(j, "user.groups"), "fail");
	json_decref(j);
	result_clear(&res);
}

/* What the five checks cost here, live (printed for the record, bounded for sanity). */
static void test_cost(void **state)
{
	static const char *const ids[] = { "host.hypervisor", "host.resources", "cpu.nested",
		"user.groups", "emulator.qemu" };
	struct result res = { 0 };
	json_t *j;

	(void)state;
	RUN(&res, "--format", "json", "check", "--no-boot");
	j = parse_json(res.out);
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		json_int_t us = json_integer_value(json_object_get(find_check(j, ids[i]), "duration_us"));

		printf("cost %-16s %6lld us\n", ids[i], (long long)us);
		assert_true(us > 0 && us < 2500000);
	}
	json_decref(j);
	result_clear(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emulator_live_found),
		cmocka_unit_test(test_emulator_missing),
		cmocka_unit_test(test_emulator_rhel_libexec),
		cmocka_unit_test(test_emulator_no_qemu_img),
		cmocka_unit_test(test_emulator_not_executable),
		cmocka_unit_test(test_emulator_timeout),
		cmocka_unit_test(test_emulator_unrunnable),
		cmocka_unit_test(test_emulator_deep),
		cmocka_unit_test(test_deep_usage),
		cmocka_unit_test(test_hypervisor_fixtures),
		cmocka_unit_test(test_hypervisor_live),
		cmocka_unit_test(test_nested_fixtures),
		cmocka_unit_test(test_nested_bad_value),
		cmocka_unit_test(test_nested_live),
		cmocka_unit_test(test_resources_fixtures),
		cmocka_unit_test(test_resources_small_disk),
		cmocka_unit_test(test_resources_live),
		cmocka_unit_test(test_groups_fixtures),
		cmocka_unit_test(test_groups_live_nobody),
		cmocka_unit_test(test_cost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
