/* placeholder until the upload tests are written: an empty suite */
#include "tests/unit/unit.h"
Suite *suite_upload(void) { return suite_create("upload"); }
