/* fuzz_names: the string rules every request passes through: repository
 * names, tags, upload ids, digests, the saved hash state of an upload
 * session, and percent-decoding of query values. Beyond not crashing: what
 * a rule accepts has the shape its grammar promises, and what is parsed
 * formats back to the same text. */
#include <stdlib.h>
#include <string.h>
#include "tests/fuzz/fuzz.h"
#include "core/digest.h"
#include "core/names.h"
#include "core/query.h"
#include "core/xalloc.h"

static void fuzz_names_name(const char *s)
{
    if (!name_valid(s))
        return;
    size_t n = strlen(s);
    FUZZ_ASSERT(n > 0 && n <= NAME_MAX_LEN);
    FUZZ_ASSERT(strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-/") == n);
    FUZZ_ASSERT(s[0] != '/' && s[n - 1] != '/' && !strstr(s, "//") && !strstr(s, ".."));
    FUZZ_ASSERT(!strstr(s, "/.") && !strstr(s, "./") && !strstr(s, "___"));
}

static void fuzz_names_tag(const char *s)
{
    if (!tag_valid(s))
        return;
    size_t n = strlen(s);
    FUZZ_ASSERT(n > 0 && n <= TAG_MAX_LEN && s[0] != '.' && s[0] != '-');
    FUZZ_ASSERT(!strchr(s, ':') && !strchr(s, '/'));   /* never taken for a digest or a path */
}

static void fuzz_names_digest(const char *s)
{
    struct digest d;
    char out[DIGEST_STR_MAX];
    enum digest_parse_rc rc = digest_parse(s, &d);

    if (rc != DIGEST_PARSE_INVALID)
        FUZZ_ASSERT(digest_looks_like(s));
    if (rc != DIGEST_PARSE_OK)
        return;
    FUZZ_ASSERT(strlen(d.hex) == digest_alg_hexlen(d.alg));
    FUZZ_ASSERT(strcmp(digest_str(&d, out), s) == 0);
    struct digest again;
    FUZZ_ASSERT(digest_parse(out, &again) == DIGEST_PARSE_OK && digest_equal(&d, &again));
}

/* A session's saved hash state: loaded, it saves back to the same text and
 * can go on hashing. */
static void fuzz_names_hasher(const char *s)
{
    struct hasher h;
    struct digest d;

    if (hasher_load(&h, s) < 0)
        return;
    char *saved = hasher_save(&h);
    FUZZ_ASSERT(strcmp(saved, s) == 0);
    free(saved);
    hasher_update(&h, s, strlen(s));
    hasher_final(&h, &d);
}

static void fuzz_names_query(const char *s)
{
    size_t n = strlen(s);
    char *dec = pct_decode(s, n);
    if (dec) {
        FUZZ_ASSERT(strlen(dec) <= n);
        char *enc = pct_encode(dec);
        char *back = pct_decode(enc, strlen(enc));
        FUZZ_ASSERT(back && strcmp(back, dec) == 0);
        free(back);
        free(enc);
        free(dec);
    }
    size_t nv = 0;
    char **all = query_get_all(s, "tag", &nv);
    char *first = query_get(s, "tag");
    FUZZ_ASSERT((nv == 0) == (first == NULL));
    FUZZ_ASSERT(!first || strcmp(first, all[0]) == 0);
    free(first);
    strv_free(all, nv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);

    fuzz_names_name(s);
    fuzz_names_tag(s);
    if (upload_id_valid(s))
        FUZZ_ASSERT(strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32);
    fuzz_names_digest(s);
    fuzz_names_hasher(s);
    fuzz_names_query(s);
    free(s);
    return 0;
}
