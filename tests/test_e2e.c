// SPDX-License-Identifier: GPL-2.0-or-later
/* End-to-end: the built binary against fixture roots and against this host; JSON asserted, text golden. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "harness.h"
#include "libvirt_harness.h"

static void test_intel_healthy(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "intel-vmx-kvm-intel", NULL, &st);
	assert_string_equal(check_status(j, "cpu.virt_extensions"), "pass");
	assert_string_equal(json_string_value(detail(j, "cpu.virt_extensions", "extension")), "vmx");
	assert_true(json_is_false(detail(j, "cpu.virt_extensions", "hypervisor_flag")));
	assert_true(json_is_true(detail(j, "cpu.virt_extensions", "ept")));
	assert_string_equal(check_status(j, "kvm.modules"), "pass");
	assert_string_equal(json_string_value(detail(j, "kvm.modules", "backend")), "kvm_intel");
	assert_true(list_has(detail(j, "kvm.modules", "loaded"), "kvm"));
	assert_true(list_has(detail(j, "kvm.modules", "loaded"), "kvm_intel"));
	assert_true(json_is_true(detail(j, "kvm.modules", "nested")));
	assert_string_equal(check_status(j, "kvm.device"), "pass");
	assert_true(json_is_true(detail(j, "kvm.device", "user_access")));
	assert_string_equal(json_string_value(detail(j, "kvm.device", "group")), "kvm");
	assert_string_equal(json_string_value(json_object_get(j, "verdict")), "ready");
	assert_int_equal(st, 0);
	json_decref(j);
}

static void test_intel_user_in_group(void **state)
{
	char *env[] = { (char *)"SUDO_UID=1000", (char *)"SUDO_GID=1000", NULL };
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "intel-vmx-kvm-intel", env, &st);
	assert_string_equal(json_string_value(detail(j, "kvm.device", "user")), "alice");
	assert_true(json_is_true(detail(j, "kvm.device", "user_access")));
	json_decref(j);
}

static void test_amd_module_not_loaded(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "amd-svm-no-module", NULL, &st);
	assert_string_equal(check_status(j, "cpu.virt_extensions"), "pass");
	assert_string_equal(json_string_value(detail(j, "cpu.virt_extensions", "extension")), "svm");
	assert_true(json_is_true(detail(j, "cpu.virt_extensions", "npt")));
	assert_string_equal(check_status(j, "kvm.modules"), "fail");
	assert_true(json_is_null(detail(j, "kvm.modules", "backend")));
	assert_int_equal(json_array_size(detail(j, "kvm.modules", "loaded")), 0);
	assert_string_equal(json_string_value(detail(j, "kvm.modules", "kvm_amd")), "available");
	assert_true(has_fix(j, "kvm.modules", "modules.load_kvm"));
	assert_string_equal(check_status(j, "kvm.device"), "fail");
	assert_true(json_is_false(detail(j, "kvm.device", "user_access")));
	assert_string_equal(json_string_value(json_object_get(j, "verdict")), "not-ready");
	assert_int_equal(st, 2);
	json_decref(j);
}

static void test_no_extensions(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "no-extensions", NULL, &st);
	assert_string_equal(check_status(j, "cpu.virt_extensions"), "fail");
	assert_string_equal(json_string_value(detail(j, "cpu.virt_extensions", "extension")), "none");
	assert_true(json_is_false(detail(j, "cpu.virt_extensions", "hypervisor_flag")));
	assert_true(has_fix(j, "cpu.virt_extensions", "firmware.enable_virtualization"));
	assert_int_equal(st, 2);
	json_decref(j);
}

static void test_nested_guest(void **state)
{
	char *env[] = { (char *)"SUDO_UID=1000", (char *)"SUDO_GID=1000", NULL };
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "nested-guest", env, &st);
	assert_string_equal(check_status(j, "cpu.virt_extensions"), "pass");
	assert_string_equal(json_string_value(detail(j, "cpu.virt_extensions", "extension")), "vmx");
	assert_true(json_is_true(detail(j, "cpu.virt_extensions", "hypervisor_flag")));
	assert_true(json_is_false(detail(j, "kvm.modules", "nested")));
	/* alice is not in kvm and /dev/kvm is 0660 root:kvm. */
	assert_string_equal(check_status(j, "kvm.device"), "fail");
	assert_true(json_is_false(detail(j, "kvm.device", "user_access")));
	assert_true(has_fix(j, "kvm.device", "user.add_to_kvm_group"));
	assert_int_equal(st, 2);
	json_decref(j);
}

