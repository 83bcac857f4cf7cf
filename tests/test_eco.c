// SPDX-License-Identifier: GPL-2.0-or-later
/* The ecosystem: report kind/schema, the validator, Prometheus output, fleet, systemd, completion. */
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "harness.h"
#include "report/fleet.h"
#include "report/report.h"

#define PY "/usr/bin/python3"

static bool python_has(const char *module)
{
	struct result res = { 0 };
	char code[128];
	bool ok;

	if (access(PY, X_OK) != 0)
		return false;
	sfmt(code, "import %s", module);
	run_env(&res, NULL, (char *const[]){ (char *)PY, (char *)"-c", code, NULL });
	ok = res.status == 0;
	result_clear(&res);
	return ok;
}

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static char *tmpdir(const char *tag)
{
	char *d;

	assert_true(asprintf(&d, "/tmp/vd-eco-%s.XXXXXX", tag) > 0);
	assert_non_null(mkdtemp(d));
	return d;
}

static unsigned dir_entries(const char *dir)
{
	struct result res = { 0 };
	unsigned n = 0;

	run_env(&res, NULL, (char *const[]){ (char *)"/bin/ls", (char *)"-A", (char *)dir, NULL });
	for (char *p = res.out; *p; p++)
		n += *p == '\n';
	result_clear(&res);
	return n;
}

/* The report names its kind and when it was made; both are what fleet and validators key on. */
static void test_report_kind_and_time(void **state)
{
	json_t *j;
	int st;
	time_t t, now = time(NULL);

	(void)state;
	FIXTURE_OR_SKIP(j, "pvm", NULL, &st);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "report");
	assert_int_equal(fleet_parse_time(json_string_value(json_object_get(j, "generated_at")), &t), 0);
	assert_true(t <= now + 2 && t >= now - 120);
	assert_true(startswith(json_string_value(json_object_get(j, "schema_version")), "1."));
	json_decref(j);
}

/* The validator passes a real report and fails a broken one, naming file and path. */
static void test_validator_can_fail(void **state)
{
	struct result res = { 0 }, v = { 0 };
	char root[256], path[512];
	_cleanup_free_ char *dir = tmpdir("validate");
	const char *validator = VD_SRCDIR "/tests/validate-json.py";
	json_t *j;
	_cleanup_free_ char *broken = NULL;

	(void)state;
	if (!python_has("jsonschema"))
		SKIP_BECAUSE("python3-jsonschema is not installed");
	if (materialize("intel-vmx-kvm-intel", root, sizeof(root)) == -EPERM) {
		remove_tree(root);
		SKIP_BECAUSE("fixture needs root for its device nodes");
	}
	RUN(&res, "--root", root, "--format", "json", "check");
	remove_tree(root);
	sfmt(path, "%s/good.json", dir);
	write_file(path, res.out, strlen(res.out));
	run_env(&v, NULL, (char *const[]){ (char *)PY, (char *)validator, dir, NULL });
	assert_int_equal(v.status, 0);
	assert_non_null(strstr(v.out, "1 report"));
	result_clear(&v);

	/* A verdict the schema does not know, and a check without its status. */
	j = parse_json(res.out);
	json_object_set_new(j, "verdict", json_string("maybe"));
	json_object_del(json_array_get(json_object_get(j, "checks"), 0), "status");
	broken = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	sfmt(path, "%s/broken.json", dir);
	write_file(path, broken, strlen(broken));
	run_env(&v, NULL, (char *const[]){ (char *)PY, (char *)validator, dir, NULL });
	assert_int_equal(v.status, 1);
	assert_non_null(strstr(v.out, "broken.json: $.verdict"));
	assert_non_null(strstr(v.out, "broken.json: $.checks[0]"));
	assert_null(strstr(v.out, "good.json:"));
	result_clear(&v);

	/* A kind nobody publishes a schema for is an error, not a pass. */
	unlink(path);
	sfmt(path, "%s/odd.json", dir);
	write_file(path, "{\"kind\": \"surprise\"}", 20);
	run_env(&v, NULL, (char *const[]){ (char *)PY, (char *)validator, dir, NULL });
	assert_int_equal(v.status, 1);
	assert_non_null(strstr(v.out, "odd.json: unknown kind 'surprise'"));
	result_clear(&v);
	result_clear(&res);
	remove_tree(dir);
}

/* Parse FILE with the reference Prometheus parser; its normalised samples go to res->out. */
static void prom_parse(struct result *res, const char *file)
{
	run_env(res, NULL, (char *const[]){ (char *)PY, (char *)VD_SRCDIR "/tests/prom-parse.py",
					    (char *)file, NULL });
	if (res->status != 0)
		fail_msg("prometheus parser rejected %s: %s", file, res->err);
}

