// SPDX-License-Identifier: GPL-2.0-or-later
/* net.* checks: fixture roots offline, and live in real network namespaces with a real bridge. */
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "harness.h"

#define LIBVIRT_LOCK "/run/lock/virt-doctor-libvirt.lock"
#define NET_CHECKS "net.default_network", "net.ip_forward", "net.tun", "net.vhost_net", \
	"net.bridge_netfilter"

static const char *dstr(json_t *j, const char *id, const char *key)
{
	return json_string_value(detail(j, id, key));
}

static json_int_t dint(json_t *j, const char *id, const char *key)
{
	json_t *v = detail(j, id, key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static bool list_is(json_t *a, const char *const *items, size_t n)
{
	if (!json_is_array(a) || json_array_size(a) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!json_is_string(json_array_get(a, i)) || strcmp(json_string_value(json_array_get(a, i)), items[i]))
			return false;
	return true;
}

/* --- offline: fixture roots and mutated copies of them --- */

static json_t *run_root(const char *dir, int *status)
{
	struct result res = { 0 };
	json_t *j;

	RUN(&res, "--root", (char *)dir, "--format", "json", "check", NET_CHECKS);
	j = parse_json(res.out);
	assert_non_null(j);
	if (status)
		*status = res.status;
	result_clear(&res);
	return j;
}

#define COPY_OR_SKIP(name, dir) \
	do { \
		if (!fixture_copy((name), (dir), sizeof(dir))) \
			SKIP_BECAUSE("%s needs root to create its device nodes", (name)); \
	} while (0)

static void write_file(const char *dir, const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	sfmt(path, "%s%s", dir, rel);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void remove_in(const char *dir, const char *rel)
{
	char path[512];

	sfmt(path, "%s%s", dir, rel);
	assert_int_equal(unlink(path), 0);
}

static void test_healthy_root(void **state)
{
	const char *const range_keys[] = { "192.168.122.2", "192.168.122.254" };
	char dir[256];
	json_t *j;

	(void)state;
	COPY_OR_SKIP("intel-vmx-kvm-intel", dir);
	j = run_root(dir, NULL);
	assert_string_equal(check_status(j, "net.default_network"), "pass");
	assert_true(json_is_true(detail(j, "net.default_network", "libvirt_installed")));
	assert_true(json_is_true(detail(j, "net.default_network", "defined")));
	assert_true(json_is_true(detail(j, "net.default_network", "active")));
	assert_true(json_is_true(detail(j, "net.default_network", "autostart")));
	assert_string_equal(dstr(j, "net.default_network", "bridge"), "virbr0");
	assert_string_equal(dstr(j, "net.default_network", "forward_mode"), "nat");
	assert_string_equal(dstr(j, "net.default_network", "address"), "192.168.122.1");
	assert_int_equal(dint(j, "net.default_network", "prefix"), 24);
	assert_string_equal(dstr(j, "net.default_network", "dhcp_start"), range_keys[0]);
	assert_string_equal(dstr(j, "net.default_network", "dhcp_end"), range_keys[1]);
	/* The bridge is a fact of a running kernel: unknown offline, not false. */
	assert_true(json_is_null(detail(j, "net.default_network", "bridge_exists")));
	assert_true(json_is_null(detail(j, "net.default_network", "bridge_address")));
	assert_int_equal(dint(j, "net.default_network", "dnsmasq_pid"), 1234);
	assert_int_equal(json_array_size(json_object_get(find_check(j, "net.default_network"), "fixes")), 0);

	assert_string_equal(check_status(j, "net.ip_forward"), "pass");
	assert_true(json_is_true(detail(j, "net.ip_forward", "ip_forward")));

	assert_string_equal(check_status(j, "net.tun"), "pass");
	assert_string_equal(dstr(j, "net.tun", "device"), "10:200");
	assert_string_equal(dstr(j, "net.tun", "mode"), "0666");
	assert_string_equal(dstr(j, "net.tun", "module"), "loaded");
	assert_true(json_is_true(detail(j, "net.tun", "driver_registered")));
	assert_true(json_is_null(detail(j, "net.tun", "open")));

	assert_string_equal(check_status(j, "net.vhost_net"), "pass");
	assert_string_equal(dstr(j, "net.vhost_net", "device"), "10:238");
	assert_string_equal(dstr(j, "net.vhost_net", "mode"), "0660");
	assert_int_equal(dint(j, "net.vhost_net", "gid"), 993);
	assert_string_equal(dstr(j, "net.vhost_net", "module"), "loaded");

	assert_string_equal(check_status(j, "net.bridge_netfilter"), "pass");
	assert_true(json_is_false(detail(j, "net.bridge_netfilter", "active")));
	assert_string_equal(dstr(j, "net.bridge_netfilter", "module"), "missing");
	json_decref(j);
	remove_tree(dir);
}

static void test_no_default_network_root(void **state)
{
	char dir[256];
	json_t *j;
	int st;

	(void)state;
	COPY_OR_SKIP("libvirt-no-default-network", dir);
	j = run_root(dir, &st);
	assert_string_equal(check_status(j, "net.default_network"), "warn");
	assert_true(json_is_true(detail(j, "net.default_network", "libvirt_installed")));
	assert_true(json_is_false(detail(j, "net.default_network", "defined")));
	assert_true(json_is_false(detail(j, "net.default_network", "active")));
	assert_true(has_fix(j, "net.default_network", "libvirt.define_default_network"));
	assert_string_equal(check_status(j, "net.ip_forward"), "warn");
	assert_true(json_is_false(detail(j, "net.ip_forward", "ip_forward")));
	assert_true(json_is_false(detail(j, "net.ip_forward", "needed_now")));
	assert_true(has_fix(j, "net.ip_forward", "sysctl.enable_ip_forward"));
	assert_int_equal(st, 1);
	json_decref(j);
	remove_tree(dir);
}

static void test_broken_root(void **state)
{
	char dir[256];
	const char *summary;
	json_t *j;
	int st;

	(void)state;
	COPY_OR_SKIP("net-broken", dir);
	j = run_root(dir, &st);
	assert_string_equal(check_status(j, "net.default_network"), "fail");
	summary = json_string_value(json_object_get(find_check(j, "net.default_network"), "summary"));
	assert_non_null(strstr(summary, "not well-formed XML (line 10"));
	assert_true(has_fix(j, "net.default_network", "libvirt.define_default_network"));

	assert_string_equal(check_status(j, "net.tun"), "fail");
	assert_true(json_is_false(detail(j, "net.tun", "exists")));
	assert_true(json_is_false(detail(j, "net.tun", "driver_registered")));
	assert_string_equal(dstr(j, "net.tun", "module"), "available");
	assert_true(has_fix(j, "net.tun", "modules.load_tun"));

	assert_string_equal(check_status(j, "net.vhost_net"), "warn");
	assert_string_equal(dstr(j, "net.vhost_net", "module"), "available");
	assert_true(has_fix(j, "net.vhost_net", "modules.load_vhost_net"));

	assert_string_equal(check_status(j, "net.bridge_netfilter"), "warn");
	assert_string_equal(dstr(j, "net.bridge_netfilter", "module"), "loaded");
	assert_true(json_is_true(detail(j, "net.bridge_netfilter", "call_iptables")));
	assert_true(json_is_true(detail(j, "net.bridge_netfilter", "call_ip6tables")));
	assert_true(json_is_true(detail(j, "net.bridge_netfilter", "call_arptables")));
	assert_int_equal(json_array_size(json_object_get(find_check(j, "net.bridge_netfilter"), "fixes")), 0);

	assert_string_equal(check_status(j, "net.ip_forward"), "warn");
	assert_int_equal(st, 2);
	json_decref(j);

	/* kmod static-nodes made /dev/net/tun at boot: the module loads on the first open. */
	{
		char path[512];

		sfmt(path, "%s/dev/net", dir);
		assert_int_equal(mkdir(path, 0755), 0);
		sfmt(path, "%s/dev/net/tun", dir);
		assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(10, 200)), 0);
	}
	j = run_root(dir, NULL);
	assert_string_equal(check_status(j, "net.tun"), "pass");
	assert_true(json_is_false(detail(j, "net.tun", "driver_registered")));
	assert_string_equal(dstr(j, "net.tun", "module"), "available");
	json_decref(j);
	remove_tree(dir);
}

/* Variations of the healthy root, each one file changed the way it happens on real hosts. */
static void test_default_network_variants(void **state)
{
	char dir[256], path[700];
	json_t *j;

	(void)state;
	COPY_OR_SKIP("intel-vmx-kvm-intel", dir);

	/* virsh net-autostart --disable: still active, passes, advice says so. */
	remove_in(dir, "/etc/libvirt/qemu/networks/autostart/default.xml");
	j = run_root(dir, NULL);
	assert_string_equal(check_status(j, "net.default_network"), "pass");
	assert_true(json_is_false(detail(j, "net.default_network", "autostart")));
	assert_non_null(strstr(json_string_value(json_object_get(find_check(j, "net.default_network"),
								"advice")), "net-autostart"));
	json_decref(j);

	/* An autostart link to something else is not autostart (libvirt compares targets). */
	sfmt(path, "%s/etc/libvirt/qemu/networks/autostart/default.xml", dir);
	assert_int_equal(symlink("/etc/os-release", path), 0);
	j = run_root(dir, NULL);
	assert_true(json_is_false(detail(j, "net.default_network", "autostart")));
	json_decref(j);

	/* The dnsmasq pid file outlives net-destroy: a pid that is not dnsmasq counts for nothing. */
	write_file(dir, "/proc/1234/cmdline", "/usr/sbin/sshd\0-D");
	j = run_root(dir, NULL);
	assert_true(json_is_null(detail(j, "net.default_network", "dnsmasq_pid")));
	json_decref(j);

	/* ip_forward reset to 0 while the NAT network runs: guests are cut off now. */
	write_file(dir, "/proc/sys/net/ipv4/ip_forward", "0\n");
	j = run_root(dir, NULL);
	assert_string_equal(check_status(j, "net.ip_forward"), "warn");
	assert_true(json_is_true(detail(j, "net.ip_forward", "needed_now")));
	json_decref(j);

	/* Transient (net-create): active without a definition. */
	remove_in(dir, "/etc/libvirt/qemu/networks/default.xml");
	j = run_root(dir, NULL);
	assert_string_equal(check_status(j, "net.default_network"), "warn");
	assert_true(json_is_false(detail(j, "net.default_network", "defined")));
	assert_true(json_is_true(detail(j, "net.default_network", "active")));
	assert_string_equal(dstr(j, "net.default_network", "address"), "192.168.122.1");
	assert_true(has_fix(j, "net.default_network", "libvirt.define_default_network"));
	json_decref(j);

	/* virsh net-destroy: the status file goes. A custom definition (prefix=, other bridge). */
	remove_in(dir, "/run/libvirt/network/default.xml");
	write_file(dir, "/etc/libvirt/qemu/networks/default.xml",
		   "<network><name>default</name><forward/><bridge name='virbr7'/>"
		   "<ip family='ipv6' address='fd00::1' prefix='64'/>"
		   "<ip address='10.7.0.1' prefix='16'><dhcp><range start='10.7.0.10' end='10.7.0.20'/>"
		   "</dhcp></ip></network>");
	j = run_root(dir, NULL);
	assert_string_equal(check_status(j, "net.default_network"), "fail");
	assert_true(json_is_false(detail(j, "net.default_network", "active")));
	assert_string_equal(dstr(j, "net.default_network", "bridge"), "virbr7");
	assert_string_equal(dstr(j, "net.default_network", "forward_mode"), "nat");
	assert_string_equal(dstr(j, "net.default_network", "address"), "10.7.0.1");
	assert_int_equal(dint(j, "net.default_network", "prefix"), 16);
	assert_string_equal(dstr(j, "net.default_network", "dhcp_start"), "10.7.0.10");
	assert_true(has_fix(j, "net.default_network", "libvirt.start_default_network"));
	json_decref(j);

	/* A definition whose root element is not <network>. */
	write_file(dir, "/etc/libvirt/qemu/networks/default.xml", "<domain><name>default</name></domain>");
	j = run_root(dir, NULL);
	assert_string_equal(check_status(j, "net.default_network"), "fail");
	json_decref(j);

	/* No libvirt at all: skip, libvirt.daemon speaks for it. */
	sfmt(path, "rm -rf '%s/etc/libvirt' '%s/usr/sbin/libvirtd'", dir, dir);
	assert_int_equal(system(path), 0);
	j = run_root(dir, NULL);
	assert_string_equal(check_status(j, "net.default_network"), "skip");
	assert_true(json_is_false(detail(j, "net.default_network", "libvirt_installed")));
	json_decref(j);
	remove_tree(dir);
}

static void test_device_variants(void **state)
{
	char dir[256], path[512];
	json_t *j;

	(void)state;
	COPY_OR_SKIP("intel-vmx-kvm-intel", dir);
	/* A regular file or a wrong device where /dev/net/tun should be. */
	sfmt(path, "%s/dev/net/tun", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(1, 3)), 0);
	sfmt(path, "%s/dev/vhost-net", dir);
	assert_int_equal(unlink(path), 0);
	/* br_netfilter loaded but every call sysctl off: nothing to warn about. */
	sfmt(path, "%s/proc/sys/net/bridge", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	write_file(dir, "/proc/sys/net/bridge/bridge-nf-call-iptables", "0\n");
	write_file(dir, "/proc/sys/net/bridge/bridge-nf-call-ip6tables", "0\n");
	write_file(dir, "/proc/sys/net/bridge/bridge-nf-call-arptables", "0\n");
	j = run_root(dir, NULL);
	assert_string_equal(check_status(j, "net.tun"), "fail");
	assert_string_equal(dstr(j, "net.tun", "device"), "1:3");
	/* Registered by the driver, but the node is gone (a container's /dev). */
	assert_string_equal(check_status(j, "net.vhost_net"), "warn");
	assert_true(json_is_false(detail(j, "net.vhost_net", "exists")));
	assert_true(json_is_true(detail(j, "net.vhost_net", "driver_registered")));
	assert_string_equal(check_status(j, "net.bridge_netfilter"), "pass");
	assert_true(json_is_true(detail(j, "net.bridge_netfilter", "active")));
	assert_true(json_is_false(detail(j, "net.bridge_netfilter", "call_iptables")));
	json_decref(j);
	remove_tree(dir);
}

static void test_explain(void **state)
{
	static const char *const ids[] = { NET_CHECKS };
	struct result res = { 0 };

	(void)state;
	RUN(&res, "list");
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		assert_non_null(strstr(res.out, ids[i]));
	result_clear(&res);
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		RUN(&res, "explain", (char *)ids[i]);
		assert_int_equal(res.status, 0);
		assert_true(strlen(res.out) > 400);
		assert_non_null(strstr(res.out, "Why"));
		assert_non_null(strstr(res.out, "Fix"));
		result_clear(&res);
	}
}

