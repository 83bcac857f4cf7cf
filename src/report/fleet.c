// SPDX-License-Identifier: GPL-2.0-or-later
/* `virt-doctor fleet`: read many JSON reports (in parallel), tally them, render text/JSON/CSV. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "checks/check.h"
#include "report/fleet.h"
#include "report/report.h"
#include "util.h"
#include "version.h"

/* One report file: a host, or a problem (reason set) when it could not be used. */
struct host_rec {
	char *file;
	char *name;
	char *problem;		/* why the file was not merged; NULL when it was */
	enum verdict verdict;
	bool has_time, stale;
	bool has_inode, same_file;	/* same_file: another name of a file already merged */
	dev_t dev;
	ino_t ino;
	time_t generated_at;
	char *distro, *kernel, *cpu;
	char **fail, **warn;	/* check ids */
	unsigned n_fail, n_warn;
};

/* A growable list of host indexes. */
struct idlist {
	uint32_t *v;
	unsigned n, cap;
};

/* A string key with a count and, for checks and verdicts, the hosts behind the count. */
struct tally {
	char *key;
	struct idlist fail, warn;	/* check tallies; mix tallies use fail.n as the count */
};

/* Open addressing, linear probing, FNV-1a: the tallies are looked up once per host and check. */
struct table {
	struct tally *slot;
	size_t cap, n;
};

struct fleet {
	struct fleet_options opt;
	struct host_rec *host;
	unsigned n_host;
	unsigned n_files, n_ok, n_problem, n_stale;
	struct idlist by_verdict[VERDICT_UNKNOWN + 1];
	struct idlist stale, problems;
	struct table checks, distro, kernel, cpu;
};

static int idlist_add(struct idlist *l, uint32_t id)
{
	if (l->n == l->cap) {
		unsigned cap = l->cap ? l->cap * 2 : 8;
		uint32_t *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = id;
	return 0;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct tally *table_find_slot(struct tally *slot, size_t cap, const char *key)
{
	size_t i = fnv1a(key) & (cap - 1);

	while (slot[i].key && !streq(slot[i].key, key))
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

/* The tally for key, created on first use; NULL on ENOMEM. Pointers live until the next get. */
static struct tally *table_get(struct table *t, const char *key)
{
	struct tally *s;

	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct tally *slot = calloc(cap, sizeof(*slot));

		if (!slot)
			return NULL;
		for (size_t i = 0; i < t->cap; i++)
			if (t->slot[i].key)
				*table_find_slot(slot, cap, t->slot[i].key) = t->slot[i];
		free(t->slot);
		t->slot = slot;
		t->cap = cap;
	}
	s = table_find_slot(t->slot, t->cap, key);
	if (!s->key) {
		s->key = strdup(key);
		if (!s->key)
			return NULL;
		t->n++;
	}
	return s;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		free(t->slot[i].key);
		free(t->slot[i].fail.v);
		free(t->slot[i].warn.v);
	}
	free(t->slot);
}

/* A copy cut to FLEET_STRING_MAX bytes on a UTF-8 character boundary (the input is valid UTF-8). */
static char *cut(const char *s)
{
	size_t n = strlen(s);

	if (n > FLEET_STRING_MAX) {
		n = FLEET_STRING_MAX;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return strndup(s, n);
}

int fleet_parse_duration(const char *s, int64_t *out)
{
	static const struct { char unit; int64_t seconds; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 },
	};
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0 || s[0] == '-' || s[0] == '+')
		return -EINVAL;
	if (!*end) {
		*out = v;
		return 0;
	}
	if (end[1])
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (*end == units[i].unit) {
			if (v > INT64_MAX / units[i].seconds)
				return -EINVAL;
			*out = v * units[i].seconds;
			return 0;
		}
	return -EINVAL;
}

int fleet_parse_time(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	const char *p;
	char *end;
	long off = 0;
	time_t t;

	if (s[0] == '@') {
		long long v;

		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (errno || end == s + 1 || *end || v < 0 || v > FLEET_TIME_MAX)
			return -EINVAL;
		*out = (time_t)v;
		return 0;
	}
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -EINVAL;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if ((*p == 'Z' || *p == 'z') && !p[1])
		off = 0;
	else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int hh, mm;

		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || hh > 23 || mm > 59)
			return -EINVAL;
		off = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
	} else
		return -EINVAL;
	/* Inside 1970..9999 (a year RFC 3339 can write): then now - generated_at cannot overflow. */
	t = timegm(&tm);
	if (t == (time_t)-1 || t - off < 0 || t - off > FLEET_TIME_MAX)
		return -EINVAL;
	*out = t - off;
	return 0;
}

