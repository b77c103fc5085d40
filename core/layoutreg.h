/* layoutreg: what this registry knows, in statedir, about the OCI image
 * layouts it writes (layout push, docs/design-layout-push.md):
 *
 *   <statedir>/layouts/<h>.lock   flock'd by the one writer of layout <h>
 *                                 (its index.json read-modify-write);
 *   <statedir>/layouts/<h>.json   {"path", "cid", "root", "updated"}: the
 *                                 layout's CID and the root CID holding it
 *                                 after its last write (replaced atomically),
 *                                 read by the status endpoint.
 *
 * <h> is the first 16 hex digits of the SHA-256 of the layout's path. */
#ifndef CORE_LAYOUTREG_H
#define CORE_LAYOUTREG_H
#include <json-c/json.h>

/* Takes layout path's lock (blocking). Returns the lock's fd (give it to
 * layoutreg_unlock), or -1 with errno set. */
int layoutreg_lock(const char *statedir, const char *path);
void layoutreg_unlock(int fd);
/* Records the layout's CID and its root's after a write. 0, or -1 (errno). */
int layoutreg_note(const char *statedir, const char *path, const char *cid, const char *root);
/* Every recorded layout as a JSON array of {"path","cid","root","updated"}
 * objects, sorted by path (caller puts it; empty when there are none). */
json_object *layoutreg_list(const char *statedir);

#endif
