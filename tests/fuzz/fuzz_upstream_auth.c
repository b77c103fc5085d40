/* fuzz_upstream_auth: what an upstream registry says about authentication
 * (oci/upstream_auth.c): the WWW-Authenticate value of a 401 and the token
 * endpoint's JSON, both from the network. The input is split at its first
 * NUL: the header before it, the token answer after. Beyond not crashing:
 * an accepted challenge has a known scheme, a Bearer one a realm, and no
 * parameter over the 2 KiB cap; an accepted token is non-empty, has no line
 * break (it becomes a header) and expires in at least a second. */
#include <stdlib.h>
#include <string.h>
#include "tests/fuzz/fuzz.h"
#include "core/xalloc.h"
#include "oci/upstream_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nul = memchr(data, 0, size);
    size_t hn = nul ? (size_t)(nul - (const char *)data) : size;
    char *header = xstrndup((const char *)data, hn);
    struct upstream_challenge c;
    if (upstream_challenge_parse(header, &c) == 0) {
        FUZZ_ASSERT(c.scheme == UPSTREAM_AUTH_BASIC || c.scheme == UPSTREAM_AUTH_BEARER);
        FUZZ_ASSERT(c.scheme != UPSTREAM_AUTH_BEARER || c.realm);
        FUZZ_ASSERT(!c.realm || strlen(c.realm) <= 2048);
        FUZZ_ASSERT(!c.scope || strlen(c.scope) <= 2048);
        upstream_challenge_free(&c);
    }
    free(header);
    if (nul) {
        const char *json = nul + 1;
        size_t jn = size - hn - 1;
        char *token = NULL, *err = NULL;
        long exp = 0;
        if (upstream_token_parse(json, jn, &token, &exp, &err) == 0) {
            FUZZ_ASSERT(token && *token && !strpbrk(token, "\r\n") && exp >= 1);
            free(token);
        } else {
            FUZZ_ASSERT(err && !token);
            free(err);
        }
    }
    return 0;
}