/* --- live: real network namespaces --- */

static int lock_fd = -1;
static char ns_name[64], ns_dir[256];
static int saved_net = -1, saved_mnt = -1;

static int run_quiet(char *const argv[])
{
	struct result res = { 0 };
	int st;

	run_env(&res, NULL, argv);
	st = res.status;
	if (st)
		printf("  %s: exit %d: %s", argv[0], st, res.err);
	result_clear(&res);
	return st;
}
#define CMD(...) run_quiet((char *const[]){ __VA_ARGS__, NULL })

static bool have_ip(void)
{
	return access("/usr/sbin/ip", X_OK) == 0 || access("/sbin/ip", X_OK) == 0 ||
	       access("/usr/bin/ip", X_OK) == 0;
}

/* The shared libvirt lock, waited for at most 180 s: a suite that holds it longer is stuck,
 * and we say so rather than hang. */
static bool lock_libvirt(void)
{
	lock_fd = open(LIBVIRT_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock_fd < 0)
		return false;
	for (int i = 0; i < 1800; i++) {
		if (flock(lock_fd, LOCK_EX | LOCK_NB) == 0)
			return true;
		usleep(100 * 1000);
	}
	close(lock_fd);
	lock_fd = -1;
	return false;
}

/* Leave the namespaces ns_enter() put this process in; safe to call when not entered. */
static void ns_leave(void)
{
	if (saved_mnt >= 0) {
		setns(saved_mnt, CLONE_NEWNS);
		close(saved_mnt);
		saved_mnt = -1;
	}
	if (saved_net >= 0) {
		setns(saved_net, CLONE_NEWNET);
		close(saved_net);
		saved_net = -1;
	}
}