static unsigned count_lines_with(const char *text, const char *a, const char *b)
{
	unsigned n = 0;
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		_cleanup_free_ char *l = strndup(line, end ? (size_t)(end - line) : strlen(line));

		n += strstr(l, a) && (!b || strstr(l, b));
		line = end ? end + 1 : NULL;
	}
	return n;
}

/* Offline: one 1 per check in the status state set, the verdict matches JSON, no smoke series. */
static void test_prometheus_offline(void **state)
{
	struct result res = { 0 }, js = { 0 }, p = { 0 };
	char root[256], file[512], want[128];
	_cleanup_free_ char *dir = tmpdir("prom");
	json_t *j;
	long long ts;
	const char *ts_line;

	(void)state;
	if (!python_has("prometheus_client"))
		SKIP_BECAUSE("python3-prometheus-client is not installed");
	if (materialize("rhel9-intel", root, sizeof(root)) == -EPERM) {
		remove_tree(root);
		SKIP_BECAUSE("fixture needs root for its device nodes");
	}
	sfmt(file, "%s/virt_doctor.prom", dir);
	RUN(&res, "--root", root, "--format", "prometheus", "-o", file, "check");
	RUN(&js, "--root", root, "--format", "json", "check");
	remove_tree(root);
	j = parse_json(js.out);
	assert_int_equal(res.status, js.status);
	assert_string_equal(res.out, "");
	/* Atomic: the file and nothing else (no temporary left behind). */
	assert_int_equal(dir_entries(dir), 1);
	prom_parse(&p, file);
	assert_non_null(strstr(p.out, "TYPE virt_doctor_info gauge"));
	sfmt(want, "virt_doctor_info{schema_version=\"%s\",version=", REPORT_SCHEMA_VERSION);
	assert_non_null(strstr(p.out, want));
	sfmt(want, "virt_doctor_verdict{verdict=\"%s\"} 1\n",
	     json_string_value(json_object_get(j, "verdict")));
	assert_non_null(strstr(p.out, want));
	assert_int_equal(count_lines_with(p.out, "virt_doctor_verdict{", "} 1"), 1);
	/* Every check the report has, whatever they are: exactly one status is 1. */
	assert_int_equal(count_lines_with(p.out, "virt_doctor_check_status{", "} 1"),
			 json_array_size(json_object_get(j, "checks")));
	assert_int_equal(count_lines_with(p.out, "virt_doctor_check_status{", NULL),
			 4 * json_array_size(json_object_get(j, "checks")));
	assert_int_equal(count_lines_with(p.out, "virt_doctor_check_duration_seconds{", NULL),
			 json_array_size(json_object_get(j, "checks")));
	sfmt(want, "virt_doctor_check_status{check=\"kvm.device\",status=\"%s\"} 1",
	     check_status(j, "kvm.device"));
	assert_non_null(strstr(p.out, want));
	assert_null(strstr(p.out, "smoke_boot_success"));
	ts_line = strstr(p.out, "virt_doctor_last_run_timestamp_seconds{} ");
	assert_non_null(ts_line);
	ts = strtoll(ts_line + strlen("virt_doctor_last_run_timestamp_seconds{} "), NULL, 10);
	assert_true(ts > time(NULL) - 120 && ts <= time(NULL));
	json_decref(j);
	result_clear(&res);
	result_clear(&js);
	result_clear(&p);
	remove_tree(dir);
}

/* Live with the smoke boot: success and a duration per stage. */
static void test_prometheus_live_boot(void **state)
{
	struct result res = { 0 }, p = { 0 };
	_cleanup_free_ char *dir = tmpdir("promlive");
	char file[512];
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	(void)state;
	if (fd < 0)
		SKIP_BECAUSE("/dev/kvm cannot be opened here: no smoke boot");
	close(fd);
	if (!python_has("prometheus_client"))
		SKIP_BECAUSE("python3-prometheus-client is not installed");
	sfmt(file, "%s/live.prom", dir);
	RUN(&res, "--format", "prometheus", "--output", file);
	assert_true(res.status <= 2);
	prom_parse(&p, file);
	assert_non_null(strstr(p.out, "TYPE virt_doctor_smoke_boot_success gauge"));
	assert_non_null(strstr(p.out, "virt_doctor_smoke_boot_success{} 1\n"));
	assert_non_null(strstr(p.out, "virt_doctor_smoke_boot_stage_duration_seconds{stage=\"create_vm\"}"));
	assert_non_null(strstr(p.out, "virt_doctor_smoke_boot_stage_duration_seconds{stage=\"halt\"}"));
	result_clear(&res);
	result_clear(&p);
	remove_tree(dir);
}

