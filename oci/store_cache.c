/* store_cache: the metadata cache decorator (see store_cache.h).
 *
 * What a warm request costs: manifest GET by tag, HEAD by digest, blob HEAD
 * and tags/list make no Kubo call at all (before: 3, 1-2, 2 and 1). Only
 * answers that say what the store holds (STORE_OK, STORE_NOT_FOUND) are
 * cached; errors never are. Shared keys are "<kind>\n<name>\n<ref>":
 * '\n' is in no repository name, tag or digest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/errmsg.h"
#include "core/xalloc.h"
#include "oci/cache_shm.h"
#include "oci/store_cache.h"

/* Manifest bytes kept per worker, by digest, the oldest making room: up to
 * a page of the web view's tags (1,000, each its own manifest, stays warm),
 * within a byte budget, so the cache never makes a worker's memory grow
 * much (about 2 MiB at most, and 160 KiB of slots). */
#define STORE_CACHE_MANIFESTS 1024
#define STORE_CACHE_MANIFEST_MAX (64 * 1024)
#define STORE_CACHE_MANIFEST_BUDGET ((size_t)2 << 20)
/* Tag lists kept per worker, by repository and generation. */
#define STORE_CACHE_TAGLISTS 4
#define STORE_CACHE_TAGLIST_MAX_BYTES (512 * 1024)
/* A key: kind, a name (<= 255), a tag (<= 128) or digest (<= 135). */
#define STORE_CACHE_KEY_MAX 512

struct store_cache_manifest {
    struct digest d;
    char *data;
    size_t len;
};

struct store_cache_taglist {
    char *name;        /* NULL: empty entry */
    uint64_t gen;
    int rc;
    char **tags;
    size_t n;
};

struct store_cache {
    struct store base;
    struct store_ops ops;    /* ours, with inner's optional NULLs kept */
    struct store *inner;     /* borrowed */
    char *err;               /* set when the last answer came from the cache */
    int own_err;
    struct store_cache_manifest man[STORE_CACHE_MANIFESTS];
    size_t man_next;
    size_t man_bytes;        /* held by man[], at most STORE_CACHE_MANIFEST_BUDGET */
    struct store_cache_taglist tl[STORE_CACHE_TAGLISTS];
    size_t tl_next;
};

static struct store_cache *store_cache_of(struct store *s)
{
    return s->impl;
}

static struct store *store_cache_in(struct store *s)
{
    struct store_cache *c = store_cache_of(s);
    c->own_err = 0;
    return c->inner;
}

static int store_cache_key(char out[STORE_CACHE_KEY_MAX], char kind, const char *name, const char *ref)
{
    int n = snprintf(out, STORE_CACHE_KEY_MAX, "%c\n%s\n%s", kind, name, ref ? ref : "");
    return n > 0 && n < STORE_CACHE_KEY_MAX ? 0 : -1;
}

/* A NOT_FOUND answered from the cache needs a message like the inner's. */
static int store_cache_notfound(struct store_cache *c, const char *what, const char *name, const char *ref)
{
    c->own_err = 1;
    return errmsg_set(&c->err, STORE_NOT_FOUND, "store", NULL, "%s %s%s%s: not found", what, name,
                      ref ? "@" : "", ref ? ref : "");
}

static int store_cache_cacheable(int rc)
{
    return rc == STORE_OK || rc == STORE_NOT_FOUND;
}

/* ---- reads ---- */

static int store_cache_blob_stat(struct store *s, const char *name, const struct digest *d,
                                 struct store_blob *out)
{
    struct store_cache *c = store_cache_of(s);
    struct store *in = store_cache_in(s);
    char key[STORE_CACHE_KEY_MAX], ds[DIGEST_STR_MAX];
    struct cache_shm_val v;
    uint64_t gen = cache_shm_gen();
    if (store_cache_key(key, 'b', name, digest_str(d, ds)) < 0)
        return in->ops->blob_stat(in, name, d, out);
    if (cache_shm_get(key, gen, &v) && v.len < sizeof out->cid) {
        if (v.rc != STORE_OK)
            return store_cache_notfound(c, "blob", name, ds);
        memset(out, 0, sizeof *out);
        out->size = v.size;
        memcpy(out->cid, v.data, v.len + 1);
        out->digest = *d;
        return STORE_OK;
    }
    int rc = in->ops->blob_stat(in, name, d, out);
    if (store_cache_cacheable(rc)) {
        v.rc = rc;
        v.size = rc == STORE_OK ? out->size : 0;
        v.len = rc == STORE_OK ? strnlen(out->cid, sizeof out->cid) : 0;
        if (v.len <= CACHE_SHM_VAL_MAX) {
            memcpy(v.data, rc == STORE_OK ? out->cid : "", v.len);
            cache_shm_put(key, gen, &v);
        }
    }
    return rc;
}

