/* resolver: resolves the read-only keys for every worker and, with
 * pinreadonly, keeps a pin on each key's latest root (see publisher.h).
 *
 * A pin never holds back a newer root: each pin runs in a child process of
 * its own (a "pinner": the metadata a tag needs first, then pin/add with
 * progress), while this loop goes on
 * resolving and writing roots.json, so a follower serves a new tag as soon
 * as its root resolves and fetches its blobs on demand while the pin
 * catches up. A newer root supersedes a pin in progress (the child is
 * stopped, which cancels Kubo's pin/add, and one for the newer root starts);
 * the pin of the last root whose pin completed stays until the next one
 * completes, so a follower always holds one whole root. roots.json shows
 * the pinned root, the root being pinned and its progress. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include "core/childsig.h"
#include "core/log.h"
#include "core/p2pstate.h"
#include "core/progress.h"
#include "core/xalloc.h"
#include "ipfs/kubo.h"
#include "ipfs/name.h"
#include "ipfs/publisher.h"

/* A routing lookup must not hold the loop for ever. */
#define RES_RESOLVE_TIMEOUT_S 30
/* The loop wakes this often between rounds: finished pins are noticed and
 * progress reaches roots.json within it. */
#define RES_TICK_MS 1000
/* A failed pin is tried again after this long (or the next newer root). */
#define RES_PIN_RETRY_MS 10000

static volatile sig_atomic_t res_stop;

static void res_on_stop(int sig)
{
    (void)sig;
    res_stop = 1;
}

/* What a pinner reports, in a page shared with the resolver. */
struct res_progress {
    uint64_t nodes, bytes;
};

/* One key's pin in progress. */
struct res_pin {
    pid_t pid;                    /* the pinner, 0: none running */
    long long started_ms;
    long long retry_ms;           /* after a failure: not before this */
    char failed[P2P_CID_MAX];     /* the root whose pin failed last */
};

struct resolver {
    const struct publisher_opts *o;
    struct kubo *k;
    struct p2p_root *roots;       /* one per readonlyipnskeys entry, in order */
    struct res_pin *pins;
    struct res_progress *progress;   /* MAP_SHARED, one per key */
    char (*older)[P2P_CID_MAX];      /* per key: the older root last refused (logged once) */
    int offline;                     /* the node cannot name/get: name/resolve only */
    size_t n;
};

static struct kubo *res_kubo(const struct publisher_opts *o)
{
    char *err = NULL;
    struct kubo *k = kubo_new(o->ipfsapiaddress, o->ipfsgatewayaddress, &err);
    if (!k) {
        log_error("resolver: %s", err ? err : "kubo client setup failed");
        free(err);
    }
    return k;
}

/* ------------------------------------------------------------- pinner */

static void res_pinner_progress(uint64_t nodes, uint64_t bytes, void *ctx)
{
    struct res_progress *p = ctx;
    __atomic_store_n(&p->nodes, nodes, __ATOMIC_RELAXED);
    __atomic_store_n(&p->bytes, bytes, __ATOMIC_RELAXED);
}

/* Before the pin: the subtrees a tag needs (the repositories' links, each
 * blob's first block, which for a manifest is all of it). A pin asks for
 * every block of the root at once; on a slow link a tag's few blocks would
 * wait behind them (12 s at 25 Mbit/s with 302 blocks wanted). A failure
 * here only costs that wait: the pin goes on. */
static void res_prefetch(const struct publisher_opts *o, struct kubo *k, const char *key, const char *cid)
{
    for (size_t i = 0; i < o->n_prefetch; i++) {
        const struct publisher_prefetch *f = &o->prefetch[i];
        char *path = xasprintf("/ipfs/%s/%s", cid, f->path);
        long long t0 = progress_now_ms();
        uint64_t n = 0;
        int krc = kubo_refs_fetch(k, path, f->depth, &n);
        if (krc == KUBO_OK)
            log_info("resolver: fetched %s before its pin (%s): %llu links in %lld ms", path, key,
                     (unsigned long long)n, progress_now_ms() - t0);
        else if (krc == KUBO_NOT_FOUND)
            log_debug("resolver: %s: none yet (%s)", path, key);
        else
            log_warn("resolver: fetching %s before its pin (%s): %s", path, key, kubo_errmsg(k));
        free(path);
    }
}

