/* publisher: IPNS writes and read-only key resolution (see publisher.h).
 *
 * Signals as in the workers: SIGTERM/SIGINT stay blocked and are only taken
 * inside ppoll(), so a stop never interrupts an RPC half way; a pending
 * change is then published before the process exits. */
#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include "core/childsig.h"
#include "core/gcmark.h"
#include "core/log.h"
#include "core/p2pstate.h"
#include "core/xalloc.h"
#include "ipfs/kubo.h"
#include "ipfs/name.h"
#include "ipfs/owner.h"
#include "ipfs/pub_timing.h"
#include "ipfs/publisher.h"

/* How often publisher.json is rewritten while nothing happens (the health
 * check wants a heartbeat at most P2P_HEARTBEAT_S old). */
#define PUB_STATE_EVERY_MS 2000
/* A routing lookup must not hold the loop for ever. */
#define PUB_RESOLVE_TIMEOUT_S 30
/* While another writer holds the key, look again this often. */
#define PUB_OTHER_WRITER_RECHECK_S 30

static volatile sig_atomic_t pub_stop;

static void pub_on_stop(int sig)
{
    (void)sig;
    pub_stop = 1;
}

static long long pub_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct kubo *pub_kubo(const struct publisher_opts *o)
{
    char *err = NULL;
    struct kubo *k = kubo_new(o->ipfsapiaddress, o->ipfsgatewayaddress, &err);
    if (!k) {
        log_error("%s", err ? err : "kubo client setup failed");
        free(err);
        return NULL;
    }
    /* its flush of mfsroot must not run inside a worker's change (ipfs/mfs.c) */
    char *lock = xasprintf("%s/mfs.lock", o->statedir);
    if (kubo_set_mfs_lock(k, lock) < 0) {
        log_error("publisher: %s", kubo_errmsg(k));
        kubo_free(k);
        k = NULL;
    }
    free(lock);
    return k;
}

/* ------------------------------------------------------------ publisher */

struct pub {
    const struct publisher_opts *o;
    struct kubo *k;
    struct p2p_pubstate st;
    int notify_fd;
    int ready;                   /* start-up checks passed: may publish */
    struct pub_timing tm;        /* change period, start-up retry, publish back-off */
    unsigned long changes;       /* notifications since the last publish */
    long long last_write_ms;
    char logged[P2P_ERR_MAX];    /* the last error logged: log each state change once */
    struct owner_hold own;       /* mfsroot's and the key's owner records, renewed here */
    pid_t master_pid;
    char *epoch;                 /* a collection's changes (core/gcmark.h): no worker tells of them */
    long long epoch_seen;
};

static void pub_save(struct pub *p)
{
    p->st.heartbeat = time(NULL);
    if (p2pstate_write_pub(p->o->statedir, &p->st) < 0)
        log_warn("publisher: cannot write %s/%s: %s", p->o->statedir, P2P_STATE_FILE, strerror(errno));
    p->last_write_ms = pub_now_ms();
}

static void pub_set_state(struct pub *p, const char *state)
{
    snprintf(p->st.state, sizeof p->st.state, "%s", state);
}

/* Records an error; logs it only if it differs from the last one logged. */
static void pub_error(struct pub *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pub_error(struct pub *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->st.last_error, sizeof p->st.last_error, fmt, ap);
    va_end(ap);
    if (strcmp(p->st.last_error, p->logged) != 0) {
        log_error("publisher: %s", p->st.last_error);
        memcpy(p->logged, p->st.last_error, sizeof p->logged);
    }
}

static void pub_clear_error(struct pub *p, const char *what)
{
    if (p->logged[0])
        log_info("publisher: %s: recovered", what);
    p->logged[0] = '\0';
    p->st.last_error[0] = '\0';
}

static void pub_retry_startup(struct pub *p, unsigned secs)
{
    pub_timing_retry_startup(&p->tm, pub_now_ms(), secs);
}

/* The node must have someone to ask before "no record" means "nothing
 * published": an online node with no peers answers "could not resolve"
 * for a key that is in fact published elsewhere. */
static int pub_has_peers(struct pub *p)
{
    if (p->o->publish_allow_offline)
        return 1;   /* a lone node by configuration: its own answer is the answer */
    return kubo_swarm_peer_count(p->k) > 0;
}

/* The start-up rules: import the published root into a missing mfsroot,
 * never publish over a state we could not read, refuse another writer's
 * root unless told to. Sets p->ready when publishing may start. */