/* Backslash, quote and newline escaped, and the reference parser reads the value back. */
static void test_prometheus_escaping(void **state)
{
	char *buf = NULL, path[512];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	_cleanup_free_ char *dir = tmpdir("promesc");
	struct result p = { 0 };

	(void)state;
	prom_label_value(f, "a\\b\"c\nd");
	fclose(f);
	assert_string_equal(buf, "\"a\\\\b\\\"c\\nd\"");
	if (python_has("prometheus_client")) {
		char text[256];

		sfmt(text, "# TYPE m gauge\nm{l=%s} 1\n", buf);
		sfmt(path, "%s/esc.prom", dir);
		write_file(path, text, strlen(text));
		prom_parse(&p, path);
		/* The parser unescaped it: the printed value has a real newline. */
		assert_non_null(strstr(p.out, "m{l=\"a\\b\"c\nd\"} 1"));
		result_clear(&p);
	} else
		printf("SKIP: python3-prometheus-client is not installed: parser round trip not run\n");
	free(buf);
	remove_tree(dir);
}

static json_t *load_file_json(const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);

	if (!j)
		fail_msg("%s: %s", path, e.text);
	return j;
}

/* 1,000 generated hosts and eight bad files: every count as the generator recorded it. */
static void test_fleet_generated(void **state)
{
	struct result gen = { 0 }, res = { 0 }, txt = { 0 }, csv = { 0 };
	_cleanup_free_ char *dir = tmpdir("fleet");
	char fleet[512], manifest[512];
	json_t *m, *j, *v, *checks, *c;
	const char *key;
	size_t i;
	unsigned lines = 0;

	(void)state;
	if (access(PY, X_OK) != 0)
		SKIP_BECAUSE("%s is missing: cannot generate the fleet", PY);
	sfmt(fleet, "%s/reports", dir);
	sfmt(manifest, "%s/manifest.json", dir);
	run_env(&gen, NULL, (char *const[]){ (char *)PY, (char *)VD_SRCDIR "/bench/gen-fleet.py",
					     (char *)"--bin", (char *)VD_BIN, (char *)"--fixtures",
					     (char *)VD_FIXTURES, (char *)"--out", fleet, (char *)"--count",
					     (char *)"1000", (char *)"--seed", (char *)"7", (char *)"--now",
					     (char *)"1764000000", (char *)"--bad", (char *)"--manifest",
					     manifest, NULL });
	if (gen.status != 0)
		fail_msg("gen-fleet failed: %s", gen.err);
	m = load_file_json(manifest);

	RUN(&res, "fleet", "--format", "json", "--now", "2025-11-24T16:00:00Z", fleet);
	j = parse_json(res.out);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "fleet");
	v = json_object_get(j, "totals");
	assert_int_equal(json_integer_value(json_object_get(v, "hosts")), 1000);
	assert_int_equal(json_integer_value(json_object_get(v, "files")),
			 1000 + json_object_size(json_object_get(m, "bad")));
	assert_int_equal(json_integer_value(json_object_get(v, "problems")),
			 json_object_size(json_object_get(m, "bad")));
	assert_int_equal(json_integer_value(json_object_get(v, "stale")),
			 json_integer_value(json_object_get(m, "stale")));
	assert_true(json_integer_value(json_object_get(m, "stale")) > 0);
	json_object_foreach(json_object_get(m, "verdicts"), key, c) {
		json_t *jv = json_object_get(json_object_get(j, "verdicts"), key);

		assert_int_equal(json_integer_value(json_object_get(jv, "count")), json_integer_value(c));
		assert_int_equal(json_array_size(json_object_get(jv, "hosts")), json_integer_value(c));
	}
	/* Per-check counts, and the names behind them are complete in JSON. */
	checks = json_object_get(j, "checks");
	json_array_foreach(checks, i, c) {
		const char *id = json_string_value(json_object_get(c, "id"));
		json_int_t f = json_integer_value(json_object_get(json_object_get(m, "fail"), id));
		json_int_t w = json_integer_value(json_object_get(json_object_get(m, "warn"), id));

		assert_int_equal(json_integer_value(json_object_get(c, "fail")), f);
		assert_int_equal(json_integer_value(json_object_get(c, "warn")), w);
		assert_int_equal(json_array_size(json_object_get(c, "fail_hosts")), f);
	}
	assert_int_equal(json_array_size(checks),
			 json_object_size(json_object_get(m, "fail")) >= json_object_size(json_object_get(m, "warn"))
			 ? json_object_size(json_object_get(m, "fail")) : json_object_size(json_object_get(m, "warn")));
	/* Every bad file named, with its reason. */
	json_object_foreach(json_object_get(m, "bad"), key, v) {
		json_t *p;
		bool found = false;

		json_array_foreach(json_object_get(j, "problems"), i, p)
			if (strstr(json_string_value(json_object_get(p, "file")), key)) {
				found = true;
				if (!strstr(json_string_value(json_object_get(p, "reason")), json_string_value(v)))
					fail_msg("%s: reason '%s' lacks '%s'", key,
						 json_string_value(json_object_get(p, "reason")), json_string_value(v));
			}
		if (!found)
			fail_msg("bad file %s not named in problems", key);
	}
	assert_int_equal(res.status, 2);

	RUN(&txt, "fleet", "--now", "@1764000000", fleet);
	assert_int_equal(txt.status, 2);
	assert_non_null(strstr(txt.out, "Fleet: 1008 report files, 1000 hosts merged, 8 unreadable or rejected"));
	json_object_foreach(json_object_get(m, "bad"), key, v)
		assert_non_null(strstr(txt.out, key));
	assert_non_null(strstr(txt.out, "Distributions ("));
	assert_non_null(strstr(txt.out, "(+"));	/* long name lists are cut in text */
	printf("fleet: %.*s\n", (int)strcspn(txt.out, "\n"), txt.out);

	RUN(&csv, "fleet", "--format", "csv", "--now", "@1764000000", fleet);
	for (char *p = csv.out; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 1 + 1008);
	assert_true(startswith(csv.out, "host,verdict,failing_checks,warning_checks,distro,kernel,cpu,report_file,problem\r\n"));

	json_decref(m);
	json_decref(j);
	result_clear(&gen);
	result_clear(&res);
	result_clear(&txt);
	result_clear(&csv);
	remove_tree(dir);
}

