// SPDX-License-Identifier: GPL-2.0-or-later
/* libvirt.daemon: parsers, fixture roots, a fake wedged socket, and the host's real libvirtd. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <cmocka.h>

#include "checks/libvirt.h"
#include "harness.h"
#include "libvirt_harness.h"

#define ID "libvirt.daemon"

static const char *dstr(json_t *j, const char *key)
{
	return json_string_value(detail(j, ID, key));
}

static const char *field(json_t *j, const char *key)
{
	return json_string_value(json_object_get(find_check(j, ID), key));
}

static json_int_t duration_us(json_t *j)
{
	return json_integer_value(json_object_get(find_check(j, ID), "duration_us"));
}

/* ---- parsers ---- */

static void test_conf_parse(void **state)
{
	static const char conf[] =
		"# unix_sock_group = \"wheel\"\n"
		"#unix_sock_group = \"libvirt\"\n"
		"unix_sock_group_extra = \"nope\"\n"
		"  unix_sock_group = \"kvm\"   # who may connect\n"
		"unix_sock_rw_perms = '0770'\n"
		"max_clients=5000\n"
		"auth_unix_rw = \"none\"\n"
		"auth_unix_rw = \"polkit\"\n"
		"bad_key \"no equals\"\n";
	char v[16];

	(void)state;
	assert_int_equal(libvirt_conf_get(conf, "unix_sock_group", v, sizeof(v)), 0);
	assert_string_equal(v, "kvm");
	assert_int_equal(libvirt_conf_get(conf, "unix_sock_rw_perms", v, sizeof(v)), 0);
	assert_string_equal(v, "0770");
	assert_int_equal(libvirt_conf_get(conf, "max_clients", v, sizeof(v)), 0);
	assert_string_equal(v, "5000");
	/* The last assignment wins, as in libvirt. */
	assert_int_equal(libvirt_conf_get(conf, "auth_unix_rw", v, sizeof(v)), 0);
	assert_string_equal(v, "polkit");
	assert_int_equal(libvirt_conf_get(conf, "auth_unix_ro", v, sizeof(v)), -ENOENT);
	assert_int_equal(libvirt_conf_get(conf, "bad_key", v, sizeof(v)), -ENOENT);
	assert_int_equal(libvirt_conf_get(conf, "unix_sock_group_extra", v, 3), -ENOSPC);
	assert_int_equal(libvirt_conf_get("", "unix_sock_group", v, sizeof(v)), -ENOENT);
	assert_int_equal(libvirt_conf_get("unix_sock_group = \"unterminated\n", "unix_sock_group", v,
					  sizeof(v)), -ENOENT);
}

static void test_polkit_groups(void **state)
{
	static const char debian[] =
		"polkit.addRule(function(action, subject) {\n"
		"    if (action.id == \"org.libvirt.unix.manage\" &&\n"
		"        subject.isInGroup(\"libvirt\")) {\n"
		"        return polkit.Result.YES;\n"
		"    }\n});\n";
	static const char two[] =
		"polkit.addRule(function(a, s) { if (a.id == 'org.libvirt.unix.manage' &&"
		" (s.isInGroup('wheel') || s.isInGroup( 'virt' ))) return polkit.Result.YES; });";
	static const char other[] =
		"polkit.addRule(function(a, s) { if (a.id == \"org.freedesktop.packagekit.x\" &&"
		" s.isInGroup(\"sudo\")) return polkit.Result.YES; });";
	char g[8][64];

	(void)state;
	assert_int_equal(polkit_libvirt_groups(debian, g, 8), 1);
	assert_string_equal(g[0], "libvirt");
	assert_int_equal(polkit_libvirt_groups(two, g, 8), 2);
	assert_string_equal(g[0], "wheel");
	assert_string_equal(g[1], "virt");
	assert_int_equal(polkit_libvirt_groups(two, g, 1), 1);
	assert_int_equal(polkit_libvirt_groups(other, g, 8), 0);
	assert_int_equal(polkit_libvirt_groups("isInGroup(\"x\") org.libvirt.unix.manage isInGroup(",
					       g, 8), 1);
}

/* ---- fixture roots (offline: file-level facts only) ---- */

