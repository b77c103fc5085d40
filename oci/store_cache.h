/* store_cache: a decorator that answers the registry's metadata reads
 * (tags, manifest and blob links, manifest bytes, tag lists) from memory,
 * for any struct store whose content only this registry writes (the MFS
 * store of mfsroot; not read-only roots, which change under us).
 *
 * Correctness never depends on timing. Every write through this store
 * bumps a generation counter shared by all workers (oci/cache_shm.h) after
 * it is done, before the response goes out; every cached value carries the
 * generation current *before* it was read from the inner store, and is
 * served only while that is still the current generation. So a tag moved
 * by a push is seen by the next request on any worker. Content addressed by
 * digest (manifest bytes) never changes and needs no generation.
 * Small values live in the shared table; manifest bytes and tag lists,
 * which are larger, in a small per-worker memory (same generation rule).
 * Without a shared table (cache_shm_init not called) it passes through. */
#ifndef OCI_STORE_CACHE_H
#define OCI_STORE_CACHE_H
#include "core/store.h"

/* inner is borrowed (must outlive the cache). Returns a store owned by the
 * caller. Bumps the generation: a worker replacing one that died in the
 * middle of a write never serves what was cached before it. */
struct store *store_cache_new(struct store *inner);
void store_cache_free(struct store *s);

#endif
