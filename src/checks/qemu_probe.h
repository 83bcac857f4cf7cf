/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Finding QEMU and running it as a bounded child: shared by emulator.qemu and cpu.guest_model. */
#ifndef VD_QEMU_PROBE_H
#define VD_QEMU_PROBE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "host.h"

/* How each kernel architecture is called by QEMU, and how a KVM probe starts it. */
struct qemu_arch {
	const char *kernel;	/* uname -m, /proc/sys/kernel/arch or the cpuinfo arch */
	const char *qemu;	/* qemu-system-<this> */
	const char *machine;	/* a machine type that exists on every QEMU for this target */
	const char *fallback_cpu;	/* CPU model to retry with when -cpu host fails; NULL: none */
};

/* The QEMU target for this host's architecture (kernel gets its name), or NULL. */
const struct qemu_arch *qemu_host_arch(struct host *h, char *kernel, size_t size);

#define QEMU_MAX_CANDIDATES 12
struct qemu_candidates {
	char path[QEMU_MAX_CANDIDATES][256];
	dev_t dev[QEMU_MAX_CANDIDATES];
	ino_t ino[QEMU_MAX_CANDIDATES];
	unsigned n;
};

/* $PATH (live) or the usual directories (offline) first, then (distro_places) where
 * distributions install the emulator; one entry per file however many names it has. */
void qemu_find_binary(const struct host *h, const char *name, const char *qarch,
		      struct qemu_candidates *c, bool distro_places);

#define PROBE_OUT_MAX 2048

/* One child process: argv in, stdout and stderr out, bounded in time. */
struct probe {
	const char *argv[24];
	const char *input;	/* written to stdin, then closed; NULL: /dev/null */
	pid_t pid;
	int fd[2];		/* stdout, stderr read ends; -1 when closed */
	int pidfd;		/* readable when it exits (Linux 5.3+); -1 without */
	char *out[2];		/* what it wrote, NUL-terminated (never NULL after probe_init) */
	size_t cap[2];
	size_t len[2];
	int status;		/* wait status */
	bool timed_out, exited;
	int spawn_err;		/* -errno when it never started */
	int input_err;		/* -errno writing its stdin */
	pthread_t thread;	/* the thread running the spawn, until joined */
	bool threaded;
};

/* Ready to start: stdout keeps up to out_max bytes (0: PROBE_OUT_MAX), stderr PROBE_OUT_MAX.
 * Without memory the buffers are a static empty string and the output is dropped. */
void probe_init(struct probe *p, size_t out_max);
void probe_free(struct probe *p);
/* Start all at once, each exec from its own thread, so their start-up costs overlap. */
void probes_start(struct probe *ps, unsigned n);
/* Collect until all exited or the deadline (now_us()); the rest is killed with its process
 * group and reaped, never left behind. */
void probes_collect(struct probe *ps, unsigned n, uint64_t deadline);
bool probe_ok(const struct probe *p);
/* The line that says why a probe failed: QEMU's "error" line if any, else its first line. */
void probe_failure_line(const struct probe *p, char *buf, size_t size);

/*
 * argv for a real KVM machine with one vCPU, paused before its first instruction (-S), that
 * quits over QMP: creating the vCPU and loading its CPUID and MSRs is where a host that
 * advertises more than it delivers fails. machine is the caller's buffer for "<type>,accel=kvm".
 */
void qemu_kvm_argv(struct probe *p, const char *emu, const struct qemu_arch *qa, const char *cpu,
		   char *machine, size_t msize);

#endif
