/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The probe cache: what a QEMU probe found, kept until the binary, kernel or /dev/kvm changes. */
#ifndef VD_CACHE_H
#define VD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "host.h"

/* Largest entry read back; anything bigger is not ours (a probe result is a few KiB). */
#define CACHE_ENTRY_MAX (64u << 10)
#define CACHE_KEY_MAX 4096

/*
 * The cache is used only live and without --no-cache: under --root the binaries and the
 * kernel are not the ones running here, and a foreign tree's facts must never be written.
 */
bool cache_enabled(const struct host *h, bool no_cache);

/*
 * Where entries live: $VIRT_DOCTOR_CACHE_DIR if set (tests, packagers), else
 * /var/cache/virt-doctor for root, else $XDG_CACHE_HOME/virt-doctor or ~/.cache/virt-doctor.
 * 0, or -ENOENT when there is no home to put it in.
 */
int cache_dir(char *buf, size_t size);

/*
 * The key of an entry about binary: its st_dev, st_ino, size, mtime and ctime, the kernel
 * release and its kvm module parameters, /dev/kvm's rdev, mode and owner, the CPU microcode
 * and virt-doctor's version, as one line. Any of them changing makes every old entry miss.
 * 0 or -errno (the binary cannot be stat'ed).
 */
int cache_key(const struct host *h, const char *binary, char *key, size_t size);
/* Read the host part of the keys afresh next time (a new run, a host torn down). */
void cache_key_forget(void);

/*
 * Look up entry name ([a-z0-9-]+, the caller's namespace) made under key. 1: hit, *payload
 * is the malloc'd text (lines of key=value). 0: miss, why says why ("no entry", "key changed",
 * "refused: ..." for a file that is not a plain, private, well-formed entry of ours).
 */
int cache_load(const char *name, const char *key, char **payload, char *why, size_t whysize);

/*
 * Store payload (lines of key=value, no control characters but '\n') under name atomically:
 * a temporary file in the same directory, then rename. Creates the directory (0755 for
 * root, 0700 otherwise). 0 or -errno; a failure only costs the next run a probe.
 */
int cache_store(const char *name, const char *key, const char *payload);

/* Append "field=value\n" to a payload being written, control characters in value as spaces. */
void cache_put(FILE *f, const char *field, const char *value);

/* The value of the first line "field=..." in payload, into buf: true when found. */
bool cache_field(const char *payload, const char *field, char *buf, size_t size);
/* Every value of lines "field=...", in order: calls fn(value, data) for each. */
void cache_fields(const char *payload, const char *field, void (*fn)(const char *value, void *data),
		  void *data);

#endif
