// SPDX-License-Identifier: GPL-2.0-or-later
/* net.tun: /dev/net/tun, through which libvirt and QEMU create tap devices for guests. */
#include <errno.h>

#include "checks/check.h"
#include "checks/net.h"
#include "util.h"

#define TUN_PATH "/dev/net/tun"
#define TUN_MAJOR 10
#define TUN_MINOR 200	/* misc minor the kernel reserves for tun (TUN_MINOR) */

static void add_tap(const char *name, void *data)
{
	detail_list_add(data, "tun_devices", name);
}

static void run_tun(struct check_ctx *ctx, struct check_result *r)
{
	struct misc_dev d;
	int err;

	/* Live it stops at open: TUNSETIFF would create an interface. */
	err = misc_dev_gather(ctx, r, TUN_PATH, "tun", "tun", false, &d);
	if (err < 0) {
		result_set(r, CHECK_SKIP, "cannot stat %s: %s", TUN_PATH, strerror(-err));
		return;
	}
	if (ctx->host->live) {
		detail_list_add(r, "tun_devices", NULL);
		(void)net_list(NET_KIND_TUNTAP, add_tap, r);
	}

	if (!d.node.exists) {
		if (d.node.registered) {
			result_set(r, CHECK_FAIL, "%s is missing although the tun driver is registered (%s)",
				   TUN_PATH, d.node.registered_dev);
			result_advise(r, "/dev is not populated by devtmpfs/udev (a container?). Create the "
				      "node: mkdir -p /dev/net && mknod -m 0666 /dev/net/tun c 10 200, or "
				      "pass it in (docker run --device /dev/net/tun).");
			return;
		}
		result_set(r, CHECK_FAIL, "%s does not exist (tun module %s)", TUN_PATH, d.module);
		result_advise(r, "libvirt cannot create tap devices for guests (\"Could not open "
			      "/dev/net/tun: No such file or directory\"). Load the driver: modprobe tun; "
			      "keep it: echo tun > /etc/modules-load.d/tun.conf.");
		result_fix(r, "modules.load_tun");
		return;
	}
	if (!misc_node_is(&d.node, TUN_MAJOR, TUN_MINOR)) {
		if (d.node.is_char)
			result_set(r, CHECK_FAIL, "%s is char %u:%u, not the tun device 10:200", TUN_PATH,
				   d.node.major, d.node.minor);
		else
			result_set(r, CHECK_FAIL, "%s is not a character device", TUN_PATH);
		result_advise(r, "Remove the bogus node and recreate it: mknod -m 0666 /dev/net/tun c 10 200.");
		return;
	}
	if (d.node.misc_class && !d.node.registered) {
		/* A static node: the module loads on the first open, if there is one to load. */
		if (streq(d.module, "available")) {
			result_set(r, CHECK_PASS, "%s 10:200 mode %04o (tun not loaded yet: the kernel "
				   "loads it on first open)", TUN_PATH, (unsigned)d.node.mode);
			return;
		}
		if (!streq(d.module, "loaded") && !streq(d.module, "built-in")) {
			result_set(r, CHECK_FAIL, "%s exists but no tun driver is registered (module %s)",
				   TUN_PATH, d.module);
			result_advise(r, "Opening it fails with \"No such device\". Load the driver: "
				      "modprobe tun (install the kernel's modules package if it is missing).");
			result_fix(r, "modules.load_tun");
			return;
		}
	}
	if (ctx->host->live && d.node.registered && !d.opened) {
		if (d.open_err == ENODEV || d.open_err == ENXIO) {
			result_set(r, CHECK_FAIL, "%s exists but has no driver behind it (%s)", TUN_PATH,
				   strerror(d.open_err));
			result_advise(r, "Load the driver: modprobe tun.");
			result_fix(r, "modules.load_tun");
			return;
		}
		result_set(r, CHECK_WARN, "%s 10:200 mode %04o cannot be opened by this user: %s", TUN_PATH,
			   (unsigned)d.node.mode, strerror(d.open_err));
		result_advise(r, "libvirt's system daemon opens it as root and is not affected; QEMU run by "
			      "a user with -netdev tap needs it readable and writable (the usual mode is 0666).");
		return;
	}
	result_set(r, CHECK_PASS, "%s 10:200 mode %04o%s (tun %s)", TUN_PATH, (unsigned)d.node.mode,
		   ctx->host->live ? ", opens read-write" : "", d.module);
}

const struct check check_net_tun = {
	.id = "net.tun",
	.title = "tun/tap device /dev/net/tun",
	.run = run_tun,
	.explain =
	"Looks at /dev/net/tun: it must exist and be the character device 10:200. Reports\n"
	"its mode and owner, whether the kernel registered the tun misc device\n"
	"(/sys/class/misc/tun), and the tun module's state (loaded, built-in, available,\n"
	"missing). Live, it opens the device read-write and closes it again; it never\n"
	"issues TUNSETIFF, which would create an interface. It also lists the tun/tap\n"
	"interfaces that exist in this network namespace (net devices with tun_flags,\n"
	"found through libudev), such as libvirt's vnetN.\n"
	"\n"
	"Why: every guest NIC of type network or bridge is a tap device that libvirt (or\n"
	"QEMU) creates through /dev/net/tun. Without it guests fail to start with \"Could\n"
	"not open /dev/net/tun: No such file or directory\" (or \"Operation not permitted\"\n"
	"inside a container that did not get the device).\n"
	"\n"
	"Verdicts: missing or wrong device: fail. Present but not openable by a non-root\n"
	"user: warn (libvirt's system daemon opens it as root).\n"
	"\n"
	"Fix: modprobe tun (and list it in /etc/modules-load.d/); in a container, pass\n"
	"the device in (--device /dev/net/tun).",
};
