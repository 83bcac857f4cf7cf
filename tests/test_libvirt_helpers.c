// SPDX-License-Identifier: GPL-2.0-or-later
/* libvirt.helpers and services.start_virtlogd: scratch roots offline, the host's real virtlogd live. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <cmocka.h>

#include "harness.h"
#include "libvirt_harness.h"

#define ID "libvirt.helpers"
#define LOGD_SOCK "/run/libvirt/virtlogd-sock"
#define LOGD_PIDFILE "/run/virtlogd.pid"
#define LOGD_BIN "/usr/sbin/virtlogd"
#define LIBVIRT_ERROR "Failed to connect socket to '" LOGD_SOCK "': No such file or directory"

static const char *dstr(json_t *j, const char *key)
{
	return json_string_value(detail(j, ID, key));
}

static const char *field(json_t *j, const char *key)
{
	return json_string_value(json_object_get(find_check(j, ID), key));
}

static void write_text(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char path[512];
	int fd;

	sfmt(path, "%s%s", dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static json_t *root_report(const char *dir, const char *id)
{
	struct result res = { 0 };
	json_t *j;

	RUN(&res, "--root", (char *)dir, "--format", "json", "check", (char *)id);
	j = parse_json(res.out);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")), res.status);
	result_clear(&res);
	return j;
}

/* ---- offline: the configuration and the binaries ---- */

static void test_offline_default_needs_virtlogd(void **state)
{
	char dir[256];
	json_t *j;

	(void)state;
	if (!fixture_copy("pvm", dir, sizeof(dir)))
		SKIP_BECAUSE("the pvm fixture needs root to create its device nodes");
	j = root_report(dir, ID);
	/* Debian's qemu.conf leaves stdio_handler commented out: "logd" is libvirt's default. */
	assert_string_equal(check_status(j, ID), "skip");
	assert_non_null(strstr(field(j, "summary"), "offline root"));
	assert_string_equal(dstr(j, "daemon"), "libvirtd");
	assert_string_equal(dstr(j, "stdio_handler"), "logd");
	assert_string_equal(dstr(j, "lock_manager"), "none");
	assert_true(list_has(detail(j, ID, "needed"), "virtlogd"));
	assert_int_equal(json_array_size(detail(j, ID, "needed")), 1);
	assert_true(json_is_true(detail(j, ID, "virtlogd_installed")));
	assert_true(json_is_null(detail(j, ID, "virtlogd_state")));
	json_decref(j);

	/* A libvirtd without virtlogd: every guest start would fail. */
	char path[300];

	sfmt(path, "%s/usr/sbin/virtlogd", dir);
	assert_int_equal(unlink(path), 0);
	j = root_report(dir, ID);
	assert_string_equal(check_status(j, ID), "fail");
	assert_non_null(strstr(field(j, "summary"), "virtlogd is needed but not installed"));
	assert_true(json_is_false(detail(j, ID, "virtlogd_installed")));
	assert_true(has_fix(j, ID, "packages.install_libvirt"));
	json_decref(j);

	/* stdio_handler = "file": QEMU writes its log itself, virtlogd is not needed. */
	write_text(dir, "/etc/libvirt/qemu.conf", "# qemu.conf\nstdio_handler = \"file\"\n", 0600);
	j = root_report(dir, ID);
	assert_string_equal(check_status(j, ID), "pass");
	assert_string_equal(dstr(j, "stdio_handler"), "file");
	assert_int_equal(json_array_size(detail(j, ID, "needed")), 0);
	json_decref(j);

	/* lock_manager = "lockd" adds virtlockd, which this tree lacks. */
	write_text(dir, "/etc/libvirt/qemu.conf", "stdio_handler = \"file\"\nlock_manager = \"lockd\"\n", 0600);
	j = root_report(dir, ID);
	assert_true(list_has(detail(j, ID, "needed"), "virtlockd"));
	assert_string_equal(check_status(j, ID), "fail");
	assert_non_null(strstr(field(j, "summary"), "virtlockd"));
	json_decref(j);
	remove_tree(dir);
}

