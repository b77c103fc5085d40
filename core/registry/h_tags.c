/* h_tags: GET /v2/<name>/tags/list and GET /v2/_catalog, both sorted and
 * paginated with ?n= and ?last= (h_paginate). The catalog lists storage
 * mode's repositories and the layouts pushed under the key. */
#include <stdlib.h>
#include <json-c/json.h>
#include "core/registry/handlers.h"
#include "core/registry/h_common.h"
#include "core/layoutreg.h"
#include "core/xalloc.h"

void h_tags_list(struct registry *reg, struct request *req, struct response *resp,
                 const struct route *rt)
{
    struct store *st = reg->store;
    char **tags = NULL;
    char *base;
    size_t n = 0;
    int rc;

    rc = st->ops->tags_list(st, rt->name, &tags, &n);
    if (rc != STORE_OK) {
        h_store_fail(reg, resp, rc, OCI_NAME_UNKNOWN, "tags list");
        return;
    }
    base = xasprintf("/v2/%s/tags/list", rt->name);
    h_paginate(req, resp, tags, n, "tags", rt->name, base);
    free(base);
    strv_free(tags, n);
}

void h_catalog(struct registry *reg, struct request *req, struct response *resp, const struct route *rt)
{
    struct store *st = reg->store;
    (void)rt;
    char **names = NULL;
    size_t n = 0;
    int rc;

    rc = st->ops->catalog(st, &names, &n);
    if (rc != STORE_OK) {
        h_store_fail(reg, resp, rc, OCI_NAME_UNKNOWN, "catalog");
        return;
    }
    /* pushed layouts, as ipns/<key ID>/<path> (their status records) */
    const char *id = reg->layout_rw ? registry_key_id(reg) : "";
    if (*id) {
        json_object *list = layoutreg_list(reg->opts.statedir), *p;
        size_t nl = json_object_array_length(list);
        names = xrealloc(names, (n + nl + 1) * sizeof *names);
        for (size_t i = 0; i < nl; i++)
            if (json_object_object_get_ex(json_object_array_get_idx(list, i), "path", &p))
                names[n++] = xasprintf("ipns/%s/%s", id, json_object_get_string(p));
        json_object_put(list);
    }
    h_paginate(req, resp, names, n, "repositories", NULL, "/v2/_catalog");
    strv_free(names, n);
}
