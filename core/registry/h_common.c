/* h_common: the helpers every handler shares (answering a failed store
 * call, parsing a digest, a JSON body, paginated name lists). Handlers call
 * these and nothing else of the registry; registry.c calls the handlers. */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "core/xjson.h"
#include "core/registry/h_common.h"
#include "core/log.h"
#include "core/query.h"
#include "core/xalloc.h"

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
    json_object *o = xjson_object(), *arr = xjson_array();

    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    if (last && *last)
        while (first < n && strcmp(names[first], last) <= 0)
            first++;
    count = n - first;
    if (limited && limit < count)
        count = limit;
    for (size_t i = first; i < first + count; i++)
        xjson_push(arr, xjson_string(names[i]));
    if (name)
        xjson_set(o, "name", xjson_string(name));
    xjson_set(o, key, arr);
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
