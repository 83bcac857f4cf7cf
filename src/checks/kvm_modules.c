// SPDX-License-Identifier: GPL-2.0-or-later
/* kvm.modules: kvm and its backend module, through libkmod: loaded, built in, available, missing. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <sys/stat.h>

#include "checks/check.h"
#include "checks/kmod_dl.h"
#include "checks/kvm.h"
#include "checks/sysfs_value.h"
#include "util.h"

enum module_state { MOD_LOADED, MOD_BUILTIN, MOD_AVAILABLE, MOD_MISSING, MOD_TRANSIENT, MOD_UNKNOWN };

static const char *const module_state_names[] = {
	[MOD_LOADED] = "loaded",
	[MOD_BUILTIN] = "built-in",
	[MOD_AVAILABLE] = "available",
	[MOD_MISSING] = "missing",
	[MOD_TRANSIENT] = "loading-or-unloading",
	/* Not active in /sys/module, and no kernel release to look for its file with. */
	[MOD_UNKNOWN] = "unknown",
};

static inline bool module_active(enum module_state s)
{
	return s == MOD_LOADED || s == MOD_BUILTIN;
}

/* libkmod logs to stderr by default; checks never print. */
static void kmod_quiet(void *data, int prio, const char *file, int line, const char *fn,
		       const char *fmt, va_list args)
{
	(void)data, (void)prio, (void)file, (void)line, (void)fn, (void)fmt, (void)args;
}

static void kmod_modulep(struct kmod_module **m)
{
	if (*m)
		kmod_fns(NULL, 0)->module_unref(*m);	/* *m exists: libkmod is loaded */
}

/*
 * Under --root, libkmod would open ROOT/lib/modules/KVER/modules.*.bin and the modprobe.d
 * files by plain path, so a symlink (or a ".." in KVER) inside a hostile tree would make it
 * read host files. Instead the files libkmod reads are copied, each opened with
 * host_open_regular() (resolved inside the root, never a device), into a private 0700 scratch
 * directory, and libkmod gets that.
 *
 * The copy is bounded by the bytes really written: hard-linked sparse modprobe.d files once
 * made it 361 MB per run. A full distro kernel's indexes are ~10 MB and modprobe.d a few KB,
 * so the bounds below are per file and in total, counted in bytes really written (a sparse
 * file counts what reading it gives, and st_blocks cannot be trusted to spot one: ZFS and
 * btrfs report compressed sizes), and an inode already copied (a hard link) is not copied
 * again. What is skipped is counted in the report (files_not_copied).
 */
#define KMOD_INDEX_FILE_MAX (32u << 20)
#define KMOD_CONF_FILE_MAX (256u << 10)
#define KMOD_CONF_TOTAL_MAX (4u << 20)
#define KMOD_COPY_TOTAL_MAX (64u << 20)
#define KMOD_COPY_FILES_MAX 512u

static const char *const scratch_dirs[] = { "modules", "etc-modprobe.d", "lib-modprobe.d" };

/* A killed run cannot remove its copy: the name carries the pid, so the next run can tell a
 * dead run's directory from a live one's (see scratch_reap). */
#define SCRATCH_PREFIX "virt-doctor-kmod-"

struct kmod_scratch {
	char dir[256];		/* "" when not made */
	size_t bytes, conf_bytes;	/* really written */
	unsigned files, skipped;
	struct { dev_t dev; ino_t ino; } seen[KMOD_COPY_FILES_MAX];
};

/* Remove a scratch directory: its subdirectories' entries, never following a link. */
static void scratch_rmtree(int parent, const char *name)
{
	_cleanup_close_ int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(scratch_dirs); i++) {
		int sfd = openat(fd, scratch_dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		DIR *d = sfd >= 0 ? fdopendir(sfd) : NULL;
		struct dirent *de;

		if (!d) {
			if (sfd >= 0)
				close(sfd);
			continue;
		}
		while ((de = readdir(d)))
			if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
		unlinkat(fd, scratch_dirs[i], AT_REMOVEDIR);
	}
	unlinkat(parent, name, AT_REMOVEDIR);
}

static void scratch_remove(struct kmod_scratch *s)
{
	if (!s->dir[0])
		return;
	scratch_rmtree(AT_FDCWD, s->dir);
	s->dir[0] = '\0';
}

