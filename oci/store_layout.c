/* store_layout: OCI image layouts on IPFS as read-only repositories (see
 * store_layout.h).
 *
 * Kubo calls per operation, first time / cached:
 *   layout open   cat index.json + cat oci-layout  / 0   (IPNS: + name/resolve, cached ipns_ttl)
 *   manifest      cat blobs/<alg>/<hex>            / 0
 *   blob stat     files/stat blobs/<alg>/<hex>     / 0
 *   blob GET      gateway /ipfs/<blob cid>         / same (the bytes are never cached)
 *   blob HEAD or Range, never verified: one whole read through the gateway
 *                 first (then the Range read)      / 0 or the Range read
 * so a second pull costs one gateway read per blob and nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "oci/store_layout.h"
#include "core/holdback.h"
#include "oci/store_kubo.h"
#include "core/errmsg.h"
#include "oci/layout.h"
#include "oci/layout_cache.h"
#include "oci/manifest.h"
#include "ipfs/name.h"
#include "core/log.h"
#include "core/xalloc.h"

/* Bytes of a blob held back from the client until its hash is known to
 * match: the client then never receives a complete wrong blob. */
#define SL_HOLD HOLDBACK_DEFAULT
/* An IPNS lookup on an online node may wander the DHT; don't hold a worker forever. */
#define SL_IPNS_TIMEOUT_S 30

struct store_layout {
    struct store base;
    struct kubo *k;                 /* borrowed */
    struct layout_cache *cache;     /* owned */
    time_t ipns_ttl;
    uint64_t manifest_max;
    char *err;
};

/* One request's view of the layout a name addresses. */
struct sl_layout {
    char *dir;       /* "/ipfs/<cid>[/path]": holds index.json and blobs/ */
    char *filter;    /* NULL, or "x": the images named "x:<tag>" of a parent layout */
    struct layout_index ix;
};

static struct store_layout *sl_of(struct store *s)
{
    return s->impl;
}

/* ---- errors ---- */

#define sl_fail(l, rc, ...) errmsg_set(&(l)->err, (rc), "layout", NULL, __VA_ARGS__)

/* A Kubo failure while reading what: "not found" and bad paths mean the
 * layout lacks something (STORE_INVALID, with Kubo's words). */
static int sl_kfail(struct store_layout *l, int krc, const char *what)
{
    const char *km = kubo_errmsg(l->k);
    int rc = store_kubo_fail(&l->err, "layout", l->k, krc, "%s", what);
    if (rc == STORE_NOT_FOUND || (rc == STORE_ERROR && (strstr(km, "invalid cid") || strstr(km, "invalid path"))))
        rc = STORE_INVALID;
    return rc;
}

/* ---- cache helpers ---- */

static int sl_cache_get(struct store_layout *l, const char *kind, const char *key, struct buf *out)
{
    char *k = xasprintf("%s\t%s", kind, key);
    int hit = layout_cache_get(l->cache, k, out);
    free(k);
    return hit;
}

static void sl_cache_put(struct store_layout *l, const char *kind, const char *key,
                         const void *v, size_t n, time_t expires)
{
    char *k = xasprintf("%s\t%s", kind, key);
    layout_cache_put(l->cache, k, v, n, expires);
    free(k);
}

/* ---- names to directories ---- */

