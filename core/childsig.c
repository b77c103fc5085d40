/* childsig: see childsig.h. */
#include <string.h>
#include "core/childsig.h"

static void childsig_set(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = fn;
    sa.sa_flags = SA_RESTART;
    sigaction(sig, &sa, NULL);
}

void childsig_setup(void (*on_stop)(int), sigset_t *waitmask)
{
    childsig_set(SIGTERM, on_stop);
    childsig_set(SIGINT, on_stop);
    childsig_set(SIGPIPE, SIG_IGN);
    childsig_set(SIGUSR1, SIG_IGN);
    childsig_set(SIGHUP, SIG_IGN);
    childsig_set(SIGCHLD, SIG_DFL);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_SETMASK, &block, NULL);
    sigemptyset(waitmask);
}
