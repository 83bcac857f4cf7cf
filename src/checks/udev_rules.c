// SPDX-License-Identifier: GPL-2.0-or-later
/* The udev rules behind /dev/kvm's group and mode, read the way udev orders them. */
#include <ctype.h>
#include <errno.h>

#include "checks/udev_rules.h"
#include "util.h"

const char *const udev_rules_dirs[] = {
	"/etc/udev/rules.d", "/run/udev/rules.d", "/usr/local/lib/udev/rules.d",
	"/usr/lib/udev/rules.d", "/lib/udev/rules.d",
};
const unsigned n_udev_rules_dirs = ARRAY_SIZE(udev_rules_dirs);

/*
 * Every *.rules name in the directories, any number and any length: a fixed 256 entries (and
 * names under 128 bytes) cut the list in readdir order before sorting, so a tree with more
 * files, or a long name, could hide the rule that sets /dev/kvm's group.
 */
struct rule_file {
	char *name;
	const char *dir;
	unsigned prio;		/* index of dir: lower wins for the same name */
};

struct rule_files {
	struct rule_file *f;
	unsigned n, cap;
	const char *dir;
	unsigned prio;
};

static int add_rule_file(const char *name, void *data)
{
	struct rule_files *rf = data;
	size_t l = strlen(name);

	if (l < 7 || !streq(name + l - 6, ".rules"))
		return 0;
	if (rf->n == rf->cap) {
		unsigned cap = rf->cap ? rf->cap * 2 : 64;
		struct rule_file *f = cap > rf->cap ? realloc(rf->f, cap * sizeof(*f)) : NULL;

		if (!f)
			return -ENOMEM;
		rf->f = f;
		rf->cap = cap;
	}
	rf->f[rf->n].name = strdup(name);
	if (!rf->f[rf->n].name)
		return -ENOMEM;
	rf->f[rf->n].dir = rf->dir;
	rf->f[rf->n++].prio = rf->prio;
	return 0;
}

/* By name, then by directory priority: the first of each name is the one udev reads. */
static int cmp_rule_file(const void *a, const void *b)
{
	const struct rule_file *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->prio < y->prio ? -1 : x->prio > y->prio;
}

/* The value of an assignment KEY="v" or KEY:="v" (not KEY=="v") in a rule line, or false. */
static bool rule_value(const char *line, const char *key, bool match, char *out, size_t size)
{
	size_t kl = strlen(key);

	for (const char *p = strstr(line, key); p; p = strstr(p + 1, key)) {
		const char *q = p + kl;

		if (p > line && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
			continue;	/* the tail of a longer key */
		while (*q == ' ')
			q++;
		if (match && startswith(q, "=="))
			q += 2;
		else if (!match && startswith(q, ":="))
			q += 2;
		else if (!match && q[0] == '=' && q[1] != '=')
			q += 1;
		else
			continue;
		while (*q == ' ')
			q++;
		if (*q != '"')
			continue;
		const char *end = strchr(q + 1, '"');
		if (!end)
			return false;
		snprintf(out, size, "%.*s", (int)(end - q - 1), q + 1);
		return true;
	}
	return false;
}

void kvm_rules_scan(const struct host *h, const char *const *dirs, unsigned n_dirs,
		    struct kvm_rule *kr, void (*each)(const char *item, void *data), void *data)
{
	struct rule_files rf = { 0 };

	for (unsigned i = 0; i < n_dirs; i++) {
		rf.dir = dirs[i];
		rf.prio = i;
		(void)host_list_dir(h, dirs[i], add_rule_file, &rf);	/* ENOMEM: what was listed */
	}
	if (rf.n)
		qsort(rf.f, rf.n, sizeof(rf.f[0]), cmp_rule_file);
	for (unsigned i = 0; i < rf.n; i++) {
		_cleanup_free_ char *text = NULL, *path = NULL;
		unsigned lineno = 0;

		if (i && streq(rf.f[i].name, rf.f[i - 1].name))
			continue;	/* hidden by a higher-priority directory */
		if (asprintf(&path, "%s/%s", rf.f[i].dir, rf.f[i].name) < 0) {
			path = NULL;
			continue;
		}
		if (host_read(h, path, 1 << 20, &text, NULL) < 0)
			continue;
		for (char *line = text, *next; line; line = next) {
			char kernel[32], group[64], mode[16], item[400];
			bool g, m;

			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			lineno++;
			line = strstrip(line);
			if (line[0] == '#' || !rule_value(line, "KERNEL", true, kernel, sizeof(kernel)) ||
			    !streq(kernel, "kvm"))
				continue;
			kr->matches++;
			sfmt(item, "%s:%u: %s", path, lineno, line);
			if (each)
				each(item, data);
			g = rule_value(line, "GROUP", false, group, sizeof(group));
			m = rule_value(line, "MODE", false, mode, sizeof(mode));
			if (g)
				scopy(kr->group, group);
			if (m)
				scopy(kr->mode, mode);
			if (g || m) {
				scopy(kr->where, item);
				scopy(kr->file, path);
			}
		}
	}
	for (unsigned i = 0; i < rf.n; i++)
		free(rf.f[i].name);
	free(rf.f);
}