/* "/ipfs/<cid>" for the root of name (resolving IPNS, cached for ipns_ttl). */
static int sl_root(struct store_layout *l, const struct layout_name *n, char **out)
{
    /* a CID is base32 (CIDv1, lower case); an IPNS name may also be a
     * DNSLink domain, with dots and hyphens */
    const char *chars = n->ns == LAYOUT_IPFS ? "abcdefghijklmnopqrstuvwxyz0123456789"
                                             : "abcdefghijklmnopqrstuvwxyz0123456789.-";
    if (strspn(n->root, chars) != strlen(n->root))
        return sl_fail(l, STORE_INVALID, "%s/%s: not a CID or IPNS name",
                       n->ns == LAYOUT_IPFS ? "ipfs" : "ipns", n->root);
    if (n->ns == LAYOUT_IPFS) {
        *out = xasprintf("/ipfs/%s", n->root);
        return STORE_OK;
    }
    struct buf b;
    buf_init(&b, KUBO_CID_MAX);
    if (sl_cache_get(l, "N", n->root, &b)) {
        *out = xasprintf("/ipfs/%s", buf_cstr(&b));
        buf_free(&b);
        return STORE_OK;
    }
    buf_free(&b);
    /* A domain name is a DNSLink name; Kubo resolves both kinds. */
    char cid[KUBO_CID_MAX];
    switch (kubo_name_resolve(l->k, n->root, 0, SL_IPNS_TIMEOUT_S, cid)) {
    case KUBO_RESOLVED:
        break;
    case KUBO_RESOLVE_NO_RECORD:
        return sl_fail(l, STORE_INVALID, "ipns/%s: the name resolves to nothing: %s", n->root,
                       kubo_errmsg(l->k));
    default:
        return sl_kfail(l, KUBO_ERROR, "ipns resolve");
    }
    /* Kubo's RPC does not say the record's TTL: ipns_ttl is the bound. */
    if (l->ipns_ttl > 0)
        sl_cache_put(l, "N", n->root, cid, strlen(cid), time(NULL) + l->ipns_ttl);
    log_debug("layout: ipns/%s -> /ipfs/%s", n->root, cid);
    *out = xasprintf("/ipfs/%s", cid);
    return STORE_OK;
}

/* Reads dir's index.json (capped) and checks dir/oci-layout. STORE_OK with
 * *found = 0 when dir has no index.json (a parent layout may serve it).
 * The verdict is cached: /ipfs content never changes. */
static int sl_index_load(struct store_layout *l, const char *dir, struct layout_index *ix, int *found)
{
    struct buf b;
    char *err = NULL, *what;
    int rc = STORE_OK;
    *found = 0;
    buf_init(&b, l->manifest_max + 1);
    if (sl_cache_get(l, "I", dir, &b) && b.len > 0) {
        if (b.data[0] == 'N') {
            buf_free(&b);
            return STORE_OK;
        }
        if (layout_index_parse(b.data + 1, b.len - 1, ix, &err) == 0) {
            *found = 1;
            buf_free(&b);
            return STORE_OK;
        }
        free(err);   /* a damaged cache entry: read again */
        err = NULL;
    }
    buf_free(&b);
    buf_init(&b, l->manifest_max);
    what = xasprintf("%s/index.json", dir);
    int krc = kubo_files_read(l->k, what, &b);
    if (krc == KUBO_NOT_FOUND && strstr(kubo_errmsg(l->k), "no link named")) {
        sl_cache_put(l, "I", dir, "N", 1, 0);
        goto out;
    }
    if (krc == KUBO_TOO_LARGE) {
        rc = sl_fail(l, STORE_INVALID, "%s is larger than %llu bytes (max_manifest_size): not read",
                     what, (unsigned long long)l->manifest_max);
        goto out;
    }
    if (krc != KUBO_OK) {
        rc = sl_kfail(l, krc, what);
        goto out;
    }
    struct buf m;
    buf_init(&m, LAYOUT_MARKER_MAX);
    char *mp = xasprintf("%s/oci-layout", dir);
    krc = kubo_files_read(l->k, mp, &m);
    if (krc == KUBO_NOT_FOUND || krc == KUBO_TOO_LARGE)
        rc = sl_fail(l, STORE_INVALID, "%s: not an OCI image layout: %s", dir,
                     krc == KUBO_TOO_LARGE ? "oci-layout is too large" : "no oci-layout file");
    else if (krc != KUBO_OK)
        rc = sl_kfail(l, krc, mp);
    else if (layout_marker_check(buf_cstr(&m), m.len, &err) < 0)
        rc = sl_fail(l, STORE_INVALID, "%s: not an OCI image layout: %s", dir, err);
    free(mp);
    buf_free(&m);
    if (rc != STORE_OK)
        goto out;
    if (layout_index_parse(buf_cstr(&b), b.len, ix, &err) < 0) {
        rc = sl_fail(l, STORE_INVALID, "%s: %s", what, err);
        goto out;
    }
    *found = 1;
    if (b.len < LAYOUT_CACHE_VALUE_MAX) {
        char *v = xmalloc(b.len + 1);
        v[0] = 'Y';
        memcpy(v + 1, b.data, b.len);
        sl_cache_put(l, "I", dir, v, b.len + 1, 0);
        free(v);
    }
out:
    free(err);
    free(what);
    buf_free(&b);
    return rc;
}

