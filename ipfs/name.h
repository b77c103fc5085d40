/* name: IPNS, keys and pins over Kubo's RPC API (the calls only the
 * publisher makes: name/publish, name/resolve, key/list, pin/add, pin/update, pin/rm).
 * Same conventions as kubo.h: an enum kubo_rc, kubo_errmsg() on failure. */
#ifndef IPFS_NAME_H
#define IPFS_NAME_H
#include <stddef.h>
#include <stdint.h>
#include "ipfs/kubo.h"

/* What an IPNS name resolved to. NO_RECORD ("could not resolve name": the key
 * has never been published, or its record expired everywhere) is an answer;
 * a failure (node down, timeout, any other error) is not, and must never be
 * taken for "empty". */
enum kubo_resolve {
    KUBO_RESOLVED = 0,
    KUBO_RESOLVE_NO_RECORD,
    KUBO_RESOLVE_FAILED,
};

struct kubo_publish_opts {
    const char *key;          /* keystore name or key ID */
    const char *lifetime;     /* Kubo duration ("48h"); NULL: Kubo's default */
    const char *ttl;          /* Kubo duration ("1m"); NULL: Kubo's default */
    int allow_offline;        /* publish even with no peers (a lone node) */
};

/* name/publish /ipfs/<cid> under opts->key. */
int kubo_name_publish(struct kubo *k, const char *cid, const struct kubo_publish_opts *opts);
/* name/resolve of name (a key ID, or a DNSLink domain), recursive, bypassing
 * Kubo's cache if nocache. On KUBO_RESOLVED cid_out gets the CID the name
 * points at (the first path component after /ipfs/; a path inside it is not
 * accepted: a registry root is a CID). timeout_s bounds the routing lookup
 * (0: Kubo's default). */
enum kubo_resolve kubo_name_resolve(struct kubo *k, const char *name, int nocache, int timeout_s,
                                    char cid_out[KUBO_CID_MAX]);

/* The record the routing system considers most current for the IPNS name
 * (name/get: the DHT's best, or pubsub's; no cache), read by name/inspect
 * with its signature checked against name: cid_out as for
 * kubo_name_resolve, *seq its sequence number. Not for DNSLink names. */
enum kubo_resolve kubo_name_record(struct kubo *k, const char *name, int timeout_s,
                                   char cid_out[KUBO_CID_MAX], unsigned long long *seq);

/* Looks key up in the node's keystore by name or by ID. KUBO_OK and id_out
 * (the k51... ID) when found, KUBO_NOT_FOUND when the keystore has no such
 * key, anything else when the keystore could not be read. */
int kubo_key_find(struct kubo *k, const char *key, char id_out[KUBO_CID_MAX]);

/* Number of connected peers; -1 on error (an --offline node answers an
 * error: it has no swarm). */
int kubo_swarm_peer_count(struct kubo *k);

/* Recursive pin of /ipfs/<cid>. */
int kubo_pin_add(struct kubo *k, const char *cid);
/* The same, telling cb the blocks (nodes) and bytes fetched or checked so
 * far as Kubo reports them (every half second). Kubo's output never pauses
 * for long, so the client's stall limit does not cut a long pin short. */
typedef void (*kubo_pin_progress_cb)(uint64_t nodes, uint64_t bytes, void *ctx);
int kubo_pin_add_progress(struct kubo *k, const char *cid, kubo_pin_progress_cb cb, void *ctx);
/* Fetches the blocks under path (an /ipfs/ path) down to max_depth links
 * (-1: all), as `ipfs refs -r --unique`; *n counts them. Kubo streams one
 * line per block, so the stall limit bounds a block no peer has. */
int kubo_refs_fetch(struct kubo *k, const char *path, int max_depth, uint64_t *n);
/* Moves a recursive pin from one root to another (pin/update, which only
 * fetches what differs); from must be pinned. */
int kubo_pin_update(struct kubo *k, const char *from, const char *to);
/* KUBO_NOT_FOUND if cid is not pinned. */
int kubo_pin_rm(struct kubo *k, const char *cid);

#endif
