/* metrics: the Prometheus text exposition and the counting helpers. */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "core/metrics.h"
#include "core/xalloc.h"

static const char *const names[] = { "not_found", "base", "catalog", "blob" };
#define NNAMES (sizeof names / sizeof names[0])

static char *fmt(const struct metrics_counters *c, const struct metrics_publisher *p)
{
    struct buf b;
    buf_init(&b, 1024 * 1024);
    ck_assert_int_eq(metrics_format(c, p, names, NNAMES, &b), 0);
    char *s = buf_take(&b);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* Every line is a comment ("# HELP"/"# TYPE") or "name[{labels}] value"
 * with a numeric value: what a Prometheus parser insists on. */
static void check_syntax(const char *text)
{
    const char *p = text;
    ck_assert(text[strlen(text) - 1] == '\n');
    while (*p) {
        const char *nl = strchr(p, '\n');
        ck_assert_ptr_nonnull(nl);
        size_t n = (size_t)(nl - p);
        char *line = xstrndup(p, n);
        if (line[0] == '#') {
            ck_assert(strncmp(line, "# HELP oci_registry_p2p_", 24) == 0 ||
                      strncmp(line, "# TYPE oci_registry_p2p_", 24) == 0);
        } else {
            ck_assert_msg(strncmp(line, "oci_registry_p2p_", 17) == 0, "bad line: %s", line);
            char *sp = strrchr(line, ' ');
            ck_assert_ptr_nonnull(sp);
            char *end;
            strtod(sp + 1, &end);
            ck_assert_msg(*end == '\0' && end != sp + 1, "bad value: %s", line);
            char *brace = strchr(line, '{');
            if (brace)
                ck_assert_msg(sp[-1] == '}', "labels not closed: %s", line);
        }
        free(line);
        p = nl + 1;
    }
}

START_TEST(metrics_empty)
{
    struct metrics_counters c;
    memset(&c, 0, sizeof c);
    struct metrics_publisher p = { .present = 0 };
    char *s = fmt(&c, &p);
    check_syntax(s);
    ck_assert_ptr_nonnull(strstr(s, "# TYPE oci_registry_p2p_requests_total counter\n"));
    ck_assert_ptr_null(strstr(s, "oci_registry_p2p_requests_total{"));   /* no series seen yet */
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_kubo_rpc_duration_seconds_bucket{le=\"+Inf\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_workers_alive 0\n"));
    ck_assert_ptr_null(strstr(s, "publishes_total"));   /* no publisher file: no lines */
    free(s);
}
END_TEST

START_TEST(metrics_requests_by_route)
{
    struct metrics_counters c;
    memset(&c, 0, sizeof c);
    c.requests[3][metrics_method_index("GET")][1] = 7;     /* blob GET 2xx */
    c.requests[3][metrics_method_index("HEAD")][3] = 2;    /* blob HEAD 4xx */
    c.requests[9][metrics_method_index("GET")][1] = 1;     /* no name given: "other" */
    c.duration_us[3] = 1500;
    c.aborted[3] = 1;
    c.bytes_in = 10;
    c.bytes_out = 1ULL << 40;
    char *s = fmt(&c, NULL);
    check_syntax(s);
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_requests_total{route=\"blob\",method=\"GET\",code=\"2xx\"} 7\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_requests_total{route=\"blob\",method=\"HEAD\",code=\"4xx\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_requests_total{route=\"other\",method=\"GET\",code=\"2xx\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_requests_aborted_total{route=\"blob\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_request_duration_seconds_sum{route=\"blob\"} 0.001500\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_request_duration_seconds_count{route=\"blob\"} 9\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_request_bytes_total 10\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_response_bytes_total 1099511627776\n"));
    free(s);
}
END_TEST

