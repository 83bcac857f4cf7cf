/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hostile guest: opens stage real_mode and counts for ever; at the timeout it has registers
 * that move, so the watchdog must call it progressing (slow), not stuck. */
#include "hdr.inc"
	.code16
	.globl _start
_start:
	HEADER
	CTL	VD_CMD_BEGIN, VD_STAGE_REAL_MODE
	xor	%ecx, %ecx
2:	inc	%ecx
	jmp	2b
