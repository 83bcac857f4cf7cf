// SPDX-License-Identifier: GPL-2.0-or-later
/* Small helpers shared by every layer. */
#include <ctype.h>
#include <errno.h>
#include <time.h>

#include "util.h"

uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

char *strstrip(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

bool words_contain(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	/* An empty word is in no list (and strstr would find it forever at the same place). */
	if (!n || !list)
		return false;
	while ((p = strstr(p, word))) {
		bool left = p == list || isspace((unsigned char)p[-1]);
		bool right = p[n] == '\0' || isspace((unsigned char)p[n]);

		if (left && right)
			return true;
		p += n;
	}
	return false;
}

void strtcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (!size)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int first_line(const char *text, char *buf, size_t size)
{
	const char *start = text, *end = strchrnul(text, '\n');

	while (start < end && isspace((unsigned char)*start))
		start++;
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	if ((size_t)(end - start) >= size)
		return -ENAMETOOLONG;
	memcpy(buf, start, (size_t)(end - start));
	buf[end - start] = '\0';
	return 0;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates,
 * nothing past U+10FFFF), or 0 when s does not start one. *cp gets the code point. */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, *cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, *cp = c & 0x0f, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, *cp = c & 0x07, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		/* The NUL terminator is never a continuation byte, so this stops at the end. */
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return n;
}

char *str_sanitize(const char *s, enum str_sanitize_mode mode)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), o = 0;
	/* Worst case: every byte becomes "\xNN" (4) or U+FFFD (3). */
	char *out = len < (SIZE_MAX - 1) / 4 ? malloc(len * 4 + 1) : NULL;

	if (!out)
		return NULL;
	while (*p) {
		uint32_t cp;
		size_t n = utf8_seq(p, &cp);
		bool control = n && (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0));

		if (n && !(mode == STR_TEXT && control)) {
			memcpy(out + o, p, n);
			o += n;
			p += n;
			continue;
		}
		if (mode == STR_JSON) {
			memcpy(out + o, "\xef\xbf\xbd", 3);	/* U+FFFD REPLACEMENT CHARACTER */
			o += 3;
			p++;
			continue;
		}
		/* One escape per byte, also for a well-formed C1 control's two bytes. */
		for (size_t i = 0; i < (n ? n : 1); i++)
			o += (size_t)sprintf(out + o, "\\x%02x", p[i]);
		p += n ? n : 1;
	}
	out[o] = '\0';
	return out;
}

static bool is_control(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0);
}

/* $'...' (bash, ksh, zsh, POSIX.1-2024): control characters and bytes that are not UTF-8 as
 * \xNN, so the word is both harmless on a terminal and the same word when pasted. */
static void fput_dollar_quoted(FILE *out, const char *w)
{
	const unsigned char *p = (const unsigned char *)w;

	fputs("$'", out);
	while (*p) {
		uint32_t cp;
		size_t n = utf8_seq(p, &cp);

		if (n && !is_control(cp)) {
			if (*p == '\'' || *p == '\\')
				fputc('\\', out);
			fwrite(p, 1, n, out);
			p += n;
			continue;
		}
		for (size_t i = 0; i < (n ? n : 1); i++)
			fprintf(out, "\\x%02x", p[i]);
		p += n ? n : 1;
	}
	fputc('\'', out);
}

void fput_shell_word(FILE *out, const char *w)
{
	bool plain = *w != '\0';

	for (const unsigned char *p = (const unsigned char *)w; *p;) {
		uint32_t cp;
		size_t n = utf8_seq(p, &cp);

		if (!n || is_control(cp)) {
			fput_dollar_quoted(out, w);
			return;
		}
		p += n;
	}

	for (const char *p = w; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%", *p))
			plain = false;
	if (plain) {
		fputs(w, out);
		return;
	}
	fputc('\'', out);
	for (const char *p = w; *p; p++)
		if (*p == '\'')
			fputs("'\\''", out);
		else
			fputc(*p, out);
	fputc('\'', out);
}
