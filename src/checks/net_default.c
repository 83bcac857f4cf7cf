// SPDX-License-Identifier: GPL-2.0-or-later
/* net.default_network: libvirt's "default" network as defined, as libvirt runs it, and its bridge. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "checks/check.h"
#include "checks/libvirt.h"
#include "checks/net.h"
#include "util.h"

#define NET_NAME "default"
#define DEF_PATH LIBVIRT_NET_CONFIG_DIR "/" NET_NAME ".xml"
#define AUTOSTART_PATH LIBVIRT_NET_CONFIG_DIR "/autostart/" NET_NAME ".xml"
#define STATUS_PATH LIBVIRT_NET_STATUS_DIR "/" NET_NAME ".xml"
#define PID_PATH LIBVIRT_NET_STATUS_DIR "/" NET_NAME ".pid"
#define DNSMASQ_CONF LIBVIRT_DNSMASQ_DIR "/" NET_NAME ".conf"

/* Any of these says libvirt's network driver is installed (monolithic or modular daemon). */
static const char *const libvirt_markers[] = {
	"/usr/sbin/libvirtd",
	"/usr/sbin/virtnetworkd",
	LIBVIRT_NET_CONFIG_DIR,
};

/* Forward modes for which libvirt itself creates the bridge, gives it the <ip> address
 * and runs dnsmasq. For "bridge", "passthrough", "hostdev"... the bridge is the admin's. */
static const char *const libvirt_managed_modes[] = { "", "nat", "route", "open" };

static bool libvirt_installed(const struct host *h)
{
	for (unsigned i = 0; i < ARRAY_SIZE(libvirt_markers); i++)
		if (host_exists(h, libvirt_markers[i]))
			return true;
	return false;
}

static bool managed_mode(const char *mode)
{
	for (unsigned i = 0; i < ARRAY_SIZE(libvirt_managed_modes); i++)
		if (streq(mode, libvirt_managed_modes[i]))
			return true;
	return false;
}

/* libvirt's own test: the autostart link exists and resolves to the definition. */
static bool autostart_on(const struct host *h)
{
	struct stat link, def;

	return host_stat(h, AUTOSTART_PATH, &link) == 0 && host_stat(h, DEF_PATH, &def) == 0 &&
	       link.st_dev == def.st_dev && link.st_ino == def.st_ino;
}

/*
 * dnsmasq as libvirt starts it: the pid file it writes, and a process with that pid whose
 * argv[0] is dnsmasq and whose --conf-file is this network's. libvirt leaves the pid file
 * behind after net-destroy, so the file alone proves nothing. Returns the pid or 0.
 */
