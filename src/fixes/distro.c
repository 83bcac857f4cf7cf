// SPDX-License-Identifier: GPL-2.0-or-later
/* Distribution data: parse data/distros/NAME.ini with inih, validate keys, pick by os-release. */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <sys/stat.h>

#include "config.h"
#include "fixes/distro.h"
#include "safefile.h"
#include "util.h"

/* Every key a data file may set; '*' marks keys that may carry an ".<arch>" suffix. */
static const struct { const char *section; const char *keys; } known_keys[] = {
	{ "distro", "name ids id_like" },
	{ "packages", "install refresh env query query_installed qemu_system* qemu_img libvirt_daemon libvirt_clients "
		      "virt_install dnsmasq bridge_utils kernel_modules_extra" },
	{ "services", "libvirt logd enable start enabled_query active_query virsh manager_running direct_start "
		      "logd_direct_start" },
	{ "groups", "kvm libvirt add_user create" },
	{ "libvirt", "qemu_user qemu_group" },
	{ "paths", "emulator* modules_load_d modprobe_d udev_rules_d udev_rules_system udev_trigger "
		   "sysctl_d libvirt_default_network grub_default grub_update" },
};

/* NULL when known, else what is wrong. */
static const char *key_problem(const char *section, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(known_keys); i++) {
		const char *p = known_keys[i].keys;

		if (!streq(known_keys[i].section, section))
			continue;
		while (*p) {
			const char *end = strchrnul(p, ' ');
			size_t n = (size_t)(end - p);
			bool arch = n && p[n - 1] == '*';

			if (arch)
				n--;
			if (strncmp(name, p, n) == 0 &&
			    (name[n] == '\0' || (arch && name[n] == '.' && name[n + 1])))
				return NULL;
			p = *end ? end + 1 : end;
		}
		return "unknown key";
	}
	return "unknown section";
}

/* Printable UTF-8 only: what str_sanitize's text mode leaves alone (no C0 including tab, DEL,
 * C1 such as U+009B CSI, or bytes that are not UTF-8). */
static bool clean_value(const char *v)
{
	_cleanup_free_ char *text = str_sanitize(v, STR_TEXT);

	return text && streq(text, v);
}

struct parse_state {
	struct distro *d;
	char err[192];
};

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	struct distro *d = st->d;
	const char *problem;
	char key[64];

	if (!*section) {
		if (!st->err[0])
			sfmt(st->err, "'%s' is outside any [section]", name);
		return 0;
	}
	problem = key_problem(section, name);
	if (problem) {
		if (!st->err[0]) {
			if (streq(problem, "unknown section"))
				sfmt(st->err, "unknown section [%s]", section);
			else
				sfmt(st->err, "unknown key '%s' in [%s]", name, section);
		}
		return 0;
	}
	if (!clean_value(value)) {
		/* Values reach the terminal and JSON (package names, paths, argv): no escape
		 * sequences, no bytes JSON cannot carry. */
		if (!st->err[0])
			sfmt(st->err, "value of '%s' in [%s] has a control character or is not UTF-8", name,
			     section);
		return 0;
	}
	if ((size_t)snprintf(key, sizeof(key), "%s.%s", section, name) >= sizeof(key)) {
		if (!st->err[0])
			sfmt(st->err, "key '%s' is too long", name);
		return 0;
	}
	/* A repeated key is the same value continued (inih hands indented continuation
	 * lines over as the same key again): the words are joined. */
	for (unsigned i = 0; i < d->n; i++) {
		if (streq(d->kv[i].key, key)) {
			char *joined;

			if (asprintf(&joined, "%s%s%s", d->kv[i].value, *d->kv[i].value ? " " : "",
				     value) < 0)
				return 0;
			free(d->kv[i].value);
			d->kv[i].value = joined;
			return 1;
		}
	}
	if (d->n >= DISTRO_KEYS_MAX) {
		if (!st->err[0])
			sfmt(st->err, "more than %d keys", DISTRO_KEYS_MAX);
		return 0;
	}
	scopy(d->kv[d->n].key, key);
	d->kv[d->n].value = strdup(value);
	if (!d->kv[d->n].value)
		return 0;
	d->n++;
	return 1;
}

