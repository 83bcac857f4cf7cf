// SPDX-License-Identifier: GPL-2.0-or-later
/* net.default_network's start prerequisites, the plan that respects them, and reading it without root. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "harness.h"
#include "libvirt_harness.h"

#define ID "net.default_network"
#define DEF_XML "/etc/libvirt/qemu/networks/default.xml"
#define IP_BIN "/usr/sbin/ip"

static char *datadir_env[] = { (char *)"VIRT_DOCTOR_DATADIR=" VD_SRCDIR "/data/distros", NULL };

static const char *field(json_t *j, const char *key)
{
	return json_string_value(json_object_get(find_check(j, ID), key));
}

static json_t *run_json(char *const argv[], bool nobody)
{
	struct result res = { 0 };
	char *full[32];
	unsigned n = 0;
	json_t *j;

	if (nobody) {
		full[n++] = (char *)"/usr/bin/setpriv";
		full[n++] = (char *)"--reuid=nobody";
		full[n++] = (char *)"--regid=nogroup";
		full[n++] = (char *)"--clear-groups";
	}
	full[n++] = (char *)VD_BIN;
	for (unsigned i = 0; argv[i] && n + 1 < ARRAY_SIZE(full); i++)
		full[n++] = argv[i];
	full[n] = NULL;
	run_env(&res, datadir_env, full);
	if (res.status >= 128)
		fail_msg("killed by signal %d: %s", res.status - 128, res.err);
	j = parse_json(res.out);
	if (!j)
		fail_msg("no JSON (exit %d): %s", res.status, res.err);
	result_clear(&res);
	return j;
}

static json_t *check_root(const char *dir, bool nobody)
{
	return run_json((char *const[]){ (char *)"--root", (char *)dir, (char *)"--format", (char *)"json",
					 (char *)"check", (char *)ID, NULL }, nobody);
}

static json_t *plan_root(const char *dir)
{
	return run_json((char *const[]){ (char *)"--root", (char *)dir, (char *)"fix", (char *)"--format",
					 (char *)"json", NULL }, false);
}

/* The index of fix id in a plan, or -1. */
static int plan_index(json_t *plan, const char *id)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(plan, "fixes"), i, f)
		if (streq(json_string_value(json_object_get(f, "id")), id))
			return (int)i;
	return -1;
}

static json_t *plan_steps(json_t *plan, const char *id)
{
	int i = plan_index(plan, id);

	assert_true(i >= 0);
	return json_object_get(json_array_get(json_object_get(plan, "fixes"), (size_t)i), "steps");
}

static void rm(const char *dir, const char *rel)
{
	char path[512];

	sfmt(path, "%s%s", dir, rel);
	assert_int_equal(unlink(path), 0);
}

/* ---- offline: what is a file-level fact (dnsmasq, the firewall program) ---- */

/* The pvm fixture: Debian with libvirt, the default network defined, inactive, not autostarted
 * (a fail: nothing will start it, and guests on it cannot start). */
