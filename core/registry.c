/* registry: method dispatch for the distribution API, and the helpers every
 * handler shares. */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "core/registry.h"
#include "core/handlers.h"
#include "core/log.h"
#include "core/names.h"
#include "core/query.h"
#include "core/xalloc.h"
#include "oci/layout.h"

void registry_init(struct registry *reg, const struct registry_opts *opts, struct store *store)
{
    memset(reg, 0, sizeof *reg);
    reg->opts = *opts;
    reg->store = store;
}

static int is(const char *method, const char *m)
{
    return strcmp(method, m) == 0;
}

static void method_not_allowed(struct response *resp, const char *allow)
{
    resp_header(resp, "Allow", "%s", allow);
    resp_error(resp, OCI_METHOD, "method not allowed on this endpoint", NULL);
}

/* Writes are refused as a whole when readonly is set (405, as distribution
 * does in its read-only mode). Returns 1 when the request was refused. */
static int refuse_write(struct registry *reg, struct request *req, struct response *resp)
{
    if (!reg->opts.readonly || is(req->method, "GET") || is(req->method, "HEAD"))
        return 0;
    resp_error(resp, OCI_UNSUPPORTED, "this registry is read-only", NULL);
    return 1;
}

static void base(struct request *req, struct response *resp)
{
    if (!is(req->method, "GET") && !is(req->method, "HEAD")) {
        method_not_allowed(resp, "GET, HEAD");
        return;
    }
    h_json(resp, 200, "application/json", "{}");
}

static void dispatch(struct registry *reg, struct request *req, struct response *resp,
                     const struct route *rt)
{
    const char *m = req->method;
    int get = is(m, "GET") || is(m, "HEAD");

    switch (rt->kind) {
    case ROUTE_BLOB:
        if (get) h_blob_get(reg, req, resp, rt);
        else if (is(m, "DELETE")) h_blob_delete(reg, req, resp, rt);
        else method_not_allowed(resp, "GET, HEAD, DELETE");
        return;
    case ROUTE_UPLOAD_START:
        if (is(m, "POST")) h_upload_post(reg, req, resp, rt);
        else method_not_allowed(resp, "POST");
        return;
    case ROUTE_UPLOAD:
        if (get) h_upload_status(reg, req, resp, rt);
        else if (is(m, "PATCH")) h_upload_patch(reg, req, resp, rt);
        else if (is(m, "PUT")) h_upload_put(reg, req, resp, rt);
        else if (is(m, "DELETE")) h_upload_delete(reg, req, resp, rt);
        else method_not_allowed(resp, "GET, HEAD, PATCH, PUT, DELETE");
        return;
    case ROUTE_MANIFEST:
        if (get) h_manifest_get(reg, req, resp, rt);
        else if (is(m, "PUT")) h_manifest_put(reg, req, resp, rt);
        else if (is(m, "DELETE")) h_manifest_delete(reg, req, resp, rt);
        else method_not_allowed(resp, "GET, HEAD, PUT, DELETE");
        return;
    case ROUTE_TAGS:
        if (get) h_tags_list(reg, req, resp, rt);
        else method_not_allowed(resp, "GET, HEAD");
        return;
    case ROUTE_REFERRERS:
        if (get) h_referrers(reg, req, resp, rt);
        else method_not_allowed(resp, "GET, HEAD");
        return;
    default:
        resp_error(resp, OCI_NOT_FOUND, "no such API endpoint", NULL);
        return;
    }
}

static void name_invalid(struct response *resp, const struct route *rt)
{
    /* "ipfs/Qm..." fails the grammar for its upper case: say what works */
    if (layout_name_is_cidv0(rt->name))
        resp_error(resp, OCI_NAME_INVALID, "CIDv0 (Qm...) is not a valid repository name: use the CIDv1 base32 form of the CID (ipfs cid base32 <cid>)",
                   rt->name);
    else
        resp_error(resp, OCI_NAME_INVALID, "invalid repository name",
                   "names are lower-case components [a-z0-9] separated by '.', '_', '__', '-' or '/', at most 255 characters");
}

/* ipfs/<cid>... and ipns/<name>... are OCI image layouts on IPFS: served by
 * the layout store, read-only. The handlers use reg->store, so they get a
 * view of the registry whose store is the layout store. Returns 1 if rt
 * named a layout (and the request was answered). */
static int layout_dispatch(struct registry *reg, struct request *req, struct response *resp,
                           const struct route *rt)
{
    struct layout_name ln;
    if (!layout_name_parse(rt->name, &ln))
        return 0;
    layout_name_free(&ln);
    if (!reg->layout_store) {
        resp_error(resp, OCI_NAME_UNKNOWN, "this registry does not serve ipfs/ and ipns/ names", rt->name);
    } else if (!is(req->method, "GET") && !is(req->method, "HEAD")) {
        resp_error(resp, OCI_UNSUPPORTED, "OCI image layouts on IPFS are read-only", rt->name);
    } else {
        struct registry view = *reg;
        view.store = reg->layout_store;
        dispatch(&view, req, resp, rt);
    }
    return 1;
}

