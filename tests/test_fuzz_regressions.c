// SPDX-License-Identifier: GPL-2.0-or-later
/* Replays every file in fuzz/regressions/TARGET/ through the same entry function libFuzzer calls. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "util.h"

#define FUZZ(name) int fuzz_##name(const uint8_t *data, size_t size);
#include "targets.h"
#undef FUZZ

struct target {
	const char *name;
	int (*entry)(const uint8_t *data, size_t size);
};

static const struct target targets[] = {
#define FUZZ(name) { #name, fuzz_##name },
#include "targets.h"
#undef FUZZ
};

static uint8_t *slurp(const char *path, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *buf;
	struct stat st;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	*len = (size_t)st.st_size;
	return buf;
}

/* Every target has a regression directory, and every file in it runs clean (an invariant
 * failure aborts; the ASan build turns memory errors into failures). */
static void test_replay(void **state)
{
	unsigned total = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
		char dir[512];
		_cleanup_closedir_ DIR *d = NULL;
		struct dirent *de;
		unsigned n = 0;

		sfmt(dir, "%s/regressions/%s", VD_FUZZ_DIR, targets[i].name);
		d = opendir(dir);
		if (!d)
			fail_msg("%s: %s (every fuzz target needs one, even if it only holds .gitkeep)",
				 dir, strerror(errno));
		while ((de = readdir(d))) {
			char path[1024];
			_cleanup_free_ uint8_t *data = NULL;
			size_t len;

			if (de->d_name[0] == '.')
				continue;
			sfmt(path, "%s/%s", dir, de->d_name);
			data = slurp(path, &len);
			print_message("replay %s/%s (%zu bytes)\n", targets[i].name, de->d_name, len);
			assert_int_equal(targets[i].entry(data, len), 0);
			n++;
		}
		total += n;
	}
	print_message("%u regression inputs replayed over %zu targets\n", total, ARRAY_SIZE(targets));
}

/* The list in fuzz/targets.h and the fuzz/fuzz_*.c files agree (a target nobody replays is
 * a regression test nobody runs). */
static void test_targets_listed(void **state)
{
	_cleanup_closedir_ DIR *d = opendir(VD_FUZZ_DIR);
	struct dirent *de;
	unsigned files = 0;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d))) {
		char name[256];
		size_t n = strlen(de->d_name);
		bool listed = false;

		if (!startswith(de->d_name, "fuzz_") || n < 3 || !streq(de->d_name + n - 2, ".c"))
			continue;
		files++;
		scopy(name, de->d_name + 5);
		name[strlen(name) - 2] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(targets); i++)
			listed |= streq(targets[i].name, name);
		if (!listed)
			fail_msg("fuzz/%s is not listed in fuzz/targets.h", de->d_name);
	}
	assert_int_equal(files, ARRAY_SIZE(targets));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_targets_listed),
		cmocka_unit_test(test_replay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
