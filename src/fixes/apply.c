// SPDX-License-Identifier: GPL-2.0-or-later
/* The executor: runs a plan's steps (execve with timeouts, atomic writes, libkmod), journals
 * every action, then re-runs the checks to say what each fix achieved. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "checks/accounts.h"
#include "checks/kmod_dl.h"
#include "fixes/fix.h"
#include "fixes/journal.h"
#include "safefile.h"
#include "util.h"

/* Commands run with this PATH and nothing else from our environment but the locale. */
#define SAFE_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define OUTPUT_MAX 65536

static int resolve(const char *name, char *out, size_t size)
{
	const char *p = SAFE_PATH;

	if (strchr(name, '/')) {
		snprintf(out, size, "%s", name);
		return access(out, X_OK) == 0 ? 0 : -errno;
	}
	while (*p) {
		const char *end = strchrnul(p, ':');

		snprintf(out, size, "%.*s/%s", (int)(end - p), p, name);
		if (access(out, X_OK) == 0)
			return 0;
		p = *end ? end + 1 : end;
	}
	return -ENOENT;
}

/*
 * Run argv without a shell; its stdout+stderr go to *output (caller frees). Returns the exit
 * status (0..255), or -errno: -ENOENT not found, -ETIMEDOUT killed after timeout_s.
 */
/* Who to tell, once a second, that a command is still running. */
struct tick {
	const struct apply_progress *pg;
	const struct fix_plan *p;
	const struct step *s;
	uint64_t t0;
};

static int run_command(char *const argv[], char *const env_add[], unsigned timeout_s, char **output,
		       const struct tick *tick)
{
	char path[PATH_MAX], *env[8];
	unsigned ne = 0;
	int pipefd[2], status, r;
	size_t len = 0;
	char *buf;
	uint64_t deadline = now_us() + (uint64_t)timeout_s * 1000000u, shown = 0;
	pid_t pid;
	bool timed_out = false;

	*output = NULL;
	r = resolve(argv[0], path, sizeof(path));
	if (r < 0)
		return r;
	env[ne++] = (char *)"PATH=" SAFE_PATH;
	env[ne++] = (char *)"LC_ALL=C";
	for (unsigned i = 0; env_add && env_add[i] && ne + 1 < ARRAY_SIZE(env); i++)
		env[ne++] = env_add[i];
	env[ne] = NULL;
	buf = malloc(OUTPUT_MAX + 1);
	if (!buf)
		return -ENOMEM;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		free(buf);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		free(buf);
		return r;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		setpgid(0, 0);	/* so a timeout kills the whole tree */
		if (null >= 0)
			dup2(null, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		execve(path, argv, env);
		_exit(127);
	}
	setpgid(pid, pid);
	close(pipefd[1]);
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		int64_t left = (int64_t)(deadline - now_us()) / 1000;
		ssize_t n;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (tick && (now_us() - tick->t0) / 1000000 > shown) {
			shown = (now_us() - tick->t0) / 1000000;
			fix_progress_tick(tick->pg, tick->p, tick->s, now_us() - tick->t0);
		}
		r = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			continue;
		n = read(pipefd[0], len < OUTPUT_MAX ? buf + len : path,
			 len < OUTPUT_MAX ? OUTPUT_MAX - len : sizeof(path));
		if (n <= 0)
			break;
		if (len < OUTPUT_MAX)
			len += (size_t)n;
	}
	close(pipefd[0]);
	if (timed_out)
		kill(-pid, SIGKILL);
	/* The pipe closed: the child is exiting. Bound the wait anyway. */
	for (unsigned i = 0; waitpid(pid, &status, WNOHANG) == 0; i++) {
		if (i == 200)
			kill(-pid, SIGKILL);
		usleep(10000);
	}
	buf[len] = '\0';
	*output = buf;
	if (timed_out)
		return -ETIMEDOUT;
	if (WIFEXITED(status))
		return WEXITSTATUS(status) == 127 && len == 0 ? -ENOEXEC : WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* "Active:         yes" -> "Active: yes": virsh pads with spaces. */
