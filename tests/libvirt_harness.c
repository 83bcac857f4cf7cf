// SPDX-License-Identifier: GPL-2.0-or-later
/* Drive the host's real libvirtd for tests: the shared lock, start/stop, virsh, the default network. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libvirt_harness.h"
#include "util.h"

/*
 * One lock per process, counted: flock() belongs to the open file description, so a second
 * open() in the same process would wait for ever on the lock it already holds -- which is
 * what happened when a cmocka assert jumped out between lock and unlock and the next test
 * locked again. A held lock is handed out again instead, and a holder elsewhere is waited
 * for at most LOCK_WAIT_S, then named, so a stuck suite fails instead of hanging CI.
 */
#define LOCK_WAIT_S 1200
static int lock_fd = -1;
static unsigned lock_depth;

int libvirt_lock(void)
{
	if (lock_fd >= 0) {
		lock_depth++;
		return lock_fd;
	}
	/* CLOEXEC matters: a libvirtd we start must not inherit, and so keep, the lock. */
	int fd = open(LIBVIRT_TEST_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	for (unsigned i = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; i++) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (i == LOCK_WAIT_S * 10) {
			fprintf(stderr, "libvirt_lock: %s still held by another process after %d s "
				"(fuser -v %s names it)\n", LIBVIRT_TEST_LOCK, LOCK_WAIT_S, LIBVIRT_TEST_LOCK);
			close(fd);
			return -ETIMEDOUT;
		}
		usleep(100 * 1000);
	}
	lock_fd = fd;
	lock_depth = 1;
	return fd;
}

void libvirt_unlock(int fd)
{
	if (fd < 0 || fd != lock_fd || --lock_depth > 0)
		return;
	close(lock_fd);	/* drops the flock */
	lock_fd = -1;
}

bool libvirtd_installed(void)
{
	return access(LIBVIRTD_BIN, X_OK) == 0 && access(VIRSH_BIN, X_OK) == 0;
}

bool libvirtd_running(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	strcpy(sa.sun_path, LIBVIRTD_SOCK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Run argv with a bound; stdout into out when given (else /dev/null, which is what a
 * daemonizing program must get: it would keep a pipe open forever). stderr is discarded.
 */
static int spawn(char *const argv[], char *out, size_t size, unsigned timeout_ms)
{
	uint64_t deadline = now_us() + (uint64_t)timeout_ms * 1000;
	int p[2] = { -1, -1 }, st, null;
	size_t got = 0;
	pid_t pid;

	if (out && pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		null = open("/dev/null", O_RDWR);
		dup2(null, STDIN_FILENO);
		dup2(out ? p[1] : null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	if (out) {
		close(p[1]);
		for (;;) {
			struct pollfd pfd = { .fd = p[0], .events = POLLIN };
			uint64_t now = now_us();
			ssize_t n;

			if (now >= deadline || poll(&pfd, 1, (int)((deadline - now) / 1000) + 1) <= 0)
				break;
			if (got + 1 >= size) {
				char sink[512];

				n = read(p[0], sink, sizeof(sink));
			} else {
				n = read(p[0], out + got, size - got - 1);
				if (n > 0)
					got += (size_t)n;
			}
			if (n <= 0)
				break;
		}
		out[got] = '\0';
		close(p[0]);
	}
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (now_us() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -ETIMEDOUT;
		}
		sleep_ms(20);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define DEFAULT_NET_STATUS "/run/libvirt/network/default.xml"	/* exists while active */
static int net_active_before = -1;	/* -1: nothing remembered */

void libvirtd_remember_network(void)
{
	net_active_before = access(DEFAULT_NET_STATUS, F_OK) == 0;
}

int libvirtd_start(void)
{
	char *argv[] = { (char *)LIBVIRTD_BIN, (char *)"-d", NULL };
	int r;

	libvirtd_remember_network();
	/* A daemon someone else stopped a moment ago may still hold the pid file. */
	for (unsigned i = 0; (r = spawn(argv, NULL, 0, 30000)) > 0 && i < 25; i++)
		sleep_ms(200);
	if (r != 0)
		return r < 0 ? r : -EIO;
	for (unsigned i = 0; i < 100; i++) {
		if (libvirtd_running())
			return 0;
		sleep_ms(100);
	}
	return -ETIMEDOUT;
}

/* The process is gone or a zombie (it exited; nobody reaped it). */
static bool process_ended(pid_t pid)
{
	char path[64], buf[256];
	const char *rp;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	rp = strrchr(buf, ')');	/* the command name may hold spaces and parentheses */
	return !rp || (rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}

static bool process_is_libvirtd(pid_t pid)
{
	char path[64], comm[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	return n > 0 && strncmp(comm, "libvirtd\n", 9) == 0;
}

int libvirtd_stop(void)
{
	char buf[32] = "";
	int fd = open(LIBVIRTD_PIDFILE, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	long pid;

	if (net_active_before == 0 && access(DEFAULT_NET_STATUS, F_OK) == 0)
		virsh_run(NULL, 0, "net-destroy", "default", NULL);
	net_active_before = -1;
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	if (pid <= 1)
		return -EINVAL;
	/* A stale pid file may name some other process by now. */
	if (!process_is_libvirtd((pid_t)pid))
		return process_ended((pid_t)pid) ? 0 : -ESRCH;
	if (kill((pid_t)pid, SIGTERM) < 0)
		return -errno;
	/*
	 * Gone means the process ended, not that its socket went: libvirtd unlinks the socket
	 * early and holds its pid file until exit, so a `libvirtd -d` started in between fails
	 * with "Unable to obtain pidfile". The pid may linger as a zombie here (no reaping
	 * init): state Z counts as ended.
	 */
	/* A daemon in its first QEMU probe (~20 s after start here) exits only after it. */
	for (unsigned i = 0; i < 600; i++) {
		if (access(LIBVIRTD_SOCK, F_OK) < 0 && process_ended((pid_t)pid))
			return 0;
		sleep_ms(100);
	}
	return -ETIMEDOUT;
}

int virsh_run(char *out, size_t size, ...)
{
	char *argv[16] = { (char *)VIRSH_BIN, (char *)"-c", (char *)"qemu:///system" };
	unsigned n = 3;
	va_list ap;
	char *a;

	va_start(ap, size);
	while ((a = va_arg(ap, char *)) && n < ARRAY_SIZE(argv) - 1)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return spawn(argv, out, size, 30000);
}

/* `Key:   yes` in virsh's net-info output: 1, 0, or -EIO when the key is absent. */
static int field_yes(const char *out, const char *key)
{
	const char *p = strstr(out, key);

	if (!p)
		return -EIO;
	p += strlen(key);
	p += strspn(p, " \t");
	return startswith(p, "yes");
}

int default_net_state(bool *autostart)
{
	char out[4096];
	int r = virsh_run(out, sizeof(out), "net-list", "--all", "--name", (char *)NULL);
	bool found = false;

	if (r != 0)
		return r < 0 ? r : -EIO;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		if (streq(strstrip(line), "default"))
			found = true;
	if (!found)
		return -ENOENT;
	r = virsh_run(out, sizeof(out), "net-info", "default", (char *)NULL);
	if (r != 0)
		return r < 0 ? r : -EIO;
	if (autostart)
		*autostart = field_yes(out, "Autostart:") == 1;
	return field_yes(out, "Active:");
}