static const char *str_member(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int set_problem(struct host_rec *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_problem(struct host_rec *h, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&h->problem, fmt, ap);
	va_end(ap);
	if (r < 0)
		h->problem = NULL;
	return -EINVAL;
}

static int add_check_id(char ***list, unsigned *n, const char *id)
{
	char **v = *list;

	/* Grow at powers of two: a hostile report may list 100,000 checks. */
	if ((*n & (*n - 1)) == 0) {
		v = realloc(*list, (*n ? *n * 2 : 16) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		*list = v;
	}
	v[*n] = cut(id);
	if (!v[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * A report lists each check once (virt-doctor writes it so); one that lists an id twice could
 * make one host count as many for that check, and which of its statuses is true cannot be
 * told, so the report is refused. Sorted copy of the ids: O(n log n) for a hostile 100,000.
 */
static int repeated_check(struct host_rec *h, json_t *checks)
{
	size_t n = json_array_size(checks), k = 0, i;
	_cleanup_free_ const char **ids = malloc((n + 1) * sizeof(*ids));
	json_t *c;

	if (!ids)
		return -ENOMEM;
	json_array_foreach(checks, i, c)
		ids[k++] = str_member(c, "id");	/* extract() checked every id is a string */
	qsort(ids, k, sizeof(*ids), cmp_str);
	for (i = 1; i < k; i++)
		if (streq(ids[i - 1], ids[i]))
			return set_problem(h, "check id \"%.60s\" is listed more than once", ids[i]);
	return 0;
}

/* What a valid report says about its host; the checks that exist are not assumed, only iterated. */
static int extract(struct host_rec *h, json_t *j)
{
	json_t *host, *checks, *c;
	const char *kind, *version, *verdict, *s;
	char *end;
	unsigned long major;
	size_t i;
	bool known = false;

	if (!json_is_object(j))
		return set_problem(h, "not a JSON object");
	kind = str_member(j, "kind");
	if (json_object_get(j, "kind") && !kind)
		return set_problem(h, "\"kind\" is not a string");
	if (kind && !streq(kind, "report"))
		return set_problem(h, "not a report (kind \"%.40s\")", kind);
	version = str_member(j, "schema_version");
	if (!version)
		return set_problem(h, "no schema_version");
	errno = 0;
	major = strtoul(version, &end, 10);
	if (errno || end == version || (*end && *end != '.') || version[0] == '-')
		return set_problem(h, "schema_version \"%.40s\" is not a version", version);
	if (major != REPORT_SCHEMA_MAJOR)
		return set_problem(h, "schema major %lu is not supported (this virt-doctor reads %d.x)",
				   major, REPORT_SCHEMA_MAJOR);
	verdict = str_member(j, "verdict");
	for (int v = VERDICT_READY; verdict && v <= VERDICT_UNKNOWN; v++)
		if (streq(verdict, verdict_name(v))) {
			h->verdict = v;
			known = true;
		}
	if (!known)
		return set_problem(h, "no valid verdict");
	checks = json_object_get(j, "checks");
	if (!json_is_array(checks))
		return set_problem(h, "no checks array");
	host = json_object_get(j, "host");
	if (host && !json_is_object(host))
		return set_problem(h, "\"host\" is not an object");

	s = str_member(j, "generated_at");
	if (s) {
		if (fleet_parse_time(s, &h->generated_at) < 0)
			return set_problem(h, "generated_at \"%.40s\" is not an RFC 3339 time", s);
		h->has_time = true;
	}
	s = str_member(host, "hostname");
	if (s && *s)
		h->name = cut(s);
	else {
		/* No name inside: the file name is what the operator will recognise. */
		const char *base = strrchr(h->file, '/');
		size_t n;

		base = base ? base + 1 : h->file;
		n = strlen(base);
		if (n > 5 && streq(base + n - 5, ".json"))
			n -= 5;
		h->name = strndup(base, n < FLEET_STRING_MAX ? n : FLEET_STRING_MAX);
	}
	s = str_member(host, "os_pretty_name");
	if (s)
		h->distro = cut(s);
	else if ((s = str_member(host, "os_id"))) {
		char buf[160];

		sfmt(buf, "%.64s %.64s", s, str_member(host, "os_version_id") ?: "");
		h->distro = strdup(strstrip(buf));
	}
	if ((s = str_member(host, "kernel_release")))
		h->kernel = cut(s);

	json_array_foreach(checks, i, c) {
		const char *id = str_member(c, "id"), *status = str_member(c, "status");

		if (!id || !status)
			return set_problem(h, "checks[%zu] has no id or status", i);
		if (streq(status, "fail") && add_check_id(&h->fail, &h->n_fail, id) < 0)
			return -ENOMEM;
		if (streq(status, "warn") && add_check_id(&h->warn, &h->n_warn, id) < 0)
			return -ENOMEM;
		if (!h->cpu && streq(id, "cpu.virt_extensions")) {
			json_t *d = json_object_get(c, "details");

			s = str_member(d, "model") ?: str_member(d, "vendor");
			if (s)
				h->cpu = cut(s);
			else if ((s = str_member(d, "arch") ?: str_member(host, "arch"))) {
				/* Better an architecture than "unknown" (ARM cpuinfo has no model name). */
				char buf[96];

				sfmt(buf, "%.64s, model unknown", s);
				h->cpu = strdup(buf);
			}
		}
	}
	if (repeated_check(h, checks) < 0)
		return h->problem ? -EINVAL : -ENOMEM;
	if (!h->name || !(h->distro = h->distro ?: strdup("unknown")) ||
	    !(h->kernel = h->kernel ?: strdup("unknown")) || !(h->cpu = h->cpu ?: strdup("unknown")))
		return -ENOMEM;
	return 0;
}

/* Parse and check one report's bytes (whatever read them); every failure becomes the host's
 * problem. The pure half of load_one, which the fuzzer drives through fleet_load_buffer. */
static void parse_report(struct host_rec *h, const char *buf, size_t len)
{
	json_error_t e;
	json_t *j;

	if (len == 0) {
		set_problem(h, "empty file");
		return;
	}
	if (len > FLEET_FILE_MAX) {
		set_problem(h, "too large (%zu bytes; the limit is %u MiB)", len, FLEET_FILE_MAX >> 20);
		return;
	}
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		set_problem(h, "invalid JSON at line %d column %d: %s", e.line, e.column, e.text);
		return;
	}
	extract(h, j);
	json_decref(j);
	if (!h->problem && (!h->name || !h->distro))
		set_problem(h, "out of memory");
}

/*
 * Open path for reading only when it is a regular file: a device node named *.json is never
 * opened (opening one can have effects: a tape rewinds, a modem hangs up), a FIFO never waits.
 * O_PATH opens nothing; its fstat decides, and the read fd comes from reopening that very
 * inode through /proc/self/fd, so a rename in between cannot swap in a device. Without /proc,
 * a non-blocking open whose inode must be the one just judged. fd, -ENOTSUP (not a regular
 * file) or -errno.
 */
static int open_regular(const char *path, struct stat *st)
{
	_cleanup_close_ int pfd = open(path, O_PATH | O_CLOEXEC);
	struct stat again;
	char proc[64];
	int fd;

	if (pfd < 0 || fstat(pfd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode))
		return -ENOTSUP;
	sfmt(proc, "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &again) < 0 || again.st_dev != st->st_dev || again.st_ino != st->st_ino) {
		close(fd);
		return -ESTALE;	/* replaced while being opened */
	}
	return fd;
}

/* Read and parse one file within the limits; every failure becomes the host's problem. */
static void load_one(struct host_rec *h)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t n = 0;

	if (h->problem)
		return;
	fd = open_regular(h->file, &st);
	if (fd == -ENOTSUP) {
		set_problem(h, "not a regular file");
		return;
	}
	if (fd < 0) {
		errno = -fd;
		set_problem(h, "cannot open: %m");	/* %m: strerror is not thread-safe */
		return;
	}
	h->has_inode = true;
	h->dev = st.st_dev;
	h->ino = st.st_ino;
	if (st.st_size > FLEET_FILE_MAX) {
		set_problem(h, "too large (%lld bytes; the limit is %u MiB)", (long long)st.st_size,
			    FLEET_FILE_MAX >> 20);
		return;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		set_problem(h, "out of memory");
		return;
	}
	/* Read one byte past the size fstat gave: a file that grew meanwhile is cut, then rejected. */
	while (len <= (size_t)st.st_size &&
	       (n = read(fd, buf + len, (size_t)st.st_size + 1 - len)) > 0)
		len += (size_t)n;
	if (n < 0) {
		set_problem(h, "cannot read: %m");
		return;
	}
	if (len > (size_t)st.st_size) {
		set_problem(h, "changed while being read");
		return;
	}
	parse_report(h, buf, len);
}

struct pool {
	struct fleet *f;
	atomic_uint next;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	unsigned i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->f->n_host)
		load_one(&p->f->host[i]);
	return NULL;
}

static void load_all(struct fleet *f)
{
	struct pool p = { .f = f };
	pthread_t tid[4];
	pthread_attr_t attr;
	unsigned n = f->opt.threads;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (!n)
		n = cpus > 0 ? (unsigned)cpus : 1;
	if (n > ARRAY_SIZE(tid))
		n = ARRAY_SIZE(tid);
	if (f->n_host < 64)
		n = 1;
	/* jansson seeds its hash on first use; do it before the threads race for it. */
	json_object_seed(0);
	pthread_attr_init(&attr);
	/*
	 * jansson recurses up to JSON_PARSER_MAX_DEPTH (2048) deep to parse, and again to free:
	 * about 200 KiB. Every parse runs on a thread with a stack of known size, never on the
	 * main thread, whose stack is whatever `ulimit -s` left (128 KiB crashed at depth 2000).
	 */
	pthread_attr_setstacksize(&attr, 8u << 20);
	for (unsigned i = 0; i < n; i++)
		if (pthread_create(&tid[i], &attr, worker, &p) != 0)
			n = i;
	if (!n)
		worker(&p);	/* no thread at all: better the main stack than no merge */
	for (unsigned i = 0; i < n; i++)
		pthread_join(tid[i], NULL);
	pthread_attr_destroy(&attr);
}

static int add_file(struct fleet *f, unsigned *cap, char *path, const char *problem)
{
	struct host_rec *h;

	if (f->n_host == *cap) {
		unsigned c = *cap ? *cap * 2 : 256;

		h = realloc(f->host, c * sizeof(*h));
		if (!h) {
			free(path);
			return -ENOMEM;
		}
		f->host = h;
		*cap = c;
	}
	h = &f->host[f->n_host++];
	memset(h, 0, sizeof(*h));
	h->file = path;
	if (problem)
		set_problem(h, "%s", problem);
	return 0;
}

static int ends_with_json(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && streq(name + n - 5, ".json");
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct host_rec *)a)->file, ((const struct host_rec *)b)->file);
}