static int ns_setup(void **state)
{
	(void)state;
	if (!host_changes_allowed() || geteuid() != 0 || !have_ip())
		return 0;	/* each test says SKIP */
	/* libvirt's state must not change under us; the lock is shared with other suites. */
	if (!lock_libvirt()) {
		printf("  %s stayed locked for 180 s\n", LIBVIRT_LOCK);
		return -1;
	}
	sfmt(ns_name, "vd-net-%d", (int)getpid());
	sfmt(ns_dir, "/tmp/vd-net-%d", (int)getpid());
	return CMD("ip", "netns", "add", ns_name) ? -1 : 0;
}

static int ns_teardown(void **state)
{
	char cmd[300];

	(void)state;
	ns_leave();
	if (ns_name[0]) {
		CMD("ip", "netns", "del", ns_name);
		ns_name[0] = '\0';
	}
	if (ns_dir[0]) {
		sfmt(cmd, "rm -rf '%s'", ns_dir);
		if (system(cmd) != 0)
			printf("  could not remove %s\n", ns_dir);
		ns_dir[0] = '\0';
	}
	if (lock_fd >= 0) {
		close(lock_fd);
		lock_fd = -1;
	}
	return 0;
}

#define NS_OR_SKIP() \
	do { \
		HOST_CHANGE_OR_SKIP(); \
		if (geteuid() != 0) \
			SKIP_BECAUSE("network namespaces need root"); \
		if (!have_ip()) \
			SKIP_BECAUSE("ip (iproute2) is not installed"); \
	} while (0)
