// SPDX-License-Identifier: GPL-2.0-or-later
/* iommu.groups: is the IOMMU on, which PCI devices sit in which group, and can any be passed through. */
#include <errno.h>
#include <pci/pci.h>
#include <setjmp.h>
#include <sys/mman.h>

#include "cache.h"
#include "checks/check.h"
#include "checks/kvm.h"
#include "checks/sysfs_value.h"
#include "util.h"

/* Firmware tables that describe an IOMMU: the hardware is there and switched on in setup. */
static const struct {
	const char *path;
	const char *vendor;	/* what the user calls it in firmware setup */
	const char *cmdline_on;	/* what turns it on in the kernel, "" if on by default */
} acpi_tables[] = {
	{ "/sys/firmware/acpi/tables/DMAR", "Intel VT-d", "intel_iommu=on" },
	{ "/sys/firmware/acpi/tables/IVRS", "AMD-Vi", "" },
	{ "/sys/firmware/acpi/tables/IORT", "Arm SMMU", "" },
};

enum cmdline_effect { CL_ON, CL_OFF, CL_PT, CL_INFO };

/* Kernel parameters that change the IOMMU (Documentation/admin-guide/kernel-parameters.txt).
 * value NULL matches any value; the first matching row wins. */
static const struct {
	const char *key;
	const char *value;
	enum cmdline_effect effect;
	const char *meaning;
} cmdline_words[] = {
	{ "intel_iommu", "on", CL_ON, "turns Intel VT-d on" },
	{ "intel_iommu", "off", CL_OFF, "turns Intel VT-d off" },
	{ "intel_iommu", NULL, CL_INFO, "Intel VT-d option" },
	{ "amd_iommu", "off", CL_OFF, "turns AMD-Vi off" },
	{ "amd_iommu", NULL, CL_INFO, "AMD-Vi option" },
	{ "iommu", "off", CL_OFF, "turns the IOMMU off" },
	{ "iommu", "pt", CL_PT, "host devices bypass translation (passthrough mode), guests' devices still isolated" },
	{ "iommu", NULL, CL_INFO, "IOMMU option" },
	{ "iommu.passthrough", "1", CL_PT, "host devices bypass translation (passthrough mode)" },
	{ "iommu.passthrough", NULL, CL_INFO, "IOMMU DMA mode" },
	{ "iommu.strict", NULL, CL_INFO, "IOTLB invalidation mode" },
	{ "vfio-pci.ids", NULL, CL_INFO, "devices claimed by vfio-pci at boot" },
};

/* Device classes worth passing to a guest, and which functions of the same card go along:
 * a GPU's HDMI audio (and USB-C) functions, a multi-port NIC's other ports. */
static const struct {
	uint8_t base_class;
	const char *kind;
	uint16_t companions[3];	/* 16-bit classes of functions that travel with it */
} candidate_classes[] = {
	{ 0x03, "GPU", { 0x0403, 0x0c03, 0x0c80 } },
	{ 0x02, "NIC", { 0x0200, 0x0280 } },
};

/* Members of a group that never stop passthrough: PCI bridges and host bridges stay with the host. */
static bool is_bridge(uint16_t cls)
{
	return cls == 0x0600 || cls == 0x0604;
}

static const char *const vfio_modules[] = { "vfio", "vfio_pci", "vfio_iommu_type1" };

struct pci_fn {
	char bdf[16];
	unsigned dom, bus, dev, func;
	int group;		/* -1: none */
	uint16_t vendor, device, cls;
	bool named;
	char desc[240];		/* "VGA compatible controller: NVIDIA ... (rev a1)" */
	char driver[64];
};

struct scan {
	struct pci_fn *fn;
	unsigned n, cap;
	int *groups;
	unsigned n_groups, groups_cap;
	const struct host *h;
	int err;
};