static void sl_layout_free(struct sl_layout *L)
{
    free(L->dir);
    free(L->filter);
    layout_index_free(&L->ix);
}

/* The layout that name addresses: <root>/<sub> itself, or its parent with
 * filter = the last component (a layout holding several named images). */
static int sl_open(struct store_layout *l, const char *name, struct sl_layout *L)
{
    struct layout_name n;
    char *root = NULL;
    int found = 0;
    memset(L, 0, sizeof *L);
    if (!layout_name_parse(name, &n))
        return sl_fail(l, STORE_INVALID, "%s: not an ipfs/ or ipns/ name", name);
    int rc = sl_root(l, &n, &root);
    if (rc != STORE_OK)
        goto out;
    L->dir = *n.sub ? xasprintf("%s/%s", root, n.sub) : xstrdup(root);
    rc = sl_index_load(l, L->dir, &L->ix, &found);
    if (rc != STORE_OK || found)
        goto out;
    if (!*n.sub) {
        rc = sl_fail(l, STORE_INVALID, "%s: not an OCI image layout: no index.json", L->dir);
        goto out;
    }
    const char *slash = strrchr(L->dir, '/');
    L->filter = xstrdup(slash + 1);
    char *parent = xstrndup(L->dir, (size_t)(slash - L->dir));
    rc = sl_index_load(l, parent, &L->ix, &found);
    if (rc == STORE_OK && !found)
        rc = sl_fail(l, STORE_INVALID, "%s: not an OCI image layout: no index.json there nor in %s",
                     L->dir, parent);
    if (rc == STORE_OK) {
        char **tags = NULL;
        size_t nt = 0;
        layout_tags(&L->ix, L->filter, &tags, &nt);
        if (nt == 0)
            rc = sl_fail(l, STORE_INVALID, "%s: no index.json, and the layout at %s names no image \"%s:<tag>\"",
                         L->dir, parent, L->filter);
        strv_free(tags, nt);
    }
    free(L->dir);
    L->dir = parent;
out:
    if (rc != STORE_OK)
        sl_layout_free(L);
    free(root);
    layout_name_free(&n);
    return rc;
}

static char *sl_blob_path(const struct sl_layout *L, const struct digest *d)
{
    return xasprintf("%s/blobs/%s/%s", L->dir, digest_alg_name(d->alg), d->hex);
}

/* ---- manifests ---- */

