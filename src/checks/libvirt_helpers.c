// SPDX-License-Identifier: GPL-2.0-or-later
/* libvirt.helpers: the helper daemons a guest start talks to (virtlogd, virtlockd, modular drivers). */
#include <errno.h>
#include <stdlib.h>

#include "checks/check.h"
#include "checks/libvirt.h"
#include "util.h"

#define QEMU_CONF "/etc/libvirt/qemu.conf"
/* The same bound libvirt.daemon gives its connect(): a unix connect answers at once or never. */
#define HELPER_CONNECT_TIMEOUT_MS 500
#define PROC_NET_UNIX "/proc/net/unix"

/* When a helper is needed: the settings in qemu.conf, or a modular daemon serving qemu:///system. */
enum helper_need { NEED_LOGD, NEED_LOCKD, NEED_MODULAR };

struct helper {
	const char *name;
	const char *bins[3];
	const char *sock;
	enum helper_need need;
	enum check_status down;	/* what it means when it does not accept: FAIL or WARN */
	const char *needed_for;	/* what fails without it, for summaries */
	const char *why;	/* why libvirt talks to it, for advice */
	const char *fix;	/* fix id, or NULL */
	const char *start;	/* how to start it, for advice */
};

static const struct helper helpers[] = {
	{ "virtlogd", { "/usr/sbin/virtlogd", "/usr/bin/virtlogd", "/usr/local/sbin/virtlogd" },
	  "/run/libvirt/virtlogd-sock", NEED_LOGD, CHECK_FAIL, "every guest start fails",
	  "libvirt hands each guest's console and log output to virtlogd (qemu.conf stdio_handler = "
	  "\"logd\", the default)", "services.start_virtlogd",
	  "systemctl enable --now virtlogd.socket (without a service manager: virtlogd --daemon)" },
	{ "virtlockd", { "/usr/sbin/virtlockd", "/usr/bin/virtlockd", "/usr/local/sbin/virtlockd" },
	  "/run/libvirt/virtlockd-sock", NEED_LOCKD, CHECK_FAIL, "every guest start fails",
	  "libvirt takes each guest's disk leases from virtlockd (qemu.conf lock_manager = \"lockd\")",
	  NULL, "systemctl enable --now virtlockd.socket (without a service manager: virtlockd --daemon)" },
	{ "virtnetworkd", { "/usr/sbin/virtnetworkd", "/usr/bin/virtnetworkd", "/usr/local/sbin/virtnetworkd" },
	  "/run/libvirt/virtnetworkd-sock", NEED_MODULAR, CHECK_FAIL,
	  "guests on libvirt networks (the default network) fail to start",
	  "virtqemud asks virtnetworkd for every <interface type='network'>", "services.enable_libvirtd",
	  "systemctl enable --now virtnetworkd.socket" },
	{ "virtstoraged", { "/usr/sbin/virtstoraged", "/usr/bin/virtstoraged", "/usr/local/sbin/virtstoraged" },
	  "/run/libvirt/virtstoraged-sock", NEED_MODULAR, CHECK_WARN,
	  "disks from storage pools (virt-install's) cannot be created or used",
	  "virtqemud asks virtstoraged for every disk in a storage pool", "services.enable_libvirtd",
	  "systemctl enable --now virtstoraged.socket" },
};
#define N_HELPERS ARRAY_SIZE(helpers)

enum helper_state { ST_ACCEPTING, ST_LISTENING, ST_MISSING, ST_NOT_SOCKET, ST_REFUSED, ST_TIMEOUT,
		    ST_DENIED, ST_ERROR };
static const char *const state_names[] = {
	[ST_ACCEPTING] = "accepting", [ST_LISTENING] = "listening", [ST_MISSING] = "missing",
	[ST_NOT_SOCKET] = "not_a_socket", [ST_REFUSED] = "refused", [ST_TIMEOUT] = "timeout",
	[ST_DENIED] = "denied", [ST_ERROR] = "error",
};

static bool state_up(enum helper_state s)
{
	return s == ST_ACCEPTING || s == ST_LISTENING;
}