static void pub_startup(struct pub *p)
{
    const struct publisher_opts *o = p->o;
    int krc = kubo_key_find(p->k, o->writeipnskey, p->st.key_id);
    if (krc == KUBO_NOT_FOUND) {
        pub_set_state(p, "no_key");
        pub_error(p, "writeipnskey %s: %s", o->writeipnskey, kubo_errmsg(p->k));
        pub_retry_startup(p, 10);
        return;
    }
    if (krc != KUBO_OK) {
        pub_set_state(p, "starting");
        pub_error(p, "writeipnskey %s: %s", o->writeipnskey, kubo_errmsg(p->k));
        pub_retry_startup(p, 2);
        return;
    }
    pub_set_state(p, "resolving");
    char published[KUBO_CID_MAX] = "";
    enum kubo_resolve res = kubo_name_resolve(p->k, p->st.key_id, 1, PUB_RESOLVE_TIMEOUT_S, published);
    if (res == KUBO_RESOLVE_FAILED) {
        pub_error(p, "resolving our own key %s failed, not publishing until it answers: %s",
                  p->st.key_id, kubo_errmsg(p->k));
        pub_retry_startup(p, 2);
        return;
    }
    if (res == KUBO_RESOLVE_NO_RECORD && !pub_has_peers(p)) {
        pub_error(p, "key %s has no record the node can find, and the node has no peers to ask: "
                  "not taking that for \"never published\" (set publish_allow_offline for a lone node)",
                  p->st.key_id);
        pub_retry_startup(p, 2);
        return;
    }
    char cur[KUBO_CID_MAX] = "";
    krc = kubo_files_flush(p->k, o->mfsroot, cur);
    if (krc == KUBO_NOT_FOUND) {
        cur[0] = '\0';
    } else if (krc != KUBO_OK) {
        pub_error(p, "mfsroot %s: %s", o->mfsroot, kubo_errmsg(p->k));
        pub_retry_startup(p, 2);
        return;
    }
    if (res == KUBO_RESOLVED) {
        if (!cur[0]) {
            /* a new machine with the same key continues the same registry */
            char *src = xasprintf("/ipfs/%s", published);
            krc = kubo_files_cp(p->k, src, o->mfsroot);
            free(src);
            if (krc != KUBO_OK && krc != KUBO_EXISTS) {
                pub_error(p, "importing %s (what %s points at) into %s: %s", published, p->st.key_id,
                          o->mfsroot, kubo_errmsg(p->k));
                pub_retry_startup(p, 2);
                return;
            }
            log_info("publisher: %s did not exist: imported %s, the root %s points at", o->mfsroot,
                     published, p->st.key_id);
            snprintf(cur, sizeof cur, "%s", published);
            snprintf(p->st.last_published_cid, sizeof p->st.last_published_cid, "%s", published);
        } else if (strcmp(published, cur) == 0 || strcmp(published, p->st.last_published_cid) == 0) {
            /* ours: what we published (mfsroot may have moved on since) */
            if (!p->st.last_published_cid[0] || strcmp(published, cur) == 0)
                snprintf(p->st.last_published_cid, sizeof p->st.last_published_cid, "%s", published);
        } else if (!o->other_writer_overwrite) {
            pub_set_state(p, "other_writer");
            snprintf(p->st.other_writer_cid, sizeof p->st.other_writer_cid, "%s", published);
            pub_error(p, "ANOTHER WRITER: key %s points at %s, which this registry did not publish "
                      "(our last: %s, our mfsroot: %s); refusing to publish over it "
                      "(other_writer = \"overwrite\" to take the key over)",
                      p->st.key_id, published, p->st.last_published_cid[0] ? p->st.last_published_cid : "none",
                      cur);
            pub_retry_startup(p, PUB_OTHER_WRITER_RECHECK_S);
            return;
        } else {
            log_warn("publisher: key %s points at %s, which this registry did not publish; "
                     "other_writer = \"overwrite\": publishing our root %s over it",
                     p->st.key_id, published, cur);
        }
    }
    p->st.other_writer_cid[0] = '\0';
    pub_set_state(p, "ready");
    pub_clear_error(p, "start-up");
    p->ready = 1;
    log_info("publisher: ready: key %s (%s), published root %s, mfsroot %s", o->writeipnskey, p->st.key_id,
             res == KUBO_RESOLVED ? published : "none yet", cur[0] ? cur : "not created yet");
    if (cur[0] && strcmp(cur, p->st.last_published_cid) != 0 && !p->tm.first_change_ms) {
        /* changed while no publisher ran (a crash, a restart): publish it */
        pub_timing_notice(&p->tm, pub_now_ms());
        p->st.pending = 1;
    }
}

