/* master: pool of pre-forked workers.
 *
 * The master blocks every signal it acts on and takes them synchronously
 * with sigtimedwait() (a 1 s tick), so there is no handler state and no race
 * between a signal and the bookkeeping it changes.
 *
 * Workers are tracked by generation: SIGHUP loads the file again and bumps
 * the generation; the pool is then brought to `workers` processes of the
 * current generation by forking a new worker *before* retiring (SIGTERM) an
 * old one, so capacity never drops while a reload rolls through.
 *
 * A worker reading a request body is held for as long as the client takes
 * to send it, so it does not count against `workers`: each holds one of the
 * upload_workers slots (core/slots.h, core/registry/admit.h), and the pool
 * is `workers` plus the slots held. A worker that takes one sends SIGUSR2,
 * so its replacement starts at once; extra workers are retired at the next
 * tick once bodies end, never one that holds a slot. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "core/log.h"
#include "core/metrics.h"
#include "core/slots.h"
#include "core/xalloc.h"
#include "fcgi/listen.h"
#include "fcgi/master.h"
#include "fcgi/sidecar.h"
#include "fcgi/worker.h"
#include "ipfs/kubo.h"
#include "ipfs/publisher.h"
#include "oci/cache_shm.h"
#include "oci/store_files.h"

#define MASTER_TICK_S 1
/* A worker that dies sooner than this after its start counts as a failed
 * start; after MASTER_FAST_DEATHS of them in a row, starts are delayed
 * (1 s, 2 s, 4 s, ... up to MASTER_BACKOFF_MAX_S) instead of fork-looping. */
#define MASTER_FAST_DEATH_MS 2000
#define MASTER_FAST_DEATHS 3
#define MASTER_BACKOFF_MAX_S 30
/* Stop signals are repeated this often: cheap insurance for a worker that
 * somehow missed the first one. */
#define MASTER_RESEND_MS 1000
/* How long a new master waits for the processes of a master that died
 * (SIGKILL, OOM) to finish the requests they were serving: they inherited
 * the statedir lock, and each stops once its request is done. */
#define MASTER_ORPHAN_WAIT_S 300
#define MASTER_ORPHAN_POLL_MS 100

struct master_child {
    pid_t pid;
    unsigned gen;
    int retiring;        /* sent SIGTERM: not counted as capacity */
    long long started;   /* monotonic ms */
};

struct master {
    struct config cfg;
    int listen_fd;
    const char *listen_how;
    int inherited;       /* fd 0 or systemd's: the listen setting is unused */
    int bound_unix;      /* we created cfg.listen: remove it at exit */
    pid_t self;
    struct master_child *kids;
    size_t nkids, cap;
    unsigned gen;
    int draining;
    int killed;
    long long drain_start, last_resend, next_spawn;
    unsigned fast_deaths;
    struct sidecars side;    /* publisher and resolver */
    char *slots_dir;         /* <statedir>/upload-slots */
    unsigned holders;        /* slots held (bodies being read), as last probed */
    int *holder_pids;        /* their workers (room for config_upload_workers) */
    unsigned holder_cap;
};

/* A drain stops the publisher after the workers; it may be publishing the
 * last change, which a slow routing system can make take a while. */
#define MASTER_SIDECAR_STOP_S 60

static long long master_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *master_signame(int sig)
{
    switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    case SIGUSR1: return "SIGUSR1";
    default: return "signal";
    }
}

/* --- statedir lock --- */

/* mkdir -p: every missing component is created with mode. */
static int master_mkdirs(const char *dir, mode_t mode, char **err)
{
    char *p = xstrdup(dir);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST) {
            *err = xasprintf("statedir %s: mkdir %s: %s", dir, p, strerror(errno));
            free(p);
            return -1;
        }
        *s = saved;
        if (saved == '\0')
            break;
    }
    free(p);
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        *err = xasprintf("statedir %s: not a directory", dir);
        return -1;
    }
    return 0;
}

/* blobdir on: tries whether the node can reference files there. When it
 * cannot, blobfiles = "required" refuses to start (a push would fail at
 * its first blob) and "auto" goes on without blob files (c->blobdir is
 * cleared before any worker is forked), saying why. A node that is down
 * now is only worth a warning. 0, or -1 with *err set. */
