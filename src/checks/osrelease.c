// SPDX-License-Identifier: GPL-2.0-or-later
/* Pure os-release(5) parsing: KEY=VALUE lines with shell-style quoting. */
#include <errno.h>

#include "checks/osrelease.h"
#include "util.h"

/* Undo the quoting os-release allows: "..." with backslash escapes, or '...'. false when
 * the value did not fit in out (out then holds its start), or may go on past the part of the
 * line we have (`line_whole` false and no closing quote seen). */
static bool unquote(const char *in, char *out, size_t size, bool line_whole)
{
	char quote = 0;
	size_t n = 0;

	if (*in == '"' || *in == '\'')
		quote = *in++;
	for (; *in; in++) {
		if (quote && *in == quote) {
			out[n] = '\0';
			return true;
		}
		if (quote == '"' && *in == '\\' && in[1])
			in++;
		if (n + 1 >= size) {
			out[n] = '\0';
			return false;
		}
		out[n++] = *in;
	}
	out[n] = '\0';
	return line_whole;
}

/*
 * A value cut to fit is another value: ID_LIKE="... fedorax" cut after "fedora" would pick
 * Fedora's data for the plan (the same class as a group line cut inside "alice"). A list
 * keeps only its whole words; an identifier that does not fit is not used at all.
 */
static void unquote_words(const char *in, char *out, size_t size, bool line_whole)
{
	char *space;

	if (unquote(in, out, size, line_whole))
		return;
	space = strrchr(out, ' ');
	if (space)
		*space = '\0';
	else
		out[0] = '\0';
}

static void unquote_id(const char *in, char *out, size_t size, bool line_whole)
{
	if (!unquote(in, out, size, line_whole))
		out[0] = '\0';
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
		bool complete = len < sizeof(line);

		if (!complete)
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
			unquote_id(eq + 1, os->id, sizeof(os->id), complete);
		else if (streq(key, "ID_LIKE"))
			unquote_words(eq + 1, os->id_like, sizeof(os->id_like), complete);
		else if (streq(key, "VERSION_ID"))
			unquote_id(eq + 1, os->version_id, sizeof(os->version_id), complete);
		else if (streq(key, "PRETTY_NAME"))
			unquote(eq + 1, os->pretty_name, sizeof(os->pretty_name), true);	/* shown: a cut is fine */
	}
	if (!found)
		return -EBADMSG;
	/* os-release(5): ID defaults to "linux" when absent. */
	if (!os->id[0])
		snprintf(os->id, sizeof(os->id), "linux");
	return 0;
}
