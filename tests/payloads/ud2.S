/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hostile guest: ud2 in protected mode with an empty IDT -> #UD -> #DF -> triple fault (SHUTDOWN). */
#include "hdr.inc"
	.code16
	.globl _start
_start:
	cli
	lidtl	%cs:idt0
	FLAT32	pm
	.code32
pm:	ud2
	hlt
idt0:	.word	0
	.long	0
