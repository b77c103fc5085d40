/* Unit tests for oci/manifest.c: the manifests the OCI conformance suite
 * pushes are accepted, and malformed ones are refused with a useful message. */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "oci/manifest.h"
#include "core/xalloc.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"
/* sha256 of "{}", the empty descriptor's content */
#define D_EMPTY "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#define D512 "sha512:" \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

#define CONFIG_OCI "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D1 "\",\"size\":123}"
#define LAYER_GZ(d) "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" d "\",\"size\":456}"
#define EMPTY_CONFIG "{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" D_EMPTY "\",\"size\":2}"

static const char OCI_IMAGE[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"config\":" CONFIG_OCI ",\"layers\":[" LAYER_GZ(D2) "," LAYER_GZ(D3) "],"
    "\"annotations\":{\"org.example.a\":\"b\"}}";

static int parse_ok(const char *json, const char *ct, struct manifest *m)
{
    char *err = NULL;
    int rc = manifest_parse(json, strlen(json), ct, m, &err);
    if (rc != 0)
        ck_abort_msg("expected valid, got: %s\n%s", err ? err : "(no message)", json);
    ck_assert_ptr_null(err);
    return rc;
}

/* Asserts json is refused and the message contains want. */
static void parse_bad_len(const char *json, size_t len, const char *ct, const char *want)
{
    struct manifest m;
    char *err = NULL;
    int rc = manifest_parse(json, len, ct, &m, &err);
    ck_assert_msg(rc == -1, "expected invalid: %s", json);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
    ck_assert_ptr_null(m.root);
    free(err);
}

static void parse_bad(const char *json, const char *ct, const char *want)
{
    parse_bad_len(json, strlen(json), ct, want);
}

START_TEST(test_oci_image)
{
    struct manifest m;
    parse_ok(OCI_IMAGE, MT_OCI_MANIFEST "; charset=utf-8", &m);
    ck_assert_int_eq(m.kind, MANIFEST_IMAGE);
    ck_assert_str_eq(m.media_type, MT_OCI_MANIFEST);
    ck_assert_int_eq(m.has_config, 1);
    ck_assert_str_eq(m.config.media_type, "application/vnd.oci.image.config.v1+json");
    ck_assert_int_eq(m.config.size, 123);
    char ds[DIGEST_STR_MAX];
    ck_assert_str_eq(digest_str(&m.config.digest, ds), D1);
    ck_assert_uint_eq(m.nblobs, 2);
    ck_assert_str_eq(digest_str(&m.blobs[1].digest, ds), D3);
    ck_assert_int_eq(m.blobs[0].skip_check, 0);
    ck_assert_uint_eq(m.nchildren, 0);
    ck_assert_int_eq(m.has_subject, 0);
    /* the referrers API's rule: no artifactType means config.mediaType */
    ck_assert_str_eq(m.artifact_type, "application/vnd.oci.image.config.v1+json");
    manifest_free(&m);
    ck_assert_ptr_null(m.root);
    manifest_free(&m);   /* twice is harmless */
}
END_TEST

START_TEST(test_oci_index)
{
    const char *json =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D1 "\",\"size\":7,"
        "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
        "{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"" D2 "\",\"size\":8}]}";
    struct manifest m;
    parse_ok(json, MT_OCI_INDEX, &m);
    ck_assert_int_eq(m.kind, MANIFEST_INDEX);
    ck_assert_str_eq(m.media_type, MT_OCI_INDEX);
    ck_assert_uint_eq(m.nchildren, 2);
    ck_assert_str_eq(m.children[1].media_type, MT_OCI_INDEX);
    ck_assert_int_eq(m.children[1].size, 8);
    ck_assert_int_eq(m.has_config, 0);
    ck_assert_uint_eq(m.nblobs, 0);
    ck_assert_ptr_null(m.artifact_type);
    manifest_free(&m);

    /* the conformance suite's empty index */
    parse_ok("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}",
             MT_OCI_INDEX, &m);
    ck_assert_uint_eq(m.nchildren, 0);
    manifest_free(&m);
}
END_TEST

START_TEST(test_docker_v2_and_list)
{
    const char *v2 =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
        "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":1469,"
        "\"digest\":\"" D1 "\"},\"layers\":[{\"mediaType\":"
        "\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":2479,\"digest\":\"" D2 "\"},"
        "{\"mediaType\":\"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\",\"size\":99,"
        "\"digest\":\"" D3 "\",\"urls\":[\"https://example.com/l\"]}]}";
    struct manifest m;
    parse_ok(v2, MT_DOCKER_V2, &m);
    ck_assert_int_eq(m.kind, MANIFEST_IMAGE);
    ck_assert_str_eq(m.media_type, MT_DOCKER_V2);
    ck_assert_uint_eq(m.nblobs, 2);
    ck_assert_int_eq(m.blobs[0].skip_check, 0);
    ck_assert_int_eq(m.blobs[1].skip_check, 1);
    manifest_free(&m);

    const char *list =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
        "\"manifests\":[{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"size\":528,"
        "\"digest\":\"" D1 "\",\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}}]}";
    parse_ok(list, MT_DOCKER_LIST, &m);
    ck_assert_int_eq(m.kind, MANIFEST_INDEX);
    ck_assert_str_eq(m.media_type, MT_DOCKER_LIST);
    ck_assert_uint_eq(m.nchildren, 1);
    manifest_free(&m);
    /* without Content-Type, the field decides */
    parse_ok(list, NULL, &m);
    ck_assert_str_eq(m.media_type, MT_DOCKER_LIST);
    manifest_free(&m);
}
END_TEST

START_TEST(test_artifacts)
{
    /* the conformance suite's "Artifact": artifactType, empty config, one custom layer */
    const char *art =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"artifactType\":\"application/vnd.example.oci.conformance.v1\",\"config\":" EMPTY_CONFIG ","
        "\"layers\":[{\"mediaType\":\"application/vnd.example.oci.conformance.v1\",\"digest\":\"" D2 "\","
        "\"size\":2048}]}";
    struct manifest m;
    parse_ok(art, MT_OCI_MANIFEST, &m);
    ck_assert_str_eq(m.artifact_type, "application/vnd.example.oci.conformance.v1");
    ck_assert_str_eq(m.config.media_type, MT_OCI_EMPTY);
    ck_assert_uint_eq(m.nblobs, 1);
    manifest_free(&m);

    /* "Artifact without Layers": the layer is the empty descriptor too */
    const char *nolayers =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"artifactType\":\"application/vnd.example.oci.conformance.v1\",\"config\":" EMPTY_CONFIG ","
        "\"layers\":[" EMPTY_CONFIG "]}";
    parse_ok(nolayers, MT_OCI_MANIFEST, &m);
    ck_assert_uint_eq(m.nblobs, 1);
    manifest_free(&m);

    /* image with no layers at all: accepted (image-spec says SHOULD have one) */
    parse_ok("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
             "\"config\":" CONFIG_OCI ",\"layers\":[]}", MT_OCI_MANIFEST, &m);
    ck_assert_uint_eq(m.nblobs, 0);
    manifest_free(&m);

    /* an empty artifactType counts as absent */
    parse_ok("{\"schemaVersion\":2,\"artifactType\":\"\",\"config\":" EMPTY_CONFIG "}", NULL, &m);
    ck_assert_str_eq(m.artifact_type, MT_OCI_EMPTY);
    manifest_free(&m);
}
END_TEST

START_TEST(test_data_field)
{
    /* "e30=" is base64 of "{}" */
    const char *json =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" D_EMPTY "\","
        "\"size\":2,\"data\":\"e30=\"},\"layers\":[]}";
    struct manifest m;
    parse_ok(json, MT_OCI_MANIFEST, &m);
    manifest_free(&m);

    /* padding variants decode right: "YQ==" "a", "YWI=" "ab", "YWJj" "abc" */
    struct digest d;
    char ds[DIGEST_STR_MAX];
    static const char *const raw[] = { "", "a", "ab", "abc", "abcd" };
    static const char *const b64[] = { "", "YQ==", "YWI=", "YWJj", "YWJjZA==" };
    for (size_t i = 0; i < 5; i++) {
        digest_of(DIGEST_SHA256, raw[i], strlen(raw[i]), &d);
        char *j = xasprintf("{\"config\":{\"mediaType\":\"a/b\",\"digest\":\"%s\",\"size\":%zu,\"data\":\"%s\"}}",
                            digest_str(&d, ds), strlen(raw[i]), b64[i]);
        parse_ok(j, NULL, &m);
        manifest_free(&m);
        free(j);
    }

    parse_bad("{\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D_EMPTY "\",\"size\":2,\"data\":\"e3x=\"}}",
              NULL, "config.data: does not match digest");
    parse_bad("{\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D_EMPTY "\",\"size\":3,\"data\":\"e30=\"}}",
              NULL, "config.data: 2 bytes, size says 3");
    parse_bad("{\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D_EMPTY "\",\"size\":2,\"data\":\"e30\"}}",
              NULL, "config.data: invalid base64");
    parse_bad("{\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D_EMPTY "\",\"size\":2,\"data\":\"e=0=\"}}",
              NULL, "config.data: invalid base64");
}
END_TEST

START_TEST(test_subject_and_referrer)
{
    const char *json =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"artifactType\":\"application/vnd.example.sbom\",\"config\":" EMPTY_CONFIG ",\"layers\":[],"
        "\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D3 "\","
        "\"size\":123},\"annotations\":{\"org.opencontainers.conformance\":\"hello\",\"x\":\"y\"}}";
    struct manifest m;
    parse_ok(json, MT_OCI_MANIFEST, &m);
    ck_assert_int_eq(m.has_subject, 1);
    char ds[DIGEST_STR_MAX];
    ck_assert_str_eq(digest_str(&m.subject, ds), D3);

    struct digest self;
    digest_of(DIGEST_SHA256, json, strlen(json), &self);
    json_object *r = manifest_referrer_descriptor(&m, &self, strlen(json));
    manifest_free(&m);   /* the descriptor must not borrow from the manifest */
    json_object *v;
    ck_assert(json_object_object_get_ex(r, "mediaType", &v));
    ck_assert_str_eq(json_object_get_string(v), MT_OCI_MANIFEST);
    ck_assert(json_object_object_get_ex(r, "digest", &v));
    ck_assert_str_eq(json_object_get_string(v), digest_str(&self, ds));
    ck_assert(json_object_object_get_ex(r, "size", &v));
    ck_assert_int_eq(json_object_get_int64(v), (int64_t)strlen(json));
    ck_assert(json_object_object_get_ex(r, "artifactType", &v));
    ck_assert_str_eq(json_object_get_string(v), "application/vnd.example.sbom");
    ck_assert(json_object_object_get_ex(r, "annotations", &v));
    ck_assert(json_object_object_get_ex(v, "x", &v));
    ck_assert_str_eq(json_object_get_string(v), "y");
    json_object_put(r);

    /* an index with a subject and no artifactType: the key is omitted, as are annotations */
    const char *idx =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[],"
        "\"subject\":{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"" D1 "\","
        "\"size\":9}}";
    parse_ok(idx, MT_OCI_INDEX, &m);
    ck_assert_int_eq(m.has_subject, 1);
    r = manifest_referrer_descriptor(&m, &self, 10);
    ck_assert(!json_object_object_get_ex(r, "artifactType", NULL));
    ck_assert(!json_object_object_get_ex(r, "annotations", NULL));
    ck_assert(json_object_object_get_ex(r, "mediaType", &v));
    ck_assert_str_eq(json_object_get_string(v), MT_OCI_INDEX);
    json_object_put(r);
    manifest_free(&m);

    parse_bad("{\"schemaVersion\":2,\"config\":" CONFIG_OCI ",\"subject\":{\"mediaType\":\"a/b\","
              "\"digest\":\"sha256:zz\",\"size\":1}}", NULL, "subject.digest: invalid digest");
}
END_TEST

START_TEST(test_nondistributable_and_urls)
{
    /* the conformance suite's non-distributable image */
    const char *json =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":" CONFIG_OCI ","
        "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip\","
        "\"digest\":\"" D1 "\",\"size\":123456,\"urls\":[\"https://store.example.com/blobs/sha256/1\"]},"
        "{\"mediaType\":\"application/vnd.oci.image.layer.nondistributable.v1.tar\",\"digest\":\"" D2 "\","
        "\"size\":12345},"
        "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" D3 "\",\"size\":1,"
        "\"urls\":[\"https://example.com/x\"]},"
        "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" D3 "\",\"size\":1,"
        "\"urls\":[]}," LAYER_GZ(D2) "]}";
    struct manifest m;
    parse_ok(json, MT_OCI_MANIFEST, &m);
    ck_assert_uint_eq(m.nblobs, 5);
    ck_assert_int_eq(m.blobs[0].skip_check, 1);
    ck_assert_int_eq(m.blobs[1].skip_check, 1);   /* by media type alone */
    ck_assert_int_eq(m.blobs[2].skip_check, 1);   /* by urls alone */
    ck_assert_int_eq(m.blobs[3].skip_check, 0);   /* empty urls */
    ck_assert_int_eq(m.blobs[4].skip_check, 0);
    manifest_free(&m);

    parse_bad("{\"config\":" CONFIG_OCI ",\"layers\":[{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\","
              "\"size\":1,\"urls\":[3]}]}", NULL, "layers[0].urls[0]: must be a string");
}
END_TEST

START_TEST(test_sha512)
{
    const char *json =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D512 "\",\"size\":5},"
        "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" D512 "\","
        "\"size\":6}]}";
    struct manifest m;
    parse_ok(json, MT_OCI_MANIFEST, &m);
    ck_assert_int_eq(m.config.digest.alg, DIGEST_SHA512);
    ck_assert_int_eq(m.blobs[0].digest.alg, DIGEST_SHA512);
    manifest_free(&m);

    const char *idx =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D512 "\",\"size\":7}]}";
    parse_ok(idx, MT_OCI_INDEX, &m);
    ck_assert_int_eq(m.children[0].digest.alg, DIGEST_SHA512);
    manifest_free(&m);
}
END_TEST

START_TEST(test_kind_guess)
{
    struct manifest m;
    /* no field and no Content-Type: by shape */
    parse_ok("{\"schemaVersion\":2,\"config\":" CONFIG_OCI ",\"layers\":[]}", NULL, &m);
    ck_assert_int_eq(m.kind, MANIFEST_IMAGE);
    ck_assert_str_eq(m.media_type, MT_OCI_MANIFEST);
    manifest_free(&m);
    parse_ok("{\"schemaVersion\":2,\"manifests\":[]}", "", &m);
    ck_assert_int_eq(m.kind, MANIFEST_INDEX);
    ck_assert_str_eq(m.media_type, MT_OCI_INDEX);
    manifest_free(&m);
    /* an unknown Content-Type without a field: by shape too */
    parse_ok("{\"schemaVersion\":2,\"manifests\":[]}", "application/json", &m);
    ck_assert_str_eq(m.media_type, MT_OCI_INDEX);
    manifest_free(&m);
    /* a known Content-Type without a field decides */
    parse_ok("{\"schemaVersion\":2,\"config\":" CONFIG_OCI "}", " Application/VND.oci.image.manifest.v1+json ", &m);
    ck_assert_str_eq(m.media_type, MT_OCI_MANIFEST);
    manifest_free(&m);
    /* trailing blanks are fine; null optional fields are absent */
    parse_ok("{\"schemaVersion\":2,\"config\":" CONFIG_OCI ",\"layers\":null,\"annotations\":null}\r\n  ", NULL, &m);
    manifest_free(&m);

    parse_bad("{\"schemaVersion\":2,\"config\":" CONFIG_OCI "}", MT_OCI_INDEX, "manifests: missing");
    parse_bad("{\"schemaVersion\":2,\"manifests\":[]}", MT_OCI_MANIFEST, "config: missing");
    parse_bad("{\"schemaVersion\":2,\"manifests\":[],\"config\":" CONFIG_OCI "}", NULL, "ambiguous");
    parse_bad("{\"schemaVersion\":2,\"config\":" CONFIG_OCI "}", MT_DOCKER_V2, "mediaType: missing");
}
END_TEST

START_TEST(test_sniff)
{
    char *s = manifest_sniff_media_type(OCI_IMAGE, strlen(OCI_IMAGE));
    ck_assert_str_eq(s, MT_OCI_MANIFEST);
    free(s);
    const char *list = "{\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\",\"manifests\":[]}";
    s = manifest_sniff_media_type(list, strlen(list));
    ck_assert_str_eq(s, MT_DOCKER_LIST);
    free(s);
    s = manifest_sniff_media_type("{\"manifests\":[]}", 16);
    ck_assert_str_eq(s, MT_OCI_INDEX);
    free(s);
    s = manifest_sniff_media_type("not json", 8);
    ck_assert_str_eq(s, MT_OCI_MANIFEST);
    free(s);
    /* a mediaType that would inject a header is never echoed */
    const char *evil = "{\"mediaType\":\"a/b\\r\\nSet-Cookie: x\",\"manifests\":[]}";
    s = manifest_sniff_media_type(evil, strlen(evil));
    ck_assert_str_eq(s, MT_OCI_INDEX);
    free(s);
}
END_TEST

START_TEST(test_invalid_json)
{
    parse_bad("", NULL, "not JSON");
    parse_bad("{\"schemaVersion\":2", NULL, "not JSON");
    parse_bad("nope", NULL, "not JSON");
    parse_bad("[]", NULL, "must be a JSON object");
    parse_bad("2", NULL, "not JSON");
    parse_bad("\"x\"", NULL, "must be a JSON object");
    parse_bad("{\"schemaVersion\":2,\"config\":" CONFIG_OCI "} x", NULL, "not JSON: trailing data");
    parse_bad("{\"schemaVersion\":2,\"config\":" CONFIG_OCI "}{}", NULL, "not JSON: trailing data");
    parse_bad("{\"schemaVersion\":2,\"manifests\":[],}", NULL, "not JSON");   /* strict: trailing comma */
    parse_bad("{'schemaVersion':2}", NULL, "not JSON");
    parse_bad("{\"a\":\"\xff\xfe\",\"manifests\":[]}", NULL, "not JSON");   /* not UTF-8 */
    parse_bad_len("{\"manifests\":[]}\0", 17, NULL, "NUL");
    parse_bad("{\"a\":\"x\ty\",\"manifests\":[]}", NULL, "not JSON: control character");
    parse_bad("{\"a\":\"\\x\",\"manifests\":[]}", NULL, "not JSON: bad escape");
    parse_bad("{\"a\":\"\\u12g4\",\"manifests\":[]}", NULL, "not JSON: bad \\u escape");
    parse_bad("{\"a\":012,\"manifests\":[]}", NULL, "not JSON");
    parse_bad("{\"a\":1.,\"manifests\":[]}", NULL, "not JSON: bad number");
    parse_bad("{\"a\":NaN,\"manifests\":[]}", NULL, "not JSON");
    parse_bad("{\"a\" 1,\"manifests\":[]}", NULL, "not JSON: expected ':'");
    parse_bad("{\"manifests\":[] \"b\":1}", NULL, "not JSON: expected ','");
    /* deep nesting is refused without recursing without bound */
    char deep[300];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    parse_bad(deep, NULL, "not JSON: nested too deeply");
}
END_TEST

START_TEST(test_json_grammar_ok)
{
    struct manifest m;
    /* everything RFC 8259 allows, in places the manifest rules ignore */
    parse_ok(" \t\r\n{ \"manifests\" : [ ] , \"x\" : [ true , false , null , -0 , 1.5e+3 , 2E-2 , 0.25 ,"
             " \"\\u00e9\\n\\\"\\/\\\\\" , \"\xc3\xa9\" , { } , [ [ ] ] ] , \"schemaVersion\" : 2 } ", NULL, &m);
    ck_assert_int_eq(m.kind, MANIFEST_INDEX);
    manifest_free(&m);
}
END_TEST

START_TEST(test_invalid_fields)
{
    parse_bad("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"layers\":[]}",
              MT_OCI_MANIFEST, "config: missing");
    parse_bad("{\"schemaVersion\":2,\"config\":" CONFIG_OCI ",\"layers\":[" LAYER_GZ(D2) ","
              "{\"mediaType\":\"a/b\",\"digest\":\"sha256:abc\",\"size\":1}]}", NULL,
              "layers[1].digest: invalid digest");
    parse_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"md5:d41d8cd98f00b204e9800998ecf8427e\","
              "\"size\":1}}", NULL, "config.digest: unsupported digest algorithm");
    parse_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\",\"size\":-1}}", NULL,
              "config.size");
    parse_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\",\"size\":1.5}}", NULL,
              "config.size: must be an integer");
    parse_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\",\"size\":\"1\"}}", NULL,
              "config.size: must be an integer");
    parse_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\","
              "\"size\":99999999999999999999999}}", NULL, "config.size");
    parse_bad("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1}}", NULL, "config.mediaType: missing");
    parse_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"nonsense\",\"digest\":\"" D1 "\",\"size\":1}}", NULL,
              "config.mediaType: invalid media type");
    parse_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"size\":1}}", NULL, "config.digest: missing");
    parse_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\"}}", NULL,
              "config.size: missing");
    parse_bad("{\"schemaVersion\":2,\"config\":[]}", NULL, "config: must be a descriptor");
    parse_bad("{\"schemaVersion\":2,\"config\":" CONFIG_OCI ",\"layers\":{}}", NULL, "layers: must be an array");
    parse_bad("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\",\"size\":1,"
              "\"platform\":{\"os\":\"linux\"}}]}", NULL, "manifests[0].platform.architecture");
    parse_bad("{\"schemaVersion\":2,\"config\":" CONFIG_OCI ",\"annotations\":{\"a\":1}}", NULL,
              "annotations.a: must be a string");
    parse_bad("{\"schemaVersion\":2,\"config\":" CONFIG_OCI ",\"artifactType\":\"bad type\"}", NULL,
              "artifactType: invalid media type");
}
END_TEST

