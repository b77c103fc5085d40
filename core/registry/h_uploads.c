/* h_uploads: blob uploads. POST starts a session (or mounts, or takes a whole
 * blob with ?digest=), PATCH appends a chunk, PUT appends an optional last
 * chunk and completes, GET reports progress, DELETE cancels.
 *
 * Each chunk streams from the request body into the store while it is hashed,
 * so completing an upload never re-reads the bytes (unless the client names a
 * digest algorithm other than the one the session hashed with). Session state
 * lives in statedir (core/upload.c), so any worker can take the next request. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/registry/handlers.h"
#include "core/registry/h_common.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/names.h"
#include "core/query.h"
#include "core/range.h"
#include "core/registry/upload.h"
#include "core/xalloc.h"

/* Seconds between sweeps of expired sessions (one worker at a time sweeps):
 * a tenth of upload_expiry, so a session is gone at most 10% after it
 * expired, between 1 s and 10 minutes. */
#define SWEEP_INTERVAL_MAX 600
/* A sweep's work per turn: 10,000 expired sessions took 13 s on a loaded
 * 2-core machine (ext4 unlinks); in slices, any other request is served
 * between two, and the next worker to finish a request goes on. */
#define SWEEP_BUDGET_MS 500
/* Seconds a client refused for max_upload_sessions is asked to wait: a
 * session frees when a push completes, which takes a while. */
#define SESSIONS_RETRY_AFTER "10"
#define PREREAD 65536        /* first read of a body, to skip the store for empty ones */

static void discard_staged(void *ctx, const char *id)
{
    struct store *st = ctx;

    st->ops->upload_discard(st, id);
}

static time_t sweep_interval(const struct registry *reg)
{
    time_t t = reg->opts.upload_expiry / 10;

    return t < 1 ? 1 : t > SWEEP_INTERVAL_MAX ? SWEEP_INTERVAL_MAX : t;
}

/* The registry's upkeep between two requests (registry.h): the sweep of
 * expired upload sessions, run by the workers in turn, never inside a
 * request (a client would wait for it). */
int registry_maintain(struct registry *reg)
{
    time_t now = time(NULL), interval = sweep_interval(reg);
    int n, more = 0;

    /* the mirror commits what it just sent (oci/store_mirror.c) */
    if (reg->mirror && reg->mirror->ops->upkeep)
        reg->mirror->ops->upkeep(reg->mirror);

    /* the shared stamp (is one due?) is a file: looked at once a second
     * at most by each worker, unless its last slice left work */
    if (now - reg->last_sweep < 1 && !reg->sweep_more)
        return 0;
    reg->last_sweep = now;
    n = upload_sweep_due(reg->opts.statedir, reg->opts.upload_expiry, interval, SWEEP_BUDGET_MS,
                         discard_staged, reg->store, &more);
    reg->sweep_more = more;
    if (n > 0)
        log_info("removed %d expired upload session(s); %llu open", n,
                 (unsigned long long)upload_open_count());
    return more;
}

static void forget(struct registry *reg, struct upload *u)
{
    if (u->staged || u->nchunks) {
        int rc = reg->store->ops->upload_discard(reg->store, u->id);

        if (rc != STORE_OK && rc != STORE_NOT_FOUND)
            log_warn("upload %s: staged chunks not removed: %s", u->id,
                     reg->store->ops->errmsg(reg->store));
    }
    upload_remove(u);
}

/* A session file in statedir could not be made, read or saved (errno e):
 * says why, 507 when the disk is full (nothing to retry until space is
 * freed), else 500. The session on disk is as it was before the request. */
static void state_fail(struct registry *reg, struct response *resp, const char *what,
                       const char *id, int e)
{
    log_error("upload %s: %s in %s/uploads: %s", id ? id : "(new)", what, reg->opts.statedir,
              strerror(e));
    resp_error(resp, e == ENOSPC || e == EDQUOT ? OCI_NO_SPACE : OCI_INTERNAL, what, strerror(e));
}

static void session_headers(struct response *resp, const struct upload *u)
{
    resp_header(resp, "Location", "/v2/%s/blobs/uploads/%s", u->name, u->id);
    resp_header(resp, "Range", "0-%llu", (unsigned long long)(u->offset ? u->offset - 1 : 0));
    resp_header(resp, "Docker-Upload-UUID", "%s", u->id);
}

static void accepted(struct response *resp, const struct upload *u)
{
    resp_status(resp, 202);
    session_headers(resp, u);
    resp_header(resp, "Content-Length", "0");
    resp_finish(resp);
}

/* Loads the session named in the URL. On failure it has answered and returns -1. */
static int session_open(struct registry *reg, struct response *resp, const struct route *rt,
                        struct upload *u)
{
    int rc;

