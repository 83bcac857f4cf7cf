// SPDX-License-Identifier: GPL-2.0-or-later
/* The fix engine: golden plans per distro, the planner on synthetic results, applying for real
 * on scratch roots (twice: idempotent, journaled), libkmod loads, refusals, a real libvirtd. */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pty.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "config.h"
#include "harness.h"
#include "libvirt_harness.h"
#include "checks/kvm.h"
#include "fixes/fix.h"

static const char *const distros[] = { "debian", "ubuntu", "fedora", "rocky", "arch", "opensuse", "alpine" };

static char *const alice_env[] = { (char *)"SUDO_UID=1000", (char *)"SUDO_GID=1000", NULL };

static void golden(const char *name, const char *actual)
{
	char path[512];
	char *expected;

	sfmt(path, "%s/golden/%s.txt", VD_FIXTURES, name);
	if (getenv("VD_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "we");

		assert_non_null(f);
		fputs(actual, f);
		fclose(f);
	}
	expected = slurp(path);
	if (!expected)
		fail_msg("missing golden %s (VD_UPDATE_GOLDEN=1 writes it)", path);
	if (!streq(expected, actual))
		fail_msg("%s differs from the golden file:\n%s", name, actual);
	free(expected);
}

/* materialize or skip visibly: the roots have /dev/net/tun, which needs mknod. */
#define ROOT_OR_SKIP(name, dir) \
	do { \
		if (materialize((name), (dir), sizeof(dir)) == -EPERM) { \
			remove_tree(dir); \
			SKIP_BECAUSE("%s needs root to create its device nodes", (name)); \
		} \
	} while (0)

/* Every fix id of COMMON.md, in the order the engine applies them. */
static const char *const all_ids[] = {
	"packages.install_kernel_modules", "packages.install_qemu", "packages.install_libvirt",
	"modules.load_kvm", "modules.enable_nested", "modules.load_tun", "modules.load_vhost_net",
	"modules.load_vfio", "udev.kvm_permissions", "user.add_to_kvm_group", "user.add_to_libvirt_group",
	"services.enable_libvirtd", "libvirt.define_default_network", "libvirt.start_default_network",
	"sysctl.enable_ip_forward", "firmware.enable_virtualization", "firmware.enable_iommu",
	"hypervisor.enable_nested",
};

/* A failing root per distro -> exactly the golden plan; and every fix forced with --only. */
static void test_golden_plans(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(distros); i++) {
		char dir[256], name[64], root[64];
		char *argv[64];
		unsigned n = 0;
		struct result res = { 0 };

		sfmt(root, "fix-%s", distros[i]);
		ROOT_OR_SKIP(root, dir);
		RUN_ENV(&res, alice_env, "--root", dir, "fix");
		assert_int_equal(res.status, 1);	/* something to do */
		sfmt(name, "fix-%s", distros[i]);
		golden(name, res.out);
		result_clear(&res);

		argv[n++] = (char *)VD_BIN;
		argv[n++] = (char *)"--root";
		argv[n++] = dir;
		argv[n++] = (char *)"fix";
		for (size_t k = 0; k < ARRAY_SIZE(all_ids); k++) {
			argv[n++] = (char *)"--only";
			argv[n++] = (char *)all_ids[k];
		}
		argv[n] = NULL;
		run_env(&res, alice_env, argv);
		assert_int_equal(res.status, 1);
		sfmt(name, "fix-%s-all", distros[i]);
		golden(name, res.out);
		/* Every fix is there, in table order. */
		{
			const char *p = res.out;

			for (size_t k = 0; k < ARRAY_SIZE(all_ids); k++) {
				char needle[96];

				sfmt(needle, "] %s: ", all_ids[k]);
				p = strstr(p, needle);
				if (!p)
					fail_msg("%s: %s missing or out of order", distros[i], all_ids[k]);
			}
		}
		result_clear(&res);
		remove_tree(dir);
	}
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* Journal lines for steps (each run also has an apply-start and an apply-end line). */
static size_t count_step_lines(const char *s)
{
	size_t n = 0;

	for (; s && (s = strstr(s, "\"event\":\"step\"")); s++)
		n++;
	return n;
}

static json_t *step_of(json_t *j, const char *fix, size_t idx)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(j, "fixes"), i, f)
		if (streq(json_string_value(json_object_get(f, "id")), fix))
			return json_array_get(json_object_get(f, "steps"), idx);
	fail_msg("fix %s not in output", fix);
	return NULL;
}

/* --root DIR --apply: file-level fixes land inside DIR, live ones are listed; twice = no change. */
static void test_apply_root_twice(void **state)
{
	static const char *const ids[] = { "modules.load_kvm", "modules.enable_nested", "udev.kvm_permissions",
		"sysctl.enable_ip_forward", "modules.load_vhost_net" };
	char dir[256], path[512], journal[512];
	char *argv[32];
	unsigned n = 0;
	struct stat st1, st2;
	char *text;
	size_t lines1;
	json_t *j;

	(void)state;
	ROOT_OR_SKIP("fix-debian", dir);
	argv[n++] = (char *)VD_BIN;
	argv[n++] = (char *)"--root";
	argv[n++] = dir;
	argv[n++] = (char *)"--format";
	argv[n++] = (char *)"json";
	argv[n++] = (char *)"fix";
	argv[n++] = (char *)"--apply";
	argv[n++] = (char *)"--yes";
	for (size_t k = 0; k < ARRAY_SIZE(ids); k++) {
		argv[n++] = (char *)"--only";
		argv[n++] = (char *)ids[k];
	}
	argv[n] = NULL;

	for (int round = 0; round < 2; round++) {
		struct result res = { 0 };
		size_t actions = 0, i;
		json_t *f;

		run_env(&res, alice_env, argv);
		j = parse_json(res.out);
		assert_string_equal(json_string_value(json_object_get(j, "kind")), "fix-plan");
		assert_true(json_is_true(json_object_get(j, "applied")));
		assert_true(json_is_true(json_object_get(j, "offline_root")));
		/* First run writes; the second finds everything in place. */
		assert_int_equal(json_is_true(json_object_get(j, "mutated")), round == 0);
		assert_string_equal(json_string_value(json_object_get(step_of(j, "modules.load_kvm", 2), "result")),
				    round == 0 ? "done" : "unchanged");
		/* Live actions are listed, not run, under --root. */
		assert_string_equal(json_string_value(json_object_get(step_of(j, "modules.load_kvm", 0), "result")),
				    "not-run");
		assert_string_equal(json_string_value(json_object_get(step_of(j, "sysctl.enable_ip_forward", 1),
								      "result")), "not-run");
		json_array_foreach(json_object_get(j, "fixes"), i, f) {
			json_t *s;
			size_t k;

			assert_string_equal(json_string_value(json_object_get(json_object_get(f, "outcome"), "state")),
					    streq(json_string_value(json_object_get(f, "id")), "modules.enable_nested") &&
					    round == 0 ? "needs-reboot" : "pending");
			json_array_foreach(json_object_get(f, "steps"), k, s)
				actions += !streq(json_string_value(json_object_get(s, "kind")), "human");
		}
		assert_int_equal(res.status, 1);
		sfmt(journal, "%s/var/log/virt-doctor/journal.jsonl", dir);
		text = slurp(journal);
		assert_non_null(text);
		/* One journal line per action (human steps are not actions), and a start and an
		 * end line per run. */
		assert_int_equal(count_step_lines(text), actions * (size_t)(round + 1));
		assert_int_equal(count_lines(text), (actions + 2) * (size_t)(round + 1));
		if (round == 0)
			lines1 = count_lines(text);
		else
			assert_int_equal(count_lines(text), 2 * lines1);
		if (round == 1) {
			/* The second run's lines say unchanged or not-run, never done. */
			const char *second = text;

			for (size_t l = 0; l < lines1; l++)
				second = strchr(second, '\n') + 1;
			assert_null(strstr(second, "\"result\":\"done\""));
			assert_non_null(strstr(second, "\"result\":\"unchanged\""));
		} else {
			const char *second = strchr(text, '\n') + 1;
			char *line = strndup(second, (size_t)(strchr(second, '\n') - second));
			json_t *first = parse_json(line);

			free(line);

			assert_non_null(json_object_get(first, "time"));
			assert_string_equal(json_string_value(json_object_get(first, "fix")), "modules.load_kvm");
			assert_string_equal(json_string_value(json_object_get(first, "module")), "kvm");
			json_decref(first);
		}
		free(text);
		sfmt(path, "%s/etc/modules-load.d/kvm.conf", dir);
		assert_int_equal(stat(path, round == 0 ? &st1 : &st2), 0);
		json_decref(j);
		result_clear(&res);
	}
	/* Unchanged means untouched: same inode, same mtime. */
	assert_int_equal(st1.st_ino, st2.st_ino);
	assert_int_equal(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);
	text = slurp(path);
	assert_string_equal(text, "# Written by virt-doctor (modules.load_kvm): load at every boot.\nkvm\nkvm_amd\n");
	free(text);
	assert_int_equal(st1.st_mode & 07777, 0644);
	sfmt(path, "%s/etc/modprobe.d/kvm-nested.conf", dir);
	text = slurp(path);
	assert_non_null(strstr(text, "options kvm_amd nested=1\n"));
	free(text);
	sfmt(path, "%s/etc/udev/rules.d/65-kvm.rules", dir);
	text = slurp(path);
	assert_non_null(strstr(text, "KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\"\n"));
	free(text);
	sfmt(path, "%s/etc/sysctl.d/60-virt-doctor-ip-forward.conf", dir);
	text = slurp(path);
	assert_non_null(strstr(text, "net.ipv4.ip_forward = 1\n"));
	free(text);
	/* No temp files left behind. */
	sfmt(path, "%s/etc/modules-load.d", dir);
	{
		DIR *d = opendir(path);
		struct dirent *de;

		assert_non_null(d);
		while ((de = readdir(d)))
			assert_null(strstr(de->d_name, ".vd-"));
		closedir(d);
	}
	remove_tree(dir);
}

