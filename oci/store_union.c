/* store_union: local MFS store + read-only roots (see store_union.h).
 *
 * Cost: a request for a repository this registry owns costs what it cost
 * without mirrors (the local store answers first); only a local NOT_FOUND
 * leads to the ownership check and the read-only roots. roots.json is
 * re-read only when stat() says it changed; the per-root stores are kept
 * as long as their CID is, since content under /ipfs/<cid> never changes. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/errmsg.h"
#include "core/log.h"
#include "core/p2pstate.h"
#include "core/xalloc.h"
#include "oci/store_union.h"

struct union_root {
    char key[P2P_KEY_MAX];
    char cid[P2P_CID_MAX];
    struct store *s;         /* opened by roots.open, read only */
};

struct store_union {
    struct store base;
    struct store *local;       /* borrowed */
    char *statedir;            /* NULL: no read-only roots */
    struct store_union_roots ro;
    struct union_root *roots;
    size_t nroots;
    struct stat roots_st;      /* roots.json as last read (st_ino 0: never) */
    struct store *last;        /* the store whose error errmsg reports */
    char *err;
};

static struct store_union *union_of(struct store *s)
{
    return s->impl;
}

/* An error of the union's own: errmsg tells it, not a member's. */
#define union_fail(u, rc, ...) ((u)->last = NULL, errmsg_set(&(u)->err, (rc), "store", NULL, __VA_ARGS__))

/* rc from store s: remembered so errmsg tells s's message. */
static int union_rc(struct store_union *u, struct store *s, int rc)
{
    if (rc != STORE_OK)
        u->last = s;
    return rc;
}

/* Writes go to the local store, which tells the publisher itself. */
static int union_wrote(struct store_union *u, int rc)
{
    return union_rc(u, u->local, rc);
}

/* ---- roots.json ---- */

static void union_roots_clear(struct store_union *u)
{
    for (size_t i = 0; i < u->nroots; i++)
        if (u->roots[i].s)
            u->ro.close(u->ro.ctx, u->roots[i].s);
    free(u->roots);
    u->roots = NULL;
    u->nroots = 0;
}

/* Re-reads roots.json if it changed since the last look (one stat). */
static void union_refresh(struct store_union *u)
{
    if (!u->statedir)
        return;
    char *p = p2pstate_path(u->statedir, P2P_ROOTS_FILE);
    struct stat st;
    int r = stat(p, &st);
    free(p);
    if (r < 0) {
        if (u->nroots)
            union_roots_clear(u);
        memset(&u->roots_st, 0, sizeof u->roots_st);
        return;
    }
    if (st.st_ino == u->roots_st.st_ino && st.st_size == u->roots_st.st_size &&
        st.st_mtim.tv_sec == u->roots_st.st_mtim.tv_sec && st.st_mtim.tv_nsec == u->roots_st.st_mtim.tv_nsec)
        return;
    struct p2p_root *pr;
    size_t n;
    if (p2pstate_read_roots(u->statedir, &pr, &n) < 0)
        return;   /* being replaced right now: keep what we have, look again next time */
    struct union_root *nr = xcalloc(n + 1, sizeof *nr);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!pr[i].cid[0])
            continue;   /* never resolved: nothing to serve */
        struct union_root *e = &nr[m++];
        memcpy(e->key, pr[i].key, sizeof e->key);
        memcpy(e->cid, pr[i].cid, sizeof e->cid);
        for (size_t j = 0; j < u->nroots; j++)
            if (u->roots[j].s && strcmp(u->roots[j].cid, e->cid) == 0) {
                e->s = u->roots[j].s;   /* same immutable content: keep it */
                u->roots[j].s = NULL;
                break;
            }
        if (!e->s)
            e->s = u->ro.open(u->ro.ctx, e->cid);
    }
    free(pr);
    union_roots_clear(u);
    u->roots = nr;
    u->nroots = m;
    u->roots_st = st;
    u->last = NULL;
}

/* The read-only root that owns name: STORE_OK and *out, STORE_NOT_FOUND if
 * mfsroot has name (then it owns it) or no root has it, else an error. */
static int union_ro_owner(struct store_union *u, const char *name, struct union_root **out)
{
    *out = NULL;
    union_refresh(u);
    if (u->nroots == 0)
        return STORE_NOT_FOUND;
    int ex = u->local->ops->repo_exists(u->local, name);
    if (ex < 0)
        return union_rc(u, u->local, STORE_UNAVAILABLE);
    if (ex == 1)
        return STORE_NOT_FOUND;
    for (size_t i = 0; i < u->nroots; i++) {
        struct store *s = u->roots[i].s;
        ex = s->ops->repo_exists(s, name);
        if (ex == 1) {
            *out = &u->roots[i];
            return STORE_OK;
        }
        if (ex < 0)
            log_warn("store: read-only root %s (%s): %s", u->roots[i].cid, u->roots[i].key,
                     s->ops->errmsg(s));
    }
    return STORE_NOT_FOUND;
}

