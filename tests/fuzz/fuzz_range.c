/* fuzz_range: the Range header of blob GETs and the Content-Range of upload
 * PATCH/PUT chunks. The input is "<blob size>\n<header>" (a first line that
 * is not a number means a 1000-byte blob). Beyond not crashing: a satisfied
 * range lies inside the blob, a chunk range is never inverted, and what is
 * accepted formats back to a header that parses the same. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/fuzz/fuzz.h"
#include "core/range.h"

static uint64_t fuzz_range_size(const char *line)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(line, &end, 10);
    if (errno || end == line || *end)
        return 1000;
    return v;
}

static void fuzz_range_get(const char *hdr, uint64_t size)
{
    uint64_t start = 0, end = 0;
    enum range_rc rc = range_parse(hdr, size, &start, &end);
    FUZZ_ASSERT(rc == RANGE_NONE || rc == RANGE_OK || rc == RANGE_UNSATISFIABLE);
    if (rc != RANGE_OK)
        return;
    FUZZ_ASSERT(size > 0 && start <= end && end < size);
    char again[64];
    uint64_t s2 = 0, e2 = 0;
    snprintf(again, sizeof again, "bytes=%llu-%llu", (unsigned long long)start, (unsigned long long)end);
    FUZZ_ASSERT(range_parse(again, size, &s2, &e2) == RANGE_OK && s2 == start && e2 == end);
}

static void fuzz_range_chunk(const char *hdr)
{
    uint64_t start = 0, end = 0;
    if (content_range_parse(hdr, &start, &end) < 0)
        return;
    FUZZ_ASSERT(start <= end);
    char again[64];
    uint64_t s2 = 0, e2 = 0;
    snprintf(again, sizeof again, "%llu-%llu", (unsigned long long)start, (unsigned long long)end);
    FUZZ_ASSERT(content_range_parse(again, &s2, &e2) == 0 && s2 == start && e2 == end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    char *first = fuzz_line(&in);
    char *hdr = fuzz_cstr(in.p, in.n);
    uint64_t blob = first ? fuzz_range_size(first) : 1000;

    fuzz_range_get(hdr, blob);
    fuzz_range_get(hdr, 0);
    fuzz_range_get(hdr, UINT64_MAX);
    fuzz_range_chunk(hdr);
    free(hdr);
    free(first);
    return 0;
}