    if (!upload_id_valid(rt->ref)) {
        resp_error(resp, OCI_BLOB_UPLOAD_UNKNOWN, "unknown upload session", NULL);
        return -1;
    }
    rc = upload_open(reg->opts.statedir, rt->ref, u);
    if (rc == UPLOAD_NOT_FOUND) {
        resp_error(resp, OCI_BLOB_UPLOAD_UNKNOWN, "unknown upload session", NULL);
        return -1;
    }
    if (rc == UPLOAD_BUSY) {
        resp_error(resp, OCI_RANGE_INVALID, "another request is writing to this upload session", NULL);
        return -1;
    }
    if (rc != UPLOAD_OK) {
        state_fail(reg, resp, "cannot load upload session", rt->ref, errno);
        return -1;
    }
    if (strcmp(u->name, rt->name) != 0) {
        upload_close(u);
        resp_error(resp, OCI_BLOB_UPLOAD_UNKNOWN, "upload session belongs to another repository", NULL);
        return -1;
    }
    if (time(NULL) - u->created > reg->opts.upload_expiry) {
        forget(reg, u);
        upload_close(u);
        resp_error(resp, OCI_BLOB_UPLOAD_UNKNOWN, "upload session expired", NULL);
        return -1;
    }
    return 0;
}

/* Checks Content-Range (if any) against the session offset. On failure it has
 * answered (416 with the current range, as the spec asks) and returns -1. */
static int check_content_range(struct request *req, struct response *resp, const struct upload *u)
{
    const char *cr = req_header(req, "HTTP_CONTENT_RANGE");
    uint64_t start, end;

    if (!cr || !*cr)
        return 0;
    if (content_range_parse(cr, &start, &end) < 0) {
        resp_error(resp, OCI_BLOB_UPLOAD_INVALID, "malformed Content-Range", cr);
        return -1;
    }
    if (start != u->offset) {
        session_headers(resp, u);
        resp_error(resp, OCI_RANGE_INVALID, "chunk out of order: it must start at the current offset", cr);
        return -1;
    }
    if (req->content_length >= 0 && (uint64_t)req->content_length != end - start + 1) {
        resp_error(resp, OCI_BLOB_UPLOAD_INVALID, "Content-Range and Content-Length disagree", cr);
        return -1;
    }
    return 0;
}

/* The request body as a store_read_cb, hashing as it goes. The first bytes
 * were read ahead (so an empty body never reaches the store). */
struct body_src {
    struct request *req;
    struct hasher hash;
    const char *pre;
    size_t pre_len;
    uint64_t total;
    int client_error;
};

static ssize_t body_read(void *ctx, char *p, size_t n)
{
    struct body_src *s = ctx;
    ssize_t r;

    if (s->pre_len) {
        r = (ssize_t)(n < s->pre_len ? n : s->pre_len);
        memcpy(p, s->pre, (size_t)r);
        s->pre += r;
        s->pre_len -= (size_t)r;
    } else {
        r = req_read(s->req, p, n);
        if (r == 0 && s->req->content_length >= 0 &&
            s->req->body_read != (uint64_t)s->req->content_length)
            r = -1;   /* the body ended before Content-Length bytes */
        if (r < 0) {
            s->client_error = 1;
            return -1;
        }
    }
    hasher_update(&s->hash, p, (size_t)r);
    s->total += (uint64_t)r;
    return r;
}

/* Appends the request body (possibly empty) to the session. On failure it has
 * answered and returns -1; the session is unchanged then. */
static int append_body(struct registry *reg, struct request *req, struct response *resp,
                       struct upload *u, const struct digest *whole)
{
    struct store *st = reg->store;
    char pre[PREREAD];
    struct body_src src = { .req = req, .hash = u->hash };
    struct store_chunk c;
    ssize_t r;
    int rc;

