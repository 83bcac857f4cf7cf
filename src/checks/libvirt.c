// SPDX-License-Identifier: GPL-2.0-or-later
/* libvirt.daemon: libvirt installed, its daemon's socket accepting, the daemon answering, user access. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "checks/accounts.h"
#include "checks/check.h"
#include "checks/libvirt.h"
#include "checks/libvirt_dl.h"
#include "checks/qemu_account.h"
#include "util.h"

/*
 * A wedged daemon must not wedge us: bounds for the connect() probe, the calls that never
 * touch QEMU (a live daemon answers them in milliseconds), and then the QEMU view: libvirtd
 * answers it only after (re)probing QEMU, which takes seconds, so it gets its own bound and
 * missing it is never "wedged".
 */
#define SOCKET_CONNECT_TIMEOUT_MS 500
#define LIBVIRT_TALK_TIMEOUT_MS 3000
#define LIBVIRT_QEMU_TIMEOUT_MS 1500
/* A daemon younger than this may still be probing QEMU for the first time (about 20 s here). */
#define DAEMON_YOUNG_S 120
/* libvirt's QEMU capability cache: one XML per emulator binary, rewritten on every probe. */
#define CAPS_CACHE_DIR "/var/cache/libvirt/qemu/capabilities"
/*
 * Test-only: replaces the daemon's socket (both the read-write and the read-only one) so the
 * tests can put a socket that accepts but never answers in front of the check. Live only.
 */
#define TEST_SOCK_ENV "VIRT_DOCTOR_TEST_LIBVIRT_SOCK"

/* The daemons that serve qemu:///system, in the order the client library prefers them. */
struct daemon_kind {
	const char *name;
	const char *bins[3];
	const char *sock, *sock_ro;
	const char *config;
	const char *pidfile;
	const char *start;	/* how to start it, for advice */
};

static const struct daemon_kind daemons[] = {
	{ "virtqemud", { "/usr/sbin/virtqemud", "/usr/bin/virtqemud", "/usr/local/sbin/virtqemud" },
	  "/run/libvirt/virtqemud-sock", "/run/libvirt/virtqemud-sock-ro",
	  "/etc/libvirt/virtqemud.conf", "/run/virtqemud.pid", "systemctl enable --now virtqemud.socket virtproxyd.socket" },
	{ "libvirtd", { "/usr/sbin/libvirtd", "/usr/bin/libvirtd", "/usr/local/sbin/libvirtd" },
	  "/run/libvirt/libvirt-sock", "/run/libvirt/libvirt-sock-ro",
	  "/etc/libvirt/libvirtd.conf", "/run/libvirtd.pid", "systemctl enable --now libvirtd (without systemd: libvirtd -d)" },
};
#define LIBVIRTD (&daemons[1])

/* The modular daemons' proxy: it owns libvirt-sock when libvirtd does not. */
static const char *const proxy_bins[] = { "/usr/sbin/virtproxyd", "/usr/bin/virtproxyd" };
static const char *const virsh_bins[] = { "/usr/bin/virsh", "/bin/virsh", "/usr/local/bin/virsh" };
static const char *const polkit_rule_dirs[] = { "/etc/polkit-1/rules.d", "/usr/share/polkit-1/rules.d" };
/* Present when libvirt was built with polkit; then auth_unix_rw defaults to "polkit". */
#define POLKIT_LIBVIRT_ACTIONS "/usr/share/polkit-1/actions/org.libvirt.unix.policy"
#define DEFAULT_LIBVIRT_GROUP "libvirt"
#define MAX_POLKIT_GROUPS 8

/* ---- pure parsers (tests/test_libvirt.c) ---- */

int libvirt_conf_get(const char *text, const char *key, char *val, size_t size)
{
	size_t klen = strlen(key);
	int r = -ENOENT;

	for (const char *line = text; line && *line; ) {
		const char *end = strchrnul(line, '\n'), *p = line, *v, *ve;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(end - p) > klen && strncmp(p, key, klen) == 0 &&
		    (p[klen] == ' ' || p[klen] == '\t' || p[klen] == '=')) {
			p += klen;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p < end && *p == '=') {
				p++;
				while (p < end && (*p == ' ' || *p == '\t'))
					p++;
				if (p < end && (*p == '"' || *p == '\'')) {
					char q = *p++;

					v = p;
					ve = memchr(p, q, (size_t)(end - p));
				} else {
					/* A bare value (a number) ends at blank or comment. */
					v = p;
					ve = p;
					while (ve < end && *ve != ' ' && *ve != '\t' && *ve != '#')
						ve++;
				}
				if (ve) {
					if ((size_t)(ve - v) >= size) {
						r = -ENOSPC;
					} else {
						memcpy(val, v, (size_t)(ve - v));
						val[ve - v] = '\0';
						r = 0;	/* keep going: the last assignment wins */
					}
				}
			}
		}
		line = *end ? end + 1 : NULL;
	}
	return r;
}

