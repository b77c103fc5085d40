/* xalloc: allocation that aborts on out-of-memory, so callers stay short and
 * no half-built state leaks from an OOM path (lighttpd's ck_malloc habit). */
#ifndef CORE_XALLOC_H
#define CORE_XALLOC_H
#include <stdarg.h>
#include <stddef.h>

/* Says on stderr that an allocation of what (n bytes) failed, and aborts.
 * For the x-wrappers of other allocators (core/xjson.h). */
void xalloc_die(const char *what, size_t n) __attribute__((noreturn));
void *xmalloc(size_t n);                 /* never NULL */
void *xcalloc(size_t n, size_t size);    /* never NULL, zeroed */
void *xrealloc(void *p, size_t n);       /* never NULL */
char *xstrdup(const char *s);            /* caller frees */
char *xstrndup(const char *s, size_t n); /* caller frees; always NUL-terminated */
/* printf into a new string; caller frees. Aborts on format errors. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with a va_list (ap is consumed, as by vsnprintf). */
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* free a NULL-terminated or counted string vector (n may be (size_t)-1 for NULL-terminated) */
void strv_free(char **v, size_t n);

#endif
