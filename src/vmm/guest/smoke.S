/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Built-in smoke guest: real mode -> timer IRQ -> long mode -> cpuid/memory/mmio -> AP -> halt. */
#include "protocol.h"

/* Report helpers; they clobber %ax/%eax and %dx and work in 16/32/64-bit code. */
.macro CTL cmd, arg
	mov	$VD_PORT_CTL, %dx
	mov	$((\cmd) | ((\arg) << 8)), %ax
	out	%ax, %dx
.endm
.macro DATA reg
	mov	$VD_PORT_DATA, %dx
	mov	\reg, %eax
	out	%eax, %dx
.endm

	.text
	.code16
	.globl	_start
_start:
	jmp	start16
	.balign	8
	.long	VD_HDR_MAGIC_V
	.long	lm64_entry		/* VMM long-mode fallback entry */
	.long	ap16			/* second vCPU's real-mode entry */

start16:
	cli
	cld
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$VD_BSP_STACK, %sp

	/* Stage 1: we are executing in real mode and can read the boot info. */
	CTL	VD_CMD_BEGIN, VD_STAGE_REAL_MODE
	DATA	VD_BI_MAGIC
	CTL	VD_CMD_END, VD_STAGE_REAL_MODE

	/* Stage 2: IRQ0 from the PIT through our own IVT entry (vector 8). */
	CTL	VD_CMD_BEGIN, VD_STAGE_TIMER_IRQ
	movw	$0, VD_TICKS
	movw	$irq0, 8*4
	movw	$0, 8*4+2
	mov	$0x11, %al		/* PIC ICW1: edge, cascade, ICW4 follows */
	out	%al, $0x20
	mov	$0x08, %al		/* ICW2: IRQ0-7 -> vectors 8-15 */
	out	%al, $0x21
	mov	$0x04, %al		/* ICW3: slave on IRQ2 */
	out	%al, $0x21
	mov	$0x01, %al		/* ICW4: 8086 mode */
	out	%al, $0x21
	mov	$0xfe, %al		/* unmask IRQ0 only */
	out	%al, $0x21
	mov	$0x30, %al		/* PIT ch0, lo/hi, mode 0: one interrupt */
	out	%al, $0x43
	mov	$(VD_PIT_COUNT & 0xff), %al
	out	%al, $0x40
	mov	$(VD_PIT_COUNT >> 8), %al
	out	%al, $0x40
	sti
1:	hlt
	cmpw	$0, VD_TICKS
	je	1b
	cli
	mov	$0xff, %al		/* mask everything again before leaving real mode */
	out	%al, $0x21
	DATA	VD_TICKS
	CTL	VD_CMD_END, VD_STAGE_TIMER_IRQ

	/* Stage 3: switch to protected mode, then long mode, on our own tables. */
	CTL	VD_CMD_BEGIN, VD_STAGE_LONG_MODE
	/* RAM is zero at entry (documented), so only the used entries are written. */
	movl	$(VD_PDPT | 3), VD_PML4
	movl	$(VD_PD0 | 3), VD_PDPT
	movl	$(VD_PD3 | 3), VD_PDPT + 3*8
	movl	VD_BI_MEM_MIB, %ecx
	add	$1, %ecx
	shr	$1, %ecx		/* 2 MiB pages covering RAM */
	mov	$0x83, %eax		/* present, writable, 2 MiB */
	mov	$VD_PD0, %di
2:	mov	%eax, (%di)
	add	$0x200000, %eax
	add	$8, %di
	loop	2b
	movl	$(VD_MMIO_BASE | 0x9b), VD_PD3	/* + PWT|PCD: uncached device window */
	lgdtl	gdt_desc
	mov	%cr0, %eax
	or	$1, %eax
	mov	%eax, %cr0
	ljmpl	$0x08, $pm32

	.code32
pm32:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$VD_BSP_STACK, %esp
	CTL	VD_CMD_MARK, VD_MARK_PM32
	mov	%cr4, %eax
	or	$0x20, %eax		/* PAE */
	mov	%eax, %cr4
	mov	$VD_PML4, %eax
	mov	%eax, %cr3
	mov	$0xc0000080, %ecx	/* EFER.LME */
	rdmsr
	or	$0x100, %eax
	wrmsr
	mov	%cr0, %eax
	or	$0x80000000, %eax
	mov	%eax, %cr0
	CTL	VD_CMD_MARK, VD_MARK_PAGING
	ljmp	$0x18, $lm64

	.code64
lm64:
	CTL	VD_CMD_END, VD_STAGE_LONG_MODE

	/* The VMM's fallback enters here too, with CS=0x18 and data selectors 0x10. */