/* inih reports only the line of the first error: say what is wrong with that line. */
static void describe_line(const char *text, int lineno, const char *handler_err, char *out, size_t size)
{
	const char *p = text;
	char line[512];
	size_t len;
	const char *eol;
	char *s;

	for (int i = 1; i < lineno && *p; i++)
		p = *strchrnul(p, '\n') ? strchrnul(p, '\n') + 1 : strchrnul(p, '\n');
	eol = strchrnul(p, '\n');
	len = (size_t)(eol - p);
	if (len >= 199) {
		snprintf(out, size, "line longer than 198 characters");
		return;
	}
	memcpy(line, p, len);
	line[len] = '\0';
	s = strstrip(line);
	if (*s == '[' && !strchr(s, ']'))
		snprintf(out, size, "section header without ']'");
	else if (*s != '[' && !strchr(s, '=') && !strchr(s, ':'))
		snprintf(out, size, "expected 'key = value' or '[section]', got '%.60s'", s);
	else
		snprintf(out, size, "%s", handler_err[0] ? handler_err : "cannot parse this line");
}

void distro_free(struct distro *d)
{
	for (unsigned i = 0; i < d->n; i++)
		free(d->kv[i].value);
	d->n = 0;
}

int distro_parse(const char *file, const char *text, struct distro *d, char *err, size_t errsize)
{
	struct parse_state st = { .d = d };
	const char *name, *ids;
	int line;

	memset(d, 0, sizeof(*d));
	scopy(d->file, file);
	line = ini_parse_string(text, on_pair, &st);
	if (line != 0) {
		char what[256];

		if (line < 0)
			snprintf(what, sizeof(what), "cannot parse (out of memory)");
		else
			describe_line(text, line, st.err, what, sizeof(what));
		snprintf(err, errsize, "%s:%d: %s", file, line < 0 ? 0 : line, what);
		distro_free(d);
		return -EBADMSG;
	}
	name = distro_get(d, "distro", "name");
	ids = distro_get(d, "distro", "ids");
	if (!name || !*name || !ids || !*ids) {
		int lines = 1;

		for (const char *p = text; *p; p++)
			lines += *p == '\n' && p[1];
		snprintf(err, errsize, "%s:%d: [distro] needs both 'name' and 'ids'", file, lines);
		distro_free(d);
		return -EBADMSG;
	}
	scopy(d->name, name);
	return 0;
}

