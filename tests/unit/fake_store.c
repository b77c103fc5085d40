/* fake_store: the in-memory store that stands in for Kubo in the handler
 * tests (see fake_store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/fake_store.h"
#include "core/xalloc.h"

/* One piece of content can hold any blob a test pushes. */
#define FAKE_CONTENT_MAX (16u * 1024 * 1024)

static struct fake_store *fake_of(struct store *s)
{
    return s->impl;
}

/* Counts a call of op; returns the error it must answer, or STORE_OK. */
static int fake_enter(struct store *s, enum fake_op op)
{
    struct fake_store *f = fake_of(s);
    f->calls[op]++;
    return f->fail[op];
}

/* A new, empty piece of content; returns its index. */
static size_t fake_content_new(struct fake_store *f)
{
    f->contents = xrealloc(f->contents, (f->ncontents + 1) * sizeof *f->contents);
    buf_init(&f->contents[f->ncontents], FAKE_CONTENT_MAX);
    return f->ncontents++;
}

static void fake_content_out(const struct fake_store *f, size_t i, struct store_chunk *out)
{
    snprintf(out->cid, sizeof out->cid, "fake%zu", i);
    out->size = f->contents[i].len;
}

/* The content a CID names, or NULL. */
static const struct buf *fake_content(const struct fake_store *f, const char *cid)
{
    char *end;
    unsigned long i;
    if (strncmp(cid, "fake", 4) != 0)
        return NULL;
    i = strtoul(cid + 4, &end, 10);
    return *end == '\0' && i < f->ncontents ? &f->contents[i] : NULL;
}

static struct fake_blob *fake_find(const struct fake_store *f, const char *name, const struct digest *d)
{
    for (size_t i = 0; i < f->nblobs; i++)
        if ((!name || strcmp(f->blobs[i].name, name) == 0) && digest_equal(&f->blobs[i].digest, d))
            return &f->blobs[i];
    return NULL;
}

static void fake_link(struct fake_store *f, const char *name, const struct digest *d, size_t content)
{
    f->blobs = xrealloc(f->blobs, (f->nblobs + 1) * sizeof *f->blobs);
    f->blobs[f->nblobs].name = xstrdup(name);
    f->blobs[f->nblobs].digest = *d;
    f->blobs[f->nblobs].content = content;
    f->nblobs++;
}

static int fake_stream(const struct buf *b, uint64_t off, uint64_t len, store_write_cb cb, void *ctx)
{
    if (off > b->len || len > b->len - off)
        return STORE_ERROR;
    if (len && cb(ctx, b->data + off, (size_t)len) < 0)
        return STORE_ABORTED;
    return STORE_OK;
}

static int fake_blob_stat(struct store *s, const char *name, const struct digest *d, struct store_blob *out)
{
    int rc = fake_enter(s, FAKE_BLOB_STAT);
    struct fake_blob *b;
    if (rc)
        return rc;
    if (!(b = fake_find(fake_of(s), name, d)))
        return STORE_NOT_FOUND;
    memset(out, 0, sizeof *out);
    out->size = fake_of(s)->contents[b->content].len;
    snprintf(out->cid, sizeof out->cid, "fake%zu", b->content);
    out->digest = *d;
    return STORE_OK;
}

static int fake_blob_read(struct store *s, const struct store_blob *b, uint64_t off, uint64_t len,
                          store_write_cb cb, void *ctx)
{
    int rc = fake_enter(s, FAKE_BLOB_READ);
    const struct buf *c;
    if (rc)
        return rc;
    if (!(c = fake_content(fake_of(s), b->cid)))
        return STORE_NOT_FOUND;
    return fake_stream(c, off, len, cb, ctx);
}

static int fake_blob_unlink(struct store *s, const char *name, const struct digest *d)
{
    int rc = fake_enter(s, FAKE_BLOB_UNLINK);
    struct fake_store *f = fake_of(s);
    struct fake_blob *b;
    if (rc)
        return rc;
    if (!(b = fake_find(f, name, d)))
        return STORE_NOT_FOUND;
    free(b->name);
    *b = f->blobs[--f->nblobs];
    return STORE_OK;
}

