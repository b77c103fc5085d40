/* store_kubo: see store_kubo.h. */
#include <stdarg.h>
#include "core/errmsg.h"
#include "oci/store_kubo.h"

int store_rc_of_kubo(int krc)
{
    switch (krc) {
    case KUBO_OK: return STORE_OK;
    case KUBO_NOT_FOUND: return STORE_NOT_FOUND;
    case KUBO_UNAVAILABLE: return STORE_UNAVAILABLE;
    case KUBO_ABORTED: return STORE_ABORTED;
    case KUBO_TOO_LARGE: return STORE_TOO_LARGE;
    default: return STORE_ERROR;
    }
}

int store_kubo_fail(char **slot, const char *prefix, struct kubo *k, int krc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = errmsg_vset(slot, store_rc_of_kubo(krc), prefix, kubo_errmsg(k), fmt, ap);
    va_end(ap);
    return rc;
}
