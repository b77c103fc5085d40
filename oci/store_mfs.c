/* store_mfs: the storage mode backend, the CNCF distribution layout
 * (oci/paths.h) in a Kubo node's MFS (see store_mfs.h).
 *
 * Request economy: every Kubo call is a loopback HTTP round trip, so each
 * operation makes the fewest it can. Existence checks use the answer of the
 * call that needs doing anyway (rm's "not found", cp's "exists"); writes are
 * made without checks and persisted with one files/flush of the root at the
 * end, which is what pins them through MFS and what the publisher reads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "oci/store_mfs.h"
#include "oci/paths.h"
#include "oci/store_kubo.h"
#include "core/errmsg.h"
#include "core/gcmark.h"
#include "core/log.h"
#include "core/xalloc.h"

/* A link file holds one digest string; anything longer is not ours. */
#define STORE_MFS_LINK_MAX 256
/* Names are at most 255 bytes, so no real repository tree is deeper than
 * this; the bound only protects the walk from a hand-made MFS tree. */
#define STORE_MFS_CATALOG_DEPTH 128

struct store_mfs {
    struct store base;       /* base.impl points back here */
    struct kubo *k;          /* borrowed */
    char *root;
    char *uploads;
    char *err;               /* last error, for store_errmsg */
    char *statedir;          /* garbage collection's markers (core/gcmark.h); NULL: none */
    struct store_notify notify;   /* changed == NULL: nobody to tell */
};

static const struct store_ops store_mfs_ops;

static struct store_mfs *store_mfs_of(struct store *s)
{
    return s->impl;
}

/* ---- errors ---- */

/* Records "store: <context>: <Kubo's message>" and maps krc to a store_rc. */
#define store_mfs_kfail(m, krc, ...) store_kubo_fail(&(m)->err, "store", (m)->k, (krc), __VA_ARGS__)
/* Records an error of our own (no Kubo message) and returns rc. */
#define store_mfs_fail(m, rc, ...) errmsg_set(&(m)->err, (rc), "store", NULL, __VA_ARGS__)

/* ---- small helpers ---- */

/* The directory that holds a ".../link" file: removing it removes the entry
 * without leaving an empty directory behind. Returns a new string. */
static char *store_mfs_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    return xstrndup(path, slash ? (size_t)(slash - path) : 0);
}

/* An add pins what it stored until it is linked into MFS (kubo_set_pin_adds):
 * once linked (or failed), the pin goes. A pin left behind keeps garbage,
 * never loses data: logged, not an error of the request. */
static void store_mfs_unpin(struct store_mfs *m, const char *cid)
{
    if (kubo_unpin_added(m->k, cid) != KUBO_OK)
        log_debug("store: pin of %s left in place: %s", cid, kubo_errmsg(m->k));
}

/* Every write ends here. visible: a change clients see (a manifest or
 * tag written or deleted, a blob deleted): the one place that tells the
 * publisher. Blobs arriving alone are not worth a publish: followers would
 * resolve, and pin, a root that holds new blobs but no new tag (the push's
 * manifest, last, brings them all). */
static int store_mfs_flush(struct store_mfs *m, const char *what, int visible)
{
    int krc = kubo_files_flush(m->k, m->root, NULL);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "%s: flush", what);
    if (visible && m->notify.changed)
        m->notify.changed(m->notify.ctx);
    return STORE_OK;
}

/* Before linking d: tells a collection running meanwhile to keep it
 * (core/gcmark.h). A store_rc: a marker that cannot be written fails the
 * write, since a collection could then take what it links. */
static int store_mfs_touch(struct store_mfs *m, const struct digest *d, const char *what)
{
    char ds[DIGEST_STR_MAX];
    if (!m->statedir || gcmark_touch(m->statedir, d) == 0)
        return STORE_OK;
    return store_mfs_fail(m, STORE_ERROR, "%s: cannot record %s for garbage collection in %s/gc: %s", what,
                          digest_str(d, ds), m->statedir, strerror(errno));
}

static int store_mfs_write_link(struct store_mfs *m, const char *path, const struct digest *d)
{
    char *content = link_content(d);
    int krc = kubo_files_write(m->k, path, content, strlen(content));
    free(content);
    return krc;
}

/* Reads a link file into *out. A store_rc, with what (the link's meaning,
 * "tag a:b") naming it in the message. */
static int store_mfs_read_link(struct store_mfs *m, const char *path, struct digest *out, const char *what)
{
    struct buf b;
    buf_init(&b, STORE_MFS_LINK_MAX);
    int krc = kubo_files_read(m->k, path, &b);
    int rc = STORE_OK;
    if (krc != KUBO_OK) {
        rc = store_mfs_kfail(m, krc, "%s", what);
    } else {
        /* tolerate a trailing newline from hand-written links */
        while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
            b.data[--b.len] = '\0';
        if (digest_parse(buf_cstr(&b), out) != DIGEST_PARSE_OK)
            rc = store_mfs_fail(m, STORE_ERROR, "%s: current link holds no digest", what);
    }
    buf_free(&b);
    return rc;
}

