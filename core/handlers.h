/* handlers: one function per API endpoint family (core/h_*.c), called by
 * registry_handle() once the route and method are known, plus the few
 * helpers they share. Each handler answers the request completely. */
#ifndef CORE_HANDLERS_H
#define CORE_HANDLERS_H
#include "core/http.h"
#include "core/registry.h"
#include "core/router.h"

/* h_blobs.c */
void h_blob_get(struct registry *reg, struct request *req, struct response *resp, const struct route *rt);
void h_blob_delete(struct registry *reg, struct request *req, struct response *resp, const struct route *rt);
/* h_uploads.c */
void h_upload_post(struct registry *reg, struct request *req, struct response *resp, const struct route *rt);
void h_upload_status(struct registry *reg, struct request *req, struct response *resp, const struct route *rt);
void h_upload_patch(struct registry *reg, struct request *req, struct response *resp, const struct route *rt);
void h_upload_put(struct registry *reg, struct request *req, struct response *resp, const struct route *rt);
void h_upload_delete(struct registry *reg, struct request *req, struct response *resp, const struct route *rt);
/* h_manifests.c */
void h_manifest_get(struct registry *reg, struct request *req, struct response *resp, const struct route *rt);
void h_manifest_put(struct registry *reg, struct request *req, struct response *resp, const struct route *rt);
void h_manifest_delete(struct registry *reg, struct request *req, struct response *resp, const struct route *rt);
/* h_tags.c */
void h_tags_list(struct registry *reg, struct request *req, struct response *resp, const struct route *rt);
void h_catalog(struct registry *reg, struct request *req, struct response *resp);
/* h_referrers.c */
void h_referrers(struct registry *reg, struct request *req, struct response *resp, const struct route *rt);

/* h_p2p.c: /v2/_p2p/<what>: this registry's own endpoints (publisher status,
 * health, metrics). what is [a-z]+; unknown words are 404. */
void h_p2p(struct registry *reg, struct request *req, struct response *resp, const char *what);
/* h_metrics.c: Prometheus text metrics (on reg->opts.metrics_path). */
void h_metrics(struct registry *reg, struct request *req, struct response *resp);
/* h_health.c: /v2/_p2p/health: 200 or 503 with a JSON reason. */
void h_health(struct registry *reg, struct request *req, struct response *resp);

/* h_status.c: /v2/_p2p/status: publisher state and read-only roots, JSON. */
void h_status(struct registry *reg, struct request *req, struct response *resp);

/* registry.c: shared helpers */
/* Answers a failed store call: NOT_FOUND as not_found (with its default
 * message), UNAVAILABLE as 503, ABORTED by aborting, anything else as 500.
 * what says what was being done, for the log and the error detail. */
void h_store_fail(struct registry *reg, struct response *resp, int rc,
                  enum oci_err not_found, const char *what);
/* Parses a digest from the request; on failure answers 400 DIGEST_INVALID and returns -1. */
int h_digest(struct response *resp, const char *s, struct digest *d);
/* A JSON body with Content-Type and Content-Length. */
void h_json(struct response *resp, int status, const char *content_type, const char *json);
/* Answers with body json, paginated per ?n=&last= over sorted names: shared by
 * tags/list and _catalog. key is "tags" or "repositories"; name is the
 * repository (for tags) or NULL; base the path for the Link header. */
void h_paginate(struct request *req, struct response *resp, char **names, size_t n,
                const char *key, const char *name, const char *base);

#endif