static void fold_spaces(char *s)
{
	char *w = s;
	bool space = false;

	for (char *r = s; *r; r++) {
		if (*r == ' ' || *r == '\t') {
			space = true;
			continue;
		}
		if (space && w != s && w[-1] != '\n')
			*w++ = ' ';
		space = false;
		*w++ = *r;
	}
	*w = '\0';
}

static bool guard_satisfied(struct host *h, const struct step *s)
{
	_cleanup_free_ char *out = NULL;
	_cleanup_(group_entry_clear) struct group_entry g = { .members = "" };
	int r;

	switch (s->guard) {
	case GUARD_NONE:
		return false;
	case GUARD_GROUP_EXISTS:
		return host_group_by_name(h, s->group, &g) == 0;
	case GUARD_EXIT_ZERO:
	case GUARD_OUTPUT:
	case GUARD_EVERY_LINE:
		r = run_command(s->guard_argv, NULL, 30, &out, NULL);
		if (r != 0)
			return false;
		if (s->guard == GUARD_EXIT_ZERO)
			return true;
		if (s->guard == GUARD_EVERY_LINE) {
			bool any = false;

			for (char *line = out, *eol; line && *line; line = *eol ? eol + 1 : eol) {
				eol = strchrnul(line, '\n');
				if (eol == line)
					continue;
				if (!memmem(line, (size_t)(eol - line), s->guard_match, strlen(s->guard_match)))
					return false;
				any = true;
			}
			return any;
		}
		fold_spaces(out);
		return out && strstr(out, s->guard_match);
	}
	return false;
}

static void kmod_silent(void *data, int prio, const char *file, int line, const char *fn,
			const char *fmt, va_list args)
{
	(void)data, (void)prio, (void)file, (void)line, (void)fn, (void)fmt, (void)args;
}

int kmod_load(const char *moddir, const char *const *configs, const char *name, char *msg, size_t size)
{
	const struct kmod_fns *k = kmod_fns(msg, size);
	struct kmod_ctx *ctx;
	struct kmod_list *list = NULL;
	struct kmod_module *mod;
	int r, state;

	if (!k)
		return -ELIBACC;	/* msg says why */
	ctx = k->new_ctx(moddir, configs);
	if (!ctx) {
		snprintf(msg, size, "libkmod could not start");
		return -ENOMEM;
	}
	k->set_log_fn(ctx, kmod_silent, NULL);
	k->load_resources(ctx);	/* without an index, lookups below say "not found" */
	r = k->module_new_from_lookup(ctx, name, &list);
	if (r < 0 || !list) {
		/* Not in modules.dep; it may still be built in or already loaded. */
		if (k->module_new_from_name(ctx, name, &mod) == 0) {
			state = k->module_get_initstate(mod);
			k->module_unref(mod);
			if (state == KMOD_MODULE_LIVE || state == KMOD_MODULE_BUILTIN ||
			    (state == KMOD_MODULE_COMING && access("/proc/modules", F_OK) < 0)) {
				snprintf(msg, size, "%s is already in the kernel", name);
				k->unref(ctx);
				return 1;
			}
		}
		snprintf(msg, size, "module %s not found (not in %s/modules.dep)", name,
			 moddir ? moddir : "/lib/modules/$(uname -r)");
		k->unref(ctx);
		return -ENOENT;
	}
	mod = k->module_get_module(list);
	k->module_unref_list(list);
	state = k->module_get_initstate(mod);
	if (state == KMOD_MODULE_LIVE || state == KMOD_MODULE_BUILTIN) {
		snprintf(msg, size, "%s is already loaded", name);
		r = 1;
	} else {
		/* Dependencies first, softdeps and modprobe.d options applied: what modprobe does. */
		r = k->module_probe_insert_module(mod, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL, NULL, NULL);
		if (r == 0)
			snprintf(msg, size, "loaded %s", name);
		else if (r > 0)
			snprintf(msg, size, "%s is blacklisted in modprobe.d", name), r = -EPERM;
		else
			snprintf(msg, size, "loading %s (%s) failed: %s%s", name,
				 k->module_get_path(mod) ? k->module_get_path(mod) : "?", strerror(-r),
				 r == -ENODEV ? " (virtualization disabled in firmware? see dmesg)" : "");
	}
	k->module_unref(mod);
	k->unref(ctx);
	return r;
}

