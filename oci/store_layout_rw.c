/* store_layout_rw: pushed OCI image layouts in MFS (see store_layout_rw.h).
 *
 * Kubo calls per write, beyond the storage chain's own: a stat of the
 * layout's oci-layout (two small writes the first time), the blob's link
 * in blobs/ (a cp), the index.json read and write (manifest and tag
 * changes), one flush of <mfsroot> and a stat of the layout directory for
 * the status record. Reads: tags read index.json; manifests, blobs and
 * referrers are the hidden storage repository's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "oci/store_layout_rw.h"
#include "oci/layout.h"
#include "oci/layout_index_edit.h"
#include "oci/manifest.h"
#include "oci/store_kubo.h"
#include "core/errmsg.h"
#include "core/layoutreg.h"
#include "core/log.h"
#include "core/xalloc.h"

#define SLW_MARKER "{\"imageLayoutVersion\": \"1.0.0\"}\n"

struct slw {
    struct store base;
    struct store_ops ops;          /* inner's optional reads offered only if inner has them */
    struct store *inner;           /* borrowed */
    struct kubo *k;                /* borrowed */
    char *root;                    /* mfsroot */
    char *statedir;
    uint64_t manifest_max;
    int allow_sparse;
    struct store_notify notify;
    char *err;
    char last_root[KUBO_CID_MAX];  /* <mfsroot>'s CID after this store's last write ("" none) */
};

/* One request's layout. */
struct slw_at {
    char *sub;      /* "demo/app" */
    char *dir;      /* "<mfsroot>/demo/app" */
    char *shadow;   /* "_layouts/demo/app" */
    int lock;       /* the layout's flock while writing, else -1 */
};

static struct slw *slw_of(struct store *s)
{
    return s->impl;
}

/* ---- errors ---- */

#define slw_kfail(w, krc, ...) store_kubo_fail(&(w)->err, "layout", (w)->k, (krc), __VA_ARGS__)
#define slw_fail(w, rc, ...) errmsg_set(&(w)->err, (rc), "layout", NULL, __VA_ARGS__)

/* The storage chain failed doing what: its message, under ours. */
static int slw_ifail(struct slw *w, int rc, const char *what)
{
    return errmsg_set(&w->err, rc, "layout", w->inner->ops->errmsg(w->inner), "%s", what);
}

/* ---- the layout a name addresses ---- */

static int slw_at_open(struct slw *w, const char *name, struct slw_at *L)
{
    struct layout_name n;
    const char *why;
    memset(L, 0, sizeof *L);
    L->lock = -1;
    if (!layout_name_parse(name, &n))
        return slw_fail(w, STORE_NOT_FOUND, "%s: not an ipns/<key>/<path> name", name);
    int rc = STORE_OK;
    if (n.ns != LAYOUT_IPNS || layout_push_path_check(n.sub, &why) < 0) {
        rc = slw_fail(w, STORE_NOT_FOUND, "%s: not a layout this registry writes", name);
    } else {
        L->sub = xstrdup(n.sub);
        L->dir = xasprintf("%s/%s", w->root, n.sub);
        L->shadow = xasprintf("%s/%s", LAYOUT_RW_SHADOW, n.sub);
    }
    layout_name_free(&n);
    return rc;
}

static void slw_at_close(struct slw_at *L)
{
    layoutreg_unlock(L->lock);
    free(L->sub);
    free(L->dir);
    free(L->shadow);
}

/* Opens name's layout for a write: its lock taken. */
static int slw_at_write(struct slw *w, const char *name, struct slw_at *L)
{
    int rc = slw_at_open(w, name, L);
    if (rc != STORE_OK)
        return rc;
    L->lock = layoutreg_lock(w->statedir, L->sub);
    if (L->lock < 0)
        return errmsg_set(&w->err, STORE_ERROR, "layout", strerror(errno), "lock layout %s in %s/layouts",
                          L->sub, w->statedir);
    return STORE_OK;
}