unsigned polkit_libvirt_groups(const char *text, char (*groups)[64], unsigned max)
{
	static const char needle[] = "isInGroup(";
	unsigned n = 0;

	if (!strstr(text, "org.libvirt.unix.manage"))
		return 0;
	for (const char *p = strstr(text, needle); p && n < max; p = strstr(p, needle)) {
		const char *q, *e;

		p += sizeof(needle) - 1;
		q = p;
		while (*q == ' ')
			q++;
		if (*q != '"' && *q != '\'')
			continue;
		e = strchr(q + 1, *q);
		if (!e || e == q + 1 || (size_t)(e - q - 1) >= sizeof(groups[0]))
			continue;
		memcpy(groups[n], q + 1, (size_t)(e - q - 1));
		groups[n][e - q - 1] = '\0';
		n++;
	}
	return n;
}

/* ---- host facts ---- */

/* First of paths that is an executable regular file in the root. */
static const char *find_exec(const struct host *h, const char *const *paths, size_t n)
{
	struct stat st;

	for (size_t i = 0; i < n && paths[i]; i++)
		if (host_stat(h, paths[i], &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return paths[i];
	return NULL;
}

int unix_socket_probe(const char *path, unsigned timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int err = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	/* A unix connect completes at once or fails, except EAGAIN for a full backlog. */
	if (errno != EINPROGRESS)
		return -errno;
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, (int)timeout_ms) <= 0)
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

bool libvirt_daemon_installed(const struct host *h)
{
	for (size_t i = 0; i < ARRAY_SIZE(daemons); i++)
		if (find_exec(h, daemons[i].bins, ARRAY_SIZE(daemons[i].bins)))
			return true;
	return false;
}

int libvirt_pick_daemon(const struct host *h, struct libvirt_daemon *d)
{
	const char *installed[ARRAY_SIZE(daemons)];
	const struct daemon_kind *k = NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(daemons); i++)
		installed[i] = find_exec(h, daemons[i].bins, ARRAY_SIZE(daemons[i].bins));
	/* Live, the one whose socket is there; else libvirtd before the modular one. */
	for (i = 0; i < ARRAY_SIZE(daemons) && !k && h->live; i++)
		if (host_exists(h, daemons[i].sock) || host_exists(h, daemons[i].sock_ro))
			k = &daemons[i];
	for (i = ARRAY_SIZE(daemons); i-- > 0 && !k; )
		if (installed[i])
			k = &daemons[i];
	if (!k)
		return -ENOENT;
	i = (size_t)(k - daemons);
	*d = (struct libvirt_daemon){ .name = k->name, .bin = installed[i], .sock = k->sock,
				      .sock_ro = k->sock_ro, .modular = k != LIBVIRTD };
	return 0;
}

static bool user_in_group(const struct host *h, const char *user, gid_t primary, const char *group)
{
	_cleanup_(group_entry_clear) struct group_entry g = { .members = "" };

	if (host_group_by_name(h, group, &g) < 0)
		return false;
	return g.gid == primary || (user && group_has_member(&g, user));
}

/* Everything the run gathers, then judges. */
struct lv_state {
	const struct daemon_kind *kind;	/* the daemon we judge */
	const char *bin;		/* its binary */
	char sock[108], sock_ro[108];
	bool test_sock;
	/* config */
	char sock_group[64], rw_perms[16], auth[32];
	/* the user */
	char user[64];
	gid_t primary;
	bool root;
	char libvirt_group[64];
	bool in_group;
	int access;			/* 1, 0, -1 unknown */
	char access_note[200];		/* why not, for advice */
	/* live socket */
	bool sock_stat_ok;
	struct stat sock_st;
	bool rw_denied;			/* connect() to the rw socket said EACCES */
};

struct rules_scan {
	const struct host *h;
	const char *dir;
	char (*groups)[64];
	unsigned *n;
	char *file;		/* the first rules file that grants libvirt to a group */
	size_t file_size;
};

static int scan_rules_file(const char *name, void *data)
{
	struct rules_scan *c = data;
	_cleanup_free_ char *text = NULL;
	size_t len = strlen(name);
	char path[300];
	unsigned k;

	if (len < 7 || !streq(name + len - 6, ".rules"))
		return 0;
	sfmt(path, "%s/%s", c->dir, name);
	if (host_read(c->h, path, 1u << 20, &text, NULL) < 0)
		return 0;
	k = polkit_libvirt_groups(text, c->groups + *c->n, MAX_POLKIT_GROUPS - *c->n);
	if (k && !c->file[0])
		strtcpy(c->file, path, c->file_size);
	*c->n += k;
	return *c->n >= MAX_POLKIT_GROUPS;
}