static int store_cache_tag_resolve(struct store *s, const char *name, const char *tag, struct digest *out)
{
    struct store_cache *c = store_cache_of(s);
    struct store *in = store_cache_in(s);
    char key[STORE_CACHE_KEY_MAX], ds[DIGEST_STR_MAX];
    struct cache_shm_val v;
    uint64_t gen = cache_shm_gen();
    if (store_cache_key(key, 't', name, tag) < 0)
        return in->ops->tag_resolve(in, name, tag, out);
    if (cache_shm_get(key, gen, &v)) {
        if (v.rc != STORE_OK)
            return store_cache_notfound(c, "tag", name, tag);
        if (digest_parse(v.data, out) == DIGEST_PARSE_OK)
            return STORE_OK;
    }
    int rc = in->ops->tag_resolve(in, name, tag, out);
    if (store_cache_cacheable(rc)) {
        v.rc = rc;
        v.size = 0;
        v.len = rc == STORE_OK ? strlen(digest_str(out, ds)) : 0;
        if (v.len <= CACHE_SHM_VAL_MAX) {
            memcpy(v.data, rc == STORE_OK ? ds : "", v.len);
            cache_shm_put(key, gen, &v);
        }
    }
    return rc;
}

static int store_cache_manifest_exists(struct store *s, const char *name, const struct digest *d)
{
    struct store_cache *c = store_cache_of(s);
    struct store *in = store_cache_in(s);
    char key[STORE_CACHE_KEY_MAX], ds[DIGEST_STR_MAX];
    struct cache_shm_val v;
    uint64_t gen = cache_shm_gen();
    if (store_cache_key(key, 'r', name, digest_str(d, ds)) < 0)
        return in->ops->manifest_exists(in, name, d);
    if (cache_shm_get(key, gen, &v))
        return v.rc == STORE_OK ? STORE_OK : store_cache_notfound(c, "manifest", name, ds);
    int rc = in->ops->manifest_exists(in, name, d);
    if (store_cache_cacheable(rc)) {
        memset(&v, 0, sizeof v);
        v.rc = rc;
        cache_shm_put(key, gen, &v);
    }
    return rc;
}

static struct store_cache_manifest *store_cache_man_find(struct store_cache *c, const struct digest *d)
{
    for (size_t i = 0; i < STORE_CACHE_MANIFESTS; i++)
        if (c->man[i].data && digest_equal(&c->man[i].d, d))
            return &c->man[i];
    return NULL;
}

static void store_cache_man_drop(struct store_cache *c, struct store_cache_manifest *m)
{
    if (m->data)
        c->man_bytes -= m->len;
    free(m->data);
    m->data = NULL;
    m->len = 0;
}

/* Keeps bytes that hash to d (so a cached manifest is never a wrong one). */
static void store_cache_man_keep(struct store_cache *c, const struct digest *d, const char *p, size_t len)
{
    struct digest check;
    if (len > STORE_CACHE_MANIFEST_MAX)
        return;
    digest_of(d->alg, p, len, &check);
    if (!digest_equal(&check, d))
        return;
    /* room: the slot taken and, past the budget, the oldest after it */
    struct store_cache_manifest *m = &c->man[c->man_next];
    c->man_next = (c->man_next + 1) % STORE_CACHE_MANIFESTS;
    store_cache_man_drop(c, m);
    for (size_t i = c->man_next; c->man_bytes + len > STORE_CACHE_MANIFEST_BUDGET;
         i = (i + 1) % STORE_CACHE_MANIFESTS)
        store_cache_man_drop(c, &c->man[i]);
    c->man_bytes += len;
    m->d = *d;
    m->data = xmalloc(len + 1);
    memcpy(m->data, p, len);
    m->data[len] = '\0';
    m->len = len;
}

/* Bytes this worker keeps are served once the revision is known to exist
 * (from the shared table, or asked); bytes it does not keep are asked of
 * the inner store at once, whose manifest_get checks the revision itself
 * (asking first would check it twice: 3 Kubo calls instead of 2). */
