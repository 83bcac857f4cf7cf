/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hostile guest: opens stage real_mode and spins forever; must end as a timeout naming it. */
#include "hdr.inc"
	.code16
	.globl _start
_start:
	HEADER
	CTL	VD_CMD_BEGIN, VD_STAGE_REAL_MODE
2:	jmp	2b