/* Directories are read non-recursively: every *.json that is not hidden. */
static int gather(struct fleet *f, char *const paths[], unsigned n)
{
	unsigned cap = 0;
	int r;

	for (unsigned i = 0; i < n; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;
		size_t plen;

		if (stat(paths[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
			char *p = strdup(paths[i]);

			if (!p)
				return -ENOMEM;
			r = add_file(f, &cap, p, NULL);
			if (r < 0)
				return r;
			continue;
		}
		d = opendir(paths[i]);
		if (!d) {
			char *p = strdup(paths[i]);
			char why[128];

			sfmt(why, "cannot read directory: %s", strerror(errno));
			if (!p || add_file(f, &cap, p, why) < 0)
				return -ENOMEM;
			continue;
		}
		plen = strlen(paths[i]);
		while (plen > 1 && paths[i][plen - 1] == '/')
			plen--;
		while ((de = readdir(d))) {
			char *p;

			if (de->d_name[0] == '.' || !ends_with_json(de->d_name) || de->d_type == DT_DIR)
				continue;
			if (asprintf(&p, "%.*s/%s", (int)plen, paths[i], de->d_name) < 0 ||
			    add_file(f, &cap, p, NULL) < 0) {
				closedir(d);
				return -ENOMEM;
			}
		}
		closedir(d);
	}
	if (f->n_host)
		qsort(f->host, f->n_host, sizeof(*f->host), cmp_file);
	return 0;
}

static const struct fleet *sort_fleet;	/* qsort has no context argument; single-threaded here */

static int cmp_host_name(const void *a, const void *b)
{
	const struct host_rec *x = &sort_fleet->host[*(const uint32_t *)a];
	const struct host_rec *y = &sort_fleet->host[*(const uint32_t *)b];
	int c = strcmp(x->name ?: "", y->name ?: "");

	return c ?: strcmp(x->file, y->file);
}

/* Several reports for one host name: the newest counts, the others are problems. */
static int dedupe(struct fleet *f, const uint32_t *order, unsigned n)
{
	struct host_rec *keep = NULL;

	for (unsigned i = 0; i < n; i++) {
		struct host_rec *h = &f->host[order[i]], *old;

		if (!keep || !streq(keep->name, h->name)) {
			keep = h;
			continue;
		}
		old = keep->generated_at > h->generated_at ? h : keep;
		if (old == keep)
			keep = h;
		set_problem(old, "superseded by %s (a newer report for host %s)", keep->file, keep->name);
		if (!old->problem)
			return -ENOMEM;
	}
	return 0;
}

static int tally(struct table *t, const char *key, struct idlist *(*which)(struct tally *), uint32_t id)
{
	struct tally *s = table_get(t, key);

	return s ? idlist_add(which(s), id) : -ENOMEM;
}

static struct idlist *fail_list(struct tally *t)
{
	return &t->fail;
}

static struct idlist *warn_list(struct tally *t)
{
	return &t->warn;
}

static int cmp_inode(const void *a, const void *b)
{
	const struct host_rec *x = &sort_fleet->host[*(const uint32_t *)a];
	const struct host_rec *y = &sort_fleet->host[*(const uint32_t *)b];

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return strcmp(x->file, y->file);
}

/*
 * One file reached twice (named and inside a directory given too, `DIR DIR/`, a hard link or
 * a symlink) is one report: the first name in file order is kept, the others are left out of
 * every count and list, so a host never supersedes itself.
 */
static int same_files(struct fleet *f)
{
	_cleanup_free_ uint32_t *order = malloc((f->n_host + 1) * sizeof(*order));
	unsigned n = 0;

	if (!order)
		return -ENOMEM;
	for (unsigned i = 0; i < f->n_host; i++)
		if (f->host[i].has_inode)
			order[n++] = i;
	sort_fleet = f;
	qsort(order, n, sizeof(*order), cmp_inode);
	for (unsigned k = 1; k < n; k++) {
		struct host_rec *a = &f->host[order[k - 1]], *b = &f->host[order[k]];

		if (a->dev == b->dev && a->ino == b->ino) {
			b->same_file = true;
			f->n_files--;
		}
	}
	return 0;
}

/* A report from the future (a wrong clock, or forged) would supersede the host's real reports
 * for ever and never go stale: beyond FLEET_CLOCK_SKEW after --now it is refused. */
static void future_report(struct fleet *f, struct host_rec *h)
{
	struct tm tm;
	char when[32] = "?";

	if (h->problem || !h->has_time || h->generated_at <= f->opt.now + FLEET_CLOCK_SKEW)
		return;
	if (gmtime_r(&h->generated_at, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	set_problem(h, "generated_at %s is in the future: %lld s after now, more than the %d s "
		    "of clock skew allowed", when, (long long)(h->generated_at - f->opt.now),
		    FLEET_CLOCK_SKEW);
}

static int aggregate(struct fleet *f)
{
	_cleanup_free_ uint32_t *order = malloc((f->n_host + 1) * sizeof(*order));
	unsigned n = 0;
	int r;

	if (!order)
		return -ENOMEM;
	r = same_files(f);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < f->n_host; i++) {
		if (f->host[i].same_file)
			continue;
		future_report(f, &f->host[i]);
		if (!f->host[i].problem)
			order[n++] = i;
	}
	sort_fleet = f;
	qsort(order, n, sizeof(*order), cmp_host_name);
	r = dedupe(f, order, n);
	if (r < 0)
		return r;
	/* Everything below walks hosts in name order, so every list comes out sorted. */
	for (unsigned k = 0; k < n; k++) {
		uint32_t i = order[k];
		struct host_rec *h = &f->host[i];

		if (h->problem)
			continue;
		f->n_ok++;
		if ((r = idlist_add(&f->by_verdict[h->verdict], i)) < 0)
			return r;
		if (!h->has_time || f->opt.now - h->generated_at > f->opt.stale_after) {
			h->stale = true;
			f->n_stale++;
			if ((r = idlist_add(&f->stale, i)) < 0)
				return r;
		}
		for (unsigned c = 0; c < h->n_fail; c++)
			if ((r = tally(&f->checks, h->fail[c], fail_list, i)) < 0)
				return r;
		for (unsigned c = 0; c < h->n_warn; c++)
			if ((r = tally(&f->checks, h->warn[c], warn_list, i)) < 0)
				return r;
		if ((r = tally(&f->distro, h->distro, fail_list, i)) < 0 ||
		    (r = tally(&f->kernel, h->kernel, fail_list, i)) < 0 ||
		    (r = tally(&f->cpu, h->cpu, fail_list, i)) < 0)
			return r;
	}
	for (unsigned i = 0; i < f->n_host; i++)
		if (f->host[i].problem && !f->host[i].same_file) {
			f->n_problem++;
			if ((r = idlist_add(&f->problems, i)) < 0)
				return r;
		}
	return 0;
}

int fleet_load(struct fleet **out, char *const paths[], unsigned n, const struct fleet_options *o)
{
	struct fleet *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->opt = *o;
	r = gather(f, paths, n);
	if (r == 0) {
		f->n_files = f->n_host;
		load_all(f);
		r = aggregate(f);
	}
	if (r < 0) {
		fleet_free(f);
		return r;
	}
	*out = f;
	return 0;
}

int fleet_load_buffer(struct fleet **out, const char *name, const char *buf, size_t len,
		      const struct fleet_options *o)
{
	struct fleet *f = calloc(1, sizeof(*f));
	unsigned cap = 0;
	char *path = strdup(name);
	int r;

	if (!f || !path) {
		free(f);
		free(path);
		return -ENOMEM;
	}
	f->opt = *o;
	r = add_file(f, &cap, path, NULL);
	if (r == 0) {
		f->n_files = f->n_host;
		parse_report(&f->host[0], buf, len);
		r = aggregate(f);
	}
	if (r < 0) {
		fleet_free(f);
		return r;
	}
	*out = f;
	return 0;
}

void fleet_free(struct fleet *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < f->n_host; i++) {
		struct host_rec *h = &f->host[i];

		free(h->file);
		free(h->name);
		free(h->problem);
		free(h->distro);
		free(h->kernel);
		free(h->cpu);
		for (unsigned c = 0; c < h->n_fail; c++)
			free(h->fail[c]);
		for (unsigned c = 0; c < h->n_warn; c++)
			free(h->warn[c]);
		free(h->fail);
		free(h->warn);
	}
	free(f->host);
	for (unsigned v = 0; v < ARRAY_SIZE(f->by_verdict); v++)
		free(f->by_verdict[v].v);
	free(f->stale.v);
	free(f->problems.v);
	table_free(&f->checks);
	table_free(&f->distro);
	table_free(&f->kernel);
	table_free(&f->cpu);
	free(f);
}

int fleet_exit_code(const struct fleet *f)
{
	int code = 0;

	if (!f->n_ok)
		return 3;
	if (f->by_verdict[VERDICT_NOT_READY].n)
		code = 2;
	else if (f->by_verdict[VERDICT_DEGRADED].n || f->by_verdict[VERDICT_UNKNOWN].n ||
		 f->n_problem || f->n_stale)
		code = 1;
	return code;
}

/* Tallies in output order: most hosts first, then by key. */
static int cmp_tally(const void *a, const void *b)
{
	const struct tally *x = *(struct tally *const *)a, *y = *(struct tally *const *)b;

	if (x->fail.n != y->fail.n)
		return x->fail.n < y->fail.n ? 1 : -1;
	if (x->warn.n != y->warn.n)
		return x->warn.n < y->warn.n ? 1 : -1;
	return strcmp(x->key, y->key);
}

static int cmp_tally_warn(const void *a, const void *b)
{
	const struct tally *x = *(struct tally *const *)a, *y = *(struct tally *const *)b;

	if (x->warn.n != y->warn.n)
		return x->warn.n < y->warn.n ? 1 : -1;
	return strcmp(x->key, y->key);
}

static struct tally **sorted_by(const struct table *t, int (*cmp)(const void *, const void *))
{
	struct tally **v = malloc((t->n + 1) * sizeof(*v));
	size_t n = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slot[i].key)
			v[n++] = &t->slot[i];
	qsort(v, n, sizeof(*v), cmp);
	return v;
}

static struct tally **sorted(const struct table *t)
{
	return sorted_by(t, cmp_tally);
}

/* Text and CSV: control characters (C0, DEL, C1) and bytes that are not UTF-8 from a hostile
 * report never reach the terminal: str_sanitize writes them as \xNN. At most max bytes of s. */
static void safe(FILE *out, const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	_cleanup_free_ char *part = strndup(s, n);
	_cleanup_free_ char *clean = part ? str_sanitize(part, STR_TEXT) : NULL;

	fputs(clean ? clean : "?", out);
	if (s[n])
		fputs("...", out);
}

/* Names until the line has about FLEET_NAMES_WIDTH characters of them, then "+N more". */
static void text_names(FILE *out, const struct fleet *f, const struct idlist *l)
{
	size_t used = 0;
	unsigned i;

	for (i = 0; i < l->n; i++) {
		const char *name = f->host[l->v[i]].name;
		size_t len = strlen(name) < 64 ? strlen(name) : 64 + 3;

		if (!f->opt.all_names && i && used + len + 2 > FLEET_NAMES_WIDTH)
			break;
		fputs(i ? ", " : "", out);
		safe(out, name, 64);
		used += len + 2;
	}
	if (i < l->n)
		fprintf(out, ", ... (+%u more)", l->n - i);
}

static void text_time(char *buf, size_t size, const struct host_rec *h, time_t now)
{
	char t[32];

	if (!h->has_time) {
		strtcpy(buf, "no generated_at (schema 1.0 report)", size);
		return;
	}
	report_time_rfc3339(h->generated_at, t, sizeof(t));
	snprintf(buf, size, "generated %s, %lldd %lldh old", t, (long long)(now - h->generated_at) / 86400,
		 (long long)(now - h->generated_at) % 86400 / 3600);
}

static void text_mix(FILE *out, const char *title, const struct table *t)
{
	_cleanup_free_ struct tally **v = sorted(t);

	fprintf(out, "\n%s (%zu):\n", title, t->n);
	for (size_t i = 0; v && i < t->n; i++) {
		fprintf(out, "  %6u  ", v[i]->fail.n);
		safe(out, v[i]->key, 100);
		fputc('\n', out);
	}
}

static void text_checks(FILE *out, const struct fleet *f, bool failing)
{
	_cleanup_free_ struct tally **v = sorted_by(&f->checks, failing ? cmp_tally : cmp_tally_warn);
	unsigned n = 0;

	if (!v)
		return;
	for (size_t i = 0; i < f->checks.n; i++) {
		const struct idlist *l = failing ? &v[i]->fail : &v[i]->warn;

		if (!l->n)
			continue;
		if (!n++)
			fprintf(out, "\n%s checks (hosts):\n", failing ? "Failing" : "Warning");
		fputs("  ", out);
		safe(out, v[i]->key, 40);
		fprintf(out, "%*s %6u  ", (int)(24 - (strlen(v[i]->key) < 24 ? strlen(v[i]->key) : 24)), "",
			l->n);
		text_names(out, f, l);
		fputc('\n', out);
	}
}

/* The largest unit that divides it: 604800 → "1w", 90 → "90s". */
static const char *duration(char *buf, size_t size, int64_t s)
{
	static const struct { char unit; int64_t seconds; } units[] = {
		{ 'w', 7 * 86400 }, { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (s && s % units[i].seconds == 0) {
			snprintf(buf, size, "%lld%c", (long long)(s / units[i].seconds), units[i].unit);
			return buf;
		}
	snprintf(buf, size, "%llds", (long long)s);
	return buf;
}

static int render_text(FILE *out, const struct fleet *f)
{
	char now[32], buf[96];
	report_time_rfc3339(f->opt.now, now, sizeof(now));
	fprintf(out, "Fleet: %u report files, %u hosts merged, %u unreadable or rejected, %u stale\n",
		f->n_files, f->n_ok, f->n_problem, f->n_stale);
	fprintf(out, "(a report is stale when older than %s at %s)\n", duration(buf, sizeof(buf), f->opt.stale_after),
		now);
	fputs("\nHosts by verdict:\n", out);
	for (int v = VERDICT_READY; v <= VERDICT_UNKNOWN; v++) {
		fprintf(out, "  %-10s %6u%s", verdict_name(v), f->by_verdict[v].n, f->by_verdict[v].n ? "  " : "");
		text_names(out, f, &f->by_verdict[v]);
		fputc('\n', out);
	}
	text_checks(out, f, true);
	text_checks(out, f, false);
	if (f->stale.n) {
		unsigned shown = f->opt.all_names || f->stale.n <= 20 ? f->stale.n : 20;

		fprintf(out, "\nStale reports (%u):\n", f->stale.n);
		for (unsigned i = 0; i < shown; i++) {
			const struct host_rec *h = &f->host[f->stale.v[i]];

			fputs("  ", out);
			safe(out, h->name, 64);
			text_time(buf, sizeof(buf), h, f->opt.now);
			fprintf(out, ": %s: ", buf);
			safe(out, h->file, 200);
			fputc('\n', out);
		}
		if (shown < f->stale.n)
			fprintf(out, "  ... (+%u more; -v lists all)\n", f->stale.n - shown);
	}
	if (f->problems.n) {
		/* Every bad file is named, however many: each one is something to go and fix. */
		fprintf(out, "\nUnreadable or rejected reports (%u):\n", f->problems.n);
		for (unsigned i = 0; i < f->problems.n; i++) {
			const struct host_rec *h = &f->host[f->problems.v[i]];

			fputs("  ", out);
			safe(out, h->file, 200);
			fputs(": ", out);
			safe(out, h->problem, 300);
			fputc('\n', out);
		}
	}
	text_mix(out, "Distributions", &f->distro);
	text_mix(out, "Kernels", &f->kernel);
	text_mix(out, "CPUs", &f->cpu);
	return ferror(out) ? -EIO : 0;
}

/* File names come from readdir and need not be UTF-8; host strings are (jansson checked them). */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j)
		return j;
	copy = strdup(s);
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *json_names(const struct fleet *f, const struct idlist *l)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && i < l->n; i++)
		json_array_append_new(a, jstr(f->host[l->v[i]].name));
	return a;
}