static int store_cache_manifest_get(struct store *s, const char *name, const struct digest *d, struct buf *out)
{
    struct store_cache *c = store_cache_of(s);
    struct store_cache_manifest *m = store_cache_man_find(c, d);
    int rc;
    if (m) {
        rc = store_cache_manifest_exists(s, name, d);
        if (rc != STORE_OK)
            return rc;
        if (buf_append(out, m->data, m->len) < 0)
            return STORE_TOO_LARGE;
        return STORE_OK;
    }
    struct store *in = store_cache_in(s);
    char key[STORE_CACHE_KEY_MAX], ds[DIGEST_STR_MAX];
    struct cache_shm_val v;
    uint64_t gen = cache_shm_gen();
    int keyed = store_cache_key(key, 'r', name, digest_str(d, ds)) == 0;
    /* a revision known to be missing costs no call */
    if (keyed && cache_shm_get(key, gen, &v) && v.rc != STORE_OK)
        return store_cache_notfound(c, "manifest", name, ds);
    rc = in->ops->manifest_get(in, name, d, out);
    if (rc != STORE_OK)
        return rc;
    /* the revision exists: kept as manifest_exists would keep it (a
     * NOT_FOUND is not: it may be the bytes that are missing) */
    if (keyed) {
        memset(&v, 0, sizeof v);
        v.rc = STORE_OK;
        cache_shm_put(key, gen, &v);
    }
    store_cache_man_keep(c, d, buf_cstr(out), out->len);
    return rc;
}

static void store_cache_tl_clear(struct store_cache_taglist *t)
{
    free(t->name);
    strv_free(t->tags, t->n);
    memset(t, 0, sizeof *t);
}

static char **store_cache_strv_dup(char **v, size_t n)
{
    char **r = xcalloc(n + 1, sizeof *r);
    for (size_t i = 0; i < n; i++)
        r[i] = xstrdup(v[i]);
    return r;
}

/* A list kept per worker (tags/list, referrer subjects) under key, read at
 * gen: 1 with a copy in *v, *n and its code in *rc; 0 when not kept. */
static int store_cache_list_get(struct store_cache *c, const char *key, uint64_t gen, char ***v, size_t *n,
                                int *rc)
{
    for (size_t i = 0; cache_shm_available() && i < STORE_CACHE_TAGLISTS; i++) {
        struct store_cache_taglist *t = &c->tl[i];
        if (!t->name || t->gen != gen || strcmp(t->name, key) != 0)
            continue;
        *rc = t->rc;
        *v = t->rc == STORE_OK ? store_cache_strv_dup(t->tags, t->n) : NULL;
        *n = t->rc == STORE_OK ? t->n : 0;
        return 1;
    }
    return 0;
}

/* Keeps the inner store's answer rc (v, n) under key, read at gen. */
static void store_cache_list_keep(struct store_cache *c, const char *key, uint64_t gen, int rc, char **v, size_t n)
{
    size_t bytes = 0;
    if (!cache_shm_available() || !store_cache_cacheable(rc))
        return;
    for (size_t i = 0; rc == STORE_OK && i < n; i++)
        bytes += strlen(v[i]) + 1 + sizeof(char *);
    if (bytes > STORE_CACHE_TAGLIST_MAX_BYTES)
        return;
    struct store_cache_taglist *t = &c->tl[c->tl_next];
    c->tl_next = (c->tl_next + 1) % STORE_CACHE_TAGLISTS;
    store_cache_tl_clear(t);
    t->name = xstrdup(key);
    t->gen = gen;
    t->rc = rc;
    if (rc == STORE_OK) {
        t->tags = store_cache_strv_dup(v, n);
        t->n = n;
    }
}

static int store_cache_tags_list(struct store *s, const char *name, char ***tags, size_t *n)
{
    struct store_cache *c = store_cache_of(s);
    struct store *in = store_cache_in(s);
    uint64_t gen = cache_shm_gen();
    int rc;
    if (store_cache_list_get(c, name, gen, tags, n, &rc))
        return rc == STORE_OK ? STORE_OK : store_cache_notfound(c, "repository", name, NULL);
    rc = in->ops->tags_list(in, name, tags, n);
    store_cache_list_keep(c, name, gen, rc, *tags, *n);
    return rc;
}

/* Kept beside the tag lists, under "\x01<name>" ('\x01' is in no name). */
static int store_cache_referrer_subjects(struct store *s, const char *name, char ***subjects, size_t *n)
{
    struct store_cache *c = store_cache_of(s);
    struct store *in = store_cache_in(s);
    uint64_t gen = cache_shm_gen();
    char *key = xasprintf("\x01%s", name);
    int rc;
    if (!store_cache_list_get(c, key, gen, subjects, n, &rc)) {
        rc = in->ops->referrer_subjects(in, name, subjects, n);
        store_cache_list_keep(c, key, gen, rc, *subjects, *n);
    }
    free(key);
    return rc;
}

