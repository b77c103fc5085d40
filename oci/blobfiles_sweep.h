/* blobfiles_sweep: removes the blob files (core/blobfile.h) of blobs the
 * registry no longer holds, without breaking any blob it still holds.
 *
 * Why it is not just unlink: Kubo's filestore records a leaf's file only
 * for the first add that brought the leaf (boxo's Filestore.Put skips a
 * block it has), so a blob sharing a leaf with an earlier one reads that
 * leaf from the earlier blob's file. Before a file goes, every leaf whose
 * filestore entry points into it and that a blob still held needs is
 * re-pointed: the surviving blob's file is added again with --nocopy (the
 * entry then names that file), or, for a survivor that is no file (pushed
 * before blob files, mirrored), the leaf is put back as an ordinary block;
 * entries nothing needs are taken out (block/rm). What the registry holds
 * is what MFS links under <mfsroot>/docker/registry/v2/blobs/: deciding
 * what leaves it is garbage collection's business, not this file's.
 *
 * A file put in place less than grace seconds ago is never taken (its
 * link into MFS may be on its way: a commit places the file first). */
#ifndef OCI_BLOBFILES_SWEEP_H
#define OCI_BLOBFILES_SWEEP_H
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "ipfs/kubo.h"

struct blobfiles_sweep_stats {
    unsigned long files;           /* blob files found */
    unsigned long held;            /* ...whose blob MFS still links */
    unsigned long young;           /* ...unlinked but younger than grace: kept */
    unsigned long removed;         /* ...removed (or, dry run, to remove) */
    uint64_t bytes;                /* their size */
    unsigned long leaves_dropped;  /* filestore entries taken out, needed by nothing */
    unsigned long readded;         /* surviving blob files added again (re-pointing) */
    unsigned long leaves_put;      /* leaves put back as ordinary blocks */
};

/* One sweep of dir against the registry at mfsroot. out (NULL: silent)
 * gets one line per file removed and what was re-pointed. dry_run: decide
 * and report, change nothing. 0, or -1 with *err (the caller frees): then
 * the files not yet handled are left as they were. */
int blobfiles_sweep(struct kubo *k, const char *dir, const char *mfsroot, time_t grace, int dry_run,
                    FILE *out, struct blobfiles_sweep_stats *st, char **err);

#endif