START_TEST(metrics_methods_and_classes)
{
    ck_assert_uint_eq(metrics_method_index("GET"), 0);
    ck_assert_uint_eq(metrics_method_index("DELETE"), 5);
    ck_assert_uint_eq(metrics_method_index("PROPFIND"), METRICS_METHODS - 1);
    ck_assert_uint_eq(metrics_method_index(NULL), METRICS_METHODS - 1);
    /* the process-local counters (no shared segment in a test) */
    struct metrics_counters before, after;
    metrics_snapshot(&before);
    metrics_request(3, "PATCH", 202, 0, 100, 0, 10);
    metrics_request(3, "PATCH", 0, 1, 5, 0, 10);       /* no status: counted as 5xx */
    metrics_request(99, "GET", 200, 0, 0, 3, 10);      /* unknown route: slot 0 */
    metrics_upload_started();
    metrics_upload_completed();
    metrics_upload_refused(METRICS_REFUSED_WORKERS);
    metrics_upload_refused(METRICS_REFUSED_WORKERS);
    metrics_upload_refused(METRICS_REFUSED_SESSIONS);
    metrics_worker_started();
    metrics_worker_exited(1);
    metrics_snapshot(&after);
    unsigned patch = metrics_method_index("PATCH");
    ck_assert_uint_eq(after.requests[3][patch][1] - before.requests[3][patch][1], 1);
    ck_assert_uint_eq(after.requests[3][patch][4] - before.requests[3][patch][4], 1);
    ck_assert_uint_eq(after.requests[0][0][1] - before.requests[0][0][1], 1);
    ck_assert_uint_eq(after.aborted[3] - before.aborted[3], 1);
    ck_assert_uint_eq(after.bytes_in - before.bytes_in, 105);
    ck_assert_uint_eq(after.bytes_out - before.bytes_out, 3);
    ck_assert_uint_eq(after.uploads_started - before.uploads_started, 1);
    ck_assert_uint_eq(after.uploads_completed - before.uploads_completed, 1);
    ck_assert_uint_eq(after.uploads_refused[METRICS_REFUSED_WORKERS] -
                      before.uploads_refused[METRICS_REFUSED_WORKERS], 2);
    ck_assert_uint_eq(after.uploads_refused[METRICS_REFUSED_SESSIONS] -
                      before.uploads_refused[METRICS_REFUSED_SESSIONS], 1);
    struct metrics_counters d;
    memset(&d, 0, sizeof d);
    d.uploads_refused[METRICS_REFUSED_WORKERS] = 2;
    d.uploads_refused[METRICS_REFUSED_SESSIONS] = 1;
    d.upload_sessions = 7;
    char *s = fmt(&d, NULL);
    check_syntax(s);
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_upload_refused_total{reason=\"workers\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_upload_refused_total{reason=\"sessions\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(s, "# TYPE oci_registry_p2p_upload_sessions_open gauge\noci_registry_p2p_upload_sessions_open 7\n"));
    free(s);
    ck_assert_uint_eq(after.workers_alive, before.workers_alive);
    ck_assert_uint_eq(after.worker_restarts - before.worker_restarts, 1);
}
END_TEST

START_TEST(metrics_kubo_histogram)
{
    struct metrics_counters before, after;
    metrics_snapshot(&before);
    metrics_kubo_rpc(500, 0);          /* 0.5 ms: first bucket */
    metrics_kubo_rpc(1000, 0);         /* on the bound: still the first (le) */
    metrics_kubo_rpc(3000, 1);         /* 3 ms, Kubo unreachable */
    metrics_kubo_rpc(60000000, 2);     /* a minute: only +Inf */
    metrics_kubo_gateway(0);
    metrics_kubo_gateway(1);
    metrics_snapshot(&after);
    struct metrics_counters d;
    memset(&d, 0, sizeof d);
    for (unsigned b = 0; b <= METRICS_KUBO_BUCKETS; b++)
        d.kubo_rpc_bucket[b] = after.kubo_rpc_bucket[b] - before.kubo_rpc_bucket[b];
    d.kubo_rpc = after.kubo_rpc - before.kubo_rpc;
    d.kubo_rpc_us = after.kubo_rpc_us - before.kubo_rpc_us;
    d.kubo_rpc_unavailable = after.kubo_rpc_unavailable - before.kubo_rpc_unavailable;
    d.kubo_rpc_failed = after.kubo_rpc_failed - before.kubo_rpc_failed;
    d.kubo_gateway = after.kubo_gateway - before.kubo_gateway;
    d.kubo_gateway_errors = after.kubo_gateway_errors - before.kubo_gateway_errors;
    char *s = fmt(&d, NULL);
    check_syntax(s);
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_kubo_rpc_duration_seconds_bucket{le=\"0.001000\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_kubo_rpc_duration_seconds_bucket{le=\"0.002500\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_kubo_rpc_duration_seconds_bucket{le=\"0.005000\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_kubo_rpc_duration_seconds_bucket{le=\"10.000000\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_kubo_rpc_duration_seconds_bucket{le=\"+Inf\"} 4\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_kubo_rpc_duration_seconds_sum 60.004500\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_kubo_rpc_duration_seconds_count 4\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_kubo_rpc_errors_total{kind=\"unavailable\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_kubo_rpc_errors_total{kind=\"error\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_kubo_gateway_requests_total 2\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_kubo_gateway_errors_total 1\n"));
    free(s);
}
END_TEST

START_TEST(metrics_publisher_lines)
{
    struct metrics_counters c;
    memset(&c, 0, sizeof c);
    struct metrics_publisher p = {
        .present = 1, .publishes_total = 12, .publish_failures_total = 3, .pending = 1,
        .sequence = 40, .last_published_at = 1700000000, .heartbeat = 1700000005,
    };
    char *s = fmt(&c, &p);
    check_syntax(s);
    ck_assert_ptr_nonnull(strstr(s, "# TYPE oci_registry_p2p_publishes_total counter\noci_registry_p2p_publishes_total 12\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_publish_failures_total 3\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_publish_pending 1\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_last_publish_timestamp_seconds 1700000000\n"));
    ck_assert_ptr_nonnull(strstr(s, "oci_registry_p2p_publisher_heartbeat_timestamp_seconds 1700000005\n"));
    free(s);
}
END_TEST

START_TEST(metrics_cap)
{
    struct metrics_counters c;
    memset(&c, 0, sizeof c);
    struct buf b;
    buf_init(&b, 256);   /* far smaller than one page */
    ck_assert_int_eq(metrics_format(&c, NULL, names, NNAMES, &b), -1);
    buf_free(&b);
}
END_TEST

Suite *suite_metrics(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, metrics_empty);
    tcase_add_test(tc, metrics_requests_by_route);
    tcase_add_test(tc, metrics_methods_and_classes);
    tcase_add_test(tc, metrics_kubo_histogram);
    tcase_add_test(tc, metrics_publisher_lines);
    tcase_add_test(tc, metrics_cap);
    suite_add_tcase(s, tc);
    return s;
}
