// SPDX-License-Identifier: GPL-2.0-or-later
/* fix --apply killed mid-way (SIGKILL at every step, and between a temp file and its rename):
 * no half-written file, a journal that lists exactly what completed, the next run says so, and
 * re-applying finishes then changes nothing. Plus the journal reader on damaged journals. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "fixes/distro.h"
#include "fixes/journal.h"
#include "report/fleet.h"

static char *const alice_env[] = { (char *)"SUDO_UID=1000", (char *)"SUDO_GID=1000", NULL };

/* Fixes with file-level steps (and live ones, listed not run under --root), in plan order. */
static const char *const ids[] = { "modules.load_kvm", "modules.enable_nested", "modules.load_tun",
	"modules.load_vhost_net", "udev.kvm_permissions", "sysctl.enable_ip_forward" };

/* A file the root already has, so "old or new" means something for one target. */
#define OLD_PATH "/etc/modules-load.d/kvm.conf"
#define OLD_TEXT "# an older kvm.conf, there before the fix\nkvm\n"

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Run fix on root with the ids above; extra args (NULL-terminated) go after "fix". */
static void run_fix(struct result *res, const char *root, char *const env[], const char *const *extra)
{
	char *argv[48];
	unsigned n = 0;

	argv[n++] = (char *)VD_BIN;
	argv[n++] = (char *)"--root";
	argv[n++] = (char *)root;
	argv[n++] = (char *)"--format";
	argv[n++] = (char *)"json";
	argv[n++] = (char *)"fix";
	for (; extra && *extra; extra++)
		argv[n++] = (char *)*extra;
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		argv[n++] = (char *)"--only";
		argv[n++] = (char *)ids[i];
	}
	argv[n] = NULL;
	run_env(res, env, argv);
}

static const char *const apply_args[] = { "--apply", "--yes", NULL };

/* The non-human steps of a plan, in the order the executor journals them. */
struct planned {
	char fix[64];
	unsigned step;
	char path[256];		/* write steps: target */
	char *content;		/* write steps: what the file ends up as */
};

static unsigned plan_steps(const char *root, struct planned *out, unsigned max, unsigned *writes)
{
	struct result res = { 0 };
	json_t *j, *f, *s;
	size_t i, k;
	unsigned n = 0;

	run_fix(&res, root, alice_env, NULL);
	assert_int_equal(res.status, 1);
	j = parse_json(res.out);
	assert_non_null(j);
	*writes = 0;
	json_array_foreach(json_object_get(j, "fixes"), i, f) {
		json_array_foreach(json_object_get(f, "steps"), k, s) {
			const char *kind = json_string_value(json_object_get(s, "kind"));

			if (streq(kind, "human"))
				continue;
			assert_true(n < max);
			memset(&out[n], 0, sizeof(out[n]));
			scopy(out[n].fix, json_string_value(json_object_get(f, "id")));
			out[n].step = (unsigned)k + 1;
			if (streq(kind, "write")) {
				scopy(out[n].path, json_string_value(json_object_get(s, "path")));
				out[n].content = strdup(json_string_value(json_object_get(s, "content")));
				++*writes;
			}
			n++;
		}
	}
	json_decref(j);
	result_clear(&res);
	return n;
}

static void planned_free(struct planned *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(p[i].content);
}

/* No ".NAME.vd-*" temp file in any target directory. Returns how many there are. */
static unsigned count_temps(const char *root, const struct planned *p, unsigned n)
{
	unsigned found = 0;

	for (unsigned i = 0; i < n; i++) {
		char dir[512];
		DIR *d;
		struct dirent *de;

		if (!p[i].path[0])
			continue;
		sfmt(dir, "%s%.*s", root, (int)(strrchr(p[i].path, '/') - p[i].path), p[i].path);
		d = opendir(dir);
		if (!d)
			continue;	/* not created yet: nothing in it */
		while ((de = readdir(d)))
			if (strstr(de->d_name, ".vd-") && startswith(de->d_name, "."))
				found++;
		closedir(d);
	}
	return found;	/* directories shared by several targets are counted once per target */
}