static void test_offline_installed(void **state)
{
	char *alice[] = { (char *)"SUDO_UID=1000", (char *)"SUDO_GID=1000", NULL };
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "intel-vmx-kvm-intel", NULL, &st);
	/* Installed, and whether it runs cannot be known offline: skip, with the reason. */
	assert_string_equal(check_status(j, ID), "skip");
	assert_non_null(strstr(field(j, "summary"), "offline root"));
	assert_true(list_has(detail(j, ID, "installed"), "/usr/sbin/libvirtd"));
	assert_string_equal(dstr(j, "virsh"), "/usr/bin/virsh");
	assert_true(json_is_null(detail(j, ID, "daemon")));
	assert_true(json_is_null(detail(j, ID, "socket")));
	assert_true(json_is_null(detail(j, ID, "socket_accepts")));
	assert_string_equal(dstr(j, "config"), "/etc/libvirt/libvirtd.conf");
	/* Every key is commented out, and the polkit actions are installed: polkit decides. */
	assert_string_equal(dstr(j, "auth_unix_rw"), "polkit");
	assert_null(detail(j, ID, "unix_sock_group"));
	assert_string_equal(dstr(j, "user"), "root");
	assert_true(json_is_true(detail(j, ID, "user_access")));
	assert_int_equal(json_array_size(json_object_get(find_check(j, ID), "fixes")), 0);
	json_decref(j);

	FIXTURE_OR_SKIP(j, "intel-vmx-kvm-intel", alice, &st);
	assert_string_equal(check_status(j, ID), "skip");
	assert_string_equal(dstr(j, "user"), "alice");
	assert_string_equal(dstr(j, "libvirt_group"), "libvirt");
	assert_true(json_is_true(detail(j, ID, "in_libvirt_group")));
	assert_string_equal(dstr(j, "access_via"), "polkit");
	assert_string_equal(dstr(j, "polkit_rule"), "/usr/share/polkit-1/rules.d/60-libvirt.rules");
	assert_true(json_is_true(detail(j, ID, "user_access")));
	json_decref(j);
}

/* RHEL 9's modular daemons; alice is not in group libvirt. */
static void test_offline_modular_user_denied(void **state)
{
	char *alice[] = { (char *)"SUDO_UID=1000", (char *)"SUDO_GID=1000", NULL };
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "rhel9-intel", alice, &st);
	assert_string_equal(check_status(j, ID), "warn");
	assert_true(list_has(detail(j, ID, "installed"), "/usr/sbin/virtqemud"));
	assert_true(list_has(detail(j, ID, "installed"), "/usr/sbin/virtproxyd"));
	assert_string_equal(dstr(j, "config"), "/etc/libvirt/virtqemud.conf");
	assert_string_equal(dstr(j, "polkit_rule"), "/usr/share/polkit-1/rules.d/50-libvirt.rules");
	assert_true(json_is_false(detail(j, ID, "in_libvirt_group")));
	assert_true(json_is_false(detail(j, ID, "user_access")));
	assert_true(has_fix(j, ID, "user.add_to_libvirt_group"));
	assert_non_null(strstr(field(j, "advice"), "usermod -aG libvirt alice"));
	json_decref(j);

	/* The same root judged for root: nothing to fix, daemon state left open. */
	FIXTURE_OR_SKIP(j, "rhel9-intel", NULL, &st);
	assert_string_equal(check_status(j, ID), "skip");
	assert_false(has_fix(j, ID, "user.add_to_libvirt_group"));
	json_decref(j);
}

static void test_offline_not_installed(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "amd-svm-no-module", NULL, &st);
	assert_string_equal(check_status(j, ID), "fail");
	assert_int_equal(json_array_size(detail(j, ID, "installed")), 0);
	assert_true(json_is_null(detail(j, ID, "virsh")));
	assert_true(json_is_null(detail(j, ID, "daemon")));
	assert_true(has_fix(j, ID, "packages.install_libvirt"));
	assert_non_null(strstr(field(j, "advice"),
			       "Failed to connect socket to '/var/run/libvirt/libvirt-sock'"));
	json_decref(j);
}

