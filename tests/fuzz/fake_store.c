/* fake_store: an in-memory struct store for the request fuzzer (see
 * fake_store.h). Linear searches over small fixed tables: a fuzz input
 * makes a handful of requests, and capacity limits are part of what the
 * handlers must cope with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/fuzz/fake_store.h"
#include "core/xalloc.h"

#define FAKE_MAX 32                     /* entries per table */
#define FAKE_CONTENT_MAX (1024 * 1024)  /* bytes of one piece of content */

struct fake_content {   /* stored bytes, named by CID ("fake<n>") */
    char cid[STORE_CID_MAX];
    char *data;
    size_t len;
};

struct fake_link {      /* a blob linked into a repository */
    char *repo;
    struct digest d;
    size_t content;     /* index into contents */
};

struct fake_manifest {
    char *repo;
    struct digest d;
    char *data;
    size_t len;
    int has_subject;
    struct digest subject;
};

struct fake_tag {
    char *repo;
    char *tag;
    struct digest d;
};

static struct {
    struct fake_content contents[FAKE_MAX];
    size_t ncontents;
    struct fake_link links[FAKE_MAX];
    size_t nlinks;
    struct fake_manifest manifests[FAKE_MAX];
    size_t nmanifests;
    struct fake_tag tags[FAKE_MAX];
    size_t ntags;
    char err[256];
} fake;

static int fake_fail(int rc, const char *what)
{
    snprintf(fake.err, sizeof fake.err, "fake: %s", what);
    return rc;
}

/* Takes data (owned). -1 when the table is full. */
static long fake_content_add(char *data, size_t len)
{
    if (fake.ncontents == FAKE_MAX) {
        free(data);
        return -1;
    }
    struct fake_content *c = &fake.contents[fake.ncontents];
    snprintf(c->cid, sizeof c->cid, "fake%zu", fake.ncontents);
    c->data = data;
    c->len = len;
    return (long)fake.ncontents++;
}

/* Stores data (owned) as new content and describes it in *out. */
static int fake_content_chunk(char *data, size_t len, struct store_chunk *out)
{
    long i = fake_content_add(data, len);
    if (i < 0)
        return fake_fail(STORE_ERROR, "too many contents");
    memcpy(out->cid, fake.contents[i].cid, sizeof out->cid);
    out->size = len;
    return STORE_OK;
}

static struct fake_content *fake_content_find(const char *cid)
{
    for (size_t i = 0; i < fake.ncontents; i++)
        if (strcmp(fake.contents[i].cid, cid) == 0)
            return &fake.contents[i];
    return NULL;
}

static struct fake_link *fake_link_find(const char *repo, const struct digest *d)
{
    for (size_t i = 0; i < fake.nlinks; i++)
        if ((!repo || strcmp(fake.links[i].repo, repo) == 0) && digest_equal(&fake.links[i].d, d))
            return &fake.links[i];
    return NULL;
}

static int fake_link_add(const char *repo, const struct digest *d, size_t content)
{
    struct fake_link *l = fake_link_find(repo, d);
    if (l) {
        l->content = content;
        return STORE_OK;
    }
    if (fake.nlinks == FAKE_MAX)
        return fake_fail(STORE_ERROR, "too many blob links");
    l = &fake.links[fake.nlinks++];
    l->repo = xstrdup(repo);
    l->d = *d;
    l->content = content;
    return STORE_OK;
}

static struct fake_manifest *fake_manifest_find(const char *repo, const struct digest *d)
{
    for (size_t i = 0; i < fake.nmanifests; i++)
        if (strcmp(fake.manifests[i].repo, repo) == 0 && digest_equal(&fake.manifests[i].d, d))
            return &fake.manifests[i];
    return NULL;
}

static struct fake_tag *fake_tag_find(const char *repo, const char *tag)
{
    for (size_t i = 0; i < fake.ntags; i++)
        if (strcmp(fake.tags[i].repo, repo) == 0 && strcmp(fake.tags[i].tag, tag) == 0)
            return &fake.tags[i];
    return NULL;
}

static int fake_repo_has(const char *repo)
{
    for (size_t i = 0; i < fake.nlinks; i++)
        if (strcmp(fake.links[i].repo, repo) == 0)
            return 1;
    for (size_t i = 0; i < fake.nmanifests; i++)
        if (strcmp(fake.manifests[i].repo, repo) == 0)
            return 1;
    return 0;
}

/* ---- blobs ---- */

