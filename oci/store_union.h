/* store_union: the storage the workers see — this registry's own MFS store
 * plus the read-only roots other registries published under the
 * readonlyipnskeys (resolved by the resolver into <statedir>/roots.json).
 *
 * Ownership is per repository:
 *   - a repository that exists under mfsroot is served from there only (a
 *     tag deleted here never comes back from a mirror; no other key can add
 *     tags to it);
 *   - any other repository is served from the first read-only root, in
 *     configured order, that has it, with that root's own blob store;
 *   - _catalog is the union of the names over all roots;
 *   - a write to a repository only a read-only root has first copies that
 *     repository (its links, and its blobs by CID: no data is copied) into
 *     mfsroot, which then owns it.
 * The union is a pure composite: it calls only store operations (the local
 * store's repo_import/blob_import take a repository or a blob over), and
 * the local store tells the publisher about its own writes
 * (struct store_notify). */
#ifndef OCI_STORE_UNION_H
#define OCI_STORE_UNION_H
#include "core/store.h"

/* How the union opens the store of a read-only root, the tree another
 * registry published at /ipfs/<cid>, and frees it. */
struct store_union_roots {
    struct store *(*open)(void *ctx, const char *cid);
    void (*close)(void *ctx, struct store *s);
    void *ctx;
};

/* local: this registry's own store (borrowed, must outlive the union);
 * statedir: where roots.json is; roots (copied): NULL, or statedir NULL,
 * for no read-only roots. Returns a store owned by the caller. */
struct store *store_union_new(struct store *local, const char *statedir,
                              const struct store_union_roots *roots);
void store_union_free(struct store *s);

#endif
