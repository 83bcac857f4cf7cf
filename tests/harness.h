/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared test harness: run the built binary, materialize fixture roots, read its JSON. */
#ifndef VD_TEST_HARNESS_H
#define VD_TEST_HARNESS_H

#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "util.h"

struct result {
	int status;		/* exit code, or 128+signal */
	char *out, *err;
};

void result_clear(struct result *r);
char *read_all(int fd);
/* A whole file as a string, or NULL when it cannot be opened. */
char *slurp(const char *path);
/* The probe cache directory every run_env() child uses (VIRT_DOCTOR_CACHE_DIR). */
const char *harness_cache_dir(void);
/* Run argv (NULL-terminated) with extra environment entries; capture both streams. */
void run_env(struct result *res, char *const env_add[], char *const argv[]);
/*
 * A scratch copy of fixture root `name` (under VD_FIXTURES/roots) in /tmp with its device
 * nodes made for real; the path goes to dir. Returns 0, or -EPERM when nodes are needed and we
 * may not mknod (not root): the caller skips. remove_tree() it afterwards.
 */
int materialize(const char *name, char *dir, size_t size);
void remove_tree(const char *dir);
/* materialize(), but false (the tree removed) when nodes need root: the caller skips. */
bool fixture_copy(const char *name, char *dir, size_t size);
json_t *parse_json(const char *text);
json_t *find_check(json_t *report, const char *id);
const char *check_status(json_t *report, const char *id);
json_t *detail(json_t *report, const char *id, const char *key);
bool has_fix(json_t *report, const char *id, const char *fix);
bool list_has(json_t *array, const char *item);
/* `--root <copy> --format json check` on a fixture root; NULL when it needs root to build. */
json_t *fixture_report(const char *name, char *const env[], int *status);

#define RUN(res, ...) run_env((res), NULL, (char *const[]){ VD_BIN, __VA_ARGS__, NULL })
/* The binary as nobody, with no supplementary groups (needs root and setpriv). */
#define RUN_NOBODY(res, ...) run_env((res), NULL, (char *const[]){ (char *)"/usr/bin/setpriv", \
	(char *)"--reuid=nobody", (char *)"--regid=nogroup", (char *)"--clear-groups", \
	(char *)VD_BIN, __VA_ARGS__, NULL })
#define RUN_ENV(res, env, ...) run_env((res), (env), (char *const[]){ VD_BIN, __VA_ARGS__, NULL })

/* A visible SKIP, never a silent pass. */
#define SKIP_BECAUSE(...) do { printf("SKIP: " __VA_ARGS__); printf("\n"); skip(); } while (0)

/*
 * Tests that change the host -- start or stop libvirtd, touch the default network or
 * /dev/kvm, make namespaces, load modules, apply fixes live -- run only under
 * `make check-host` (which sets VD_CHECK_HOST=1), never under a plain `make check` on a
 * host that may be running guests. Setups call host_changes_allowed() and do nothing.
 */
bool host_changes_allowed(void);
#define HOST_CHANGE_OR_SKIP() \
	do { \
		if (!host_changes_allowed()) \
			SKIP_BECAUSE("changes the host: make check-host"); \
	} while (0)

#define FIXTURE_OR_SKIP(j, name, env, st) \
	do { \
		(j) = fixture_report((name), (env), (st)); \
		if (!(j)) \
			SKIP_BECAUSE("%s needs root to create its device nodes", (name)); \
	} while (0)

#endif
