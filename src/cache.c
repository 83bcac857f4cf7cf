// SPDX-License-Identifier: GPL-2.0-or-later
/* The probe cache: what a QEMU probe found, kept until the binary, kernel or /dev/kvm changes. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#include "cache.h"
#include "util.h"
#include "version.h"

#define CACHE_MAGIC "virt-doctor-cache 1\n"

bool cache_enabled(const struct host *h, bool no_cache)
{
	return h->live && !no_cache;
}

int cache_dir(char *buf, size_t size)
{
	const char *env = getenv("VIRT_DOCTOR_CACHE_DIR"), *xdg, *home;
	int n;

	if (env && env[0] == '/')
		n = snprintf(buf, size, "%s", env);
	else if (geteuid() == 0)
		n = snprintf(buf, size, "/var/cache/virt-doctor");
	else if ((xdg = getenv("XDG_CACHE_HOME")) && xdg[0] == '/')
		n = snprintf(buf, size, "%s/virt-doctor", xdg);
	else if ((home = getenv("HOME")) && home[0] == '/')
		n = snprintf(buf, size, "%s/.cache/virt-doctor", home);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Append to the key; the caller sees truncation as -ENAMETOOLONG once at the end. */
static void key_add(char *key, size_t size, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void key_add(char *key, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(key + *len, size - *len, fmt, ap);
	va_end(ap);
	*len = n < 0 ? size : *len + (size_t)n;
}

struct kvm_params {
	const struct host *h;
	char *key;
	size_t size, *len;
	const char *module;
};

static int add_param(const char *name, void *data)
{
	struct kvm_params *kp = data;
	char path[512], value[256];

	sfmt(path, "/sys/module/%s/parameters/%s", kp->module, name);
	if (host_read_line(kp->h, path, value, sizeof(value)) < 0)
		return 0;	/* write-only parameters say nothing about what QEMU sees */
	key_add(kp->key, kp->size, kp->len, " %s.%s=%s", kp->module, name, value);
	return 0;
}

static int add_module(const char *name, void *data)
{
	struct kvm_params *kp = data;
	char path[300];

	if (!startswith(name, "kvm"))
		return 0;
	kp->module = name;
	sfmt(path, "/sys/module/%s/parameters", name);
	host_list_dir(kp->h, path, add_param, kp);
	return 0;
}

/* The microcode revision of the first CPU: a microcode update can change what a model may use. */
static void add_microcode(const struct host *h, char *key, size_t size, size_t *len)
{
	_cleanup_free_ char *text = NULL;
	const char *p;
	size_t n;

	if (host_read(h, "/proc/cpuinfo", HOST_READ_MAX, &text, &n) < 0)
		return;
	p = strstr(text, "\nmicrocode");
	if (!p)
		return;
	p = strchr(p, ':');
	if (!p)
		return;
	p += strspn(p, ": \t");
	key_add(key, size, len, " microcode=%.*s", (int)strcspn(p, "\n"), p);
}

/* The host part of the keys, read once per run (see cache_key_forget()). */
static char part[CACHE_KEY_MAX];
static const struct host *part_of;

void cache_key_forget(void)
{
	part_of = NULL;
}

/* The part of every key that is about the host, not the binary. */
static int host_part(const struct host *h, char *key, size_t size)
{
	struct stat st;
	struct kvm_params kp = { .h = h, .key = key, .size = size };
	char release[256] = "";
	size_t len = 0;

	kp.len = &len;
	key[0] = '\0';
	host_read_line(h, "/proc/sys/kernel/osrelease", release, sizeof(release));
	key_add(key, size, &len, " kernel=%s", release);
	if (host_stat(h, "/dev/kvm", &st) == 0)
		key_add(key, size, &len, " kvm=%u:%u:%o:%u:%u", major(st.st_rdev), minor(st.st_rdev),
			st.st_mode & 07777, (unsigned)st.st_uid, (unsigned)st.st_gid);
	else
		key_add(key, size, &len, " kvm=none");
	host_list_dir(h, "/sys/module", add_module, &kp);
	add_microcode(h, key, size, &len);
	return len >= size ? -ENAMETOOLONG : 0;
}

int cache_key(const struct host *h, const char *binary, char *key, size_t size)
{
	/*
	 * A run asks for up to four keys (two binaries, cpu.guest_model, the PCI names); the
	 * host part (~60 sysfs and procfs reads, 0.6 ms of a 6 ms run) is read once per run:
	 * run_checks() and host_fini() forget it, so a fix that changed /dev/kvm is seen by the
	 * run that verifies it. Start hooks and checks call this from the main thread only.
	 */
	struct stat st;
	size_t len = 0;
	int r;

	if (host_stat(h, binary, &st) < 0)
		return -errno;
	if (part_of != h) {
		r = host_part(h, part, sizeof(part));
		if (r < 0)
			return r;
		part_of = h;
	}
	key_add(key, size, &len, "version=%s bin=%s dev=%llu ino=%llu size=%lld mtime=%lld.%09ld "
		"ctime=%lld.%09ld%s", VIRT_DOCTOR_VERSION, binary, (unsigned long long)st.st_dev,
		(unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec, part);
	if (len >= size)
		return -ENAMETOOLONG;
	for (char *p = key; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';	/* one line, whatever a parameter held */
	return 0;
}

static bool valid_name(const char *name)
{
	if (!*name || strlen(name) > 64)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

/* The payload is ours when every line is field=value, field [a-z0-9_]+, no control characters. */
static bool valid_payload(const char *p)
{
	while (*p) {
		size_t f = 0;

		while ((p[f] >= 'a' && p[f] <= 'z') || (p[f] >= '0' && p[f] <= '9') || p[f] == '_')
			f++;
		if (!f || p[f] != '=')
			return false;
		p += f + 1;
		for (; *p && *p != '\n'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return false;
		if (*p != '\n')
			return false;	/* torn: the last line has no end */
		p++;
	}
	return true;
}

/*
 * The cache directory, opened only if it is a real directory owned by us and writable by
 * nobody else: a directory someone else can write to could hold their entries.
 */
static int open_dir(char *why, size_t whysize)
{
	char dir[4096];
	struct stat st;
	int fd, r;

	r = cache_dir(dir, sizeof(dir));
	if (r < 0) {
		snprintf(why, whysize, "no cache directory (no $HOME)");
		return r;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(why, whysize, r == -ENOENT ? "no entry" : "refused: %s: %s", dir, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		snprintf(why, whysize, "refused: %s is not a directory private to uid %u", dir,
			 (unsigned)geteuid());
		close(fd);
		return -EPERM;
	}
	return fd;
}

int cache_load(const char *name, const char *key, char **payload, char *why, size_t whysize)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	_cleanup_free_ char *text = NULL;
	char file[80];
	struct stat st, st2;
	size_t len = 0, hl, kl;
	ssize_t n;

	*payload = NULL;
	if (!valid_name(name)) {
		snprintf(why, whysize, "refused: bad entry name");
		return 0;
	}
	dfd = open_dir(why, whysize);
	if (dfd < 0)
		return 0;
	sfmt(file, "%s.cache", name);
	/* Look before opening: open(2) of a FIFO blocks and of a device acts by itself. */
	if (fstatat(dfd, file, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(why, whysize, errno == ENOENT ? "no entry" : "refused: %s: %s", file,
			 strerror(errno));
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysize, "refused: %s is not a regular file", file);
		return 0;
	}
	fd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino ||
	    !S_ISREG(st2.st_mode)) {
		snprintf(why, whysize, "refused: %s changed while it was opened", file);
		return 0;
	}
	if (st2.st_uid != geteuid() || (st2.st_mode & 022)) {
		snprintf(why, whysize, "refused: %s is owned by uid %u or writable by others", file,
			 (unsigned)st2.st_uid);
		return 0;
	}
	if (st2.st_size > (off_t)CACHE_ENTRY_MAX) {
		snprintf(why, whysize, "refused: %s is larger than %u bytes", file, CACHE_ENTRY_MAX);
		return 0;
	}
	text = malloc(CACHE_ENTRY_MAX + 1);
	if (!text) {
		snprintf(why, whysize, "out of memory");
		return 0;
	}
	/* Read at most one byte past the limit, whatever fstat said: the file may grow. */
	while (len <= CACHE_ENTRY_MAX &&
	       (n = read(fd, text + len, CACHE_ENTRY_MAX + 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whysize, "refused: %s: %s", file, strerror(errno));
			return 0;
		}
		len += (size_t)n;
	}
	if (len > CACHE_ENTRY_MAX) {
		snprintf(why, whysize, "refused: %s is larger than %u bytes", file, CACHE_ENTRY_MAX);
		return 0;
	}
	text[len] = '\0';
	hl = strlen(CACHE_MAGIC);
	kl = strlen(key);
	if (memchr(text, '\0', len) || len < hl || memcmp(text, CACHE_MAGIC, hl) ||
	    strncmp(text + hl, "key ", 4)) {
		snprintf(why, whysize, "refused: %s is not a virt-doctor cache entry", file);
		return 0;
	}
	if (strncmp(text + hl + 4, key, kl) || text[hl + 4 + kl] != '\n') {
		snprintf(why, whysize, "key changed");
		return 0;
	}
	if (!valid_payload(text + hl + 4 + kl + 1)) {
		snprintf(why, whysize, "refused: %s is malformed or truncated", file);
		return 0;
	}
	*payload = strdup(text + hl + 4 + kl + 1);
	if (!*payload) {
		snprintf(why, whysize, "out of memory");
		return 0;
	}
	why[0] = '\0';
	return 1;
}

/* mkdir -p for the last two components (~/.cache, then virt-doctor), with mode for ours. */
static int make_dir(const char *dir, mode_t mode)
{
	char parent[4096];
	char *slash;

	if (mkdir(dir, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	scopy(parent, dir);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return -ENOENT;
	*slash = '\0';
	if (mkdir(parent, 0700) < 0 && errno != EEXIST)
		return -errno;
	return mkdir(dir, mode) == 0 || errno == EEXIST ? 0 : -errno;
}

int cache_store(const char *name, const char *key, const char *payload)
{
	bool root = geteuid() == 0;
	char dir[4096], tmp[4200], final[4200], why[160];
	_cleanup_close_ int dfd = -1;
	FILE *f;
	int fd, r;

	if (!valid_name(name) || !valid_payload(payload) || strchr(key, '\n'))
		return -EINVAL;
	r = cache_dir(dir, sizeof(dir));
	if (r < 0)
		return r;
	r = make_dir(dir, root ? 0755 : 0700);
	if (r < 0)
		return r;
	dfd = open_dir(why, sizeof(why));
	if (dfd < 0)
		return dfd;
	sfmt(tmp, "%s/.%s.XXXXXX", dir, name);
	sfmt(final, "%s/%s.cache", dir, name);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, root ? 0644 : 0600) < 0 || !(f = fdopen(fd, "w"))) {
		r = -errno;
		close(fd);
		unlink(tmp);
		return r;
	}
	fprintf(f, "%skey %s\n%s", CACHE_MAGIC, key, payload);
	if (fflush(f) != 0 || ferror(f)) {
		r = -errno;
		fclose(f);
		unlink(tmp);
		return r ? r : -EIO;
	}
	if (fclose(f) != 0 || rename(tmp, final) < 0) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	return 0;
}

void cache_put(FILE *f, const char *field, const char *value)
{
	fprintf(f, "%s=", field);
	for (const char *p = value ? value : ""; *p; p++)
		fputc((unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p, f);
	fputc('\n', f);
}

void cache_fields(const char *payload, const char *field, void (*fn)(const char *value, void *data),
		  void *data)
{
	size_t fl = strlen(field);
	char value[1024];

	for (const char *line = payload; line && *line;) {
		const char *eol = strchrnul(line, '\n');

		if ((size_t)(eol - line) > fl && !strncmp(line, field, fl) && line[fl] == '=') {
			snprintf(value, sizeof(value), "%.*s", (int)(eol - line - (long)fl - 1), line + fl + 1);
			fn(value, data);
		}
		line = *eol ? eol + 1 : NULL;
	}
}

struct first {
	char *buf;
	size_t size;
	bool found;
};

static void take_first(const char *value, void *data)
{
	struct first *f = data;

	if (!f->found)
		strtcpy(f->buf, value, f->size);
	f->found = true;
}

bool cache_field(const char *payload, const char *field, char *buf, size_t size)
{
	struct first f = { buf, size, false };

	cache_fields(payload, field, take_first, &f);
	return f.found;
}
