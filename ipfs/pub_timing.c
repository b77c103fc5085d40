/* pub_timing: the publisher's debounce, start-up retry and back-off rules
 * (see pub_timing.h). No I/O, no clock: the caller passes the time. */
#include "ipfs/pub_timing.h"

void pub_timing_notice(struct pub_timing *t, long long now_ms)
{
    if (!t->first_change_ms)
        t->first_change_ms = now_ms;
    t->last_change_ms = now_ms;
}

void pub_timing_retry_startup(struct pub_timing *t, long long now_ms, unsigned secs)
{
    t->next_startup_ms = now_ms + (long long)secs * 1000;
}

void pub_timing_failed(struct pub_timing *t, long long now_ms)
{
    t->backoff_s = t->backoff_s ? t->backoff_s * 2 : PUB_BACKOFF_MIN_S;
    if (t->backoff_s > PUB_BACKOFF_MAX_S)
        t->backoff_s = PUB_BACKOFF_MAX_S;
    t->next_try_ms = now_ms + (long long)t->backoff_s * 1000;
}

long long pub_timing_due(const struct pub_timing *t, enum pub_timing_phase phase)
{
    switch (phase) {
    case PUB_TIMING_STARTING:
        return t->next_startup_ms;
    case PUB_TIMING_PENDING: {
        long long quiet = t->last_change_ms + t->quiet_ms;
        long long cap = t->first_change_ms + t->max_interval_ms;
        long long when = quiet < cap ? quiet : cap;
        return when < t->next_try_ms ? t->next_try_ms : when;
    }
    case PUB_TIMING_IDLE:
        break;
    }
    return PUB_TIMING_NEVER;
}