/* Config, polkit and socket bits against the user's groups: can they use the rw socket? */
static void judge_access(const struct host *h, struct lv_state *s, struct check_result *r)
{
	_cleanup_free_ char *conf = NULL;
	char polkit[MAX_POLKIT_GROUPS][64], polkit_file[300] = "";
	unsigned n_polkit = 0, mode;
	bool polkit_built, in_sock_group, owner, rules_unreadable = false, assumed = false;
	const char *via;
	gid_t sock_gid = 0;

	detail_str(r, "config", "%s", s->kind->config);
	if (host_read(h, s->kind->config, HOST_READ_MAX, &conf, NULL) == 0) {
		if (libvirt_conf_get(conf, "unix_sock_group", s->sock_group, sizeof(s->sock_group)) == 0)
			detail_str(r, "unix_sock_group", "%s", s->sock_group);
		if (libvirt_conf_get(conf, "unix_sock_rw_perms", s->rw_perms, sizeof(s->rw_perms)) == 0)
			detail_str(r, "unix_sock_rw_perms", "%s", s->rw_perms);
		libvirt_conf_get(conf, "auth_unix_rw", s->auth, sizeof(s->auth));
	} else {
		detail_bool(r, "config_readable", false);
	}
	polkit_built = host_exists(h, POLKIT_LIBVIRT_ACTIONS);
	if (!s->auth[0])
		scopy(s->auth, polkit_built ? "polkit" : "none");
	detail_str(r, "auth_unix_rw", "%s", s->auth);

	if (host_user_name(h, h->uid, s->user, sizeof(s->user), &s->primary) < 0) {
		s->user[0] = '\0';
		s->primary = h->gid;
		detail_int(r, "user_uid", h->uid);
	} else {
		detail_str(r, "user", "%s", s->user);
	}
	s->root = h->uid == 0;

	/* Root needs no group, and reading polkit rules for it would be wasted time. */
	if (!s->root)
		for (size_t d = 0; d < ARRAY_SIZE(polkit_rule_dirs) && n_polkit < MAX_POLKIT_GROUPS; d++) {
			struct rules_scan scan = { h, polkit_rule_dirs[d], polkit, &n_polkit, polkit_file,
						   sizeof(polkit_file) };

			int e = host_list_dir(h, polkit_rule_dirs[d], scan_rules_file, &scan);

			/* polkit keeps its rules 0700 polkitd: only root may read them. */
			if (e == -EACCES)
				rules_unreadable = true;
		}
	if (rules_unreadable)
		detail_bool(r, "polkit_rules_readable", false);
	if (rules_unreadable && !n_polkit) {
		/* Judge by the rule every distribution ships, and say that we assumed it. */
		scopy(polkit[0], DEFAULT_LIBVIRT_GROUP);
		n_polkit = 1;
		assumed = true;
	}
	for (unsigned i = 0; i < n_polkit && !assumed; i++)
		detail_list_add(r, "polkit_groups", polkit[i]);
	if (polkit_file[0])
		detail_str(r, "polkit_rule", "%s", polkit_file);

	if (s->sock_group[0] && !streq(s->sock_group, "root"))
		scopy(s->libvirt_group, s->sock_group);
	else
		scopy(s->libvirt_group, n_polkit ? polkit[0] : DEFAULT_LIBVIRT_GROUP);
	detail_str(r, "libvirt_group", "%s", s->libvirt_group);
	s->in_group = user_in_group(h, s->user[0] ? s->user : NULL, s->primary, s->libvirt_group);
	detail_bool(r, "in_libvirt_group", s->in_group);

	if (s->root) {
		s->access = 1;
		detail_bool(r, "user_access", true);
		detail_str(r, "access_via", "root");
		return;
	}

	/* The rw socket's bits: the real socket live, else what the config would make. */
	if (s->sock_stat_ok) {
		_cleanup_(group_entry_clear) struct group_entry g = { .members = "" };

		mode = s->sock_st.st_mode & 0777;
		sock_gid = s->sock_st.st_gid;
		owner = s->sock_st.st_uid == h->uid;
		in_sock_group = sock_gid == s->primary ||
			(host_group(h, sock_gid, &g) == 0 && s->user[0] && group_has_member(&g, s->user));
	} else {
		char *end;

		mode = streq(s->auth, "polkit") ? 0777 : 0700;
		if (s->rw_perms[0]) {
			unsigned long m = strtoul(s->rw_perms, &end, 8);

			if (!*end && m <= 0777)
				mode = (unsigned)m;
		}
		owner = false;	/* the daemon runs as root */
		in_sock_group = s->sock_group[0] && !streq(s->sock_group, "root") &&
			user_in_group(h, s->user[0] ? s->user : NULL, s->primary, s->sock_group);
	}
	const char *who = s->user[0] ? s->user : "this user";

	if (s->rw_denied || !(owner ? mode & 0200 : in_sock_group ? mode & 0020 : mode & 0002)) {
		s->access = 0;
		via = "socket permissions";
		sfmt(s->access_note, "%s may not connect to the read-write socket (mode %04o%s%s)", who,
		     mode, s->sock_group[0] ? ", group " : "", s->sock_group);
	} else if (streq(s->auth, "polkit")) {
		bool ok = false;

		for (unsigned i = 0; i < n_polkit && !ok; i++)
			ok = user_in_group(h, s->user[0] ? s->user : NULL, s->primary, polkit[i]);
		s->access = ok;
		via = "polkit";
		if (!ok)
			sfmt(s->access_note, "The read-write socket asks polkit (auth_unix_rw = \"polkit\") "
			     "and %s", assumed ? "the polkit rules are unreadable here; the usual one "
			     "admits group " DEFAULT_LIBVIRT_GROUP " only" : n_polkit ?
			     "no polkit rule lets this user in without a password" :
			     "no polkit rule grants org.libvirt.unix.manage to a group");
	} else if (streq(s->auth, "none")) {
		s->access = 1;
		via = "socket permissions";
	} else {
		s->access = -1;	/* sasl and friends: credentials we cannot judge */
		via = s->auth;
	}
	detail_str(r, "access_via", "%s", via);
	if (s->access < 0)
		detail_null(r, "user_access");
	else
		detail_bool(r, "user_access", s->access == 1);
}