/* Run the binary inside the sandbox child, stdout to a file. */
static int sandbox_run(const char *out, char *const argv[])
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		dup2(fd, 1);
		unsetenv("SUDO_UID");
		unsetenv("SUDO_GID");
		unsetenv("SUDO_USER");
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/*
 * Live apply for real, host untouched: a private mount namespace with a scratch copy of /etc
 * bound over /etc and a private network namespace (its own ip_forward). The libkmod path runs
 * against the real kernel. Applied twice: the second run changes nothing.
 */
static void test_apply_live_sandbox(void **state)
{
	char dir[] = "/tmp/vd-fix-sandbox.XXXXXX", cmd[512], etc[256], out[2][256], journal[256], path[512];
	char fwd[256];
	pid_t pid;
	int st;

	(void)state;
	HOST_CHANGE_OR_SKIP();
	if (geteuid() != 0)
		SKIP_BECAUSE("the sandbox needs root (mount and network namespaces)");
	assert_non_null(mkdtemp(dir));
	sfmt(etc, "%s/etc", dir);
	sfmt(cmd, "cp -a /etc '%s'", etc);
	assert_int_equal(system(cmd), 0);
	sfmt(path, "%s/modules-load.d/kvm.conf", etc);
	unlink(path);
	sfmt(out[0], "%s/out1.json", dir);
	sfmt(out[1], "%s/out2.json", dir);
	sfmt(journal, "%s/journal.jsonl", dir);
	sfmt(fwd, "%s/ip_forward", dir);
	assert_int_not_equal(access("/etc/modules-load.d/kvm.conf", F_OK), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = { (char *)VD_BIN, (char *)"--format", (char *)"json", (char *)"fix",
				 (char *)"--apply", (char *)"--yes", (char *)"--journal", journal,
				 (char *)"--only", (char *)"modules.load_kvm",
				 (char *)"--only", (char *)"sysctl.enable_ip_forward", NULL };
		char v[16] = "";
		FILE *f;

		if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
			_exit(77);
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount(etc, "/etc", NULL, MS_BIND, NULL) < 0)
			_exit(78);
		for (int i = 0; i < 2; i++)
			sandbox_run(out[i], argv);
		f = fopen("/proc/sys/net/ipv4/ip_forward", "re");
		if (f && fgets(v, sizeof(v), f)) {
			FILE *o = fopen(fwd, "we");

			if (o) {
				fputs(v, o);
				fclose(o);
			}
		}
		if (f)
			fclose(f);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
		remove_tree(dir);
		SKIP_BECAUSE("unshare(CLONE_NEWNS|CLONE_NEWNET) is not permitted here");
	}
	assert_int_equal(WEXITSTATUS(st), 0);
	for (int round = 0; round < 2; round++) {
		char *text = slurp(out[round]);
		json_t *j = parse_json(text), *f;
		size_t i;

		assert_false(json_is_true(json_object_get(j, "offline_root")));
		assert_int_equal(json_is_true(json_object_get(j, "mutated")), round == 0);
		/* kvm and the backend are in this kernel already: libkmod says so. */
		assert_string_equal(json_string_value(json_object_get(step_of(j, "modules.load_kvm", 0), "result")),
				    "unchanged");
		assert_string_equal(json_string_value(json_object_get(step_of(j, "modules.load_kvm", 2), "result")),
				    round == 0 ? "done" : "unchanged");
		if (round == 1)
			assert_string_equal(json_string_value(json_object_get(step_of(j, "sysctl.enable_ip_forward", 1),
									      "result")), "unchanged");
		json_array_foreach(json_object_get(j, "fixes"), i, f) {
			json_t *o = json_object_get(f, "outcome"), *c;
			const char *state = json_string_value(json_object_get(o, "state"));
			size_t k;

			if (streq(state, "fixed"))
				continue;
			/* With /dev/kvm 0600 (a fresh machine here) kvm.device fails for libvirt's
			 * QEMU user: modules.load_kvm did its part, udev.kvm_permissions owns that. */
			assert_string_equal(json_string_value(json_object_get(f, "id")), "modules.load_kvm");
			assert_string_equal(state, "still-failing");
			json_array_foreach(json_object_get(o, "checks"), k, c)
				if (!streq(json_string_value(json_object_get(c, "id")), "kvm.device"))
					assert_string_equal(json_string_value(json_object_get(c, "status")), "pass");
		}
		json_decref(j);
		free(text);
	}
	{
		char *text = slurp(path), *v = slurp(fwd);
		char expect[128];
		struct kvm_backend_facts kb;
		struct host h;

		assert_int_equal(host_init(&h, NULL), 0);
		kvm_backend_probe(&h, &kb);
		host_fini(&h);
		sfmt(expect, "# Written by virt-doctor (modules.load_kvm): load at every boot.\nkvm\n%s%s",
		     kb.backend, kb.backend[0] ? "\n" : "");
		assert_non_null(text);
		assert_string_equal(text, expect);
		assert_string_equal(v, "1\n");
		free(text);
		free(v);
	}
	/* The host's own /etc was never touched. */
	assert_int_not_equal(access("/etc/modules-load.d/kvm.conf", F_OK), 0);
	assert_int_not_equal(access("/etc/sysctl.d/60-virt-doctor-ip-forward.conf", F_OK), 0);
	remove_tree(dir);
}

/*
 * udev.kvm_permissions applied for real, under the libvirt lock (it changes /dev/kvm): in a
 * private mount namespace with a scratch /etc (the rule file lands there), on the real node.
 * From 0600 root:root the chgrp and chmod run, the verifier sees kvm.device pass; the second
 * apply runs nothing. /dev/kvm gets back the owner, group and mode it had.
 */
