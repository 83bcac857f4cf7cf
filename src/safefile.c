// SPDX-License-Identifier: GPL-2.0-or-later
/* Opening and replacing files at paths someone else may control: nothing blocks, no device acts. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>

#include "safefile.h"
#include "util.h"

const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFLNK:
		return "a symbolic link";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	default:
		return "not a regular file";
	}
}

void file_refusal(int err, mode_t found, char *why, size_t size)
{
	if (err == -ELOOP && S_ISLNK(found))
		snprintf(why, size, "is a symbolic link, not a regular file (not followed: give the "
			 "path it points to)");
	else if (err == -EISDIR || (err == -EBADFD && found))
		snprintf(why, size, "is %s, not a regular file", file_kind(err == -EISDIR ? S_IFDIR : found));
	else
		snprintf(why, size, "%s", strerror(-err));
}

/* The inode behind the O_PATH fd pfd, opened for real through its /proc magic link (no path
 * lookup, so nothing can be swapped in); without /proc, by path again, checked to be the same. */
static int reopen(int pfd, const struct stat *st, int dfd, const char *path, int flags, bool nofollow)
{
	char proc[64];
	struct stat st2;
	int fd;

	flags |= O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
	sfmt(proc, "/proc/self/fd/%d", pfd);
	fd = open(proc, flags);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	fd = openat(dfd, path, flags | (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st2) < 0 || st2.st_dev != st->st_dev || st2.st_ino != st->st_ino) {
		close(fd);
		return -EBADFD;
	}
	return fd;
}

