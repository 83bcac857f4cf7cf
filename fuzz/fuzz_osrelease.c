// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: os-release(5) text -> os_release_parse(). */
// seeds: tests/fixtures/roots/*/etc/os-release tests/fixtures/roots/*/usr/lib/os-release /etc/os-release
#include <errno.h>

#include "checks/osrelease.h"
#include "fuzz.h"

FUZZ_TARGET(osrelease)
{
	char *text = fuzz_text(data, size);
	struct os_release os;
	int r = os_release_parse(text, &os);

	FUZZ_ASSERT(r == 0 || r == -EBADMSG);
	if (r == 0) {
		FUZZ_ASSERT_TERMINATED(os.id);
		FUZZ_ASSERT_TERMINATED(os.id_like);
		FUZZ_ASSERT_TERMINATED(os.version_id);
		FUZZ_ASSERT_TERMINATED(os.pretty_name);
		FUZZ_ASSERT(os.id[0]);	/* defaults to "linux" */
	}
	free(text);
	return 0;
}
