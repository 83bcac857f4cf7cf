// SPDX-License-Identifier: GPL-2.0-or-later
/* emulator.qemu: the QEMU that libvirt would run for this architecture, its version, and (--deep) KVM. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "checks/check.h"
#include "checks/kvm.h"
#include "util.h"

/* How each kernel architecture is called by QEMU, and how --deep starts it. */
struct qemu_arch {
	const char *kernel;	/* uname -m, /proc/sys/kernel/arch or the cpuinfo arch */
	const char *qemu;	/* qemu-system-<this> */
	const char *machine;	/* a machine type that exists on every QEMU for this target */
	const char *fallback_cpu;	/* CPU model to retry with when -cpu host fails; NULL: none */
};

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

#define VERSION_TIMEOUT_MS 2000	/* --version takes ~13 ms here; 2 s means it hangs */
#define DEEP_TIMEOUT_MS 5000	/* a KVM machine with one vCPU starts in well under 1 s */
#define PROBE_OUT_MAX 2048
#define MAX_CANDIDATES 12

/* One child process: argv in, stdout and stderr out, bounded in time. */
struct probe {
	const char *argv[24];
	const char *input;	/* written to stdin, then closed; NULL: /dev/null */
	pid_t pid;
	int fd[2];		/* stdout, stderr read ends; -1 when closed */
	int pidfd;		/* readable when it exits (Linux 5.3+); -1 without */
	char out[2][PROBE_OUT_MAX];
	size_t len[2];
	int status;		/* wait status */
	bool timed_out, exited;
	int spawn_err;		/* -errno when it never started */
	int input_err;		/* -errno writing its stdin */
	pthread_t thread;	/* the thread running probe_start(), until joined */
	bool threaded;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
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
		size_t room = sizeof(p->out[which]) - 1 - p->len[which];
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
static void probes_start(struct probe *ps, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		ps[i].threaded = pthread_create(&ps[i].thread, NULL, probe_thread, &ps[i]) == 0;
		if (!ps[i].threaded)
			probe_start(&ps[i]);
	}
}

static void probes_collect(struct probe *ps, unsigned n, uint64_t deadline)
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

static bool probe_ok(const struct probe *p)
{
	return p->exited && !p->timed_out && WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0;
}

