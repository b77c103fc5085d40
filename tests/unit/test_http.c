/* placeholder until the http tests are written: an empty suite */
#include "tests/unit/unit.h"
Suite *suite_http(void) { return suite_create("http"); }
