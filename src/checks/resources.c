// SPDX-License-Identifier: GPL-2.0-or-later
/* host.resources: memory, hugepages, free space where guest images live, cgroup controllers. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/statvfs.h>

#include "checks/check.h"
#include "util.h"

/* Thresholds (documented in explain and docs/report.md). */
#define KIB_PER_GIB (1024ull * 1024)
static const struct {
	uint64_t mem_fail_kib, mem_warn_kib;	/* MemAvailable */
	uint64_t disk_fail_bytes, disk_warn_bytes;	/* free space for images */
} limits = {
	.mem_fail_kib = 512 * 1024ull,	/* not even one small guest plus QEMU's own ~100 MiB */
	.mem_warn_kib = 2 * KIB_PER_GIB,	/* one modest guest */
	.disk_fail_bytes = 1ull << 30,	/* not even a cloud image */
	.disk_warn_bytes = 10ull << 30,	/* one typical guest disk */
};

/* The /proc/meminfo fields reported, as JSON keys. */
struct meminfo_field {
	const char *name;	/* as /proc/meminfo spells it */
	const char *key;
};

static const struct meminfo_field meminfo_fields[] = {
	{ "MemTotal", "mem_total_kib" },
	{ "MemAvailable", "mem_available_kib" },
	{ "HugePages_Total", "hugepages_total" },
	{ "HugePages_Free", "hugepages_free" },
	{ "Hugepagesize", "hugepage_size_kib" },
};

/* Where libvirt keeps guest images by default; the first that exists is measured. */
static const char *const images_dirs[] = {
	"/var/lib/libvirt/images", "/var/lib/libvirt", "/var/lib", "/var", "/",
};

/* cgroup v1 controller directories under /sys/fs/cgroup (v2 lists them in a file). */
static const char *const cgroup_v1_controllers[] = {
	"cpu", "cpuacct", "cpuset", "memory", "io", "blkio", "pids", "devices", "freezer", "hugetlb",
};

/* Controllers libvirt uses to confine and account guests. */
static const char *const cgroup_wanted[] = { "cpu", "memory", "pids" };

/* Pure: value of one field of meminfo text (kB units dropped), or -ENOENT. */
static int meminfo_get(const char *text, const char *name, uint64_t *out)
{
	size_t n = strlen(name);

	for (const char *p = text; *p;) {
		const char *eol = strchrnul(p, '\n');

		if (strncmp(p, name, n) == 0 && p[n] == ':') {
			char *end;

			const char *s = p + n + 1;

			/* strtoull takes "-1" as 2^64-1: a count has no sign. */
			while (*s == ' ' || *s == '\t')
				s++;
			if (*s < '0' || *s > '9')
				return -EBADMSG;
			errno = 0;
			*out = strtoull(s, &end, 10);
			if (errno)
				return -EBADMSG;
			return 0;
		}
		p = *eol ? eol + 1 : eol;
	}
	return -ENOENT;
}

static void report_memory(struct host *h, struct check_result *r, enum check_status *worst, char *msg,
			  size_t size)
{
	_cleanup_free_ char *text = NULL;
	uint64_t v[ARRAY_SIZE(meminfo_fields)];
	bool have[ARRAY_SIZE(meminfo_fields)];
	int err;

	err = host_read(h, "/proc/meminfo", 1u << 20, &text, NULL);
	if (err < 0) {
		snprintf(msg, size, "/proc/meminfo: %s", host_strerror(err));
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(meminfo_fields); i++) {
		have[i] = meminfo_get(text, meminfo_fields[i].name, &v[i]) == 0;
		if (have[i])
			detail_uint(r, meminfo_fields[i].key, v[i]);
		else
			detail_null(r, meminfo_fields[i].key);
	}
	if (!have[1]) {
		/* Kernels before 3.14 have no MemAvailable; do not guess. */
		snprintf(msg, size, "memory: no MemAvailable");
		return;
	}
	snprintf(msg, size, "%.1f of %.1f GiB memory available", v[1] / (double)KIB_PER_GIB,
		 have[0] ? v[0] / (double)KIB_PER_GIB : 0.0);
	if (v[1] < limits.mem_fail_kib)
		*worst = CHECK_FAIL;
	else if (v[1] < limits.mem_warn_kib && *worst < CHECK_WARN)
		*worst = CHECK_WARN;
}

static void report_disk(struct host *h, struct check_result *r, enum check_status *worst, char *msg,
			size_t size)
{
	struct statvfs sv;
	uint64_t free_bytes;

	for (size_t i = 0; i < ARRAY_SIZE(images_dirs); i++) {
		/* Under --root, the directory inside the root: open it there, then fstatvfs. */
		_cleanup_close_ int fd = host_open(h, images_dirs[i], O_PATH | O_DIRECTORY);

		if (fd < 0 || fstatvfs(fd, &sv) < 0)
			continue;
		free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
		detail_str(r, "images_dir", "%s", images_dirs[i]);
		detail_uint(r, "images_free_bytes", free_bytes);
		/* The exact figure is in the details; the summary names it only when it matters,
		 * so that the same machine reads the same from one day to the next. */
		if (free_bytes >= limits.disk_warn_bytes) {
			snprintf(msg, size, "over %" PRIu64 " GiB free in %s", limits.disk_warn_bytes >> 30,
				 images_dirs[i]);
			return;
		}
		snprintf(msg, size, "only %.1f GiB free in %s", free_bytes / (double)(1ull << 30),
			 images_dirs[i]);
		if (free_bytes < limits.disk_fail_bytes)
			*worst = CHECK_FAIL;
		else if (*worst < CHECK_WARN)
			*worst = CHECK_WARN;
		return;
	}
	detail_null(r, "images_dir");
	detail_null(r, "images_free_bytes");
}