static char *slw_blob_path(const struct slw_at *L, const struct digest *d)
{
    return xasprintf("%s/blobs/%s/%s", L->dir, digest_alg_name(d->alg), d->hex);
}

/* A new layout gets its oci-layout and an empty index.json before anything
 * else, so it reads as a layout from its first blob on. */
static int slw_ensure(struct slw *w, const struct slw_at *L)
{
    struct kubo_stat st;
    char *p = xasprintf("%s/oci-layout", L->dir);
    int krc = kubo_files_stat(w->k, p, &st);
    if (krc == KUBO_NOT_FOUND) {
        char *ix = xasprintf("%s/index.json", L->dir);
        krc = kubo_files_stat(w->k, ix, &st);
        if (krc == KUBO_NOT_FOUND) {
            json_object *o = layout_ixe_new();
            char *text = layout_ixe_text(o);
            krc = kubo_files_write(w->k, ix, text, strlen(text));
            free(text);
            json_object_put(o);
        }
        if (krc == KUBO_OK)
            krc = kubo_files_write(w->k, p, SLW_MARKER, strlen(SLW_MARKER));
        free(ix);
    }
    free(p);
    if (krc != KUBO_OK)
        return slw_kfail(w, krc, "create layout %s", L->sub);
    return STORE_OK;
}

/* Every write ends here: <mfsroot> flushed (pinned, and what the publisher
 * publishes), the publisher told of a change clients see (visible: not of
 * blobs alone, as store_mfs), the status record updated. */
static int slw_done(struct slw *w, const struct slw_at *L, const char *what, int visible)
{
    char root[KUBO_CID_MAX];
    struct kubo_stat st;
    int krc = kubo_files_flush(w->k, w->root, root);
    if (krc != KUBO_OK)
        return slw_kfail(w, krc, "%s %s: flush", what, L->sub);
    if (visible && w->notify.changed)
        w->notify.changed(w->notify.ctx);
    memcpy(w->last_root, root, sizeof w->last_root);
    if (kubo_files_stat(w->k, L->dir, &st) == KUBO_OK &&
        layoutreg_note(w->statedir, L->sub, st.cid, root) < 0)
        log_warn("layout %s: status record in %s/layouts: %s", L->sub, w->statedir, strerror(errno));
    return STORE_OK;
}

/* Links the blob d that the hidden repository holds into blobs/ (same CID). */
static int slw_link(struct slw *w, const struct slw_at *L, const struct digest *d)
{
    char ds[DIGEST_STR_MAX];
    struct store_blob b = { 0 };
    digest_str(d, ds);
    int rc = w->inner->ops->blob_stat(w->inner, L->shadow, d, &b);
    if (rc != STORE_OK)
        return slw_ifail(w, rc, "link blob into layout");
    char *src = xasprintf("/ipfs/%s", b.cid);
    char *dst = slw_blob_path(L, d);
    int krc = kubo_files_cp(w->k, src, dst);
    free(src);
    free(dst);
    /* exists: the same digest, so the same bytes */
    if (krc != KUBO_OK && krc != KUBO_EXISTS)
        return slw_kfail(w, krc, "link %s into layout %s", ds, L->sub);
    return STORE_OK;
}

/* ---- index.json ---- */

/* The layout's index.json as text into b. STORE_NOT_FOUND: no such layout. */
static int slw_index_text(struct slw *w, const struct slw_at *L, struct buf *b)
{
    char *p = xasprintf("%s/index.json", L->dir);
    buf_init(b, w->manifest_max);
    int krc = kubo_files_read(w->k, p, b);
    free(p);
    if (krc == KUBO_TOO_LARGE)
        return slw_fail(w, STORE_ERROR, "%s/index.json is larger than max_manifest_size", L->sub);
    if (krc != KUBO_OK)
        return slw_kfail(w, krc, "layout %s", L->sub);
    return STORE_OK;
}

