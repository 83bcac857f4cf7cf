// SPDX-License-Identifier: GPL-2.0-or-later
/* Shared test harness: run the built binary, materialize fixture roots, read its JSON. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "harness.h"

void result_clear(struct result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

char *read_all(int fd)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	assert_non_null(buf);
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 4096) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	buf[len] = '\0';
	return buf;
}

char *slurp(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *s;

	if (fd < 0)
		return NULL;
	s = read_all(fd);
	close(fd);
	return s;
}

/*
 * The probe cache of every doctor a test runs: one directory per test binary, removed at
 * exit, so fake emulators in temporary directories leave no entries in /var/cache and no
 * test sees another's. A test that wants the real default passes VIRT_DOCTOR_CACHE_DIR=.
 */
static char test_cache_dir[64];
static pid_t test_cache_owner;

static void remove_test_cache(void)
{
	if (test_cache_dir[0] && getpid() == test_cache_owner)	/* not from a forked child */
		remove_tree(test_cache_dir);
}

const char *harness_cache_dir(void)
{
	if (!test_cache_dir[0]) {
		test_cache_owner = getpid();
		sfmt(test_cache_dir, "/tmp/vd-test-cache.%d", (int)test_cache_owner);
		atexit(remove_test_cache);
	}
	return test_cache_dir;
}

/* Run argv (NULL-terminated) with extra environment entries; capture both streams. */
void run_env(struct result *res, char *const env_add[], char *const argv[])
{
	const char *cache = harness_cache_dir();

	char outp[] = "/tmp/vd-e2e-out.XXXXXX", errp[] = "/tmp/vd-e2e-err.XXXXXX";
	int out = mkstemp(outp), err = mkstemp(errp), st;
	pid_t pid;

	assert_true(out >= 0 && err >= 0);
	unlink(outp);
	unlink(errp);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(out, 1);
		dup2(err, 2);
		setenv("NO_COLOR", "1", 1);
		unsetenv("SUDO_UID");
		unsetenv("SUDO_GID");
		setenv("VIRT_DOCTOR_CACHE_DIR", cache, 1);
		for (unsigned i = 0; env_add && env_add[i]; i++)
			putenv(env_add[i]);
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


/*
 * A scratch copy of a fixture root with its device nodes made for real. Returns 0, or
 * -EPERM when nodes are needed and we may not mknod (not root): the caller skips.
 */
int materialize(const char *name, char *dir, size_t size)
{
	char src[512], cmd[1200], nodes[600];
	FILE *f;
	char line[256];

	snprintf(dir, size, "/tmp/vd-root-%s.XXXXXX", name);
	assert_non_null(mkdtemp(dir));
	sfmt(src, "%s/roots/%s", VD_FIXTURES, name);
	sfmt(cmd, "cp -a '%s/.' '%s/'", src, dir);
	assert_int_equal(system(cmd), 0);
	sfmt(nodes, "%s/nodes", dir);
	f = fopen(nodes, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char path[256], type, full[800];
		unsigned maj, min, mode, uid, gid;

		if (line[0] == '#' || sscanf(line, "%255s %c %u %u %o %u %u", path, &type, &maj, &min,
					     &mode, &uid, &gid) != 7)
			continue;
		sfmt(full, "%s%s", dir, path);
		sfmt(cmd, "mkdir -p \"$(dirname '%s')\"", full);
		assert_int_equal(system(cmd), 0);
		if (mknod(full, (type == 'b' ? S_IFBLK : S_IFCHR) | mode, makedev(maj, min)) < 0) {
			fclose(f);
			return -errno;
		}
		assert_int_equal(chown(full, uid, gid), 0);
		assert_int_equal(chmod(full, mode), 0);
	}
	fclose(f);
	return 0;
}

bool fixture_copy(const char *name, char *dir, size_t size)
{
	int r = materialize(name, dir, size);

	if (r == -EPERM) {
		remove_tree(dir);
		return false;
	}
	assert_int_equal(r, 0);
	return true;
}

void remove_tree(const char *dir)
{
	char cmd[600];

	sfmt(cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/*
 * With VD_JSON_DUMP_DIR set (make check-json), every JSON the suite parsed is kept there so
 * tests/validate-json.py can check it against the published schemas.
 */
static void dump_json(const char *text)
{
	static unsigned seq;
	const char *dir = getenv("VD_JSON_DUMP_DIR");
	char path[512];
	size_t len = strlen(text);
	int fd;

	if (!dir || !*dir)
		return;
	sfmt(path, "%s/%d-%u.json", dir, (int)getpid(), seq++);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_msg("VD_JSON_DUMP_DIR: cannot create %s: %s", path, strerror(errno));
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

json_t *parse_json(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (!j)
		fail_msg("output is not JSON (%s): %.200s", e.text, text);
	dump_json(text);
	return j;
}

json_t *find_check(json_t *report, const char *id)
{
	json_t *checks = json_object_get(report, "checks"), *c;
	size_t i;

	json_array_foreach(checks, i, c)
		if (streq(json_string_value(json_object_get(c, "id")), id))
			return c;
	fail_msg("check %s not in report", id);
	return NULL;
}

const char *check_status(json_t *report, const char *id)
{
	return json_string_value(json_object_get(find_check(report, id), "status"));
}

json_t *detail(json_t *report, const char *id, const char *key)
{
	return json_object_get(json_object_get(find_check(report, id), "details"), key);
}

bool has_fix(json_t *report, const char *id, const char *fix)
{
	json_t *fixes = json_object_get(find_check(report, id), "fixes"), *f;
	size_t i;

	json_array_foreach(fixes, i, f)
		if (streq(json_string_value(f), fix))
			return true;
	return false;
}

bool list_has(json_t *array, const char *item)
{
	json_t *v;
	size_t i;

	json_array_foreach(array, i, v)
		if (streq(json_string_value(v), item))
			return true;
	return false;
}

/* Run the doctor on a fixture root as JSON; the report is returned, the exit code stored. */
json_t *fixture_report(const char *name, char *const env[], int *status)
{
	char dir[256];
	struct result res = { 0 };
	json_t *j;
	int r = materialize(name, dir, sizeof(dir));

	if (r == -EPERM) {
		remove_tree(dir);
		return NULL;
	}
	assert_int_equal(r, 0);
	RUN_ENV(&res, env, "--root", dir, "--format", "json", "check");
	j = parse_json(res.out);
	*status = res.status;
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")), res.status);
	assert_false(json_boolean_value(json_object_get(j, "mutated")));
	/* Live probes are off under --root. */
	assert_string_equal(check_status(j, "kvm.api"), "skip");
	assert_string_equal(json_string_value(json_object_get(find_check(j, "kvm.api"), "summary")),
			    "offline root");
	result_clear(&res);
	remove_tree(dir);
	return j;
}

bool host_changes_allowed(void)
{
	const char *v = getenv("VD_CHECK_HOST");

	return v && streq(v, "1");
}
