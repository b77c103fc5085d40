/* metrics: shared counters (see metrics.h) and their text exposition. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "core/metrics.h"
#include "core/xalloc.h"

const uint64_t metrics_kubo_bucket_us[METRICS_KUBO_BUCKETS] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 10000000,
};

static const char *const metrics_methods[METRICS_METHODS] = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "other",
};

/* Until the master maps the shared segment, this process's own. */
static struct metrics_counters metrics_local;
static struct metrics_counters *metrics_cur = &metrics_local;

#define METRICS_ADD(field, v) __atomic_fetch_add(&(field), (uint64_t)(v), __ATOMIC_RELAXED)

int metrics_init_shared(char **err)
{
    *err = NULL;
    if (metrics_cur != &metrics_local)
        return 0;
    void *p = mmap(NULL, sizeof(struct metrics_counters), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        *err = xasprintf("metrics: mmap of %zu bytes: %s", sizeof(struct metrics_counters),
                         strerror(errno));
        return -1;
    }
    /* What this process counted before (nothing, normally) carries over. */
    memcpy(p, &metrics_local, sizeof metrics_local);
    metrics_cur = p;
    metrics_cur->shared = 1;
    metrics_cur->start_time = (uint64_t)time(NULL);
    return 0;
}

struct metrics_counters *metrics_live(void)
{
    return metrics_cur;
}

