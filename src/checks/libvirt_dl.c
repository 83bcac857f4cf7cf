// SPDX-License-Identifier: GPL-2.0-or-later
/* Ask a running libvirt daemon for facts through libvirt.so.0, in a forked child with a deadline. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "checks/libvirt_dl.h"
#include "util.h"

/*
 * The few entry points we use, declared from libvirt's documented API rather than its
 * headers, so that building needs no libvirt-dev and a host without libvirt still runs
 * every other check. Pointers to libvirt's objects are opaque here.
 */
typedef void *vir_conn;
typedef void *vir_net;
/* The stable leading fields of virError (virterror.h: code, domain, message, ...). */
struct vir_error_head {
	int code;
	int domain;
	char *message;
};
#define VIR_ERR_NO_NETWORK 43

struct libvirt_api {
	vir_conn (*open_ro)(const char *uri);
	int (*close)(vir_conn c);
	const char *(*get_type)(vir_conn c);
	int (*get_version)(vir_conn c, unsigned long *v);
	int (*get_lib_version)(vir_conn c, unsigned long *v);
	char *(*get_hostname)(vir_conn c);
	vir_net (*net_lookup)(vir_conn c, const char *name);
	int (*net_is_active)(vir_net n);
	int (*net_get_autostart)(vir_net n, int *autostart);
	int (*net_free)(vir_net n);
	struct vir_error_head *(*last_error)(void);
	const char *(*last_error_message)(void);
	void (*set_error_func)(void *data, void (*fn)(void *data, void *err));
};

static const struct {
	const char *name;
	size_t offset;
} symbols[] = {
	{ "virConnectOpenReadOnly", offsetof(struct libvirt_api, open_ro) },
	{ "virConnectClose", offsetof(struct libvirt_api, close) },
	{ "virConnectGetType", offsetof(struct libvirt_api, get_type) },
	{ "virConnectGetVersion", offsetof(struct libvirt_api, get_version) },
	{ "virConnectGetLibVersion", offsetof(struct libvirt_api, get_lib_version) },
	{ "virConnectGetHostname", offsetof(struct libvirt_api, get_hostname) },
	{ "virNetworkLookupByName", offsetof(struct libvirt_api, net_lookup) },
	{ "virNetworkIsActive", offsetof(struct libvirt_api, net_is_active) },
	{ "virNetworkGetAutostart", offsetof(struct libvirt_api, net_get_autostart) },
	{ "virNetworkFree", offsetof(struct libvirt_api, net_free) },
	{ "virGetLastError", offsetof(struct libvirt_api, last_error) },
	{ "virGetLastErrorMessage", offsetof(struct libvirt_api, last_error_message) },
	{ "virSetErrorFunc", offsetof(struct libvirt_api, set_error_func) },
};

void libvirt_version_str(unsigned long v, char *buf, size_t size)
{
	snprintf(buf, size, "%lu.%lu.%lu", v / 1000000, v / 1000 % 1000, v % 1000);
}

/* libvirt's default error handler prints every error to stderr; we report them ourselves. */
static void quiet_errors(void *data, void *err)
{
	(void)data;
	(void)err;
}

static void last_error(const struct libvirt_api *api, char *buf, size_t size)
{
	const char *m = api->last_error_message();

	strtcpy(buf, m ? m : "unknown libvirt error", size);
}

static void ask_network(const struct libvirt_api *api, vir_conn conn, struct libvirt_answer *a)
{
	struct vir_error_head *e;
	vir_net net = api->net_lookup(conn, "default");
	int active, autostart;

	if (!net) {
		e = api->last_error();
		if (e && e->code == VIR_ERR_NO_NETWORK) {
			a->net = LV_NET_MISSING;
		} else {
			a->net = LV_NET_UNKNOWN;
			last_error(api, a->net_error, sizeof(a->net_error));
		}
		return;
	}
	active = api->net_is_active(net);
	if (active < 0) {
		a->net = LV_NET_UNKNOWN;
		last_error(api, a->net_error, sizeof(a->net_error));
	} else {
		a->net = active ? LV_NET_ACTIVE : LV_NET_INACTIVE;
	}
	if (api->net_get_autostart(net, &autostart) == 0)
		a->autostart = autostart ? 1 : 0;
	api->net_free(net);
}

static void write_all(int fd, const void *buf, size_t len);

/*
 * Liveness first, from calls that never need QEMU (libvirt's version, the host name, the
 * driver's name, the network driver), sent as part 1; then virConnectGetVersion, which makes
 * libvirtd look up its QEMU capabilities and so wait for any (re)probe of QEMU: part 2.
 */
