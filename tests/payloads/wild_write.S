/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hostile guest: writes far outside its RAM (no device there); must fail cleanly. */
#include "hdr.inc"
	.code16
	.globl _start
_start:
	cli
	FLAT32	pm
	.code32
pm:	mov	$0x10, %ax
	mov	%ax, %ds
	movl	$0xdeadbeef, 0x20000000
	hlt
