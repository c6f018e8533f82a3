# cutaway: top-level build.
#
# Every module (common/, tracing/, each stage) has a module.mk that adds its
# library, binaries and unit tests to the lists below; this file only holds
# the shared flags and the targets a user types.  `make` builds every binary
# into ./bin/ with warnings as errors.

SHELL      := /bin/bash
CC         ?= gcc
PKGS       := libseccomp libcap libcjson libcurl libarchive openssl libmicrohttpd libgvc libmnl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS     ?= -O2 -g
CFLAGS     += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -fno-strict-aliasing \
              -D_GNU_SOURCE -I. -Icommon -Itracing $(PKG_CFLAGS)
LDLIBS     += $(PKG_LIBS) -lpthread

BIN   := bin
BUILD := build

# Filled in by the module.mk files.
LIBS       :=
BINS       :=
UNIT_TESTS :=
LINT_SRCS  :=

all: everything

# Keep the objects of test programs (make would delete them as intermediates).
.SECONDARY:

# Rules in module.mk files name $$(LIBS) as a prerequisite: expanded a second
# time, after every module has added its library.
.SECONDEXPANSION:

include common/module.mk
include tracing/module.mk
include $(wildcard stages/*/module.mk)
include tests/module.mk

everything: $(BINS) $(UNIT_TESTS)

# Object files go to build/, mirroring the source tree.
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Libraries are linked as one group, so their order does not matter.
LINK = $(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -Wl,--start-group $(LIBS) -Wl,--end-group $(LDLIBS)

.PHONY: all everything deps test demo bench lint format docs grade clean
deps:
	@scripts/deps.sh

test: deps
	@$(MAKE) --no-print-directory everything
	@scripts/run-tests.sh

demo: deps
	@$(MAKE) --no-print-directory everything
	@scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory everything
	@scripts/bench.sh

docs: everything
	@scripts/make-docs.sh

grade: everything
	@scripts/grade.sh "$(LAB)" "$(CHECK)"

LINT_SRCS += $(shell git ls-files '*.c' 2>/dev/null)
lint:
	@scripts/lint.sh $(LINT_SRCS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BIN) $(BUILD)
