# libFuzzer targets (tests/fuzz/fuzz.mk, GNU make): `make fuzz` runs each for
# FUZZ_SECONDS (default 600), `make fuzz-smoke` runs the seeds plus a few
# seconds each (tests/run-all), `make fuzz-build` only builds them. They
# need clang with libFuzzer (Debian: clang libclang-rt-dev).
FUZZ_MAKE = $(MAKE) -f $(abs_top_srcdir)/tests/fuzz/fuzz.mk \
	srcdir='$(abs_top_srcdir)' \
	PRODUCT_SOURCES='$(libregistry_la_SOURCES)' \
	DEPS_CFLAGS='$(FCGI_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS) $(LIBCONFIG_CFLAGS)' \
	DEPS_LIBS='$(DEPS_LIBS)' sysconfdir='$(sysconfdir)' localstatedir='$(localstatedir)'
fuzz fuzz-smoke fuzz-build: config.h
	@$(FUZZ_MAKE) $@
.PHONY: fuzz fuzz-smoke fuzz-build
EXTRA_DIST += tests/fuzz
clean-local:
	rm -rf fuzz
