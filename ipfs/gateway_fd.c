/* gateway_fd: the bytes of /ipfs/<cid> as a socket positioned at them, for
 * a sender that moves them on with splice(2) and never copies them through
 * user space (see kubo.h, kubo_gateway_open).
 *
 * libcurl cannot do this: it reads the body into its own buffer. So this is
 * one plain HTTP/1.1 GET on its own TCP connection ("Connection: close"),
 * whose head is read exactly: the bytes are peeked, and only those up to
 * the blank line are consumed, so not one body byte is left in user space.
 * Anything this reader does not expect (no Content-Length, chunked or
 * encoded bodies, a status or a range other than the one asked for, an
 * https or odd gateway URL) is a failure the caller answers by taking the
 * libcurl path (kubo_gateway_get), which handles all of it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "core/metrics.h"
#include "core/xalloc.h"
#include "ipfs/kubo_internal.h"

/* Kubo's heads are well under 1 KiB; a bigger one is not what we expect. */
#define GWFD_HEAD_MAX (16 * 1024)

size_t kubo_gw_head_end(const char *p, size_t n)
{
    for (size_t i = 3; i < n; i++)
        if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' && p[i - 3] == '\r')
            return i + 1;
    return 0;
}

/* A decimal uint64 filling s[0..n) exactly. */
static int gwfd_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 19)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* "bytes FIRST-LAST/TOTAL" (TOTAL may be '*'). */
static int gwfd_content_range(const char *v, size_t n, struct kubo_gw_head *h)
{
    if (n < 6 || strncasecmp(v, "bytes ", 6) != 0)
        return -1;
    const char *p = v + 6, *end = v + n;
    const char *dash = memchr(p, '-', (size_t)(end - p));
    const char *slash = dash ? memchr(dash, '/', (size_t)(end - dash)) : NULL;
    if (!dash || !slash || gwfd_u64(p, (size_t)(dash - p), &h->range_first) < 0 ||
        gwfd_u64(dash + 1, (size_t)(slash - dash - 1), &h->range_last) < 0 ||
        h->range_last < h->range_first)
        return -1;
    h->has_range = 1;
    return 0;
}

int kubo_gw_head_parse(const char *p, size_t n, struct kubo_gw_head *h)
{
    memset(h, 0, sizeof *h);
    h->content_length = -1;
    size_t end = kubo_gw_head_end(p, n);
    if (end == 0)
        return -1;
    /* "HTTP/1.x SSS reason\r\n" */
    const char *line = p, *stop = p + end;
    const char *eol = memchr(line, '\r', (size_t)(stop - line));
    if (!eol || eol - line < 12 || memchr(line, '\n', (size_t)(eol - line)) ||
        strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' ||
        (eol - line > 12 && line[12] != ' '))
        return -1;
    uint64_t st;
    if (gwfd_u64(line + 9, 3, &st) < 0 || st < 100)
        return -1;
    h->status = (int)st;
    line = eol + 2;
    while (line < stop - 2) {   /* the last line is the empty one */
        eol = memchr(line, '\r', (size_t)(stop - line));
        if (!eol || eol[1] != '\n' || memchr(line, '\n', (size_t)(eol - line)))
            return -1;   /* a bare CR or LF: not a head we parse */
        if (*line == ' ' || *line == '\t')
            return -1;   /* obsolete line folding */
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        if (!colon || colon == line)
            return -1;
        size_t nlen = (size_t)(colon - line);
        const char *v = colon + 1, *ve = eol;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        size_t vlen = (size_t)(ve - v);
        if (nlen == 14 && strncasecmp(line, "Content-Length", nlen) == 0) {
            uint64_t cl;
            if (gwfd_u64(v, vlen, &cl) < 0 || cl > INT64_MAX ||
                (h->content_length >= 0 && (uint64_t)h->content_length != cl))
                return -1;   /* two that disagree: a smuggling-shaped answer */
            h->content_length = (int64_t)cl;
        } else if (nlen == 17 && strncasecmp(line, "Transfer-Encoding", nlen) == 0) {
            h->chunked = 1;   /* any coding: the body is not Content-Length bytes */
        } else if (nlen == 16 && strncasecmp(line, "Content-Encoding", nlen) == 0) {
            if (!(vlen == 8 && strncasecmp(v, "identity", 8) == 0))
                h->encoded = 1;
        } else if (nlen == 13 && strncasecmp(line, "Content-Range", nlen) == 0) {
            if (gwfd_content_range(v, vlen, h) < 0)
                return -1;
        }
        line = eol + 2;
    }
    return 0;
}

