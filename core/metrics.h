/* metrics: the registry's counters and their Prometheus text exposition.
 *
 * Every process of one registry (master, workers) adds to the same counters:
 * they live in one shared-memory segment (mmap MAP_SHARED|MAP_ANONYMOUS) that
 * the master maps before it forks, so each worker inherits it. Every field is
 * a uint64_t changed only with atomic adds/stores, so no lock is needed and a
 * worker killed mid-request cannot leave anything half-written. Without
 * metrics_init_shared() (unit tests, --check-config) the counters are this
 * process's own.
 *
 * Publisher numbers are not counted here: the publisher keeps them in
 * <statedir>/publisher.json (core/p2pstate.h), read at scrape time and passed
 * to metrics_format as a struct metrics_publisher. */
#ifndef CORE_METRICS_H
#define CORE_METRICS_H
#include <stdint.h>
#include "core/buf.h"

/* Route kinds (enum route_kind) up to this many get their own label; the
 * names come from route_kind_name(). */
#define METRICS_ROUTES 16
/* GET HEAD POST PUT PATCH DELETE other */
#define METRICS_METHODS 7
/* 1xx .. 5xx */
#define METRICS_CLASSES 5
/* Upper bounds of the Kubo RPC latency histogram, in microseconds; +Inf is
 * the last bucket. Most RPCs (files/stat, files/cp) take a few ms; an add of
 * a large chunk takes seconds. */
#define METRICS_KUBO_BUCKETS 12
extern const uint64_t metrics_kubo_bucket_us[METRICS_KUBO_BUCKETS];

/* The pull-through mirror's counters (oci/store_mirror.c). */
enum metrics_mirror {
    METRICS_MIRROR_HIT = 0,        /* served from what is stored */
    METRICS_MIRROR_MISS,           /* fetched from the upstream */
    METRICS_MIRROR_BYTES,          /* bytes received from upstreams */
    METRICS_MIRROR_ERROR,          /* upstream requests that failed (or were refused) */
    METRICS_MIRROR_REVALIDATION,   /* tags checked with the upstream after their freshness */
    METRICS_MIRROR_STALE,          /* stale tags served because the upstream was down */
    METRICS_MIRROR_KINDS
};

/* Every member is a uint64_t (metrics_snapshot copies them one by one). */
struct metrics_counters {
    uint64_t start_time;                       /* unix seconds the master started */
    uint64_t shared;                           /* 1 when the counters are process-wide */
    uint64_t requests[METRICS_ROUTES][METRICS_METHODS][METRICS_CLASSES];
    uint64_t aborted[METRICS_ROUTES];          /* responses cut short (client gone, stream failed) */
    uint64_t duration_us[METRICS_ROUTES];      /* summed request durations */
    uint64_t bytes_in;                         /* request body bytes read */
    uint64_t bytes_out;                        /* response body bytes sent */
    uint64_t uploads_started;
    uint64_t uploads_completed;
    uint64_t uploads_refused[2];               /* 429s, by enum metrics_refused */
    uint64_t kubo_rpc;                         /* RPC calls made */
    uint64_t kubo_rpc_us;                      /* their summed latency */
    uint64_t kubo_rpc_bucket[METRICS_KUBO_BUCKETS + 1];   /* not cumulative; last = +Inf */
    uint64_t kubo_rpc_unavailable;             /* could not reach Kubo */
    uint64_t kubo_rpc_failed;                  /* Kubo answered an error */
    uint64_t kubo_gateway;                     /* gateway requests (blob bytes) */
    uint64_t kubo_gateway_errors;
    uint64_t kubo_gateway_resumes;             /* blob streams cut short by the node, asked again from where they stopped */
    uint64_t workers_alive;                    /* gauge, set by the master */
    uint64_t worker_starts;
    uint64_t worker_restarts;                  /* workers that died unexpectedly */
    uint64_t log_generation;                   /* bumped by the master on SIGHUP (core/log.c) */
    uint64_t upload_sessions;                  /* gauge: open upload sessions (core/registry/upload.h) */
    uint64_t upload_sessions_counted;          /* unix time that count was last taken from statedir; 0 never */
    uint64_t mirror[METRICS_MIRROR_KINDS];     /* the pull-through mirror, by enum metrics_mirror */
};

/* The publisher's numbers, as read from its status file. */
struct metrics_publisher {
    int present;                 /* 0: no publisher file, nothing is printed */
    uint64_t publishes_total;
    uint64_t publish_failures_total;
    uint64_t pending;
    uint64_t sequence;
    uint64_t last_published_at;  /* unix seconds, 0 if never */
    uint64_t heartbeat;          /* unix seconds */
    uint64_t last_publish_ms;    /* the last publish's flush + name/publish */
    uint64_t last_latency_ms;    /* from the first change it carried to its end */
};

/* Maps the shared segment (the master, before forking). 0 ok; -1 with *err
 * (caller frees), in which case counters stay per-process. */
int metrics_init_shared(char **err);
/* The live counters (shared or local); for the few writers that set gauges. */
struct metrics_counters *metrics_live(void);
/* Copies the live counters (each read atomically). */
void metrics_snapshot(struct metrics_counters *out);

/* Index of a method for the requests table. */
unsigned metrics_method_index(const char *method);
/* One finished request. status 0 counts as 5xx. */
void metrics_request(unsigned route, const char *method, int status, int aborted,
                     uint64_t bytes_in, uint64_t bytes_out, uint64_t duration_us);
void metrics_upload_started(void);
void metrics_upload_completed(void);
/* Why an upload request was answered 429 TOOMANYREQUESTS. */
enum metrics_refused {
    METRICS_REFUSED_WORKERS = 0,   /* every upload_workers slot was busy */
    METRICS_REFUSED_SESSIONS = 1,  /* max_upload_sessions were open */
};
void metrics_upload_refused(enum metrics_refused why);
/* One Kubo RPC call; outcome 0 = answered (success or a normal "not found"),
 * 1 = unreachable, 2 = Kubo reported an error. */
void metrics_kubo_rpc(uint64_t duration_us, int outcome);
void metrics_kubo_gateway(int failed);
/* A blob stream the node cut short, asked again from where it stopped. */
void metrics_kubo_gateway_resume(void);
void metrics_mirror(enum metrics_mirror kind, uint64_t n);
void metrics_worker_started(void);
void metrics_worker_exited(int unexpected);

/* Prometheus text format (version 0.0.4) of c, plus the publisher's numbers
 * when pub->present. route_names[i] names route i (NULL: "other"). Appends to
 * out; -1 if out's cap is exceeded. Pure: no clock, no I/O. */
int metrics_format(const struct metrics_counters *c, const struct metrics_publisher *pub,
                   const char *const *route_names, unsigned nroutes, struct buf *out);

#endif
