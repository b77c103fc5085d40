/* publisher: the process that owns every IPNS write of this registry, and
 * its sibling the resolver, which resolves the read-only keys for all
 * workers. The master forks both (fcgi/master.c) and respawns them.
 *
 * Publisher: workers write a byte to notify_fd's other end after each
 * committed change clients see (store_mfs calls its store_notify after
 * each flushed write of a manifest or tag, not of blobs alone; the worker's
 * writes the pipe); a collection grows <statedir>/gc/epoch instead. The
 * publisher coalesces them (quiet
 * period, maximum interval; the rules are in ipfs/pub_timing.h), then
 * files/flush of mfsroot -> name/publish. It keeps
 * <statedir>/publisher.json (core/p2pstate.h) current.
 *
 * Resolver (ipfs/resolver.c): every ipnsrefresh seconds, name/resolve with
 * nocache of each readonlyipnskeys entry -> <statedir>/roots.json; with
 * pinreadonly, each new root is pinned in the background (a newer root
 * supersedes a pin in progress; the last completed pin stays until the
 * next completes), never delaying the next resolve. */
#ifndef IPFS_PUBLISHER_H
#define IPFS_PUBLISHER_H
#include <stddef.h>
#include <sys/types.h>

/* What the publisher and the resolver need of the configuration (the keys
 * of the same names in oci-registry-p2p.conf). The strings and the key list
 * are borrowed, never freed here: they must stay valid for as long as
 * publisher_run, resolver_run or publisher_check_key runs. */
/* A subtree of a read-only root the resolver fetches before it starts the
 * root's pin: path under the root, and how deep (refs max-depth; -1 whole). */
struct publisher_prefetch {
    const char *path;
    int depth;
};

struct publisher_opts {
    const char *ipfsapiaddress;     /* Kubo RPC multiaddr */
    const char *ipfsgatewayaddress; /* Kubo gateway URL */
    const char *statedir;           /* publisher.json, roots.json, mfs.lock */
    const char *mfsroot;            /* the MFS folder flushed and published */
    const char *writeipnskey;       /* key name; NULL = nothing is published */
    const char *ipns_lifetime;      /* name/publish lifetime (Kubo duration) */
    const char *ipns_ttl;           /* name/publish ttl (Kubo duration) */
    int publish_allow_offline;      /* a lone node: publish offline, trust its own resolve */
    int publish_quiet_ms;           /* publish this long after the last change notice... */
    int publish_max_interval_ms;    /* ...but at least this often while changes keep coming */
    int other_writer_overwrite;     /* publish over a root this registry did not publish */
    char *const *readonlyipnskeys;  /* keys the resolver follows, n_readonlyipnskeys of them */
    size_t n_readonlyipnskeys;
    int ipnsrefresh;                /* seconds between resolver rounds */
    int pinreadonly;                /* pin each resolved read-only root */
    /* With pinreadonly: fetched first, so what a tag needs is not queued
     * behind the pin's blocks on a busy link (oci/paths.c says which). */
    const struct publisher_prefetch *prefetch;
    size_t n_prefetch;
    int owner_lease;                /* seconds: owner records (ipfs/owner.h) without a heartbeat go stale */
};

/* Runs until SIGTERM (publishing a pending change first) or until the
 * master is gone. Returns the exit status. */
int publisher_run(const struct publisher_opts *o, int notify_fd, pid_t master_pid);
int resolver_run(const struct publisher_opts *o, pid_t master_pid);

/* Start-up check the master makes before serving: with writeipnskey set and
 * Kubo answering, the key must be in the node's keystore. 0 fine (or Kubo
 * unreachable: the publisher keeps trying), -1 with *err (caller frees). */
int publisher_check_key(const struct publisher_opts *o, char **err);

/* Start-up claim the master makes before serving: this registry becomes the
 * owner of mfsroot and of writeipnskey (ipfs/owner.h). 0 claimed (or Kubo
 * unreachable: the publisher claims them once it answers), -1 with *err
 * (caller frees) naming the live owner and what to change. */
int publisher_claim(const struct publisher_opts *o, pid_t master_pid, char **err);

#endif
