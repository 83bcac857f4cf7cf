/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Ask a running libvirt daemon for facts through libvirt.so.0, in a forked child with a deadline. */
#ifndef VD_LIBVIRT_DL_H
#define VD_LIBVIRT_DL_H

#include <stdbool.h>
#include <sys/types.h>

#define LIBVIRT_SONAME "libvirt.so.0"

/* How far the conversation got; each stage implies the ones before it. */
enum libvirt_stage {
	LV_STAGE_NONE,		/* the child never reported (killed, crashed) */
	LV_STAGE_NO_LIBRARY,	/* dlopen(libvirt.so.0) failed: error holds dlerror() */
	LV_STAGE_NO_SYMBOL,	/* the library lacks a function we need: error names it */
	LV_STAGE_OPEN_FAILED,	/* virConnectOpenReadOnly failed: error is libvirt's message */
	LV_STAGE_CONNECTED,	/* the daemon answered; the fields below are filled */
};

enum libvirt_net { LV_NET_UNKNOWN, LV_NET_MISSING, LV_NET_INACTIVE, LV_NET_ACTIVE };

/*
 * Plain data: the child writes it whole into a pipe, twice when connected. The first record
 * (part 1) holds what the daemon answers without QEMU: libvirt's version, the host name, the
 * driver's name, the default network. The second (part 2) adds the QEMU version, which needs
 * libvirt's QEMU capabilities and can take seconds when libvirtd (re)probes QEMU.
 */
struct libvirt_answer {
	int part;			/* 1 or 2 */
	int stage;			/* enum libvirt_stage */
	char error[256];
	char hypervisor[32];		/* virConnectGetType: "QEMU" */
	unsigned long hv_version;	/* major * 1000000 + minor * 1000 + micro; 0 unknown */
	unsigned long lib_version;
	int net;			/* enum libvirt_net, for the network named "default" */
	int autostart;			/* 1, 0, or -1 when unknown */
	char net_error[256];		/* why net is LV_NET_UNKNOWN */
	char hostname[64];		/* virConnectGetHostname */
	/* Filled by libvirt_ask_finish, not the child. */
	bool qemu_answered;		/* part 2 arrived */
	unsigned long long cheap_us;	/* start to part 1 */
	unsigned long long qemu_us;	/* part 1 to part 2, or to the deadline */
};

struct libvirt_call {
	pid_t pid;
	int fd;			/* read end of the answer pipe */
	unsigned long long start_us;
};

/*
 * Fork a child that loads libvirt.so.0, opens uri read-only, asks, and writes a struct
 * libvirt_answer into a pipe. Returns 0 or -errno; the parent goes on with other work.
 */
int libvirt_ask_start(const char *uri, struct libvirt_call *call);
/*
 * Collect the answer: part 1 at most timeout_ms after libvirt_ask_start, then part 2 at most
 * qemu_timeout_ms after part 1 (a->qemu_answered says whether it came). Without part 1 the
 * child is killed (a wedged daemon blocks libvirt calls forever) and -ETIMEDOUT comes back;
 * -EPROTO when the child died without a whole record. The child is always reaped.
 */
int libvirt_ask_finish(struct libvirt_call *call, unsigned timeout_ms, unsigned qemu_timeout_ms,
		       struct libvirt_answer *a);

/* Abandon a started call: kill and reap the child. */
void libvirt_ask_cancel(struct libvirt_call *call);

/* "7.2.0" from libvirt's packed version number. */
void libvirt_version_str(unsigned long v, char *buf, size_t size);

#endif