/* Whether head h answers a request for [offset, offset+length) with exactly
 * those bytes as its body; *why says what is off. */
static int gwfd_head_fits(const struct kubo_gw_head *h, uint64_t offset, uint64_t length,
                          const char **why)
{
    *why = NULL;
    if (h->status != 200 && h->status != 206)
        *why = "status";
    else if (h->chunked)
        *why = "Transfer-Encoding";
    else if (h->encoded)
        *why = "Content-Encoding";
    else if (h->content_length < 0 || (uint64_t)h->content_length != length)
        *why = "Content-Length";
    else if (h->status == 206 &&
             (!h->has_range || h->range_first != offset || h->range_last != offset + length - 1))
        *why = "Content-Range";
    else if (h->status == 200 && offset != 0)
        *why = "a 200 to a Range that starts later";
    return *why == NULL;
}

/* "http://host[:port][/prefix]" (gw_base never ends in '/') into host, port
 * and prefix; host keeps IPv6 brackets off. -1 for anything else (https). */
static int gwfd_split_base(const char *base, char *host, size_t hn, char *port, size_t pn,
                           const char **prefix)
{
    if (strncasecmp(base, "http://", 7) != 0)
        return -1;
    const char *a = base + 7;
    const char *slash = strchr(a, '/');
    const char *end = slash ? slash : a + strlen(a);
    const char *hs = a, *he, *colon;
    if (*a == '[') {
        hs = a + 1;
        he = memchr(hs, ']', (size_t)(end - hs));
        if (!he)
            return -1;
        colon = he + 1 < end && he[1] == ':' ? he + 1 : NULL;
        if (!colon && he + 1 != end)
            return -1;
    } else {
        colon = memchr(a, ':', (size_t)(end - a));
        he = colon ? colon : end;
    }
    if (he == hs || (size_t)(he - hs) >= hn || memchr(hs, '@', (size_t)(he - hs)))
        return -1;
    memcpy(host, hs, (size_t)(he - hs));
    host[he - hs] = '\0';
    const char *ps = colon ? colon + 1 : "80", *pe = colon ? end : ps + 2;
    if (pe == ps || (size_t)(pe - ps) >= pn)
        return -1;
    for (const char *q = ps; q < pe; q++)
        if (*q < '0' || *q > '9')
            return -1;
    memcpy(port, ps, (size_t)(pe - ps));
    port[pe - ps] = '\0';
    *prefix = slash ? slash : "";
    return 0;
}

/* A connected TCP socket to host:port within timeout_s, blocking, or -1
 * with errno set (ETIMEDOUT when the connect did not finish in time). */
static int gwfd_connect(const char *host, const char *port, long timeout_s)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai) {
        errno = EHOSTUNREACH;
        return -1;
    }
    int fd = -1, err = ECONNREFUSED;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int rc = connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            int pr;
            do
                pr = poll(&pfd, 1, (int)(timeout_s * 1000));
            while (pr < 0 && errno == EINTR);
            socklen_t sl = sizeof err;
            if (pr == 0)
                err = ETIMEDOUT;
            else if (pr < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
                err = errno;
            rc = pr > 0 && err == 0 ? 0 : -1;
        } else if (rc < 0) {
            err = errno;
        }
        if (rc == 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0)
        errno = err;
    return fd;
}

static int gwfd_send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads the response head off fd into h (cap GWFD_HEAD_MAX) and nothing
 * past it: peek, then consume only head bytes. Returns the head's length,
 * 0 if the connection ended or the head is too long, -1 on a socket error. */
