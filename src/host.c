// SPDX-License-Identifier: GPL-2.0-or-later
/* The host context: root-relative, symlink-safe reads of the files the checks inspect. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

#include "cache.h"
#include "host.h"
#include "util.h"

/*
 * Run through sudo, the person to diagnose access for is the one who typed sudo, not
 * root: sudo leaves their ids in SUDO_UID/SUDO_GID. Ignored unless we really are root.
 */
static void subject_from_sudo(struct host *h)
{
	const char *uid = getenv("SUDO_UID"), *gid = getenv("SUDO_GID");
	unsigned long u, g;
	char *end;

	if (geteuid() != 0 || !uid || !gid)
		return;
	errno = 0;
	u = strtoul(uid, &end, 10);
	if (errno || *end || end == uid || u > 0xfffffffful)
		return;
	g = strtoul(gid, &end, 10);
	if (errno || *end || end == gid || g > 0xfffffffful)
		return;
	if (u == 0)
		return;
	h->uid = (uid_t)u;
	h->gid = (gid_t)g;
	h->subject_is_self = false;
}

int host_init(struct host *h, const char *root)
{
	struct stat st;
	size_t n;

	memset(h, 0, sizeof(*h));
	h->root_fd = -1;
	if (!root)
		root = "/";
	if (root[0] != '/') {
		/* A relative --root would change meaning with the working directory. */
		_cleanup_free_ char *abs = realpath(root, NULL);

		if (!abs)
			return -errno;
		if (strlen(abs) >= sizeof(h->root))
			return -ENAMETOOLONG;
		strcpy(h->root, abs);
	} else {
		if (strlen(root) >= sizeof(h->root))
			return -ENAMETOOLONG;
		strcpy(h->root, root);
	}
	n = strlen(h->root);
	while (n > 1 && h->root[n - 1] == '/')
		h->root[--n] = '\0';

	h->root_fd = open(h->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (h->root_fd < 0)
		return -errno;
	if (fstat(h->root_fd, &st) < 0)
		return -errno;
	h->live = streq(h->root, "/");
	h->uid = getuid();
	h->gid = getgid();
	h->subject_is_self = true;
	subject_from_sudo(h);
	return 0;
}

void host_fini(struct host *h)
{
	cache_key_forget();	/* the probe cache memoizes facts about this host */
	free(h->cache);
	h->cache = NULL;
	if (h->root_fd >= 0)
		close(h->root_fd);
	h->root_fd = -1;
}

#define MAX_SYMLINKS 40	/* what the kernel allows in one lookup (ELOOP past it) */

/* Drop the last component of a root-relative path ("a/b" -> "a", "a" -> ""). */
static void path_pop(char *resolved)
{
	char *slash = strrchr(resolved, '/');

	if (slash)
		*slash = '\0';
	else
		resolved[0] = '\0';
}

/* A directory fd for the root-relative path, walked one component at a time without
 * following anything: a component swapped for a symlink meanwhile fails, never escapes. */
static int open_resolved(int root_fd, const char *resolved)
{
	char buf[PATH_MAX], *save = NULL, *c;
	int fd = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	scopy(buf, resolved);
	for (c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		close(fd);
		if (next < 0)
			return -errno;
		fd = next;
	}
	return fd;
}

int host_open_in_root_fallback(int root_fd, const char *rel, int flags)
{
	char todo[2 * PATH_MAX], resolved[PATH_MAX] = "", link[PATH_MAX];
	_cleanup_close_ int dir = -1;
	unsigned links = 0;

	if (!*rel)
		return -ENOENT;
	if (strlen(rel) >= sizeof(todo))
		return -ENAMETOOLONG;
	scopy(todo, rel);
	dir = open_resolved(root_fd, "");
	if (dir < 0)
		return dir;
	for (;;) {
		char *p = todo, name[NAME_MAX + 1], *rest;
		_cleanup_close_ int fd = -1;
		struct stat st;
		size_t n;
		ssize_t ln;

		while (*p == '/')
			p++;
		if (!*p) {	/* the root itself, or a path ending in "/", "." or ".." */
			int r = openat(dir, ".", flags | O_CLOEXEC);

			return r < 0 ? -errno : r;
		}
		rest = strchrnul(p, '/');
		n = (size_t)(rest - p);
		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(name, p, n);
		name[n] = '\0';
		memmove(todo, rest, strlen(rest) + 1);
		if (streq(name, "."))
			continue;
		if (streq(name, "..")) {
			/* Clamped at the root, like RESOLVE_IN_ROOT. */
			path_pop(resolved);
			closep(&dir);
			dir = open_resolved(root_fd, resolved);
			if (dir < 0)
				return dir;
			continue;
		}
		fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (fstat(fd, &st) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode) && !todo[0] && (flags & O_NOFOLLOW)) {
			/* The caller asked for the link itself (O_PATH) or for ELOOP. */
			int r = openat(dir, name, flags | O_CLOEXEC);

			return r < 0 ? -errno : r;
		}
		if (S_ISLNK(st.st_mode)) {
			if (++links > MAX_SYMLINKS)
				return -ELOOP;
			ln = readlinkat(fd, "", link, sizeof(link) - 1);
			if (ln < 0)
				return -errno;
			link[ln] = '\0';
			if (strlen(todo) + (size_t)ln + 1 >= sizeof(todo))
				return -ENAMETOOLONG;
			/* The target replaces this component; an absolute one starts at the root. */
			memmove(todo + ln, todo, strlen(todo) + 1);
			memcpy(todo, link, (size_t)ln);
			if (link[0] == '/') {
				resolved[0] = '\0';
				closep(&dir);
				dir = open_resolved(root_fd, "");
				if (dir < 0)
					return dir;
			}
			continue;
		}
		if (!todo[0]) {
			/* Last component: open it for real, refusing a symlink swapped in since. */
			int r = openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC);

			return r < 0 ? -errno : r;
		}
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		if (strlen(resolved) + n + 2 >= sizeof(resolved))
			return -ENAMETOOLONG;
		if (resolved[0])
			strcat(resolved, "/");
		strcat(resolved, name);
		closep(&dir);
		dir = TAKE_FD(fd);
	}
}

