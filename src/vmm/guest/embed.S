/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Links the flat smoke-guest image into the binary between two symbols. */
	.section .rodata
	.balign	16
	.globl	vmm_smoke_guest_start
	.globl	vmm_smoke_guest_end
vmm_smoke_guest_start:
	.incbin	VMM_GUEST_BIN
vmm_smoke_guest_end:
	.section .note.GNU-stack,"",@progbits
