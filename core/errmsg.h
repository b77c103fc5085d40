/* errmsg: the one way a module records, in words, why its last call failed.
 * Every layer keeps its last message in one owned string (a kubo client's,
 * a store's) beside the result code it returns; this sets that string, so
 * all messages read alike: "<prefix>: <what was being done>[: <cause>]". */
#ifndef CORE_ERRMSG_H
#define CORE_ERRMSG_H
#include <stdarg.h>

/* Replaces *slot (owned: freed here, NULL is fine) with
 * "<prefix>: <fmt ...>: <cause>"; prefix and cause may be NULL (then they
 * and their ": " are left out). slot == NULL records nothing. Returns rc,
 * so a caller can `return errmsg_set(&x->err, RC, ...)`. */
int errmsg_set(char **slot, int rc, const char *prefix, const char *cause, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int errmsg_vset(char **slot, int rc, const char *prefix, const char *cause, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

#endif
