/* edge: struct http_io over a libfcgi request.
 *
 * libfcgi facts this relies on (fcgiapp.c / os_unix.c, 2.4.x):
 * - FCGX_GetStr returns fewer bytes than asked at end of stream *and* on
 *   error; only FCGX_GetError tells them apart.
 * - FCGX_PutStr returns -1 once the connection failed (EPIPE: SIGPIPE is
 *   ignored by the worker).
 * - FCGX_Finish_r writes FCGI_END_REQUEST, which makes the front server treat
 *   whatever it got as the complete response, so an aborted response must
 *   never reach it (see edge_drop). FCGX_Free(fr, 1) would close without it,
 *   but its close first shutdown()s and then reads (and throws away) whatever
 *   the front server still sends, waiting up to 2 s per read: after an
 *   aborted upload that could mean swallowing the rest of a large body. So we
 *   close the fd ourselves and only let FCGX_Free release the memory. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "core/log.h"
#include "core/metrics.h"
#include "core/registry/router.h"
#include "fcgi/edge.h"
#include "fcgi/edge_internal.h"
#include "fcgi/edge_splice.h"
#include "fcgi/fcgi_record.h"

/* A parameter the front server sends twice counts with its last value, as
 * php-fpm takes it (libfcgi's FCGX_GetParam returns the first). nginx sends
 * both when a fastcgi_param follows an included fastcgi_params that sets the
 * same name, and the later line is the one meant: Debian's fastcgi_params
 * sets REMOTE_USER to $remote_user, the name in any Authorization header
 * whether or not nginx checked it, and a config that knows better
 * overrides it after the include. */
static const char *edge_param(void *io, const char *name)
{
    struct edge_io *e = io;
    size_t len = strlen(name);
    const char *v = NULL;
    for (char **p = e->fr->envp; p && *p; p++)
        if (strncmp(*p, name, len) == 0 && (*p)[len] == '=')
            v = *p + len + 1;
    return v;
}

static ssize_t edge_read(void *io, char *buf, size_t n)
{
    struct edge_io *e = io;
    if (e->dropped)
        return -1;
    if (n == 0)
        return 0;
    int want = n > INT_MAX ? INT_MAX : (int)n;
    int got = FCGX_GetStr(buf, want, e->fr->in);
    if (got > 0)
        return got;   /* a later call reports the error, if any */
    if (FCGX_GetError(e->fr->in) != 0)
        return -1;    /* front server closed mid-body, or a protocol error */
    return 0;
}

/* Body bytes bypass libfcgi's stream: FCGX_PutStr copies into an 8 KiB
 * buffer and write()s one 8 KiB record at a time, and libcurl hands a blob
 * over in 16 KiB pieces (CURL_MAX_WRITE_SIZE, whatever CURLOPT_BUFFERSIZE
 * says): 131,072 syscalls per GiB, each waking nginx (the profile in
 * docs/benchmarks.md). Writes of EDGE_DIRECT_MIN bytes or more (and all
 * writes after one, to keep the order) gather in edge_out and go out as
 * 64 KiB FCGI_STDOUT records, several per writev. libfcgi's buffer (the
 * header lines) is flushed first; edge_serve flushes the rest before
 * FCGX_Finish_r appends the empty record and FCGI_END_REQUEST as usual.
 * Small answers (manifests, errors) never take this path. EDGE_DIRECT_MIN
 * and EDGE_OUT_MAX are in edge_internal.h, for the tests. */

/* One response at a time per worker: one buffer per process. */
static char edge_out[EDGE_OUT_MAX];

/* buf[0..n) as FCGI_STDOUT records, after whatever libfcgi holds. */
static int edge_write_records(struct edge_io *e, const char *buf, size_t n)
{
    FCGX_Request *fr = e->fr;
    if (FCGX_FFlush(fr->out) != 0 || FCGX_GetError(fr->out) != 0 || fr->ipcFd < 0)
        return -1;
    /* EPIPE: the front server is gone (SIGPIPE is ignored) */
    return fcgi_record_write(fr->ipcFd, FCGI_STDOUT, (uint16_t)fr->requestId, buf, n);
}

static int edge_flush(struct edge_io *e)
{
    if (e->dropped)
        return -1;
    size_t n = e->pending;
    e->pending = 0;
    return n ? edge_write_records(e, edge_out, n) : 0;
}

