/* h_status: GET /v2/_p2p/status: the peer-to-peer state as JSON — the
 * publisher's <statedir>/publisher.json (what it last published, whether a
 * change is pending, its last error, counters) with "alive" added, and the
 * read-only roots the resolver last wrote to <statedir>/roots.json, and the
 * layouts pushed under the key (core/layoutreg.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "core/xjson.h"
#include "core/registry/handlers.h"
#include "core/registry/h_common.h"
#include "core/p2pstate.h"
#include "core/layoutreg.h"

/* Three missed heartbeats and the publisher counts as gone. */
#define H_STATUS_STALE_S (3 * P2P_HEARTBEAT_S)

static json_object *h_status_publisher(const char *statedir)
{
    struct p2p_pubstate s;
    if (p2pstate_read_pub(statedir, &s) < 0)
        return NULL;
    json_object *o = xjson_object();
    int alive = s.pid > 0 && (kill((pid_t)s.pid, 0) == 0 || errno == EPERM) &&
                time(NULL) - s.heartbeat <= H_STATUS_STALE_S && strcmp(s.state, "stopped") != 0;
    xjson_set(o, "alive", xjson_bool(alive));
    xjson_set(o, "pid", xjson_int64(s.pid));
    xjson_set(o, "heartbeat", xjson_int64((int64_t)s.heartbeat));
    xjson_set(o, "state", xjson_string(s.state));
    xjson_set(o, "key", xjson_string(s.key));
    xjson_set(o, "key_id", xjson_string(s.key_id));
    xjson_set(o, "last_published_cid", xjson_string(s.last_published_cid));
    xjson_set(o, "last_published_at", xjson_int64((int64_t)s.last_published_at));
    xjson_set(o, "sequence", xjson_uint64(s.sequence));
    xjson_set(o, "pending", xjson_bool(s.pending));
    xjson_set(o, "last_error", xjson_string(s.last_error));
    xjson_set(o, "other_writer_cid", xjson_string(s.other_writer_cid));
    xjson_set(o, "publishes_total", xjson_uint64(s.publishes_total));
    xjson_set(o, "publish_failures_total", xjson_uint64(s.publish_failures_total));
    xjson_set(o, "last_publish_ms", xjson_uint64(s.last_publish_ms));
    xjson_set(o, "last_latency_ms", xjson_uint64(s.last_latency_ms));
    return o;
}

static json_object *h_status_roots(const char *statedir)
{
    struct p2p_root *r;
    size_t n;
    json_object *a = xjson_array();
    if (p2pstate_read_roots(statedir, &r, &n) < 0)
        return a;
    for (size_t i = 0; i < n; i++) {
        json_object *e = xjson_object();
        xjson_set(e, "key", xjson_string(r[i].key));
        xjson_set(e, "cid", xjson_string(r[i].cid));
        xjson_set(e, "resolved_at", xjson_int64((int64_t)r[i].resolved_at));
        xjson_set(e, "sequence", xjson_uint64(r[i].sequence));
        xjson_set(e, "error", xjson_string(r[i].error));
        /* pinreadonly: the root held whole, and the newer one on its way */
        xjson_set(e, "pinned", xjson_string(r[i].pinned));
        xjson_set(e, "pinning", xjson_string(r[i].pinning));
        xjson_set(e, "pin_started", xjson_int64((int64_t)r[i].pin_started));
        xjson_set(e, "pin_nodes", xjson_uint64(r[i].pin_nodes));
        xjson_set(e, "pin_bytes", xjson_uint64(r[i].pin_bytes));
        xjson_push(a, e);
    }
    free(r);
    return a;
}

void h_status(struct registry *reg, struct request *req, struct response *resp, const struct route *rt)
{
    (void)req;
    (void)rt;
    json_object *o = xjson_object();
    json_object *pub = h_status_publisher(reg->opts.statedir);
    xjson_set(o, "publisher", pub ? pub : json_object_new_null());
    xjson_set(o, "readonly_roots", h_status_roots(reg->opts.statedir));
    /* layouts pushed under ipns/<key>/<path>: their CIDs after their last write */
    xjson_set(o, "layouts", layoutreg_list(reg->opts.statedir));
    xjson_set(o, "readonly", xjson_bool(reg->opts.readonly));
    h_json(resp, 200, "application/json", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}
