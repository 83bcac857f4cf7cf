/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Users and groups as the root's /etc/passwd and /etc/group define them (works offline). */
#ifndef VD_ACCOUNTS_H
#define VD_ACCOUNTS_H

#include <stdbool.h>
#include <sys/types.h>

#include "host.h"

/*
 * One group line. members is the comma-separated list as in /etc/group, of any length, not
 * NUL-terminated: it points into the text the entry was found in (members_len bytes). The
 * pure lookups below point into the caller's text; host_group*() keep the file's text in
 * `text`, freed by group_entry_clear() (use _cleanup_(group_entry_clear)).
 */
struct group_entry {
	char name[64];		/* a longer name makes the line malformed, never a cut name */
	gid_t gid;
	const char *members;
	size_t members_len;
	char *text;
};

/* Pure: find a line in group(5)/passwd(5) text. 0 or -ENOENT; passwd_find_by_uid() gives
 * -ENAMETOOLONG when the name does not fit in size (never a cut name). */
int group_find_by_gid(const char *text, gid_t gid, struct group_entry *out);
int group_find_by_name(const char *text, const char *name, struct group_entry *out);
int passwd_find_by_uid(const char *text, uid_t uid, char *name, size_t size, gid_t *gid);
/* By name: 0 with uid and primary gid, -ENOENT (the whole name is compared). */
int passwd_find_by_name(const char *text, const char *name, uid_t *uid, gid_t *gid);
bool group_has_member(const struct group_entry *g, const char *user);
void group_entry_clear(struct group_entry *g);
/* Call fn for every well-formed group line, in file order, until it returns true. */
void group_foreach(const char *text, bool (*fn)(const struct group_entry *g, void *data), void *data);

/* Through the host: name of uid/gid, and whether user is in group (primary or listed). The
 * entry from host_group*() owns its text on success: group_entry_clear() it. */
int host_user_name(const struct host *h, uid_t uid, char *name, size_t size, gid_t *primary);
int host_group(const struct host *h, gid_t gid, struct group_entry *out);
int host_group_by_name(const struct host *h, const char *name, struct group_entry *out);

#endif
