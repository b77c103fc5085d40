/* placeholder until the digest tests are written: an empty suite */
#include "tests/unit/unit.h"
Suite *suite_digest(void) { return suite_create("digest"); }