/* "QEMU emulator version 7.2.22 (Debian ...)", "qemu-img version 7.2.22 (...)" -> "7.2.22". */
static bool parse_version(const char *text, char *buf, size_t size)
{
	const char *p = strstr(text, "version ");
	size_t n;

	if (!p)
		return false;
	p += strlen("version ");
	n = strspn(p, "0123456789.");
	if (!n || n >= size)
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

/* The line that says why a probe failed: QEMU's "error:" line if any, else its first line. */
static void failure_line(const struct probe *p, char *buf, size_t size)
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

static const struct qemu_arch *host_qemu_arch(struct host *h, char *kernel, size_t size)
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

struct candidates {
	char path[MAX_CANDIDATES][256];
	dev_t dev[MAX_CANDIDATES];
	ino_t ino[MAX_CANDIDATES];
	unsigned n;
};

/* An executable regular file inside the root; one entry per file however many names it has. */
static bool consider(const struct host *h, struct candidates *c, const char *path)
{
	struct stat st;

	if (host_stat(h, path, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return false;
	for (unsigned i = 0; i < c->n; i++)
		if (c->dev[i] == st.st_dev && c->ino[i] == st.st_ino)
			return true;	/* /bin -> /usr/bin on merged-/usr systems */
	if (c->n >= MAX_CANDIDATES)
		return true;
	scopy(c->path[c->n], path);
	c->dev[c->n] = st.st_dev;
	c->ino[c->n] = st.st_ino;
	c->n++;
	return true;
}

/* $PATH (live) or the usual directories (offline) first, then the distribution paths. */
static void find_binary(const struct host *h, const char *name, const char *qarch,
			struct candidates *c, bool distro_places)
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

static const char deep_qmp[] = "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"quit\"}\n";

/*
 * --deep: build a real KVM machine with one vCPU and quit over QMP before it runs a
 * single instruction (-S). Creating the vCPU and resetting it (CPUID, MSRs) is where a
 * host that advertises more than it delivers fails, as "-cpu host" does on this machine.
 */
static void deep_argv(struct probe *p, const char *emu, const struct qemu_arch *qa, const char *cpu,
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

/* true when it set the verdict; false when KVM was accepted and the rest decides. */
static bool judge_deep(struct check_result *r, const struct probe *host, const struct probe *fallback,
		       const char *fallback_cpu)
{
	char line[200];

	if (probe_ok(host)) {
		detail_str(r, "deep", "kvm");
		detail_null(r, "deep_error");
		return false;
	}
	failure_line(host, line, sizeof(line));
	detail_str(r, "deep_error", "%s", line);
	if (host->timed_out && !(fallback && probe_ok(fallback))) {
		detail_str(r, "deep", "timeout");
		result_set(r, CHECK_FAIL, "QEMU with KVM did not start and quit within %u s",
			   DEEP_TIMEOUT_MS / 1000);
		result_advise(r, "A QEMU that cannot bring up a KVM machine cannot run guests. Try it by "
			      "hand: the command line is in `virt-doctor explain emulator.qemu`.");
		return true;
	}
	if (fallback && probe_ok(fallback)) {
		detail_str(r, "deep", "kvm-without-host-cpu");
		result_set(r, CHECK_WARN, "KVM works with -cpu %s, but -cpu host fails: %s", fallback_cpu,
			   line);
		result_advise(r, "Guests using the host's CPU model (libvirt <cpu mode='host-passthrough'/>, "
			      "virt-install --cpu host) will not start; host-model or a named CPU model "
			      "works. The outer hypervisor does not implement everything this CPU advertises.");
		return true;
	}
	detail_str(r, "deep", "rejected");
	if (fallback) {
		char fl[200];

		failure_line(fallback, fl, sizeof(fl));
		detail_str(r, "deep_error_fallback", "%s", fl);
	}
	result_set(r, CHECK_FAIL, "QEMU cannot start a KVM machine: %s", line);
	result_advise(r, "KVM exists but QEMU cannot use it; see kvm.device and kvm.api, and the error "
		      "above, which QEMU printed.");
	return true;
}

static struct probe *probe_add(struct probe *ps, unsigned *n)
{
	struct probe *p = &ps[(*n)++];

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->fd[0] = p->fd[1] = p->pidfd = -1;
	return p;
}

/* Everything one run of the check needs, from the search to the collected probes. */
struct emu_job {
	const struct host *host;
	const struct qemu_arch *qa;
	char kernel_arch[64], name[64], machine[2][64];
	struct candidates emu, img;
	struct probe ps[4], *pv, *pi, *pdh, *pdf;
	unsigned n, timeout_ms;
	uint64_t deadline;
	bool deep;
};

/* Find the binaries and, live, launch the probes; nothing here waits for them. */
static void job_start(struct check_ctx *ctx, struct emu_job *j)
{
	struct host *h = ctx->host;

	memset(j, 0, sizeof(*j));
	j->host = h;
	j->qa = host_qemu_arch(h, j->kernel_arch, sizeof(j->kernel_arch));
	if (!j->qa)
		return;
	sfmt(j->name, "qemu-system-%s", j->qa->qemu);
	find_binary(h, j->name, j->qa->qemu, &j->emu, true);
	find_binary(h, "qemu-img", j->qa->qemu, &j->img, false);
	j->deep = ctx->opt && ctx->opt->deep && h->live;
	if (!j->emu.n || !h->live)
		return;	/* a foreign root's binaries are not ours to run */

	j->pv = probe_add(j->ps, &j->n);
	j->pv->argv[0] = j->emu.path[0];
	j->pv->argv[1] = "--version";
	if (j->img.n) {
		j->pi = probe_add(j->ps, &j->n);
		j->pi->argv[0] = j->img.path[0];
		j->pi->argv[1] = "--version";
	}
	j->timeout_ms = VERSION_TIMEOUT_MS;
	if (j->deep) {
		/* One batch: the version probes hide inside the machine start-up. */
		j->pdh = probe_add(j->ps, &j->n);
		deep_argv(j->pdh, j->emu.path[0], j->qa, "host", j->machine[0], sizeof(j->machine[0]));
		if (j->qa->fallback_cpu) {
			j->pdf = probe_add(j->ps, &j->n);
			deep_argv(j->pdf, j->emu.path[0], j->qa, j->qa->fallback_cpu, j->machine[1],
				  sizeof(j->machine[1]));
		}
		j->timeout_ms = DEEP_TIMEOUT_MS;
	}
	j->deadline = now_us() + (uint64_t)j->timeout_ms * 1000;
	probes_start(j->ps, j->n);
}

/*
 * Started by the start hook before the first check runs, so QEMU's ~13 ms start-up overlaps
 * with every check before this one; run() collects it. One run per process, one job.
 */
static struct emu_job prepared;
static bool have_prepared;

static void prepare_emulator(struct check_ctx *ctx)
{
	job_start(ctx, &prepared);
	have_prepared = true;
}

static void run_emulator(struct check_ctx *ctx, struct check_result *r)
{
	static struct emu_job local;
	struct emu_job *j = &local;
	const struct qemu_arch *qa;
	char line[200], emu_ver[32] = "", img_ver[32] = "";

	if (have_prepared && prepared.host == ctx->host) {
		j = &prepared;
		have_prepared = false;
	} else {
		job_start(ctx, j);
	}
	qa = j->qa;
	if (!qa) {
		result_set(r, CHECK_SKIP, "no QEMU target known for architecture '%s'",
			   j->kernel_arch[0] ? j->kernel_arch : "unknown");
		return;
	}
	detail_str(r, "arch", "%s", qa->qemu);
	detail_list_add(r, "candidates", NULL);
	for (unsigned i = 0; i < j->emu.n; i++)
		detail_list_add(r, "candidates", j->emu.path[i]);
	if (j->emu.n)
		detail_str(r, "emulator", "%s", j->emu.path[0]);
	else
		detail_null(r, "emulator");
	detail_null(r, "version");
	if (j->img.n)
		detail_str(r, "qemu_img", "%s", j->img.path[0]);
	else
		detail_null(r, "qemu_img");
	detail_null(r, "qemu_img_version");
	detail_null(r, "deep");

	if (!j->emu.n) {
		result_set(r, CHECK_FAIL, "no %s: this is why libvirt says 'Cannot find suitable emulator "
			   "for %s'", j->name, qa->qemu);
		result_advise(r, "Install QEMU for this architecture (Debian/Ubuntu: qemu-system-x86, "
			      "qemu-system-arm, ...; Fedora/RHEL: qemu-kvm, which RHEL installs as "
			      "/usr/libexec/qemu-kvm), then restart libvirtd so it probes again.");
		result_fix(r, "packages.install_qemu");
		return;
	}
	if (!ctx->host->live) {
		if (!j->img.n) {
			result_set(r, CHECK_WARN, "%s found, but no qemu-img (versions not probed offline)",
				   j->emu.path[0]);
			result_advise(r, "qemu-img creates and converts disk images. Debian/Ubuntu: "
				      "qemu-utils; Fedora/RHEL: qemu-img.");
			result_fix(r, "packages.install_qemu");
		} else {
			result_set(r, CHECK_PASS, "%s and %s (versions not probed offline)", j->emu.path[0],
				   j->img.path[0]);
		}
		return;
	}

	probes_collect(j->ps, j->n, j->deadline);

	if (parse_version(j->pv->out[0], emu_ver, sizeof(emu_ver)))
		detail_str(r, "version", "%s", emu_ver);
	if (j->pi && parse_version(j->pi->out[0], img_ver, sizeof(img_ver)))
		detail_str(r, "qemu_img_version", "%s", img_ver);

	if (!probe_ok(j->pv) || !emu_ver[0]) {
		failure_line(j->pv, line, sizeof(line));
		if (j->pv->timed_out)
			result_set(r, CHECK_FAIL, "%s --version timed out after %u ms (killed)",
				   j->emu.path[0], j->timeout_ms);
		else if (probe_ok(j->pv))
			result_set(r, CHECK_FAIL, "%s --version printed no QEMU version", j->emu.path[0]);
		else
			result_set(r, CHECK_FAIL, "%s --version failed: %s", j->emu.path[0], line);
		detail_str(r, "version_error", "%s", line);
		result_advise(r, "libvirt runs this same binary to learn what it can do; one that does "
			      "not answer makes libvirt report 'Cannot find suitable emulator for %s'. "
			      "Reinstall QEMU.", qa->qemu);
		result_fix(r, "packages.install_qemu");
		return;
	}
	if (j->deep && judge_deep(r, j->pdh, j->pdf, qa->fallback_cpu))
		return;
	if (!img_ver[0]) {
		result_set(r, CHECK_WARN, "%s %s, but %s", j->emu.path[0], emu_ver,
			   j->pi ? "qemu-img --version failed" : "no qemu-img");
		result_advise(r, "qemu-img creates and converts disk images (virt-install and libvirt "
			      "storage pools use it). Debian/Ubuntu: qemu-utils; Fedora/RHEL: qemu-img.");
		result_fix(r, "packages.install_qemu");
		return;
	}
	result_set(r, CHECK_PASS, "%s %s, qemu-img %s%s", j->emu.path[0], emu_ver, img_ver,
		   j->deep ? "; a KVM machine starts with -cpu host" : "");
}

const struct check check_emulator_qemu = {
	.id = "emulator.qemu",
	.title = "QEMU emulator for this architecture",
	.run = run_emulator,
	.start = prepare_emulator,
	.explain =
	"Looks for qemu-system-<arch> for the host's architecture (x86_64, aarch64, ppc64,\n"
	"s390x, riscv64...) on $PATH and where distributions install it: /usr/bin,\n"
	"/usr/local/bin, RHEL's /usr/libexec/qemu-kvm and /usr/bin/qemu-kvm; and qemu-img.\n"
	"Live, it runs each with --version (execve, no shell, killed after 2 s) and reports\n"
	"the versions; both run at once, started before the first check of the run, so their\n"
	"start-up overlaps with each other and with the other checks. Under --root it only\n"
	"looks for executable files inside the root.\n"
	"\n"
	"Why: libvirt's \"Cannot find suitable emulator for x86_64\" means exactly this: it\n"
	"found no QEMU binary for the guest architecture (or could not run the one it found).\n"
	"A missing emulator fails; a missing qemu-img warns (guests run, images cannot be made).\n"
	"\n"
	"With --deep (live only) it starts the emulator for real, with KVM and the host's CPU\n"
	"model, paused before the first instruction, and quits it over QMP:\n"
	"  qemu-system-x86_64 -machine q35,accel=kvm -cpu host -m 64 -smp 1 -nodefaults\n"
	"    -no-user-config -display none -S -qmp stdio\n"
	"That creates the KVM VM and vCPU and loads the vCPU's CPUID and MSRs, which is where\n"
	"a host fails that advertises features it cannot deliver (e.g. nested under another\n"
	"hypervisor). QEMU's own error line is reported verbatim in deep_error, e.g.\n"
	"\"failed to set MSR 0x10a to 0x69\". On x86 it then retries with the plain qemu64 CPU:\n"
	"if that works, KVM is usable and only -cpu host (libvirt host-passthrough) is broken,\n"
	"so the verdict is warn - guests with host-model or a named CPU model run. If both\n"
	"fail, QEMU cannot use KVM at all: fail. Both attempts run in parallel, limit 5 s.\n"
	"\n"
	"Fix: install QEMU (Debian/Ubuntu qemu-system-x86 and qemu-utils; Fedora/RHEL\n"
	"qemu-kvm and qemu-img), then restart libvirtd so it probes the emulator again.",
};