static int mkdir_parents(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	scopy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/*
 * Test-only fault injection (tests/test_fix_faults.c), like VIRT_DOCTOR_TEST_FORBIDDEN_SYSCALL
 * in the VMM: with VIRT_DOCTOR_TEST_KILL_AFTER_STEPS=N the process SIGKILLs itself right after
 * journaling its Nth step; with VIRT_DOCTOR_TEST_KILL_BEFORE_RENAME=N, in its Nth atomic write
 * after the temp file is complete and fsync'd but before the rename. A SIGKILL cannot be
 * caught, so this is the worst interruption there is, at a place the test chooses. Both hooks
 * only make the process die earlier; they cannot change what it writes.
 */
#define TEST_KILL_AFTER_STEPS_ENV "VIRT_DOCTOR_TEST_KILL_AFTER_STEPS"
#define TEST_KILL_BEFORE_RENAME_ENV "VIRT_DOCTOR_TEST_KILL_BEFORE_RENAME"
static unsigned steps_journaled, writes_before_rename;

static void test_hook(const char *env, unsigned *counter)
{
	const char *v = getenv(env);

	++*counter;
	if (v && *v && strtoul(v, NULL, 10) == *counter)
		raise(SIGKILL);
}

static void kill_before_rename_hook(void)
{
	test_hook(TEST_KILL_BEFORE_RENAME_ENV, &writes_before_rename);
}

static void split_path(const char *path, char *dir, size_t size, const char **base)
{
	const char *slash = strrchr(path, '/');

	*base = slash ? slash + 1 : path;
	if (!slash)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

int write_file_atomic(const char *path, const char *content, unsigned mode, char *why, size_t size)
{
	char dir[PATH_MAX];
	const char *base;
	_cleanup_close_ int dfd = -1;
	int r;

	split_path(path, dir, sizeof(dir), &base);
	r = mkdir_parents(path, 0755);
	if (r < 0) {
		snprintf(why, size, "%s", strerror(-r));
		return r;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		snprintf(why, size, "%s", strerror(-r));
		return r;
	}
	return file_replace_at(dfd, base, content, strlen(content), mode, REPLACE_SKIP_SAME,
			       kill_before_rename_hook, why, size);
}

/*
 * The same, for a path on the host being fixed: under --root every directory is resolved
 * inside the root (a symlink in an image cannot send the write to the real /etc), and missing
 * directories are created there.
 */
static int host_mkdirs(const struct host *h, char *dir)
{
	if (streq(dir, "/"))
		return 0;
	for (char *p = dir + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char save = *p;
			int fd;

			*p = '\0';
			fd = host_open(h, dir, O_PATH | O_DIRECTORY);
			if (fd == -ENOENT) {
				char *slash = strrchr(dir, '/');
				_cleanup_close_ int pfd = -1;

				*slash = '\0';
				pfd = host_open(h, slash == dir ? "/" : dir, O_PATH | O_DIRECTORY);
				*slash = '/';
				if (pfd < 0)
					return pfd;
				if (mkdirat(pfd, slash + 1, 0755) < 0 && errno != EEXIST)
					return -errno;
			} else if (fd < 0) {
				return fd;
			} else {
				close(fd);
			}
			*p = save;
			if (!save)
				return 0;
		}
	}
}

/*
 * The same, for a path on the host being fixed: under --root every directory is resolved
 * inside the root (a symlink in an image cannot send the write to the real /etc), and missing
 * directories are created there. The target itself must be absent or a regular file.
 */
static int host_write_file(const struct host *h, const char *path, const char *content, unsigned mode,
			   char *why, size_t size)
{
	char dir[PATH_MAX];
	const char *base;
	_cleanup_close_ int dfd = -1;
	int r;

	if (path[0] != '/')
		return -EINVAL;
	split_path(path, dir, sizeof(dir), &base);
	r = host_mkdirs(h, dir);
	if (r == 0) {
		dfd = host_open(h, dir, O_RDONLY | O_DIRECTORY);
		r = dfd < 0 ? dfd : 0;
	}
	if (r < 0) {
		snprintf(why, size, "%.120s: %s", dir, strerror(-r));
		return r;
	}
	return file_replace_at(dfd, base, content, strlen(content), mode, REPLACE_SKIP_SAME,
			       kill_before_rename_hook, why, size);
}

#define JOURNAL_DEFAULT "/var/log/virt-doctor/journal.jsonl"

int fix_journal_open(const struct host *h, const char *path, char *why, size_t size)
{
	char dir[] = "/var/log/virt-doctor";
	_cleanup_close_ int dfd = -1;
	mode_t found = 0;
	int fd, r;

	if (path) {
		/* --journal FILE: a path on this machine, as given. */
		r = mkdir_parents(path, 0750);
		fd = r < 0 ? r : open_append(path, 0640, &found);
	} else {
		/* The default, inside the root when there is one. */
		r = host_mkdirs(h, dir);
		dfd = r < 0 ? r : host_open(h, dir, O_PATH | O_DIRECTORY);
		fd = dfd < 0 ? dfd : open_append_at(dfd, "journal.jsonl", 0640, &found);
	}
	if (fd < 0)
		file_refusal(fd, found, why, size);
	return fd;
}

int fix_journal_read(const struct host *h, const char *path, struct journal_state *st)
{
	_cleanup_close_ int fd = -1;

	memset(st, 0, sizeof(*st));
	/* Looked at through O_PATH first: a FIFO put where the journal goes must not hang the
	 * plan, and a device node there is never opened. */
	if (path) {
		fd = open_regular_at(AT_FDCWD, path, O_RDONLY, true, NULL);
		if (fd < 0)
			return fd;
	} else {
		fd = host_open_regular(h, JOURNAL_DEFAULT);
	}
	if (fd < 0)
		return fd;
	return journal_read_fd(fd, st);
}

static void stamp_now(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), size - strlen(buf), ".%03ldZ", ts.tv_nsec / 1000000);
}

