/* fuzz_request: the step from FastCGI parameters to an answered request, as
 * fcgi/edge.c takes it (REQUEST_METHOD, REQUEST_URI and CONTENT_LENGTH into
 * req_init, then registry_handle), with a fake edge (struct http_io over
 * memory) and the in-memory fake store (fake_store.h). Routing, the shared
 * name and read-only rules, dispatch and every handler's parsing of its
 * path, query, headers and body run as in a worker.
 *
 * An input is up to FUZZ_REQ_MAX requests, each written like HTTP/1.1:
 *
 *   [@ option...]            first line only: readonly sparse accel redirect
 *                            nometrics nolayout writekey small
 *   METHOD URI               "$LOC" in URI: the previous answer's Location
 *   Header-Name: value       Content-Length -> CONTENT_LENGTH (as sent, even
 *   ...                      malformed), Content-Type -> CONTENT_TYPE, any
 *   (empty line)             other -> HTTP_HEADER_NAME
 *   body                     up to a line "%%" or the end of the input
 *
 * Beyond not crashing, every answer must be whole and well framed: a
 * "Status:" line with the response's status, header lines with no stray
 * CR/LF, at most one Content-Length and exactly that many body bytes (none
 * for HEAD), an error body that is the spec's JSON (but for the registry's
 * own /v2/_p2p/ endpoints), Allow on a 405.
 *
 * FUZZ_REQUEST_TRACE=1 in the environment prints each request line and its
 * answer on stderr, to see what a seed or a crash input does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fake_store.h"
#include "core/buf.h"
#include "core/http.h"
#include "core/registry/registry.h"
#include "core/registry/router.h"
#include "core/xalloc.h"

#define FUZZ_REQ_MAX 4
#define FUZZ_REQ_PARAMS 16
#define FUZZ_REQ_OUT_MAX (4 * 1024 * 1024)
#define FUZZ_REQ_READ 4096   /* the most one read of the body returns */

/* The fake edge: one request's parameters and body, and what was answered. */
struct fuzz_edge {
    char *names[FUZZ_REQ_PARAMS];
    char *values[FUZZ_REQ_PARAMS];
    size_t nparams;
    const uint8_t *body;
    size_t body_len;
    size_t body_at;
    struct buf out;
    int aborted;
};

static const char *fuzz_edge_param(void *io, const char *name)
{
    struct fuzz_edge *e = io;
    for (size_t i = 0; i < e->nparams; i++)
        if (strcmp(e->names[i], name) == 0)
            return e->values[i];
    return NULL;
}

static ssize_t fuzz_edge_read(void *io, char *buf, size_t n)
{
    struct fuzz_edge *e = io;
    size_t left = e->body_len - e->body_at;
    if (n > left)
        n = left;
    if (n > FUZZ_REQ_READ)
        n = FUZZ_REQ_READ;
    memcpy(buf, e->body + e->body_at, n);
    e->body_at += n;
    return (ssize_t)n;
}

static int fuzz_edge_write(void *io, const char *buf, size_t n)
{
    struct fuzz_edge *e = io;
    return buf_append(&e->out, buf, n);   /* over the cap: the client is gone */
}

static void fuzz_edge_abort(void *io)
{
    struct fuzz_edge *e = io;
    e->aborted = 1;
}

static const struct http_io fuzz_edge_ops = {
    .param = fuzz_edge_param,
    .read = fuzz_edge_read,
    .write = fuzz_edge_write,
    .abort = fuzz_edge_abort,
    .splice_from = NULL,   /* not offered: bodies go through write */
};

static void fuzz_edge_set(struct fuzz_edge *e, const char *name, const char *value)
{
    for (size_t i = 0; i < e->nparams; i++) {
        if (strcmp(e->names[i], name) == 0) {
            free(e->values[i]);
            e->values[i] = xstrdup(value);
            return;
        }
    }
    if (e->nparams == FUZZ_REQ_PARAMS)
        return;
    e->names[e->nparams] = xstrdup(name);
    e->values[e->nparams++] = xstrdup(value);
}

/* "Content-Type: x" as a front server passes it: CONTENT_TYPE,
 * CONTENT_LENGTH, else HTTP_ + the name upper-cased with '-' as '_'. */
