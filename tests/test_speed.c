// SPDX-License-Identifier: GPL-2.0-or-later
/* The engine's run order (slow collectors last, report order kept) and kvm.api's VM teardown. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "checks/check.h"

/* What happened, in order: "s:<id>" for a start hook, "r:<id>" for a run. */
static char events[16][16];
static unsigned n_events;
/* What t.late saw of the others when it ran. */
static bool late_saw_early, late_saw_after;
/* What t.after saw of t.late. */
static bool after_saw_late;

static void log_event(const char *kind, const char *id)
{
	if (n_events < ARRAY_SIZE(events))
		snprintf(events[n_events++], sizeof(events[0]), "%s:%s", kind, id);
}

static void run_early(struct check_ctx *ctx, struct check_result *r)
{
	(void)ctx;
	log_event("r", "early");
	result_set(r, CHECK_PASS, "early");
}

static void start_late(struct check_ctx *ctx)
{
	(void)ctx;
	log_event("s", "late");
}

static void run_late(struct check_ctx *ctx, struct check_result *r)
{
	const struct check_result *e = run_result(ctx->run, "t.early");
	const struct check_result *a = run_result(ctx->run, "t.after");

	log_event("r", "late");
	late_saw_early = e && streq(e->summary, "early");
	late_saw_after = a && streq(a->summary, "after");
	result_set(r, CHECK_WARN, "late");
}

static void run_after(struct check_ctx *ctx, struct check_result *r)
{
	after_saw_late = run_result(ctx->run, "t.late") != NULL;
	log_event("r", "after");
	result_set(r, CHECK_PASS, "after");
}

static const struct check t_early = { .id = "t.early", .run = run_early };
static const struct check t_late = { .id = "t.late", .run = run_late, .start = start_late,
				     .flags = CHECK_LIVE_ONLY };
static const struct check t_after = { .id = "t.after", .run = run_after };

static void reset_log(void)
{
	n_events = 0;
	late_saw_early = late_saw_after = after_saw_late = false;
}

static void assert_events(const char *const *want, unsigned n)
{
	assert_int_equal(n_events, n);
	for (unsigned i = 0; i < n; i++)
		assert_string_equal(events[i], want[i]);
}

/* Live: the start hook runs first, its check runs after all others, the report keeps list order. */
static void test_collect_last_live(void **state)
{
	const struct check *list[] = { &t_early, &t_late, &t_after };
	const char *const want[] = { "s:late", "r:early", "r:after", "r:late" };
	struct host h = { .live = true };
	struct run *run = calloc(1, sizeof(*run));
	struct run_options opt = { 0 };
	struct check_ctx ctx = { .host = &h, .opt = &opt, .run = run };

	(void)state;
	assert_non_null(run);
	reset_log();
	run_checks(&ctx, run, list, ARRAY_SIZE(list));
	assert_events(want, ARRAY_SIZE(want));
	assert_int_equal(run->n, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_ptr_equal(run->check[i], list[i]);
		assert_false(run->pending[i]);
	}
	assert_string_equal(run->result[0].summary, "early");
	assert_string_equal(run->result[1].summary, "late");
	assert_int_equal(run->result[1].status, CHECK_WARN);
	assert_string_equal(run->result[2].summary, "after");
	/* The deferred check sees everything; nothing sees it before it ran. */
	assert_true(late_saw_early);
	assert_true(late_saw_after);
	assert_false(after_saw_late);
	assert_int_equal(run_verdict(run), VERDICT_DEGRADED);
	run_free(run);
	free(run);
}

/* Offline, a live-only check neither starts nor runs: it says so, in its place. */
static void test_no_start_offline(void **state)
{
	const struct check *list[] = { &t_early, &t_late, &t_after };
	const char *const want[] = { "r:early", "r:after" };
	struct host h = { .live = false };
	struct run *run = calloc(1, sizeof(*run));
	struct run_options opt = { 0 };
	struct check_ctx ctx = { .host = &h, .opt = &opt, .run = run };

	(void)state;
	assert_non_null(run);
	reset_log();
	run_checks(&ctx, run, list, ARRAY_SIZE(list));
	assert_events(want, ARRAY_SIZE(want));
	assert_string_equal(run->result[1].summary, "offline root");	/* CHECK_LIVE_ONLY */
	assert_int_equal(run->result[1].status, CHECK_SKIP);
	run_free(run);
	free(run);
}

