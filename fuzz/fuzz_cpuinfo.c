// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: /proc/cpuinfo text -> cpuinfo_parse(). */
// seeds: tests/fixtures/proc/cpuinfo/*.cpuinfo tests/fixtures/roots/*/proc/cpuinfo @SHARED/cpuinfo/*
#include <errno.h>

#include "checks/cpuinfo.h"
#include "fuzz.h"

FUZZ_TARGET(cpuinfo)
{
	char *text = fuzz_text(data, size);
	struct cpuinfo ci;
	int r = cpuinfo_parse(text, &ci);

	FUZZ_ASSERT(r == 0 || r == -EBADMSG);
	if (r == 0) {
		FUZZ_ASSERT_TERMINATED(ci.arch);
		FUZZ_ASSERT_TERMINATED(ci.vendor);
		FUZZ_ASSERT_TERMINATED(ci.model);
		FUZZ_ASSERT(ci.arch[0] && strcmp(ci.arch, "unknown") != 0);
		FUZZ_ASSERT(ci.extension <= CPU_EXT_SVM);
		FUZZ_ASSERT(cpu_extension_name(ci.extension) != NULL);
	}
	free(text);
	return 0;
}