static void put_report(const char *dir, const char *name, json_t *j)
{
	char path[512];

	sfmt(path, "%s/%s", dir, name);
	assert_int_equal(json_dump_file(j, path, 0), 0);
}

/* Hostile and odd inputs: escapes, huge names, FIFOs, duplicates, old schema; none stops the merge. */
static void test_fleet_hostile(void **state)
{
	struct result res = { 0 }, txt = { 0 };
	_cleanup_free_ char *dir = tmpdir("hostile");
	char root[256], path[512], big[10000];
	json_t *base, *j, *p;
	size_t i;
	bool superseded = false, fifo = false;

	(void)state;
	if (materialize("pvm", root, sizeof(root)) == -EPERM) {
		remove_tree(root);
		SKIP_BECAUSE("fixture needs root for its device nodes");
	}
	RUN(&res, "--root", root, "--format", "json", "check");
	remove_tree(root);
	base = parse_json(res.out);
	result_clear(&res);

	j = json_deep_copy(base);
	json_object_set_new(json_object_get(j, "host"), "hostname", json_string("evil\x1b[31mred\n"));
	put_report(dir, "evil.json", j);
	json_decref(j);

	j = json_deep_copy(base);
	json_object_set_new(json_object_get(j, "host"), "hostname", json_string("=HYPERLINK(\"x\")"));
	put_report(dir, "formula.json", j);
	json_decref(j);

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	j = json_deep_copy(base);
	json_object_set_new(json_object_get(j, "host"), "hostname", json_string(big));
	put_report(dir, "big.json", j);
	json_decref(j);

	/* Same host twice: the newer report wins, the older is named as superseded. */
	j = json_deep_copy(base);
	json_object_set_new(json_object_get(j, "host"), "hostname", json_string("twice"));
	json_object_set_new(j, "generated_at", json_string("2020-01-01T00:00:00Z"));
	put_report(dir, "twice-old.json", j);
	json_object_set_new(j, "generated_at", json_string("2025-06-01T00:00:00+01:00"));
	put_report(dir, "twice-new.json", j);
	json_decref(j);

	/* A schema 1.0 report: no kind, no generated_at. Merged, and stale for want of a time. */
	j = json_deep_copy(base);
	json_object_del(j, "kind");
	json_object_del(j, "generated_at");
	json_object_set_new(j, "schema_version", json_string("1.0.0"));
	json_object_set_new(json_object_get(j, "host"), "hostname", json_string("old-schema"));
	put_report(dir, "old.json", j);
	json_decref(j);

	sfmt(path, "%s/fifo.json", dir);
	assert_int_equal(mkfifo(path, 0644), 0);
	sfmt(path, "%s/subdir.json", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	sfmt(path, "%s/notes.txt", dir);
	write_file(path, "not a report", 12);
	sfmt(path, "%s/.hidden.json", dir);
	write_file(path, "{", 1);

	RUN(&res, "fleet", "--format", "json", dir);
	j = parse_json(res.out);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "totals"), "files")), 7);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "totals"), "hosts")), 5);
	json_array_foreach(json_object_get(j, "problems"), i, p) {
		const char *f = json_string_value(json_object_get(p, "file"));
		const char *r = json_string_value(json_object_get(p, "reason"));

		if (strstr(f, "twice-old.json") && strstr(r, "superseded by") && strstr(r, "twice-new.json"))
			superseded = true;
		if (strstr(f, "fifo.json") && streq(r, "not a regular file"))
			fifo = true;
	}
	assert_true(superseded);
	assert_true(fifo);
	json_array_foreach(json_object_get(j, "hosts"), i, p) {
		const char *h = json_string_value(json_object_get(p, "host"));

		assert_true(strlen(h) <= FLEET_STRING_MAX);
		if (streq(h, "old-schema")) {
			assert_true(json_is_true(json_object_get(p, "stale")));
			assert_true(json_is_null(json_object_get(p, "generated_at")));
		}
	}
	RUN(&txt, "fleet", "-v", dir);
	assert_null(strchr(txt.out, '\x1b'));
	assert_non_null(strstr(txt.out, "evil\\x1b[31mred\\x0a"));
	assert_non_null(strstr(txt.out, "no generated_at"));
	assert_null(strstr(txt.out, big));	/* cut in text */
	assert_null(strstr(txt.out, "notes.txt"));
	assert_null(strstr(txt.out, "hidden"));
	result_clear(&txt);
	/* CSV: a value that looks like a formula is kept as text for spreadsheets (pvm: not ready,
	 * /dev/kvm 0600 with libvirt installed). */
	RUN(&txt, "fleet", "--format", "csv", dir);
	assert_non_null(strstr(txt.out, "\r\n\"'=HYPERLINK(\"\"x\"\")\",not-ready,"));
	json_decref(j);
	json_decref(base);
	result_clear(&res);
	result_clear(&txt);
	remove_tree(dir);
}