/* Remove the copies of runs that were killed: ours (same owner), named with a pid that no
 * longer exists, untouched for a minute (a pid in another pid namespace sharing this /tmp
 * looks dead to us, but its run takes well under a second). A live run's copy, or another
 * user's, is left alone. Once per process: every module question makes a copy. */
#define SCRATCH_STALE_S 60

static void scratch_reap(const char *tmp)
{
	static bool reaped;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	time_t now = time(NULL);

	if (__atomic_exchange_n(&reaped, true, __ATOMIC_RELAXED))
		return;
	d = opendir(tmp);
	while (d && (de = readdir(d))) {
		struct stat st;
		char *end;
		long pid;

		if (!startswith(de->d_name, SCRATCH_PREFIX))
			continue;
		pid = strtol(de->d_name + strlen(SCRATCH_PREFIX), &end, 10);
		if (pid <= 0 || *end != '-' || pid == getpid())
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != geteuid() || now - st.st_mtime < SCRATCH_STALE_S)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		scratch_rmtree(dirfd(d), de->d_name);
	}
}

struct copy_job {
	const struct host *host;
	const char *from;	/* directory as seen in the root */
	int to_fd;		/* scratch subdirectory */
	bool (*want)(const char *name);
	bool conf;
	struct kmod_scratch *s;
};

/* What libkmod 30 reads from dirname: the binary indexes, softdeps (kmod_config) and the
 * built-in modinfo; the text twins of the indexes are for humans and depmod. */
static bool want_index(const char *name)
{
	size_t n = strlen(name);

	return startswith(name, "modules.") &&
	       ((n > 4 && streq(name + n - 4, ".bin")) || streq(name, "modules.softdep") ||
		streq(name, "modules.builtin.modinfo"));
}

static bool want_conf(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && streq(name + n - 5, ".conf");
}

/* Copy one regular file from the root (opened inside it) into the scratch dir, within the
 * bounds above; a file that does not fit them is skipped (and counted), not cut. */
static int copy_one(const char *name, void *data)
{
	struct copy_job *job = data;
	struct kmod_scratch *s = job->s;
	_cleanup_close_ int in = -1, out = -1;
	size_t file_max = job->conf ? KMOD_CONF_FILE_MAX : KMOD_INDEX_FILE_MAX, done = 0;
	char path[1024], buf[65536];
	struct stat st;
	ssize_t n;

	if (!job->want(name))
		return 0;
	if (snprintf(path, sizeof(path), "%s/%s", job->from, name) >= (int)sizeof(path))
		return 0;
	in = host_open_regular(job->host, path);
	if (in < 0 || fstat(in, &st) < 0)
		return 0;	/* not there inside the root, or not a file: libkmod does without */
	for (unsigned i = 0; i < s->files; i++)
		if (s->seen[i].dev == st.st_dev && s->seen[i].ino == st.st_ino)
			goto skip;	/* a hard link to a file already copied */
	if (s->files >= KMOD_COPY_FILES_MAX || st.st_size < 0 || (size_t)st.st_size > file_max ||
	    (size_t)st.st_size > KMOD_COPY_TOTAL_MAX - s->bytes ||
	    (job->conf && (size_t)st.st_size > KMOD_CONF_TOTAL_MAX - s->conf_bytes))
		goto skip;
	s->seen[s->files].dev = st.st_dev;
	s->seen[s->files].ino = st.st_ino;
	s->files++;
	out = openat(job->to_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return 0;
	/* Bounded by what is written, not by st_size: the file may grow while we copy. */
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if ((size_t)n > file_max - done || (size_t)n > KMOD_COPY_TOTAL_MAX - s->bytes ||
		    (job->conf && (size_t)n > KMOD_CONF_TOTAL_MAX - s->conf_bytes)) {
			unlinkat(job->to_fd, name, 0);
			goto skip;
		}
		if (write(out, buf, (size_t)n) != n)
			return -EIO;
		done += (size_t)n;
		s->bytes += (size_t)n;
		if (job->conf)
			s->conf_bytes += (size_t)n;
	}
	return n < 0 ? -errno : 0;
skip:
	s->skipped++;
	return 0;
}