static pid_t dnsmasq_pid(const struct host *h)
{
	char line[32], path[64], buf[4096];
	_cleanup_close_ int fd = -1;
	bool is_dnsmasq = false, our_conf = false;
	ssize_t n;
	char *end;
	long pid;

	if (host_read_line(h, PID_PATH, line, sizeof(line)) < 0)
		return 0;
	pid = strtol(line, &end, 10);
	if (*end || pid <= 0 || pid > 0x3fffffff)
		return 0;
	sfmt(path, "/proc/%ld/cmdline", pid);
	/* cmdline is NUL-separated, which host_read() refuses: read it raw. */
	fd = host_open(h, path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (char *arg = buf; arg < buf + n; arg += strlen(arg) + 1) {
		const char *base = strrchr(arg, '/');

		if (arg == buf)
			is_dnsmasq = streq(base ? base + 1 : arg, "dnsmasq");
		else if (streq(arg, "--conf-file=" DNSMASQ_CONF))
			our_conf = true;
	}
	return is_dnsmasq && our_conf ? (pid_t)pid : 0;
}

/*
 * What stops `virsh net-start default`, in the order libvirt 9.0 meets them, with libvirt's
 * own words (measured: each one set up on this kind of host and net-start run). Filled by
 * judge_blockers(); a blocker with fix NULL needs a person.
 */
struct blocker {
	const char *id;		/* the start_blockers item */
	char what[160];		/* for the summary */
	char says[256];		/* libvirt's error */
	const char *fix;
};

static unsigned judge_blockers(const struct net_blockers *b, const struct libvirt_network *n,
			       struct blocker *out)
{
	unsigned k = 0;

	if (b->route_iface[0]) {
		out[k] = (struct blocker){ .id = "route_in_use" };
		sfmt(out[k].what, "its subnet (%s/%d) is routed through %s", n->address, n->prefix, b->route_iface);
		sfmt(out[k].says, "internal error: Network is already in use by interface %s", b->route_iface);
		k++;
	}
	if (b->bridge_taken) {
		out[k] = (struct blocker){ .id = "bridge_exists" };
		sfmt(out[k].what, "an interface %s exists already", n->bridge);
		sfmt(out[k].says, "error creating bridge interface %s: File exists", n->bridge);
		k++;
	}
	if (b->firewall_backend[0] && !b->firewall_ok) {
		out[k] = (struct blocker){ .id = "no_firewall" };
		sfmt(out[k].what, "no %s for libvirt's %s firewall rules", b->firewall_bin, b->firewall_backend);
		/* The tail of "Failed to apply firewall rules /usr/sbin/iptables -w ...: ..." */
		sfmt(out[k].says, "cannot execute binary %s: No such file or directory", b->firewall_bin);
		k++;
	}
	if (b->dns_port_tcp[0]) {
		out[k] = (struct blocker){ .id = "dns_port_taken" };
		sfmt(out[k].what, "another program holds %s", b->dns_port_tcp);
		sfmt(out[k].says, "dnsmasq: failed to create listening socket for %s: Address already in use",
		     n->address);
		k++;
	}
	if (!b->dnsmasq[0]) {
		out[k] = (struct blocker){ .id = "no_dnsmasq", .fix = "packages.install_dnsmasq" };
		sfmt(out[k].what, "dnsmasq is not installed");
		sfmt(out[k].says, "Unable to find 'dnsmasq' binary in $PATH: No such file or directory");
		k++;
	}
	return k;
}

static void detail_blockers(struct check_result *r, const struct net_blockers *b,
			    const struct blocker *bl, unsigned n)
{
	if (b->dnsmasq[0])
		detail_str(r, "dnsmasq_binary", "%s", b->dnsmasq);
	else
		detail_null(r, "dnsmasq_binary");
	if (b->firewall_backend[0]) {
		detail_str(r, "firewall_backend", "%s", b->firewall_backend);
		detail_str(r, "firewall_binary", "%s", b->firewall_bin);
	}
	if (b->route_iface[0])
		detail_str(r, "route_conflict", "%s", b->route_iface);
	if (b->dns_port_tcp[0])
		detail_str(r, "dns_port_tcp", "%s", b->dns_port_tcp);
	if (b->dns_port_udp[0])
		detail_str(r, "dns_port_udp", "%s", b->dns_port_udp);
	detail_list_add(r, "start_blockers", NULL);
	for (unsigned i = 0; i < n; i++)
		detail_list_add(r, "start_blockers", bl[i].id);
}

static void detail_net(struct check_result *r, const struct libvirt_network *n)
{
	detail_str(r, "bridge", "%s", n->bridge);
	detail_str(r, "forward_mode", "%s", n->forward_mode[0] ? n->forward_mode : "none");
	if (n->address[0]) {
		detail_str(r, "address", "%s", n->address);
		detail_int(r, "prefix", n->prefix);
	} else {
		detail_null(r, "address");
		detail_null(r, "prefix");
	}
	if (n->dhcp_start[0]) {
		detail_str(r, "dhcp_start", "%s", n->dhcp_start);
		detail_str(r, "dhcp_end", "%s", n->dhcp_end);
	} else {
		detail_null(r, "dhcp_start");
		detail_null(r, "dhcp_end");
	}
}

static void add_bridge_name(const char *name, void *data)
{
	detail_list_add(data, "bridges", name);
}

/* One line about what the bridge really is, for summaries. */
static void describe_link(char *buf, size_t size, const char *name, const struct net_link *l)
{
	if (!l->exists) {
		snprintf(buf, size, "no %s", name);
		return;
	}
	snprintf(buf, size, "%s %s, %s, %s", l->is_bridge ? "bridge" : "interface", name,
		 l->admin_up ? "up" : "down", l->n_addrs ? l->addrs[0] : "no IPv4 address");
}

/* Compare the live bridge with what libvirt runs; each finding appends to problems. */
static void judge_bridge(struct check_result *r, const struct libvirt_network *want,
			 const struct net_link *l, char *problems, size_t size)
{
	char expected[80] = "";
	bool has_expected = false;
	size_t len;

#define PROBLEM(...) do { \
		len = strlen(problems); \
		snprintf(problems + len, size - len, "%s", len ? "; " : ""); \
		len = strlen(problems); \
		snprintf(problems + len, size - len, __VA_ARGS__); \
	} while (0)

	if (!l->exists) {
		PROBLEM("bridge %s does not exist", want->bridge);
		detail_list_add(r, "problems", "bridge_missing");
		return;
	}
	if (!l->is_bridge) {
		PROBLEM("%s is not a bridge (%s)", want->bridge, l->devtype[0] ? l->devtype : "plain interface");
		detail_list_add(r, "problems", "not_a_bridge");
	}
	if (!l->admin_up) {
		PROBLEM("%s is down", want->bridge);
		detail_list_add(r, "problems", "bridge_down");
	}
	if (want->address[0] && managed_mode(want->forward_mode)) {
		sfmt(expected, "%s/%d", want->address, want->prefix);
		for (unsigned i = 0; i < l->n_addrs; i++)
			has_expected |= streq(l->addrs[i], expected);
		if (!has_expected) {
			if (l->n_addrs)
				PROBLEM("%s carries %s, not %s", want->bridge, l->addrs[0], expected);
			else
				PROBLEM("%s has no IPv4 address (libvirt gives it %s)", want->bridge, expected);
			detail_list_add(r, "problems", "wrong_address");
		}
	}
#undef PROBLEM
}