void metrics_snapshot(struct metrics_counters *out)
{
    const uint64_t *src = (const uint64_t *)metrics_cur;
    uint64_t *dst = (uint64_t *)out;
    for (size_t i = 0; i < sizeof *out / sizeof(uint64_t); i++)
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

unsigned metrics_method_index(const char *method)
{
    for (unsigned i = 0; method && i < METRICS_METHODS - 1; i++)
        if (strcmp(method, metrics_methods[i]) == 0)
            return i;
    return METRICS_METHODS - 1;
}

void metrics_request(unsigned route, const char *method, int status, int aborted,
                     uint64_t bytes_in, uint64_t bytes_out, uint64_t duration_us)
{
    struct metrics_counters *c = metrics_cur;
    if (route >= METRICS_ROUTES)
        route = 0;
    unsigned cls = status >= 100 && status <= 599 ? (unsigned)(status / 100 - 1) : 4;
    METRICS_ADD(c->requests[route][metrics_method_index(method)][cls], 1);
    if (aborted)
        METRICS_ADD(c->aborted[route], 1);
    METRICS_ADD(c->duration_us[route], duration_us);
    METRICS_ADD(c->bytes_in, bytes_in);
    METRICS_ADD(c->bytes_out, bytes_out);
}

void metrics_upload_started(void)
{
    METRICS_ADD(metrics_cur->uploads_started, 1);
}

void metrics_upload_completed(void)
{
    METRICS_ADD(metrics_cur->uploads_completed, 1);
}

void metrics_upload_refused(enum metrics_refused why)
{
    if ((unsigned)why < 2)
        METRICS_ADD(metrics_cur->uploads_refused[why], 1);
}

void metrics_kubo_rpc(uint64_t duration_us, int outcome)
{
    struct metrics_counters *c = metrics_cur;
    unsigned b = 0;
    while (b < METRICS_KUBO_BUCKETS && duration_us > metrics_kubo_bucket_us[b])
        b++;
    METRICS_ADD(c->kubo_rpc, 1);
    METRICS_ADD(c->kubo_rpc_us, duration_us);
    METRICS_ADD(c->kubo_rpc_bucket[b], 1);
    if (outcome == 1)
        METRICS_ADD(c->kubo_rpc_unavailable, 1);
    else if (outcome == 2)
        METRICS_ADD(c->kubo_rpc_failed, 1);
}

void metrics_kubo_gateway(int failed)
{
    METRICS_ADD(metrics_cur->kubo_gateway, 1);
    if (failed)
        METRICS_ADD(metrics_cur->kubo_gateway_errors, 1);
}

void metrics_kubo_gateway_resume(void)
{
    METRICS_ADD(metrics_cur->kubo_gateway_resumes, 1);
}

void metrics_mirror(enum metrics_mirror kind, uint64_t n)
{
    if ((unsigned)kind < METRICS_MIRROR_KINDS)
        METRICS_ADD(metrics_cur->mirror[kind], n);
}

void metrics_worker_started(void)
{
    METRICS_ADD(metrics_cur->worker_starts, 1);
    METRICS_ADD(metrics_cur->workers_alive, 1);
}

void metrics_worker_exited(int unexpected)
{
    __atomic_fetch_sub(&metrics_cur->workers_alive, 1, __ATOMIC_RELAXED);
    if (unexpected)
        METRICS_ADD(metrics_cur->worker_restarts, 1);
}

/* ---- exposition ---- */

#define P "oci_registry_p2p_"

/* Microseconds as seconds with six decimals, exact (no floating point). */
static int metrics_secs(struct buf *o, uint64_t us)
{
    return buf_appendf(o, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
}

static int metrics_head(struct buf *o, const char *name, const char *type, const char *help)
{
    return buf_appendf(o, "# HELP " P "%s %s\n# TYPE " P "%s %s\n", name, help, name, type);
}

static int metrics_one(struct buf *o, const char *name, const char *type, const char *help,
                       uint64_t v)
{
    if (metrics_head(o, name, type, help) < 0)
        return -1;
    return buf_appendf(o, P "%s %" PRIu64 "\n", name, v);
}

static const char *metrics_route(const char *const *names, unsigned n, unsigned i)
{
    return i < n && names[i] ? names[i] : "other";
}

/* requests_total: only the combinations seen so far (a route does not answer
 * every method), so the page stays short. */
static int metrics_requests(const struct metrics_counters *c, const char *const *names,
                            unsigned n, struct buf *o)
{
    if (metrics_head(o, "requests_total", "counter",
                     "Requests answered, by route, method and status class.") < 0)
        return -1;
    for (unsigned r = 0; r < METRICS_ROUTES; r++)
        for (unsigned m = 0; m < METRICS_METHODS; m++)
            for (unsigned k = 0; k < METRICS_CLASSES; k++)
                if (c->requests[r][m][k] &&
                    buf_appendf(o, P "requests_total{route=\"%s\",method=\"%s\",code=\"%uxx\"} %" PRIu64 "\n",
                                metrics_route(names, n, r), metrics_methods[m], k + 1,
                                c->requests[r][m][k]) < 0)
                    return -1;
    if (metrics_head(o, "requests_aborted_total", "counter",
                     "Responses cut short (client gone or stream failed), by route.") < 0)
        return -1;
    for (unsigned r = 0; r < METRICS_ROUTES; r++)
        if (c->aborted[r] &&
            buf_appendf(o, P "requests_aborted_total{route=\"%s\"} %" PRIu64 "\n",
                        metrics_route(names, n, r), c->aborted[r]) < 0)
            return -1;
    if (metrics_head(o, "request_duration_seconds", "summary",
                     "Time from the request's arrival to its end, by route.") < 0)
        return -1;
    for (unsigned r = 0; r < METRICS_ROUTES; r++) {
        uint64_t count = 0;
        for (unsigned m = 0; m < METRICS_METHODS; m++)
            for (unsigned k = 0; k < METRICS_CLASSES; k++)
                count += c->requests[r][m][k];
        if (!count)
            continue;
        const char *rn = metrics_route(names, n, r);
        if (buf_appendf(o, P "request_duration_seconds_sum{route=\"%s\"} ", rn) < 0 ||
            metrics_secs(o, c->duration_us[r]) < 0 ||
            buf_appendf(o, "\n" P "request_duration_seconds_count{route=\"%s\"} %" PRIu64 "\n",
                        rn, count) < 0)
            return -1;
    }
    return 0;
}

static int metrics_kubo(const struct metrics_counters *c, struct buf *o)
{
    if (metrics_head(o, "kubo_rpc_duration_seconds", "histogram",
                     "Latency of Kubo RPC calls (whole call, body included).") < 0)
        return -1;
    uint64_t cum = 0;
    for (unsigned b = 0; b <= METRICS_KUBO_BUCKETS; b++) {
        cum += c->kubo_rpc_bucket[b];
        if (buf_appends(o, P "kubo_rpc_duration_seconds_bucket{le=\"") < 0)
            return -1;
        if (b < METRICS_KUBO_BUCKETS ? metrics_secs(o, metrics_kubo_bucket_us[b]) : buf_appends(o, "+Inf"))
            return -1;
        if (buf_appendf(o, "\"} %" PRIu64 "\n", cum) < 0)
            return -1;
    }
    if (buf_appends(o, P "kubo_rpc_duration_seconds_sum ") < 0 || metrics_secs(o, c->kubo_rpc_us) < 0 ||
        buf_appendf(o, "\n" P "kubo_rpc_duration_seconds_count %" PRIu64 "\n", c->kubo_rpc) < 0)
        return -1;
    if (metrics_head(o, "kubo_rpc_errors_total", "counter",
                     "Kubo RPC calls that failed: Kubo unreachable, or an error answer.") < 0 ||
        buf_appendf(o, P "kubo_rpc_errors_total{kind=\"unavailable\"} %" PRIu64 "\n"
                       P "kubo_rpc_errors_total{kind=\"error\"} %" PRIu64 "\n",
                    c->kubo_rpc_unavailable, c->kubo_rpc_failed) < 0)
        return -1;
    if (metrics_one(o, "kubo_gateway_requests_total", "counter",
                    "Requests to Kubo's gateway (blob bytes).", c->kubo_gateway) < 0 ||
        metrics_one(o, "kubo_gateway_errors_total", "counter",
                    "Gateway requests that failed.", c->kubo_gateway_errors) < 0 ||
        metrics_one(o, "kubo_gateway_resumes_total", "counter",
                    "Blob streams the node cut short, or gave up on before the first byte (504), asked again.",
                    c->kubo_gateway_resumes) < 0)
        return -1;
    if (metrics_one(o, "mirror_hits_total", "counter", "Mirror reads served from what is stored.",
                    c->mirror[METRICS_MIRROR_HIT]) < 0 ||
        metrics_one(o, "mirror_misses_total", "counter", "Mirror reads fetched from an upstream.",
                    c->mirror[METRICS_MIRROR_MISS]) < 0 ||
        metrics_one(o, "mirror_upstream_bytes_total", "counter", "Bytes received from upstream registries.",
                    c->mirror[METRICS_MIRROR_BYTES]) < 0 ||
        metrics_one(o, "mirror_upstream_errors_total", "counter",
                    "Upstream requests that failed or whose answer was refused.", c->mirror[METRICS_MIRROR_ERROR]) < 0 ||
        metrics_one(o, "mirror_revalidations_total", "counter",
                    "Cached tags checked with their upstream after their freshness time.",
                    c->mirror[METRICS_MIRROR_REVALIDATION]) < 0 ||
        metrics_one(o, "mirror_stale_total", "counter",
                    "Cached tags served while their upstream could not be asked.", c->mirror[METRICS_MIRROR_STALE]) < 0)
        return -1;
    return 0;
}

static int metrics_pub_lines(const struct metrics_publisher *p, struct buf *o)
{
    if (metrics_one(o, "publishes_total", "counter", "IPNS publishes of the registry root.",
                    p->publishes_total) < 0 ||
        metrics_one(o, "publish_failures_total", "counter", "IPNS publishes that failed.",
                    p->publish_failures_total) < 0 ||
        metrics_one(o, "publish_pending", "gauge", "Changes waiting to be published.",
                    p->pending) < 0 ||
        metrics_one(o, "publish_sequence", "gauge", "Sequence number of the last IPNS record.",
                    p->sequence) < 0 ||
        metrics_one(o, "last_publish_timestamp_seconds", "gauge",
                    "When the root was last published (unix time; 0: never).",
                    p->last_published_at) < 0 ||
        metrics_one(o, "publisher_heartbeat_timestamp_seconds", "gauge",
                    "The publisher's last sign of life (unix time).",
                    p->heartbeat) < 0)
        return -1;
    if (metrics_head(o, "last_publish_duration_seconds", "gauge",
                     "How long the last publish took (flush and name/publish).") < 0 ||
        buf_appendf(o, P "last_publish_duration_seconds %.3f\n", (double)p->last_publish_ms / 1000.0) < 0 ||
        metrics_head(o, "last_publish_latency_seconds", "gauge",
                     "From the first change the last publish carried to its end.") < 0 ||
        buf_appendf(o, P "last_publish_latency_seconds %.3f\n", (double)p->last_latency_ms / 1000.0) < 0)
        return -1;
    return 0;
}

int metrics_format(const struct metrics_counters *c, const struct metrics_publisher *pub,
                   const char *const *route_names, unsigned nroutes, struct buf *out)
{
    if (metrics_one(out, "start_time_seconds", "gauge", "When the master started (unix time).",
                    c->start_time) < 0 ||
        metrics_one(out, "metrics_shared", "gauge",
                    "1 when these counters cover every worker; 0 when only the answering one.",
                    c->shared) < 0 ||
        metrics_requests(c, route_names, nroutes, out) < 0 ||
        metrics_one(out, "request_bytes_total", "counter", "Request body bytes read.", c->bytes_in) < 0 ||
        metrics_one(out, "response_bytes_total", "counter", "Response body bytes sent.", c->bytes_out) < 0 ||
        metrics_one(out, "upload_sessions_started_total", "counter", "Blob upload sessions opened.",
                    c->uploads_started) < 0 ||
        metrics_one(out, "upload_sessions_completed_total", "counter",
                    "Blob uploads completed (digest verified, blob stored).", c->uploads_completed) < 0 ||
        metrics_one(out, "upload_sessions_open", "gauge",
                    "Upload sessions open (kept by the workers, recounted from statedir by each sweep).",
                    c->upload_sessions) < 0 ||
        metrics_head(out, "upload_refused_total", "counter",
                     "Upload requests answered 429: every upload_workers slot busy (workers), "
                     "or max_upload_sessions open (sessions).") < 0 ||
        buf_appendf(out, P "upload_refused_total{reason=\"workers\"} %" PRIu64 "\n"
                         P "upload_refused_total{reason=\"sessions\"} %" PRIu64 "\n",
                    c->uploads_refused[METRICS_REFUSED_WORKERS],
                    c->uploads_refused[METRICS_REFUSED_SESSIONS]) < 0 ||
        metrics_kubo(c, out) < 0 ||
        metrics_one(out, "workers_alive", "gauge", "Worker processes running.", c->workers_alive) < 0 ||
        metrics_one(out, "worker_starts_total", "counter", "Worker processes started.", c->worker_starts) < 0 ||
        metrics_one(out, "worker_restarts_total", "counter",
                    "Workers that died unexpectedly (and were replaced).", c->worker_restarts) < 0)
        return -1;
    if (pub && pub->present && metrics_pub_lines(pub, out) < 0)
        return -1;
    return 0;
}
