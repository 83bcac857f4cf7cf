/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Drive the host's real libvirtd for tests: the shared lock, start/stop, virsh, the default network. */
#ifndef VD_TEST_LIBVIRT_HARNESS_H
#define VD_TEST_LIBVIRT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#define LIBVIRT_TEST_LOCK "/run/lock/virt-doctor-libvirt.lock"
#define LIBVIRTD_BIN "/usr/sbin/libvirtd"
#define LIBVIRTD_SOCK "/run/libvirt/libvirt-sock"
#define LIBVIRTD_PIDFILE "/run/libvirtd.pid"
#define VIRSH_BIN "/usr/bin/virsh"

/*
 * Everything that touches the real libvirtd, virbr0 or the default network holds this
 * exclusive lock for its whole duration (other test suites run at the same time).
 * Returns the fd to pass to libvirt_unlock, or -errno.
 */
int libvirt_lock(void);
void libvirt_unlock(int fd);

bool libvirtd_installed(void);
/* Its read-write socket accepts a connection. */
bool libvirtd_running(void);
/*
 * Remember whether the default network is active before a daemon starts: libvirtd starts
 * autostart networks (Debian marks `default` so), and they outlive it -- virbr0 and dnsmasq
 * stay. libvirtd_stop() puts the network back the way it was. libvirtd_start() calls it.
 */
void libvirtd_remember_network(void);
/* `libvirtd -d`, then wait (10 s at most) until its socket accepts. 0 or -errno. */
int libvirtd_start(void);
/* Destroy the default network if it was inactive before the daemon started, then SIGTERM
 * the pid in /run/libvirtd.pid (only when it is a libvirtd) and wait (60 s) until it exited. */
int libvirtd_stop(void);

/*
 * Run `virsh -c qemu:///system ARGS...` (NULL-terminated) with a 30 s bound; its stdout goes
 * to out (may be NULL). Returns its exit status, or -errno / -ETIMEDOUT.
 */
int virsh_run(char *out, size_t size, ...) __attribute__((sentinel));

/* The default network as virsh sees it: 1 active, 0 inactive, -ENOENT missing, -errno. */
int default_net_state(bool *autostart);

#endif