/* The child: pin/add of cid, then exit 0, or 1 after logging why. A
 * SIGTERM (superseded, or the registry stopping) ends it at once: the
 * connection closes and Kubo cancels the pin. */
static void res_pinner(const struct publisher_opts *o, const char *key, const char *cid,
                       struct res_progress *p, pid_t resolver)
{
    log_set_role("pinner");
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    prctl(PR_SET_NAME, "orp2p-pinner");
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (getppid() != resolver)
        _exit(1);
    struct kubo *k = res_kubo(o);
    if (!k)
        _exit(1);
    res_prefetch(o, k, key, cid);
    int krc = kubo_pin_add_progress(k, cid, res_pinner_progress, p);
    if (krc != KUBO_OK)
        log_error("resolver: pinning %s (%s): %s", cid, key, kubo_errmsg(k));
    kubo_free(k);
    _exit(krc == KUBO_OK ? 0 : 1);
}

/* Stops key i's pinner, if one runs, and waits for it. */
static void res_pin_stop(struct resolver *r, size_t i)
{
    struct res_pin *pin = &r->pins[i];
    if (!pin->pid)
        return;
    kill(pin->pid, SIGTERM);
    while (waitpid(pin->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    pin->pid = 0;
}

static void res_pin_start(struct resolver *r, size_t i)
{
    struct p2p_root *ro = &r->roots[i];
    struct res_pin *pin = &r->pins[i];
    memset(&r->progress[i], 0, sizeof r->progress[i]);
    pid_t me = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        log_error("resolver: cannot start the pin of %s (%s): fork: %s", ro->cid, ro->key, strerror(errno));
        pin->retry_ms = progress_now_ms() + RES_PIN_RETRY_MS;
        return;
    }
    if (pid == 0)
        res_pinner(r->o, ro->key, ro->cid, &r->progress[i], me);
    pin->pid = pid;
    pin->started_ms = progress_now_ms();
    snprintf(ro->pinning, sizeof ro->pinning, "%s", ro->cid);
    ro->pin_started = time(NULL);
    ro->pin_nodes = ro->pin_bytes = 0;
    log_info("resolver: pinning %s for %s%s%s%s", ro->cid, ro->key,
             ro->pinned[0] ? " (the pin of " : "", ro->pinned, ro->pinned[0] ? " stays until it completes)" : "");
}

/* A pinner of key i ended with status st: the pin moves, or is tried again. */
static void res_pin_done(struct resolver *r, size_t i, int st)
{
    struct p2p_root *ro = &r->roots[i];
    struct res_pin *pin = &r->pins[i];
    long long took = progress_now_ms() - pin->started_ms;
    pin->pid = 0;
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        log_warn("resolver: the pin of %s (%s) failed after %lld ms; trying again in %d s", ro->pinning,
                 ro->key, took, RES_PIN_RETRY_MS / 1000);
        snprintf(pin->failed, sizeof pin->failed, "%s", ro->pinning);
        pin->retry_ms = progress_now_ms() + RES_PIN_RETRY_MS;
        ro->pinning[0] = '\0';
        return;
    }
    char old[P2P_CID_MAX];
    snprintf(old, sizeof old, "%s", ro->pinned);
    snprintf(ro->pinned, sizeof ro->pinned, "%s", ro->pinning);
    ro->pinning[0] = '\0';
    pin->failed[0] = '\0';
    if (old[0] && strcmp(old, ro->pinned) != 0 && kubo_pin_rm(r->k, old) != KUBO_OK)
        log_warn("resolver: unpinning %s (%s): %s", old, ro->key, kubo_errmsg(r->k));
    log_info("resolver: pinned %s for %s in %lld ms (%llu blocks)%s%s", ro->pinned, ro->key, took,
             (unsigned long long)__atomic_load_n(&r->progress[i].nodes, __ATOMIC_RELAXED),
             old[0] && strcmp(old, ro->pinned) != 0 ? ", unpinned " : "", old[0] && strcmp(old, ro->pinned) != 0 ? old : "");
}

/* Reaps finished pinners, starts or supersedes pins, copies progress into
 * the roots. 1 if roots.json needs rewriting. */
