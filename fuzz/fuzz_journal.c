// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: a fix journal (JSON lines, docs/fix-journal.schema.json) -> journal_scan() and
 * journal_parse_line(), whole and as a tail that starts mid-line. */
// seeds: fuzz/regressions/journal/*
#include <errno.h>

#include "fixes/journal.h"
#include "fuzz.h"

static void check_state(const struct journal_state *st)
{
	FUZZ_ASSERT(st->malformed <= st->lines);
	FUZZ_ASSERT(!st->ended || st->found);
	FUZZ_ASSERT(st->steps == 0 || st->found);
	FUZZ_ASSERT(!st->malformed || st->first_bad_line >= 1);
	FUZZ_ASSERT_TERMINATED(st->run);
	FUZZ_ASSERT_TERMINATED(st->started);
	FUZZ_ASSERT_TERMINATED(st->outcome);
	FUZZ_ASSERT_TERMINATED(st->first_error);
	FUZZ_ASSERT_TERMINATED(st->last.fix);
	FUZZ_ASSERT_TERMINATED(st->last.target);
	if (st->found)
		FUZZ_ASSERT(st->run[0]);
	if (st->steps)
		FUZZ_ASSERT(st->last.step >= 1 && st->last.step <= 1000);
}

FUZZ_TARGET(journal)
{
	struct journal_state st;
	struct journal_line l;
	char err[128];
	int r;

	/* Exact-size copies: reads past the input are caught by ASan. */
	uint8_t *copy = malloc(size ? size : 1);

	FUZZ_ASSERT(copy);
	memcpy(copy, data, size);
	journal_scan((const char *)copy, size, false, &st);
	check_state(&st);
	journal_scan((const char *)copy, size, true, &st);
	check_state(&st);
	r = journal_parse_line((const char *)copy, size, &l, err, sizeof(err));
	FUZZ_ASSERT(r == 0 || r == -EBADMSG);
	FUZZ_ASSERT(r == 0 || (err[0] && memchr(err, '\0', sizeof(err))));
	free(copy);
	return 0;
}
