// SPDX-License-Identifier: GPL-2.0-or-later
/* Hostile places to write and read: -o targets, journals, fix write targets, payloads, a full stdout. */
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

/* A tree for plans that need no device nodes (read only: fix without --apply writes nothing
 * there). Live, iommu.groups goes through libpci, whose udev handle leaks (issue 12 item 14)
 * and turns every live fix's exit status into LeakSanitizer's 1 under ASan. */
#define PLAN_ROOT VD_FIXTURES "/roots/fix-debian"

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

static void make_socket(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(a.sun_path));
	strcpy(a.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);	/* the socket file stays */
}

static void put_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* A fleet directory with one real report in it (fleet needs input). */
static void make_fleet_dir(const char *dir)
{
	struct result res = { 0 };
	char path[512];

	sfmt(path, "%s/host.json", dir);
	RUN(&res, "--format", "json", "-o", path, "check", "host.os");
	assert_int_equal(res.status, 0);
	result_clear(&res);
}

/*
 * -o onto what is not a regular file: refused with one line naming it and its kind, before any
 * work, for every format and verb that writes; the thing itself is left exactly as it was.
 * Before, it was renamed over (as root, -o /dev/full replaced the device node with a file) and
 * `fix -o FIFO` hung.
 */
static void test_output_not_regular(void **state)
{
	char dir[] = "/tmp/vd-io-o.XXXXXX", fleet[] = "/tmp/vd-io-fleet.XXXXXX", path[512], target[512];
	static const char *const kinds[] = { "fifo", "socket", "directory", "symlink", "dangling",
					     "chardev", "blockdev" };
	static const char *const says[] = { "a FIFO", "a socket", "a directory", "a symbolic link",
					    "a symbolic link", "a character device", "a block device" };
	bool root = geteuid() == 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_non_null(mkdtemp(fleet));
	make_fleet_dir(fleet);
	sfmt(target, "%s/target.txt", dir);
	put_file(target, "the link's target\n", 0644);
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		char *const cmds[][12] = {
			{ (char *)"-o", path, (char *)"check", (char *)"host.os" },
			{ (char *)"--format", (char *)"json", (char *)"--output", path, (char *)"check", (char *)"host.os" },
			{ (char *)"--format", (char *)"prometheus", (char *)"-o", path, (char *)"check", (char *)"host.os" },
			{ (char *)"fix", (char *)"-o", path },
			{ (char *)"--format", (char *)"json", (char *)"fix", (char *)"-o", path },
			{ (char *)"fleet", (char *)"-o", path, fleet },
			{ (char *)"--format", (char *)"csv", (char *)"fleet", fleet, (char *)"-o", path },
		};
		struct stat before, after;

		sfmt(path, "%s/%s", dir, kinds[k]);
		if (streq(kinds[k], "fifo"))
			assert_int_equal(mkfifo(path, 0644), 0);
		else if (streq(kinds[k], "socket"))
			make_socket(path);
		else if (streq(kinds[k], "directory"))
			assert_int_equal(mkdir(path, 0755), 0);
		else if (streq(kinds[k], "symlink"))
			assert_int_equal(symlink(target, path), 0);
		else if (streq(kinds[k], "dangling"))
			assert_int_equal(symlink("/nonexistent/vd-io", path), 0);
		else if (!root) {
			printf("SKIP: -o onto a %s: making device nodes needs root\n", kinds[k]);
			continue;
		} else if (streq(kinds[k], "chardev"))
			assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(1, 7)), 0);	/* full */
		else
			assert_int_equal(mknod(path, S_IFBLK | 0600, makedev(7, 250)), 0);	/* no such loop */
		assert_int_equal(lstat(path, &before), 0);
		for (size_t c = 0; c < ARRAY_SIZE(cmds); c++) {
			char *argv[16] = { (char *)"/usr/bin/timeout", (char *)"20", (char *)VD_BIN };
			unsigned n = 3;
			struct result res = { 0 };

			for (unsigned i = 0; cmds[c][i]; i++)
				argv[n++] = cmds[c][i];
			argv[n] = NULL;
			run_how(&res, HOW(0), argv);
			if (res.status != 3)
				fail_msg("-o %s (%s, command %zu): exit %d, stderr: %s", path, kinds[k], c,
					 res.status, res.err);
			assert_one_line(&res, path, says[k]);
			assert_string_equal(res.out, "");
			assert_int_equal(lstat(path, &after), 0);
			assert_int_equal(after.st_mode, before.st_mode);
			assert_int_equal(after.st_ino, before.st_ino);
			assert_int_equal(after.st_rdev, before.st_rdev);
			result_clear(&res);
		}
		print_message("-o onto %s: refused by all %zu commands\n", says[k], ARRAY_SIZE(cmds));
		assert_no_temp(dir);
	}
	{
		/* The symlink's target is untouched. */
		char *text = slurp(target);

		assert_string_equal(text, "the link's target\n");
		free(text);
	}
	remove_tree(dir);
	remove_tree(fleet);
}