static void converse(const char *uri, struct libvirt_answer *a, int fd)
{
	char *hostname;
	struct libvirt_api api;
	const char *type;
	vir_conn conn;
	void *lib;

	/*
	 * Lazy binding: libvirt and its ~50 libraries have thousands of symbols and we call a
	 * dozen; RTLD_NOW measured ~2 ms slower. A symbol that fails to bind later kills only
	 * this child, which the parent reports.
	 */
	lib = dlopen(LIBVIRT_SONAME, RTLD_LAZY | RTLD_LOCAL);
	if (!lib) {
		const char *e = dlerror();

		a->stage = LV_STAGE_NO_LIBRARY;
		scopy(a->error, e ? e : LIBVIRT_SONAME ": cannot load");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(symbols); i++) {
		void *sym = dlsym(lib, symbols[i].name);

		if (!sym) {
			a->stage = LV_STAGE_NO_SYMBOL;
			sfmt(a->error, "%s lacks %s", LIBVIRT_SONAME, symbols[i].name);
			return;
		}
		/* dlsym hands out data pointers; POSIX guarantees they convert to functions. */
		memcpy((char *)&api + symbols[i].offset, &sym, sizeof(sym));
	}
	api.set_error_func(NULL, quiet_errors);

	conn = api.open_ro(uri);
	if (!conn) {
		a->stage = LV_STAGE_OPEN_FAILED;
		last_error(&api, a->error, sizeof(a->error));
		return;
	}
	a->stage = LV_STAGE_CONNECTED;
	if (api.get_lib_version(conn, &a->lib_version) < 0)
		a->lib_version = 0;
	hostname = api.get_hostname(conn);
	if (hostname)
		scopy(a->hostname, hostname);
	free(hostname);	/* libvirt documents free() for it */
	/* The driver's name ("QEMU") comes from the driver, not from QEMU. */
	type = api.get_type(conn);
	if (type)
		scopy(a->hypervisor, type);
	ask_network(&api, conn, a);
	a->part = 1;
	write_all(fd, a, sizeof(*a));

	if (api.get_version(conn, &a->hv_version) < 0)
		a->hv_version = 0;
	a->part = 2;
	write_all(fd, a, sizeof(*a));
	api.close(conn);
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static _Noreturn void child_main(const char *uri, int fd, pid_t parent)
{
	struct libvirt_answer a = { .stage = LV_STAGE_NONE, .autostart = -1 };
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* Outlive nothing: if virt-doctor dies, so does its question. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	/* Whatever libvirt would print is reported through the answer instead. */
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	converse(uri, &a, fd);
	if (a.stage != LV_STAGE_CONNECTED) {
		a.part = 1;
		write_all(fd, &a, sizeof(a));
	}
	_exit(0);
}

int libvirt_ask_start(const char *uri, struct libvirt_call *call)
{
	int p[2];
	pid_t parent = getpid();

	call->pid = -1;
	call->fd = -1;
	call->start_us = now_us();
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);	/* the child must not inherit and flush our buffered output */
	call->pid = fork();
	if (call->pid < 0) {
		int err = -errno;

		close(p[0]);
		close(p[1]);
		return err;
	}
	if (call->pid == 0) {
		close(p[0]);
		child_main(uri, p[1], parent);
	}
	close(p[1]);
	call->fd = p[0];
	return 0;
}

/* Read one whole record by deadline: 1 got it, 0 EOF or short, -ETIMEDOUT, -errno. */
static int read_record(int fd, unsigned long long deadline, struct libvirt_answer *a)
{
	size_t got = 0;

	for (;;) {
		unsigned long long now = now_us();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int pr;

		if (now >= deadline)
			return -ETIMEDOUT;
		pr = poll(&pfd, 1, (int)((deadline - now + 999) / 1000));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -errno;
		if (pr == 0)
			continue;	/* the loop head sees the deadline */
		n = read(fd, (char *)a + got, sizeof(*a) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;	/* EOF: the child has exited */
		got += (size_t)n;
		if (got == sizeof(*a))
			return 1;
	}
}

int libvirt_ask_finish(struct libvirt_call *call, unsigned timeout_ms, unsigned qemu_timeout_ms,
		       struct libvirt_answer *a)
{
	unsigned long long deadline = call->start_us + (unsigned long long)timeout_ms * 1000, t1;
	struct libvirt_answer second;
	int r, st;

	memset(a, 0, sizeof(*a));
	if (call->pid < 0)
		return -ECHILD;
	r = read_record(call->fd, deadline, a);
	t1 = now_us();
	if (r == 1 && a->part == 1 && a->stage == LV_STAGE_CONNECTED) {
		a->cheap_us = t1 - call->start_us;
		/* The QEMU view gets its own bound, counted from the cheap answer. */
		int r2 = read_record(call->fd, t1 + (unsigned long long)qemu_timeout_ms * 1000, &second);

		a->qemu_us = now_us() - t1;
		if (r2 == 1 && second.part == 2) {
			/* Only the fields part 2 adds: the child cannot rewrite what part 1 said. */
			a->hv_version = second.hv_version;
			a->qemu_answered = true;
		}
	} else if (r == 1) {
		a->cheap_us = t1 - call->start_us;
	}
	close(call->fd);
	call->fd = -1;
	/* Done or not, the child has nothing more to say: never leave it behind. */
	kill(call->pid, SIGKILL);
	while (waitpid(call->pid, &st, 0) < 0 && errno == EINTR)
		;
	call->pid = -1;
	if (r < 0)
		return r;
	if (r == 0 || a->part != 1) {
		memset(a, 0, sizeof(*a));
		return -EPROTO;
	}
	a->hypervisor[sizeof(a->hypervisor) - 1] = '\0';
	a->error[sizeof(a->error) - 1] = '\0';
	a->net_error[sizeof(a->net_error) - 1] = '\0';
	a->hostname[sizeof(a->hostname) - 1] = '\0';
	return 0;
}

void libvirt_ask_cancel(struct libvirt_call *call)
{
	int st;

	if (call->pid < 0)
		return;
	kill(call->pid, SIGKILL);
	while (waitpid(call->pid, &st, 0) < 0 && errno == EINTR)
		;
	if (call->fd >= 0)
		close(call->fd);
	call->pid = -1;
	call->fd = -1;
}
