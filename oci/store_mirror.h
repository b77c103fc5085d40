/* store_mirror: the pull-through mirror (docs/design-mirror.md). A store in
 * front of the storage chain (inner) for the repositories under each
 * upstream's prefix: "<prefix>/<name>" is <name> at that upstream. Reads
 * ask inner first; what it lacks is fetched from the upstream and stored
 * through inner exactly like a push (so it is published, mirrored and
 * collected like the rest):
 *
 * - a manifest by digest: fetched, capped, verified, stored untagged;
 * - a tag: served from inner while its record (<statedir>/mirror/tags) is
 *   younger than the upstream's freshness, else checked with a HEAD
 *   upstream and fetched when it moved; an upstream that is down or
 *   answers 5xx leaves the cached tag served (logged as stale);
 * - a blob: one fetch per digest across workers (an flock in
 *   <statedir>/mirror/locks; the others wait, then read what was stored);
 *   the fetcher streams the upstream's bytes to its client as they arrive
 *   (the last 64 KiB held back until the digest matches: core/holdback.h)
 *   and to a staging file, then commits it through inner: after the
 *   answer went out (upkeep, between requests), so neither the client nor
 *   its next request on the connection waits for the commit; the digest's
 *   lock is held until the commit is done. A client that goes away does
 *   not stop the fetch.
 *
 * Writes are inner's (the registry refuses client writes to mirrored names
 * unless mirror_writable). Ownership: inner is borrowed; the upstream
 * clients are owned. */
#ifndef OCI_STORE_MIRROR_H
#define OCI_STORE_MIRROR_H
#include <stddef.h>
#include <stdint.h>
#include "core/store.h"
#include "oci/upstream.h"

struct store_mirror_upstream {
    const char *ns;        /* the host clients name (?ns=) */
    const char *prefix;    /* storage repositories under it are this upstream's */
    int freshness;         /* seconds a tag is served without asking */
    struct upstream_opts client;
};

struct store *store_mirror_new(struct store *inner, const struct store_mirror_upstream *u, size_t n,
                               const char *statedir);
void store_mirror_free(struct store *s);

#endif