/* ---- blobs ---- */

/* Does repository name link d? As a layer, or else as a manifest revision
 * (manifests are blobs too, and may be fetched through /blobs/). */
static int store_mfs_repo_links(struct store_mfs *m, const char *name, const struct digest *d)
{
    struct kubo_stat st;
    char ds[DIGEST_STR_MAX];
    char *p = path_layer_link(m->root, name, d);
    int krc = kubo_files_stat(m->k, p, &st);
    free(p);
    if (krc == KUBO_NOT_FOUND) {
        p = path_revision_link(m->root, name, d);
        krc = kubo_files_stat(m->k, p, &st);
        free(p);
    }
    if (krc == KUBO_NOT_FOUND)
        return store_mfs_fail(m, STORE_NOT_FOUND, "blob %s is not linked in repository %s",
                              digest_str(d, ds), name);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "blob %s in %s", digest_str(d, ds), name);
    return STORE_OK;
}

/* The linked blob's data: CID and size. */
static int store_mfs_blob_lookup(struct store_mfs *m, const char *name, const struct digest *d,
                                 struct kubo_stat *st)
{
    int rc = store_mfs_repo_links(m, name, d);
    if (rc != STORE_OK)
        return rc;
    char ds[DIGEST_STR_MAX];
    char *p = path_blob_data(m->root, d);
    int krc = kubo_files_stat(m->k, p, st);
    free(p);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "blob %s data", digest_str(d, ds));
    return STORE_OK;
}

static int store_mfs_blob_stat(struct store *s, const char *name, const struct digest *d,
                               struct store_blob *out)
{
    struct store_mfs *m = store_mfs_of(s);
    struct kubo_stat st;
    int rc = store_mfs_blob_lookup(m, name, d, &st);
    if (rc != STORE_OK)
        return rc;
    out->size = st.size;
    memcpy(out->cid, st.cid, sizeof out->cid);
    out->file = 0;   /* Kubo holds the bytes (store_files sets it for its files) */
    return STORE_OK;
}

static int store_mfs_blob_read(struct store *s, const struct store_blob *b,
                               uint64_t offset, uint64_t length, store_write_cb cb, void *ctx)
{
    struct store_mfs *m = store_mfs_of(s);
    int krc = kubo_gateway_get(m->k, b->cid, offset, length, cb, ctx);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "read blob %s", b->cid);
    return STORE_OK;
}

static int store_mfs_blob_open(struct store *s, const struct store_blob *b, uint64_t offset,
                               uint64_t length, int *fd)
{
    struct store_mfs *m = store_mfs_of(s);
    int krc = kubo_gateway_open(m->k, b->cid, offset, length, fd);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "open blob %s", b->cid);
    return STORE_OK;
}

/* Only the repository's link goes: the bytes under blobs/ may be linked by
 * other repositories, and deciding that nothing links them any more is
 * garbage collection, which is distribution's business (and not done here). */
static int store_mfs_blob_unlink(struct store *s, const char *name, const struct digest *d)
{
    struct store_mfs *m = store_mfs_of(s);
    char ds[DIGEST_STR_MAX];
    char *link = path_layer_link(m->root, name, d);
    char *dir = store_mfs_dirname(link);
    int krc = kubo_files_rm(m->k, dir, 1);
    free(dir);
    free(link);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "unlink blob %s from %s", digest_str(d, ds), name);
    return store_mfs_flush(m, "unlink blob", 1);
}

static int store_mfs_blob_mount(struct store *s, const char *name, const char *from, const struct digest *d)
{
    struct store_mfs *m = store_mfs_of(s);
    char ds[DIGEST_STR_MAX];
    struct kubo_stat st;
    int krc;
    digest_str(d, ds);
    int rc = store_mfs_touch(m, d, "mount");
    if (rc != STORE_OK)
        return rc;
    if (from) {
        /* a link implies the data: the store only links committed blobs */
        char *p = path_layer_link(m->root, from, d);
        krc = kubo_files_stat(m->k, p, &st);
        free(p);
        if (krc != KUBO_OK)
            return store_mfs_kfail(m, krc, "mount %s from %s", ds, from);
    } else {
        char *p = path_blob_data(m->root, d);
        krc = kubo_files_stat(m->k, p, &st);
        free(p);
        if (krc != KUBO_OK)
            return store_mfs_kfail(m, krc, "mount %s", ds);
    }
    char *link = path_layer_link(m->root, name, d);
    krc = store_mfs_write_link(m, link, d);
    free(link);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "mount %s into %s", ds, name);
    return store_mfs_flush(m, "mount", 0);
}

