/* progress: when a long command may print its next progress line. A line
 * every PROGRESS_EVERY_MS at most: often enough to show it is alive, rare
 * enough not to flood a terminal or a log. Pure (the caller passes the
 * clock), so the rule can be tested. */
#ifndef CORE_PROGRESS_H
#define CORE_PROGRESS_H
#include <stdint.h>

#define PROGRESS_EVERY_MS 2000

struct progress {
    int64_t start_ms;    /* when the work began */
    int64_t last_ms;     /* when the last line was printed (start_ms: none yet) */
};

void progress_init(struct progress *p, int64_t now_ms);
/* 1 (and the line counts as printed now) when PROGRESS_EVERY_MS have
 * passed since the last line, or since the start when none was printed. */
int progress_due(struct progress *p, int64_t now_ms);
/* Seconds since progress_init. */
double progress_seconds(const struct progress *p, int64_t now_ms);
/* A monotonic clock in ms, for the callers. */
int64_t progress_now_ms(void);

#endif
