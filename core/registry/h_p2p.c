/* h_p2p: /v2/_p2p/<word>, this registry's own endpoints beside the
 * distribution API. Each word is one small function; unknown words are 404:
 * status (h_status.c), health (h_health.c). Metrics are served on
 * metrics_path (h_metrics.c), by default /v2/_p2p/metrics. */
#include <string.h>
#include "core/registry/handlers.h"

void h_p2p(struct registry *reg, struct request *req, struct response *resp, const struct route *rt)
{
    if (strcmp(rt->ref, "status") == 0) {
        h_status(reg, req, resp, rt);
        return;
    }
    if (strcmp(rt->ref, "health") == 0) {
        h_health(reg, req, resp, rt);
        return;
    }
    /* metrics: answered on reg->opts.metrics_path by registry_handle */
    resp_error(resp, OCI_NOT_FOUND, "no such endpoint", NULL);
}
