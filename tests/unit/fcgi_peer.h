/* fcgi_peer: the framing tests' side of a FastCGI connection. It reads and
 * parses what the edge writes as a front server would, sends a request the
 * way one does, and runs the writing side (the edge, a splice source) in
 * child processes, so bodies larger than a socket's buffer can flow while
 * the test reads. Failures are Check assertions, except in children, which
 * report by their exit status (PEER_REQUIRE). */
#ifndef TESTS_UNIT_FCGI_PEER_H
#define TESTS_UNIT_FCGI_PEER_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <check.h>

#define PEER_ID 0x1234   /* the request id: both of its bytes in use */

/* In a child job: report the failed condition on stderr and return 1. */
#define PEER_REQUIRE(c)                                                             \
    do {                                                                            \
        if (!(c)) {                                                                 \
            fprintf(stderr, "%s:%d: child: %s failed\n", __FILE__, __LINE__, #c);   \
            return 1;                                                               \
        }                                                                           \
    } while (0)

/* Body byte i: a hash of the position, so a byte out of place shows. */
unsigned char peer_byte(uint64_t i);
/* n body bytes from offset from (malloc'd; the caller frees). */
unsigned char *peer_pattern(uint64_t from, size_t n);
long long peer_now_ms(void);
void peer_sleep_ms(int ms);

struct peer_rec {
    unsigned char type;
    unsigned id;
    size_t len, pad;
    const unsigned char *content;   /* into peer_stream.raw */
};

/* One connection's output as parsed; owns its three buffers. */
struct peer_stream {
    unsigned char *raw;      /* everything read, until EOF */
    size_t raw_len;
    struct peer_rec *rec;    /* the whole records, in order */
    size_t nrec;
    unsigned char *body;     /* FCGI_STDOUT contents joined */
    size_t body_len;
    int aborted;             /* the abort record follows the last record */
    size_t tail;             /* bytes after that (0: the stream ends on a boundary) */
};

/* Reads fd until EOF into s and parses it; a header that is neither
 * version 1 (FCGI_STDOUT or FCGI_END_REQUEST of PEER_ID) nor the abort
 * record fails the test. The caller peer_free()s s. */
void peer_read(int fd, struct peer_stream *s);
void peer_free(struct peer_stream *s);

/* The body is prefix, then n pattern bytes from offset 0. */
void peer_assert_body(const struct peer_stream *s, const char *prefix, uint64_t n);
/* Records of fcgi_record/edge_splice only: FCGI_STDOUT, 1 to
 * FCGI_RECORD_MAX bytes, no padding, ending on a boundary, no abort. */
void peer_assert_ours(const struct peer_stream *s);
/* A whole response: records, the empty FCGI_STDOUT record, then
 * FCGI_END_REQUEST (complete, status 0) and EOF. */
void peer_assert_finished(const struct peer_stream *s);
/* A failed response: whole FCGI_STDOUT records, the abort record, EOF. */
void peer_assert_aborted(const struct peer_stream *s);

/* Forks a child that closes drop[0..ndrop) (ends that are not its own;
 * -1 skipped, so readers see EOF once the writers exit), ignores SIGPIPE
 * as the worker does, and exits 0 if job(arg) returned 0, else 1. */
pid_t peer_spawn(int (*job)(void *), void *arg, const int *drop, size_t ndrop);
/* Waits for the child; it must have exited 0. */
void peer_reap(pid_t p);

/* A splice source for peer_feed_job: give pattern bytes (from offset from)
 * in pieces (0: all at once) with pause_ms after each, then close, or
 * (hold) keep the connection open until the other end closes, as a
 * keep-alive gateway does. */
struct peer_feed {
    int fd;
    uint64_t from, give;
    size_t piece;
    int pause_ms;
    int hold;
};
int peer_feed_job(void *arg);

/* Writes a request as a front server does (responder role without
 * FCGI_KEEP_CONN, REQUEST_METHOD=GET, an empty body) to fd. */
void peer_send_request(int fd);
/* The same with more parameters after REQUEST_METHOD: name, value, ...,
 * NULL (names and values under 128 bytes). */
void peer_send_request_with(int fd, const char *const *extra);

#endif
