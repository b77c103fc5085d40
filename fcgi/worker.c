/* worker: the accept loop of one pre-forked process.
 *
 * Signals. libfcgi's reads and writes do not retry EINTR, and accept() is the
 * only place where a stop request should interrupt anything. Instead of
 * toggling SA_RESTART around FCGX_Accept_r (which leaves a window: a SIGTERM
 * that lands between "check the flag" and accept() is lost until the next
 * connection), SIGTERM and SIGINT stay *blocked* all the time, and the worker
 * waits for a connection in ppoll() with a mask that unblocks them: the
 * signal is taken atomically with the wait, so it cannot be missed, and it can
 * never interrupt a read or write of a request in progress (or libcurl's).
 * FCGX_Accept_r is called only once ppoll says a connection is waiting, on a
 * non-blocking listening socket: if another worker took it first, accept()
 * fails with EAGAIN and we go back to waiting.
 *
 * FCGX_Init (OS_LibInit) installs handlers for SIGPIPE and SIGUSR1, and for
 * SIGTERM when it has the default disposition, all without SA_RESTART; ours
 * are installed after it so they win. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <fcgiapp.h>
#include "core/childsig.h"
#include "core/gcmark.h"
#include "core/log.h"
#include "core/registry/registry.h"
#include "core/xalloc.h"
#include "fcgi/edge.h"
#include "fcgi/worker.h"
#include "ipfs/kubo.h"
#include "oci/cache_shm.h"
#include "oci/store_cache.h"
#include "oci/paths.h"
#include "oci/store_mfs.h"
#include "oci/store_union.h"
#include "oci/store_files.h"
#include "oci/store_layout.h"
#include "oci/store_layout_rw.h"
#include "oci/store_mirror.h"

static volatile sig_atomic_t worker_stop;
/* this worker's Kubo client, for the per-request call count */
static struct kubo *worker_kubo;
/* Write end of the master's "root changed" pipe to the publisher (-1: none). */
static int worker_notify_fd = -1;
/* The master, told when this worker begins reading a request body. */
static pid_t worker_master_pid;

void worker_set_notify_fd(int fd)
{
    worker_notify_fd = fd;
}

/* registry.body_begun: this worker is held by a body now; the master starts
 * another one so the pool stays whole for everything else (fcgi/master.c). */
static void worker_body_begun(void)
{
    if (getppid() == worker_master_pid)
        kill(worker_master_pid, SIGUSR2);
}

static void worker_on_stop(int sig)
{
    (void)sig;
    worker_stop = 1;
}

/* store_notify: a byte down the publisher's pipe (non-blocking; a full
 * pipe already says "changed"). */
static void worker_notify(void *ctx)
{
    (void)ctx;
    if (worker_notify_fd < 0)
        return;
    ssize_t w;
    do
        w = write(worker_notify_fd, "c", 1);
    while (w < 0 && errno == EINTR);
}

/* store_union_roots: a read-only root is the distribution layout at /ipfs/<cid>. */
static struct store *worker_root_open(void *ctx, const char *cid)
{
    return store_mfs_new_root(ctx, cid);
}

static void worker_root_close(void *ctx, struct store *s)
{
    (void)ctx;
    store_mfs_free(s);
}

/* accept() failures worth a pause and a retry rather than an exit. */
static int worker_accept_transient(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
           err == ECONNABORTED || err == EPROTO || err == EPERM;
}

static void worker_pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* A connection waits on the listening socket. */
static int worker_pending(int listen_fd)
{
    struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
    return poll(&pfd, 1, 0) > 0;
}