static int scratch_fill(struct kmod_scratch *s, const struct host *h, const char *moddir)
{
	static const char *const from[] = { NULL, "/etc/modprobe.d", "/lib/modprobe.d" };
	const char *tmp = getenv("TMPDIR");
	char sub[512];
	int r;

	if (!tmp || tmp[0] != '/')
		tmp = "/tmp";
	scratch_reap(tmp);
	if (snprintf(s->dir, sizeof(s->dir), "%s/" SCRATCH_PREFIX "%ld-XXXXXX", tmp, (long)getpid()) >=
	    (int)sizeof(s->dir) || !mkdtemp(s->dir)) {
		s->dir[0] = '\0';
		return -errno;
	}
	for (size_t i = 0; i < ARRAY_SIZE(scratch_dirs); i++) {
		_cleanup_close_ int fd = -1;
		struct copy_job job = { .host = h, .from = from[i] ? from[i] : moddir,
					.want = from[i] ? want_conf : want_index, .conf = from[i] != NULL,
					.s = s };

		sfmt(sub, "%s/%s", s->dir, scratch_dirs[i]);
		if (mkdir(sub, 0700) < 0)
			return -errno;
		fd = open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		job.to_fd = fd;
		r = host_list_dir(h, job.from, copy_one, &job);
		if (r < 0 && r != -ENOENT && r != -ENOTDIR)
			return r;
	}
	/* Test hook (tests/test_hostile.c): die as a kill at this point would, copy made. */
	if (getenv("VIRT_DOCTOR_TEST_KILL_IN_SCRATCH"))
		raise(SIGKILL);
	return 0;
}

struct modules_env {
	const struct host *host;
	char moddir_seen[300];	/* what libkmod calls dirname, as the report shows it */
	char *moddir_kmod;	/* ...and the directory libkmod really reads */
	struct kmod_scratch scratch;	/* --root: the private copy libkmod reads */
	const struct kmod_fns *k;	/* libkmod, loaded by modules_env_open() */
	struct kmod_ctx *kmod;
	bool have_index;	/* modules.dep.bin etc. loaded */
	bool proc_modules;	/* the kernel supports loadable modules */
};

/*
 * The root's sysfs, for --root: libkmod reads /sys/module and /proc/modules at fixed
 * paths, so under a root we read the same sysfs attribute it would read (initstate).
 */
static int sysfs_state(const struct host *h, const char *name, enum module_state *st)
{
	char path[128], state[32];
	int r;

	sfmt(path, "/sys/module/%s/initstate", name);
	r = host_read_line(h, path, state, sizeof(state));
	if (r == 0) {
		*st = sysfs_parse_initstate(state) == INITSTATE_LIVE ? MOD_LOADED : MOD_TRANSIENT;
		return 0;
	}
	sfmt(path, "/sys/module/%s", name);
	if (host_exists(h, path)) {
		/* Built-in modules have a sysfs directory (parameters/) but no initstate. */
		*st = MOD_BUILTIN;
		return 0;
	}
	return -ENOENT;
}

/* path, when not NULL, receives the module file for MOD_AVAILABLE (caller frees). */
static enum module_state module_state(struct modules_env *env, const char *name, char **path)
{
	_cleanup_(kmod_modulep) struct kmod_module *mod = NULL;
	enum module_state st;
	int r;

	if (path)
		*path = NULL;
	if (!env->kmod)	/* no kernel release: only /sys/module can answer */
		return sysfs_state(env->host, name, &st) == 0 ? st : MOD_UNKNOWN;
	if (env->k->module_new_from_name(env->kmod, name, &mod) < 0)
		return MOD_MISSING;

	if (env->host->live) {
		r = env->k->module_get_initstate(mod);
		switch (r) {
		case KMOD_MODULE_LIVE:
			return MOD_LOADED;
		case KMOD_MODULE_BUILTIN:
			return MOD_BUILTIN;
		case KMOD_MODULE_COMING:
			/* libkmod says "coming" for a /sys/module dir without initstate. A kernel
			 * without loadable-module support (no /proc/modules) never loads anything:
			 * such a module is built in. */
			return env->proc_modules ? MOD_TRANSIENT : MOD_BUILTIN;
		case KMOD_MODULE_GOING:
			return MOD_TRANSIENT;
		default:
			break;
		}
	} else if (sysfs_state(env->host, name, &st) == 0) {
		return st;
	}