static void pub_publish(struct pub *p)
{
    const struct publisher_opts *o = p->o;
    char cid[KUBO_CID_MAX];
    long long t0 = pub_now_ms();
    unsigned long changes = p->changes;
    int krc = kubo_files_flush(p->k, o->mfsroot, cid);
    if (krc == KUBO_NOT_FOUND) {
        p->st.pending = 0;   /* nothing written yet */
        p->tm.first_change_ms = 0;
        return;
    }
    if (krc == KUBO_OK && strcmp(cid, p->st.last_published_cid) == 0) {
        p->st.pending = 0;   /* the changes cancelled out, or were published already */
        p->tm.first_change_ms = 0;
        p->changes = 0;
        return;
    }
    if (krc == KUBO_OK) {
        struct kubo_publish_opts po = {
            .key = o->writeipnskey, .lifetime = o->ipns_lifetime, .ttl = o->ipns_ttl,
            .allow_offline = o->publish_allow_offline,
        };
        krc = kubo_name_publish(p->k, cid, &po);
    }
    if (krc != KUBO_OK) {
        p->st.publish_failures_total++;
        pub_timing_failed(&p->tm, pub_now_ms());
        pub_error(p, "publish of %s failed (retrying, backoff up to %d s): %s", o->mfsroot,
                  PUB_BACKOFF_MAX_S, kubo_errmsg(p->k));
        return;
    }
    snprintf(p->st.last_published_cid, sizeof p->st.last_published_cid, "%s", cid);
    p->st.last_published_at = time(NULL);
    long long t1 = pub_now_ms();
    p->st.last_publish_ms = (unsigned long long)(t1 - t0);
    p->st.last_latency_ms = p->tm.first_change_ms ? (unsigned long long)(t1 - p->tm.first_change_ms) : 0;
    p->st.sequence++;
    p->st.publishes_total++;
    p->st.pending = 0;
    p->tm.first_change_ms = 0;   /* after the latency above */
    p->changes -= changes;
    p->tm.backoff_s = 0;
    p->tm.next_try_ms = 0;
    pub_clear_error(p, "publish");
    log_info("publisher: published %s under %s (%lu change notices, %llu ms; %llu ms after the first change)",
             cid, o->writeipnskey, changes, p->st.last_publish_ms, p->st.last_latency_ms);
    pub_save(p);
}

