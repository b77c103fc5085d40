/* store_mirror: the pull-through mirror over the storage chain (see
 * store_mirror.h). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>
#include "oci/store_mirror.h"
#include "oci/manifest.h"
#include "core/errmsg.h"
#include "core/holdback.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/xalloc.h"

/* Bytes read from a staging file per chunk_put callback. */
#define MIR_READ 65536

struct mir_upstream {
    char *ns, *prefix;
    int freshness;
    struct upstream *client;   /* owned */
};

struct mir {
    struct store base;
    struct store_ops ops;      /* inner's optional reads offered only if inner has them */
    struct store *inner;       /* borrowed */
    struct mir_upstream *up;
    size_t nup;
    char *dir;                 /* <statedir>/mirror */
    char *err;
    /* The one piece of state kept between two calls: blob_stat of a blob
     * not stored yet names its repository here, for the blob_read,
     * blob_verify that follow in the same request (a worker serves one
     * request at a time; the digest is checked). */
    char *pending_name;
    struct digest pending;
    /* A blob sent to its client and verified, committed after the answer
     * went out (upkeep): its staging file, and the digest's lock, held
     * until then so other workers wait for the commit. */
    struct {
        char *name, *tmp;
        struct digest d;
        int lock;   /* -1: nothing pending */
    } commit;
};

static struct mir *mir_of(struct store *s)
{
    return s->impl;
}

#define mir_fail(m, rc, ...) errmsg_set(&(m)->err, (rc), "mirror", NULL, __VA_ARGS__)

static int mir_ifail(struct mir *m, int rc, const char *what)
{
    return errmsg_set(&m->err, rc, "mirror", m->inner->ops->errmsg(m->inner), "%s", what);
}

/* An upstream failure as a store result: the upstream's words kept; a
 * 404 is NOT_FOUND, anything else too (the client falls back to its next
 * host), and counted as an error. */
static int mir_ufail(struct mir *m, const struct mir_upstream *u, int urc)
{
    if (urc != UPSTREAM_NOT_FOUND)
        metrics_mirror(METRICS_MIRROR_ERROR, 1);
    if (urc != UPSTREAM_NOT_FOUND && urc != UPSTREAM_ABORTED)
        log_warn("mirror %s: %s", u->ns, upstream_errmsg(u->client));
    return errmsg_set(&m->err, urc == UPSTREAM_ABORTED ? STORE_ABORTED : STORE_NOT_FOUND, "mirror", NULL, "%s",
                      upstream_errmsg(u->client));
}

/* The upstream whose prefix name is under, and the upstream's name for it
 * in *repo; NULL when name is no mirrored repository. */
static struct mir_upstream *mir_find(struct mir *m, const char *name, const char **repo)
{
    for (size_t i = 0; i < m->nup; i++) {
        size_t n = strlen(m->up[i].prefix);
        if (strncmp(name, m->up[i].prefix, n) == 0 && name[n] == '/' && name[n + 1]) {
            *repo = name + n + 1;
            return &m->up[i];
        }
    }
    return NULL;
}

/* <statedir>/mirror/<sub>/<key><suffix> (the directories are made by
 * store_mirror_new). */
static char *mir_path(struct mir *m, const char *sub, const char *key, const char *suffix)
{
    return xasprintf("%s/%s/%s%s", m->dir, sub, key, suffix);
}

/* ---- tag records: <dir>/tags/<h>: "<digest> <checked>\n" ---- */

static char *mir_tag_file(struct mir *m, const char *name, const char *tag)
{
    struct digest h;
    char *key = xasprintf("%s:%s", name, tag);
    digest_of(DIGEST_SHA256, key, strlen(key), &h);
    free(key);
    char hk[17];
    memcpy(hk, h.hex, 16);
    hk[16] = '\0';
    return mir_path(m, "tags", hk, "");
}

