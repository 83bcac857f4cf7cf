// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the pure parsers (cpuinfo over the real corpus, os-release, passwd/group) and the verdict. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "checks/accounts.h"
#include "checks/check.h"
#include "checks/cpuinfo.h"
#include "checks/osrelease.h"
#include "util.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, len = 0, n;

	if (!f)
		return NULL;
	do {
		char *nb = realloc(buf, cap + 65536 + 1);

		assert_non_null(nb);
		buf = nb;
		cap += 65536;
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* Every real cpuinfo in the corpus parses and gets the verdict EXPECTED records. */
static void test_cpuinfo_corpus(void **state)
{
	_cleanup_free_ char *table = slurp(VD_FIXTURES "/proc/cpuinfo/EXPECTED");
	unsigned checked = 0;
	char *save = NULL;

	(void)state;
	assert_non_null(table);
	for (char *line = strtok_r(table, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char file[128], arch[32], ext[16], hyp[8], vendor[64], path[512];
		_cleanup_free_ char *text = NULL;
		struct cpuinfo ci;

		if (line[0] == '#' || sscanf(line, "%127s %31s %15s %7s %63s", file, arch, ext, hyp,
					     vendor) != 5)
			continue;
		sfmt(path, "%s/proc/cpuinfo/%s", VD_FIXTURES, file);
		text = slurp(path);
		assert_non_null(text);
		if (cpuinfo_parse(text, &ci) != 0)
			fail_msg("%s: did not parse", file);
		if (!streq(ci.arch, arch))
			fail_msg("%s: arch %s, expected %s", file, ci.arch, arch);
		if (!streq(cpu_extension_name(ci.extension), ext))
			fail_msg("%s: extension %s, expected %s", file, cpu_extension_name(ci.extension), ext);
		if (ci.hypervisor != streq(hyp, "yes"))
			fail_msg("%s: hypervisor flag wrong", file);
		if (!streq(vendor, "-") && !streq(ci.vendor, vendor))
			fail_msg("%s: vendor %s, expected %s", file, ci.vendor, vendor);
		checked++;
	}
	assert_true(checked >= 23);
}

static void test_cpuinfo_features(void **state)
{
	struct cpuinfo ci;
	const char *intel_old =
		"processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\n"
		"flags\t\t: fpu lm vmx ept vpid hypervisor\n";
	const char *intel_new =
		"processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu lm vmx\n"
		"vmx flags\t: vnmi ept vpid unrestricted_guest\n";
	const char *amd = "processor : 0\nvendor_id : AuthenticAMD\nflags : lm svm npt\n";
	const char *riscv_h = "processor\t: 0\nhart\t: 0\nisa\t: rv64imafdch_zicsr\n";

	(void)state;
	assert_int_equal(cpuinfo_parse(intel_old, &ci), 0);
	assert_int_equal(ci.extension, CPU_EXT_VMX);
	assert_true(ci.ept && ci.vpid && ci.hypervisor && !ci.vmx_flags_line);
	assert_int_equal(cpuinfo_parse(intel_new, &ci), 0);
	assert_true(ci.ept && ci.unrestricted_guest && ci.vmx_flags_line && !ci.hypervisor);
	assert_int_equal(cpuinfo_parse(amd, &ci), 0);
	assert_int_equal(ci.extension, CPU_EXT_SVM);
	assert_true(ci.npt);
	assert_int_equal(cpuinfo_parse(riscv_h, &ci), 0);
	assert_string_equal(ci.arch, "riscv64");
	assert_true(ci.arch_virt);
	/* "vmx" inside another word is not the flag. */
	assert_int_equal(cpuinfo_parse("vendor_id : X\nflags : lm vmxfoo svm_lock\n", &ci), 0);
	assert_int_equal(ci.extension, CPU_EXT_NONE);
}

static void test_cpuinfo_garbage(void **state)
{
	struct cpuinfo ci;
	_cleanup_free_ char *garbled = slurp(VD_FIXTURES "/roots/garbled/proc/cpuinfo");

	(void)state;
	assert_int_equal(cpuinfo_parse("", &ci), -EBADMSG);
	assert_int_equal(cpuinfo_parse("hello world\n", &ci), -EBADMSG);
	assert_int_equal(cpuinfo_parse("flags\t\t: fpu vm", &ci), -EBADMSG);
	/* A truncated x86 file (flags without vendor_id) must not be judged as x86. */
	assert_int_equal(cpuinfo_parse("processor : 0\nflags : lm vmx\n", &ci), -EBADMSG);
	assert_non_null(garbled);	/* has NUL bytes: the parser sees its first part only */
	assert_int_equal(cpuinfo_parse(garbled, &ci), -EBADMSG);
}

static void test_os_release(void **state)
{
	struct os_release os;

	(void)state;
	assert_int_equal(os_release_parse(
		"# comment\nNAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n"
		"VERSION_ID='9.4'\nPRETTY_NAME=\"Rocky \\\"Blue Onyx\\\"\"\n", &os), 0);
	assert_string_equal(os.id, "rocky");
	assert_string_equal(os.id_like, "rhel centos fedora");
	assert_string_equal(os.version_id, "9.4");
	assert_string_equal(os.pretty_name, "Rocky \"Blue Onyx\"");
	assert_int_equal(os_release_parse("NAME=x\n", &os), 0);
	assert_string_equal(os.id, "linux");	/* os-release(5) default */
	assert_int_equal(os_release_parse("garbage\n\n", &os), -EBADMSG);

	/* A value cut to fit is another value: ID_LIKE keeps whole words only (a cut after
	 * "fedora" in "fedorax" would pick Fedora's plan), an ID that does not fit is unknown. */
	{
		char text[2400];
		size_t n;

		n = (size_t)snprintf(text, sizeof(text), "ID=x\nID_LIKE=\"q");
		for (int i = 0; i < 30; i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "w%02d ", i);
		snprintf(text + n, sizeof(text) - n, "fedoraxyz\"\n");
		/* 121 bytes of words, then "fedoraxyz": the 127-byte field ends after "fedora" */
		assert_int_equal(os_release_parse(text, &os), 0);
		assert_false(words_contain(os.id_like, "fedora"));
		assert_true(words_contain(os.id_like, "w29"));
		memset(text, 0, sizeof(text));
		n = (size_t)snprintf(text, sizeof(text), "ID=");
		memset(text + n, 'a', 70);
		snprintf(text + n + 70, sizeof(text) - n - 70, "\nVERSION_ID=12\n");
		assert_int_equal(os_release_parse(text, &os), 0);
		assert_string_equal(os.id, "linux");	/* unknown, then the default */
		assert_string_equal(os.version_id, "12");
		/* Past the 1023 bytes of the line we copy: an unquoted value cut there is not used,
		 * a quoted one closed before the cut is whole. */
		n = (size_t)snprintf(text, sizeof(text), "ID=");
		while (n < 1021)
			text[n++] = ' ';
		snprintf(text + n, sizeof(text) - n, "debianish\nID_LIKE=\"debian\"");
		n = strlen(text);
		while (n < 2200)
			text[n++] = ' ';
		text[n] = '\0';
		assert_int_equal(os_release_parse(text, &os), 0);
		assert_string_equal(os.id, "linux");	/* not "de" */
		assert_string_equal(os.id_like, "debian");
	}
}

static void test_accounts(void **state)
{
	const char *group = "root:x:0:\nkvm:x:993:alice,bob\n+nis\nbroken\nlibvirt:x:abc:\n"
			    "users:x:100:\n";
	const char *passwd = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:100::/home/alice:/bin/sh\n";
	struct group_entry g;
	char name[64];
	gid_t gid;

	(void)state;
	assert_int_equal(group_find_by_gid(group, 993, &g), 0);
	assert_string_equal(g.name, "kvm");
	assert_true(group_has_member(&g, "alice"));
	assert_true(group_has_member(&g, "bob"));
	assert_false(group_has_member(&g, "ali"));
	assert_int_equal(group_find_by_name(group, "libvirt", &g), -ENOENT);	/* bad gid */
	assert_int_equal(group_find_by_gid(group, 5, &g), -ENOENT);
	assert_int_equal(passwd_find_by_uid(passwd, 1000, name, sizeof(name), &gid), 0);
	assert_string_equal(name, "alice");
	assert_int_equal(gid, 100);
	{
		uid_t uid;

		assert_int_equal(passwd_find_by_name(passwd, "alice", &uid, &gid), 0);
		assert_int_equal(uid, 1000);
		assert_int_equal(passwd_find_by_name(passwd, "ali", &uid, &gid), -ENOENT);
	}
	/* A name that does not fit is not cut into another user's name. */
	assert_int_equal(passwd_find_by_uid(passwd, 1000, name, 4, &gid), -ENAMETOOLONG);
}

/* Lines of any length: no cut (the old reader cut at 2047 bytes and 1023 member bytes). */
static void test_accounts_long(void **state)
{
	size_t cap = 400000, len;
	_cleanup_free_ char *text = malloc(cap);
	struct group_entry g;

	(void)state;
	assert_non_null(text);
	/* 100,000 bytes of members, the real one at the end. */
	len = (size_t)snprintf(text, cap, "root:x:0:\nkvm:x:993:");
	for (unsigned i = 0; len < 100000; i++)
		len += (size_t)snprintf(text + len, cap - len, "%suser%05u", i ? "," : "", i);
	len += (size_t)snprintf(text + len, cap - len, ",alice\nusers:x:100:\n");
	assert_int_equal(group_find_by_name(text, "kvm", &g), 0);
	assert_true(group_has_member(&g, "alice"));
	assert_true(group_has_member(&g, "user00000"));
	assert_false(group_has_member(&g, "ali"));
	assert_int_equal(group_find_by_gid(text, 100, &g), 0);	/* the line after it */
	assert_string_equal(g.name, "users");

	/* 5000 members: the last one counts, a prefix of it does not. */
	len = (size_t)snprintf(text, cap, "kvm:x:993:");
	for (unsigned i = 0; i < 5000; i++)
		len += (size_t)snprintf(text + len, cap - len, "%sm%u", i ? "," : "", i);
	snprintf(text + len, cap - len, "\n");
	assert_int_equal(group_find_by_gid(text, 993, &g), 0);
	assert_true(group_has_member(&g, "m4999"));
	assert_true(group_has_member(&g, "m0"));
	assert_false(group_has_member(&g, "m"));
	assert_false(group_has_member(&g, "m5000"));

	/* "alice" across the old 2047-byte cut: "ali" is not a member. */
	len = (size_t)snprintf(text, cap, "kvm:x:993:");
	while (len < 2043)
		text[len++] = 'x';
	snprintf(text + len, cap - len, ",alice\n");
	assert_int_equal(group_find_by_gid(text, 993, &g), 0);
	assert_false(group_has_member(&g, "ali"));
	assert_true(group_has_member(&g, "alice"));
	/* A group name longer than the entry holds is skipped, never cut to a shorter name. */
	memset(text, 'k', 100);
	snprintf(text + 100, cap - 100, ":x:993:alice\n");
	assert_int_equal(group_find_by_gid(text, 993, &g), -ENOENT);
	/* Trailing CR and whitespace are not part of the last member. */
	assert_int_equal(group_find_by_gid("kvm:x:993:alice, bob\r\n", 993, &g), 0);
	assert_true(group_has_member(&g, "alice"));
}

static void test_words(void **state)
{
	(void)state;
	assert_true(words_contain("fpu vmx ept", "vmx"));
	assert_true(words_contain("vmx", "vmx"));
	assert_false(words_contain("vmxx ept", "vmx"));
	assert_false(words_contain("", "vmx"));
}

static void test_verdict(void **state)
{
	struct run run = { .n = 3 };

	(void)state;
	run.result[0].status = CHECK_PASS;
	run.result[1].status = CHECK_SKIP;
	run.result[2].status = CHECK_PASS;
	assert_int_equal(run_verdict(&run), VERDICT_READY);
	run.result[1].status = CHECK_WARN;
	assert_int_equal(run_verdict(&run), VERDICT_DEGRADED);
	run.result[2].status = CHECK_FAIL;
	assert_int_equal(run_verdict(&run), VERDICT_NOT_READY);
	for (unsigned i = 0; i < 3; i++)
		run.result[i].status = CHECK_SKIP;
	assert_int_equal(run_verdict(&run), VERDICT_UNKNOWN);
	assert_int_equal(verdict_exit_code(VERDICT_NOT_READY), 2);
}

static void test_details(void **state)
{
	struct check_result r = { 0 };
	const struct detail *d;

	(void)state;
	detail_str(&r, "a", "x%d", 1);
	detail_str(&r, "a", "y");	/* replaces, does not leak */
	detail_list_add(&r, "l", "one");
	detail_list_add(&r, "l", "two");
	result_set(&r, CHECK_WARN, "line\nbreak");
	d = detail_get(&r, "a");
	assert_non_null(d);
	assert_string_equal(d->string, "y");
	assert_int_equal(detail_get(&r, "l")->list.n, 2);
	assert_null(strchr(r.summary, '\n'));	/* summaries are one line */
	result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuinfo_corpus),
		cmocka_unit_test(test_cpuinfo_features),
		cmocka_unit_test(test_cpuinfo_garbage),
		cmocka_unit_test(test_os_release),
		cmocka_unit_test(test_accounts),
		cmocka_unit_test(test_accounts_long),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_details),
	};

	return cmocka_run_group_tests_name("parsers", tests, NULL, NULL);
}
