// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: str_sanitize(), which stands between untrusted host strings and the JSON and
 * text reports: JSON output must be valid UTF-8 (jansson accepts it), text output must hold no
 * control byte, and valid text without controls must pass unchanged. */
// seeds: fuzz/corpus/sanitize/*
#include <jansson.h>

#include "fuzz.h"
#include "util.h"

FUZZ_TARGET(sanitize)
{
	char *in = fuzz_text(data, size), *js = str_sanitize(in, STR_JSON), *tx = str_sanitize(in, STR_TEXT);
	json_t *j;

	FUZZ_ASSERT(js && tx);
	j = json_string(js);
	FUZZ_ASSERT(j);		/* jansson validates UTF-8 */
	json_decref(j);
	if ((j = json_string(in))) {
		/* Already valid: JSON mode leaves it alone. */
		FUZZ_ASSERT(strcmp(js, in) == 0);
		json_decref(j);
	}
	for (const unsigned char *p = (const unsigned char *)tx; *p; p++)
		FUZZ_ASSERT(*p >= 0x20 && *p != 0x7f);
	/* No C1 control as UTF-8 (U+0080..U+009F = C2 80..C2 9F) survives either. */
	for (const unsigned char *p = (const unsigned char *)tx; *p; p++)
		FUZZ_ASSERT(!(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f));
	j = json_string(tx);
	FUZZ_ASSERT(j);
	json_decref(j);
	free(js);
	free(tx);
	free(in);
	return 0;
}