/* 1 and *checked when a record names d, else 0. */
static int mir_tag_checked(struct mir *m, const char *name, const char *tag, const struct digest *d,
                           time_t *checked)
{
    char line[DIGEST_STR_MAX + 32], ds[DIGEST_STR_MAX];
    long long t;
    char *f = mir_tag_file(m, name, tag);
    FILE *fp = fopen(f, "re");
    free(f);
    if (!fp)
        return 0;
    size_t n = strlen(digest_str(d, ds));   /* before the comparison: argument order is unspecified */
    int ok = fgets(line, sizeof line, fp) != NULL && sscanf(line, "%*s %lld", &t) == 1 &&
             strncmp(line, ds, n) == 0 && line[n] == ' ';
    fclose(fp);
    if (ok)
        *checked = (time_t)t;
    return ok;
}

static void mir_tag_note(struct mir *m, const char *name, const char *tag, const struct digest *d)
{
    char ds[DIGEST_STR_MAX];
    char *f = mir_tag_file(m, name, tag);
    char *tmp = xasprintf("%s.%ld", f, (long)getpid());
    FILE *fp = fopen(tmp, "we");
    if (fp) {
        fprintf(fp, "%s %lld\n", digest_str(d, ds), (long long)time(NULL));
        if (fclose(fp) != 0 || rename(tmp, f) != 0)
            unlink(tmp);
    }
    free(tmp);
    free(f);
}

/* ---- manifests ---- */

/* Fetches manifest ref (a tag or a digest) of u's repo and stores it in
 * name (tagged when ref is a tag); *d its digest. */
static int mir_manifest_fetch(struct mir *m, struct mir_upstream *u, const char *name, const char *repo,
                              const char *ref, struct digest *d)
{
    struct buf b;
    struct manifest mf;
    char *err = NULL;
    buf_init(&b, 1);
    int urc = upstream_manifest_get(u->client, repo, ref, &b, d);
    if (urc != UPSTREAM_OK) {
        buf_free(&b);
        return mir_ufail(m, u, urc);
    }
    metrics_mirror(METRICS_MIRROR_MISS, 1);
    metrics_mirror(METRICS_MIRROR_BYTES, b.len);
    if (manifest_parse(buf_cstr(&b), b.len, NULL, &mf, &err) < 0) {
        metrics_mirror(METRICS_MIRROR_ERROR, 1);
        int rc = mir_fail(m, STORE_NOT_FOUND, "%s %s:%s: the upstream's manifest is refused: %s", u->ns, repo, ref,
                          err);
        log_warn("%s", m->err);
        free(err);
        buf_free(&b);
        return rc;
    }
    char *tag = digest_looks_like(ref) ? NULL : (char *)ref;
    int rc = m->inner->ops->manifest_put(m->inner, name, d, buf_cstr(&b), b.len, &tag, tag ? 1 : 0,
                                         mf.has_subject ? &mf.subject : NULL);
    manifest_free(&mf);
    buf_free(&b);
    if (rc != STORE_OK)
        return mir_ifail(m, rc, "store the upstream's manifest");
    if (tag)
        mir_tag_note(m, name, tag, d);
    return STORE_OK;
}

static int mir_tag_resolve(struct store *s, const char *name, const char *tag, struct digest *out)
{
    struct mir *m = mir_of(s);
    const char *repo;
    struct mir_upstream *u = mir_find(m, name, &repo);
    int lrc = m->inner->ops->tag_resolve(m->inner, name, tag, out);
    if (!u)
        return lrc == STORE_OK ? lrc : mir_ifail(m, lrc, "tag");
    time_t checked;
    if (lrc == STORE_OK && mir_tag_checked(m, name, tag, out, &checked) && time(NULL) - checked < u->freshness) {
        metrics_mirror(METRICS_MIRROR_HIT, 1);
        return STORE_OK;
    }
    if (lrc != STORE_OK && lrc != STORE_NOT_FOUND)
        return mir_ifail(m, lrc, "tag");
    struct digest up;
    if (lrc == STORE_OK)
        metrics_mirror(METRICS_MIRROR_REVALIDATION, 1);
    int urc = upstream_manifest_head(u->client, repo, tag, &up);
    if (urc == UPSTREAM_OK && lrc == STORE_OK && digest_equal(&up, out)) {
        mir_tag_note(m, name, tag, out);
        metrics_mirror(METRICS_MIRROR_HIT, 1);
        return STORE_OK;
    }
    if (urc == UPSTREAM_OK)
        return mir_manifest_fetch(m, u, name, repo, tag, out);
    if (urc == UPSTREAM_NOT_FOUND)
        return mir_ufail(m, u, urc);   /* gone upstream: not served */
    if (lrc == STORE_OK) {
        char ds[DIGEST_STR_MAX];
        metrics_mirror(METRICS_MIRROR_ERROR, 1);
        metrics_mirror(METRICS_MIRROR_STALE, 1);
        log_warn("mirror %s: serving %s:%s as cached (%s), the upstream could not be asked: %s", u->ns, name, tag,
                 digest_str(out, ds), upstream_errmsg(u->client));
        return STORE_OK;
    }
    return mir_ufail(m, u, urc);
}

