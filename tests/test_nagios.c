/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --format nagios against the JSON report of the same tree: state, ids, counts, exit code. */
#include <unistd.h>

#include "harness.h"
#include "libvirt_harness.h"

static const char *const states[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

/* The perfdata value of label (after "label="), or -1. */
static long perf(const char *line, const char *label)
{
	char want[64];
	const char *p;

	sfmt(want, " %s=", label);
	p = strstr(line, want);
	return p ? strtol(p + strlen(want), NULL, 10) : -1;
}

/* The nagios line says what the JSON report of the same tree says. */
static void compare(const char *dir, const char *const *extra)
{
	/* Live, libpci 3.9 leaks a udev handle (iommu.groups): an ASan build reports it on stderr. */
	bool quiet_stderr = dir != NULL;
	struct result js = { 0 }, ng = { 0 };
	char *argv_j[16], *argv_n[16], ids[1024] = "", want[1400];
	const char *const statuses[] = { "pass", "warn", "fail", "skip" };
	long counts[4] = { 0 };
	size_t k = 0, i;
	int code;
	json_t *j, *c;
	char *bar;

	argv_j[k] = (char *)VD_BIN;
	argv_n[k++] = (char *)VD_BIN;
	if (dir) {
		argv_j[k] = argv_n[k] = (char *)"--root";
		k++;
		argv_j[k] = argv_n[k] = (char *)dir;
		k++;
	}
	argv_j[k] = (char *)"--format";
	argv_n[k++] = (char *)"--format";
	argv_j[k] = (char *)"json";
	argv_n[k++] = (char *)"nagios";
	for (; extra && *extra; extra++, k++)
		argv_j[k] = argv_n[k] = (char *)*extra;
	argv_j[k] = argv_n[k] = NULL;
	run_env(&js, NULL, argv_j);
	run_env(&ng, NULL, argv_n);
	j = parse_json(js.out);
	assert_int_equal(ng.status, js.status);
	assert_true(ng.status >= 0 && ng.status <= 3);
	/* One line, and the only '|' is the one before the performance data. */
	assert_non_null(strchr(ng.out, '\n'));
	assert_string_equal(strchr(ng.out, '\n'), "\n");
	if (quiet_stderr)
		assert_string_equal(ng.err, "");
	bar = strchr(ng.out, '|');
	assert_non_null(bar);
	assert_null(strchr(bar + 1, '|'));
	/* The report's own exit_code: an ASan build's leak report at exit changes the status. */
	code = (int)json_integer_value(json_object_get(j, "exit_code"));
	assert_true(code >= 0 && code <= 3);
	if (quiet_stderr)
		assert_int_equal(ng.status, code);
	sfmt(want, "VIRT-DOCTOR %s - ", states[code]);
	if (!startswith(ng.out, want))
		fail_msg("exit_code %d but: %s", code, ng.out);
	json_array_foreach(json_object_get(j, "checks"), i, c) {
		const char *st = json_string_value(json_object_get(c, "status"));

		for (size_t s = 0; s < 4; s++)
			counts[s] += streq(st, statuses[s]);
		/* The status line names the failing checks (critical) or the warning ones (warning). */
		if ((code == 2 && streq(st, "fail")) || (code == 1 && streq(st, "warn"))) {
			size_t len = strlen(ids);

			snprintf(ids + len, sizeof(ids) - len, "%s%s", len ? ", " : "",
				 json_string_value(json_object_get(c, "id")));
		}
	}
	if (ids[0]) {
		sfmt(want, " (%s)", ids);
		if (!strstr(ng.out, want))
			fail_msg("expected '%s' in: %s", want, ng.out);
	}
	assert_int_equal(perf(ng.out, "checks_pass"), counts[0]);
	assert_int_equal(perf(ng.out, "checks_warn"), counts[1]);
	assert_int_equal(perf(ng.out, "checks_fail"), counts[2]);
	assert_int_equal(perf(ng.out, "checks_skip"), counts[3]);
	assert_non_null(strstr(bar, " duration="));
	assert_non_null(strstr(bar, "s;;;0"));
	printf("%s", ng.out);
	json_decref(j);
	result_clear(&js);
	result_clear(&ng);
}

static void test_fixture_roots(void **state)
{
	/* rhel9-intel is the degraded one (no default network); pvm fails kvm.device now. */
	static const char *const roots[] = { "intel-vmx-kvm-intel", "no-extensions", "nested-guest", "pvm",
					     "garbled", "arm64", "rhel9-intel" };
	static const char *const check[] = { "check", NULL };
	bool seen[4] = { false };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
		char dir[256];
		struct result res = { 0 };

		if (materialize(roots[i], dir, sizeof(dir)) == -EPERM) {
			remove_tree(dir);
			SKIP_BECAUSE("%s needs root to create its device nodes", roots[i]);
		}
		compare(dir, check);
		RUN(&res, "--root", dir, "--format", "nagios", "check");
		seen[res.status & 3] = true;
		result_clear(&res);
		remove_tree(dir);
	}
	/* The fixtures reach OK, WARNING and CRITICAL: every branch of the status line ran. */
	assert_true(seen[0] && seen[1] && seen[2]);
}