/* index.json as an editable document; a missing one is empty (new layout). */
static int slw_index_load(struct slw *w, const struct slw_at *L, json_object **ix)
{
    struct buf b;
    char *err = NULL;
    int rc = slw_index_text(w, L, &b);
    if (rc == STORE_NOT_FOUND) {
        *ix = layout_ixe_new();
        rc = STORE_OK;
    } else if (rc == STORE_OK && layout_ixe_load(buf_cstr(&b), b.len, ix, &err) < 0) {
        rc = slw_fail(w, STORE_ERROR, "%s/index.json is damaged, not rewritten: %s", L->sub, err);
    }
    free(err);
    buf_free(&b);
    return rc;
}

static int slw_index_save(struct slw *w, const struct slw_at *L, json_object *ix)
{
    char *text = layout_ixe_text(ix);
    char *p = xasprintf("%s/index.json", L->dir);
    int krc = kubo_files_write(w->k, p, text, strlen(text));
    free(p);
    free(text);
    if (krc != KUBO_OK)
        return slw_kfail(w, krc, "write %s/index.json", L->sub);
    return STORE_OK;
}

/* index.json parsed for reading. */
static int slw_index_read(struct slw *w, const struct slw_at *L, struct layout_index *ix)
{
    struct buf b;
    char *err = NULL;
    int rc = slw_index_text(w, L, &b);
    if (rc == STORE_OK && layout_index_parse(buf_cstr(&b), b.len, ix, &err) < 0)
        rc = slw_fail(w, STORE_ERROR, "%s/index.json: %s", L->sub, err);
    free(err);
    buf_free(&b);
    return rc;
}

/* ---- what a set of manifests reaches (for deletes) ---- */

struct slw_set {
    struct digest *v;
    unsigned char *manifest;   /* 1: v[i] was read as a manifest */
    size_t n, cap;
    int incomplete;            /* a manifest could not be read, or the walk hit its bound */
};

static int slw_set_has(const struct slw_set *s, const struct digest *d)
{
    for (size_t i = 0; i < s->n; i++)
        if (digest_equal(&s->v[i], d))
            return 1;
    return 0;
}

static void slw_set_add(struct slw_set *s, const struct digest *d, int manifest)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 32;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
        s->manifest = xrealloc(s->manifest, s->cap);
    }
    s->v[s->n] = *d;
    s->manifest[s->n++] = (unsigned char)manifest;
}

static void slw_set_free(struct slw_set *s)
{
    free(s->v);
    free(s->manifest);
}

/* Adds manifest d and everything it reaches (config, layers, children;
 * children expanded in turn, at most LAYOUT_WALK_MAX manifest reads). */
static void slw_reach(struct slw *w, const struct slw_at *L, const struct digest *d,
                      struct slw_set *s, unsigned *reads)
{
    struct buf b;
    struct manifest m;
    char *err = NULL;
    if (slw_set_has(s, d))
        return;
    if (++*reads > LAYOUT_WALK_MAX) {
        s->incomplete = 1;
        return;
    }
    slw_set_add(s, d, 1);
    char *p = slw_blob_path(L, d);
    buf_init(&b, w->manifest_max);
    int krc = kubo_files_read(w->k, p, &b);
    free(p);
    if (krc != KUBO_OK || manifest_parse(buf_cstr(&b), b.len, NULL, &m, &err) < 0) {
        s->incomplete = 1;
        free(err);
        buf_free(&b);
        return;
    }
    if (m.has_config && !slw_set_has(s, &m.config.digest))
        slw_set_add(s, &m.config.digest, 0);
    for (size_t i = 0; i < m.nblobs; i++)
        if (!slw_set_has(s, &m.blobs[i].digest))
            slw_set_add(s, &m.blobs[i].digest, 0);
    for (size_t i = 0; i < m.nchildren; i++)
        slw_reach(w, L, &m.children[i].digest, s, reads);
    manifest_free(&m);
    buf_free(&b);
}

