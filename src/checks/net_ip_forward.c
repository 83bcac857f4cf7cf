// SPDX-License-Identifier: GPL-2.0-or-later
/* net.ip_forward: IPv4 forwarding, which libvirt's NAT and routed networks need. */
#include <errno.h>

#include "checks/check.h"
#include "util.h"

static void run_ip_forward(struct check_ctx *ctx, struct check_result *r)
{
	const struct check_result *dn = run_result(ctx->run, "net.default_network");
	const struct detail *mode = dn ? detail_get(dn, "forward_mode") : NULL;
	const struct detail *active = dn ? detail_get(dn, "active") : NULL;
	bool nat_active;
	char v[16], v6[16];
	int err;

	err = host_read_line(ctx->host, "/proc/sys/net/ipv4/ip_forward", v, sizeof(v));
	if (err < 0) {
		result_set(r, CHECK_SKIP, "cannot read /proc/sys/net/ipv4/ip_forward: %s", host_strerror(err));
		return;
	}
	detail_bool(r, "ip_forward", streq(v, "1"));
	if (host_read_line(ctx->host, "/proc/sys/net/ipv6/conf/all/forwarding", v6, sizeof(v6)) == 0)
		detail_bool(r, "ipv6_forwarding", streq(v6, "1"));
	if (streq(v, "1")) {
		result_set(r, CHECK_PASS, "IPv4 forwarding is on");
		return;
	}
	if (!streq(v, "0")) {
		result_set(r, CHECK_SKIP, "/proc/sys/net/ipv4/ip_forward holds \"%s\", not 0 or 1", v);
		return;
	}
	/* It only matters for traffic the host routes: libvirt's nat and route modes. */
	nat_active = mode && mode->type == DETAIL_STRING &&
		(streq(mode->string, "nat") || streq(mode->string, "route")) &&
		active && active->type == DETAIL_BOOL && active->boolean;
	detail_bool(r, "needed_now", nat_active);
	if (nat_active)
		result_set(r, CHECK_WARN, "IPv4 forwarding is off while the default network (%s) is "
			   "active: its guests cannot reach beyond the host", mode->string);
	else
		result_set(r, CHECK_WARN, "IPv4 forwarding is off: NAT and routed guest networks "
			   "cannot reach beyond the host");
	result_advise(r, "libvirt turns it on when it starts a nat or route network, so off while "
		      "such a network runs means something reset it (a sysctl.conf reload, a firewall "
		      "script). Bridged guests (on a host bridge with the physical NIC) do not need it. "
		      "Turn it on: sysctl -w net.ipv4.ip_forward=1, and keep it in "
		      "/etc/sysctl.d/60-virt-doctor.conf.");
	result_fix(r, "sysctl.enable_ip_forward");
}

const struct check check_net_ip_forward = {
	.id = "net.ip_forward",
	.title = "IPv4 forwarding for NAT guest networks",
	.run = run_ip_forward,
	.explain =
	"Reads /proc/sys/net/ipv4/ip_forward (and, for information, IPv6 forwarding in\n"
	"/proc/sys/net/ipv6/conf/all/forwarding).\n"
	"\n"
	"Why: guests on libvirt's default network sit behind NAT on virbr0. Their packets\n"
	"to the outside are routed by the host, which the kernel does only with ip_forward\n"
	"= 1. Off, guests get a DHCP address and reach the host, but nothing beyond it\n"
	"(\"ping 8.8.8.8\" from a guest times out).\n"
	"\n"
	"When it matters: libvirt sets ip_forward=1 itself whenever it starts a nat or\n"
	"route network, so 0 while such a network is active means something reset it\n"
	"afterwards (sysctl --system with a file saying 0, a firewall script). Off with the\n"
	"default network inactive is harmless until libvirt starts it. Guests bridged to a\n"
	"physical NIC (forward mode bridge, macvtap) are switched, not routed, and do not\n"
	"need it. Docker also turns it on.\n"
	"\n"
	"Verdicts: 1: pass. 0: warn (the summary says whether the default network needs\n"
	"it right now).\n"
	"\n"
	"Fix: sysctl -w net.ipv4.ip_forward=1; persist in /etc/sysctl.d/.",
};
