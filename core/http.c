/* http: request body reading and two-phase response writing over an
 * abstract struct http_io (FastCGI in production, memory in tests). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include "core/xjson.h"
#include "core/http.h"
#include "core/xalloc.h"

#define HTTP_HEAD_MAX (16 * 1024)   /* our own headers; far more than any response needs */
#define HTTP_DRAIN_CHUNK 8192

/* CONTENT_LENGTH: decimal digits only (no sign, no spaces), fits int64. */
static int http_parse_length(const char *s, int64_t *out)
{
    if (!s || !*s) {
        *out = -1;
        return 0;
    }
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > INT64_MAX)
        return -1;
    *out = (int64_t)v;
    return 0;
}

int req_init(struct request *req, const char *method, const char *request_uri,
             const char *content_length, const struct http_io *io, void *io_ctx)
{
    memset(req, 0, sizeof *req);
    req->method = method;
    req->io = io;
    req->io_ctx = io_ctx;
    req->content_length = -1;
    if (!request_uri || request_uri[0] != '/')
        return -1;
    if (http_parse_length(content_length, &req->content_length) < 0)
        return -1;
    const char *q = strchr(request_uri, '?');
    if (q) {
        req->path = xstrndup(request_uri, (size_t)(q - request_uri));
        req->query = xstrdup(q + 1);
    } else {
        req->path = xstrdup(request_uri);
        req->query = xstrdup("");
    }
    return 0;
}

void req_free(struct request *req)
{
    free(req->path);
    free(req->query);
    req->path = NULL;
    req->query = NULL;
}

const char *req_header(struct request *req, const char *cgi_name)
{
    if (!req->io || !req->io->param)
        return NULL;
    return req->io->param(req->io_ctx, cgi_name);
}

ssize_t req_read(struct request *req, char *buf, size_t n)
{
    if (req->content_length >= 0) {
        uint64_t left = (uint64_t)req->content_length - req->body_read;
        if (left == 0)
            return 0;
        if (n > left)
            n = (size_t)left;   /* never read into a pipelined or garbage tail */
    }
    if (n == 0)
        return 0;
    ssize_t r = req->io->read(req->io_ctx, buf, n);
    if (r < 0)
        return -1;
    if (r == 0) {
        /* end of stream before CONTENT_LENGTH: the client went away mid-body */
        if (req->content_length >= 0)
            return -1;
        return 0;
    }
    req->body_read += (uint64_t)r;
    return r;
}

int req_drain(struct request *req, uint64_t max)
{
    char tmp[HTTP_DRAIN_CHUNK];
    uint64_t drained = 0;
    for (;;) {
        ssize_t r = req_read(req, tmp, sizeof tmp);
        if (r < 0)
            return -1;
        if (r == 0)
            return 0;
        drained += (uint64_t)r;
        if (drained > max)
            return -1;
    }
}

int req_read_all(struct request *req, struct buf *b)
{
    /* refuse before reading when the declared length already exceeds the cap */
    if (req->content_length >= 0 && (uint64_t)req->content_length > b->max - b->len)
        return -2;
    char tmp[HTTP_DRAIN_CHUNK];
    for (;;) {
        ssize_t r = req_read(req, tmp, sizeof tmp);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        if (buf_append(b, tmp, (size_t)r) < 0)
            return -2;
    }
    if (!b->data)
        buf_append(b, "", 0);   /* an empty body is still a (empty) string */
    return 0;
}

void resp_init(struct response *r, const struct http_io *io, void *io_ctx)
{
    memset(r, 0, sizeof *r);
    r->status = 200;
    buf_init(&r->head, HTTP_HEAD_MAX);
    r->io = io;
    r->io_ctx = io_ctx;
}

void resp_free(struct response *r)
{
    buf_free(&r->head);
}

void resp_status(struct response *r, int status)
{
    r->status = status;
}

