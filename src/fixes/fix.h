/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fix engine's types: fixes, the typed steps of a plan, and what applying them did. */
#ifndef VD_FIXES_FIX_H
#define VD_FIXES_FIX_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "checks/check.h"
#include "checks/osrelease.h"
#include "fixes/distro.h"
#include "fixes/journal.h"
#include "host.h"

enum step_kind {
	STEP_COMMAND,	/* run argv (execve, no shell, with a timeout) */
	STEP_WRITE,	/* write a file atomically: path, content, mode */
	STEP_KMOD,	/* load a kernel module through libkmod */
	STEP_GROUP,	/* add a user to a group (argv from the distro data) */
	STEP_SYSCTL,	/* write a value to /proc/sys now (live) */
	STEP_HUMAN,	/* something only a person can do: text */
};
const char *step_kind_name(enum step_kind k);

/* When a command step is already done: nothing to run (applying twice changes nothing). */
enum guard_kind {
	GUARD_NONE,
	GUARD_EXIT_ZERO,	/* guard argv exits 0 */
	GUARD_OUTPUT,		/* guard argv exits 0 and its output has `match` (spaces folded) */
	GUARD_GROUP_EXISTS,	/* the group in `group` exists in /etc/group */
	GUARD_EVERY_LINE,	/* guard argv exits 0 and every line of its output has `match`:
				 * one line per package, so one package missing is enough to run */
};

enum step_result { RESULT_PLANNED, RESULT_DONE, RESULT_UNCHANGED, RESULT_FAILED, RESULT_NOT_RUN };
const char *step_result_name(enum step_result r);

#define STEP_ARGV_MAX 24
struct step {
	enum step_kind kind;
	char why[256];
	bool needs_root;
	bool live;		/* acts on the running system (not a file in the tree) */
	bool once_per_apply;	/* COMMAND: one successful run serves every fix (apt-get update) */
	char *argv[STEP_ARGV_MAX];	/* COMMAND, GROUP: owned strings, NULL-terminated */
	char *env[4];		/* COMMAND: extra KEY=VALUE entries */
	unsigned timeout_s;
	char path[256];		/* WRITE: host path; SYSCTL: /proc/sys path */
	char *content;		/* WRITE, SYSCTL value, HUMAN text */
	unsigned mode;		/* WRITE */
	char module[64];	/* KMOD */
	char user[64], group[64];	/* GROUP */
	enum guard_kind guard;
	char *guard_argv[STEP_ARGV_MAX];
	char guard_match[64];
	/* Filled by apply. */
	enum step_result result;
	int error;		/* errno, or the exit status of a command */
	char note[256];
};

/* Facts about the host the plans depend on, gathered once. */
struct fix_facts {
	struct host_identity ident;
	char user[64];		/* whose access we fix: SUDO_USER, else the judged uid's name */
	const char *user_source;	/* "SUDO_USER", "uid N", or NULL when none */
	char vendor_module[32];	/* kvm_intel / kvm_amd / ..., "" when unknown */
	char cpu_vendor[32];	/* Intel / AMD / ... for firmware menus */
	bool kvm_udev_rule;	/* a rules file in the system dirs already sets /dev/kvm's group */
	char kvm_udev_rule_file[128];
	int running_guests;	/* qemu/VMM processes, -1 unknown (offline root) */
	int kvm_refcnt;		/* /sys/module/kvm/refcnt, -1 unknown */
	bool is_guest;		/* host.hypervisor: this host is itself a virtual machine */
	char hypervisor[48];	/* and of what, "" when unnamed */
	/* net.default_network's start_blockers: what stops `virsh net-start default` */
	char net_blockers[8][24];
	unsigned n_net_blockers;
};

struct plan;
struct plan_ctx {
	struct host *host;
	const struct distro *distro;
	const struct fix_facts *facts;
	const struct plan *so_far;	/* plan_build(): the fixes planned before this one, or NULL */
};

struct fix;
#define PLAN_STEPS_MAX 16
struct fix_plan {
	const struct fix *fix;
	char suggested_by[8][32];	/* failing checks that asked for it */
	unsigned n_suggested;
	bool forced;		/* asked for with --only, no failing check suggested it */
	struct step steps[PLAN_STEPS_MAX];
	unsigned n_steps;
	/* After apply. */
	const char *state;	/* fixed, still-failing, needs-reboot, needs-relogin, manual, pending, failed */
	char check_status[8][2][32];	/* remedied check id, its status after */
	unsigned n_check_status;
};

