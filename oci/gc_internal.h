/* gc_internal: the state of one collection, shared by oci/gc.c (walk and
 * mark), oci/gc_sweep.c (removals) and oci/gc_retain.c (retention). */
#ifndef OCI_GC_INTERNAL_H
#define OCI_GC_INTERNAL_H
#include <stdarg.h>
#include "core/digest.h"
#include "core/progress.h"
#include "oci/gc.h"
#include "oci/gc_set.h"

/* One manifest, read once per collection whatever repositories link it. */
struct gc_man {
    int state;                  /* 0 not read yet, 1 read, -1 unreadable */
    struct digest *refs;        /* config and layers (or blobs) */
    size_t nrefs;
    struct digest *kids;        /* an index's manifests */
    size_t nkids;
    int has_subject;
    struct digest subject;
};

/* Retention records: when a collection first found a revision untagged. */
struct gc_retain {
    struct gc_set keys;         /* "<repo> <digest>" */
    time_t *first;              /* by key index */
    size_t cap;
    struct gc_set next_keys;    /* what this run saw untagged and kept */
    time_t *next_first;
    size_t next_cap;
};

struct gc {
    struct kubo *k;
    const struct gc_opts *o;
    struct gc_stats *st;
    char snap[KUBO_CID_MAX];    /* mfsroot at the start: what the mark reads */
    char blobs[KUBO_CID_MAX];   /* <snap>/docker/registry/v2/blobs, "" if none */
    time_t start;               /* the snapshot's time: removals stop at start + grace */
    struct progress prog;
    struct gc_set mans;         /* digest strings, index into man */
    struct gc_man *man;
    size_t man_cap;
    struct gc_set marked;       /* everything a kept manifest names, and the kept manifests */
    struct gc_set linked;       /* every digest a repository still links after its sweep */
    struct gc_retain ret;
    int late;                   /* the grace ran out: no more removals this run */
    char *err;                  /* a fatal error (Kubo unreachable): the run stops */
};

/* gc.c */
void gc_say(struct gc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gc_problem(struct gc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gc_progress(struct gc *c, int force);
/* Appends d to the vector *v of *n digests (grown as needed). */
void gc_digest_push(struct digest **v, size_t *n, const struct digest *d);
/* A repository's tag targets from its snapshot (snap: /ipfs/<repo CID>) in
 * one gateway request (oci/gc_tags.c): 0 with *tags (caller frees) and
 * *ntags, a link without a digest reported and *unsure set; 1 when the
 * gateway's answer cannot be used (read the tags one by one instead). */
int gc_tags_tar(struct gc *c, const char *repo, const char *snap, struct digest **tags, size_t *ntags,
                int *unsure);
/* 1 when removals must stop: the snapshot is older than the grace. */
int gc_too_late(struct gc *c);
/* d stays linked somewhere (a removal that kept it). */
void gc_put_linked(struct gc *c, const struct digest *d);

/* gc_sweep.c */
enum gc_link_kind { GC_LINK_REVISION, GC_LINK_LAYER, GC_LINK_REFERRER };
/* Removes the live directory dir holding a link to d (kind says what for
 * the output), under d's lock, unless d is young. 0 removed or kept, -1
 * fatal (c->err). */
int gc_remove_link(struct gc *c, enum gc_link_kind kind, const char *repo, const struct digest *d,
                   const char *dir);
/* Every blob under the snapshot's blobs/ that is neither marked nor linked. */
int gc_sweep_blobs(struct gc *c);

/* gc_retain.c */
void gc_retain_load(struct gc *c);
/* Which of the n untagged revisions of repo (each keep[i] 0 on entry)
 * the rules keep: keep[i] = 1. With retention off, all. */
void gc_retain_decide(struct gc *c, const char *repo, const struct digest *untagged, size_t n, int *keep);
void gc_retain_save(struct gc *c);
void gc_retain_free(struct gc *c);

#endif