/* The tests that mount libvirt files need /etc/libvirt as a mount point. */
#define LIBVIRT_OR_SKIP() \
	do { \
		NS_OR_SKIP(); \
		if (access("/etc/libvirt", F_OK) != 0) \
			SKIP_BECAUSE("libvirt is not installed (no /etc/libvirt to mount over)"); \
	} while (0)

/* virbr0 192.168.122.1/24 up, and a tap device, inside the namespace. */
static void make_bridge(const char *addr)
{
	assert_int_equal(CMD("ip", "-n", ns_name, "link", "add", "virbr0", "type", "bridge"), 0);
	assert_int_equal(CMD("ip", "-n", ns_name, "addr", "add", (char *)addr, "dev", "virbr0"), 0);
	assert_int_equal(CMD("ip", "-n", ns_name, "link", "set", "virbr0", "up"), 0);
	assert_int_equal(CMD("ip", "-n", ns_name, "tuntap", "add", "dev", "vdtap0", "mode", "tap"), 0);
}

static json_t *run_in_ns(void)
{
	struct result res = { 0 };
	json_t *j;

	run_env(&res, NULL, (char *const[]){ (char *)"ip", (char *)"netns", (char *)"exec", ns_name,
			 (char *)VD_BIN, (char *)"--format", (char *)"json", (char *)"check", NET_CHECKS,
			 NULL });
	j = parse_json(res.out);
	assert_non_null(j);
	result_clear(&res);
	return j;
}