	if (!env->have_index)
		return MOD_MISSING;
	if (env->k->module_get_path(mod)) {
		if (path) {
			const char *p = env->k->module_get_path(mod);
			size_t n = strlen(env->moddir_kmod);

			/* Report the file where it is in the root, not in our scratch copy. */
			if (strncmp(p, env->moddir_kmod, n) != 0 || p[n] != '/')
				*path = strdup(p);	/* outlives mod */
			else if (asprintf(path, "%s%s", env->moddir_seen, p + n) < 0)
				*path = NULL;
		}
		return MOD_AVAILABLE;
	}
	/* Not in modules.dep: kmod_module_get_initstate() answers BUILTIN from the root's
	 * modules.builtin index before it ever looks at the real /sys. */
	if (!env->host->live && env->k->module_get_initstate(mod) == KMOD_MODULE_BUILTIN)
		return MOD_BUILTIN;
	return MOD_MISSING;
}

static void report_nested(struct check_ctx *ctx, struct check_result *r, const char *backend)
{
	bool on;

	if (kvm_nested_param(ctx->host, backend, &on, NULL, 0) == 0)
		detail_bool(r, "nested", on);
}

/* Options configured in modprobe.d for the backend: what the next load will use. */
static void report_options(struct modules_env *env, struct check_result *r, const char *name)
{
	_cleanup_(kmod_modulep) struct kmod_module *mod = NULL;
	const char *opts;

	if (!env->kmod || env->k->module_new_from_name(env->kmod, name, &mod) < 0)
		return;
	opts = env->k->module_get_options(mod);
	if (opts && *opts)
		detail_str(r, "configured_options", "%s", opts);
}

static const char *expected_backend(const struct cpuinfo *ci)
{
	for (unsigned i = 0; i < n_kvm_backends; i++)
		if (kvm_backends[i].needs != CPU_EXT_NONE && kvm_backends[i].needs == ci->extension)
			return kvm_backends[i].module;
	return NULL;
}

/* A libkmod context on the root's /lib/modules/<kver> and modprobe.d; -errno on failure. */
/*
 * libkmod on the module database of kernel kver: the host's own when live; under --root a
 * private copy of the root's (see above). Close with modules_env_close().
 */
static int modules_env_open(struct modules_env *env, const struct host *h, const char *kver)
{
	_cleanup_free_ char *confdir = NULL, *confetc = NULL;

	memset(env, 0, sizeof(*env));
	env->host = h;
	env->k = kmod_fns(NULL, 0);
	if (!env->k)
		return -ELIBACC;
	sfmt(env->moddir_seen, "/lib/modules/%s", kver);
	if (h->live) {
		env->moddir_kmod = host_path(h, env->moddir_seen);
		confetc = host_path(h, "/etc/modprobe.d");
		confdir = host_path(h, "/lib/modprobe.d");
	} else {
		int e = scratch_fill(&env->scratch, h, env->moddir_seen);

		if (e < 0) {
			scratch_remove(&env->scratch);
			return e;
		}
		if (asprintf(&env->moddir_kmod, "%s/modules", env->scratch.dir) < 0)
			env->moddir_kmod = NULL;
		if (asprintf(&confetc, "%s/etc-modprobe.d", env->scratch.dir) < 0)
			confetc = NULL;
		if (asprintf(&confdir, "%s/lib-modprobe.d", env->scratch.dir) < 0)
			confdir = NULL;
	}
	if (!env->moddir_kmod || !confetc || !confdir)
		return -ENOMEM;
	{
		const char *configs[] = { confetc, confdir, NULL };

		env->kmod = env->k->new_ctx(env->moddir_kmod, configs);
	}
	if (!env->kmod)
		return -EIO;
	env->k->set_log_fn(env->kmod, kmod_quiet, NULL);
	env->have_index = env->k->load_resources(env->kmod) == 0;
	env->proc_modules = host_exists(h, "/proc/modules");
	return 0;
}

static void modules_env_close(struct modules_env *env)
{
	if (env->kmod)
		env->k->unref(env->kmod);
	env->kmod = NULL;
	free(env->moddir_kmod);
	env->moddir_kmod = NULL;
	scratch_remove(&env->scratch);
}

