/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helpers: run the binary in its own session and watch its processes through /proc. */
#ifndef VD_TEST_SPAWN_H
#define VD_TEST_SPAWN_H

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"

#define LOOP_PAYLOAD VD_PAYLOADS "/loop.bin"

struct spawned {
	pid_t pid;		/* also the session id: the child calls setsid() */
	int out_fd;
	char *out;
	int status;		/* exit code, or 128+signal */
};

static inline void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Fork, setsid, exec argv with stdout to a pipe and stderr to /dev/null. */
static inline void spawn_session(struct spawned *s, char *const argv[])
{
	int p[2];

	memset(s, 0, sizeof(*s));
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		setsid();
		dup2(p[1], 1);
		if (null >= 0)
			dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	s->out_fd = p[0];
}

/* Collect stdout until EOF and reap, within timeout_ms; past it the session is killed. */
static inline void spawn_wait(struct spawned *s, unsigned timeout_ms)
{
	uint64_t end = now_us() + (uint64_t)timeout_ms * 1000;
	size_t len = 0, cap = 0;
	int st;

	for (;;) {
		struct pollfd pfd = { .fd = s->out_fd, .events = POLLIN };
		int left = (int)((end - now_us()) / 1000);
		char buf[4096];
		ssize_t n;

		if (now_us() >= end || poll(&pfd, 1, left > 0 ? left : 0) <= 0) {
			kill(-s->pid, SIGKILL);
			waitpid(s->pid, &st, 0);
			fail_msg("pid %d did not finish within %u ms", (int)s->pid, timeout_ms);
		}
		n = read(s->out_fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		if (len + (size_t)n + 1 > cap) {
			cap = (len + (size_t)n + 1) * 2;
			s->out = realloc(s->out, cap);
			assert_non_null(s->out);
		}
		memcpy(s->out + len, buf, (size_t)n);
		len += (size_t)n;
	}
	if (!s->out)
		s->out = calloc(1, 1);
	s->out[len] = '\0';
	while (waitpid(s->pid, &st, WNOHANG) == 0) {
		if (now_us() >= end) {
			kill(-s->pid, SIGKILL);
			waitpid(s->pid, &st, 0);
			fail_msg("pid %d closed stdout but did not exit within %u ms", (int)s->pid, timeout_ms);
		}
		sleep_ms(5);
	}
	s->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static inline void spawned_clear(struct spawned *s)
{
	if (s->out_fd >= 0)
		close(s->out_fd);
	free(s->out);
	memset(s, 0, sizeof(*s));
	s->out_fd = -1;
}

/* ppid and session of a process from /proc/PID/stat (fields 4 and 6); false if gone. */
static inline bool proc_ids(pid_t pid, pid_t *ppid, pid_t *sid)
{
	char path[64], buf[1024], *p;
	int fd, n, pgrp;

	sfmt(path, "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* the command name may hold anything */
	return p && sscanf(p + 1, " %*c %d %d %d", ppid, &pgrp, sid) == 3;
}

/* Processes (zombies included) in session sid, or with parent sid's leader. */
static inline int session_count(pid_t sid)
{
	_cleanup_closedir_ DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name), ppid, s;

		if (pid > 0 && proc_ids(pid, &ppid, &s) && s == sid)
			n++;
	}
	return n;
}

static inline bool wait_session_empty(pid_t sid, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += 10) {
		if (session_count(sid) == 0)
			return true;
		sleep_ms(10);
	}
	return session_count(sid) == 0;
}

static inline pid_t child_of(pid_t parent)
{
	_cleanup_closedir_ DIR *d = opendir("/proc");
	struct dirent *de;

	assert_non_null(d);
	while ((de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name), ppid, s;

		if (pid > 0 && proc_ids(pid, &ppid, &s) && ppid == parent)
			return pid;
	}
	return 0;
}

/* The VMM child of `parent` once it runs the guest: its seccomp filter is on (Seccomp: 2),
 * which it installs after building the VM and closing the KVM system fd. */
static inline pid_t wait_vmm_running(pid_t parent, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += 5) {
		pid_t c = child_of(parent);

		if (c > 0) {
			char path[64];
			_cleanup_free_ char *status = NULL;
			int fd;

			sfmt(path, "/proc/%d/status", (int)c);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				status = read_all(fd);
				close(fd);
				if (status && strstr(status, "\nSeccomp:\t2\n"))
					return c;
			}
		}
		sleep_ms(5);
	}
	return 0;
}

#endif