/* Gathers into edge_out; a write as large as the buffer goes out as is. */
static int edge_write_gathered(struct edge_io *e, const char *buf, size_t n)
{
    while (n > 0) {
        if (e->pending == 0 && n >= EDGE_OUT_MAX)
            return edge_write_records(e, buf, n);
        size_t k = EDGE_OUT_MAX - e->pending;
        if (k > n)
            k = n;
        memcpy(edge_out + e->pending, buf, k);
        e->pending += k;
        buf += k;
        n -= k;
        if (e->pending == EDGE_OUT_MAX && edge_flush(e) < 0)
            return -1;
    }
    return 0;
}

static int edge_write(void *io, const char *buf, size_t n)
{
    struct edge_io *e = io;
    if (e->dropped)
        return -1;
    if (e->pending || n >= EDGE_DIRECT_MIN)
        return edge_write_gathered(e, buf, n);
    while (n > 0) {
        int part = n > INT_MAX ? INT_MAX : (int)n;
        if (FCGX_PutStr(buf, part, e->fr->out) != part)
            return -1;
        buf += part;
        n -= (size_t)part;
    }
    return 0;
}

/* The bogus header must arrive: when the front server is slow to read (a
 * slow client behind it), the socket can be full, and a header not sent
 * leaves a plain EOF. Wait for room, but not beyond EDGE_DROP_WAIT_MS. */
#define EDGE_DROP_WAIT_MS 10000

/* Fail the response on the wire. Closing without FCGI_END_REQUEST is not
 * enough: nginx (1.22, measured) takes an upstream EOF as the end of the
 * response, sends the last chunk of a chunked body (a truncated body that
 * looks complete) or, with a Content-Length, keeps the client waiting for
 * keepalive_timeout. A record with an invalid protocol version is an upstream
 * *error* to it: it drops the client connection at once (502 if no header
 * went out yet). libfcgi, edge_write_records and the splice path write whole
 * records, so the bogus header starts on a record boundary; output still in
 * libfcgi's buffer or in edge_out is discarded.
 * The request's memory stays until edge_serve ends (the request still
 * borrows parameter strings from it). */
static void edge_drop(struct edge_io *e)
{
    if (e->dropped)
        return;
    e->dropped = 1;
    e->pending = 0;   /* never sent: the response fails as a whole */
    int fd = e->fr->ipcFd;
    if (fd >= 0) {
        (void)fcgi_record_abort(fd, EDGE_DROP_WAIT_MS);
        close(fd);
    }
    e->fr->ipcFd = -1;
}

static void edge_abort(void *io)
{
    edge_drop(io);
}

static int edge_splice_from(void *io, int fd, uint64_t n, uint64_t *sent)
{
    struct edge_io *e = io;
    FCGX_Request *fr = e->fr;
    *sent = 0;
    if (e->dropped)
        return HTTP_FAILED;
    /* whatever is buffered goes first, as whole records */
    if (edge_flush(e) < 0 || FCGX_FFlush(fr->out) != 0 || FCGX_GetError(fr->out) != 0 ||
        fr->ipcFd < 0) {
        edge_drop(e);
        return HTTP_FAILED;
    }
    enum http_try rc = edge_splice_send(fd, fr->ipcFd, (uint16_t)fr->requestId, n, sent);
    if (rc == HTTP_FAILED)
        edge_drop(e);   /* what went out ends on a record boundary */
    return rc;
}

const struct http_io edge_ops = {
    .param = edge_param,
    .read = edge_read,
    .write = edge_write,
    .abort = edge_abort,
    .splice_from = edge_splice_from,
};

static double edge_ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Ends the request after a drop: free libfcgi's memory without touching the
 * (closed) fd, then reset the request for the next accept. */
static void edge_release_dropped(FCGX_Request *fr)
{
    int listen_sock = fr->listen_sock, flags = fr->flags;
    fr->ipcFd = -1;
    FCGX_Free(fr, 0);
    FCGX_InitRequest(fr, listen_sock, flags);
}

int edge_settle(struct edge_io *e, int aborted)
{
    int failed = aborted || e->dropped;
    if (!failed && edge_flush(e) < 0)
        failed = 1;   /* the front server went away under the last bytes */
    if (failed)
        edge_drop(e);
    return failed;
}