static int fake_blob_mount(struct store *s, const char *name, const char *from, const struct digest *d)
{
    int rc = fake_enter(s, FAKE_BLOB_MOUNT);
    struct fake_store *f = fake_of(s);
    struct fake_blob *b;
    snprintf(f->last_name, sizeof f->last_name, "%s", name);
    snprintf(f->last_from, sizeof f->last_from, "%s", from ? from : "");
    f->last_digest = *d;
    if (rc)
        return rc;
    if (!(b = fake_find(f, from, d)))
        return STORE_NOT_FOUND;
    fake_link(f, name, d, b->content);
    return STORE_OK;
}

static int fake_chunk_put(struct store *s, const char *upload_id, unsigned idx, uint64_t offset,
                          const struct digest *whole, store_read_cb cb, void *ctx,
                          struct store_chunk *out)
{
    (void)offset;
    (void)whole;
    int rc = fake_enter(s, FAKE_CHUNK_PUT);
    struct fake_store *f = fake_of(s);
    char tmp[4096];
    ssize_t r;
    size_t i;
    (void)upload_id;
    (void)idx;
    if (rc)
        return rc;
    i = fake_content_new(f);
    while ((r = cb(ctx, tmp, sizeof tmp)) > 0)
        if (buf_append(&f->contents[i], tmp, (size_t)r) < 0)
            return STORE_TOO_LARGE;
    if (r < 0)
        return STORE_ABORTED;
    fake_content_out(f, i, out);
    return STORE_OK;
}

static int fake_chunks_join(struct store *s, const struct store_chunk *chunks, size_t n,
                            struct store_chunk *out)
{
    int rc = fake_enter(s, FAKE_CHUNKS_JOIN);
    struct fake_store *f = fake_of(s);
    size_t i;
    if (rc)
        return rc;
    i = fake_content_new(f);
    for (size_t k = 0; k < n; k++) {
        const struct buf *c = fake_content(f, chunks[k].cid);
        if (!c)
            return STORE_NOT_FOUND;
        if (c->len && buf_append(&f->contents[i], c->data, c->len) < 0)
            return STORE_TOO_LARGE;
    }
    fake_content_out(f, i, out);
    return STORE_OK;
}

static int fake_content_read(struct store *s, const struct store_chunk *c, store_write_cb cb, void *ctx)
{
    int rc = fake_enter(s, FAKE_CONTENT_READ);
    const struct buf *b;
    if (rc)
        return rc;
    if (!(b = fake_content(fake_of(s), c->cid)))
        return STORE_NOT_FOUND;
    return fake_stream(b, 0, b->len, cb, ctx);
}

static int fake_blob_commit(struct store *s, const char *name, const struct digest *d,
                            const struct store_chunk *content)
{
    int rc = fake_enter(s, FAKE_BLOB_COMMIT);
    struct fake_store *f = fake_of(s);
    snprintf(f->last_name, sizeof f->last_name, "%s", name);
    f->last_digest = *d;
    if (rc)
        return rc;
    if (!fake_content(f, content->cid))
        return STORE_NOT_FOUND;
    fake_link(f, name, d, (size_t)strtoul(content->cid + 4, NULL, 10));
    return STORE_OK;
}

static int fake_upload_discard(struct store *s, const char *upload_id)
{
    struct fake_store *f = fake_of(s);
    snprintf(f->last_upload_id, sizeof f->last_upload_id, "%s", upload_id);
    return fake_enter(s, FAKE_UPLOAD_DISCARD);
}

/* Manifests: none exist; writes succeed without keeping anything. */

/* Counts a call of a lookup that finds nothing. */
static int fake_nothing(struct store *s, enum fake_op op)
{
    int rc = fake_enter(s, op);
    return rc ? rc : STORE_NOT_FOUND;
}

static int fake_tag_resolve(struct store *s, const char *name, const char *tag, struct digest *out)
{
    (void)name; (void)tag; (void)out;
    return fake_nothing(s, FAKE_TAG_RESOLVE);
}

static int fake_manifest_exists(struct store *s, const char *name, const struct digest *d)
{
    (void)name; (void)d;
    return fake_nothing(s, FAKE_MANIFEST_EXISTS);
}

