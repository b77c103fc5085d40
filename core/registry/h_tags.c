/* h_tags: GET /v2/<name>/tags/list and GET /v2/_catalog, both sorted and
 * paginated with ?n= and ?last= (h_paginate). */
#include <stdlib.h>
#include "core/registry/handlers.h"
#include "core/registry/h_common.h"
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
    h_paginate(req, resp, names, n, "repositories", NULL, "/v2/_catalog");
    strv_free(names, n);
}
