/* FastCGI framing: the records the edge writes beside libfcgi's stream
 * (fcgi/fcgi_record.c, fcgi/edge_splice.c, fcgi/edge.c), read back from the
 * other end of a socketpair and parsed as a front server reads them: every
 * record has a valid header, the contents add up and reassemble exactly, a
 * whole response ends with FCGI_END_REQUEST, and a failed one with the abort
 * record, on a record boundary. tests/unit/fcgi_peer.c is the reading
 * side and runs the writing side in children. */
#define _GNU_SOURCE 1   /* MSG_DONTWAIT, MAP_ANONYMOUS under -std=c11 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "fcgi/edge_internal.h"
#include "fcgi/edge_splice.h"
#include "fcgi/fcgi_record.h"
#include "tests/unit/fcgi_peer.h"
#include "tests/unit/unit.h"

/* The head a handler writes first: a few bytes that stay in libfcgi's buffer. */
#define FR_HEAD "Status: 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n"

/* ---- fcgi_record ---- */

START_TEST(test_header)
{
    unsigned char h[FCGI_HEADER_LEN];
    fcgi_record_header(h, FCGI_STDOUT, 0x1234, 0xfff8, 5);
    FCGI_Header f;   /* the protocol's own layout */
    memcpy(&f, h, sizeof f);
    ck_assert_uint_eq(f.version, FCGI_VERSION_1);
    ck_assert_uint_eq(f.type, FCGI_STDOUT);
    ck_assert_uint_eq(f.requestIdB1, 0x12);
    ck_assert_uint_eq(f.requestIdB0, 0x34);
    ck_assert_uint_eq(f.contentLengthB1, 0xff);
    ck_assert_uint_eq(f.contentLengthB0, 0xf8);
    ck_assert_uint_eq(f.paddingLength, 5);
    ck_assert_uint_eq(f.reserved, 0);
    /* whole records of ours keep the stream 8-aligned */
    ck_assert_uint_eq(FCGI_RECORD_MAX, 65528);
    ck_assert_uint_eq((FCGI_HEADER_LEN + FCGI_RECORD_MAX) % 8, 0);
}
END_TEST

/* Around one record, one writev's batch (8 records) and beyond. */
static const size_t fr_write_sizes[] = {
    0, 1, 8, FCGI_RECORD_MAX - 1, FCGI_RECORD_MAX, FCGI_RECORD_MAX + 1, 3 * FCGI_RECORD_MAX + 100,
    8 * FCGI_RECORD_MAX, 8 * FCGI_RECORD_MAX + 1, 20 * FCGI_RECORD_MAX + 12345,
};

struct fr_write_job {
    int fd;
    size_t n;
};

static int fr_write_job(void *arg)
{
    const struct fr_write_job *j = arg;
    unsigned char *p = peer_pattern(0, j->n);
    int rc = fcgi_record_write(j->fd, FCGI_STDOUT, PEER_ID, p, j->n);
    free(p);
    PEER_REQUIRE(rc == 0);
    return 0;
}

START_TEST(test_write_sizes)
{
    size_t n = fr_write_sizes[_i];
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct fr_write_job j = { sv[0], n };
    pid_t c = peer_spawn(fr_write_job, &j, &sv[1], 1);
    close(sv[0]);
    struct peer_stream s;
    peer_read(sv[1], &s);
    close(sv[1]);
    peer_reap(c);
    peer_assert_ours(&s);
    /* as few records as the length allows: all full but the last */
    size_t want = (n + FCGI_RECORD_MAX - 1) / FCGI_RECORD_MAX;
    ck_assert_uint_eq(s.nrec, want);
    for (size_t i = 0; i + 1 < s.nrec; i++)
        ck_assert_uint_eq(s.rec[i].len, FCGI_RECORD_MAX);
    if (n)
        ck_assert_uint_eq(s.rec[s.nrec - 1].len, n - (want - 1) * FCGI_RECORD_MAX);
    ck_assert_uint_eq(s.raw_len, n + want * FCGI_HEADER_LEN);
    peer_assert_body(&s, "", n);
    peer_free(&s);
}
END_TEST