/* Socket-permission access (auth_unix_rw = "none"): the group and mode decide. */
static void test_offline_socket_group(void **state)
{
	char *alice[] = { (char *)"SUDO_UID=1000", (char *)"SUDO_GID=1000", NULL };
	char *qemu_user[] = { (char *)"SUDO_UID=64055", (char *)"SUDO_GID=993", NULL };
	char dir[256], path[400];
	struct result res = { 0 };
	json_t *j;
	FILE *f;
	int r = materialize("intel-vmx-kvm-intel", dir, sizeof(dir));

	(void)state;
	if (r == -EPERM) {
		remove_tree(dir);
		SKIP_BECAUSE("intel-vmx-kvm-intel needs root to create its device nodes");
	}
	assert_int_equal(r, 0);
	sfmt(path, "%s/etc/libvirt/libvirtd.conf", dir);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs("unix_sock_group = \"libvirt\"\nunix_sock_rw_perms = \"0770\"\nauth_unix_rw = \"none\"\n", f);
	fclose(f);

	RUN_ENV(&res, alice, "--root", dir, "--format", "json", "check", ID);
	j = parse_json(res.out);
	assert_string_equal(check_status(j, ID), "skip");
	assert_string_equal(dstr(j, "unix_sock_group"), "libvirt");
	assert_string_equal(dstr(j, "unix_sock_rw_perms"), "0770");
	assert_string_equal(dstr(j, "auth_unix_rw"), "none");
	assert_string_equal(dstr(j, "access_via"), "socket permissions");
	assert_true(json_is_true(detail(j, ID, "user_access")));
	json_decref(j);
	result_clear(&res);

	/* libvirt-qemu is in kvm, not in libvirt: the 0770 socket shuts it out. */
	RUN_ENV(&res, qemu_user, "--root", dir, "--format", "json", "check", ID);
	j = parse_json(res.out);
	assert_string_equal(check_status(j, ID), "warn");
	assert_string_equal(dstr(j, "user"), "libvirt-qemu");
	assert_true(json_is_false(detail(j, ID, "user_access")));
	assert_true(has_fix(j, ID, "user.add_to_libvirt_group"));
	assert_non_null(strstr(field(j, "advice"), "mode 0770"));
	json_decref(j);
	result_clear(&res);
	remove_tree(dir);
}

/* ---- live, against sockets we make: the test-only socket override ---- */

#define SOCK_ENV "VIRT_DOCTOR_TEST_LIBVIRT_SOCK"

static bool libvirt_client_present(void)
{
	return access("/usr/lib/x86_64-linux-gnu/libvirt.so.0", F_OK) == 0 ||
	       access("/usr/lib64/libvirt.so.0", F_OK) == 0 || access("/usr/lib/libvirt.so.0", F_OK) == 0;
}

/* A listening unix socket at dir/sock that never accepts; its fd, or -1 after closing (stale). */
static int fake_socket(char *dir, char *path, size_t size, bool keep)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, size, "%s/sock", dir);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	if (!keep) {
		close(fd);
		return -1;
	}
	return fd;
}

static void skip_unless_libvirt(void)
{
	if (!libvirtd_installed())
		SKIP_BECAUSE("libvirtd (libvirt-daemon-system) and virsh are not installed here");
	if (!libvirt_client_present())
		SKIP_BECAUSE("libvirt.so.0 is not installed here");
}

/* A daemon that accepts but never answers: the check gives up at its bound and says so. */
static void test_wedged_socket_timeout(void **state)
{
	char dir[] = "/tmp/vd-lvsock.XXXXXX", path[128], env_sock[200];
	char *env[] = { env_sock, NULL };
	struct result res = { 0 };
	uint64_t t0, wall;
	json_t *j;
	int fd;

	(void)state;
	skip_unless_libvirt();
	fd = fake_socket(dir, path, sizeof(path), true);
	sfmt(env_sock, SOCK_ENV "=%s", path);
	t0 = now_us();
	RUN_ENV(&res, env, "--format", "json", "check", ID);
	wall = now_us() - t0;
	j = parse_json(res.out);
	assert_string_equal(check_status(j, ID), "fail");
	assert_non_null(strstr(field(j, "summary"), "did not answer within 3.0 s"));
	assert_true(json_is_true(detail(j, ID, "socket_accepts")));
	assert_string_equal(dstr(j, "daemon"), "libvirtd");
	assert_string_equal(dstr(j, "socket"), path);
	assert_string_equal(dstr(j, "connect_error"), "no answer within 3000 ms");
	assert_true(json_is_null(detail(j, ID, "hypervisor")));
	assert_true(has_fix(j, ID, "services.enable_libvirtd"));
	/* It waited for the bound, and not much longer. */
	assert_true(duration_us(j) >= 2900000);	/* the start hook may begin it earlier */
	assert_true(duration_us(j) < 3500000);
	assert_true(wall < 5000000);
	assert_int_equal(res.status, 2);
	json_decref(j);
	result_clear(&res);
	close(fd);
	remove_tree(dir);
}

