// SPDX-License-Identifier: GPL-2.0-or-later
/* Finding QEMU and running it as a bounded child: shared by emulator.qemu and cpu.guest_model. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "checks/kvm.h"
#include "checks/qemu_probe.h"
#include "util.h"

static const struct qemu_arch qemu_arches[] = {
	{ "x86_64", "x86_64", "q35", "qemu64" },
	{ "i386", "i386", "pc", "qemu32" },
	{ "i486", "i386", "pc", "qemu32" },
	{ "i586", "i386", "pc", "qemu32" },
	{ "i686", "i386", "pc", "qemu32" },
	{ "aarch64", "aarch64", "virt", NULL },
	{ "arm64", "aarch64", "virt", NULL },
	{ "arm", "arm", "virt", NULL },
	{ "armv7l", "arm", "virt", NULL },
	{ "armv6l", "arm", "virt", NULL },
	{ "ppc64", "ppc64", "pseries", NULL },
	{ "ppc64le", "ppc64", "pseries", NULL },
	{ "ppc", "ppc", "g3beige", NULL },
	{ "s390x", "s390x", "s390-ccw-virtio", NULL },
	{ "riscv64", "riscv64", "virt", NULL },
	{ "riscv32", "riscv32", "virt", NULL },
	{ "loongarch64", "loongarch64", "virt", NULL },
	{ "mips64", "mips64", "malta", NULL },
};

/* Where distributions put the emulator besides $PATH. qemu-kvm is the host-arch emulator. */
struct emulator_place {
	const char *path;	/* "%s" is replaced by the QEMU arch name */
	const char *distro;
};

static const struct emulator_place emulator_places[] = {
	{ "/usr/bin/qemu-system-%s", "Debian, Ubuntu, Fedora, Arch, SUSE" },
	{ "/usr/local/bin/qemu-system-%s", "built from source" },
	{ "/usr/libexec/qemu-kvm", "RHEL, CentOS Stream, Rocky, Alma" },
	{ "/usr/bin/qemu-kvm", "older RHEL/SUSE, Ubuntu's compatibility wrapper" },
};

/* Under --root there is no $PATH to ask: the directories a login shell would search. */
static const char *const offline_path[] = {
	"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
};

const struct qemu_arch *qemu_host_arch(struct host *h, char *kernel, size_t size)
{
	struct utsname u;
	struct cpuinfo ci;

	kernel[0] = '\0';
	if (h->live && uname(&u) == 0)
		strtcpy(kernel, u.machine, size);
	else if (host_read_line(h, "/proc/sys/kernel/arch", kernel, size) < 0 && host_cpuinfo(h, &ci) == 0)
		strtcpy(kernel, ci.arch, size);
	for (size_t i = 0; i < ARRAY_SIZE(qemu_arches); i++)
		if (streq(qemu_arches[i].kernel, kernel))
			return &qemu_arches[i];
	return NULL;
}