static json_t *json_mix(const struct table *t)
{
	_cleanup_free_ struct tally **v = sorted(t);
	json_t *a = json_array();

	for (size_t i = 0; a && v && i < t->n; i++)
		json_array_append_new(a, json_pack("{s:o, s:i}", "value", jstr(v[i]->key), "hosts",
						   (int)v[i]->fail.n));
	return a;
}

static json_t *json_idlist(char **v, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && i < n; i++)
		json_array_append_new(a, jstr(v[i]));
	return a;
}

static int render_json(FILE *out, const struct fleet *f)
{
	_cleanup_free_ struct tally **checks = sorted(&f->checks);
	json_auto_t *root = json_object();
	json_t *verdicts = json_object(), *jc = json_array(), *stale = json_array(), *problems = json_array(),
	       *hosts = json_array();
	char t[32];

	if (!checks || !root)
		return -ENOMEM;
	json_object_set_new(root, "kind", json_string("fleet"));
	json_object_set_new(root, "schema_version", json_string(FLEET_SCHEMA_VERSION));
	json_object_set_new(root, "tool", json_pack("{s:s, s:s}", "name", "virt-doctor", "version",
						     VIRT_DOCTOR_VERSION));
	report_time_rfc3339(f->opt.now, t, sizeof(t));
	json_object_set_new(root, "now", json_string(t));
	json_object_set_new(root, "stale_after_seconds", json_integer(f->opt.stale_after));
	json_object_set_new(root, "totals", json_pack("{s:i, s:i, s:i, s:i}", "files", (int)f->n_files,
						       "hosts", (int)f->n_ok, "problems", (int)f->n_problem,
						       "stale", (int)f->n_stale));
	for (int v = VERDICT_READY; v <= VERDICT_UNKNOWN; v++)
		json_object_set_new(verdicts, verdict_name(v),
				    json_pack("{s:i, s:o}", "count", (int)f->by_verdict[v].n, "hosts",
					      json_names(f, &f->by_verdict[v])));
	json_object_set_new(root, "verdicts", verdicts);
	for (size_t i = 0; i < f->checks.n; i++)
		json_array_append_new(jc, json_pack("{s:o, s:i, s:i, s:o, s:o}", "id", jstr(checks[i]->key),
						    "fail", (int)checks[i]->fail.n, "warn",
						    (int)checks[i]->warn.n, "fail_hosts",
						    json_names(f, &checks[i]->fail), "warn_hosts",
						    json_names(f, &checks[i]->warn)));
	json_object_set_new(root, "checks", jc);
	for (unsigned i = 0; i < f->stale.n; i++) {
		const struct host_rec *h = &f->host[f->stale.v[i]];
		json_t *s = json_pack("{s:o, s:o}", "host", jstr(h->name), "file", jstr(h->file));

		if (h->has_time) {
			report_time_rfc3339(h->generated_at, t, sizeof(t));
			json_object_set_new(s, "generated_at", json_string(t));
			json_object_set_new(s, "age_seconds", json_integer(f->opt.now - h->generated_at));
		} else
			json_object_set_new(s, "generated_at", json_null());
		json_array_append_new(stale, s);
	}
	json_object_set_new(root, "stale", stale);
	for (unsigned i = 0; i < f->problems.n; i++) {
		const struct host_rec *h = &f->host[f->problems.v[i]];

		json_array_append_new(problems, json_pack("{s:o, s:o}", "file", jstr(h->file), "reason",
							  jstr(h->problem ?: "?")));
	}
	json_object_set_new(root, "problems", problems);
	json_object_set_new(root, "mix", json_pack("{s:o, s:o, s:o}", "distro", json_mix(&f->distro),
						    "kernel", json_mix(&f->kernel), "cpu", json_mix(&f->cpu)));
	for (int v = VERDICT_READY; v <= VERDICT_UNKNOWN; v++)
		for (unsigned i = 0; i < f->by_verdict[v].n; i++) {
			const struct host_rec *h = &f->host[f->by_verdict[v].v[i]];
			json_t *o = json_pack("{s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:b}", "host",
					      jstr(h->name), "file", jstr(h->file), "verdict",
					      verdict_name(h->verdict), "distro", jstr(h->distro), "kernel",
					      jstr(h->kernel), "cpu", jstr(h->cpu), "fail",
					      json_idlist(h->fail, h->n_fail), "warn",
					      json_idlist(h->warn, h->n_warn), "stale", h->stale);

			if (h->has_time) {
				report_time_rfc3339(h->generated_at, t, sizeof(t));
				json_object_set_new(o, "generated_at", json_string(t));
			} else
				json_object_set_new(o, "generated_at", json_null());
			json_array_append_new(hosts, o);
		}
	json_object_set_new(root, "hosts", hosts);
	if (json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		return -EIO;
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

/*
 * RFC 4180: quote every field that needs it; control characters become '?'. A value from a
 * report that starts like a formula (= + - @) gets a leading ' so a spreadsheet shows it as text.
 */
static void csv_field(FILE *out, const char *s, bool last)
{
	if (strchr("=+-@", s[0]) && s[0]) {
		_cleanup_free_ char *t = NULL;

		if (asprintf(&t, "'%s", s) >= 0) {
			csv_field(out, t, last);
			return;
		}
	}
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', out);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', out);
			fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
		}
		fputc('"', out);
	} else
		safe(out, s, SIZE_MAX);
	fputs(last ? "\r\n" : ",", out);
}