/* What every descriptor of ix reaches. */
static void slw_reach_index(struct slw *w, const struct slw_at *L, json_object *ix, struct slw_set *s)
{
    json_object *arr, *e, *dv;
    unsigned reads = 0;
    if (!json_object_object_get_ex(ix, "manifests", &arr))
        return;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct digest d;
        e = json_object_array_get_idx(arr, i);
        if (json_object_object_get_ex(e, "digest", &dv) &&
            digest_parse(json_object_get_string(dv), &d) == DIGEST_PARSE_OK)
            slw_reach(w, L, &d, s, &reads);
    }
}

/* After manifest d left ix: what only d reached leaves blobs/ and the
 * hidden repository. Nothing is pruned when what the rest reaches is not
 * known for sure (a manifest unreadable, the walk's bound): a blob kept too
 * long is garbage collection's, a blob lost breaks an image. */
static int slw_prune(struct slw *w, const struct slw_at *L, json_object *ix, const struct slw_set *gone)
{
    struct slw_set kept = { 0 };
    char ds[DIGEST_STR_MAX];
    int rc = STORE_OK;
    slw_reach_index(w, L, ix, &kept);
    if (kept.incomplete) {
        log_warn("layout %s: what its index reaches could not all be read: nothing pruned from blobs/", L->sub);
        slw_set_free(&kept);
        return STORE_OK;
    }
    for (size_t i = 0; i < gone->n && rc == STORE_OK; i++) {
        const struct digest *d = &gone->v[i];
        if (slw_set_has(&kept, d))
            continue;
        char *p = slw_blob_path(L, d);
        int krc = kubo_files_rm(w->k, p, 0);
        free(p);
        if (krc != KUBO_OK && krc != KUBO_NOT_FOUND) {
            rc = slw_kfail(w, krc, "prune %s from layout %s", digest_str(d, ds), L->sub);
            break;
        }
        int irc = gone->manifest[i] ? w->inner->ops->manifest_delete(w->inner, L->shadow, d, NULL)
                                    : w->inner->ops->blob_unlink(w->inner, L->shadow, d);
        if (irc != STORE_OK && irc != STORE_NOT_FOUND)
            rc = slw_ifail(w, irc, "prune from the hidden repository");
    }
    slw_set_free(&kept);
    return rc;
}

/* ---- blobs: the hidden repository's ---- */

/* Reads that are the hidden repository's: call, naming it L.shadow. */
#define SLW_SHADOW(call, what)                                        \
    do {                                                              \
        struct slw *w = slw_of(s);                                    \
        struct slw_at L;                                              \
        int rc = slw_at_open(w, name, &L);                            \
        if (rc == STORE_OK && (rc = w->inner->ops->call) != STORE_OK) \
            slw_ifail(w, rc, what);                                   \
        slw_at_close(&L);                                             \
        return rc;                                                    \
    } while (0)

static int slw_blob_stat(struct store *s, const char *name, const struct digest *d, struct store_blob *out)
{
    SLW_SHADOW(blob_stat(w->inner, L.shadow, d, out), "blob");
}

static int slw_blob_read(struct store *s, const struct store_blob *b, uint64_t offset, uint64_t length,
                         store_write_cb cb, void *ctx)
{
    struct slw *w = slw_of(s);
    int rc = w->inner->ops->blob_read(w->inner, b, offset, length, cb, ctx);
    return rc == STORE_OK ? rc : slw_ifail(w, rc, "read blob");
}

static int slw_blob_verify(struct store *s, const struct store_blob *b)
{
    struct slw *w = slw_of(s);
    int rc = w->inner->ops->blob_verify(w->inner, b);
    return rc == STORE_OK ? rc : slw_ifail(w, rc, "verify blob");
}

static int slw_blob_open(struct store *s, const struct store_blob *b, uint64_t offset, uint64_t length,
                         int *fd)
{
    struct slw *w = slw_of(s);
    int rc = w->inner->ops->blob_open(w->inner, b, offset, length, fd);
    return rc == STORE_OK ? rc : slw_ifail(w, rc, "open blob");
}

