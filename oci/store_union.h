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
 * After each local write that returned STORE_OK, one byte goes to
 * notify_fd (non-blocking; a full pipe already means "changed"), which
 * tells the publisher. */
#ifndef OCI_STORE_UNION_H
#define OCI_STORE_UNION_H
#include "core/store.h"
#include "ipfs/kubo.h"

/* local: the MFS store of mfsroot (borrowed, must outlive the union); k
 * borrowed; statedir: where roots.json is (NULL: no read-only roots);
 * notify_fd: -1 for none. Returns a store owned by the caller. */
struct store *store_union_new(struct kubo *k, struct store *local, const char *mfsroot,
                              const char *statedir, int notify_fd);
void store_union_free(struct store *s);

#endif
