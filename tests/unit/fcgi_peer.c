/* fcgi_peer: the front server's end of a FastCGI connection, for the
 * framing tests (see fcgi_peer.h). */
#define _GNU_SOURCE 1   /* MSG_DONTWAIT, clock_gettime under -std=c11 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "fcgi/fcgi_record.h"
#include "tests/unit/fcgi_peer.h"

#define PEER_READ_MAX (64u << 20)   /* no test sends more than this */

unsigned char peer_byte(uint64_t i)
{
    return (unsigned char)((i * 0x9E3779B97F4A7C15ull) >> 56);
}

unsigned char *peer_pattern(uint64_t from, size_t n)
{
    unsigned char *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++)
        p[i] = peer_byte(from + i);
    return p;
}

long long peer_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void peer_sleep_ms(int ms)
{
    struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) < 0 && errno == EINTR)
        ;
}

void peer_free(struct peer_stream *s)
{
    free(s->raw);
    free(s->rec);
    free(s->body);
}

void peer_read(int fd, struct peer_stream *s)
{
    memset(s, 0, sizeof *s);
    size_t cap = 64 * 1024;
    s->raw = malloc(cap);
    ck_assert_ptr_nonnull(s->raw);
    for (;;) {
        if (s->raw_len == cap) {
            ck_assert_uint_lt(cap, PEER_READ_MAX);
            cap *= 2;
            s->raw = realloc(s->raw, cap);
            ck_assert_ptr_nonnull(s->raw);
        }
        ssize_t r = read(fd, s->raw + s->raw_len, cap - s->raw_len);
        if (r < 0 && errno == EINTR)
            continue;
        ck_assert_int_ge(r, 0);
        if (r == 0)
            break;
        s->raw_len += (size_t)r;
    }
    s->rec = malloc(sizeof *s->rec * (s->raw_len / FCGI_HEADER_LEN + 1));
    s->body = malloc(s->raw_len + 1);
    ck_assert(s->rec && s->body);
    static const unsigned char abort_rec[FCGI_HEADER_LEN] = { 0 };
    size_t off = 0;
    while (s->raw_len - off >= FCGI_HEADER_LEN) {
        const unsigned char *h = s->raw + off;
        if (memcmp(h, abort_rec, sizeof abort_rec) == 0) {
            s->aborted = 1;
            off += FCGI_HEADER_LEN;
            break;
        }
        ck_assert_uint_eq(h[0], FCGI_VERSION_1);
        ck_assert_uint_eq(h[7], 0);
        struct peer_rec *rc = &s->rec[s->nrec];
        rc->type = h[1];
        rc->id = (unsigned)h[2] << 8 | h[3];
        rc->len = (size_t)h[4] << 8 | h[5];
        rc->pad = h[6];
        if (s->raw_len - off - FCGI_HEADER_LEN < rc->len + rc->pad)
            break;   /* cut short */
        rc->content = h + FCGI_HEADER_LEN;
        ck_assert_uint_eq(rc->id, PEER_ID);
        ck_assert(rc->type == FCGI_STDOUT || rc->type == FCGI_END_REQUEST);
        if (rc->type == FCGI_STDOUT) {
            memcpy(s->body + s->body_len, rc->content, rc->len);
            s->body_len += rc->len;
        }
        s->nrec++;
        off += FCGI_HEADER_LEN + rc->len + rc->pad;
    }
    s->tail = s->raw_len - off;
}

void peer_assert_body(const struct peer_stream *s, const char *prefix, uint64_t n)
{
    size_t plen = strlen(prefix);
    ck_assert_uint_eq(s->body_len, plen + n);
    ck_assert(memcmp(s->body, prefix, plen) == 0);
    for (uint64_t i = 0; i < n; i++) {
        if (s->body[plen + i] != peer_byte(i))
            ck_abort_msg("body byte %llu is out of place", (unsigned long long)i);
    }
}

/* The first n records carry body bytes: FCGI_STDOUT, none empty (an empty
 * one ends the stream), padded as libfcgi does (to 8 bytes) or not at all
 * (ours), and the stream ends on a boundary, aborted or not as said. */
static void peer_assert_body_records(const struct peer_stream *s, size_t n, int aborted)
{
    ck_assert_uint_eq(s->tail, 0);
    ck_assert_int_eq(s->aborted, aborted);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(s->rec[i].type, FCGI_STDOUT);
        ck_assert_uint_ge(s->rec[i].len, 1);
        ck_assert(s->rec[i].pad == 0 || (s->rec[i].len + s->rec[i].pad) % 8 == 0);
    }
}

