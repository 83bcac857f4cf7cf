// SPDX-License-Identifier: GPL-2.0-or-later
/* Users and groups from the root's /etc/passwd and /etc/group: no NSS, so --root works. */
#include <errno.h>
#include <stdlib.h>

#include "checks/accounts.h"
#include "util.h"

/* Split one colon-separated line into at most n fields (in place). */
static unsigned split_fields(char *line, char **field, unsigned n)
{
	unsigned i = 0;

	field[i++] = line;
	for (char *p = line; *p && i < n; p++)
		if (*p == ':') {
			*p = '\0';
			field[i++] = p + 1;
		}
	return i;
}

static bool parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (!*s)
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && !*end && *out <= 0xfffffffful;
}

typedef bool (*line_fn)(char **field, unsigned n, void *data);

/* Walk the lines of passwd/group text; 0 when fn matched, -ENOENT otherwise. */
static int for_each_line(const char *text, unsigned want, line_fn fn, void *data)
{
	const char *p = text;

	while (*p) {
		const char *eol = strchrnul(p, '\n');
		size_t len = (size_t)(eol - p);
		char line[2048], *field[8];
		unsigned n;

		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		p = *eol ? eol + 1 : eol;
		if (!line[0] || line[0] == '#' || line[0] == '+' || line[0] == '-')
			continue;	/* NIS compat lines are not ours to resolve */
		n = split_fields(line, field, ARRAY_SIZE(field));
		if (n < want)
			continue;
		if (fn(field, n, data))
			return 0;
	}
	return -ENOENT;
}

struct group_query {
	const char *name;
	gid_t gid;
	bool by_name;
	struct group_entry *out;
};

static bool group_match(char **f, unsigned n, void *data)
{
	struct group_query *q = data;
	unsigned long id;

	(void)n;
	if (!parse_id(f[2], &id))
		return false;
	if (q->by_name ? !streq(f[0], q->name) : id != q->gid)
		return false;
	scopy(q->out->name, f[0]);
	q->out->gid = (gid_t)id;
	scopy(q->out->members, strstrip(f[3]));
	return true;
}

int group_find_by_gid(const char *text, gid_t gid, struct group_entry *out)
{
	struct group_query q = { .gid = gid, .out = out };

	return for_each_line(text, 4, group_match, &q);
}

int group_find_by_name(const char *text, const char *name, struct group_entry *out)
{
	struct group_query q = { .name = name, .by_name = true, .out = out };

	return for_each_line(text, 4, group_match, &q);
}

struct group_walk {
	bool (*fn)(const struct group_entry *g, void *data);
	void *data;
};

static bool group_visit(char **f, unsigned n, void *data)
{
	struct group_walk *w = data;
	struct group_entry g;
	unsigned long id;

	(void)n;
	if (!parse_id(f[2], &id))
		return false;
	scopy(g.name, f[0]);
	g.gid = (gid_t)id;
	scopy(g.members, strstrip(f[3]));
	return w->fn(&g, w->data);
}

void group_foreach(const char *text, bool (*fn)(const struct group_entry *g, void *data), void *data)
{
	struct group_walk w = { .fn = fn, .data = data };

	for_each_line(text, 4, group_visit, &w);
}

struct passwd_query {
	uid_t uid;
	char *name;
	size_t size;
	gid_t *gid;
};

static bool passwd_match(char **f, unsigned n, void *data)
{
	struct passwd_query *q = data;
	unsigned long uid, gid;

	(void)n;
	if (!parse_id(f[2], &uid) || !parse_id(f[3], &gid) || uid != q->uid)
		return false;
	snprintf(q->name, q->size, "%s", f[0]);
	if (q->gid)
		*q->gid = (gid_t)gid;
	return true;
}

int passwd_find_by_uid(const char *text, uid_t uid, char *name, size_t size, gid_t *gid)
{
	struct passwd_query q = { .uid = uid, .name = name, .size = size, .gid = gid };

	return for_each_line(text, 7, passwd_match, &q);
}

struct passwd_name_query {
	const char *name;
	uid_t *uid;
	gid_t *gid;
};

static bool passwd_name_match(char **f, unsigned n, void *data)
{
	struct passwd_name_query *q = data;
	unsigned long uid, gid;

	(void)n;
	if (!streq(f[0], q->name) || !parse_id(f[2], &uid) || !parse_id(f[3], &gid))
		return false;
	*q->uid = (uid_t)uid;
	*q->gid = (gid_t)gid;
	return true;
}

int passwd_find_by_name(const char *text, const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd_name_query q = { .name = name, .uid = uid, .gid = gid };

	return for_each_line(text, 7, passwd_name_match, &q);
}

bool group_has_member(const struct group_entry *g, const char *user)
{
	const char *p = g->members;
	size_t n = strlen(user);

	while (*p) {
		const char *end = strchrnul(p, ',');

		if ((size_t)(end - p) == n && strncmp(p, user, n) == 0)
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

int host_user_name(const struct host *h, uid_t uid, char *name, size_t size, gid_t *primary)
{
	_cleanup_free_ char *text = NULL;
	int r = host_read(h, "/etc/passwd", HOST_READ_MAX, &text, NULL);

	if (r < 0)
		return r;
	return passwd_find_by_uid(text, uid, name, size, primary);
}

int host_group(const struct host *h, gid_t gid, struct group_entry *out)
{
	_cleanup_free_ char *text = NULL;
	int r = host_read(h, "/etc/group", HOST_READ_MAX, &text, NULL);

	if (r < 0)
		return r;
	return group_find_by_gid(text, gid, out);
}

int host_group_by_name(const struct host *h, const char *name, struct group_entry *out)
{
	_cleanup_free_ char *text = NULL;
	int r = host_read(h, "/etc/group", HOST_READ_MAX, &text, NULL);

	if (r < 0)
		return r;
	return group_find_by_name(text, name, out);
}