/* A stale socket (nobody listening) and a path that is not a socket: not running. */
static void test_stale_and_bogus_socket(void **state)
{
	char dir[] = "/tmp/vd-lvsock.XXXXXX", path[128], env_sock[200];
	char *env[] = { env_sock, NULL };
	struct result res = { 0 };
	json_t *j;
	int fd;

	(void)state;
	if (!libvirtd_installed())
		SKIP_BECAUSE("libvirtd (libvirt-daemon-system) and virsh are not installed here");
	fake_socket(dir, path, sizeof(path), false);
	sfmt(env_sock, SOCK_ENV "=%s", path);
	RUN_ENV(&res, env, "--format", "json", "check", ID);
	j = parse_json(res.out);
	assert_string_equal(check_status(j, ID), "fail");
	assert_true(json_is_false(detail(j, ID, "socket_accepts")));
	assert_string_equal(dstr(j, "socket_error"), strerror(ECONNREFUSED));
	assert_true(json_is_null(detail(j, ID, "daemon")));
	assert_non_null(strstr(field(j, "summary"), "nothing accepts connections"));
	assert_true(has_fix(j, ID, "services.enable_libvirtd"));
	json_decref(j);
	result_clear(&res);

	assert_int_equal(unlink(path), 0);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	RUN_ENV(&res, env, "--format", "json", "check", ID);
	j = parse_json(res.out);
	assert_string_equal(check_status(j, ID), "fail");
	assert_non_null(strstr(field(j, "summary"), "is not a socket"));
	assert_true(has_fix(j, ID, "services.enable_libvirtd"));
	json_decref(j);
	result_clear(&res);
	remove_tree(dir);
}

/* A socket this user may not connect to: a fail about access, with the group fix. */
static void test_socket_permission_denied(void **state)
{
	char dir[] = "/tmp/vd-lvsock.XXXXXX", path[128], env_sock[200];
	char *env[] = { env_sock, NULL };
	struct result res = { 0 };
	json_t *j;
	int fd;

	(void)state;
	if (!libvirtd_installed())
		SKIP_BECAUSE("libvirtd (libvirt-daemon-system) and virsh are not installed here");
	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) < 0)
		SKIP_BECAUSE("needs root and setpriv to run as nobody");
	fd = fake_socket(dir, path, sizeof(path), true);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chmod(path, 0700), 0);
	sfmt(env_sock, SOCK_ENV "=%s", path);
	run_env(&res, env, (char *const[]){ (char *)"/usr/bin/setpriv", (char *)"--reuid=nobody",
		(char *)"--regid=nogroup", (char *)"--clear-groups", (char *)VD_BIN, (char *)"--format",
		(char *)"json", (char *)"check", (char *)ID, NULL });
	j = parse_json(res.out);
	assert_string_equal(check_status(j, ID), "fail");
	assert_string_equal(dstr(j, "user"), "nobody");
	assert_string_equal(dstr(j, "socket_error"), strerror(EACCES));
	assert_string_equal(dstr(j, "socket_mode"), "0700");
	assert_true(json_is_false(detail(j, ID, "socket_accepts")));
	assert_true(json_is_false(detail(j, ID, "user_access")));
	assert_non_null(strstr(field(j, "summary"), "nobody may not connect"));
	assert_true(has_fix(j, ID, "user.add_to_libvirt_group"));
	assert_false(has_fix(j, ID, "services.enable_libvirtd"));
	json_decref(j);
	result_clear(&res);
	close(fd);
	remove_tree(dir);
}

/* ---- live, against the host's real libvirtd (under the shared lock) ---- */

struct live {
	int lock;
	bool ok;		/* libvirt installed and we are root: the live tests can run */
	bool was_running;
	int net0;		/* the default network at the start: 1, 0, -ENOENT */
	bool autostart0;
	char xml[64];		/* its definition, saved before a test undefines it */
	bool kvm_saved;		/* /dev/kvm's owner and mode at the start, put back at the end */
	struct stat kvm0;
};

