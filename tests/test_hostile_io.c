// SPDX-License-Identifier: GPL-2.0-or-later
/* Hostile places to write and read: journals, fix write targets, data files, payloads. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "harness.h"

/* Anything that could hang runs under timeout(1): a hang is status 124, a failure, not a
 * stuck suite. */
#define TIMEOUT "/usr/bin/timeout", "20"
#define T(...) ((char *const[]){ (char *)"/usr/bin/timeout", (char *)"20", __VA_ARGS__, NULL })
#define NOBODY "/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"

struct how {
	const char *stdout_path;	/* stdout to this file (O_WRONLY), else captured */
	rlim_t fsize;			/* RLIMIT_FSIZE in bytes (SIGXFSZ ignored), 0: none */
	bool set_umask;			/* the child's umask is umask */
	mode_t umask;
	const char *cwd;
};

/* run_env() with more control over the child: where stdout goes, limits, umask, cwd. */
static void run_how(struct result *res, const struct how *how, char *const argv[])
{
	char outp[] = "/tmp/vd-io-out.XXXXXX", errp[] = "/tmp/vd-io-err.XXXXXX";
	int out = mkstemp(outp), err = mkstemp(errp), st;
	pid_t pid;

	assert_true(out >= 0 && err >= 0);
	unlink(outp);
	unlink(errp);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (how->stdout_path) {
			int fd = open(how->stdout_path, O_WRONLY | O_CLOEXEC);

			if (fd < 0)
				_exit(126);
			dup2(fd, 1);
		} else {
			dup2(out, 1);
		}
		dup2(err, 2);
		if (how->fsize) {
			struct rlimit rl = { how->fsize, how->fsize };

			signal(SIGXFSZ, SIG_IGN);	/* then write(2) fails with EFBIG */
			setrlimit(RLIMIT_FSIZE, &rl);
		}
		if (how->set_umask)
			umask(how->umask);
		if (how->cwd && chdir(how->cwd) < 0)
			_exit(126);
		setenv("NO_COLOR", "1", 1);
		/* fix finds its data here wherever it runs (cwd, setpriv); --data-dir overrides it. */
		setenv("VIRT_DOCTOR_DATADIR", VD_SRCDIR "/data/distros", 1);
		unsetenv("SUDO_UID");
		unsetenv("SUDO_GID");
		execvp(argv[0], argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	res->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	lseek(out, 0, SEEK_SET);
	lseek(err, 0, SEEK_SET);
	res->out = read_all(out);
	res->err = read_all(err);
	close(out);
	close(err);
}

#define HOW(...) (&(struct how){ __VA_ARGS__ })

/* Exactly one line on stderr, naming `path` and saying `why`. */
static void assert_one_line(const struct result *res, const char *path, const char *why)
{
	const char *nl = strchr(res->err, '\n');

	if (!nl || nl[1] || !strstr(res->err, path) || !strstr(res->err, why))
		fail_msg("expected one line naming '%s' and '%s'; stderr: '%s'", path, why, res->err);
}

/* No ".NAME.vd-*" temp file (nor the old "NAME.XXXXXX" kind) left in dir. */
static void assert_no_temp(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".vd-") || strstr(de->d_name, ".json.") || strstr(de->d_name, ".txt."))
			fail_msg("temp file %s left in %s", de->d_name, dir);
}

static void put_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* Make dir/rel a node (c: char 1:3 /dev/null's numbers, harmless; p: FIFO; l: symlink to
 * link_to), with its directory. */
static void plant(const char *dir, const char *rel, char type, const char *link_to)
{
	char path[1024], cmd[2200];

	sfmt(path, "%s%s", dir, rel);
	sfmt(cmd, "mkdir -p \"$(dirname '%s')\" && rm -rf '%s'", path, path);
	assert_int_equal(system(cmd), 0);
	if (type == 'c')
		assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(1, 3)), 0);
	else if (type == 'p')
		assert_int_equal(mkfifo(path, 0644), 0);
	else
		assert_int_equal(symlink(link_to, path), 0);
}