/* Manifest d of layout L, verified, into out (capped by out->max). */
static int sl_manifest(struct store_layout *l, const struct sl_layout *L, const struct digest *d,
                       struct buf *out)
{
    char ds[DIGEST_STR_MAX];
    struct digest got;
    struct manifest m;
    char *err = NULL;
    char *path = sl_blob_path(L, d);
    int rc = STORE_OK;
    digest_str(d, ds);
    buf_reset(out);
    if (sl_cache_get(l, "M", path, out)) {
        digest_of(d->alg, buf_cstr(out), out->len, &got);
        if (digest_equal(&got, d))
            goto done;
        buf_reset(out);
    }
    int krc = kubo_files_read(l->k, path, out);
    if (krc == KUBO_NOT_FOUND) {
        rc = sl_fail(l, STORE_INVALID, "manifest %s is not in the layout at %s: %s", ds, L->dir,
                     kubo_errmsg(l->k));
        goto done;
    }
    if (krc == KUBO_TOO_LARGE) {
        rc = sl_fail(l, STORE_INVALID, "%s: larger than %zu bytes: not a manifest this registry serves",
                     path, out->max);
        goto done;
    }
    if (krc != KUBO_OK) {
        rc = sl_kfail(l, krc, path);
        goto done;
    }
    digest_of(d->alg, buf_cstr(out), out->len, &got);
    if (!digest_equal(&got, d)) {
        char gs[DIGEST_STR_MAX];
        rc = sl_fail(l, STORE_INVALID, "%s does not hash to its name (its bytes are %s): tampered or corrupt layout",
                     path, digest_str(&got, gs));
        goto done;
    }
    if (manifest_parse(buf_cstr(out), out->len, NULL, &m, &err) < 0) {
        rc = sl_fail(l, STORE_INVALID, "%s is not a manifest: %s", ds, err);
        goto done;
    }
    manifest_free(&m);
    sl_cache_put(l, "M", path, out->data, out->len, 0);
done:
    if (rc != STORE_OK)
        buf_reset(out);
    free(err);
    free(path);
    return rc;
}

/* Every descriptor reachable from L's index.json, nested indexes expanded
 * breadth first: visit(ctx, entry, index-it-came-from) for each; a non-zero
 * return stops the walk with that value. Bounded by LAYOUT_WALK_DEPTH and
 * LAYOUT_WALK_MAX manifest reads; a digest is expanded at most once, which
 * also cuts cycles. */
typedef int (*sl_visit_cb)(struct store_layout *l, const struct sl_layout *L, void *ctx,
                           const struct layout_entry *e, const struct layout_index *from);

static int sl_walk(struct store_layout *l, const struct sl_layout *L, sl_visit_cb visit, void *ctx)
{
    struct digest *seen = xcalloc(LAYOUT_WALK_MAX, sizeof *seen);
    struct layout_index *level = xcalloc(1, sizeof *level), *next = NULL;
    size_t nlevel = 1, nnext = 0, nseen = 0;
    int rc = STORE_OK;
    struct buf b;
    buf_init(&b, l->manifest_max);
    level[0] = L->ix;   /* borrowed: not freed below */
    for (unsigned depth = 0; depth <= LAYOUT_WALK_DEPTH && nlevel && rc == STORE_OK; depth++) {
        next = NULL;
        nnext = 0;
        for (size_t i = 0; i < nlevel && rc == STORE_OK; i++) {
            for (size_t j = 0; j < level[i].n && rc == STORE_OK; j++) {
                const struct layout_entry *e = &level[i].v[j];
                rc = visit(l, L, ctx, e, &level[i]);
                if (rc != STORE_OK || !layout_entry_is_index(e))
                    continue;
                int dup = 0;
                for (size_t s = 0; s < nseen && !dup; s++)
                    dup = digest_equal(&seen[s], &e->digest);
                if (dup)
                    continue;
                if (depth == LAYOUT_WALK_DEPTH || nseen == LAYOUT_WALK_MAX) {
                    log_warn("layout %s: nested indexes deeper than %d or more than %d: not walked further",
                             L->dir, LAYOUT_WALK_DEPTH, LAYOUT_WALK_MAX);
                    continue;
                }
                seen[nseen++] = e->digest;
                rc = sl_manifest(l, L, &e->digest, &b);
                if (rc != STORE_OK)
                    break;
                char *err = NULL;
                next = xrealloc(next, (nnext + 1) * sizeof *next);
                if (layout_index_parse(buf_cstr(&b), b.len, &next[nnext], &err) < 0) {
                    char ds[DIGEST_STR_MAX];
                    rc = sl_fail(l, STORE_INVALID, "%s: nested index %s: %s", L->dir,
                                 digest_str(&e->digest, ds), err);
                    free(err);
                    break;
                }
                nnext++;
            }
        }
        for (size_t i = depth ? 0 : 1; i < nlevel; i++)
            layout_index_free(&level[i]);
        free(level);
        level = next;
        nlevel = nnext;
    }
    for (size_t i = 0; i < nlevel; i++)
        layout_index_free(&level[i]);
    free(level);
    free(seen);
    buf_free(&b);
    return rc;
}

