/* childsig: the signal arrangement every child of the master shares (the
 * workers, the publisher, the resolver). TERM and INT call on_stop (which
 * sets a flag) but are blocked, so they arrive only while the child waits
 * in ppoll/pselect with *waitmask; PIPE is ignored (a vanished peer is an
 * EPIPE from write), as are USR1 (libfcgi's handler would break reads with
 * EINTR) and HUP (for the master: a terminal's HUP to the whole group must
 * not kill requests); CHLD is left at its default. Every handler has
 * SA_RESTART. Installed after libfcgi's, so these win. */
#ifndef CORE_CHILDSIG_H
#define CORE_CHILDSIG_H
#include <signal.h>

void childsig_setup(void (*on_stop)(int), sigset_t *waitmask);

#endif