static int master_check_blobdir(struct config *c, char **err)
{
    *err = NULL;
    if (!c->blobdir)
        return 0;
    char *kerr = NULL, *why = NULL;
    struct kubo *k = kubo_new(c->ipfsapiaddress, c->ipfsgatewayaddress, &kerr);
    if (!k) {
        *err = kerr ? kerr : xstrdup("kubo client setup failed");
        return -1;
    }
    int rc = store_files_probe(k, c->blobdir, &why);
    if (rc == 0) {
        char *sessions = xasprintf("%s/uploads", c->statedir);
        store_files_recover(k, c->blobdir, sessions);
        free(sessions);
    }
    kubo_free(k);
    if (rc == 0) {
        log_info("master: blob files in %s, referenced by Kubo's filestore", c->blobdir);
        free(why);
        return 0;
    }
    if (rc > 0) {
        log_warn("master: %s; blob files in %s are not checked", why, c->blobdir);
        free(why);
        return 0;
    }
    if (c->blobfiles_required) {
        *err = why;
        return -1;
    }
    log_warn("master: %s; serving without blob files (blob bytes stay in Kubo; blobfiles = \"required\" "
             "refuses to start instead)", why);
    free(why);
    free(c->blobdir);
    c->blobdir = NULL;
    free(c->blobfile_accel);
    c->blobfile_accel = NULL;
    c->blobfile_sendfile = 0;
    return 0;
}

static long master_lock_owner(int fd)
{
    char b[32];
    ssize_t n = pread(fd, b, sizeof b - 1, 0);
    if (n <= 0)
        return -1;
    b[n] = '\0';
    char *end;
    errno = 0;
    unsigned long long v = strtoull(b, &end, 10);
    if (errno || end == b || v == 0 || v > 0x7fffffffULL)
        return -1;
    return (long)v;
}

/* The master recorded in the lock file no longer exists (pid reuse makes
 * this answer "alive" at worst, and then we refuse as before). */
static int master_owner_gone(long owner)
{
    return owner > 0 && kill((pid_t)owner, 0) < 0 && errno == ESRCH;
}

/* The lock's owner is dead but its workers (or publisher), which inherited
 * the lock, are still finishing requests: PR_SET_PDEATHSIG made them drain,
 * so they exit on their own. Refusing would make a restart right after a
 * crash fail for as long as the longest upload in flight; starting beside
 * them would mean two pools (and two publishers) on one statedir. So wait,
 * bounded. 0 once locked, -1 with errno set (EWOULDBLOCK: still held). */
static int master_wait_orphans(int fd, long owner, const char *statedir)
{
    long long start = master_now_ms();
    log_warn("master: statedir %s: its master (pid %ld) is gone, but processes it started still "
             "hold it (requests in flight when it died); waiting up to %d s for them to finish",
             statedir, owner, MASTER_ORPHAN_WAIT_S);
    while (master_now_ms() - start < MASTER_ORPHAN_WAIT_S * 1000LL) {
        struct timespec ts = { 0, MASTER_ORPHAN_POLL_MS * 1000000L };
        nanosleep(&ts, NULL);
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            log_info("master: statedir %s: free after %.1f s", statedir,
                     (double)(master_now_ms() - start) / 1000.0);
            return 0;
        }
        if (errno != EWOULDBLOCK && errno != EINTR)
            return -1;
    }
    errno = EWOULDBLOCK;
    return -1;
}

