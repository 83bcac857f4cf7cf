# SPDX-License-Identifier: GPL-2.0-or-later
# libFuzzer targets (fuzz/fuzz_*.c), built with clang into build-fuzz/ and run by fuzz/run.sh.
# Included by the top Makefile. In the normal build the same files are compiled without the
# libFuzzer entry and linked into test_fuzz_regressions, which replays fuzz/regressions/.

FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
FUZZ_BUILD ?= build-fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN)
ifdef FUZZING
# clang flags libseccomp's SCMP_A0..5 macros (partial struct initialisers) under -Wextra;
# appended here so it comes after the top Makefile's -Wextra.
override CFLAGS += -Wno-missing-field-initializers
endif

FUZZ_ENTRY_OBJS := $(FUZZ_SRCS:%.c=$(BUILD)/%.o)
$(FUZZ_ENTRY_OBJS): CFLAGS += -Ifuzz $(if $(FUZZING),-DVD_LIBFUZZER)
$(BUILD)/test_fuzz_regressions: $(FUZZ_ENTRY_OBJS)
$(BUILD)/tests/test_fuzz_regressions.o: CFLAGS += -Ifuzz -DVD_FUZZ_DIR='"$(abspath fuzz)"'

# Fuzz binaries link an archive, so each pulls in only the objects its parser needs
# (and none that wants the assembled guest image).
$(BUILD)/libvd.a: $(APP_OBJS) $(filter-out %/embed.o,$(VMM_OBJS))
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz-%: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/libvd.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS) $(VMM_LIBS)

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_NAMES:%=$(BUILD)/fuzz-%)

# make fuzz FUZZ_SECONDS=N: build with clang, run each target N seconds, print the stats.
fuzz:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) CFLAGS="$(FUZZ_CFLAGS)" FUZZING=1 fuzz-build
	./fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_NAMES)
