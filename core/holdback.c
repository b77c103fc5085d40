/* holdback: hash while passing on, tail held back (see holdback.h). */
#include <stdlib.h>
#include <string.h>
#include "core/holdback.h"
#include "core/xalloc.h"

void holdback_init(struct holdback *v, enum digest_alg alg, size_t cap, store_write_cb cb, void *ctx)
{
    memset(v, 0, sizeof *v);
    hasher_init(&v->h, alg);
    v->cb = cb;
    v->ctx = ctx;
    v->cap = cap;
    if (cb)
        v->hold = xmalloc(cap);
}

int holdback_write(void *arg, const char *p, size_t n)
{
    struct holdback *v = arg;
    v->seen += n;
    hasher_update(&v->h, p, n);
    if (!v->cb)
        return 0;
    if (v->nhold + n <= v->cap) {
        memcpy(v->hold + v->nhold, p, n);
        v->nhold += n;
        return 0;
    }
    size_t flush = v->nhold + n - v->cap;
    size_t from_hold = flush < v->nhold ? flush : v->nhold;
    if (from_hold && v->cb(v->ctx, v->hold, from_hold) != 0)
        return -1;
    memmove(v->hold, v->hold + from_hold, v->nhold - from_hold);
    v->nhold -= from_hold;
    size_t from_p = flush - from_hold;
    if (from_p && v->cb(v->ctx, p, from_p) != 0)
        return -1;
    memcpy(v->hold + v->nhold, p + from_p, n - from_p);
    v->nhold += n - from_p;
    return 0;
}

void holdback_detach(struct holdback *v)
{
    v->cb = NULL;
    v->nhold = 0;
}

int holdback_finish(struct holdback *v, const struct digest *want, uint64_t size, struct digest *got)
{
    hasher_final(&v->h, got);
    if (!digest_equal(got, want) || v->seen != size) {
        v->nhold = 0;
        return -2;
    }
    if (v->cb && v->nhold && v->cb(v->ctx, v->hold, v->nhold) != 0)
        return -1;
    v->nhold = 0;
    return 0;
}

void holdback_free(struct holdback *v)
{
    free(v->hold);
    v->hold = NULL;
}