static void test_no_dnsmasq(void **state)
{
	char dir[256];
	json_t *j, *steps;

	(void)state;
	if (!fixture_copy("pvm", dir, sizeof(dir)))
		SKIP_BECAUSE("the pvm fixture needs root to create its device nodes");
	j = check_root(dir, false);
	assert_string_equal(check_status(j, ID), "fail");
	assert_string_equal(json_string_value(detail(j, ID, "dnsmasq_binary")), "/usr/sbin/dnsmasq");
	assert_string_equal(json_string_value(detail(j, ID, "firewall_backend")), "iptables");
	assert_int_equal(json_array_size(detail(j, ID, "start_blockers")), 0);
	json_decref(j);

	rm(dir, "/usr/sbin/dnsmasq");
	j = check_root(dir, false);
	/* Inactive and it cannot start: libvirt's own words, and the fix that removes the cause. */
	assert_string_equal(check_status(j, ID), "fail");
	assert_non_null(strstr(field(j, "summary"), "dnsmasq is not installed"));
	assert_non_null(strstr(field(j, "summary"), "Unable to find 'dnsmasq' binary in $PATH"));
	assert_true(json_is_null(detail(j, ID, "dnsmasq_binary")));
	assert_true(list_has(detail(j, ID, "start_blockers"), "no_dnsmasq"));
	assert_true(has_fix(j, ID, "packages.install_dnsmasq"));
	assert_true(has_fix(j, ID, "libvirt.start_default_network"));
	json_decref(j);

	/* The plan installs dnsmasq (Debian: dnsmasq-base) before it starts the network. */
	j = plan_root(dir);
	assert_true(plan_index(j, "packages.install_dnsmasq") >= 0);
	assert_true(plan_index(j, "packages.install_dnsmasq") < plan_index(j, "libvirt.start_default_network"));
	{
		char *text = json_dumps(plan_steps(j, "packages.install_dnsmasq"), 0);

		assert_non_null(text);
		assert_non_null(strstr(text, "dnsmasq-base"));
		free(text);
	}
	steps = plan_steps(j, "libvirt.start_default_network");
	assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 0), "kind")), "command");
	json_decref(j);
	remove_tree(dir);
}

/* A blocker no fix removes: the plan says what blocks the network instead of a doomed net-start. */
static void test_no_firewall(void **state)
{
	char dir[256];
	json_t *j, *steps;
	const char *text;

	(void)state;
	if (!fixture_copy("pvm", dir, sizeof(dir)))
		SKIP_BECAUSE("the pvm fixture needs root to create its device nodes");
	rm(dir, "/usr/sbin/iptables");
	j = check_root(dir, false);
	assert_string_equal(check_status(j, ID), "fail");
	assert_true(list_has(detail(j, ID, "start_blockers"), "no_firewall"));
	assert_non_null(strstr(field(j, "summary"), "cannot execute binary /usr/sbin/iptables"));
	assert_false(has_fix(j, ID, "packages.install_dnsmasq"));
	json_decref(j);

	j = plan_root(dir);
	steps = plan_steps(j, "libvirt.start_default_network");
	assert_int_equal(json_array_size(steps), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 0), "kind")), "human");
	text = json_string_value(json_object_get(json_array_get(steps, 0), "text"));
	assert_non_null(strstr(text, "firewall"));
	json_decref(j);

	/* libvirt 10.4+ reads firewall_backend from network.conf: nftables wants nft. */
	{
		char path[512];
		int fd;

		sfmt(path, "%s/etc/libvirt/network.conf", dir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		assert_true(write(fd, "firewall_backend = \"nftables\"\n", 30) == 30);
		close(fd);
	}
	j = check_root(dir, false);
	assert_string_equal(json_string_value(detail(j, ID, "firewall_backend")), "nftables");
	assert_string_equal(json_string_value(detail(j, ID, "firewall_binary")), "/usr/sbin/nft");
	assert_true(list_has(detail(j, ID, "start_blockers"), "no_firewall"));
	json_decref(j);
	remove_tree(dir);
}

/*
 * Issue 12 item 7: libvirt keeps its network XML 0600 root. As nobody that is "cannot tell",
 * a skip with the reason, never a fail (it used to say "default.xml is unusable").
 */
