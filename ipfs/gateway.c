/* gateway: streaming bytes of /ipfs/<cid> from Kubo's gateway with a Range
 * request (see kubo.h). The status is known from the header callback before
 * the first body byte, so the caller only ever sees content. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/metrics.h"
#include "core/xalloc.h"
#include "ipfs/kubo_internal.h"

/* Bigger reads mean fewer callbacks and syscalls per GiB (curl's max is 512 KiB). */
#define GW_BUFSIZE (512L * 1024L)
#define GW_ERRBODY_MAX 4096
#define GW_HOLD 4096

struct gw_ctx {
    long status;
    int ranged;            /* a Range was asked for */
    uint64_t skip;         /* bytes still to drop (200 to a ranged request) */
    uint64_t want;         /* bytes the caller asked for, 0 = all */
    uint64_t sent;         /* bytes handed to the caller */
    kubo_write_cb cb;
    void *ctx;
    int aborted;
    int done;              /* got all we wanted from a 200: stop reading */
    struct buf errbody;
    /* the last GW_HOLD bytes, passed on only once the body is complete:
     * a gateway that gives up on a stream may write a line of its own
     * before it closes (see fcgi/edge_splice.c) */
    char hold[GW_HOLD];
    size_t nhold;
};

static size_t gw_header(char *p, size_t size, size_t n, void *arg)
{
    struct gw_ctx *c = arg;
    size_t len = size * n;
    if (len > 12 && strncmp(p, "HTTP/", 5) == 0) {
        const char *sp = memchr(p, ' ', len);
        c->status = 0;
        if (sp && (size_t)(sp - p) + 4 <= len && sp[1] >= '1' && sp[1] <= '5')
            c->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
    }
    return len;
}

static size_t gw_write(char *p, size_t size, size_t n, void *arg)
{
    struct gw_ctx *c = arg;
    size_t len = size * n;
    if (c->status != 200 && c->status != 206) {
        size_t room = c->errbody.max - c->errbody.len;
        buf_append(&c->errbody, p, len < room ? len : room);
        return len;
    }
    const char *q = p;
    size_t m = len;
    if (c->status == 200 && c->skip) {
        /* The gateway ignored our Range: drop the head ourselves. */
        size_t d = c->skip < m ? (size_t)c->skip : m;
        q += d;
        m -= d;
        c->skip -= d;
    }
    if (c->want && m > c->want - c->sent - c->nhold)
        m = (size_t)(c->want - c->sent - c->nhold);
    /* what may go: everything once the body is complete, else all but the
     * last GW_HOLD bytes (held first, then these) */
    size_t avail = c->nhold + m;
    size_t go = c->want && c->sent + avail == c->want ? avail : avail > GW_HOLD ? avail - GW_HOLD : 0;
    size_t from_hold = go < c->nhold ? go : c->nhold;
    if (from_hold && c->cb(c->ctx, c->hold, from_hold) != 0) {
        c->aborted = 1;
        return 0;
    }
    memmove(c->hold, c->hold + from_hold, c->nhold - from_hold);
    c->nhold -= from_hold;
    c->sent += from_hold;
    size_t from_q = go - from_hold;
    if (from_q && c->cb(c->ctx, q, from_q) != 0) {
        c->aborted = 1;
        return 0;
    }
    c->sent += from_q;
    memcpy(c->hold + c->nhold, q + from_q, m - from_q);
    c->nhold += m - from_q;
    if (c->want && c->sent == c->want && c->status == 200 && c->ranged) {
        c->done = 1;   /* the rest of a whole-file answer is not ours */
        return 0;
    }
    return len;
}

/* One request for [offset, offset+length) of url's bytes (length 0: to the
 * end); *passed gets the bytes handed to the caller, *cut whether the node
 * ended a 200/206 body early (its Gateway.RetrievalTimeout cuts a response
 * whose reader fell behind): then everything before the held-back tail was
 * passed on, and the rest may be asked for again. */