void peer_assert_ours(const struct peer_stream *s)
{
    peer_assert_body_records(s, s->nrec, 0);
    for (size_t i = 0; i < s->nrec; i++) {
        ck_assert_uint_le(s->rec[i].len, FCGI_RECORD_MAX);
        ck_assert_uint_eq(s->rec[i].pad, 0);
    }
}

void peer_assert_finished(const struct peer_stream *s)
{
    ck_assert_uint_ge(s->nrec, 2);
    peer_assert_body_records(s, s->nrec - 2, 0);
    const struct peer_rec *eos = &s->rec[s->nrec - 2], *end = &s->rec[s->nrec - 1];
    ck_assert_uint_eq(eos->type, FCGI_STDOUT);
    ck_assert_uint_eq(eos->len, 0);
    ck_assert_uint_eq(end->type, FCGI_END_REQUEST);
    ck_assert_uint_eq(end->len, sizeof(FCGI_EndRequestBody));
    FCGI_EndRequestBody b;
    memcpy(&b, end->content, sizeof b);
    ck_assert_uint_eq(b.appStatusB3 | b.appStatusB2 | b.appStatusB1 | b.appStatusB0, 0);
    ck_assert_uint_eq(b.protocolStatus, FCGI_REQUEST_COMPLETE);
}

void peer_assert_aborted(const struct peer_stream *s)
{
    peer_assert_body_records(s, s->nrec, 1);
}

pid_t peer_spawn(int (*job)(void *), void *arg, const int *drop, size_t ndrop)
{
    pid_t p = fork();
    ck_assert_int_ge(p, 0);
    if (p == 0) {
        for (size_t i = 0; i < ndrop; i++) {
            if (drop[i] >= 0)
                close(drop[i]);
        }
        signal(SIGPIPE, SIG_IGN);
        _exit(job(arg) == 0 ? 0 : 1);
    }
    return p;
}

void peer_reap(pid_t p)
{
    int st;
    ck_assert_int_eq(waitpid(p, &st, 0), p);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a child failed (its reason is on stderr)");
}

int peer_feed_job(void *arg)
{
    const struct peer_feed *f = arg;
    uint64_t off = 0;
    while (off < f->give) {
        size_t k = f->piece && f->piece < f->give - off ? f->piece : (size_t)(f->give - off);
        unsigned char *p = peer_pattern(f->from + off, k);
        size_t done = 0;
        while (done < k) {
            ssize_t w = write(f->fd, p + done, k - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                free(p);
                return f->hold ? 1 : 0;   /* the splicer gave up first: fine unless it must not */
            }
            done += (size_t)w;
        }
        free(p);
        off += k;
        if (f->pause_ms)
            peer_sleep_ms(f->pause_ms);
    }
    if (f->hold) {
        char c;
        while (read(f->fd, &c, 1) < 0 && errno == EINTR)
            ;   /* EOF once the splicer's end is closed */
    }
    return 0;
}

static void peer_put(int fd, unsigned char type, const void *content, uint16_t len)
{
    unsigned char h[FCGI_HEADER_LEN];
    fcgi_record_header(h, type, PEER_ID, len, 0);
    ck_assert_int_eq(write(fd, h, sizeof h), (ssize_t)sizeof h);
    if (len)
        ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
}

void peer_send_request_with(int fd, const char *const *extra)
{
    FCGI_BeginRequestBody b = { .roleB1 = 0, .roleB0 = FCGI_RESPONDER, .flags = 0 };
    peer_put(fd, FCGI_BEGIN_REQUEST, &b, sizeof b);
    static const char method[] = "\016\003REQUEST_METHODGET";   /* name and value lengths first */
    unsigned char kv[1024];
    size_t n = sizeof method - 1;
    memcpy(kv, method, n);
    for (; extra && extra[0]; extra += 2) {
        size_t nl = strlen(extra[0]), vl = strlen(extra[1]);
        /* one-byte lengths (under 128) are all the tests need */
        ck_assert(nl < 128 && vl < 128 && n + 2 + nl + vl <= sizeof kv);
        kv[n++] = (unsigned char)nl;
        kv[n++] = (unsigned char)vl;
        memcpy(kv + n, extra[0], nl);
        n += nl;
        memcpy(kv + n, extra[1], vl);
        n += vl;
    }
    peer_put(fd, FCGI_PARAMS, kv, n);
    peer_put(fd, FCGI_PARAMS, NULL, 0);
    peer_put(fd, FCGI_STDIN, NULL, 0);
}

void peer_send_request(int fd)
{
    peer_send_request_with(fd, NULL);
}
