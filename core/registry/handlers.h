/* handlers: one function per API endpoint family (core/registry/h_*.c),
 * called only by registry.c's dispatch table once the route and method are
 * known. All share one signature (h_fn); each answers the request
 * completely. The helpers they share are in h_common.h. */
#ifndef CORE_REGISTRY_HANDLERS_H
#define CORE_REGISTRY_HANDLERS_H
#include "core/http.h"
#include "core/registry/registry.h"
#include "core/registry/router.h"

typedef void h_fn(struct registry *reg, struct request *req, struct response *resp,
                  const struct route *rt);

/* registry.c: GET /v2/ */
h_fn h_base;
/* h_blobs.c */
h_fn h_blob_get, h_blob_delete;
/* h_uploads.c */
h_fn h_upload_post, h_upload_status, h_upload_patch, h_upload_put, h_upload_delete;
/* h_manifests.c */
h_fn h_manifest_get, h_manifest_put, h_manifest_delete;
/* h_tags.c: tags/list and _catalog */
h_fn h_tags_list, h_catalog;
/* h_referrers.c */
h_fn h_referrers;
/* h_p2p.c: /v2/_p2p/<word> (rt->ref): this registry's own endpoints;
 * unknown words are 404. */
h_fn h_p2p;
/* h_status.c: /v2/_p2p/status: publisher state and read-only roots, JSON. */
h_fn h_status;
/* h_health.c: /v2/_p2p/health: 200 or 503 with a JSON reason. */
h_fn h_health;
/* h_metrics.c: Prometheus text metrics (on reg->opts.metrics_path). */
h_fn h_metrics;

#endif
