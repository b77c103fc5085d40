/* placeholder until the router tests are written: an empty suite */
#include "tests/unit/unit.h"
Suite *suite_router(void) { return suite_create("router"); }
