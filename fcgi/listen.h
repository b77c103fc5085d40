/* listen: find or create the FastCGI listening socket, in this order:
 *   1. fd 0 when it is a listening socket (spawn-fcgi, lighttpd bin-path,
 *      systemd StandardInput=socket);
 *   2. fd 3 when systemd passed exactly one socket (LISTEN_FDS=1 and
 *      LISTEN_PID is us); LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES are then unset
 *      so nothing we start mistakes them for its own;
 *   3. the `listen` setting: "/path.sock" (Unix; a stale socket file is
 *      removed only if nobody answers on it; mode set to `listen_mode`) or
 *      "host:port" (TCP, SO_REUSEADDR).
 * We never call FCGX_OpenSocket: it exit()s on failure and unlinks paths. */
#ifndef FCGI_LISTEN_H
#define FCGI_LISTEN_H

/* Backlog for sockets we bind: bursts of pulls open many connections at once. */
#define LISTEN_BACKLOG 1024

/* listen_addr: the `listen` setting (may be NULL); mode: for a Unix path.
 * On success returns the fd and sets *how to a static description for the
 * log ("inherited fd 0", "systemd socket fd 3", "bound unix socket", ...).
 * On failure returns -1 with *err (one line, caller frees). */
int listen_open(const char *listen_addr, int mode, const char **how, char **err);

/* 1 if fd is a socket in the listening state, else 0. */
int listen_is_listening(int fd);

#endif