static void test_pvm(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "pvm", NULL, &st);
	/* No vmx/svm, but KVM works through kvm_pvm: a warning, never a fail. */
	assert_string_equal(check_status(j, "cpu.virt_extensions"), "warn");
	assert_string_equal(json_string_value(detail(j, "cpu.virt_extensions", "extension")), "none");
	assert_true(json_is_true(detail(j, "cpu.virt_extensions", "hypervisor_flag")));
	assert_string_equal(check_status(j, "kvm.modules"), "pass");
	assert_string_equal(json_string_value(detail(j, "kvm.modules", "backend")), "kvm_pvm");
	assert_true(list_has(detail(j, "kvm.modules", "loaded"), "kvm_pvm"));
	assert_string_equal(json_string_value(detail(j, "kvm.modules", "kvm")), "built-in");
	/* 0600 root:root with libvirt installed: every libvirt guest fails (libvirt-qemu), a fail. */
	assert_string_equal(check_status(j, "kvm.device"), "fail");
	assert_true(json_is_false(detail(j, "kvm.device", "qemu_access")));
	assert_string_equal(json_string_value(json_object_get(j, "verdict")), "not-ready");
	assert_int_equal(st, 2);
	json_decref(j);
}

static void test_arm64(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "arm64", NULL, &st);
	assert_string_not_equal(check_status(j, "cpu.virt_extensions"), "fail");
	assert_string_equal(json_string_value(detail(j, "cpu.virt_extensions", "arch")), "aarch64");
	assert_string_equal(json_string_value(detail(j, "cpu.virt_extensions", "extension")), "none");
	assert_string_equal(check_status(j, "kvm.modules"), "pass");
	assert_string_equal(json_string_value(detail(j, "kvm.modules", "kvm")), "built-in");
	json_decref(j);
}

static void test_garbled(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "garbled", NULL, &st);
	assert_string_equal(check_status(j, "cpu.virt_extensions"), "skip");
	assert_non_null(strstr(json_string_value(json_object_get(find_check(j, "cpu.virt_extensions"),
								 "summary")), "cpuinfo"));
	assert_true(st >= 0 && st <= 3);
	json_decref(j);
}

static void test_rhel(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "rhel9-intel", NULL, &st);
	assert_string_equal(check_status(j, "host.os"), "pass");
	assert_string_equal(json_string_value(detail(j, "host.os", "id")), "rocky");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "host"), "os_id")),
			    "rocky");
	assert_string_equal(check_status(j, "kvm.device"), "pass");
	json_decref(j);
}

/* Golden text output of every fixture root: what a person sees, byte for byte. */
static void test_golden_text(void **state)
{
	static const char *const roots[] = { "intel-vmx-kvm-intel", "amd-svm-no-module",
		"no-extensions", "nested-guest", "pvm", "arm64", "garbled", "rhel9-intel",
		"iommu-gpu" };
	bool update = getenv("VD_UPDATE_GOLDEN") != NULL;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
		char dir[256], golden[512];
		struct result res = { 0 };
		char *expected;
		FILE *f;
		int r = materialize(roots[i], dir, sizeof(dir));

		if (r == -EPERM) {
			remove_tree(dir);
			printf("SKIP: golden text needs root to create device nodes\n");
			skip();
		}
		RUN(&res, "--root", dir, "--color", "never", "check");
		remove_tree(dir);
		sfmt(golden, "%s/golden/%s.txt", VD_FIXTURES, roots[i]);
		if (update) {
			f = fopen(golden, "we");
			assert_non_null(f);
			fputs(res.out, f);
			fclose(f);
		}
		f = fopen(golden, "re");
		if (!f)
			fail_msg("%s missing (make golden)", golden);
		expected = read_all(fileno(f));
		fclose(f);
		if (!streq(expected, res.out))
			fail_msg("%s differs from golden %s:\n%s", roots[i], golden, res.out);
		free(expected);
		result_clear(&res);
	}
}

