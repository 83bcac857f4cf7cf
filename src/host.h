/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host context: every read of /proc, /sys, /etc, /lib/modules and /dev goes through here. */
#ifndef VD_HOST_H
#define VD_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct host {
	char root[4096];	/* "/" or an absolute directory, no trailing slash */
	int root_fd;		/* O_PATH directory fd of root; every lookup is resolved inside it */
	bool live;		/* false under --root: no ioctl, CPUID, exec or netlink */
	uid_t uid;		/* the user we diagnose access for: ours, or SUDO_UID under sudo */
	gid_t gid;
	bool subject_is_self;	/* that user is this process, so open() answers for them */
	struct host_cache *cache;	/* facts several checks need, read once (see kvm_common.c) */
};

/* Largest file any parser is asked to read; a bigger one is refused with -EFBIG. */
#define HOST_READ_MAX (8u << 20)

int host_init(struct host *h, const char *root);
void host_fini(struct host *h);

/* path is absolute as seen on the host ("/proc/cpuinfo"). Under --root, symlinks resolve
 * inside the root (openat2 RESOLVE_IN_ROOT) so a hostile tree cannot point us outside it. */
int host_open(const struct host *h, const char *path, int flags);
int host_stat(const struct host *h, const char *path, struct stat *st);
bool host_exists(const struct host *h, const char *path);
/* Open a regular file for reading, refusing anything else (-EISDIR, -EBADFD) *before* opening
 * it: open(2) of a device node acts by itself (a watchdog arms, a tape rewinds), so a hostile
 * tree's node is only ever opened O_PATH. */
int host_open_regular(const struct host *h, const char *path);
/* Read a whole text file. 0 or -errno; -EFBIG past max, -EILSEQ when it holds a NUL byte. */
int host_read(const struct host *h, const char *path, size_t max, char **out, size_t *len);
/* First line of a small file (sysfs, procfs values), stripped. */
int host_read_line(const struct host *h, const char *path, char *buf, size_t size);
/* The target of the symlink at path (not followed), its parent resolved inside the root: what
 * sysfs's driver and iommu_group links name. 0, -EINVAL when not a link, -ENAMETOOLONG. */
int host_readlink(const struct host *h, const char *path, char *buf, size_t size);
/* Join root and path for libraries that need a real path (libkmod); caller frees. */
char *host_path(const struct host *h, const char *path);
/* List a directory: calls fn for each entry except . and .. ; stops on non-zero return. */
int host_list_dir(const struct host *h, const char *path,
		  int (*fn)(const char *name, void *data), void *data);



/* What host_open() does under --root when the kernel has no openat2(2) (before 5.6, some
 * container seccomp profiles, valgrind): the same RESOLVE_IN_ROOT walk, one component at a
 * time with O_NOFOLLOW. Exported for the differential test against openat2. */
int host_open_in_root_fallback(int root_fd, const char *rel, int flags);

/* errno from host_read() in words a sysadmin reads in a summary ("file too large"). */
const char *host_strerror(int err);
#endif