static int mir_manifest_ensure(struct mir *m, const char *name, const struct digest *d)
{
    const char *repo;
    char ds[DIGEST_STR_MAX];
    struct digest got;
    struct mir_upstream *u = mir_find(m, name, &repo);
    int rc = m->inner->ops->manifest_exists(m->inner, name, d);
    if (rc == STORE_OK && u)
        metrics_mirror(METRICS_MIRROR_HIT, 1);
    if (rc != STORE_NOT_FOUND || !u)
        return rc == STORE_OK ? rc : mir_ifail(m, rc, "manifest");
    return mir_manifest_fetch(m, u, name, repo, digest_str(d, ds), &got);
}

static int mir_manifest_exists(struct store *s, const char *name, const struct digest *d)
{
    return mir_manifest_ensure(mir_of(s), name, d);
}

static int mir_manifest_get(struct store *s, const char *name, const struct digest *d, struct buf *out)
{
    struct mir *m = mir_of(s);
    int rc = mir_manifest_ensure(m, name, d);
    if (rc == STORE_OK && (rc = m->inner->ops->manifest_get(m->inner, name, d, out)) != STORE_OK)
        mir_ifail(m, rc, "manifest");
    return rc;
}

/* ---- blobs ---- */

/* A blob the mirror has not stored yet: blob_stat answers its size from
 * the upstream and an empty CID, which blob_read, blob_open and
 * blob_verify recognize. */
static int mir_blob_absent(const struct store_blob *b)
{
    return b->cid[0] == '\0';
}

static int mir_blob_stat(struct store *s, const char *name, const struct digest *d, struct store_blob *out)
{
    struct mir *m = mir_of(s);
    const char *repo;
    struct mir_upstream *u = mir_find(m, name, &repo);
    int rc = m->inner->ops->blob_stat(m->inner, name, d, out);
    if (rc == STORE_NOT_FOUND && u && m->inner->ops->blob_mount(m->inner, name, NULL, d) == STORE_OK)
        rc = m->inner->ops->blob_stat(m->inner, name, d, out);   /* stored for another image */
    if (rc == STORE_OK && u)
        metrics_mirror(METRICS_MIRROR_HIT, 1);
    if (rc != STORE_NOT_FOUND || !u)
        return rc == STORE_OK ? rc : mir_ifail(m, rc, "blob");
    uint64_t size;
    int urc = upstream_blob_head(u->client, repo, d, &size);
    if (urc != UPSTREAM_OK)
        return mir_ufail(m, u, urc);
    memset(out, 0, sizeof *out);
    out->size = size;
    out->digest = *d;
    free(m->pending_name);
    m->pending_name = xstrdup(name);
    m->pending = *d;
    return STORE_OK;
}

/* The upstream's bytes to the client (held back) and to the staging file. */
struct mir_tee {
    struct holdback hb;
    int fd;
    int write_errno;
    int client_gone;
};

static int mir_tee_write(void *arg, const char *p, size_t n)
{
    struct mir_tee *t = arg;
    for (size_t off = 0; off < n;) {
        ssize_t w = write(t->fd, p + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            t->write_errno = w < 0 ? errno : EIO;
            return -1;
        }
        off += (size_t)w;
    }
    if (holdback_write(&t->hb, p, n) < 0 && !t->client_gone) {
        /* the fetch goes on: the next client needs what it stores */
        t->client_gone = 1;
        holdback_detach(&t->hb);
    }
    return 0;
}

struct mir_file {
    int fd;
};

