/* edge_internal: what fcgi/edge.c shares with the unit tests: the http_io
 * over one libfcgi request and the two steps that end it, so the framing of
 * a whole response (libfcgi's records, ours, FCGI_END_REQUEST or the abort
 * record) can be checked with no registry behind it. Nothing else uses
 * these: the worker goes through edge_serve (fcgi/edge.h). */
#ifndef FCGI_EDGE_INTERNAL_H
#define FCGI_EDGE_INTERNAL_H
#include <stddef.h>
#include <fcgiapp.h>
#include "core/http.h"

/* Writes of EDGE_DIRECT_MIN bytes or more (and every write after one)
 * bypass libfcgi's 8 KiB stream and gather in an EDGE_OUT_MAX buffer that
 * goes out as FCGI_RECORD_MAX records (edge.c says why). */
#define EDGE_DIRECT_MIN (16 * 1024)
#define EDGE_OUT_MAX (256 * 1024)

/* One request being served; fr was accepted by FCGX_Accept_r and stays the
 * caller's. */
struct edge_io {
    FCGX_Request *fr;
    int dropped;     /* the connection is closed: no more reads or writes */
    size_t pending;  /* body bytes waiting in edge.c's output buffer */
};

/* param, read, write, abort and splice_from over a struct edge_io. */
extern const struct http_io edge_ops;

/* Settles a response: its last buffered bytes go out or, when it failed
 * (aborted by the handler, or the front server gone under those bytes), the
 * connection is dropped behind the abort record. 1 if it failed, else 0. */
int edge_settle(struct edge_io *e, int aborted);

/* Ends a settled request so fr is ready for the next FCGX_Accept_r:
 * FCGX_Finish_r (an empty FCGI_STDOUT record and FCGI_END_REQUEST) after a
 * whole response; after a drop, libfcgi's memory only. When the request
 * body's end was not read, the connection is closed within EDGE_LINGER_MS
 * (edge.c) however long the front server goes on sending it. */
void edge_end(struct edge_io *e);

#endif