int master_lock_statedir(const char *statedir, char **err)
{
    *err = NULL;
    if (master_mkdirs(statedir, 0750, err) < 0)
        return -1;
    char *path = xasprintf("%s/master.lock", statedir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        *err = xasprintf("statedir %s: open %s: %s", statedir, path, strerror(errno));
        free(path);
        return -1;
    }
    int e = flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : errno;
    long owner = e == EWOULDBLOCK ? master_lock_owner(fd) : -1;
    if (e == EWOULDBLOCK && master_owner_gone(owner))
        e = master_wait_orphans(fd, owner, statedir) == 0 ? 0 : errno;
    if (e != 0) {
        if (e == EWOULDBLOCK && master_owner_gone(owner))
            *err = xasprintf("statedir %s: master pid %ld is gone, but processes it started still "
                             "hold it after %d s (requests in flight when it died); stop them or "
                             "start again later", statedir, owner, MASTER_ORPHAN_WAIT_S);
        else if (e == EWOULDBLOCK && owner > 0)
            /* lighttpd bin-path (max-procs) and spawn-fcgi -F start several
             * copies: two masters would mean two publishers on one key. */
            *err = xasprintf("another oci-registry-p2p master (pid %ld) owns statedir %s",
                             owner, statedir);
        else if (e == EWOULDBLOCK)
            *err = xasprintf("another oci-registry-p2p master owns statedir %s", statedir);
        else
            *err = xasprintf("statedir %s: flock %s: %s", statedir, path, strerror(e));
        close(fd);
        free(path);
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        *err = xasprintf("statedir %s: writing %s: %s", statedir, path, strerror(errno));
        close(fd);
        free(path);
        return -1;
    }
    free(path);
    return fd;
}

/* --- children --- */

static void master_spawn(struct master *m)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_error("master: fork: %s; retrying in %d s", strerror(errno), MASTER_TICK_S);
        m->next_spawn = master_now_ms() + MASTER_TICK_S * 1000;
        return;
    }
    if (pid == 0)
        _exit(worker_run(&m->cfg, m->listen_fd, m->self));
    if (m->nkids == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->kids = xrealloc(m->kids, m->cap * sizeof *m->kids);
    }
    m->kids[m->nkids++] = (struct master_child){
        .pid = pid, .gen = m->gen, .retiring = 0, .started = master_now_ms(),
    };
    metrics_worker_started();
    log_debug("master: started worker %ld", (long)pid);
}

static void master_retire(struct master_child *k)
{
    k->retiring = 1;
    kill(k->pid, SIGTERM);
}

static void master_count(const struct master *m, size_t *cur, size_t *old)
{
    *cur = *old = 0;
    for (size_t i = 0; i < m->nkids; i++) {
        if (m->kids[i].retiring)
            continue;
        if (m->kids[i].gen == m->gen)
            (*cur)++;
        else
            (*old)++;
    }
}

static int master_holds_slot(const struct master *m, pid_t pid)
{
    for (unsigned i = 0; i < m->holders; i++)
        if (m->holder_pids[i] == pid)
            return 1;
    return 0;
}

/* Retires one active worker: of an older generation if old, else the
 * newest that is not reading a body. */
static void master_retire_one(struct master *m, int old)
{
    for (size_t i = m->nkids; i-- > 0;) {
        struct master_child *k = &m->kids[i];
        if (k->retiring || (old ? k->gen == m->gen : k->gen != m->gen))
            continue;
        if (!old && master_holds_slot(m, k->pid))
            continue;
        master_retire(k);
        return;
    }
}

/* How many bodies are being read, and by whom (the slots' lock files). */
static void master_probe_holders(struct master *m)
{
    unsigned n = (unsigned)config_upload_workers(&m->cfg);
    if (n > m->holder_cap) {
        m->holder_pids = xrealloc(m->holder_pids, n * sizeof *m->holder_pids);
        m->holder_cap = n;
    }
    m->holders = slots_holders(m->slots_dir, n, m->holder_pids);
}

/* Brings the pool to cfg.workers workers of the current generation, plus
 * one for each body being read. */
static void master_maintain(struct master *m)
{
    size_t cur, old, want = (size_t)m->cfg.workers + m->holders;
    master_count(m, &cur, &old);
    while (cur < want && master_now_ms() >= m->next_spawn) {
        size_t before = m->nkids;
        master_spawn(m);
        if (m->nkids == before)
            break;   /* fork failed */
        cur++;
        if (old > 0) {
            master_retire_one(m, 1);   /* one in, one out: capacity never drops */
            old--;
        }
        if (m->fast_deaths >= MASTER_FAST_DEATHS)
            break;   /* after a crash loop, one probe per tick until one survives */
    }
    if (cur >= want)
        for (; old > 0; old--)
            master_retire_one(m, 1);
    for (; cur > want; cur--)
        master_retire_one(m, 0);
}

