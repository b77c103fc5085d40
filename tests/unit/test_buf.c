/* placeholder until the buf tests are written: an empty suite */
#include "tests/unit/unit.h"
Suite *suite_buf(void) { return suite_create("buf"); }
