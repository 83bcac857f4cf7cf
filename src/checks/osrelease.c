// SPDX-License-Identifier: GPL-2.0-or-later
/* Pure os-release(5) parsing: KEY=VALUE lines with shell-style quoting. */
#include <errno.h>

#include "checks/osrelease.h"
#include "util.h"

/* Undo the quoting os-release allows: "..." with backslash escapes, or '...'. */
static void unquote(const char *in, char *out, size_t size)
{
	char quote = 0;
	size_t n = 0;

	if (*in == '"' || *in == '\'')
		quote = *in++;
	for (; *in && n + 1 < size; in++) {
		if (quote && *in == quote)
			break;
		if (quote == '"' && *in == '\\' && in[1])
			in++;
		out[n++] = *in;
	}
	out[n] = '\0';
}

int os_release_parse(const char *text, struct os_release *os)
{
	const char *p = text;
	unsigned found = 0;

	memset(os, 0, sizeof(*os));
	while (*p) {
		const char *eol = strchrnul(p, '\n');
		size_t len = (size_t)(eol - p);
		char line[1024], *eq, *key;

		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		p = *eol ? eol + 1 : eol;

		key = strstrip(line);
		if (*key == '#' || !(eq = strchr(key, '=')))
			continue;
		*eq = '\0';
		found++;
		if (streq(key, "ID"))
			unquote(eq + 1, os->id, sizeof(os->id));
		else if (streq(key, "ID_LIKE"))
			unquote(eq + 1, os->id_like, sizeof(os->id_like));
		else if (streq(key, "VERSION_ID"))
			unquote(eq + 1, os->version_id, sizeof(os->version_id));
		else if (streq(key, "PRETTY_NAME"))
			unquote(eq + 1, os->pretty_name, sizeof(os->pretty_name));
	}
	if (!found)
		return -EBADMSG;
	/* os-release(5): ID defaults to "linux" when absent. */
	if (!os->id[0])
		snprintf(os->id, sizeof(os->id), "linux");
	return 0;
}
