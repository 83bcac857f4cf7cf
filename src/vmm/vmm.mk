# SPDX-License-Identifier: GPL-2.0-or-later
# VMM part of virt-doctor; included by the top Makefile (needs CC, CFLAGS, LDLIBS, BUILD, Q).

VMM_SRCS := $(wildcard src/vmm/*.c)
VMM_GUEST_BIN := $(BUILD)/src/vmm/guest/smoke.bin
VMM_OBJS := $(VMM_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/src/vmm/guest/embed.o
VMM_LIBS := $(shell pkg-config --libs libseccomp 2>/dev/null || echo -lseccomp) -lpthread
VMM_LD ?= ld

# Guests are freestanding flat images: no CFLAGS (sanitizers, -g) apply to them.
VMM_GUEST_ASFLAGS := -nostdinc -Isrc/vmm/guest -Wa,--noexecstack

$(BUILD)/src/vmm/guest/%.gobj: src/vmm/guest/%.S src/vmm/guest/protocol.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(VMM_GUEST_ASFLAGS) -c -o $@ $<

$(BUILD)/tests/payloads/%.gobj: tests/payloads/%.S src/vmm/guest/protocol.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(VMM_GUEST_ASFLAGS) -c -o $@ $<

# Linked at the documented load address, so absolute labels are guest-physical.
$(BUILD)/%.bin: $(BUILD)/%.gobj
	$(Q)$(VMM_LD) -m elf_x86_64 -Ttext=0x8000 -e _start --oformat binary -o $@ $<

$(BUILD)/src/vmm/guest/embed.o: src/vmm/guest/embed.S $(VMM_GUEST_BIN)
	@mkdir -p $(@D)
	$(Q)$(CC) -c -DVMM_GUEST_BIN='"$(VMM_GUEST_BIN)"' -Wa,--noexecstack -o $@ $<

$(VMM_SRCS:%.c=$(BUILD)/%.o): src/vmm/vmm.h src/vmm/internal.h src/vmm/guest/protocol.h

VMM_PAYLOADS := $(patsubst tests/payloads/%.S,$(BUILD)/tests/payloads/%.bin,$(wildcard tests/payloads/*.S))

$(BUILD)/test_vmm: tests/test_vmm.c $(VMM_OBJS) $(VMM_PAYLOADS) src/vmm/vmm.h src/vmm/internal.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -DPAYLOAD_DIR='"$(abspath $(BUILD)/tests/payloads)"' -o $@ tests/test_vmm.c \
		$(VMM_OBJS) $(LDFLAGS) $(VMM_LIBS) -lcmocka $(LDLIBS)

TEST_BINS += $(BUILD)/test_vmm

$(BUILD)/floor: bench/floor.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

.PRECIOUS: $(BUILD)/%.gobj $(BUILD)/%.bin