static int fake_blob_stat(struct store *st, const char *name, const struct digest *d,
                          struct store_blob *out)
{
    (void)st;
    struct fake_link *l = fake_link_find(name, d);
    if (!l)
        return fake_fail(STORE_NOT_FOUND, "blob not linked");
    memset(out, 0, sizeof *out);
    out->size = fake.contents[l->content].len;
    memcpy(out->cid, fake.contents[l->content].cid, sizeof out->cid);
    out->digest = *d;
    return STORE_OK;
}

/* Streams c->data[off, off+len) to cb in two pieces, as a network would. */
static int fake_stream(const struct fake_content *c, uint64_t off, uint64_t len, store_write_cb cb,
                       void *ctx)
{
    if (off > c->len || len > c->len - off)
        return fake_fail(STORE_ERROR, "read past the end of the content");
    uint64_t half = len / 2;
    if (half && cb(ctx, c->data + off, (size_t)half) < 0)
        return STORE_ABORTED;
    if (len - half && cb(ctx, c->data + off + half, (size_t)(len - half)) < 0)
        return STORE_ABORTED;
    return STORE_OK;
}

static int fake_blob_read(struct store *st, const struct store_blob *b, uint64_t offset,
                          uint64_t length, store_write_cb cb, void *ctx)
{
    (void)st;
    struct fake_content *c = fake_content_find(b->cid);
    if (!c)
        return fake_fail(STORE_NOT_FOUND, "no such content");
    return fake_stream(c, offset, length, cb, ctx);
}

static int fake_blob_verify(struct store *st, const struct store_blob *b)
{
    (void)st;
    struct fake_content *c = fake_content_find(b->cid);
    struct digest got;
    if (!c)
        return fake_fail(STORE_NOT_FOUND, "no such content");
    digest_of(b->digest.alg, c->data, c->len, &got);
    return digest_equal(&got, &b->digest) ? STORE_OK
                                          : fake_fail(STORE_INVALID, "content does not hash to its name");
}

static int fake_blob_unlink(struct store *st, const char *name, const struct digest *d)
{
    (void)st;
    struct fake_link *l = fake_link_find(name, d);
    if (!l)
        return fake_fail(STORE_NOT_FOUND, "blob not linked");
    free(l->repo);
    *l = fake.links[--fake.nlinks];
    return STORE_OK;
}

static int fake_blob_mount(struct store *st, const char *name, const char *from, const struct digest *d)
{
    (void)st;
    struct fake_link *l = fake_link_find(from, d);
    if (!l)
        return fake_fail(STORE_NOT_FOUND, "blob not in the source repository");
    return fake_link_add(name, d, l->content);
}

/* ---- uploads ---- */

static int fake_chunk_put(struct store *st, const char *upload_id, unsigned idx, uint64_t offset,
                          const struct digest *whole, store_read_cb cb, void *ctx,
                          struct store_chunk *out)
{
    (void)st;
    (void)offset;
    (void)whole;
    (void)upload_id;
    (void)idx;
    size_t len = 0, cap = 4096;
    char *data = xmalloc(cap);
    for (;;) {
        if (len == cap) {
            if (cap == FAKE_CONTENT_MAX) {
                free(data);
                return fake_fail(STORE_ERROR, "chunk too large");
            }
            cap *= 2;
            data = xrealloc(data, cap);
        }
        ssize_t r = cb(ctx, data + len, cap - len);
        if (r < 0) {
            free(data);
            return STORE_ABORTED;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    return fake_content_chunk(data, len, out);
}

static int fake_chunks_join(struct store *st, const struct store_chunk *chunks, size_t n,
                            struct store_chunk *out)
{
    (void)st;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        struct fake_content *c = fake_content_find(chunks[i].cid);
        if (!c || c->len != chunks[i].size)
            return fake_fail(STORE_ERROR, "a chunk is missing");
        len += c->len;
    }
    if (len > FAKE_CONTENT_MAX)
        return fake_fail(STORE_ERROR, "joined content too large");
    char *data = xmalloc(len + 1);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        struct fake_content *c = fake_content_find(chunks[i].cid);
        memcpy(data + at, c->data, c->len);
        at += c->len;
    }
    return fake_content_chunk(data, len, out);
}

static int fake_content_read(struct store *st, const struct store_chunk *c, store_write_cb cb, void *ctx)
{
    (void)st;
    struct fake_content *fc = fake_content_find(c->cid);
    if (!fc)
        return fake_fail(STORE_NOT_FOUND, "no such content");
    return fake_stream(fc, 0, fc->len, cb, ctx);
}