static void master_log_exit(const struct master_child *k, int status, int expected)
{
    double secs = (double)(master_now_ms() - k->started) / 1000.0;
    enum log_level lvl = expected ? LOG_LVL_INFO : LOG_LVL_WARN;
    if (WIFSIGNALED(status))
        log_msg(lvl, "master: worker %ld killed by signal %d (%s) after %.1f s", (long)k->pid,
                WTERMSIG(status), strsignal(WTERMSIG(status)), secs);
    else if (WIFEXITED(status) && (WEXITSTATUS(status) != 0 || !expected))
        log_msg(WEXITSTATUS(status) ? LOG_LVL_WARN : lvl,
                "master: worker %ld exited with status %d after %.1f s", (long)k->pid,
                WEXITSTATUS(status), secs);
    else
        log_debug("master: worker %ld stopped after %.1f s", (long)k->pid, secs);
}

/* A worker of the current generation that outlived the fast-death window
 * ends a crash loop. */
static void master_check_recovered(struct master *m)
{
    if (m->fast_deaths == 0)
        return;
    long long now = master_now_ms();
    for (size_t i = 0; i < m->nkids; i++) {
        const struct master_child *k = &m->kids[i];
        if (!k->retiring && k->gen == m->gen && now - k->started >= MASTER_FAST_DEATH_MS) {
            if (m->fast_deaths >= MASTER_FAST_DEATHS)
                log_info("master: worker %ld is up; starting the rest", (long)k->pid);
            m->fast_deaths = 0;
            return;
        }
    }
}

/* Counts unexpected deaths right after start, to slow down a crash loop. */
static void master_note_death(struct master *m, const struct master_child *k)
{
    if (master_now_ms() - k->started >= MASTER_FAST_DEATH_MS) {
        m->fast_deaths = 0;
        return;
    }
    if (++m->fast_deaths < MASTER_FAST_DEATHS)
        return;
    unsigned shift = m->fast_deaths - MASTER_FAST_DEATHS;
    long long delay = shift >= 5 ? MASTER_BACKOFF_MAX_S : (1LL << shift);
    if (delay > MASTER_BACKOFF_MAX_S)
        delay = MASTER_BACKOFF_MAX_S;
    m->next_spawn = master_now_ms() + delay * 1000;
    log_error("master: %u workers in a row died right after starting; next start in %lld s",
              m->fast_deaths, delay);
}

static void master_reap(struct master *m)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            return;
        if (sidecar_reaped(&m->side, pid, status))
            continue;
        for (size_t i = 0; i < m->nkids; i++) {
            if (m->kids[i].pid != pid)
                continue;
            struct master_child k = m->kids[i];
            m->kids[i] = m->kids[--m->nkids];
            int expected = k.retiring || m->draining;
            master_log_exit(&k, status, expected);
            metrics_worker_exited(!expected);
            if (!expected)
                master_note_death(m, &k);
            break;
        }
    }
}

static void master_signal_all(struct master *m, int sig, int retiring_only)
{
    for (size_t i = 0; i < m->nkids; i++)
        if (!retiring_only || m->kids[i].retiring)
            kill(m->kids[i].pid, sig);
}

/* --- drain and reload --- */

static void master_start_drain(struct master *m, int sig)
{
    if (m->draining) {
        log_info("master: %s again; still waiting for %zu workers", master_signame(sig), m->nkids);
        return;
    }
    m->draining = 1;
    m->drain_start = m->last_resend = master_now_ms();
    log_info("master: %s: draining %zu workers (in-flight requests finish)%s", master_signame(sig),
             m->nkids, m->cfg.shutdown_timeout > 0 ? "" : "; no time limit");
    for (size_t i = 0; i < m->nkids; i++)
        master_retire(&m->kids[i]);
}