/* Every line starts the same: what it is, which event, which run, when. */
static json_t *journal_line_new(const char *event, const char *run)
{
	char stamp[64];

	stamp_now(stamp, sizeof(stamp));
	/* "kind" names the document, as in every JSON virt-doctor writes; "event" the line. */
	return json_pack("{s:s, s:s, s:s, s:s}", "kind", "fix-journal", "event", event, "run", run,
			 "time", stamp);
}

/* One write(2) per line, newline included, on the O_APPEND descriptor (not through stdio,
 * whose buffer would split a long line in two writes): a kill leaves whole lines, at most a
 * last one without its newline (the reader skips it), and two applies at once never mix
 * inside a line. */
static void journal_emit(int j, json_t *o)
{
	char *line = j >= 0 && o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	if (line) {
		size_t n = strlen(line);
		char *nl = realloc(line, n + 2);

		if (nl) {
			line = nl;
			line[n] = '\n';
			if (write(j, line, n + 1) < 0) {
				/* The journal is a record, not a precondition: the apply goes on. */
			}
		}
		free(line);
	}
	json_decref(o);
}

static void journal_start(int j, const char *run, const struct plan *plan, const struct apply_opts *o)
{
	json_t *line, *argv = json_array(), *ids = json_array();

	if (j < 0) {
		json_decref(argv);
		json_decref(ids);
		return;
	}
	/* The command line, bounded (it is for a person reading the journal, not for replay). */
	for (int i = 0; o->argv && i < o->argc && i < 32; i++) {
		char word[128];
		_cleanup_free_ char *clean = NULL;

		strtcpy(word, o->argv[i], sizeof(word));
		clean = str_sanitize(word, STR_JSON);
		if (clean)
			json_array_append_new(argv, json_string(clean));
	}
	for (unsigned i = 0; i < plan->n; i++)
		json_array_append_new(ids, json_string(plan->items[i].fix->id));
	line = journal_line_new("apply-start", run);
	json_object_set_new(line, "pid", json_integer(getpid()));
	json_object_set_new(line, "argv", argv);
	json_object_set_new(line, "fixes", ids);
	json_object_set_new(line, "offline_root", json_boolean(o->offline));
	journal_emit(j, line);
}

