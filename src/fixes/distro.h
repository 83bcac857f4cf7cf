/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Distribution data (data/distros/NAME.ini): package manager, services, groups and paths. */
#ifndef VD_FIXES_DISTRO_H
#define VD_FIXES_DISTRO_H

#include <stdbool.h>
#include <stddef.h>

#include "checks/osrelease.h"

#define DISTRO_KEYS_MAX 64

/* One file's key/value pairs, as "section.key" = "value" (value words space-separated). */
struct distro {
	char file[256];		/* basename, "" for the built-in generic entry */
	char name[96];
	char matched_by[256];	/* "ID=debian", "ID_LIKE=rhel", or why it is generic */
	bool generic;
	unsigned n;
	struct { char key[64]; char *value; } kv[DISTRO_KEYS_MAX];
};

struct distro_set {
	struct distro *d;
	unsigned n;
	char dir[4096];		/* where they were read from */
};

/*
 * Where the data lives: explicit (option), $VIRT_DOCTOR_DATADIR, the build tree's
 * <exe>/../data/distros for a binary outside BINDIR, DATADIR/distros; never the current
 * directory. 0 or -ENOENT.
 */
int distro_data_dir(const char *explicit_dir, char *out, size_t size);

/* Parse every *.ini in dir. On a malformed file: -EBADMSG and err = "FILE:LINE: what". */
int distro_set_load(struct distro_set *set, const char *dir, char *err, size_t errsize);
/* Parse one INI text (exposed for unit tests); file names the source in errors. */
int distro_parse(const char *file, const char *text, struct distro *d, char *err, size_t errsize);
void distro_set_free(struct distro_set *set);
void distro_free(struct distro *d);

/* The entry for this os-release (ID first, then each ID_LIKE word), or a copy of the
 * generic entry (generic = true) explaining why. out must be freed with distro_free(). */
void distro_select(const struct distro_set *set, const struct os_release *os, struct distro *out);

/* "section.key" -> value, NULL when absent. arch-specific "key.<arch>" wins over "key". */
const char *distro_get(const struct distro *d, const char *section, const char *key);
const char *distro_get_arch(const struct distro *d, const char *section, const char *key,
			    const char *arch);

#endif
