/* placeholder until the multiaddr tests are written: an empty suite */
#include "tests/unit/unit.h"
Suite *suite_multiaddr(void) { return suite_create("multiaddr"); }