#define JOURNAL "/var/log/virt-doctor/journal.jsonl"
#define KVM_CONF "/etc/modules-load.d/kvm.conf"

/*
 * --root T fix --apply with the journal (default, inside T; or --journal FILE) as a device
 * node, a FIFO or a symlink: refused in one line naming it, nothing applied, the node never
 * opened (inotify's IN_OPEN is the witness: O_PATH opens do not fire it). Before, 15 journal
 * lines went into a char device and a FIFO hung for ever.
 */
static void test_apply_journal_not_regular(void **state)
{
	static const struct { char type; bool option; const char *says; } cases[] = {
		{ 'c', false, "a character device" }, { 'p', false, "a FIFO" }, { 'l', false, "a symbolic link" },
		{ 'c', true, "a character device" }, { 'p', true, "a FIFO" }, { 'l', true, "a symbolic link" },
	};
	char outside[] = "/tmp/vd-io-jout.XXXXXX", victim[512];

	(void)state;
	if (geteuid() != 0)
		SKIP_BECAUSE("fix --apply needs root (and the fixture device nodes)");
	assert_non_null(mkdtemp(outside));
	sfmt(victim, "%s/victim", outside);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char dir[256], jpath[1024], conf[1024], buf[4096];
		struct result res = { 0 };
		struct stat st;
		int in = -1;
		ssize_t n;

		put_file(victim, "not a journal\n", 0644);
		assert_true(fixture_copy("fix-debian", dir, sizeof(dir)));
		if (cases[i].option) {
			sfmt(jpath, "%s/journal", outside);
			plant("", jpath, cases[i].type, victim);
		} else {
			sfmt(jpath, "%s%s", dir, JOURNAL);
			plant(dir, JOURNAL, cases[i].type, victim);
		}
		if (cases[i].type == 'c') {
			in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
			assert_true(in >= 0 && inotify_add_watch(in, jpath, IN_OPEN) >= 0);
		}
		if (cases[i].option)
			run_how(&res, HOW(0), T((char *)VD_BIN, (char *)"--root", dir, (char *)"fix", (char *)"--apply",
						(char *)"--yes", (char *)"--only", (char *)"modules.load_kvm",
						(char *)"--journal", jpath));
		else
			run_how(&res, HOW(0), T((char *)VD_BIN, (char *)"--root", dir, (char *)"fix", (char *)"--apply",
						(char *)"--yes", (char *)"--only", (char *)"modules.load_kvm"));
		if (res.status != 3)
			fail_msg("journal %s (%s): exit %d, stderr %s", jpath, cases[i].says, res.status, res.err);
		assert_one_line(&res, jpath, cases[i].says);
		assert_non_null(strstr(res.err, "nothing was changed"));
		sfmt(conf, "%s%s", dir, KVM_CONF);
		assert_int_not_equal(access(conf, F_OK), 0);
		assert_int_equal(lstat(jpath, &st), 0);
		assert_true(cases[i].type == 'c' ? S_ISCHR(st.st_mode) : cases[i].type == 'p' ? S_ISFIFO(st.st_mode) :
			    S_ISLNK(st.st_mode));
		if (in >= 0) {
			n = read(in, buf, sizeof(buf));
			if (n > 0)
				fail_msg("the journal's device node was opened");
			close(in);
		}
		{
			char *text = slurp(victim);

			assert_string_equal(text, "not a journal\n");
			free(text);
		}
		print_message("journal %s%s: %s", cases[i].option ? "--journal " : "", cases[i].says, res.err);
		unlink(jpath);
		result_clear(&res);
		remove_tree(dir);
	}
	remove_tree(outside);
}

/*
 * --root T fix --apply where a file the fix writes is a device node, a FIFO or a symlink: that
 * step fails with the reason, the node is left as it is and never opened, no hang, and the
 * journal records the failure. Before, the node was replaced (or, read first, a FIFO hung).
 */
