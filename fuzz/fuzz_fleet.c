// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: one report file as `virt-doctor fleet` reads it -> fleet_load_buffer() (parse,
 * checks, aggregation) and every renderer (text, JSON, CSV). */
// seeds: fuzz/regressions/fleet/*
#include <errno.h>
#include <stdio.h>

#include "fuzz.h"
#include "report/fleet.h"

FUZZ_TARGET(fleet)
{
	/* After the seeds' generated_at (2026-11-26): a report more than a day ahead is refused. */
	struct fleet_options o = { .now = 1796000000, .stale_after = 86400, .threads = 1 };
	struct fleet *f = NULL;
	FILE *sink;
	int r, code;

	r = fleet_load_buffer(&f, "/fleet/host.json", (const char *)data, size, &o);
	FUZZ_ASSERT(r == 0 || r == -ENOMEM);
	if (r < 0)
		return 0;
	code = fleet_exit_code(f);
	FUZZ_ASSERT(code >= 0 && code <= 3);
	sink = fopen("/dev/null", "we");
	FUZZ_ASSERT(sink);
	for (int fmt = FLEET_TEXT; fmt <= FLEET_CSV; fmt++) {
		r = fleet_render(sink, f, (enum fleet_format)fmt);
		FUZZ_ASSERT(r == 0 || r == -ENOMEM);
	}
	fclose(sink);
	fleet_free(f);
	return 0;
}
