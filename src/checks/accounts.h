/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Users and groups as the root's /etc/passwd and /etc/group define them (works offline). */
#ifndef VD_ACCOUNTS_H
#define VD_ACCOUNTS_H

#include <stdbool.h>
#include <sys/types.h>

#include "host.h"

struct group_entry {
	char name[64];
	gid_t gid;
	char members[1024];	/* comma-separated, as in /etc/group */
};

/* Pure: find a line in group(5)/passwd(5) text. 0, -ENOENT, or -EBADMSG for a bad line. */
int group_find_by_gid(const char *text, gid_t gid, struct group_entry *out);
int group_find_by_name(const char *text, const char *name, struct group_entry *out);
int passwd_find_by_uid(const char *text, uid_t uid, char *name, size_t size, gid_t *gid);
/* By name: 0 with uid and primary gid, -ENOENT. */
int passwd_find_by_name(const char *text, const char *name, uid_t *uid, gid_t *gid);
bool group_has_member(const struct group_entry *g, const char *user);
/* Call fn for every well-formed group line, in file order, until it returns true. */
void group_foreach(const char *text, bool (*fn)(const struct group_entry *g, void *data), void *data);

/* Through the host: name of uid/gid, and whether user is in group (primary or listed). */
int host_user_name(const struct host *h, uid_t uid, char *name, size_t size, gid_t *primary);
int host_group(const struct host *h, gid_t gid, struct group_entry *out);
int host_group_by_name(const struct host *h, const char *name, struct group_entry *out);

#endif
