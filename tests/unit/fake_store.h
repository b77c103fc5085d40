/* fake_store: an in-memory struct store for the handler tests. It stands in
 * for Kubo (oci/store_mfs.c over Kubo's RPC): content lives in memory under
 * made-up CIDs ("fake0", "fake1", ...), blobs are linked into repositories by
 * name, and manifests are never found (the tests that reach the manifest
 * handlers only need to see which operation they called). Every operation
 * counts its calls, and fail[] makes one answer an error instead of working. */
#ifndef TESTS_UNIT_FAKE_STORE_H
#define TESTS_UNIT_FAKE_STORE_H
#include <stddef.h>
#include "core/buf.h"
#include "core/digest.h"
#include "core/store.h"

enum fake_op {
    FAKE_BLOB_STAT, FAKE_BLOB_READ, FAKE_BLOB_UNLINK, FAKE_BLOB_MOUNT,
    FAKE_CHUNK_PUT, FAKE_CHUNKS_JOIN, FAKE_CONTENT_READ, FAKE_BLOB_COMMIT, FAKE_UPLOAD_DISCARD,
    FAKE_TAG_RESOLVE, FAKE_MANIFEST_EXISTS, FAKE_MANIFEST_GET, FAKE_MANIFEST_PUT,
    FAKE_MANIFEST_DELETE, FAKE_TAG_DELETE, FAKE_TAGS_LIST, FAKE_REFERRERS, FAKE_CATALOG,
    FAKE_REPO_EXISTS, FAKE_PING,
    FAKE_OPS
};

/* A blob linked into a repository. */
struct fake_blob {
    char *name;          /* owned: the repository */
    struct digest digest;
    size_t content;      /* index into contents */
};

struct fake_store {
    struct store base;
    int calls[FAKE_OPS];
    int fail[FAKE_OPS];          /* a store_rc the operation answers at once; 0: it works */
    struct buf *contents;        /* staged chunks, joined uploads and blob bytes */
    size_t ncontents;
    struct fake_blob *blobs;
    size_t nblobs;
    /* what the last blob_commit, blob_mount and upload_discard were given */
    char last_name[256];
    char last_from[256];         /* "" for a mount from anywhere */
    struct digest last_digest;
    char last_upload_id[64];
};

/* An empty store (base.ops and base.impl set). Free with fake_store_free. */
void fake_store_init(struct fake_store *f);
void fake_store_free(struct fake_store *f);
/* Links a blob holding bytes (NUL-terminated) into repository name, as a
 * finished push would, without counting a call. Its digest goes to *d if d
 * is not NULL. */
void fake_store_add_blob(struct fake_store *f, const char *name, const char *bytes, struct digest *d);
/* The bytes of blob d in name, or NULL when it is not linked there. */
const struct buf *fake_store_blob(const struct fake_store *f, const char *name, const struct digest *d);
/* Calls of every operation together. */
int fake_store_total_calls(const struct fake_store *f);

#endif