static int fake_blob_commit(struct store *st, const char *name, const struct digest *d,
                            const struct store_chunk *content)
{
    (void)st;
    struct fake_content *c = fake_content_find(content->cid);
    if (!c)
        return fake_fail(STORE_ERROR, "no such content");
    return fake_link_add(name, d, (size_t)(c - fake.contents));
}

static int fake_upload_discard(struct store *st, const char *upload_id)
{
    (void)st;
    (void)upload_id;
    return STORE_OK;
}

/* ---- manifests ---- */

static int fake_tag_resolve(struct store *st, const char *name, const char *tag, struct digest *out)
{
    (void)st;
    struct fake_tag *t = fake_tag_find(name, tag);
    if (!t)
        return fake_fail(STORE_NOT_FOUND, "no such tag");
    *out = t->d;
    return STORE_OK;
}

static int fake_manifest_exists(struct store *st, const char *name, const struct digest *d)
{
    (void)st;
    return fake_manifest_find(name, d) ? STORE_OK : fake_fail(STORE_NOT_FOUND, "no such manifest");
}

static int fake_manifest_get(struct store *st, const char *name, const struct digest *d, struct buf *out)
{
    (void)st;
    struct fake_manifest *m = fake_manifest_find(name, d);
    if (!m)
        return fake_fail(STORE_NOT_FOUND, "no such manifest");
    if (buf_append(out, m->data, m->len) < 0)
        return fake_fail(STORE_TOO_LARGE, "manifest over the cap");
    return STORE_OK;
}

static int fake_tag_set(const char *repo, const char *tag, const struct digest *d)
{
    struct fake_tag *t = fake_tag_find(repo, tag);
    if (!t) {
        if (fake.ntags == FAKE_MAX)
            return fake_fail(STORE_ERROR, "too many tags");
        t = &fake.tags[fake.ntags++];
        t->repo = xstrdup(repo);
        t->tag = xstrdup(tag);
    }
    t->d = *d;
    return STORE_OK;
}

static int fake_manifest_put(struct store *st, const char *name, const struct digest *d, const char *data,
                             size_t len, char *const *tags, size_t ntags, const struct digest *subject)
{
    (void)st;
    struct fake_manifest *m = fake_manifest_find(name, d);
    if (!m) {
        if (fake.nmanifests == FAKE_MAX)
            return fake_fail(STORE_ERROR, "too many manifests");
        m = &fake.manifests[fake.nmanifests++];
        m->repo = xstrdup(name);
        m->d = *d;
    } else {
        free(m->data);
    }
    m->data = xmalloc(len + 1);
    memcpy(m->data, data, len);
    m->len = len;
    m->has_subject = subject != NULL;
    if (subject)
        m->subject = *subject;
    for (size_t i = 0; i < ntags; i++)
        if (fake_tag_set(name, tags[i], d) != STORE_OK)
            return STORE_ERROR;
    return STORE_OK;
}

static void fake_tag_remove(struct fake_tag *t)
{
    free(t->repo);
    free(t->tag);
    *t = fake.tags[--fake.ntags];
}

static int fake_manifest_delete(struct store *st, const char *name, const struct digest *d,
                                const struct digest *subject)
{
    (void)st;
    (void)subject;
    struct fake_manifest *m = fake_manifest_find(name, d);
    if (!m)
        return fake_fail(STORE_NOT_FOUND, "no such manifest");
    free(m->repo);
    free(m->data);
    *m = fake.manifests[--fake.nmanifests];
    for (size_t i = fake.ntags; i-- > 0;)
        if (strcmp(fake.tags[i].repo, name) == 0 && digest_equal(&fake.tags[i].d, d))
            fake_tag_remove(&fake.tags[i]);
    return STORE_OK;
}

static int fake_tag_delete(struct store *st, const char *name, const char *tag)
{
    (void)st;
    struct fake_tag *t = fake_tag_find(name, tag);
    if (!t)
        return fake_fail(STORE_NOT_FOUND, "no such tag");
    fake_tag_remove(t);
    return STORE_OK;
}

static int fake_tags_list(struct store *st, const char *name, char ***tags, size_t *n)
{
    (void)st;
    *tags = NULL;
    *n = 0;
    if (!fake_repo_has(name))
        return fake_fail(STORE_NOT_FOUND, "no such repository");
    for (size_t i = 0; i < fake.ntags; i++) {
        if (strcmp(fake.tags[i].repo, name) != 0)
            continue;
        *tags = xrealloc(*tags, (*n + 1) * sizeof **tags);
        (*tags)[(*n)++] = xstrdup(fake.tags[i].tag);
    }
    return STORE_OK;
}

