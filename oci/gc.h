/* gc: one garbage collection of the storage tree (docs/design-gc.md), run
 * while the registry serves (or not): `oci-registry-p2p gc`, or the
 * collector that gc_interval starts beside the workers.
 *
 * Mark from an immutable snapshot of mfsroot (files/stat --hash): every
 * tag of every repository, every revision the retention rules keep (all of
 * them by default), the children of kept indexes (all levels), the
 * referrers of kept manifests, and everything those manifests name. The
 * hidden repositories of pushed layouts (_layouts/...) and any repository
 * whose links or manifests could not be read keep all their links. Then
 * sweep, in the live tree: repository links nothing marked reaches, then
 * blobs no repository links, each removal made under the digest's lock and
 * only when no write touched the digest within the grace period
 * (core/gcmark.h); then what the caller's hooks add (expired uploads, blob
 * files); then one flush, and the epoch grows so the workers' caches and
 * the publisher see the change. */
#ifndef OCI_GC_H
#define OCI_GC_H
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "ipfs/kubo.h"

struct gc_stats {
    unsigned long repos;          /* repositories walked */
    unsigned long manifests_read; /* distinct manifests parsed */
    unsigned long manifests;      /* revisions removed (or, dry run, to remove) */
    unsigned long links;          /* layer and referrer links removed */
    unsigned long blobs;          /* blobs removed */
    uint64_t bytes;               /* their size */
    unsigned long young;          /* removable, but touched within the grace: kept */
    unsigned long problems;       /* things that could not be read: reported, kept */
    unsigned long uploads;        /* expired upload sessions removed (the hook's count) */
    unsigned long files;          /* blob files removed (the hook's count) */
    uint64_t file_bytes;
    double seconds;
};

struct gc_opts {
    const char *mfsroot;
    const char *statedir;        /* markers, locks, epoch, retention records */
    time_t grace;                /* what a write touched more recently stays */
    time_t untagged_max_age;     /* retention: untagged revisions older go; 0 = off */
    long untagged_keep;          /* retention: the N most recent untagged stay; -1 = off */
    size_t max_manifest_size;    /* larger manifests are not read (a problem, kept) */
    int dry_run;                 /* decide and print, change nothing */
    int repo_gc;                 /* then Kubo's repo/gc, so the space comes back */
    unsigned duty;               /* percent of the time spent working: after each repository
                                  * the walk pauses for the rest (100 or 0: no pauses) */
    FILE *out;                   /* one line per removal and per problem; NULL: none */
    FILE *progress;              /* a line every 2 s at most; NULL: none */
    /* After the sweep, before the flush (NULL: none): the upload sessions
     * past their expiry, the blob files nothing holds. 0, or -1 with *err. */
    int (*after_sweep)(void *ctx, struct kubo *k, const struct gc_opts *o, struct gc_stats *st, char **err);
    void *ctx;
};

/* One collection. k changes MFS under the registry's MFS lock (the caller
 * set it, kubo_set_mfs_lock). Only one collection runs at a time per
 * statedir: a second one fails at once, saying so. 0, or -1 with *err
 * (caller frees): what was removed before the failure stays removed, and
 * nothing unproven was. */
int gc_run(struct kubo *k, const struct gc_opts *o, struct gc_stats *st, char **err);
/* The summary line gc_run prints. */
void gc_print_summary(FILE *f, const struct gc_opts *o, const struct gc_stats *st);
/* Adds a run's figures to <statedir>/gc/stats (what /metrics reports). */
void gc_record(const char *statedir, const struct gc_stats *st, int failed);

#endif
