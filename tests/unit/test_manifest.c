/* placeholder until the manifest tests are written: an empty suite */
#include "tests/unit/unit.h"
Suite *suite_manifest(void) { return suite_create("manifest"); }