static void fuzz_edge_header(struct fuzz_edge *e, const char *line)
{
    const char *colon = strchr(line, ':');
    if (!colon || colon == line)
        return;
    const char *v = colon + 1;
    while (*v == ' ')
        v++;
    size_t n = (size_t)(colon - line);
    if (n == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
        fuzz_edge_set(e, "CONTENT_TYPE", v);
        return;
    }
    if (n == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
        fuzz_edge_set(e, "CONTENT_LENGTH", v);
        return;
    }
    char *name = xmalloc(n + 6);
    memcpy(name, "HTTP_", 5);
    for (size_t i = 0; i < n; i++) {
        char c = line[i];
        name[5 + i] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
    name[5 + n] = '\0';
    fuzz_edge_set(e, name, v);
    free(name);
}

static void fuzz_edge_free(struct fuzz_edge *e)
{
    for (size_t i = 0; i < e->nparams; i++) {
        free(e->names[i]);
        free(e->values[i]);
    }
    buf_free(&e->out);
}

/* ---- checking an answer ---- */

/* The value of header name in head (lines "Name: value\r\n"), into a new
 * string; NULL if absent. *count gets how many times it occurs. */
static char *fuzz_head_get(const char *head, size_t len, const char *name, int *count)
{
    size_t nlen = strlen(name);
    char *val = NULL;
    const char *p = head, *end = head + len;
    *count = 0;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        FUZZ_ASSERT(eol != NULL);
        if ((size_t)(eol - p) > nlen + 1 && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            if (!val)
                val = xstrndup(p + nlen + 2, (size_t)(eol - p) - nlen - 2);
            (*count)++;
        }
        p = eol + 2;
    }
    return val;
}

/* Every line of head is "Name: value" with no CR or LF inside. */
static void fuzz_head_lines(const char *head, size_t len)
{
    const char *p = head, *end = head + len;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        FUZZ_ASSERT(eol != NULL);
        size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-");
        FUZZ_ASSERT(n > 0 && p + n + 1 < eol && p[n] == ':' && p[n + 1] == ' ');
        for (const char *q = p; q < eol; q++)
            FUZZ_ASSERT(*q != '\r' && *q != '\n');
        p = eol + 2;
    }
}

static void fuzz_check_answer(const struct fuzz_edge *e, const struct response *resp, int head_only,
                              int route)
{
    const char *out = buf_cstr(&e->out);
    size_t len = e->out.len;
    char status[32];

    FUZZ_ASSERT(resp->head_sent);   /* a handler that answers nothing is a bug */
    FUZZ_ASSERT(!e->aborted && !resp->aborted);   /* the fake store and client never fail */
    FUZZ_ASSERT(resp->status >= 200 && resp->status <= 599);
    int sl = snprintf(status, sizeof status, "Status: %d ", resp->status);
    FUZZ_ASSERT(len > (size_t)sl && memcmp(out, status, (size_t)sl) == 0);
    const char *blank = memmem(out, len, "\r\n\r\n", 4);
    FUZZ_ASSERT(blank != NULL);
    const char *head = (const char *)memmem(out, len, "\r\n", 2) + 2;
    size_t hlen = (size_t)(blank + 2 - head);
    const char *body = blank + 4;
    size_t blen = len - (size_t)(body - out);
    fuzz_head_lines(head, hlen);

    int count;
    char *v = fuzz_head_get(head, hlen, "Docker-Distribution-API-Version", &count);
    FUZZ_ASSERT(v && count == 1);
    free(v);
    v = fuzz_head_get(head, hlen, "Content-Length", &count);
    FUZZ_ASSERT(count <= 1);
    if (v) {
        char *end;
        unsigned long long cl = strtoull(v, &end, 10);
        FUZZ_ASSERT(*v && !*end);
        FUZZ_ASSERT(head_only ? blen == 0 : blen == cl);
        free(v);
    } else {
        FUZZ_ASSERT(blen == 0);
    }
    if (resp->status == 405) {
        v = fuzz_head_get(head, hlen, "Allow", &count);
        FUZZ_ASSERT(v && count == 1);   /* empty: nothing is allowed */
        free(v);
    }
    if (resp->status >= 400 && !head_only && route != ROUTE_P2P) {
        /* the spec's error body: {"errors":[{"code":...,"message":...}]}
         * (the registry's own endpoints answer with their own JSON: a
         * health check's 503 says what is unhealthy) */
        json_object *o = json_tokener_parse(body), *errs;
        FUZZ_ASSERT(o && json_object_object_get_ex(o, "errors", &errs) &&
                    json_object_is_type(errs, json_type_array) && json_object_array_length(errs) > 0);
        json_object_put(o);
    }
}

/* ---- the input ---- */

static int fuzz_trace;

struct fuzz_opts {
    struct registry_opts ro;
    int nolayout;
};