/* The daemon that starts networks answers: libvirtd, or virtnetworkd on modular setups.
 * Offline nothing runs. */
static bool daemon_answers(const struct host *h)
{
	static const char *const socks[] = { "/run/libvirt/libvirt-sock-ro", "/run/libvirt/virtnetworkd-sock-ro" };

	for (size_t i = 0; h->live && i < ARRAY_SIZE(socks); i++)
		if (unix_socket_probe(socks[i], 200) == 0)
			return true;
	return false;
}

static void run_default(struct check_ctx *ctx, struct check_result *r)
{
	const struct host *h = ctx->host;
	struct libvirt_network def, run;
	const struct libvirt_network *want;
	char why[192] = "", run_why[192] = "", problems[256] = "", seen[128] = "";
	struct net_link link = { 0 };
	bool installed, defined, active, autostart, def_ok, def_denied, run_ok, have_link = false;
	const char *bridge;
	pid_t pid;
	int err;

	installed = libvirt_installed(h);
	detail_bool(r, "libvirt_installed", installed);

	err = libvirt_network_load(h, DEF_PATH, &def, why, sizeof(why));
	defined = err != -ENOENT && err != -ENOTDIR;
	def_ok = err == 0;
	/* libvirt keeps its definitions 0600 root: for anyone else that is "cannot tell". */
	def_denied = err == -EACCES || err == -EPERM;
	active = host_exists(h, STATUS_PATH);
	/* While it runs, the status file holds the configuration libvirt started it with;
	 * `virsh net-edit` changes only the definition until the next start. */
	run_ok = active && libvirt_network_load(h, STATUS_PATH, &run, run_why, sizeof(run_why)) == 0;
	autostart = defined && autostart_on(h);

	detail_bool(r, "defined", defined);
	if (def_denied)
		detail_bool(r, "definition_readable", false);
	if (def_ok)
		detail_net(r, &def);
	else if (run_ok)
		detail_net(r, &run);
	detail_bool(r, "autostart", autostart);
	detail_bool(r, "active", active);
	want = run_ok ? &run : def_ok ? &def : NULL;
	bridge = want && want->bridge[0] ? want->bridge : "virbr0";
	if (!want || !want->bridge[0])
		detail_str(r, "bridge", "%s", bridge);	/* the name libvirt uses by default */

	if (h->live) {
		err = net_link_probe(bridge, &link);
		have_link = err == 0;
		if (!have_link)
			detail_str(r, "probe_error", "%s", strerror(-err));
		detail_list_add(r, "bridges", NULL);
		(void)net_list(NET_KIND_BRIDGE, add_bridge_name, r);
	}
	if (have_link) {
		detail_bool(r, "bridge_exists", link.exists);
		detail_bool(r, "bridge_is_bridge", link.is_bridge);
		detail_bool(r, "bridge_up", link.admin_up);
		if (link.exists) {
			detail_str(r, "bridge_operstate", "%s", link.operstate);
			detail_bool(r, "bridge_carrier", link.lower_up);
		}
		detail_list_add(r, "bridge_address", NULL);
		for (unsigned i = 0; i < link.n_addrs; i++)
			detail_list_add(r, "bridge_address", link.addrs[i]);
		describe_link(seen, sizeof(seen), bridge, &link);
	} else {
		/* Offline: the bridge is a fact of the running kernel, not of files. */
		detail_null(r, "bridge_exists");
		detail_null(r, "bridge_is_bridge");
		detail_null(r, "bridge_up");
		detail_null(r, "bridge_address");
	}
	pid = dnsmasq_pid(h);
	if (pid)
		detail_int(r, "dnsmasq_pid", pid);
	else
		detail_null(r, "dnsmasq_pid");

	if (!installed && !defined && !active) {
		if (have_link && link.exists)
			result_set(r, CHECK_SKIP, "libvirt is not installed; found %s (not libvirt's)", seen);
		else
			result_set(r, CHECK_SKIP, "libvirt is not installed (see libvirt.daemon)");
		return;
	}
	if (def_denied && !run_ok) {
		result_set(r, CHECK_SKIP, "cannot tell: %s is not readable by this user (%s); the network "
			   "is defined and %s", DEF_PATH, why, active ? "active" : "not active");
		result_advise(r, "libvirt keeps its network definitions readable by root only. Run "
			      "virt-doctor as root (or with sudo) to judge the default network.");
		return;
	}
	if (defined && !def_ok && !def_denied) {
		result_set(r, CHECK_FAIL, "%s is unusable: %s", DEF_PATH, why);
		result_advise(r, "libvirt cannot load this definition. Fix it with `virsh net-edit default`, "
			      "or remove it and define the stock one again (Debian ships it as "
			      "/usr/share/libvirt/networks/default.xml: virsh net-define that file).");
		result_fix(r, "libvirt.define_default_network");
		return;
	}
	if (!active) {
		if (!defined) {
			result_set(r, CHECK_WARN, "libvirt has no default network%s%s",
				   have_link && link.exists ? "; found " : "", have_link && link.exists ? seen : "");
			result_advise(r, "Guests configured with <interface type='network'><source "
				      "network='default'/> will not start. Define it: virsh net-define "
				      "/usr/share/libvirt/networks/default.xml && virsh net-autostart default "
				      "&& virsh net-start default.");
			result_fix(r, "libvirt.define_default_network");
			result_fix(r, "libvirt.start_default_network");
			return;
		}
		if (managed_mode(def.forward_mode)) {
			struct blocker bl[5];
			struct net_blockers b;
			unsigned n;

			net_start_blockers(h, &def, true, &b);
			n = judge_blockers(&b, &def, bl);
			detail_blockers(r, &b, bl, n);
			if (n) {
				char advice[512];

				result_set(r, CHECK_FAIL, "default network is inactive and cannot start: %s "
					   "(net-start says \"%s\")", bl[0].what, bl[0].says);
				/* The summary names the first; the advice lists every one. */
				sfmt(advice, "Guests on the default network cannot start until this is resolved:");
				for (unsigned i = 0; i < n; i++) {
					size_t len = strlen(advice);

					snprintf(advice + len, sizeof(advice) - len, "%s %s", i ? ";" : "",
						 bl[i].what);
					if (bl[i].fix)
						result_fix(r, bl[i].fix);
				}
				strncat(advice, ".", sizeof(advice) - strlen(advice) - 1);
				if (!b.dnsmasq[0]) {
					size_t len = strlen(advice);

					snprintf(advice + len, sizeof(advice) - len, " Install dnsmasq "
						 "(dnsmasq-base on Debian and Ubuntu, dnsmasq elsewhere).");
				}
				if (b.route_iface[0] || b.bridge_taken) {
					size_t len = strlen(advice);

					snprintf(advice + len, sizeof(advice) - len, " Remove the stale "
						 "interface (ip link delete %s) or give the network another "
						 "subnet and bridge (virsh net-edit default).",
						 b.route_iface[0] ? b.route_iface : def.bridge);
				}
				result_advise(r, "%s", advice);
				/* The planner starts it only once the blockers it can fix are planned. */
				result_fix(r, "libvirt.start_default_network");
				return;
			}
		}
		/*
		 * A guest on it fails to start now ("network 'default' is not active"): a fail,
		 * unless the network will come up with a daemon that is not running yet (autostart
		 * on), where the daemon is the cause libvirt.daemon names.
		 */
		bool waits = autostart && !daemon_answers(h);

		result_set(r, waits ? CHECK_WARN : CHECK_FAIL,
			   "default network (%s, %s/%d) is defined but not active%s",
			   def.bridge, def.address[0] ? def.address : "no address", def.prefix,
			   waits ? " (autostart is on: it starts with libvirt)" : autostart ?
			   ", although libvirt runs and autostart is on" : ", and not autostarted");
		result_advise(r, "Guests on the default network fail to start with \"Network not found: "
			      "no network with matching name\" or \"network 'default' is not active\". "
			      "Start it: virsh net-start default; keep it across reboots: virsh "
			      "net-autostart default.%s", detail_get(r, "dns_port_udp") ? " Something "
			      "holds UDP port 53 on its address: net-start fails unless it set SO_REUSEADDR "
			      "(a dnsmasq does)." : "");
		result_fix(r, "libvirt.start_default_network");
		return;
	}

	/* Active. */
	if (!run_ok && !def_ok) {
		result_set(r, CHECK_FAIL, "%s is unusable: %s", STATUS_PATH, run_why);
		result_advise(r, "libvirt's record of the running network is damaged: restart it with "
			      "virsh net-destroy default && virsh net-start default.");
		return;
	}
	if (have_link)
		judge_bridge(r, want, &link, problems, sizeof(problems));
	if (have_link && !problems[0] && managed_mode(want->forward_mode) && !pid) {
		/* libvirt runs dnsmasq for every network whose bridge it manages: DNS always,
		 * DHCP when there is a range. Without it guests get no address. */
		snprintf(problems, sizeof(problems), "dnsmasq is not running for the default network");
		detail_list_add(r, "problems", "dnsmasq_missing");
	}
	if (problems[0]) {
		result_set(r, CHECK_FAIL, "default network is active but %s", problems);
		result_advise(r, "libvirt thinks the network runs but the host does not match: guests "
			      "attach to a broken bridge and get no address. Restart it: virsh "
			      "net-destroy default && virsh net-start default (this recreates %s, its "
			      "address and dnsmasq).", want->bridge);
		return;
	}
	if (!defined) {
		result_set(r, CHECK_WARN, "default network is active but transient (no definition): "
			   "it disappears when libvirt restarts");
		result_advise(r, "Make it persistent: virsh net-dumpxml default > /tmp/default.xml && "
			      "virsh net-define /tmp/default.xml && virsh net-autostart default.");
		result_fix(r, "libvirt.define_default_network");
		return;
	}
	if (have_link)
		result_set(r, CHECK_PASS, "default network active: %s, %s, dnsmasq pid %d%s", seen,
			   want->forward_mode[0] ? want->forward_mode : "isolated", (int)pid,
			   autostart ? ", autostart" : "");
	else
		result_set(r, CHECK_PASS, "default network defined and active (%s, %s/%d)%s; bridge not "
			   "inspected (%s)", want->bridge, want->address, want->prefix,
			   autostart ? ", autostart" : "", h->live ? "probe failed" : "offline root");
	if (!autostart)
		result_advise(r, "It is not autostarted, so after a reboot it stays inactive until "
			      "someone runs virsh net-start default. Keep it: virsh net-autostart default.");
}