struct sl_tag_find {
    const char *tag;
    struct digest *out;
    int found;
};

static int sl_visit_tag(struct store_layout *l, const struct sl_layout *L, void *ctx,
                        const struct layout_entry *e, const struct layout_index *from)
{
    (void)l;
    (void)e;
    struct sl_tag_find *f = ctx;
    if (f->found || from->v == L->ix.v)
        return STORE_OK;   /* the top level was searched with precedence rules */
    long i = layout_find_tag(from, L->filter, f->tag);
    if (i >= 0) {
        *f->out = from->v[i].digest;
        f->found = 1;
    }
    return STORE_OK;
}

static int sl_tag_resolve(struct store *s, const char *name, const char *tag, struct digest *out)
{
    struct store_layout *l = sl_of(s);
    struct sl_layout L;
    int rc = sl_open(l, name, &L);
    if (rc != STORE_OK)
        return rc;
    long i = layout_find_tag(&L.ix, L.filter, tag);
    if (i >= 0) {
        *out = L.ix.v[i].digest;
    } else {
        struct sl_tag_find f = { .tag = tag, .out = out };
        rc = sl_walk(l, &L, sl_visit_tag, &f);
        if (rc == STORE_OK && !f.found)
            rc = sl_fail(l, STORE_INVALID, "%s: no image tagged \"%s%s%s\" in the layout at %s", name,
                         L.filter ? L.filter : "", L.filter ? ":" : "", tag, L.dir);
    }
    sl_layout_free(&L);
    return rc;
}

static int sl_manifest_get(struct store *s, const char *name, const struct digest *d, struct buf *out)
{
    struct store_layout *l = sl_of(s);
    struct sl_layout L;
    int rc = sl_open(l, name, &L);
    if (rc != STORE_OK)
        return rc;
    rc = sl_manifest(l, &L, d, out);
    sl_layout_free(&L);
    return rc;
}

static int sl_manifest_exists(struct store *s, const char *name, const struct digest *d)
{
    struct store_layout *l = sl_of(s);
    struct buf b;
    buf_init(&b, l->manifest_max);
    int rc = sl_manifest_get(s, name, d, &b);
    buf_free(&b);
    return rc;
}

struct sl_tags {
    char **v;
    size_t n;
};

static int sl_visit_tags(struct store_layout *l, const struct sl_layout *L, void *ctx,
                         const struct layout_entry *e, const struct layout_index *from)
{
    (void)l;
    struct sl_tags *t = ctx;
    struct layout_index one = { .v = (struct layout_entry *)e, .n = 1 };
    (void)from;
    layout_tags(&one, L->filter, &t->v, &t->n);
    return STORE_OK;
}

static int sl_tags_list(struct store *s, const char *name, char ***tags, size_t *n)
{
    struct store_layout *l = sl_of(s);
    struct sl_layout L;
    struct sl_tags t = { 0 };
    *tags = NULL;
    *n = 0;
    int rc = sl_open(l, name, &L);
    if (rc != STORE_OK)
        return rc;
    rc = sl_walk(l, &L, sl_visit_tags, &t);
    sl_layout_free(&L);
    if (rc != STORE_OK) {
        strv_free(t.v, t.n);
        return rc;
    }
    *tags = t.v;
    *n = t.n;
    return STORE_OK;
}

struct sl_refs {
    const struct digest *subject;
    struct digest *v;
    size_t n;
    size_t reads;
};