static void test_apply_kvm_permissions_live(void **state)
{
	char dir[] = "/tmp/vd-fix-kvmperm.XXXXXX", cmd[512], etc[256], out[2][256], journal[256];
	struct stat st0, st1;
	int lock, st;
	pid_t pid;

	(void)state;
	HOST_CHANGE_OR_SKIP();
	if (geteuid() != 0)
		SKIP_BECAUSE("changing /dev/kvm needs root");
	if (stat("/dev/kvm", &st0) < 0 || !S_ISCHR(st0.st_mode))
		SKIP_BECAUSE("no /dev/kvm here");
	lock = libvirt_lock();
	assert_true(lock >= 0);
	assert_int_equal(stat("/dev/kvm", &st0), 0);
	/* Start from the fresh machine's state, whatever the last holder left. */
	assert_int_equal(chown("/dev/kvm", 0, 0), 0);
	assert_int_equal(chmod("/dev/kvm", 0600), 0);
	assert_non_null(mkdtemp(dir));
	sfmt(etc, "%s/etc", dir);
	sfmt(cmd, "cp -a /etc '%s'", etc);
	assert_int_equal(system(cmd), 0);
	sfmt(out[0], "%s/out1.json", dir);
	sfmt(out[1], "%s/out2.json", dir);
	sfmt(journal, "%s/journal.jsonl", dir);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = { (char *)VD_BIN, (char *)"--format", (char *)"json", (char *)"fix",
				 (char *)"--apply", (char *)"--yes", (char *)"--journal", journal,
				 (char *)"--only", (char *)"udev.kvm_permissions", NULL };

		if (unshare(CLONE_NEWNS) < 0)
			_exit(77);
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount(etc, "/etc", NULL, MS_BIND, NULL) < 0)
			_exit(78);
		for (int i = 0; i < 2; i++)
			sandbox_run(out[i], argv);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(stat("/dev/kvm", &st1), 0);
	/* Put the node back before any assertion can end the test. */
	chown("/dev/kvm", st0.st_uid, st0.st_gid);
	chmod("/dev/kvm", st0.st_mode & 07777);
	libvirt_unlock(lock);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
		remove_tree(dir);
		SKIP_BECAUSE("unshare(CLONE_NEWNS) is not permitted here");
	}
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(st1.st_mode & 07777, 0660);
	{
		struct group *g = getgrnam("kvm");

		assert_non_null(g);
		assert_int_equal(st1.st_gid, g->gr_gid);
	}
	for (int round = 0; round < 2; round++) {
		char *text = slurp(out[round]);
		json_t *j = parse_json(text), *f = json_array_get(json_object_get(j, "fixes"), 0), *c, *steps, *s;
		bool chmod_seen = false, udev_note = false;
		size_t k;

		assert_int_equal(json_is_true(json_object_get(j, "mutated")), round == 0);
		assert_string_equal(json_string_value(json_object_get(json_object_get(f, "outcome"), "state")),
				    "fixed");
		json_array_foreach(json_object_get(json_object_get(f, "outcome"), "checks"), k, c)
			if (streq(json_string_value(json_object_get(c, "id")), "kvm.device"))
				assert_string_equal(json_string_value(json_object_get(c, "status")), "pass");
		steps = json_object_get(f, "steps");
		json_array_foreach(steps, k, s) {
			const char *kind = json_string_value(json_object_get(s, "kind"));
			json_t *argv = json_object_get(s, "argv");

			if (streq(kind, "command") && streq(json_string_value(json_array_get(argv, 0)), "chmod")) {
				chmod_seen = true;
				assert_string_equal(json_string_value(json_object_get(s, "result")),
						    round == 0 ? "done" : "unchanged");
			}
			if (streq(kind, "human") && strstr(json_string_value(json_object_get(s, "why")),
							    "udev does not run"))
				udev_note = true;
		}
		assert_true(chmod_seen);
		/* This machine has no udevd: the plan must say the change lasts until the next boot. */
		if (access("/run/udev/control", F_OK) != 0)
			assert_true(udev_note);
		json_decref(j);
		free(text);
	}
	/* The rule went to the scratch /etc, not the host's. */
	sfmt(cmd, "%s/udev/rules.d/65-kvm.rules", etc);
	assert_int_equal(access(cmd, F_OK), 0);
	remove_tree(dir);
}

/* A symlink in an image must not send a write out of the root. */
static void test_apply_root_symlink_stays_inside(void **state)
{
	char dir[256], outside[] = "/tmp/vd-fix-escape.XXXXXX", link[512], file[512];
	struct result res = { 0 };
	json_t *j;
	const char *result;

	(void)state;
	ROOT_OR_SKIP("fix-debian", dir);
	assert_non_null(mkdtemp(outside));
	sfmt(link, "%s/etc/sysctl.d", dir);
	remove_tree(link);
	assert_int_equal(symlink(outside, link), 0);
	RUN(&res, "--root", dir, "--format", "json", "fix", "--apply", "--yes", "--only", "sysctl.enable_ip_forward");
	j = parse_json(res.out);
	sfmt(file, "%s/60-virt-doctor-ip-forward.conf", outside);
	assert_int_not_equal(access(file, F_OK), 0);
	/* Resolved inside the root: the link's target is DIR/tmp/..., which does not exist. */
	result = json_string_value(json_object_get(step_of(j, "sysctl.enable_ip_forward", 0), "result"));
	assert_string_equal(result, "failed");
	json_decref(j);
	result_clear(&res);
	remove_tree(outside);
	remove_tree(dir);
}

static void test_refuse_without_root(void **state)
{
	struct result res = { 0 };
	char expect[512];

	(void)state;
	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0)
		SKIP_BECAUSE("running as nobody needs root and setpriv");
	RUN_NOBODY(&res, "fix", "--apply", "--yes", "--only", "modules.load_kvm");
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "needs root"));
	sfmt(expect, "sudo %s fix --apply --yes --only modules.load_kvm\n", VD_BIN);
	if (!strstr(res.err, expect))
		fail_msg("no exact sudo line in: %s", res.err);
	result_clear(&res);
}

static void test_refuse_without_tty(void **state)
{
	struct result res = { 0 };
	char dir[256], path[512];
	int saved = dup(0), null = open("/dev/null", O_RDONLY);

	(void)state;
	if (geteuid() != 0)
		SKIP_BECAUSE("--apply refuses before the tty question when not root");
	ROOT_OR_SKIP("fix-fedora", dir);
	dup2(null, 0);
	RUN(&res, "--root", dir, "fix", "--apply");
	dup2(saved, 0);
	close(saved);
	close(null);
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "not a terminal"));
	assert_non_null(strstr(res.err, "--yes"));
	sfmt(path, "%s/etc/modules-load.d/kvm.conf", dir);
	assert_int_not_equal(access(path, F_OK), 0);	/* nothing written */
	result_clear(&res);
	remove_tree(dir);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_usage_errors(void **state)
{
	struct result res = { 0 };

	(void)state;
	RUN(&res, "fix", "--only", "modules.load_everything");
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "unknown fix id 'modules.load_everything'"));
	result_clear(&res);
	RUN(&res, "fix", "now");
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "unexpected argument 'now'"));
	result_clear(&res);
	RUN(&res, "fix", "--data-dir", "/nonexistent/vd");
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "/nonexistent/vd"));
	result_clear(&res);
}

/* Answer the one question on a real terminal (a pty); returns the exit status. */
static int answer_on_tty(const char *dir, const char *answer, char **transcript)
{
	int master, st;
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	bool answered = false;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);

	assert_true(pid >= 0);
	if (pid == 0) {
		unsetenv("SUDO_UID");
		unsetenv("SUDO_GID");
		setenv("NO_COLOR", "1", 1);
		execl(VD_BIN, VD_BIN, "--root", dir, "fix", "--apply", "--only", "modules.load_kvm", (char *)NULL);
		_exit(127);
	}
	for (;;) {
		struct pollfd p = { .fd = master, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 20000) <= 0)
			break;
		n = read(master, buf + len, cap - len - 1);
		if (n <= 0)
			break;	/* EIO once the child has gone */
		len += (size_t)n;
		buf[len] = '\0';
		if (!answered && strstr(buf, "[y/N]")) {
			assert_int_equal(write(master, answer, strlen(answer)), (ssize_t)strlen(answer));
			answered = true;
		}
	}
	buf[len] = '\0';
	close(master);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(answered);
	*transcript = buf;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_confirm_on_tty(void **state)
{
	char dir[256], path[512];
	char *out;

	(void)state;
	if (geteuid() != 0)
		SKIP_BECAUSE("--apply needs root before it asks");
	ROOT_OR_SKIP("fix-fedora", dir);
	sfmt(path, "%s/etc/modules-load.d/kvm.conf", dir);
	assert_int_equal(answer_on_tty(dir, "n\n", &out), 3);
	assert_non_null(strstr(out, "not confirmed; nothing was changed"));
	assert_int_not_equal(access(path, F_OK), 0);
	free(out);
	assert_int_equal(answer_on_tty(dir, "y\n", &out), 1);	/* pending: live steps remain */
	assert_non_null(strstr(out, "-> done"));
	assert_int_equal(access(path, F_OK), 0);
	free(out);
	remove_tree(dir);
}