static void journal_end(int j, const char *run, unsigned steps, unsigned failed, bool mutated)
{
	json_t *line;

	if (j < 0)
		return;
	line = journal_line_new("apply-end", run);
	json_object_set_new(line, "outcome", json_string(failed ? "failed" : "completed"));
	json_object_set_new(line, "steps", json_integer(steps));
	json_object_set_new(line, "failed_steps", json_integer(failed));
	json_object_set_new(line, "mutated", json_boolean(mutated));
	journal_emit(j, line);
}

static void journal(int j, const char *run, const struct fix_plan *p, unsigned idx, const struct step *s,
		    bool offline)
{
	json_t *o, *argv;

	if (j < 0)
		return;
	o = journal_line_new("step", run);
	json_object_set_new(o, "fix", json_string(p->fix->id));
	json_object_set_new(o, "step", json_integer(idx + 1));
	json_object_set_new(o, "action", json_string(step_kind_name(s->kind)));
	switch (s->kind) {
	case STEP_COMMAND:
	case STEP_GROUP:
		argv = json_array();
		for (unsigned i = 0; s->argv[i]; i++)
			json_array_append_new(argv, json_string(s->argv[i]));
		json_object_set_new(o, "argv", argv);
		break;
	case STEP_WRITE:
	case STEP_SYSCTL:
		json_object_set_new(o, "file", json_string(s->path));
		break;
	case STEP_KMOD:
		json_object_set_new(o, "module", json_string(s->module));
		break;
	case STEP_HUMAN:
		break;
	}
	json_object_set_new(o, "result", json_string(step_result_name(s->result)));
	json_object_set_new(o, "errno", json_integer(s->result == RESULT_FAILED && s->error < 0 ? -s->error : 0));
	if (s->kind == STEP_COMMAND && s->result != RESULT_NOT_RUN && s->error >= 0)
		json_object_set_new(o, "exit_status", json_integer(s->error));
	if (s->note[0])
		json_object_set_new(o, "note", json_string(s->note));
	json_object_set_new(o, "offline_root", json_boolean(offline));
	journal_emit(j, o);
}

static void run_cmd_step(struct host *h, struct step *s, const struct tick *tick)
{
	_cleanup_free_ char *out = NULL;
	int r;

	if (s->kind == STEP_GROUP) {
		_cleanup_(group_entry_clear) struct group_entry g = { .members = "" };

		if (host_group_by_name(h, s->group, &g) == 0 && group_has_member(&g, s->user)) {
			char note[sizeof(s->note)];

			s->result = RESULT_UNCHANGED;
			/* Through a local: gcc's -Wrestrict cannot tell s->note from s->user once
			 * this is inlined into plan_apply (ASan build). */
			sfmt(note, "%s is already in %s", s->user, s->group);
			scopy(s->note, note);
			return;
		}
	} else if (guard_satisfied(h, s)) {
		s->result = RESULT_UNCHANGED;
		sfmt(s->note, "already done");
		return;
	}
	r = run_command(s->argv, s->env, s->timeout_s, &out, tick);
	s->error = r;
	if (r == 0) {
		s->result = RESULT_DONE;
		return;
	}
	s->result = RESULT_FAILED;
	if (r == -ENOENT)
		sfmt(s->note, "%s: command not found", s->argv[0]);
	else if (r == -ETIMEDOUT)
		sfmt(s->note, "killed after %u s", s->timeout_s);
	else if (r < 0)
		sfmt(s->note, "%s", strerror(-r));
	else {
		char *last = out ? strstrip(out) : NULL;
		char *nl = last ? strrchr(last, '\n') : NULL;

		sfmt(s->note, "exit status %d%s%s", r, last && *last ? ": " : "",
		     last ? (nl ? nl + 1 : last) : "");
	}
}

