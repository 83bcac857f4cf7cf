# SPDX-License-Identifier: GPL-2.0-or-later
# virt-doctor: build, test, install. `make V=1` shows the commands.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/virt-doctor
UNITDIR ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
# Where the systemd service writes its Prometheus textfile (Debian's node-exporter collector dir).
TEXTFILE_DIR ?= /var/lib/prometheus/node-exporter
DESTDIR ?=
BUILD   ?= build

CC      ?= gcc
PKG_CONFIG ?= pkg-config
PKGS    := libkmod libpci libudev libseccomp jansson inih libxml-2.0

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

.PHONY: all run check check-json asan valgrind install clean deps bench bench-fleet golden
all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BIN): $(BUILD)/src/main.o $(LIB_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(VMM_LIBS)

# Shared test helpers: every tests/*.c that is not itself a test binary (harness, libvirt_harness).
TEST_HELPER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(filter-out tests/test_%.c,$(wildcard tests/*.c)))

$(UNIT_TESTS): $(BUILD)/%: $(BUILD)/tests/%.o $(TEST_HELPER_OBJS) $(LIB_OBJS)
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
# Every test binary, keeping every JSON document the tests parsed; then each one is validated
# against the schema its "kind" names (docs/*.schema.json) with python3-jsonschema -- a visible
# SKIP where that is not installed. A failing binary or an invalid document fails the target.
JSON_DUMP := $(BUILD)/json-dump
JSON_VALIDATOR := /usr/bin/python3 tests/validate-json.py $(JSON_DUMP) docs/report.md docs/fix.md
check: $(BIN) $(TEST_BINS)
	@rm -rf $(JSON_DUMP) && mkdir -p $(JSON_DUMP)
	@fail=0; for t in $(TEST_BINS); do \
		echo "== $$t"; \
		VD_JSON_DUMP_DIR=$(abspath $(JSON_DUMP)) ./$$t || fail=1; \
	done; \
	if [ $$fail -ne 0 ]; then echo "check: FAILED"; exit 1; fi; echo "check: all test binaries passed"
	@if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then $(JSON_VALIDATOR); \
	else echo "SKIP: JSON Schema validation (no python3-jsonschema; make deps installs it)"; fi

# The same, but a missing validator is an error rather than a SKIP.
check-json: check
	$(JSON_VALIDATOR)

# The whole suite again under AddressSanitizer and UndefinedBehaviorSanitizer.
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# libasan intercepts xdr_* but looks the real functions up once, at start-up. glibc no longer
# has them (libtirpc does), so a process that loads libtirpc later -- libvirt.so.0, which
# libvirt.daemon dlopens -- calls a NULL pointer at its first RPC. Linking libtirpc from the
# start gives the interceptors their targets. Sanitizer builds only, and only where it exists.
comma := ,
SAN_TIRPC := $(if $(wildcard /usr/lib/*/libtirpc.so.3 /usr/lib64/libtirpc.so.3 /usr/lib/libtirpc.so.3),-Wl$(comma)--no-as-needed -l:libtirpc.so.3)
asan:
	$(MAKE) BUILD=build-asan CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined $(SAN_TIRPC)" check

# The doctor, the smoke boot and a payload timeout under memcheck (see the script for the flags).
valgrind: $(BIN) $(VMM_PAYLOADS)
	./scripts/valgrind.sh $(BUILD)

install: $(BIN)
	install -Dm755 $(BIN) $(DESTDIR)$(BINDIR)/virt-doctor
	install -Dm644 man/virt-doctor.8 $(DESTDIR)$(MANDIR)/man8/virt-doctor.8
	install -d $(DESTDIR)$(DATADIR)/distros
	for f in data/distros/*; do [ -f "$$f" ] && install -m644 "$$f" $(DESTDIR)$(DATADIR)/distros/; done; true
	install -Dm644 contrib/bash-completion/virt-doctor $(DESTDIR)$(COMPLETIONDIR)/virt-doctor
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@TEXTFILE_DIR@|$(TEXTFILE_DIR)|g' \
		contrib/systemd/virt-doctor.service > $(DESTDIR)$(UNITDIR)/virt-doctor.service
	install -m644 contrib/systemd/virt-doctor.timer $(DESTDIR)$(UNITDIR)/virt-doctor.timer
	@echo "installed virt-doctor.timer disabled; enable it with: systemctl enable --now virt-doctor.timer"

# libvirt.daemon's question without the doctor around it (bench/run.sh times it alone).
$(BUILD)/libvirt-probe: bench/libvirt-probe.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $< -ldl

BENCH_HELPERS := $(BUILD)/floor $(BUILD)/libvirt-probe

bench: $(BIN) $(BENCH_HELPERS)
	./bench/run.sh $(BUILD)
	./bench/fleet.sh $(BUILD)

# Only the fleet merge: 10,000 generated reports, median time of `virt-doctor fleet DIR`.
bench-fleet: $(BIN)
	./bench/fleet.sh $(BUILD)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