/* After a local NOT_FOUND (rc), the read-only root to ask instead, or NULL
 * (then *rc is the answer). */
static struct store *union_fallback(struct store_union *u, const char *name, int *rc)
{
    if (*rc != STORE_NOT_FOUND)
        return NULL;
    struct store *saved = u->last;
    struct union_root *ro;
    int orc = union_ro_owner(u, name, &ro);
    if (orc == STORE_OK)
        return ro->s;
    if (orc == STORE_NOT_FOUND)
        u->last = saved;   /* the local answer's message stands */
    else
        *rc = orc;
    return NULL;
}

/* Copies repository name from its read-only owner into mfsroot before a
 * write, so the repository stays whole when ownership moves here: its
 * directory (links, tags, revisions) and every blob it links, each by
 * reference (the local store's repo_import). */
static int union_adopt(struct store_union *u, const char *name)
{
    struct union_root *ro;
    int rc = union_ro_owner(u, name, &ro);
    if (rc == STORE_NOT_FOUND)
        return STORE_OK;   /* ours already, or new */
    if (rc != STORE_OK)
        return rc;
    if (!u->local->ops->repo_import)
        return union_fail(u, STORE_ERROR, "this store cannot take over a mirrored repository");
    rc = union_rc(u, u->local, u->local->ops->repo_import(u->local, name, ro->s));
    if (rc == STORE_OK)
        log_info("store: repository %s taken over from read-only root %s (%s) for a write", name, ro->cid,
                 ro->key);
    return rc;
}

/* ---- reads: the local store first, then the owner ---- */

static int union_blob_stat(struct store *s, const char *name, const struct digest *d, struct store_blob *out)
{
    struct store_union *u = union_of(s);
    int rc = union_rc(u, u->local, u->local->ops->blob_stat(u->local, name, d, out));
    struct store *o = union_fallback(u, name, &rc);
    return o ? union_rc(u, o, o->ops->blob_stat(o, name, d, out)) : rc;
}

static int union_blob_read(struct store *s, const struct store_blob *b, uint64_t offset, uint64_t length,
                           store_write_cb cb, void *ctx)
{
    /* by CID: the same for every root */
    struct store_union *u = union_of(s);
    return union_rc(u, u->local, u->local->ops->blob_read(u->local, b, offset, length, cb, ctx));
}

/* Optional in local: without it, no verdict (the caller reads instead). */
static int union_blob_open(struct store *s, const struct store_blob *b, uint64_t offset, uint64_t length,
                           int *fd)
{
    struct store_union *u = union_of(s);
    *fd = -1;
    if (!u->local->ops->blob_open)
        return STORE_ERROR;
    return union_rc(u, u->local, u->local->ops->blob_open(u->local, b, offset, length, fd));
}

static int union_tag_resolve(struct store *s, const char *name, const char *tag, struct digest *out)
{
    struct store_union *u = union_of(s);
    int rc = union_rc(u, u->local, u->local->ops->tag_resolve(u->local, name, tag, out));
    struct store *o = union_fallback(u, name, &rc);
    return o ? union_rc(u, o, o->ops->tag_resolve(o, name, tag, out)) : rc;
}

static int union_manifest_exists(struct store *s, const char *name, const struct digest *d)
{
    struct store_union *u = union_of(s);
    int rc = union_rc(u, u->local, u->local->ops->manifest_exists(u->local, name, d));
    struct store *o = union_fallback(u, name, &rc);
    return o ? union_rc(u, o, o->ops->manifest_exists(o, name, d)) : rc;
}

static int union_manifest_get(struct store *s, const char *name, const struct digest *d, struct buf *out)
{
    struct store_union *u = union_of(s);
    int rc = union_rc(u, u->local, u->local->ops->manifest_get(u->local, name, d, out));
    struct store *o = union_fallback(u, name, &rc);
    if (o)
        buf_reset(out);
    return o ? union_rc(u, o, o->ops->manifest_get(o, name, d, out)) : rc;
}

static int union_tags_list(struct store *s, const char *name, char ***tags, size_t *n)
{
    struct store_union *u = union_of(s);
    int rc = union_rc(u, u->local, u->local->ops->tags_list(u->local, name, tags, n));
    struct store *o = union_fallback(u, name, &rc);
    return o ? union_rc(u, o, o->ops->tags_list(o, name, tags, n)) : rc;
}

