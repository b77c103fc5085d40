/* edge_splice: splice(2) from a source socket (or a blob file) into the
 * FastCGI connection, framed on the way (see edge_splice.h for the
 * contract). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include "core/log.h"
#include "fcgi/edge_splice.h"
#include "fcgi/fcgi_record.h"

/* The zero-copy body (http_io.splice_from): the bytes go from the source
 * socket into a pipe, from there into a second pipe behind each record's
 * 8-byte header, and from that into the FastCGI connection, all with
 * splice(2): the kernel passes page references and the worker copies
 * nothing (a full record's header is a tee of one header page). The source
 * is read like a recv() with a big buffer (whatever has arrived, up to
 * EDGE_SPLICE_IN per call, waking up only once EDGE_LOWAT bytes are queued
 * or the stream ended): splicing a record at a time made eight times the
 * calls, each ending in a window update whose softirq work (Kubo's next
 * segments) then landed on the worker, and saved nothing (measured; see
 * docs/benchmarks.md). Records are FCGI_RECORD_MAX bytes (the last one
 * shorter). A pipe counts slots, not bytes
 * (one per page piece of the socket's buffers), so one may fill early:
 * then the framed pipe goes out first; a record cut anywhere is fine, the
 * front server reads records by their length. The source's SO_RCVTIMEO is
 * its stall limit. */
#define EDGE_PIPE_SIZE (1024 * 1024)
#define EDGE_SPLICE_IN (512 * 1024)
#define EDGE_LOWAT (256 * 1024)
/* Bytes held back until the source has given all it promised (see
 * edge_splice_may): Kubo's truncation line is under 100 bytes. */
#define EDGE_HOLD 4096

struct edge_splice {
    int src, dst;
    int raw[2];        /* body bytes as read */
    int framed[2];     /* records: header, bytes, header, ... */
    int hdr[2];        /* a full record's header, tee'd ahead of each (-1: none) */
    size_t in_raw, in_framed;
    int wrote;         /* something went into dst: no going back */
    int stall_ms;      /* from the source's SO_RCVTIMEO; -1: none */
    int lowat;         /* the source's SO_RCVLOWAT as set here */
    int is_sock;       /* src is a socket (else a regular file: a blob file) */
    int release;       /* the held-back bytes may go (edge_splice_may) */
};

/* Everything in the framed pipe into the FastCGI connection (blocking). */
static int edge_splice_drain(struct edge_splice *s)
{
    while (s->in_framed > 0) {
        ssize_t w = splice(s->framed[0], NULL, s->dst, NULL, s->in_framed, SPLICE_F_MOVE);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;   /* EPIPE: the front server is gone */
        s->wrote = 1;
        s->in_framed -= (size_t)w;
    }
    return 0;
}

/* Waits for the source to have bytes (SO_RCVLOWAT of them, or its end). */
static int edge_splice_wait(const struct edge_splice *s)
{
    struct pollfd p = { .fd = s->src, .events = POLLIN };
    int r;
    do
        r = poll(&p, 1, s->stall_ms);
    while (r < 0 && errno == EINTR);
    return r > 0 ? 0 : -1;
}

/* The raw pipe into the framed one, headers ahead of each record's bytes,
 * until *framed reaches may (body bytes that may go out; the rest stays in
 * the raw pipe). A record is only begun for bytes already in the raw pipe,
 * so whatever happens to the source, what reaches the front server ends on
 * a record boundary (edge_drop's bogus header must start one). *rec_left:
 * bytes of the current record still to move; *framed: body bytes framed so far. */
