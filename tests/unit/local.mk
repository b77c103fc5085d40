# Check unit tests for the pure parts. One file per module, each defining the
# suite declared in tests/unit/unit.h.
if HAVE_CHECK
check_PROGRAMS += tests/unit/unit_tests
TESTS += tests/unit/unit_tests
tests_unit_unit_tests_SOURCES = tests/unit/unit_main.c tests/unit/unit.h \
	tests/unit/test_buf.c tests/unit/test_digest.c tests/unit/test_names.c \
	tests/unit/test_range.c tests/unit/test_query.c tests/unit/test_router.c \
	tests/unit/test_http.c tests/unit/test_upload.c tests/unit/test_config.c \
	tests/unit/test_multiaddr.c tests/unit/test_unixfs.c \
	tests/unit/test_manifest.c tests/unit/test_paths.c \
	tests/unit/test_metrics.c tests/unit/test_store_cache.c tests/unit/test_blob_offload.c tests/unit/test_layout.c \
	tests/unit/test_gateway_head.c \
	tests/unit/test_mfs_lock.c tests/unit/test_master_lock.c tests/unit/test_errors.c \
	tests/unit/test_registry.c
tests_unit_unit_tests_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_unit_tests_LDADD = libregistry.la $(DEPS_LIBS) $(CHECK_LIBS)
endif
