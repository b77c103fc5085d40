/* master: the process that owns the statedir and the listening socket,
 * pre-forks the workers, respawns them, and turns signals into a drain
 * (SIGTERM, SIGINT) or a reload (SIGHUP). It does no request work. */
#ifndef FCGI_MASTER_H
#define FCGI_MASTER_H
#include "conf/conf.h"

/* Opens <statedir>/master.lock (creating statedir, mode 0750, as needed),
 * takes an exclusive flock on it and writes our pid there. Returns the fd
 * (close-on-exec; workers inherit it across fork, so the statedir stays
 * owned until the last of our processes is gone) or -1 with *err (caller
 * frees): "another oci-registry-p2p master (pid N) owns statedir DIR".
 * When the pid in the lock file is dead (the master was SIGKILLed), the
 * holders are its workers finishing their requests: it waits for them,
 * logging why, for at most 300 s. */
int master_lock_statedir(const char *statedir, char **err);

/* Runs the master until a drain completes. Takes c over (frees it; c->file
 * is re-read on SIGHUP). Returns the process exit status: 0 after a drain,
 * 1 if start-up failed (statedir lock, listening socket). */
int master_run(struct config *c);

#endif
