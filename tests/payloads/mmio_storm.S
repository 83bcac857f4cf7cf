/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hostile guest: hammers the MMIO test device forever; must be cut off by the storm cap. */
#include "hdr.inc"
	.code16
	.globl _start
_start:
	cli
	FLAT32	pm
	.code32
pm:	mov	$0x10, %ax
	mov	%ax, %ds
	mov	$VD_MMIO_BASE, %edi
2:	movl	%eax, (%edi)
	inc	%eax
	jmp	2b
