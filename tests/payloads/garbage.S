/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hostile guest: junk on the report ports (wrong sizes, unknown commands); must fail cleanly. */
#include "hdr.inc"
	.code16
	.globl _start
_start:
	HEADER
	mov	$VD_PORT_CTL, %dx
	mov	$0xa5, %al
	out	%al, %dx		/* 1-byte command: protocol error */
	mov	$0xffff, %ax
	out	%ax, %dx
	mov	$VD_PORT_DATA, %dx
	mov	$0xdeadbeef, %eax
	out	%eax, %dx
2:	jmp	2b