/* Empties the notification pipe; 1 if anything was in it. */
static int pub_drain(struct pub *p)
{
    char b[512];
    int any = 0;
    for (;;) {
        ssize_t n = read(p->notify_fd, b, sizeof b);
        if (n > 0) {
            any = 1;
            p->changes += (unsigned long)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return any;
    }
}

static enum pub_timing_phase pub_phase(const struct pub *p)
{
    if (p->ready)
        return p->st.pending ? PUB_TIMING_PENDING : PUB_TIMING_IDLE;
    return p->o->writeipnskey ? PUB_TIMING_STARTING : PUB_TIMING_IDLE;
}

/* When the loop wakes next: the heartbeat of publisher.json, or sooner if
 * the start-up retry or a publish is due. */
static long long pub_deadline(const struct pub *p)
{
    long long d = p->last_write_ms + PUB_STATE_EVERY_MS;
    long long due = pub_timing_due(&p->tm, pub_phase(p));
    if (p->own.next_ms < d)
        d = p->own.next_ms;
    return due < d ? due : d;
}

/* Claims or renews the owner records when due. Another registry holding
 * one means two writers on one tree or key: this registry stops (the
 * master drains and exits), loudly, rather than overwrite the other. */
static void pub_own(struct pub *p, long long now)
{
    char *err = NULL;
    if (owner_hold_tick(&p->own, p->k, now, &err) == 0)
        return;
    pub_set_state(p, "not_owner");
    pub_error(p, "%s; stopping this registry", err);
    free(err);
    pub_save(p);
    kill(p->master_pid, SIGTERM);
    p->own.next_ms = now + 1000LL * p->own.lease_s;   /* the master is stopping: ask no more */
}

static void pub_loop(struct pub *p, pid_t master_pid, const sigset_t *waitmask)
{
    while (!pub_stop && getppid() == master_pid) {
        long long now = pub_now_ms();
        long long wait = pub_deadline(p) - now;
        if (wait < 0)
            wait = 0;
        struct timespec ts = { wait / 1000, (wait % 1000) * 1000000L };
        struct pollfd pfd = { .fd = p->notify_fd, .events = POLLIN };
        int pr = ppoll(&pfd, 1, &ts, waitmask);
        if (pr < 0 && errno != EINTR) {
            log_error("publisher: poll: %s", strerror(errno));
            return;
        }
        now = pub_now_ms();
        /* a collection (`gc`, or the collector) grows the epoch after it
         * removed something: a change like a worker's, seen within a heartbeat */
        long long epoch = gcmark_epoch_read(p->epoch);
        int collected = epoch != p->epoch_seen;
        p->epoch_seen = epoch;
        if (((pr > 0 && pub_drain(p)) || collected) && p->o->writeipnskey) {
            pub_timing_notice(&p->tm, now);
            if (!p->st.pending) {
                p->st.pending = 1;
                pub_save(p);   /* the status shows a change waiting at once */
            }
        }
        if (pub_stop)
            break;
        pub_own(p, now);
        if (p->o->writeipnskey && !p->ready && now >= p->tm.next_startup_ms)
            pub_startup(p);
        /* the publish's own time, not the loop's wake-up: a heartbeat due
         * first must not cut the quiet period short */
        if (p->ready && p->st.pending && now >= pub_timing_due(&p->tm, pub_phase(p)))
            pub_publish(p);
        if (pub_now_ms() - p->last_write_ms >= PUB_STATE_EVERY_MS)
            pub_save(p);
    }
}

int publisher_run(const struct publisher_opts *o, int notify_fd, pid_t master_pid)
{
    log_set_role("publisher");
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    prctl(PR_SET_NAME, "orp2p-publisher");
    sigset_t waitmask;
    childsig_setup(pub_on_stop, &waitmask);
    if (getppid() != master_pid)
        return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("publisher: libcurl initialisation failed");
        return 1;
    }
    struct pub p;
    memset(&p, 0, sizeof p);
    p.o = o;
    p.notify_fd = notify_fd;
    p.tm.quiet_ms = o->publish_quiet_ms;
    p.tm.max_interval_ms = o->publish_max_interval_ms;
    p.master_pid = master_pid;
    p.epoch = gcmark_epoch_path(o->statedir);
    p.epoch_seen = gcmark_epoch_read(p.epoch);
    p.k = pub_kubo(o);
    if (!p.k) {
        curl_global_cleanup();
        return 1;
    }
    owner_hold_init(&p.own, o->mfsroot, o->writeipnskey, o->statedir, master_pid, o->owner_lease);
    /* what an earlier publisher of this statedir published: ours, not another writer's */
    struct p2p_pubstate prev;
    if (p2pstate_read_pub(o->statedir, &prev) == 0 && strcmp(prev.key, o->writeipnskey ? o->writeipnskey : "") == 0) {
        memcpy(p.st.last_published_cid, prev.last_published_cid, sizeof p.st.last_published_cid);
        p.st.last_published_at = prev.last_published_at;
        p.st.sequence = prev.sequence;
        p.st.publishes_total = prev.publishes_total;
        p.st.publish_failures_total = prev.publish_failures_total;
    }
    p.st.pid = (long)getpid();
    snprintf(p.st.key, sizeof p.st.key, "%s", o->writeipnskey ? o->writeipnskey : "");
    pub_set_state(&p, o->writeipnskey ? "starting" : "disabled");
    if (!o->writeipnskey)
        log_info("publisher: no writeipnskey: nothing will be published");
    pub_save(&p);

    pub_loop(&p, master_pid, &waitmask);

    /* SIGTERM: what was written must not be lost with us */
    if (pub_drain(&p) && o->writeipnskey) {
        p.st.pending = 1;
        if (!p.tm.first_change_ms)
            p.tm.first_change_ms = pub_now_ms();
    }
    if (p.ready && p.st.pending) {
        log_info("publisher: stopping: publishing the pending change first");
        p.tm.next_try_ms = 0;
        pub_publish(&p);
    }
    pub_set_state(&p, "stopped");
    pub_save(&p);
    owner_hold_release(&p.own, p.k);
    owner_hold_free(&p.own);
    kubo_free(p.k);
    free(p.epoch);
    curl_global_cleanup();
    return 0;
}

int publisher_check_key(const struct publisher_opts *o, char **err)
{
    *err = NULL;
    if (!o->writeipnskey)
        return 0;
    struct kubo *k = pub_kubo(o);
    if (!k)
        return 0;
    char id[KUBO_CID_MAX];
    int krc = kubo_key_find(k, o->writeipnskey, id);
    int rc = 0;
    if (krc == KUBO_NOT_FOUND) {
        *err = xasprintf("writeipnskey \"%s\": %s", o->writeipnskey, kubo_errmsg(k));
        rc = -1;
    } else if (krc != KUBO_OK) {
        log_warn("master: cannot check writeipnskey now (%s); the publisher will keep trying", kubo_errmsg(k));
    }
    kubo_free(k);
    return rc;
}

int publisher_claim(const struct publisher_opts *o, pid_t master_pid, char **err)
{
    *err = NULL;
    struct kubo *k = pub_kubo(o);
    if (!k)
        return 0;
    struct owner_hold h;
    owner_hold_init(&h, o->mfsroot, o->writeipnskey, o->statedir, master_pid, o->owner_lease);
    int rc = owner_hold_tick(&h, k, 0, err);
    if (rc == 0 && !h.held)
        log_warn("master: cannot claim %s now; the publisher keeps trying", o->mfsroot);
    owner_hold_free(&h);
    kubo_free(k);
    return rc;
}
