/* Check suites of the unit tests, one per module; unit_main.c runs them all. */
#ifndef TESTS_UNIT_H
#define TESTS_UNIT_H
#include <check.h>
#include <stddef.h>

/* Runs the n suites (unit_run.c); EXIT_SUCCESS if no test failed, for main. */
int unit_run(Suite *(*const suites[])(void), size_t n);

Suite *suite_buf(void);
Suite *suite_tar(void);
Suite *suite_p2pstate(void);
Suite *suite_digest(void);
Suite *suite_names(void);
Suite *suite_range(void);
Suite *suite_query(void);
Suite *suite_router(void);
Suite *suite_http(void);
Suite *suite_upload(void);
Suite *suite_config(void);
Suite *suite_layout(void);
Suite *suite_layout_ixe(void);
Suite *suite_multiaddr(void);
Suite *suite_unixfs(void);
Suite *suite_manifest(void);
Suite *suite_paths(void);
Suite *suite_metrics(void);
Suite *suite_store_cache(void);
Suite *suite_blob_offload(void);
Suite *suite_gateway_head(void);
Suite *suite_mfs_lock(void);
Suite *suite_master_lock(void);
Suite *suite_errors(void);
Suite *suite_store_union(void);
Suite *suite_dispatch(void);
Suite *suite_h_uploads(void);
Suite *suite_pub_timing(void);
Suite *suite_fcgi_framing(void);
Suite *suite_registry(void);
Suite *suite_slots(void);
Suite *suite_gc(void);
Suite *suite_blobfile(void);
Suite *suite_admit(void);
Suite *suite_blobfiles_admin(void);
Suite *suite_upstream_auth(void);
Suite *suite_ui(void);

#endif
