/* h_metrics: the Prometheus scrape endpoint (metrics_path, by default
 * /v2/_p2p/metrics). The counters are shared by every worker (core/metrics.h);
 * the publisher's come from its status file. The shipped front-server configs
 * allow it from loopback only: it tells anyone who asks how busy and how
 * healthy the registry is. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "core/registry/handlers.h"
#include "core/registry/h_common.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/p2pstate.h"
#include "core/registry/router.h"
#include "core/xalloc.h"

/* The page is a few hundred lines at most (routes x methods x classes). */
#define H_METRICS_MAX (1024 * 1024)

static void h_metrics_publisher(const char *statedir, struct metrics_publisher *mp)
{
    struct p2p_pubstate ps;
    memset(mp, 0, sizeof *mp);
    if (p2pstate_read_pub(statedir, &ps) < 0)
        return;   /* no publisher (or not yet): no publisher lines */
    mp->present = 1;
    mp->publishes_total = ps.publishes_total;
    mp->publish_failures_total = ps.publish_failures_total;
    mp->pending = ps.pending ? 1 : 0;
    mp->sequence = ps.sequence;
    mp->last_published_at = ps.last_published_at > 0 ? (uint64_t)ps.last_published_at : 0;
    mp->heartbeat = ps.heartbeat > 0 ? (uint64_t)ps.heartbeat : 0;
    mp->last_publish_ms = ps.last_publish_ms;
    mp->last_latency_ms = ps.last_latency_ms;
}

static uint64_t h_metrics_u64(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? (uint64_t)json_object_get_int64(v) : 0;
}

/* Garbage collection's figures, from <statedir>/gc/stats (written by every
 * collection, the gc command's and the collector's: oci/gc.h). Nothing
 * before the first collection. */
static int h_metrics_gc(const char *statedir, struct buf *out)
{
    char *f = xasprintf("%s/gc/stats", statedir);
    json_object *o = json_object_from_file(f);
    free(f);
    if (!o)
        return 0;
    int rc = buf_appendf(
        out,
        "# HELP oci_registry_p2p_gc_runs_total Garbage collections run (gc command and collector).\n"
        "# TYPE oci_registry_p2p_gc_runs_total counter\n"
        "oci_registry_p2p_gc_runs_total %" PRIu64 "\n"
        "# HELP oci_registry_p2p_gc_failures_total Garbage collections that stopped partway.\n"
        "# TYPE oci_registry_p2p_gc_failures_total counter\n"
        "oci_registry_p2p_gc_failures_total %" PRIu64 "\n"
        "# HELP oci_registry_p2p_gc_removed_total What garbage collections removed.\n"
        "# TYPE oci_registry_p2p_gc_removed_total counter\n"
        "oci_registry_p2p_gc_removed_total{kind=\"manifest\"} %" PRIu64 "\n"
        "oci_registry_p2p_gc_removed_total{kind=\"link\"} %" PRIu64 "\n"
        "oci_registry_p2p_gc_removed_total{kind=\"blob\"} %" PRIu64 "\n"
        "# HELP oci_registry_p2p_gc_bytes_freed_total Bytes of the blobs garbage collections removed.\n"
        "# TYPE oci_registry_p2p_gc_bytes_freed_total counter\n"
        "oci_registry_p2p_gc_bytes_freed_total %" PRIu64 "\n"
        "# HELP oci_registry_p2p_gc_last_duration_seconds How long the last garbage collection took.\n"
        "# TYPE oci_registry_p2p_gc_last_duration_seconds gauge\n"
        "oci_registry_p2p_gc_last_duration_seconds %.3f\n"
        "# HELP oci_registry_p2p_gc_last_end_timestamp_seconds When the last garbage collection ended.\n"
        "# TYPE oci_registry_p2p_gc_last_end_timestamp_seconds gauge\n"
        "oci_registry_p2p_gc_last_end_timestamp_seconds %" PRIu64 "\n",
        h_metrics_u64(o, "runs"), h_metrics_u64(o, "failures"), h_metrics_u64(o, "manifests"),
        h_metrics_u64(o, "links"), h_metrics_u64(o, "blobs"), h_metrics_u64(o, "bytes"),
        (double)h_metrics_u64(o, "last_duration_ms") / 1000.0, h_metrics_u64(o, "last_end"));
    json_object_put(o);
    return rc;
}

