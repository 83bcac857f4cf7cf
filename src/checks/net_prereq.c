// SPDX-License-Identifier: GPL-2.0-or-later
/* What `virsh net-start` needs for a libvirt-managed network, checked in the order libvirt 9.0 fails. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include "checks/libvirt.h"
#include "checks/net.h"
#include "util.h"

/*
 * libvirt finds dnsmasq with virFindFileInPath() in the daemon's $PATH, which systemd and
 * the init scripts set to this list; the doctor's own $PATH is not the daemon's.
 */
static const char *const daemon_path[] = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
					   "/usr/bin", "/sbin", "/bin" };

/*
 * The firewall programs libvirt runs for NAT and route networks (it executes the fixed path,
 * "cannot execute binary /usr/sbin/iptables" when it is gone). /etc/libvirt/network.conf and
 * its firewall_backend arrived with libvirt 10.4; before that (Debian 12's 9.0) iptables is the
 * only backend, after it the default is nftables when nft is there, else iptables.
 */
#define NETWORK_CONF "/etc/libvirt/network.conf"
static const struct { const char *name, *bin; } fw_backends[] = {
	{ "nftables", "/usr/sbin/nft" },
	{ "iptables", "/usr/sbin/iptables" },
};

static bool executable(const struct host *h, const char *path)
{
	struct stat st;

	return host_stat(h, path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

static void find_dnsmasq(const struct host *h, struct net_blockers *b)
{
	for (size_t i = 0; i < ARRAY_SIZE(daemon_path); i++) {
		char path[64];

		sfmt(path, "%s/dnsmasq", daemon_path[i]);
		if (executable(h, path)) {
			scopy(b->dnsmasq, path);
			return;
		}
	}
}

static void find_firewall(const struct host *h, const struct libvirt_network *n, struct net_blockers *b)
{
	_cleanup_free_ char *conf = NULL;
	char want[32] = "";
	bool has_conf = host_read(h, NETWORK_CONF, 1u << 20, &conf, NULL) == 0;

	/* mode='open' adds no rules; the other managed modes do. */
	if (streq(n->forward_mode, "open"))
		return;
	if (has_conf)
		libvirt_conf_get(conf, "firewall_backend", want, sizeof(want));
	for (size_t i = 0; i < ARRAY_SIZE(fw_backends); i++) {
		bool picked = want[0] ? streq(want, fw_backends[i].name) :
			has_conf ? executable(h, fw_backends[i].bin) : streq(fw_backends[i].name, "iptables");

		if (!picked)
			continue;
		scopy(b->firewall_backend, fw_backends[i].name);
		b->firewall_ok = executable(h, fw_backends[i].bin);
		scopy(b->firewall_bin, fw_backends[i].bin);
		return;
	}
	/* A network.conf with no usable backend: libvirt would fall back to iptables. */
	scopy(b->firewall_backend, want[0] ? want : "iptables");
	scopy(b->firewall_bin, "/usr/sbin/iptables");
	b->firewall_ok = !want[0] && executable(h, b->firewall_bin);
}

/* libvirt's networkCheckRouteCollision(): any IPv4 route for exactly the network's subnet. */
static void find_route(const struct host *h, const struct libvirt_network *n, struct net_blockers *b)
{
	_cleanup_free_ char *text = NULL;
	struct in_addr a;
	uint32_t mask, net;

	if (!n->address[0] || n->prefix < 0 || inet_pton(AF_INET, n->address, &a) != 1)
		return;
	mask = n->prefix ? htonl(~0u << (32 - n->prefix)) : 0;
	net = a.s_addr & mask;
	if (host_read(h, "/proc/net/route", HOST_READ_MAX, &text, NULL) < 0)
		return;
	for (char *line = strchr(text, '\n'); line && *++line; line = strchr(line, '\n')) {
		char iface[17];
		unsigned int dest, m;

		/* Iface Destination Gateway Flags RefCnt Use Metric Mask ... (hex, network order) */
		if (sscanf(line, "%16s %x %*s %*s %*s %*s %*s %x", iface, &dest, &m) != 3)
			continue;
		if ((dest & m) == net && m == mask) {
			scopy(b->route_iface, iface);
			return;
		}
	}
}

/*
 * Sockets on port 53 in the way of the network's dnsmasq (it binds the network's address,
 * TCP and UDP). Measured with libvirt 9.0: a TCP socket bound to 0.0.0.0:53 stops it in any
 * state and with or without SO_REUSEADDR; a UDP one only without SO_REUSEADDR, which
 * /proc/net/udp does not show, so UDP is "may". An IPv6 wildcard counts as IPv4 too unless
 * net.ipv6.bindv6only is set.
 */
static void find_dns_port(const struct host *h, const struct libvirt_network *n, struct net_blockers *b)
{
	static const struct { const char *file; bool tcp, v6; } tables[] = {
		{ "/proc/net/tcp", true, false }, { "/proc/net/tcp6", true, true },
		{ "/proc/net/udp", false, false }, { "/proc/net/udp6", false, true },
	};
	char v6only[8] = "0";
	struct in_addr a;

	if (!n->address[0] || inet_pton(AF_INET, n->address, &a) != 1)
		return;
	host_read_line(h, "/proc/sys/net/ipv6/bindv6only", v6only, sizeof(v6only));
	for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
		_cleanup_free_ char *text = NULL;

		if (tables[t].v6 && streq(v6only, "1"))
			continue;
		if (host_read(h, tables[t].file, HOST_READ_MAX, &text, NULL) < 0)
			continue;
		for (char *line = strchr(text, '\n'); line && *++line; line = strchr(line, '\n')) {
			char local[64], *colon;
			unsigned long port;
			bool hit;

			if (sscanf(line, " %*s %63s", local) != 1 || !(colon = strchr(local, ':')))
				continue;
			*colon = '\0';
			port = strtoul(colon + 1, NULL, 16);
			if (port != 53)
				continue;
			if (tables[t].v6) {
				hit = strspn(local, "0") == strlen(local);	/* [::] */
			} else {
				/* The kernel prints the address as the host-order hex of the raw word. */
				unsigned int addr = (unsigned int)strtoul(local, NULL, 16);

				hit = addr == 0 || addr == a.s_addr;
			}
			if (!hit)
				continue;
			if (tables[t].tcp && !b->dns_port_tcp[0]) {
				sfmt(b->dns_port_tcp, "%s %s:53", tables[t].v6 ? "tcp6" : "tcp",
				     tables[t].v6 ? "[::]" : strtoul(local, NULL, 16) ? n->address : "0.0.0.0");
			} else if (!tables[t].tcp && !b->dns_port_udp[0]) {
				sfmt(b->dns_port_udp, "%s %s:53", tables[t].v6 ? "udp6" : "udp",
				     tables[t].v6 ? "[::]" : strtoul(local, NULL, 16) ? n->address : "0.0.0.0");
			}
		}
	}
}

void net_start_blockers(const struct host *h, const struct libvirt_network *n, bool check_bridge,
			struct net_blockers *b)
{
	memset(b, 0, sizeof(*b));
	find_dnsmasq(h, b);
	find_firewall(h, n, b);
	if (!h->live)
		return;	/* routes, interfaces and sockets are facts of the running kernel */
	find_route(h, n, b);
	if (check_bridge) {
		struct net_link l = { 0 };

		b->bridge_taken = net_link_probe(n->bridge, &l) == 0 && l.exists;
	}
	find_dns_port(h, n, b);
}
