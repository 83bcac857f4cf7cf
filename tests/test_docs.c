/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The manual page and the unit file against the program: check order, entries, lint, devices. */
#include <sys/stat.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_man_check_order),
		cmocka_unit_test(test_man_environment_entries),
		cmocka_unit_test(test_man_lint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
