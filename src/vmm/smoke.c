// SPDX-License-Identifier: GPL-2.0-or-later
/* Parent side of a smoke boot: options, payload loading, fork, watchdog, and decoding the end. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "internal.h"

/* Test hook (docs/guest-protocol.md): the child makes a forbidden syscall after the filter. */
#define FORBIDDEN_ENV "VIRT_DOCTOR_TEST_FORBIDDEN_SYSCALL"

static int load_payload(const char *path, size_t mem_size, uint8_t **img, size_t *len)
{
	/* O_PATH first: a FIFO would block before the watchdog exists, and open(2) of a device
	 * node acts by itself. Only a regular file within bounds is opened for real. */
	_cleanup_close_ int pfd = open(path, O_PATH | O_CLOEXEC);
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *buf = NULL;
	struct stat st, st2;
	char proc[64];
	size_t got = 0;

	if (pfd < 0)
		return -errno;
	if (fstat(pfd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > VMM_MAX_PAYLOAD ||
	    VD_LOAD_ADDR + (uint64_t)st.st_size > mem_size)
		return -EINVAL;
	/* That same inode, through the O_PATH fd's magic link; without /proc, by path again. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)
		return -EINVAL;
	buf = malloc((size_t)st.st_size);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EINVAL;
		got += (size_t)n;
	}
	*img = buf;
	buf = NULL;
	*len = got;
	return 0;
}

/* An image speaks the full stage protocol iff it carries the header at offset 8. */
static bool has_header(const uint8_t *img, size_t len)
{
	uint32_t magic;

	if (len < VD_HDR_AP16_OFF + 4)
		return false;
	memcpy(&magic, img + VD_HDR_MAGIC_OFF, 4);
	return magic == VD_HDR_MAGIC_V;
}

/* Reads whole records; returns 1 on EOF, 0 when more may come, -errno on error. */
static int drain(int fd, uint8_t *buf, size_t *have, struct vmm_report *out, bool *ended)
{
	for (;;) {
		ssize_t n = read(fd, buf + *have, sizeof(struct vmm_record) - *have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0)
			return 1;
		*have += (size_t)n;
		if (*have == sizeof(struct vmm_record)) {
			vmm_record_apply(out, buf, ended);
			*have = 0;
		}
	}
}

int vmm_smoke_boot(const struct vmm_options *opt, struct vmm_report *out)
{
	_cleanup_free_ uint8_t *payload = NULL;
	const uint8_t *img = vmm_smoke_guest_start;
	size_t img_len = (size_t)(vmm_smoke_guest_end - vmm_smoke_guest_start);
	uint64_t t0 = vmm_now_ns(), deadline;
	uint8_t buf[sizeof(struct vmm_record)];
	size_t have = 0;
	bool ended = false, killed = false, smoke;
	struct rusage ru;
	int pfd[2], status = 0, r;
	pid_t pid, self = getpid();

	if (!opt || !out || !opt->kvm_path || opt->vcpus < 1 || opt->vcpus > VMM_MAX_VCPUS ||
	    opt->memory_mib < VMM_MIN_MEM_MIB || opt->memory_mib > VMM_MAX_MEM_MIB ||
	    opt->timeout_ms < 1 || opt->timeout_ms > 600000)
		return -EINVAL;
	if (opt->payload_path) {
		r = load_payload(opt->payload_path, (size_t)opt->memory_mib << 20, &payload, &img_len);
		if (r)
			return r;
		img = payload;
	}
	smoke = has_header(img, img_len);
	vmm_report_start(out, opt, smoke);

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return r;
	}
	if (pid == 0) {
		struct vmm_child_args a = {
			.opt = opt, .image = img, .image_len = img_len, .smoke = smoke,
			.rec_fd = pfd[1], .t0_ns = t0, .parent = self,
			.forbidden_syscall = getenv(FORBIDDEN_ENV) != NULL,
		};

		close(pfd[0]);
		vmm_child_main(&a);
	}
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);

	deadline = t0 + (uint64_t)opt->timeout_ms * 1000000u;
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		uint64_t now = vmm_now_ns();
		int ms;

		if (now >= deadline) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		ms = (int)((deadline - now + 999999) / 1000000);
		r = poll(&p, 1, ms);
		if (r < 0 && errno != EINTR) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		if (r > 0 && drain(pfd[0], buf, &have, out, &ended) != 0)
			break;
	}
	/* Whatever the child wrote before dying is still in the pipe. */
	if (killed) {
		fcntl(pfd[0], F_SETFL, 0);
		while (drain(pfd[0], buf, &have, out, &ended) == 0)
			;
	}
	close(pfd[0]);
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			memset(&ru, 0, sizeof(ru));
			break;
		}
	}
	out->child_peak_rss_kib = ru.ru_maxrss;
	out->total_us = (vmm_now_ns() - t0) / 1000;

	if (killed && !ended) {
		out->outcome = VMM_OUTCOME_TIMEOUT;
		snprintf(out->message, sizeof(out->message), "watchdog expired after %u ms in stage %s",
			 opt->timeout_ms, out->stage_running[0] ? out->stage_running : "(none)");
	} else if (WIFSIGNALED(status) && !ended) {
		int sig = WTERMSIG(status);

		out->outcome = sig == SIGSYS ? VMM_OUTCOME_SECCOMP_KILLED : VMM_OUTCOME_CRASHED;
		snprintf(out->message, sizeof(out->message), "%s: child killed by signal %d (%s)%s%s",
			 sig == SIGSYS ? "seccomp" : "crash", sig, strsignal(sig),
			 out->stage_running[0] ? " in stage " : "", out->stage_running);
	} else if (!ended) {
		out->outcome = VMM_OUTCOME_CRASHED;
		snprintf(out->message, sizeof(out->message), "child exited with status %d without a verdict",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	if (out->outcome == VMM_OUTCOME_OK)
		out->stage_running[0] = 0;
	return 0;
}