/* Every target is new (done[i]) or old: the fixture's content or absent. Never anything else. */
static void assert_targets(const char *root, const struct planned *p, unsigned n, const bool *done)
{
	for (unsigned i = 0; i < n; i++) {
		char path[512];
		char *text;

		if (!p[i].path[0])
			continue;
		sfmt(path, "%s%s", root, p[i].path);
		text = slurp(path);
		if (done[i]) {
			if (!text || !streq(text, p[i].content))
				fail_msg("%s: step %s/%u completed but the file is %s", p[i].path, p[i].fix, p[i].step,
					 text ? "different" : "absent");
		} else if (streq(p[i].path, OLD_PATH)) {
			if (!text || !streq(text, OLD_TEXT))
				fail_msg("%s: not yet replaced, but not the old content either", p[i].path);
		} else if (text) {
			fail_msg("%s: step %s/%u did not complete, yet the file exists:\n%s", p[i].path, p[i].fix,
				 p[i].step, text);
		}
		free(text);
	}
}

/* The journal's lines, parsed by the reader under test; every line must parse. */
static unsigned journal_lines(const char *root, struct journal_line *out, unsigned max)
{
	char path[512];
	char *text, *p;
	unsigned n = 0;

	sfmt(path, "%s/var/log/virt-doctor/journal.jsonl", root);
	text = slurp(path);
	assert_non_null(text);
	for (p = text; *p;) {
		char *nl = strchr(p, '\n'), err[128];
		json_t *j;

		assert_non_null(nl);	/* every line complete, even after a SIGKILL */
		assert_true(n < max);
		if (journal_parse_line(p, (size_t)(nl - p), &out[n], err, sizeof(err)) < 0)
			fail_msg("journal line %u: %s", n + 1, err);
		/* Through parse_json too, so make check-json validates it against the schema. */
		*nl = '\0';
		j = parse_json(p);
		json_decref(j);
		n++;
		p = nl + 1;
	}
	free(text);
	return n;
}

/* After a kill right after k journaled steps: exactly those steps are in the journal. */
static void assert_journal_after_kill(const char *root, const struct planned *p, unsigned k)
{
	struct journal_line l[64];
	unsigned n = journal_lines(root, l, ARRAY_SIZE(l));

	assert_int_equal(n, 1 + k);
	assert_int_equal(l[0].event, JOURNAL_APPLY_START);
	for (unsigned i = 0; i < k; i++) {
		assert_int_equal(l[1 + i].event, JOURNAL_STEP);
		assert_string_equal(l[1 + i].run, l[0].run);
		assert_string_equal(l[1 + i].fix, p[i].fix);
		assert_int_equal(l[1 + i].step, p[i].step);
	}
}

/* The next run (a plan) reports the interruption in JSON and text. */
static void assert_reported(const char *root, const struct planned *p, unsigned k)
{
	struct result res = { 0 };
	json_t *j, *prev;
	const char *plain[] = { "--format", "text", NULL };
	char want[160];

	run_fix(&res, root, alice_env, NULL);
	j = parse_json(res.out);
	prev = json_object_get(j, "previous_apply");
	assert_true(json_is_true(json_object_get(prev, "interrupted")));
	assert_int_equal(json_integer_value(json_object_get(prev, "completed_steps")), k);
	if (k) {
		json_t *last = json_object_get(prev, "last_step");

		assert_string_equal(json_string_value(json_object_get(last, "fix")), p[k - 1].fix);
		assert_int_equal(json_integer_value(json_object_get(last, "step")), p[k - 1].step);
		sfmt(want, "was interrupted after step %u of %s:", p[k - 1].step, p[k - 1].fix);
	} else {
		assert_true(json_is_null(json_object_get(prev, "last_step")));
		sfmt(want, "was interrupted before its first step");
	}
	json_decref(j);
	result_clear(&res);
	run_fix(&res, root, alice_env, plain);
	if (!strstr(res.out, want))
		fail_msg("the text plan does not say \"%s\":\n%s", want, res.out);
	result_clear(&res);
}

/* Re-apply finishes (and still mentions the interruption), a second changes nothing, and the
 * journal then says the last apply ended. */
