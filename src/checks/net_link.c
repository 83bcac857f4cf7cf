// SPDX-License-Identifier: GPL-2.0-or-later
/* Live network interfaces: libudev for devices and bridges, getifaddrs for addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <libudev.h>
#include <net/if.h>
#include <netinet/in.h>

#include "checks/net.h"
#include "checks/udev_cleanup.h"
#include "util.h"

static void ifaddrsp(struct ifaddrs **a)
{
	if (*a)
		freeifaddrs(*a);
}

/* Popcount of a contiguous netmask (getifaddrs gives masks, the doctor speaks prefixes). */
static int mask_prefix(const struct sockaddr_in *m)
{
	uint32_t v = ntohl(m->sin_addr.s_addr);
	int n = 0;

	while (v & 0x80000000u) {
		n++;
		v <<= 1;
	}
	return n;
}

/* IPv4 addresses of name, through rtnetlink (getifaddrs dumps RTM_GETADDR). */
static int link_addresses(const char *name, struct net_link *l)
{
	_cleanup_(ifaddrsp) struct ifaddrs *all = NULL;

	if (getifaddrs(&all) < 0)
		return -errno;
	for (struct ifaddrs *a = all; a; a = a->ifa_next) {
		char ip[INET_ADDRSTRLEN];

		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || !streq(a->ifa_name, name))
			continue;
		/* Aliases show up as "virbr0:1" only with the legacy label; the name matches. */
		if (!inet_ntop(AF_INET, &((const struct sockaddr_in *)a->ifa_addr)->sin_addr, ip, sizeof(ip)))
			continue;
		if (l->n_addrs < NET_LINK_ADDRS_MAX)
			snprintf(l->addrs[l->n_addrs++], sizeof(l->addrs[0]), "%s/%d", ip,
				 a->ifa_netmask ? mask_prefix((const struct sockaddr_in *)a->ifa_netmask) : 32);
	}
	return 0;
}

int net_link_probe(const char *name, struct net_link *l)
{
	_cleanup_(udevp) struct udev *udev = NULL;
	_cleanup_(udev_devicep) struct udev_device *dev = NULL;
	const char *v;

	memset(l, 0, sizeof(*l));
	udev = udev_new();
	if (!udev)
		return -ENOMEM;
	dev = udev_device_new_from_subsystem_sysname(udev, "net", name);
	if (!dev)
		return errno == ENOMEM ? -ENOMEM : 0;	/* absent in this namespace */
	l->exists = true;
	v = udev_device_get_devtype(dev);
	strtcpy(l->devtype, v ? v : "", sizeof(l->devtype));
	/* DEVTYPE comes from the kernel's uevent; bridge/ holds the bridge's own attributes. */
	l->is_bridge = streq(l->devtype, "bridge") &&
		udev_device_get_sysattr_value(dev, "bridge/bridge_id") != NULL;
	v = udev_device_get_sysattr_value(dev, "flags");
	if (v) {
		unsigned long flags = strtoul(v, NULL, 16);

		l->admin_up = flags & IFF_UP;
	}
	v = udev_device_get_sysattr_value(dev, "carrier");
	l->lower_up = v && streq(v, "1");
	v = udev_device_get_sysattr_value(dev, "operstate");
	strtcpy(l->operstate, v ? v : "", sizeof(l->operstate));
	return link_addresses(name, l);
}

int net_list(enum net_kind kind, void (*fn)(const char *name, void *data), void *data)
{
	_cleanup_(udevp) struct udev *udev = NULL;
	_cleanup_(udev_enumeratep) struct udev_enumerate *e = NULL;
	struct udev_list_entry *entry;
	int r;

	udev = udev_new();
	if (!udev)
		return -ENOMEM;
	e = udev_enumerate_new(udev);
	if (!e)
		return -ENOMEM;
	r = udev_enumerate_add_match_subsystem(e, "net");
	if (r >= 0 && kind == NET_KIND_BRIDGE)
		r = udev_enumerate_add_match_property(e, "DEVTYPE", "bridge");
	if (r >= 0 && kind == NET_KIND_TUNTAP)
		/* tun/tap interfaces, and only they, carry tun_flags (IFF_TUN or IFF_TAP...). */
		r = udev_enumerate_add_match_sysattr(e, "tun_flags", NULL);
	if (r >= 0)
		r = udev_enumerate_scan_devices(e);
	if (r < 0)
		return r;
	udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e)) {
		const char *path = udev_list_entry_get_name(entry);
		const char *slash = strrchr(path, '/');

		fn(slash ? slash + 1 : path, data);
	}
	return 0;
}