static int sl_visit_referrer(struct store_layout *l, const struct sl_layout *L, void *ctx,
                             const struct layout_entry *e, const struct layout_index *from)
{
    (void)from;
    struct sl_refs *r = ctx;
    struct manifest m;
    struct buf b;
    char *err = NULL;
    for (size_t i = 0; i < r->n; i++)
        if (digest_equal(&r->v[i], &e->digest))
            return STORE_OK;
    if (r->reads++ >= LAYOUT_WALK_MAX)
        return STORE_OK;   /* bounded: the walk logs what it skips */
    buf_init(&b, l->manifest_max);
    int rc = sl_manifest(l, L, &e->digest, &b);
    if (rc == STORE_OK && manifest_parse(buf_cstr(&b), b.len, NULL, &m, &err) == 0) {
        if (m.has_subject && digest_equal(&m.subject, r->subject)) {
            r->v = xrealloc(r->v, (r->n + 1) * sizeof *r->v);
            r->v[r->n++] = e->digest;
        }
        manifest_free(&m);
    } else if (rc != STORE_OK) {
        /* one broken entry must not hide the others' referrers */
        log_warn("referrers in %s: %s", L->dir, l->err);
        rc = STORE_OK;
    }
    free(err);
    buf_free(&b);
    return rc;
}

static int sl_referrers(struct store *s, const char *name, const struct digest *subject,
                        struct digest **out, size_t *n)
{
    struct store_layout *l = sl_of(s);
    struct sl_layout L;
    struct sl_refs r = { .subject = subject };
    *out = NULL;
    *n = 0;
    int rc = sl_open(l, name, &L);
    if (rc != STORE_OK)
        return rc;
    rc = sl_walk(l, &L, sl_visit_referrer, &r);
    sl_layout_free(&L);
    if (rc != STORE_OK) {
        free(r.v);
        return rc;
    }
    *out = r.v;
    *n = r.n;
    return STORE_OK;
}

/* ---- blobs ---- */

static int sl_blob_stat(struct store *s, const char *name, const struct digest *d, struct store_blob *out)
{
    struct store_layout *l = sl_of(s);
    struct sl_layout L;
    char ds[DIGEST_STR_MAX];
    int rc = sl_open(l, name, &L);
    if (rc != STORE_OK)
        return rc;
    char *path = sl_blob_path(&L, d);
    struct buf b;
    buf_init(&b, 256);
    unsigned long long size = 0;
    char cid[STORE_CID_MAX];
    if (sl_cache_get(l, "S", path, &b) && sscanf(buf_cstr(&b), "%llu %127s", &size, cid) == 2) {
        out->size = size;
    } else {
        struct kubo_stat st;
        int krc = kubo_files_stat(l->k, path, &st);
        if (krc == KUBO_NOT_FOUND) {
            rc = sl_fail(l, STORE_INVALID, "blob %s is not in the layout at %s", digest_str(d, ds), L.dir);
        } else if (krc != KUBO_OK) {
            rc = sl_kfail(l, krc, path);
        } else if (st.type != KUBO_FILE) {
            rc = sl_fail(l, STORE_INVALID, "%s is a directory, not a blob", path);
        } else {
            out->size = st.size;
            snprintf(cid, sizeof cid, "%s", st.cid);
            buf_reset(&b);
            buf_appendf(&b, "%llu %s", (unsigned long long)st.size, st.cid);
            sl_cache_put(l, "S", path, b.data, b.len, 0);
        }
    }
    if (rc == STORE_OK) {
        snprintf(out->cid, sizeof out->cid, "%s", cid);
        out->digest = *d;
    }
    buf_free(&b);
    free(path);
    sl_layout_free(&L);
    return rc;
}

/* Verdicts are per (blob CID, digest): the same bytes under the same name
 * are good or bad wherever they appear. 1 good, 0 bad, -1 unknown. */
static char *sl_verdict_key(const struct store_blob *b)
{
    char ds[DIGEST_STR_MAX];
    return xasprintf("%s\t%s", b->cid, digest_str(&b->digest, ds));
}

static int sl_verdict(struct store_layout *l, const struct store_blob *b)
{
    struct buf v;
    buf_init(&v, 16);
    char *key = sl_verdict_key(b);
    int r = -1;
    if (sl_cache_get(l, "V", key, &v))
        r = strcmp(buf_cstr(&v), "ok") == 0;
    buf_free(&v);
    free(key);
    return r;
}

