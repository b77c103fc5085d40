/* h_health: GET /v2/_p2p/health, for load balancers and service monitors.
 * 200 when the registry can do its job: Kubo answers one cheap RPC within
 * H_HEALTH_TIMEOUT_MS and, when a write key is configured, the publisher is
 * alive (its pid exists and its heartbeat in <statedir>/publisher.json is
 * fresh). Otherwise 503. The body is JSON either way, with the reason. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "core/xjson.h"
#include "core/registry/handlers.h"
#include "core/registry/h_common.h"
#include "core/blobfile.h"
#include "core/log.h"
#include "core/p2pstate.h"
#include "core/xalloc.h"

/* Short: a health probe that hangs is worse than one that says no. */
#define H_HEALTH_TIMEOUT_MS 2000
/* Three missed heartbeats: the publisher is stuck or gone. */
#define H_HEALTH_STALE_S (3 * P2P_HEARTBEAT_S)

static int h_health_pid_alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* Adds the "kubo" member; returns 1 when Kubo answered. */
static int h_health_kubo(struct registry *reg, json_object *o, const char **why)
{
    json_object *k = xjson_object();
    int ok = 1;
    if (reg->store->ops->ping) {
        char version[64];
        int rc = reg->store->ops->ping(reg->store, H_HEALTH_TIMEOUT_MS, version, sizeof version);
        ok = rc == STORE_OK;
        if (ok) {
            xjson_set(k, "version", xjson_string(version));
        } else {
            const char *msg = reg->store->ops->errmsg(reg->store);
            xjson_set(k, "error", xjson_string(msg));
            log_warn("health: Kubo does not answer: %s", msg);
            *why = "the IPFS node does not answer";
        }
    }
    xjson_set(k, "ok", xjson_bool(ok));
    xjson_set(o, "kubo", k);
    return ok;
}

/* Adds the "publisher" member; returns 1 unless a publisher is required and
 * not alive. Without a write key and without a status file there is nothing
 * to check (a local registry publishes nothing). */
static int h_health_publisher(struct registry *reg, json_object *o, const char **why)
{
    struct p2p_pubstate ps;
    char *path = p2pstate_path(reg->opts.statedir, P2P_STATE_FILE);
    int exists = access(path, F_OK) == 0;
    free(path);
    int required = reg->opts.writeipnskey && *reg->opts.writeipnskey;
    json_object *p = xjson_object();
    xjson_set(p, "required", xjson_bool(required));
    const char *dead = NULL;
    if (!exists && !required) {
        xjson_set(p, "ok", xjson_bool(1));
        xjson_set(o, "publisher", p);
        return 1;
    }
    time_t now = time(NULL);
    if (!exists) {
        dead = "the publisher has not written its status file yet";
    } else if (p2pstate_read_pub(reg->opts.statedir, &ps) < 0) {
        dead = "the publisher's status file is unreadable";
    } else {
        if (!h_health_pid_alive(ps.pid))
            dead = "the publisher process is not running";
        else if (ps.heartbeat <= 0 || now - ps.heartbeat > H_HEALTH_STALE_S)
            dead = "the publisher's heartbeat is stale";
        xjson_set(p, "pid", xjson_int64(ps.pid));
        xjson_set(p, "state", xjson_string(ps.state));
        xjson_set(p, "heartbeat_age_seconds",
                               xjson_int64(ps.heartbeat > 0 ? (int64_t)(now - ps.heartbeat) : -1));
        xjson_set(p, "last_published_cid", xjson_string(ps.last_published_cid));
        xjson_set(p, "last_published_at", xjson_int64((int64_t)ps.last_published_at));
        xjson_set(p, "pending", xjson_bool(ps.pending));
        if (ps.last_error[0])
            xjson_set(p, "last_error", xjson_string(ps.last_error));
    }
    /* A stale file left by an earlier run with a write key says nothing
     * about a registry that no longer publishes. */
    int ok = !dead || !required;
    xjson_set(p, "ok", xjson_bool(ok));
    if (dead)
        xjson_set(p, "problem", xjson_string(dead));
    xjson_set(o, "publisher", p);
    if (!ok) {
        log_warn("health: %s", dead);
        *why = dead;
    }
    return ok;
}

/* Adds the "blob_files" member when blobdir is set; returns 0 when the
 * registry cannot write blob files (a push would fail). A damaged file
 * (missing, wrong size) a reader found is reported, not fatal: one blob
 * answers 5xx, the others serve. */
static int h_health_blobfiles(struct registry *reg, json_object *o, const char **why)
{
    const char *dir = reg->opts.blobdir;
    if (!dir || !*dir)
        return 1;
    json_object *b = xjson_object();
    xjson_set(b, "dir", xjson_string(dir));
    int ok = access(dir, R_OK | W_OK | X_OK) == 0;
    if (!ok) {
        char *msg = xasprintf("the blob directory %s cannot be written: %s", dir, strerror(errno));
        xjson_set(b, "error", xjson_string(msg));
        log_warn("health: %s", msg);
        free(msg);
        *why = "the blob directory cannot be written";
    }
    struct blobfile_damage d;
    if (blobfile_damage_read(dir, &d) == 1) {
        json_object *dm = xjson_object();
        xjson_set(dm, "file", xjson_string(d.path));
        xjson_set(dm, "problem", xjson_string(d.problem));
        xjson_set(dm, "found_at", xjson_int64(d.at));
        xjson_set(b, "damaged", dm);
    }
    xjson_set(b, "ok", xjson_bool(ok));
    xjson_set(o, "blob_files", b);
    return ok;
}

void h_health(struct registry *reg, struct request *req, struct response *resp, const struct route *rt)
{
    (void)req;
    (void)rt;
    json_object *o = xjson_object();
    const char *why = NULL;
    int ok = h_health_kubo(reg, o, &why);
    ok = h_health_publisher(reg, o, &why) && ok;
    ok = h_health_blobfiles(reg, o, &why) && ok;
    xjson_set(o, "status", xjson_string(ok ? "ok" : "unavailable"));
    if (why)
        xjson_set(o, "reason", xjson_string(why));
    resp_header(resp, "Cache-Control", "no-store");
    h_json(resp, ok ? 200 : 503, "application/json",
           json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}