static void assert_reapply(const char *root, const struct planned *p, unsigned n)
{
	bool all[64];

	for (int round = 0; round < 2; round++) {
		struct result res = { 0 };
		json_t *j, *f, *s;
		size_t i, k;

		run_fix(&res, root, alice_env, apply_args);
		assert_true(res.status == 0 || res.status == 1);	/* live steps stay pending */
		j = parse_json(res.out);
		assert_non_null(j);
		assert_int_equal(json_is_true(json_object_get(json_object_get(j, "previous_apply"), "interrupted")),
				 round == 0);
		if (round == 1) {
			assert_false(json_is_true(json_object_get(j, "mutated")));
			json_array_foreach(json_object_get(j, "fixes"), i, f)
				json_array_foreach(json_object_get(f, "steps"), k, s) {
					const char *r = json_string_value(json_object_get(s, "result"));

					assert_true(streq(r, "unchanged") || streq(r, "not-run"));
				}
		}
		json_decref(j);
		result_clear(&res);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(all); i++)
		all[i] = true;
	assert_targets(root, p, n, all);
	assert_int_equal(count_temps(root, p, n), 0);
	{
		struct result res = { 0 };
		json_t *j, *prev;

		run_fix(&res, root, alice_env, NULL);
		j = parse_json(res.out);
		prev = json_object_get(j, "previous_apply");
		assert_true(json_is_true(json_object_get(prev, "found")));
		assert_false(json_is_true(json_object_get(prev, "interrupted")));
		assert_string_equal(json_string_value(json_object_get(prev, "outcome")), "completed");
		assert_null(strstr(res.out, "was interrupted"));
		json_decref(j);
		result_clear(&res);
	}
}

static void fresh_root(char *dir, size_t size)
{
	char path[512];

	if (materialize("fix-debian", dir, size) == -EPERM) {
		remove_tree(dir);
		SKIP_BECAUSE("fix-debian needs root to create its device nodes");
	}
	sfmt(path, "%s/etc/modules-load.d", dir);
	mkdir(path, 0755);
	sfmt(path, "%s%s", dir, OLD_PATH);
	put_file(path, OLD_TEXT);
}

/* SIGKILL right after the k-th journaled step, for every k the plan has. */
static void test_killed_after_each_step(void **state)
{
	struct planned p[64];
	unsigned n, writes;
	char dir[256];

	(void)state;
	fresh_root(dir, sizeof(dir));
	n = plan_steps(dir, p, ARRAY_SIZE(p), &writes);
	remove_tree(dir);
	assert_true(n >= 8 && writes >= 5);
	for (unsigned k = 1; k < n; k++) {
		struct result res = { 0 };
		char kill_env[64];
		char *env[] = { (char *)"SUDO_UID=1000", (char *)"SUDO_GID=1000", kill_env, NULL };
		bool done[64] = { 0 };

		fresh_root(dir, sizeof(dir));
		sfmt(kill_env, "VIRT_DOCTOR_TEST_KILL_AFTER_STEPS=%u", k);
		run_fix(&res, dir, env, apply_args);
		assert_int_equal(res.status, 128 + SIGKILL);
		result_clear(&res);
		for (unsigned i = 0; i < k; i++)
			done[i] = true;
		assert_targets(dir, p, n, done);
		assert_int_equal(count_temps(dir, p, n), 0);
		assert_journal_after_kill(dir, p, k);
		assert_reported(dir, p, k);
		assert_reapply(dir, p, n);
		remove_tree(dir);
	}
	print_message("killed after each of %u steps (%u file writes): no half file, journal exact\n", n - 1,
		      writes);
	planned_free(p, n);
}