START_TEST(test_write_peer_gone)
{
    signal(SIGPIPE, SIG_IGN);
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    ck_assert_int_eq(fcgi_record_write(sv[0], FCGI_STDOUT, PEER_ID, "x", 1), -1);
    ck_assert_int_eq(errno, EPIPE);
    ck_assert_int_eq(fcgi_record_write(sv[0], FCGI_STDOUT, PEER_ID, "", 0), 0);   /* nothing to send */
    close(sv[0]);
}
END_TEST

START_TEST(test_abort_after_records)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    unsigned char *p = peer_pattern(0, 100);
    ck_assert_int_eq(fcgi_record_write(sv[0], FCGI_STDOUT, PEER_ID, p, 100), 0);
    free(p);
    ck_assert_int_eq(fcgi_record_abort(sv[0], 1000), 0);
    close(sv[0]);
    struct peer_stream s;
    peer_read(sv[1], &s);
    close(sv[1]);
    peer_assert_aborted(&s);
    ck_assert_uint_eq(s.nrec, 1);
    ck_assert_uint_eq(s.raw_len, FCGI_HEADER_LEN + 100 + FCGI_HEADER_LEN);
    peer_assert_body(&s, "", 100);
    peer_free(&s);
}
END_TEST

/* Fills fd's socket (the peer reads nothing); returns the bytes queued. */
static size_t fr_fill(int fd)
{
    static const char junk[4096];
    size_t n = 0;
    for (;;) {
        ssize_t w = send(fd, junk, sizeof junk, MSG_DONTWAIT);
        if (w < 0) {
            ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
            return n;
        }
        n += (size_t)w;
    }
}

struct fr_drain_job {
    int fd;
    size_t want;   /* bytes to read before the abort record */
    int delay_ms;
};

/* Reads nothing for delay_ms (a slow client behind the front server), then
 * everything: the abort record must come last, whole. */
static int fr_drain_job(void *arg)
{
    const struct fr_drain_job *j = arg;
    peer_sleep_ms(j->delay_ms);
    size_t n = 0;
    unsigned char last[FCGI_HEADER_LEN] = { 1 };
    char buf[65536];
    for (;;) {
        ssize_t r = read(j->fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        PEER_REQUIRE(r >= 0);
        if (r == 0)
            break;
        for (ssize_t i = 0; i < r; i++, n++) {
            if (n >= j->want && n - j->want < sizeof last)
                last[n - j->want] = (unsigned char)buf[i];
        }
    }
    PEER_REQUIRE(n == j->want + FCGI_HEADER_LEN);
    static const unsigned char zero[FCGI_HEADER_LEN];
    PEER_REQUIRE(memcmp(last, zero, sizeof zero) == 0);
    return 0;
}

START_TEST(test_abort_waits_for_room)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    size_t queued = fr_fill(sv[0]);
    struct fr_drain_job j = { sv[1], queued, 300 };
    pid_t c = peer_spawn(fr_drain_job, &j, &sv[0], 1);
    close(sv[1]);
    long long t0 = peer_now_ms();
    ck_assert_int_eq(fcgi_record_abort(sv[0], 10000), 0);
    ck_assert_int_ge(peer_now_ms() - t0, 100);   /* it had to wait for the reader */
    close(sv[0]);
    peer_reap(c);
}
END_TEST

START_TEST(test_abort_gives_up)
{
    signal(SIGPIPE, SIG_DFL);   /* it must not raise SIGPIPE */
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fr_fill(sv[0]);
    long long t0 = peer_now_ms();
    ck_assert_int_eq(fcgi_record_abort(sv[0], 200), -1);   /* stuck: nobody reads */
    long long took = peer_now_ms() - t0;
    ck_assert_int_ge(took, 150);
    ck_assert_int_lt(took, 3000);
    close(sv[1]);
    t0 = peer_now_ms();
    ck_assert_int_eq(fcgi_record_abort(sv[0], 10000), -1);   /* gone: no wait */
    ck_assert_int_lt(peer_now_ms() - t0, 1000);
    close(sv[0]);
}
END_TEST

