/* fcgi_record: FastCGI records written beside libfcgi's stream, on a plain
 * connected fd (the edge's big bodies, its splice path, its abort, and the
 * bench's ceiling responder). No libfcgi types: fastcgi.h's protocol
 * constants only, so anything that holds the connection's fd can use it. */
#ifndef FCGI_FCGI_RECORD_H
#define FCGI_FCGI_RECORD_H
#include <fastcgi.h>   /* FCGI_HEADER_LEN, FCGI_STDOUT, FCGI_MAX_LENGTH */
#include <stddef.h>
#include <stdint.h>

/* The longest content of our records: FCGI_MAX_LENGTH rounded down to a
 * multiple of 8 (65528), so a run of whole records keeps the stream 8-byte
 * aligned without padding. */
#define FCGI_RECORD_MAX (FCGI_MAX_LENGTH & ~7)

/* Fills h with the header of a version-1 record: type (FCGI_STDOUT, ...),
 * request_id and content_len big-endian, padding bytes to follow the
 * content, reserved 0. */
void fcgi_record_header(unsigned char h[FCGI_HEADER_LEN], unsigned char type,
                        uint16_t request_id, uint16_t content_len, unsigned char padding);

/* buf[0..n) on fd as records of type: FCGI_RECORD_MAX bytes each (the last
 * one shorter), no padding (optional in the protocol: peers read by length),
 * several records per writev. fd is blocking; EINTR is retried. n == 0
 * writes nothing (an empty record would end the stream). 0 ok, -1 with
 * errno (EPIPE: the peer is gone; SIGPIPE is the caller's business). */
int fcgi_record_write(int fd, unsigned char type, uint16_t request_id, const void *buf,
                      size_t n);

/* Sends the abort record: a header of protocol version 0, which no FastCGI
 * peer accepts, so the front server fails the response instead of taking
 * what it got as complete (fcgi/edge.c says why). It must begin on a record
 * boundary. Never raises SIGPIPE; when the socket is full (a slow reader)
 * it waits for room, up to wait_ms in all. 0 sent, -1 not (peer gone, or
 * no room in time). */
int fcgi_record_abort(int fd, int wait_ms);

#endif
