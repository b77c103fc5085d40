/* collector: garbage collection from the command line (`oci-registry-p2p
 * gc`) and, with gc_interval set, as the master's third sidecar, which runs
 * one collection every gc_interval seconds beside the workers. Both build
 * the same storage chain the workers write through (oci/store_mfs.h, blob
 * files when blobdir is set), so expired uploads are discarded the way a
 * worker would, and run oci/gc.h's collection, then blob files'
 * sweep (oci/blobfiles_sweep.h). */
#ifndef FCGI_COLLECTOR_H
#define FCGI_COLLECTOR_H
#include <stdio.h>
#include <sys/types.h>
#include "conf/conf.h"

/* Exit codes of `gc` */
#define COLLECTOR_DONE 0
#define COLLECTOR_FAILED 1     /* stopped partway (what it removed stays removed) */
#define COLLECTOR_SETUP 2      /* nothing was collected */

/* One collection, one line per removal and problem to out, progress to
 * progress (NULL: none), the summary to out. An exit code above. */
int collector_once(const struct config *c, int dry_run, FILE *out, FILE *progress);
/* The sidecar: a collection every c->gc_interval seconds until SIGTERM or
 * the master's death. The exit status. */
int collector_run(const struct config *c, pid_t master_pid);

#endif
