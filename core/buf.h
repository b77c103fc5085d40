/* buf: a growable byte buffer with a hard maximum size (curl's dynbuf habit).
 * Every buffer filled from request or peer data is created with a cap, so a
 * hostile peer can never grow it without bound. data is always NUL-terminated. */
#ifndef CORE_BUF_H
#define CORE_BUF_H
#include <stddef.h>

struct buf {
    char *data;   /* NULL until the first append; NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max;   /* appends that would exceed max fail */
};

void buf_init(struct buf *b, size_t max);
/* 0 on success, -1 if len would exceed max (the buffer is freed and reset). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_appends(struct buf *b, const char *s);
int buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *buf_cstr(const struct buf *b);   /* "" when empty; never NULL */
void buf_reset(struct buf *b);               /* len = 0, keeps memory and max */
char *buf_take(struct buf *b);               /* hands the string to the caller (may be NULL if empty), resets b */
void buf_free(struct buf *b);

#endif