static void test_bad_usage(void **state)
{
	struct result res = { 0 };

	(void)state;
	RUN(&res, "--root", "/nonexistent/vd-root");
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "/nonexistent/vd-root"));
	assert_non_null(strstr(res.err, "No such file"));
	assert_int_equal(strchr(res.err, '\n') - res.err + 1, (long)strlen(res.err));	/* one line */
	result_clear(&res);

	RUN(&res, "--root", "/etc/os-release", "check");
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "not a directory"));
	result_clear(&res);

	RUN(&res, "check", "no.such.check");
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "no.such.check"));
	result_clear(&res);

	RUN(&res, "--format", "xml");
	assert_int_equal(res.status, 3);
	result_clear(&res);

	RUN(&res, "explain", "nope");
	assert_int_equal(res.status, 3);
	result_clear(&res);

	RUN(&res, "frobnicate");
	assert_int_equal(res.status, 3);
	result_clear(&res);

	RUN(&res, "boot", "--vcpus", "0");
	assert_int_equal(res.status, 3);
	result_clear(&res);

	RUN(&res, "boot", "--payload", "/nonexistent/payload.bin");
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "/nonexistent/payload.bin"));
	result_clear(&res);
}

static void test_list_and_explain(void **state)
{
	static const char *const ids[] = { "host.os", "cpu.virt_extensions", "kvm.modules",
		"kvm.device", "kvm.api", "vm.smoke_boot" };
	struct result res = { 0 };

	(void)state;
	RUN(&res, "list");
	assert_int_equal(res.status, 0);
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		assert_non_null(strstr(res.out, ids[i]));
	result_clear(&res);
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		RUN(&res, "explain", (char *)ids[i]);
		assert_int_equal(res.status, 0);
		assert_true(strlen(res.out) > 200);
		assert_non_null(strstr(res.out, "Why"));
		result_clear(&res);
	}
}