static int store_cache_repo_exists(struct store *s, const char *name)
{
    struct store *in = store_cache_in(s);
    char key[STORE_CACHE_KEY_MAX];
    struct cache_shm_val v;
    uint64_t gen = cache_shm_gen();
    if (store_cache_key(key, 'e', name, NULL) < 0)
        return in->ops->repo_exists(in, name);
    if (cache_shm_get(key, gen, &v))
        return v.rc;
    int ex = in->ops->repo_exists(in, name);
    if (ex == 0 || ex == 1) {
        memset(&v, 0, sizeof v);
        v.rc = ex;
        cache_shm_put(key, gen, &v);
    }
    return ex;
}

/* ---- pass-through (content by CID, uploads outside the root, lists) ---- */

static int store_cache_blob_read(struct store *s, const struct store_blob *b, uint64_t offset,
                                 uint64_t length, store_write_cb cb, void *ctx)
{
    struct store *in = store_cache_in(s);
    return in->ops->blob_read(in, b, offset, length, cb, ctx);
}

static int store_cache_blob_verify(struct store *s, const struct store_blob *b)
{
    struct store *in = store_cache_in(s);
    return in->ops->blob_verify(in, b);
}

static int store_cache_blob_open(struct store *s, const struct store_blob *b, uint64_t offset,
                                 uint64_t length, int *fd)
{
    struct store *in = store_cache_in(s);
    return in->ops->blob_open(in, b, offset, length, fd);
}

static int store_cache_chunk_put(struct store *s, const char *upload_id, unsigned idx,
                                 uint64_t offset, const struct digest *whole, store_read_cb cb,
                                 void *ctx, struct store_chunk *out)
{
    struct store *in = store_cache_in(s);
    return in->ops->chunk_put(in, upload_id, idx, offset, whole, cb, ctx, out);
}

static int store_cache_chunks_join(struct store *s, const struct store_chunk *chunks, size_t n,
                                   struct store_chunk *out)
{
    struct store *in = store_cache_in(s);
    return in->ops->chunks_join(in, chunks, n, out);
}

static int store_cache_content_read(struct store *s, const struct store_chunk *ch, store_write_cb cb, void *ctx)
{
    struct store *in = store_cache_in(s);
    return in->ops->content_read(in, ch, cb, ctx);
}

static int store_cache_upload_discard(struct store *s, const char *upload_id)
{
    struct store *in = store_cache_in(s);
    return in->ops->upload_discard(in, upload_id);
}

/* Cached in the shared table when the answer fits a slot: none, or one
 * sha256 digest (most subjects have no referrer, or one signature). */
static int store_cache_referrers(struct store *s, const char *name, const struct digest *subject,
                                 struct digest **out, size_t *n)
{
    struct store *in = store_cache_in(s);
    char key[STORE_CACHE_KEY_MAX], ds[DIGEST_STR_MAX];
    struct cache_shm_val v;
    uint64_t gen = cache_shm_gen();
    if (store_cache_key(key, 'f', name, digest_str(subject, ds)) < 0)
        return in->ops->referrers(in, name, subject, out, n);
    if (cache_shm_get(key, gen, &v) && v.rc == STORE_OK && v.size <= 1) {
        *n = 0;
        *out = NULL;
        if (v.size == 1) {
            v.data[v.len] = '\0';
            *out = xmalloc(sizeof **out);
            if (digest_parse(v.data, *out) != DIGEST_PARSE_OK) {
                free(*out);
                *out = NULL;
                return in->ops->referrers(in, name, subject, out, n);
            }
            *n = 1;
        }
        return STORE_OK;
    }
    int rc = in->ops->referrers(in, name, subject, out, n);
    if (rc == STORE_OK && *n <= 1) {
        memset(&v, 0, sizeof v);
        v.rc = rc;
        v.size = *n;
        v.len = *n ? strlen(digest_str(&(*out)[0], ds)) : 0;
        if (v.len <= CACHE_SHM_VAL_MAX) {
            memcpy(v.data, ds, v.len);
            cache_shm_put(key, gen, &v);
        }
    }
    return rc;
}

static int store_cache_catalog(struct store *s, char ***names, size_t *n)
{
    struct store *in = store_cache_in(s);
    return in->ops->catalog(in, names, n);
}

static int store_cache_ping(struct store *s, long timeout_ms, char *version, size_t n)
{
    struct store *in = store_cache_in(s);
    return in->ops->ping(in, timeout_ms, version, n);
}

/* ---- writes: the inner write, then the generation (even on failure: a
 * half-done write may have changed something) ---- */

static int store_cache_wrote(int rc)
{
    cache_shm_bump();
    return rc;
}

