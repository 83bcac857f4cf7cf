/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Well-behaved plain payload: reports done over the protocol, then halts. */
#include "hdr.inc"
	.code16
	.globl _start
_start:
	CTL	VD_CMD_DONE, 0
	hlt