/* ---- edge_splice ---- */

/* What a splicing child found, shared with this process. */
struct fr_result {
    int rc;
    uint64_t sent;
};

static struct fr_result *fr_result_map(void)
{
    void *m = mmap(NULL, sizeof(struct fr_result), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert(m != MAP_FAILED);
    return m;
}

struct fr_splice_job {
    int src, dst;
    uint64_t n;
    struct fr_result *res;
};

static int fr_splice_job(void *arg)
{
    struct fr_splice_job *j = arg;
    j->res->rc = edge_splice_send(j->src, j->dst, PEER_ID, j->n, &j->res->sent);
    return 0;
}

/* src and dst: [0] the splicer's end, [1] the feeder's and the reader's. */
struct fr_splice_run {
    uint64_t n;              /* bytes asked for */
    struct peer_feed feed;   /* fd filled in here */
    int stall_ms;            /* SO_RCVTIMEO on the splicer's end (0: none) */
    int dst_gone;            /* the front server closed before anything */
};

/* Splices run->n bytes from a fed socketpair into another, in a child;
 * parses what arrives into s and returns the child's result. */
static struct fr_result fr_splice(struct fr_splice_run *run, struct peer_stream *s)
{
    int src[2], dst[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, src), 0);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, dst), 0);
    if (run->stall_ms) {
        struct timeval tv = { run->stall_ms / 1000, (run->stall_ms % 1000) * 1000 };
        ck_assert_int_eq(setsockopt(src[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    }
    if (run->dst_gone) {
        close(dst[1]);
        dst[1] = -1;
    }
    struct fr_result *res = fr_result_map();
    *res = (struct fr_result){ .rc = 99 };
    run->feed.fd = src[1];
    int not_feeder[] = { src[0], dst[0], dst[1] };
    pid_t feeder = peer_spawn(peer_feed_job, &run->feed, not_feeder, 3);
    struct fr_splice_job j = { src[0], dst[0], run->n, res };
    int not_splicer[] = { src[1], dst[1] };
    pid_t splicer = peer_spawn(fr_splice_job, &j, not_splicer, 2);
    close(src[0]);
    close(src[1]);
    close(dst[0]);
    if (dst[1] >= 0) {
        peer_read(dst[1], s);
        close(dst[1]);
    } else {
        memset(s, 0, sizeof *s);
    }
    peer_reap(splicer);
    peer_reap(feeder);
    struct fr_result out = *res;
    munmap(res, sizeof *res);
    return out;
}

/* Runs the splice; it must return want_rc with want_sent bytes out, as
 * whole records of ours carrying the pattern. Returns the record count. */
static size_t fr_splice_check(struct fr_splice_run *run, int want_rc, uint64_t want_sent)
{
    struct peer_stream s;
    struct fr_result r = fr_splice(run, &s);
    ck_assert_int_eq(r.rc, want_rc);
    ck_assert_uint_eq(r.sent, want_sent);
    peer_assert_ours(&s);
    peer_assert_body(&s, "", want_sent);
    size_t nrec = s.nrec;
    peer_free(&s);
    return nrec;
}

static const uint64_t fr_splice_sizes[] = {
    1, 8, FCGI_RECORD_MAX, FCGI_RECORD_MAX + 1, 3 * 1024 * 1024 + 5,
};

START_TEST(test_splice_sizes)
{
    uint64_t n = fr_splice_sizes[_i];
    struct fr_splice_run run = { .n = n, .feed = { .give = n, .hold = 1 } };
    fr_splice_check(&run, 0, n);
}
END_TEST

/* A slow source: records are begun only for bytes already read, so they
 * come short, and still whole. */
START_TEST(test_splice_slow_source)
{
    uint64_t n = 200000;
    struct fr_splice_run run = { .n = n, .feed = { .give = n, .piece = 7000, .pause_ms = 2, .hold = 1 } };
    ck_assert_uint_gt(fr_splice_check(&run, 0, n), (n + FCGI_RECORD_MAX - 1) / FCGI_RECORD_MAX);
}
END_TEST

/* The source ends early: HTTP_SHORT, what went out ends on a record
 * boundary and is what was read but the last EDGE_HOLD (4,096) bytes, which
 * may be a gateway's own line after its last good bytes. */
START_TEST(test_splice_source_short)
{
    struct fr_splice_run run = { .n = 300000, .feed = { .give = 100000 } };
    fr_splice_check(&run, HTTP_SHORT, 100000 - 4096);
    /* less than that came: nothing went out, the caller may stream instead */
    struct fr_splice_run tiny = { .n = 300000, .feed = { .give = 4000 } };
    struct peer_stream s;
    struct fr_result r = fr_splice(&tiny, &s);
    ck_assert_int_eq(r.rc, HTTP_DECLINED);
    ck_assert_uint_eq(r.sent, 0);
    ck_assert_uint_eq(s.raw_len, 0);
    peer_free(&s);
}
END_TEST

/* The source stalls past its SO_RCVTIMEO: the same, in about that time. */
START_TEST(test_splice_source_stalls)
{
    struct fr_splice_run run = { .n = 300000, .feed = { .give = 100000, .hold = 1 }, .stall_ms = 200 };
    long long t0 = peer_now_ms();
    fr_splice_check(&run, HTTP_SHORT, 100000 - 4096);
    ck_assert_int_lt(peer_now_ms() - t0, 5000);
}
END_TEST

/* Nothing reached the front server: 1, and the stream is untouched, so the
 * caller may still send the body another way. */
START_TEST(test_splice_nothing_sent)
{
    struct fr_splice_run empty = { .n = 1000, .feed = { .give = 0 } };
    struct peer_stream s;
    struct fr_result r = fr_splice(&empty, &s);
    ck_assert_int_eq(r.rc, 1);
    ck_assert_uint_eq(r.sent, 0);
    ck_assert_uint_eq(s.raw_len, 0);
    peer_free(&s);
    /* the front server gone before the first byte */
    struct fr_splice_run gone = { .n = 100000, .feed = { .give = 100000 }, .dst_gone = 1 };
    r = fr_splice(&gone, &s);
    ck_assert_int_eq(r.rc, 1);
    ck_assert_uint_eq(r.sent, 0);
    peer_free(&s);
}
END_TEST

/* A blob file as the source, from an offset: whole records of its bytes. */
START_TEST(test_splice_from_file)
{
    char path[] = "/tmp/test-splice-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    uint64_t n = 3 * 1024 * 1024 + 5, skip = 4096;
    unsigned char *junk = peer_pattern(1000, (size_t)skip), *body = peer_pattern(0, (size_t)n);
    ck_assert_int_eq(write(fd, junk, (size_t)skip), (ssize_t)skip);
    ck_assert_int_eq(write(fd, body, (size_t)n), (ssize_t)n);
    free(junk);
    free(body);
    ck_assert_int_eq(lseek(fd, (off_t)skip, SEEK_SET), (off_t)skip);
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct fr_result *res = fr_result_map();
    *res = (struct fr_result){ .rc = 99 };
    struct fr_splice_job j = { fd, sv[0], n, res };
    int not_splicer[] = { sv[1] };
    pid_t splicer = peer_spawn(fr_splice_job, &j, not_splicer, 1);
    close(sv[0]);
    close(fd);
    struct peer_stream st;
    peer_read(sv[1], &st);
    close(sv[1]);
    peer_reap(splicer);
    ck_assert_int_eq(res->rc, 0);
    ck_assert_uint_eq(res->sent, n);
    peer_assert_ours(&st);
    peer_assert_body(&st, "", n);
    peer_free(&st);
    munmap(res, sizeof *res);
}
END_TEST

/* A source that is neither a socket nor a file cannot be set up: 1 at once. */
START_TEST(test_splice_not_a_socket)
{
    int p[2], sv[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(write(p[1], "0123456789", 10), 10);
    uint64_t sent = 7;
    ck_assert_int_eq(edge_splice_send(p[0], sv[0], PEER_ID, 10, &sent), 1);
    ck_assert_uint_eq(sent, 0);
    char c;
    ck_assert_int_eq(recv(sv[1], &c, 1, MSG_DONTWAIT), -1);
    ck_assert_int_eq(errno, EAGAIN);
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* ---- the edge: edge_ops over a libfcgi request, then its end ---- */

/* In a child: libfcgi accepts the request already waiting on fd (a
 * socketpair, so there is no listening socket: the connection is handed in
 * as if a previous request had kept it open). */
static int fr_accept(FCGX_Request *r, struct edge_io *e, int fd)
{
    PEER_REQUIRE(FCGX_Init() == 0);
    FCGX_InitRequest(r, -1, 0);
    r->ipcFd = fd;
    r->keepConnection = 1;   /* FCGX_Accept_r first finishes "the previous request" */
    PEER_REQUIRE(FCGX_Accept_r(r) == 0);
    PEER_REQUIRE(r->requestId == PEER_ID);
    *e = (struct edge_io){ .fr = r };
    const char *m = edge_ops.param(e, "REQUEST_METHOD");
    PEER_REQUIRE(m && strcmp(m, "GET") == 0);
    return 0;
}

/* The body in pieces through edge_ops.write, after the head. sizes ends
 * with 0; the pattern runs on across pieces. */
static int fr_edge_write(struct edge_io *e, const size_t *sizes)
{
    PEER_REQUIRE(edge_ops.write(e, FR_HEAD, strlen(FR_HEAD)) == 0);
    uint64_t off = 0;
    for (; *sizes; sizes++) {
        unsigned char *p = peer_pattern(off, *sizes);
        int rc = edge_ops.write(e, (const char *)p, *sizes);
        free(p);
        PEER_REQUIRE(rc == 0);
        off += *sizes;
    }
    return 0;
}

static uint64_t fr_total(const size_t *sizes)
{
    uint64_t n = 0;
    for (; *sizes; sizes++)
        n += *sizes;
    return n;
}

/* Body writes (0-terminated): each side of EDGE_DIRECT_MIN and
 * EDGE_OUT_MAX, libfcgi's path then ours, and small writes after a big one
 * (they must stay in order behind it). */
static const size_t fr_edge_writes[][5] = {
    { 0 },
    { 1, 0 },
    { 8, 0 },
    { EDGE_DIRECT_MIN - 1, 0 },
    { EDGE_DIRECT_MIN, 0 },
    { FCGI_RECORD_MAX + 1, 0 },
    { EDGE_OUT_MAX, 0 },
    { 5000, 5000, EDGE_DIRECT_MIN + 3, 100, 0 },
    { EDGE_OUT_MAX - 10, 20, 30000, 0 },
    { 700000, 100, 0 },
};

struct fr_edge_job {
    int conn;              /* the edge's end of the FastCGI connection */
    const size_t *writes;  /* the body, before any splice */
    int src;               /* a splice source, or -1 */
    uint64_t splice_n;
    int abort;             /* the handler aborts after the body */
    int want_failed;       /* what edge_settle must say */
    const char *const *params;   /* sent after REQUEST_METHOD (peer_send_request_with) */
    int (*check)(struct edge_io *e);   /* run on the accepted request, before the body */
};

static int fr_edge_job(void *arg)
{
    const struct fr_edge_job *j = arg;
    FCGX_Request r;
    struct edge_io e;
    PEER_REQUIRE(fr_accept(&r, &e, j->conn) == 0);
    PEER_REQUIRE(!j->check || j->check(&e) == 0);
    PEER_REQUIRE(fr_edge_write(&e, j->writes) == 0);
    if (j->src >= 0) {
        uint64_t sent = 0;
        int rc = edge_ops.splice_from(&e, j->src, j->splice_n, &sent);
        /* a source that ends short leaves the response open (HTTP_SHORT):
         * the handler resumes or aborts it */
        PEER_REQUIRE(j->want_failed ? rc == HTTP_SHORT && !e.dropped : rc == 0 && sent == j->splice_n);
    }
    if (j->abort)
        edge_ops.abort(&e);
    int failed = edge_settle(&e, j->abort);
    PEER_REQUIRE(failed == j->want_failed);
    PEER_REQUIRE(e.dropped == failed);
    edge_end(&e);
    PEER_REQUIRE(r.ipcFd == -1);   /* closed either way: the request asked no FCGI_KEEP_CONN */
    return 0;
}

/* Runs job over a socketpair (the front server's end here, with the
 * request already sent); parses the response into s. */
static void fr_edge(struct fr_edge_job *job, int front_gone, struct peer_stream *s)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    peer_send_request_with(sv[1], job->params);
    /* nothing more comes from the front server: libfcgi's close need not wait */
    ck_assert_int_eq(shutdown(sv[1], SHUT_WR), 0);
    if (front_gone) {
        close(sv[1]);   /* the request stays readable on the edge's end */
        sv[1] = -1;
    }
    job->conn = sv[0];
    int drop[] = { sv[1] };
    pid_t c = peer_spawn(fr_edge_job, job, drop, 1);
    close(sv[0]);
    memset(s, 0, sizeof *s);
    if (sv[1] >= 0) {
        peer_read(sv[1], s);
        close(sv[1]);
    }
    peer_reap(c);
}

START_TEST(test_edge_whole)
{
    const size_t *writes = fr_edge_writes[_i];
    struct fr_edge_job j = { .writes = writes, .src = -1 };
    struct peer_stream s;
    fr_edge(&j, 0, &s);
    peer_assert_finished(&s);
    peer_assert_body(&s, FR_HEAD, fr_total(writes));
    peer_free(&s);
}
END_TEST

/* An abort discards what libfcgi and edge_out hold and leaves only whole
 * records before the abort record, never FCGI_END_REQUEST. */
START_TEST(test_edge_abort_nothing_out)
{
    static const size_t writes[] = { EDGE_DIRECT_MIN, 0 };   /* all of it still held */
    struct fr_edge_job j = { .writes = writes, .src = -1, .abort = 1, .want_failed = 1 };
    struct peer_stream s;
    fr_edge(&j, 0, &s);
    peer_assert_aborted(&s);
    ck_assert_uint_eq(s.raw_len, FCGI_HEADER_LEN);   /* the abort record alone: a 502 */
    peer_free(&s);
}
END_TEST

START_TEST(test_edge_abort_partway)
{
    /* the head and 300000 bytes go out; 20000 wait in edge_out, 100 after
     * them: both dropped */
    static const size_t writes[] = { 300000, 20000, 100, 0 };
    struct fr_edge_job j = { .writes = writes, .src = -1, .abort = 1, .want_failed = 1 };
    struct peer_stream s;
    fr_edge(&j, 0, &s);
    peer_assert_aborted(&s);
    peer_assert_body(&s, FR_HEAD, 300000);
    peer_free(&s);
}
END_TEST

/* The front server went away: the last bytes fail, the response is dropped. */
START_TEST(test_edge_front_gone)
{
    static const size_t writes[] = { EDGE_DIRECT_MIN, 0 };
    struct fr_edge_job j = { .writes = writes, .src = -1, .want_failed = 1 };
    struct peer_stream s;
    fr_edge(&j, 1, &s);   /* the child checks edge_settle's answer */
    peer_free(&s);
}
END_TEST

/* A parameter sent twice counts with its last value (nginx sends both when
 * a fastcgi_param overrides one from an included file); a name is matched
 * whole, never as a prefix. */
static const char *const fr_dup_params[] = {
    "REMOTE_USER", "mallory", "REMOTE_USER_X", "x", "REMOTE_USER", "",
    "CONTENT_TYPE", "text/plain", "CONTENT_TYPE", "application/json", NULL,
};

static int fr_check_dup_params(struct edge_io *e)
{
    const char *v = edge_ops.param(e, "REMOTE_USER");
    PEER_REQUIRE(v && *v == '\0');
    v = edge_ops.param(e, "CONTENT_TYPE");
    PEER_REQUIRE(v && strcmp(v, "application/json") == 0);
    v = edge_ops.param(e, "REMOTE_USER_X");
    PEER_REQUIRE(v && strcmp(v, "x") == 0);
    PEER_REQUIRE(edge_ops.param(e, "REMOTE") == NULL);
    PEER_REQUIRE(edge_ops.param(e, "HTTP_RANGE") == NULL);
    return 0;
}

START_TEST(test_edge_param_last)
{
    static const size_t writes[] = { 8, 0 };
    struct fr_edge_job j = { .writes = writes, .src = -1, .params = fr_dup_params,
                             .check = fr_check_dup_params };
    struct peer_stream s;
    fr_edge(&j, 0, &s);   /* the child checks the parameters */
    peer_assert_finished(&s);
    peer_free(&s);
}
END_TEST

/* Runs the edge with a splice of n bytes from a fed source after writes. */
static void fr_edge_splice(struct fr_edge_job *j, struct peer_feed *feed, struct peer_stream *s)
{
    int src[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, src), 0);
    feed->fd = src[1];
    pid_t feeder = peer_spawn(peer_feed_job, feed, &src[0], 1);
    close(src[1]);
    j->src = src[0];
    fr_edge(j, 0, s);
    close(src[0]);
    peer_reap(feeder);
}

/* libfcgi's head, bytes gathered in edge_out, the spliced records, then
 * libfcgi's end: one valid stream. */
START_TEST(test_edge_splice_whole)
{
    static const size_t writes[] = { EDGE_DIRECT_MIN + 5, 0 };
    uint64_t n = 1024 * 1024 + 3;
    struct peer_feed feed = { .from = writes[0], .give = n, .hold = 1 };
    struct fr_edge_job j = { .writes = writes, .splice_n = n };
    struct peer_stream s;
    fr_edge_splice(&j, &feed, &s);
    peer_assert_finished(&s);
    peer_assert_body(&s, FR_HEAD, writes[0] + n);
    peer_free(&s);
}
END_TEST

/* A splice whose source ends partway: the response stays open, and the
 * handler's abort record starts on the boundary the splice left, after all
 * but the held-back last 4,096 bytes read. */
START_TEST(test_edge_splice_partway)
{
    static const size_t writes[] = { 0 };
    struct peer_feed feed = { .give = 150000 };
    struct fr_edge_job j = { .writes = writes, .splice_n = 500000, .abort = 1, .want_failed = 1 };
    struct peer_stream s;
    fr_edge_splice(&j, &feed, &s);
    peer_assert_aborted(&s);
    peer_assert_body(&s, FR_HEAD, 150000 - 4096);
    peer_free(&s);
}
END_TEST

/* A front server forwarding a slow client's body that the handler never
 * read (a 429): it keeps sending a byte of FCGI_STDIN every 50 ms and
 * reads the answer only when the body is done, as caddy does. The edge
 * answers, then closes after EDGE_LINGER_MS at most, rather than reading
 * the body to its end as libfcgi's own close would. */
#define FR_SLOW_FRONT_MAX_MS 10000

static int fr_slow_front_job(void *arg)
{
    int fd = *(const int *)arg;
    long long t0 = peer_now_ms();
    while (peer_now_ms() - t0 < FR_SLOW_FRONT_MAX_MS) {
        if (fcgi_record_write(fd, FCGI_STDIN, PEER_ID, "x", 1) < 0)
            return 0;   /* EPIPE: the edge closed the connection */
        peer_sleep_ms(50);
    }
    return 1;   /* still accepted after 10 s: the edge is reading the body */
}

static int fr_unread_body_job(void *arg)
{
    int fd = *(const int *)arg;
    FCGX_Request r;
    PEER_REQUIRE(FCGX_Init() == 0);
    FCGX_InitRequest(&r, -1, 0);
    r.ipcFd = fd;
    r.keepConnection = 1;
    PEER_REQUIRE(FCGX_Accept_r(&r) == 0);
    struct edge_io e = { .fr = &r };
    const char *m = edge_ops.param(&e, "REQUEST_METHOD");
    PEER_REQUIRE(m && strcmp(m, "PATCH") == 0);
    static const char head[] = "Status: 429 Too Many Requests\r\nRetry-After: 1\r\n\r\n";
    PEER_REQUIRE(edge_ops.write(&e, head, sizeof head - 1) == 0);
    PEER_REQUIRE(edge_settle(&e, 0) == 0);
    long long t0 = peer_now_ms();
    edge_end(&e);
    PEER_REQUIRE(peer_now_ms() - t0 < 2000 + 1000);   /* EDGE_LINGER_MS, and some */
    PEER_REQUIRE(r.ipcFd == -1);
    return 0;
}

START_TEST(test_edge_body_unread)
{
    signal(SIGPIPE, SIG_IGN);
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    FCGI_BeginRequestBody b = { .roleB1 = 0, .roleB0 = FCGI_RESPONDER, .flags = 0 };
    ck_assert_int_eq(fcgi_record_write(sv[1], FCGI_BEGIN_REQUEST, PEER_ID, &b, sizeof b), 0);
    static const char kv[] = "\016\005REQUEST_METHODPATCH\016\007CONTENT_LENGTH1000000";
    ck_assert_int_eq(fcgi_record_write(sv[1], FCGI_PARAMS, PEER_ID, kv, sizeof kv - 1), 0);
    unsigned char end[FCGI_HEADER_LEN];
    fcgi_record_header(end, FCGI_PARAMS, PEER_ID, 0, 0);
    ck_assert_int_eq(write(sv[1], end, sizeof end), (ssize_t)sizeof end);
    pid_t edge = peer_spawn(fr_unread_body_job, &sv[0], &sv[1], 1);
    pid_t front = peer_spawn(fr_slow_front_job, &sv[1], &sv[0], 1);
    close(sv[0]);
    struct peer_stream s;
    peer_read(sv[1], &s);   /* until the edge's shutdown: the answer, then EOF */
    peer_assert_finished(&s);
    peer_assert_body(&s, "Status: 429 Too Many Requests\r\nRetry-After: 1\r\n\r\n", 0);
    peer_free(&s);
    peer_reap(edge);
    peer_reap(front);   /* its writes failed: the edge closed */
    close(sv[1]);
}
END_TEST

Suite *suite_fcgi_framing(void)
{
    Suite *s = suite_create("fcgi_framing");
    TCase *rec = tcase_create("fcgi_record");
    tcase_set_timeout(rec, 30);
    tcase_add_test(rec, test_header);
    tcase_add_loop_test(rec, test_write_sizes, 0, sizeof fr_write_sizes / sizeof fr_write_sizes[0]);
    tcase_add_test(rec, test_write_peer_gone);
    tcase_add_test(rec, test_abort_after_records);
    tcase_add_test(rec, test_abort_waits_for_room);
    tcase_add_test(rec, test_abort_gives_up);
    suite_add_tcase(s, rec);
    TCase *spl = tcase_create("edge_splice");
    tcase_set_timeout(spl, 30);
    tcase_add_loop_test(spl, test_splice_sizes, 0, sizeof fr_splice_sizes / sizeof fr_splice_sizes[0]);
    tcase_add_test(spl, test_splice_slow_source);
    tcase_add_test(spl, test_splice_source_short);
    tcase_add_test(spl, test_splice_source_stalls);
    tcase_add_test(spl, test_splice_nothing_sent);
    tcase_add_test(spl, test_splice_not_a_socket);
    tcase_add_test(spl, test_splice_from_file);
    suite_add_tcase(s, spl);
    TCase *edge = tcase_create("edge");
    tcase_set_timeout(edge, 30);
    tcase_add_loop_test(edge, test_edge_whole, 0, sizeof fr_edge_writes / sizeof fr_edge_writes[0]);
    tcase_add_test(edge, test_edge_abort_nothing_out);
    tcase_add_test(edge, test_edge_abort_partway);
    tcase_add_test(edge, test_edge_front_gone);
    tcase_add_test(edge, test_edge_param_last);
    tcase_add_test(edge, test_edge_splice_whole);
    tcase_add_test(edge, test_edge_splice_partway);
    tcase_add_test(edge, test_edge_body_unread);
    suite_add_tcase(s, edge);
    return s;
}
