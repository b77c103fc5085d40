/* gc_set: a string set with stable indexes (see gc_set.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/xalloc.h"
#include "oci/gc_set.h"

/* FNV-1a: the keys are digests, already uniform; any cheap hash will do. */
static uint64_t gc_set_hash(const char *k)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ULL;
    return h;
}

void gc_set_init(struct gc_set *s)
{
    memset(s, 0, sizeof *s);
}

void gc_set_free(struct gc_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->keys[i]);
    free(s->keys);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

static size_t *gc_set_slot(const struct gc_set *s, const char *key)
{
    size_t mask = s->nslots - 1;
    for (size_t i = gc_set_hash(key) & mask;; i = (i + 1) & mask) {
        size_t *slot = &s->slots[i];
        if (*slot == 0 || strcmp(s->keys[*slot - 1], key) == 0)
            return slot;
    }
}

static void gc_set_grow(struct gc_set *s)
{
    size_t old_n = s->nslots;
    size_t *old = s->slots;
    s->nslots = old_n ? old_n * 2 : 64;
    s->slots = xcalloc(s->nslots, sizeof *s->slots);
    for (size_t i = 0; i < old_n; i++)
        if (old[i])
            *gc_set_slot(s, s->keys[old[i] - 1]) = old[i];
    free(old);
}

size_t gc_set_add(struct gc_set *s, const char *key, int *added)
{
    if ((s->n + 1) * 2 > s->nslots)
        gc_set_grow(s);
    size_t *slot = gc_set_slot(s, key);
    if (added)
        *added = *slot == 0;
    if (*slot)
        return *slot - 1;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->keys = xrealloc(s->keys, s->cap * sizeof *s->keys);
    }
    s->keys[s->n] = xstrdup(key);
    *slot = ++s->n;
    return s->n - 1;
}

long gc_set_find(const struct gc_set *s, const char *key)
{
    if (!s->nslots)
        return -1;
    size_t slot = *gc_set_slot(s, key);
    return slot ? (long)(slot - 1) : -1;
}
