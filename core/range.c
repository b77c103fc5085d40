/* range: one-range Range headers for blob GET and Content-Range of upload
 * chunks. Anything we don't understand in Range is ignored (RFC 9110 lets a
 * server serve the whole representation), but Content-Range is strict: a
 * chunk we misplace would corrupt the blob. */
#include <errno.h>
#include <string.h>
#include "core/range.h"

/* Parse a run of decimal digits at *p into *out, advancing *p.
 * -1 when there are no digits or the value overflows. */
static int range_num(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    *p = s;
    return 0;
}

static const char *range_skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

enum range_rc range_parse(const char *hdr, uint64_t size, uint64_t *start, uint64_t *end)
{
    if (!hdr)
        return RANGE_NONE;
    const char *p = range_skip_ws(hdr);
    if (strncmp(p, "bytes=", 6) != 0)
        return RANGE_NONE;
    p = range_skip_ws(p + 6);
    if (strchr(p, ','))
        return RANGE_NONE;   /* multiple ranges: a multipart answer isn't worth it */
    uint64_t a = 0, b = 0;
    int have_a = 0, have_b = 0;
    if (*p != '-') {
        if (range_num(&p, &a) < 0)
            return RANGE_NONE;
        have_a = 1;
    }
    p = range_skip_ws(p);
    if (*p != '-')
        return RANGE_NONE;
    p = range_skip_ws(p + 1);
    if (*p) {
        if (range_num(&p, &b) < 0)
            return RANGE_NONE;
        have_b = 1;
    }
    if (*range_skip_ws(p))
        return RANGE_NONE;
    if (!have_a && !have_b)
        return RANGE_NONE;
    if (have_a && have_b && b < a)
        return RANGE_UNSATISFIABLE;   /* RFC 9110 would ignore it, but the OCI conformance
                                        suite expects 416 for "bytes=500-0", as distribution answers */
    if (!have_a) {
        /* suffix: the last b bytes */
        if (b == 0 || size == 0)
            return RANGE_UNSATISFIABLE;
        *start = b >= size ? 0 : size - b;
        *end = size - 1;
        return RANGE_OK;
    }
    if (size == 0 || a >= size)
        return RANGE_UNSATISFIABLE;
    *start = a;
    *end = (!have_b || b >= size) ? size - 1 : b;
    return RANGE_OK;
}

int content_range_parse(const char *hdr, uint64_t *start, uint64_t *end)
{
    if (!hdr)
        return -1;
    const char *p = range_skip_ws(hdr);
    if (strncmp(p, "bytes", 5) == 0) {
        p += 5;
        if (*p == '=' || *p == ' ')
            p++;
        else
            return -1;
        p = range_skip_ws(p);
    }
    uint64_t a, b;
    if (range_num(&p, &a) < 0 || *p != '-')
        return -1;
    p++;
    if (range_num(&p, &b) < 0 || b < a)
        return -1;
    if (*p == '/') {
        p++;
        uint64_t total;
        if (*p == '*')
            p++;
        else if (range_num(&p, &total) < 0 || total <= b)
            return -1;
    }
    if (*range_skip_ws(p))
        return -1;
    *start = a;
    *end = b;
    return 0;
}
