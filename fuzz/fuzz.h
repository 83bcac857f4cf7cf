/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One fuzz target = one fuzz/fuzz_NAME.c defining FUZZ_TARGET(NAME) + one line in targets.h. */
#ifndef VD_FUZZ_H
#define VD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * The same entry function serves libFuzzer (build-fuzz/, -DVD_LIBFUZZER) and the cmocka
 * replay of fuzz/regressions/NAME/ (tests/test_fuzz_regressions.c), so a crash file
 * reproduces through exactly the code that found it. Entries return 0; they abort() (via
 * FUZZ_ASSERT) when an invariant breaks, which both libFuzzer and cmocka report.
 */
#ifdef VD_LIBFUZZER
#define FUZZ_LIBFUZZER_ENTRY(name) \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_##name(data, size); }
#else
#define FUZZ_LIBFUZZER_ENTRY(name)
#endif

#define FUZZ_TARGET(name) \
	int fuzz_##name(const uint8_t *data, size_t size); \
	FUZZ_LIBFUZZER_ENTRY(name) \
	int fuzz_##name(const uint8_t *data, size_t size)

#define FUZZ_ASSERT(cond) do { if (!(cond)) abort(); } while (0)

/* The input as a NUL-terminated string (parsers take text; embedded NULs just end it early). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A fixed char array holds a terminated string. */
#define FUZZ_ASSERT_TERMINATED(arr) FUZZ_ASSERT(memchr((arr), '\0', sizeof(arr)) != NULL)

#endif