/* SIGKILL inside the w-th write: its temp file is complete and fsync'd, the rename not done. */
static void test_killed_before_rename(void **state)
{
	struct planned p[64];
	unsigned n, writes;
	char dir[256];

	(void)state;
	fresh_root(dir, sizeof(dir));
	n = plan_steps(dir, p, ARRAY_SIZE(p), &writes);
	remove_tree(dir);
	for (unsigned w = 1; w <= writes; w++) {
		struct result res = { 0 };
		char kill_env[64];
		char *env[] = { (char *)"SUDO_UID=1000", (char *)"SUDO_GID=1000", kill_env, NULL };
		bool done[64] = { 0 };
		unsigned k = 0, seen = 0;

		/* The step that does the w-th write; every step before it completed. */
		for (k = 0; k < n; k++)
			if (p[k].path[0] && ++seen == w)
				break;
		assert_true(k < n);
		fresh_root(dir, sizeof(dir));
		sfmt(kill_env, "VIRT_DOCTOR_TEST_KILL_BEFORE_RENAME=%u", w);
		run_fix(&res, dir, env, apply_args);
		assert_int_equal(res.status, 128 + SIGKILL);
		result_clear(&res);
		for (unsigned i = 0; i < k; i++)
			done[i] = true;
		/* The interrupted write's target is old or absent, never partial ... */
		assert_targets(dir, p, n, done);
		/* ... and the kill hit where it should: the temp is there, beside it. */
		assert_int_equal(count_temps(dir, p, n) > 0, true);
		assert_journal_after_kill(dir, p, k);
		assert_reported(dir, p, k);
		/* Re-applying removes the dead writer's temp and finishes. */
		assert_reapply(dir, p, n);
		remove_tree(dir);
	}
	print_message("killed before the rename of each of %u writes: target old or absent\n", writes);
	planned_free(p, n);
}

/* ---- the reader on its own ---- */

#define START(run) "{\"kind\":\"fix-journal\",\"event\":\"apply-start\",\"run\":\"" run "\"," \
	"\"time\":\"2026-11-26T04:00:00.000Z\",\"pid\":1,\"argv\":[\"vd\"],\"fixes\":[],\"offline_root\":true}\n"
#define STEP(run, fix, n) "{\"kind\":\"fix-journal\",\"event\":\"step\",\"run\":\"" run "\"," \
	"\"time\":\"2026-11-26T04:00:01.000Z\",\"fix\":\"" fix "\",\"step\":" #n ",\"action\":\"write\"," \
	"\"file\":\"/etc/x.conf\",\"result\":\"done\",\"errno\":0,\"offline_root\":true}\n"
#define END(run) "{\"kind\":\"fix-journal\",\"event\":\"apply-end\",\"run\":\"" run "\"," \
	"\"time\":\"2026-11-26T04:00:02.000Z\",\"outcome\":\"completed\",\"steps\":1,\"failed_steps\":0," \
	"\"mutated\":true}\n"
#define LEGACY "{\"kind\":\"fix-journal\",\"time\":\"2026-11-26T03:35:35.638Z\",\"fix\":\"modules.load_kvm\"," \
	"\"step\":3,\"action\":\"write\",\"file\":\"/etc/modules-load.d/kvm.conf\",\"result\":\"done\"," \
	"\"errno\":0,\"offline_root\":true}\n"

static void scan(const char *text, struct journal_state *st)
{
	journal_scan(text, strlen(text), false, st);
}