static int res_pins(struct resolver *r)
{
    int changed = 0;
    long long now = progress_now_ms();
    for (size_t i = 0; i < r->n && !res_stop; i++) {
        struct p2p_root *ro = &r->roots[i];
        struct res_pin *pin = &r->pins[i];
        int st;
        if (pin->pid && waitpid(pin->pid, &st, WNOHANG) == pin->pid) {
            res_pin_done(r, i, st);
            changed = 1;
        }
        if (!ro->cid[0])
            continue;
        if (strcmp(ro->cid, ro->pinned) == 0) {
            if (pin->pid) {   /* the key went back to the pinned root: the pin in progress is moot */
                res_pin_stop(r, i);
                ro->pinning[0] = '\0';
                changed = 1;
            }
            continue;
        }
        if (pin->pid && strcmp(ro->pinning, ro->cid) != 0) {
            log_info("resolver: %s superseded the pin of %s (%s) in progress", ro->cid, ro->pinning, ro->key);
            res_pin_stop(r, i);
            ro->pinning[0] = '\0';
            changed = 1;
        }
        if (!pin->pid && (strcmp(pin->failed, ro->cid) != 0 || now >= pin->retry_ms)) {
            res_pin_start(r, i);
            changed = 1;
        }
        if (pin->pid) {
            uint64_t nodes = __atomic_load_n(&r->progress[i].nodes, __ATOMIC_RELAXED);
            uint64_t bytes = __atomic_load_n(&r->progress[i].bytes, __ATOMIC_RELAXED);
            if (nodes != ro->pin_nodes || bytes != ro->pin_bytes) {
                ro->pin_nodes = nodes;
                ro->pin_bytes = bytes;
                changed = 1;
            }
        }
    }
    return changed;
}

/* ------------------------------------------------------------ resolving */

/* Key i's current root. An IPNS name's record carries its sequence number
 * (name/get + name/inspect). A DNSLink name (it has dots) has none, and an
 * offline node cannot name/get: both go through name/resolve. */
static enum kubo_resolve res_resolve(struct resolver *r, size_t i, char cid[KUBO_CID_MAX],
                                     unsigned long long *seq, int *seq_known)
{
    const char *key = r->roots[i].key;
    *seq_known = 0;
    if (!strchr(key, '.') && !r->offline) {
        enum kubo_resolve res = kubo_name_record(r->k, key, RES_RESOLVE_TIMEOUT_S, cid, seq);
        if (res != KUBO_RESOLVE_FAILED || !strstr(kubo_errmsg(r->k), "online mode")) {
            *seq_known = res == KUBO_RESOLVED;
            return res;
        }
        log_info("resolver: the node is offline (no name/get): keys resolve with name/resolve, "
                 "without the check that a record is not older than the one served");
        r->offline = 1;
    }
    return kubo_name_resolve(r->k, key, 1, RES_RESOLVE_TIMEOUT_S, cid);
}

/* One round over every key; 1 if roots.json needs rewriting. */
static int res_round(struct resolver *r)
{
    int changed = 0;
    for (size_t i = 0; i < r->n && !res_stop; i++) {
        struct p2p_root *ro = &r->roots[i];
        char cid[KUBO_CID_MAX], was[P2P_CID_MAX];
        char err[P2P_ERR_MAX] = "";
        unsigned long long seq = 0;
        int seq_known = 0;
        enum kubo_resolve res = res_resolve(r, i, cid, &seq, &seq_known);
        snprintf(was, sizeof was, "%s", ro->cid);
        enum p2p_root_take take = res == KUBO_RESOLVED ? p2p_root_take(ro, cid, seq_known, seq) : P2P_ROOT_SAME;
        if (res == KUBO_RESOLVED)
            ro->resolved_at = time(NULL);
        if (take == P2P_ROOT_NEW) {
            char sq[48] = "no sequence number";
            if (seq_known)
                snprintf(sq, sizeof sq, "sequence %llu", seq);
            log_info("resolver: %s -> %s (%s%s%s)", ro->key, cid, sq, was[0] ? ", was " : "", was);
            changed = 1;
        } else if (take == P2P_ROOT_OLDER && strcmp(cid, r->older[i]) != 0) {
            /* A peer that missed the newer record answered (the DHT's best
             * of those that replied, or pubsub's against the DHT's): going
             * back would hide tags this follower already served. */
            log_info("resolver: %s: an older record answered (sequence %llu < %llu, %s); still serving %s",
                     ro->key, seq, ro->sequence, cid, ro->cid);
            snprintf(r->older[i], sizeof r->older[i], "%s", cid);
        }
        if (res != KUBO_RESOLVED) {
            /* keep serving the last root we knew: content under /ipfs never changes */
            snprintf(err, sizeof err, "%s", res == KUBO_RESOLVE_NO_RECORD ? "no record for this key"
                                                                            : kubo_errmsg(r->k));
        }
        if (strcmp(err, ro->error) != 0) {
            if (err[0])
                log_warn("resolver: %s: %s%s", ro->key, err, ro->cid[0] ? " (serving the last root known)" : "");
            else
                log_info("resolver: %s: resolves again", ro->key);
            snprintf(ro->error, sizeof ro->error, "%s", err);
            changed = 1;
        }
    }
    return changed;
}

