/* placeholder until the unixfs tests are written: an empty suite */
#include "tests/unit/unit.h"
Suite *suite_unixfs(void) { return suite_create("unixfs"); }
