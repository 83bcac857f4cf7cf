// SPDX-License-Identifier: GPL-2.0-or-later
/* The udev rules behind /dev/kvm's group and mode, read the way udev orders them. */
#include <ctype.h>

#include "checks/udev_rules.h"
#include "util.h"

const char *const udev_rules_dirs[] = {
	"/etc/udev/rules.d", "/run/udev/rules.d", "/usr/local/lib/udev/rules.d",
	"/usr/lib/udev/rules.d", "/lib/udev/rules.d",
};
const unsigned n_udev_rules_dirs = ARRAY_SIZE(udev_rules_dirs);

struct rule_file {
	char name[128];
	const char *dir;
};

struct rule_files {
	struct rule_file f[256];
	unsigned n;
	const char *dir;
};

static int add_rule_file(const char *name, void *data)
{
	struct rule_files *rf = data;
	size_t l = strlen(name);

	if (l < 7 || l >= sizeof(rf->f[0].name) || !streq(name + l - 6, ".rules"))
		return 0;
	for (unsigned i = 0; i < rf->n; i++)
		if (streq(rf->f[i].name, name))
			return 0;	/* hidden by a higher-priority directory */
	if (rf->n < ARRAY_SIZE(rf->f)) {
		scopy(rf->f[rf->n].name, name);
		rf->f[rf->n++].dir = rf->dir;
	}
	return 0;
}

static int cmp_rule_file(const void *a, const void *b)
{
	return strcmp(((const struct rule_file *)a)->name, ((const struct rule_file *)b)->name);
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
	static struct rule_files rf;	/* 33 KiB: not on the stack */

	rf.n = 0;
	for (unsigned i = 0; i < n_dirs; i++) {
		rf.dir = dirs[i];
		(void)host_list_dir(h, dirs[i], add_rule_file, &rf);
	}
	qsort(rf.f, rf.n, sizeof(rf.f[0]), cmp_rule_file);
	for (unsigned i = 0; i < rf.n; i++) {
		_cleanup_free_ char *text = NULL;
		char path[300];
		unsigned lineno = 0;

		sfmt(path, "%s/%s", rf.f[i].dir, rf.f[i].name);
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
}
