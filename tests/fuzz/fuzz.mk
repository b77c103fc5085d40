# tests/fuzz/fuzz.mk: the libFuzzer targets. GNU make, run from the top build
# directory by `make fuzz`, `make fuzz-smoke` and `make fuzz-build`
# (tests/fuzz/local.mk passes the variables below).
#
# The autotools library is built by the configured compiler (gcc) without
# coverage hooks, so the product sources are compiled again here with clang
# and -fsanitize=fuzzer-no-link,address,undefined into an archive; each
# target links only the members it needs. PRODUCT_SOURCES is the library's
# source list, so a file added to or renamed in Makefile.am needs nothing
# here.
#
#   srcdir           absolute top source directory
#   PRODUCT_SOURCES  libregistry_la_SOURCES
#   DEPS_CFLAGS      the -dev libraries' pkg-config cflags
#   DEPS_LIBS        their libs
#   sysconfdir, localstatedir   as configured
#   FUZZ_CC          clang (default)
#   FUZZ_SECONDS     seconds per target for `make fuzz` (default 600)
#   FUZZ_SMOKE_SECONDS  seconds per target for `make fuzz-smoke` (default 5)
#   FUZZ_TARGETS     which targets to build and run (default: all)

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_TARGETS ?= router names range manifest layout_index config request upstream_auth

FUZZ_OUT := fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Wno-unused-parameter $(FUZZ_SAN) \
	-include $(CURDIR)/config.h -I$(srcdir) \
	-DSYSCONFDIR='"$(sysconfdir)"' -DLOCALSTATEDIR='"$(localstatedir)"' $(DEPS_CFLAGS)

PRODUCT_O := $(patsubst %.c,$(FUZZ_OUT)/obj/%.o,$(filter %.c,$(PRODUCT_SOURCES)))
HELPER_O := $(FUZZ_OUT)/obj/tests/fuzz/fuzz_util.o
FUZZ_BINS := $(addprefix $(FUZZ_OUT)/fuzz_,$(FUZZ_TARGETS))
FUZZ_RUN := sh $(srcdir)/tests/fuzz/run.sh $(srcdir)/tests/fuzz/corpus $(FUZZ_OUT)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(FUZZ_RUN) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	FUZZ_SMOKE=1 $(FUZZ_RUN) $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

fuzz-check-cc:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { \
	  echo "fuzz: $(FUZZ_CC) not found: install clang and libclang-rt-dev (Debian), or set FUZZ_CC" >&2; exit 1; }

# Product objects: coverage hooks, no libFuzzer main.
$(FUZZ_OUT)/obj/%.o: $(srcdir)/%.c | fuzz-check-cc
	@mkdir -p $(@D)
	@echo "  FUZZCC   $*.c"; \
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_OUT)/libproduct.a: $(PRODUCT_O)
	@rm -f $@
	@echo "  AR       $@"; ar rcs $@ $^

# Objects first, then the archive they draw on.
$(FUZZ_OUT)/fuzz_%: $(FUZZ_OUT)/obj/tests/fuzz/fuzz_%.o $(HELPER_O) $(FUZZ_OUT)/libproduct.a
	@echo "  FUZZLD   $@"; \
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $(filter %.o,$^) $(filter %.a,$^) $(DEPS_LIBS) -o $@

$(FUZZ_OUT)/fuzz_request: $(FUZZ_OUT)/obj/tests/fuzz/fake_store.o

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-check-cc
.SECONDARY:
-include $(shell find $(FUZZ_OUT)/obj -name '*.d' 2>/dev/null)
