/* edge_splice: the edge's zero-copy body (http_io.splice_from) on plain
 * fds: bytes spliced from a source socket (or file) into the FastCGI connection as
 * FCGI_STDOUT records, never copied through user space. No libfcgi types:
 * fcgi/edge.c hands it the connection's fd, the unit tests a socketpair. */
#ifndef FCGI_EDGE_SPLICE_H
#define FCGI_EDGE_SPLICE_H
#include <stdint.h>
#include "core/http.h"   /* enum http_try */

/* n body bytes from src (a socket with at least n bytes still to come)
 * into dst (the FastCGI connection: blocking, at a record boundary) as
 * FCGI_STDOUT records of request_id. A socket src is left non-blocking,
 * with its SO_RCVLOWAT changed; its SO_RCVTIMEO, if set, is how long it may
 * stall. src may also be a regular file positioned at the bytes (a blob
 * file), read as it is.
 * *sent gets the body bytes that reached dst. HTTP_DONE when all n went
 * out; HTTP_DECLINED when nothing reached dst (set-up failed, or the
 * source failed before the first byte): dst is as it was and the caller may
 * send the bytes another way; HTTP_FAILED when it failed partway: what
 * reached dst ends on a record boundary, and the caller must fail the
 * response (fcgi_record_abort). Failures are logged. Owns nothing after it
 * returns. */
enum http_try edge_splice_send(int src, int dst, uint16_t request_id, uint64_t n, uint64_t *sent);

#endif