/* A minimal report for host `name`, dated `when`, with `n` copies of one failing check. */
static void small_report(const char *dir, const char *file, const char *name, const char *when,
			 unsigned n)
{
	json_t *checks = json_array(), *j;

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(checks, json_pack("{s:s, s:s}", "id", "kvm.device", "status", "fail"));
	j = json_pack("{s:s, s:s, s:s, s:{s:s}, s:s, s:o}", "kind", "report", "schema_version", "1.1.0",
		      "generated_at", when, "host", "hostname", name, "verdict", "not-ready", "checks", checks);
	put_report(dir, file, j);
	json_decref(j);
}

static const char *problem_of(json_t *fleet, const char *file)
{
	size_t i;
	json_t *p;

	json_array_foreach(json_object_get(fleet, "problems"), i, p)
		if (strstr(json_string_value(json_object_get(p, "file")), file))
			return json_string_value(json_object_get(p, "reason"));
	return NULL;
}

static json_int_t total(json_t *fleet, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(fleet, "totals"), key));
}

/*
 * Issue 12 item 9: a check listed five times is not five hosts; a report from the future
 * neither supersedes the real one nor stays fresh for ever; one file named twice is one report;
 * a *.json device node is never opened; --now cannot wrap; deep nesting cannot crash the
 * main thread whatever `ulimit -s` says.
 */
