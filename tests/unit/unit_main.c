/* Runs every unit-test suite; exit status: failure if any test failed. */
#include "tests/unit/unit.h"

int main(void)
{
    Suite *(*suites[])(void) = {
        suite_buf, suite_digest, suite_names, suite_range, suite_query, suite_router,
        suite_http, suite_upload, suite_config, suite_multiaddr, suite_unixfs,
        suite_manifest, suite_paths, suite_metrics, suite_store_cache, suite_layout,
        suite_blob_offload, suite_gateway_head, suite_mfs_lock, suite_master_lock, suite_errors,
        suite_store_union,
        suite_dispatch, suite_h_uploads,
        suite_pub_timing,
        suite_fcgi_framing, suite_registry,
        suite_slots, suite_gc, suite_admit, suite_blobfile, suite_blobfiles_admin, suite_layout_ixe, suite_upstream_auth, suite_ui, suite_tar, suite_p2pstate,
    };
    return unit_run(suites, sizeof suites / sizeof suites[0]);
}