    r = req_read(req, pre, sizeof pre);
    if (r == 0 && req->content_length >= 0 && req->body_read != (uint64_t)req->content_length)
        r = -1;
    if (r < 0) {
        resp_error(resp, OCI_BLOB_UPLOAD_INVALID, "request body ended early", NULL);
        return -1;
    }
    if (r == 0)
        return 0;
    src.pre = pre;
    src.pre_len = (size_t)r;
    if (upload_mark_staged(u) < 0) {
        state_fail(reg, resp, "cannot mark upload session", u->id, errno);
        return -1;
    }
    rc = st->ops->chunk_put(st, u->id, (unsigned)u->nchunks, u->offset,
                            u->offset == 0 && u->nchunks == 0 ? whole : NULL, body_read, &src, &c);
    if (rc != STORE_OK) {
        if (src.client_error)
            resp_error(resp, OCI_BLOB_UPLOAD_INVALID, "request body ended early", NULL);
        else
            h_store_fail(reg, resp, rc == STORE_ABORTED ? STORE_ERROR : rc, OCI_BLOB_UPLOAD_UNKNOWN,
                         "upload chunk");
        return -1;
    }
    if (c.size != src.total) {
        log_error("upload %s: the node stored %llu bytes of a %llu-byte chunk", u->id,
                  (unsigned long long)c.size, (unsigned long long)src.total);
        resp_error(resp, OCI_INTERNAL, "storage error: chunk size mismatch", NULL);
        return -1;
    }
    u->hash = src.hash;
    u->offset += c.size;
    upload_add_chunk(u, &c);
    if (upload_save(u) < 0) {
        state_fail(reg, resp, "cannot save upload session", u->id, errno);
        return -1;
    }
    return 0;
}

static int to_hasher(void *ctx, const char *p, size_t n)
{
    hasher_update(ctx, p, n);
    return 0;
}

/* The session as it was before a PUT appended its body: a PUT that fails
 * for the store's sake leaves the session as it found it, so the client's
 * retry of the same PUT (body included) finds the offset it expects. */
struct upload_mark {
    uint64_t offset;
    struct hasher hash;
    size_t nchunks;
};

static void upload_mark(const struct upload *u, struct upload_mark *m)
{
    m->offset = u->offset;
    m->hash = u->hash;
    m->nchunks = u->nchunks;
}

static void upload_rewind(struct upload *u, const struct upload_mark *m)
{
    if (u->nchunks == m->nchunks)
        return;
    u->offset = m->offset;
    u->hash = m->hash;
    u->nchunks = m->nchunks;   /* the staged chunk past it is replaced by the retry's */
    if (upload_save(u) < 0)
        log_error("upload %s: cannot save the session rewound after a failed PUT: %s", u->id,
                  strerror(errno));
}

/* Verifies the session's content against want and makes it the blob. Always
 * answers; the session is gone afterwards unless a store failure makes a
 * retry of the PUT worthwhile: then it is rewound to before (NULL: kept as
 * it is). A one-shot POST ?digest= (oneshot) is never kept: no client can
 * retry it by session. */
static void complete(struct registry *reg, struct response *resp, struct upload *u,
                     const struct digest *want, int oneshot, const struct upload_mark *before)
{
    struct store *st = reg->store;
    struct store_chunk content;
    struct digest got;
    struct hasher h;
    char ds[DIGEST_STR_MAX], gs[DIGEST_STR_MAX];
    int rc;

    rc = st->ops->chunks_join(st, u->chunks, u->nchunks, &content);
    if (rc != STORE_OK) {
        h_store_fail(reg, resp, rc, OCI_BLOB_UPLOAD_UNKNOWN, "upload join");
        goto failed;
    }
    if (want->alg == u->hash.alg) {
        h = u->hash;
    } else {
        /* Hashed with another algorithm while streaming: read it back once. */
        hasher_init(&h, want->alg);
        rc = st->ops->content_read(st, &content, to_hasher, &h);
        if (rc != STORE_OK) {
            h_store_fail(reg, resp, rc, OCI_BLOB_UPLOAD_UNKNOWN, "upload re-hash");
            goto failed;
        }
    }
    hasher_final(&h, &got);
    digest_str(want, ds);
    if (!digest_equal(&got, want)) {
        forget(reg, u);
        resp_error(resp, OCI_DIGEST_INVALID, "the uploaded content does not match the digest",
                   digest_str(&got, gs));
        return;
    }
    rc = st->ops->blob_commit(st, u->name, want, &content);
    if (rc != STORE_OK) {
        h_store_fail(reg, resp, rc, OCI_BLOB_UPLOAD_UNKNOWN, "upload commit");
        goto failed;
    }
    forget(reg, u);
    metrics_upload_completed();
    resp_status(resp, 201);
    resp_header(resp, "Location", "/v2/%s/blobs/%s", u->name, ds);
    resp_header(resp, "Docker-Content-Digest", "%s", ds);
    resp_header(resp, "Content-Length", "0");
    resp_finish(resp);
    return;
failed:
    if (oneshot)
        forget(reg, u);
    else if (before)
        upload_rewind(u, before);
}

/* ?mount=&from=: 1 when answered (mounted, or a store failure), 0 to fall
 * back to an ordinary upload session as the spec asks. */
