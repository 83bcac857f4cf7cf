// SPDX-License-Identifier: GPL-2.0-or-later
/* Names of the check statuses and verdicts: the strings every renderer and reader shares. */
#include "checks/check.h"

static const char *const status_names[] = {
	[CHECK_PASS] = "pass",
	[CHECK_WARN] = "warn",
	[CHECK_FAIL] = "fail",
	[CHECK_SKIP] = "skip",
};

const char *check_status_name(enum check_status s)
{
	return s < _CHECK_STATUS_MAX ? status_names[s] : "?";
}

static const char *const verdict_names[] = {
	[VERDICT_READY] = "ready",
	[VERDICT_DEGRADED] = "degraded",
	[VERDICT_NOT_READY] = "not-ready",
	[VERDICT_UNKNOWN] = "unknown",
};

const char *verdict_name(enum verdict v)
{
	return verdict_names[v];
}

/* Monitoring-plugin convention: OK, WARNING, CRITICAL, UNKNOWN. */
int verdict_exit_code(enum verdict v)
{
	return (int)v;
}