/* ---- imports from another tree of the same layout (a read-only root) ---- */

/* from as a store_mfs, or NULL (with the error recorded) if it is another kind. */
static struct store_mfs *store_mfs_peer(struct store_mfs *m, struct store *from, const char *what)
{
    if (from->ops == &store_mfs_ops)
        return store_mfs_of(from);
    store_mfs_fail(m, STORE_ERROR, "%s: the source is not an MFS-layout store", what);
    return NULL;
}

/* Links the bytes at CID cid as blob d of m (a no-op if m has d). */
static int store_mfs_link_blob(struct store_mfs *m, const char *cid, const struct digest *d, const char *what)
{
    int rc = store_mfs_touch(m, d, what);
    if (rc != STORE_OK)
        return rc;
    char *src = xasprintf("/ipfs/%s", cid);
    char *dst = path_blob_data(m->root, d);
    int krc = kubo_files_cp(m->k, src, dst);
    free(src);
    free(dst);
    if (krc != KUBO_OK && krc != KUBO_EXISTS)
        return store_mfs_kfail(m, krc, "%s", what);
    return STORE_OK;
}

static int store_mfs_blob_import(struct store *s, struct store *from, const char *from_name,
                                 const struct digest *d)
{
    struct store_mfs *m = store_mfs_of(s);
    char ds[DIGEST_STR_MAX], what[DIGEST_STR_MAX + 16];
    digest_str(d, ds);
    snprintf(what, sizeof what, "import %s", ds);
    struct store_mfs *f = store_mfs_peer(m, from, what);
    if (!f)
        return STORE_ERROR;
    struct store_blob b = { 0 };
    if (from_name) {
        int rc = from->ops->blob_stat(from, from_name, d, &b);
        if (rc != STORE_OK)
            return store_mfs_fail(m, rc, "%s: %s", what, from->ops->errmsg(from));
    } else {
        struct kubo_stat st;
        char *p = path_blob_data(f->root, d);
        int krc = kubo_files_stat(m->k, p, &st);
        free(p);
        if (krc != KUBO_OK)
            return store_mfs_kfail(m, krc, "%s", what);
        memcpy(b.cid, st.cid, sizeof b.cid);
    }
    return store_mfs_link_blob(m, b.cid, d, what);
}

/* Each blob linked under from's <repo>/<sub>/<alg>/<hex>, into m's blobs. */
static int store_mfs_import_linked(struct store_mfs *m, struct store_mfs *f, const char *repo_src,
                                   const char *sub, const char *name, int touch_only)
{
    char *dir = xasprintf("%s/%s", repo_src, sub);
    char **algs = NULL;
    size_t na = 0;
    int rc = STORE_OK;
    kubo_files_ls(m->k, dir, &algs, &na);   /* none: nothing of this kind to import */
    for (size_t a = 0; a < na && rc == STORE_OK; a++) {
        char *adir = xasprintf("%s/%s", dir, algs[a]);
        char **hexes = NULL;
        size_t nh = 0;
        kubo_files_ls(m->k, adir, &hexes, &nh);
        for (size_t h = 0; h < nh && rc == STORE_OK; h++) {
            struct digest d;
            struct kubo_stat st;
            char *ds = xasprintf("%s:%s", algs[a], hexes[h]);
            if (touch_only && digest_parse(ds, &d) == DIGEST_PARSE_OK) {
                rc = store_mfs_touch(m, &d, "adopt");
            } else if (digest_parse(ds, &d) == DIGEST_PARSE_OK) {
                char *src = path_blob_data(f->root, &d);
                int krc = kubo_files_stat(m->k, src, &st);
                free(src);
                /* a link whose blob the root lacks is imported as it is: broken */
                if (krc == KUBO_OK) {
                    char *what = xasprintf("adopt %s: blob %s", name, ds);
                    rc = store_mfs_link_blob(m, st.cid, &d, what);
                    free(what);
                } else if (krc != KUBO_NOT_FOUND) {
                    rc = store_mfs_kfail(m, krc, "adopt %s: blob %s", name, ds);
                }
            }
            free(ds);
        }
        strv_free(hexes, nh);
        free(adir);
    }
    strv_free(algs, na);
    free(dir);
    return rc;
}

