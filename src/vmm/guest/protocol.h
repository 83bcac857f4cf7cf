/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest <-> VMM report protocol constants, shared by the C VMM and the .S guests. */
#ifndef VMM_GUEST_PROTOCOL_H
#define VMM_GUEST_PROTOCOL_H

/* Entry state (see docs/guest-protocol.md): image at 0x8000, CS:IP 0000:8000, SP 0x7000. */
#define VD_LOAD_ADDR		0x8000
#define VD_BSP_STACK		0x7000
#define VD_AP_STACK		0x6800

/* Boot info block the VMM writes before the first instruction. */
#define VD_BOOTINFO		0x0500
#define VD_BOOTINFO_MAGIC_V	0x49424456	/* "VDBI" */
#define VD_BI_MAGIC		(VD_BOOTINFO + 0)
#define VD_BI_MEM_MIB		(VD_BOOTINFO + 4)
#define VD_BI_VCPUS		(VD_BOOTINFO + 8)
#define VD_BI_NONCE		(VD_BOOTINFO + 12)
#define VD_MAILBOX		(VD_BOOTINFO + 0x100)	/* AP -> BSP token */
#define VD_TICKS		(VD_BOOTINFO + 0x104)	/* IRQ0 handler counter */

/* Optional image header: "jmp start" then at offset 8 magic, lm64 entry, ap16 entry. */
#define VD_HDR_MAGIC_OFF	8
#define VD_HDR_MAGIC_V		0x48474456	/* "VDGH" */
#define VD_HDR_LM64_OFF		12
#define VD_HDR_AP16_OFF		16

/* Page tables the guest builds (and the VMM builds for the long-mode fallback). */
#define VD_PML4			0x1000
#define VD_PDPT			0x2000
#define VD_PD0			0x3000	/* 0..1 GiB, 2 MiB pages over RAM */
#define VD_PD3			0x4000	/* 3..4 GiB, maps the MMIO test window */
#define VD_GDT_FALLBACK		0x5000

#define VD_MEMTEST_BASE		0x100000
#define VD_MMIO_BASE		0xC0000000
#define VD_MMIO_SIZE		0x1000
#define VD_MMIO_XOR		0x4d4d494f	/* "OIMM": write value = nonce ^ this */
#define VD_AP_XOR		0x41502121	/* mailbox token = nonce ^ this */
#define VD_PIT_COUNT		0x0100	/* ~215 us at 1.193182 MHz */

/* Ports. CTL takes 16-bit writes: low byte command, high byte argument. */
#define VD_PORT_CTL		0x0510
#define VD_PORT_DATA		0x0514	/* 32-bit writes: evidence value for the open stage */

#define VD_CMD_BEGIN		1	/* arg: stage id */
#define VD_CMD_END		2	/* arg: stage id */
#define VD_CMD_FAIL		3	/* arg: guest failure code */
#define VD_CMD_MARK		4	/* arg: progress mark inside a stage */
#define VD_CMD_TICK		5	/* from the IRQ0 handler */
#define VD_CMD_START_AP		6	/* arg: vCPU index to start */
#define VD_CMD_CHECKIN		7	/* arg: own vCPU index (sent by the AP) */
#define VD_CMD_PARK		8	/* arg: own vCPU index; AP is finished */
#define VD_CMD_DONE		9	/* guest finished; it halts next */

#define VD_STAGE_REAL_MODE	1
#define VD_STAGE_TIMER_IRQ	2
#define VD_STAGE_LONG_MODE	3
#define VD_STAGE_CPUID		4
#define VD_STAGE_MEMORY		5
#define VD_STAGE_MMIO		6
#define VD_STAGE_SECOND_VCPU	7
#define VD_STAGE_HALT		8
#define VD_STAGE_LAST		8

#define VD_MARK_PM32		1	/* protected mode, 32-bit code segment */
#define VD_MARK_PAGING		2	/* PAE + LME + paging on (compatibility mode) */

#define VD_MAX_VALUES		8	/* DATA values per stage */

#endif