/* Modular daemons: virtqemud needs virtnetworkd and virtstoraged as well. */
static void test_offline_modular(void **state)
{
	char dir[256];
	json_t *j;

	(void)state;
	if (!fixture_copy("rhel9-intel", dir, sizeof(dir)))
		SKIP_BECAUSE("the rhel9-intel fixture needs root to create its device nodes");
	j = root_report(dir, ID);
	assert_string_equal(dstr(j, "daemon"), "virtqemud");
	assert_true(list_has(detail(j, ID, "needed"), "virtlogd"));
	assert_true(list_has(detail(j, ID, "needed"), "virtnetworkd"));
	assert_true(list_has(detail(j, ID, "needed"), "virtstoraged"));
	assert_string_equal(dstr(j, "virtnetworkd_socket"), "/run/libvirt/virtnetworkd-sock");
	assert_string_equal(check_status(j, ID), "skip");
	json_decref(j);
	remove_tree(dir);
}

static void test_offline_not_installed(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "amd-svm-no-module", NULL, &st);
	assert_string_equal(check_status(j, ID), "skip");
	assert_non_null(strstr(field(j, "summary"), "not installed"));
	assert_true(json_is_null(detail(j, ID, "daemon")));
	json_decref(j);
}

/* ---- live: the host's real virtlogd, under the shared libvirt lock ---- */