/* Starts from what was known: a restarted resolver keeps serving (and
 * moves the pins it made) instead of starting blind. A pin that was in
 * progress starts again. */
static void res_load(struct resolver *r)
{
    struct p2p_root *old = NULL;
    size_t nold = 0;
    p2pstate_read_roots(r->o->statedir, &old, &nold);
    for (size_t i = 0; i < r->n; i++) {
        snprintf(r->roots[i].key, sizeof r->roots[i].key, "%s", r->o->readonlyipnskeys[i]);
        for (size_t j = 0; j < nold; j++)
            if (strcmp(old[j].key, r->roots[i].key) == 0) {
                r->roots[i] = old[j];
                r->roots[i].pinning[0] = '\0';
                r->roots[i].pin_nodes = r->roots[i].pin_bytes = 0;
            }
    }
    free(old);
}

static void res_save(struct resolver *r)
{
    if (p2pstate_write_roots(r->o->statedir, r->roots, r->n) < 0)
        log_warn("resolver: cannot write %s/%s: %s", r->o->statedir, P2P_ROOTS_FILE, strerror(errno));
}

int resolver_run(const struct publisher_opts *o, pid_t master_pid)
{
    log_set_role("resolver");
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    prctl(PR_SET_NAME, "orp2p-resolver");
    sigset_t waitmask;
    childsig_setup(res_on_stop, &waitmask);
    if (getppid() != master_pid)
        return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    struct resolver r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.n = o->n_readonlyipnskeys;
    r.k = res_kubo(o);
    if (!r.k) {
        curl_global_cleanup();
        return 1;
    }
    r.roots = xcalloc(r.n + 1, sizeof *r.roots);
    r.pins = xcalloc(r.n + 1, sizeof *r.pins);
    r.older = xcalloc(r.n + 1, sizeof *r.older);
    size_t psz = (r.n + 1) * sizeof *r.progress;
    r.progress = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (r.progress == MAP_FAILED) {
        log_error("resolver: mmap: %s", strerror(errno));
        kubo_free(r.k);
        curl_global_cleanup();
        return 1;
    }
    res_load(&r);
    res_save(&r);
    log_info("resolver: %zu read-only key(s), every %d s%s", r.n, o->ipnsrefresh,
             o->pinreadonly ? ", pinning each root in the background" : "");
    long long next_round = 0, last_save = 0;
    int dirty = 0;
    while (!res_stop && getppid() == master_pid) {
        long long now = progress_now_ms();
        if (now >= next_round) {
            next_round = now + (long long)o->ipnsrefresh * 1000;
            if (res_round(&r)) {
                res_save(&r);   /* the new root is served at once; its pin comes after */
                last_save = progress_now_ms();
            }
        }
        if (o->pinreadonly)
            dirty |= res_pins(&r);
        /* pins and their progress reach roots.json at most once per tick */
        if (dirty && progress_now_ms() - last_save >= RES_TICK_MS) {
            res_save(&r);
            last_save = progress_now_ms();
            dirty = 0;
        }
        long long wait = next_round - progress_now_ms();
        if (wait > RES_TICK_MS)
            wait = RES_TICK_MS;
        if (wait < 0)
            wait = 0;
        struct timespec ts = { wait / 1000, (wait % 1000) * 1000000L };
        ppoll(NULL, 0, &ts, &waitmask);
    }
    for (size_t i = 0; i < r.n; i++)
        res_pin_stop(&r, i);
    for (size_t i = 0; i < r.n; i++)
        r.roots[i].pinning[0] = '\0';
    res_save(&r);
    munmap(r.progress, psz);
    free(r.roots);
    free(r.pins);
    free(r.older);
    kubo_free(r.k);
    curl_global_cleanup();
    return 0;
}