static ssize_t mir_file_read(void *arg, char *p, size_t n)
{
    struct mir_file *f = arg;
    for (;;) {
        ssize_t r = read(f->fd, p, n < MIR_READ ? n : MIR_READ);
        if (r < 0 && errno == EINTR)
            continue;
        return r;
    }
}

/* The staging file at path, verified as blob d, into name through inner. */
static int mir_commit(struct mir *m, const char *name, const struct digest *d, const char *path)
{
    unsigned char rnd[16];
    char id[33];
    struct store_chunk c, joined;
    struct mir_file f = { open(path, O_RDONLY | O_CLOEXEC) };
    if (f.fd < 0)
        return errmsg_set(&m->err, STORE_ERROR, "mirror", strerror(errno), "open %s", path);
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        for (size_t i = 0; i < sizeof rnd; i++)
            rnd[i] = (unsigned char)(rand() ^ getpid() ^ (int)i);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(id + 2 * i, 3, "%02x", rnd[i]);
    const struct store_ops *in = m->inner->ops;
    int rc = in->chunk_put(m->inner, id, 0, 0, d, mir_file_read, &f, &c);
    if (rc == STORE_OK)
        rc = in->chunks_join(m->inner, &c, 1, &joined);
    if (rc == STORE_OK)
        rc = in->blob_commit(m->inner, name, d, &joined);
    if (rc != STORE_OK)
        mir_ifail(m, rc, "store the upstream's blob");
    in->upload_discard(m->inner, id);
    close(f.fd);
    return rc;
}

/* 1 when another worker stored d meanwhile (inner has it now), else 0. */
static int mir_stored_meanwhile(struct mir *m, const char *name, const struct digest *d)
{
    struct store_blob b = { 0 };
    return m->inner->ops->blob_stat(m->inner, name, d, &b) == STORE_OK ||
           m->inner->ops->blob_mount(m->inner, name, NULL, d) == STORE_OK;
}

static void mir_upkeep(struct store *s);

/* Fetches blob d of u's repo, to cb (NULL: nobody waits for the bytes),
 * stores it in name. One fetch per digest at a time: a worker that finds
 * another fetching waits for it and returns STORE_NOT_FOUND with *stored
 * set when it is stored (the caller reads it from inner). With cb, the
 * commit waits for mir_upkeep, after the answer went out. */
static int mir_blob_fetch(struct mir *m, struct mir_upstream *u, const char *name, const char *repo,
                          const struct digest *d, store_write_cb cb, void *ctx, int *stored)
{
    mir_upkeep(&m->base);   /* normally done between requests already */
    char *lock = mir_path(m, "locks", d->hex, ".lock");
    int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(lock);
    *stored = 0;
    if (lfd < 0)
        return errmsg_set(&m->err, STORE_ERROR, "mirror", strerror(errno), "lock for %s", d->hex);
    if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
        log_debug("mirror: blob %s is being fetched by another worker: waiting", d->hex);
        while (flock(lfd, LOCK_EX) < 0 && errno == EINTR)
            ;
    }
    if (mir_stored_meanwhile(m, name, d)) {
        close(lfd);
        *stored = 1;
        return STORE_OK;
    }
    char pid[32];
    snprintf(pid, sizeof pid, ".%ld", (long)getpid());
    char *tmp = mir_path(m, "tmp", d->hex, pid);
    struct mir_tee t = { .fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) };
    int rc = STORE_OK;
    if (t.fd < 0) {
        rc = errmsg_set(&m->err, STORE_ERROR, "mirror", strerror(errno), "create %s", tmp);
        goto out;
    }
    holdback_init(&t.hb, d->alg, HOLDBACK_DEFAULT, cb, ctx);
    uint64_t bytes = 0;
    int urc = upstream_blob_get(u->client, repo, d, mir_tee_write, &t, &bytes);
    metrics_mirror(METRICS_MIRROR_BYTES, bytes);
    if (urc != UPSTREAM_OK) {
        if (t.write_errno)
            rc = errmsg_set(&m->err, STORE_ABORTED, "mirror", strerror(t.write_errno), "write %s", tmp);
        else
            rc = mir_ufail(m, u, urc);
        /* once bytes went out, the response can only be cut short */
        if (bytes > 0)
            rc = STORE_ABORTED;
    } else {
        struct digest got;
        char gs[DIGEST_STR_MAX], ds[DIGEST_STR_MAX];
        int hrc = holdback_finish(&t.hb, d, t.hb.seen, &got);
        if (hrc == -2) {
            metrics_mirror(METRICS_MIRROR_ERROR, 1);
            rc = mir_fail(m, STORE_ABORTED, "%s: the upstream's blob %s of %s hashes to %s: refused, not stored",
                          u->ns, digest_str(d, ds), repo, digest_str(&got, gs));
            log_error("%s", m->err);
        } else {
            metrics_mirror(METRICS_MIRROR_MISS, 1);
            if (cb && !t.client_gone) {
                /* stored after the answer went out: the client (and its
                 * next request on this connection) does not wait for it */
                m->commit.name = xstrdup(name);
                m->commit.tmp = tmp;
                m->commit.d = *d;
                m->commit.lock = lfd;
                tmp = NULL;
                lfd = -1;
                if (hrc < 0)
                    rc = mir_fail(m, STORE_ABORTED, "client went away (the blob is stored next)");
            } else {
                rc = mir_commit(m, name, d, tmp);
                if (rc == STORE_OK && (hrc < 0 || t.client_gone))
                    rc = mir_fail(m, STORE_ABORTED, "client went away (the blob was stored)");
            }
        }
    }
    holdback_free(&t.hb);
    close(t.fd);