/* What the brief asks literally: `ip netns exec NS virt-doctor`, bridge facts exact. */
static void test_ns_bridge(void **state)
{
	const char *const addr[] = { "192.168.122.1/24" }, *const br[] = { "virbr0" },
		*const tap[] = { "vdtap0" };
	json_t *j;

	(void)state;
	NS_OR_SKIP();
	make_bridge("192.168.122.1/24");
	j = run_in_ns();
	assert_string_equal(dstr(j, "net.default_network", "bridge"), "virbr0");
	assert_true(json_is_true(detail(j, "net.default_network", "bridge_exists")));
	assert_true(json_is_true(detail(j, "net.default_network", "bridge_is_bridge")));
	assert_true(json_is_true(detail(j, "net.default_network", "bridge_up")));
	assert_true(list_is(detail(j, "net.default_network", "bridge_address"), addr, 1));
	assert_true(list_is(detail(j, "net.default_network", "bridges"), br, 1));
	/* Carrier and operstate of an empty bridge vary (a fresh one says carrier 1,
	 * "unknown"; libvirt's virbr0 says NO-CARRIER, "down"): compare with sysfs read by
	 * another program in the same namespace. */
	{
		struct result res = { 0 };

		run_env(&res, NULL, (char *const[]){ (char *)"ip", (char *)"netns", (char *)"exec", ns_name,
				 (char *)"cat", (char *)"/sys/class/net/virbr0/carrier",
				 (char *)"/sys/class/net/virbr0/operstate", NULL });
		assert_int_equal(res.status, 0);
		assert_true(json_is_boolean(detail(j, "net.default_network", "bridge_carrier")));
		assert_int_equal(res.out[0] == '1', json_is_true(detail(j, "net.default_network", "bridge_carrier")));
		assert_non_null(strchr(res.out, '\n'));
		*strrchr(res.out, '\n') = '\0';
		assert_string_equal(strchr(res.out, '\n') + 1, dstr(j, "net.default_network", "bridge_operstate"));
		result_clear(&res);
	}
	assert_true(list_is(detail(j, "net.tun", "tun_devices"), tap, 1));
	assert_string_equal(check_status(j, "net.tun"), "pass");
	json_decref(j);
}

static void test_ns_empty(void **state)
{
	json_t *j;

	(void)state;
	NS_OR_SKIP();
	j = run_in_ns();
	assert_true(json_is_false(detail(j, "net.default_network", "bridge_exists")));
	assert_true(json_is_false(detail(j, "net.default_network", "bridge_up")));
	assert_int_equal(json_array_size(detail(j, "net.default_network", "bridge_address")), 0);
	assert_int_equal(json_array_size(detail(j, "net.default_network", "bridges")), 0);
	assert_int_equal(json_array_size(detail(j, "net.tun", "tun_devices")), 0);
	json_decref(j);
}

/*
 * Enter the namespace like `ip netns exec` (network namespace, private mount namespace,
 * the namespace's own /sys) and, on top, mount our own libvirt files over /etc/libvirt
 * and /run/libvirt/network, so that libvirt's state is what the
 * test says while the kernel objects stay real. The doctor we spawn inherits all of it.
 */
