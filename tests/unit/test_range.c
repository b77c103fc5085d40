/* placeholder until the range tests are written: an empty suite */
#include "tests/unit/unit.h"
Suite *suite_range(void) { return suite_create("range"); }
