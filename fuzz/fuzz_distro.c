// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: a distro data file (INI, data/distros/README.md) -> distro_parse() through inih,
 * then the lookups and the selection the planner does with it. */
// seeds: data/distros/*.ini
#include <errno.h>
#include <stdio.h>

#include "fixes/distro.h"
#include "fuzz.h"
#include "util.h"

FUZZ_TARGET(distro)
{
	char *text = fuzz_text(data, size), err[512];
	struct distro *d = calloc(1, sizeof(*d)), *picked = calloc(1, sizeof(*picked));
	struct os_release os = { 0 };
	struct distro_set set;
	int r;

	FUZZ_ASSERT(d && picked);
	err[0] = '\0';
	r = distro_parse("fuzz.ini", text, d, err, sizeof(err));
	FUZZ_ASSERT(r == 0 || r == -EBADMSG);
	FUZZ_ASSERT_TERMINATED(err);
	if (r < 0) {
		FUZZ_ASSERT(err[0]);	/* a refusal always says why */
		FUZZ_ASSERT(d->n == 0);	/* and keeps nothing */
	} else {
		FUZZ_ASSERT(d->name[0] && d->n <= DISTRO_KEYS_MAX);
		for (unsigned i = 0; i < d->n; i++) {
			FUZZ_ASSERT_TERMINATED(d->kv[i].key);
			/* Values reach terminals, JSON and argv: nothing str_sanitize would change
			 * (C0, DEL, C1, bytes that are not UTF-8) got through. */
			char *text = str_sanitize(d->kv[i].value, STR_TEXT);

			FUZZ_ASSERT(text && strcmp(text, d->kv[i].value) == 0);
			free(text);
		}
		distro_get(d, "packages", "qemu_img");
		distro_get_arch(d, "packages", "qemu_system", "x86_64");
		/* Selection by the file's own ids, as the planner would. */
		set.d = d;
		set.n = 1;
		set.dir[0] = '\0';
		snprintf(os.id, sizeof(os.id), "%s", distro_get(d, "distro", "ids"));
		*strchrnul(os.id, ' ') = '\0';
		snprintf(os.id_like, sizeof(os.id_like), "%s", "debian fedora");
		distro_select(&set, &os, picked);
		FUZZ_ASSERT(picked->generic || picked->n == d->n);
		distro_free(picked);
	}
	distro_free(d);
	free(picked);
	free(d);
	free(text);
	return 0;
}