static void test_malformed_data(void **state)
{
	static const struct { const char *text, *error; } cases[] = {
		{ "[distro]\nname = X\nids = x\n\n[packages]\nbogus = 1\n", "bad.ini:6: unknown key 'bogus' in [packages]" },
		{ "[distro]\nname = X\nids = x\n[nonsense]\na = b\n", "bad.ini:5: unknown section [nonsense]" },
		{ "[distro]\nname = X\nthis line has no equals sign\nids = x\n", "bad.ini:3: expected 'key = value'" },
		{ "[distro\nname = X\n", "bad.ini:1: section header without ']'" },
		{ "[distro]\nname = X\n", "bad.ini:2: [distro] needs both 'name' and 'ids'" },
	};
	char dir[] = "/tmp/vd-fix-data.XXXXXX", path[512], env[600];

	(void)state;
	assert_non_null(mkdtemp(dir));
	sfmt(path, "%s/bad.ini", dir);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct result res = { 0 };
		char *envp[] = { env, NULL };

		write_text(path, cases[i].text);
		/* Both ways to point at data: the option and the environment. */
		RUN(&res, "fix", "--data-dir", dir);
		assert_int_equal(res.status, 3);
		if (!strstr(res.err, cases[i].error))
			fail_msg("case %zu: expected '%s' in: %s", i, cases[i].error, res.err);
		assert_int_equal(count_lines(res.err), 1);
		result_clear(&res);
		sfmt(env, "VIRT_DOCTOR_DATADIR=%s", dir);
		RUN_ENV(&res, envp, "fix");
		assert_int_equal(res.status, 3);
		assert_non_null(strstr(res.err, cases[i].error));
		result_clear(&res);
	}
	remove_tree(dir);
}

/*
 * A binary outside the build tree never reads ./data/distros: a root `fix` run in a directory
 * someone else controls took a step from a file planted there. Copy the binary to a directory
 * with no data beside it and run it from a directory that has a planted debian.ini.
 */
static void test_data_never_from_cwd(void **state)
{
	char dir[] = "/tmp/vd-cwd.XXXXXX", root[256], cmd[1400], bin[300], cwd[300];
	struct result res = { 0 };

	(void)state;
	ROOT_OR_SKIP("fix-debian", root);
	assert_non_null(mkdtemp(dir));
	sfmt(bin, "%s/opt/bin/virt-doctor", dir);
	sfmt(cwd, "%s/work", dir);
	sfmt(cmd, "mkdir -p '%s/opt/bin' '%s/data/distros' && cp '%s' '%s' && "
	     "sed 's/^name = Debian$/name = Planted/' '%s/data/distros/debian.ini' > '%s/data/distros/debian.ini'",
	     dir, cwd, VD_BIN, bin, VD_SRCDIR, cwd);
	assert_int_equal(system(cmd), 0);
	run_env(&res, NULL, (char *const[]){ (char *)"/bin/sh", (char *)"-c",
		(char *)"cd \"$1\" && unset VIRT_DOCTOR_DATADIR && exec \"$2\" --root \"$3\" fix",
		(char *)"sh", cwd, bin, root, NULL });
	if (strstr(res.out, "Planted") || strstr(res.err, "Planted"))
		fail_msg("the plan came from the current directory:\n%s", res.out);
	/* Nothing installed here: the one-line error names where it looked, not the cwd. */
	if (access(VD_DATADIR "/distros", F_OK) != 0) {
		assert_int_equal(res.status, 3);
		assert_non_null(strstr(res.err, "no distribution data found"));
		assert_null(strstr(res.err, "./data"));
		assert_int_equal(count_lines(res.err), 1);
	}
	result_clear(&res);
	/* With the same binary pointed at the data, the planted file still plays no part. */
	run_env(&res, (char *const[]){ (char *)"VIRT_DOCTOR_DATADIR=" VD_SRCDIR "/data/distros", NULL },
		(char *const[]){ (char *)"/bin/sh", (char *)"-c", (char *)"cd \"$1\" && exec \"$2\" --root \"$3\" fix",
		(char *)"sh", cwd, bin, root, NULL });
	assert_non_null(strstr(res.out, "distro data: debian.ini (Debian, ID=debian)"));
	result_clear(&res);
	remove_tree(dir);
	remove_tree(root);
}

static void test_unknown_distro(void **state)
{
	char dir[256], path[512];
	struct result res = { 0 };

	(void)state;
	ROOT_OR_SKIP("fix-debian", dir);
	sfmt(path, "%s/etc/os-release", dir);
	write_text(path, "ID=plan9\nID_LIKE=bell-labs\nPRETTY_NAME=\"Plan 9\"\n");
	RUN_ENV(&res, alice_env, "--root", dir, "fix");
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.out, "distro data: none (no data file matches ID=plan9 ID_LIKE=bell-labs)"));
	assert_non_null(strstr(res.out, "by hand: Install the kernel's KVM modules with your distribution's"));
	/* Kernel-level steps are the same everywhere. */
	assert_non_null(strstr(res.out, "write /etc/modules-load.d/kvm.conf"));
	result_clear(&res);
	remove_tree(dir);
}

/* ---- the planner on its own ---- */

static struct distro_set set;

static void load_set(void)
{
	char dir[512], err[256];

	sfmt(dir, "%s/data/distros", VD_SRCDIR);
	if (!set.n)
		assert_int_equal(distro_set_load(&set, dir, err, sizeof(err)), 0);
	assert_int_equal(set.n, 7);
}

static void pick(const char *id, const char *like, struct distro *d)
{
	struct os_release os = { 0 };

	scopy(os.id, id);
	scopy(os.id_like, like);
	distro_select(&set, &os, d);
}

static void test_distro_select(void **state)
{
	static const struct { const char *id, *like, *file, *by; } cases[] = {
		{ "debian", "", "debian.ini", "ID=debian" },
		{ "linuxmint", "ubuntu debian", "ubuntu.ini", "ID_LIKE=ubuntu" },
		{ "raspbian", "debian", "debian.ini", "ID_LIKE=debian" },
		{ "almalinux", "rhel centos fedora", "rhel.ini", "ID=almalinux" },
		{ "eurolinux", "rhel fedora centos", "rhel.ini", "ID_LIKE=rhel" },
		{ "nobara", "fedora", "fedora.ini", "ID_LIKE=fedora" },
		{ "manjaro", "arch", "arch.ini", "ID_LIKE=arch" },
		{ "opensuse-tumbleweed", "opensuse suse", "opensuse.ini", "ID=opensuse-tumbleweed" },
		{ "postmarketos", "alpine", "alpine.ini", "ID_LIKE=alpine" },
	};
	struct distro d;

	(void)state;
	load_set();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		pick(cases[i].id, cases[i].like, &d);
		assert_false(d.generic);
		assert_string_equal(d.file, cases[i].file);
		assert_string_equal(d.matched_by, cases[i].by);
		distro_free(&d);
	}
	pick("haiku", "", &d);
	assert_true(d.generic);
	distro_free(&d);
}

/* Checks that may not exist in this tree yet: the planner only sees ids and fixes. */
static const struct check fake_checks[] = {
	{ .id = "emulator.qemu" }, { .id = "libvirt.daemon" }, { .id = "net.default_network" },
	{ .id = "net.ip_forward" }, { .id = "net.tun" }, { .id = "net.vhost_net" },
	{ .id = "iommu.groups" }, { .id = "user.groups" }, { .id = "cpu.nested" },
};