/* A label value as Prometheus wants it: backslash, quote and newline escaped. */
static void h_metrics_label(char *dst, size_t cap, const char *v)
{
    size_t j = 0;
    for (; *v && j + 3 < cap; v++) {
        if (*v == '\\' || *v == '"' || *v == '\n')
            dst[j++] = '\\';
        dst[j++] = *v == '\n' ? 'n' : *v;
    }
    dst[j] = '\0';
}

/* The read-only roots and their pins (<statedir>/roots.json, written by the
 * resolver: ipfs/resolver.c). Nothing without readonlyipnskeys. */
static int h_metrics_roots(const char *statedir, struct buf *out)
{
    struct p2p_root *r;
    size_t n;
    if (p2pstate_read_roots(statedir, &r, &n) < 0 || n == 0) {
        if (n == 0)
            free(r);
        return 0;
    }
    int rc = buf_appendf(out,
                         "# HELP oci_registry_p2p_readonly_root_resolved_timestamp_seconds When the key last resolved.\n"
                         "# TYPE oci_registry_p2p_readonly_root_resolved_timestamp_seconds gauge\n"
                         "# HELP oci_registry_p2p_readonly_root_pinned 1 when the root the key resolves to is pinned "
                         "whole (pinreadonly).\n"
                         "# TYPE oci_registry_p2p_readonly_root_pinned gauge\n"
                         "# HELP oci_registry_p2p_readonly_root_pinning 1 while a newer root is being pinned.\n"
                         "# TYPE oci_registry_p2p_readonly_root_pinning gauge\n"
                         "# HELP oci_registry_p2p_readonly_root_pin_progress_blocks Blocks the pin in progress has "
                         "fetched or checked.\n"
                         "# TYPE oci_registry_p2p_readonly_root_pin_progress_blocks gauge\n");
    for (size_t i = 0; i < n && rc == 0; i++) {
        char key[2 * P2P_KEY_MAX + 4];
        h_metrics_label(key, sizeof key, r[i].key);
        rc = buf_appendf(out,
                         "oci_registry_p2p_readonly_root_resolved_timestamp_seconds{key=\"%s\"} %lld\n"
                         "oci_registry_p2p_readonly_root_pinned{key=\"%s\"} %d\n"
                         "oci_registry_p2p_readonly_root_pinning{key=\"%s\"} %d\n"
                         "oci_registry_p2p_readonly_root_pin_progress_blocks{key=\"%s\"} %llu\n",
                         key, (long long)r[i].resolved_at, key,
                         r[i].cid[0] && strcmp(r[i].cid, r[i].pinned) == 0, key, r[i].pinning[0] != '\0', key,
                         r[i].pin_nodes);
    }
    free(r);
    return rc;
}

void h_metrics(struct registry *reg, struct request *req, struct response *resp, const struct route *rt)
{
    (void)req;
    (void)rt;
    const char *names[METRICS_ROUTES];
    for (unsigned i = 0; i < METRICS_ROUTES; i++)
        names[i] = route_kind_name((enum route_kind)i);
    struct metrics_counters *c = xmalloc(sizeof *c);   /* ~3 KiB: not on the stack */
    metrics_snapshot(c);
    struct metrics_publisher mp;
    h_metrics_publisher(reg->opts.statedir, &mp);
    struct buf out;
    buf_init(&out, H_METRICS_MAX);
    if (metrics_format(c, &mp, names, METRICS_ROUTES, &out) < 0 ||
        (reg->opts.statedir && (h_metrics_gc(reg->opts.statedir, &out) < 0 ||
                                h_metrics_roots(reg->opts.statedir, &out) < 0))) {
        log_error("metrics: the page exceeds %d bytes", H_METRICS_MAX);
        resp_error(resp, OCI_INTERNAL, "metrics page too large", NULL);
    } else {
        resp_header(resp, "Cache-Control", "no-store");
        h_json(resp, 200, "text/plain; version=0.0.4; charset=utf-8", buf_cstr(&out));
    }
    buf_free(&out);
    free(c);
}