START_TEST(test_invalid_types_and_versions)
{
    /* the field and Content-Type must agree */
    parse_bad(OCI_IMAGE, MT_OCI_INDEX, "does not match Content-Type");
    parse_bad(OCI_IMAGE, "application/json", "does not match Content-Type");
    parse_bad("{\"schemaVersion\":1,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":"
              CONFIG_OCI "}", MT_OCI_MANIFEST, "schemaVersion: must be 2");
    parse_bad("{\"schemaVersion\":\"2\",\"config\":" CONFIG_OCI "}", NULL, "schemaVersion: must be 2");
    parse_bad("{\"schemaVersion\":2.0,\"config\":" CONFIG_OCI "}", NULL, "schemaVersion: must be 2");
    /* Docker manifests must carry schemaVersion */
    parse_bad("{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"config\":" CONFIG_OCI "}",
              NULL, "schemaVersion: missing");
    /* schema 1 and the withdrawn OCI artifact manifest are not supported */
    parse_bad("{\"schemaVersion\":1,\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+prettyjws\"}",
              NULL, "unsupported manifest type");
    parse_bad("{\"mediaType\":\"application/vnd.oci.artifact.manifest.v1+json\",\"blobs\":[]}", NULL,
              "unsupported manifest type");
    parse_bad("{\"schemaVersion\":2,\"mediaType\":7,\"config\":" CONFIG_OCI "}", NULL, "mediaType: must be a string");
}
END_TEST

Suite *suite_manifest(void)
{
    Suite *s = suite_create("manifest");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_oci_image);
    tcase_add_test(tc, test_oci_index);
    tcase_add_test(tc, test_docker_v2_and_list);
    tcase_add_test(tc, test_artifacts);
    tcase_add_test(tc, test_data_field);
    tcase_add_test(tc, test_subject_and_referrer);
    tcase_add_test(tc, test_nondistributable_and_urls);
    tcase_add_test(tc, test_sha512);
    tcase_add_test(tc, test_kind_guess);
    tcase_add_test(tc, test_sniff);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, test_invalid_json);
    tcase_add_test(tc, test_json_grammar_ok);
    tcase_add_test(tc, test_invalid_fields);
    tcase_add_test(tc, test_invalid_types_and_versions);
    suite_add_tcase(s, tc);
    return s;
}