static void test_fleet_hostile_counts(void **state)
{
	struct result res = { 0 };
	_cleanup_free_ char *dir = tmpdir("counts");
	char path[512], other[512], now_arg[64], cmd[1024];
	const char *why;
	json_t *j, *c;
	size_t i;
	time_t t;

	(void)state;
	small_report(dir, "five.json", "five", "2026-11-30T00:00:00Z", 5);
	small_report(dir, "b-real.json", "b", "2026-11-30T00:00:00Z", 1);
	small_report(dir, "b-forged.json", "b", "9999-12-31T00:00:00Z", 1);
	small_report(dir, "skewed.json", "skewed", "2026-12-01T11:00:00Z", 1);	/* 1 h ahead: a clock */
	small_report(dir, "c.json", "c", "2026-11-30T00:00:00Z", 1);
	sfmt(path, "%s/c.json", dir);
	sfmt(other, "%s/c-hardlink.json", dir);
	assert_int_equal(link(path, other), 0);
	sfmt(now_arg, "2026-12-01T10:00:00Z");

	/* The directory, and c.json named again (with a doubled slash): still one report. */
	sfmt(path, "%s//c.json", dir);
	RUN(&res, "fleet", "--now", now_arg, "--format", "json", dir, path);
	j = parse_json(res.out);
	why = problem_of(j, "five.json");
	assert_non_null(why);
	assert_non_null(strstr(why, "\"kvm.device\" is listed more than once"));
	why = problem_of(j, "b-forged.json");
	assert_non_null(why);
	assert_non_null(strstr(why, "9999-12-31T00:00:00Z is in the future"));
	assert_null(problem_of(j, "b-real.json"));	/* not superseded by the forged one */
	assert_null(problem_of(j, "skewed.json"));	/* within a day: accepted */
	assert_null(problem_of(j, "c.json"));		/* not "superseded by" itself */
	assert_null(problem_of(j, "c-hardlink.json"));
	assert_int_equal(total(j, "files"), 5);		/* c.json, its hard link and //c.json: one file */
	assert_int_equal(total(j, "hosts"), 3);		/* b, c, skewed */
	assert_int_equal(total(j, "problems"), 2);
	c = NULL;
	json_array_foreach(json_object_get(j, "checks"), i, c)
		if (streq(json_string_value(json_object_get(c, "id")), "kvm.device"))
			break;
	assert_non_null(c);
	assert_int_equal(json_integer_value(json_object_get(c, "fail")), 3);
	assert_int_equal(json_array_size(json_object_get(c, "fail_hosts")), 3);
	json_decref(j);
	result_clear(&res);

	/* --now beyond what a report can be dated: refused, not wrapped to 1970. */
	RUN(&res, "fleet", "--now", "@9223372036854775807", dir);
	assert_int_equal(res.status, 3);
	assert_string_equal(res.out, "");
	assert_non_null(strstr(res.err, "--now: '@9223372036854775807' is not"));
	result_clear(&res);
	assert_int_equal(fleet_parse_time("@9223372036854775807", &t), -EINVAL);
	assert_int_equal(fleet_parse_time("@-1", &t), -EINVAL);
	assert_int_equal(fleet_parse_time("@253402300799", &t), 0);
	assert_int_equal(fleet_parse_time("@253402300800", &t), -EINVAL);
	assert_int_equal(fleet_parse_time("9999-12-31T23:59:59Z", &t), 0);
	assert_int_equal(t, 253402300799LL);
	assert_int_equal(fleet_parse_time("1969-12-31T23:59:59Z", &t), -EINVAL);

	/* Deep nesting, the parse on a main thread left 128 KiB of stack: merged, no crash. */
	{
		_cleanup_free_ char *deep = malloc(2 * 2000 + 200);
		size_t n = 0;

		n += (size_t)sprintf(deep, "{\"kind\":\"report\",\"schema_version\":\"1.1.0\","
				     "\"verdict\":\"ready\",\"checks\":[],\"x\":");
		memset(deep + n, '[', 2000);
		memset(deep + n + 2000, ']', 2000);
		n += 4000;
		deep[n++] = '}';
		sfmt(path, "%s/deep/deep.json", dir);
		sfmt(other, "%s/deep", dir);
		assert_int_equal(mkdir(other, 0755), 0);
		write_file(path, deep, n);
		sfmt(cmd, "ulimit -s 128 && exec %s fleet %s", VD_BIN, path);
		run_env(&res, NULL, (char *const[]){ (char *)"/bin/sh", (char *)"-c", cmd, NULL });
		assert_int_equal(res.status, 1);	/* merged; stale for want of generated_at */
		assert_non_null(strstr(res.out, "1 hosts merged"));
		result_clear(&res);
	}

	/* A device node named *.json: refused without being opened (inotify sees every open). */
	if (geteuid() != 0) {
		remove_tree(dir);
		SKIP_BECAUSE("mknod of a *.json device node needs root");
	}
	{
		char buf[4096];
		int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		ssize_t n;

		sfmt(path, "%s/dev/null.json", dir);
		sfmt(other, "%s/dev", dir);
		assert_int_equal(mkdir(other, 0755), 0);
		assert_int_equal(mknod(path, S_IFCHR | 0644, makedev(1, 3)), 0);
		assert_true(in >= 0);
		assert_true(inotify_add_watch(in, path, IN_OPEN) >= 0);
		RUN(&res, "fleet", other);
		assert_int_equal(res.status, 3);
		assert_non_null(strstr(res.out, "null.json: not a regular file"));
		n = read(in, buf, sizeof(buf));
		if (n > 0)
			fail_msg("fleet opened a *.json device node (%zd bytes of IN_OPEN events)", n);
		close(in);
		result_clear(&res);
	}
	remove_tree(dir);
}

