/* h_referrers: GET /v2/<name>/referrers/<digest>[?artifactType=], an image
 * index of the manifests in name whose subject is <digest>. */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "core/xjson.h"
#include "core/registry/handlers.h"
#include "core/registry/h_common.h"
#include "core/log.h"
#include "core/query.h"
#include "oci/manifest.h"

/* Adds the descriptor of referrer d to arr, if it still exists and passes the filter. */
static int add_referrer(struct registry *reg, const char *name, const struct digest *d,
                        const char *filter, json_object *arr)
{
    struct store *st = reg->store;
    struct manifest m;
    struct buf b;
    char *err = NULL;
    int rc;

    buf_init(&b, reg->opts.max_manifest_size);
    rc = st->ops->manifest_get(st, name, d, &b);
    if (rc == STORE_OK && manifest_parse(buf_cstr(&b), b.len, NULL, &m, &err) == 0) {
        if (!filter || (m.artifact_type && strcmp(m.artifact_type, filter) == 0))
            xjson_push(arr, manifest_referrer_descriptor(&m, d, b.len));
        manifest_free(&m);
    }
    free(err);
    buf_free(&b);
    /* A referrer deleted since it was listed is simply not a referrer any more. */
    return rc == STORE_NOT_FOUND ? STORE_OK : rc;
}

void h_referrers(struct registry *reg, struct request *req, struct response *resp,
                 const struct route *rt)
{
    struct store *st = reg->store;
    struct digest subject, *refs = NULL;
    char *filter = query_get(req->query, "artifactType");
    json_object *idx = NULL, *arr;
    size_t n = 0;
    int rc;

    if (h_digest(resp, rt->ref, &subject) < 0)
        goto out;
    rc = st->ops->referrers(st, rt->name, &subject, &refs, &n);
    if (rc != STORE_OK) {
        h_store_fail(reg, resp, rc, OCI_NAME_UNKNOWN, "referrers");
        goto out;
    }
    if (filter && !*filter) {
        free(filter);
        filter = NULL;
    }
    idx = xjson_object();
    arr = xjson_array();
    xjson_set(idx, "schemaVersion", xjson_int(2));
    xjson_set(idx, "mediaType", xjson_string(MT_OCI_INDEX));
    xjson_set(idx, "manifests", arr);
    for (size_t i = 0; i < n; i++) {
        rc = add_referrer(reg, rt->name, &refs[i], filter, arr);
        if (rc != STORE_OK) {
            h_store_fail(reg, resp, rc, OCI_NAME_UNKNOWN, "referrer read");
            goto out;
        }
    }
    if (filter)
        resp_header(resp, "OCI-Filters-Applied", "artifactType");
    h_json(resp, 200, MT_OCI_INDEX,
           json_object_to_json_string_ext(idx, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
out:
    json_object_put(idx);
    free(refs);
    free(filter);
}
