/* placeholder until the paths tests are written: an empty suite */
#include "tests/unit/unit.h"
Suite *suite_paths(void) { return suite_create("paths"); }
