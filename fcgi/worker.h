/* worker: one pre-forked process serving FastCGI requests, one at a time,
 * from the listening socket it inherited from the master. */
#ifndef FCGI_WORKER_H
#define FCGI_WORKER_H
#include <sys/types.h>
#include "conf/conf.h"

/* Runs in the child right after fork(). Sets up its own Kubo client, store and
 * registry from c, then accepts and serves requests until SIGTERM/SIGINT (or
 * the death of master_pid), finishing the request in progress first.
 * Returns the process exit status (0 after a clean stop, 1 on a start-up error). */
int worker_run(const struct config *c, int listen_fd, pid_t master_pid);
/* Set by the master before forking: the non-blocking write end of the pipe on
 * which workers tell the publisher that mfsroot changed (-1: none). */
void worker_set_notify_fd(int fd);

#endif