static int store_cache_blob_unlink(struct store *s, const char *name, const struct digest *d)
{
    struct store *in = store_cache_in(s);
    return store_cache_wrote(in->ops->blob_unlink(in, name, d));
}

static int store_cache_blob_mount(struct store *s, const char *name, const char *from, const struct digest *d)
{
    struct store *in = store_cache_in(s);
    return store_cache_wrote(in->ops->blob_mount(in, name, from, d));
}

static int store_cache_repo_import(struct store *s, const char *name, struct store *from)
{
    struct store *in = store_cache_in(s);
    return store_cache_wrote(in->ops->repo_import(in, name, from));
}

static int store_cache_blob_import(struct store *s, struct store *from, const char *from_name,
                                   const struct digest *d)
{
    struct store *in = store_cache_in(s);
    return store_cache_wrote(in->ops->blob_import(in, from, from_name, d));
}

static int store_cache_blob_commit(struct store *s, const char *name, const struct digest *d,
                                   const struct store_chunk *content)
{
    struct store *in = store_cache_in(s);
    return store_cache_wrote(in->ops->blob_commit(in, name, d, content));
}

static int store_cache_manifest_put(struct store *s, const char *name, const struct digest *d,
                                    const char *data, size_t len, char *const *tags, size_t ntags,
                                    const struct digest *subject)
{
    struct store *in = store_cache_in(s);
    return store_cache_wrote(in->ops->manifest_put(in, name, d, data, len, tags, ntags, subject));
}

static int store_cache_manifest_delete(struct store *s, const char *name, const struct digest *d,
                                       const struct digest *subject)
{
    struct store *in = store_cache_in(s);
    return store_cache_wrote(in->ops->manifest_delete(in, name, d, subject));
}

static int store_cache_tag_delete(struct store *s, const char *name, const char *tag)
{
    struct store *in = store_cache_in(s);
    return store_cache_wrote(in->ops->tag_delete(in, name, tag));
}

static const char *store_cache_errmsg(struct store *s)
{
    struct store_cache *c = store_cache_of(s);
    return c->own_err && c->err ? c->err : c->inner->ops->errmsg(c->inner);
}

static const struct store_ops store_cache_ops = {
    .blob_stat = store_cache_blob_stat,
    .blob_read = store_cache_blob_read,
    .blob_unlink = store_cache_blob_unlink,
    .blob_mount = store_cache_blob_mount,
    .repo_import = store_cache_repo_import,
    .blob_import = store_cache_blob_import,
    .blob_verify = store_cache_blob_verify,
    .blob_open = store_cache_blob_open,
    .chunk_put = store_cache_chunk_put,
    .chunks_join = store_cache_chunks_join,
    .content_read = store_cache_content_read,
    .blob_commit = store_cache_blob_commit,
    .upload_discard = store_cache_upload_discard,
    .tag_resolve = store_cache_tag_resolve,
    .manifest_exists = store_cache_manifest_exists,
    .manifest_get = store_cache_manifest_get,
    .manifest_put = store_cache_manifest_put,
    .manifest_delete = store_cache_manifest_delete,
    .tag_delete = store_cache_tag_delete,
    .tags_list = store_cache_tags_list,
    .referrers = store_cache_referrers,
    .referrer_subjects = store_cache_referrer_subjects,
    .catalog = store_cache_catalog,
    .repo_exists = store_cache_repo_exists,
    .ping = store_cache_ping,
    .errmsg = store_cache_errmsg,
};

struct store *store_cache_new(struct store *inner)
{
    struct store_cache *c = xcalloc(1, sizeof *c);
    c->ops = store_cache_ops;
    /* optional operations stay optional */
    if (!inner->ops->blob_verify)
        c->ops.blob_verify = NULL;
    if (!inner->ops->blob_open)
        c->ops.blob_open = NULL;
    if (!inner->ops->ping)
        c->ops.ping = NULL;
    if (!inner->ops->repo_import)
        c->ops.repo_import = NULL;
    if (!inner->ops->blob_import)
        c->ops.blob_import = NULL;
    if (!inner->ops->referrer_subjects)
        c->ops.referrer_subjects = NULL;
    c->base.ops = &c->ops;
    c->base.impl = c;
    c->inner = inner;
    cache_shm_bump();
    return &c->base;
}

void store_cache_free(struct store *s)
{
    if (!s)
        return;
    struct store_cache *c = store_cache_of(s);
    for (size_t i = 0; i < STORE_CACHE_MANIFESTS; i++)
        free(c->man[i].data);
    for (size_t i = 0; i < STORE_CACHE_TAGLISTS; i++)
        store_cache_tl_clear(&c->tl[i]);
    free(c->err);
    free(c);
}
