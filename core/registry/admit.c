/* admit: the body slots (see admit.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/registry/admit.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/query.h"
#include "core/slots.h"

/* Seconds a refused client should wait: a slot frees as soon as any body
 * ends, and clients that honour it (containers/image) double it on each
 * further 429. */
#define ADMIT_RETRY_AFTER "1"
/* An unusable slot directory is logged at most this often per worker. */
#define ADMIT_ERROR_LOG_S 60

/* Whether the handler will read a body: PATCH and PUT (blob chunks, the
 * final PUT, manifests) and a POST with ?digest= (a whole blob), unless
 * Content-Length says 0. An unknown length may be a chunked body (nginx
 * passes an empty CONTENT_LENGTH for one and for none alike). */
static int admit_reads_body(const struct request *req)
{
    if (req->content_length == 0)
        return 0;
    if (strcmp(req->method, "PATCH") == 0 || strcmp(req->method, "PUT") == 0)
        return 1;
    if (strcmp(req->method, "POST") != 0)
        return 0;
    char *dig = query_get(req->query, "digest");
    int monolithic = dig != NULL;
    free(dig);
    return monolithic;
}

int admit_begin(struct registry *reg, struct request *req, struct response *resp)
{
    static time_t last_error_log;

    if (!reg->body_slots || !admit_reads_body(req))
        return 0;
    switch (slots_take(reg->body_slots)) {
    case SLOTS_TAKEN:
        if (reg->body_begun)
            reg->body_begun();
        return 0;
    case SLOTS_FULL:
        metrics_upload_refused(METRICS_REFUSED_WORKERS);
        resp_header(resp, "Retry-After", ADMIT_RETRY_AFTER);
        resp_error(resp, OCI_TOOMANYREQUESTS,
                   "every worker that may receive an upload is busy; retry shortly",
                   "upload_workers");
        return -1;
    default:
        if (time(NULL) - last_error_log >= ADMIT_ERROR_LOG_S) {
            last_error_log = time(NULL);
            log_error("upload slots in %s: %s; uploads are not limited until it works",
                      reg->body_slots->dir, strerror(errno));
        }
        return 0;
    }
}

void admit_end(struct registry *reg)
{
    if (reg->body_slots)
        slots_release(reg->body_slots);
}
