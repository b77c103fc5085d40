/* progress: the pacing of progress lines (see progress.h). */
#include <time.h>
#include "core/progress.h"

void progress_init(struct progress *p, int64_t now_ms)
{
    p->start_ms = now_ms;
    p->last_ms = now_ms;
}

int progress_due(struct progress *p, int64_t now_ms)
{
    if (now_ms - p->last_ms < PROGRESS_EVERY_MS)
        return 0;
    p->last_ms = now_ms;
    return 1;
}

double progress_seconds(const struct progress *p, int64_t now_ms)
{
    return (double)(now_ms - p->start_ms) / 1000.0;
}

int64_t progress_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