/* The fix and advice for a user who cannot manage libvirt; appended to other advice. */
static void advise_access(const struct lv_state *s, struct check_result *r, char *advice, size_t size)
{
	size_t n = strlen(advice);

	if (s->root || s->access != 0)
		return;
	snprintf(advice + n, size - n, "%s%s: sudo usermod -aG %s %s, then log in again.",
		 n ? " " : "", s->access_note, s->libvirt_group, s->user[0] ? s->user : "$USER");
	result_fix(r, "user.add_to_libvirt_group");
}

/* libvirt's words for "not you" (polkit, its bus, sasl, socket permissions) rather than "not running". */
static bool refused_user(const char *error)
{
	static const char *const words[] = { "polkit", "system bus", "authentication", "Permission denied",
		"access denied", "not authorized" };

	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strcasestr(error, words[i]))
			return true;
	return false;
}

static void not_running(const struct lv_state *s, struct check_result *r, const char *what)
{
	char advice[512];

	result_set(r, CHECK_FAIL, "%s is installed but not running: %s", s->kind->name, what);
	sfmt(advice, "This is what virsh and virt-manager report as \"Failed to connect socket to "
	     "'/var/run/libvirt/%s': No such file or directory\" (or \"Connection refused\"). "
	     "Start it: %s.", strrchr(s->sock, '/') + 1, s->kind->start);
	result_fix(r, "services.enable_libvirtd");
	advise_access(s, r, advice, sizeof(advice));
	result_advise(r, "%s", advice);
}

/*
 * The conversation the start hook began, for run() to adopt: loading libvirt.so.0 costs
 * ~10 ms, which then overlaps with the checks that run before this one. One run per process.
 */
static struct {
	bool started;
	const struct host *host;
	char uri[160];
	struct libvirt_call call;
} early = { .call = { .pid = -1, .fd = -1 } };

static void make_uri(const char *test_sock, char *uri, size_t size)
{
	if (test_sock)
		snprintf(uri, size, "qemu+unix:///system?socket=%s", test_sock);
	else
		snprintf(uri, size, "qemu:///system");
}

/* Start asking as soon as some daemon's socket accepts; run() repeats the judgement. */
static void start_libvirt(struct check_ctx *ctx)
{
	const struct host *h = ctx->host;
	const char *test_sock = getenv(TEST_SOCK_ENV);
	bool accepts = false;
	struct stat st;

	if (!h->live || early.started)
		return;
	if (test_sock && !*test_sock)
		test_sock = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(daemons) && !accepts; i++) {
		const char *rw = test_sock ? test_sock : daemons[i].sock;
		const char *ro = test_sock ? test_sock : daemons[i].sock_ro;

		accepts = host_stat(h, rw, &st) == 0 && S_ISSOCK(st.st_mode) &&
			(unix_socket_probe(rw, SOCKET_CONNECT_TIMEOUT_MS) == 0 ||
			 unix_socket_probe(ro, SOCKET_CONNECT_TIMEOUT_MS) == 0);
	}
	if (!accepts)
		return;
	make_uri(test_sock, early.uri, sizeof(early.uri));
	if (libvirt_ask_start(early.uri, &early.call) == 0) {
		early.started = true;
		early.host = h;
	}
}

static void run_libvirt_inner(struct check_ctx *ctx, struct check_result *r);

/* Seconds since the daemon in pidfile started (/proc/PID/stat starttime), or -1. */
static long daemon_age_s(const struct host *h, const char *pidfile)
{
	char line[64], path[64], up[64];
	_cleanup_free_ char *stat = NULL;
	unsigned long long start = 0;
	const char *p;
	long pid;
	double uptime;

	if (host_read_line(h, pidfile, line, sizeof(line)) < 0 || (pid = strtol(line, NULL, 10)) <= 0)
		return -1;
	sfmt(path, "/proc/%ld/stat", pid);
	if (host_read(h, path, 4096, &stat, NULL) < 0 || host_read_line(h, "/proc/uptime", up, sizeof(up)) < 0)
		return -1;
	/* comm may hold spaces and parentheses: the fields start after the last ')'. */
	p = strrchr(stat, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			 "%*d %*d %llu", &start) != 1 || sscanf(up, "%lf", &uptime) != 1)
		return -1;
	return (long)(uptime - (double)start / (double)sysconf(_SC_CLK_TCK));
}

struct caps_scan {
	const struct host *h;
	unsigned files;
	time_t newest;
};

static int caps_file(const char *name, void *data)
{
	struct caps_scan *c = data;
	char path[400];
	struct stat st;
	size_t n = strlen(name);

	if (n < 5 || !streq(name + n - 4, ".xml"))
		return 0;
	sfmt(path, "%s/%s", CAPS_CACHE_DIR, name);
	if (host_stat(c->h, path, &st) == 0 && S_ISREG(st.st_mode)) {
		c->files++;
		if (st.st_mtime > c->newest)
			c->newest = st.st_mtime;
	}
	return 0;
}