static int store_mfs_repo_import(struct store *s, const char *name, struct store *from)
{
    struct store_mfs *m = store_mfs_of(s);
    char *what = xasprintf("adopt %s", name);
    struct store_mfs *f = store_mfs_peer(m, from, what);
    free(what);
    if (!f)
        return STORE_ERROR;
    char *repo_src = path_repo(f->root, name);
    char *repo_dst = path_repo(m->root, name);
    /* every digest the copy links is marked before the copy makes the links */
    int rc = store_mfs_import_linked(m, f, repo_src, "_layers", name, 1);
    if (rc == STORE_OK)
        rc = store_mfs_import_linked(m, f, repo_src, "_manifests/revisions", name, 1);
    int krc = rc == STORE_OK ? kubo_files_cp(m->k, repo_src, repo_dst) : KUBO_OK;
    if (krc != KUBO_OK && krc != KUBO_EXISTS)
        rc = store_mfs_kfail(m, krc, "adopt %s from %s", name, f->root);
    if (rc == STORE_OK)
        rc = store_mfs_import_linked(m, f, repo_src, "_layers", name, 0);
    if (rc == STORE_OK)
        rc = store_mfs_import_linked(m, f, repo_src, "_manifests/revisions", name, 0);
    free(repo_src);
    free(repo_dst);
    return rc == STORE_OK ? store_mfs_flush(m, "adopt", 1) : rc;
}

/* ---- uploads ---- */

/* Chunks are staged in MFS (not just added) so Kubo's GC, which keeps what
 * MFS references, never takes an upload in progress. The bytes stream into
 * a plain add, and the link is made by a files/cp under the MFS lock like
 * every other MFS change (ipfs/mfs.c): `add --to-files` would change MFS
 * outside the lock, at the end of an upload of any length, and could write
 * a stale copy of the staging directory over a concurrent change (dropping
 * another upload's chunk, or bringing back a removed one). The few
 * milliseconds between the add and the cp are not covered against a
 * concurrent `repo gc`; if it struck then, the cp fails and so does the
 * PATCH, which the client retries. No flush: the staging area is outside
 * root, never published, and GC sees MFS's current state. */
static int store_mfs_chunk_put(struct store *s, const char *upload_id, unsigned idx,
                               uint64_t offset, const struct digest *whole, store_read_cb cb,
                               void *ctx, struct store_chunk *out)
{
    struct store_mfs *m = store_mfs_of(s);
    (void)offset;   /* each chunk is its own content, joined at completion */
    (void)whole;
    int krc = kubo_add_stream(m->k, cb, ctx, NULL, out->cid, &out->size);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "upload %s chunk %u", upload_id, idx);
    char *p = path_upload_chunk(m->uploads, upload_id, idx);
    char *src = xasprintf("/ipfs/%s", out->cid);
    krc = kubo_files_cp(m->k, src, p);
    if (krc == KUBO_EXISTS) {
        /* A chunk left at this index by an attempt the session never
         * recorded (the request failed after the link): put ours there. */
        krc = kubo_files_rm(m->k, p, 1);
        if (krc == KUBO_OK || krc == KUBO_NOT_FOUND)
            krc = kubo_files_cp(m->k, src, p);
    }
    free(src);
    free(p);
    store_mfs_unpin(m, out->cid);   /* linked into the staging area now, or garbage */
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "upload %s chunk %u", upload_id, idx);
    return STORE_OK;
}

static int store_mfs_chunks_join(struct store *s, const struct store_chunk *chunks, size_t n,
                                 struct store_chunk *out)
{
    struct store_mfs *m = store_mfs_of(s);
    int krc;
    if (n == 1) {
        *out = chunks[0];
        return STORE_OK;
    }
    if (n == 0) {
        /* added rather than a constant CID so the node surely has the block */
        krc = kubo_add_mem(m->k, "", 0, NULL, out->cid);
        out->size = 0;
        if (krc != KUBO_OK)
            return store_mfs_kfail(m, krc, "join 0 chunks");
        return STORE_OK;
    }
    const char **cids = xcalloc(n, sizeof *cids);
    uint64_t *sizes = xcalloc(n, sizeof *sizes);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        cids[i] = chunks[i].cid;
        sizes[i] = chunks[i].size;
        total += chunks[i].size;
    }
    krc = kubo_concat(m->k, cids, sizes, n, out->cid);
    free(cids);
    free(sizes);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "join %zu chunks", n);
    out->size = total;
    return STORE_OK;
}

static int store_mfs_content_read(struct store *s, const struct store_chunk *c, store_write_cb cb, void *ctx)
{
    struct store_mfs *m = store_mfs_of(s);
    int krc = kubo_gateway_get(m->k, c->cid, 0, 0, cb, ctx);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "read content %s", c->cid);
    return STORE_OK;
}

