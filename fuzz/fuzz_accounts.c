// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: passwd(5)/group(5) text -> the lookups accounts.c offers.
 * The first 4 bytes choose the uid/gid to look up; the rest is the file. */
// seeds: tests/fixtures/roots/*/etc/passwd tests/fixtures/roots/*/etc/group /etc/passwd /etc/group
#include <errno.h>

#include "checks/accounts.h"
#include "fuzz.h"

FUZZ_TARGET(accounts)
{
	uint32_t id = 0;
	char *text, name[64];
	struct group_entry g;
	gid_t gid;
	int r;

	if (size >= 4) {
		memcpy(&id, data, 4);
		data += 4;
		size -= 4;
	}
	text = fuzz_text(data, size);

	r = passwd_find_by_uid(text, id, name, sizeof(name), &gid);
	/* A name that does not fit is refused whole, never cut ("ali" for "alice"). */
	FUZZ_ASSERT(r == 0 || r == -ENOENT || r == -ENAMETOOLONG);
	if (r == 0)
		FUZZ_ASSERT_TERMINATED(name);
	/* root and the usual first user, the latter into a buffer too small for most names. */
	passwd_find_by_uid(text, 0, name, sizeof(name), NULL);
	passwd_find_by_uid(text, 1000, name, 4, &gid);	/* truncating name buffer */

	r = group_find_by_gid(text, id, &g);
	FUZZ_ASSERT(r == 0 || r == -ENOENT);
	if (r == 0) {
		FUZZ_ASSERT_TERMINATED(g.name);
		FUZZ_ASSERT(g.members >= text && g.members + g.members_len <= text + strlen(text));
		group_has_member(&g, name);
		group_has_member(&g, "");
		/* What is found by gid is found by its name too (unless the name was truncated). */
		if (strlen(g.name) + 1 < sizeof(g.name))
			FUZZ_ASSERT(group_find_by_name(text, g.name, &g) == 0);
	}
	r = group_find_by_name(text, "kvm", &g);
	FUZZ_ASSERT(r == 0 || r == -ENOENT);
	if (r == 0)
		group_has_member(&g, "alice");
	free(text);
	return 0;
}