/* The literal line for one known tree and check set. */
static void test_exact_line(void **state)
{
	char dir[256];
	struct result res = { 0 };

	(void)state;
	if (materialize("no-extensions", dir, sizeof(dir)) == -EPERM) {
		remove_tree(dir);
		SKIP_BECAUSE("no-extensions needs root to create its device nodes");
	}
	RUN(&res, "--root", dir, "--format", "nagios", "check", "cpu.virt_extensions", "host.os", "kvm.api");
	assert_int_equal(res.status, 2);
	if (!startswith(res.out, "VIRT-DOCTOR CRITICAL - not ready: 1 failed (cpu.virt_extensions), "
			 "0 warnings, 1 skipped | checks_pass=1;;;0;3 checks_warn=0;0;;0;3 "
			 "checks_fail=1;;0;0;3 checks_skip=1;;;0;3 duration="))
		fail_msg("got: %s", res.out);
	result_clear(&res);
	remove_tree(dir);
}

/* The live host, with and without the boot (the boot's own time is in the perfdata). */
static void test_live(void **state)
{
	static const char *const noboot[] = { "check", "--no-boot", NULL };
	struct result res = { 0 };
	int lock;

	(void)state;
	/* Both runs must see the same libvirtd: other suites start and stop it meanwhile. */
	lock = libvirt_lock();
	compare(NULL, noboot);
	if (lock >= 0)
		libvirt_unlock(lock);
	RUN(&res, "--format", "nagios", "check", "vm.smoke_boot");
	if (res.status == 0)
		assert_non_null(strstr(res.out, " smoke_boot="));
	result_clear(&res);
}

/* A plan and a fleet are not one host's report: refused, exit 3, one line. */
static void test_refused(void **state)
{
	struct result res = { 0 };

	(void)state;
	RUN(&res, "--format", "nagios", "fix");
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "fix: --format nagios is not a plan format"));
	result_clear(&res);
	RUN(&res, "--format", "nagios", "fleet", "/tmp");
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "--format nagios is for one host's report"));
	result_clear(&res);
	RUN(&res, "--format", "nagio", "check");
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "is not one of text, json, prometheus, csv, nagios"));
	result_clear(&res);
}

/* Bash completion offers the format. */
static void test_completion(void **state)
{
	struct result res = { 0 };
	char script[1024];

	(void)state;
	if (access("/bin/bash", X_OK) != 0)
		SKIP_BECAUSE("bash is not installed");
	sfmt(script, "set -e; source '%s/contrib/bash-completion/virt-doctor'\n"
	     "COMP_WORDS=('%s' --format nag); COMP_CWORD=2; COMPREPLY=(); _virt_doctor; echo \"${COMPREPLY[*]}\"\n",
	     VD_SRCDIR, VD_BIN);
	run_env(&res, NULL, (char *const[]){ (char *)"/bin/bash", (char *)"--norc", (char *)"-c", script, NULL });
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "nagios\n");
	result_clear(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_roots),
		cmocka_unit_test(test_exact_line),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_completion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