static void sl_verdict_put(struct store_layout *l, const struct store_blob *b, int good)
{
    char *key = sl_verdict_key(b);
    sl_cache_put(l, "V", key, good ? "ok" : "bad", good ? 2 : 3, 0);
    free(key);
}

static int sl_bad_blob(struct store_layout *l, const struct store_blob *b, const struct digest *got)
{
    char ds[DIGEST_STR_MAX], gs[DIGEST_STR_MAX];
    if (got)
        return sl_fail(l, STORE_INVALID,
                       "blob %s (/ipfs/%s) does not hash to its name (its bytes are %s): tampered or corrupt layout",
                       digest_str(&b->digest, ds), b->cid, digest_str(got, gs));
    return sl_fail(l, STORE_INVALID,
                   "blob %s (/ipfs/%s) does not hash to its name (found earlier): tampered or corrupt layout",
                   digest_str(&b->digest, ds), b->cid);
}

/* Reads the whole blob through the hasher (into cb, if any, holding the tail
 * back: core/holdback.h), records the verdict, and releases the tail only if
 * it matches. */
static int sl_hash_blob(struct store_layout *l, const struct store_blob *b, store_write_cb cb, void *ctx)
{
    struct holdback v;
    struct digest got;
    holdback_init(&v, b->digest.alg, SL_HOLD, cb, ctx);
    int krc = kubo_gateway_get(l->k, b->cid, 0, 0, holdback_write, &v);
    int rc = STORE_OK;
    if (krc != KUBO_OK) {
        rc = sl_kfail(l, krc, "read blob");
    } else {
        int hrc = holdback_finish(&v, &b->digest, b->size, &got);
        if (hrc == -2) {
            sl_verdict_put(l, b, 0);
            rc = sl_bad_blob(l, b, &got);
        } else {
            sl_verdict_put(l, b, 1);
            if (hrc < 0)
                rc = sl_fail(l, STORE_ABORTED, "client went away");
        }
    }
    holdback_free(&v);
    return rc;
}

static int sl_blob_verify(struct store *s, const struct store_blob *b)
{
    struct store_layout *l = sl_of(s);
    switch (sl_verdict(l, b)) {
    case 1: return STORE_OK;
    case 0: return sl_bad_blob(l, b, NULL);
    default: break;
    }
    log_info("layout: verifying blob /ipfs/%s (%llu bytes) before a HEAD or Range answer", b->cid,
             (unsigned long long)b->size);
    return sl_hash_blob(l, b, NULL, NULL);
}

static int sl_blob_read(struct store *s, const struct store_blob *b, uint64_t offset, uint64_t length,
                        store_write_cb cb, void *ctx)
{
    struct store_layout *l = sl_of(s);
    int v = sl_verdict(l, b);
    if (v == 0)
        return sl_bad_blob(l, b, NULL);
    if (v < 0) {
        if (offset == 0 && length == b->size)
            return sl_hash_blob(l, b, cb, ctx);
        int rc = sl_hash_blob(l, b, NULL, NULL);
        if (rc != STORE_OK)
            return rc;
    }
    int krc = kubo_gateway_get(l->k, b->cid, offset, length, cb, ctx);
    return krc == KUBO_OK ? STORE_OK : sl_kfail(l, krc, "read blob");
}

/* ---- everything a read-only store refuses ---- */

static int sl_ro(struct store_layout *l)
{
    return sl_fail(l, STORE_ERROR, "OCI layouts on IPFS are read-only");
}

static int sl_blob_unlink(struct store *s, const char *name, const struct digest *d)
{
    (void)name; (void)d;
    return sl_ro(sl_of(s));
}

static int sl_blob_mount(struct store *s, const char *name, const char *from, const struct digest *d)
{
    (void)name; (void)from; (void)d;
    return sl_ro(sl_of(s));
}