static const char *find_bin(const struct host *h, const struct helper *hp)
{
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE(hp->bins) && hp->bins[i]; i++)
		if (host_stat(h, hp->bins[i], &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return hp->bins[i];
	return NULL;
}

/*
 * Does a listening unix socket bound to path exist? /proc/net/unix lists every bound socket
 * with its flags (__SO_ACCEPTCON, 0x10000, while it listens) to any user, so this answers
 * where connect() is refused by the socket's mode (virtlogd-sock is 0600 root). 1, 0, -errno.
 */
static int unix_listener(const struct host *h, const char *path)
{
	_cleanup_free_ char *text = NULL;
	size_t plen = strlen(path);
	int r = host_read(h, PROC_NET_UNIX, HOST_READ_MAX, &text, NULL);

	if (r < 0)
		return r;
	for (char *line = text; line && *line; ) {
		char *end = strchrnul(line, '\n'), *path_at = NULL;
		unsigned long flags = 0;
		unsigned field = 0;

		/* Num RefCount Protocol Flags Type St Inode Path */
		for (char *p = line; p < end && !path_at; ) {
			while (p < end && *p == ' ')
				p++;
			if (p >= end)
				break;
			if (field == 3)
				flags = strtoul(p, NULL, 16);
			if (field == 7)
				path_at = p;
			while (p < end && *p != ' ')
				p++;
			field++;
		}
		if (path_at && (size_t)(end - path_at) == plen && memcmp(path_at, path, plen) == 0 &&
		    (flags & 0x10000))
			return 1;
		line = *end ? end + 1 : NULL;
	}
	return 0;
}

static enum helper_state probe(const struct host *h, const char *sock, int *err)
{
	struct stat st;
	int e = host_stat(h, sock, &st);

	*err = e;
	if (e == -ENOENT)
		return ST_MISSING;
	if (e < 0)
		return ST_ERROR;
	if (!S_ISSOCK(st.st_mode)) {
		*err = -ENOTSOCK;
		return ST_NOT_SOCKET;
	}
	e = unix_socket_probe(sock, HELPER_CONNECT_TIMEOUT_MS);
	*err = e;
	switch (e) {
	case 0:
		return ST_ACCEPTING;
	case -ECONNREFUSED:
		return ST_REFUSED;	/* a socket file left behind by a daemon that is gone */
	case -ETIMEDOUT:
	case -EAGAIN:
		return ST_TIMEOUT;
	case -EACCES:
	case -EPERM:
		/* Not ours to connect to; whether someone listens is still public. */
		e = unix_listener(h, sock);
		return e == 1 ? ST_LISTENING : e == 0 ? ST_REFUSED : ST_DENIED;
	default:
		return ST_ERROR;
	}
}

/* Append ", name" to a summary list. */
static void list_add(char *buf, size_t size, const char *name)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, "%s%s", n ? ", " : "", name);
}

static void run_helpers(struct check_ctx *ctx, struct check_result *r)
{
	const struct host *h = ctx->host;
	struct libvirt_daemon d;
	_cleanup_free_ char *conf = NULL;
	char stdio[32] = "logd", lockm[32] = "", key[48], up[128] = "", advice[512] = "";
	bool conf_ok, needed[N_HELPERS] = { 0 }, down[N_HELPERS] = { 0 }, any = false;
	const struct helper *worst = NULL, *missing_bin = NULL;
	enum helper_state worst_state = ST_ACCEPTING;
	int worst_err = 0, conf_err;
	unsigned n_denied = 0;

	if (libvirt_pick_daemon(h, &d) < 0) {
		detail_null(r, "daemon");
		result_set(r, CHECK_SKIP, "libvirt is not installed (see libvirt.daemon)");
		return;
	}
	detail_str(r, "daemon", "%s", d.name);

	/* qemu.conf is 0600 root: for anyone else the defaults are assumed, and said so. */
	conf_err = host_read(h, QEMU_CONF, HOST_READ_MAX, &conf, NULL);
	conf_ok = conf_err == 0;
	detail_bool(r, "qemu_conf_readable", conf_ok);
	if (conf_ok) {
		libvirt_conf_get(conf, "stdio_handler", stdio, sizeof(stdio));
		libvirt_conf_get(conf, "lock_manager", lockm, sizeof(lockm));
	}
	detail_str(r, "stdio_handler", "%s", stdio);
	detail_str(r, "lock_manager", "%s", lockm[0] ? lockm : "none");

	detail_list_add(r, "needed", NULL);
	if (h->live)
		detail_list_add(r, "down", NULL);	/* offline nothing is known to be down */
	for (size_t i = 0; i < N_HELPERS; i++) {
		const struct helper *hp = &helpers[i];
		const char *bin;

		switch (hp->need) {
		case NEED_LOGD:
			/* Anything but "file" goes through virtlogd; libvirt rejects other values. */
			needed[i] = !streq(stdio, "file");
			break;
		case NEED_LOCKD:
			needed[i] = streq(lockm, "lockd");
			break;
		case NEED_MODULAR:
			needed[i] = d.modular;
			break;
		}
		if (!needed[i])
			continue;
		any = true;
		detail_list_add(r, "needed", hp->name);
		sfmt(key, "%s_socket", hp->name);
		detail_str(r, key, "%s", hp->sock);
		bin = find_bin(h, hp);
		sfmt(key, "%s_installed", hp->name);
		detail_bool(r, key, bin != NULL);
		if (!bin && !missing_bin)
			missing_bin = hp;

		sfmt(key, "%s_state", hp->name);
		if (!h->live) {
			detail_null(r, key);
			continue;
		}
		int err;
		enum helper_state st = probe(h, hp->sock, &err);

		detail_str(r, key, "%s", state_names[st]);
		if (err < 0) {
			sfmt(key, "%s_error", hp->name);
			detail_str(r, key, "%s", strerror(-err));
		}
		if (state_up(st)) {
			list_add(up, sizeof(up), hp->name);
			continue;
		}
		if (st == ST_DENIED) {
			n_denied++;
			continue;
		}
		detail_list_add(r, "down", hp->name);
		down[i] = true;
		/* The helper whose absence costs most is the one the summary names. */
		if (!worst || (hp->down == CHECK_FAIL && worst->down != CHECK_FAIL)) {
			worst = hp;
			worst_state = st;
			worst_err = err;
		}
	}

	/* Absent, libvirt uses its defaults too; unreadable, we only assume it does. */
	const char *assumed = conf_err == -EACCES || conf_err == -EPERM ?
		" (" QEMU_CONF " is unreadable here: libvirt's defaults assumed)" : "";

	if (!any) {
		result_set(r, CHECK_PASS, "no helper daemon needed: stdio_handler = \"%s\", no lock manager, "
			   "%s serves qemu:///system", stdio, d.name);
		return;
	}
	if (missing_bin) {
		result_set(r, CHECK_FAIL, "%s is needed but not installed: %s", missing_bin->name,
			   missing_bin->needed_for);
		result_advise(r, "%s, and no %s binary is installed. Install libvirt's daemons "
			      "(libvirt-daemon-system on Debian).", missing_bin->why, missing_bin->name);
		result_fix(r, "packages.install_libvirt");
		return;
	}
	if (!h->live) {
		char names[128] = "";

		for (size_t i = 0; i < N_HELPERS; i++)
			if (needed[i])
				list_add(names, sizeof(names), helpers[i].name);
		result_set(r, CHECK_SKIP, "%s needs %s (installed); whether it runs is a live fact "
			   "(offline root)", d.name, names);
		return;
	}
	if (worst) {
		char what[160];
		/* What libvirt's client says when it cannot reach the helper: its own words. */
		const char *err_text = worst_state == ST_MISSING ? "No such file or directory" :
			worst_state == ST_REFUSED ? "Connection refused" :
			worst_err < 0 ? strerror(-worst_err) : "no answer";

		if (worst_state == ST_MISSING)
			sfmt(what, "no socket %s", worst->sock);
		else if (worst_state == ST_REFUSED)
			sfmt(what, "%s is left over, nothing listens", worst->sock);
		else if (worst_state == ST_NOT_SOCKET)
			sfmt(what, "%s is not a socket", worst->sock);
		else
			sfmt(what, "%s: %s", worst->sock, err_text);
		result_set(r, worst->down, "%s is not running (%s): %s%s", worst->name, what,
			   worst->needed_for, assumed);
		sfmt(advice, "%s, so without it libvirt says \"Failed to connect socket to '%s': %s\". "
		     "Start it: %s.", worst->why, worst->sock, err_text, worst->start);
		for (size_t i = 0; i < N_HELPERS; i++)
			if (down[i] && helpers[i].fix)
				result_fix(r, helpers[i].fix);
		result_advise(r, "%s", advice);
		return;
	}
	if (n_denied) {
		result_set(r, CHECK_SKIP, "cannot tell whether %s run: their sockets are closed to this user "
			   "and %s does not say", d.modular ? "the helper daemons" : "virtlogd", PROC_NET_UNIX);
		return;
	}
	result_set(r, CHECK_PASS, "%s accepting connections%s", up, assumed);
}

