// SPDX-License-Identifier: GPL-2.0-or-later
/* host.os: distribution, kernel release, hostname and architecture. */
#include <errno.h>
#include <sys/utsname.h>

#include "checks/check.h"
#include "checks/kvm.h"
#include "checks/osrelease.h"
#include "util.h"

/* os-release(5): /etc/os-release, falling back to /usr/lib/os-release. */
static int read_os_release(const struct host *h, struct os_release *os, const char **from)
{
	*from = "/etc/os-release";
	static const char *const paths[] = { "/etc/os-release", "/usr/lib/os-release" };
	int r = -ENOENT;

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		_cleanup_free_ char *text = NULL;
		size_t len = 0;

		r = host_read(h, paths[i], 1u << 20, &text, &len);
		if (r == -ENOENT)
			continue;
		*from = paths[i];
		if (r < 0)
			return r;
		if (!len)
			return -ENODATA;
		return os_release_parse(text, os);
	}
	return r;
}

void host_identify(struct host *h, struct host_identity *id)
{
	struct cpuinfo ci;
	struct utsname u;
	const char *from;

	memset(id, 0, sizeof(*id));
	if (h->live && uname(&u) == 0) {
		scopy(id->hostname, u.nodename);
		scopy(id->arch, u.machine);
	} else {
		host_read_line(h, "/proc/sys/kernel/hostname", id->hostname, sizeof(id->hostname));
		if (host_read_line(h, "/proc/sys/kernel/arch", id->arch, sizeof(id->arch)) < 0 &&
		    host_cpuinfo(h, &ci) == 0)
			scopy(id->arch, ci.arch);
	}
	host_kernel_release(h, id->kernel_release, sizeof(id->kernel_release));
	id->os_error = read_os_release(h, &id->os, &from);
	id->os_path = from;
}

static void run_os(struct check_ctx *ctx, struct check_result *r)
{
	struct host_identity id;
	const struct os_release *os = &id.os;

	host_identify(ctx->host, &id);
	if (id.kernel_release[0])
		detail_str(r, "kernel_release", "%s", id.kernel_release);
	if (id.hostname[0])
		detail_str(r, "hostname", "%s", id.hostname);
	if (id.arch[0])
		detail_str(r, "arch", "%s", id.arch);
	if (id.os_error < 0) {
		result_set(r, CHECK_WARN, "%s: %s; distribution unknown, fixes will be generic",
			   id.os_path, host_strerror(id.os_error));
		return;
	}
	detail_str(r, "id", "%s", os->id);
	if (os->id_like[0])
		detail_str(r, "id_like", "%s", os->id_like);
	if (os->version_id[0])
		detail_str(r, "version_id", "%s", os->version_id);
	if (os->pretty_name[0])
		detail_str(r, "pretty_name", "%s", os->pretty_name);
	result_set(r, CHECK_PASS, "%s, kernel %s, %s", os->pretty_name[0] ? os->pretty_name : os->id,
		   id.kernel_release[0] ? id.kernel_release : "unknown",
		   id.arch[0] ? id.arch : "unknown arch");
}

const struct check check_host_os = {
	.id = "host.os",
	.title = "Host operating system",
	.run = run_os,
	.explain =
	"Reads os-release (ID, ID_LIKE, VERSION_ID, PRETTY_NAME), the kernel release, the\n"
	"hostname and the architecture.\n"
	"\n"
	"Why: package names, service names and group names differ between distributions;\n"
	"the fix engine picks its remedies by ID, then ID_LIKE. The kernel release tells\n"
	"which /lib/modules tree holds the KVM modules.\n"
	"\n"
	"It warns only when os-release is missing or unreadable: the diagnosis still works,\n"
	"but remedies will be generic.",
};
