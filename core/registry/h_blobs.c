/* h_blobs: GET/HEAD and DELETE of /v2/<name>/blobs/<digest>. Bytes stream
 * from the store straight into the response; nothing is held whole. */
#include <string.h>
#include <unistd.h>
#include "core/registry/handlers.h"
#include "core/registry/h_common.h"
#include "core/blobfile.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/range.h"

static int to_response(void *ctx, const char *p, size_t n)
{
    return resp_write(ctx, p, n);
}

#define BLOB_TYPE "application/octet-stream"

/* Hands the bytes of blob cid to someone else, so this worker is free at
 * once: an X-Accel-Redirect to the front server's internal location (nginx,
 * caddy's handle_response), which proxies the Kubo gateway's /ipfs/<cid>
 * and its Range answers itself; or a 307 to a gateway URL. nginx keeps
 * almost none of our headers across its internal redirect, so the digest
 * and type ride in the URI and the location adds them back (a digest is
 * [a-z0-9+._-]+:[a-zA-Z0-9=_-]+: nothing in it needs escaping in a query).
 * HTTP_DONE when it answered, HTTP_DECLINED when the caller should stream. */
static enum http_try blob_offload(struct registry *reg, struct response *resp, const char *cid,
                        const char *ds)
{
    const char *accel = reg->opts.accel_redirect, *tmpl = reg->opts.blob_redirect;
    if (!cid[0])
        return HTTP_DECLINED;   /* a backend that cannot name the content: stream it */
    if (accel && *accel) {
        resp_status(resp, 200);
        resp_header(resp, "X-Accel-Redirect", "%s%s?digest=%s&type=" BLOB_TYPE, accel, cid, ds);
        resp_header(resp, "Content-Type", BLOB_TYPE);
        resp_header(resp, "Content-Length", "0");
        resp_finish(resp);
        return HTTP_DONE;
    }
    if (tmpl && *tmpl) {
        const char *at = strstr(tmpl, "{cid}");
        if (!at)
            return HTTP_DECLINED;   /* conf/ refuses such a template; never redirect to a wrong URL */
        resp_status(resp, 307);
        resp_header(resp, "Location", "%.*s%s%s", (int)(at - tmpl), tmpl, cid, at + 5);
        resp_header(resp, "Content-Length", "0");
        resp_finish(resp);
        return HTTP_DONE;
    }
    return HTTP_DECLINED;
}

/* Hands a blob file to the front server, which sends it with sendfile and
 * answers Range itself: nginx's and caddy's internal location (alias of
 * blobdir; the digest rides in the query as for blob_offload), or
 * lighttpd's X-Sendfile, which keeps our headers. Range is left to the
 * front server; a 416 and HEAD were answered before. HTTP_DECLINED when
 * no front server is configured to do it. */
static enum http_try blobfile_offload(struct registry *reg, struct response *resp, const struct digest *d,
                                      const char *ds, uint64_t size)
{
    char rel[BLOBFILE_REL_MAX];
    const char *accel = reg->opts.blobfile_accel;
    if (!reg->opts.blobdir || !*reg->opts.blobdir)
        return HTTP_DECLINED;
    blobfile_rel(d, rel);
    if (accel && *accel) {
        resp_status(resp, 200);
        resp_header(resp, "X-Accel-Redirect", "%s%s?digest=%s", accel, rel, ds);
        resp_header(resp, "Content-Type", BLOB_TYPE);
        resp_header(resp, "Content-Length", "0");
        resp_finish(resp);
        return HTTP_DONE;
    }
    if (reg->opts.blobfile_sendfile) {
        resp_status(resp, 200);
        resp_header(resp, "ETag", "\"%s\"", ds);
        resp_header(resp, "Accept-Ranges", "bytes");
        resp_header(resp, "Content-Type", BLOB_TYPE);
        resp_header(resp, "Content-Length", "%llu", (unsigned long long)size);
        resp_header(resp, "X-Sendfile", "%s/%s", reg->opts.blobdir, rel);
        resp_finish(resp);
        return HTTP_DONE;
    }
    return HTTP_DECLINED;
}