static int slw_blob_unlink(struct store *s, const char *name, const struct digest *d)
{
    struct slw *w = slw_of(s);
    struct slw_at L;
    char ds[DIGEST_STR_MAX];
    int rc = slw_at_write(w, name, &L);
    if (rc == STORE_OK) {
        char *p = slw_blob_path(&L, d);
        int krc = kubo_files_rm(w->k, p, 0);
        free(p);
        int irc = w->inner->ops->blob_unlink(w->inner, L.shadow, d);
        if (krc != KUBO_OK && krc != KUBO_NOT_FOUND)
            rc = slw_kfail(w, krc, "unlink %s from layout %s", digest_str(d, ds), L.sub);
        else if (irc != STORE_OK && irc != STORE_NOT_FOUND)
            rc = slw_ifail(w, irc, "unlink blob");
        else if (krc == KUBO_NOT_FOUND && irc == STORE_NOT_FOUND)
            rc = slw_fail(w, STORE_NOT_FOUND, "blob %s is not in layout %s", digest_str(d, ds), L.sub);
        else
            rc = slw_done(w, &L, "unlink blob", 1);
    }
    slw_at_close(&L);
    return rc;
}

/* The storage-chain repository that from names: a layout of this registry
 * (ipns/<key>/<path>: its hidden repository; the key was checked when the
 * client was allowed to read it, and a digest names the same bytes
 * wherever they are), a storage-mode repository as it is, NULL for
 * ipfs/ names (not mounted: the client uploads instead). */
static char *slw_mount_source(const char *from)
{
    struct layout_name n;
    const char *why;
    char *src = NULL;
    if (!layout_name_parse(from, &n))
        return xstrdup(from);
    if (n.ns == LAYOUT_IPNS && layout_push_path_check(n.sub, &why) == 0)
        src = xasprintf("%s/%s", LAYOUT_RW_SHADOW, n.sub);
    layout_name_free(&n);
    return src;
}

static int slw_blob_mount(struct store *s, const char *name, const char *from, const struct digest *d)
{
    struct slw *w = slw_of(s);
    struct slw_at L;
    char *src = from ? slw_mount_source(from) : NULL;
    if (from && !src)
        return slw_fail(w, STORE_NOT_FOUND, "mount from %s: only storage mode and this registry's layouts are mounted",
                        from);
    int rc = slw_at_write(w, name, &L);
    if (rc == STORE_OK)
        rc = slw_ensure(w, &L);
    if (rc == STORE_OK && (rc = w->inner->ops->blob_mount(w->inner, L.shadow, src, d)) != STORE_OK)
        slw_ifail(w, rc, "mount");
    if (rc == STORE_OK)
        rc = slw_link(w, &L, d);
    if (rc == STORE_OK)
        rc = slw_done(w, &L, "mount", 0);
    slw_at_close(&L);
    free(src);
    return rc;
}

/* ---- uploads: the storage chain's ---- */

static int slw_chunk_put(struct store *s, const char *upload_id, unsigned idx, uint64_t offset,
                         const struct digest *whole, store_read_cb cb, void *ctx, struct store_chunk *out)
{
    struct slw *w = slw_of(s);
    int rc = w->inner->ops->chunk_put(w->inner, upload_id, idx, offset, whole, cb, ctx, out);
    return rc == STORE_OK ? rc : slw_ifail(w, rc, "upload");
}

static int slw_chunks_join(struct store *s, const struct store_chunk *chunks, size_t n, struct store_chunk *out)
{
    struct slw *w = slw_of(s);
    int rc = w->inner->ops->chunks_join(w->inner, chunks, n, out);
    return rc == STORE_OK ? rc : slw_ifail(w, rc, "upload");
}

static int slw_content_read(struct store *s, const struct store_chunk *c, store_write_cb cb, void *ctx)
{
    struct slw *w = slw_of(s);
    int rc = w->inner->ops->content_read(w->inner, c, cb, ctx);
    return rc == STORE_OK ? rc : slw_ifail(w, rc, "upload");
}

static int slw_upload_discard(struct store *s, const char *upload_id)
{
    struct slw *w = slw_of(s);
    int rc = w->inner->ops->upload_discard(w->inner, upload_id);
    return rc == STORE_OK ? rc : slw_ifail(w, rc, "upload");
}

