/* fake_kubo: a FAKE standing in for a real Kubo node, used only by the unit
 * tests of the storage backends (tests/unit/store_tests). It implements the
 * Kubo client calls of ipfs/kubo.h and ipfs/name.h that oci/store_mfs.c and
 * oci/store_layout.c make, over an in-memory tree, so those backends run
 * without a node; the real client (the C files of ipfs/) is never linked
 * beside it. fake_kubo.c says what it models and what it does not.
 *
 * The knobs below let a test see what a backend asked for (call counters)
 * and make Kubo fail where it wants (the next call, the next call of one
 * kind, every call on a path). */
#ifndef TESTS_UNIT_FAKE_KUBO_H
#define TESTS_UNIT_FAKE_KUBO_H
#include <stddef.h>
#include "ipfs/kubo.h"

/* An empty node: MFS holds only "/". Free with fake_kubo_free. */
struct kubo *fake_kubo_new(void);
void fake_kubo_free(struct kubo *k);

/* Calls made since creation (or the last reset) to the function named call
 * without its kubo_ prefix ("files_stat", "gateway_get", "name_resolve",
 * ...), failed ones included; NULL: every call. */
unsigned long fake_kubo_calls(const struct kubo *k, const char *call);
void fake_kubo_reset_calls(struct kubo *k);

/* The next call (of any kind) fails with rc (a KUBO_* code) and does nothing. */
void fake_kubo_fail_next(struct kubo *k, int rc);
/* The next call to call ("files_flush", ...) fails with rc and does nothing. */
void fake_kubo_fail_call(struct kubo *k, const char *call, int rc);
/* Every call whose path argument (either one for files_cp; "/ipfs/<cid>" for
 * the gateway calls, "/ipns/<name>" for name_resolve) is path or below it
 * fails with rc and does nothing, until cleared with path NULL. */
void fake_kubo_fail_path(struct kubo *k, const char *path, int rc);

/* IPNS: name resolves to cid (NULL: the name has no record again). */
void fake_kubo_name_set(struct kubo *k, const char *name, const char *cid);

#endif