/* The zero-copy path: the store hands over a socket positioned at the
 * bytes and the edge splices them into the FastCGI connection, so the
 * worker never copies them (per GiB its CPU drops by more than half; see
 * docs/benchmarks.md). Only for stores that need not hash what they serve:
 * one that verifies on read keeps the streaming path. HTTP_DONE when the
 * body went out; HTTP_DECLINED when nothing of it went out: the caller
 * streams it instead; HTTP_FAILED when the response is answered otherwise:
 * aborted partway, or an error when the node answered that it cannot serve
 * the bytes (down, or its gateway gave up retrieving them: a 5xx after its
 * RetrievalTimeout, 30 s by default): asking again by the streaming path
 * would only wait as long once more. */
static enum http_try blob_splice(struct registry *reg, struct response *resp, const struct store_blob *b,
                                 const char *ds, uint64_t start, uint64_t len)
{
    static int told;   /* the first refusal per process is worth an info line */
    struct store *st = reg->store;
    int fd;
    /* a blob file was verified once, before it was put in place */
    if (!st->ops->blob_open || (st->ops->blob_verify && !b->file) || !resp_can_splice(resp))
        return HTTP_DECLINED;
    int orc = st->ops->blob_open(st, b, start, len, &fd);
    if (orc == STORE_UNAVAILABLE || orc == STORE_NOT_FOUND) {
        h_store_fail(reg, resp, orc, OCI_BLOB_UNKNOWN, "blob read");
        return HTTP_FAILED;
    }
    if (orc != STORE_OK) {
        if (told)
            log_debug("blob %s: %s; streaming it instead", ds, st->ops->errmsg(st));
        else
            log_info("blob %s: %s; streaming it instead (further cases at debug level)", ds,
                     st->ops->errmsg(st));
        told = 1;
        return HTTP_DECLINED;
    }
    uint64_t done = 0, sent;
    enum http_try rc;
    for (;;) {
        rc = resp_splice(resp, fd, len - done, &sent);
        close(fd);
        done += sent;
        if (rc != HTTP_SHORT && !(rc == HTTP_DECLINED && done > 0))
            break;
        /* The node's stream ended or stalled partway (under load Kubo's
         * gateway cuts a response whose reader fell behind: its
         * Gateway.RetrievalTimeout): what went out is good, so ask again
         * for the rest, as long as each try moves the body on. */
        if (sent == 0) {
            log_error("blob %s: the node's stream stopped again at %llu of %llu bytes without progress; "
                      "aborting the response", ds, (unsigned long long)(start + done),
                      (unsigned long long)(start + len));
            resp_abort(resp);
            return HTTP_FAILED;
        }
        log_warn("blob %s: the node's stream stopped at %llu of %llu bytes; resuming from there", ds,
                 (unsigned long long)(start + done), (unsigned long long)(start + len));
        metrics_kubo_gateway_resume();
        orc = st->ops->blob_open(st, b, start + done, len - done, &fd);
        if (orc != STORE_OK) {
            log_error("blob %s: resuming at %llu: %s; aborting the response", ds,
                      (unsigned long long)(start + done), st->ops->errmsg(st));
            resp_abort(resp);
            return HTTP_FAILED;
        }
    }
    if (rc == HTTP_DECLINED)
        log_info("blob %s: the zero-copy send failed before its first byte; streaming it instead", ds);
    return rc;
}