void registry_handle(struct registry *reg, struct request *req, struct response *resp)
{
    struct route rt;

    resp->head_only = is(req->method, "HEAD");
    resp_header(resp, "Docker-Distribution-API-Version", "registry/2.0");
    if (reg->opts.metrics_path && *reg->opts.metrics_path &&
        strcmp(req->path, reg->opts.metrics_path) == 0) {
        req->route = ROUTE_P2P;
        if (is(req->method, "GET") || is(req->method, "HEAD")) h_metrics(reg, req, resp);
        else method_not_allowed(resp, "GET, HEAD");
        return;
    }
    route_parse(req->path, &rt);
    req->route = rt.kind;
    switch (rt.kind) {
    case ROUTE_NOT_FOUND:
        resp_error(resp, OCI_NOT_FOUND, "no such API endpoint", NULL);
        break;
    case ROUTE_BASE:
        base(req, resp);
        break;
    case ROUTE_CATALOG:
        if (is(req->method, "GET") || is(req->method, "HEAD")) h_catalog(reg, req, resp);
        else method_not_allowed(resp, "GET, HEAD");
        break;
    case ROUTE_P2P:
        if (is(req->method, "GET") || is(req->method, "HEAD")) h_p2p(reg, req, resp, rt.ref);
        else method_not_allowed(resp, "GET, HEAD");
        break;
    default:
        if (!rt.name_valid)
            name_invalid(resp, &rt);
        else if (layout_dispatch(reg, req, resp, &rt))
            ;
        else if (!refuse_write(reg, req, resp))
            dispatch(reg, req, resp, &rt);
        break;
    }
    route_free(&rt);
}

void h_store_fail(struct registry *reg, struct response *resp, int rc,
                  enum oci_err not_found, const char *what)
{
    const char *msg = reg->store->ops->errmsg(reg->store);

    switch (rc) {
    case STORE_NOT_FOUND:
        log_debug("%s: not found: %s", what, msg);
        resp_error(resp, not_found, oci_err_default_message(not_found), NULL);
        return;
    case STORE_UNAVAILABLE:
        log_warn("%s: IPFS node unavailable: %s", what, msg);
        resp_error(resp, OCI_UNAVAILABLE, "the IPFS node behind this registry is unavailable; retry later", msg);
        return;
    case STORE_ABORTED:
        log_info("%s: aborted: %s", what, msg);
        resp_abort(resp);
        return;
    case STORE_TOO_LARGE:
        resp_error(resp, OCI_TOO_LARGE, "stored content is larger than this registry's limit", NULL);
        return;
    case STORE_INVALID:
        log_warn("%s: %s", what, msg);
        resp_error(resp, not_found, msg, NULL);
        return;
    default:
        log_error("%s: %s", what, msg);
        if (oci_msg_no_space(msg))
            resp_error(resp, OCI_NO_SPACE, "the IPFS node behind this registry is out of disk space", msg);
        else
            resp_error(resp, OCI_INTERNAL, "storage error", msg);
        return;
    }
}

int h_digest(struct response *resp, const char *s, struct digest *d)
{
    switch (digest_parse(s ? s : "", d)) {
    case DIGEST_PARSE_OK:
        return 0;
    case DIGEST_PARSE_UNSUPPORTED:
        resp_error(resp, OCI_DIGEST_INVALID, "unsupported digest algorithm (sha256 and sha512 are)", s);
        return -1;
    default:
        resp_error(resp, OCI_DIGEST_INVALID, "invalid digest", s);
        return -1;
    }
}

void h_json(struct response *resp, int status, const char *content_type, const char *json)
{
    size_t n = strlen(json);

    resp_status(resp, status);
    resp_header(resp, "Content-Type", "%s", content_type);
    resp_header(resp, "Content-Length", "%zu", n);
    if (n)
        resp_write(resp, json, n);
    resp_finish(resp);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ?n= as a page size: absent = everything; a malformed or negative value is
 * treated as absent rather than refused, as distribution does. */
static int page_size(const char *query, size_t *n)
{
    char *v = query_get(query, "n");
    char *end = NULL;
    unsigned long long x;
    int ok = 0;

    if (v && *v && *v != '-') {
        x = strtoull(v, &end, 10);
        if (end && *end == '\0') {
            *n = (size_t)x;
            ok = 1;
        }
    }
    free(v);
    return ok;
}

void h_paginate(struct request *req, struct response *resp, char **names, size_t n,
                const char *key, const char *name, const char *base)
{
    char *last = query_get(req->query, "last");
    size_t limit = 0, first = 0, count;
    int limited = page_size(req->query, &limit);
    json_object *o = json_object_new_object(), *arr = json_object_new_array();

    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    if (last && *last)
        while (first < n && strcmp(names[first], last) <= 0)
            first++;
    count = n - first;
    if (limited && limit < count)
        count = limit;
    for (size_t i = first; i < first + count; i++)
        json_object_array_add(arr, json_object_new_string(names[i]));
    if (name)
        json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, key, arr);
    if (limited && count > 0 && first + count < n) {
        char *enc = pct_encode(names[first + count - 1]);
        resp_header(resp, "Link", "<%s?last=%s&n=%zu>; rel=\"next\"", base, enc, limit);
        free(enc);
    }
    h_json(resp, 200, "application/json",
           json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    free(last);
}
