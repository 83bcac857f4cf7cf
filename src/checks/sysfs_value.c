// SPDX-License-Identifier: GPL-2.0-or-later
/* Pure parsers for sysfs/procfs values: text in, meaning out, so they can be fuzzed alone. */
#include <errno.h>

#include "checks/sysfs_value.h"
#include "util.h"

enum sysfs_initstate sysfs_parse_initstate(const char *value)
{
	static const struct { const char *text; enum sysfs_initstate state; } states[] = {
		{ "live", INITSTATE_LIVE }, { "coming", INITSTATE_COMING }, { "going", INITSTATE_GOING },
	};

	for (size_t i = 0; i < ARRAY_SIZE(states); i++)
		if (streq(value, states[i].text))
			return states[i].state;
	return INITSTATE_OTHER;
}

int sysfs_parse_bool(const char *value)
{
	if (!value[0] || value[1])
		return -EINVAL;	/* the kernel prints exactly one character */
	switch (value[0]) {
	case 'Y': case 'y': case '1':
		return 1;
	case 'N': case 'n': case '0':
		return 0;
	default:
		return -EINVAL;
	}
}

int sysfs_parse_hex(const char *value, unsigned long max, unsigned long *out)
{
	const char *p = value;
	unsigned long v = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 :
			*p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : -1;

		if (d < 0 || v > (max - (unsigned long)d) / 16)
			return -EINVAL;
		v = v * 16 + (unsigned long)d;
	}
	*out = v;
	return 0;
}
