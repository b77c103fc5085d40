/* store_layout_rw: the layout writer (layout push, docs/design-layout-push.md).
 * Repository names "ipns/<own key>/<path>" are OCI image layouts this
 * registry writes into MFS at <mfsroot>/<path>: oci-layout, index.json (one
 * descriptor per tag, org.opencontainers.image.ref.name; untagged manifests
 * keep a descriptor without it) and blobs/<alg>/<hex>. <mfsroot> is what the
 * publisher publishes under the key, so other nodes read the layout with the
 * read-only layout store, and `ipfs get` gives a standard layout folder.
 *
 * Bytes go through the storage chain (inner): uploads are its uploads, and
 * every blob and manifest of a layout is also linked in storage mode under
 * the hidden repository "_layouts/<path>" (a name no client can use: '_'
 * never starts a component, and the catalog skips it), which keeps the
 * bytes held (blob files, their sweep, garbage collection) and serves the
 * layout's blob reads exactly as storage mode's, front-server sends
 * included. The layout's blobs/ links the same CIDs: no byte is copied.
 *
 * One writer per layout at a time: every write holds the layout's flock
 * (core/layoutreg.h) around its MFS changes and ends with one flush of
 * <mfsroot> and store_notify, as storage mode's writes do.
 *
 * Ownership: inner and k are borrowed; strings are copied. */
#ifndef OCI_STORE_LAYOUT_RW_H
#define OCI_STORE_LAYOUT_RW_H
#include <stdint.h>
#include "core/store.h"
#include "ipfs/kubo.h"

/* The storage-mode repository that holds layout path's bytes ("_layouts/<path>"). */
#define LAYOUT_RW_SHADOW "_layouts"

/* allow_sparse: manifests may name blobs the layout lacks (the registry's
 * allow_sparse), so a manifest PUT does not re-check them under the lock. */
struct store *store_layout_rw_new(struct store *inner, struct kubo *k, const char *mfsroot,
                                  const char *statedir, uint64_t manifest_max, int allow_sparse,
                                  const struct store_notify *notify);
void store_layout_rw_free(struct store *s);

#endif