static void test_apply_target_not_regular(void **state)
{
	static const struct { char type; const char *says; } cases[] = {
		{ 'c', "a character device" }, { 'p', "a FIFO" }, { 'l', "a symbolic link" },
	};
	char outside[] = "/tmp/vd-io-tout.XXXXXX", victim[512];

	(void)state;
	if (geteuid() != 0)
		SKIP_BECAUSE("fix --apply needs root (and the fixture device nodes)");
	assert_non_null(mkdtemp(outside));
	sfmt(victim, "%s/victim", outside);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char dir[256], path[1024], buf[4096];
		struct result res = { 0 };
		struct stat st;
		json_t *j, *f, *s, *step = NULL;
		size_t fi, si;
		int in = -1;
		char *journal;

		put_file(victim, "not kvm.conf\n", 0644);
		assert_true(fixture_copy("fix-debian", dir, sizeof(dir)));
		plant(dir, KVM_CONF, cases[i].type, victim);
		sfmt(path, "%s%s", dir, KVM_CONF);
		if (cases[i].type == 'c') {
			in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
			assert_true(in >= 0 && inotify_add_watch(in, path, IN_OPEN) >= 0);
		}
		run_how(&res, HOW(0), T((char *)VD_BIN, (char *)"--root", dir, (char *)"--format", (char *)"json",
					(char *)"fix", (char *)"--apply", (char *)"--yes", (char *)"--only",
					(char *)"modules.load_kvm"));
		if (res.status != 2)
			fail_msg("%s as %s: exit %d, stderr %s", KVM_CONF, cases[i].says, res.status, res.err);
		j = parse_json(res.out);
		json_array_foreach(json_object_get(j, "fixes"), fi, f)
			json_array_foreach(json_object_get(f, "steps"), si, s)
				if (streq(json_string_value(json_object_get(s, "kind")), "write"))
					step = s;
		assert_non_null(step);
		assert_string_equal(json_string_value(json_object_get(step, "result")), "failed");
		if (!strstr(json_string_value(json_object_get(step, "note")), cases[i].says))
			fail_msg("note: %s", json_string_value(json_object_get(step, "note")));
		print_message("%s as %s: %s\n", KVM_CONF, cases[i].says,
			      json_string_value(json_object_get(step, "note")));
		assert_int_equal(lstat(path, &st), 0);
		assert_true(cases[i].type == 'c' ? S_ISCHR(st.st_mode) : cases[i].type == 'p' ? S_ISFIFO(st.st_mode) :
			    S_ISLNK(st.st_mode));
		if (in >= 0) {
			ssize_t n = read(in, buf, sizeof(buf));

			if (n > 0)
				fail_msg("the write target's device node was opened");
			close(in);
		}
		{
			char *text = slurp(victim);

			assert_string_equal(text, "not kvm.conf\n");
			free(text);
		}
		sfmt(path, "%s%s", dir, JOURNAL);
		journal = slurp(path);
		assert_non_null(journal);
		assert_non_null(strstr(journal, "\"file\":\"" KVM_CONF "\",\"result\":\"failed\""));
		free(journal);
		sfmt(path, "%s/etc/modules-load.d", dir);
		assert_no_temp(path);
		json_decref(j);
		result_clear(&res);
		remove_tree(dir);
	}
	remove_tree(outside);
}

/* fix (no --apply) reads the journal first: a --journal that is a FIFO or a device node gives
 * the plan, no hang, and the node is never opened (before, it was opened O_NONBLOCK and only
 * then refused). */