lm64_entry:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$VD_BSP_STACK, %esp

	/* Stage 4: CPUID vendor (leaf 0) and hypervisor signature (0x40000000). */
	CTL	VD_CMD_BEGIN, VD_STAGE_CPUID
	xor	%eax, %eax
	xor	%ecx, %ecx
	cpuid
	mov	%eax, %r11d
	mov	%ebx, %r8d
	mov	%edx, %r9d
	mov	%ecx, %r10d
	DATA	%r11d
	DATA	%r8d
	DATA	%r9d
	DATA	%r10d
	mov	$0x40000000, %eax
	xor	%ecx, %ecx
	cpuid
	mov	%eax, %r11d
	mov	%ebx, %r8d
	mov	%ecx, %r9d
	mov	%edx, %r10d
	DATA	%r11d
	DATA	%r8d
	DATA	%r9d
	DATA	%r10d
	CTL	VD_CMD_END, VD_STAGE_CPUID

	/* Stage 5: one qword per 4 KiB page above 1 MiB: write, read back, sum. */
	CTL	VD_CMD_BEGIN, VD_STAGE_MEMORY
	mov	VD_BI_NONCE, %eax
	mov	%rax, %r8
	shl	$32, %r8
	or	%rax, %r8		/* pattern(addr) = addr + nonce:nonce */
	mov	%r8, %rsi
	neg	%rsi			/* (pattern + -nonce) addresses the page itself */
	mov	VD_BI_MEM_MIB, %ecx
	shl	$8, %ecx
	sub	$(VD_MEMTEST_BASE >> 12), %ecx
	mov	%ecx, %r11d
	shr	$2, %ecx		/* unrolled x4: pages per MiB is a multiple of 4 */
	xor	%r9d, %r9d
	mov	$VD_MEMTEST_BASE, %eax
	add	%r8, %rax
	mov	$4096, %ebx
	jrcxz	4f
	/* Every instruction is emulated on some hosts, so keep it to ~3 per page. */
3:	mov	%rax, (%rax,%rsi)
	add	(%rax,%rsi), %r9
	add	%rbx, %rax
	mov	%rax, (%rax,%rsi)
	add	(%rax,%rsi), %r9
	add	%rbx, %rax
	mov	%rax, (%rax,%rsi)
	add	(%rax,%rsi), %r9
	add	%rbx, %rax
	mov	%rax, (%rax,%rsi)
	add	(%rax,%rsi), %r9
	add	%rbx, %rax
	loop	3b
4:	DATA	%r11d
	DATA	%r9d
	shr	$32, %r9
	DATA	%r9d
	CTL	VD_CMD_END, VD_STAGE_MEMORY

	/* Stage 6: write then read the VMM's MMIO test device; it answers bswap(write). */
	CTL	VD_CMD_BEGIN, VD_STAGE_MMIO
	mov	$VD_MMIO_BASE, %edi
	mov	VD_BI_NONCE, %esi
	xor	$VD_MMIO_XOR, %esi
	mov	%esi, (%rdi)
	mov	4(%rdi), %ecx
	bswap	%esi
	cmp	%esi, %ecx
	jne	fail
	DATA	%ecx
	CTL	VD_CMD_END, VD_STAGE_MMIO

	/* Stage 7: ask for vCPU 1 and wait for its token in the mailbox. */
	CTL	VD_CMD_BEGIN, VD_STAGE_SECOND_VCPU
	cmpl	$2, VD_BI_VCPUS
	jb	6f
	CTL	VD_CMD_START_AP, 1
	mov	VD_BI_NONCE, %esi
	xor	$VD_AP_XOR, %esi
	mov	$0x100000, %ecx		/* bounded wait; the VMM watchdog bounds it too */
5:	pause
	cmp	%esi, VD_MAILBOX
	je	7f
	loop	5b
	jmp	fail
7:	DATA	%esi
6:	CTL	VD_CMD_END, VD_STAGE_SECOND_VCPU

	/* Stage 8: say done, then halt for the VMM to observe. */
	CTL	VD_CMD_BEGIN, VD_STAGE_HALT
	CTL	VD_CMD_DONE, 0
8:	cli
	hlt
	jmp	8b

fail:
	CTL	VD_CMD_FAIL, 1
	jmp	8b

	.code16
irq0:
	push	%ax
	push	%dx
	CTL	VD_CMD_TICK, 0
	incw	VD_TICKS
	mov	$0x20, %al		/* non-specific EOI */
	out	%al, $0x20
	pop	%dx
	pop	%ax
	iret

	/* vCPU 1 starts here in real mode, CS:IP 0000:ap16. */
ap16:
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %ss
	mov	$VD_AP_STACK, %sp
	CTL	VD_CMD_CHECKIN, 1
	mov	VD_BI_NONCE, %eax
	xor	$VD_AP_XOR, %eax
	mov	%eax, VD_MAILBOX
	CTL	VD_CMD_PARK, 1
9:	cli
	hlt
	jmp	9b

	.balign	8
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad	0x00cf92000000ffff	/* 0x10: data */
	.quad	0x00af9a000000ffff	/* 0x18: 64-bit code */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt
