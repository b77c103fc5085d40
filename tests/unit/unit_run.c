/* unit_run: the Check runner both test programs (unit_main.c, store_main.c)
 * use, so they report and exit alike. */
#include <stdlib.h>
#include "tests/unit/unit.h"

int unit_run(Suite *(*const suites[])(void), size_t n)
{
    SRunner *sr = srunner_create(NULL);
    for (size_t i = 0; i < n; i++)
        srunner_add_suite(sr, suites[i]());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