static void test_reader(void **state)
{
	struct journal_state st;
	struct journal_line l;
	char err[128];
	char *big;

	(void)state;
	/* A finished run, after an older legacy line. */
	scan(LEGACY START("a") STEP("a", "x.y", 1) END("a"), &st);
	assert_true(st.found && st.ended);
	assert_int_equal(st.steps, 1);
	assert_int_equal(st.malformed, 0);
	assert_string_equal(st.outcome, "completed");
	/* The last run counts; another run's interleaved steps do not. */
	scan(START("a") STEP("a", "x.y", 1) END("a") START("b") STEP("b", "x.y", 1) STEP("c", "z.w", 4)
	     STEP("b", "x.y", 2), &st);
	assert_true(st.found && !st.ended);
	assert_string_equal(st.run, "b");
	assert_int_equal(st.steps, 2);
	assert_int_equal(st.last.step, 2);
	assert_string_equal(st.last.target, "/etc/x.conf");
	/* A line cut short by a kill (no newline), garbage and a wrong kind: skipped, counted. */
	scan(START("a") STEP("a", "x.y", 1) "not json\n{\"kind\":\"report\"}\n[1,2]\n"
	     "{\"kind\":\"fix-journal\",\"event\":\"step\",\"run\":\"a\"", &st);
	assert_int_equal(st.steps, 1);
	assert_int_equal(st.malformed, 4);
	assert_int_equal(st.first_bad_line, 3);
	assert_non_null(strstr(st.first_error, "not JSON"));
	assert_false(st.ended);
	/* Nothing but legacy lines: no run found. */
	scan(LEGACY LEGACY, &st);
	assert_false(st.found);
	assert_int_equal(st.malformed, 0);
	/* Starting mid-file drops the first fragment. */
	journal_scan("\"step\":1}\n" START("q"), strlen("\"step\":1}\n" START("q")), true, &st);
	assert_true(st.found && st.tail_only);
	assert_int_equal(st.malformed, 0);

	/* Single lines: each failure says what. */
	assert_int_equal(journal_parse_line(STEP("r", "a.b", 7), strlen(STEP("r", "a.b", 7)) - 1, &l, err,
					    sizeof(err)), 0);
	assert_int_equal(l.event, JOURNAL_STEP);
	assert_int_equal(l.step, 7);
	static const struct { const char *line, *err; } bad[] = {
		{ "{\"kind\":\"fix-journal\",\"event\":\"reboot\",\"run\":\"a\",\"time\":\"t\"}", "unknown event" },
		{ "{\"kind\":\"fix-journal\",\"event\":\"apply-end\",\"time\":\"t\"}", "\"run\" is missing" },
		{ "{\"kind\":\"fix-journal\",\"event\":\"apply-end\",\"run\":\"a\",\"time\":\"t\"}",
		  "\"outcome\" is missing" },
		{ "{\"kind\":\"fix-journal\",\"event\":\"step\",\"run\":\"a\",\"time\":\"t\",\"fix\":\"f\","
		  "\"action\":\"write\",\"result\":\"done\",\"step\":0}", "\"step\" is not an integer" },
		{ "{\"kind\":\"fix-journal\",\"event\":\"step\",\"time\":\"t\",\"run\":7}", "\"run\" is not a string" },
		{ "{\"kind\":\"fix-journal\",\"kind\":\"fix-journal\"}", "not JSON" },
		{ "{\"kind\":\"fix-journal\",\"event\":\"apply-start\",\"run\":\"a\\u0000b\",\"time\":\"t\"}",
		  "not JSON" },	/* jansson refuses NUL in strings */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(journal_parse_line(bad[i].line, strlen(bad[i].line), &l, err, sizeof(err)), -EBADMSG);
		if (!strstr(err, bad[i].err))
			fail_msg("line %zu: error \"%s\", expected \"%s\"", i, err, bad[i].err);
	}
	/* Over the line limit: refused before parsing. */
	big = malloc(JOURNAL_LINE_MAX + 2);
	memset(big, ' ', JOURNAL_LINE_MAX + 1);
	big[JOURNAL_LINE_MAX + 1] = '\0';
	assert_int_equal(journal_parse_line(big, JOURNAL_LINE_MAX + 1, &l, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "longer than"));
	free(big);
}

/* A 3 MiB journal: only the last 1 MiB is read, and the run at its end is found. */
static void test_reader_tail(void **state)
{
	char path[] = "/tmp/vd-journal-tail.XXXXXX";
	int fd = mkstemp(path);
	const char *tmpl = "/tmp/vd-journal-tail.XXXXXX";
	FILE *f;
	struct journal_state st;
	unsigned long long i;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	for (i = 0; i < 3ull * 1024 * 1024 / strlen(LEGACY); i++)
		fputs(LEGACY, f);
	fputs(START("tail") STEP("tail", "a.b", 1), f);
	fflush(f);
	assert_int_equal(journal_read_fd(fd, &st), 0);
	fclose(f);
	unlink(path);
	assert_true(st.tail_only);
	assert_true(st.found && !st.ended);
	assert_string_equal(st.run, "tail");
	assert_int_equal(st.steps, 1);
	assert_int_equal(st.malformed, 0);	/* the cut first line is dropped, not counted */
	assert_true(st.lines < JOURNAL_TAIL_MAX / strlen(LEGACY) + 4);

	/* The tail starting exactly on a line: that first line is whole and read (here the
	 * apply-start, followed by blank lines up to the end). */
	strcpy(path, tmpl);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	for (i = 0; i < 100; i++)
		fputs(LEGACY, f);
	fputs(START("edge"), f);
	for (i = strlen(START("edge")); i < JOURNAL_TAIL_MAX; i++)
		fputc('\n', f);
	fflush(f);
	assert_int_equal(journal_read_fd(fd, &st), 0);
	fclose(f);
	unlink(path);
	assert_true(st.tail_only);
	assert_true(st.found && !st.ended);
	assert_string_equal(st.run, "edge");
	assert_int_equal(st.malformed, 0);
}

