/* range: the request Range header of blob GET (RFC 9110, one range only) and
 * the Content-Range header of chunked upload PATCH ("<start>-<end>",
 * inclusive, optionally "bytes " prefixed and "/<total>" suffixed). */
#ifndef CORE_RANGE_H
#define CORE_RANGE_H
#include <stdint.h>

enum range_rc {
    RANGE_NONE = 0,        /* no header, or one we ignore (not bytes=, multiple ranges): serve 200 */
    RANGE_OK,              /* *start..*end inclusive, within size */
    RANGE_UNSATISFIABLE,   /* start beyond the end, or end before start: answer 416 with Content-Range: bytes * /size (no space) */
};

/* hdr may be NULL. size is the blob size. */
enum range_rc range_parse(const char *hdr, uint64_t size, uint64_t *start, uint64_t *end);

/* Content-Range of an upload chunk. 0 ok (inclusive start/end, end >= start),
 * -1 malformed. */
int content_range_parse(const char *hdr, uint64_t *start, uint64_t *end);

#endif
