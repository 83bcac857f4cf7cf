/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hostile guest: a hypercall no VMM here serves; must end as a failure, not a hang. */
	.code16
	.globl _start
_start:
	vmcall
	hlt