/* An executable regular file inside the root; one entry per file however many names it has. */
static bool consider(const struct host *h, struct qemu_candidates *c, const char *path)
{
	struct stat st;

	if (host_stat(h, path, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return false;
	for (unsigned i = 0; i < c->n; i++)
		if (c->dev[i] == st.st_dev && c->ino[i] == st.st_ino)
			return true;	/* /bin -> /usr/bin on merged-/usr systems */
	if (c->n >= QEMU_MAX_CANDIDATES)
		return true;
	scopy(c->path[c->n], path);
	c->dev[c->n] = st.st_dev;
	c->ino[c->n] = st.st_ino;
	c->n++;
	return true;
}

/* $PATH (live) or the usual directories (offline) first, then the distribution paths. */
void qemu_find_binary(const struct host *h, const char *name, const char *qarch,
		      struct qemu_candidates *c, bool distro_places)
{
	char path[512];

	if (h->live) {
		const char *env = getenv("PATH");
		_cleanup_free_ char *copy = strdup(env && *env ? env : "/usr/bin:/bin");
		char *save = NULL;

		for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir;
		     dir = strtok_r(NULL, ":", &save)) {
			if (dir[0] != '/')
				continue;	/* a relative PATH entry depends on where we were started */
			sfmt(path, "%s/%s", dir, name);
			consider(h, c, path);
		}
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(offline_path); i++) {
			sfmt(path, "%s/%s", offline_path[i], name);
			consider(h, c, path);
		}
	}
	if (!distro_places)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(emulator_places); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		sfmt(path, emulator_places[i].path, qarch);
#pragma GCC diagnostic pop
		consider(h, c, path);
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Where output goes when there was no memory for a buffer: capacity 1, always "". */
static char no_room[2][1];

void probe_init(struct probe *p, size_t out_max)
{
	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->fd[0] = p->fd[1] = p->pidfd = -1;
	p->cap[0] = out_max ? out_max : PROBE_OUT_MAX;
	p->cap[1] = PROBE_OUT_MAX;
	for (int k = 0; k < 2; k++) {
		p->out[k] = malloc(p->cap[k]);
		if (!p->out[k]) {
			p->out[k] = no_room[k];
			p->cap[k] = 1;
		}
		p->out[k][0] = '\0';
	}
}

void probe_free(struct probe *p)
{
	for (int k = 0; k < 2; k++) {
		if (p->out[k] && p->out[k] != no_room[k])
			free(p->out[k]);
		p->out[k] = no_room[k];
		p->cap[k] = 1;
		p->len[k] = 0;
	}
}

/* Start one probe in its own process group (so a timeout kills its children too). */
static int probe_start(struct probe *p)
{
	static char *const envp[] = { (char *)"LC_ALL=C", (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
				      NULL };
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, in[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dflt;
	int r;

	p->fd[0] = p->fd[1] = p->pidfd = -1;
	p->pid = -1;
	/* stdin is a socket so that send(MSG_NOSIGNAL) to a child that already died cannot
	 * raise SIGPIPE in us. */
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    (p->input && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0)) {
		r = -errno;
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	if (p->input)
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
	/* Ours are all O_CLOEXEC, but whatever our caller left open (a lock, the write end of
	 * someone's pipe) must not live on in QEMU: one close_range() in the child. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&dflt);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dflt);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	r = -posix_spawn(&p->pid, p->argv[0], &fa, &attr, (char *const *)p->argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r < 0) {
		p->pid = -1;
		goto fail;
	}
	close_fd(&out[1]);
	close_fd(&err[1]);
	close_fd(&in[0]);
	if (p->input) {
		/* A few hundred bytes always fit the socket buffer; a child that died early gives
		 * EPIPE, and its exit status and stderr tell the story. */
		if (send(in[1], p->input, strlen(p->input), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			p->input_err = -errno;
		close_fd(&in[1]);
	}
	p->fd[0] = out[0];
	p->fd[1] = err[0];
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	return 0;
fail:
	p->spawn_err = r;
	close_fd(&out[0]), close_fd(&out[1]), close_fd(&err[0]), close_fd(&err[1]);
	close_fd(&in[0]), close_fd(&in[1]);
	return r;
}

static void *probe_thread(void *data)
{
	probe_start(data);
	return NULL;
}

static void probe_drain(struct probe *p, int which)
{
	char scratch[512];

	for (;;) {
		size_t room = p->cap[which] - 1 - p->len[which];
		ssize_t n = room ? read(p->fd[which], p->out[which] + p->len[which], room)
				 : read(p->fd[which], scratch, sizeof(scratch));	/* keep the child unblocked */

		if (n > 0) {
			if (room)
				p->len[which] += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			close_fd(&p->fd[which]);
		break;
	}
	p->out[which][p->len[which]] = '\0';
}

static void probe_reap(struct probe *p, bool block)
{
	int st;

	if (p->pid < 0 || p->exited)
		return;
	if (waitpid(p->pid, &st, block ? 0 : WNOHANG) == p->pid) {
		p->status = st;
		p->exited = true;
	}
}

/*
 * Start all probes at once and collect them together: their start-up costs overlap.
 * They share one deadline; one still running at it is killed with its process group and
 * reaped, never left behind.
 */
/*
 * posix_spawn returns only once the child has exec'd, and exec of an 18 MB QEMU takes
 * milliseconds here: each probe starts from its own thread, so the execs overlap with
 * each other and with whatever the caller does until probes_collect().
 */
void probes_start(struct probe *ps, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		ps[i].threaded = pthread_create(&ps[i].thread, NULL, probe_thread, &ps[i]) == 0;
		if (!ps[i].threaded)
			probe_start(&ps[i]);
	}
}

void probes_collect(struct probe *ps, unsigned n, uint64_t deadline)
{
	for (unsigned i = 0; i < n; i++)
		if (ps[i].threaded) {
			pthread_join(ps[i].thread, NULL);
			ps[i].threaded = false;
		}
	for (;;) {
		struct pollfd pfd[32];
		struct probe *owner[32];
		int which[32];	/* 0 stdout, 1 stderr, 2 pidfd */
		unsigned np = 0;
		bool running = false, blind = false;
		uint64_t now = now_us();
		int r, wait_ms;

		for (unsigned i = 0; i < n; i++) {
			struct probe *p = &ps[i];

			probe_reap(p, false);
			if (p->pid < 0 || p->exited)
				continue;
			running = true;
			for (int k = 0; k < 3 && np < ARRAY_SIZE(pfd); k++) {
				int fd = k < 2 ? p->fd[k] : p->pidfd;

				if (fd < 0)
					continue;
				pfd[np] = (struct pollfd){ .fd = fd, .events = POLLIN };
				owner[np] = p;
				which[np++] = k;
			}
			blind |= p->pidfd < 0;
		}
		if (!running || now >= deadline)
			break;
		wait_ms = (int)((deadline - now + 999) / 1000);
		/* Without a pidfd nothing wakes us at exit: look again every millisecond. */
		if (blind && wait_ms > 1)
			wait_ms = 1;
		r = poll(pfd, np, wait_ms);
		if (r < 0 && errno != EINTR)
			break;
		for (unsigned k = 0; k < np; k++)
			if (pfd[k].revents && which[k] < 2)
				probe_drain(owner[k], which[k]);
	}
	for (unsigned i = 0; i < n; i++) {
		struct probe *p = &ps[i];

		probe_reap(p, false);
		if (p->pid >= 0 && !p->exited) {
			p->timed_out = true;
			kill(-p->pid, SIGKILL);
			kill(p->pid, SIGKILL);
			probe_reap(p, true);
		}
		for (int k = 0; k < 2; k++) {
			if (p->fd[k] >= 0)
				probe_drain(p, k);	/* whatever it wrote before it died */
			close_fd(&p->fd[k]);
		}
		close_fd(&p->pidfd);
	}
}

bool probe_ok(const struct probe *p)
{
	return p->exited && !p->timed_out && WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0;
}

/* The line that says why a probe failed: QEMU's "error:" line if any, else its first line. */
void probe_failure_line(const struct probe *p, char *buf, size_t size)
{
	const char *text = p->out[1], *pick = NULL;

	for (const char *line = text; *line;) {
		const char *eol = strchrnul(line, '\n');

		if (!pick && eol > line)
			pick = line;
		if (memmem(line, (size_t)(eol - line), "error", 5)) {
			pick = line;
			break;
		}
		line = *eol ? eol + 1 : eol;
	}
	if (pick) {
		size_t n = (size_t)(strchrnul(pick, '\n') - pick);

		snprintf(buf, size, "%.*s", (int)n, pick);
	} else if (p->spawn_err) {
		snprintf(buf, size, "cannot execute: %s", strerror(-p->spawn_err));
	} else if (p->timed_out) {
		snprintf(buf, size, "no answer within its time limit (killed)");
	} else if (p->exited && WIFSIGNALED(p->status)) {
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(p->status),
			 strsignal(WTERMSIG(p->status)));
	} else if (p->exited && WIFEXITED(p->status)) {
		snprintf(buf, size, "exit status %d", WEXITSTATUS(p->status));
	} else {
		snprintf(buf, size, "did not run");
	}
}

static const char deep_qmp[] = "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"quit\"}\n";

/*
 * --deep: build a real KVM machine with one vCPU and quit over QMP before it runs a
 * single instruction (-S). Creating the vCPU and resetting it (CPUID, MSRs) is where a
 * host that advertises more than it delivers fails, as "-cpu host" does on this machine.
 */
void qemu_kvm_argv(struct probe *p, const char *emu, const struct qemu_arch *qa, const char *cpu,
		   char *machine, size_t msize)
{
	unsigned i = 0;

	snprintf(machine, msize, "%s,accel=kvm", qa->machine);
	p->argv[i++] = emu;
	p->argv[i++] = "-machine";
	p->argv[i++] = machine;
	p->argv[i++] = "-cpu";
	p->argv[i++] = cpu;
	p->argv[i++] = "-m";
	p->argv[i++] = "64";
	p->argv[i++] = "-smp";
	p->argv[i++] = "1";
	p->argv[i++] = "-nodefaults";
	p->argv[i++] = "-no-user-config";
	p->argv[i++] = "-display";
	p->argv[i++] = "none";
	p->argv[i++] = "-S";
	p->argv[i++] = "-qmp";
	p->argv[i++] = "stdio";
	p->argv[i] = NULL;
	p->input = deep_qmp;
}