static int worker_loop(int listen_fd, pid_t master_pid, const sigset_t *waitmask,
                       struct registry *reg, unsigned long *served)
{
    FCGX_Request fr;
    FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
    int rc = 0;
    while (!worker_stop) {
        if (getppid() != master_pid) {
            log_warn("worker: master %ld is gone; stopping", (long)master_pid);
            break;
        }
        /* With FCGI_KEEP_CONN the front server reuses the connection: the
         * next request arrives on it, not on the listening socket. */
        struct pollfd pfd = { .fd = fr.ipcFd >= 0 ? fr.ipcFd : listen_fd, .events = POLLIN };
        int pr = ppoll(&pfd, 1, NULL, waitmask);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            log_error("worker: poll: %s", strerror(errno));
            rc = 1;
            break;
        }
        int ar = FCGX_Accept_r(&fr);
        if (ar < 0) {
            int err = -ar;
            if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
                continue;   /* another worker got this connection */
            if (worker_accept_transient(err)) {
                log_warn("worker: accept: %s; retrying", strerror(err));
                worker_pause_ms(100);
                continue;
            }
            log_error("worker: accept on fd %d: %s", listen_fd,
                      err < 1000 ? strerror(err) : "libfcgi error");
            rc = 1;
            break;
        }
        unsigned long kubo_before = worker_kubo ? kubo_request_count(worker_kubo) : 0;
        edge_serve(&fr, reg);
        /* the cost of a request in Kubo round trips (tests and benchmarks read it) */
        if (worker_kubo)
            log_debug("worker: request made %lu Kubo calls", kubo_request_count(worker_kubo) - kubo_before);
        (*served)++;
        /* after the answer went out, so nobody waits for it; slice after
         * slice while no connection waits (other workers take those
         * anyway, but this one should not be missing for long) */
        while (registry_maintain(reg) && !worker_stop && !worker_pending(listen_fd))
            ;
    }
    if (fr.ipcFd >= 0)
        close(fr.ipcFd);   /* an idle kept-alive connection: nothing in flight */
    fr.ipcFd = -1;
    FCGX_Free(&fr, 0);
    return rc;
}

/* The mirror store over inner and the namespaces the registry routes to
 * it (*ns, the caller frees), from the configuration; NULL when there is
 * no mirror (or its client could not be set up). */
static struct store *worker_mirror_new(const struct config *c, struct store *inner,
                                       struct registry_mirror_ns **ns)
{
    *ns = NULL;
    if (c->n_mirror == 0)
        return NULL;
    struct store_mirror_upstream *u = xcalloc(c->n_mirror, sizeof *u);
    *ns = xcalloc(c->n_mirror, sizeof **ns);
    for (size_t i = 0; i < c->n_mirror; i++) {
        const struct config_upstream *cu = &c->mirror[i];
        u[i] = (struct store_mirror_upstream){
            .ns = cu->ns, .prefix = cu->prefix, .freshness = cu->freshness,
            .client = { .url = cu->url, .username = cu->username, .password = cu->password,
                        .timeout_ms = c->mirror_timeout_ms, .stall_s = c->mirror_stall_s,
                        .manifest_max = c->max_manifest_size },
        };
        (*ns)[i] = (struct registry_mirror_ns){ .ns = cu->ns, .prefix = cu->prefix, .is_default = cu->is_default };
    }
    struct store *m = store_mirror_new(inner, u, c->n_mirror, c->statedir);
    free(u);
    if (!m) {
        free(*ns);
        *ns = NULL;
    }
    return m;
}

