/* store_kubo: where the Kubo client's results (enum kubo_rc, ipfs/kubo.h)
 * become the store interface's (enum store_rc, core/store.h): the one
 * mapping between the two, used by every backend that calls Kubo. */
#ifndef OCI_STORE_KUBO_H
#define OCI_STORE_KUBO_H
#include "core/store.h"
#include "ipfs/kubo.h"

/* KUBO_OK -> STORE_OK, NOT_FOUND, UNAVAILABLE, ABORTED and TOO_LARGE to
 * their namesakes; EXISTS and ERROR (and anything else) -> STORE_ERROR. */
int store_rc_of_kubo(int krc);

/* A failed Kubo call: records "<prefix>: <fmt ...>: <Kubo's message>" in
 * *slot (core/errmsg.h) and returns store_rc_of_kubo(krc). */
int store_kubo_fail(char **slot, const char *prefix, struct kubo *k, int krc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
