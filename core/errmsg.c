/* errmsg: see errmsg.h. */
#include <stdlib.h>
#include "core/errmsg.h"
#include "core/xalloc.h"

int errmsg_vset(char **slot, int rc, const char *prefix, const char *cause, const char *fmt, va_list ap)
{
    if (!slot)
        return rc;
    char *what = xvasprintf(fmt, ap);
    char *msg = xasprintf("%s%s%s%s%s", prefix ? prefix : "", prefix ? ": " : "", what,
                          cause ? ": " : "", cause ? cause : "");
    free(what);
    free(*slot);
    *slot = msg;
    return rc;
}

int errmsg_set(char **slot, int rc, const char *prefix, const char *cause, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rc = errmsg_vset(slot, rc, prefix, cause, fmt, ap);
    va_end(ap);
    return rc;
}
