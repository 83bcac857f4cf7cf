/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers shared by every layer: cleanup attributes, string copies, time. */
#ifndef VD_UTIL_H
#define VD_UTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void closedirp(DIR **d) { if (*d) closedir(*d); }

#define _cleanup_(fn) __attribute__((cleanup(fn)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Hand ownership out of a cleanup variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }

static inline bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* snprintf into a fixed buffer; truncation is fine for one-line messages. */
#define sfmt(buf, ...) snprintf((buf), sizeof(buf), __VA_ARGS__)

/* Copy with truncation into a fixed buffer (strlcpy semantics, always terminated). */
void strtcpy(char *dst, const char *src, size_t size);
#define scopy(buf, src) strtcpy((buf), (src), sizeof(buf))

uint64_t now_us(void);
char *strstrip(char *s);
/* The first line of text, whitespace-stripped, into buf: 0 or -ENAMETOOLONG (buf untouched). */
int first_line(const char *text, char *buf, size_t size);
/*
 * Strings from a host or a --root tree are untrusted bytes. str_sanitize() returns a malloc'd
 * copy (NULL on ENOMEM): STR_JSON replaces every byte that is not valid UTF-8 with U+FFFD so
 * JSON stays valid; STR_TEXT also writes control characters (C0, DEL, C1) and invalid bytes
 * as \xNN, so nothing reaches a terminal as an escape sequence or a fake new line.
 */
enum str_sanitize_mode { STR_JSON, STR_TEXT };
char *str_sanitize(const char *s, enum str_sanitize_mode mode);
/* Does the space-separated word list contain word? */
bool words_contain(const char *list, const char *word);
/* Write w as a POSIX shell word: as is when safe, else single-quoted, so a printed command
 * line can be pasted; a word with a control character or bytes that are not UTF-8 as $'...'
 * with \xNN escapes, so none reaches the terminal raw. */
void fput_shell_word(FILE *out, const char *w);

#endif