void resp_header(struct response *r, const char *name, const char *fmt, ...)
{
    if (r->head_sent)
        return;   /* too late: the head is on the wire */
    va_list ap;
    va_start(ap, fmt);
    char *val = xvasprintf(fmt, ap);
    va_end(ap);
    /* values may carry request data (names, ids): no CR/LF may split the head */
    for (char *p = val; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    if (buf_appendf(&r->head, "%s: %s\r\n", name, val) < 0)
        buf_init(&r->head, HTTP_HEAD_MAX);   /* over the cap: buf_append freed it */
    free(val);
}

static int resp_io_write(struct response *r, const char *p, size_t n)
{
    if (r->aborted)
        return -1;
    if (n == 0)
        return 0;
    if (r->io->write(r->io_ctx, p, n) < 0) {
        r->aborted = 1;
        return -1;
    }
    return 0;
}

/* FastCGI responders always send "Status:": some front servers (caddy)
 * take a missing one as 200, which would turn every error into a success. */
static int resp_send_head(struct response *r)
{
    if (r->head_sent)
        return r->aborted ? -1 : 0;
    r->head_sent = 1;
    struct buf h;
    buf_init(&h, HTTP_HEAD_MAX + 128);
    if (buf_appendf(&h, "Status: %d %s\r\n", r->status, http_reason(r->status)) < 0 ||
        buf_append(&h, buf_cstr(&r->head), r->head.len) < 0 || buf_appends(&h, "\r\n") < 0) {
        buf_free(&h);
        r->aborted = 1;
        return -1;
    }
    int rc = resp_io_write(r, h.data, h.len);
    buf_free(&h);
    return rc;
}

int resp_write(struct response *r, const void *p, size_t n)
{
    if (resp_send_head(r) < 0)
        return -1;
    r->body_bytes += n;
    if (r->head_only)
        return 0;
    return resp_io_write(r, p, n);
}

int resp_can_splice(const struct response *r)
{
    return r->io->splice_from && !r->head_only && !r->aborted;
}

enum http_try resp_splice(struct response *r, int fd, uint64_t n, uint64_t *sent)
{
    *sent = 0;
    if (!resp_can_splice(r))
        return HTTP_DECLINED;
    if (resp_send_head(r) < 0)
        return HTTP_FAILED;
    int rc = r->io->splice_from(r->io_ctx, fd, n, sent);
    r->body_bytes += *sent;
    if (rc == HTTP_DONE || rc == HTTP_DECLINED || rc == HTTP_SHORT)
        return rc;
    r->aborted = 1;
    return HTTP_FAILED;
}

int resp_finish(struct response *r)
{
    return resp_send_head(r);
}

/* Drop previously collected lines whose header name is name (case-insensitive). */
static void resp_drop_header(struct response *r, const char *name)
{
    if (!r->head.data)
        return;
    size_t nlen = strlen(name);
    char *src = r->head.data, *dst = r->head.data;
    char *end = r->head.data + r->head.len;
    while (src < end) {
        char *eol = memchr(src, '\n', (size_t)(end - src));
        size_t llen = eol ? (size_t)(eol - src) + 1 : (size_t)(end - src);
        int drop = llen > nlen && src[nlen] == ':' && strncasecmp(src, name, nlen) == 0;
        if (!drop) {
            memmove(dst, src, llen);
            dst += llen;
        }
        src += llen;
    }
    r->head.len = (size_t)(dst - r->head.data);
    r->head.data[r->head.len] = '\0';
}

void resp_error(struct response *r, enum oci_err e, const char *message, const char *detail)
{
    if (r->head_sent) {
        /* a truncated stream is the only honest signal left */
        resp_abort(r);
        return;
    }
    json_object *err = xjson_object();
    xjson_set(err, "code", xjson_string(oci_err_code(e)));
    xjson_set(err, "message",
                           xjson_string(message ? message : oci_err_default_message(e)));
    if (detail)
        xjson_set(err, "detail", xjson_string(detail));
    json_object *arr = xjson_array();
    xjson_push(arr, err);
    json_object *root = xjson_object();
    xjson_set(root, "errors", arr);
    const char *body = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t blen = strlen(body);
    /* headers meant for a success (e.g. Content-Range on a 416) stay, but the
     * body's own framing replaces any collected before the error */
    resp_drop_header(r, "Content-Length");
    resp_drop_header(r, "Content-Type");
    resp_status(r, oci_err_status(e));
    resp_header(r, "Content-Type", "application/json");
    resp_header(r, "Content-Length", "%zu", blen);
    resp_write(r, body, blen);
    json_object_put(root);
}

void resp_abort(struct response *r)
{
    if (r->aborted && r->head_sent)
        return;
    int was_aborted = r->aborted;
    r->aborted = 1;
    r->head_sent = 1;   /* nothing more may be sent */
    if (!was_aborted && r->io && r->io->abort)
        r->io->abort(r->io_ctx);
}

const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
    }
}