static int sl_chunk_put(struct store *s, const char *id, unsigned idx, uint64_t offset,
                        const struct digest *whole, store_read_cb cb, void *ctx,
                        struct store_chunk *out)
{
    (void)id; (void)idx; (void)offset; (void)whole; (void)cb; (void)ctx; (void)out;
    return sl_ro(sl_of(s));
}

static int sl_chunks_join(struct store *s, const struct store_chunk *c, size_t n, struct store_chunk *out)
{
    (void)c; (void)n; (void)out;
    return sl_ro(sl_of(s));
}

static int sl_content_read(struct store *s, const struct store_chunk *c, store_write_cb cb, void *ctx)
{
    (void)c; (void)cb; (void)ctx;
    return sl_ro(sl_of(s));
}

static int sl_blob_commit(struct store *s, const char *name, const struct digest *d,
                          const struct store_chunk *c)
{
    (void)name; (void)d; (void)c;
    return sl_ro(sl_of(s));
}

static int sl_upload_discard(struct store *s, const char *id)
{
    (void)id;
    return sl_ro(sl_of(s));
}

static int sl_manifest_put(struct store *s, const char *name, const struct digest *d, const char *data,
                           size_t len, char *const *tags, size_t ntags, const struct digest *subject)
{
    (void)name; (void)d; (void)data; (void)len; (void)tags; (void)ntags; (void)subject;
    return sl_ro(sl_of(s));
}

static int sl_manifest_delete(struct store *s, const char *name, const struct digest *d,
                              const struct digest *subject)
{
    (void)name; (void)d; (void)subject;
    return sl_ro(sl_of(s));
}

static int sl_tag_delete(struct store *s, const char *name, const char *tag)
{
    (void)name; (void)tag;
    return sl_ro(sl_of(s));
}

/* Layouts are addressed by CID, never listed: the catalog is the storage mode's. */
static int sl_catalog(struct store *s, char ***names, size_t *n)
{
    (void)s;
    *names = NULL;
    *n = 0;
    return STORE_OK;
}

static int sl_repo_exists(struct store *s, const char *name)
{
    struct store_layout *l = sl_of(s);
    struct sl_layout L;
    int rc = sl_open(l, name, &L);
    if (rc == STORE_OK)
        sl_layout_free(&L);
    return rc == STORE_OK ? 1 : rc == STORE_INVALID ? 0 : -1;
}

static const char *sl_errmsg(struct store *s)
{
    struct store_layout *l = sl_of(s);
    return l->err ? l->err : "layout: no error";
}

static const struct store_ops sl_ops = {
    .blob_stat = sl_blob_stat,
    .blob_read = sl_blob_read,
    .blob_unlink = sl_blob_unlink,
    .blob_mount = sl_blob_mount,
    .blob_verify = sl_blob_verify,
    .chunk_put = sl_chunk_put,
    .chunks_join = sl_chunks_join,
    .content_read = sl_content_read,
    .blob_commit = sl_blob_commit,
    .upload_discard = sl_upload_discard,
    .tag_resolve = sl_tag_resolve,
    .manifest_exists = sl_manifest_exists,
    .manifest_get = sl_manifest_get,
    .manifest_put = sl_manifest_put,
    .manifest_delete = sl_manifest_delete,
    .tag_delete = sl_tag_delete,
    .tags_list = sl_tags_list,
    .referrers = sl_referrers,
    .catalog = sl_catalog,
    .repo_exists = sl_repo_exists,
    .errmsg = sl_errmsg,
};

struct store *store_layout_new(struct kubo *k, const char *cache_dir, time_t ipns_ttl,
                               uint64_t manifest_max)
{
    struct store_layout *l = xcalloc(1, sizeof *l);
    l->base.ops = &sl_ops;
    l->base.impl = l;
    l->k = k;
    l->cache = layout_cache_new(cache_dir);
    l->ipns_ttl = ipns_ttl;
    l->manifest_max = manifest_max;
    return &l->base;
}

void store_layout_free(struct store *s)
{
    if (!s)
        return;
    struct store_layout *l = sl_of(s);
    layout_cache_free(l->cache);
    free(l->err);
    free(l);
}