static void fuzz_parse_opts(const char *line, struct fuzz_opts *o, const char *statedir)
{
    memset(o, 0, sizeof *o);
    o->ro.statedir = statedir;
    o->ro.max_manifest_size = 4 * 1024 * 1024;
    o->ro.upload_expiry = 24 * 3600;
    o->ro.metrics_path = "/v2/_p2p/metrics";
    if (!line || line[0] != '@')
        return;
    if (strstr(line, "readonly"))
        o->ro.readonly = 1;
    if (strstr(line, "sparse"))
        o->ro.allow_sparse = 1;
    if (strstr(line, "accel"))
        o->ro.accel_redirect = "/_oci_p2p_blob/";
    if (strstr(line, "redirect") && !strstr(line, "accel"))
        o->ro.blob_redirect = "http://gateway.example/ipfs/{cid}?x";
    if (strstr(line, "nometrics"))
        o->ro.metrics_path = NULL;
    if (strstr(line, "writekey"))
        o->ro.writeipnskey = "self";
    if (strstr(line, "small"))
        o->ro.max_manifest_size = 512;
    if (strstr(line, "nolayout"))
        o->nolayout = 1;
}

/* One request from in; its answer's Location replaces *loc. 0 when there
 * was no request left. */
static int fuzz_one(struct registry *reg, struct fuzz_in *in, char **loc)
{
    struct fuzz_edge e;
    char *line = fuzz_line(in);
    if (!line)
        return 0;
    memset(&e, 0, sizeof e);
    buf_init(&e.out, FUZZ_REQ_OUT_MAX);

    /* METHOD URI; "$LOC" is the previous Location */
    char *sp = strchr(line, ' ');
    if (sp) {
        *sp = '\0';
        char *uri = sp + 1, *at = *loc ? strstr(uri, "$LOC") : NULL;
        char *full = at ? xasprintf("%.*s%s%s", (int)(at - uri), uri, *loc, at + 4) : xstrdup(uri);
        fuzz_edge_set(&e, "REQUEST_URI", full);
        free(full);
    }
    fuzz_edge_set(&e, "REQUEST_METHOD", line);
    free(line);
    while ((line = fuzz_line(in)) && *line) {
        fuzz_edge_header(&e, line);
        free(line);
    }
    free(line);
    e.body = fuzz_until(in, "\n%%\n", &e.body_len);

    /* as fcgi/edge.c: caddy's "-1" is an unknown length */
    const char *method = fuzz_edge_param(&e, "REQUEST_METHOD");
    const char *uri = fuzz_edge_param(&e, "REQUEST_URI");
    const char *clen = fuzz_edge_param(&e, "CONTENT_LENGTH");
    if (clen && strcmp(clen, "-1") == 0)
        clen = NULL;
    struct request req;
    struct response resp;
    resp_init(&resp, &fuzz_edge_ops, &e);
    if (uri && req_init(&req, method, uri, clen, &fuzz_edge_ops, &e) == 0) {
        FUZZ_ASSERT(req.path && req.query && req.path[0] == '/');
        registry_handle(reg, &req, &resp);
        if (fuzz_trace)
            fprintf(stderr, "> %s %s\n< %.*s\n", method, uri, (int)e.out.len, buf_cstr(&e.out));
        fuzz_check_answer(&e, &resp, resp.head_only, req.route);
        FUZZ_ASSERT(req.body_read <= e.body_len);
        int count;
        const char *out = buf_cstr(&e.out);
        const char *blank = memmem(out, e.out.len, "\r\n\r\n", 4);
        char *l = fuzz_head_get(out, (size_t)(blank + 2 - out), "Location", &count);
        if (l) {
            free(*loc);
            *loc = l;
        }
        req_free(&req);
    }
    resp_free(&resp);
    fuzz_edge_free(&e);
    return 1;
}

static void fuzz_request_cleanup(void)
{
    fake_store_free();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct fuzz_in in = { data, size };
    struct fuzz_opts o;
    struct registry reg;
    char *loc = NULL;

    if (!ready) {
        fuzz_setup();
        fuzz_trace = getenv("FUZZ_REQUEST_TRACE") != NULL;
        atexit(fuzz_request_cleanup);
        ready = 1;
    }
    fake_store_reset();
    char *opts = NULL;
    if (size > 0 && data[0] == '@')
        opts = fuzz_line(&in);
    fuzz_parse_opts(opts, &o, fuzz_tmpdir());
    free(opts);
    registry_init(&reg, &o.ro, fake_store());
    reg.layout_store = o.nolayout ? NULL : fake_store();
    for (int i = 0; i < FUZZ_REQ_MAX && fuzz_one(&reg, &in, &loc); i++)
        ;
    free(loc);
    fuzz_empty_dir(fuzz_tmpdir());   /* upload sessions: the next input starts afresh */
    return 0;
}