static void run_modules(struct check_ctx *ctx, struct check_result *r)
{
	_cleanup_(modules_env_close) struct modules_env env = { .scratch.dir = "" };
	enum module_state kvm_state, backend_state = MOD_MISSING;
	const char *backend = NULL, *want = NULL;
	char kver[256], unchecked[160] = "";
	struct cpuinfo ci;
	bool have_ci, have_release;
	int err = 0;

	/*
	 * Without the release there is no /lib/modules/<release> to look in, but the root's
	 * /sys/module still says what is loaded or built in: judge that, and say that the
	 * module files were not looked at.
	 */
	have_release = host_kernel_release(ctx->host, kver, sizeof(kver)) == 0;
	if (have_release) {
		detail_str(r, "kernel_release", "%s", kver);
		err = modules_env_open(&env, ctx->host, kver);
	} else {
		env.host = ctx->host;
		env.proc_modules = host_exists(ctx->host, "/proc/modules");
		sfmt(unchecked, "cannot tell the kernel release (no /proc/sys/kernel/osrelease, and not "
		     "exactly one /lib/modules entry)");
		detail_str(r, "module_files", "not checked: %s", unchecked);
	}
	if (err < 0) {
		char why[160];

		if (err == -ELIBACC && !kmod_fns(why, sizeof(why)))
			result_set(r, CHECK_SKIP, "no libkmod to ask: %s", why);
		else if (err == -ENOMEM || err == -EIO)
			result_set(r, CHECK_SKIP, "%s", err == -ENOMEM ? "out of memory" : "libkmod could not start");
		else
			result_set(r, CHECK_SKIP, "cannot copy the root's module index to a scratch "
				   "directory: %s", strerror(-err));
		return;
	}
	detail_bool(r, "module_index", env.have_index);
	detail_bool(r, "loadable_modules", env.proc_modules);
	if (env.scratch.skipped)
		detail_int(r, "files_not_copied", env.scratch.skipped);

	have_ci = host_cpuinfo(ctx->host, &ci) == 0;
	kvm_state = module_state(&env, "kvm", NULL);
	detail_str(r, "kvm", "%s", module_state_names[kvm_state]);
	detail_list_add(r, "loaded", NULL);
	if (module_active(kvm_state))
		detail_list_add(r, "loaded", "kvm");

	/* The active backend wins; otherwise the one this CPU calls for. */
	for (unsigned i = 0; i < n_kvm_backends; i++) {
		enum module_state s = module_state(&env, kvm_backends[i].module, NULL);

		if (have_ci && !streq(kvm_backends[i].arch, ci.arch) && !module_active(s))
			continue;
		detail_str(r, kvm_backends[i].module, "%s", module_state_names[s]);
		if (module_active(s)) {
			detail_list_add(r, "loaded", kvm_backends[i].module);
			if (!backend) {
				backend = kvm_backends[i].module;
				backend_state = s;
			}
		}
	}
	if (!backend && have_ci && (want = expected_backend(&ci))) {
		_cleanup_free_ char *p = NULL;

		backend_state = module_state(&env, want, &p);
		if (p)
			detail_str(r, "backend_path", "%s", p);
	}
	if (backend)
		detail_str(r, "backend", "%s", backend);
	else
		detail_null(r, "backend");

	if (backend) {
		report_nested(ctx, r, backend);
		report_options(&env, r, backend);
	}

	if (module_active(kvm_state) && backend) {
		result_set(r, CHECK_PASS, "kvm %s, %s %s%s", module_state_names[kvm_state], backend,
			   module_state_names[backend_state],
			   have_release ? "" : " (from /sys/module; module files not checked: no kernel release)");
		return;
	}
	/* arm64, s390x, RISC-V, LoongArch: kvm is the whole thing, no vendor module. */
	if (module_active(kvm_state) && have_ci && !streq(ci.arch, "x86_64") && !streq(ci.arch, "i386") &&
	    !streq(ci.arch, "ppc64")) {
		result_set(r, CHECK_PASS, "kvm %s (%s needs no backend module)%s",
			   module_state_names[kvm_state], ci.arch,
			   have_release ? "" : " (from /sys/module; module files not checked: no kernel release)");
		return;
	}
	if (!want && !backend && have_ci && ci.extension == CPU_EXT_NONE &&
	    (streq(ci.arch, "x86_64") || streq(ci.arch, "i386"))) {
		result_set(r, CHECK_FAIL, "no KVM backend: the CPU has no VT-x/AMD-V and no paravirtual "
			   "backend is loaded");
		result_advise(r, "See cpu.virt_extensions: virtualization must be enabled first.");
		return;
	}
	if (want && backend_state == MOD_AVAILABLE) {
		result_set(r, CHECK_FAIL, "%s is installed but not loaded%s", want,
			   module_active(kvm_state) ? "" : " (nor is kvm)");
		result_advise(r, "Load it: modprobe %s (and add it to /etc/modules-load.d/ to keep it). "
			      "If loading fails, dmesg tells why: often \"disabled by bios\".", want);
		result_fix(r, "modules.load_kvm");
		return;
	}
	if (!module_active(kvm_state) && kvm_state == MOD_AVAILABLE) {
		result_set(r, CHECK_FAIL, "kvm is installed but not loaded");
		result_advise(r, "Load it: modprobe kvm%s%s.", want ? " && modprobe " : "", want ? want : "");
		result_fix(r, "modules.load_kvm");
		return;
	}
	if (!have_release) {
		/* What is not active might still be installed: only the files could say. */
		result_set(r, CHECK_SKIP, "%s not loaded (per /sys/module), whether it is installed is "
			   "unknown: %s", !module_active(kvm_state) ? "kvm" : want ? want : "no backend module",
			   unchecked);
		return;
	}
	if (!have_ci) {
		result_set(r, module_active(kvm_state) ? CHECK_WARN : CHECK_FAIL,
			   "kvm %s; no backend identified (cpuinfo unreadable)", module_state_names[kvm_state]);
		return;
	}
	result_set(r, CHECK_FAIL, "no KVM module for kernel %s%s", kver,
		   env.have_index ? "" : " (and no module database in /lib/modules)");
	result_advise(r, "Install the kernel's extra modules package (e.g. linux-modules-extra on "
		      "Ubuntu) or a kernel built with CONFIG_KVM.");
	result_fix(r, "packages.install_kernel_modules");
}

