/* h_status: GET /v2/_p2p/status: the peer-to-peer state as JSON — the
 * publisher's <statedir>/publisher.json (what it last published, whether a
 * change is pending, its last error, counters) with "alive" added, and the
 * read-only roots the resolver last wrote to <statedir>/roots.json. */
#define _GNU_SOURCE 1   /* kill under -std=c11 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "core/registry/handlers.h"
#include "core/registry/h_common.h"
#include "core/p2pstate.h"

/* Three missed heartbeats and the publisher counts as gone. */
#define H_STATUS_STALE_S (3 * P2P_HEARTBEAT_S)

static json_object *h_status_publisher(const char *statedir)
{
    struct p2p_pubstate s;
    if (p2pstate_read_pub(statedir, &s) < 0)
        return NULL;
    json_object *o = json_object_new_object();
    int alive = s.pid > 0 && (kill((pid_t)s.pid, 0) == 0 || errno == EPERM) &&
                time(NULL) - s.heartbeat <= H_STATUS_STALE_S && strcmp(s.state, "stopped") != 0;
    json_object_object_add(o, "alive", json_object_new_boolean(alive));
    json_object_object_add(o, "pid", json_object_new_int64(s.pid));
    json_object_object_add(o, "heartbeat", json_object_new_int64((int64_t)s.heartbeat));
    json_object_object_add(o, "state", json_object_new_string(s.state));
    json_object_object_add(o, "key", json_object_new_string(s.key));
    json_object_object_add(o, "key_id", json_object_new_string(s.key_id));
    json_object_object_add(o, "last_published_cid", json_object_new_string(s.last_published_cid));
    json_object_object_add(o, "last_published_at", json_object_new_int64((int64_t)s.last_published_at));
    json_object_object_add(o, "sequence", json_object_new_uint64(s.sequence));
    json_object_object_add(o, "pending", json_object_new_boolean(s.pending));
    json_object_object_add(o, "last_error", json_object_new_string(s.last_error));
    json_object_object_add(o, "other_writer_cid", json_object_new_string(s.other_writer_cid));
    json_object_object_add(o, "publishes_total", json_object_new_uint64(s.publishes_total));
    json_object_object_add(o, "publish_failures_total", json_object_new_uint64(s.publish_failures_total));
    return o;
}

static json_object *h_status_roots(const char *statedir)
{
    struct p2p_root *r;
    size_t n;
    json_object *a = json_object_new_array();
    if (p2pstate_read_roots(statedir, &r, &n) < 0)
        return a;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "key", json_object_new_string(r[i].key));
        json_object_object_add(e, "cid", json_object_new_string(r[i].cid));
        json_object_object_add(e, "resolved_at", json_object_new_int64((int64_t)r[i].resolved_at));
        json_object_object_add(e, "error", json_object_new_string(r[i].error));
        json_object_array_add(a, e);
    }
    free(r);
    return a;
}

void h_status(struct registry *reg, struct request *req, struct response *resp, const struct route *rt)
{
    (void)req;
    (void)rt;
    json_object *o = json_object_new_object();
    json_object *pub = h_status_publisher(reg->opts.statedir);
    json_object_object_add(o, "publisher", pub ? pub : json_object_new_null());
    json_object_object_add(o, "readonly_roots", h_status_roots(reg->opts.statedir));
    json_object_object_add(o, "readonly", json_object_new_boolean(reg->opts.readonly));
    h_json(resp, 200, "application/json", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}