/* Hostile files in a root: each ends as a skip with the reason, never a crash. */
static void test_hostile_files(void **state)
{
	static const struct {
		const char *what;
		const char *expect;
	} cases[] = {
		{ "empty", "empty file" },
		{ "binary", "binary" },
		{ "huge", "too large" },
		{ "directory", "directory" },
		{ "fifo", "not a regular file" },
		{ "escape", "" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char dir[] = "/tmp/vd-hostile.XXXXXX", path[300], cmd[400];
		struct result res = { 0 };
		const char *summary;
		json_t *j;
		int fd;

		assert_non_null(mkdtemp(dir));
		sfmt(cmd, "mkdir -p %s/proc %s/etc", dir, dir);
		assert_int_equal(system(cmd), 0);
		sfmt(path, "%s/proc/cpuinfo", dir);
		if (streq(cases[i].what, "directory")) {
			assert_int_equal(mkdir(path, 0755), 0);
		} else if (streq(cases[i].what, "fifo")) {
			assert_int_equal(mkfifo(path, 0644), 0);
		} else if (streq(cases[i].what, "escape")) {
			/* Points at the real host's passwd: must resolve inside the root instead. */
			assert_int_equal(symlink("/../../../../etc/passwd", path), 0);
		} else {
			fd = open(path, O_WRONLY | O_CREAT, 0644);
			assert_true(fd >= 0);
			if (streq(cases[i].what, "binary"))
				assert_int_equal(write(fd, "vendor_id\0\x01\x02flags", 17), 17);
			else if (streq(cases[i].what, "huge"))
				assert_int_equal(ftruncate(fd, 100 << 20), 0);	/* 100 MiB */
			close(fd);
		}
		RUN(&res, "--root", dir, "--format", "json", "check", "cpu.virt_extensions");
		j = parse_json(res.out);
		assert_string_equal(check_status(j, "cpu.virt_extensions"), "skip");
		summary = json_string_value(json_object_get(find_check(j, "cpu.virt_extensions"), "summary"));
		if (!strstr(summary, cases[i].expect))
			fail_msg("%s: summary '%s' lacks '%s'", cases[i].what, summary, cases[i].expect);
		if (streq(cases[i].what, "escape"))
			assert_non_null(strstr(summary, "No such file"));
		assert_int_equal(res.status, 3);	/* nothing decided: unknown */
		json_decref(j);
		result_clear(&res);
		remove_tree(dir);
	}
}

static bool kvm_openable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Live on this host: KVM must be proven by kvm.api, and the PVM backend named. */
static void test_live(void **state)
{
	struct result a = { 0 }, b = { 0 };
	json_t *ja, *jb;
	int lock;

	(void)state;
	if (!kvm_openable()) {
		printf("SKIP: /dev/kvm cannot be opened here: live KVM test not run\n");
		skip();
	}
	/* Both runs see the same libvirtd state: other suites start and stop it meanwhile. */
	lock = libvirt_lock();
	RUN(&a, "check", "--format", "json", "--no-boot");
	RUN(&b, "--format", "json", "check", "--no-boot");
	if (lock >= 0)
		libvirt_unlock(lock);
	ja = parse_json(a.out);
	jb = parse_json(b.out);
	/* Global options mean the same before and after the verb. */
	assert_int_equal(a.status, b.status);
	assert_string_equal(json_string_value(json_object_get(ja, "verdict")),
			    json_string_value(json_object_get(jb, "verdict")));
	assert_string_equal(check_status(ja, "kvm.api"), "pass");
	assert_int_equal(json_integer_value(detail(ja, "kvm.api", "api_version")), 12);
	assert_true(json_is_true(detail(ja, "kvm.device", "user_access")));
	if (access("/sys/module/kvm_pvm", F_OK) == 0) {
		assert_string_equal(json_string_value(detail(ja, "kvm.modules", "backend")), "kvm_pvm");
		assert_string_not_equal(check_status(ja, "cpu.virt_extensions"), "fail");
	}
	/*
	 * KVM itself works here, so nothing may fail but checks of services this test neither
	 * starts nor needs (libvirtd, virtlogd and the default network are stopped on a fresh
	 * machine unless a libvirt test runs them), and kvm.device when only libvirt's QEMU
	 * account is shut out (a fresh machine's /dev/kvm is 0600 root:root).
	 */
	if (streq(json_string_value(json_object_get(ja, "verdict")), "not-ready")) {
		static const char *const services[] = { "libvirt.daemon", "libvirt.helpers",
							"net.default_network" };
		json_t *c;
		size_t i;

		json_array_foreach(json_object_get(ja, "checks"), i, c) {
			const char *id = json_string_value(json_object_get(c, "id"));
			bool service = false;

			for (size_t k = 0; k < ARRAY_SIZE(services); k++)
				service |= streq(id, services[k]);
			if (streq(id, "kvm.device"))
				service = json_is_false(detail(ja, "kvm.device", "qemu_access"));
			if (streq(json_string_value(json_object_get(c, "status")), "fail") && !service)
				fail_msg("%s fails on this host", id);
		}
	}
	json_decref(ja);
	json_decref(jb);
	result_clear(&a);
	result_clear(&b);
}

/* As nobody, /dev/kvm must be reported unreachable for that user, with the reason. */
static void test_live_unprivileged(void **state)
{
	struct result res = { 0 };
	json_t *j;

	(void)state;
	if (geteuid() != 0 || access("/dev/kvm", F_OK) < 0 || access("/usr/bin/setpriv", X_OK) < 0) {
		printf("SKIP: needs root, /dev/kvm and setpriv\n");
		skip();
	}
	RUN_NOBODY(&res, "--format", "json", "check", "--no-boot");
	j = parse_json(res.out);
	if (kvm_openable()) {
		struct stat st;

		assert_int_equal(stat("/dev/kvm", &st), 0);
		if (st.st_mode & 0006) {
			printf("SKIP: /dev/kvm is world-accessible here\n");
			json_decref(j);
			result_clear(&res);
			skip();
		}
	}
	assert_string_equal(json_string_value(detail(j, "kvm.device", "user")), "nobody");
	assert_true(json_is_false(detail(j, "kvm.device", "user_access")));
	assert_string_equal(check_status(j, "kvm.device"), "fail");
	assert_string_equal(check_status(j, "kvm.api"), "fail");
	assert_string_equal(json_string_value(json_object_get(j, "verdict")), "not-ready");
	assert_int_equal(res.status, 2);
	json_decref(j);
	result_clear(&res);
}

/* A file the user may not read is a skip naming the reason, not a crash or a guess. */
static void test_unreadable_file(void **state)
{
	char dir[] = "/tmp/vd-unreadable.XXXXXX", path[300], cmd[400];
	struct result res = { 0 };
	json_t *j;

	(void)state;
	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) < 0) {
		printf("SKIP: needs root and setpriv to run as nobody\n");
		skip();
	}
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	sfmt(cmd, "cp -a '%s/roots/intel-vmx-kvm-intel/.' '%s/'", VD_FIXTURES, dir);
	assert_int_equal(system(cmd), 0);
	sfmt(path, "%s/proc/cpuinfo", dir);
	assert_int_equal(chmod(path, 0), 0);
	RUN_NOBODY(&res, "--root", dir, "--format", "json", "check", "cpu.virt_extensions");
	j = parse_json(res.out);
	assert_string_equal(check_status(j, "cpu.virt_extensions"), "skip");
	assert_non_null(strstr(json_string_value(json_object_get(find_check(j, "cpu.virt_extensions"),
								 "summary")), "Permission denied"));
	assert_int_equal(res.status, 3);
	json_decref(j);
	result_clear(&res);
	remove_tree(dir);
}

