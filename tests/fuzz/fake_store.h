/* fake_store: a struct store held in memory, for driving core/registry in a
 * fuzzer with no Kubo. It behaves like a correct backend (content is kept
 * and served by CID, blobs and manifests are linked per repository, tags,
 * referrers, uploads in chunks) with small fixed capacities: when one is
 * full an operation answers STORE_ERROR, which the handlers must take too.
 *
 * fake_store_reset() forgets everything and loads the preset below, so every
 * fuzz input starts from the same store. */
#ifndef TESTS_FUZZ_FAKE_STORE_H
#define TESTS_FUZZ_FAKE_STORE_H
#include "core/store.h"

/* The preset: repository "library/hello" holds the config blob "{}", the
 * layer "hello\n", the image manifest FAKE_MANIFEST (tag "latest") and the
 * artifact FAKE_REFERRER whose subject it is (tag "sig"). Seeds in
 * tests/fuzz/corpus/fuzz_request/ name them by digest. */
#define FAKE_REPO "library/hello"
#define FAKE_CONFIG "{}"
#define FAKE_LAYER "hello\n"
#define FAKE_MANIFEST \
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," \
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\"," \
    "\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"size\":2}," \
    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\"," \
    "\"digest\":\"sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\",\"size\":6}]}"
/* its subject is filled in with FAKE_MANIFEST's digest at reset */
#define FAKE_REFERRER_FMT \
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," \
    "\"artifactType\":\"application/vnd.example.sig\"," \
    "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\"," \
    "\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"size\":2}," \
    "\"layers\":[],\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," \
    "\"digest\":\"%s\",\"size\":%zu}}"

/* The one fake store (its ops and impl). */
struct store *fake_store(void);
/* Forgets everything written since and loads the preset. */
void fake_store_reset(void);
/* Frees everything (at exit, so leak checks see a clean process). */
void fake_store_free(void);

#endif
