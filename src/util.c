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