static void csv_list(FILE *out, char **v, unsigned n)
{
	size_t len = 1;
	_cleanup_free_ char *s = NULL;

	for (unsigned i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	s = calloc(1, len);
	for (unsigned i = 0; s && i < n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, v[i]);
	}
	csv_field(out, s ?: "", false);
}

static int render_csv(FILE *out, const struct fleet *f)
{
	fputs("host,verdict,failing_checks,warning_checks,distro,kernel,cpu,report_file,problem\r\n", out);
	for (int v = VERDICT_READY; v <= VERDICT_UNKNOWN; v++)
		for (unsigned i = 0; i < f->by_verdict[v].n; i++) {
			const struct host_rec *h = &f->host[f->by_verdict[v].v[i]];
			char why[96] = "";

			csv_field(out, h->name, false);
			csv_field(out, verdict_name(h->verdict), false);
			csv_list(out, h->fail, h->n_fail);
			csv_list(out, h->warn, h->n_warn);
			csv_field(out, h->distro, false);
			csv_field(out, h->kernel, false);
			csv_field(out, h->cpu, false);
			csv_field(out, h->file, false);
			if (h->stale) {
				strcpy(why, "stale: ");
				text_time(why + 7, sizeof(why) - 7, h, f->opt.now);
			}
			csv_field(out, why, true);
		}
	for (unsigned i = 0; i < f->problems.n; i++) {
		const struct host_rec *h = &f->host[f->problems.v[i]];

		csv_field(out, h->name ?: "", false);
		for (int k = 0; k < 6; k++)
			csv_field(out, "", false);
		csv_field(out, h->file, false);
		csv_field(out, h->problem ?: "?", true);
	}
	return ferror(out) ? -EIO : 0;
}

int fleet_render(FILE *out, const struct fleet *f, enum fleet_format fmt)
{
	switch (fmt) {
	case FLEET_JSON:
		return render_json(out, f);
	case FLEET_CSV:
		return render_csv(out, f);
	default:
		return render_text(out, f);
	}
}