static int add_v1_controller(const char *name, void *data)
{
	struct check_result *r = data;

	for (size_t i = 0; i < ARRAY_SIZE(cgroup_v1_controllers); i++)
		if (streq(name, cgroup_v1_controllers[i]))
			detail_list_add(r, "cgroup_controllers", name);
	return 0;
}

static void report_cgroups(struct host *h, struct check_result *r, enum check_status *worst, char *msg,
			   size_t size)
{
	char line[512];
	const struct detail *d;
	const char *version = NULL;

	detail_list_add(r, "cgroup_controllers", NULL);
	if (host_read_line(h, "/sys/fs/cgroup/cgroup.controllers", line, sizeof(line)) == 0) {
		char *save = NULL;

		version = "2";
		for (char *w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save))
			detail_list_add(r, "cgroup_controllers", w);
	} else if (host_list_dir(h, "/sys/fs/cgroup", add_v1_controller, r) == 0 &&
		   (d = detail_get(r, "cgroup_controllers")) && d->list.n) {
		/* v1 controllers, with or without the unified v2 hierarchy beside them. */
		version = host_exists(h, "/sys/fs/cgroup/unified/cgroup.controllers") ? "hybrid" : "1";
	}
	if (!version) {
		detail_null(r, "cgroup_version");
		snprintf(msg, size, "no cgroup hierarchy found");
		if (h->live && *worst < CHECK_WARN)
			*worst = CHECK_WARN;
		return;
	}
	detail_str(r, "cgroup_version", "%s", version);
	d = detail_get(r, "cgroup_controllers");
	msg[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(cgroup_wanted); i++) {
		bool found = false;

		for (unsigned k = 0; d && k < d->list.n; k++)
			found |= streq(d->list.items[k], cgroup_wanted[i]);
		if (!found) {
			size_t n = strlen(msg);

			snprintf(msg + n, size - n, "%s%s", n ? ", " : "cgroup controllers missing: ",
				 cgroup_wanted[i]);
		}
	}
	if (msg[0] && *worst < CHECK_WARN)
		*worst = CHECK_WARN;
	if (!msg[0])
		snprintf(msg, size, "cgroup %s", streq(version, "hybrid") ? "v1 + v2 (hybrid)" :
			 streq(version, "2") ? "v2" : "v1");
}

static void run_resources(struct check_ctx *ctx, struct check_result *r)
{
	enum check_status worst = CHECK_PASS;
	char mem[96] = "", disk[160] = "", cg[128] = "";

	report_memory(ctx->host, r, &worst, mem, sizeof(mem));
	report_disk(ctx->host, r, &worst, disk, sizeof(disk));
	report_cgroups(ctx->host, r, &worst, cg, sizeof(cg));
	if (!detail_get(r, "mem_available_kib") || detail_get(r, "mem_available_kib")->type == DETAIL_NULL) {
		if (worst == CHECK_PASS) {
			result_set(r, CHECK_SKIP, "%s; %s", mem, disk[0] ? disk : "no images directory");
			return;
		}
	}
	result_set(r, worst, "%s; %s; %s", mem, disk[0] ? disk : "no images directory", cg);
	if (worst == CHECK_PASS)
		return;
	result_advise(r, "Guests need memory beyond QEMU's own (~100 MiB each): under %" PRIu64 " MiB "
		      "available fails, under %" PRIu64 " MiB warns. Images need disk: under %" PRIu64
		      " GiB free fails, under %" PRIu64 " GiB warns. libvirt confines guests with the "
		      "cpu, memory and pids cgroup controllers.",
		      limits.mem_fail_kib / 1024, limits.mem_warn_kib / 1024, limits.disk_fail_bytes >> 30,
		      limits.disk_warn_bytes >> 30);
}

const struct check check_host_resources = {
	.id = "host.resources",
	.title = "Memory, disk space and cgroups for guests",
	.run = run_resources,
	.explain =
	"Reads /proc/meminfo (MemTotal, MemAvailable, HugePages_Total/Free, Hugepagesize),\n"
	"the free space (statvfs, blocks available to unprivileged users) of\n"
	"/var/lib/libvirt/images or its nearest existing parent, and the cgroup controllers\n"
	"(/sys/fs/cgroup/cgroup.controllers for v2; the controller directories for v1).\n"
	"Under --root each is read inside the root (the directory is opened there and\n"
	"measured with fstatvfs).\n"
	"\n"
	"Thresholds:\n"
	"  MemAvailable   < 512 MiB fail, < 2 GiB warn\n"
	"  free for images < 1 GiB fail, < 10 GiB warn\n"
	"  cgroups: warn when cpu, memory or pids is missing (libvirt cannot confine or\n"
	"  account guests), or, live, when no cgroup hierarchy is mounted.\n"
	"Hugepages are reported, never judged: they matter only to guests configured for them.\n"
	"\n"
	"Why: QEMU starts and then the guest is OOM-killed, or its disk image fills up and\n"
	"the guest pauses with an I/O error; both look like virtualization problems.",
};
