# SPDX-License-Identifier: GPL-2.0-or-later
# virt-doctor: build, test, install. `make V=1` shows the commands.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/virt-doctor
DESTDIR ?=
BUILD   ?= build

CC      ?= gcc
PKG_CONFIG ?= pkg-config
PKGS    := libkmod libpci libudev libseccomp jansson inih

ifeq ($(V),1)
Q :=
else
Q := @
endif

CFLAGS  ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc \
	   -DDATADIR='"$(DATADIR)"' $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LDFLAGS ?=
override LDLIBS += -Wl,--as-needed $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lpthread

APP_SRCS := $(wildcard src/*.c src/checks/*.c src/report/*.c src/fixes/*.c)
APP_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(filter-out src/main.c,$(APP_SRCS)))
TEST_BINS :=
.DEFAULT_GOAL := all

# The VMM brings its own objects (C and the assembled guest) and test binaries.
include src/vmm/vmm.mk

LIB_OBJS := $(APP_OBJS) $(VMM_OBJS)
BIN := $(BUILD)/virt-doctor

UNIT_TESTS := $(patsubst tests/%.c,$(BUILD)/%,$(wildcard tests/test_*.c))
UNIT_TESTS := $(filter-out $(BUILD)/test_vmm,$(UNIT_TESTS))
TEST_BINS += $(UNIT_TESTS)

.PHONY: all run check asan valgrind install clean deps bench golden
all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BIN): $(BUILD)/src/main.o $(LIB_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(VMM_LIBS)

$(UNIT_TESTS): $(BUILD)/%: $(BUILD)/tests/%.o $(BUILD)/tests/harness.o $(LIB_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(VMM_LIBS) -lcmocka

# Tests find the binary, the fixtures and the source tree through these; every test binary
# that runs the doctor needs it built first.
$(BUILD)/tests/%.o: CFLAGS += -DVD_BIN='"$(abspath $(BIN))"' \
	-DVD_FIXTURES='"$(abspath tests/fixtures)"' -DVD_SRCDIR='"$(abspath .)"' \
	-DVD_PAYLOADS='"$(abspath $(BUILD)/tests/payloads)"'
$(UNIT_TESTS): | $(BIN) $(VMM_PAYLOADS)

include fuzz/fuzz.mk

deps:
	./scripts/install-deps.sh

# Installs missing build dependencies, builds, and runs the doctor on this host.
run: deps
	$(MAKE) all
	./$(BIN); status=$$?; echo "(exit status $$status)"

# Every test; each binary prints its own cmocka summary. A failing one fails the target.
check: $(BIN) $(TEST_BINS)
	@fail=0; for t in $(TEST_BINS); do \
		echo "== $$t"; \
		./$$t || fail=1; \
	done; \
	if [ $$fail -ne 0 ]; then echo "check: FAILED"; exit 1; fi; echo "check: all test binaries passed"

# The whole suite again under AddressSanitizer and UndefinedBehaviorSanitizer.
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
asan:
	$(MAKE) BUILD=build-asan CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" check

# The doctor, the smoke boot and a payload timeout under memcheck (see the script for the flags).
valgrind: $(BIN) $(VMM_PAYLOADS)
	./scripts/valgrind.sh $(BUILD)

install: $(BIN)
	install -Dm755 $(BIN) $(DESTDIR)$(BINDIR)/virt-doctor
	install -Dm644 man/virt-doctor.8 $(DESTDIR)$(MANDIR)/man8/virt-doctor.8
	install -d $(DESTDIR)$(DATADIR)/distros
	for f in data/distros/*; do [ -f "$$f" ] && install -m644 "$$f" $(DESTDIR)$(DATADIR)/distros/; done; true

bench: $(BIN) $(BUILD)/floor
	./bench/run.sh $(BUILD)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