/*
 * The daemon answered but gave no QEMU version within its bound: say why. libvirtd re-probes
 * QEMU whenever its cached capabilities say KVM worked and its QEMU user cannot open /dev/kvm
 * now ("KVM was enabled when probing ..., but it is not available now"), and after a start it
 * probes each emulator once. The capability cache and the daemon's age are the evidence.
 */
static void judge_qemu_view(struct check_ctx *ctx, const struct lv_state *s, struct check_result *r,
			    char *why, size_t size, char *advice, size_t asize)
{
	struct caps_scan cs = { ctx->host, 0, 0 };
	struct qemu_account qa;
	long age = daemon_age_s(ctx->host, s->kind->pidfile);
	long cache_age = -1;
	int kvm = qemu_account_kvm_access(ctx->host, &qa);

	if (age >= 0)
		detail_int(r, "daemon_age_s", age);
	bool listed = host_list_dir(ctx->host, CAPS_CACHE_DIR, caps_file, &cs) == 0;

	if (listed) {
		detail_int(r, "caps_cache_files", cs.files);
		if (cs.files) {
			cache_age = (long)(time(NULL) - cs.newest);
			detail_int(r, "caps_cache_age_s", cache_age);
		}
	}
	if (qa.user[0] && qa.resolved) {
		detail_str(r, "qemu_user", "%s", qa.user);
		detail_bool(r, "qemu_access", kvm == 1);
	}
	if (kvm == 0) {
		detail_str(r, "qemu_view_cause", "kvm-unusable");
		snprintf(why, size, "re-probes QEMU on every call that needs it (no QEMU version within %.1f s) "
			 "because its QEMU user %s cannot use /dev/kvm", LIBVIRT_QEMU_TIMEOUT_MS / 1000.0, qa.user);
		snprintf(advice, asize, "The daemon works; QEMU does not: libvirt's QEMU user %s cannot open "
			 "/dev/kvm (see kvm.device), so every guest fails with \"Could not access KVM kernel "
			 "module: Permission denied\" and libvirtd probes QEMU again on every call that needs "
			 "its capabilities (virsh version, virsh create: seconds each%s%ld s ago). Give /dev/kvm "
			 "group kvm and mode 0660.", qa.user, cache_age >= 0 ? "; capability cache rewritten " : "",
			 cache_age >= 0 ? cache_age : 0L);
		result_fix(r, "udev.kvm_permissions");
	} else if ((age >= 0 && age < DAEMON_YOUNG_S) || (cache_age >= 0 && cache_age < 10) ||
		   (listed && !cs.files)) {
		detail_str(r, "qemu_view_cause", "starting");
		if (age >= 0)
			snprintf(why, size, "is still probing QEMU (started %ld s ago)", age);
		else
			snprintf(why, size, "is still probing QEMU (its capability cache is %s)",
				 cs.files ? "being written" : "empty");
		snprintf(advice, asize, "libvirt probes every QEMU binary once after it starts (about 20 s "
			 "here) and answers what needs QEMU after that; guests start once it is done. Run "
			 "virt-doctor again in a minute.");
	} else {
		detail_str(r, "qemu_view_cause", "unknown");
		snprintf(why, size, "gave no QEMU version within %.1f s", LIBVIRT_QEMU_TIMEOUT_MS / 1000.0);
		snprintf(advice, asize, "The daemon answers calls that do not need QEMU but not the QEMU "
			 "driver's version: read its log (journalctl -u %s, or /var/log/libvirt/) for QEMU "
			 "capability probe errors.", s->kind->name);
	}
}

static void run_libvirt(struct check_ctx *ctx, struct check_result *r)
{
	run_libvirt_inner(ctx, r);
	/* Started, but this run judged there was nothing to ask: leave no child behind. */
	if (early.started) {
		libvirt_ask_cancel(&early.call);
		early.started = false;
	}
}

