/* h_blobs: GET/HEAD and DELETE of /v2/<name>/blobs/<digest>. Bytes stream
 * from the store straight into the response; nothing is held whole. */
#include <string.h>
#include "core/handlers.h"
#include "core/range.h"

static int to_response(void *ctx, const char *p, size_t n)
{
    return resp_write(ctx, p, n);
}

void h_blob_get(struct registry *reg, struct request *req, struct response *resp,
                const struct route *rt)
{
    struct store *st = reg->store;
    struct digest d;
    char ds[DIGEST_STR_MAX];
    struct store_blob b;
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
    resp_header(resp, "ETag", "\"%s\"", ds);
    resp_header(resp, "Accept-Ranges", "bytes");
    switch (range_parse(req_header(req, "HTTP_RANGE"), size, &start, &end)) {
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
    if (st->ops->blob_verify && (resp->head_only || start > 0 || end + 1 < size)) {
        /* neither a HEAD nor a part may vouch for bytes never checked */
        rc = st->ops->blob_verify(st, &b);
        if (rc != STORE_OK) {
            h_store_fail(reg, resp, rc, OCI_BLOB_UNKNOWN, "blob verify");
            return;
        }
    }
    resp_header(resp, "Content-Type", "application/octet-stream");
    resp_header(resp, "Content-Length", "%llu", (unsigned long long)(size ? end - start + 1 : 0));
    if (resp->head_only || size == 0) {
        resp_finish(resp);
        return;
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