static int live_setup(void **state)
{
	static struct live lv;

	lv = (struct live){ .lock = -1, .net0 = -ENOENT };
	*state = &lv;
	if (!host_changes_allowed() || !libvirtd_installed() || !libvirt_client_present() || geteuid() != 0)
		return 0;	/* each test says SKIP */
	lv.lock = libvirt_lock();
	if (lv.lock < 0)
		return -1;
	lv.kvm_saved = stat("/dev/kvm", &lv.kvm0) == 0;
	lv.was_running = libvirtd_running();
	if (!lv.was_running && libvirtd_start() < 0)
		return -1;
	lv.net0 = default_net_state(&lv.autostart0);
	sfmt(lv.xml, "/tmp/vd-lvnet.%d.xml", (int)getpid());
	lv.ok = true;
	return 0;
}

/* Put back what we found: the network's definition, state and autostart, and the daemon. */
static int live_teardown(void **state)
{
	struct live *lv = *state;
	bool autostart;
	int r = 0, now;

	if (lv->lock < 0)
		return 0;
	if (lv->ok) {
		if (!libvirtd_running() && libvirtd_start() < 0)
			r = -1;
		now = default_net_state(&autostart);
		if (lv->net0 != -ENOENT && now == -ENOENT &&
		    virsh_run(NULL, 0, "net-define", lv->xml, (char *)NULL) != 0)
			r = -1;
		if (lv->net0 == 1 && default_net_state(NULL) != 1)
			virsh_run(NULL, 0, "net-start", "default", (char *)NULL);
		if (lv->net0 == 0 && default_net_state(NULL) == 1)
			virsh_run(NULL, 0, "net-destroy", "default", (char *)NULL);
		if (lv->net0 >= 0)
			virsh_run(NULL, 0, "net-autostart", "default",
				  lv->autostart0 ? (char *)NULL : "--disable", (char *)NULL);
		if (default_net_state(&autostart) != lv->net0 || (lv->net0 >= 0 && autostart != lv->autostart0)) {
			fprintf(stderr, "libvirt tests: could not restore the default network\n");
			r = -1;
		}
		if (!lv->was_running && libvirtd_stop() < 0) {
			fprintf(stderr, "libvirt tests: could not stop the libvirtd we started\n");
			r = -1;
		}
		unlink(lv->xml);
	}
	/* A test that changed /dev/kvm and failed half-way must not leave it changed. */
	if (lv->kvm_saved && (chown("/dev/kvm", lv->kvm0.st_uid, lv->kvm0.st_gid) < 0 ||
			      chmod("/dev/kvm", lv->kvm0.st_mode & 07777) < 0)) {
		fprintf(stderr, "libvirt tests: could not restore /dev/kvm\n");
		r = -1;
	}
	libvirt_unlock(lv->lock);
	return r;
}

static void skip_unless_live(struct live *lv)
{
	HOST_CHANGE_OR_SKIP();
	if (!libvirtd_installed())
		SKIP_BECAUSE("libvirtd (libvirt-daemon-system) and virsh are not installed here");
	if (!libvirt_client_present())
		SKIP_BECAUSE("libvirt.so.0 is not installed here");
	if (geteuid() != 0)
		SKIP_BECAUSE("starting and stopping libvirtd needs root");
	assert_true(lv->ok);
}

static json_t *live_report(char *const env[], int *status)
{
	struct result res = { 0 };
	json_t *j;

	RUN_ENV(&res, env, "--format", "json", "check", ID);
	j = parse_json(res.out);
	if (status)
		*status = res.status;
	result_clear(&res);
	return j;
}

static void test_live_stopped(void **state)
{
	struct live *lv = *state;
	json_t *j;
	int st;

	skip_unless_live(lv);
	if (libvirtd_running())
		assert_int_equal(libvirtd_stop(), 0);
	j = live_report(NULL, &st);
	assert_string_equal(check_status(j, ID), "fail");
	assert_non_null(strstr(field(j, "summary"), "not running"));
	assert_string_equal(dstr(j, "socket"), LIBVIRTD_SOCK);
	assert_true(json_is_false(detail(j, ID, "socket_accepts")));
	assert_true(json_is_null(detail(j, ID, "daemon")));
	assert_true(has_fix(j, ID, "services.enable_libvirtd"));
	assert_false(has_fix(j, ID, "packages.install_libvirt"));
	/* The words a user searching for virsh's error will recognize. */
	assert_non_null(strstr(field(j, "advice"), "Failed to connect socket to "
			       "'/var/run/libvirt/libvirt-sock': No such file or directory"));
	assert_int_equal(st, 2);
	/* Nothing to talk to: no fork, no dlopen. */
	assert_true(duration_us(j) < 20000);
	printf("libvirt.daemon with libvirtd stopped: %lld us\n", (long long)duration_us(j));
	json_decref(j);
}