static bool same_argv(char *const *a, char *const *b)
{
	unsigned i = 0;

	for (; i < STEP_ARGV_MAX && a[i] && b[i]; i++)
		if (!streq(a[i], b[i]))
			return false;
	return i == STEP_ARGV_MAX || (!a[i] && !b[i]);
}

/* A once-per-apply command (the package lists' refresh) that already ran in this apply. */
static bool ran_earlier(const struct plan *plan, unsigned fix, unsigned step)
{
	const struct step *s = &plan->items[fix].steps[step];

	for (unsigned i = 0; i <= fix; i++)
		for (unsigned k = 0; k < (i == fix ? step : plan->items[i].n_steps); k++) {
			const struct step *e = &plan->items[i].steps[k];

			if (e->once_per_apply && e->result == RESULT_DONE && same_argv(e->argv, s->argv))
				return true;
		}
	return false;
}

static void run_step(struct host *h, struct step *s, bool offline, const struct tick *tick)
{
	char msg[256];
	int r;

	if (s->kind == STEP_HUMAN) {
		s->result = RESULT_NOT_RUN;
		sfmt(s->note, "for a person to do");
		return;
	}
	if (offline && s->live) {
		s->result = RESULT_NOT_RUN;
		sfmt(s->note, "live action: run it on the target system");
		return;
	}
	switch (s->kind) {
	case STEP_WRITE: {
		char why[200];

		r = host_write_file(h, s->path, s->content, s->mode, why, sizeof(why));
		s->error = r < 0 ? r : 0;
		s->result = r == 1 ? RESULT_UNCHANGED : r == 0 ? RESULT_DONE : RESULT_FAILED;
		if (r < 0)
			sfmt(s->note, "%s", why);
		break;
	}
	case STEP_SYSCTL: {
		char now[32];
		_cleanup_close_ int fd = -1;
		mode_t found = 0;

		if (host_read_line(h, s->path, now, sizeof(now)) == 0 && streq(now, s->content)) {
			s->result = RESULT_UNCHANGED;
			break;
		}
		/* A /proc/sys file is a regular file; anything else there is not ours to write. */
		fd = open_regular_at(AT_FDCWD, s->path, O_WRONLY, true, &found);
		if (fd < 0 || write(fd, s->content, strlen(s->content)) < 0) {
			s->error = fd < 0 ? fd : -errno;
			s->result = RESULT_FAILED;
			file_refusal(s->error, found, s->note, sizeof(s->note));
		} else
			s->result = RESULT_DONE;
		break;
	}
	case STEP_KMOD:
		r = kmod_load(NULL, NULL, s->module, msg, sizeof(msg));
		s->error = r < 0 ? r : 0;
		s->result = r == 1 ? RESULT_UNCHANGED : r == 0 ? RESULT_DONE : RESULT_FAILED;
		scopy(s->note, msg);
		break;
	case STEP_COMMAND:
	case STEP_GROUP:
		run_cmd_step(h, s, tick);
		break;
	case STEP_HUMAN:
		break;
	}
}

