/* sidecar: the master's non-worker children, the publisher and the
 * resolver (ipfs/publisher.h) and, with gc_interval, the collector
 * (fcgi/collector.h): started beside the workers, respawned with a
 * back-off when they die, restarted on reload, and stopped last on a drain
 * (after the workers, so every change they made gets published). */
#ifndef FCGI_SIDECAR_H
#define FCGI_SIDECAR_H
#include <sys/types.h>
#include "conf/conf.h"
#include "ipfs/publisher.h"

enum sidecar_kind { SIDECAR_PUBLISHER = 0, SIDECAR_RESOLVER, SIDECAR_COLLECTOR, SIDECAR_N };

struct sidecar_one {
    pid_t pid;               /* 0: not running */
    long long started_ms;
    long long next_start_ms;
    unsigned fast_deaths;
};

struct sidecars {
    struct sidecar_one one[SIDECAR_N];
    int notify_rd, notify_wr;   /* the workers' "root changed" pipe */
    int stopping;
    long long stop_sent_ms;
};

/* Creates the notification pipe (both ends non-blocking, close-on-exec).
 * 0, or -1 with *err (caller frees). */
int sidecar_init(struct sidecars *s, char **err);
/* Starts whichever sidecar c wants and is not running (and is due). */
void sidecar_maintain(struct sidecars *s, const struct config *c, pid_t master);
/* A reaped child: 1 if it was a sidecar (then it is forgotten and, unless
 * stopping, started again later), 0 otherwise. */
int sidecar_reaped(struct sidecars *s, pid_t pid, int status);
/* SIGTERM to every running sidecar (they exit and are started again with
 * the current configuration by sidecar_maintain): for a reload. */
void sidecar_restart(struct sidecars *s);
/* Drain: SIGTERM once, SIGKILL after timeout_s. 1 while any still runs. */
int sidecar_stop_tick(struct sidecars *s, int timeout_s);
void sidecar_close(struct sidecars *s);
/* Fills *o with the publisher's and resolver's settings from c. The strings
 * in *o are c's (borrowed): c must outlive every use of *o. */
void sidecar_publisher_opts(const struct config *c, struct publisher_opts *o);

#endif
