/* xalloc: allocation that aborts on out-of-memory. A registry worker that
 * cannot allocate a few bytes cannot answer anyway; dying lets the master
 * respawn it and keeps every caller free of half-built OOM paths. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/xalloc.h"

void xalloc_die(const char *what, size_t n)
{
    /* no allocation and no stdio buffering here: memory is what we lack */
    char msg[96];
    int len = snprintf(msg, sizeof msg, "fatal: %s of %zu bytes failed\n", what, n);
    if (len > 0) {
        ssize_t w = write(STDERR_FILENO, msg, (size_t)len < sizeof msg ? (size_t)len : sizeof msg - 1);
        (void)w;
    }
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        xalloc_die("malloc", n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        xalloc_die("calloc", n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        xalloc_die("realloc", n);
    return q;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s);
    char *p = xmalloc(n + 1);
    memcpy(p, s, n + 1);
    return p;
}

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0)
        abort();   /* a format error is a programming error */
    char *p = xmalloc((size_t)n + 1);
    int m = vsnprintf(p, (size_t)n + 1, fmt, again);
    va_end(again);
    if (m != n)
        abort();
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = xvasprintf(fmt, ap);
    va_end(ap);
    return p;
}

void strv_free(char **v, size_t n)
{
    if (!v)
        return;
    if (n == (size_t)-1) {
        for (size_t i = 0; v[i]; i++)
            free(v[i]);
    } else {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
    }
    free(v);
}
