/* ping: the health probe. "version" is the cheapest RPC Kubo has (no
 * repository or network access), so an answer means the daemon's API is up;
 * the whole call is bounded so a wedged node fails the probe quickly
 * instead of holding a worker for the usual stall limit. */
#include <string.h>
#include <json-c/json.h>
#include "ipfs/kubo_internal.h"

int kubo_ping(struct kubo *k, long timeout_ms, char *version, size_t n)
{
    struct buf out;
    buf_init(&out, KUBO_ERRBODY_MAX);
    long saved = k->total_ms;
    k->total_ms = timeout_ms;
    int rc = kubo_rpc(k, "version", NULL, NULL, NULL, &out);
    k->total_ms = saved;
    if (n)
        version[0] = '\0';
    if (rc == KUBO_OK && n) {
        json_object *o = json_tokener_parse(buf_cstr(&out)), *v;
        if (o && json_object_object_get_ex(o, "Version", &v) && json_object_is_type(v, json_type_string)) {
            size_t len = strlen(json_object_get_string(v));
            if (len >= n)
                len = n - 1;
            memcpy(version, json_object_get_string(v), len);
            version[len] = '\0';
        } else {
            rc = kubo_fail(k, KUBO_ERROR, "version", "unexpected answer: %.200s", buf_cstr(&out));
        }
        json_object_put(o);
    }
    buf_free(&out);
    return rc;
}