static void master_drain_tick(struct master *m)
{
    long long now = master_now_ms();
    if (m->cfg.shutdown_timeout > 0 && !m->killed &&
        now - m->drain_start >= (long long)m->cfg.shutdown_timeout * 1000) {
        log_warn("master: shutdown_timeout (%d s) reached; killing %zu workers",
                 m->cfg.shutdown_timeout, m->nkids);
        master_signal_all(m, SIGKILL, 0);
        m->killed = 1;
    }
}

static int master_str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static void master_swap_str(char **a, char **b)
{
    char *t = *a;
    *a = *b;
    *b = t;
}

/* Reopen (or switch) the log, and let workers busy with a long request
 * follow before their next line (the shared log generation). SIGUSR1 does
 * only this, for logrotate: no worker is replaced. */
static void master_reopen_log(struct master *m, const char *why)
{
    char *err = NULL;
    if (log_open(m->cfg.logfile, m->cfg.syslog, &err) < 0) {
        log_error("master: %s: %s; logging where it did", why, err);
        free(err);
        return;
    }
    log_rotate();
    if (strcmp(why, "SIGUSR1") == 0)
        log_info("master: SIGUSR1: log reopened");
}

static void master_reload(struct master *m)
{
    struct config nc;
    char *err = NULL;
    const char *file = m->cfg.file ? m->cfg.file : "(built-in defaults)";
    if (config_load(m->cfg.file, &nc, &err) < 0) {
        /* one log line per error: a log line never spans lines */
        for (const char *p = err; p && *p;) {
            size_t n = strcspn(p, "\n");
            log_error("master: SIGHUP: %.*s", (int)n, p);
            p += n + (p[n] == '\n');
        }
        log_error("master: SIGHUP: %s is invalid; keeping the running configuration", file);
        free(err);
        config_free(&nc);
        return;
    }
    /* The socket and the statedir lock are held by this process: changing
     * them means a restart. Keep the running values. */
    if (!m->inherited &&
        (!master_str_eq(nc.listen, m->cfg.listen) || nc.listen_mode != m->cfg.listen_mode))
        log_warn("master: SIGHUP: listen/listen_mode changed; takes effect after a restart");
    if (!master_str_eq(nc.statedir, m->cfg.statedir))
        log_warn("master: SIGHUP: statedir changed; takes effect after a restart");
    if (nc.metadata_cache_mb != m->cfg.metadata_cache_mb)
        log_warn("master: SIGHUP: metadata_cache_mb changed; takes effect after a restart");
    master_swap_str(&nc.listen, &m->cfg.listen);
    master_swap_str(&nc.statedir, &m->cfg.statedir);
    nc.listen_mode = m->cfg.listen_mode;
    nc.metadata_cache_mb = m->cfg.metadata_cache_mb;   /* the table is mapped once */
    config_free(&m->cfg);
    m->cfg = nc;
    log_set_level(m->cfg.log_level);
    master_reopen_log(m, "SIGHUP");   /* logfile/syslog may have changed */
    m->gen++;
    m->fast_deaths = 0;
    m->next_spawn = 0;
    log_info("master: SIGHUP: reloaded %s; replacing workers one at a time (%d wanted)",
             m->cfg.file ? m->cfg.file : "(built-in defaults)", m->cfg.workers);
    master_maintain(m);
    /* they exit (publishing what is pending) and start again with the new settings */
    sidecar_restart(&m->side);
}

/* --- main loop --- */

static void master_loop(struct master *m, const sigset_t *set)
{
    master_maintain(m);
    for (;;) {
        struct timespec tick = { MASTER_TICK_S, 0 };
        siginfo_t si;
        int sig = sigtimedwait(set, &si, &tick);
        if (!m->draining)
            master_probe_holders(m);   /* SIGUSR2: a body began; or the tick */
        if (sig == SIGTERM || sig == SIGINT)
            master_start_drain(m, sig);
        else if (sig == SIGHUP && !m->draining)
            master_reload(m);
        else if (sig == SIGUSR1)
            master_reopen_log(m, "SIGUSR1");
        master_reap(m);
        long long now = master_now_ms();
        if (m->draining) {
            /* the publisher goes last, so every change is published */
            if (m->nkids == 0 && !sidecar_stop_tick(&m->side, MASTER_SIDECAR_STOP_S))
                return;
            master_drain_tick(m);
        } else {
            master_check_recovered(m);
            master_maintain(m);
            sidecar_maintain(&m->side, &m->cfg, m->self);
        }
        /* An idle worker may in principle be between its last check of the
         * stop flag and its wait; a repeated SIGTERM costs nothing. */
        if (now - m->last_resend >= MASTER_RESEND_MS) {
            m->last_resend = now;
            if (!m->killed)
                master_signal_all(m, SIGTERM, 1);
        }
    }
}