static int slw_blob_commit(struct store *s, const char *name, const struct digest *d,
                           const struct store_chunk *content)
{
    struct slw *w = slw_of(s);
    struct slw_at L;
    int rc = slw_at_write(w, name, &L);
    if (rc == STORE_OK)
        rc = slw_ensure(w, &L);
    if (rc == STORE_OK && (rc = w->inner->ops->blob_commit(w->inner, L.shadow, d, content)) != STORE_OK)
        slw_ifail(w, rc, "commit blob");
    if (rc == STORE_OK)
        rc = slw_link(w, &L, d);
    if (rc == STORE_OK)
        rc = slw_done(w, &L, "commit blob", 0);
    slw_at_close(&L);
    return rc;
}

/* ---- manifests and tags ---- */

static int slw_tag_resolve(struct store *s, const char *name, const char *tag, struct digest *out)
{
    struct slw *w = slw_of(s);
    struct slw_at L;
    struct layout_index ix = { 0 };
    int rc = slw_at_open(w, name, &L);
    if (rc == STORE_OK)
        rc = slw_index_read(w, &L, &ix);
    if (rc == STORE_OK) {
        long i = layout_find_tag(&ix, NULL, tag);
        if (i < 0)
            rc = slw_fail(w, STORE_NOT_FOUND, "layout %s has no tag %s", L.sub, tag);
        else
            *out = ix.v[i].digest;
    }
    layout_index_free(&ix);
    slw_at_close(&L);
    return rc;
}

static int slw_manifest_exists(struct store *s, const char *name, const struct digest *d)
{
    SLW_SHADOW(manifest_exists(w->inner, L.shadow, d), "manifest");
}

static int slw_manifest_get(struct store *s, const char *name, const struct digest *d, struct buf *out)
{
    SLW_SHADOW(manifest_get(w->inner, L.shadow, d, out), "manifest");
}

/* Under the lock: every blob the manifest references is still in blobs/.
 * The handler checked them before the lock; a delete in between may have
 * pruned one, and the push must then fail rather than be acknowledged
 * with a hole in the layout. Children are manifests the layout holds by
 * their own descriptors (a delete never prunes those). */
static int slw_recheck(struct slw *w, const struct slw_at *L, const char *data, size_t len)
{
    struct manifest m;
    char *err = NULL;
    char ds[DIGEST_STR_MAX];
    int rc = STORE_OK;
    if (manifest_parse(data, len, NULL, &m, &err) < 0) {
        free(err);
        return STORE_OK;   /* the handler parsed it with its Content-Type: nothing to check here */
    }
    for (size_t i = 0; i <= m.nblobs && rc == STORE_OK; i++) {
        const struct descriptor *dd = i < m.nblobs ? &m.blobs[i] : (m.has_config ? &m.config : NULL);
        struct kubo_stat st;
        if (!dd || dd->skip_check)
            continue;
        char *p = slw_blob_path(L, &dd->digest);
        int krc = kubo_files_stat(w->k, p, &st);
        free(p);
        if (krc == KUBO_NOT_FOUND)
            rc = slw_fail(w, STORE_INVALID, "blob %s left layout %s while this manifest was pushed (a delete pruned it): push the blob again",
                          digest_str(&dd->digest, ds), L->sub);
        else if (krc != KUBO_OK)
            rc = slw_kfail(w, krc, "blob %s of layout %s", digest_str(&dd->digest, ds), L->sub);
    }
    manifest_free(&m);
    return rc;
}

