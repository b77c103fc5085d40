/* layout_cache: what the workers learn about immutable /ipfs content (a
 * layout's index.json, blob sizes and CIDs, verified manifests, blob
 * verdicts) and short-lived IPNS resolutions, shared by every worker through
 * files in one directory (<statedir>/layout-cache).
 *
 * Bounded by construction: a direct-mapped table of LAYOUT_CACHE_SLOTS files,
 * the slot chosen by hashing the key; an entry evicts whatever held its slot
 * before, and values over LAYOUT_CACHE_VALUE_MAX are not cached. So the
 * directory never holds more than SLOTS x VALUE_MAX bytes (256 MiB), and in
 * practice a few KiB per image.
 *
 * Concurrency: a slot is replaced by writing a temporary file and rename()ing
 * it over the slot, so a reader sees a whole old entry or a whole new one,
 * never a mix; no locks. Each slot stores its full key, so a collision reads
 * as a miss. Values are facts about content-addressed data, so two workers
 * racing to write the same key write the same thing. Failures to read or write
 * the cache are never errors: the caller asks Kubo instead. */
#ifndef OCI_LAYOUT_CACHE_H
#define OCI_LAYOUT_CACHE_H
#include <stddef.h>
#include <time.h>
#include "core/buf.h"

#define LAYOUT_CACHE_SLOTS 2048
#define LAYOUT_CACHE_VALUE_MAX (128 * 1024)

struct layout_cache;

/* dir is created (with parents) on first write. NULL dir: a cache that
 * never hits (nothing is shared). */
struct layout_cache *layout_cache_new(const char *dir);
void layout_cache_free(struct layout_cache *c);
/* 1 and the value appended to out (out's cap applies) if key is cached and
 * not expired; 0 otherwise. */
int layout_cache_get(struct layout_cache *c, const char *key, struct buf *out);
/* Caches value under key; expires is an absolute time, 0 for never. */
void layout_cache_put(struct layout_cache *c, const char *key, const void *value, size_t len,
                      time_t expires);
/* Hits and misses since creation (for the per-request debug line). */
unsigned long layout_cache_hits(const struct layout_cache *c);
unsigned long layout_cache_misses(const struct layout_cache *c);

#endif