static void test_plan_journal_read(void **state)
{
	char dir[] = "/tmp/vd-io-jr.XXXXXX", path[512], buf[4096];

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (int dev = 0; dev < 2; dev++) {
		struct result res = { 0 };
		int in = -1;

		sfmt(path, "%s/journal-%d", dir, dev);
		if (!dev) {
			assert_int_equal(mkfifo(path, 0644), 0);
		} else if (geteuid() != 0) {
			printf("SKIP: fix --journal onto a device node: mknod needs root\n");
			break;
		} else {
			assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(1, 3)), 0);
			in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
			assert_true(in >= 0 && inotify_add_watch(in, path, IN_OPEN) >= 0);
		}
		run_how(&res, HOW(0), T((char *)VD_BIN, (char *)"fix", (char *)"--journal", path));
		assert_true(res.status <= 1);
		assert_non_null(strstr(res.out, "virt-doctor fix"));
		if (in >= 0) {
			if (read(in, buf, sizeof(buf)) > 0)
				fail_msg("fix opened the --journal device node to read it");
			close(in);
		}
		result_clear(&res);
	}
	remove_tree(dir);
}

/*
 * boot --payload onto a FIFO, a device node, a directory: refused at once (exit 3, one line
 * naming it and its kind), never opened. Before, a FIFO hung past --timeout and /dev/X was
 * opened before it was refused.
 */
static void test_payload_not_regular(void **state)
{
	char dir[] = "/tmp/vd-io-pl.XXXXXX", path[512], buf[4096];
	static const struct { char type; const char *says; } cases[] = {
		{ 'p', "a FIFO" }, { 'c', "a character device" }, { 'd', "a directory" },
	};

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct result res = { 0 };
		uint64_t t0;
		int in = -1;

		sfmt(path, "%s/payload-%zu", dir, i);
		if (cases[i].type == 'p') {
			assert_int_equal(mkfifo(path, 0644), 0);
		} else if (cases[i].type == 'd') {
			assert_int_equal(mkdir(path, 0755), 0);
		} else if (geteuid() != 0) {
			printf("SKIP: --payload onto a device node: mknod needs root\n");
			continue;
		} else {
			assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(1, 3)), 0);
			in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
			assert_true(in >= 0 && inotify_add_watch(in, path, IN_OPEN) >= 0);
		}
		t0 = now_us();
		run_how(&res, HOW(0), T((char *)VD_BIN, (char *)"boot", (char *)"--payload", path, (char *)"--timeout",
					(char *)"1"));
		assert_int_equal(res.status, 3);
		assert_one_line(&res, path, cases[i].says);
		assert_true(now_us() - t0 < 5000000);
		if (in >= 0) {
			if (read(in, buf, sizeof(buf)) > 0)
				fail_msg("the payload device node was opened");
			close(in);
		}
		result_clear(&res);
	}
	remove_tree(dir);
}

/* A FIFO (or, as root, a device node) named *.ini in --data-dir: refused, naming it, no hang.
 * Before, fopen() of the FIFO hung fix for ever. */
static void test_data_dir_not_regular(void **state)
{
	char dir[] = "/tmp/vd-io-data.XXXXXX", path[512], cmd[1200];

	(void)state;
	assert_non_null(mkdtemp(dir));
	sfmt(cmd, "cp %s/data/distros/*.ini %s/", VD_SRCDIR, dir);
	assert_int_equal(system(cmd), 0);
	for (int dev = 0; dev < 2; dev++) {
		struct result res = { 0 };

		sfmt(path, "%s/evil-%d.ini", dir, dev);
		if (!dev) {
			assert_int_equal(mkfifo(path, 0644), 0);
		} else if (geteuid() != 0) {
			printf("SKIP: a device node in --data-dir: mknod needs root\n");
			break;
		} else {
			assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(1, 3)), 0);
		}
		run_how(&res, HOW(0), T((char *)VD_BIN, (char *)"fix", (char *)"--data-dir", dir));
		assert_int_equal(res.status, 3);
		assert_one_line(&res, path, dev ? "a character device" : "a FIFO");
		unlink(path);
		result_clear(&res);
	}
	remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_journal_not_regular),
		cmocka_unit_test(test_apply_target_not_regular),
		cmocka_unit_test(test_plan_journal_read),
		cmocka_unit_test(test_payload_not_regular),
		cmocka_unit_test(test_data_dir_not_regular),
	};

	return cmocka_run_group_tests_name("hostile-io", tests, NULL, NULL);
}