static int fake_referrers(struct store *st, const char *name, const struct digest *subject,
                          struct digest **out, size_t *n)
{
    (void)st;
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < fake.nmanifests; i++) {
        struct fake_manifest *m = &fake.manifests[i];
        if (strcmp(m->repo, name) != 0 || !m->has_subject || !digest_equal(&m->subject, subject))
            continue;
        *out = xrealloc(*out, (*n + 1) * sizeof **out);
        (*out)[(*n)++] = m->d;
    }
    return STORE_OK;
}

static int fake_catalog(struct store *st, char ***names, size_t *n)
{
    (void)st;
    *names = NULL;
    *n = 0;
    for (size_t i = 0; i < fake.nlinks + fake.nmanifests; i++) {
        const char *r = i < fake.nlinks ? fake.links[i].repo : fake.manifests[i - fake.nlinks].repo;
        int seen = 0;
        for (size_t j = 0; j < *n && !seen; j++)
            seen = strcmp((*names)[j], r) == 0;
        if (seen)
            continue;
        *names = xrealloc(*names, (*n + 1) * sizeof **names);
        (*names)[(*n)++] = xstrdup(r);
    }
    return STORE_OK;
}

static int fake_repo_exists(struct store *st, const char *name)
{
    (void)st;
    return fake_repo_has(name);
}

static int fake_ping(struct store *st, long timeout_ms, char *version, size_t n)
{
    (void)st;
    (void)timeout_ms;
    snprintf(version, n, "fake-0");
    return STORE_OK;
}

static const char *fake_errmsg(struct store *st)
{
    (void)st;
    return fake.err;
}

static const struct store_ops fake_ops = {
    .blob_stat = fake_blob_stat,
    .blob_read = fake_blob_read,
    .blob_unlink = fake_blob_unlink,
    .blob_mount = fake_blob_mount,
    .blob_verify = fake_blob_verify,
    .chunk_put = fake_chunk_put,
    .chunks_join = fake_chunks_join,
    .content_read = fake_content_read,
    .blob_commit = fake_blob_commit,
    .upload_discard = fake_upload_discard,
    .tag_resolve = fake_tag_resolve,
    .manifest_exists = fake_manifest_exists,
    .manifest_get = fake_manifest_get,
    .manifest_put = fake_manifest_put,
    .manifest_delete = fake_manifest_delete,
    .tag_delete = fake_tag_delete,
    .tags_list = fake_tags_list,
    .referrers = fake_referrers,
    .catalog = fake_catalog,
    .repo_exists = fake_repo_exists,
    .ping = fake_ping,
    .errmsg = fake_errmsg,
};

static struct store fake_base = { &fake_ops, NULL };

struct store *fake_store(void)
{
    return &fake_base;
}

void fake_store_free(void)
{
    for (size_t i = 0; i < fake.ncontents; i++)
        free(fake.contents[i].data);
    for (size_t i = 0; i < fake.nlinks; i++)
        free(fake.links[i].repo);
    for (size_t i = 0; i < fake.nmanifests; i++) {
        free(fake.manifests[i].repo);
        free(fake.manifests[i].data);
    }
    for (size_t i = 0; i < fake.ntags; i++) {
        free(fake.tags[i].repo);
        free(fake.tags[i].tag);
    }
    memset(&fake, 0, sizeof fake);
}

/* A blob of the preset: content, and its link into FAKE_REPO. */
static void fake_preset_blob(const char *text)
{
    struct digest d;
    size_t len = strlen(text);
    digest_of(DIGEST_SHA256, text, len, &d);
    long i = fake_content_add(xstrdup(text), len);
    fake_link_add(FAKE_REPO, &d, (size_t)i);
}

/* A manifest of the preset, tagged; its digest goes to *d. */
static void fake_preset_manifest(const char *text, const char *tag, const struct digest *subject,
                                 struct digest *d)
{
    char *t = xstrdup(tag);
    digest_of(DIGEST_SHA256, text, strlen(text), d);
    fake_manifest_put(&fake_base, FAKE_REPO, d, text, strlen(text), &t, 1, subject);
    free(t);
}

void fake_store_reset(void)
{
    struct digest image, ref;
    char ds[DIGEST_STR_MAX];

    fake_store_free();
    fake_preset_blob(FAKE_CONFIG);
    fake_preset_blob(FAKE_LAYER);
    fake_preset_manifest(FAKE_MANIFEST, "latest", NULL, &image);
    char *referrer = xasprintf(FAKE_REFERRER_FMT, digest_str(&image, ds), strlen(FAKE_MANIFEST));
    fake_preset_manifest(referrer, "sig", &image, &ref);
    free(referrer);
}
