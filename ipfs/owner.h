/* owner: one registry per tree. Two registries writing one MFS tree (or
 * publishing under one key) would overwrite each other's changes and serve
 * stale tags, since each one's metadata cache learns only of its own
 * writes. So each tree, and each write key, has an owner record in MFS,
 * outside the published tree (a heartbeat never changes the root):
 *
 *   <mfsroot>.owner                      the tree's
 *   /.oci-registry-p2p-keys/<key>.owner  the write key's
 *
 * A record names the registry (host, statedir, master pid) and carries a
 * heartbeat time. The master claims both before it serves; the publisher
 * renews them every lease/3 seconds and releases them on a clean stop. A
 * record is stale, and may be taken over, when its heartbeat is older than
 * the lease, or at once when it names a dead pid on this host; a record of
 * this same registry (same host and statedir: the statedir lock says only
 * one runs) is always ours. Heartbeats compare wall clocks: hosts sharing a
 * Kubo node must keep their clocks within the lease of each other. */
#ifndef IPFS_OWNER_H
#define IPFS_OWNER_H
#include <sys/types.h>
#include <time.h>
#include "ipfs/kubo.h"

#define OWNER_HOST_MAX 256
#define OWNER_DIR_MAX 4096

struct owner_rec {
    char host[OWNER_HOST_MAX];
    char statedir[OWNER_DIR_MAX];
    long pid;                  /* the master's */
    time_t heartbeat;          /* wall clock, seconds */
};

enum owner_rc {
    OWNER_MINE = 0,            /* claimed or renewed: the record is ours */
    OWNER_TAKEN,               /* a live registry owns it: *other says which */
    OWNER_ERROR,               /* Kubo failed: kubo_errmsg says why; nothing known */
};

/* This registry as a record (heartbeat now): the host's name, statedir, pid. */
void owner_me(struct owner_rec *me, const char *statedir, pid_t master_pid);
/* The record paths; caller frees. */
char *owner_tree_path(const char *mfsroot);
char *owner_key_path(const char *keyname);
/* Claims path for me (see above); *other filled on OWNER_TAKEN. */
int owner_claim(struct kubo *k, const char *path, const struct owner_rec *me, long lease_s,
                struct owner_rec *other);
/* Rewrites the record with a new heartbeat if it is still ours; OWNER_TAKEN
 * (with *other) if another registry's record is there now. */
int owner_renew(struct kubo *k, const char *path, const struct owner_rec *me, struct owner_rec *other);
/* Removes the record if it is ours (a clean stop: the next owner need not
 * wait for the lease). */
void owner_release(struct kubo *k, const char *path, const struct owner_rec *me);
/* "statedir S on host H (master pid P, heartbeat N s ago)" into buf. */
const char *owner_describe(const struct owner_rec *r, char *buf, size_t n);

/* ---- both records of a registry, as the master and the publisher hold them ---- */

struct owner_hold {
    struct owner_rec me;
    char *path[2];             /* the tree's, then the key's (if any) */
    char *setting[2];          /* what the user changes: "mfsroot /x", "writeipnskey \"k\"" */
    size_t n;
    long lease_s;
    int held;                  /* every record claimed */
    long long next_ms;         /* next claim (not held) or renewal (held) */
};

/* key may be NULL (no write key). Strings are copied. */
void owner_hold_init(struct owner_hold *h, const char *mfsroot, const char *key, const char *statedir,
                     pid_t master_pid, long lease_s);
void owner_hold_free(struct owner_hold *h);
/* Claims every record (held: renews them) when due at now_ms (monotonic).
 * 0: held, or Kubo failed (retried a second later; a warning is logged);
 * -1 with *err (caller frees): a live registry owns one of them, named in
 * *err with the setting to change. */
int owner_hold_tick(struct owner_hold *h, struct kubo *k, long long now_ms, char **err);
/* Removes the records that are ours (a clean stop). */
void owner_hold_release(struct owner_hold *h, struct kubo *k);

#endif