int master_run(struct config *c)
{
    struct master m;
    memset(&m, 0, sizeof m);
    m.cfg = *c;
    memset(c, 0, sizeof *c);
    m.self = getpid();
    log_set_role("master");

    char *err = NULL;
    if (log_open(m.cfg.logfile, m.cfg.syslog, &err) < 0) {
        log_error("%s", err);
        free(err);
        config_free(&m.cfg);
        return 1;
    }
    /* Before any fork: every worker inherits the mapping. */
    if (metrics_init_shared(&err) < 0) {
        log_warn("%s; each worker will report only its own counters", err);
        free(err);
        err = NULL;
    }
    log_share_generation(&metrics_live()->log_generation);
    /* The metadata cache's table and generation, shared the same way; without
     * it the workers simply ask Kubo every time (oci/store_cache.h). */
    size_t cache_bytes = (size_t)m.cfg.metadata_cache_mb << 20;
    if (cache_shm_init(cache_bytes, &err) < 0) {
        log_warn("%s; metadata is not cached", err);
        free(err);
        err = NULL;
    } else if (cache_shm_available()) {
        log_info("master: metadata cache: %u MiB, %zu entries", m.cfg.metadata_cache_mb,
                 cache_shm_entries_for(cache_bytes));
    } else {
        log_info("master: metadata cache off (metadata_cache_mb = 0)");
    }
    int lock_fd = master_lock_statedir(m.cfg.statedir, &err);
    if (lock_fd < 0) {
        log_error("%s", err);
        free(err);
        config_free(&m.cfg);
        return 1;
    }
    m.listen_fd = listen_open(m.cfg.listen, m.cfg.listen_mode, &m.listen_how, &err);
    if (m.listen_fd < 0) {
        log_error("%s", err);
        free(err);
        close(lock_fd);
        config_free(&m.cfg);
        return 1;
    }
    struct publisher_opts po;
    sidecar_publisher_opts(&m.cfg, &po);
    if (publisher_check_key(&po, &err) < 0 || publisher_claim(&po, getpid(), &err) < 0 ||
        master_check_blobdir(&m.cfg, &err) < 0 || sidecar_init(&m.side, &err) < 0) {
        log_error("%s", err);
        free(err);
        close(m.listen_fd);
        close(lock_fd);
        config_free(&m.cfg);
        return 1;
    }
    worker_set_notify_fd(m.side.notify_wr);
    m.inherited = strncmp(m.listen_how, "bound", 5) != 0;
    m.bound_unix = strcmp(m.listen_how, "bound unix socket") == 0;
    if (m.inherited && m.cfg.listen)
        log_warn("master: listen = %s ignored: serving on the %s", m.cfg.listen, m.listen_how);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);   /* from a worker: it began reading a body */
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    /* a closed log pipe must not kill the master */
    signal(SIGPIPE, SIG_IGN);

    log_info("master: serving on %s%s%s, %d workers, statedir %s, config %s",
             m.listen_how, m.inherited ? "" : " ", m.inherited ? "" : m.cfg.listen,
             m.cfg.workers, m.cfg.statedir,
             m.cfg.file ? m.cfg.file : "(built-in defaults)");
    m.slots_dir = xasprintf("%s/upload-slots", m.cfg.statedir);
    master_loop(&m, &set);
    log_info("master: all workers gone; exiting");

    if (m.bound_unix && m.cfg.listen)
        unlink(m.cfg.listen);
    close(m.listen_fd);
    sidecar_close(&m.side);
    free(m.kids);
    free(m.slots_dir);
    free(m.holder_pids);
    config_free(&m.cfg);
    close(lock_fd);
    return 0;
}