static int fake_manifest_get(struct store *s, const char *name, const struct digest *d, struct buf *out)
{
    (void)name; (void)d; (void)out;
    return fake_nothing(s, FAKE_MANIFEST_GET);
}

static int fake_manifest_put(struct store *s, const char *name, const struct digest *d,
                             const char *data, size_t len, char *const *tags, size_t ntags,
                             const struct digest *subject)
{
    (void)name; (void)d; (void)data; (void)len; (void)tags; (void)ntags; (void)subject;
    return fake_enter(s, FAKE_MANIFEST_PUT);
}

static int fake_manifest_delete(struct store *s, const char *name, const struct digest *d,
                                const struct digest *subject)
{
    (void)name; (void)d; (void)subject;
    return fake_enter(s, FAKE_MANIFEST_DELETE);
}

static int fake_tag_delete(struct store *s, const char *name, const char *tag)
{
    (void)name; (void)tag;
    return fake_enter(s, FAKE_TAG_DELETE);
}

static int fake_tags_list(struct store *s, const char *name, char ***tags, size_t *n)
{
    (void)name;
    *tags = NULL;
    *n = 0;
    return fake_enter(s, FAKE_TAGS_LIST);
}

static int fake_referrers(struct store *s, const char *name, const struct digest *subject,
                          struct digest **out, size_t *n)
{
    (void)name; (void)subject;
    *out = NULL;
    *n = 0;
    return fake_enter(s, FAKE_REFERRERS);
}

static int fake_catalog(struct store *s, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    return fake_enter(s, FAKE_CATALOG);
}

static int fake_repo_exists(struct store *s, const char *name)
{
    (void)name;
    return fake_enter(s, FAKE_REPO_EXISTS) ? -1 : 1;
}

static int fake_ping(struct store *s, long timeout_ms, char *version, size_t n)
{
    (void)timeout_ms;
    snprintf(version, n, "fake-kubo");
    return fake_enter(s, FAKE_PING);
}

static const char *fake_errmsg(struct store *s)
{
    (void)s;
    return "fake: the operation was told to fail";
}

static const struct store_ops fake_ops = {
    .blob_stat = fake_blob_stat, .blob_read = fake_blob_read, .blob_unlink = fake_blob_unlink,
    .blob_mount = fake_blob_mount, .chunk_put = fake_chunk_put, .chunks_join = fake_chunks_join,
    .content_read = fake_content_read, .blob_commit = fake_blob_commit,
    .upload_discard = fake_upload_discard, .tag_resolve = fake_tag_resolve,
    .manifest_exists = fake_manifest_exists, .manifest_get = fake_manifest_get,
    .manifest_put = fake_manifest_put, .manifest_delete = fake_manifest_delete,
    .tag_delete = fake_tag_delete, .tags_list = fake_tags_list, .referrers = fake_referrers,
    .catalog = fake_catalog, .repo_exists = fake_repo_exists, .ping = fake_ping,
    .errmsg = fake_errmsg,
};

void fake_store_init(struct fake_store *f)
{
    memset(f, 0, sizeof *f);
    f->base.ops = &fake_ops;
    f->base.impl = f;
}

void fake_store_free(struct fake_store *f)
{
    for (size_t i = 0; i < f->ncontents; i++)
        buf_free(&f->contents[i]);
    for (size_t i = 0; i < f->nblobs; i++)
        free(f->blobs[i].name);
    free(f->contents);
    free(f->blobs);
    memset(f, 0, sizeof *f);
}

void fake_store_add_blob(struct fake_store *f, const char *name, const char *bytes, struct digest *d)
{
    struct digest dd;
    size_t i = fake_content_new(f), n = strlen(bytes);
    if (n)
        buf_append(&f->contents[i], bytes, n);
    digest_of(DIGEST_SHA256, bytes, n, &dd);
    fake_link(f, name, &dd, i);
    if (d)
        *d = dd;
}

const struct buf *fake_store_blob(const struct fake_store *f, const char *name, const struct digest *d)
{
    const struct fake_blob *b = fake_find(f, name, d);
    return b ? &f->contents[b->content] : NULL;
}

int fake_store_total_calls(const struct fake_store *f)
{
    int n = 0;
    for (int i = 0; i < FAKE_OPS; i++)
        n += f->calls[i];
    return n;
}