static void run_libvirt_inner(struct check_ctx *ctx, struct check_result *r)
{
	const struct host *h = ctx->host;
	struct lv_state s = { .access = -1 };
	const char *installed[ARRAY_SIZE(daemons)] = { 0 }, *proxy, *virsh, *test_sock = NULL;
	struct libvirt_call call = { .pid = -1, .fd = -1 };
	struct libvirt_answer a;
	struct libvirt_daemon picked;
	char uri[160], ver[32], advice[512] = "", summary[512];
	bool any = false, accepts = false;
	int err;

	for (size_t i = 0; i < ARRAY_SIZE(daemons); i++) {
		installed[i] = find_exec(h, daemons[i].bins, ARRAY_SIZE(daemons[i].bins));
		if (installed[i]) {
			detail_list_add(r, "installed", installed[i]);
			any = true;
		}
	}
	proxy = find_exec(h, proxy_bins, ARRAY_SIZE(proxy_bins));
	if (proxy)
		detail_list_add(r, "installed", proxy);
	if (!any && !proxy)
		detail_list_add(r, "installed", NULL);	/* an empty list, not a missing key */
	virsh = find_exec(h, virsh_bins, ARRAY_SIZE(virsh_bins));
	if (virsh)
		detail_str(r, "virsh", "%s", virsh);
	else
		detail_null(r, "virsh");
	detail_null(r, "daemon");

	if (!any) {
		result_set(r, CHECK_FAIL, "libvirt is not installed (no libvirtd or virtqemud)%s",
			   virsh ? "; only its client virsh is" : "");
		result_advise(r, "Install the libvirt daemon: libvirt-daemon-system (Debian, Ubuntu), "
			      "libvirt-daemon-kvm (Fedora, RHEL), libvirt (Arch). Without a daemon, virsh "
			      "says \"Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such "
			      "file or directory\".");
		result_fix(r, "packages.install_libvirt");
		return;
	}

	/* Which daemon: live, the one whose socket is there; else libvirtd before the modular one. */
	if (h->live)
		test_sock = getenv(TEST_SOCK_ENV);
	if (test_sock && !*test_sock)
		test_sock = NULL;
	if (!test_sock && libvirt_pick_daemon(h, &picked) == 0)
		for (size_t i = 0; i < ARRAY_SIZE(daemons) && !s.kind; i++)
			if (streq(daemons[i].name, picked.name)) {
				s.kind = &daemons[i];
				s.bin = picked.bin;
			}
	if (test_sock) {
		s.kind = LIBVIRTD;
		s.test_sock = true;
		scopy(s.sock, test_sock);
		scopy(s.sock_ro, test_sock);
	} else {
		scopy(s.sock, s.kind->sock);
		scopy(s.sock_ro, s.kind->sock_ro);
	}

	if (!h->live) {
		detail_null(r, "socket");
		detail_null(r, "socket_accepts");
		judge_access(h, &s, r);
		if (!s.root && s.access == 0) {
			result_set(r, CHECK_WARN, "%s installed, but %s cannot manage it (daemon state: offline root)",
				   s.kind->name, s.user[0] ? s.user : "this user");
			advise_access(&s, r, advice, sizeof(advice));
			result_advise(r, "%s", advice);
		} else {
			result_set(r, CHECK_SKIP, "%s installed at %s; whether it runs is a live fact (offline root)",
				   s.kind->name, s.bin ? s.bin : "?");
		}
		return;
	}

	/* Live: the socket, then a connect(), then the library conversation. */
	detail_str(r, "socket", "%s", s.sock);
	err = host_stat(h, s.sock, &s.sock_st);
	if (err == 0 && S_ISSOCK(s.sock_st.st_mode)) {
		_cleanup_(group_entry_clear) struct group_entry g = { .members = "" };

		s.sock_stat_ok = true;
		detail_str(r, "socket_mode", "%04o", s.sock_st.st_mode & 07777);
		if (host_group(h, s.sock_st.st_gid, &g) == 0)
			detail_str(r, "socket_group", "%s", g.name);
		err = unix_socket_probe(s.sock, SOCKET_CONNECT_TIMEOUT_MS);
		if (err == -EACCES) {
			/* The user may not use the rw socket; the ro one still tells us it runs. */
			s.rw_denied = true;
			detail_str(r, "socket_error", "%s", strerror(EACCES));
			err = unix_socket_probe(s.sock_ro, SOCKET_CONNECT_TIMEOUT_MS);
		} else if (err < 0) {
			detail_str(r, "socket_error", "%s", strerror(-err));
		}
		accepts = err == 0;
		detail_bool(r, "socket_accepts", accepts);
	} else {
		detail_bool(r, "socket_accepts", false);
		detail_str(r, "socket_error", "%s", strerror(err == 0 ? ENOTSOCK : -err));
	}
	if (accepts) {
		detail_str(r, "daemon", "%s", s.kind->name);
		make_uri(s.test_sock ? s.sock_ro : NULL, uri, sizeof(uri));
		detail_str(r, "uri", "%s", uri);
		if (early.started && early.host == h && streq(early.uri, uri)) {
			call = early.call;
			early.started = false;
			err = 0;
		} else {
			/* The child loads the library while we read the files below. */
			err = libvirt_ask_start(uri, &call);
		}
		if (err < 0)
			detail_str(r, "connect_error", "fork: %s", strerror(-err));
	}

	judge_access(h, &s, r);

	if (!s.sock_stat_ok) {
		char what[200];

		if (host_exists(h, s.sock))
			sfmt(what, "%s is not a socket", s.sock);
		else
			sfmt(what, "no socket %s", s.sock);
		not_running(&s, r, what);
		return;
	}
	if (!accepts && s.rw_denied) {
		/* Both sockets shut this user out: whether the daemon runs, they cannot tell. */
		char advice2[512] = "";

		result_set(r, CHECK_FAIL, "%s may not connect to %s (%s)", s.user[0] ? s.user : "this user",
			   s.sock, strerror(EACCES));
		s.access = 0;
		if (!s.access_note[0])
			sfmt(s.access_note, "The read-write socket %s is mode %04o", s.sock,
			     s.sock_st.st_mode & 0777);
		advise_access(&s, r, advice2, sizeof(advice2));
		result_advise(r, "%s", advice2);
		return;
	}
	if (!accepts) {
		char what[200];

		sfmt(what, "nothing accepts connections on %s (%s)", s.sock,
		     detail_get(r, "socket_error")->string);
		not_running(&s, r, what);
		return;
	}
	if (call.pid < 0) {
		result_set(r, CHECK_SKIP, "%s accepts connections, but virt-doctor could not fork to ask it",
			   s.kind->name);
		return;
	}

	err = libvirt_ask_finish(&call, LIBVIRT_TALK_TIMEOUT_MS, LIBVIRT_QEMU_TIMEOUT_MS, &a);
	detail_null(r, "hypervisor");
	detail_null(r, "hypervisor_version");
	detail_null(r, "libvirt_version");
	detail_null(r, "default_network");
	detail_null(r, "default_autostart");
	if (err == -ETIMEDOUT) {
		detail_str(r, "connect_error", "no answer within %u ms", LIBVIRT_TALK_TIMEOUT_MS);
		result_set(r, CHECK_FAIL, "%s accepted a connection on %s but did not answer within %.1f s",
			   s.kind->name, s.sock_ro, LIBVIRT_TALK_TIMEOUT_MS / 1000.0);
		sfmt(advice, "The daemon is wedged (virsh would hang too). Restart it: %s.", s.kind->start);
		result_fix(r, "services.enable_libvirtd");
		advise_access(&s, r, advice, sizeof(advice));
		result_advise(r, "%s", advice);
		return;
	}
	if (err < 0) {
		detail_str(r, "connect_error", "the libvirt client died: %s", strerror(-err));
		result_set(r, CHECK_SKIP, "%s accepts connections, but asking it through %s failed",
			   s.kind->name, LIBVIRT_SONAME);
		return;
	}
	switch (a.stage) {
	case LV_STAGE_NO_LIBRARY:
	case LV_STAGE_NO_SYMBOL:
		detail_str(r, "connect_error", "%s", a.error);
		result_set(r, CHECK_WARN, "%s accepts connections, but %s is missing, so it cannot be asked",
			   s.kind->name, LIBVIRT_SONAME);
		sfmt(advice, "Install libvirt's client library (libvirt0 on Debian, libvirt-libs on Fedora): %s.",
		     a.error);
		result_fix(r, "packages.install_libvirt");
		advise_access(&s, r, advice, sizeof(advice));
		result_advise(r, "%s", advice);
		return;
	case LV_STAGE_OPEN_FAILED:
		detail_str(r, "connect_error", "%s", a.error);
		if (!s.root && refused_user(a.error)) {
			/* The daemon runs and root can use it; this user is turned away. */
			result_set(r, CHECK_WARN, "%s runs, but refuses %s: %s", s.kind->name,
				   s.user[0] ? s.user : "this user", a.error);
			sfmt(advice, "With auth_unix_ro/auth_unix_rw = \"polkit\" libvirt asks polkitd over the "
			     "D-Bus system bus for every non-root user: both must be running.");
			advise_access(&s, r, advice, sizeof(advice));
			result_advise(r, "%s", advice);
			return;
		}
		result_set(r, CHECK_FAIL, "%s does not serve %s: %s", s.kind->name, uri, a.error);
		if (strstr(a.error, "no connection driver")) {
			sfmt(advice, "The daemon runs without its QEMU driver: install it "
			     "(libvirt-daemon-driver-qemu, part of libvirt-daemon-system on Debian).");
			result_fix(r, "packages.install_libvirt");
		} else {
			sfmt(advice, "Restart the daemon and read its log: %s.", s.kind->start);
			result_fix(r, "services.enable_libvirtd");
		}
		advise_access(&s, r, advice, sizeof(advice));
		result_advise(r, "%s", advice);
		return;
	case LV_STAGE_CONNECTED:
		break;
	default:
		detail_str(r, "connect_error", "the libvirt client gave no answer");
		result_set(r, CHECK_SKIP, "%s accepts connections, but the libvirt client gave no answer",
			   s.kind->name);
		return;
	}

	detail_int(r, "answer_ms", (int64_t)(a.cheap_us / 1000));
	detail_str(r, "qemu_view", "%s", a.qemu_answered ? "answered" : "timeout");
	detail_int(r, "qemu_view_ms", (int64_t)(a.qemu_us / 1000));
	if (a.hostname[0])
		detail_str(r, "libvirt_hostname", "%s", a.hostname);
	if (a.hypervisor[0])
		detail_str(r, "hypervisor", "%s", a.hypervisor);
	if (a.hv_version) {
		libvirt_version_str(a.hv_version, ver, sizeof(ver));
		detail_str(r, "hypervisor_version", "%s", ver);
	}
	if (a.lib_version) {
		libvirt_version_str(a.lib_version, ver, sizeof(ver));
		detail_str(r, "libvirt_version", "%s", ver);
	}
	static const char *const net_names[] = {
		[LV_NET_MISSING] = "missing", [LV_NET_INACTIVE] = "inactive", [LV_NET_ACTIVE] = "active",
	};
	if (a.net > LV_NET_UNKNOWN && a.net <= LV_NET_ACTIVE)
		detail_str(r, "default_network", "%s", net_names[a.net]);
	else if (a.net_error[0])
		detail_str(r, "default_network_error", "%s", a.net_error);
	if (a.autostart >= 0)
		detail_bool(r, "default_autostart", a.autostart == 1);

	{
		char hv[80];

		if (a.hv_version) {
			libvirt_version_str(a.hv_version, ver, sizeof(ver));
			sfmt(hv, "%s %s", a.hypervisor[0] ? a.hypervisor : "?", ver);
		} else {
			sfmt(hv, "%s", a.hypervisor[0] ? a.hypervisor : "?");
		}
		libvirt_version_str(a.lib_version, ver, sizeof(ver));
		sfmt(summary, "%s answers on %s: %s, libvirt %s, default network %s%s", s.kind->name,
		     s.sock_ro, hv, a.lib_version ? ver : "?",
		     a.net > LV_NET_UNKNOWN && a.net <= LV_NET_ACTIVE ? net_names[a.net] : "unknown",
		     a.net == LV_NET_ACTIVE && a.autostart == 0 ? " (no autostart)" : "");
	}
	enum check_status st = CHECK_PASS;

	if (a.net == LV_NET_MISSING) {
		st = CHECK_WARN;
		sfmt(advice, "libvirt has no network named \"default\", so guests get no NAT network: "
		     "define it (virsh net-define /usr/share/libvirt/networks/default.xml), then "
		     "virsh net-start default && virsh net-autostart default.");
		result_fix(r, "libvirt.define_default_network");
	} else if (a.net == LV_NET_INACTIVE) {
		st = CHECK_WARN;
		sfmt(advice, "The default network is defined but not running, so guests on it fail to "
		     "start (\"Network not found: no network with matching name 'default'\" or "
		     "\"network 'default' is not active\"): virsh net-start default && virsh net-autostart default.");
		result_fix(r, "libvirt.start_default_network");
	} else if (a.net == LV_NET_ACTIVE && a.autostart == 0) {
		sfmt(advice, "The default network will not come back after a reboot: virsh net-autostart default.");
	}
	if (!a.qemu_answered) {
		char why[200], qadvice[512];
		size_t n = strlen(summary);

		st = CHECK_WARN;
		judge_qemu_view(ctx, &s, r, why, sizeof(why), qadvice, sizeof(qadvice));
		snprintf(summary + n, sizeof(summary) - n, "; it %s", why);
		/* The QEMU cause first: a network left down is the smaller matter. */
		if (advice[0]) {
			char net[512];
			size_t q = strlen(qadvice);

			scopy(net, advice);
			/* advice holds 512 bytes: a cut ends the network's sentence, never the QEMU one. */
			if (snprintf(qadvice + q, sizeof(qadvice) - q, " %s", net) < 0)
				qadvice[q] = '\0';
			scopy(advice, qadvice);
		} else {
			scopy(advice, qadvice);
		}
	}
	if (!s.root && s.access == 0) {
		size_t n = strlen(summary);

		st = CHECK_WARN;
		snprintf(summary + n, sizeof(summary) - n, "; %s cannot manage it",
			 s.user[0] ? s.user : "this user");
		advise_access(&s, r, advice, sizeof(advice));
	}
	result_set(r, st, "%s", summary);
	if (advice[0])
		result_advise(r, "%s", advice);
}

