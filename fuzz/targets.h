/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Every fuzz target, one line each: FUZZ(NAME) for fuzz/fuzz_NAME.c. The regression test
 * replays fuzz/regressions/NAME/ for each; the Makefile builds every fuzz/fuzz_*.c. */
FUZZ(cpuinfo)
FUZZ(osrelease)
FUZZ(accounts)
FUZZ(sysfs)
FUZZ(report_channel)
FUZZ(sanitize)
FUZZ(resolve)
FUZZ(vmm_records)
FUZZ(distro)
FUZZ(journal)
FUZZ(fleet)