/* 300 copies of a real report with a few bytes changed: every file is merged or named, no crash. */
static void test_fleet_mutations(void **state)
{
	struct result res = { 0 }, txt = { 0 };
	_cleanup_free_ char *dir = tmpdir("mutate");
	char root[256], path[512];
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	size_t len;
	json_t *j, *t;
	unsigned merged, rejected;

	(void)state;
	if (materialize("nested-guest", root, sizeof(root)) == -EPERM) {
		remove_tree(root);
		SKIP_BECAUSE("fixture needs root for its device nodes");
	}
	RUN(&res, "--root", root, "--format", "json", "check");
	remove_tree(root);
	len = strlen(res.out);
	for (unsigned i = 0; i < 300; i++) {
		_cleanup_free_ char *copy = strdup(res.out);

		for (unsigned k = 0; k < 1 + i % 3; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			copy[(seed >> 33) % len] = (char)(seed >> 13);
		}
		sfmt(path, "%s/m%03u.json", dir, i);
		write_file(path, copy, len);
	}
	RUN(&txt, "fleet", "--format", "json", dir);
	assert_true(txt.status <= 3 && txt.status != 3);
	j = parse_json(txt.out);
	t = json_object_get(j, "totals");
	merged = (unsigned)json_integer_value(json_object_get(t, "hosts"));
	rejected = (unsigned)json_integer_value(json_object_get(t, "problems"));
	assert_int_equal(json_integer_value(json_object_get(t, "files")), 300);
	assert_int_equal(merged + rejected, 300);
	assert_int_equal(json_array_size(json_object_get(j, "problems")), rejected);
	/* Flipped bytes land in strings as often as in syntax: both outcomes must occur. */
	assert_true(merged > 0 && rejected > 0);
	json_decref(j);
	result_clear(&res);
	result_clear(&txt);
	remove_tree(dir);
}

static void test_fleet_usage(void **state)
{
	struct result res = { 0 };
	_cleanup_free_ char *dir = tmpdir("usage");
	char path[512];
	int64_t d;
	time_t t;

	(void)state;
	RUN(&res, "fleet");
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "needs report files"));
	result_clear(&res);
	RUN(&res, "fleet", "--stale-after", "soon", dir);
	assert_int_equal(res.status, 3);
	result_clear(&res);
	RUN(&res, "fleet", "--format", "prometheus", dir);
	assert_int_equal(res.status, 3);
	result_clear(&res);
	RUN(&res, "--format", "csv", "check", "--no-boot");
	assert_int_equal(res.status, 3);
	result_clear(&res);
	/* Nothing readable: exit 3, and the bad file is still named. */
	sfmt(path, "%s/only.json", dir);
	write_file(path, "[]", 2);
	RUN(&res, "fleet", dir, "/nonexistent/x.json");
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.out, "only.json: not a JSON object"));
	assert_non_null(strstr(res.out, "/nonexistent/x.json: cannot open: No such file or directory"));
	result_clear(&res);

	assert_int_equal(fleet_parse_duration("7d", &d), 0);
	assert_int_equal(d, 7 * 86400);
	assert_int_equal(fleet_parse_duration("90", &d), 0);
	assert_int_equal(d, 90);
	assert_int_equal(fleet_parse_duration("2w", &d), 0);
	assert_int_equal(d, 14 * 86400);
	assert_int_equal(fleet_parse_duration("-1d", &d), -EINVAL);
	assert_int_equal(fleet_parse_duration("1dd", &d), -EINVAL);
	assert_int_equal(fleet_parse_duration("", &d), -EINVAL);
	assert_int_equal(fleet_parse_time("2025-11-24T16:00:00Z", &t), 0);
	assert_int_equal(t, 1764000000);
	assert_int_equal(fleet_parse_time("2025-11-24T17:00:00.123+01:00", &t), 0);
	assert_int_equal(t, 1764000000);
	assert_int_equal(fleet_parse_time("@1764000000", &t), 0);
	assert_int_equal(t, 1764000000);
	assert_int_equal(fleet_parse_time("2025-11-24 16:00:00", &t), -EINVAL);
	assert_int_equal(fleet_parse_time("2025-11-24T16:00:00", &t), -EINVAL);
	remove_tree(dir);
}