/* More checks than a run holds: the rest are dropped, not written past the arrays. */
static void test_too_many(void **state)
{
	const struct check *list[80];
	struct host h = { .live = true };
	struct run *run = calloc(1, sizeof(*run));
	struct run_options opt = { 0 };
	struct check_ctx ctx = { .host = &h, .opt = &opt, .run = run };

	(void)state;
	assert_non_null(run);
	for (unsigned i = 0; i < ARRAY_SIZE(list); i++)
		list[i] = &t_early;
	reset_log();
	run_checks(&ctx, run, list, ARRAY_SIZE(list));
	assert_int_equal(run->n, ARRAY_SIZE(run->result));
	run_free(run);
	free(run);
}

static unsigned kvm_vm_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[300], target[128];
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (startswith(target, "anon_inode:kvm-vm") || startswith(target, "anon_inode:kvm-vcpu"))
			n++;
	}
	closedir(d);
	return n;
}

/* kvm.api hands its VM to a thread to destroy: it must be gone soon after, never kept. */
static void test_kvm_api_vm_goes_away(void **state)
{
	const struct check *c = check_find("kvm.api");
	struct host h;
	struct run run = { 0 };
	struct run_options opt = { 0 };
	struct check_ctx ctx = { .host = &h, .opt = &opt, .run = &run };
	struct check_result *r = calloc(1, sizeof(*r));
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	unsigned left = 1;

	(void)state;
	if (fd < 0) {
		free(r);
		SKIP_BECAUSE("/dev/kvm cannot be opened here: %s", strerror(errno));
	}
	close(fd);
	assert_non_null(c);
	assert_non_null(r);
	assert_int_equal(host_init(&h, NULL), 0);
	assert_int_equal(kvm_vm_fds(), 0);
	run_check(&ctx, c, r);
	assert_int_equal(r->status, CHECK_PASS);
	for (unsigned i = 0; i < 200 && left; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		left = kvm_vm_fds();
		if (left)
			nanosleep(&ts, NULL);
	}
	assert_int_equal(left, 0);
	result_free(r);
	free(r);
	host_fini(&h);
}

/* The whole live run keeps the registry's order in the report, whatever order it ran in. */
static void test_report_order_live(void **state)
{
	struct result res = { 0 };
	json_t *j, *arr, *c;
	size_t i;

	(void)state;
	RUN(&res, "--format", "json", "check", "--no-boot");
	assert_true(res.status >= 0 && res.status <= 2);
	j = parse_json(res.out);
	assert_non_null(j);
	arr = json_object_get(j, "checks");
	assert_int_equal(json_array_size(arr), n_checks);
	json_array_foreach(arr, i, c)
		assert_string_equal(json_string_value(json_object_get(c, "id")), checks[i]->id);
	json_decref(j);
	result_clear(&res);
}

/*
 * emulator.qemu runs QEMU with fds 0-2 only: an fd our caller left open without O_CLOEXEC
 * (here the test's /dev/null) must not reach it. A stand-in qemu-system-<arch> on $PATH
 * lists what it got.
 */
