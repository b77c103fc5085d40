/* store: the storage interface the registry handlers (core/registry/h_*.c) call.
 * core/ never speaks to Kubo; a backend (oci/store_mfs.c: the CNCF
 * distribution layout in Kubo's MFS) implements these operations. Later
 * backends (read-only IPNS roots, OCI layouts on IPFS) plug in the same way.
 *
 * Every operation returns an enum store_rc; on anything but STORE_OK,
 * store_errmsg() says what was being done ("ipfs: files/stat /x/...: ..."). */
#ifndef CORE_STORE_H
#define CORE_STORE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/buf.h"
#include "core/digest.h"

enum store_rc {
    STORE_OK = 0,
    STORE_NOT_FOUND,     /* the thing (or its repository) does not exist */
    STORE_UNAVAILABLE,   /* the IPFS node can't be reached: 503, retry later */
    STORE_ERROR,         /* anything else: 500 */
    STORE_ABORTED,       /* a callback asked to stop (client gone, digest mismatch) */
    STORE_TOO_LARGE,     /* content over the caller's cap */
    STORE_INVALID,       /* the source content is not what it claims (a malformed OCI
                          * layout, bytes that do not hash to their name): answered
                          * with the handler's "unknown" code and errmsg as message */
};

/* Sink for streamed bytes: 0 to continue, -1 to abort. */
typedef int (*store_write_cb)(void *ctx, const char *p, size_t n);
/* Source of streamed bytes: >0 bytes, 0 end, -1 abort. */
typedef ssize_t (*store_read_cb)(void *ctx, char *p, size_t n);

#define STORE_CID_MAX 128

/* One uploaded chunk as the store keeps it. */
struct store_chunk {
    char cid[STORE_CID_MAX];
    uint64_t size;
};

/* What blob_stat learns about a blob; blob_read takes it back, so a GET costs
 * one lookup and no hidden state is kept between calls. */
struct store_blob {
    uint64_t size;
    char cid[STORE_CID_MAX];
    struct digest digest;    /* what the bytes must hash to (set by blob_stat) */
    int file;                /* the bytes are a blob file (core/blobfile.h) that a front
                              * server may send: set by oci/store_files.c's blob_stat */
};

struct store;

struct store_ops {
    /* Blobs, as linked into repository name. */
    int (*blob_stat)(struct store *, const char *name, const struct digest *, struct store_blob *out);
    int (*blob_read)(struct store *, const struct store_blob *,
                     uint64_t offset, uint64_t length, store_write_cb, void *ctx);
    int (*blob_unlink)(struct store *, const char *name, const struct digest *);
    /* Link an existing blob into name: from a repository (from != NULL, which
     * must have it linked) or from anywhere in the store (from == NULL). */
    int (*blob_mount)(struct store *, const char *name, const char *from, const struct digest *);
    /* Optional (NULL: the store trusts its own content). Called before a
     * HEAD or a Range GET answers, so neither vouches for bytes that were
     * never checked against their digest; a whole GET verifies in blob_read. */
    int (*blob_verify)(struct store *, const struct store_blob *);
    /* Optional (NULL: not offered). Bytes [offset, offset+length) of the
     * blob as a socket positioned at them, for a sender that splices them
     * on without seeing them: so only for stores that need not hash what
     * they serve (no blob_verify). *fd is the caller's to close; exactly
     * length bytes are left to read from it. Anything but STORE_OK is no
     * verdict on the blob: the caller uses blob_read. */
    int (*blob_open)(struct store *, const struct store_blob *, uint64_t offset, uint64_t length,
                     int *fd);

    /* Optional (NULL: not offered). Copy repository name whole from store
     * from, a store of the same kind (its links, tags and revisions, and
     * every blob it links, each by reference: no bytes are copied), so that
     * this store owns it; what this store has already of it stays. */
    int (*repo_import)(struct store *, const char *name, struct store *from);
    /* Optional (NULL: not offered). Make blob d of store from (of the same
     * kind) part of this store's blobs, by reference, without linking it
     * into any repository: from from_name's links if from_name is not NULL,
     * else from from's blobs. STORE_NOT_FOUND if from does not have it. */
    int (*blob_import)(struct store *, struct store *from, const char *from_name,
                       const struct digest *d);