static const struct { const char *check, *fix; } suggestions[] = {
	{ "emulator.qemu", "packages.install_qemu" }, { "libvirt.daemon", "packages.install_libvirt" },
	{ "libvirt.daemon", "services.enable_libvirtd" }, { "net.default_network", "libvirt.define_default_network" },
	{ "net.default_network", "libvirt.start_default_network" }, { "net.ip_forward", "sysctl.enable_ip_forward" },
	{ "net.tun", "modules.load_tun" }, { "net.vhost_net", "modules.load_vhost_net" },
	{ "iommu.groups", "modules.load_vfio" }, { "iommu.groups", "firmware.enable_iommu" },
	{ "user.groups", "user.add_to_kvm_group" }, { "user.groups", "user.add_to_libvirt_group" },
	{ "cpu.nested", "modules.enable_nested" }, { "cpu.nested", "hypervisor.enable_nested" },
};

static void synthetic_run(struct run *run)
{
	memset(run, 0, sizeof(*run));
	for (size_t i = 0; i < ARRAY_SIZE(fake_checks); i++) {
		struct check_result *r = &run->result[run->n];

		run->check[run->n++] = &fake_checks[i];
		result_set(r, i == 0 ? CHECK_WARN : CHECK_FAIL, "synthetic");
		for (size_t k = 0; k < ARRAY_SIZE(suggestions); k++)
			if (streq(suggestions[k].check, fake_checks[i].id))
				result_fix(r, suggestions[k].fix);
	}
	/* A passing check's suggestion is ignored. */
	run->check[run->n] = &fake_checks[0];
	result_set(&run->result[run->n], CHECK_PASS, "fine");
	result_fix(&run->result[run->n++], "firmware.enable_virtualization");
}

static const struct fix_plan *find_plan(const struct plan *p, const char *id)
{
	for (unsigned i = 0; i < p->n; i++)
		if (streq(p->items[i].fix->id, id))
			return &p->items[i];
	return NULL;
}

static void facts_for(struct fix_facts *f, const char *vendor_module)
{
	memset(f, 0, sizeof(*f));
	scopy(f->ident.arch, "x86_64");
	scopy(f->ident.kernel_release, "6.8.0-45-generic");
	scopy(f->user, "alice");
	f->user_source = "SUDO_USER";
	scopy(f->vendor_module, vendor_module);
	f->running_guests = 2;
	f->kvm_refcnt = 3;
}

static bool argv_is(char *const *argv, const char *expect)
{
	char buf[512] = "";

	for (unsigned i = 0; argv[i]; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? " " : "", argv[i]);
	if (!streq(buf, expect))
		printf("argv: '%s' != '%s'\n", buf, expect);
	return streq(buf, expect);
}

static void test_planner_synthetic(void **state)
{
	struct run *run = calloc(1, sizeof(*run));
	struct fix_facts facts;
	struct distro d;
	struct plan plan;
	const struct fix_plan *p;

	(void)state;
	load_set();
	synthetic_run(run);
	facts_for(&facts, "kvm_intel");

	/* Fedora: modular daemons, three sockets, each enabled then started. */
	pick("fedora", "", &d);
	{
		struct plan_ctx c = { .distro = &d, .facts = &facts };

		assert_int_equal(plan_build(&c, run, NULL, 0, &plan), 0);
	}
	assert_null(find_plan(&plan, "firmware.enable_virtualization"));
	for (size_t k = 0; k < ARRAY_SIZE(suggestions); k++) {
		p = find_plan(&plan, suggestions[k].fix);
		assert_non_null(p);
		assert_true(p->n_steps > 0);
		assert_false(p->forced);
	}
	p = find_plan(&plan, "services.enable_libvirtd");
	assert_int_equal(p->n_steps, 6);
	assert_true(argv_is(p->steps[0].argv, "systemctl enable virtqemud.socket"));
	assert_true(argv_is(p->steps[1].argv, "systemctl start virtqemud.socket"));
	assert_true(argv_is(p->steps[1].guard_argv, "systemctl is-active --quiet virtqemud.socket"));
	p = find_plan(&plan, "packages.install_qemu");
	assert_true(argv_is(p->steps[0].argv, "dnf install -y --setopt=install_weak_deps=False qemu-kvm qemu-img"));
	assert_true(argv_is(p->steps[0].guard_argv, "rpm -q qemu-kvm qemu-img"));
	p = find_plan(&plan, "modules.enable_nested");
	assert_string_equal(p->steps[0].path, "/etc/modprobe.d/kvm-nested.conf");
	assert_non_null(strstr(p->steps[0].content, "options kvm_intel nested=1"));
	assert_non_null(strstr(p->steps[1].content, "2 guest process(es) are running now"));
	p = find_plan(&plan, "libvirt.start_default_network");
	assert_true(argv_is(p->steps[0].argv, "virsh --connect qemu:///system net-start default"));
	assert_string_equal(p->steps[0].guard_match, "Active: yes");
	assert_true(argv_is(p->steps[1].argv, "virsh --connect qemu:///system net-autostart default"));
	p = find_plan(&plan, "libvirt.define_default_network");
	assert_true(argv_is(p->steps[0].argv,
			    "virsh --connect qemu:///system net-define /usr/share/libvirt/networks/default.xml"));
	p = find_plan(&plan, "firmware.enable_iommu");
	assert_non_null(strstr(p->steps[1].content, "intel_iommu=on iommu=pt"));
	assert_non_null(strstr(p->steps[2].content, "grub2-mkconfig -o /boot/grub2/grub.cfg"));
	p = find_plan(&plan, "modules.load_vfio");
	assert_string_equal(p->steps[0].module, "vfio");
	assert_string_equal(p->steps[3].path, "/etc/modules-load.d/vfio.conf");
	plan_free(&plan);

	/* The same host as a VM: no firmware menu, a virtual IOMMU from the outer host. */
	facts.is_guest = true;
	scopy(facts.hypervisor, "KVM");
	{
		struct plan_ctx c = { .distro = &d, .facts = &facts };
		const char *only[] = { "firmware.enable_iommu" };

		assert_int_equal(plan_build(&c, run, only, 1, &plan), 0);
	}
	p = find_plan(&plan, "firmware.enable_iommu");
	assert_non_null(strstr(p->steps[0].content, "On the outer host (KVM)"));
	assert_non_null(strstr(p->steps[1].content, "<iommu model='intel'>"));
	for (unsigned k = 0; k < p->n_steps; k++)
		assert_null(strstr(p->steps[k].content, "grub"));
	plan_free(&plan);
	facts.is_guest = false;
	distro_free(&d);

	/* Alpine: OpenRC and busybox. */
	pick("alpine", "", &d);
	{
		struct plan_ctx c = { .distro = &d, .facts = &facts };
		const char *only[] = { "services.enable_libvirtd", "user.add_to_kvm_group" };

		assert_int_equal(plan_build(&c, run, only, 2, &plan), 0);
	}
	assert_int_equal(plan.n, 2);
	p = find_plan(&plan, "services.enable_libvirtd");
	assert_true(argv_is(p->steps[0].argv, "rc-update add libvirtd default"));
	assert_int_equal(p->steps[0].guard, GUARD_NONE);
	assert_true(argv_is(p->steps[1].argv, "rc-service libvirtd start"));
	p = find_plan(&plan, "user.add_to_kvm_group");
	assert_true(argv_is(p->steps[0].argv, "addgroup -S kvm"));
	assert_int_equal(p->steps[1].kind, STEP_GROUP);
	assert_true(argv_is(p->steps[1].argv, "addgroup alice kvm"));
	plan_free(&plan);
	distro_free(&d);

	/* Ubuntu: the kernel release lands in the package name; AMD firmware menus say SVM. */
	facts_for(&facts, "kvm_amd");
	scopy(facts.cpu_vendor, "AuthenticAMD");
	pick("ubuntu", "debian", &d);
	{
		struct plan_ctx c = { .distro = &d, .facts = &facts };
		const char *only[] = { "packages.install_kernel_modules", "firmware.enable_virtualization",
				       "user.add_to_libvirt_group" };

		assert_int_equal(plan_build(&c, run, only, 3, &plan), 0);
	}
	p = find_plan(&plan, "packages.install_kernel_modules");
	assert_true(p->forced);
	assert_true(argv_is(p->steps[1].argv, "apt-get install -y --no-install-recommends "
			    "linux-modules-6.8.0-45-generic linux-modules-extra-6.8.0-45-generic"));
	assert_string_equal(p->steps[1].env[0], "DEBIAN_FRONTEND=noninteractive");
	p = find_plan(&plan, "firmware.enable_virtualization");
	assert_non_null(strstr(p->steps[1].content, "SVM Mode"));
	p = find_plan(&plan, "user.add_to_libvirt_group");
	assert_true(argv_is(p->steps[1].argv, "usermod -aG libvirt alice"));
	assert_false(p->forced);	/* user.groups suggested it */
	plan_free(&plan);

	/* No ordinary user: a human step, not a usermod for root. */
	facts.user[0] = '\0';
	{
		struct plan_ctx c = { .distro = &d, .facts = &facts };
		const char *only[] = { "user.add_to_kvm_group" };

		assert_int_equal(plan_build(&c, run, only, 1, &plan), 0);
	}
	assert_int_equal(plan.items[0].n_steps, 1);
	assert_int_equal(plan.items[0].steps[0].kind, STEP_HUMAN);
	plan_free(&plan);
	distro_free(&d);
	run_free(run);
	free(run);
	distro_set_free(&set);
}