static int union_referrers(struct store *s, const char *name, const struct digest *subject,
                           struct digest **out, size_t *n)
{
    struct store_union *u = union_of(s);
    int rc = union_rc(u, u->local, u->local->ops->referrers(u->local, name, subject, out, n));
    if (rc != STORE_OK || *n > 0)
        return rc;
    /* an empty list is not NOT_FOUND: ask the owner if mfsroot lacks name */
    struct union_root *ro;
    if (union_ro_owner(u, name, &ro) != STORE_OK)
        return STORE_OK;
    free(*out);
    *out = NULL;
    return union_rc(u, ro->s, ro->s->ops->referrers(ro->s, name, subject, out, n));
}

/* The owner's: mfsroot's when it has name, else the read-only root's.
 * STORE_ERROR (with a message) when the owner does not offer it (the
 * caller asks referrers per subject instead). */
static int union_referrer_subjects(struct store *s, const char *name, char ***subjects, size_t *n)
{
    struct store_union *u = union_of(s);
    struct union_root *ro;
    struct store *o = u->local;
    *subjects = NULL;
    *n = 0;
    if (union_ro_owner(u, name, &ro) == STORE_OK)
        o = ro->s;
    if (!o->ops->referrer_subjects)
        return union_fail(u, STORE_ERROR, "referrer subjects of %s: not offered by its store", name);
    return union_rc(u, o, o->ops->referrer_subjects(o, name, subjects, n));
}

static int union_repo_exists(struct store *s, const char *name)
{
    struct store_union *u = union_of(s);
    int ex = u->local->ops->repo_exists(u->local, name);
    if (ex != 0) {
        u->last = u->local;
        return ex;
    }
    struct union_root *ro;
    int rc = union_ro_owner(u, name, &ro);
    return rc == STORE_OK ? 1 : rc == STORE_NOT_FOUND ? 0 : -1;
}

static int union_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int union_catalog(struct store *s, char ***names, size_t *n)
{
    struct store_union *u = union_of(s);
    int rc = union_rc(u, u->local, u->local->ops->catalog(u->local, names, n));
    if (rc != STORE_OK)
        return rc;
    union_refresh(u);
    for (size_t i = 0; i < u->nroots; i++) {
        char **more = NULL;
        size_t nm = 0;
        struct store *r = u->roots[i].s;
        if (r->ops->catalog(r, &more, &nm) != STORE_OK) {
            log_warn("store: catalog of read-only root %s (%s): %s", u->roots[i].cid, u->roots[i].key,
                     r->ops->errmsg(r));
            continue;
        }
        *names = xrealloc(*names, (*n + nm + 1) * sizeof **names);
        for (size_t j = 0; j < nm; j++)
            (*names)[(*n)++] = more[j];
        free(more);
    }
    /* the same name in several roots is one repository */
    if (*n > 1) {
        qsort(*names, *n, sizeof **names, union_name_cmp);
        size_t w = 1;
        for (size_t i = 1; i < *n; i++) {
            if (strcmp((*names)[i], (*names)[w - 1]) == 0)
                free((*names)[i]);
            else
                (*names)[w++] = (*names)[i];
        }
        *n = w;
    }
    return STORE_OK;
}

/* ---- writes: always local, after adopting a mirrored repository ---- */

static int union_blob_unlink(struct store *s, const char *name, const struct digest *d)
{
    struct store_union *u = union_of(s);
    return union_wrote(u, u->local->ops->blob_unlink(u->local, name, d));
}

/* Makes blob d of the first read-only root that has it (in repository
 * from, when from is not NULL) one of the local store's blobs. */
static int union_import_blob(struct store_union *u, const char *from, const struct digest *d)
{
    if (!u->local->ops->blob_import)
        return union_fail(u, STORE_ERROR, "this store cannot import a mirrored blob");
    union_refresh(u);
    for (size_t i = 0; i < u->nroots; i++) {
        struct store *r = u->roots[i].s;
        if (from && r->ops->repo_exists(r, from) != 1)
            continue;
        int rc = u->local->ops->blob_import(u->local, r, from, d);
        if (rc != STORE_NOT_FOUND)
            return union_rc(u, u->local, rc);
    }
    char ds[DIGEST_STR_MAX];
    digest_str(d, ds);
    return union_fail(u, STORE_NOT_FOUND, "mount %s: not in any root", ds);
}

static int union_blob_mount(struct store *s, const char *name, const char *from, const struct digest *d)
{
    struct store_union *u = union_of(s);
    int rc = union_adopt(u, name);
    if (rc != STORE_OK)
        return rc;
    /* from a repository mfsroot owns, or a blob mfsroot has: local */
    struct union_root *ro = NULL;
    int owner = from ? union_ro_owner(u, from, &ro) : STORE_NOT_FOUND;
    if (owner != STORE_OK && owner != STORE_NOT_FOUND)
        return owner;
    if (owner == STORE_NOT_FOUND) {
        rc = u->local->ops->blob_mount(u->local, name, from, d);
        if (rc != STORE_NOT_FOUND || from)
            return union_wrote(u, rc);
    }
    /* a mirrored repository's blob, or (no from) a blob only a mirror has */
    rc = union_import_blob(u, ro ? from : NULL, d);
    if (rc != STORE_OK)
        return rc;
    return union_wrote(u, u->local->ops->blob_mount(u->local, name, NULL, d));
}