static int edge_splice_frame(struct edge_splice *s, uint16_t request_id, uint64_t may,
                             size_t *rec_left, uint64_t *framed)
{
    while (*framed < may) {
        if (*rec_left == 0) {
            /* a short record rather than one the source may not finish */
            size_t len = may - *framed > FCGI_RECORD_MAX ? FCGI_RECORD_MAX : (size_t)(may - *framed);
            unsigned char h[FCGI_HEADER_LEN];
            fcgi_record_header(h, FCGI_STDOUT, request_id, (uint16_t)len, 0);
            /* a full record's header is a reference to the one in hdr's
             * page: no page to allocate and charge per record */
            ssize_t w = len == FCGI_RECORD_MAX && s->hdr[0] >= 0
                            ? tee(s->hdr[0], s->framed[1], sizeof h, SPLICE_F_NONBLOCK)
                            : write(s->framed[1], h, sizeof h);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && errno == EAGAIN) {
                if (edge_splice_drain(s) < 0)
                    return -1;
                continue;
            }
            if (w != (ssize_t)sizeof h)
                return -1;   /* 8 bytes into a pipe go in whole or not at all */
            s->in_framed += sizeof h;
            *rec_left = len;
        }
        size_t want = *rec_left;
        ssize_t m = splice(s->raw[0], NULL, s->framed[1], NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (m < 0 && errno == EINTR)
            continue;
        if (m < 0 && errno == EAGAIN) {
            if (edge_splice_drain(s) < 0)   /* the framed pipe is out of slots */
                return -1;
            continue;
        }
        if (m <= 0)
            return -1;
        *rec_left -= (size_t)m;
        *framed += (uint64_t)m;
        s->in_raw -= (size_t)m;
        s->in_framed += (size_t)m;
    }
    return 0;
}

/* How edge_splice_records ended. */
enum { EDGE_OK = 0, EDGE_DST_FAILED = -1, EDGE_SRC_FAILED = -2 };

/* Body bytes that may go out of the in read so far: all once the source
 * gave all n, else all but the last EDGE_HOLD. A gateway that gives up on a
 * stream (Kubo's Gateway.RetrievalTimeout) may write a line of its own after
 * the last good bytes and then close: held back, those never reach the
 * client, and a resumed stream (HTTP_SHORT) starts before them. */
static uint64_t edge_splice_may(const struct edge_splice *s, uint64_t in, uint64_t n)
{
    if (in == n || s->release)
        return in;
    return in > EDGE_HOLD ? in - EDGE_HOLD : 0;
}

