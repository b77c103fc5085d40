/* placeholder until the config tests are written: an empty suite */
#include "tests/unit/unit.h"
Suite *suite_config(void) { return suite_create("config"); }