static void ns_enter_with_libvirt(const char *def_xml, const char *status_xml)
{
	static const char *const dirs[] = { "etc/qemu/networks/autostart", "run" };
	char path[512], nspath[400];
	int fd;

	for (unsigned i = 0; i < ARRAY_SIZE(dirs); i++) {
		char cmd[700];

		sfmt(cmd, "mkdir -p '%s/%s'", ns_dir, dirs[i]);
		assert_int_equal(system(cmd), 0);
	}
	if (def_xml) {
		sfmt(path, "%s/etc/qemu/networks/default.xml", ns_dir);
		write_file("", path, def_xml);
		sfmt(nspath, "%s/etc/qemu/networks/autostart/default.xml", ns_dir);
		assert_int_equal(symlink("/etc/libvirt/qemu/networks/default.xml", nspath), 0);
	}
	if (status_xml) {
		sfmt(path, "%s/run/default.xml", ns_dir);
		write_file("", path, status_xml);
	}

	saved_net = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	saved_mnt = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	assert_true(saved_net >= 0 && saved_mnt >= 0);
	sfmt(nspath, "/run/netns/%s", ns_name);
	fd = open(nspath, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(setns(fd, CLONE_NEWNET), 0);
	close(fd);
	assert_int_equal(unshare(CLONE_NEWNS), 0);
	assert_int_equal(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	assert_int_equal(umount2("/sys", MNT_DETACH), 0);
	assert_int_equal(mount("vd-net-sysfs", "/sys", "sysfs", 0, NULL), 0);
	sfmt(path, "%s/etc", ns_dir);
	assert_int_equal(mount(path, "/etc/libvirt", NULL, MS_BIND, NULL), 0);
	/* A tmpfs in our private mount namespace holds the mount point: the host's /run is
	 * not touched even where libvirt never ran. */
	if (access("/run/libvirt", F_OK) == 0)
		assert_int_equal(mount("vd-net-run", "/run/libvirt", "tmpfs", 0, "mode=0755"), 0);
	else
		assert_int_equal(mount("vd-net-run", "/run", "tmpfs", 0, "mode=0755"), 0);
	assert_int_equal(mkdir("/run/libvirt", 0755) == 0 || errno == EEXIST, 1);
	assert_int_equal(mkdir("/run/libvirt/network", 0755), 0);
	sfmt(path, "%s/run", ns_dir);
	assert_int_equal(mount(path, "/run/libvirt/network", NULL, MS_BIND, NULL), 0);
}

static json_t *run_here(void)
{
	struct result res = { 0 };
	json_t *j;

	RUN(&res, "--format", "json", "check", NET_CHECKS);
	j = parse_json(res.out);
	assert_non_null(j);
	result_clear(&res);
	return j;
}

static const char default_xml[] =
	"<network><name>default</name><forward mode='nat'/><bridge name='virbr0' stp='on' delay='0'/>"
	"<ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' "
	"end='192.168.122.254'/></dhcp></ip></network>";
static const char status_xml[] =
	"<networkstatus><class_id bitmap='0-2'/><floor sum='0'/><network><name>default</name>"
	"<forward mode='nat'/><bridge name='virbr0' stp='on' delay='0'/>"
	"<ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' "
	"end='192.168.122.254'/></dhcp></ip></network></networkstatus>";

/* libvirt says active, the namespace has no bridge at all: fail, naming the bridge. */
static void test_ns_active_bridge_missing(void **state)
{
	const char *const problems[] = { "bridge_missing" };
	const char *summary;
	json_t *j;

	(void)state;
	LIBVIRT_OR_SKIP();
	ns_enter_with_libvirt(default_xml, status_xml);
	j = run_here();
	ns_leave();
	assert_true(json_is_true(detail(j, "net.default_network", "active")));
	assert_true(json_is_true(detail(j, "net.default_network", "autostart")));
	assert_string_equal(check_status(j, "net.default_network"), "fail");
	summary = json_string_value(json_object_get(find_check(j, "net.default_network"), "summary"));
	assert_non_null(strstr(summary, "bridge virbr0 does not exist"));
	assert_true(list_is(detail(j, "net.default_network", "problems"), problems, 1));
	json_decref(j);
}

/* Active, the bridge is there but down and with another address: both named. */
static void test_ns_active_bridge_wrong(void **state)
{
	const char *const problems[] = { "bridge_down", "wrong_address" };
	const char *summary;
	json_t *j;

	(void)state;
	LIBVIRT_OR_SKIP();
	make_bridge("10.9.8.1/24");
	assert_int_equal(CMD("ip", "-n", ns_name, "link", "set", "virbr0", "down"), 0);
	ns_enter_with_libvirt(default_xml, status_xml);
	j = run_here();
	ns_leave();
	assert_string_equal(check_status(j, "net.default_network"), "fail");
	summary = json_string_value(json_object_get(find_check(j, "net.default_network"), "summary"));
	assert_non_null(strstr(summary, "virbr0 is down"));
	assert_non_null(strstr(summary, "virbr0 carries 10.9.8.1/24, not 192.168.122.1/24"));
	assert_true(list_is(detail(j, "net.default_network", "problems"), problems, 2));
	json_decref(j);
}

/* Active and the bridge right, but nobody serves DHCP: fail with dnsmasq_missing. */
static void test_ns_active_no_dnsmasq(void **state)
{
	const char *const problems[] = { "dnsmasq_missing" };
	json_t *j;

	(void)state;
	LIBVIRT_OR_SKIP();
	make_bridge("192.168.122.1/24");
	ns_enter_with_libvirt(default_xml, status_xml);
	j = run_here();
	ns_leave();
	assert_true(json_is_true(detail(j, "net.default_network", "bridge_up")));
	assert_string_equal(check_status(j, "net.default_network"), "fail");
	assert_true(list_is(detail(j, "net.default_network", "problems"), problems, 1));
	json_decref(j);
}

/* Defined, not active, autostarted, in a namespace with no bridge and no daemon: a warn (it
 * starts with libvirt, whose absence libvirt.daemon fails), with the start fix. */
static void test_ns_inactive(void **state)
{
	json_t *j;

	(void)state;
	LIBVIRT_OR_SKIP();
	ns_enter_with_libvirt(default_xml, NULL);
	j = run_here();
	ns_leave();
	assert_string_equal(check_status(j, "net.default_network"), "warn");
	assert_true(has_fix(j, "net.default_network", "libvirt.start_default_network"));
	assert_true(json_is_false(detail(j, "net.default_network", "bridge_exists")));
	json_decref(j);
}

/* --- live: the real libvirt and its real default network --- */

static struct {
	bool locked, started_daemon, started_network;
	pid_t daemon_pid;
	char ip_forward[8];
} lv;

#define VIRSH(...) CMD("timeout", "20", "virsh", "-q", "-c", "qemu:///system", __VA_ARGS__)

/* `hostname` needs no QEMU; `version` waits for libvirtd's QEMU probe, seconds on every call
 * with /dev/kvm 0600 (over 30 s after a start). */
static bool daemon_answers(void)
{
	struct result res = { 0 };
	bool ok;

	run_env(&res, NULL, (char *const[]){ (char *)"timeout", (char *)"10", (char *)"virsh",
			 (char *)"-q", (char *)"-c", (char *)"qemu:///system", (char *)"hostname", NULL });
	ok = res.status == 0;
	result_clear(&res);
	return ok;
}

static void read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (f) {
		if (fgets(buf, (int)size, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

static int libvirt_setup(void **state)
{
	(void)state;
	memset(&lv, 0, sizeof(lv));
	if (!host_changes_allowed() || geteuid() != 0 || access("/usr/sbin/libvirtd", X_OK) != 0 || access("/usr/bin/virsh", X_OK) != 0)
		return 0;	/* the test says SKIP */
	if (!lock_libvirt()) {
		printf("  %s stayed locked for 180 s\n", LIBVIRT_LOCK);
		return -1;
	}
	lv.locked = true;
	/* libvirt sets ip_forward=1 when it starts a NAT network and never resets it. */
	read_small("/proc/sys/net/ipv4/ip_forward", lv.ip_forward, sizeof(lv.ip_forward));
	return 0;
}

static int libvirt_teardown(void **state)
{
	(void)state;
	if (lv.started_network)
		VIRSH("net-destroy", "default");
	if (lv.started_daemon && lv.daemon_pid > 0) {
		kill(lv.daemon_pid, SIGTERM);
		/* libvirtd -d is reparented away from us: poll /proc, bounded. */
		for (int i = 0; i < 50 && kill(lv.daemon_pid, 0) == 0; i++) {
			char st[512], path[64];

			sfmt(path, "/proc/%d/stat", (int)lv.daemon_pid);
			read_small(path, st, sizeof(st));
			if (strstr(st, ") Z "))
				break;	/* exited; its new parent has not reaped it yet */
			usleep(100 * 1000);
		}
	}
	if (lv.ip_forward[0]) {
		FILE *f = fopen("/proc/sys/net/ipv4/ip_forward", "we");

		if (f) {
			fprintf(f, "%s\n", lv.ip_forward);
			fclose(f);
		}
	}
	if (lock_fd >= 0) {
		close(lock_fd);
		lock_fd = -1;
	}
	memset(&lv, 0, sizeof(lv));
	return 0;
}

/*
 * With the lock held: start libvirtd if it is not running, start the default network if it
 * is not active, and check that the doctor sees exactly what libvirt made (virbr0, its
 * address, the dnsmasq in libvirt's pid file); then destroy it again and check that the
 * doctor sees it inactive and the bridge gone. Everything started here is stopped.
 */
static void test_real_libvirt_default_network(void **state)
{
	const char *const addr[] = { "192.168.122.1/24" };
	char pidbuf[32], path[64], comm[32];
	bool was_active;
	json_t *j;

	(void)state;
	HOST_CHANGE_OR_SKIP();
	if (geteuid() != 0)
		SKIP_BECAUSE("starting libvirt's default network needs root");
	if (!lv.locked)
		SKIP_BECAUSE("libvirt (libvirtd, virsh) is not installed");
	if (access("/etc/libvirt/qemu/networks/default.xml", F_OK) != 0)
		SKIP_BECAUSE("this host's libvirt has no default network to start");
	/* The daemon starts autostart networks; what is active now is what must stay. */
	was_active = access("/run/libvirt/network/default.xml", F_OK) == 0;
	if (!daemon_answers()) {
		assert_int_equal(CMD("libvirtd", "-d"), 0);
		lv.started_daemon = true;
		for (int i = 0; i < 50 && !daemon_answers(); i++)
			usleep(100 * 1000);
		read_small("/run/libvirtd.pid", pidbuf, sizeof(pidbuf));
		lv.daemon_pid = (pid_t)atoi(pidbuf);
		assert_true(lv.daemon_pid > 0);
		assert_true(daemon_answers());
	}
	if (access("/run/libvirt/network/default.xml", F_OK) != 0)
		assert_int_equal(VIRSH("net-start", "default"), 0);
	lv.started_network = !was_active;

	{
		struct result res = { 0 };

		RUN(&res, "--format", "json", "check", NET_CHECKS);
		j = parse_json(res.out);
		assert_non_null(j);
		result_clear(&res);
	}
	assert_true(json_is_true(detail(j, "net.default_network", "active")));
	assert_true(json_is_true(detail(j, "net.default_network", "bridge_exists")));
	assert_true(json_is_true(detail(j, "net.default_network", "bridge_is_bridge")));
	assert_true(json_is_true(detail(j, "net.default_network", "bridge_up")));
	assert_true(list_is(detail(j, "net.default_network", "bridge_address"), addr, 1));
	assert_true(list_has(detail(j, "net.default_network", "bridges"), "virbr0"));
	read_small("/run/libvirt/network/default.pid", pidbuf, sizeof(pidbuf));
	assert_int_equal(dint(j, "net.default_network", "dnsmasq_pid"), atoi(pidbuf));
	sfmt(path, "/proc/%s/comm", pidbuf);
	read_small(path, comm, sizeof(comm));
	assert_string_equal(comm, "dnsmasq");
	assert_string_equal(check_status(j, "net.default_network"), "pass");
	/* libvirt turned forwarding on when it started the NAT network. */
	assert_string_equal(check_status(j, "net.ip_forward"), "pass");
	json_decref(j);

	if (!lv.started_network) {
		printf("  note: the default network was already active; not destroying it\n");
		return;
	}
	assert_int_equal(VIRSH("net-destroy", "default"), 0);
	lv.started_network = false;
	{
		struct result res = { 0 };

		RUN(&res, "--format", "json", "check", NET_CHECKS);
		j = parse_json(res.out);
		assert_non_null(j);
		result_clear(&res);
	}
	assert_true(json_is_false(detail(j, "net.default_network", "active")));
	assert_true(json_is_false(detail(j, "net.default_network", "bridge_exists")));
	/* The pid file stays behind; its dnsmasq is gone. */
	assert_true(json_is_null(detail(j, "net.default_network", "dnsmasq_pid")));
	assert_string_equal(check_status(j, "net.default_network"), "fail");
	assert_true(has_fix(j, "net.default_network", "libvirt.start_default_network"));
	json_decref(j);
}

/* libvirt without a default network, but a virbr0 someone made: warn, and say what is there. */
static void test_ns_undefined_with_bridge(void **state)
{
	const char *summary;
	json_t *j;

	(void)state;
	LIBVIRT_OR_SKIP();
	make_bridge("192.168.122.1/24");
	ns_enter_with_libvirt(NULL, NULL);
	j = run_here();
	ns_leave();
	assert_string_equal(check_status(j, "net.default_network"), "warn");
	assert_true(json_is_false(detail(j, "net.default_network", "defined")));
	assert_true(has_fix(j, "net.default_network", "libvirt.define_default_network"));
	assert_true(json_is_true(detail(j, "net.default_network", "bridge_exists")));
	summary = json_string_value(json_object_get(find_check(j, "net.default_network"), "summary"));
	assert_non_null(strstr(summary, "found bridge virbr0, up, 192.168.122.1/24"));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy_root),
		cmocka_unit_test(test_no_default_network_root),
		cmocka_unit_test(test_broken_root),
		cmocka_unit_test(test_default_network_variants),
		cmocka_unit_test(test_device_variants),
		cmocka_unit_test(test_explain),
		cmocka_unit_test_setup_teardown(test_ns_bridge, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_ns_empty, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_ns_active_bridge_missing, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_ns_active_bridge_wrong, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_ns_active_no_dnsmasq, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_ns_inactive, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_ns_undefined_with_bridge, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_real_libvirt_default_network, libvirt_setup,
						libvirt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
