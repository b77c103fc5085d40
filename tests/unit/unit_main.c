/* Runs every unit-test suite; exit status is the number of failures (capped). */
#include <stdlib.h>
#include "tests/unit/unit.h"

int main(void)
{
    Suite *(*suites[])(void) = {
        suite_buf, suite_digest, suite_names, suite_range, suite_query, suite_router,
        suite_http, suite_upload, suite_config, suite_multiaddr, suite_unixfs,
        suite_manifest, suite_paths, suite_metrics, suite_store_cache, suite_layout,
        suite_blob_offload, suite_gateway_head, suite_mfs_lock, suite_master_lock, suite_errors, suite_registry,
    };
    SRunner *sr = srunner_create(NULL);
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        srunner_add_suite(sr, suites[i]());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