static int gw_get_once(struct kubo *k, const char *url, const char *what, uint64_t offset, uint64_t length,
                       kubo_write_cb cb, void *ctx, uint64_t *passed, int *cut, int *status)
{
    struct gw_ctx c = { .cb = cb, .ctx = ctx, .want = length, .skip = offset };
    buf_init(&c.errbody, GW_ERRBODY_MAX);
    char range[64];
    c.ranged = offset > 0 || length > 0;
    if (length)
        snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64, offset, offset + length - 1);
    else
        snprintf(range, sizeof range, "%" PRIu64 "-", offset);

    CURL *h = k->gw;
    char errbuf[CURL_ERROR_SIZE] = "";
    kubo_curl_prepare(k, h, 0, url, errbuf, gw_header, gw_write, &c);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, GW_BUFSIZE);
    if (c.ranged)
        curl_easy_setopt(h, CURLOPT_RANGE, range);
    k->nreq++;
    CURLcode cc = curl_easy_perform(h);

    int rc = KUBO_OK;
    int body = c.status == 200 || c.status == 206;
    *cut = 0;
    if (c.aborted) {
        rc = kubo_fail(k, KUBO_ABORTED, what, "cancelled by the receiver after %" PRIu64 " bytes",
                       c.sent);
    } else if (cc != CURLE_OK && !(c.done && cc == CURLE_WRITE_ERROR)) {
        rc = kubo_curl_fail(k, cc, what, errbuf);
        /* short of what was asked for, or of the Content-Length */
        *cut = body && (length ? c.sent < length : cc == CURLE_PARTIAL_FILE);
    } else if (!body) {
        size_t n = c.errbody.len;
        const char *b = buf_cstr(&c.errbody);
        while (n && (b[n - 1] == '\n' || b[n - 1] == '\r'))
            n--;
        rc = kubo_fail(k, kubo_gateway_status_rc((int)c.status), what, "HTTP %ld: %.*s", c.status,
                       (int)(n > 300 ? 300 : n), b);
    } else if (length && c.sent != length) {
        rc = kubo_fail(k, KUBO_ERROR, what, "got %" PRIu64 " of %" PRIu64 " bytes at offset %" PRIu64,
                       c.sent, length, offset);
        *cut = c.sent < length;
    } else if (c.nhold && cb(ctx, c.hold, c.nhold) != 0) {
        /* a body of unknown length ended: its tail is complete */
        rc = kubo_fail(k, KUBO_ABORTED, what, "cancelled by the receiver after %" PRIu64 " bytes", c.sent);
    } else {
        c.sent += c.nhold;
    }
    metrics_kubo_gateway(rc == KUBO_UNAVAILABLE || rc == KUBO_ERROR);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    buf_free(&c.errbody);
    *passed = c.sent;
    *status = (int)c.status;
    return rc;
}

/* GET <gateway>/ipfs/<cid><query>, streamed to cb; a Range unless offset
 * and length are both 0. A body the node cuts short is asked for again
 * from where it stopped, as long as each try moves it on; a 504 before
 * the first byte (the node gave up retrieving) is asked again up to
 * KUBO_GW_TIMEOUT_TRIES times. */
static int gw_get(struct kubo *k, const char *cid, const char *query, uint64_t offset, uint64_t length,
                  kubo_write_cb cb, void *ctx)
{
    char *what = xasprintf("gateway %s", cid);
    if (!k->gw_base) {
        int rc = kubo_fail(k, KUBO_ERROR, what, "no gateway configured");
        free(what);
        return rc;
    }
    if (length && offset > UINT64_MAX - length) {
        int rc = kubo_fail(k, KUBO_ERROR, what, "range out of bounds");
        free(what);
        return rc;
    }
    struct buf url;
    buf_init(&url, KUBO_QUERY_MAX);
    /* '/' kept: cid may carry a path inside the DAG ("<cid>/dir/file"). */
    if (buf_appendf(&url, "%s/ipfs/", k->gw_base) < 0 || kubo_pct_encode(&url, cid, 1) < 0 ||
        buf_appendf(&url, "%s", query) < 0) {
        int rc = kubo_fail(k, KUBO_ERROR, what, "request too long");
        buf_free(&url);
        free(what);
        return rc;
    }
    uint64_t done = 0, passed;
    int cut, rc, status, gave_up = 0;
    for (;;) {
        rc = gw_get_once(k, buf_cstr(&url), what, offset + done, length ? length - done : 0, cb, ctx,
                         &passed, &cut, &status);
        done += passed;
        /* the node gave up before the first byte (504): ask again, a few times */
        if (kubo_gateway_gave_up(rc, status) && passed == 0 && ++gave_up < KUBO_GW_TIMEOUT_TRIES) {
            metrics_kubo_gateway_resume();
            continue;
        }
        if (rc == KUBO_OK || !cut || passed == 0)
            break;
        metrics_kubo_gateway_resume();
    }
    buf_free(&url);
    free(what);
    return rc;
}

int kubo_gateway_get(struct kubo *k, const char *cid, uint64_t offset, uint64_t length,
                     kubo_write_cb cb, void *ctx)
{
    return gw_get(k, cid, "", offset, length, cb, ctx);
}

int kubo_gateway_tar(struct kubo *k, const char *path, kubo_write_cb cb, void *ctx)
{
    return gw_get(k, path, "?format=tar", 0, 0, cb, ctx);
}

int kubo_gateway_status_rc(int status)
{
    if (status == 404 || status == 410)
        return KUBO_NOT_FOUND;
    /* 502/503/504: the node could not get the bytes (no provider answered
     * within its Gateway.RetrievalTimeout), or is overloaded: retry later */
    if (status >= 500)
        return KUBO_UNAVAILABLE;
    return KUBO_ERROR;
}