static ssize_t gwfd_read_head(int fd, char *h)
{
    size_t len = 0;
    while (len < GWFD_HEAD_MAX) {
        ssize_t n = recv(fd, h + len, GWFD_HEAD_MAX - len, MSG_PEEK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n;
        /* search from 3 bytes back: the blank line may straddle two peeks */
        size_t from = len > 3 ? len - 3 : 0;
        size_t end = kubo_gw_head_end(h + from, len + (size_t)n - from);
        size_t take = end ? from + end - len : (size_t)n;
        size_t got = 0;
        while (got < take) {
            ssize_t r = recv(fd, h + len + got, take - got, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return r;
            got += (size_t)r;
        }
        len += take;
        if (end)
            return (ssize_t)len;
    }
    return 0;
}

/* One request; *status gets the gateway's answer (0: none). */
static int gwfd_open_once(struct kubo *k, const char *cid, uint64_t offset, uint64_t length, int *fdp,
                          int *status)
{
    char host[256], port[8];
    const char *prefix;
    *fdp = -1;
    char *what = xasprintf("gateway %s (direct)", cid);
    int rc = KUBO_ERROR;
    int fd = -1, asked = 0;
    struct buf req;
    buf_init(&req, KUBO_QUERY_MAX);
    if (!k->gw_base || length == 0 || offset > UINT64_MAX - length) {
        rc = kubo_fail(k, KUBO_ERROR, what, "no gateway, or no bytes asked for");
        goto out;
    }
    if (gwfd_split_base(k->gw_base, host, sizeof host, port, sizeof port, &prefix) < 0) {
        rc = kubo_fail(k, KUBO_ERROR, what, "%s is not an http://host:port URL", k->gw_base);
        goto out;
    }
    /* Host: as the URL has it (brackets and port included) */
    const char *hp = k->gw_base + 7;
    int hplen = (int)(strlen(hp) - strlen(prefix));
    if (buf_appendf(&req, "GET %s/ipfs/", prefix) < 0 || kubo_pct_encode(&req, cid, 1) < 0 ||
        buf_appendf(&req,
                    " HTTP/1.1\r\nHost: %.*s\r\nRange: bytes=%" PRIu64 "-%" PRIu64 "\r\n"
                    "Accept-Encoding: identity\r\nConnection: close\r\n\r\n",
                    hplen, hp, offset, offset + length - 1) < 0) {
        rc = kubo_fail(k, KUBO_ERROR, what, "request too long");
        goto out;
    }
    k->nreq++;
    asked = 1;
    fd = gwfd_connect(host, port, k->connect_s);
    if (fd < 0) {
        rc = kubo_fail(k, KUBO_UNAVAILABLE, what, "connect to %s:%s: %s", host, port, strerror(errno));
        goto out;
    }
    /* The same stall limit as the libcurl path (kubo_curl_prepare): no byte
     * for stall_s seconds fails a read or a write; a splice of the body
     * honours SO_RCVTIMEO too. */
    struct timeval tv = { .tv_sec = k->stall_s, .tv_usec = 0 };
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
        rc = kubo_fail(k, KUBO_ERROR, what, "setsockopt: %s", strerror(errno));
        goto out;
    }
    if (gwfd_send_all(fd, req.data, req.len) < 0) {
        rc = kubo_fail(k, KUBO_UNAVAILABLE, what, "send: %s", strerror(errno));
        goto out;
    }
    char head[GWFD_HEAD_MAX];
    ssize_t hl = gwfd_read_head(fd, head);
    struct kubo_gw_head h;
    const char *why = NULL;
    if (hl < 0)
        rc = kubo_fail(k, KUBO_UNAVAILABLE, what, "reading the head: %s",
                       errno == EAGAIN ? "stalled" : strerror(errno));
    else if (hl == 0)
        rc = kubo_fail(k, KUBO_UNAVAILABLE, what, "no complete head (closed, or over %d bytes)",
                       GWFD_HEAD_MAX);
    else if (kubo_gw_head_parse(head, (size_t)hl, &h) < 0)
        rc = kubo_fail(k, KUBO_ERROR, what, "a head this reader does not parse");
    else if ((*status = h.status), !gwfd_head_fits(&h, offset, length, &why))
        rc = kubo_fail(k, kubo_gateway_status_rc(h.status), what, "HTTP %d: unexpected %s", h.status, why);
    else
        rc = KUBO_OK;
out:
    if (asked)
        metrics_kubo_gateway(rc == KUBO_UNAVAILABLE);
    if (rc == KUBO_OK) {
        *fdp = fd;
    } else if (fd >= 0) {
        close(fd);
    }
    buf_free(&req);
    free(what);
    return rc;
}

int kubo_gateway_open(struct kubo *k, const char *cid, uint64_t offset, uint64_t length, int *fdp)
{
    int rc = KUBO_ERROR;
    for (int i = 0; i < KUBO_GW_TIMEOUT_TRIES; i++) {
        int status = 0;
        rc = gwfd_open_once(k, cid, offset, length, fdp, &status);
        if (!kubo_gateway_gave_up(rc, status))
            break;
        if (i + 1 < KUBO_GW_TIMEOUT_TRIES)
            metrics_kubo_gateway_resume();
    }
    return rc;
}
