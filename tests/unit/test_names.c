/* placeholder until the names tests are written: an empty suite */
#include "tests/unit/unit.h"
Suite *suite_names(void) { return suite_create("names"); }
