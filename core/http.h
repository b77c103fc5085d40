/* http: the request and response as core/ sees them, independent of FastCGI.
 * fcgi/edge.c fills these from libfcgi; unit tests fill them from memory.
 *
 * The response is written in two phases: resp_status/resp_header collect the
 * head in memory, the first body write (or resp_finish) sends it. After the
 * head is sent, a failure can only abort the stream (resp_abort), which the
 * client sees as a truncated response. */
#ifndef CORE_HTTP_H
#define CORE_HTTP_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/buf.h"
#include "core/errors.h"

/* What a try that may step aside answers (nginx's NGX_OK, NGX_DECLINED,
 * NGX_ERROR): the zero-copy send, a blob handed to someone else. */
enum http_try {
    HTTP_DONE = 0,        /* it went out */
    HTTP_DECLINED = 1,    /* nothing went out and nothing changed: do it another way */
    HTTP_FAILED = -1,     /* it failed partway: the response is aborted */
    HTTP_SHORT = 2,       /* the zero-copy send's source ended or stalled partway: what went
                           * out is good and the response still open; go on from another
                           * source, or abort */
};

struct http_io {
    /* CGI/FastCGI parameter (e.g. "HTTP_RANGE", "CONTENT_TYPE"); NULL if absent. */
    const char *(*param)(void *io, const char *name);
    /* Request body: bytes read (>0), 0 at end of body, -1 on error (client gone). */
    ssize_t (*read)(void *io, char *buf, size_t n);
    /* Response bytes (head and body alike): 0 ok, -1 error (client gone). */
    int (*write)(void *io, const char *buf, size_t n);
    /* Make the edge drop the connection without ending the response cleanly
     * (so a client never mistakes a truncated body for a complete one). */
    void (*abort)(void *io);
    /* Optional (NULL: not offered). n body bytes moved from fd (a socket
     * with at least n bytes still to come) to the client without a copy
     * through user space; *sent gets how many reached the front server.
     * An enum http_try: HTTP_DECLINED when nothing of it was sent (the
     * output is as it was: the caller may send the bytes another way);
     * HTTP_FAILED when it failed partway (the edge has dropped the response);
     * HTTP_SHORT when fd ended or stalled after *sent good bytes (the
     * response is open at a clean point: the rest may come from elsewhere). */
    int (*splice_from)(void *io, int fd, uint64_t n, uint64_t *sent);
};

struct request {
    const char *method;        /* "GET", ... (borrowed from the edge) */
    char *path;                /* owned: path of REQUEST_URI, not decoded */
    char *query;               /* owned: query of REQUEST_URI without '?', "" if none */
    int64_t content_length;    /* -1 when absent or empty (chunked body: read to EOF) */
    uint64_t body_read;        /* bytes consumed so far by req_read */
    const struct http_io *io;
    void *io_ctx;
    int route;                 /* enum route_kind, set by registry_handle (access log, metrics) */
};

struct response {
    int status;
    struct buf head;           /* "Name: value\r\n" lines */
    int head_sent;
    int aborted;               /* write failed or resp_abort called */
    int head_only;             /* HEAD request: body bytes are counted, not sent */
    uint64_t body_bytes;
    const struct http_io *io;
    void *io_ctx;
};

/* Split REQUEST_URI into req->path and req->query. 0 ok, -1 malformed (no leading '/'). */
int req_init(struct request *req, const char *method, const char *request_uri,
             const char *content_length, const struct http_io *io, void *io_ctx);
void req_free(struct request *req);
const char *req_header(struct request *req, const char *cgi_name);   /* e.g. "HTTP_RANGE" */
ssize_t req_read(struct request *req, char *buf, size_t n);
/* Read and discard the rest of the body (bounded by max bytes); 0 ok, -1 error or over max. */
int req_drain(struct request *req, uint64_t max);
/* Read the whole body into b (b's cap applies). 0 ok, -1 read error, -2 over cap. */
int req_read_all(struct request *req, struct buf *b);

void resp_init(struct response *r, const struct http_io *io, void *io_ctx);
void resp_free(struct response *r);
void resp_status(struct response *r, int status);
void resp_header(struct response *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sends the head if not yet sent, then n body bytes. 0 ok, -1 client gone. */
int resp_write(struct response *r, const void *p, size_t n);
/* Whether resp_splice can be tried: the edge offers it and a body is due. */
int resp_can_splice(const struct response *r);
/* Sends the head if not yet sent, then n body bytes spliced from fd (see
 * http_io.splice_from): HTTP_DONE; HTTP_DECLINED when nothing of the body
 * went out (send it with resp_write instead); HTTP_FAILED when the response
 * failed partway and is aborted; HTTP_SHORT when fd ended or stalled after
 * *sent bytes (the response is open: send the rest, or resp_abort). */
enum http_try resp_splice(struct response *r, int fd, uint64_t n, uint64_t *sent);
/* Sends the head if not yet sent (a bodiless or fully written response). */
int resp_finish(struct response *r);
/* Error response with the spec's JSON body. detail may be NULL.
 * If the head is already sent, this aborts the stream instead. */
void resp_error(struct response *r, enum oci_err e, const char *message, const char *detail);
void resp_abort(struct response *r);
const char *http_reason(int status);

#endif
