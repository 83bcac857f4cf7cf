/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hostile guest: claims stages without doing the work (software INT as "timer IRQ", fake ends). */
#include "hdr.inc"
	.code16
	.globl _start
_start:
	HEADER
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %ss
	mov	$VD_BSP_STACK, %sp
	CTL	VD_CMD_BEGIN, VD_STAGE_REAL_MODE
	mov	$VD_PORT_DATA, %dx
	mov	VD_BI_MAGIC, %eax
	out	%eax, %dx
	CTL	VD_CMD_END, VD_STAGE_REAL_MODE
	CTL	VD_CMD_BEGIN, VD_STAGE_TIMER_IRQ
	movw	$fake_irq, 8*4
	movw	$0, 8*4+2
	sti
	int	$8			/* looks like IRQ0 to the CPU, but the PIC never raised it */
	cli
	mov	$VD_PORT_DATA, %dx
	mov	$1, %eax
	out	%eax, %dx
	CTL	VD_CMD_END, VD_STAGE_TIMER_IRQ
	CTL	VD_CMD_BEGIN, VD_STAGE_LONG_MODE
	CTL	VD_CMD_END, VD_STAGE_LONG_MODE
2:	jmp	2b
fake_irq:
	push	%ax
	push	%dx
	CTL	VD_CMD_TICK, 0
	pop	%dx
	pop	%ax
	iret