static int slw_manifest_put(struct store *s, const char *name, const struct digest *d, const char *data,
                            size_t len, char *const *tags, size_t ntags, const struct digest *subject)
{
    struct slw *w = slw_of(s);
    struct slw_at L;
    json_object *ix = NULL;
    int rc = slw_at_write(w, name, &L);
    if (rc == STORE_OK)
        rc = slw_ensure(w, &L);
    if (rc == STORE_OK && !w->allow_sparse)
        rc = slw_recheck(w, &L, data, len);
    if (rc == STORE_OK &&
        (rc = w->inner->ops->manifest_put(w->inner, L.shadow, d, data, len, NULL, 0, subject)) != STORE_OK)
        slw_ifail(w, rc, "put manifest");
    if (rc == STORE_OK)
        rc = slw_link(w, &L, d);
    if (rc == STORE_OK)
        rc = slw_index_load(w, &L, &ix);
    if (rc == STORE_OK) {
        char *mt = manifest_sniff_media_type(data, len);
        struct layout_desc desc = { .media_type = mt, .digest = *d, .size = len };
        int changed = ntags ? 0 : layout_ixe_hold(ix, &desc);
        for (size_t i = 0; i < ntags; i++)
            changed |= layout_ixe_set_tag(ix, tags[i], &desc);
        if (changed)
            rc = slw_index_save(w, &L, ix);
        free(mt);
    }
    if (rc == STORE_OK)
        rc = slw_done(w, &L, "put manifest", 1);
    json_object_put(ix);
    slw_at_close(&L);
    return rc;
}

static int slw_manifest_delete(struct store *s, const char *name, const struct digest *d,
                               const struct digest *subject)
{
    struct slw *w = slw_of(s);
    struct slw_at L;
    struct slw_set gone = { 0 };
    json_object *ix = NULL;
    char ds[DIGEST_STR_MAX];
    unsigned reads = 0;
    int rc = slw_at_write(w, name, &L);
    if (rc == STORE_OK)
        rc = slw_index_load(w, &L, &ix);
    if (rc == STORE_OK) {
        slw_reach(w, &L, d, &gone, &reads);   /* read before anything goes */
        size_t n = layout_ixe_remove(ix, d);
        int irc = w->inner->ops->manifest_delete(w->inner, L.shadow, d, subject);
        if (irc != STORE_OK && irc != STORE_NOT_FOUND)
            rc = slw_ifail(w, irc, "delete manifest");
        else if (n == 0 && irc == STORE_NOT_FOUND)
            rc = slw_fail(w, STORE_NOT_FOUND, "manifest %s is not in layout %s", digest_str(d, ds), L.sub);
        else if (n > 0)
            rc = slw_index_save(w, &L, ix);
    }
    if (rc == STORE_OK)
        rc = slw_prune(w, &L, ix, &gone);
    if (rc == STORE_OK)
        rc = slw_done(w, &L, "delete manifest", 1);
    slw_set_free(&gone);
    json_object_put(ix);
    slw_at_close(&L);
    return rc;
}

static int slw_tag_delete(struct store *s, const char *name, const char *tag)
{
    struct slw *w = slw_of(s);
    struct slw_at L;
    json_object *ix = NULL;
    int rc = slw_at_write(w, name, &L);
    if (rc == STORE_OK)
        rc = slw_index_load(w, &L, &ix);
    if (rc == STORE_OK && !layout_ixe_untag(ix, tag))
        rc = slw_fail(w, STORE_NOT_FOUND, "layout %s has no tag %s", L.sub, tag);
    if (rc == STORE_OK)
        rc = slw_index_save(w, &L, ix);
    if (rc == STORE_OK)
        rc = slw_done(w, &L, "delete tag", 1);
    json_object_put(ix);
    slw_at_close(&L);
    return rc;
}

static int slw_tags_list(struct store *s, const char *name, char ***tags, size_t *n)
{
    struct slw *w = slw_of(s);
    struct slw_at L;
    struct layout_index ix = { 0 };
    *tags = NULL;
    *n = 0;
    int rc = slw_at_open(w, name, &L);
    if (rc == STORE_OK)
        rc = slw_index_read(w, &L, &ix);
    if (rc == STORE_OK)
        layout_tags(&ix, NULL, tags, n);
    layout_index_free(&ix);
    slw_at_close(&L);
    return rc;
}

static int slw_referrers(struct store *s, const char *name, const struct digest *subject,
                         struct digest **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    SLW_SHADOW(referrers(w->inner, L.shadow, subject, out, n), "referrers");
}