/*
 * fix --apply -o onto a FIFO: refused before a single step runs (nothing in the root changes).
 */
static void test_fix_apply_output_refused_first(void **state)
{
	char dir[256], fifo[512], conf[512];
	struct result res = { 0 };

	(void)state;
	if (geteuid() != 0)
		SKIP_BECAUSE("fix --apply needs root");
	if (!fixture_copy("fix-debian", dir, sizeof(dir)))
		SKIP_BECAUSE("fix-debian needs root to create its device nodes");
	sfmt(fifo, "%s/plan.txt", dir);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	run_how(&res, HOW(0), T((char *)VD_BIN, (char *)"--root", dir, (char *)"fix", (char *)"--apply",
				(char *)"--yes", (char *)"--only", (char *)"modules.load_kvm", (char *)"-o", fifo));
	assert_int_equal(res.status, 3);
	assert_one_line(&res, fifo, "a FIFO");
	sfmt(conf, "%s/etc/modules-load.d/kvm.conf", dir);
	assert_int_not_equal(access(conf, F_OK), 0);
	sfmt(conf, "%s/var/log/virt-doctor/journal.jsonl", dir);
	assert_int_not_equal(access(conf, F_OK), 0);
	result_clear(&res);
	remove_tree(dir);
}

/* An existing file keeps its mode and owner (and gets a new inode: it was replaced, not
 * rewritten in place); a new one is 0644 minus the umask. Before, everything became 0644. */
static void test_output_mode_owner(void **state)
{
	char dir[] = "/tmp/vd-io-mode.XXXXXX", path[512];
	struct result res = { 0 };
	struct stat st, st2;
	char *text;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sfmt(path, "%s/report.json", dir);
	put_file(path, "old\n", 0600);
	if (geteuid() == 0)
		assert_int_equal(chown(path, 1234, 5678), 0);
	assert_int_equal(stat(path, &st), 0);
	run_how(&res, HOW(0), (char *const[]){ (char *)VD_BIN, (char *)"--format", (char *)"json", (char *)"-o",
					       path, (char *)"check", (char *)"host.os", NULL });
	assert_int_equal(res.status, 0);
	assert_string_equal(res.err, "");
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st2.st_mode & 07777, 0600);
	assert_int_equal(st2.st_uid, st.st_uid);
	assert_int_equal(st2.st_gid, st.st_gid);
	assert_int_not_equal(st2.st_ino, st.st_ino);
	text = slurp(path);
	assert_non_null(strstr(text, "\"kind\": \"report\""));
	free(text);
	result_clear(&res);

	/* 0640 with a group: kept too (the textfile collector's group may read it). */
	assert_int_equal(chmod(path, 0640), 0);
	run_how(&res, HOW(0), (char *const[]){ (char *)VD_BIN, (char *)"-o", path, (char *)"check",
					       (char *)"host.os", NULL });
	assert_int_equal(res.status, 0);
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st2.st_mode & 07777, 0640);
	result_clear(&res);

	/* New files: 0644 minus the umask. */
	static const struct { mode_t umask; mode_t mode; } cases[] = { { 022, 0644 }, { 077, 0600 }, { 0, 0644 },
								    { 027, 0640 } };
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		sfmt(path, "%s/new-%zu.txt", dir, i);
		run_how(&res, HOW(.set_umask = true, .umask = cases[i].umask), (char *const[]){ (char *)VD_BIN, (char *)"-o", path,
					 (char *)"check", (char *)"host.os", NULL });
		assert_int_equal(res.status, 0);
		assert_int_equal(stat(path, &st2), 0);
		if ((st2.st_mode & 07777) != cases[i].mode)
			fail_msg("umask %03o: new file mode %04o, expected %04o", cases[i].umask,
				 st2.st_mode & 07777, cases[i].mode);
		assert_int_equal(st2.st_uid, geteuid());
		result_clear(&res);
	}
	assert_no_temp(dir);
	remove_tree(dir);
}

/* As nobody: a file nobody owns is replaced keeping its mode; a root-owned file in a directory
 * nobody may write cannot keep its owner, so it is refused and left alone. */
