/* sidecar: publisher and resolver processes (see sidecar.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "core/log.h"
#include "core/xalloc.h"
#include "fcgi/collector.h"
#include "fcgi/sidecar.h"
#include "oci/paths.h"

/* As for workers: a sidecar dying this soon after start counts as a failed
 * start, and failed starts back off 1 s, 2 s, 4 s ... up to the maximum. */
#define SIDECAR_FAST_DEATH_MS 2000
#define SIDECAR_BACKOFF_MAX_S 30

static const char *const sidecar_names[SIDECAR_N] = { "publisher", "resolver", "collector" };

static long long sidecar_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sidecar_publisher_opts(const struct config *c, struct publisher_opts *o)
{
    memset(o, 0, sizeof *o);
    o->ipfsapiaddress = c->ipfsapiaddress;
    o->ipfsgatewayaddress = c->ipfsgatewayaddress;
    o->statedir = c->statedir;
    o->mfsroot = c->mfsroot;
    o->writeipnskey = c->writeipnskey;
    o->ipns_lifetime = c->ipns_lifetime;
    o->ipns_ttl = c->ipns_ttl;
    o->publish_allow_offline = c->publish_allow_offline;
    o->publish_quiet_ms = c->publish_quiet_ms;
    o->publish_max_interval_ms = c->publish_max_interval_ms;
    o->other_writer_overwrite = c->other_writer_overwrite;
    o->readonlyipnskeys = c->readonlyipnskeys;
    o->n_readonlyipnskeys = c->n_readonlyipnskeys;
    o->ipnsrefresh = c->ipnsrefresh;
    o->pinreadonly = c->pinreadonly;
    o->prefetch = paths_prefetch(&o->n_prefetch);
    o->owner_lease = c->owner_lease;
}

int sidecar_init(struct sidecars *s, char **err)
{
    memset(s, 0, sizeof *s);
    int fds[2];
    /* non-blocking both ways: a worker never waits on a full pipe, and the
     * publisher drains it without blocking */
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
        *err = xasprintf("master: notification pipe: %s", strerror(errno));
        s->notify_rd = s->notify_wr = -1;
        return -1;
    }
    s->notify_rd = fds[0];
    s->notify_wr = fds[1];
    return 0;
}

/* The publisher always runs (it writes the status file even when it has no
 * key to publish under); the resolver only when there are keys to resolve;
 * the collector when collections are wanted and there is something to write. */
static int sidecar_wanted(enum sidecar_kind kind, const struct config *c)
{
    if (kind == SIDECAR_COLLECTOR)
        return c->gc_interval > 0 && !c->readonly;
    return kind == SIDECAR_PUBLISHER || c->n_readonlyipnskeys > 0;
}

static void sidecar_start(struct sidecars *s, enum sidecar_kind kind, const struct config *c, pid_t master)
{
    struct sidecar_one *o = &s->one[kind];
    pid_t pid = fork();
    if (pid < 0) {
        log_error("master: fork of the %s: %s", sidecar_names[kind], strerror(errno));
        o->next_start_ms = sidecar_now_ms() + 1000;
        return;
    }
    if (pid == 0) {
        struct publisher_opts po;
        sidecar_publisher_opts(c, &po);
        close(s->notify_wr);
        if (kind == SIDECAR_PUBLISHER)
            _exit(publisher_run(&po, s->notify_rd, master));
        close(s->notify_rd);
        if (kind == SIDECAR_COLLECTOR)
            _exit(collector_run(c, master));
        _exit(resolver_run(&po, master));
    }
    o->pid = pid;
    o->started_ms = sidecar_now_ms();
    log_debug("master: started the %s, pid %ld", sidecar_names[kind], (long)pid);
}

void sidecar_maintain(struct sidecars *s, const struct config *c, pid_t master)
{
    if (s->stopping)
        return;
    long long now = sidecar_now_ms();
    for (int i = 0; i < SIDECAR_N; i++)
        if (!s->one[i].pid && sidecar_wanted((enum sidecar_kind)i, c) && now >= s->one[i].next_start_ms)
            sidecar_start(s, (enum sidecar_kind)i, c, master);
}

int sidecar_reaped(struct sidecars *s, pid_t pid, int status)
{
    for (int i = 0; i < SIDECAR_N; i++) {
        struct sidecar_one *o = &s->one[i];
        if (o->pid != pid)
            continue;
        o->pid = 0;
        long long now = sidecar_now_ms();
        int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (WIFSIGNALED(status))
            log_msg(s->stopping ? LOG_LVL_INFO : LOG_LVL_WARN, "master: the %s (pid %ld) was killed by signal %d (%s)",
                    sidecar_names[i], (long)pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
        else if (!clean)
            log_warn("master: the %s (pid %ld) exited with status %d", sidecar_names[i], (long)pid,
                     WEXITSTATUS(status));
        else
            log_debug("master: the %s (pid %ld) stopped", sidecar_names[i], (long)pid);
        if (now - o->started_ms < SIDECAR_FAST_DEATH_MS && !clean) {
            unsigned shift = o->fast_deaths < 5 ? o->fast_deaths : 5;
            long long delay = 1LL << shift;
            if (delay > SIDECAR_BACKOFF_MAX_S)
                delay = SIDECAR_BACKOFF_MAX_S;
            o->fast_deaths++;
            o->next_start_ms = now + delay * 1000;
        } else {
            o->fast_deaths = 0;
            o->next_start_ms = now;   /* respawn at once: changes may be waiting */
        }
        return 1;
    }
    return 0;
}

void sidecar_restart(struct sidecars *s)
{
    for (int i = 0; i < SIDECAR_N; i++)
        if (s->one[i].pid)
            kill(s->one[i].pid, SIGTERM);
}

int sidecar_stop_tick(struct sidecars *s, int timeout_s)
{
    long long now = sidecar_now_ms();
    int running = 0;
    for (int i = 0; i < SIDECAR_N; i++)
        running |= s->one[i].pid != 0;
    if (!running) {
        s->stopping = 1;
        return 0;
    }
    if (!s->stopping) {
        s->stopping = 1;
        s->stop_sent_ms = now;
        sidecar_restart(s);
    } else if (now - s->stop_sent_ms >= (long long)timeout_s * 1000) {
        for (int i = 0; i < SIDECAR_N; i++)
            if (s->one[i].pid) {
                log_warn("master: the %s did not stop within %d s: killing it", sidecar_names[i], timeout_s);
                kill(s->one[i].pid, SIGKILL);
            }
    }
    return 1;
}

void sidecar_close(struct sidecars *s)
{
    if (s->notify_rd >= 0)
        close(s->notify_rd);
    if (s->notify_wr >= 0)
        close(s->notify_wr);
    s->notify_rd = s->notify_wr = -1;
}
