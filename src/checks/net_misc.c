// SPDX-License-Identifier: GPL-2.0-or-later
/* Misc character devices of the network stack (/dev/net/tun, /dev/vhost-net): node and driver. */
#include <errno.h>
#include <fcntl.h>
#include <sys/sysmacros.h>

#include "checks/check.h"
#include "checks/kvm.h"
#include "checks/net.h"
#include "util.h"

int misc_node_probe(const struct host *h, const char *dev_path, const char *misc_name,
		    struct misc_node *m)
{
	char path[128];
	struct stat st;
	int r;

	memset(m, 0, sizeof(*m));
	m->misc_class = host_exists(h, "/sys/class/misc");
	sfmt(path, "/sys/class/misc/%s/dev", misc_name);
	if (host_read_line(h, path, m->registered_dev, sizeof(m->registered_dev)) == 0)
		m->registered = true;
	r = host_stat(h, dev_path, &st);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r < 0)
		return r;
	m->exists = true;
	m->is_char = S_ISCHR(st.st_mode);
	m->major = major(st.st_rdev);
	m->minor = minor(st.st_rdev);
	m->mode = st.st_mode & 07777;
	m->uid = st.st_uid;
	m->gid = st.st_gid;
	return 0;
}

bool misc_node_is(const struct misc_node *m, unsigned major, unsigned minor)
{
	return m->exists && m->is_char && m->major == major && m->minor == minor;
}

void misc_node_details(struct check_result *r, const struct misc_node *m)
{
	detail_bool(r, "exists", m->exists);
	if (m->exists) {
		if (m->is_char)
			detail_str(r, "device", "%u:%u", m->major, m->minor);
		else
			detail_str(r, "device", "not a character device");
		detail_str(r, "mode", "%04o", (unsigned)m->mode);
		detail_int(r, "uid", m->uid);
		detail_int(r, "gid", m->gid);
	}
	/* A --root tree without /sys/class/misc cannot say whether the driver is there. */
	if (m->misc_class)
		detail_bool(r, "driver_registered", m->registered);
	else
		detail_null(r, "driver_registered");
}

int misc_dev_gather(struct check_ctx *ctx, struct check_result *r, const char *path,
		    const char *misc_name, const char *module, bool loadable_detail, struct misc_dev *d)
{
	int err;

	memset(d, 0, sizeof(*d));
	err = misc_node_probe(ctx->host, path, misc_name, &d->node);
	if (err < 0)
		return err;
	misc_node_details(r, &d->node);
	kernel_module_state(ctx->host, module, &d->module, &d->loadable);
	/* Registered with no module entry anywhere: the driver is in the kernel image (the
	 * kernel makes /sys/module entries for built-ins only when they have parameters). */
	if (streq(d->module, "missing") && d->node.registered)
		d->module = "built-in";
	detail_str(r, "module", "%s", d->module);
	if (loadable_detail)
		detail_bool(r, "loadable_modules", d->loadable);
	if (ctx->host->live && d->node.exists && d->node.registered) {
		int fd = open(path, O_RDWR | O_CLOEXEC);

		d->opened = fd >= 0;
		d->open_err = d->opened ? 0 : errno;
		if (fd >= 0)
			close(fd);
		detail_bool(r, "open", d->opened);
		if (!d->opened)
			detail_str(r, "open_error", "%s", strerror(d->open_err));
	} else {
		detail_null(r, "open");
	}
	return 0;
}
