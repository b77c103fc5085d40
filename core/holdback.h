/* holdback: passing untrusted bytes on while they are hashed, always
 * holding the last `cap` bytes back, so a reader never receives a complete
 * wrong blob: the tail is released only once the whole hash matches (a
 * mismatch ends the response short, which clients see as a failure).
 * Used for blobs read from OCI layouts on IPFS (oci/store_layout.c) and
 * fetched from upstream registries (oci/store_mirror.c). */
#ifndef CORE_HOLDBACK_H
#define CORE_HOLDBACK_H
#include <stddef.h>
#include <stdint.h>
#include "core/digest.h"
#include "core/store.h"

#define HOLDBACK_DEFAULT (64 * 1024)

struct holdback {
    struct hasher h;
    store_write_cb cb;   /* NULL: only hash */
    void *ctx;
    char *hold;          /* owned, cap bytes when cb */
    size_t nhold, cap;
    uint64_t seen;       /* bytes hashed */
};

/* cb may be NULL (hash only). */
void holdback_init(struct holdback *v, enum digest_alg alg, size_t cap, store_write_cb cb, void *ctx);
/* A store_write_cb: hashes p, passes on what is older than the last cap
 * bytes. -1 when cb refused (the reader went away). */
int holdback_write(void *v, const char *p, size_t n);
/* Stops passing bytes on (the reader went away): the rest is only hashed. */
void holdback_detach(struct holdback *v);
/* Finishes the hash into *got. If it is want and seen is size, the held
 * bytes go to cb: 0 (or -1 if cb refused them); else -2 and nothing more
 * is passed on. */
int holdback_finish(struct holdback *v, const struct digest *want, uint64_t size, struct digest *got);
void holdback_free(struct holdback *v);

#endif