static int store_mfs_blob_commit(struct store *s, const char *name, const struct digest *d,
                                 const struct store_chunk *content)
{
    struct store_mfs *m = store_mfs_of(s);
    char ds[DIGEST_STR_MAX];
    digest_str(d, ds);
    /* marked first: a collection that took d before this sees the copy
     * below put it back; one after it keeps d (core/gcmark.h) */
    int rc = store_mfs_touch(m, d, "commit blob");
    if (rc != STORE_OK) {
        store_mfs_unpin(m, content->cid);
        return rc;
    }
    char *src = xasprintf("/ipfs/%s", content->cid);
    char *data = path_blob_data(m->root, d);
    int krc = kubo_files_cp(m->k, src, data);
    free(data);
    free(src);
    /* content addressed: an existing blob d has the same bytes (the caller
     * verified the digest), whatever DAG shape it was stored with */
    store_mfs_unpin(m, content->cid);   /* the add's (or the join's) pin: MFS holds it now */
    if (krc != KUBO_OK && krc != KUBO_EXISTS)
        return store_mfs_kfail(m, krc, "commit blob %s", ds);
    char *link = path_layer_link(m->root, name, d);
    krc = store_mfs_write_link(m, link, d);
    free(link);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "link blob %s into %s", ds, name);
    /* visible and pinned through MFS before the caller answers 201 */
    return store_mfs_flush(m, "commit blob", 0);
}

static int store_mfs_upload_discard(struct store *s, const char *upload_id)
{
    struct store_mfs *m = store_mfs_of(s);
    char *dir = path_upload_dir(m->uploads, upload_id);
    int krc = kubo_files_rm(m->k, dir, 1);
    free(dir);
    if (krc != KUBO_OK && krc != KUBO_NOT_FOUND)
        return store_mfs_kfail(m, krc, "discard upload %s", upload_id);
    return STORE_OK;
}

/* ---- manifests and tags ---- */

static int store_mfs_tag_resolve(struct store *s, const char *name, const char *tag, struct digest *out)
{
    struct store_mfs *m = store_mfs_of(s);
    char *p = path_tag_current_link(m->root, name, tag);
    char *what = xasprintf("tag %s:%s", name, tag);
    int rc = store_mfs_read_link(m, p, out, what);
    free(what);
    free(p);
    return rc;
}

static int store_mfs_manifest_exists(struct store *s, const char *name, const struct digest *d)
{
    struct store_mfs *m = store_mfs_of(s);
    char ds[DIGEST_STR_MAX];
    struct kubo_stat st;
    char *p = path_revision_link(m->root, name, d);
    int krc = kubo_files_stat(m->k, p, &st);
    free(p);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "manifest %s@%s", name, digest_str(d, ds));
    return STORE_OK;
}

static int store_mfs_manifest_get(struct store *s, const char *name, const struct digest *d, struct buf *out)
{
    struct store_mfs *m = store_mfs_of(s);
    char ds[DIGEST_STR_MAX];
    int rc = store_mfs_manifest_exists(s, name, d);
    if (rc != STORE_OK)
        return rc;
    char *p = path_blob_data(m->root, d);
    int krc = kubo_files_read(m->k, p, out);
    free(p);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "manifest %s@%s data", name, digest_str(d, ds));
    return STORE_OK;
}

/* The bytes as blob d. add then cp (2 calls whether it is new or not) rather
 * than stat, mkdir, add --to-files (3 for a new one, the usual case). */
static int store_mfs_put_bytes(struct store_mfs *m, const struct digest *d, const char *data, size_t len)
{
    char ds[DIGEST_STR_MAX];
    char cid[KUBO_CID_MAX];
    digest_str(d, ds);
    int krc = kubo_add_mem(m->k, data, len, NULL, cid);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "store manifest %s", ds);
    char *src = xasprintf("/ipfs/%s", cid);
    char *dst = path_blob_data(m->root, d);
    krc = kubo_files_cp(m->k, src, dst);
    free(dst);
    free(src);
    store_mfs_unpin(m, cid);
    if (krc != KUBO_OK && krc != KUBO_EXISTS)   /* exists: same digest, same bytes */
        return store_mfs_kfail(m, krc, "store manifest %s", ds);
    return STORE_OK;
}

static int store_mfs_manifest_put(struct store *s, const char *name, const struct digest *d,
                                  const char *data, size_t len, char *const *tags, size_t ntags,
                                  const struct digest *subject)
{
    struct store_mfs *m = store_mfs_of(s);
    char ds[DIGEST_STR_MAX];
    digest_str(d, ds);
    int rc = store_mfs_touch(m, d, "put manifest");
    if (rc == STORE_OK)
        rc = store_mfs_put_bytes(m, d, data, len);
    if (rc != STORE_OK)
        return rc;
    char *p = path_revision_link(m->root, name, d);
    int krc = store_mfs_write_link(m, p, d);
    free(p);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "link manifest %s into %s", ds, name);
    for (size_t i = 0; i < ntags; i++) {
        p = path_tag_current_link(m->root, name, tags[i]);
        krc = store_mfs_write_link(m, p, d);
        free(p);
        if (krc == KUBO_OK) {
            /* distribution's history of every digest a tag had */
            p = path_tag_index_link(m->root, name, tags[i], d);
            krc = store_mfs_write_link(m, p, d);
            free(p);
        }
        if (krc != KUBO_OK)
            return store_mfs_kfail(m, krc, "tag %s:%s -> %s", name, tags[i], ds);
    }
    if (subject) {
        char ss[DIGEST_STR_MAX];
        p = path_referrer_link(m->root, name, subject, d);
        krc = store_mfs_write_link(m, p, d);
        free(p);
        if (krc != KUBO_OK)
            return store_mfs_kfail(m, krc, "referrer %s of %s in %s", ds, digest_str(subject, ss), name);
    }
    return store_mfs_flush(m, "put manifest", 1);
}