static void test_unreadable_definition_as_nobody(void **state)
{
	char dir[256], path[512];
	json_t *j;

	(void)state;
	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) < 0)
		SKIP_BECAUSE("needs root and setpriv to run as nobody");
	if (!fixture_copy("pvm", dir, sizeof(dir)))
		SKIP_BECAUSE("the pvm fixture needs root to create its device nodes");
	assert_int_equal(chmod(dir, 0755), 0);
	sfmt(path, "%s" DEF_XML, dir);
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(chmod(path, 0600), 0);
	j = check_root(dir, true);
	assert_string_equal(check_status(j, ID), "skip");
	assert_non_null(strstr(field(j, "summary"), "cannot tell"));
	assert_non_null(strstr(field(j, "summary"), "Permission denied"));
	assert_true(json_is_false(detail(j, ID, "definition_readable")));
	json_decref(j);
	/* Root reads it: the same tree is judged. */
	j = check_root(dir, false);
	assert_string_equal(check_status(j, ID), "fail");
	json_decref(j);
	remove_tree(dir);

	/* And on this host, where the real definition is 0600 root. */
	struct stat st;

	if (stat(DEF_XML, &st) < 0 || (st.st_mode & 0004)) {
		printf("SKIP (part): %s is missing or world-readable here\n", DEF_XML);
		return;
	}
	j = run_json((char *const[]){ (char *)"--format", (char *)"json", (char *)"check", (char *)ID, NULL }, true);
	assert_string_not_equal(check_status(j, ID), "fail");
	if (access("/run/libvirt/network/default.xml", F_OK) < 0)
		assert_string_equal(check_status(j, ID), "skip");
	json_decref(j);
}

/* ---- live: each prerequisite broken for real, and what `virsh net-start` then says ---- */

struct live {
	int lock;
	bool started;		/* we started libvirtd */
	int net0;		/* the default network before: 1 active, 0 inactive, <0 missing */
};

static int live_setup(void **state)
{
	static struct live lv;

	lv = (struct live){ .lock = -1, .net0 = -ENOENT };
	*state = &lv;
	if (geteuid() != 0 || !libvirtd_installed() || access(IP_BIN, X_OK) < 0)
		return 0;
	lv.lock = libvirt_lock();
	if (lv.lock < 0)
		return -1;
	if (!libvirtd_running()) {
		if (libvirtd_start() < 0)
			return -1;
		lv.started = true;
	}
	lv.net0 = default_net_state(NULL);
	if (lv.net0 == 1)
		virsh_run(NULL, 0, "net-destroy", "default", (char *)NULL);
	return 0;
}

static int live_teardown(void **state)
{
	struct live *lv = *state;

	if (lv->lock < 0)
		return 0;
	if (lv->net0 == 1)
		virsh_run(NULL, 0, "net-start", "default", (char *)NULL);
	else if (default_net_state(NULL) == 1)
		virsh_run(NULL, 0, "net-destroy", "default", (char *)NULL);
	if (lv->started)
		libvirtd_stop();
	libvirt_unlock(lv->lock);
	return 0;
}

static int ip(const char *a, const char *b, const char *c, const char *d, const char *e, const char *f)
{
	struct result res = { 0 };
	int st;

	run_env(&res, NULL, (char *const[]){ (char *)IP_BIN, (char *)a, (char *)b, (char *)c, (char *)d,
					     (char *)e, (char *)f, NULL });
	st = res.status;
	result_clear(&res);
	return st;
}

/* net-start for real; it must fail and say what the doctor quoted. */
static void assert_net_start_says(const char *quote)
{
	struct result res = { 0 };

	run_env(&res, NULL, (char *const[]){ (char *)VIRSH_BIN, (char *)"-c", (char *)"qemu:///system",
					     (char *)"net-start", (char *)"default", NULL });
	if (res.status == 0) {
		virsh_run(NULL, 0, "net-destroy", "default", (char *)NULL);
		fail_msg("net-start succeeded although the doctor said it cannot (%s)", quote);
	}
	if (!strstr(res.err, quote))
		fail_msg("net-start said '%s', the doctor quoted '%s'", res.err, quote);
	result_clear(&res);
}

static void doctor_says(const char *blocker, const char *quote)
{
	json_t *j = run_json((char *const[]){ (char *)"--format", (char *)"json", (char *)"check", (char *)ID,
					       NULL }, false);

	if (!streq(check_status(j, ID), "fail") || !list_has(detail(j, ID, "start_blockers"), blocker))
		fail_msg("expected fail with blocker %s, got %s: %s", blocker, check_status(j, ID),
			 field(j, "summary"));
	assert_non_null(strstr(field(j, "summary"), quote));
	assert_true(has_fix(j, ID, "libvirt.start_default_network"));
	json_decref(j);
}