const struct check check_libvirt_helpers = {
	.id = "libvirt.helpers",
	.title = "libvirt's helper daemons and driver sockets",
	.run = run_helpers,
	.explain =
	"A guest start through libvirt talks to more than the main daemon. With qemu.conf's\n"
	"stdio_handler = \"logd\" (the default) every guest's console and log output goes\n"
	"through virtlogd; with lock_manager = \"lockd\" its disk leases come from\n"
	"virtlockd; where the modular daemons serve qemu:///system (virtqemud, as\n"
	"libvirt.daemon decides), virtqemud asks virtnetworkd for networks and\n"
	"virtstoraged for storage pools. For each one needed, this check finds the binary\n"
	"and, live, its socket under /run/libvirt: that it exists, is a socket and accepts a\n"
	"connection (a non-blocking connect, 0.5 s at most). A user whose connect() is\n"
	"refused by the socket's mode (virtlogd-sock is 0600 root) gets the answer from\n"
	"/proc/net/unix, which lists listening sockets to everyone. qemu.conf is 0600 root:\n"
	"for other users libvirt's defaults are assumed, and the summary says so. Under\n"
	"--root only the configuration and the binaries are judged.\n"
	"\n"
	"Why: with virtlogd not running (no systemd to socket-activate it, or\n"
	"virtlogd.socket disabled) every guest start fails with \"Failed to connect socket\n"
	"to '/run/libvirt/virtlogd-sock': No such file or directory\", although libvirtd\n"
	"itself answers; a socket left behind by a killed daemon gives \"Connection\n"
	"refused\".\n"
	"\n"
	"Verdicts: libvirt not installed: skip. A needed helper not installed: fail.\n"
	"virtlogd, virtlockd or virtnetworkd not accepting: fail; virtstoraged: warn (only\n"
	"pool disks need it). All accepting, or none needed: pass.\n"
	"\n"
	"Fix: services.start_virtlogd (systemctl enable --now virtlogd.socket; without a\n"
	"service manager, virtlogd --daemon); the modular sockets with\n"
	"services.enable_libvirtd; virtlockd: systemctl enable --now virtlockd.socket.",
};
