/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The manual page and the unit file against the program: check order, entries, lint, devices. */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define MAN VD_SRCDIR "/man/virt-doctor.8"
#define UNIT VD_SRCDIR "/contrib/systemd/virt-doctor.service"

/* Lines of text, split in place. */
static size_t split_lines(char *text, char **lines, size_t max)
{
	size_t n = 0;

	for (char *p = text, *nl; *p && n < max; p = nl + 1) {
		lines[n++] = p;
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
	}
	return n;
}

static size_t section(char **lines, size_t n, const char *name, size_t *end)
{
	char want[64];
	size_t i, j;

	sfmt(want, ".SH %s", name);
	for (i = 0; i < n && !streq(lines[i], want); i++)
		;
	assert_true(i < n);
	for (j = i + 1; j < n && !startswith(lines[j], ".SH "); j++)
		;
	*end = j;
	return i + 1;
}

/* The CHECKS section has one .TP entry per check, in the order `list` prints them. */
static void test_man_check_order(void **state)
{
	static char *lines[4096];
	char *man = slurp(MAN), *list, *save = NULL;
	struct result res = { 0 };
	size_t n, a, b, k = 0;
	const char *ids[64];

	(void)state;
	assert_non_null(man);
	n = split_lines(man, lines, ARRAY_SIZE(lines));
	a = section(lines, n, "CHECKS", &b);
	for (size_t i = a; i + 1 < b; i++) {
		if (!streq(lines[i], ".TP") || !startswith(lines[i + 1], ".B ") || !strchr(lines[i + 1], '.'))
			continue;
		assert_true(k < ARRAY_SIZE(ids));
		ids[k++] = lines[i + 1] + 3;
	}
	/* A check named at the start of a line after a finished sentence is an entry without .TP. */
	for (size_t i = a + 1; i < b; i++) {
		size_t len = strlen(lines[i - 1]);

		if (startswith(lines[i], ".B ") && strchr(lines[i] + 3, '.') && !strchr(lines[i] + 3, ' ') &&
		    len && lines[i - 1][len - 1] == '.' && !streq(lines[i - 1], ".TP"))
			fail_msg("man page line %zu: '%s' starts an entry without .TP", i + 1, lines[i]);
	}
	RUN(&res, "list");
	assert_int_equal(res.status, 0);
	list = res.out;
	for (size_t i = 0;; i++) {
		char *line = strtok_r(i ? NULL : list, "\n", &save);
		char *sp;

		if (!line) {
			assert_int_equal(i, k);
			break;
		}
		sp = strchr(line, ' ');
		if (sp)
			*sp = '\0';
		if (i >= k)
			fail_msg("`list` has %s, the man page's CHECKS section ends after %zu entries", line, k);
		if (!streq(line, ids[i]))
			fail_msg("check %zu: `list` says %s, the man page %s", i + 1, line, ids[i]);
	}
	result_clear(&res);
	free(man);
}

/* Every environment variable in ENVIRONMENT is a .TP entry of its own. */
static void test_man_environment_entries(void **state)
{
	static char *lines[4096];
	char *man = slurp(MAN);
	size_t n, a, b, entries = 0;

	(void)state;
	assert_non_null(man);
	n = split_lines(man, lines, ARRAY_SIZE(lines));
	a = section(lines, n, "ENVIRONMENT", &b);
	for (size_t i = a; i < b; i++) {
		const char *w = lines[i] + 3;
		size_t len = i ? strlen(lines[i - 1]) : 0;

		if (!startswith(lines[i], ".B ") || strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != strlen(w))
			continue;
		if (streq(lines[i - 1], ".TP"))
			entries++;
		else if (len && lines[i - 1][len - 1] == '.')
			fail_msg("man page line %zu: '%s' starts an entry without .TP", i + 1, lines[i]);
	}
	assert_true(entries >= 5);
	free(man);
}