static void test_output_as_nobody(void **state)
{
	char dir[] = "/tmp/vd-io-nobody.XXXXXX", path[512];
	struct result res = { 0 };
	struct stat st, st2;
	char *text;

	(void)state;
	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) < 0)
		SKIP_BECAUSE("needs root and setpriv to run as nobody");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0777), 0);
	sfmt(path, "%s/mine.txt", dir);
	put_file(path, "old\n", 0604);
	assert_int_equal(chown(path, 65534, 65534), 0);
	run_how(&res, HOW(0), (char *const[]){ NOBODY, (char *)VD_BIN, (char *)"-o", path, (char *)"check",
					       (char *)"host.os", NULL });
	assert_int_equal(res.status, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0604);
	assert_int_equal(st.st_uid, 65534);
	result_clear(&res);

	sfmt(path, "%s/roots.txt", dir);
	put_file(path, "root's\n", 0644);
	assert_int_equal(stat(path, &st), 0);
	run_how(&res, HOW(0), (char *const[]){ NOBODY, (char *)VD_BIN, (char *)"-o", path, (char *)"check",
					       (char *)"host.os", NULL });
	assert_int_equal(res.status, 3);
	assert_one_line(&res, path, "cannot keep its owner 0:0");
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st2.st_ino, st.st_ino);
	text = slurp(path);
	assert_string_equal(text, "root's\n");
	free(text);
	result_clear(&res);

	/* A FIFO as nobody: refused, no hang. */
	sfmt(path, "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0666), 0);
	run_how(&res, HOW(0), (char *const[]){ (char *)"/usr/bin/timeout", (char *)"20", NOBODY, (char *)VD_BIN,
					       (char *)"fix", (char *)"-o", path, NULL });
	assert_int_equal(res.status, 3);
	assert_one_line(&res, path, "a FIFO");
	result_clear(&res);
	assert_no_temp(dir);
	remove_tree(dir);
}

/* -o - is standard output: no file named "-" appears. */
static void test_output_dash(void **state)
{
	char dir[] = "/tmp/vd-io-dash.XXXXXX", path[512];
	struct result res = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	sfmt(path, "%s/-", dir);
	run_how(&res, HOW(.cwd = dir), (char *const[]){ (char *)VD_BIN, (char *)"--format", (char *)"json",
					 (char *)"-o", (char *)"-", (char *)"check", (char *)"host.os", NULL });
	assert_int_equal(res.status, 0);
	json_decref(parse_json(res.out));
	assert_int_not_equal(access(path, F_OK), 0);
	result_clear(&res);
	run_how(&res, HOW(.cwd = dir), (char *const[]){ (char *)VD_BIN, (char *)"--root", (char *)PLAN_ROOT,
					 (char *)"fix", (char *)"--data-dir", (char *)VD_SRCDIR "/data/distros",
					 (char *)"--output", (char *)"-", NULL });
	assert_true(res.status <= 1);
	assert_non_null(strstr(res.out, "virt-doctor fix"));
	assert_int_not_equal(access(path, F_OK), 0);
	result_clear(&res);
	remove_tree(dir);
}

/*
 * Write errors on the temp file fail with exit 3 and one line, leave no temp file, and leave
 * the old file whole: EFBIG (RLIMIT_FSIZE, any user) and, as root, ENOSPC on a full tmpfs in
 * a private mount namespace.
 */
static void test_output_write_errors(void **state)
{
	char dir[] = "/tmp/vd-io-wr.XXXXXX", path[512], cmd[2048];
	struct result res = { 0 };
	char *text;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sfmt(path, "%s/report.json", dir);
	put_file(path, "old report\n", 0644);
	run_how(&res, HOW(.fsize = 512), (char *const[]){ (char *)VD_BIN, (char *)"--format", (char *)"json",
					   (char *)"-o", path, (char *)"check", (char *)"host.os", NULL });
	assert_int_equal(res.status, 3);
	assert_one_line(&res, path, "File too large");
	text = slurp(path);
	assert_string_equal(text, "old report\n");
	free(text);
	assert_no_temp(dir);
	result_clear(&res);
	/* The same through fix -o. */
	run_how(&res, HOW(.fsize = 1024), (char *const[]){ (char *)VD_BIN, (char *)"--root", (char *)PLAN_ROOT,
					    (char *)"fix", (char *)"-o", path, NULL });
	assert_int_equal(res.status, 3);
	assert_one_line(&res, path, "File too large");
	assert_no_temp(dir);
	result_clear(&res);

	if (geteuid() != 0 || access("/usr/bin/unshare", X_OK) < 0) {
		remove_tree(dir);
		SKIP_BECAUSE("ENOSPC on a full tmpfs needs root and unshare (EFBIG was tested)");
	}
	/* A 64 KiB tmpfs filled up, with the old report on it. */
	sfmt(cmd, "/usr/bin/unshare -m sh -c 'mount --make-rprivate / && mount -t tmpfs -o size=64k vd %s && "
	     "echo old > %s/r.json && (dd if=/dev/zero of=%s/fill bs=4k 2>/dev/null; true) && "
	     "%s --format json -o %s/r.json check host.os; echo \"exit=$?\"; cat %s/r.json; ls -a %s'",
	     dir, dir, dir, VD_BIN, dir, dir, dir);
	run_how(&res, HOW(0), (char *const[]){ (char *)"/bin/sh", (char *)"-c", cmd, NULL });
	print_message("full tmpfs: %s%s", res.out, res.err);
	assert_non_null(strstr(res.out, "exit=3\nold\n"));
	assert_null(strstr(res.out, ".vd-"));
	assert_non_null(strstr(res.err, "r.json: write: No space left on device"));
	result_clear(&res);
	remove_tree(dir);
}