    /* Uploads: chunk idx of session id, starting at byte offset of the
     * upload, streams from cb into the store. whole is not NULL when this
     * chunk is the whole blob and the client named its digest up front (a
     * monolithic upload): a store may then write it where blob whole goes
     * in the same pass; the caller still verifies the digest before
     * blob_commit, and upload_discard undoes what a mismatch left. */
    int (*chunk_put)(struct store *, const char *upload_id, unsigned idx, uint64_t offset,
                     const struct digest *whole, store_read_cb cb, void *ctx,
                     struct store_chunk *out);
    /* The chunks, in order, as one piece of content; *out gets its CID. */
    int (*chunks_join)(struct store *, const struct store_chunk *chunks, size_t n,
                       struct store_chunk *out);
    /* Stream stored content (a joined upload) by CID, e.g. to re-hash it. */
    int (*content_read)(struct store *, const struct store_chunk *c, store_write_cb, void *ctx);
    /* Make verified content the blob d and link it into name. */
    int (*blob_commit)(struct store *, const char *name, const struct digest *d,
                       const struct store_chunk *content);
    /* Forget an upload's staged chunks (missing is fine). */
    int (*upload_discard)(struct store *, const char *upload_id);

    /* Manifests. get/exists answer NOT_FOUND unless d is a revision of name. */
    int (*tag_resolve)(struct store *, const char *name, const char *tag, struct digest *out);
    int (*manifest_exists)(struct store *, const char *name, const struct digest *);
    int (*manifest_get)(struct store *, const char *name, const struct digest *, struct buf *out);
    /* Store bytes under d (already verified), link it, point tags at it and,
     * if subject != NULL, record it as a referrer of subject. */
    int (*manifest_put)(struct store *, const char *name, const struct digest *d,
                        const char *data, size_t len, char *const *tags, size_t ntags,
                        const struct digest *subject);
    /* Unlink revision d, every tag that points at it and its referrer entry. */
    int (*manifest_delete)(struct store *, const char *name, const struct digest *d,
                           const struct digest *subject);
    int (*tag_delete)(struct store *, const char *name, const char *tag);
    /* Unsorted; caller frees with strv_free. NOT_FOUND if the repository doesn't exist. */
    int (*tags_list)(struct store *, const char *name, char ***tags, size_t *n);
    /* Digests of manifests in name whose subject is subject; caller frees *out. */
    int (*referrers)(struct store *, const char *name, const struct digest *subject,
                     struct digest **out, size_t *n);
    /* Optional (NULL: not offered; ask referrers per subject). The
     * subjects in name that have referrers, as digest strings, unsorted;
     * caller frees with strv_free. One call for a page of tags (the web
     * view) instead of a referrers call per tag, most of which find none. */
    int (*referrer_subjects)(struct store *, const char *name, char ***subjects, size_t *n);
    /* Every repository name, unsorted; caller frees with strv_free. */
    int (*catalog)(struct store *, char ***names, size_t *n);
    /* 1 exists, 0 does not, -1 error (see errmsg). */
    int (*repo_exists)(struct store *, const char *name);
    /* Optional (NULL: none). After a write to name through this store: the
     * immutable address that holds it once published, "/ipfs/<root
     * CID>/<path>" (n bytes, NUL-terminated); STORE_NOT_FOUND if none. */
    int (*published_at)(struct store *, const char *name, char *out, size_t n);
    /* Optional (NULL: none). Work a request left for after its answer went
     * out (the worker calls it between requests, never inside one). */
    void (*upkeep)(struct store *);
    /* Health: one cheap call to the node, answered within timeout_ms. STORE_OK
     * with the node's version in version (n bytes, NUL-terminated), else
     * UNAVAILABLE or ERROR. May be NULL (a backend with nothing to ask). */
    int (*ping)(struct store *, long timeout_ms, char *version, size_t n);
    const char *(*errmsg)(struct store *);
};

struct store {
    const struct store_ops *ops;
    void *impl;
};

/* Told after every write that changed what clients of a store see: a
 * manifest or tag written or deleted, a blob deleted; not blobs arriving,
 * which only matter once a manifest names them (the one callback every
 * writer calls; a worker's tells the publisher). changed must not block. */
struct store_notify {
    void (*changed)(void *ctx);
    void *ctx;
};

#endif