/* The catalog lists storage mode only (it is never asked for a layout). */
static int slw_catalog(struct store *s, char ***names, size_t *n)
{
    (void)s;
    *names = NULL;
    *n = 0;
    return STORE_OK;
}

static int slw_repo_exists(struct store *s, const char *name)
{
    struct slw *w = slw_of(s);
    struct slw_at L;
    struct kubo_stat st;
    int rc = slw_at_open(w, name, &L);
    int r = 0;
    if (rc == STORE_OK) {
        char *p = xasprintf("%s/oci-layout", L.dir);
        int krc = kubo_files_stat(w->k, p, &st);
        free(p);
        r = krc == KUBO_OK ? 1 : store_rc_of_kubo(krc) == STORE_NOT_FOUND ? 0 : -1;
        if (r < 0)
            slw_kfail(w, krc, "layout %s", L.sub);
    }
    slw_at_close(&L);
    return r;
}

static int slw_published_at(struct store *s, const char *name, char *out, size_t n)
{
    struct slw *w = slw_of(s);
    struct layout_name ln;
    if (!w->last_root[0] || !layout_name_parse(name, &ln))
        return STORE_NOT_FOUND;
    snprintf(out, n, "/ipfs/%s/%s", w->last_root, ln.sub);
    layout_name_free(&ln);
    return STORE_OK;
}

static int slw_ping(struct store *s, long timeout_ms, char *version, size_t n)
{
    struct slw *w = slw_of(s);
    return w->inner->ops->ping ? w->inner->ops->ping(w->inner, timeout_ms, version, n) : STORE_OK;
}

static const char *slw_errmsg(struct store *s)
{
    struct slw *w = slw_of(s);
    return w->err ? w->err : "layout: no error";
}

static const struct store_ops slw_ops = {
    .blob_stat = slw_blob_stat,
    .blob_read = slw_blob_read,
    .blob_verify = slw_blob_verify,
    .blob_open = slw_blob_open,
    .blob_unlink = slw_blob_unlink,
    .blob_mount = slw_blob_mount,
    .chunk_put = slw_chunk_put,
    .chunks_join = slw_chunks_join,
    .content_read = slw_content_read,
    .blob_commit = slw_blob_commit,
    .upload_discard = slw_upload_discard,
    .tag_resolve = slw_tag_resolve,
    .manifest_exists = slw_manifest_exists,
    .manifest_get = slw_manifest_get,
    .manifest_put = slw_manifest_put,
    .manifest_delete = slw_manifest_delete,
    .tag_delete = slw_tag_delete,
    .tags_list = slw_tags_list,
    .referrers = slw_referrers,
    .catalog = slw_catalog,
    .repo_exists = slw_repo_exists,
    .published_at = slw_published_at,
    .ping = slw_ping,
    .errmsg = slw_errmsg,
};

struct store *store_layout_rw_new(struct store *inner, struct kubo *k, const char *mfsroot,
                                  const char *statedir, uint64_t manifest_max, int allow_sparse,
                                  const struct store_notify *notify)
{
    struct slw *w = xcalloc(1, sizeof *w);
    w->ops = slw_ops;
    /* the handlers decide by these being NULL (verify, splice): mirror inner */
    if (!inner->ops->blob_verify)
        w->ops.blob_verify = NULL;
    if (!inner->ops->blob_open)
        w->ops.blob_open = NULL;
    w->base.ops = &w->ops;
    w->base.impl = w;
    w->inner = inner;
    w->k = k;
    w->root = xstrdup(mfsroot);
    w->statedir = xstrdup(statedir);
    w->manifest_max = manifest_max;
    w->allow_sparse = allow_sparse;
    if (notify)
        w->notify = *notify;
    return &w->base;
}

void store_layout_rw_free(struct store *s)
{
    if (!s)
        return;
    struct slw *w = slw_of(s);
    free(w->root);
    free(w->statedir);
    free(w->err);
    free(w);
}
