/* Runs the fake Kubo's suite and the storage backends' over it (fake_kubo.c):
 * a program of its own, so the real Kubo client is never linked beside it.
 * Exit status: failure if any test failed. */
#include "tests/unit/store_fixture.h"
#include "tests/unit/unit.h"
#include "core/log.h"

int main(void)
{
    Suite *(*suites[])(void) = { suite_fake_kubo, suite_store_mfs, suite_store_layout, suite_store_layout_rw };
    /* the backends log what they verify and skip; the tests assert it instead */
    log_set_level(LOG_LVL_ERROR);
    return unit_run(suites, sizeof suites / sizeof suites[0]);
}
