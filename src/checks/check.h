/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The check engine's types: a check fills a result and never prints. */
#ifndef VD_CHECK_H
#define VD_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "host.h"

enum check_status { CHECK_PASS, CHECK_WARN, CHECK_FAIL, CHECK_SKIP, _CHECK_STATUS_MAX };
const char *check_status_name(enum check_status s);

enum detail_type { DETAIL_STRING, DETAIL_BOOL, DETAIL_INT, DETAIL_LIST, DETAIL_STAGES, DETAIL_NULL };

/* One step of a multi-stage check (vm.smoke_boot): rendered as an array of objects. */
struct detail_stage {
	char name[32];
	char status[16];
	uint64_t us;
	char note[192];
};

/* iommu.groups lists a host's PCI endpoints: 32 covers a workstation, more get a count. */
#define DETAIL_LIST_MAX 32
struct detail {
	char key[40];
	enum detail_type type;
	union {
		char *string;
		bool boolean;
		int64_t integer;
		struct {
			/* up to DETAIL_LIST_MAX, allocated on the first item: inline, the 32
			 * pointers made every result 13 KiB, and a run 835 KiB to fault in */
			char **items;
			unsigned n;
		} list;
		struct {
			struct detail_stage *items;
			unsigned n;
		} stages;
	};
};

#define CHECK_DETAILS_MAX 40
#define CHECK_FIXES_MAX 8
struct check_result {
	enum check_status status;
	char summary[256];	/* one line */
	char advice[512];	/* what to do about it, for people; may be empty */
	struct detail details[CHECK_DETAILS_MAX];
	unsigned n_details;
	const char *fixes[CHECK_FIXES_MAX];	/* fix ids (static strings) */
	unsigned n_fixes;
	uint64_t us;		/* time the check took */
};

struct run_options {
	bool boot;		/* run vm.smoke_boot */
	unsigned boot_vcpus, boot_memory_mib, boot_timeout_ms;
	const char *boot_payload;
	bool deep;		/* slower, more thorough live probes (emulator.qemu starts QEMU with KVM) */
	bool no_cache;		/* --no-cache: probe afresh, neither read nor write the probe cache */
};

struct run;
struct check_ctx {
	struct host *host;
	const struct run_options *opt;
	const struct run *run;	/* results so far, for checks that depend on others */
};

struct check {
	const char *id;
	const char *title;
	const char *explain;	/* long text for `explain` */
	void (*run)(struct check_ctx *ctx, struct check_result *r);
	/*
	 * Optional: begin slow live work (a child process) before the first check runs;
	 * run_checks() then runs this check after all the others, so the work overlaps with the
	 * whole run, and run() collects it. Never prints, never fails. Other checks must not
	 * depend on such a check (run_result() gives NULL for it until it ran).
	 */
	void (*start)(struct check_ctx *ctx);
	unsigned flags;
};
#define CHECK_LIVE_ONLY (1u << 0)	/* needs ioctl/CPUID/exec: skip under --root */

extern const struct check *const checks[];
extern const unsigned n_checks;
const struct check *check_find(const char *id);

/* Result builders. Formatting functions truncate to one line; they never fail. */
void result_set(struct check_result *r, enum check_status s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void result_advise(struct check_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void result_fix(struct check_result *r, const char *fix_id);
void detail_str(struct check_result *r, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void detail_bool(struct check_result *r, const char *key, bool v);
void detail_int(struct check_result *r, const char *key, int64_t v);
/* An unsigned count or size: JSON integers are int64 here, so above INT64_MAX it saturates
 * (a hostile MemTotal of 2^64-1 came out as -1). */
void detail_uint(struct check_result *r, const char *key, uint64_t v);
void detail_null(struct check_result *r, const char *key);
/* Append to a list detail, creating it on first use. */
void detail_list_add(struct check_result *r, const char *key, const char *item);
/* Take a copy of n stages. */
void detail_stages(struct check_result *r, const char *key, const struct detail_stage *s, unsigned n);
const struct detail *detail_get(const struct check_result *r, const char *key);
void result_free(struct check_result *r);

/* A whole run: results in check order. */
struct run {
	const struct check *check[64];
	struct check_result result[64];
	bool pending[64];	/* result[i] not filled yet (run_checks collects some checks last) */
	unsigned n;
	uint64_t us;		/* wall-clock time of run_checks, start hooks to the last result */
};
enum verdict { VERDICT_READY, VERDICT_DEGRADED, VERDICT_NOT_READY, VERDICT_UNKNOWN };
const char *verdict_name(enum verdict v);
int verdict_exit_code(enum verdict v);
enum verdict run_verdict(const struct run *run);
void run_check(struct check_ctx *ctx, const struct check *c, struct check_result *r);
/* Start hooks first, then every check, those with a start hook last; results in list order. */
void run_checks(struct check_ctx *ctx, struct run *run, const struct check *const *list, unsigned n);
/* All registered checks except vm.smoke_boot (the fix planner and verifier). */
void run_checks_no_boot(struct check_ctx *ctx, struct run *run);
void run_free(struct run *run);
/* The result of a check that already ran in this run, or NULL. */
const struct check_result *run_result(const struct run *run, const char *id);

#endif