/* A damaged journal in a root: `fix` warns with the line and still plans. */
static void test_damaged_journal_reported(void **state)
{
	char dir[256], path[512];
	struct result res = { 0 };
	const char *plain[] = { "--format", "text", NULL };

	(void)state;
	fresh_root(dir, sizeof(dir));
	sfmt(path, "%s/var", dir);
	mkdir(path, 0755);
	sfmt(path, "%s/var/log", dir);
	mkdir(path, 0755);
	sfmt(path, "%s/var/log/virt-doctor", dir);
	mkdir(path, 0755);
	sfmt(path, "%s/var/log/virt-doctor/journal.jsonl", dir);
	put_file(path, START("old") "\x1b]0;pwned\x07garbage\n" STEP("old", "a.b", 2));
	run_fix(&res, dir, alice_env, plain);
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.out, "was interrupted after step 2 of a.b"));
	assert_non_null(strstr(res.out, "1 malformed line skipped (line 2"));
	assert_null(strchr(res.out, '\x1b'));	/* nothing from the file reaches the terminal raw */
	result_clear(&res);
	remove_tree(dir);
}

/* Strings that reach a terminal from distro data and fleet reports: no escape sequences. */
static void test_hostile_strings(void **state)
{
	static const char *const values[] = { "qemu\x1b]0;pwned\x07", "qemu\xc2\x9b" "31m", "\xff\xfe", "a\rb" };
	/* After the seeds' generated_at (2026-11-26): a report more than a day ahead is refused. */
	struct fleet_options o = { .now = 1796000000, .stale_after = 86400, .threads = 1 };
	struct fleet *f = NULL;
	char *buf = NULL, *text, path[512];
	size_t len = 0;
	FILE *out;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		struct distro d;
		char ini[256], err[512];

		sfmt(ini, "[distro]\nname = X\nids = x\n[packages]\nqemu_img = %s\n", values[i]);
		assert_int_equal(distro_parse("x.ini", ini, &d, err, sizeof(err)), -EBADMSG);
		if (!strstr(err, "x.ini:5: value of 'qemu_img' in [packages] has a control character or is not UTF-8"))
			fail_msg("value %zu: %s", i, err);
	}
	/* A fleet report whose host name carries C1 CSI (U+009B) and OSC: printed as \xNN. */
	sfmt(path, "%s/regressions/fleet/edge-c1-and-long-hostname.json", VD_SRCDIR "/fuzz");
	text = slurp(path);
	assert_non_null(text);
	assert_int_equal(fleet_load_buffer(&f, "/x/c1.json", text, strlen(text), &o), 0);
	out = open_memstream(&buf, &len);
	assert_int_equal(fleet_render(out, f, FLEET_TEXT), 0);
	fclose(out);
	assert_null(strstr(buf, "\xc2\x9b"));
	assert_null(strchr(buf, '\x1b'));
	assert_non_null(strstr(buf, "evil\\xc2\\x9b31m\\x1b]0;x\\x07"));
	free(buf);
	fleet_free(f);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_reader_tail),
		cmocka_unit_test(test_damaged_journal_reported),
		cmocka_unit_test(test_hostile_strings),
		cmocka_unit_test(test_killed_after_each_step),
		cmocka_unit_test(test_killed_before_rename),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