const struct check check_net_default_network = {
	.id = "net.default_network",
	.title = "libvirt default network and its bridge",
	.run = run_default,
	.explain =
	"Reads libvirt's default network from files, so it works offline and without a\n"
	"running daemon: the definition /etc/libvirt/qemu/networks/default.xml (bridge name,\n"
	"forward mode, IPv4 address and prefix, DHCP range), autostart (the symlink\n"
	"autostart/default.xml pointing at it) and whether libvirt runs it (libvirt keeps\n"
	"/run/libvirt/network/default.xml, a <networkstatus> record, while it is active and\n"
	"deletes it on net-destroy). The XML is parsed with libxml2.\n"
	"\n"
	"Live, it then looks at the bridge itself (virbr0 unless the definition names\n"
	"another) through libudev and rtnetlink: it must exist, be a bridge, be up\n"
	"(administratively, IFF_UP: libvirt's virbr0 reports operstate \"down\" and\n"
	"NO-CARRIER until a guest plugs in, which is normal) and carry the address of the\n"
	"definition\n"
	"(192.168.122.1/24 by default). It also finds the dnsmasq that serves the network's\n"
	"DHCP and DNS: the pid in /run/libvirt/network/default.pid must be a dnsmasq\n"
	"started with /var/lib/libvirt/dnsmasq/default.conf (libvirt leaves a stale pid\n"
	"file behind after net-destroy).\n"
	"\n"
	"Why: virt-install and virt-manager attach new guests to the default network. When\n"
	"it is not defined or not started, guests fail with \"Network not found: no network\n"
	"with matching name 'default'\" or \"network 'default' is not active\". When it is\n"
	"active but the bridge was removed, lost its address or dnsmasq died (an admin's\n"
	"`ip link del`, NetworkManager, a firewall reload) guests boot without network.\n"
	"\n"
	"Defined but inactive, it checks what `virsh net-start default` needs, in the\n"
	"order libvirt 9.0 meets it (each was set up on a real host and net-start run):\n"
	"no route for its subnet on another interface (\"Network is already in use by\n"
	"interface X\"), no interface with its bridge's name (\"error creating bridge\n"
	"interface virbr0: File exists\"), the firewall program libvirt runs\n"
	"(/usr/sbin/iptables, or nft per /etc/libvirt/network.conf), no TCP socket on\n"
	"port 53 where its dnsmasq must listen (\"failed to create listening socket ...:\n"
	"Address already in use\"), and dnsmasq in libvirt's $PATH (\"Unable to find\n"
	"'dnsmasq' binary in $PATH\"). The XML is never entity-expanded: a definition\n"
	"that declares entities is refused. As a user who may not read the 0600\n"
	"definition it cannot tell, and skips.\n"
	"\n"
	"Verdicts: libvirt not installed: skip. Defined, active, bridge correct: pass\n"
	"(with advice when not autostarted). Defined but inactive: warn. Not defined:\n"
	"warn. Inactive and unable to start: fail, quoting libvirt. Active but the bridge\n"
	"missing, not a bridge, down, without its address, or no dnsmasq: fail, naming\n"
	"each difference.\n"
	"\n"
	"Fix: install dnsmasq (packages.install_dnsmasq), then virsh net-start default &&\n"
	"virsh net-autostart default (planned only once nothing blocks it); when it is not\n"
	"defined, virsh net-define /usr/share/libvirt/networks/default.xml first. When it is\n"
	"active but broken: virsh net-destroy default && virsh net-start default.",
};