static int try_mount(struct registry *reg, struct response *resp, const struct route *rt,
                     const char *mount, const char *from)
{
    struct store *st = reg->store;
    struct digest d;
    char ds[DIGEST_STR_MAX];
    int rc;

    if (digest_parse(mount, &d) != DIGEST_PARSE_OK)
        return 0;
    if (from && *from && !name_valid(from))
        return 0;
    rc = st->ops->blob_mount(st, rt->name, from && *from ? from : NULL, &d);
    if (rc == STORE_NOT_FOUND)
        return 0;
    if (rc != STORE_OK) {
        h_store_fail(reg, resp, rc, OCI_BLOB_UNKNOWN, "blob mount");
        return 1;
    }
    digest_str(&d, ds);
    resp_status(resp, 201);
    resp_header(resp, "Location", "/v2/%s/blobs/%s", rt->name, ds);
    resp_header(resp, "Docker-Content-Digest", "%s", ds);
    resp_header(resp, "Content-Length", "0");
    resp_finish(resp);
    return 1;
}

void h_upload_post(struct registry *reg, struct request *req, struct response *resp,
                   const struct route *rt)
{
    char *mount = query_get(req->query, "mount");
    char *from = query_get(req->query, "from");
    char *dig = query_get(req->query, "digest");
    char *alg = query_get(req->query, "digest-algorithm");
    enum digest_alg a = DIGEST_SHA256;
    struct digest want;
    struct upload u;

    if (mount && try_mount(reg, resp, rt, mount, from))
        goto out;
    if (dig) {
        if (h_digest(resp, dig, &want) < 0)
            goto out;
        a = want.alg;
    } else if (alg && *alg && digest_alg_parse(alg, &a) < 0) {
        resp_error(resp, OCI_DIGEST_INVALID, "unsupported digest-algorithm (sha256 and sha512 are)", alg);
        goto out;
    }
    switch (upload_create(reg->opts.statedir, rt->name, a, reg->opts.max_upload_sessions, &u)) {
    case UPLOAD_OK:
        break;
    case UPLOAD_FULL:
        metrics_upload_refused(METRICS_REFUSED_SESSIONS);
        resp_header(resp, "Retry-After", SESSIONS_RETRY_AFTER);
        resp_error(resp, OCI_TOOMANYREQUESTS,
                   "too many upload sessions are open; retry once some complete or expire",
                   "max_upload_sessions");
        goto out;
    default:
        state_fail(reg, resp, "cannot create upload session", NULL, errno);
        goto out;
    }
    metrics_upload_started();
    if (dig) {
        /* Monolithic upload: the whole blob is this request's body. */
        if (append_body(reg, req, resp, &u, &want) == 0)
            complete(reg, resp, &u, &want, 1, NULL);
        else
            forget(reg, &u);
    } else {
        accepted(resp, &u);
    }
    upload_close(&u);
out:
    free(mount);
    free(from);
    free(dig);
    free(alg);
}

void h_upload_status(struct registry *reg, struct request *req, struct response *resp,
                     const struct route *rt)
{
    struct upload u;

    if (session_open(reg, resp, rt, &u) < 0)
        return;
    resp_status(resp, 204);
    session_headers(resp, &u);
    resp_header(resp, "Content-Length", "0");
    resp_finish(resp);
    upload_close(&u);
}

void h_upload_patch(struct registry *reg, struct request *req, struct response *resp,
                    const struct route *rt)
{
    struct upload u;

    if (session_open(reg, resp, rt, &u) < 0)
        return;
    if (check_content_range(req, resp, &u) == 0 && append_body(reg, req, resp, &u, NULL) == 0)
        accepted(resp, &u);
    upload_close(&u);
}

void h_upload_put(struct registry *reg, struct request *req, struct response *resp,
                  const struct route *rt)
{
    char *dig = query_get(req->query, "digest");
    struct digest want;
    struct upload u;

    if (!dig) {
        resp_error(resp, OCI_DIGEST_INVALID, "the digest query parameter is required to complete an upload", NULL);
        return;
    }
    if (h_digest(resp, dig, &want) == 0 && session_open(reg, resp, rt, &u) == 0) {
        struct upload_mark before;
        upload_mark(&u, &before);
        if (check_content_range(req, resp, &u) == 0 && append_body(reg, req, resp, &u, &want) == 0)
            complete(reg, resp, &u, &want, 0, &before);
        upload_close(&u);
    }
    free(dig);
}

void h_upload_delete(struct registry *reg, struct request *req, struct response *resp,
                     const struct route *rt)
{
    struct upload u;

    if (session_open(reg, resp, rt, &u) < 0)
        return;
    forget(reg, &u);
    upload_close(&u);
    resp_status(resp, 204);
    resp_header(resp, "Content-Length", "0");
    resp_finish(resp);
}