void h_blob_get(struct registry *reg, struct request *req, struct response *resp,
                const struct route *rt)
{
    struct store *st = reg->store;
    struct digest d;
    char ds[DIGEST_STR_MAX];
    /* zeroed: only the blob-files store sets b.file; left to the stack, a
     * stray non-zero file turned off the gateway offload (and would skip
     * blob_verify) whenever blob_stat did not come from the metadata cache */
    struct store_blob b = { 0 };
    uint64_t size, start = 0, end = 0;
    int rc;

    if (h_digest(resp, rt->ref, &d) < 0)
        return;
    rc = st->ops->blob_stat(st, rt->name, &d, &b);
    if (rc != STORE_OK) {
        h_store_fail(reg, resp, rc, OCI_BLOB_UNKNOWN, "blob stat");
        return;
    }
    size = b.size;
    digest_str(&d, ds);
    resp_header(resp, "Docker-Content-Digest", "%s", ds);
    int rr = range_parse(req_header(req, "HTTP_RANGE"), size, &start, &end);
    if (b.file && !resp->head_only && rr != RANGE_UNSATISFIABLE &&
        blobfile_offload(reg, resp, &d, ds, size) == HTTP_DONE)
        return;
    /* The gateway answers Range itself; an unsatisfiable one gets the
     * registry's own 416 below. Bytes the store does not vouch for are
     * checked first: nobody hashes them on the offloaded path. */
    if (!b.file && !resp->head_only && size > 0 && rr != RANGE_UNSATISFIABLE && b.cid[0] &&
        ((reg->opts.accel_redirect && *reg->opts.accel_redirect) ||
         (reg->opts.blob_redirect && *reg->opts.blob_redirect))) {
        if (st->ops->blob_verify && (rc = st->ops->blob_verify(st, &b)) != STORE_OK) {
            h_store_fail(reg, resp, rc, OCI_BLOB_UNKNOWN, "blob verify");
            return;
        }
        if (blob_offload(reg, resp, b.cid, ds) == HTTP_DONE)
            return;
    }
    resp_header(resp, "ETag", "\"%s\"", ds);
    resp_header(resp, "Accept-Ranges", "bytes");
    switch (rr) {
    case RANGE_UNSATISFIABLE:
        resp_header(resp, "Content-Range", "bytes */%llu", (unsigned long long)size);
        resp_error(resp, OCI_RANGE_INVALID, "requested range not satisfiable", NULL);
        return;
    case RANGE_OK:
        resp_status(resp, 206);
        resp_header(resp, "Content-Range", "bytes %llu-%llu/%llu", (unsigned long long)start,
                    (unsigned long long)end, (unsigned long long)size);
        break;
    default:
        resp_status(resp, 200);
        start = 0;
        end = size ? size - 1 : 0;
        break;
    }
    if (st->ops->blob_verify && !b.file && (resp->head_only || start > 0 || end + 1 < size)) {
        /* neither a HEAD nor a part may vouch for bytes never checked */
        rc = st->ops->blob_verify(st, &b);
        if (rc != STORE_OK) {
            h_store_fail(reg, resp, rc, OCI_BLOB_UNKNOWN, "blob verify");
            return;
        }
    }
    resp_header(resp, "Content-Type", BLOB_TYPE);
    resp_header(resp, "Content-Length", "%llu", (unsigned long long)(size ? end - start + 1 : 0));
    if (resp->head_only || size == 0) {
        resp_finish(resp);
        return;
    }
    switch (blob_splice(reg, resp, &b, ds, start, end - start + 1)) {
    case HTTP_DONE:
        resp_finish(resp);
        return;
    case HTTP_FAILED:
    case HTTP_SHORT:   /* not returned: blob_splice resumes or aborts */
        return;   /* answered: aborted, or the node's refusal */
    case HTTP_DECLINED:
        break;    /* stream it */
    }
    rc = st->ops->blob_read(st, &b, start, end - start + 1, to_response, resp);
    if (rc != STORE_OK) {
        h_store_fail(reg, resp, rc, OCI_BLOB_UNKNOWN, "blob read");
        return;
    }
    if (resp->body_bytes != end - start + 1) {
        /* The node sent fewer bytes than it said the blob has: never let a
         * short body look complete. */
        resp_abort(resp);
        return;
    }
    resp_finish(resp);
}

void h_blob_delete(struct registry *reg, struct request *req, struct response *resp,
                   const struct route *rt)
{
    struct store *st = reg->store;
    struct digest d;
    int rc;

    if (h_digest(resp, rt->ref, &d) < 0)
        return;
    rc = st->ops->blob_unlink(st, rt->name, &d);
    if (rc != STORE_OK) {
        h_store_fail(reg, resp, rc, OCI_BLOB_UNKNOWN, "blob delete");
        return;
    }
    resp_status(resp, 202);
    resp_header(resp, "Content-Length", "0");
    resp_finish(resp);
}
