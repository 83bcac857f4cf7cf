// SPDX-License-Identifier: GPL-2.0-or-later
/* net.bridge_netfilter: whether bridged guest traffic is handed to the host's firewall. */
#include <errno.h>

#include "checks/check.h"
#include "checks/kvm.h"
#include "util.h"

/* The sysctls br_netfilter adds; each sends bridged frames of one family through the
 * matching host firewall (iptables FORWARD, ip6tables, arptables). */
static const struct {
	const char *key;	/* detail key */
	const char *path;
	const char *tool;
} nf_sysctls[] = {
	{ "call_iptables", "/proc/sys/net/bridge/bridge-nf-call-iptables", "iptables" },
	{ "call_ip6tables", "/proc/sys/net/bridge/bridge-nf-call-ip6tables", "ip6tables" },
	{ "call_arptables", "/proc/sys/net/bridge/bridge-nf-call-arptables", "arptables" },
};

static void run_bridge_nf(struct check_ctx *ctx, struct check_result *r)
{
	char on[64] = "", v[16];
	const char *module;
	bool loadable, active;
	unsigned n_read = 0;

	kernel_module_state(ctx->host, "br_netfilter", &module, &loadable);
	/* The sysctls exist exactly while br_netfilter is in the kernel; built in, it has no
	 * /sys/module entry (no parameters), so they are the better witness. */
	active = host_exists(ctx->host, "/proc/sys/net/bridge");
	if (active && streq(module, "missing"))
		module = "built-in";
	detail_str(r, "module", "%s", module);
	detail_bool(r, "active", active);
	for (unsigned i = 0; i < ARRAY_SIZE(nf_sysctls); i++) {
		if (!active || host_read_line(ctx->host, nf_sysctls[i].path, v, sizeof(v)) < 0) {
			detail_null(r, nf_sysctls[i].key);
			continue;
		}
		n_read++;
		detail_bool(r, nf_sysctls[i].key, streq(v, "1"));
		if (streq(v, "1")) {
			size_t len = strlen(on);

			snprintf(on + len, sizeof(on) - len, "%s%s", len ? ", " : "", nf_sysctls[i].tool);
		}
	}
	if (!active) {
		result_set(r, CHECK_PASS, "br_netfilter is not loaded: bridged guest traffic bypasses "
			   "the host firewall");
		return;
	}
	if (!n_read) {
		result_set(r, CHECK_SKIP, "br_netfilter is %s but its sysctls are unreadable", module);
		return;
	}
	if (!on[0]) {
		result_set(r, CHECK_PASS, "br_netfilter is %s, but no bridge-nf-call-* is on", module);
		return;
	}
	result_set(r, CHECK_WARN, "br_netfilter is %s: bridged guest traffic passes the host's %s "
		   "rules", module, on);
	result_advise(r, "Frames between guests on a host bridge (br0, virbr0) and the LAN now go "
		      "through the host's FORWARD chain. Docker and Kubernetes set this and Docker sets "
		      "FORWARD's policy to DROP, which silently cuts bridged guests off. Either allow "
		      "bridged traffic (iptables -I FORWARD -m physdev --physdev-is-bridged -j ACCEPT) "
		      "or, if nothing here needs it, turn it off: sysctl -w "
		      "net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 "
		      "net.bridge.bridge-nf-call-arptables=0. libvirt's NAT network is not affected.");
}

const struct check check_net_bridge_netfilter = {
	.id = "net.bridge_netfilter",
	.title = "br_netfilter: host firewall on bridged traffic",
	.run = run_bridge_nf,
	.explain =
	"Tells whether br_netfilter is in the kernel (its sysctls under\n"
	"/proc/sys/net/bridge exist; the module's state comes from libkmod) and reads\n"
	"net.bridge.bridge-nf-call-iptables, -ip6tables and -arptables.\n"
	"\n"
	"Why: normally a Linux bridge switches frames without the host's\n"
	"firewall seeing them. With br_netfilter and bridge-nf-call-iptables=1, every IPv4\n"
	"packet crossing a bridge - guest to LAN on br0, guest to guest on virbr0 - also\n"
	"traverses iptables' FORWARD chain (ip6tables and arptables likewise). Docker and\n"
	"Kubernetes load br_netfilter and turn these on, and Docker sets the FORWARD\n"
	"policy to DROP: bridged guests then lose network with no error anywhere.\n"
	"libvirt's NAT network adds its own FORWARD rules for virbr0 and keeps working.\n"
	"\n"
	"Verdicts: not loaded, or loaded with every call sysctl 0: pass. Any call sysctl\n"
	"1: warn, with the two ways out. There is no automatic fix: turning it off can\n"
	"break container networking that relies on it.\n"
	"\n"
	"Fix: iptables -I FORWARD -m physdev --physdev-is-bridged -j ACCEPT, or sysctl -w\n"
	"net.bridge.bridge-nf-call-iptables=0 (and -ip6tables, -arptables) when no\n"
	"containers need it.",
};