const struct check check_libvirt_daemon = {
	.id = "libvirt.daemon",
	.title = "libvirt daemon, its socket and access",
	.run = run_libvirt,
	.start = start_libvirt,
	.explain =
	"Finds the libvirt daemon that serves qemu:///system: the monolithic libvirtd, or\n"
	"the modular virtqemud (with virtproxyd), at the distributions' paths, and virsh.\n"
	"Live, it checks the daemon's socket (/run/libvirt/libvirt-sock or virtqemud-sock):\n"
	"that it exists, is a socket and accepts a connection. Then it asks the daemon\n"
	"itself through libvirt's client library (libvirt.so.0, loaded only when a socket\n"
	"is there, in a child process). First the calls that never need QEMU, within 3 s:\n"
	"libvirt's version, the host name, the driver, and whether the network named\n"
	"\"default\" exists, runs and starts at boot; no answer there means the daemon is\n"
	"wedged. Then the QEMU version, within 1.5 s more: libvirtd answers it only from its\n"
	"QEMU capabilities, and (re)probes QEMU first when they are stale. A daemon that\n"
	"answers but not that is a warning that says why: still probing QEMU after a start\n"
	"(its age, libvirt's capability cache in /var/cache/libvirt/qemu/capabilities), or\n"
	"re-probing on every call because its QEMU user (kvm.device) cannot use /dev/kvm.\n"
	"\n"
	"It also judges whether the user (or SUDO_USER) may manage VMs through the\n"
	"read-write socket: the socket's mode and group (unix_sock_group, unix_sock_rw_perms\n"
	"in libvirtd.conf), and, where auth_unix_rw is \"polkit\" (the default when libvirt\n"
	"is built with polkit), the polkit rules that let a group in (Debian's\n"
	"60-libvirt.rules: group libvirt). Under --root only these file-level facts are\n"
	"judged; whether the daemon runs is left open.\n"
	"\n"
	"Why: \"Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file\n"
	"or directory\" from virsh or virt-manager means the daemon is not running (or\n"
	"not installed); \"Permission denied\" or a polkit password prompt means the user\n"
	"is not in the libvirt group; \"network 'default' is not active\" means the default\n"
	"NAT network was never started.\n"
	"\n"
	"Fix: install libvirt-daemon-system (Debian) or libvirt-daemon-kvm (Fedora);\n"
	"systemctl enable --now libvirtd (or virtqemud.socket); sudo usermod -aG libvirt\n"
	"$USER and log in again; virsh net-start default && virsh net-autostart default.",
};
