/* publisher: the process that owns every IPNS write of this registry, and
 * its sibling the resolver, which resolves the read-only keys for all
 * workers. The master forks both (fcgi/master.c) and respawns them.
 *
 * Publisher: workers write a byte to notify_fd's other end after each
 * committed change (store_union); the publisher coalesces them (quiet
 * period, maximum interval), then files/flush of mfsroot -> name/publish.
 * It keeps <statedir>/publisher.json (core/p2pstate.h) current.
 *
 * Resolver: every ipnsrefresh seconds, name/resolve with nocache of each
 * readonlyipnskeys entry -> <statedir>/roots.json; with pinreadonly, the
 * pin moves from the previous root to the new one. */
#ifndef IPFS_PUBLISHER_H
#define IPFS_PUBLISHER_H
#include <sys/types.h>
#include "conf/config.h"

/* Runs until SIGTERM (publishing a pending change first) or until the
 * master is gone. Returns the exit status. */
int publisher_run(const struct config *c, int notify_fd, pid_t master_pid);
int resolver_run(const struct config *c, pid_t master_pid);

/* Start-up check the master makes before serving: with writeipnskey set and
 * Kubo answering, the key must be in the node's keystore. 0 fine (or Kubo
 * unreachable: the publisher keeps trying), -1 with *err (caller frees). */
int publisher_check_key(const struct config *c, char **err);

#endif