bool plan_apply(struct host *h, struct plan *plan, const struct apply_opts *o)
{
	int j = o->journal_fd;
	bool mutated = false;
	unsigned journaled = 0, failed_steps = 0;
	char run[48];
	struct tm tm;
	time_t now = time(NULL);

	/* The run id ties the step lines to their start and end: time and pid are unique enough
	 * on one host, and say when and what without a lookup. */
	gmtime_r(&now, &tm);
	strftime(run, sizeof(run), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(run + strlen(run), sizeof(run) - strlen(run), "-%d", (int)getpid());
	journal_start(j, run, plan, o);
	for (unsigned i = 0; i < plan->n; i++) {
		struct fix_plan *p = &plan->items[i];
		bool failed = false;

		for (unsigned k = 0; k < p->n_steps; k++) {
			struct step *s = &p->steps[k];

			if (failed && s->kind != STEP_HUMAN) {
				/* Later steps assume the earlier ones worked. */
				s->result = RESULT_NOT_RUN;
				sfmt(s->note, "an earlier step failed");
			} else if (s->once_per_apply && ran_earlier(plan, i, k)) {
				s->result = RESULT_UNCHANGED;
				sfmt(s->note, "already ran in this apply");
			} else if (s->kind == STEP_HUMAN || (o->offline && s->live)) {
				run_step(h, s, o->offline, NULL);
			} else {
				/* Said as it starts, so a long package install is not a silent wait. */
				struct tick t = { .pg = o->progress, .p = p, .s = s, .t0 = now_us() };

				fix_progress_start(o->progress, p, s);
				run_step(h, s, o->offline, &t);
				fix_progress_end(o->progress, p, s, now_us() - t.t0);
			}
			failed |= s->result == RESULT_FAILED;
			failed_steps += s->result == RESULT_FAILED;
			mutated |= s->result == RESULT_DONE;
			if (s->kind != STEP_HUMAN) {
				journal(j, run, p, k, s, o->offline);
				journaled++;
				test_hook(TEST_KILL_AFTER_STEPS_ENV, &steps_journaled);
			}
		}
	}
	journal_end(j, run, journaled, failed_steps, mutated);
	return mutated;
}

void plan_verify(struct host *h, struct plan *plan, bool offline)
{
	struct run_options opt = { .boot = false };
	struct run *run = calloc(1, sizeof(*run));
	struct check_ctx ctx = { .host = h, .opt = &opt, .run = run };

	if (!run)
		return;
	run_checks_no_boot(&ctx, run);
	for (unsigned i = 0; i < plan->n; i++) {
		struct fix_plan *p = &plan->items[i];
		bool failed = false, pending = false, changed = false, all_human = true, passing = true;
		bool has_human = false;

		for (unsigned k = 0; k < p->n_steps; k++) {
			const struct step *s = &p->steps[k];

			failed |= s->result == RESULT_FAILED;
			pending |= s->result == RESULT_NOT_RUN && s->kind != STEP_HUMAN;
			changed |= s->result == RESULT_DONE;
			all_human &= s->kind == STEP_HUMAN;
			has_human |= s->kind == STEP_HUMAN;
		}
		p->n_check_status = 0;
		for (unsigned r = 0; r < REMEDIES_MAX && p->fix->remedies[r]; r++) {
			const struct check_result *cr = run_result(run, p->fix->remedies[r]);

			if (!cr || p->n_check_status >= ARRAY_SIZE(p->check_status))
				continue;
			scopy(p->check_status[p->n_check_status][0], p->fix->remedies[r]);
			scopy(p->check_status[p->n_check_status][1], check_status_name(cr->status));
			p->n_check_status++;
			passing &= cr->status == CHECK_PASS || cr->status == CHECK_SKIP;
		}
		if (failed)
			p->state = "failed";
		else if (all_human)
			p->state = "manual";
		else if (changed && p->fix->after == AFTER_RELOGIN)
			p->state = "needs-relogin";
		else if (changed && p->fix->after == AFTER_REBOOT)
			p->state = "needs-reboot";
		else if (pending || (offline && (!passing || has_human)))
			p->state = "pending";	/* the rest happens on the running target */
		else
			p->state = passing ? "fixed" : "still-failing";
	}
	run_free(run);
	free(run);
}

int fix_exit_code(const struct plan *plan, bool applied)
{
	int code = 0;

	if (!applied)
		return plan->n ? 1 : 0;
	for (unsigned i = 0; i < plan->n; i++) {
		const char *st = plan->items[i].state;

		if (!st)
			continue;
		if (streq(st, "failed") || streq(st, "still-failing"))
			return 2;
		if (!streq(st, "fixed"))
			code = 1;
	}
	return code;
}