/* Removes every tag of name whose current link is d. One read per tag:
 * repositories have few tags, and the tags are what the link files say. */
static int store_mfs_untag_all(struct store_mfs *m, const char *name, const struct digest *d)
{
    char **tags = NULL;
    size_t n = 0;
    char *dir = path_tags_dir(m->root, name);
    int krc = kubo_files_ls(m->k, dir, &tags, &n);
    free(dir);
    if (krc == KUBO_NOT_FOUND)
        return STORE_OK;
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "list tags of %s", name);
    int rc = STORE_OK;
    for (size_t i = 0; i < n && rc == STORE_OK; i++) {
        struct digest cur;
        char *p = path_tag_current_link(m->root, name, tags[i]);
        int lrc = store_mfs_read_link(m, p, &cur, tags[i]);
        free(p);
        if (lrc != STORE_OK || !digest_equal(&cur, d))
            continue;   /* a broken or other tag is not ours to remove */
        p = path_tag_dir(m->root, name, tags[i]);
        krc = kubo_files_rm(m->k, p, 1);
        free(p);
        if (krc != KUBO_OK && krc != KUBO_NOT_FOUND)
            rc = store_mfs_kfail(m, krc, "untag %s:%s", name, tags[i]);
    }
    strv_free(tags, n);
    return rc;
}

static int store_mfs_manifest_delete(struct store *s, const char *name, const struct digest *d,
                                     const struct digest *subject)
{
    struct store_mfs *m = store_mfs_of(s);
    char ds[DIGEST_STR_MAX];
    digest_str(d, ds);
    /* the rm answers "not found" itself: no stat first */
    char *link = path_revision_link(m->root, name, d);
    char *dir = store_mfs_dirname(link);
    int krc = kubo_files_rm(m->k, dir, 1);
    free(dir);
    free(link);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "delete manifest %s@%s", name, ds);
    int rc = store_mfs_untag_all(m, name, d);
    if (rc != STORE_OK)
        return rc;
    if (subject) {
        link = path_referrer_link(m->root, name, subject, d);
        dir = store_mfs_dirname(link);
        krc = kubo_files_rm(m->k, dir, 1);
        free(dir);
        free(link);
        if (krc != KUBO_OK && krc != KUBO_NOT_FOUND)
            return store_mfs_kfail(m, krc, "delete referrer %s@%s", name, ds);
    }
    return store_mfs_flush(m, "delete manifest", 1);
}

static int store_mfs_tag_delete(struct store *s, const char *name, const char *tag)
{
    struct store_mfs *m = store_mfs_of(s);
    char *p = path_tag_dir(m->root, name, tag);
    int krc = kubo_files_rm(m->k, p, 1);
    free(p);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "delete tag %s:%s", name, tag);
    return store_mfs_flush(m, "delete tag", 1);
}

static int store_mfs_tags_list(struct store *s, const char *name, char ***tags, size_t *n)
{
    struct store_mfs *m = store_mfs_of(s);
    *tags = NULL;
    *n = 0;
    char *p = path_tags_dir(m->root, name);
    int krc = kubo_files_ls(m->k, p, tags, n);
    free(p);
    if (krc == KUBO_OK)
        return STORE_OK;
    if (krc != KUBO_NOT_FOUND)
        return store_mfs_kfail(m, krc, "list tags of %s", name);
    /* no tags directory: an empty list if the repository exists (all its
     * tags deleted, or only blobs pushed), else the repository is unknown */
    struct kubo_stat st;
    p = path_repo(m->root, name);
    krc = kubo_files_stat(m->k, p, &st);
    free(p);
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "repository %s", name);
    return STORE_OK;
}

/* ---- referrers ---- */

/* Appends the digests under one <alg> directory of a subject's referrers. */
static int store_mfs_referrers_alg(struct store_mfs *m, const char *dir, const char *alg,
                                   struct digest **out, size_t *n)
{
    char **hexes = NULL;
    size_t nh = 0;
    char *p = xasprintf("%s/%s", dir, alg);
    int krc = kubo_files_ls(m->k, p, &hexes, &nh);
    free(p);
    if (krc == KUBO_NOT_FOUND)
        return STORE_OK;
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "list referrers %s", dir);
    if (nh > 0)
        *out = xrealloc(*out, (*n + nh) * sizeof **out);
    for (size_t i = 0; i < nh; i++) {
        char *s = xasprintf("%s:%s", alg, hexes[i]);
        if (digest_parse(s, &(*out)[*n]) == DIGEST_PARSE_OK)
            (*n)++;   /* anything else in there is not ours: skipped */
        free(s);
    }
    strv_free(hexes, nh);
    return STORE_OK;
}