/* ---- libkmod ---- */

static void test_kmod_fixture_tree(void **state)
{
	char moddir[512], conf[512], msg[256];
	const char *configs[] = { conf, NULL };
	int r;

	(void)state;
	sfmt(moddir, "%s/roots/amd-svm-no-module/lib/modules/6.8.5-301.fc40.x86_64", VD_FIXTURES);
	sfmt(conf, "%s/roots/amd-svm-no-module/etc/modprobe.d", VD_FIXTURES);
	r = kmod_load(moddir, configs, "no_such_module", msg, sizeof(msg));
	assert_int_equal(r, -ENOENT);
	assert_non_null(strstr(msg, "module no_such_module not found"));
	/* kvm_amd is in the tree's index: libkmod resolves it and its dependency and tries to
	 * insert; the stand-in .ko is not loadable, so the kernel refuses, with the path said. */
	r = kmod_load(moddir, configs, "kvm_amd", msg, sizeof(msg));
	assert_true(r < 0);
	assert_int_not_equal(r, -ENOENT);
	if (!strstr(msg, "kvm-amd.ko") && !strstr(msg, "kvm.ko"))
		fail_msg("message does not name the module file: %s", msg);
	printf("fixture kvm_amd load: %s\n", msg);
}

/* The running kernel's own modules, where it has loadable ones. */
static void test_kmod_real_insert(void **state)
{
	char msg[256];
	int r;

	(void)state;
	HOST_CHANGE_OR_SKIP();
	if (access("/proc/modules", F_OK) != 0)
		SKIP_BECAUSE("real module insert: this kernel has no loadable modules (/proc/modules, "
			     "/lib/modules absent)");
	if (geteuid() != 0)
		SKIP_BECAUSE("loading a module needs root");
	r = kmod_load(NULL, NULL, "tun", msg, sizeof(msg));
	if (r < 0)
		fail_msg("tun: %s", msg);
	r = kmod_load(NULL, NULL, "tun", msg, sizeof(msg));
	assert_int_equal(r, 1);	/* the second time it is already there */
}

