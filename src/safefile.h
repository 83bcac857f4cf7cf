/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opening and replacing files at paths someone else may control: nothing blocks, no device acts. */
#ifndef VD_SAFEFILE_H
#define VD_SAFEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* What a mode is, for a one-line refusal: "a FIFO", "a character device", ... */
const char *file_kind(mode_t mode);

/*
 * Open path (relative to dfd, or absolute) with flags (O_RDONLY, O_WRONLY | O_APPEND), only
 * if it is a regular file. It is looked at through O_PATH first, so a FIFO does not block and
 * a device node is never opened for real (open(2) of a device acts by itself), then exactly
 * that inode is opened. nofollow: a final symlink is refused, not followed. fd, or -errno:
 * -ELOOP (a symlink), -EISDIR, -EBADFD (another kind); *found (may be NULL) gets its mode.
 */
int open_regular_at(int dfd, const char *path, int flags, bool nofollow, mode_t *found);

/* For appending (the fix journal): the existing regular file base in dfd, or a new one with
 * mode (minus the umask). A final symlink is never followed. fd or -errno as above. */
int open_append_at(int dfd, const char *base, mode_t mode, mode_t *found);

/* The same, by path; the directory must exist. */
int open_append(const char *path, mode_t mode, mode_t *found);

/* A one-line reason for an error of the functions above: "is a FIFO, not a regular file", or
 * strerror() for errors that are not about the kind of file. */
void file_refusal(int err, mode_t found, char *why, size_t size);

enum {
	REPLACE_KEEP = 1 << 0,		/* an existing file keeps its mode and owner (--output);
					 * without it, the file gets exactly `mode` (fixes) */
	REPLACE_SKIP_SAME = 1 << 1,	/* same content and mode already there: 1, nothing written */
};

/*
 * Replace base in the directory dfd with buf atomically: a temp file ".BASE.vd-PID-XXXX" next
 * to it, written whole, fsync'd, renamed over it, and the directory fsync'd. The target must
 * be absent or a regular file: a symlink, FIFO, socket, device node or directory is refused,
 * never replaced or followed. A new file gets mode minus the umask (with REPLACE_KEEP) or
 * exactly mode. A temp left by a writer killed before its rename is removed once its pid is
 * gone. before_rename (a test hook, may be NULL) runs between the fsync and the rename.
 * 0 written, 1 unchanged (REPLACE_SKIP_SAME), or -errno with why filled; on error no temp
 * file is left behind and the target is untouched.
 */
int file_replace_at(int dfd, const char *base, const void *buf, size_t len, mode_t mode,
		    unsigned flags, void (*before_rename)(void), char *why, size_t size);

/* The same, by path; the directory must exist (it is not created). */
int file_replace(const char *path, const void *buf, size_t len, mode_t mode, unsigned flags,
		 char *why, size_t size);

/* Whether file_replace() may write path, before any work is done: 0 when its directory
 * exists and path is absent or a regular file; else -errno with why filled. */
int file_replace_check(const char *path, char *why, size_t size);

#endif
