/* collector: one collection with everything it needs, and the sidecar that
 * repeats it (see collector.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include "core/childsig.h"
#include "core/log.h"
#include "core/registry/upload.h"
#include "core/xalloc.h"
#include "fcgi/collector.h"
#include "ipfs/kubo.h"
#include "oci/blobfiles_sweep.h"
#include "oci/gc.h"
#include "oci/store_files.h"
#include "oci/paths.h"
#include "oci/store_mfs.h"

/* A collection runs at this nice value (or the one it was given, if higher). */
#define COLLECTOR_NICE 10

struct collector {
    const struct config *c;
    struct store *store;        /* the chain an upload was staged through */
};

static void collector_discard(void *ctx, const char *id)
{
    struct store *st = ctx;
    if (st->ops->upload_discard(st, id) != STORE_OK)
        log_warn("gc: expired upload %s: %s", id, st->ops->errmsg(st));
}

/* gc_opts.after_sweep: expired uploads, then the blob files nothing holds. */
static int collector_after_sweep(void *ctx, struct kubo *k, const struct gc_opts *o, struct gc_stats *st,
                                 char **err)
{
    struct collector *col = ctx;
    const struct config *c = col->c;
    if (!o->dry_run)
        st->uploads = (unsigned long)upload_sweep(c->statedir, c->upload_expiry, 0, collector_discard,
                                                  col->store, NULL);
    if (!c->blobdir)
        return 0;
    struct blobfiles_sweep_stats fs = { 0 };
    /* the grace of the collection: a file is placed before its blob is linked */
    if (blobfiles_sweep(k, c->blobdir, c->mfsroot, o->grace, o->dry_run, o->out, &fs, err) < 0)
        return -1;
    st->files = fs.removed;
    st->file_bytes = fs.bytes;
    return 0;
}

int collector_once(const struct config *c, int dry_run, FILE *out, FILE *progress)
{
    if (c->readonly) {
        fprintf(stderr, "oci-registry-p2p: gc: this registry is read-only (readonly = true): nothing to collect\n");
        return COLLECTOR_SETUP;
    }
    /* background work: the workers serving pulls come first (the bench's
     * gc case measures what a collection costs them) */
    errno = 0;
    int nice_now = getpriority(PRIO_PROCESS, 0);
    if (errno == 0 && nice_now < COLLECTOR_NICE)
        (void)setpriority(PRIO_PROCESS, 0, COLLECTOR_NICE);
    char *err = NULL;
    struct kubo *k = kubo_new(c->ipfsapiaddress, c->ipfsgatewayaddress, &err);
    if (!k) {
        fprintf(stderr, "oci-registry-p2p: gc: %s\n", err ? err : "Kubo client setup failed");
        free(err);
        return COLLECTOR_SETUP;
    }
    /* every change to MFS under the registry's MFS lock (ipfs/mfs.c) */
    char *lock = xasprintf("%s/mfs.lock", c->statedir);
    int rc = COLLECTOR_SETUP;
    if (kubo_set_mfs_lock(k, lock) < 0) {
        fprintf(stderr, "oci-registry-p2p: gc: %s\n", kubo_errmsg(k));
        goto out;
    }
    char *uploads = path_uploads_root(c->mfsroot);
    struct store *mfs = store_mfs_new(k, c->mfsroot, uploads, NULL);
    store_mfs_set_gc(mfs, c->statedir);
    struct store *files = c->blobdir ? store_files_new(mfs, k, c->blobdir, uploads) : NULL;
    struct collector col = { .c = c, .store = files ? files : mfs };
    struct gc_opts o = {
        .mfsroot = c->mfsroot,
        .statedir = c->statedir,
        .grace = c->gc_grace,
        .untagged_max_age = c->gc_untagged_max_age,
        .untagged_keep = c->gc_untagged_keep,
        .max_manifest_size = c->max_manifest_size,
        .dry_run = dry_run,
        .repo_gc = c->gc_repo_gc,
        .duty = c->gc_duty,
        .out = out,
        .progress = progress,
        .after_sweep = collector_after_sweep,
        .ctx = &col,
    };
    struct gc_stats st;
    if (gc_run(k, &o, &st, &err) < 0) {
        fprintf(stderr, "oci-registry-p2p: %s\n", err);
        free(err);
        rc = st.repos || st.blobs || st.manifests ? COLLECTOR_FAILED : COLLECTOR_SETUP;
    } else {
        rc = COLLECTOR_DONE;
    }
    if (out) {
        gc_print_summary(out, &o, &st);
    } else {
        char *line = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&line, &len);
        if (m) {
            gc_print_summary(m, &o, &st);
            fclose(m);
            log_info("%.*s", (int)(len && line[len - 1] == '\n' ? len - 1 : len), line);
        }
        free(line);
    }
    store_files_free(files);
    store_mfs_free(mfs);
    free(uploads);
out:
    free(lock);
    kubo_free(k);
    return rc;
}

static volatile sig_atomic_t collector_stop;

static void collector_on_stop(int sig)
{
    (void)sig;
    collector_stop = 1;
}

int collector_run(const struct config *c, pid_t master_pid)
{
    log_set_role("collector");
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    prctl(PR_SET_NAME, "orp2p-collector");
    sigset_t waitmask;
    childsig_setup(collector_on_stop, &waitmask);
    if (getppid() != master_pid)
        return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("collector: libcurl initialisation failed");
        return 1;
    }
    while (!collector_stop && getppid() == master_pid) {
        /* a SIGTERM ends the wait at once; a collection runs to its end */
        struct timespec ts = { c->gc_interval, 0 };
        ppoll(NULL, 0, &ts, &waitmask);
        if (collector_stop || getppid() != master_pid)
            break;
        log_info("collector: collecting garbage (every %llds)", (long long)c->gc_interval);
        int rc = collector_once(c, 0, NULL, NULL);
        if (rc != COLLECTOR_DONE)
            log_warn("collector: the collection failed (exit %d; see %s/gc/stats)", rc, c->statedir);
    }
    curl_global_cleanup();
    return 0;
}
