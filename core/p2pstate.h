/* p2pstate: the two files through which the publisher and the resolver
 * talk to everyone else, both in statedir and both replaced atomically
 * (written to a temporary file, then renamed), so a reader sees the old or
 * the new content, never half of one.
 *
 *   publisher.json  written by the publisher only; read by the status,
 *                   health and metrics endpoints. Field names are an
 *                   interface (deployment tooling reads them).
 *   roots.json      written by the resolver only: the CID each read-only
 *                   IPNS key resolved to; read by every worker when its
 *                   mtime or size changes. */
#ifndef CORE_P2PSTATE_H
#define CORE_P2PSTATE_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define P2P_CID_MAX 128
#define P2P_KEY_MAX 256
#define P2P_ERR_MAX 512
#define P2P_STATE_FILE "publisher.json"
#define P2P_ROOTS_FILE "roots.json"
/* The publisher refreshes its heartbeat at least this often while alive. */
#define P2P_HEARTBEAT_S 5

struct p2p_pubstate {
    long pid;
    time_t heartbeat;                      /* unix seconds */
    char state[32];                        /* starting, resolving, ready, other_writer, no_key, disabled, stopped */
    char key[P2P_KEY_MAX];                 /* writeipnskey as configured ("" if none) */
    char key_id[P2P_CID_MAX];              /* its k51... ID once known */
    char last_published_cid[P2P_CID_MAX];
    time_t last_published_at;
    unsigned long long sequence;           /* publishes made by this statedir, ever */
    int pending;                           /* a change not published yet */
    char last_error[P2P_ERR_MAX];          /* "" when the last attempt succeeded */
    char other_writer_cid[P2P_CID_MAX];    /* what the key pointed at that we did not publish */
    unsigned long long publishes_total;
    unsigned long long publish_failures_total;
    unsigned long long last_publish_ms;    /* the last publish's flush and name/publish */
    unsigned long long last_latency_ms;    /* from the first change it carried to its end */
};

/* <dir>/<name>, caller frees. */
char *p2pstate_path(const char *dir, const char *name);
/* Atomic replace of <dir>/publisher.json. 0 or -1 (errno). */
int p2pstate_write_pub(const char *dir, const struct p2p_pubstate *s);
/* 0 and *s filled (missing fields zero), -1 if missing or unreadable. */
int p2pstate_read_pub(const char *dir, struct p2p_pubstate *s);

struct p2p_root {
    char key[P2P_KEY_MAX];
    char cid[P2P_CID_MAX];                 /* "" if never resolved */
    time_t resolved_at;
    /* the IPNS record's sequence number (0: not known, a DNSLink name): a
     * record with a lower one is older and never replaces cid */
    unsigned long long sequence;
    char error[P2P_ERR_MAX];               /* the last resolve's problem, "" if fine */
    /* pinreadonly (ipfs/resolver.c): the last root whose pin completed, the
     * root being pinned ("" if none) and how far that pin is */
    char pinned[P2P_CID_MAX];
    char pinning[P2P_CID_MAX];
    time_t pin_started;                    /* unix seconds the pin in progress began */
    unsigned long long pin_nodes, pin_bytes;   /* blocks and bytes fetched or checked so far */
};

/* What a resolve makes of the root cid it found for ro: P2P_ROOT_SAME,
 * P2P_ROOT_NEW (cid, and seq if seq_known, taken into ro) or P2P_ROOT_OLDER
 * (its record's sequence is lower than the one ro serves: refused, ro
 * unchanged). seq_known is 0 where no sequence came with it (a DNSLink
 * name, or name/resolve on an offline node): taken as it is. */
enum p2p_root_take { P2P_ROOT_SAME, P2P_ROOT_NEW, P2P_ROOT_OLDER };
enum p2p_root_take p2p_root_take(struct p2p_root *ro, const char *cid, int seq_known, unsigned long long seq);

/* Atomic replace of <dir>/roots.json with the n roots, in configured order. */
int p2pstate_write_roots(const char *dir, const struct p2p_root *roots, size_t n);
/* Reads <dir>/roots.json into a new array (caller frees) of *n roots.
 * -1 if missing or unreadable. */
int p2pstate_read_roots(const char *dir, struct p2p_root **roots, size_t *n);

#endif
