/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the net.* checks: libvirt network definitions, live links, misc device nodes. */
#ifndef VD_NET_H
#define VD_NET_H

#include <stdbool.h>
#include <sys/types.h>

#include "host.h"

/* Where the system libvirt (libvirtd or virtnetworkd) keeps networks. */
#define LIBVIRT_NET_CONFIG_DIR "/etc/libvirt/qemu/networks"
#define LIBVIRT_NET_STATUS_DIR "/run/libvirt/network"
#define LIBVIRT_DNSMASQ_DIR "/var/lib/libvirt/dnsmasq"

/* The parts of a <network> definition the doctor judges. Empty strings when absent. */
struct libvirt_network {
	char name[64];
	char bridge[32];	/* <bridge name=...> (IFNAMSIZ is 16; longer is reported as is) */
	char forward_mode[16];	/* <forward mode=...>; "nat" when <forward/> has no mode,
				 * "" (isolated) when there is no <forward> */
	char address[64];	/* first IPv4 <ip address=...> */
	int prefix;		/* from prefix= or netmask=; -1 when no IPv4 address */
	char dhcp_start[64], dhcp_end[64];
};

/* Largest network XML read: libvirt's are a few hundred bytes, a big one a few KiB. */
#define LIBVIRT_XML_MAX (1u << 20)

/*
 * Parse a network definition (<network>) or libvirt's status file (<networkstatus> holding
 * a <network>) with libxml2. 0, -ENOENT, or -EBADMSG with a one-line reason in why
 * (line number and libxml2's message, or what element is missing).
 */
int libvirt_network_parse(const char *text, size_t len, struct libvirt_network *n,
			  char *why, size_t why_size);
/* Read and parse path through the host context; errors as host_read() and the above. */
int libvirt_network_load(const struct host *h, const char *path, struct libvirt_network *n,
			 char *why, size_t why_size);

/*
 * What `virsh net-start` of a libvirt-managed network (forward none, nat, route, open) needs
 * and would fail without (src/checks/net_prereq.c). Strings are "" when fine or unknown.
 */
struct net_blockers {
	char dnsmasq[64];		/* the dnsmasq libvirt finds in its $PATH; "" when none */
	char firewall_backend[16];	/* "iptables" or "nftables"; "" for mode='open' (no rules) */
	char firewall_bin[32];		/* the program libvirt runs for it */
	bool firewall_ok;		/* that program is installed */
	/* Live only: */
	char route_iface[17];		/* an interface with a route for exactly this subnet */
	bool bridge_taken;		/* an interface named like the bridge exists already */
	char dns_port_tcp[80];		/* "tcp 0.0.0.0:53": a TCP socket in dnsmasq's way */
	char dns_port_udp[80];		/* "udp 0.0.0.0:53": one that is in the way without SO_REUSEADDR */
};
/* check_bridge: the network is inactive, so its bridge must not exist yet. */
void net_start_blockers(const struct host *h, const struct libvirt_network *n, bool check_bridge,
			struct net_blockers *b);

/* Dotted netmask to prefix length; -1 when not a contiguous IPv4 mask. */
int netmask_to_prefix(const char *mask);

/* Live facts about one network interface in this process's network namespace. */
#define NET_LINK_ADDRS_MAX 8
struct net_link {
	bool exists;
	bool is_bridge;		/* udev DEVTYPE=bridge and sysfs bridge/ attributes */
	bool admin_up;		/* IFF_UP in flags */
	bool lower_up;		/* carrier: an empty bridge has none, which is normal */
	char operstate[16];
	char devtype[16];	/* udev DEVTYPE, "" for plain Ethernet */
	unsigned n_addrs;
	char addrs[NET_LINK_ADDRS_MAX][64];	/* IPv4 "a.b.c.d/len", in kernel order */
};

/* Probe one interface through libudev (sysfs) and getifaddrs (rtnetlink). 0 or -errno. */
int net_link_probe(const char *name, struct net_link *l);

/* Names of net devices udev types DEVTYPE=bridge, or that carry tun_flags (tun/tap), in
 * this namespace; fn is called per name. 0 or -errno. */
enum net_kind { NET_KIND_BRIDGE, NET_KIND_TUNTAP };
int net_list(enum net_kind kind, void (*fn)(const char *name, void *data), void *data);

/* A misc character device such as /dev/net/tun or /dev/vhost-net. */
struct misc_node {
	bool exists;
	bool is_char;
	unsigned major, minor;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	bool misc_class;	/* /sys/class/misc is there to ask (not in every --root tree) */
	bool registered;	/* the driver registered the misc device (/sys/class/misc/NAME) */
	char registered_dev[16];	/* its "MAJOR:MINOR" as the kernel says */
};
int misc_node_probe(const struct host *h, const char *dev_path, const char *misc_name,
		    struct misc_node *m);
struct check_result;
/* exists, device, mode, uid, gid, driver_registered: the same keys for every node. */
void misc_node_details(struct check_result *r, const struct misc_node *m);
/* Is the node the expected character device? */
bool misc_node_is(const struct misc_node *m, unsigned major, unsigned minor);

/*
 * What net.tun and net.vhost_net both establish about their device: the node (details
 * included), its driver's module state ("built-in" when the driver is registered without
 * a module entry), and, live and only once the driver is registered, whether it opens
 * read-write: opening a static node of an unregistered driver would load the module, a
 * change. loadable_detail adds `loadable_modules`. 0, or -errno when the node cannot be
 * examined (the caller skips).
 */
struct misc_dev {
	struct misc_node node;
	const char *module;	/* module_state_names: loaded, built-in, available, missing, ... */
	bool loadable;		/* the kernel can load modules at all */
	bool opened;
	int open_err;
};
struct check_ctx;
int misc_dev_gather(struct check_ctx *ctx, struct check_result *r, const char *path,
		    const char *misc_name, const char *module, bool loadable_detail, struct misc_dev *d);

#endif