/* After the answer, libfcgi's close reads and throws away whatever the front
 * server still sends, until it stops, 2 s at most *between* two reads (so
 * the peer reads the answer before a close with unread data could reset the
 * connection). A request body the handler did not read to its end (a 429,
 * an error before the body) is still coming, at the client's pace: a front
 * server that writes the whole body before it reads the answer (caddy)
 * would hold the worker until the last byte, a slow client for as long as it
 * likes. So when the body's end was not seen, the worker waits for the
 * front server's close (nginx closes at FCGI_END_REQUEST) for EDGE_LINGER_MS
 * in all, then closes. */
#define EDGE_LINGER_MS 2000

static void edge_linger(int fd)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (shutdown(fd, SHUT_WR) < 0)
        return;
    for (;;) {
        double left = EDGE_LINGER_MS - edge_ms_since(&t0);
        if (left <= 0)
            return;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, (int)left + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return;
        char trash[4096];
        ssize_t n = read(fd, trash, sizeof trash);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
            return;
    }
}

void edge_end(struct edge_io *e)
{
    FCGX_Request *fr = e->fr;
    if (e->dropped) {
        edge_release_dropped(fr);
        return;
    }
    if (!FCGX_HasSeenEOF(fr->in)) {
        /* the answer and FCGI_END_REQUEST go out first, as FCGX_Finish_r
         * would send them; then close ourselves, never keeping a
         * connection whose request body is still arriving */
        FCGX_FClose(fr->err);
        FCGX_FClose(fr->out);
        if (fr->ipcFd >= 0)
            edge_linger(fr->ipcFd);
        fr->keepConnection = 0;
        fr->detached = 1;   /* FCGX_Free's close without libfcgi's drain */
    }
    FCGX_Finish_r(fr);
}

void edge_serve(FCGX_Request *fr, struct registry *reg)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct edge_io e = { .fr = fr, .dropped = 0, .pending = 0 };
    /* The raw REQUEST_URI: SCRIPT_NAME/PATH_INFO/DOCUMENT_URI are decoded and
     * normalized by front servers, which would change names and digests. */
    const char *method = edge_param(&e, "REQUEST_METHOD");
    const char *uri = edge_param(&e, "REQUEST_URI");
    const char *clen = edge_param(&e, "CONTENT_LENGTH");
    /* caddy 2.6's fastcgi transport passes a chunked body's unknown length
     * as "-1" (Go's ContentLength) and then streams the body to the end of
     * FCGI_STDIN: the same as nginx's empty CONTENT_LENGTH, read to EOF. */
    if (clen && strcmp(clen, "-1") == 0)
        clen = NULL;

    struct request req;
    struct response resp;
    resp_init(&resp, &edge_ops, &e);
    if (!method || !uri) {
        log_error("edge: the front server passed no %s: add "
                  "'fastcgi_param REQUEST_URI $request_uri;' (nginx) or equivalent",
                  method ? "REQUEST_URI" : "REQUEST_METHOD");
        memset(&req, 0, sizeof req);
        resp_error(&resp, OCI_INTERNAL, "server misconfigured: no REQUEST_URI", NULL);
    } else if (req_init(&req, method, uri, clen, &edge_ops, &e) < 0) {
        resp_status(&resp, 400);
        resp_header(&resp, "Content-Length", "0");
        resp_finish(&resp);
    } else {
        registry_handle(reg, &req, &resp);
        if (!resp.head_sent && !resp.aborted) {
            /* a handler that answers nothing is a bug; the client still gets an answer */
            log_error("edge: %s %s: handler sent no response", method, uri);
            resp_error(&resp, OCI_INTERNAL, NULL, NULL);
        }
    }

    int failed = edge_settle(&e, resp.aborted);
    /* HEAD counts the body it would have sent; none went out. */
    uint64_t out = resp.head_only ? 0 : resp.body_bytes;
    double ms = edge_ms_since(&t0);
    metrics_request((unsigned)req.route, method, resp.status, failed, req.body_read, out,
                    (uint64_t)(ms * 1000.0));
    /* The access line: the pid is in the prefix (worker[pid]). The user is
     * the one the front server authenticated (REMOTE_USER; "-" for none),
     * last on the line because a name may hold spaces. */
    const char *user = edge_param(&e, "REMOTE_USER");
    log_info("%s %s %s %d%s in %llu out %llu bytes %.1f ms user %s", method ? method : "-",
             uri ? uri : "-", route_kind_name((enum route_kind)req.route), resp.status,
             failed ? " aborted" : "", (unsigned long long)req.body_read,
             (unsigned long long)out, ms, user && *user ? user : "-");
    req_free(&req);
    resp_free(&resp);
    edge_end(&e);
}
