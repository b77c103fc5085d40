/* gc_set: a set of strings (digests, "repo digest" pairs) for one
 * collection, each with a stable index the caller can key its own arrays
 * by. Open addressing, grown by doubling; nothing is ever removed. */
#ifndef OCI_GC_SET_H
#define OCI_GC_SET_H
#include <stddef.h>

struct gc_set {
    char **keys;         /* by index, owned */
    size_t n, cap;       /* keys in use, room in keys */
    size_t *slots;       /* hash table of index + 1 (0: empty) */
    size_t nslots;       /* a power of two */
};

void gc_set_init(struct gc_set *s);
void gc_set_free(struct gc_set *s);
/* The index of key, added when missing (*added, may be NULL, says which). */
size_t gc_set_add(struct gc_set *s, const char *key, int *added);
/* The index of key, or -1 when missing. */
long gc_set_find(const struct gc_set *s, const char *key);
static inline int gc_set_has(const struct gc_set *s, const char *key) { return gc_set_find(s, key) >= 0; }

#endif