void distro_set_free(struct distro_set *set)
{
	for (unsigned i = 0; i < set->n; i++)
		distro_free(&set->d[i]);
	free(set->d);
	set->d = NULL;
	set->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every *.ini name in dp, sorted, into a growing array: a fixed 64 cut the list in readdir
 * order, before sorting, so with more files debian.ini could be the one lost. 0 or -ENOMEM.
 */
static int ini_names(DIR *dp, char ***out, unsigned *n_out)
{
	char **names = NULL;
	unsigned n = 0, cap = 0;
	struct dirent *de;

	while ((de = readdir(dp))) {
		size_t len = strlen(de->d_name);

		if (len <= 4 || !streq(de->d_name + len - 4, ".ini") || de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **v = cap < UINT_MAX / 2 ? realloc(names, (cap ? cap * 2 : 16) * sizeof(*v)) : NULL;

			if (!v)
				goto nomem;
			names = v;
			cap = cap ? cap * 2 : 16;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			goto nomem;
		n++;
	}
	if (n)
		qsort(names, n, sizeof(names[0]), cmp_str);	/* readdir order is not stable */
	*out = names;
	*n_out = n;
	return 0;
nomem:
	while (n)
		free(names[--n]);
	free(names);
	return -ENOMEM;
}

int distro_set_load(struct distro_set *set, const char *dir, char *err, size_t errsize)
{
	_cleanup_closedir_ DIR *dp = opendir(dir);
	_cleanup_free_ char **names = NULL;
	unsigned n = 0;
	int r = 0;

	memset(set, 0, sizeof(*set));
	scopy(set->dir, dir);
	if (!dp) {
		snprintf(err, errsize, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	if (ini_names(dp, &names, &n) < 0) {
		snprintf(err, errsize, "%s: out of memory listing the data files", dir);
		return -ENOMEM;
	}
	set->d = calloc(n ? n : 1, sizeof(*set->d));
	for (unsigned i = 0; i < n; i++) {
		char path[PATH_MAX];
		_cleanup_free_ char *text = NULL;
		_cleanup_fclose_ FILE *f = NULL;
		size_t len = 0;
		mode_t found = 0;
		int fd;

		if (r < 0 || !set->d) {
			free(names[i]);
			continue;
		}
		sfmt(path, "%s/%s", dir, names[i]);
		/* A FIFO named *.ini must not hang fix, nor a device node be opened. */
		fd = open_regular_at(AT_FDCWD, path, O_RDONLY, false, &found);
		f = fd >= 0 ? fdopen(fd, "r") : NULL;
		if (fd >= 0 && !f)
			close(fd);
		if (f) {
			text = malloc(65536);
			len = text ? fread(text, 1, 65535, f) : 0;
		}
		if (!text || !f || ferror(f) || len == 65535) {
			char why[128];

			file_refusal(fd < 0 ? fd : -errno, found, why, sizeof(why));
			snprintf(err, errsize, "%s:0: %s", path,
				 !f ? why : "cannot read (or larger than 64 KiB)");
			r = -EBADMSG;
		} else {
			text[len] = '\0';
			r = distro_parse(path, text, &set->d[set->n], err, errsize);
			if (r == 0) {
				scopy(set->d[set->n].file, names[i]);
				set->n++;
			}
		}
		free(names[i]);
	}
	if (!set->d) {
		snprintf(err, errsize, "%s: out of memory", dir);
		r = -ENOMEM;
	}
	if (r < 0)
		distro_set_free(set);
	return r;
}

const char *distro_get(const struct distro *d, const char *section, const char *key)
{
	char k[64];

	if ((size_t)snprintf(k, sizeof(k), "%s.%s", section, key) >= sizeof(k))
		return NULL;
	for (unsigned i = 0; i < d->n; i++)
		if (streq(d->kv[i].key, k))
			return d->kv[i].value;
	return NULL;
}

const char *distro_get_arch(const struct distro *d, const char *section, const char *key,
			    const char *arch)
{
	char k[64];
	const char *v = NULL;

	if (arch && *arch) {
		if ((size_t)snprintf(k, sizeof(k), "%s.%s", key, arch) < sizeof(k))
			v = distro_get(d, section, k);
	}
	return v ? v : distro_get(d, section, key);
}

static void distro_copy(struct distro *out, const struct distro *in)
{
	*out = *in;
	for (unsigned i = 0; i < in->n; i++)
		out->kv[i].value = strdup(in->kv[i].value);
}

void distro_select(const struct distro_set *set, const struct os_release *os, struct distro *out)
{
	const char *p;

	for (unsigned i = 0; i < set->n; i++)
		if (words_contain(distro_get(&set->d[i], "distro", "ids"), os->id)) {
			distro_copy(out, &set->d[i]);
			sfmt(out->matched_by, "ID=%s", os->id);
			return;
		}
	/* ID_LIKE lists the closest relative first (os-release(5)): honour that order. */
	p = os->id_like;
	while (*p) {
		char word[56];
		const char *end = strchrnul(p, ' ');
		size_t n = (size_t)(end - p);

		if (n && n < sizeof(word)) {
			memcpy(word, p, n);
			word[n] = '\0';
			for (unsigned i = 0; i < set->n; i++) {
				const char *like = distro_get(&set->d[i], "distro", "id_like");

				if (like && words_contain(like, word)) {
					distro_copy(out, &set->d[i]);
					sfmt(out->matched_by, "ID_LIKE=%s", word);
					return;
				}
			}
		}
		p = *end ? end + 1 : end;
	}
	memset(out, 0, sizeof(*out));
	out->generic = true;
	scopy(out->name, "unknown distribution");
	snprintf(out->matched_by, sizeof(out->matched_by), "no data file matches ID=%s%s%s",
		 os->id[0] ? os->id : "?", os->id_like[0] ? " ID_LIKE=" : "", os->id_like);
}

/* The directory the running binary is in, canonical (from /proc/self/exe). */
static bool exe_dir(char *out, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", out, size - 1);
	char *slash;

	if (n <= 0)
		return false;
	out[n] = '\0';
	slash = strrchr(out, '/');
	if (!slash)
		return false;
	*slash = '\0';
	return true;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Never the current directory: a root `fix` run from a directory someone else controls
 * would take its plan from their files. An installed binary (in BINDIR) reads only
 * DATADIR; a binary anywhere else is a build tree's and reads <exe>/../data/distros, which
 * is as trustworthy as the binary beside it, before DATADIR.
 */
int distro_data_dir(const char *explicit_dir, char *out, size_t size)
{
	const char *env = getenv("VIRT_DOCTOR_DATADIR");
	char exe[PATH_MAX], bindir[PATH_MAX], cand[PATH_MAX + 32];

	if (explicit_dir) {
		snprintf(out, size, "%s", explicit_dir);
		return 0;
	}
	if (env && *env) {
		snprintf(out, size, "%s", env);
		return 0;
	}
	if (exe_dir(exe, sizeof(exe))) {
		if (!realpath(VD_BINDIR, bindir))
			scopy(bindir, VD_BINDIR);
		if (strcmp(exe, bindir) != 0) {
			sfmt(cand, "%s/../data/distros", exe);
			if (is_dir(cand)) {
				snprintf(out, size, "%s", cand);
				return 0;
			}
		}
	}
	sfmt(cand, "%s/distros", VD_DATADIR);
	if (is_dir(cand)) {
		snprintf(out, size, "%s", cand);
		return 0;
	}
	return -ENOENT;
}