/*
 * What the check reports is what virsh reports. The host name needs no QEMU, so it is always
 * compared; the versions only when the QEMU view answered: with /dev/kvm 0600 `virsh version`
 * itself waits for libvirtd's QEMU probe (over 30 s right after a start, measured here).
 */
static void test_live_running(void **state)
{
	struct live *lv = *state;
	char out[2048], want_hv[64], want_lib[64], host[256];
	const char *p;
	json_t *j;

	skip_unless_live(lv);
	if (!libvirtd_running())
		assert_int_equal(libvirtd_start(), 0);
	j = live_report(NULL, NULL);
	assert_string_not_equal(check_status(j, ID), "fail");
	assert_string_not_equal(check_status(j, ID), "skip");
	assert_string_equal(dstr(j, "daemon"), "libvirtd");
	assert_true(json_is_true(detail(j, ID, "socket_accepts")));
	assert_string_equal(dstr(j, "uri"), "qemu:///system");
	assert_string_equal(dstr(j, "hypervisor"), "QEMU");
	assert_string_equal(dstr(j, "virsh"), VIRSH_BIN);
	/* Liveness never waits for QEMU: the cheap calls answer in milliseconds. */
	assert_true(json_integer_value(detail(j, ID, "answer_ms")) < 1000);
	assert_true(duration_us(j) < 3000000);
	printf("libvirt.daemon with libvirtd running: %lld us\n", (long long)duration_us(j));
	assert_int_equal(virsh_run(host, sizeof(host), "hostname", (char *)NULL), 0);
	assert_non_null(dstr(j, "libvirt_hostname"));
	assert_non_null(strstr(host, dstr(j, "libvirt_hostname")));
	if (!streq(dstr(j, "qemu_view"), "answered")) {
		/* A slow QEMU view is explained, never "wedged" (and never a fail). */
		assert_string_equal(dstr(j, "qemu_view"), "timeout");
		assert_non_null(dstr(j, "qemu_view_cause"));
		assert_true(json_is_null(detail(j, ID, "hypervisor_version")));
		assert_null(strstr(field(j, "summary"), "did not answer"));
		json_decref(j);
		return;
	}
	assert_int_equal(virsh_run(out, sizeof(out), "version", (char *)NULL), 0);
	p = strstr(out, "Running hypervisor: QEMU ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "Running hypervisor: QEMU %63s", want_hv), 1);
	p = strstr(out, "Using library: libvirt ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "Using library: libvirt %63s", want_lib), 1);
	assert_string_equal(dstr(j, "hypervisor_version"), want_hv);
	assert_string_equal(dstr(j, "libvirt_version"), want_lib);
	json_decref(j);
}

/*
 * /dev/kvm 0600 root:root (a fresh machine here): libvirt-qemu cannot open it, libvirtd answers
 * the cheap calls and re-probes QEMU on every call that needs it. The doctor says exactly that,
 * as a warning naming the cause and the /dev/kvm fix, within its bounds. With 0660 root:kvm the
 * QEMU view answers and its version is virsh's. /dev/kvm is put back as it was.
 */
static void test_live_kvm_states(void **state)
{
	struct live *lv = *state;
	char out[2048], want_hv[64] = "";
	const char *p;
	struct group *kvm = getgrnam("kvm");
	struct stat st0;
	json_t *j;

	skip_unless_live(lv);
	if (stat("/dev/kvm", &st0) < 0)
		SKIP_BECAUSE("no /dev/kvm here");
	if (!kvm)
		SKIP_BECAUSE("no kvm group here");
	if (!libvirtd_running())
		assert_int_equal(libvirtd_start(), 0);

	assert_int_equal(chown("/dev/kvm", 0, 0), 0);
	assert_int_equal(chmod("/dev/kvm", 0600), 0);
	j = live_report(NULL, NULL);
	assert_string_equal(check_status(j, ID), "warn");
	assert_string_equal(dstr(j, "qemu_view"), "timeout");
	assert_string_equal(dstr(j, "qemu_view_cause"), "kvm-unusable");
	assert_string_equal(dstr(j, "qemu_user"), "libvirt-qemu");
	assert_true(json_is_false(detail(j, ID, "qemu_access")));
	assert_non_null(strstr(field(j, "summary"), "re-probes QEMU"));
	assert_non_null(strstr(field(j, "advice"), "Could not access KVM kernel module: Permission denied"));
	assert_true(has_fix(j, ID, "udev.kvm_permissions"));
	assert_true(json_integer_value(detail(j, ID, "answer_ms")) < 1000);
	assert_true(duration_us(j) < 3000000);
	printf("libvirt.daemon, /dev/kvm 0600: %lld us\n", (long long)duration_us(j));
	json_decref(j);

	assert_int_equal(chown("/dev/kvm", 0, kvm->gr_gid), 0);
	assert_int_equal(chmod("/dev/kvm", 0660), 0);
	/* libvirtd probes QEMU once for the new state (seconds); virsh waits for it. */
	assert_int_equal(virsh_run(out, sizeof(out), "version", (char *)NULL), 0);
	p = strstr(out, "Running hypervisor: QEMU ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "Running hypervisor: QEMU %63s", want_hv), 1);
	j = live_report(NULL, NULL);
	assert_string_equal(dstr(j, "qemu_view"), "answered");
	assert_string_equal(dstr(j, "hypervisor_version"), want_hv);
	assert_false(has_fix(j, ID, "udev.kvm_permissions"));
	assert_string_not_equal(check_status(j, ID), "fail");
	printf("libvirt.daemon, /dev/kvm 0660 root:kvm: %lld us\n", (long long)duration_us(j));
	json_decref(j);

	assert_int_equal(chown("/dev/kvm", st0.st_uid, st0.st_gid), 0);
	assert_int_equal(chmod("/dev/kvm", st0.st_mode & 07777), 0);
}

static void test_live_default_network(void **state)
{
	struct live *lv = *state;
	bool autostart;
	json_t *j;

	skip_unless_live(lv);
	if (lv->net0 == -ENOENT)
		SKIP_BECAUSE("libvirt here has no default network to start and stop");
	if (!libvirtd_running())
		assert_int_equal(libvirtd_start(), 0);

	if (default_net_state(NULL) != 1)
		assert_int_equal(virsh_run(NULL, 0, "net-start", "default", (char *)NULL), 0);
	assert_int_equal(default_net_state(&autostart), 1);
	j = live_report(NULL, NULL);
	assert_string_equal(dstr(j, "default_network"), "active");
	assert_true(json_is_boolean(detail(j, ID, "default_autostart")));
	assert_int_equal(json_is_true(detail(j, ID, "default_autostart")), autostart);
	/* Root, daemon answering, network up: nothing left to say about the network. The
	 * QEMU view may still be late (a fresh machine's /dev/kvm is 0600: libvirtd re-probes),
	 * which is a warn with that cause, never about the network. */
	if (!streq(check_status(j, ID), "pass")) {
		assert_string_equal(check_status(j, ID), "warn");
		assert_string_equal(dstr(j, "qemu_view"), "timeout");
	}
	assert_false(has_fix(j, ID, "libvirt.start_default_network"));
	json_decref(j);

	assert_int_equal(virsh_run(NULL, 0, "net-destroy", "default", (char *)NULL), 0);
	assert_int_equal(default_net_state(NULL), 0);
	j = live_report(NULL, NULL);
	assert_string_equal(dstr(j, "default_network"), "inactive");
	assert_string_equal(check_status(j, ID), "warn");
	assert_true(has_fix(j, ID, "libvirt.start_default_network"));
	json_decref(j);
}

/* A libvirt without the default network: define it again afterwards from its own XML. */
static void test_live_network_missing(void **state)
{
	struct live *lv = *state;
	static char xml[16384];
	json_t *j;
	FILE *f;

	skip_unless_live(lv);
	if (lv->net0 == -ENOENT)
		SKIP_BECAUSE("libvirt here has no default network to remove and restore");
	if (!libvirtd_running())
		assert_int_equal(libvirtd_start(), 0);
	assert_int_equal(virsh_run(xml, sizeof(xml), "net-dumpxml", "--inactive", "default", (char *)NULL), 0);
	assert_non_null(strstr(xml, "<name>default</name>"));
	f = fopen(lv->xml, "we");
	assert_non_null(f);
	assert_int_equal(fputs(xml, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);

	if (default_net_state(NULL) == 1)
		assert_int_equal(virsh_run(NULL, 0, "net-destroy", "default", (char *)NULL), 0);
	assert_int_equal(virsh_run(NULL, 0, "net-undefine", "default", (char *)NULL), 0);
	assert_int_equal(default_net_state(NULL), -ENOENT);
	j = live_report(NULL, NULL);
	assert_string_equal(dstr(j, "default_network"), "missing");
	assert_true(json_is_null(detail(j, ID, "default_autostart")));
	assert_string_equal(check_status(j, ID), "warn");
	assert_true(has_fix(j, ID, "libvirt.define_default_network"));
	json_decref(j);

	assert_int_equal(virsh_run(NULL, 0, "net-define", lv->xml, (char *)NULL), 0);
	assert_int_equal(default_net_state(NULL), 0);
}

/* Run by root for SUDO_UID=nobody: the daemon answers root, but nobody may not manage it. */
static void test_live_sudo_user_denied(void **state)
{
	char *env[] = { (char *)"SUDO_UID=65534", (char *)"SUDO_GID=65534", NULL };
	struct live *lv = *state;
	json_t *j;

	skip_unless_live(lv);
	if (!libvirtd_running())
		assert_int_equal(libvirtd_start(), 0);
	j = live_report(env, NULL);
	assert_string_equal(dstr(j, "user"), "nobody");
	assert_string_equal(dstr(j, "hypervisor"), "QEMU");
	assert_true(json_is_false(detail(j, ID, "in_libvirt_group")));
	assert_true(json_is_false(detail(j, ID, "user_access")));
	assert_string_equal(check_status(j, ID), "warn");
	assert_true(has_fix(j, ID, "user.add_to_libvirt_group"));
	assert_non_null(strstr(field(j, "summary"), "nobody cannot manage it"));
	json_decref(j);
}

/* Really as nobody: a running daemon is a warning about access, never "not running". */
static void test_live_unprivileged(void **state)
{
	struct live *lv = *state;
	struct result res = { 0 };
	json_t *j;

	skip_unless_live(lv);
	if (access("/usr/bin/setpriv", X_OK) < 0)
		SKIP_BECAUSE("setpriv is needed to run as nobody");
	if (!libvirtd_running())
		assert_int_equal(libvirtd_start(), 0);
	RUN_NOBODY(&res, "--format", "json", "check", ID);
	j = parse_json(res.out);
	assert_string_equal(dstr(j, "user"), "nobody");
	assert_true(json_is_true(detail(j, ID, "socket_accepts")));
	assert_string_equal(dstr(j, "daemon"), "libvirtd");
	assert_true(json_is_false(detail(j, ID, "user_access")));
	assert_string_equal(check_status(j, ID), "warn");
	assert_true(has_fix(j, ID, "user.add_to_libvirt_group"));
	assert_false(has_fix(j, ID, "services.enable_libvirtd"));
	json_decref(j);
	result_clear(&res);
}

int main(void)
{
	const struct CMUnitTest offline[] = {
		cmocka_unit_test(test_conf_parse),
		cmocka_unit_test(test_polkit_groups),
		cmocka_unit_test(test_offline_installed),
		cmocka_unit_test(test_offline_modular_user_denied),
		cmocka_unit_test(test_offline_not_installed),
		cmocka_unit_test(test_offline_socket_group),
		cmocka_unit_test(test_wedged_socket_timeout),
		cmocka_unit_test(test_stale_and_bogus_socket),
		cmocka_unit_test(test_socket_permission_denied),
	};
	const struct CMUnitTest live[] = {
		cmocka_unit_test(test_live_stopped),
		cmocka_unit_test(test_live_running),
		cmocka_unit_test(test_live_kvm_states),
		cmocka_unit_test(test_live_default_network),
		cmocka_unit_test(test_live_network_missing),
		cmocka_unit_test(test_live_sudo_user_denied),
		cmocka_unit_test(test_live_unprivileged),
	};
	int fails = cmocka_run_group_tests_name("libvirt offline", offline, NULL, NULL);

	fails += cmocka_run_group_tests_name("libvirt live (real libvirtd)", live, live_setup, live_teardown);
	return fails;
}