int worker_run(const struct config *c, int listen_fd, pid_t master_pid)
{
    log_set_role("worker");
    /* If the master is killed outright, stop gracefully instead of serving on
     * as an orphan nobody supervises. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    /* ps/top/pgrep tell the roles apart (the master keeps the binary's name) */
    prctl(PR_SET_NAME, "orp2p-worker");

    if (FCGX_Init() != 0) {
        log_error("worker: libfcgi initialisation failed");
        return 1;
    }
    sigset_t waitmask;
    childsig_setup(worker_on_stop, &waitmask);
    if (getppid() != master_pid)
        return 0;   /* the master died before PDEATHSIG was armed */

    int fl = fcntl(listen_fd, F_GETFL);
    if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        log_error("worker: listening fd %d: %s", listen_fd, strerror(errno));
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("worker: libcurl initialisation failed");
        return 1;
    }
    char *err = NULL;
    struct kubo *k = kubo_new(c->ipfsapiaddress, c->ipfsgatewayaddress, &err);
    if (!k) {
        log_error("worker: %s", err ? err : "kubo client setup failed");
        free(err);
        curl_global_cleanup();
        return 1;
    }
    /* the publisher and every worker change MFS one call at a time (ipfs/mfs.c) */
    char *lock = xasprintf("%s/mfs.lock", c->statedir);
    if (kubo_set_mfs_lock(k, lock) < 0) {
        log_error("worker: %s", kubo_errmsg(k));
        free(lock);
        kubo_free(k);
        curl_global_cleanup();
        return 1;
    }
    free(lock);
    /* what a push adds stays pinned until linked into MFS: a `repo gc`
     * meanwhile cannot take it (docs/design-gc.md) */
    kubo_set_pin_adds(k, 1);
    char *uploads = path_uploads_root(c->mfsroot);
    /* every committed change tells the publisher */
    const struct store_notify notify = { .changed = worker_notify, .ctx = NULL };
    struct store *mfs = store_mfs_new(k, c->mfsroot, uploads, &notify);
    /* what it links is marked for garbage collection first (core/gcmark.h) */
    store_mfs_set_gc(mfs, c->statedir);
    /* and what a collection removes is never answered from the cache */
    char *epoch = gcmark_epoch_path(c->statedir);
    cache_shm_watch(epoch);
    free(epoch);
    /* metadata answered from memory; mfsroot is written only through it */
    struct store *cache = store_cache_new(mfs);
    /* blob files: committed blobs as plain files Kubo references (filestore) */
    struct store *files = c->blobdir ? store_files_new(cache, k, c->blobdir, uploads) : NULL;
    struct store *local = files ? files : cache;
    /* mirrors: the read-only roots other registries published */
    const struct store_union_roots roots = { .open = worker_root_open, .close = worker_root_close, .ctx = k };
    struct store *store = store_union_new(local, c->n_readonlyipnskeys ? c->statedir : NULL, &roots);
    struct registry_opts opts = {
        .statedir = c->statedir,
        .readonly = c->readonly,
        .require_remote_user = c->require_remote_user,
        .allow_sparse = c->allow_sparse,
        .max_manifest_size = c->max_manifest_size,
        .upload_expiry = c->upload_expiry,
        .max_upload_sessions = c->max_upload_sessions,
        .metrics_path = c->metrics_path,
        .ui = c->ui,
        .ui_gateway_url = c->ui_gateway_url,
        .writeipnskey = c->writeipnskey,
        .blobdir = c->blobdir,
        .blobfile_accel = c->blobfile_accel,
        .blobfile_sendfile = c->blobfile_sendfile,
        .accel_redirect = c->accel_redirect,
        .blob_redirect = c->blob_redirect,
    };
    struct registry reg;
    registry_init(&reg, &opts, store);
    /* how many workers may be reading a request body at once (admit.h) */
    char *slots_dir = xasprintf("%s/upload-slots", c->statedir);
    struct slots body_slots;
    slots_init(&body_slots, slots_dir, (unsigned)config_upload_workers(c));
    free(slots_dir);
    reg.body_slots = &body_slots;
    worker_master_pid = master_pid;
    reg.body_begun = worker_body_begun;
    /* ipfs/ and ipns/ names: OCI layouts on IPFS, with a cache every worker shares */
    char *layout_cache = xasprintf("%s/layout-cache", c->statedir);
    struct store *layouts = store_layout_new(k, layout_cache, c->layout_ipns_ttl, c->max_manifest_size);
    reg.layout_store = layouts;
    /* ipns/<own key>/<path>: layouts pushed into <mfsroot>, bytes through the storage chain */
    struct store *layout_rw = c->writeipnskey && *c->writeipnskey
        ? store_layout_rw_new(local, k, c->mfsroot, c->statedir, c->max_manifest_size, c->allow_sparse, &notify) : NULL;
    reg.layout_rw = layout_rw;
    /* the pull-through mirror: upstream images cached through the same chain */
    struct registry_mirror_ns *mns = NULL;
    struct store *mirror = worker_mirror_new(c, store, &mns);
    if (c->n_mirror && !mirror) {
        log_error("worker: the mirror's HTTP client could not be set up");
        return 1;
    }
    reg.mirror = mirror;
    reg.opts.mirror_ns = mns;
    reg.opts.n_mirror_ns = mirror ? c->n_mirror : 0;
    reg.opts.mirror_writable = c->mirror_writable;
    worker_kubo = k;
    log_debug("worker: ready (kubo %s, mfsroot %s)", c->ipfsapiaddress, c->mfsroot);

    unsigned long served = 0;
    int rc = worker_loop(listen_fd, master_pid, &waitmask, &reg, &served);
    log_debug("worker: stopping after %lu requests", served);

    slots_free(&body_slots);
    store_mirror_free(mirror);
    free(mns);
    store_layout_rw_free(layout_rw);
    store_layout_free(layouts);
    free(layout_cache);
    store_union_free(store);
    store_files_free(files);
    store_cache_free(cache);
    store_mfs_free(mfs);
    free(uploads);
    kubo_free(k);
    curl_global_cleanup();
    return rc;
}
