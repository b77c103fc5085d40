/* pub_timing: when the publisher (ipfs/publisher.h) acts, as arithmetic on
 * its clock readings alone (ms of CLOCK_MONOTONIC), so the rules can be
 * tested without Kubo, a pipe or a clock.
 *
 * Change notices are coalesced: a publish is due quiet_ms after the latest
 * notice, but no later than max_interval_ms after the first one not yet
 * published, and never before the back-off after a failed publish ends.
 * Before the start-up checks pass, the loop wakes to retry them instead. */
#ifndef IPFS_PUB_TIMING_H
#define IPFS_PUB_TIMING_H
#include <limits.h>

/* A failed publish is retried after 1 s, then 2, 4 ... up to this. */
#define PUB_BACKOFF_MIN_S 1
#define PUB_BACKOFF_MAX_S 60

/* pub_timing_due's answer when nothing is waiting. */
#define PUB_TIMING_NEVER LLONG_MAX

/* What the publisher is waiting for; one at a time. */
enum pub_timing_phase {
    PUB_TIMING_IDLE,      /* nothing: no key, or ready with no change to publish */
    PUB_TIMING_STARTING,  /* a key is set, the start-up checks have not passed yet */
    PUB_TIMING_PENDING,   /* ready, with a change not published yet */
};

struct pub_timing {
    int quiet_ms;                /* publish_quiet_ms */
    int max_interval_ms;         /* publish_max_interval_ms */
    long long first_change_ms;   /* first change notice not yet published (0: none) */
    long long last_change_ms;    /* the latest change notice */
    long long next_try_ms;       /* after a failed publish, not before this (0: any time) */
    unsigned backoff_s;          /* the last back-off (0: no failure since the last publish) */
    long long next_startup_ms;   /* when the start-up checks are tried again */
};

/* A change notice at now_ms: opens the period if none is open, and moves
 * the end of its quiet time. */
void pub_timing_notice(struct pub_timing *t, long long now_ms);
/* The start-up checks failed at now_ms: try again secs later. */
void pub_timing_retry_startup(struct pub_timing *t, long long now_ms, unsigned secs);
/* A publish failed at now_ms: double the back-off (PUB_BACKOFF_MIN_S first,
 * at most PUB_BACKOFF_MAX_S) and hold the next try until it has passed. */
void pub_timing_failed(struct pub_timing *t, long long now_ms);
/* When the thing phase waits for is due: the start-up retry, the publish of
 * the pending change, or PUB_TIMING_NEVER when idle. */
long long pub_timing_due(const struct pub_timing *t, enum pub_timing_phase phase);

#endif
