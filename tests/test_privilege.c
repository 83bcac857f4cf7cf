// SPDX-License-Identifier: GPL-2.0-or-later
/* Least privilege: the doctor diagnoses as nobody; the VMM child holds only the fds and memory it needs. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "harness.h"
#include "spawn.h"

static bool can_run_as_nobody(void)
{
	return geteuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0;
}

/* Every check decided (pass/warn/fail) or skipped with a reason; no crash; a verdict exit code. */
static void assert_all_decided(const struct result *res, const char *what)
{
	json_t *j, *c;
	size_t i;

	if (res->status >= 128)
		fail_msg("%s: killed by signal %d: %s", what, res->status - 128, res->err);
	j = parse_json(res->out);
	if (!j)
		fail_msg("%s: no JSON report (exit %d): %s", what, res->status, res->err);
	assert_true(json_array_size(json_object_get(j, "checks")) > 0);
	json_array_foreach(json_object_get(j, "checks"), i, c) {
		const char *st = json_string_value(json_object_get(c, "status"));
		const char *sum = json_string_value(json_object_get(c, "summary"));

		if (!st || !sum || !sum[0] || !(streq(st, "pass") || streq(st, "warn") ||
						 streq(st, "fail") || streq(st, "skip")))
			fail_msg("%s: check %s has no decision or reason", what,
				 json_string_value(json_object_get(c, "id")));
	}
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")), res->status);
	json_decref(j);
}

/* The whole doctor on this host as nobody (no groups): no root needed to diagnose. */
static void test_doctor_as_nobody(void **state)
{
	struct result res = { 0 };
	json_t *j;

	(void)state;
	if (!can_run_as_nobody())
		SKIP_BECAUSE("needs root and setpriv to run as nobody");
	RUN_NOBODY(&res, "--format", "json", "doctor");
	assert_all_decided(&res, "doctor as nobody");
	j = parse_json(res.out);
	/* nobody may not open /dev/kvm here (0660 root:kvm): said so, with the reason. */
	assert_string_equal(check_status(j, "kvm.device"), "fail");
	assert_non_null(strstr(json_string_value(json_object_get(find_check(j, "kvm.device"), "summary")),
			       "nobody"));
	print_message("doctor as nobody: exit %d, verdict %s\n", res.status,
		      json_string_value(json_object_get(j, "verdict")));
	json_decref(j);
	result_clear(&res);
}

/* Every fixture root, as nobody. */
static void test_roots_as_nobody(void **state)
{
	_cleanup_closedir_ DIR *d = opendir(VD_FIXTURES "/roots");
	struct dirent *de;
	unsigned n = 0;

	(void)state;
	if (!can_run_as_nobody())
		SKIP_BECAUSE("needs root and setpriv to run as nobody");
	assert_non_null(d);
	while ((de = readdir(d))) {
		struct result res = { 0 };
		char dir[256];

		if (de->d_name[0] == '.')
			continue;
		assert_int_equal(materialize(de->d_name, dir, sizeof(dir)), 0);
		assert_int_equal(chmod(dir, 0755), 0);
		RUN_NOBODY(&res, "--root", dir, "--format", "json", "check");
		assert_all_decided(&res, de->d_name);
		result_clear(&res);
		remove_tree(dir);
		n++;
	}
	assert_true(n >= 8);
}

/*
 * The VMM child while it runs a guest: fds 0/1 are /dev/null, 2 is the doctor's stderr
 * (kept for sanitizer reports), 3 is the report pipe, and the rest are the VM and vCPU fds
 * (the /dev/kvm system fd is closed once the VM is built). Its only shared mappings are the
 * vCPUs' kvm_run pages (shared with the kernel, not with the parent); guest RAM is private
 * anonymous memory. It runs with no_new_privs and a seccomp filter.
 */
static void test_vmm_child_isolation(void **state)
{
	char *const argv[] = { (char *)VD_BIN, (char *)"boot", (char *)"--payload", (char *)LOOP_PAYLOAD,
			       (char *)"--memory", (char *)"24", (char *)"--timeout", (char *)"30", NULL };
	char path[128], link[256];
	_cleanup_free_ char *status = NULL, *maps = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	struct spawned s;
	unsigned vm = 0, vcpu = 0, ram = 0;
	pid_t c;
	int fd;

	(void)state;
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SKIP_BECAUSE("/dev/kvm is not usable here");
	close(fd);
	spawn_session(&s, argv);
	c = wait_vmm_running(s.pid, 10000);
	assert_true(c > 0);

	sfmt(path, "/proc/%d/fd", (int)c);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d))) {
		char fdpath[512];
		ssize_t n;
		int num;

		if (de->d_name[0] == '.')
			continue;
		num = atoi(de->d_name);
		sfmt(fdpath, "%s/%s", path, de->d_name);
		n = readlink(fdpath, link, sizeof(link) - 1);
		if (n < 0)
			continue;	/* closed while we looked */
		link[n] = '\0';
		print_message("VMM child fd %d -> %s\n", num, link);
		if (num <= 1)
			assert_string_equal(link, "/dev/null");
		else if (num == 2)
			continue;	/* inherited stderr (here: /dev/null from the test) */
		else if (num == 3)
			assert_true(startswith(link, "pipe:["));
		else if (streq(link, "anon_inode:kvm-vm"))
			vm++;
		else if (startswith(link, "anon_inode:kvm-vcpu:"))
			vcpu++;
		else
			fail_msg("VMM child holds fd %d -> %s, which it does not need", num, link);
	}
	assert_int_equal(vm, 1);
	assert_true(vcpu >= 1);

	sfmt(path, "/proc/%d/status", (int)c);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	status = read_all(fd);
	close(fd);
	assert_non_null(strstr(status, "\nNoNewPrivs:\t1\n"));
	assert_non_null(strstr(status, "\nSeccomp:\t2\n"));

	sfmt(path, "/proc/%d/maps", (int)c);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	maps = read_all(fd);
	close(fd);
	for (char *line = strtok(maps, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long lo, hi;
		char perms[8], name[256] = "";

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi, perms, name) < 3)
			continue;
		if (perms[3] == 's' && !startswith(name, "anon_inode:kvm-vcpu:"))
			fail_msg("VMM child has a shared mapping: %s", line);
		if (streq(perms, "rw-p") && !name[0] && hi - lo >= (24ul << 20))
			ram++;	/* guest RAM: private, anonymous */
	}
	assert_true(ram >= 1);

	assert_int_equal(kill(s.pid, SIGTERM), 0);
	spawn_wait(&s, 10000);
	assert_true(wait_session_empty(s.pid, 2000));
	spawned_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doctor_as_nobody),
		cmocka_unit_test(test_roots_as_nobody),
		cmocka_unit_test(test_vmm_child_isolation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