/* groff's and mandoc's own warnings; the statements that were no longer true stay gone. */
static void test_man_lint(void **state)
{
	struct result res = { 0 };
	char *man = slurp(MAN);

	(void)state;
	assert_non_null(man);
	assert_null(strstr(man, "writes nothing except the\nreport"));
	assert_null(strstr(man, "in this version),"));
	assert_null(strstr(man, "this version only reports them"));
	free(man);
	if (access("/usr/bin/groff", X_OK) == 0) {
		run_env(&res, NULL, (char *const[]){ (char *)"/usr/bin/groff", (char *)"-man", (char *)"-ww",
			(char *)"-z", (char *)MAN, NULL });
		assert_int_equal(res.status, 0);
		if (res.err[0])
			fail_msg("groff: %s", res.err);
		result_clear(&res);
	} else {
		printf("SKIP: groff is not installed: groff warnings not checked\n");
	}
	if (access("/usr/bin/mandoc", X_OK) != 0)
		SKIP_BECAUSE("mandoc is not installed (scripts/install-deps.sh --test): mandoc -T lint not run");
	run_env(&res, NULL, (char *const[]){ (char *)"/usr/bin/mandoc", (char *)"-T", (char *)"lint",
		(char *)"-W", (char *)"warning", (char *)MAN, NULL });
	if (res.status != 0 || res.out[0] || res.err[0])
		fail_msg("mandoc -T lint: %s%s", res.out, res.err);
	result_clear(&res);
}

/*
 * The systemd unit's DeviceAllow against what the doctor opens: run it under strace in a
 * private mount namespace whose /dev is a tmpfs holding the nodes the checks look for (so
 * /dev/vhost-net exists even where this kernel has none, and the host's /dev is not
 * touched), and require a DeviceAllow with the right mode for every device node the doctor
 * itself opens. Programs it runs (QEMU's --version) are not the doctor: their opens count
 * only until they exec. DevicePolicy=closed always allows the pseudo devices below.
 */
static const char *const implicit_devices[] = {
	"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx",
};

static const struct { const char *path; unsigned major, minor; } dev_nodes[] = {
	{ "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/urandom", 1, 9 },
	{ "/dev/kvm", 10, 232 }, { "/dev/net/tun", 10, 200 }, { "/dev/vhost-net", 10, 238 },
};

/* /sys/class/misc again on a tmpfs, each entry's dev copied, and vhost-net registered. */
static void misc_class_with_vhost(void)
{
	char names[128][64], devs[128][16], path[320];
	size_t n = 0;
	DIR *d = opendir("/sys/class/misc");
	struct dirent *e;

	if (!d)
		_exit(81);
	while ((e = readdir(d)) && n < ARRAY_SIZE(names) - 1) {
		FILE *f;

		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(names[0]))
			continue;
		sfmt(path, "/sys/class/misc/%s/dev", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(devs[n], sizeof(devs[n]), f) && !streq(e->d_name, "vhost-net"))
			scopy(names[n++], e->d_name);
		fclose(f);
	}
	closedir(d);
	scopy(names[n], "vhost-net");
	scopy(devs[n++], "10:238\n");
	if (mount("tmpfs", "/sys/class/misc", "tmpfs", 0, "mode=0755") < 0)
		_exit(82);
	for (size_t i = 0; i < n; i++) {
		FILE *f;

		sfmt(path, "/sys/class/misc/%.63s", names[i]);
		if (mkdir(path, 0755) < 0)
			_exit(83);
		sfmt(path, "/sys/class/misc/%.63s/dev", names[i]);
		f = fopen(path, "we");
		if (!f || fputs(devs[i], f) < 0 || fclose(f) != 0)
			_exit(84);
	}
}

static void traced_doctor(const char *trace)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (devnull < 0 || unshare(CLONE_NEWNS) < 0)
		_exit(77);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=0755") < 0 || mkdir("/dev/net", 0755) < 0)
		_exit(78);
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++)
		if (mknod(dev_nodes[i].path, S_IFCHR | 0666, makedev(dev_nodes[i].major, dev_nodes[i].minor)) < 0)
			_exit(79);
	/* The checks open a node only when its driver is registered: say vhost-net is. */
	misc_class_with_vhost();
	dup2(devnull, 1);
	dup2(devnull, 2);
	execl("/usr/bin/strace", "strace", "-f", "-qq", "-e", "trace=open,openat,openat2,execve", "-o", trace,
	      VD_BIN, "--format", "json", (char *)NULL);
	_exit(80);
}

