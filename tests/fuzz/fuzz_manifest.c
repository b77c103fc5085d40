/* fuzz_manifest: manifest_parse() of pushed manifests and indexes. The input
 * is "<Content-Type>\n<body>": an empty first line sends no Content-Type, a
 * single digit picks one of the types below (so mutations switch between
 * them cheaply), anything else is sent as it is. Beyond not crashing:
 * - an accepted manifest is served (manifest_sniff_media_type, from the
 *   stored bytes) with the type it was validated as, and pushing it again
 *   with that type is accepted as the same kind (GHSA-mc8v-mgrf-8f4m);
 * - its parts fit its kind, and its referrers descriptor is valid JSON. */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "tests/fuzz/fuzz.h"
#include "core/digest.h"
#include "oci/manifest.h"

static const char *const fuzz_manifest_types[] = {
    MT_OCI_MANIFEST, MT_OCI_INDEX, MT_DOCKER_V2, MT_DOCKER_LIST,
    "application/json", "application/vnd.oci.image.manifest.v1+json; charset=utf-8",
    "application/vnd.oci.artifact.manifest.v1+json", "APPLICATION/VND.OCI.IMAGE.INDEX.V1+JSON",
};

static const char *fuzz_manifest_ct(const char *line)
{
    if (!line || !*line)
        return NULL;
    if (line[0] >= '0' && line[0] <= '9' && !line[1]) {
        size_t i = (size_t)(line[0] - '0');
        if (i < sizeof fuzz_manifest_types / sizeof fuzz_manifest_types[0])
            return fuzz_manifest_types[i];
    }
    return line;
}

static int fuzz_manifest_known(const char *mt)
{
    for (size_t i = 0; i < 4; i++)
        if (strcmp(mt, fuzz_manifest_types[i]) == 0)
            return 1;
    return 0;
}

static void fuzz_manifest_descriptor(const struct descriptor *d)
{
    char s[DIGEST_STR_MAX];
    struct digest back;
    FUZZ_ASSERT(d->size >= 0);
    FUZZ_ASSERT(digest_parse(digest_str(&d->digest, s), &back) == DIGEST_PARSE_OK);
}

static void fuzz_manifest_accepted(const struct manifest *m, const char *body, size_t len)
{
    FUZZ_ASSERT(m->root && json_object_is_type(m->root, json_type_object));
    FUZZ_ASSERT(m->media_type && fuzz_manifest_known(m->media_type));
    if (m->kind == MANIFEST_INDEX) {
        FUZZ_ASSERT(!m->has_config && m->nblobs == 0 && !m->blobs);
    } else {
        FUZZ_ASSERT(m->kind == MANIFEST_IMAGE && m->has_config && m->nchildren == 0);
        fuzz_manifest_descriptor(&m->config);
    }
    for (size_t i = 0; i < m->nblobs; i++)
        fuzz_manifest_descriptor(&m->blobs[i]);
    for (size_t i = 0; i < m->nchildren; i++)
        fuzz_manifest_descriptor(&m->children[i]);

    char *served = manifest_sniff_media_type(body, len);
    FUZZ_ASSERT(strcmp(served, m->media_type) == 0);
    struct manifest again;
    char *err = NULL;
    FUZZ_ASSERT(manifest_parse(body, len, served, &again, &err) == 0);
    FUZZ_ASSERT(again.kind == m->kind && strcmp(again.media_type, m->media_type) == 0);
    manifest_free(&again);
    free(served);

    struct digest d;
    digest_of(DIGEST_SHA256, body, len, &d);
    json_object *desc = manifest_referrer_descriptor(m, &d, len);
    json_object *back = json_tokener_parse(json_object_to_json_string(desc));
    FUZZ_ASSERT(back && json_object_is_type(back, json_type_object));
    json_object_put(back);
    json_object_put(desc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    char *line = fuzz_line(&in);
    const char *body = (const char *)in.p;
    struct manifest m;
    char *err = NULL;

    if (manifest_parse(body, in.n, fuzz_manifest_ct(line), &m, &err) == 0) {
        FUZZ_ASSERT(!err);
        fuzz_manifest_accepted(&m, body, in.n);
        manifest_free(&m);
    } else {
        FUZZ_ASSERT(err && *err);
        free(err);
        /* what a GET of such stored bytes would answer */
        free(manifest_sniff_media_type(body, in.n));
    }
    free(line);
    return 0;
}