static void test_write_file_atomic(void **state)
{
	char dir[] = "/tmp/vd-fix-write.XXXXXX", path[256], why[256];
	struct stat st;
	char *text;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sfmt(path, "%s/a/b/c.conf", dir);
	assert_int_equal(write_file_atomic(path, "x = 1\n", 0644, why, sizeof(why)), 0);
	assert_int_equal(write_file_atomic(path, "x = 1\n", 0644, why, sizeof(why)), 1);
	/* Another mode is a change too. */
	assert_int_equal(write_file_atomic(path, "x = 1\n", 0600, why, sizeof(why)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(write_file_atomic(path, "x = 2\n", 0600, why, sizeof(why)), 0);
	text = slurp(path);
	assert_string_equal(text, "x = 2\n");
	free(text);
	remove_tree(dir);
}

/* ---- JSON against its schema ---- */

static void test_json_schema(void **state)
{
	char dir[256], out[512], cmd[1600];
	struct result res = { 0 };
	FILE *f;

	(void)state;
	if (access("/usr/bin/python3", X_OK) != 0 || system("/usr/bin/python3 -c 'import jsonschema' 2>/dev/null") != 0)
		SKIP_BECAUSE("python3-jsonschema is not installed");
	ROOT_OR_SKIP("fix-arch", dir);
	for (int applied = 0; applied < 2; applied++) {
		if (applied)
			RUN_ENV(&res, alice_env, "--root", dir, "--format", "json", "fix", "--apply", "--yes",
				"--only", "modules.load_kvm", "--only", "user.add_to_kvm_group",
				"--only", "firmware.enable_iommu", "--only", "libvirt.start_default_network");
		else
			RUN_ENV(&res, alice_env, "--root", dir, "--format", "json", "fix", "--only",
				"packages.install_libvirt", "--only", "modules.load_kvm");
		sfmt(out, "%s/out.json", dir);
		f = fopen(out, "we");
		assert_non_null(f);
		fputs(res.out, f);
		fclose(f);
		sfmt(cmd, "/usr/bin/python3 -c 'import json,sys,jsonschema; "
		     "jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))' "
		     "'%s/docs/fix.schema.json' '%s'", VD_SRCDIR, out);
		assert_int_equal(system(cmd), 0);
		result_clear(&res);
	}
	remove_tree(dir);
}

/* ---- a real libvirtd ---- */

static int sh(const char *const argv[], char **out)
{
	struct result res = { 0 };
	int st;

	run_env(&res, NULL, (char *const *)argv);
	st = res.status;
	if (out)
		*out = strdup(res.out);
	result_clear(&res);
	return st;
}

static bool net_info(const char *key)
{
	const char *argv[] = { "virsh", "--connect", "qemu:///system", "net-info", "default", NULL };
	char *out = NULL, *p;
	bool yes = false;

	if (sh(argv, &out) == 0 && (p = strstr(out, key)))
		yes = strncmp(p + strlen(key) + strspn(p + strlen(key), " \t"), "yes", 3) == 0;
	free(out);
	return yes;
}

static void test_libvirt_default_network(void **state)
{
	/* Is a daemon there: `hostname` needs no QEMU; `version` waits for libvirtd's QEMU probe,
	 * which with /dev/kvm 0600 takes seconds on every call (over 30 s after a start). */
	const char *alive[] = { "virsh", "--connect", "qemu:///system", "hostname", NULL };
	const char *destroy[] = { "virsh", "--connect", "qemu:///system", "net-destroy", "default", NULL };
	const char *noauto[] = { "virsh", "--connect", "qemu:///system", "net-autostart", "--disable", "default", NULL };
	const char *start[] = { "virsh", "--connect", "qemu:///system", "net-start", "default", NULL };
	const char *autoon[] = { "virsh", "--connect", "qemu:///system", "net-autostart", "default", NULL };
	char journal[] = "/tmp/vd-fix-journal.XXXXXX";
	bool started = false, was_active, was_auto;
	int lock, jfd;
	struct result res = { 0 };
	json_t *j;

	(void)state;
	HOST_CHANGE_OR_SKIP();
	if (geteuid() != 0 || access("/usr/sbin/libvirtd", X_OK) != 0)
		SKIP_BECAUSE("needs root and libvirtd (libvirt-daemon-system)");
	lock = libvirt_lock();
	assert_true(lock >= 0);
	if (sh(alive, NULL) != 0) {
		assert_int_equal(libvirtd_start(), 0);	/* remembers the network's state */
		started = true;
	}
	if (sh(alive, NULL) != 0) {
		libvirt_unlock(lock);
		SKIP_BECAUSE("libvirtd did not come up");
	}
	was_active = net_info("Active:");
	was_auto = net_info("Autostart:");
	if (was_active)
		sh(destroy, NULL);
	sh(noauto, NULL);
	assert_false(net_info("Active:"));

	jfd = mkstemp(journal);
	assert_true(jfd >= 0);
	close(jfd);
	for (int round = 0; round < 2; round++) {
		json_t *steps;

		RUN(&res, "--format", "json", "fix", "--apply", "--yes", "--journal", journal,
		    "--only", "libvirt.start_default_network");
		j = parse_json(res.out);
		steps = json_object_get(json_array_get(json_object_get(j, "fixes"), 0), "steps");
		assert_int_equal(json_array_size(steps), 2);
		for (size_t k = 0; k < 2; k++)
			if (!streq(json_string_value(json_object_get(json_array_get(steps, k), "result")),
				   round == 0 ? "done" : "unchanged"))
				fail_msg("round %d step %zu: %s", round, k, res.out);
		assert_int_equal(json_is_true(json_object_get(j, "mutated")), round == 0);
		assert_true(net_info("Active:"));
		assert_true(net_info("Autostart:"));
		json_decref(j);
		result_clear(&res);
	}
	{
		char *text = slurp(journal);

		assert_int_equal(count_step_lines(text), 4);
		assert_int_equal(count_lines(text), 8);
		assert_non_null(strstr(text, "\"argv\":[\"virsh\",\"--connect\",\"qemu:///system\",\"net-start\",\"default\"]"));
		free(text);
	}
	unlink(journal);
	/* Put things back as they were. */
	sh(destroy, NULL);
	sh(noauto, NULL);
	if (was_active)
		sh(start, NULL);
	if (was_auto)
		sh(autoon, NULL);
	if (started)
		libvirtd_stop();	/* and the network goes back to how it was before */
	libvirt_unlock(lock);
}

/*
 * No systemd here: services.enable_libvirtd must start the daemon directly (distro data
 * `direct_start`), the check must then see it answer, and a second apply changes nothing.
 */
/*
 * A test that fails while holding the lock jumps past its unlock; the next libvirt_lock()
 * in the same process must not wait for the process itself (it did: the whole suite, and
 * every other suite waiting for the lock, hung).
 */
static void test_leaked_lock_recovered(void **state)
{
	pid_t pid;
	int st, probe;

	(void)state;
	probe = open(LIBVIRT_TEST_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	assert_true(probe >= 0);
	if (flock(probe, LOCK_EX | LOCK_NB) < 0) {
		close(probe);
		SKIP_BECAUSE("another suite holds %s now", LIBVIRT_TEST_LOCK);
	}
	close(probe);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(20);	/* a self-deadlock ends as SIGALRM, not as a hang */
		if (libvirt_lock() < 0)
			_exit(2);
		/* leaked: no unlock, as after a failed assertion */
		_exit(libvirt_lock() >= 0 ? 0 : 3);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
		fail_msg("libvirt_lock() waited for its own process's leaked lock");
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_libvirtd_direct_start(void **state)
{
	char journal[] = "/tmp/vd-fix-journal.XXXXXX";
	struct result res = { 0 };
	bool was_running;
	int lock, jfd;

	(void)state;
	HOST_CHANGE_OR_SKIP();
	if (geteuid() != 0 || !libvirtd_installed())
		SKIP_BECAUSE("needs root and libvirtd (libvirt-daemon-system)");
	if (access("/run/systemd/system", F_OK) == 0)
		SKIP_BECAUSE("systemd runs here: the plan uses systemctl, not a direct start");
	lock = libvirt_lock();
	assert_true(lock >= 0);
	was_running = libvirtd_running();
	if (was_running)
		assert_int_equal(libvirtd_stop(), 0);
	else
		libvirtd_stop();	/* one still shutting down holds the pid file the fix's needs */
	libvirtd_remember_network();	/* the daemon the fix starts may autostart it */
	jfd = mkstemp(journal);
	assert_true(jfd >= 0);
	close(jfd);
	for (int round = 0; round < 2; round++) {
		json_t *j, *steps, *st;
		size_t k, commands = 0;

		RUN(&res, "--format", "json", "fix", "--apply", "--yes", "--journal", journal,
		    "--only", "services.enable_libvirtd");
		j = parse_json(res.out);
		steps = json_object_get(json_array_get(json_object_get(j, "fixes"), 0), "steps");
		json_array_foreach(steps, k, st) {
			if (!streq(json_string_value(json_object_get(st, "kind")), "command"))
				continue;
			commands++;
			assert_string_equal(json_string_value(json_array_get(json_object_get(st, "argv"), 0)),
					    "libvirtd");
			if (!streq(json_string_value(json_object_get(st, "result")), round == 0 ? "done" : "unchanged"))
				fail_msg("round %d: libvirtd --daemon %s: %s", round,
					 json_string_value(json_object_get(st, "result")),
					 json_string_value(json_object_get(st, "note")));
		}
		assert_int_equal(commands, 1);
		assert_int_equal(json_is_true(json_object_get(j, "mutated")), round == 0);
		json_decref(j);
		result_clear(&res);
		/* libvirtd --daemon returns before its socket is up. */
		for (int i = 0; i < 100 && !libvirtd_running(); i++)
			usleep(100000);
		assert_true(libvirtd_running());
	}
	RUN(&res, "--format", "json", "check", "libvirt.daemon");
	{
		json_t *j = parse_json(res.out);

		assert_string_not_equal(check_status(j, "libvirt.daemon"), "fail");
		json_decref(j);
	}
	result_clear(&res);
	unlink(journal);
	if (!was_running)
		assert_int_equal(libvirtd_stop(), 0);
	libvirt_unlock(lock);
}

/*
 * Two package fixes in one apply: the package lists are refreshed once, not once per fix.
 * The distro data's commands are swapped for harmless ones whose runs leave a trace
 * (mktemp makes one file per run), so this runs for real on any Debian host.
 */
static void test_refresh_once_per_apply(void **state)
{
	char dir[] = "/tmp/vd-refresh.XXXXXX", runs[300], ini[300], journal[300], cmd[1200];
	struct result res = { 0 };
	unsigned n = 0;
	DIR *d;
	struct dirent *e;
	json_t *j;

	(void)state;
	if (geteuid() != 0)
		SKIP_BECAUSE("fix --apply needs root");
	{
		char id[64] = "";
		FILE *f = fopen("/etc/os-release", "re");
		char line[256];

		while (f && fgets(line, sizeof(line), f))
			if (startswith(line, "ID="))
				sscanf(line + 3, "%63s", id);
		if (f)
			fclose(f);
		if (!streq(id, "debian"))
			SKIP_BECAUSE("the swapped-in data is debian.ini (this host is '%s')", id);
	}
	assert_non_null(mkdtemp(dir));
	sfmt(runs, "%s/runs", dir);
	assert_int_equal(mkdir(runs, 0700), 0);
	sfmt(ini, "%s/debian.ini", dir);
	sfmt(journal, "%s/journal.jsonl", dir);
	sfmt(cmd, "sed -e 's|^refresh = .*|refresh = /usr/bin/mktemp -p %s run.XXXXXX|' "
	     "-e 's|^install = .*|install = /bin/true|' -e 's|^query = .*|query = /bin/false|' "
	     "-e '/^env = /d' '%s/data/distros/debian.ini' > '%s'", runs, VD_SRCDIR, ini);
	assert_int_equal(system(cmd), 0);
	RUN(&res, "--format", "json", "fix", "--apply", "--yes", "--data-dir", dir, "--journal", journal,
	    "--only", "packages.install_qemu", "--only", "packages.install_libvirt");
	j = parse_json(res.out);
	assert_int_equal(json_array_size(json_object_get(j, "fixes")), 2);
	json_decref(j);
	d = opendir(runs);
	assert_non_null(d);
	while ((e = readdir(d)))
		n += startswith(e->d_name, "run.");
	closedir(d);
	if (n != 1)
		fail_msg("refresh ran %u times: %s", n, res.out);
	assert_non_null(strstr(res.out, "already ran in this apply"));
	result_clear(&res);
	sfmt(cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static bool host_is_debian(void);

/*
 * dpkg -s exits 0 for a package removed with its configuration files left ("rc"), so a
 * host whose dnsmasq-base was `apt-get remove`d was "already done" and kept no dnsmasq.
 * The query prints each package's status; one that is not "install ok installed" runs the
 * install. The query is swapped for echo (what it prints, then the package list).
 */
static void test_query_every_line(void **state)
{
	static const char *const said[] = { "deinstall ok config-files", "install ok installed" };
	char dir[] = "/tmp/vd-query.XXXXXX", runs[300], ini[300], journal[300], cmd[1200];
	struct result res = { 0 };

	(void)state;
	if (geteuid() != 0)
		SKIP_BECAUSE("fix --apply needs root");
	if (!host_is_debian())
		SKIP_BECAUSE("the swapped-in data is debian.ini");
	assert_non_null(mkdtemp(dir));
	sfmt(runs, "%s/runs", dir);
	assert_int_equal(mkdir(runs, 0700), 0);
	sfmt(ini, "%s/debian.ini", dir);
	for (unsigned i = 0; i < ARRAY_SIZE(said); i++) {
		unsigned n = 0;
		DIR *d;
		struct dirent *e;

		sfmt(journal, "%s/journal-%u.jsonl", dir, i);
		/* The install leaves run.N (and a file named after the package) in runs/. */
		sfmt(cmd, "sed -e 's|^install = .*|install = /usr/bin/env -C %s /usr/bin/touch run.%u|' "
		     "-e '/^refresh = /d' -e 's|^query = .*|query = /bin/echo %s|' "
		     "-e '/^env = /d' '%s/data/distros/debian.ini' > '%s'", runs, i, said[i], VD_SRCDIR, ini);
		assert_int_equal(system(cmd), 0);
		RUN(&res, "fix", "--apply", "--yes", "--data-dir", dir, "--journal", journal,
		    "--only", "packages.install_dnsmasq");
		d = opendir(runs);
		assert_non_null(d);
		while ((e = readdir(d)))
			n += startswith(e->d_name, "run.");
		closedir(d);
		/* The first query says "not installed": the install runs once, and only then. */
		if (n != 1)
			fail_msg("query '%s': the install ran %u times in all: %s\n%s", said[i], n, res.out, res.err);
		result_clear(&res);
	}
	sfmt(cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* A debian.ini whose package refresh sleeps SECONDS and whose installs do nothing. */
static void slow_refresh_data(char *dir, size_t size, const char *seconds)
{
	char ini[300], cmd[1200];

	snprintf(dir, size, "/tmp/vd-progress.XXXXXX");
	assert_non_null(mkdtemp(dir));
	sfmt(ini, "%s/debian.ini", dir);
	sfmt(cmd, "sed -e 's|^refresh = .*|refresh = /bin/sleep %s|' "
	     "-e 's|^install = .*|install = /bin/true|' -e 's|^query = .*|query = /bin/false|' "
	     "-e '/^env = /d' '%s/data/distros/debian.ini' > '%s'", seconds, VD_SRCDIR, ini);
	assert_int_equal(system(cmd), 0);
}

static bool host_is_debian(void)
{
	char id[64] = "", line[256];
	FILE *f = fopen("/etc/os-release", "re");

	while (f && fgets(line, sizeof(line), f))
		if (startswith(line, "ID="))
			sscanf(line + 3, "%63s", id);
	if (f)
		fclose(f);
	return streq(id, "debian");
}

/*
 * fix --apply says each step as it starts, not only at the end: without a terminal a
 * "running:" line before the step and a result line with its time after it, on stderr
 * (stdout keeps the report); on a terminal the running line is redrawn every second with
 * the time so far. The commands are /bin/sleep and /bin/true: nothing on the host changes.
 */
static void test_apply_progress(void **state)
{
	char dir[300], journal[400];
	struct result res = { 0 };
	const char *run, *done;

	(void)state;
	if (geteuid() != 0)
		SKIP_BECAUSE("fix --apply needs root");
	if (!host_is_debian())
		SKIP_BECAUSE("the swapped-in data is debian.ini");
	slow_refresh_data(dir, sizeof(dir), "1");
	sfmt(journal, "%s/journal.jsonl", dir);
	RUN(&res, "--format", "json", "fix", "--apply", "--yes", "--data-dir", dir, "--journal", journal,
	    "--only", "packages.install_qemu");
	run = strstr(res.err, "packages.install_qemu: running: /bin/sleep 1\n");
	done = strstr(res.err, "packages.install_qemu: done: /bin/sleep 1 (1.");
	if (!run || !done || done < run)
		fail_msg("no start line before the end line on stderr:\n%s", res.err);
	assert_null(strstr(res.out, "running:"));
	assert_null(strchr(res.err, '\r'));
	json_decref(parse_json(res.out));
	result_clear(&res);

	/* On a terminal: redrawn in place with the seconds so far. */
	{
		int master, st;
		size_t len = 0, cap = 65536;
		char *buf = malloc(cap);
		pid_t pid;

		assert_non_null(buf);
		remove_tree(dir);
		slow_refresh_data(dir, sizeof(dir), "2.5");
		sfmt(journal, "%s/journal.jsonl", dir);
		pid = forkpty(&master, NULL, NULL, NULL);
		assert_true(pid >= 0);
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

			setenv("NO_COLOR", "1", 1);
			dup2(null, 1);	/* the report; stderr stays on the terminal */
			execl(VD_BIN, VD_BIN, "fix", "--apply", "--yes", "--data-dir", dir, "--journal", journal,
			      "--only", "packages.install_qemu", (char *)NULL);
			_exit(127);
		}
		for (;;) {
			struct pollfd p = { .fd = master, .events = POLLIN };
			ssize_t n;

			if (poll(&p, 1, 30000) <= 0)
				break;
			n = read(master, buf + len, cap - len - 1);
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		buf[len] = '\0';
		close(master);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!strstr(buf, "\r\033[Kpackages.install_qemu: running: /bin/sleep 2.5 (0 s)") ||
		    !strstr(buf, "\r\033[Kpackages.install_qemu: running: /bin/sleep 2.5 (1 s)") ||
		    !strstr(buf, "\r\033[Kpackages.install_qemu: running: /bin/sleep 2.5 (2 s)") ||
		    !strstr(buf, "\r\033[Kpackages.install_qemu: done: /bin/sleep 2.5 (2."))
			fail_msg("no redrawn progress line on the terminal:\n%s", buf);
		free(buf);
	}
	remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_plans),
		cmocka_unit_test(test_apply_root_twice),
		cmocka_unit_test(test_apply_live_sandbox),
		cmocka_unit_test(test_apply_kvm_permissions_live),
		cmocka_unit_test(test_apply_root_symlink_stays_inside),
		cmocka_unit_test(test_refuse_without_root),
		cmocka_unit_test(test_refuse_without_tty),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_confirm_on_tty),
		cmocka_unit_test(test_malformed_data),
		cmocka_unit_test(test_unknown_distro),
		cmocka_unit_test(test_data_never_from_cwd),
		cmocka_unit_test(test_distro_select),
		cmocka_unit_test(test_planner_synthetic),
		cmocka_unit_test(test_kmod_fixture_tree),
		cmocka_unit_test(test_kmod_real_insert),
		cmocka_unit_test(test_write_file_atomic),
		cmocka_unit_test(test_json_schema),
		cmocka_unit_test(test_libvirt_default_network),
		cmocka_unit_test(test_leaked_lock_recovered),
		cmocka_unit_test(test_apply_progress),
		cmocka_unit_test(test_libvirtd_direct_start),
		cmocka_unit_test(test_refresh_once_per_apply),
		cmocka_unit_test(test_query_every_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