out:
    if (tmp)
        unlink(tmp);
    free(tmp);
    if (lfd >= 0)
        close(lfd);
    return rc;
}

/* The commit a fetch left for after its answer (see struct mir). */
static void mir_upkeep(struct store *s)
{
    struct mir *m = mir_of(s);
    if (m->commit.lock < 0)
        return;
    if (mir_commit(m, m->commit.name, &m->commit.d, m->commit.tmp) != STORE_OK)
        log_warn("mirror: blob %s was sent but could not be stored (the next pull fetches it again): %s",
                 m->commit.d.hex, m->err);
    unlink(m->commit.tmp);
    free(m->commit.tmp);
    free(m->commit.name);
    close(m->commit.lock);
    m->commit.tmp = m->commit.name = NULL;
    m->commit.lock = -1;
}

/* The blob blob_stat found absent, fetched and stored: to cb when it wants
 * all of it (as it arrives), else only stored (*b_out is then inner's). */
static int mir_blob_obtain(struct mir *m, const struct store_blob *b, store_write_cb cb, void *ctx,
                           struct store_blob *b_out, const char **name_out)
{
    const char *repo;
    struct mir_upstream *u = m->pending_name && digest_equal(&m->pending, &b->digest)
                                 ? mir_find(m, m->pending_name, &repo) : NULL;
    int stored = 0;
    if (!u)
        return mir_fail(m, STORE_ERROR, "blob %s: not stored, and no blob_stat named its repository",
                        b->digest.hex);
    *name_out = m->pending_name;
    int rc = mir_blob_fetch(m, u, m->pending_name, repo, &b->digest, cb, ctx, &stored);
    if (rc == STORE_OK && (stored || !cb)) {
        memset(b_out, 0, sizeof *b_out);
        if ((rc = m->inner->ops->blob_stat(m->inner, m->pending_name, &b->digest, b_out)) != STORE_OK)
            mir_ifail(m, rc, "blob stored by the mirror");
        else if (cb)
            rc = 1;   /* stored by another worker: the caller reads it */
    }
    return rc;
}

static int mir_blob_read(struct store *s, const struct store_blob *b, uint64_t offset, uint64_t length,
                         store_write_cb cb, void *ctx)
{
    struct mir *m = mir_of(s);
    struct store_blob got;
    const char *name;
    int rc;
    if (!mir_blob_absent(b)) {
        rc = m->inner->ops->blob_read(m->inner, b, offset, length, cb, ctx);
        return rc == STORE_OK ? rc : mir_ifail(m, rc, "read blob");
    }
    int whole = offset == 0 && length == b->size;
    rc = mir_blob_obtain(m, b, whole ? cb : NULL, ctx, &got, &name);
    if (rc == STORE_OK && whole)
        return STORE_OK;   /* the client had it as it arrived */
    if (rc != STORE_OK && rc != 1)
        return rc;
    rc = m->inner->ops->blob_read(m->inner, &got, offset, length, cb, ctx);
    return rc == STORE_OK ? rc : mir_ifail(m, rc, "read blob");
}