static int store_mfs_referrers(struct store *s, const char *name, const struct digest *subject,
                               struct digest **out, size_t *n)
{
    struct store_mfs *m = store_mfs_of(s);
    char ds[DIGEST_STR_MAX];
    *out = NULL;
    *n = 0;
    char **algs = NULL;
    size_t na = 0;
    char *dir = path_referrers_dir(m->root, name, subject);
    int krc = kubo_files_ls(m->k, dir, &algs, &na);
    int rc = STORE_OK;
    if (krc == KUBO_NOT_FOUND) {
        /* no referrers (or no repository): an empty list, as the spec asks */
    } else if (krc != KUBO_OK) {
        rc = store_mfs_kfail(m, krc, "referrers of %s@%s", name, digest_str(subject, ds));
    } else {
        for (size_t i = 0; i < na && rc == STORE_OK; i++) {
            enum digest_alg alg;
            if (digest_alg_parse(algs[i], &alg) == 0)
                rc = store_mfs_referrers_alg(m, dir, algs[i], out, n);
        }
    }
    strv_free(algs, na);
    free(dir);
    if (rc != STORE_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

/* <repo>/_referrers/<alg>/<subject hex>: one listing per algorithm
 * present (usually just sha256), plus one for the algorithms. */
static int store_mfs_referrer_subjects(struct store *s, const char *name, char ***subjects, size_t *n)
{
    struct store_mfs *m = store_mfs_of(s);
    char **algs = NULL;
    size_t na = 0, cap = 0;
    int rc = STORE_OK;
    char *repo = path_repo(m->root, name);
    char *dir = xasprintf("%s/_referrers", repo);
    int krc = kubo_files_ls(m->k, dir, &algs, &na);
    *subjects = NULL;
    *n = 0;
    if (krc != KUBO_OK && krc != KUBO_NOT_FOUND)
        rc = store_mfs_kfail(m, krc, "referrer subjects of %s", name);
    for (size_t i = 0; krc == KUBO_OK && rc == STORE_OK && i < na; i++) {
        enum digest_alg alg;
        char **hexes = NULL;
        size_t nh = 0;
        if (digest_alg_parse(algs[i], &alg) != 0)
            continue;   /* not ours */
        char *p = xasprintf("%s/%s", dir, algs[i]);
        int k2 = kubo_files_ls(m->k, p, &hexes, &nh);
        free(p);
        if (k2 != KUBO_OK && k2 != KUBO_NOT_FOUND) {
            rc = store_mfs_kfail(m, k2, "referrer subjects of %s (%s)", name, algs[i]);
            break;
        }
        for (size_t j = 0; j < nh; j++) {
            if (*n + 1 >= cap) {
                cap = cap ? cap * 2 : 8;
                *subjects = xrealloc(*subjects, cap * sizeof **subjects);
            }
            (*subjects)[(*n)++] = xasprintf("%s:%s", algs[i], hexes[j]);
        }
        strv_free(hexes, nh);
    }
    strv_free(algs, na);
    free(dir);
    free(repo);
    if (rc != STORE_OK) {
        strv_free(*subjects, *n);
        *subjects = NULL;
        *n = 0;
    }
    return rc;
}

/* ---- catalog ---- */

struct store_mfs_names {
    char **v;
    size_t n, cap;
};

static void store_mfs_names_add(struct store_mfs_names *l, const char *name)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = xstrdup(name);
}

/* One directory of repositories/: it is a repository if it holds _manifests
 * or _layers; its other entries may be deeper name components (a/b/c) and a
 * repository may contain nested ones. '_' never starts a name component,
 * so _layers, _manifests, _uploads, _referrers are never entered. */
static int store_mfs_catalog_walk(struct store_mfs *m, const char *base, const char *name,
                                  unsigned depth, struct store_mfs_names *l)
{
    char **ents = NULL;
    size_t ne = 0;
    char *p = name ? xasprintf("%s/%s", base, name) : xstrdup(base);
    int krc = kubo_files_ls(m->k, p, &ents, &ne);
    free(p);
    if (krc == KUBO_NOT_FOUND)
        return STORE_OK;   /* gone meanwhile, or a file: nothing to list */
    if (krc != KUBO_OK)
        return store_mfs_kfail(m, krc, "catalog%s%s", name ? " " : "", name ? name : "");
    int rc = STORE_OK;
    int is_repo = 0;
    for (size_t i = 0; i < ne; i++)
        if (strcmp(ents[i], "_manifests") == 0 || strcmp(ents[i], "_layers") == 0)
            is_repo = 1;
    if (is_repo && name)
        store_mfs_names_add(l, name);
    for (size_t i = 0; i < ne && rc == STORE_OK && depth < STORE_MFS_CATALOG_DEPTH; i++) {
        if (ents[i][0] == '_' || ents[i][0] == '.' || ents[i][0] == '\0')
            continue;
        char *child = name ? xasprintf("%s/%s", name, ents[i]) : xstrdup(ents[i]);
        rc = store_mfs_catalog_walk(m, base, child, depth + 1, l);
        free(child);
    }
    strv_free(ents, ne);
    return rc;
}

static int store_mfs_catalog(struct store *s, char ***names, size_t *n)
{
    struct store_mfs *m = store_mfs_of(s);
    struct store_mfs_names l = { 0 };
    char *base = path_repositories(m->root);
    int rc = store_mfs_catalog_walk(m, base, NULL, 0, &l);
    free(base);
    if (rc != STORE_OK) {
        strv_free(l.v, l.n);
        *names = NULL;
        *n = 0;
        return rc;
    }
    *names = l.v;
    *n = l.n;
    return STORE_OK;
}

/* 1 exists, 0 does not, -1 error (store_errmsg says which). */
static int store_mfs_repo_exists(struct store *s, const char *name)
{
    struct store_mfs *m = store_mfs_of(s);
    struct kubo_stat st;
    char *p = path_repo(m->root, name);
    int krc = kubo_files_stat(m->k, p, &st);
    free(p);
    if (krc == KUBO_OK)
        return 1;
    int rc = store_mfs_kfail(m, krc, "repository %s", name);
    return rc == STORE_NOT_FOUND ? 0 : -1;
}

static int store_mfs_ping(struct store *s, long timeout_ms, char *version, size_t n)
{
    struct store_mfs *m = store_mfs_of(s);
    int krc = kubo_ping(m->k, timeout_ms, version, n);
    return krc == KUBO_OK ? STORE_OK : store_mfs_kfail(m, krc, "health check");
}

static const char *store_mfs_errmsg(struct store *s)
{
    struct store_mfs *m = store_mfs_of(s);
    return m->err ? m->err : "store: no error";
}

static const struct store_ops store_mfs_ops = {
    .blob_stat = store_mfs_blob_stat,
    .blob_read = store_mfs_blob_read,
    .blob_open = store_mfs_blob_open,
    .blob_unlink = store_mfs_blob_unlink,
    .blob_mount = store_mfs_blob_mount,
    .repo_import = store_mfs_repo_import,
    .blob_import = store_mfs_blob_import,
    .chunk_put = store_mfs_chunk_put,
    .chunks_join = store_mfs_chunks_join,
    .content_read = store_mfs_content_read,
    .blob_commit = store_mfs_blob_commit,
    .upload_discard = store_mfs_upload_discard,
    .tag_resolve = store_mfs_tag_resolve,
    .manifest_exists = store_mfs_manifest_exists,
    .manifest_get = store_mfs_manifest_get,
    .manifest_put = store_mfs_manifest_put,
    .manifest_delete = store_mfs_manifest_delete,
    .tag_delete = store_mfs_tag_delete,
    .tags_list = store_mfs_tags_list,
    .referrers = store_mfs_referrers,
    .referrer_subjects = store_mfs_referrer_subjects,
    .catalog = store_mfs_catalog,
    .repo_exists = store_mfs_repo_exists,
    .ping = store_mfs_ping,
    .errmsg = store_mfs_errmsg,
};

struct store *store_mfs_new(struct kubo *k, const char *root, const char *uploads,
                            const struct store_notify *notify)
{
    struct store_mfs *m = xcalloc(1, sizeof *m);
    m->base.ops = &store_mfs_ops;
    m->base.impl = m;
    m->k = k;
    m->root = xstrdup(root);
    m->uploads = xstrdup(uploads);
    m->statedir = NULL;
    if (notify)
        m->notify = *notify;
    return &m->base;
}

struct store *store_mfs_new_root(struct kubo *k, const char *cid)
{
    char *root = xasprintf("/ipfs/%s", cid);
    /* uploads never happen on a read-only root: no staging area */
    struct store *s = store_mfs_new(k, root, "/nonexistent-read-only", NULL);
    free(root);
    return s;
}

void store_mfs_set_gc(struct store *s, const char *statedir)
{
    struct store_mfs *m = store_mfs_of(s);
    free(m->statedir);
    m->statedir = statedir ? xstrdup(statedir) : NULL;
}

void store_mfs_free(struct store *s)
{
    if (!s)
        return;
    struct store_mfs *m = store_mfs_of(s);
    free(m->statedir);
    free(m->root);
    free(m->uploads);
    free(m->err);
    free(m);
}
