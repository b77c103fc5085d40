# Check unit tests for the pure parts. One file per module, each defining the
# suite declared in tests/unit/unit.h.
if HAVE_CHECK
check_PROGRAMS += tests/unit/unit_tests
TESTS += tests/unit/unit_tests
tests_unit_unit_tests_SOURCES = tests/unit/unit_main.c tests/unit/unit_run.c tests/unit/unit.h \
	tests/unit/fake_edge.c tests/unit/fake_edge.h \
	tests/unit/fake_store.c tests/unit/fake_store.h tests/unit/handler_env.c tests/unit/handler_env.h \
	tests/unit/test_buf.c tests/unit/test_digest.c tests/unit/test_names.c \
	tests/unit/test_range.c tests/unit/test_query.c tests/unit/test_router.c \
	tests/unit/test_http.c tests/unit/test_upload.c tests/unit/test_config.c \
	tests/unit/test_multiaddr.c tests/unit/test_unixfs.c \
	tests/unit/test_manifest.c tests/unit/test_paths.c \
	tests/unit/test_metrics.c tests/unit/test_store_cache.c tests/unit/test_blob_offload.c tests/unit/test_layout.c tests/unit/test_layout_index_edit.c \
	tests/unit/test_gateway_head.c \
	tests/unit/test_mfs_lock.c tests/unit/test_master_lock.c tests/unit/test_errors.c \
	tests/unit/test_store_union.c \
	tests/unit/test_dispatch.c tests/unit/test_h_uploads.c \
	tests/unit/test_pub_timing.c tests/unit/test_slots.c tests/unit/test_admit.c tests/unit/test_blobfile.c \
	tests/unit/test_fcgi_framing.c tests/unit/fcgi_peer.c tests/unit/fcgi_peer.h \
	tests/unit/test_registry.c tests/unit/test_blobfiles_admin.c tests/unit/test_upstream_auth.c \
	tests/unit/test_gc.c tests/unit/test_ui.c tests/unit/test_tar.c \
	tests/unit/test_p2pstate.c
tests_unit_unit_tests_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_unit_tests_LDADD = libregistry.la $(DEPS_LIBS) $(CHECK_LIBS)
endif

# The storage backends over a fake Kubo of our own (tests/unit/fake_kubo.c):
# a program of its own, built from the product sources it needs and never
# the real client in ipfs/, whose functions the fake defines.
if HAVE_CHECK
check_PROGRAMS += tests/unit/store_tests
TESTS += tests/unit/store_tests
tests_unit_store_tests_SOURCES = tests/unit/store_main.c tests/unit/unit_run.c tests/unit/unit.h \
	tests/unit/store_fixture.c tests/unit/store_fixture.h \
	tests/unit/fake_kubo.c tests/unit/fake_kubo.h tests/unit/test_fake_kubo.c \
	tests/unit/test_store_mfs.c tests/unit/test_store_layout.c tests/unit/test_store_layout_rw.c \
	core/xalloc.c core/xjson.c core/buf.c core/log.c core/digest.c core/names.c core/errmsg.c \
	oci/manifest.c oci/paths.c oci/store_kubo.c oci/store_mfs.c \
	oci/layout.c oci/layout_cache.c oci/store_layout.c \
	oci/layout_index_edit.c oci/store_layout_rw.c core/layoutreg.c core/holdback.c core/gcmark.c core/lockfile.c
tests_unit_store_tests_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_store_tests_LDADD = $(JSONC_LIBS) $(CRYPTO_LIBS) $(CHECK_LIBS)
endif