/* The mode the unit allows PATH (the letters of its DeviceAllow), or NULL. */
static const char *unit_allows(char **unit, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = unit[i] + strlen("DeviceAllow=");
		size_t len = strlen(path);

		if (startswith(unit[i], "DeviceAllow=") && !strncmp(v, path, len) && v[len] == ' ')
			return v + len + 1;
	}
	return NULL;
}

static void test_unit_device_allow(void **state)
{
	static char *trace_lines[200000], *unit_lines[512];
	static pid_t foreign[4096];
	char trace[] = "/tmp/vd-devtrace.XXXXXX", *text, *unit;
	size_t n, un, nforeign = 0, seen = 0;
	pid_t pid, first = 0;
	int st, fd;

	(void)state;
	if (geteuid() != 0 || access("/usr/bin/strace", X_OK) != 0)
		SKIP_BECAUSE("needs root (a private /dev) and strace (scripts/install-deps.sh --test)");
	fd = mkstemp(trace);
	assert_true(fd >= 0);
	close(fd);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		traced_doctor(trace);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
		unlink(trace);
		SKIP_BECAUSE("unshare(CLONE_NEWNS) is not permitted here");
	}
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) <= 3);
	text = slurp(trace);
	unit = slurp(UNIT);
	assert_non_null(text);
	assert_non_null(unit);
	n = split_lines(text, trace_lines, ARRAY_SIZE(trace_lines));
	un = split_lines(unit, unit_lines, ARRAY_SIZE(unit_lines));
	for (size_t i = 0; i < n; i++) {
		char *line = trace_lines[i], *q, *end, path[256];
		pid_t p = (pid_t)strtol(line, &q, 10);
		bool is_foreign = false;
		const char *need, *allowed;

		for (size_t k = 0; k < nforeign; k++)
			is_foreign |= foreign[k] == p;
		while (*q == ' ')
			q++;
		if (startswith(q, "execve(")) {
			if (!first)
				first = p;	/* strace starting the doctor itself */
			else if (!is_foreign && nforeign < ARRAY_SIZE(foreign) && !strstr(q, "= -1 "))
				foreign[nforeign++] = p;
			continue;
		}
		if (is_foreign || !(q = strchr(q, '"')) || !(end = strchr(q + 1, '"')))
			continue;
		snprintf(path, sizeof(path), "%s%.*s", q[1] == '/' ? "" : "/", (int)(end - q - 1), q + 1);
		if (!startswith(path, "/dev/") || strstr(end, "O_PATH") || strstr(end, "O_DIRECTORY"))
			continue;
		if (startswith(path, "/dev/pts/"))
			continue;
		{
			bool implicit = false;

			for (size_t k = 0; k < ARRAY_SIZE(implicit_devices); k++)
				implicit |= streq(path, implicit_devices[k]);
			if (implicit)
				continue;
		}
		need = strstr(end, "O_RDWR") ? "rw" : strstr(end, "O_WRONLY") ? "w" : "r";
		allowed = unit_allows(unit_lines, un, path);
		if (!allowed)
			fail_msg("the doctor opens %s (%s) but the unit has no DeviceAllow=%s", path, need, path);
		for (const char *c = need; *c; c++)
			if (!strchr(allowed, *c))
				fail_msg("the doctor opens %s %s, the unit allows only '%s'", path, need, allowed);
		seen |= streq(path, "/dev/kvm") << 0 | streq(path, "/dev/net/tun") << 1 |
			streq(path, "/dev/vhost-net") << 2;
	}
	/* The three nodes the checks and the boot open must have been seen, or this proved nothing. */
	if (seen != 7)
		fail_msg("strace saw only %s%s%s", seen & 1 ? "/dev/kvm " : "", seen & 2 ? "/dev/net/tun " : "",
			 seen & 4 ? "/dev/vhost-net" : "");
	printf("DeviceAllow covers every device node the doctor opens (%zu programs it ran not counted)\n",
	       nforeign);
	free(text);
	free(unit);
	unlink(trace);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_man_check_order),
		cmocka_unit_test(test_man_environment_entries),
		cmocka_unit_test(test_man_lint),
		cmocka_unit_test(test_unit_device_allow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
