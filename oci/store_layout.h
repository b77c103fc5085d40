/* store_layout: the middleware mode backend. Repository names
 * "ipfs/<cid>[/<path>]" and "ipns/<name>[/<path>]" (oci/layout.h) are OCI
 * image layouts on IPFS, served read-only: every write answers STORE_ERROR
 * (core/registry.c refuses writes on these names before they get here).
 *
 * Nothing read from a layout is trusted: manifests are hashed before they
 * are served, a blob is hashed while it streams (the last bytes held back
 * until the hash matches) or before a HEAD/Range answers, and every verdict
 * is remembered per (blob CID, digest). What is learnt about /ipfs content
 * (immutable) is cached for every worker in a layout_cache; IPNS resolutions
 * for at most ipns_ttl seconds. */
#ifndef OCI_STORE_LAYOUT_H
#define OCI_STORE_LAYOUT_H
#include <stdint.h>
#include <time.h>
#include "core/store.h"
#include "ipfs/kubo.h"

/* k is borrowed (must outlive the store). cache_dir: the shared cache
 * directory (NULL: no cache). ipns_ttl: longest an IPNS resolution is reused
 * (0: never). manifest_max caps index.json and manifests read from a layout.
 * Returns a store owned by the caller (free with store_layout_free). */
struct store *store_layout_new(struct kubo *k, const char *cache_dir, time_t ipns_ttl,
                               uint64_t manifest_max);
void store_layout_free(struct store *s);

#endif
