/* fuzz_layout_index: an OCI layout's index.json (and oci-layout marker) as
 * oci/layout.c reads them from IPFS: untrusted bytes. Beyond not crashing:
 * every entry of an accepted index has a valid digest, and every tag the
 * layout lists (for the layout itself and for the image names its refs
 * carry) is found again by a tag lookup, at an entry that names it. */
#include <stdlib.h>
#include <string.h>
#include "tests/fuzz/fuzz.h"
#include "core/names.h"
#include "core/xalloc.h"
#include "oci/layout.h"

/* How many entries' image names are tried as filters: each costs a pass
 * over the whole index per tag, and a few already reach every branch. */
#define FUZZ_LAYOUT_FILTERS 4

static void fuzz_layout_tags(const struct layout_index *ix, const char *filter)
{
    char **tags = NULL;
    size_t n = 0;
    char t[TAG_MAX_LEN + 1];

    layout_tags(ix, filter, &tags, &n);
    for (size_t i = 0; i < n; i++) {
        FUZZ_ASSERT(tag_valid(tags[i]));
        for (size_t j = 0; j < i; j++)
            FUZZ_ASSERT(strcmp(tags[i], tags[j]) != 0);
        long at = layout_find_tag(ix, filter, tags[i]);
        FUZZ_ASSERT(at >= 0 && (size_t)at < ix->n);
        FUZZ_ASSERT(layout_ref_tag(ix->v[at].ref, filter, t) != 0 && strcmp(t, tags[i]) == 0);
    }
    strv_free(tags, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    struct layout_index ix;
    char *err = NULL;

    if (layout_marker_check(json, size, &err) < 0) {
        FUZZ_ASSERT(err);
        free(err);
        err = NULL;
    }
    if (layout_index_parse(json, size, &ix, &err) < 0) {
        FUZZ_ASSERT(err && ix.n == 0 && !ix.v);
        free(err);
        return 0;
    }
    FUZZ_ASSERT(ix.n <= LAYOUT_ENTRIES_MAX);
    for (size_t i = 0; i < ix.n; i++) {
        struct digest back;
        char s[DIGEST_STR_MAX];
        FUZZ_ASSERT(digest_parse(digest_str(&ix.v[i].digest, s), &back) == DIGEST_PARSE_OK);
        (void)layout_entry_is_index(&ix.v[i]);
    }
    fuzz_layout_tags(&ix, NULL);
    for (size_t i = 0; i < ix.n && i < FUZZ_LAYOUT_FILTERS; i++) {
        const char *ref = ix.v[i].ref;
        const char *colon = ref ? strrchr(ref, ':') : NULL;
        if (!colon || colon == ref)
            continue;
        /* the image name of "a/b:v1" is "a/b", and "b" asks for it too */
        char *filter = xstrndup(ref, (size_t)(colon - ref));
        fuzz_layout_tags(&ix, filter);
        const char *slash = strrchr(filter, '/');
        if (slash && slash[1])
            fuzz_layout_tags(&ix, slash + 1);
        free(filter);
    }
    layout_index_free(&ix);
    return 0;
}
