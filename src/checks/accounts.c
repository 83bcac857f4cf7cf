// SPDX-License-Identifier: GPL-2.0-or-later
/* Users and groups from the root's /etc/passwd and /etc/group: no NSS, so --root works. */
#include <errno.h>
#include <stdlib.h>

#include "checks/accounts.h"
#include "util.h"

/*
 * One field of a line, in the text itself: never copied into a fixed buffer, so a line of
 * any length (a kvm group with thousands of members) is read whole. A copy cut at a fixed size
 * used to drop the members past the cut, or cut "alice" into a member "ali".
 */
struct field {
	const char *p;
	size_t n;
};

static bool field_eq(struct field f, const char *s)
{
	return strlen(s) == f.n && memcmp(f.p, s, f.n) == 0;
}

/* Copy a field into a buffer; false when it does not fit (it is then not used at all). */
static bool field_copy(struct field f, char *buf, size_t size)
{
	if (f.n >= size || memchr(f.p, '\0', f.n))
		return false;
	memcpy(buf, f.p, f.n);
	buf[f.n] = '\0';
	return true;
}

static bool parse_id(struct field f, unsigned long *out)
{
	unsigned long v = 0;

	if (!f.n || f.n > 10)
		return false;
	for (size_t i = 0; i < f.n; i++) {
		if (f.p[i] < '0' || f.p[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(f.p[i] - '0');
	}
	if (v > 0xfffffffful)
		return false;
	*out = v;
	return true;
}

/* Split [line, eol) at colons into at most n fields; the last holds the rest. */
static unsigned split_fields(const char *line, const char *eol, struct field *field, unsigned n)
{
	unsigned i = 0;
	const char *p = line;

	while (i < n) {
		const char *colon = memchr(p, ':', (size_t)(eol - p));

		if (!colon || i == n - 1) {
			field[i++] = (struct field){ p, (size_t)(eol - p) };
			break;
		}
		field[i++] = (struct field){ p, (size_t)(colon - p) };
		p = colon + 1;
	}
	return i;
}

typedef bool (*line_fn)(struct field *field, unsigned n, void *data);

/* Walk the lines of passwd/group text; 0 when fn matched, -ENOENT otherwise. */
static int for_each_line(const char *text, unsigned want, line_fn fn, void *data)
{
	const char *p = text;

	while (*p) {
		const char *eol = strchrnul(p, '\n'), *end = eol;
		struct field field[8];
		unsigned n;

		while (end > p && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end == p || *p == '#' || *p == '+' || *p == '-') {
			p = *eol ? eol + 1 : eol;
			continue;	/* NIS compat lines are not ours to resolve */
		}
		n = split_fields(p, end, field, want == 4 ? 5 : 8);
		p = *eol ? eol + 1 : eol;
		if (n < want)
			continue;
		if (fn(field, n, data))
			return 0;
	}
	return -ENOENT;
}

/* A group line's fields into an entry; false for a malformed one. Its members point into the
 * text (the 4th field up to the next colon or the end of the line). */
static bool group_entry_from(struct field *f, struct group_entry *g)
{
	unsigned long id;
	struct field m = f[3];

	if (!parse_id(f[2], &id) || !f[0].n || !field_copy(f[0], g->name, sizeof(g->name)))
		return false;
	g->gid = (gid_t)id;
	while (m.n && (*m.p == ' ' || *m.p == '\t'))
		m.p++, m.n--;
	g->members = m.p;
	g->members_len = m.n;
	g->text = NULL;
	return true;
}

struct group_query {
	const char *name;
	gid_t gid;
	bool by_name;
	struct group_entry *out;
};

static bool group_match(struct field *f, unsigned n, void *data)
{
	(void)n;
	struct group_query *q = data;
	struct group_entry g;

	if (q->by_name && !field_eq(f[0], q->name))
		return false;
	if (!group_entry_from(f, &g) || (!q->by_name && g.gid != q->gid))
		return false;
	*q->out = g;
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

static bool group_visit(struct field *f, unsigned n, void *data)
{
	struct group_walk *w = data;
	struct group_entry g;

	(void)n;
	if (!group_entry_from(f, &g))
		return false;
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
	int err;
};

static bool passwd_match(struct field *f, unsigned n, void *data)
{
	struct passwd_query *q = data;
	unsigned long uid, gid;

	(void)n;
	if (!parse_id(f[2], &uid) || !parse_id(f[3], &gid) || uid != q->uid || !f[0].n)
		return false;
	/* A name cut to fit would be another user's name: say it does not fit instead. */
	if (!field_copy(f[0], q->name, q->size)) {
		q->err = -ENAMETOOLONG;
		return true;
	}
	if (q->gid)
		*q->gid = (gid_t)gid;
	return true;
}

int passwd_find_by_uid(const char *text, uid_t uid, char *name, size_t size, gid_t *gid)
{
	struct passwd_query q = { .uid = uid, .name = name, .size = size, .gid = gid };
	int r = for_each_line(text, 7, passwd_match, &q);

	return r < 0 ? r : q.err;
}

struct passwd_name_query {
	const char *name;
	uid_t *uid;
	gid_t *gid;
};

static bool passwd_name_match(struct field *f, unsigned n, void *data)
{
	struct passwd_name_query *q = data;
	unsigned long uid, gid;

	(void)n;
	if (!field_eq(f[0], q->name) || !parse_id(f[2], &uid) || !parse_id(f[3], &gid))
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
	const char *p = g->members, *end = g->members + g->members_len;
	size_t n = strlen(user);

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;

		if ((size_t)(e - p) == n && memcmp(p, user, n) == 0)
			return true;
		p = e + 1;
	}
	return false;
}

void group_entry_clear(struct group_entry *g)
{
	free(g->text);
	g->text = NULL;
	g->members = "";
	g->members_len = 0;
}

int host_user_name(const struct host *h, uid_t uid, char *name, size_t size, gid_t *primary)
{
	_cleanup_free_ char *text = NULL;
	int r = host_read(h, "/etc/passwd", HOST_READ_MAX, &text, NULL);

	if (r < 0)
		return r;
	return passwd_find_by_uid(text, uid, name, size, primary);
}

/* The entry keeps the file's text, which its members point into. */
static int host_group_find(const struct host *h, const char *name, gid_t gid, struct group_entry *out)
{
	char *text = NULL;
	int r;

	out->text = NULL;
	out->members = "";
	out->members_len = 0;
	r = host_read(h, "/etc/group", HOST_READ_MAX, &text, NULL);
	if (r < 0)
		return r;
	r = name ? group_find_by_name(text, name, out) : group_find_by_gid(text, gid, out);
	if (r < 0) {
		free(text);
		return r;
	}
	out->text = text;
	return 0;
}

int host_group(const struct host *h, gid_t gid, struct group_entry *out)
{
	return host_group_find(h, NULL, gid, out);
}

int host_group_by_name(const struct host *h, const char *name, struct group_entry *out)
{
	return host_group_find(h, name, 0, out);
}
