/* listen: discovery of an inherited listening socket, or binding our own. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "core/xalloc.h"
#include "fcgi/listen.h"

/* sd_listen_fds(3): passed sockets start at fd 3. */
#define LISTEN_SD_FD_START 3

int listen_is_listening(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
        return 0;
    int on = 0;
    socklen_t len = sizeof on;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0)
        return 0;
    return on != 0;
}

/* Parses a decimal environment value fully; -1 if absent or malformed. */
static long long listen_env_num(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > INT32_MAX || *s == '-')
        return -1;
    return (long long)v;
}

/* systemd socket activation: 1 = fd 3 is ours, 0 = not activated, -1 error. */
static int listen_from_systemd(char **err)
{
    long long pid = listen_env_num("LISTEN_PID");
    long long nfds = listen_env_num("LISTEN_FDS");
    if (pid < 0 || nfds < 0 || pid != (long long)getpid())
        return 0;
    /* The variables were meant for this process only: workers and anything
     * they might start must not see them. */
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (nfds == 0)
        return 0;
    if (nfds != 1) {
        *err = xasprintf("listen: systemd passed %lld sockets (LISTEN_FDS); "
                         "expected exactly one (one ListenStream= in the .socket unit)", nfds);
        return -1;
    }
    if (!listen_is_listening(LISTEN_SD_FD_START)) {
        *err = xasprintf("listen: systemd fd %d is not a listening stream socket",
                         LISTEN_SD_FD_START);
        return -1;
    }
    return 1;
}

/* A socket file exists at path: is anybody accepting on it? */
static int listen_unix_alive(const struct sockaddr_un *sun)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int alive = connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0;
    close(fd);
    return alive;
}

static int listen_unix(const char *path, int mode, char **err)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    size_t plen = strlen(path);
    if (plen >= sizeof sun.sun_path) {
        *err = xasprintf("listen %s: path too long for a Unix socket (max %zu bytes)",
                         path, sizeof sun.sun_path - 1);
        return -1;
    }
    memcpy(sun.sun_path, path, plen + 1);

    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            *err = xasprintf("listen %s: exists and is not a socket; not touching it", path);
            return -1;
        }
        /* Only a socket nobody answers on is stale: removing a live one would
         * silently steal the address from a running instance. */
        if (listen_unix_alive(&sun)) {
            *err = xasprintf("listen %s: another process is accepting on this socket", path);
            return -1;
        }
        if (unlink(path) < 0 && errno != ENOENT) {
            *err = xasprintf("listen %s: removing stale socket: %s", path, strerror(errno));
            return -1;
        }
    }

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = xasprintf("listen %s: socket: %s", path, strerror(errno));
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
        *err = xasprintf("listen %s: bind: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    /* chmod before listen(): nobody can connect before the mode is right. */
    if (chmod(path, (mode_t)mode) < 0) {
        *err = xasprintf("listen %s: chmod %04o: %s", path, (unsigned)mode, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    if (listen(fd, LISTEN_BACKLOG) < 0) {
        *err = xasprintf("listen %s: listen: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    return fd;
}

/* "host:port", "[v6]:port", "*:port" or ":port" (all addresses). */
static int listen_tcp(const char *addr, char **err)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || !colon[1]) {
        *err = xasprintf("listen %s: expected an absolute Unix socket path or host:port", addr);
        return -1;
    }
    char *host = xstrndup(addr, (size_t)(colon - addr));
    const char *port = colon + 1;
    size_t hlen = strlen(host);
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        memmove(host, host + 1, hlen - 2);
        host[hlen - 2] = '\0';
    }
    const char *node = (host[0] == '\0' || strcmp(host, "*") == 0) ? NULL : host;

    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(node, port, &hints, &res);
    if (gai != 0) {
        *err = xasprintf("listen %s: %s", addr, gai_strerror(gai));
        free(host);
        return -1;
    }
    int fd = -1, saved = 0;
    const char *what = "socket";
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            what = "socket";
            continue;
        }
        int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            if (listen(fd, LISTEN_BACKLOG) == 0)
                break;
            what = "listen";
        } else {
            what = "bind";
        }
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    free(host);
    if (fd < 0)
        *err = xasprintf("listen %s: %s: %s", addr, what, strerror(saved));
    return fd;
}

int listen_open(const char *listen_addr, int mode, const char **how, char **err)
{
    *err = NULL;
    if (listen_is_listening(STDIN_FILENO)) {
        *how = "inherited fd 0";
        return STDIN_FILENO;
    }
    int sd = listen_from_systemd(err);
    if (sd < 0)
        return -1;
    if (sd > 0) {
        *how = "systemd socket fd 3";
        return LISTEN_SD_FD_START;
    }
    if (!listen_addr || !*listen_addr) {
        *err = xasprintf("listen: no socket to serve on: fd 0 is not a listening socket "
                         "(spawn-fcgi, lighttpd bin-path), no systemd socket (LISTEN_FDS), "
                         "and no 'listen' setting (\"/run/oci-registry-p2p/fcgi.sock\" or "
                         "\"127.0.0.1:9000\") in the configuration");
        return -1;
    }
    int fd = listen_addr[0] == '/' ? listen_unix(listen_addr, mode, err)
                                   : listen_tcp(listen_addr, err);
    if (fd >= 0)
        *how = listen_addr[0] == '/' ? "bound unix socket" : "bound tcp socket";
    return fd;
}