static int openat2_in_root(int dirfd, const char *rel, int flags)
{
	static bool no_openat2;	/* ENOSYS once: old kernel, container seccomp profile, valgrind */
	struct open_how how = {
		.flags = (uint64_t)flags,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (__atomic_load_n(&no_openat2, __ATOMIC_RELAXED))
		return host_open_in_root_fallback(dirfd, rel, flags);
	/* With RESOLVE_IN_ROOT, a ".." walked while anything on the system renames a file gives
	 * EAGAIN ("could not ensure .. did not escape"): retry, then walk by hand. */
	for (int tries = 0; tries < 16; tries++) {
		fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	if (fd < 0 && errno == EAGAIN)
		return host_open_in_root_fallback(dirfd, rel, flags);
	if (fd < 0 && errno == ENOSYS) {
		__atomic_store_n(&no_openat2, true, __ATOMIC_RELAXED);
		return host_open_in_root_fallback(dirfd, rel, flags);
	}
	return fd < 0 ? -errno : (int)fd;
}

int host_open(const struct host *h, const char *path, int flags)
{
	int fd;

	if (path[0] != '/')
		return -EINVAL;
	flags |= O_CLOEXEC;
	if (h->live) {
		fd = open(path, flags);
		return fd < 0 ? -errno : fd;
	}
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	return openat2_in_root(h->root_fd, path, flags);
}

int host_stat(const struct host *h, const char *path, struct stat *st)
{
	_cleanup_close_ int fd = -1;

	if (h->live)
		return stat(path, st) < 0 ? -errno : 0;
	/* O_PATH follows symlinks inside the root and never opens a device for real. */
	fd = host_open(h, path, O_PATH);
	if (fd < 0)
		return fd;
	return fstat(fd, st) < 0 ? -errno : 0;
}

bool host_exists(const struct host *h, const char *path)
{
	struct stat st;

	return host_stat(h, path, &st) == 0;
}

int host_open_regular(const struct host *h, const char *path)
{
	_cleanup_close_ int pfd = host_open(h, path, O_PATH);
	struct stat st, st2;
	char proc[64];
	int fd;

	if (pfd < 0)
		return pfd;
	if (fstat(pfd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;	/* a FIFO or device in a --root tree would block, lie or act */
	/* Reopen exactly the inode just checked (the O_PATH fd's magic link in /proc). */
	sfmt(proc, "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	/* No /proc mounted: by path again, then make sure it is still that file. */
	fd = host_open(h, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino) {
		close(fd);
		return -EBADFD;
	}
	return fd;
}

int host_read(const struct host *h, const char *path, size_t max, char **out, size_t *len)
{
	_cleanup_close_ int fd = host_open_regular(h, path);
	_cleanup_free_ char *buf = NULL;
	size_t size = 0, cap = 0;

	if (fd < 0)
		return fd;
	/* procfs and sysfs report size 0, so read until EOF rather than trusting st_size. */
	for (;;) {
		ssize_t r;

		if (size + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 16384;
			char *nbuf;

			if (cap > max + 1)
				return -EFBIG;
			nbuf = realloc(buf, ncap);
			if (!nbuf)
				return -ENOMEM;
			buf = nbuf;
			cap = ncap;
		}
		r = read(fd, buf + size, cap - size - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		size += (size_t)r;
		if (size > max)
			return -EFBIG;
	}
	buf[size] = '\0';
	if (memchr(buf, '\0', size))
		return -EILSEQ;
	if (len)
		*len = size;
	*out = TAKE_PTR(buf);
	return 0;
}

int host_read_line(const struct host *h, const char *path, char *buf, size_t size)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = host_read(h, path, 64 * 1024, &text, NULL);
	if (r < 0)
		return r;
	return first_line(text, buf, size);
}

int host_readlink(const struct host *h, const char *path, char *buf, size_t size)
{
	_cleanup_close_ int dir = -1;
	const char *base = strrchr(path, '/');
	char parent[PATH_MAX];
	ssize_t n;

	if (!base || !base[1] || size == 0)
		return -EINVAL;
	if ((size_t)(base - path) >= sizeof(parent))
		return -ENAMETOOLONG;
	memcpy(parent, path, (size_t)(base - path));
	parent[base - path] = '\0';
	dir = host_open(h, parent[0] ? parent : "/", O_PATH | O_DIRECTORY);
	if (dir < 0)
		return dir;
	n = readlinkat(dir, base + 1, buf, size);
	if (n < 0)
		return -errno;
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}

char *host_path(const struct host *h, const char *path)
{
	char *out;

	if (h->live)
		return strdup(path);
	if (asprintf(&out, "%s%s", h->root, path) < 0)
		return NULL;
	return out;
}

int host_list_dir(const struct host *h, const char *path,
		  int (*fn)(const char *name, void *data), void *data)
{
	int fd = host_open(h, path, O_RDONLY | O_DIRECTORY);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;

		close(fd);
		return r;
	}
	while ((de = readdir(d))) {
		int r;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		r = fn(de->d_name, data);
		if (r)
			return r;
	}
	return 0;
}

const char *host_strerror(int err)
{
	switch (-err) {
	case EFBIG:
		return "file too large";
	case EILSEQ:
		return "binary data (NUL bytes), not text";
	case EBADMSG:
		return "unrecognised content";
	case ENODATA:
		return "empty file";
	case ENOMSG:
		return "truncated (the last line does not end)";
	case EBADFD:
		return "not a regular file";
	case ELOOP:
		return "symlink loop";
	case EXDEV:
		return "symlink escapes the root";
	default:
		return strerror(-err);
	}
}