const struct check check_kvm_modules = {
	.id = "kvm.modules",
	.title = "KVM kernel modules (kvm + backend)",
	.run = run_modules,
	.explain =
	"Asks libkmod about kvm and its backend: kvm_intel (VT-x), kvm_amd (AMD-V), kvm_pvm\n"
	"(PVM, paravirtual KVM inside an ordinary VM), kvm_hv/kvm_pr on POWER. Each is\n"
	"loaded, built in, available (in /lib/modules/$(uname -r) but not loaded) or missing.\n"
	"It also reports the nested parameter and the options modprobe.d configures.\n"
	"\n"
	"Why: /dev/kvm appears only when kvm and a backend are in the kernel. libvirt's\n"
	"\"Could not access KVM kernel module\" usually means the backend did not load -\n"
	"typically because virtualization is disabled in firmware (dmesg: \"disabled by bios\").\n"
	"\n"
	"Notes: a kernel built without loadable-module support has no /proc/modules; its\n"
	"/sys/module entries without initstate are built-in code. Under --root, libkmod\n"
	"reads the root's /lib/modules and modprobe.d, and loaded state comes from the root's\n"
	"/sys/module (libkmod itself always reads the running kernel's /sys). Without a\n"
	"kernel release (no /proc/sys/kernel/osrelease, not exactly one /lib/modules entry)\n"
	"/sys/module is still judged; a module not active there is \"unknown\" (skip).\n"
	"\n"
	"Fix: modprobe kvm_intel (or kvm_amd), and list it in /etc/modules-load.d/kvm.conf.",
};

int kernel_module_state(const struct host *h, const char *name, const char **state,
			bool *loadable_modules)
{
	_cleanup_(modules_env_close) struct modules_env env = { .scratch.dir = "" };
	char kver[256];
	int err;

	*state = module_state_names[MOD_MISSING];
	*loadable_modules = host_exists(h, "/proc/modules");
	if (host_kernel_release(h, kver, sizeof(kver)) < 0) {
		enum module_state st;

		/* No module database to ask, but the root's /sys still says loaded or built in. */
		if (sysfs_state(h, name, &st) < 0)
			return -ENOENT;
		*state = module_state_names[st];
		return 0;
	}
	err = modules_env_open(&env, h, kver);
	if (err < 0)
		return err;
	*state = module_state_names[module_state(&env, name, NULL)];
	return 0;
}