static int mir_blob_open(struct store *s, const struct store_blob *b, uint64_t offset, uint64_t length, int *fd)
{
    struct mir *m = mir_of(s);
    if (mir_blob_absent(b))
        return mir_fail(m, STORE_ERROR, "blob %s is fetched from the upstream", b->digest.hex);
    int rc = m->inner->ops->blob_open(m->inner, b, offset, length, fd);
    return rc == STORE_OK ? rc : mir_ifail(m, rc, "open blob");
}

static int mir_blob_verify(struct store *s, const struct store_blob *b)
{
    struct mir *m = mir_of(s);
    if (mir_blob_absent(b)) {
        /* a HEAD or a Range of a blob not stored: fetched and stored first */
        struct store_blob got;
        const char *name;
        return mir_blob_obtain(m, b, NULL, NULL, &got, &name);
    }
    if (!m->inner->ops->blob_verify)
        return STORE_OK;
    int rc = m->inner->ops->blob_verify(m->inner, b);
    return rc == STORE_OK ? rc : mir_ifail(m, rc, "verify blob");
}

/* ---- everything else is inner's ---- */

#define MIR_PASS(call, what)                                  \
    do {                                                      \
        struct mir *m = mir_of(s);                            \
        int rc = m->inner->ops->call;                         \
        return rc == STORE_OK ? rc : mir_ifail(m, rc, what);  \
    } while (0)

static int mir_blob_unlink(struct store *s, const char *name, const struct digest *d)
{
    MIR_PASS(blob_unlink(m->inner, name, d), "unlink blob");
}

static int mir_blob_mount(struct store *s, const char *name, const char *from, const struct digest *d)
{
    MIR_PASS(blob_mount(m->inner, name, from, d), "mount");
}

static int mir_chunk_put(struct store *s, const char *id, unsigned idx, uint64_t offset, const struct digest *whole,
                         store_read_cb cb, void *ctx, struct store_chunk *out)
{
    MIR_PASS(chunk_put(m->inner, id, idx, offset, whole, cb, ctx, out), "upload");
}

static int mir_chunks_join(struct store *s, const struct store_chunk *c, size_t n, struct store_chunk *out)
{
    MIR_PASS(chunks_join(m->inner, c, n, out), "upload");
}

static int mir_content_read(struct store *s, const struct store_chunk *c, store_write_cb cb, void *ctx)
{
    MIR_PASS(content_read(m->inner, c, cb, ctx), "upload");
}

static int mir_blob_commit(struct store *s, const char *name, const struct digest *d, const struct store_chunk *c)
{
    MIR_PASS(blob_commit(m->inner, name, d, c), "commit blob");
}

static int mir_upload_discard(struct store *s, const char *id)
{
    MIR_PASS(upload_discard(m->inner, id), "upload");
}

static int mir_manifest_put(struct store *s, const char *name, const struct digest *d, const char *data, size_t len,
                            char *const *tags, size_t ntags, const struct digest *subject)
{
    MIR_PASS(manifest_put(m->inner, name, d, data, len, tags, ntags, subject), "put manifest");
}

static int mir_manifest_delete(struct store *s, const char *name, const struct digest *d, const struct digest *subject)
{
    MIR_PASS(manifest_delete(m->inner, name, d, subject), "delete manifest");
}

static int mir_tag_delete(struct store *s, const char *name, const char *tag)
{
    MIR_PASS(tag_delete(m->inner, name, tag), "delete tag");
}

static int mir_tags_list(struct store *s, const char *name, char ***tags, size_t *n)
{
    MIR_PASS(tags_list(m->inner, name, tags, n), "tags");
}

static int mir_referrers(struct store *s, const char *name, const struct digest *subject, struct digest **out,
                         size_t *n)
{
    MIR_PASS(referrers(m->inner, name, subject, out, n), "referrers");
}

static int mir_catalog(struct store *s, char ***names, size_t *n)
{
    MIR_PASS(catalog(m->inner, names, n), "catalog");
}