#define REMEDIES_MAX 4
struct fix {
	const char *id;
	const char *remedies[REMEDIES_MAX];	/* check ids, NULL-terminated */
	const char *help;
	void (*plan)(const struct plan_ctx *ctx, struct fix_plan *p);
	enum { AFTER_NONE, AFTER_RELOGIN, AFTER_REBOOT } after;	/* what a change still needs */
};

extern const struct fix fixes[];
extern const unsigned n_fixes;
const struct fix *fix_find(const char *id);

struct plan {
	struct fix_plan *items;
	unsigned n;
};

/* id: the host_identify() the distro was chosen from (not read twice). */
void fix_facts_gather(struct host *h, const struct host_identity *id, const struct distro *d,
		      struct fix_facts *f);
/* Facts the checks of this run established (whether the host is a VM, of what). */
void fix_facts_from_run(struct fix_facts *f, const struct run *run);
/* Plans for the fixes the run's failing/warning checks suggest (only: those ids, forced). */
int plan_build(const struct plan_ctx *ctx, const struct run *run, const char *const *only,
	       unsigned n_only, struct plan *plan);
/* One fix's plan on its own (unit tests). */
void plan_one(const struct plan_ctx *ctx, const struct fix *fix, struct fix_plan *p);
void plan_free(struct plan *plan);

/* Step builders used by the plans (exposed for tests). */
struct step *step_new(struct fix_plan *p, enum step_kind kind, bool needs_root, const char *why, ...)
	__attribute__((format(printf, 4, 5)));
/* Split a distro-data command template into argv, substituting {unit} {user} {group} {kver}. */
int argv_from_template(char **argv, unsigned max, const char *tmpl, const char *const *vars);

/*
 * --apply's progress for people (render.c), on a stream of the CLI's choosing: each step
 * as it starts and as it ends, with its time; on a terminal the line of a running command
 * is redrawn every second with the time so far.
 */
struct apply_progress {
	FILE *out;
	bool tty;
};
void fix_progress_start(const struct apply_progress *pg, const struct fix_plan *p, const struct step *s);
void fix_progress_tick(const struct apply_progress *pg, const struct fix_plan *p, const struct step *s,
		       uint64_t elapsed_us);
void fix_progress_end(const struct apply_progress *pg, const struct fix_plan *p, const struct step *s,
		      uint64_t elapsed_us);

struct apply_opts {
	const struct apply_progress *progress;	/* NULL: silent */
	int journal_fd;		/* from fix_journal_open(), or -1: no journal. Set it: 0 is stdin */
	bool offline;		/* --root: live steps are listed, not run */
	char *const *argv;	/* the command line, summarized in the journal's apply-start */
	int argc;
};
/* Run every step of every plan; fills results and the journal. Returns whether anything
 * changed (mutated). */
bool plan_apply(struct host *h, struct plan *plan, const struct apply_opts *o);

/* Load one module through libkmod with the given module dir and config dirs (NULL for the
 * running kernel's). 0, 1 when it was already loaded, or -errno with msg filled. */
int kmod_load(const char *moddir, const char *const *configs, const char *name, char *msg, size_t size);

/* Atomic, idempotent write of a file, its directories created: 0 written, 1 unchanged, -errno
 * with why filled. The file must be absent or a regular file (see safefile.h). */
int write_file_atomic(const char *path, const char *content, unsigned mode, char *why, size_t size);

/* Open the journal for appending (path NULL: /var/log/virt-doctor/journal.jsonl on the host,
 * inside the root under --root): an existing regular file or a new one (0640); a symlink,
 * FIFO, device node, socket or directory there is refused, and nothing blocks. fd, or -errno
 * with why filled. */
int fix_journal_open(const struct host *h, const char *path, char *why, size_t size);

/* What the journal says about the last --apply (path NULL: the default journal, inside the
 * root under --root). 0, or -errno (-ENOENT: no journal yet). */
int fix_journal_read(const struct host *h, const char *path, struct journal_state *st);

/* Re-run the checks and set each plan's state. */
void plan_verify(struct host *h, struct plan *plan, bool offline);

/* Output. */
struct fix_report {
	const struct plan *plan;
	const struct distro *distro;
	const struct fix_facts *facts;
	const char *data_dir;
	bool applied, mutated, offline;
	int exit_code;
	/* The journal as it was before this run (NULL: not read), and where it is. */
	const struct journal_state *previous;
	const char *journal_path;
};
int fix_report_text(FILE *out, const struct fix_report *r);
int fix_report_json(FILE *out, const struct fix_report *r);
/* The exit code: plan only -> 0 nothing to do, 1 something to do; applied -> 0 all fixed,
 * 1 something still needs a person (reboot, re-login, manual, pending live), 2 failed. */
int fix_exit_code(const struct plan *plan, bool applied);

#endif
