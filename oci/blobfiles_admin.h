/* blobfiles_admin: the operator's commands on blob files (blobdir), run
 * beside the registry (started or stopped) from the command line:
 *
 *   verify   hashes every blob file against its name (read only);
 *   migrate  turns blobs Kubo alone holds (pushed before blobdir was set)
 *            into blob files the node references with --nocopy;
 *   sweep-files  removes the files of blobs the registry no longer holds.
 *
 * Both print one line per problem to o->out, a progress line to o->progress
 * every PROGRESS_EVERY_MS at most, and a summary line to o->out. */
#ifndef OCI_BLOBFILES_ADMIN_H
#define OCI_BLOBFILES_ADMIN_H
#include <stdio.h>
#include <time.h>

/* What the commands need of the configuration (borrowed strings). */
struct blobfiles_admin_opts {
    const char *blobdir;     /* absolute; NULL = not configured (a setup error) */
    const char *mfsroot;     /* migrate: the MFS folder whose blobs are migrated */
    const char *api;         /* migrate: Kubo's RPC multiaddr */
    const char *gateway;     /* migrate: Kubo's gateway URL */
    const char *statedir;    /* migrate: <statedir>/mfs.lock, the registry's MFS lock */
    FILE *out;
    FILE *progress;
    int dry_run;             /* sweep-files: decide and say, change nothing */
    time_t min_age;          /* sweep-files: files put in place more recently stay */
};

/* Exit codes of both commands */
#define BLOBFILES_ALL_GOOD 0
#define BLOBFILES_SOME_BAD 1     /* verify: a bad file; migrate: a blob failed */
#define BLOBFILES_SETUP 2        /* nothing could be checked or migrated */

int blobfiles_verify(const struct blobfiles_admin_opts *o);
int blobfiles_migrate(const struct blobfiles_admin_opts *o);
/* sweep-files: removes the blob files of blobs MFS no longer links,
 * keeping shared leaves (oci/blobfiles_sweep.h). */
int blobfiles_sweep_files(const struct blobfiles_admin_opts *o);

/* blobfiles_walk.c: the blob files below blobdir. Calls fn for each
 * <alg>/<xx>/<hex> that names a blob (stray names and .uploads are
 * skipped); fn returns 0 to go on, -1 to stop. 0, or -1 with errno when a
 * directory cannot be read (*where names it, caller frees). */
struct digest;
typedef int (*blobfiles_fn)(void *ctx, const char *path, const struct digest *d);
int blobfiles_walk(const char *blobdir, blobfiles_fn fn, void *ctx, char **where);
/* Calls fn for each blob MFS links under <mfsroot>/docker/registry/v2/blobs
 * (an <alg>/<xx>/<hex> directory; whether it has its data is fn's to ask);
 * fn returns 0 to go on, -1 to stop (KUBO_ABORTED). KUBO_* of the listing;
 * no blobs directory yet is KUBO_OK. */
struct kubo;
typedef int (*blobfiles_mfs_fn)(void *ctx, const struct digest *d);
int blobfiles_mfs_walk(struct kubo *k, const char *mfsroot, blobfiles_mfs_fn fn, void *ctx);

#endif