static void skip_unless_live(struct live *lv)
{
	if (geteuid() != 0)
		SKIP_BECAUSE("making interfaces and starting libvirt's network needs root");
	if (!libvirtd_installed() || access(IP_BIN, X_OK) < 0)
		SKIP_BECAUSE("libvirtd, virsh and ip are needed");
	assert_true(lv->lock >= 0);
	if (lv->net0 < 0)
		SKIP_BECAUSE("libvirt here has no default network");
}

static void test_live_dns_port(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
	struct live *lv = *state;
	int one = 1, fd;

	skip_unless_live(lv);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	/* SO_REUSEADDR does not help dnsmasq against a TCP socket (measured). */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		SKIP_BECAUSE("port 53 is taken here already: %s", strerror(errno));
	}
	assert_int_equal(listen(fd, 1), 0);
	doctor_says("dns_port_taken", "failed to create listening socket for 192.168.122.1: Address already in use");
	assert_net_start_says("failed to create listening socket for 192.168.122.1: Address already in use");
	close(fd);
}

static void test_live_route_in_use(void **state)
{
	struct live *lv = *state;

	skip_unless_live(lv);
	if (ip("link", "add", "vdtest0", "type", "bridge", NULL) != 0)
		SKIP_BECAUSE("cannot create a bridge interface here");
	assert_int_equal(ip("addr", "add", "192.168.122.50/24", "dev", "vdtest0", NULL), 0);
	assert_int_equal(ip("link", "set", "vdtest0", "up", NULL, NULL), 0);
	doctor_says("route_in_use", "Network is already in use by interface vdtest0");
	assert_net_start_says("Network is already in use by interface vdtest0");
	assert_int_equal(ip("link", "del", "vdtest0", NULL, NULL, NULL), 0);
}

static void test_live_bridge_exists(void **state)
{
	struct live *lv = *state;

	skip_unless_live(lv);
	if (ip("link", "show", "virbr0", NULL, NULL, NULL) == 0)
		SKIP_BECAUSE("virbr0 exists already");
	if (ip("link", "add", "virbr0", "type", "bridge", NULL) != 0)
		SKIP_BECAUSE("cannot create a bridge interface here");
	doctor_says("bridge_exists", "error creating bridge interface virbr0: File exists");
	assert_net_start_says("error creating bridge interface virbr0: File exists");
	assert_int_equal(ip("link", "del", "virbr0", NULL, NULL, NULL), 0);

	/* All removed again: the network starts (and the teardown puts it back as it was). */
	json_t *j = run_json((char *const[]){ (char *)"--format", (char *)"json", (char *)"check", (char *)ID,
					       NULL }, false);
	assert_int_equal(json_array_size(detail(j, ID, "start_blockers")), 0);
	json_decref(j);
	assert_int_equal(virsh_run(NULL, 0, "net-start", "default", (char *)NULL), 0);
	assert_int_equal(virsh_run(NULL, 0, "net-destroy", "default", (char *)NULL), 0);
}

int main(void)
{
	const struct CMUnitTest offline[] = {
		cmocka_unit_test(test_no_dnsmasq),
		cmocka_unit_test(test_no_firewall),
		cmocka_unit_test(test_unreadable_definition_as_nobody),
	};
	const struct CMUnitTest live[] = {
		cmocka_unit_test(test_live_dns_port),
		cmocka_unit_test(test_live_route_in_use),
		cmocka_unit_test(test_live_bridge_exists),
	};
	int fails = cmocka_run_group_tests_name("net.default_network prerequisites", offline, NULL, NULL);

	fails += cmocka_run_group_tests_name("net.default_network prerequisites live (real libvirtd)", live,
					     live_setup, live_teardown);
	return fails;
}
