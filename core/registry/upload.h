/* upload: blob upload sessions, kept as files in <statedir>/uploads so that
 * any worker can continue a session another one started.
 *
 * <id>.json holds the session (name, algorithm, offset, saved hash state,
 * chunk list, creation time) and is replaced atomically (write + rename);
 * <id>.lock is flock()ed while a request works on the session, so two PATCHes
 * to one session never interleave. */
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
    struct store_chunk *chunks;
    size_t nchunks;
    /* private */
    char *dir;
    int lock_fd;
};

enum upload_rc { UPLOAD_OK = 0, UPLOAD_NOT_FOUND, UPLOAD_BUSY, UPLOAD_ERROR };

/* Creates a new session (random id) and leaves it locked. */
int upload_create(const char *statedir, const char *name, enum digest_alg alg, struct upload *u);
/* Loads and locks session id. NOT_FOUND if absent or expired; BUSY if another
 * request holds it. */
int upload_open(const char *statedir, const char *id, struct upload *u);
void upload_add_chunk(struct upload *u, const struct store_chunk *c);
int upload_save(struct upload *u);        /* 0 ok, -1 error (errno set) */
int upload_remove(struct upload *u);      /* deletes the session files */
void upload_close(struct upload *u);      /* unlocks and frees (does not delete) */

/* Removes sessions older than max_age seconds, calling discard(id) for each
 * (to free staged content). Returns how many were removed. */
typedef void (*upload_discard_fn)(void *ctx, const char *id);
int upload_sweep(const char *statedir, time_t max_age, upload_discard_fn discard, void *ctx);

#endif