static void test_output_file(void **state)
{
	char dir[] = "/tmp/vd-out.XXXXXX", path[300];
	struct result res = { 0 };
	json_error_t e;
	json_t *j;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sfmt(path, "%s/report.json", dir);
	RUN(&res, "--format", "json", "--output", path, "check", "host.os");
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "");
	j = json_load_file(path, 0, &e);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "schema_version")), "1.2.0");
	json_decref(j);
	result_clear(&res);
	sfmt(path, "%s/missing-dir/report.json", dir);
	RUN(&res, "--output", path, "check", "host.os");
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, path));
	result_clear(&res);
	remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intel_healthy),
		cmocka_unit_test(test_intel_user_in_group),
		cmocka_unit_test(test_amd_module_not_loaded),
		cmocka_unit_test(test_no_extensions),
		cmocka_unit_test(test_nested_guest),
		cmocka_unit_test(test_pvm),
		cmocka_unit_test(test_arm64),
		cmocka_unit_test(test_garbled),
		cmocka_unit_test(test_rhel),
		cmocka_unit_test(test_golden_text),
		cmocka_unit_test(test_bad_usage),
		cmocka_unit_test(test_list_and_explain),
		cmocka_unit_test(test_hostile_files),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_live_unprivileged),
		cmocka_unit_test(test_unreadable_file),
		cmocka_unit_test(test_output_file),
	};

	return cmocka_run_group_tests_name("end-to-end", tests, NULL, NULL);
}
