/* fake_edge: an in-memory struct http_io for the unit tests that drive
 * registry_handle(). It stands in for fcgi/edge.c: the request's CGI
 * parameters and body come from memory, and every byte the response would
 * send to FastCGI (the "Status:" line, headers and body) is collected in out.
 * The fake_resp_* helpers read such a collected response back. */
#ifndef TESTS_UNIT_FAKE_EDGE_H
#define TESTS_UNIT_FAKE_EDGE_H
#include <stddef.h>
#include <sys/types.h>
#include "core/buf.h"
#include "core/http.h"
#include "core/registry/registry.h"

#define FAKE_EDGE_PARAMS 8

struct fake_edge {
    const char *param_names[FAKE_EDGE_PARAMS];   /* CGI names ("HTTP_RANGE"), borrowed */
    const char *param_values[FAKE_EDGE_PARAMS];
    size_t nparams;          /* set to 0 to drop them all */
    const char *body;      /* borrowed; NULL is an empty body */
    size_t body_len;
    size_t body_off;       /* bytes handed to the handler so far */
    size_t read_max;       /* at most this many bytes per read (0: no limit), as a socket would */
    struct buf out;        /* what the response sent */
    int aborts;            /* times the response asked to drop the connection */
};

/* An edge with no parameters, no body and an empty out (capped at 16 MiB). */
void fake_edge_init(struct fake_edge *e);
/* Adds CGI parameter name = value (both borrowed; a NULL value is absent). */
void fake_edge_param(struct fake_edge *e, const char *name, const char *value);

/* The http_io operations over a struct fake_edge, for a test that builds its
 * own struct http_io (e.g. with a splice_from of its own). */
const char *fake_edge_get_param(void *ctx, const char *name);
ssize_t fake_edge_read(void *ctx, char *p, size_t n);
int fake_edge_write(void *ctx, const char *p, size_t n);
void fake_edge_abort(void *ctx);
/* Those four, without splice_from. */
extern const struct http_io fake_edge_io;

/* Runs one request (content_length as the CGI parameter: NULL is absent)
 * through reg on edge e with io (NULL: fake_edge_io). Returns everything the
 * edge got, NUL-terminated; the caller frees it. e->out is empty afterwards. */
char *fake_edge_run(struct registry *reg, struct fake_edge *e, const struct http_io *io,
                    const char *method, const char *uri, const char *content_length);

/* The status of a collected response ("Status: 404 ..."), -1 if it has none. */
int fake_resp_status(const char *out);
/* The value of header name in a collected response's head, or NULL; caller frees. */
char *fake_resp_header(const char *out, const char *name);
/* Asserts the response carries header name with exactly value (NULL: that
 * it has no such header). */
void fake_resp_header_is(const char *out, const char *name, const char *value);
/* The body of a collected response (after the blank line); "" if none. */
const char *fake_resp_body(const char *out);

#endif
