/* h_p2p: /v2/_p2p/<what>, this registry's own endpoints beside the
 * distribution API. Each word is one small function; unknown words are 404:
 * status (core/h_status.c), health (core/h_health.c). Metrics are served on
 * metrics_path (core/h_metrics.c), by default /v2/_p2p/metrics. */
#include <string.h>
#include "core/handlers.h"

void h_p2p(struct registry *reg, struct request *req, struct response *resp, const char *what)
{
    if (strcmp(what, "status") == 0) {
        h_status(reg, req, resp);
        return;
    }
    if (strcmp(what, "health") == 0) {
        h_health(reg, req, resp);
        return;
    }
    /* metrics: answered on reg->opts.metrics_path by registry_handle */
    resp_error(resp, OCI_NOT_FOUND, "no such endpoint", NULL);
}