static bool logd_accepts(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	strcpy(sa.sun_path, LOGD_SOCK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static pid_t logd_pid(void)
{
	char buf[32] = "";
	int fd = open(LOGD_PIDFILE, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? (pid_t)strtol(buf, NULL, 10) : -1;
}

/* Stop the virtlogd a test started (sig): SIGTERM removes its socket, SIGKILL leaves it. */
static void logd_stop(int sig)
{
	pid_t pid = logd_pid();

	if (pid > 1)
		kill(pid, sig);
	for (unsigned i = 0; i < 50 && logd_accepts(); i++)
		sleep_ms(100);
}

static int logd_start(void)
{
	struct result res = { 0 };
	int st;

	run_env(&res, NULL, (char *const[]){ (char *)LOGD_BIN, (char *)"--daemon", NULL });
	st = res.status;
	result_clear(&res);
	for (unsigned i = 0; i < 50 && !logd_accepts(); i++)
		sleep_ms(100);
	return st == 0 && logd_accepts() ? 0 : -EIO;
}

struct live {
	int lock;
	bool was_running;
};

static int live_setup(void **state)
{
	static struct live lv;

	lv.lock = -1;
	*state = &lv;
	if (geteuid() != 0 || access(LOGD_BIN, X_OK) < 0)
		return 0;
	lv.lock = libvirt_lock();
	if (lv.lock < 0)
		return -1;
	lv.was_running = logd_accepts();
	return 0;
}

/* Put virtlogd back as it was: running (set-up state) or stopped with no socket left (fresh). */
static int live_teardown(void **state)
{
	struct live *lv = *state;

	if (lv->lock < 0)
		return 0;
	if (lv->was_running && !logd_accepts()) {
		unlink(LOGD_SOCK);
		logd_start();
	} else if (!lv->was_running) {
		if (logd_accepts())
			logd_stop(SIGTERM);
		unlink(LOGD_SOCK);	/* a socket a killed virtlogd left behind */
	}
	libvirt_unlock(lv->lock);
	return 0;
}

static void skip_unless_live(struct live *lv)
{
	if (geteuid() != 0)
		SKIP_BECAUSE("starting and stopping virtlogd needs root");
	if (access(LOGD_BIN, X_OK) < 0)
		SKIP_BECAUSE("virtlogd is not installed here");
	assert_true(lv->lock >= 0);
}

static json_t *live_report(bool as_nobody)
{
	struct result res = { 0 };
	json_t *j;

	if (as_nobody)
		RUN_NOBODY(&res, "--format", "json", "check", ID);
	else
		RUN(&res, "--format", "json", "check", ID);
	j = parse_json(res.out);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")), res.status);
	result_clear(&res);
	return j;
}

/* virtlogd down: fail, quoting what every guest start then says. */
static void test_live_down(void **state)
{
	struct live *lv = *state;
	json_t *j;

	skip_unless_live(lv);
	if (logd_accepts())
		logd_stop(SIGTERM);
	unlink(LOGD_SOCK);
	j = live_report(false);
	assert_string_equal(check_status(j, ID), "fail");
	assert_string_equal(dstr(j, "virtlogd_state"), "missing");
	assert_true(list_has(detail(j, ID, "down"), "virtlogd"));
	assert_non_null(strstr(field(j, "summary"), "virtlogd is not running"));
	assert_non_null(strstr(field(j, "advice"), LIBVIRT_ERROR));
	assert_true(has_fix(j, ID, "services.start_virtlogd"));
	json_decref(j);

	/* A socket left by a killed virtlogd: nothing listens, libvirt says "Connection refused". */
	assert_int_equal(logd_start(), 0);
	logd_stop(SIGKILL);
	if (access(LOGD_SOCK, F_OK) == 0) {
		j = live_report(false);
		assert_string_equal(check_status(j, ID), "fail");
		assert_string_equal(dstr(j, "virtlogd_state"), "refused");
		assert_non_null(strstr(field(j, "advice"), "Connection refused"));
		json_decref(j);
		unlink(LOGD_SOCK);
	} else {
		printf("SKIP (part): the killed virtlogd left no socket behind\n");
	}
}

/* The fix applied for real: virtlogd --daemon here (no service manager), then pass. */
static void test_live_fix_apply(void **state)
{
	char journal[] = "/tmp/vd-logd-journal-XXXXXX";
	struct live *lv = *state;
	struct result res = { 0 };
	char *env[] = { (char *)"VIRT_DOCTOR_DATADIR=" VD_SRCDIR "/data/distros", NULL };
	json_t *j;
	int fd;

	skip_unless_live(lv);
	if (access("/run/systemd/system", F_OK) == 0)
		SKIP_BECAUSE("systemd runs here: the apply would enable virtlogd.socket for good");
	if (logd_accepts())
		logd_stop(SIGTERM);
	unlink(LOGD_SOCK);
	fd = mkstemp(journal);
	assert_true(fd >= 0);
	close(fd);

	RUN_ENV(&res, env, "fix", "--format", "json", "--only", "services.start_virtlogd");
	j = parse_json(res.out);
	assert_non_null(j);
	assert_non_null(strstr(res.out, "virtlogd"));
	assert_non_null(strstr(res.out, "--daemon"));
	json_decref(j);
	result_clear(&res);

	RUN_ENV(&res, env, "fix", "--apply", "--yes", "--only", "services.start_virtlogd", "--journal", journal);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "fixed (libvirt.helpers pass)"));
	result_clear(&res);
	assert_true(logd_accepts());
	j = live_report(false);
	assert_string_equal(check_status(j, ID), "pass");
	assert_string_equal(dstr(j, "virtlogd_state"), "accepting");
	json_decref(j);

	/* Nobody cannot connect to the 0600 socket, but /proc/net/unix shows the listener. */
	if (access("/usr/bin/setpriv", X_OK) == 0) {
		j = live_report(true);
		assert_string_equal(check_status(j, ID), "pass");
		assert_string_equal(dstr(j, "virtlogd_state"), "listening");
		assert_true(json_is_false(detail(j, ID, "qemu_conf_readable")));
		assert_non_null(strstr(field(j, "summary"), "defaults assumed"));
		json_decref(j);
	}

	/* Applying again changes nothing: the guard sees virtlogd answer. */
	RUN_ENV(&res, env, "fix", "--apply", "--yes", "--only", "services.start_virtlogd", "--journal", journal);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "unchanged"));
	result_clear(&res);

	logd_stop(SIGTERM);
	unlink(LOGD_SOCK);
	unlink(journal);
}

int main(void)
{
	const struct CMUnitTest offline[] = {
		cmocka_unit_test(test_offline_default_needs_virtlogd),
		cmocka_unit_test(test_offline_modular),
		cmocka_unit_test(test_offline_not_installed),
	};
	const struct CMUnitTest live[] = {
		cmocka_unit_test(test_live_down),
		cmocka_unit_test(test_live_fix_apply),
	};
	int fails = cmocka_run_group_tests_name("libvirt.helpers offline", offline, NULL, NULL);

	fails += cmocka_run_group_tests_name("libvirt.helpers live (real virtlogd)", live, live_setup,
					     live_teardown);
	return fails;
}
