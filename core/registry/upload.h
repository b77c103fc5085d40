/* upload: blob upload sessions, kept as files in <statedir>/uploads so that
 * any worker can continue a session another one started.
 *
 * <id>.json holds the session (name, algorithm, offset, saved hash state,
 * chunk list, creation time) and is replaced atomically (write + rename);
 * <id>.lock is flock()ed while a request works on the session, so two PATCHes
 * to one session never interleave; its size says whether chunks may have
 * been staged in the store (0: never, so removing the session needs no
 * store call).
 *
 * How many sessions are open is counted in the metrics segment every worker
 * shares (core/metrics.h: upload_sessions), so a create can refuse past a
 * maximum without listing the directory each time (ext4 lists 20,000 entries
 * in tens of ms). Creates and removals keep it; it is taken from the
 * directory when it was never taken, and when it says the maximum is
 * reached (at most every 10 s: a worker killed between a session file and
 * the count leaves it one too high). <statedir>/uploads/.count keeps
 * those counts from missing creates and removals made meanwhile. */
#ifndef CORE_REGISTRY_UPLOAD_H
#define CORE_REGISTRY_UPLOAD_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "core/digest.h"
#include "core/store.h"

struct upload {
    char id[33];
    char *name;                  /* repository */
    struct hasher hash;          /* running hash of bytes 0..offset */
    uint64_t offset;             /* bytes received */
    time_t created;
    int staged;                  /* chunks may be in the store (upload_mark_staged) */
    struct store_chunk *chunks;
    size_t nchunks;
    /* private */
    char *dir;
    int lock_fd;
};

enum upload_rc { UPLOAD_OK = 0, UPLOAD_NOT_FOUND, UPLOAD_BUSY, UPLOAD_ERROR, UPLOAD_FULL };

/* Creates a new session (random id) and leaves it locked. UPLOAD_FULL when
 * max_sessions are open already (0: no maximum). */
int upload_create(const char *statedir, const char *name, enum digest_alg alg,
                  unsigned max_sessions, struct upload *u);
/* Loads and locks session id. NOT_FOUND if absent or expired; BUSY if another
 * request holds it. */
int upload_open(const char *statedir, const char *id, struct upload *u);
void upload_add_chunk(struct upload *u, const struct store_chunk *c);
/* Records, before a chunk goes to the store, that this session may have
 * staged content to discard (a chunk staged by a request that then failed
 * is not in the chunk list). Not synced: after a machine crash such a
 * chunk may be left in the store. 0, or -1 with errno. */
int upload_mark_staged(struct upload *u);
int upload_save(struct upload *u);        /* 0 ok, -1 error (errno set) */
int upload_remove(struct upload *u);      /* deletes the session files */
void upload_close(struct upload *u);      /* unlocks and frees (does not delete) */

/* Removes sessions older than max_age seconds, calling discard(id) for each
 * that may have staged content (to free it). Stops after about budget_ms
 * (0: no limit), setting *more (NULL: not wanted) when it did. Returns how
 * many were removed. */
typedef void (*upload_discard_fn)(void *ctx, const char *id);
int upload_sweep(const char *statedir, time_t max_age, long budget_ms, upload_discard_fn discard,
                 void *ctx, int *more);
/* upload_sweep, unless one ran (in any process) less than interval seconds
 * ago or is running now: the workers take turns through
 * <statedir>/uploads/.sweep (flock for "running", mtime for "when"). One
 * that ran out of budget_ms is due again at once, and sets *more (NULL:
 * not wanted). Returns how many were removed. */
int upload_sweep_due(const char *statedir, time_t max_age, time_t interval, long budget_ms,
                     upload_discard_fn discard, void *ctx, int *more);
/* Sessions open, as counted (see the top of this file). */
uint64_t upload_open_count(void);

#endif