/* The units as `make install` writes them verify cleanly, and their command line really works. */
static void test_systemd_units(void **state)
{
	struct result res = { 0 }, p = { 0 };
	_cleanup_free_ char *dir = tmpdir("systemd");
	char cmd[2048], bindir[512], unit[600], timer[600], prom[600];
	const char *slash = strrchr(VD_BIN, '/');

	(void)state;
	if (access("/usr/bin/systemd-analyze", X_OK) != 0 && access("/bin/systemd-analyze", X_OK) != 0)
		SKIP_BECAUSE("systemd-analyze is not installed");
	sfmt(bindir, "%.*s", (int)(slash - VD_BIN), VD_BIN);
	/* The same substitution as the Makefile's install target, with a scratch textfile dir. */
	sfmt(cmd, "sed -e 's|@BINDIR@|%s|g' -e 's|@TEXTFILE_DIR@|%s|g' %s/contrib/systemd/virt-doctor.service"
	     " > %s/virt-doctor.service && cp %s/contrib/systemd/virt-doctor.timer %s/",
	     bindir, dir, VD_SRCDIR, dir, VD_SRCDIR, dir);
	assert_int_equal(system(cmd), 0);
	sfmt(unit, "%s/virt-doctor.service", dir);
	sfmt(timer, "%s/virt-doctor.timer", dir);
	run_env(&res, NULL, (char *const[]){ (char *)"systemd-analyze", (char *)"verify", (char *)"--man=no",
					     unit, timer, NULL });
	if (res.status != 0 || res.err[0])
		fail_msg("systemd-analyze verify: status %d: %s", res.status, res.err);
	result_clear(&res);

	/* ExecStart as written, run here: it must produce the textfile. */
	{
		FILE *f = fopen(unit, "re");
		char line[1024], *argv[16], *save = NULL;
		unsigned n = 0;

		assert_non_null(f);
		while (fgets(line, sizeof(line), f) && !startswith(line, "ExecStart="))
			;
		fclose(f);
		assert_true(startswith(line, "ExecStart="));
		for (char *w = strtok_r(line + strlen("ExecStart="), " \n", &save); w && n < 15;
		     w = strtok_r(NULL, " \n", &save))
			argv[n++] = w;
		argv[n] = NULL;
		assert_string_equal(argv[0], VD_BIN);
		run_env(&res, NULL, argv);
		assert_true(res.status <= 2);
	}
	sfmt(prom, "%s/virt_doctor.prom", dir);
	assert_int_equal(access(prom, R_OK), 0);
	if (python_has("prometheus_client")) {
		prom_parse(&p, prom);
		assert_non_null(strstr(p.out, "virt_doctor_info{"));
		result_clear(&p);
	}
	result_clear(&res);
	remove_tree(dir);
}

/* Completion of a command, an option, a check id (from `list`) and an option's value. */
static void test_bash_completion(void **state)
{
	struct result res = { 0 };
	char script[2048];

	(void)state;
	if (access("/bin/bash", X_OK) != 0)
		SKIP_BECAUSE("bash is not installed");
	sfmt(script,
	     "set -e; source '%s/contrib/bash-completion/virt-doctor'\n"
	     "t() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _virt_doctor;"
	     " echo \"${COMPREPLY[*]}\"; }\n"
	     "complete -p virt-doctor\n"
	     "t '%s' fl\n"
	     "t '%s' fleet --stale\n"
	     "t '%s' --format json check kvm.de\n"
	     "t '%s' --format pro\n"
	     "t '%s' boot --pay\n"
	     "t '%s' --format = js\n"
	     "t '%s' --format = json exp\n"
	     "t '%s' --root '%s/contrib/system'\n"
	     "t '%s' fix --only libvirt.st\n"
	     "t '%s' check --de\n"
	     "t '%s' -q --no-b\n",
	     VD_SRCDIR, VD_BIN, VD_BIN, VD_BIN, VD_BIN, VD_BIN, VD_BIN, VD_BIN, VD_BIN, VD_SRCDIR,
	     VD_BIN, VD_BIN, VD_BIN);
	run_env(&res, NULL, (char *const[]){ (char *)"/bin/bash", (char *)"--norc", (char *)"-c", script, NULL });
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "complete -F _virt_doctor virt-doctor\n"
				     "fleet\n"
				     "--stale-after\n"
				     "kvm.device\n"
				     "prometheus\n"
				     "--payload\n"
				     "json\n"
				     "explain\n"
				     VD_SRCDIR "/contrib/systemd\n"
				     "libvirt.start_default_network\n"
				     "--deep\n"
				     "--no-boot\n");
	result_clear(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_kind_and_time),
		cmocka_unit_test(test_validator_can_fail),
		cmocka_unit_test(test_prometheus_offline),
		cmocka_unit_test(test_prometheus_live_boot),
		cmocka_unit_test(test_prometheus_escaping),
		cmocka_unit_test(test_fleet_generated),
		cmocka_unit_test(test_fleet_hostile),
		cmocka_unit_test(test_fleet_hostile_counts),
		cmocka_unit_test(test_fleet_mutations),
		cmocka_unit_test(test_fleet_usage),
		cmocka_unit_test(test_systemd_units),
		cmocka_unit_test(test_bash_completion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
