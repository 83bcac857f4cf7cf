// SPDX-License-Identifier: GPL-2.0-or-later
/* net.vhost_net: /dev/vhost-net and its module, the in-kernel virtio-net data path. */
#include <errno.h>

#include "checks/check.h"
#include "checks/net.h"
#include "util.h"

#define VHOST_NET_PATH "/dev/vhost-net"
#define VHOST_NET_MAJOR 10
#define VHOST_NET_MINOR 238	/* misc minor the kernel reserves for vhost-net */

static void run_vhost(struct check_ctx *ctx, struct check_result *r)
{
	struct misc_dev d;
	int err;

	err = misc_dev_gather(ctx, r, VHOST_NET_PATH, "vhost-net", "vhost_net", true, &d);
	if (err < 0) {
		result_set(r, CHECK_SKIP, "cannot stat %s: %s", VHOST_NET_PATH, strerror(-err));
		return;
	}

	if (!d.node.exists) {
		if (d.node.registered) {
			result_set(r, CHECK_WARN, "%s is missing although vhost_net is registered (%s)",
				   VHOST_NET_PATH, d.node.registered_dev);
			result_advise(r, "/dev is not populated by devtmpfs/udev (a container?): "
				      "mknod -m 0660 /dev/vhost-net c 10 238 (group kvm), or pass it in.");
			return;
		}
		if (!d.loadable && streq(d.module, "missing")) {
			/* No module can be loaded into this kernel: only another kernel helps. */
			result_set(r, CHECK_WARN, "no %s: this kernel has no vhost_net and cannot load "
				   "modules; virtio-net works, slower", VHOST_NET_PATH);
			result_advise(r, "QEMU falls back to its userspace virtio-net. For the in-kernel data "
				      "path boot a kernel built with CONFIG_VHOST_NET.");
			return;
		}
		result_set(r, CHECK_WARN, "%s does not exist (vhost_net %s): virtio-net works, slower",
			   VHOST_NET_PATH, d.module);
		result_advise(r, "QEMU falls back to its userspace virtio-net (more CPU, lower throughput, "
			      "higher latency). Load it: modprobe vhost_net; keep it: echo vhost_net > "
			      "/etc/modules-load.d/vhost_net.conf.");
		result_fix(r, "modules.load_vhost_net");
		return;
	}
	if (!misc_node_is(&d.node, VHOST_NET_MAJOR, VHOST_NET_MINOR)) {
		if (d.node.is_char)
			result_set(r, CHECK_WARN, "%s is char %u:%u, not vhost-net 10:238", VHOST_NET_PATH,
				   d.node.major, d.node.minor);
		else
			result_set(r, CHECK_WARN, "%s is not a character device", VHOST_NET_PATH);
		result_advise(r, "Remove the bogus node and let udev recreate it (modprobe vhost_net).");
		return;
	}
	if (d.node.misc_class && !d.node.registered) {
		if (streq(d.module, "available")) {
			result_set(r, CHECK_PASS, "%s 10:238 mode %04o (vhost_net not loaded yet: the "
				   "kernel loads it on first open)", VHOST_NET_PATH, (unsigned)d.node.mode);
			return;
		}
		if (!streq(d.module, "loaded") && !streq(d.module, "built-in")) {
			result_set(r, CHECK_WARN, "%s exists but no vhost_net driver is registered "
				   "(module %s): virtio-net works, slower", VHOST_NET_PATH, d.module);
			result_fix(r, "modules.load_vhost_net");
			return;
		}
	}
	if (ctx->host->live && d.node.registered && !d.opened) {
		if (d.open_err == ENODEV || d.open_err == ENXIO) {
			result_set(r, CHECK_WARN, "%s exists but has no driver behind it (%s)", VHOST_NET_PATH,
				   strerror(d.open_err));
			result_fix(r, "modules.load_vhost_net");
			return;
		}
		result_set(r, CHECK_WARN, "%s 10:238 mode %04o cannot be opened by this user: %s",
			   VHOST_NET_PATH, (unsigned)d.node.mode, strerror(d.open_err));
		result_advise(r, "libvirt opens it as root and hands the descriptor to QEMU, so libvirt "
			      "guests are not affected; QEMU run by this user falls back to userspace "
			      "virtio-net.");
		return;
	}
	result_set(r, CHECK_PASS, "%s 10:238 mode %04o%s (vhost_net %s)", VHOST_NET_PATH,
		   (unsigned)d.node.mode, ctx->host->live ? ", opens read-write" : "", d.module);
}

const struct check check_net_vhost_net = {
	.id = "net.vhost_net",
	.title = "vhost-net in-kernel virtio-net acceleration",
	.run = run_vhost,
	.explain =
	"Looks at /dev/vhost-net (character device 10:238): exists, mode and owner,\n"
	"whether the kernel registered it (/sys/class/misc/vhost-net), and the state of\n"
	"the vhost_net module through libkmod (loaded, built-in, available, missing).\n"
	"Live, it opens the device read-write and closes it.\n"
	"\n"
	"Why: with vhost-net the guest's virtio-net queues are served by a kernel thread\n"
	"instead of QEMU's main loop: less CPU per packet, more throughput, lower latency.\n"
	"libvirt uses it automatically (<driver name='vhost'/>) when the device exists.\n"
	"Without it guests still have network - QEMU's userspace virtio-net - so this is a\n"
	"warning, never a failure.\n"
	"\n"
	"A kernel without loadable-module support and without CONFIG_VHOST_NET cannot get\n"
	"it at all; the check says so instead of suggesting modprobe.\n"
	"\n"
	"Fix: modprobe vhost_net, and list it in /etc/modules-load.d/.",
};