/* n bytes from src into the FastCGI connection as FCGI_STDOUT records. */
static int edge_splice_records(struct edge_splice *s, uint16_t request_id, uint64_t n,
                               uint64_t *sent)
{
    uint64_t in = 0, framed = 0;   /* body bytes read from src; framed */
    size_t rec_left = 0;
    int src_failed = 0, polled = 0;
    while (framed < n) {
        if (in < n && !src_failed) {
            size_t want = n - in > EDGE_SPLICE_IN ? EDGE_SPLICE_IN : (size_t)(n - in);
            ssize_t r = splice(s->src, NULL, s->raw[1], NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (r < 0 && errno == EINTR)
                continue;
            if (r == 0) {
                log_error("edge: the source ended %llu bytes short of %llu",
                          (unsigned long long)(n - in), (unsigned long long)n);
                src_failed = 1;
            } else if (r < 0 && errno != EAGAIN) {
                log_error("edge: splice from the source: %s (%llu of %llu bytes to go)", strerror(errno),
                          (unsigned long long)(n - in), (unsigned long long)n);
                src_failed = 1;
            } else if (r < 0 && framed == edge_splice_may(s, in, n)) {
                /* nothing may go out until more comes */
                if (polled && s->in_raw > 0) {
                    /* readable, yet the raw pipe takes no more: it is full
                     * of held-back bytes (a pipe counts page pieces, not
                     * bytes); let them go rather than spin */
                    s->release = 1;
                    continue;
                }
                if (s->is_sock && n - in < (uint64_t)s->lowat) {
                    /* the last bytes: a sender that keeps the connection open
                     * must not leave us waiting for more than will come */
                    int lw = (int)(n - in);
                    if (setsockopt(s->src, SOL_SOCKET, SO_RCVLOWAT, &lw, sizeof lw) == 0)
                        s->lowat = lw;
                }
                if (edge_splice_wait(s) < 0) {
                    log_error("edge: the source stalled with %llu of %llu bytes to go",
                              (unsigned long long)(n - in), (unsigned long long)n);
                    src_failed = 1;
                } else {
                    polled = 1;
                    continue;
                }
            } else if (r > 0) {
                in += (uint64_t)r;
                s->in_raw += (size_t)r;
                polled = 0;
            }
        }
        /* what may go out goes, also after a failed source: the bytes
         * before the held-back ones are good */
        uint64_t may = edge_splice_may(s, in, n);
        if (edge_splice_frame(s, request_id, may, &rec_left, &framed) < 0 || edge_splice_drain(s) < 0)
            return EDGE_DST_FAILED;
        *sent = framed;
        if (src_failed)
            return EDGE_SRC_FAILED;
    }
    return EDGE_OK;
}

/* Makes src non-blocking with EDGE_LOWAT as its low-water mark, and the
 * pipes. 0, or -1 logged with everything opened here closed again. */
static int edge_splice_open(struct edge_splice *s, uint16_t request_id, uint64_t n)
{
    struct timeval tv = { 0, 0 };
    socklen_t sl = sizeof tv;
    struct stat sb;
    if (fstat(s->src, &sb) < 0 || !(S_ISSOCK(sb.st_mode) || S_ISREG(sb.st_mode))) {
        log_error("edge: the zero-copy source is neither a socket nor a file");
        return -1;
    }
    s->is_sock = S_ISSOCK(sb.st_mode);
    if (s->is_sock && getsockopt(s->src, SOL_SOCKET, SO_RCVTIMEO, &tv, &sl) == 0 && (tv.tv_sec || tv.tv_usec))
        s->stall_ms = tv.tv_sec >= INT_MAX / 1000 ? INT_MAX : (int)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
    /* Wake up for EDGE_LOWAT bytes, not for every segment (the end of the
     * stream wakes up too); read what has come without waiting for more. */
    int lowat = n < EDGE_LOWAT ? (int)n : EDGE_LOWAT;
    s->lowat = lowat;
    int fl = fcntl(s->src, F_GETFL);
    if (fl < 0 || fcntl(s->src, F_SETFL, fl | O_NONBLOCK) < 0 ||
        (s->is_sock && setsockopt(s->src, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat) < 0) ||
        pipe2(s->raw, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(s->framed, O_CLOEXEC | O_NONBLOCK) < 0) {
        log_error("edge: setting up the zero-copy send: %s", strerror(errno));
        for (int i = 0; i < 2; i++) {
            if (s->raw[i] >= 0)
                close(s->raw[i]);
        }
        return -1;
    }
    /* Room for a read in page pieces; at the limit for unprivileged pipes
     * the default (16 slots) still works, in smaller bites. */
    (void)fcntl(s->raw[1], F_SETPIPE_SZ, EDGE_PIPE_SIZE);
    (void)fcntl(s->framed[1], F_SETPIPE_SZ, EDGE_PIPE_SIZE);
    if (n >= FCGI_RECORD_MAX && pipe2(s->hdr, O_CLOEXEC | O_NONBLOCK) == 0) {
        unsigned char h[FCGI_HEADER_LEN];
        fcgi_record_header(h, FCGI_STDOUT, request_id, FCGI_RECORD_MAX, 0);
        if (write(s->hdr[1], h, sizeof h) != (ssize_t)sizeof h) {
            close(s->hdr[0]);
            close(s->hdr[1]);
            s->hdr[0] = s->hdr[1] = -1;   /* write() each header instead */
        }
    }
    return 0;
}

static void edge_splice_close(struct edge_splice *s)
{
    for (int i = 0; i < 2; i++) {
        close(s->raw[i]);
        close(s->framed[i]);
        if (s->hdr[i] >= 0)
            close(s->hdr[i]);
    }
}

enum http_try edge_splice_send(int src, int dst, uint16_t request_id, uint64_t n, uint64_t *sent)
{
    struct edge_splice s = { .src = src, .dst = dst, .raw = { -1, -1 }, .framed = { -1, -1 },
                             .hdr = { -1, -1 }, .stall_ms = -1 };
    *sent = 0;
    if (edge_splice_open(&s, request_id, n) < 0)
        return HTTP_DECLINED;
    int rc = edge_splice_records(&s, request_id, n, sent);
    edge_splice_close(&s);
    if (rc == EDGE_OK)
        return HTTP_DONE;
    if (!s.wrote) {
        *sent = 0;
        return HTTP_DECLINED;   /* nothing left the worker: the stream is at a record boundary */
    }
    return rc == EDGE_SRC_FAILED ? HTTP_SHORT : HTTP_FAILED;
}
