/* store_mfs: the storage mode backend. A registry in the CNCF distribution
 * layout (oci/paths.h) under an MFS directory of a Kubo node.
 *
 * Blobs are UnixFS files (CIDv1, raw leaves) made by add; upload chunks are
 * staged in MFS (so Kubo's GC can't take them) under `uploads` and joined
 * without copying (kubo_concat) when the upload completes. Every committed
 * change is flushed before the call returns, so it is pinned through MFS. */
#ifndef OCI_STORE_MFS_H
#define OCI_STORE_MFS_H
#include "core/store.h"
#include "ipfs/kubo.h"

/* root: mfsroot; uploads: MFS directory for staged chunks (outside root);
 * notify (copied; NULL: none) is told after each write clients see (core/store.h), once it is flushed.
 * k is borrowed (must outlive the store). Returns a store owned by the caller. */
struct store *store_mfs_new(struct kubo *k, const char *root, const char *uploads,
                            const struct store_notify *notify);
/* The same layout read from /ipfs/<cid> (a root another registry published):
 * reads, and a source for repo_import/blob_import; its writes fail. */
struct store *store_mfs_new_root(struct kubo *k, const char *cid);
/* Every write that links a digest first marks it in <statedir>/gc
 * (core/gcmark.h), so a collection running meanwhile keeps it. NULL: no
 * marks (a store no collection runs on, unit tests). */
void store_mfs_set_gc(struct store *s, const char *statedir);
void store_mfs_free(struct store *s);

#endif
