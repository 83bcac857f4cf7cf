// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the no-openat2 fallback of host_open() against openat2(RESOLVE_IN_ROOT) itself,
 * on a scratch tree full of symlink tricks. The input is a path; both must agree on the error,
 * or open the same inode. Nothing outside the tree may ever be opened. */
// seeds: fuzz/corpus/resolve/*
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "fuzz.h"
#include "host.h"
#include "util.h"

static char top[256];	/* top/root is the --root; top/outside is what must never be reached */
static int root_fd = -1;
static struct stat outside_file;

static const struct { const char *path, *target; } tree[] = {
	{ "root/", NULL },
	{ "root/etc/", NULL },
	{ "root/etc/os-release", "" },
	{ "root/etc/passwd", "" },
	{ "root/sub/", NULL },
	{ "root/sub/deep/", NULL },
	{ "root/sub/deep/up", "../../etc/os-release" },
	{ "root/etc/abs", "/etc/os-release" },
	{ "root/etc/rel", "../etc/os-release" },
	{ "root/etc/escape", "../../../../../../../outside/secret" },
	{ "root/etc/absescape", "/../../outside/secret" },
	{ "root/loop1", "loop2" },
	{ "root/loop2", "loop1" },
	{ "root/self", "self" },
	{ "root/dirlink", "etc" },
	{ "root/absdir", "/etc" },
	{ "root/updir", ".." },
	{ "root/dangling", "/nonexistent/x" },
	{ "root/outside", "../outside" },
	{ "root/proc", "/proc/self/root" },
	{ "outside/", NULL },
	{ "outside/secret", "" },
};

static void cleanup(void)
{
	char cmd[512];

	if (root_fd >= 0)
		close(root_fd);
	if (top[0] && snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top) < (int)sizeof(cmd) &&
	    system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", top);
}

static void setup(void)
{
	char p[512];

	if (root_fd >= 0)
		return;
	/* fuzz/run.sh points TMPDIR into build-fuzz/ and removes it: libFuzzer's exit at
	 * -max_total_time skips atexit handlers. */
	if (snprintf(top, sizeof(top), "%s/vd-fuzz-resolve-XXXXXX", getenv("TMPDIR") ?: "/tmp") >= (int)sizeof(top))
		abort();
	if (!mkdtemp(top))
		abort();
	for (size_t i = 0; i < ARRAY_SIZE(tree); i++) {
		size_t n = strlen(tree[i].path);

		sfmt(p, "%s/%s", top, tree[i].path);
		if (tree[i].path[n - 1] == '/') {
			if (mkdir(p, 0755) < 0)
				abort();
		} else if (tree[i].target && tree[i].target[0]) {
			if (symlink(tree[i].target, p) < 0)
				abort();
		} else {
			int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

			if (fd < 0 || write(fd, tree[i].path, n) != (ssize_t)n)
				abort();
			close(fd);
		}
	}
	/* A chain of 45 links: the kernel gives up after 40. And one of 30, which works. */
	for (int i = 0; i < 45; i++) {
		char t[32];

		sfmt(p, "%s/root/chain%d", top, i);
		sfmt(t, i == 44 ? "etc/os-release" : "chain%d", i + 1);
		if (symlink(t, p) < 0)
			abort();
	}
	sfmt(p, "%s/outside/secret", top);
	if (stat(p, &outside_file) < 0)
		abort();
	sfmt(p, "%s/root", top);
	root_fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		abort();
	atexit(cleanup);
}

static int kernel_open(const char *rel, int flags)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	long fd;

	/* EAGAIN: a rename somewhere on the system raced a ".."; host_open() retries too. */
	do
		fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd < 0 ? -errno : (int)fd;
}

FUZZ_TARGET(resolve)
{
	static const int flag_sets[] = { O_RDONLY, O_PATH, O_RDONLY | O_DIRECTORY, O_PATH | O_NOFOLLOW };
	char *path;

	if (size > 512)
		return 0;
	setup();
	path = fuzz_text(data, size);
	for (size_t i = 0; i < ARRAY_SIZE(flag_sets); i++) {
		int k = kernel_open(path, flag_sets[i]);
		int f = host_open_in_root_fallback(root_fd, path, flag_sets[i]);
		struct stat ks, fs;

		/* A lookup that drops from RCU walk to ref walk keeps counting symlinks, so the
		 * kernel now and then says ELOOP for a long (20+) chain it resolves on a retry. */
		for (int retry = 0; retry < 8 && k == -ELOOP && f != -ELOOP; retry++)
			k = kernel_open(path, flag_sets[i]);

		if (k == -ENOSYS)
			break;	/* nothing to compare with */
		if (k < 0 || f < 0) {
			if (k != f) {
				fprintf(stderr, "path '%s' flags 0x%x: openat2 %d, fallback %d\n", path,
					flag_sets[i], k, f);
				abort();
			}
		} else {
			FUZZ_ASSERT(fstat(k, &ks) == 0 && fstat(f, &fs) == 0);
			if (ks.st_dev != fs.st_dev || ks.st_ino != fs.st_ino) {
				fprintf(stderr, "path '%s' flags 0x%x: different files\n", path, flag_sets[i]);
				abort();
			}
			FUZZ_ASSERT(!(fs.st_dev == outside_file.st_dev && fs.st_ino == outside_file.st_ino));
		}
		if (k >= 0)
			close(k);
		if (f >= 0)
			close(f);
	}
	free(path);
	return 0;
}