/*
 * Standard output that cannot be written: every verb says so on stderr in one line and exits
 * 3. Before, list, explain, --help, --version and fix --list exited 0 into /dev/full, fix
 * --format json and the report verbs exited with no message.
 */
static void test_stdout_write_error(void **state)
{
	char fleet[] = "/tmp/vd-io-fleet.XXXXXX";
	char *const cmds[][8] = {
		{ (char *)"list" },
		{ (char *)"--format", (char *)"json", (char *)"list" },
		{ (char *)"explain", (char *)"kvm.device" },
		{ (char *)"--format", (char *)"json", (char *)"explain", (char *)"kvm.device" },
		{ (char *)"--help" },
		{ (char *)"help" },
		{ (char *)"--version" },
		{ (char *)"fix", (char *)"--list" },
		{ (char *)"fix" },
		{ (char *)"--format", (char *)"json", (char *)"fix" },
		{ (char *)"check", (char *)"host.os" },
		{ (char *)"--format", (char *)"json", (char *)"check", (char *)"host.os" },
		{ (char *)"--format", (char *)"prometheus", (char *)"check", (char *)"host.os" },
		{ (char *)"fleet", fleet },
		{ (char *)"--format", (char *)"csv", (char *)"fleet", fleet },
	};

	(void)state;
	assert_non_null(mkdtemp(fleet));
	make_fleet_dir(fleet);
	for (size_t c = 0; c < ARRAY_SIZE(cmds); c++) {
		char *argv[12] = { (char *)VD_BIN };
		unsigned n = 1;
		struct result res = { 0 };

		for (unsigned i = 0; cmds[c][i]; i++)
			argv[n++] = cmds[c][i];
		argv[n] = NULL;
		run_how(&res, HOW(.stdout_path = "/dev/full"), argv);
		if (res.status != 3 || !streq(res.err, "virt-doctor: write error: No space left on device\n"))
			fail_msg("%s ... >/dev/full: exit %d, stderr '%s'", cmds[c][0], res.status, res.err);
		result_clear(&res);
	}
	print_message("%zu commands into /dev/full: exit 3 with the message\n", ARRAY_SIZE(cmds));
	/* Control: with -o FILE nothing goes to stdout, so a full stdout is no error. */
	{
		char path[512];
		struct result res = { 0 };

		sfmt(path, "%s/out.txt", fleet);
		run_how(&res, HOW(.stdout_path = "/dev/full"), (char *const[]){ (char *)VD_BIN, (char *)"-o", path,
					 (char *)"check", (char *)"host.os", NULL });
		assert_int_equal(res.status, 0);
		assert_string_equal(res.err, "");
		result_clear(&res);
	}
	remove_tree(fleet);
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
		run_how(&res, HOW(0), T((char *)VD_BIN, (char *)"--root", (char *)PLAN_ROOT, (char *)"fix",
					(char *)"--journal", path));
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
		cmocka_unit_test(test_output_not_regular),
		cmocka_unit_test(test_fix_apply_output_refused_first),
		cmocka_unit_test(test_output_mode_owner),
		cmocka_unit_test(test_output_as_nobody),
		cmocka_unit_test(test_output_dash),
		cmocka_unit_test(test_output_write_errors),
		cmocka_unit_test(test_stdout_write_error),
		cmocka_unit_test(test_apply_journal_not_regular),
		cmocka_unit_test(test_apply_target_not_regular),
		cmocka_unit_test(test_plan_journal_read),
		cmocka_unit_test(test_payload_not_regular),
		cmocka_unit_test(test_data_dir_not_regular),
	};

	return cmocka_run_group_tests_name("hostile-io", tests, NULL, NULL);
}