static void test_probe_gets_no_stray_fds(void **state)
{
	char dir[] = "/tmp/vd-speed-XXXXXX", script[300], list[300], env_path[400], text[4096];
	char *env[] = { env_path, NULL };
	struct result res = { 0 };
	struct utsname u;
	int stray, fd;
	ssize_t n;
	FILE *f;

	(void)state;
	if (access("/usr/bin/python3", X_OK) != 0)
		SKIP_BECAUSE("needs /usr/bin/python3 for the stand-in QEMU");
	assert_int_equal(uname(&u), 0);
	if (strcmp(u.machine, "x86_64") != 0)
		SKIP_BECAUSE("the stand-in is named qemu-system-x86_64; this is %s", u.machine);
	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/qemu-system-x86_64", dir);
	snprintf(list, sizeof(list), "%s/fds", dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f, "#!/usr/bin/python3\nimport os\n"
		"fds = sorted(int(x) for x in os.listdir('/proc/self/fd'))\n"
		"open('%s', 'w').write(' '.join(map(str, fds)))\n"
		"print('QEMU emulator version 9.9.9')\n", list);
	fclose(f);
	assert_int_equal(chmod(script, 0755), 0);
	/* Deliberately without O_CLOEXEC, and high, away from the fds python opens itself. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	stray = dup2(fd, 142);
	close(fd);
	assert_int_equal(stray, 142);
	snprintf(env_path, sizeof(env_path), "PATH=%s:/usr/sbin:/usr/bin:/sbin:/bin", dir);
	RUN_ENV(&res, env, "--format", "json", "check", "emulator.qemu");
	close(stray);
	fd = open(list, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	assert_true(n > 0);
	text[n] = '\0';
	/* 0-2 are the probe's; python's own listdir fd may show too, but never the stray one. */
	{
		char *save = NULL;

		for (char *t = strtok_r(text, " ", &save); t; t = strtok_r(NULL, " ", &save))
			assert_int_not_equal(atoi(t), stray);
	}
	assert_non_null(strstr(res.out, "9.9.9"));
	result_clear(&res);
	unlink(list);
	unlink(script);
	rmdir(dir);
}

/* Which of libxml2 and libkmod the dynamic loader brought in for this command (LD_DEBUG=files). */
static void loaded_libs(bool *xml, bool *kmod, char *const argv_tail[])
{
	char *env[] = { (char *)"LD_DEBUG=files", NULL };
	char *argv[8] = { (char *)VD_BIN };
	struct result res = { 0 };

	for (unsigned i = 0; argv_tail[i] && i + 2 < ARRAY_SIZE(argv); i++)
		argv[i + 1] = argv_tail[i];
	run_env(&res, env, argv);
	assert_non_null(res.err);
	*xml = strstr(res.err, "file=libxml2.so") != NULL;
	*kmod = strstr(res.err, "file=libkmod.so") != NULL;
	/* The loader did report: libc is always there. */
	assert_non_null(strstr(res.err, "file=libc.so"));
	result_clear(&res);
}

/* libxml2 and libkmod (and what they pull in) load when a check needs them, not at start-up. */
static void test_libraries_load_when_needed(void **state)
{
	bool xml, kmod;

	(void)state;
	loaded_libs(&xml, &kmod, (char *[]){ (char *)"--version", NULL });
	assert_false(xml);
	assert_false(kmod);
	loaded_libs(&xml, &kmod, (char *[]){ (char *)"explain", (char *)"kvm.modules", NULL });
	assert_false(xml);
	assert_false(kmod);
	loaded_libs(&xml, &kmod, (char *[]){ (char *)"check", (char *)"kvm.modules", NULL });
	assert_false(xml);
	assert_true(kmod);
	if (access("/etc/libvirt/qemu/networks/default.xml", R_OK) == 0) {
		loaded_libs(&xml, &kmod, (char *[]){ (char *)"check", (char *)"net.default_network", NULL });
		assert_true(xml);
	} else {
		printf("SKIP (part): no /etc/libvirt/qemu/networks/default.xml to parse here\n");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collect_last_live),
		cmocka_unit_test(test_no_start_offline),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_kvm_api_vm_goes_away),
		cmocka_unit_test(test_report_order_live),
		cmocka_unit_test(test_probe_gets_no_stray_fds),
		cmocka_unit_test(test_libraries_load_when_needed),
	};

	return cmocka_run_group_tests_name("speed", tests, NULL, NULL);
}