static int mir_repo_exists(struct store *s, const char *name)
{
    struct mir *m = mir_of(s);
    return m->inner->ops->repo_exists(m->inner, name);
}

static int mir_ping(struct store *s, long timeout_ms, char *version, size_t n)
{
    struct mir *m = mir_of(s);
    return m->inner->ops->ping ? m->inner->ops->ping(m->inner, timeout_ms, version, n) : STORE_OK;
}

static const char *mir_errmsg(struct store *s)
{
    struct mir *m = mir_of(s);
    return m->err ? m->err : "mirror: no error";
}

static const struct store_ops mir_ops = {
    .blob_stat = mir_blob_stat,
    .blob_read = mir_blob_read,
    .blob_open = mir_blob_open,
    .blob_verify = mir_blob_verify,
    .blob_unlink = mir_blob_unlink,
    .blob_mount = mir_blob_mount,
    .chunk_put = mir_chunk_put,
    .chunks_join = mir_chunks_join,
    .content_read = mir_content_read,
    .blob_commit = mir_blob_commit,
    .upload_discard = mir_upload_discard,
    .tag_resolve = mir_tag_resolve,
    .manifest_exists = mir_manifest_exists,
    .manifest_get = mir_manifest_get,
    .manifest_put = mir_manifest_put,
    .manifest_delete = mir_manifest_delete,
    .tag_delete = mir_tag_delete,
    .tags_list = mir_tags_list,
    .referrers = mir_referrers,
    .catalog = mir_catalog,
    .repo_exists = mir_repo_exists,
    .upkeep = mir_upkeep,
    .ping = mir_ping,
    .errmsg = mir_errmsg,
};

/* Staging files of workers that died between an answer and its commit
 * (named <hex>.<pid>): the next pull fetches those blobs again. */
static void mir_tmp_clean(struct mir *m)
{
    char *d = xasprintf("%s/tmp", m->dir);
    DIR *dp = opendir(d);
    struct dirent *e;
    while (dp && (e = readdir(dp))) {
        const char *dot = strrchr(e->d_name, '.');
        long pid = dot ? strtol(dot + 1, NULL, 10) : 0;
        if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
            char *f = xasprintf("%s/%s", d, e->d_name);
            if (unlink(f) == 0)
                log_info("mirror: removed %s, left by a worker that stopped before storing it", f);
            free(f);
        }
    }
    if (dp)
        closedir(dp);
    free(d);
}

struct store *store_mirror_new(struct store *inner, const struct store_mirror_upstream *u, size_t n,
                               const char *statedir)
{
    struct mir *m = xcalloc(1, sizeof *m);
    m->ops = mir_ops;
    if (!inner->ops->blob_open)
        m->ops.blob_open = NULL;
    m->base.ops = &m->ops;
    m->base.impl = m;
    m->inner = inner;
    m->dir = xasprintf("%s/mirror", statedir);
    m->commit.lock = -1;
    (void)mkdir(m->dir, 0700);
    for (size_t i = 0; i < 3; i++) {
        char *d = xasprintf("%s/%s", m->dir, (const char *[]){ "tags", "locks", "tmp" }[i]);
        (void)mkdir(d, 0700);
        free(d);
    }
    mir_tmp_clean(m);
    m->up = xcalloc(n ? n : 1, sizeof *m->up);
    for (size_t i = 0; i < n; i++) {
        m->up[i].ns = xstrdup(u[i].ns);
        m->up[i].prefix = xstrdup(u[i].prefix);
        m->up[i].freshness = u[i].freshness;
        m->up[i].client = upstream_new(&u[i].client);
        if (!m->up[i].client) {
            store_mirror_free(&m->base);
            return NULL;
        }
        m->nup++;
    }
    return &m->base;
}

void store_mirror_free(struct store *s)
{
    if (!s)
        return;
    struct mir *m = mir_of(s);
    mir_upkeep(s);
    for (size_t i = 0; i < m->nup; i++) {
        free(m->up[i].ns);
        free(m->up[i].prefix);
        upstream_free(m->up[i].client);
    }
    free(m->up);
    free(m->pending_name);
    free(m->dir);
    free(m->err);
    free(m);
}