static int add_fn(const char *name, void *data)
{
	struct scan *s = data;
	struct pci_fn *f;

	if (s->n == s->cap) {
		unsigned cap = s->cap ? 2 * s->cap : 32;
		struct pci_fn *p = reallocarray(s->fn, cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->fn = p;
		s->cap = cap;
	}
	f = &s->fn[s->n];
	memset(f, 0, sizeof(*f));
	if (sscanf(name, "%x:%x:%x.%u", &f->dom, &f->bus, &f->dev, &f->func) != 4 ||
	    f->dom > 0xffff || f->bus > 0xff || f->dev > 0x1f || f->func > 7)
		return 0;	/* not a device address: ignore it, as the kernel never makes one */
	sfmt(f->bdf, "%04x:%02x:%02x.%u", f->dom, f->bus, f->dev, f->func);
	f->group = -1;
	s->n++;
	return 0;
}

static int add_group(const char *name, void *data)
{
	struct scan *s = data;
	char *end;
	long g = strtol(name, &end, 10);

	if (*end || end == name || g < 0 || g > 1000000)
		return 0;
	if (s->n_groups == s->groups_cap) {
		unsigned cap = s->groups_cap ? 2 * s->groups_cap : 32;
		int *p = reallocarray(s->groups, cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->groups = p;
		s->groups_cap = cap;
	}
	s->groups[s->n_groups++] = (int)g;
	return 0;
}

struct group_member {
	struct scan *s;
	int group;
};

static int mark_member(const char *name, void *data)
{
	struct group_member *m = data;

	for (unsigned i = 0; i < m->s->n; i++)
		if (streq(m->s->fn[i].bdf, name))
			m->s->fn[i].group = m->group;
	return 0;
}

static int cmp_fn(const void *a, const void *b)
{
	const struct pci_fn *x = a, *y = b;

	return strcmp(x->bdf, y->bdf);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/*
 * libpci only turns numbers into names here. It used to read sysfs and pci.ids itself by
 * ROOT-prefixed paths, so under --root an absolute symlink led it out of the tree, a FIFO named
 * config or pci.ids blocked the check for ever and a device node there was opened. Now every
 * sysfs value comes through the host context (resolved inside the root, regular files only,
 * bounded) and libpci reads the name list from a private bounded copy (see pci_names_open).
 */
#define PCI_IDS_MAX (8u << 20)	/* the whole PCI ID Repository list is 1.3 MB */

/* libpci reports a fatal problem (pci.ids it cannot parse) by calling acc->error, which must
 * not return; its default prints and exits. We jump back out instead. */
static __thread jmp_buf *pci_escape;

static void __attribute__((noreturn, format(printf, 1, 2))) pci_fatal(char *msg, ...)
{
	(void)msg;
	if (pci_escape)
		longjmp(*pci_escape, 1);
	abort();
}

static void __attribute__((format(printf, 1, 2))) pci_quiet(char *msg, ...)
{
	(void)msg;	/* checks never print */
}

/* The pci.ids of the machine we judge: the root's own, never ours. */
static const char *const pci_ids_paths[] = { "/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids" };

/* udev's hwdb, compiled from the same pci.ids: libpci looks names up there when pci.ids has
 * no answer. Parsing all of pci.ids costs ~5 ms here, an hwdb lookup ~0.06 ms. */
static const char *const hwdb_paths[] = { "/etc/udev/hwdb.bin", "/usr/lib/udev/hwdb.bin" };

/*
 * libpci parses all of pci.ids (1.3 MB, ~5 ms here) on its first name lookup. Live and
 * without an hwdb, the names this host's functions got are kept in the probe cache, keyed by
 * pci.ids' identity, so a warm run never loads the list (cache.c: never under --root).
 */
struct name_cache {
	bool use, dirty;
	char key[CACHE_KEY_MAX];
	char *old;		/* the entry read: lines of name=<vendor:device:class>|<class>|<name> */
	char *new_lines;	/* names looked up in this run */
	size_t new_len;
	FILE *out;
};

struct pci_names {
	struct pci_access *acc;	/* NULL: numbers only */
	int ids_fd;		/* pci.ids for libpci: a memfd copy (live: the file itself), or -1 */
	const char *ids;	/* which pci.ids the copy is of */
	char from[200];		/* names_from */
	struct name_cache cache;
};

static void name_cache_open(const struct check_ctx *ctx, const char *ids, struct name_cache *c)
{
	char why[160];

	memset(c, 0, sizeof(*c));
	if (!ids || !ctx->host->live || !cache_enabled(ctx->host, ctx->opt && ctx->opt->no_cache) ||
	    cache_key(ctx->host, ids, c->key, sizeof(c->key)) < 0)
		return;
	c->out = open_memstream(&c->new_lines, &c->new_len);
	if (!c->out)
		return;
	c->use = true;
	cache_load("pci-names", c->key, &c->old, why, sizeof(why));
}

static bool name_cache_find(const struct name_cache *c, const char *ids, char *cls, size_t csize,
			    char *name, size_t nsize)
{
	size_t l = strlen(ids);

	for (const char *p = c->use ? c->old : NULL; p && *p;) {
		const char *eol = strchrnul(p, '\n');

		if (startswith(p, "name=") && !strncmp(p + 5, ids, l) && p[5 + l] == '|') {
			const char *cl = p + 6 + l, *bar = memchr(cl, '|', (size_t)(eol - cl));

			if (!bar)
				return false;
			snprintf(cls, csize, "%.*s", (int)(bar - cl), cl);
			snprintf(name, nsize, "%.*s", (int)(eol - bar - 1), bar + 1);
			return true;
		}
		p = *eol ? eol + 1 : eol;
	}
	return false;
}

/* Control bytes become blanks and '|' separates the parts, so neither may be in a name. */
static void name_cache_put(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f || *s == '|' ? ' ' : *s, out);
}

static void name_cache_add(struct name_cache *c, const char *ids, const char *cls, const char *name)
{
	if (!c->use)
		return;
	fprintf(c->out, "name=%s|", ids);
	name_cache_put(c->out, cls);
	fputc('|', c->out);
	name_cache_put(c->out, name);
	fputc('\n', c->out);
	c->dirty = true;
}

static void name_cache_close(struct name_cache *c)
{
	if (c->out && fclose(c->out) == 0 && c->dirty) {
		_cleanup_free_ char *all = NULL;

		if (asprintf(&all, "%s%s", c->old ? c->old : "", c->new_lines ? c->new_lines : "") >= 0 &&
		    strlen(all) < CACHE_ENTRY_MAX / 2)
			cache_store("pci-names", c->key, all);
	}
	free(c->old);
	free(c->new_lines);
	memset(c, 0, sizeof(*c));
}

/* Copy a regular file of the root (opened inside it, never a FIFO or device) into a memfd,
 * refusing more than PCI_IDS_MAX bytes and gzip data (a small .gz can inflate to gigabytes).
 * Live, the host's own file is the subject and is handed over as it is (no copy: ~0.8 ms). */
static int copy_to_memfd(const struct host *h, const char *path)
{
	_cleanup_close_ int in = host_open_regular(h, path), out = -1;
	char buf[65536];
	size_t total = 0;
	struct stat st;
	ssize_t n;

	if (in < 0)
		return in;
	if (fstat(in, &st) < 0)
		return -errno;
	if (st.st_size > (off_t)PCI_IDS_MAX)
		return -EFBIG;
	if (h->live)
		return TAKE_FD(in);
	out = memfd_create("virt-doctor-pci.ids", MFD_CLOEXEC);
	if (out < 0)
		return -errno;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (total == 0 && n >= 2 && (unsigned char)buf[0] == 0x1f && (unsigned char)buf[1] == 0x8b)
			return -EMEDIUMTYPE;
		total += (size_t)n;
		if (total > PCI_IDS_MAX)	/* grew since the fstat */
			return -EFBIG;
		if (write(out, buf, (size_t)n) != n)
			return -EIO;
	}
	return TAKE_FD(out);
}

static void pci_names_close(struct pci_names *n)
{
	name_cache_close(&n->cache);
	if (n->acc)
		pci_cleanup(n->acc);
	n->acc = NULL;
	if (n->ids_fd >= 0)
		close(n->ids_fd);
	n->ids_fd = -1;
}

static int pci_names_open(const struct check_ctx *ctx, struct pci_names *n)
{
	const struct host *h = ctx->host;
	char proc[64];
	const char *ids = NULL;
	bool hwdb = false;
	int err = 0;

	n->ids_fd = -1;
	n->acc = pci_alloc();
	if (!n->acc)
		return -ENOMEM;
	n->acc->error = pci_fatal;
	n->acc->warning = pci_quiet;
	n->acc->debug = pci_quiet;
	/* libpci's default PCI_LOOKUP_CACHE reads (and may write) ~/.pciids-cache, a file of
	 * the user running us, not of the machine judged. */
	n->acc->id_lookup_mode &= ~PCI_LOOKUP_CACHE;
	/* Live with an hwdb, libpci answers from it alone: pci.ids is pointed at nothing so it
	 * never parses the big file. Offline the hwdb is this machine's, not the root's. */
	for (unsigned i = 0; h->live && i < ARRAY_SIZE(hwdb_paths) && !hwdb; i++)
		hwdb = access(hwdb_paths[i], R_OK) == 0;
	if (hwdb) {
		pci_set_name_list_path(n->acc, (char *)"/nonexistent/pci.ids", 0);
		sfmt(n->from, "udev hwdb");
		return 0;
	}
	/* No hwdb, so libpci must never try it: libpci 3.9 calls udev_new() on every lookup
	 * whose udev_hwdb_new() fails and loses the previous handle (one leak per name). */
	pci_set_param(n->acc, (char *)"hwdb.disable", (char *)"1");
	n->acc->id_lookup_mode |= PCI_LOOKUP_NO_HWDB;
	for (unsigned i = 0; i < ARRAY_SIZE(pci_ids_paths) && n->ids_fd < 0; i++) {
		int fd = copy_to_memfd(h, pci_ids_paths[i]);

		if (fd >= 0) {
			n->ids_fd = fd;
			ids = pci_ids_paths[i];
		} else if (fd != -ENOENT && !err) {
			err = fd;
			ids = pci_ids_paths[i];
		}
	}
	if (n->ids_fd >= 0) {
		/* libpci opens a path: the memfd's, which reopens exactly our copy. */
		char *path;

		sfmt(proc, "/proc/self/fd/%d", n->ids_fd);
		if (access(proc, R_OK) == 0 && (path = strdup(proc))) {
			pci_set_name_list_path(n->acc, path, 1);
			n->ids = ids;
			sfmt(n->from, "%s", ids);
			name_cache_open(ctx, ids, &n->cache);
			return 0;
		}
		sfmt(n->from, "none (numeric ids; %s: no /proc to hand libpci its copy)", ids);
	} else if (err) {
		sfmt(n->from, "none (numeric ids; %s: %s)", ids,
		     err == -EMEDIUMTYPE ? "compressed, not read offline" : host_strerror(err));
	} else {
		sfmt(n->from, "none (numeric ids)");
	}
	pci_names_close(n);
	return 0;
}

/* What libpci itself prints for numbers it has no name for. */
static void numeric_desc(struct pci_fn *f, char *cls, size_t cls_size, char *name, size_t name_size)
{
	snprintf(cls, cls_size, "Class %04x", f->cls);
	snprintf(name, name_size, "Device %04x:%04x", f->vendor, f->device);
}

static void pci_name(struct pci_names *n, struct pci_fn *f, char *cls, size_t cls_size,
		     char *name, size_t name_size)
{
	char ids[24];
	jmp_buf jb;

	if (!n->acc) {
		numeric_desc(f, cls, cls_size, name, name_size);
		return;
	}
	sfmt(ids, "%04x:%04x:%04x", f->vendor, f->device, f->cls);
	if (name_cache_find(&n->cache, ids, cls, cls_size, name, name_size))
		return;
	if (setjmp(jb)) {
		/* A pci.ids libpci cannot parse: it closed the file before reporting, so the
		 * handle can go; numbers from here on. */
		pci_escape = NULL;
		pci_names_close(n);
		snprintf(n->from, sizeof(n->from), "none (numeric ids; %s: libpci cannot parse it)",
			 n->ids ? n->ids : "pci.ids");
		numeric_desc(f, cls, cls_size, name, name_size);
		return;
	}
	pci_escape = &jb;
	pci_lookup_name(n->acc, cls, (int)cls_size, PCI_LOOKUP_CLASS, f->cls);
	pci_lookup_name(n->acc, name, (int)name_size, PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE,
			f->vendor, f->device);
	pci_escape = NULL;
	name_cache_add(&n->cache, ids, cls, name);
}

/* One sysfs number attribute of a function, e.g. vendor "0x10de". */
static int fn_attr(const struct host *h, const struct pci_fn *f, const char *attr, unsigned long max,
		   unsigned long *v)
{
	char path[96], line[32];
	int r;

	sfmt(path, "/sys/bus/pci/devices/%s/%s", f->bdf, attr);
	r = host_read_line(h, path, line, sizeof(line));
	return r < 0 ? r : sysfs_parse_hex(line, max, v);
}

/* The revision: sysfs's own attribute, else byte 8 of config space (what libpci reads). */
static int fn_revision(const struct host *h, const struct pci_fn *f)
{
	_cleanup_close_ int fd = -1;
	unsigned long v;
	unsigned char b;
	char path[96];

	if (fn_attr(h, f, "revision", 0xff, &v) == 0)
		return (int)v;
	sfmt(path, "/sys/bus/pci/devices/%s/config", f->bdf);
	fd = host_open_regular(h, path);
	if (fd < 0 || pread(fd, &b, 1, 8) != 1)
		return -1;
	return b;
}

/* Name one function: vendor, device and class from its sysfs attributes, the revision, the
 * bound driver (the basename of its driver link), the names through libpci. */
static int pci_describe(struct pci_names *n, const struct host *h, struct pci_fn *f)
{
	unsigned long vendor, device, cls;
	char name[128], clsname[96], path[96], link[256];
	int rev;

	if (fn_attr(h, f, "vendor", 0xffff, &vendor) < 0 || fn_attr(h, f, "device", 0xffff, &device) < 0 ||
	    fn_attr(h, f, "class", 0xffffff, &cls) < 0)
		return -ENOENT;
	f->vendor = (uint16_t)vendor;
	f->device = (uint16_t)device;
	f->cls = (uint16_t)(cls >> 8);
	rev = fn_revision(h, f);
	pci_name(n, f, clsname, sizeof(clsname), name, sizeof(name));
	if (rev > 0)
		sfmt(f->desc, "%s: %s (rev %02x)", clsname, name, (unsigned)rev);
	else
		sfmt(f->desc, "%s: %s", clsname, name);
	sfmt(path, "/sys/bus/pci/devices/%s/driver", f->bdf);
	if (host_readlink(h, path, link, sizeof(link)) == 0)
		scopy(f->driver, strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
	f->named = true;
	return 0;
}

static const char *candidate_kind(const struct pci_fn *f, unsigned *row)
{
	for (unsigned i = 0; i < ARRAY_SIZE(candidate_classes); i++)
		if (f->cls >> 8 == candidate_classes[i].base_class) {
			*row = i;
			return candidate_classes[i].kind;
		}
	return NULL;
}

static bool is_companion(unsigned row, const struct pci_fn *c, const struct pci_fn *o)
{
	if (o->dom != c->dom || o->bus != c->bus || o->dev != c->dev)
		return false;
	for (unsigned i = 0; i < ARRAY_SIZE(candidate_classes[row].companions); i++)
		if (candidate_classes[row].companions[i] && o->cls == candidate_classes[row].companions[i])
			return true;
	return false;
}

/* "alone", "with its own function(s) ...", or "shared with ...": what passing it would take. */
static bool describe_isolation(const struct scan *s, const struct pci_fn *c, unsigned row,
			       char *buf, size_t size)
{
	char own[128] = "", shared[160] = "";
	size_t lo = 0, ls = 0;
	unsigned n_shared = 0;

	if (c->group < 0) {
		snprintf(buf, size, "no IOMMU group");
		return false;
	}
	for (unsigned i = 0; i < s->n; i++) {
		const struct pci_fn *o = &s->fn[i];

		if (o == c || o->group != c->group || is_bridge(o->cls))
			continue;
		if (is_companion(row, c, o)) {
			if (lo < sizeof(own))
				lo += snprintf(own + lo, sizeof(own) - lo, "%s%s", lo ? ", " : "", o->bdf);
		} else {
			n_shared++;
			if (ls < sizeof(shared))
				ls += snprintf(shared + ls, sizeof(shared) - ls, "%s%s", ls ? ", " : "", o->bdf);
		}
	}
	if (n_shared)
		snprintf(buf, size, "group %d shared with %s: cannot be passed alone (no ACS isolation)",
			 c->group, shared);
	else if (own[0])
		snprintf(buf, size, "group %d with its own function(s) %s: pass them together",
			 c->group, own);
	else
		snprintf(buf, size, "alone in group %d", c->group);
	return n_shared > 0;
}

enum vfio_state { VFIO_ABSENT, VFIO_LOADED, VFIO_BUILTIN };

static enum vfio_state module_state(const struct host *h, const char *name)
{
	char path[96], state[16];

	sfmt(path, "/sys/module/%s/initstate", name);
	if (host_read_line(h, path, state, sizeof(state)) == 0)
		return streq(state, "live") ? VFIO_LOADED : VFIO_ABSENT;
	sfmt(path, "/sys/module/%s", name);
	/* Built-in code has a /sys/module directory (for its parameters) but no initstate. */
	return host_exists(h, path) ? VFIO_BUILTIN : VFIO_ABSENT;
}

static int list_names(const char *name, void *data)
{
	char *buf = data;
	size_t l = strlen(buf);

	snprintf(buf + l, 256 - l, "%s%s", l ? ", " : "", name);
	return 0;
}

/* Kernel option values are comma lists: intel_iommu=on,sm_on. */
static bool csv_has(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; *p; ) {
		const char *end = strchrnul(p, ',');

		if ((size_t)(end - p) == n && strncmp(p, word, n) == 0)
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

static void scan_free(struct scan *s)
{
	free(s->fn);
	free(s->groups);
}

/* What we know about the IOMMU before the groups: firmware, drivers, command line. */
struct iommu_facts {
	const char *vendor;		/* from the ACPI table, NULL if none */
	const char *cmdline_on;
	bool cmdline_off, cmdline_pt;
	char off_word[64];
	char words[256];		/* IOMMU words of the kernel command line */
};

static void gather_evidence(struct check_ctx *ctx, struct check_result *r, struct iommu_facts *fx)
{
	const struct host *h = ctx->host;
	_cleanup_free_ char *cmdline = NULL;
	char units[256] = "", line[320];

	detail_list_add(r, "evidence", NULL);
	for (unsigned i = 0; i < ARRAY_SIZE(acpi_tables); i++)
		if (host_exists(h, acpi_tables[i].path)) {
			if (!fx->vendor) {
				fx->vendor = acpi_tables[i].vendor;
				fx->cmdline_on = acpi_tables[i].cmdline_on;
			}
			sfmt(line, "ACPI table %s: %s described by firmware", strrchr(acpi_tables[i].path, '/') + 1,
			     acpi_tables[i].vendor);
			detail_list_add(r, "evidence", line);
		}
	if (host_list_dir(h, "/sys/class/iommu", list_names, units) == 0 && units[0]) {
		sfmt(line, "/sys/class/iommu: %s (IOMMU units the kernel drives)", units);
		detail_list_add(r, "evidence", line);
	}
	if (host_read(h, "/proc/cmdline", 64 << 10, &cmdline, NULL) == 0) {
		char *save = NULL;

		for (char *w = strtok_r(cmdline, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
			char *eq = strchr(w, '=');
			size_t kl = eq ? (size_t)(eq - w) : strlen(w);

			if (streq(w, "--"))
				break;	/* the rest belongs to init */
			for (unsigned i = 0; i < ARRAY_SIZE(cmdline_words); i++) {
				const char *key = cmdline_words[i].key, *val = cmdline_words[i].value;

				if (strlen(key) != kl || strncmp(w, key, kl) != 0)
					continue;
				if (val && (!eq || !csv_has(eq + 1, val)))
					continue;
				if (cmdline_words[i].effect == CL_OFF) {
					fx->cmdline_off = true;
					scopy(fx->off_word, w);
				}
				if (cmdline_words[i].effect == CL_PT)
					fx->cmdline_pt = true;
				sfmt(line, "kernel command line: %s (%s)", w, cmdline_words[i].meaning);
				detail_list_add(r, "evidence", line);
				size_t l = strlen(fx->words);
				snprintf(fx->words + l, sizeof(fx->words) - l, "%s%s", l ? " " : "", w);
				break;
			}
		}
	}
	detail_str(r, "cmdline", "%s", fx->words);
}

static void advise_disabled(struct check_ctx *ctx, struct check_result *r, const struct iommu_facts *fx)
{
	struct cpuinfo ci;
	bool guest = host_cpuinfo(ctx->host, &ci) == 0 && ci.hypervisor;

	if (fx->cmdline_off)
		result_advise(r, "The kernel command line turns it off (%s): remove that from "
			      "GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub, reboot.", fx->off_word);
	else if (guest && !fx->vendor)
		result_advise(r, "This host is itself a virtual machine and its hypervisor gives it no "
			      "virtual IOMMU (QEMU: q35 with -device intel-iommu). Passthrough from here "
			      "needs that, and a device passed into this VM first. Guests run fine without.");
	else if (fx->vendor && fx->cmdline_on && fx->cmdline_on[0])
		result_advise(r, "Firmware has %s on (ACPI table present) but the kernel did not enable it: "
			      "add %s to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub, reboot.",
			      fx->vendor, fx->cmdline_on);
	else if (fx->vendor)
		result_advise(r, "Firmware describes %s but the kernel made no IOMMU groups: check dmesg for "
			      "IOMMU errors and that the kernel is built with IOMMU support.", fx->vendor);
	else
		result_advise(r, "Turn on VT-d (Intel) or AMD-Vi/IOMMU (AMD) in the firmware setup; on Intel "
			      "also add intel_iommu=on to the kernel command line. Only PCI passthrough needs it.");
}

static void run_iommu(struct check_ctx *ctx, struct check_result *r)
{
	const struct host *h = ctx->host;
	_cleanup_(scan_free) struct scan s = { .h = h };
	_cleanup_(pci_names_close) struct pci_names names = { .ids_fd = -1 };
	struct iommu_facts fx = { 0 };
	unsigned n_listed = 0, n_cand = 0, n_shared = 0, n_gpu = 0, n_nic = 0, unnamed = 0;
	bool vfio_ok;
	char line[640], iso[256];
	int err;

	err = host_list_dir(h, "/sys/bus/pci/devices", add_fn, &s);
	if (err < 0 && err != -ENOENT) {
		result_set(r, CHECK_SKIP, "cannot list /sys/bus/pci/devices: %s", host_strerror(err));
		return;
	}
	if (s.n == 0) {
		detail_bool(r, "enabled", false);
		result_set(r, CHECK_SKIP, "no PCI devices in /sys/bus/pci: nothing to pass through");
		return;
	}
	qsort(s.fn, s.n, sizeof(*s.fn), cmp_fn);

	gather_evidence(ctx, r, &fx);
	(void)host_list_dir(h, "/sys/kernel/iommu_groups", add_group, &s);
	if (s.n_groups)
		qsort(s.groups, s.n_groups, sizeof(int), cmp_int);
	for (unsigned i = 0; i < s.n_groups; i++) {
		struct group_member m = { .s = &s, .group = s.groups[i] };
		char path[96];

		sfmt(path, "/sys/kernel/iommu_groups/%d/devices", s.groups[i]);
		(void)host_list_dir(h, path, mark_member, &m);
	}
	if (s.n_groups) {
		sfmt(line, "/sys/kernel/iommu_groups: %u groups", s.n_groups);
		detail_list_add(r, "evidence", line);
	}
	detail_bool(r, "enabled", s.n_groups > 0);
	detail_int(r, "groups", s.n_groups);

	if (pci_names_open(ctx, &names) < 0)
		detail_str(r, "pci_names", "libpci could not be initialised: numeric ids");
	for (unsigned i = 0; i < s.n; i++) {
		struct pci_fn *f = &s.fn[i];

		if (pci_describe(&names, h, f) < 0) {
			unnamed++;
			sfmt(f->desc, "(unreadable: no vendor/device/class in sysfs)");
		}
	}
	if (unnamed)
		detail_int(r, "unreadable_devices", unnamed);

	/* Bridges are plumbing: list the endpoints, which are what anyone would pass through. */
	for (unsigned i = 0; i < s.n; i++) {
		const struct pci_fn *f = &s.fn[i];
		char grp[24], drv[80] = "";

		if (f->named && is_bridge(f->cls))
			continue;
		n_listed++;
		if (n_listed >= DETAIL_LIST_MAX)
			continue;
		if (f->group >= 0)
			sfmt(grp, "group %d", f->group);
		else
			sfmt(grp, "no group");
		if (f->driver[0])
			sfmt(drv, " (driver %s)", f->driver);
		sfmt(line, "%s [%s] %s%s", f->bdf, grp, f->desc, drv);
		detail_list_add(r, "devices", line);
	}
	if (n_listed >= DETAIL_LIST_MAX) {
		sfmt(line, "... %u more not listed", n_listed - (DETAIL_LIST_MAX - 1));
		detail_list_add(r, "devices", line);
	}
	detail_int(r, "devices_total", n_listed);
	detail_str(r, "names_from", "%s", names.from[0] ? names.from : "none (numeric ids)");

	for (unsigned i = 0; i < s.n; i++) {
		const struct pci_fn *f = &s.fn[i];
		unsigned row;
		const char *kind = f->named ? candidate_kind(f, &row) : NULL;

		if (!kind)
			continue;
		n_cand++;
		if (streq(kind, "GPU"))
			n_gpu++;
		else
			n_nic++;
		if (describe_isolation(&s, f, row, iso, sizeof(iso)))
			n_shared++;
		sfmt(line, "%s %s %s: %s", f->bdf, kind, strchr(f->desc, ':') ? strchr(f->desc, ':') + 2 : f->desc,
		     iso);
		detail_list_add(r, "candidates", line);
	}
	if (!n_cand)
		detail_list_add(r, "candidates", NULL);
	detail_int(r, "shared_candidates", n_shared);

	for (unsigned i = 0; i < ARRAY_SIZE(vfio_modules); i++) {
		static const char *const names[] = { "not loaded", "loaded", "built-in" };

		sfmt(line, "%s: %s", vfio_modules[i], names[module_state(h, vfio_modules[i])]);
		detail_list_add(r, "vfio", line);
	}
	vfio_ok = module_state(h, "vfio") != VFIO_ABSENT && module_state(h, "vfio_pci") != VFIO_ABSENT;
	detail_bool(r, "vfio_loaded", vfio_ok);
	detail_list_add(r, "vfio_bound", NULL);
	for (unsigned i = 0; i < s.n; i++)
		if (streq(s.fn[i].driver, "vfio-pci"))
			detail_list_add(r, "vfio_bound", s.fn[i].bdf);

	if (s.n_groups == 0) {
		result_set(r, CHECK_WARN, "IOMMU not enabled%s%s: PCI passthrough unavailable (guests run fine)",
			   fx.vendor ? "; firmware describes " : "", fx.vendor ? fx.vendor : "");
		advise_disabled(ctx, r, &fx);
		result_fix(r, "firmware.enable_iommu");
		return;
	}
	if (n_cand && !vfio_ok) {
		result_set(r, CHECK_WARN, "IOMMU on (%u groups), %u GPU and %u NIC candidates, but vfio-pci is "
			   "not loaded", s.n_groups, n_gpu, n_nic);
		result_advise(r, "Load vfio-pci (modprobe vfio-pci; persist it in /etc/modules-load.d/vfio.conf) "
			      "before binding a device to it for passthrough.%s",
			      n_shared ? " Some candidates share their IOMMU group with other devices "
			      "(see candidates): those can only be passed together with the whole group." : "");
		result_fix(r, "modules.load_vfio");
		return;
	}
	result_set(r, CHECK_PASS, "IOMMU on (%s%s%u groups), %u GPU and %u NIC candidates%s%s",
		   fx.vendor ? fx.vendor : "", fx.vendor ? ", " : "", s.n_groups, n_gpu, n_nic,
		   vfio_ok ? ", vfio-pci loaded" : "", fx.cmdline_pt ? ", iommu=pt" : "");
	if (n_shared)
		result_advise(r, "%u candidate(s) share their IOMMU group with other devices: such a device can "
			      "only be passed through with its whole group (or with a card in an ACS-capable "
			      "slot); the ACS override patch trades away isolation.", n_shared);
}

const struct check check_iommu_groups = {
	.id = "iommu.groups",
	.title = "IOMMU, its groups and PCI passthrough candidates",
	.run = run_iommu,
	.explain =
	"Asks whether the IOMMU is on and what could be passed through to a guest.\n"
	"\n"
	"Evidence: the ACPI tables that describe an IOMMU (DMAR for Intel VT-d, IVRS for\n"
	"AMD-Vi, IORT for Arm), the units the kernel drives (/sys/class/iommu), the kernel\n"
	"command line (intel_iommu=, amd_iommu=, iommu=pt, iommu.passthrough=), and the\n"
	"verdict itself: the IOMMU is on exactly when /sys/kernel/iommu_groups has groups.\n"
	"\n"
	"Every PCI function's vendor, device, class, revision and bound driver are read\n"
	"from sysfs (inside the root under --root, regular files only) and named through\n"
	"libpci from the machine's pci.ids (under --root, a private copy of the root's\n"
	"/usr/share/misc/pci.ids or /usr/share/hwdata/pci.ids, at most 8 MiB) with its\n"
	"group. GPUs (class 03) and NICs (class 02) are passthrough\n"
	"candidates. The IOMMU group is the smallest unit that can be given to a guest: a\n"
	"candidate alone in its group (or with only its own functions, like a GPU's HDMI\n"
	"audio) can be passed through; one that shares its group with unrelated devices\n"
	"cannot be passed alone, because the hardware (no ACS) cannot keep them apart.\n"
	"Bridges in a group do not count: they stay with the host.\n"
	"\n"
	"vfio, vfio_pci and vfio_iommu_type1 (loaded or built in, from /sys/module) are what\n"
	"passthrough uses; devices bound to vfio-pci are listed.\n"
	"\n"
	"Verdicts: no PCI bus at all -> skip. IOMMU off -> warning: guests run fine, only\n"
	"passthrough needs it (fix firmware.enable_iommu: the firmware switch and, on\n"
	"Intel, intel_iommu=on). IOMMU on with candidates but vfio-pci not loaded ->\n"
	"warning (fix modules.load_vfio). Otherwise pass.",
};
