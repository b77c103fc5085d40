/* cache_shm: a fixed-size table of small values shared by every worker,
 * and the generation counter that makes it correct without timing.
 *
 * The master maps it (anonymous, MAP_SHARED) before forking, so workers
 * inherit one table for the master's lifetime; nothing is on disk and a
 * restarted master starts empty. Readers never block: each slot is a
 * seqlock (odd while a writer fills it), a torn read is a miss, a writer
 * that finds a slot busy skips caching. Values are stamped with the
 * generation they were read at; the store bumps the generation after each
 * of its writes, so a value read before a write finished is never served
 * after it (see oci/store_cache.c). Keys are the first 128 bits of the
 * SHA-256 of the caller's key string. */
#ifndef OCI_CACHE_SHM_H
#define OCI_CACHE_SHM_H
#include <stddef.h>
#include <stdint.h>

/* Longest value a slot holds: a sha256 digest string (71) or a CIDv1 (59)
 * fits; longer values (sha512 digests) are simply not cached. */
#define CACHE_SHM_VAL_MAX 80
/* A generation for content-addressed values, valid forever. */
#define CACHE_SHM_IMMUTABLE UINT64_MAX

struct cache_shm_val {
    int rc;              /* the cached answer's code (the caller's meaning) */
    uint64_t size;
    size_t len;          /* bytes in data (not NUL-terminated by the table) */
    char data[CACHE_SHM_VAL_MAX + 1];
};

/* Maps a table of about `bytes` (rounded down to whole sets) for this
 * process and its future children; too small to hold one set (0) leaves it
 * off. 0, or -1 with *err (caller frees). Calling it again is a no-op. */
int cache_shm_init(size_t bytes, char **err);
/* How many entries a table of `bytes` holds. */
size_t cache_shm_entries_for(size_t bytes);
/* 1 when a table is mapped (workers of a master); 0: callers don't cache. */
int cache_shm_available(void);
/* Drops the mapping (tests). */
void cache_shm_fini(void);

/* Makes every cache_shm_gen look at the size of the file at path (NULL:
 * stop): when it changed, the generation is bumped, so a change made
 * outside the workers (a collection, core/gcmark.h's epoch) is never
 * answered from what was cached before it. */
void cache_shm_watch(const char *path);
uint64_t cache_shm_gen(void);
/* Every write to the cached store calls this after it is done. */
void cache_shm_bump(void);

/* 1 and *out on a hit for key read at generation gen (or immutable), else 0. */
int cache_shm_get(const char *key, uint64_t gen, struct cache_shm_val *out);
/* Stores v under key, read at generation gen. Best effort. */
void cache_shm_put(const char *key, uint64_t gen, const struct cache_shm_val *v);

#endif