int open_regular_at(int dfd, const char *path, int flags, bool nofollow, mode_t *found)
{
	_cleanup_close_ int pfd = openat(dfd, path, O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
	struct stat st;

	if (found)
		*found = 0;
	if (pfd < 0)
		return -errno;
	if (fstat(pfd, &st) < 0)
		return -errno;
	if (found)
		*found = st.st_mode;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;	/* O_PATH | O_NOFOLLOW gave the link itself */
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	return reopen(pfd, &st, dfd, path, flags, nofollow);
}

int open_append_at(int dfd, const char *base, mode_t mode, mode_t *found)
{
	/* Absent, then created by someone else before our O_EXCL: look again (bounded). */
	for (unsigned tries = 0; tries < 8; tries++) {
		int fd = open_regular_at(dfd, base, O_WRONLY | O_APPEND, true, found);

		if (fd != -ENOENT)
			return fd;
		fd = openat(dfd, base, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

/* path -> its directory (opened O_PATH, so a FIFO there is not opened) and its last part. */
static int open_parent(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int fd;

	if (!*path)
		return -ENOENT;
	*base = slash ? slash + 1 : path;
	if (!**base || streq(*base, ".") || streq(*base, ".."))
		return -EISDIR;
	if (!slash)
		scopy(dir, ".");
	else if (slash == path)
		scopy(dir, "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int open_append(const char *path, mode_t mode, mode_t *found)
{
	const char *base;
	_cleanup_close_ int dfd = open_parent(path, &base);

	if (found)
		*found = 0;
	if (dfd < 0)
		return dfd;
	return open_append_at(dfd, base, mode, found);
}

/* Temp files ".BASE.vd-PID-XXXX" left by a writer that was killed before its rename (the
 * target itself is intact: old or absent). A live writer's temp is left alone. */
static void remove_stale_temps(int dfd, const char *base)
{
	char prefix[NAME_MAX + 8];
	int fd;
	DIR *d;
	struct dirent *de;

	if ((size_t)snprintf(prefix, sizeof(prefix), ".%s.vd-", base) >= sizeof(prefix))
		return;
	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		char *end;
		long pid;

		if (!startswith(de->d_name, prefix))
			continue;
		errno = 0;
		pid = strtol(de->d_name + strlen(prefix), &end, 10);
		if (errno || pid <= 0 || *end != '-' || pid == getpid())
			continue;
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Does the regular file base already hold exactly buf, with mode? */
static bool same_content(int dfd, const char *base, const void *buf, size_t len, mode_t mode)
{
	_cleanup_close_ int fd = open_regular_at(dfd, base, O_RDONLY, true, NULL);
	_cleanup_free_ char *old = NULL;
	struct stat st;
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || (st.st_mode & 07777) != mode || (size_t)st.st_size != len)
		return false;
	old = malloc(len + 1);
	if (!old)
		return false;
	/* One byte more than expected: a file that grew meanwhile is not the same. */
	while (got < len + 1) {
		ssize_t n = read(fd, old + got, len + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got == len && memcmp(old, buf, len) == 0;
}

#define FAIL(r, ...) ({ snprintf(why, size, __VA_ARGS__); (r); })

int file_replace_at(int dfd, const char *base, const void *buf, size_t len, mode_t mode,
		    unsigned flags, void (*before_rename)(void), char *why, size_t size)
{
	char tmp[NAME_MAX + 1];
	struct stat st;
	bool exists;
	int fd = -1, r = 0;

	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode)) {
			file_refusal(S_ISLNK(st.st_mode) ? -ELOOP : S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD,
				     st.st_mode, why, size);
			return S_ISLNK(st.st_mode) ? -ELOOP : S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
		}
		exists = true;
	} else if (errno == ENOENT) {
		exists = false;
	} else {
		r = -errno;
		return FAIL(r, "%s", strerror(-r));
	}
	if (exists && (flags & REPLACE_SKIP_SAME) && same_content(dfd, base, buf, len, mode))
		return 1;
	remove_stale_temps(dfd, base);
	for (unsigned attempt = 0;; attempt++) {
		/* The pid in the name lets a later run tell a dead writer's temp from a live one's. */
		if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.vd-%d-%04x", base, (int)getpid(),
				     (unsigned)(now_us() + attempt) & 0xffff) >= sizeof(tmp))
			return FAIL(-ENAMETOOLONG, "file name too long for its temp file");
		/* 0600 until it is complete; a new --output file is 0644 minus the umask. */
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    (flags & REPLACE_KEEP) && !exists ? mode : 0600);
		if (fd >= 0 || errno != EEXIST || attempt > 100)
			break;
	}
	if (fd < 0) {
		r = -errno;
		return FAIL(r, "cannot create a temp file next to it: %s", strerror(-r));
	}
	if ((flags & REPLACE_KEEP) && exists) {
		/* Owner first: chown clears the set-id bits, which the chmod then puts back. */
		if ((st.st_uid != geteuid() || st.st_gid != getegid()) && fchown(fd, st.st_uid, st.st_gid) < 0) {
			r = -errno;
			FAIL(r, "cannot keep its owner %u:%u: %s", (unsigned)st.st_uid, (unsigned)st.st_gid,
			     strerror(-r));
		} else if (fchmod(fd, st.st_mode & 07777) < 0) {
			r = -errno;
			FAIL(r, "cannot keep its mode %04o: %s", (unsigned)(st.st_mode & 07777), strerror(-r));
		}
	} else if (!(flags & REPLACE_KEEP) && fchmod(fd, mode) < 0) {
		r = -errno;
		FAIL(r, "chmod %04o: %s", (unsigned)mode, strerror(-r));
	}
	if (r == 0 && (r = write_all(fd, buf, len)) < 0)
		FAIL(r, "write: %s", strerror(-r));
	if (r == 0 && fsync(fd) < 0) {
		r = -errno;
		FAIL(r, "fsync: %s", strerror(-r));
	}
	/* close(2) reports what NFS and some FUSE file systems deferred. */
	if (close(fd) < 0 && r == 0) {
		r = -errno;
		FAIL(r, "close: %s", strerror(-r));
	}
	if (r == 0 && before_rename)
		before_rename();
	if (r == 0) {
		/* A target absent a moment ago must not be clobbered if something took its name
		 * since (RENAME_NOREPLACE; plain rename where the file system cannot). */
		int rr = exists ? renameat(dfd, tmp, dfd, base) :
				  renameat2(dfd, tmp, dfd, base, RENAME_NOREPLACE);

		if (rr < 0 && !exists && (errno == EINVAL || errno == ENOSYS))
			rr = renameat(dfd, tmp, dfd, base);
		if (rr < 0) {
			r = -errno;
			if (r == -EEXIST)
				FAIL(r, "was created by someone else while being written; not replacing it");
			else
				FAIL(r, "rename: %s", strerror(-r));
		}
	}
	if (r < 0) {
		unlinkat(dfd, tmp, 0);
		return r;
	}
	fsync(dfd);	/* the rename is durable once the directory is */
	return 0;
}

int file_replace(const char *path, const void *buf, size_t len, mode_t mode, unsigned flags,
		 char *why, size_t size)
{
	const char *base;
	_cleanup_close_ int dfd = open_parent(path, &base);
	int r;

	if (dfd < 0) {
		file_refusal(dfd, dfd == -EISDIR ? S_IFDIR : 0, why, size);
		return dfd;
	}
	/* fsync of the directory needs a real fd, not O_PATH. */
	r = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r < 0) {
		r = -errno;
		file_refusal(r, 0, why, size);
		return r;
	}
	closep(&dfd);
	dfd = r;
	return file_replace_at(dfd, base, buf, len, mode, flags, NULL, why, size);
}

int file_replace_check(const char *path, char *why, size_t size)
{
	const char *base;
	_cleanup_close_ int dfd = open_parent(path, &base);
	struct stat st;
	int r;

	if (dfd < 0) {
		file_refusal(dfd, dfd == -EISDIR ? S_IFDIR : 0, why, size);
		return dfd;
	}
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		r = -errno;
		file_refusal(r, 0, why, size);
		return r;
	}
	if (S_ISREG(st.st_mode))
		return 0;
	r = S_ISLNK(st.st_mode) ? -ELOOP : S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
	file_refusal(r, st.st_mode, why, size);
	return r;
}
