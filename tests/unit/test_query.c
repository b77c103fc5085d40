/* placeholder until the query tests are written: an empty suite */
#include "tests/unit/unit.h"
Suite *suite_query(void) { return suite_create("query"); }