static int union_chunk_put(struct store *s, const char *upload_id, unsigned idx, uint64_t offset,
                           const struct digest *whole, store_read_cb cb, void *ctx,
                           struct store_chunk *out)
{
    struct store_union *u = union_of(s);
    return union_rc(u, u->local,
                    u->local->ops->chunk_put(u->local, upload_id, idx, offset, whole, cb, ctx, out));
}

static int union_chunks_join(struct store *s, const struct store_chunk *chunks, size_t n, struct store_chunk *out)
{
    struct store_union *u = union_of(s);
    return union_rc(u, u->local, u->local->ops->chunks_join(u->local, chunks, n, out));
}

static int union_content_read(struct store *s, const struct store_chunk *c, store_write_cb cb, void *ctx)
{
    struct store_union *u = union_of(s);
    return union_rc(u, u->local, u->local->ops->content_read(u->local, c, cb, ctx));
}

static int union_blob_commit(struct store *s, const char *name, const struct digest *d,
                             const struct store_chunk *content)
{
    struct store_union *u = union_of(s);
    int rc = union_adopt(u, name);
    if (rc != STORE_OK)
        return rc;
    return union_wrote(u, u->local->ops->blob_commit(u->local, name, d, content));
}

static int union_upload_discard(struct store *s, const char *upload_id)
{
    struct store_union *u = union_of(s);
    return union_rc(u, u->local, u->local->ops->upload_discard(u->local, upload_id));
}

static int union_manifest_put(struct store *s, const char *name, const struct digest *d, const char *data,
                              size_t len, char *const *tags, size_t ntags, const struct digest *subject)
{
    struct store_union *u = union_of(s);
    int rc = union_adopt(u, name);
    if (rc != STORE_OK)
        return rc;
    return union_wrote(u, u->local->ops->manifest_put(u->local, name, d, data, len, tags, ntags, subject));
}

static int union_manifest_delete(struct store *s, const char *name, const struct digest *d,
                                 const struct digest *subject)
{
    struct store_union *u = union_of(s);
    return union_wrote(u, u->local->ops->manifest_delete(u->local, name, d, subject));
}

static int union_tag_delete(struct store *s, const char *name, const char *tag)
{
    struct store_union *u = union_of(s);
    return union_wrote(u, u->local->ops->tag_delete(u->local, name, tag));
}

static int union_ping(struct store *s, long timeout_ms, char *version, size_t n)
{
    struct store_union *u = union_of(s);
    if (!u->local->ops->ping)
        return STORE_OK;
    return union_rc(u, u->local, u->local->ops->ping(u->local, timeout_ms, version, n));
}

static const char *union_errmsg(struct store *s)
{
    struct store_union *u = union_of(s);
    if (u->last)
        return u->last->ops->errmsg(u->last);
    return u->err ? u->err : "store: no error";
}

static const struct store_ops union_ops = {
    .blob_stat = union_blob_stat,
    .blob_read = union_blob_read,
    .blob_open = union_blob_open,
    .blob_unlink = union_blob_unlink,
    .blob_mount = union_blob_mount,
    .chunk_put = union_chunk_put,
    .chunks_join = union_chunks_join,
    .content_read = union_content_read,
    .blob_commit = union_blob_commit,
    .upload_discard = union_upload_discard,
    .tag_resolve = union_tag_resolve,
    .manifest_exists = union_manifest_exists,
    .manifest_get = union_manifest_get,
    .manifest_put = union_manifest_put,
    .manifest_delete = union_manifest_delete,
    .tag_delete = union_tag_delete,
    .tags_list = union_tags_list,
    .referrers = union_referrers,
    .referrer_subjects = union_referrer_subjects,
    .catalog = union_catalog,
    .repo_exists = union_repo_exists,
    .ping = union_ping,
    .errmsg = union_errmsg,
};

struct store *store_union_new(struct store *local, const char *statedir,
                              const struct store_union_roots *roots)
{
    struct store_union *u = xcalloc(1, sizeof *u);
    u->base.ops = &union_ops;
    u->base.impl = u;
    u->local = local;
    u->statedir = statedir && roots ? xstrdup(statedir) : NULL;
    if (roots)
        u->ro = *roots;
    return &u->base;
}

void store_union_free(struct store *s)
{
    if (!s)
        return;
    struct store_union *u = union_of(s);
    union_roots_clear(u);
    free(u->statedir);
    free(u->err);
    free(u);
}
