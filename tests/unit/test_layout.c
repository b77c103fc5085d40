/* layout: names that address OCI layouts on IPFS, index.json parsing of
 * untrusted input, and how ref.name annotations become tags. Plus the
 * layout cache's contract: misses on collisions, expiry, size bound. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/unit/unit.h"
#include "oci/layout.h"
#include "oci/layout_cache.h"
#include "core/names.h"
#include "core/xalloc.h"

#define D1 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define D2 "sha256:a3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

START_TEST(layout_names)
{
    struct layout_name n;
    ck_assert_int_eq(layout_name_parse("ipfs/bafyabc", &n), 1);
    ck_assert_int_eq(n.ns, LAYOUT_IPFS);
    ck_assert_str_eq(n.root, "bafyabc");
    ck_assert_str_eq(n.sub, "");
    layout_name_free(&n);
    ck_assert_int_eq(layout_name_parse("ipns/example.com/images/alpine", &n), 1);
    ck_assert_int_eq(n.ns, LAYOUT_IPNS);
    ck_assert_str_eq(n.root, "example.com");
    ck_assert_str_eq(n.sub, "images/alpine");
    layout_name_free(&n);
    ck_assert_int_eq(layout_name_parse("ipfsx/bafy", &n), 0);
    ck_assert_int_eq(layout_name_parse("library/ipfs/bafy", &n), 0);
    ck_assert_int_eq(layout_name_parse("ipfs", &n), 0);
    ck_assert_int_eq(layout_name_is_cidv0("ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"), 1);
    ck_assert_int_eq(layout_name_is_cidv0("ipfs/bafy"), 0);
}
END_TEST

START_TEST(layout_push_paths)
{
    const char *why = NULL;
    ck_assert_int_eq(layout_push_path_check("demo/app", &why), 0);
    ck_assert_int_eq(layout_push_path_check("a", &why), 0);
    ck_assert_int_eq(layout_push_path_check("a/docker", &why), 0);   /* only first is reserved */
    ck_assert_int_eq(layout_push_path_check("dockerx/a", &why), 0);
    ck_assert_int_eq(layout_push_path_check("", &why), -1);
    ck_assert_int_eq(layout_push_path_check("docker", &why), -1);
    ck_assert_int_eq(layout_push_path_check("docker/registry", &why), -1);
    ck_assert_int_eq(layout_push_path_check("a/blobs", &why), -1);
    ck_assert_int_eq(layout_push_path_check("a/blobs/sha256", &why), -1);
    ck_assert_int_eq(layout_push_path_check("index.json", &why), -1);
    ck_assert_int_eq(layout_push_path_check("a/oci-layout/b", &why), -1);
    ck_assert_int_eq(layout_push_path_check("a/../b", &why), -1);
    ck_assert_int_eq(layout_push_path_check("./a", &why), -1);
    ck_assert_int_eq(layout_push_path_check("a//b", &why), -1);
    ck_assert_int_eq(layout_push_path_check("a/", &why), -1);
    ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(layout_marker)
{
    char *err = NULL;
    ck_assert_int_eq(layout_marker_check("{\"imageLayoutVersion\": \"1.0.0\"}", 31, &err), 0);
    ck_assert_int_eq(layout_marker_check("{}", 2, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "imageLayoutVersion"));
    free(err);
    ck_assert_int_eq(layout_marker_check("{\"imageLayoutVersion\": \"2.0.0\"}", 31, &err), -1);
    free(err);
    ck_assert_int_eq(layout_marker_check("not json", 8, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "not JSON"));
    free(err);
}
END_TEST

static int layout_parse_str(const char *s, struct layout_index *ix, char **err)
{
    return layout_index_parse(s, strlen(s), ix, err);
}

START_TEST(layout_index)
{
    struct layout_index ix;
    char *err = NULL;
    ck_assert_int_eq(layout_parse_str("{\"schemaVersion\":2,\"manifests\":["
        "{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"" D1 "\",\"size\":10,"
        "\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}},"
        "{\"digest\":\"" D2 "\",\"size\":3}]}", &ix, &err), 0);
    ck_assert_uint_eq(ix.n, 2);
    ck_assert_str_eq(ix.v[0].ref, "v1");
    ck_assert_int_eq(layout_entry_is_index(&ix.v[0]), 1);
    ck_assert_ptr_null(ix.v[1].ref);
    ck_assert_int_eq(layout_entry_is_index(&ix.v[1]), 0);
    ck_assert_uint_eq(ix.v[1].size, 3);
    layout_index_free(&ix);

    ck_assert_int_eq(layout_parse_str("{\"schemaVersion\":2}", &ix, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "manifests"));
    free(err);
    ck_assert_int_eq(layout_parse_str("{\"manifests\":[{\"digest\":\"sha256:xyz\",\"size\":1}]}", &ix, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "manifests[0]"));
    free(err);
    ck_assert_int_eq(layout_parse_str("{\"manifests\":[{\"digest\":\"" D1 "\",\"size\":-1}]}", &ix, &err), -1);
    free(err);
    ck_assert_int_eq(layout_parse_str("[1,2]", &ix, &err), -1);
    free(err);
    ck_assert_int_eq(layout_index_parse("{\"manifests\":[", 14, &ix, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "not JSON"));
    free(err);
}
END_TEST

START_TEST(layout_refs)
{
    char t[TAG_MAX_LEN + 1];
    ck_assert_int_eq(layout_ref_tag("v1", NULL, t), 2);
    ck_assert_str_eq(t, "v1");
    ck_assert_int_eq(layout_ref_tag("3.19", NULL, t), 2);
    ck_assert_int_eq(layout_ref_tag("docker.io/library/alpine:3.19", NULL, t), 1);
    ck_assert_str_eq(t, "3.19");
    ck_assert_int_eq(layout_ref_tag("localhost:5000/x", NULL, t), 0);   /* a port is no tag */
    ck_assert_int_eq(layout_ref_tag("x@sha256:abc", NULL, t), 0);
    ck_assert_int_eq(layout_ref_tag("alpine:3.19", "alpine", t), 2);
    ck_assert_str_eq(t, "3.19");
    ck_assert_int_eq(layout_ref_tag("docker.io/library/alpine:3.19", "alpine", t), 1);
    ck_assert_int_eq(layout_ref_tag("libalpine:3.19", "alpine", t), 0);
    ck_assert_int_eq(layout_ref_tag("v1", "alpine", t), 0);
    ck_assert_int_eq(layout_ref_tag("", NULL, t), 0);
}
END_TEST

START_TEST(layout_tag_lookup)
{
    struct layout_index ix;
    char *err = NULL;
    ck_assert_int_eq(layout_parse_str("{\"manifests\":["
        "{\"digest\":\"" D1 "\",\"size\":1,\"annotations\":{\"org.opencontainers.image.ref.name\":\"docker.io/library/a:v1\"}},"
        "{\"digest\":\"" D2 "\",\"size\":1,\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}},"
        "{\"digest\":\"" D2 "\",\"size\":1,\"annotations\":{\"org.opencontainers.image.ref.name\":\"b:v2\"}}]}",
        &ix, &err), 0);
    ck_assert_int_eq(layout_find_tag(&ix, NULL, "v1"), 1);   /* exact beats the full reference */
    ck_assert_int_eq(layout_find_tag(&ix, "a", "v1"), 0);
    ck_assert_int_eq(layout_find_tag(&ix, "b", "v2"), 2);
    ck_assert_int_eq(layout_find_tag(&ix, "b", "v1"), -1);
    ck_assert_int_eq(layout_find_tag(&ix, NULL, "v3"), -1);
    char **tags = NULL;
    size_t n = 0;
    layout_tags(&ix, NULL, &tags, &n);
    ck_assert_uint_eq(n, 2);   /* v1 once, v2 */
    strv_free(tags, n);
    tags = NULL;
    n = 0;
    layout_tags(&ix, "b", &tags, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(tags[0], "v2");
    strv_free(tags, n);
    layout_index_free(&ix);
}
END_TEST

START_TEST(layout_cache_contract)
{
    char dir[] = "/tmp/layout-cache-test.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *sub = xasprintf("%s/a/b", dir);   /* created on first write */
    struct layout_cache *c = layout_cache_new(sub);
    struct buf b;
    buf_init(&b, LAYOUT_CACHE_VALUE_MAX);
    ck_assert_int_eq(layout_cache_get(c, "k1", &b), 0);
    layout_cache_put(c, "k1", "hello", 5, 0);
    ck_assert_int_eq(layout_cache_get(c, "k1", &b), 1);
    ck_assert_str_eq(buf_cstr(&b), "hello");
    buf_reset(&b);
    layout_cache_put(c, "k2", "old", 3, time(NULL) - 1);   /* already expired */
    ck_assert_int_eq(layout_cache_get(c, "k2", &b), 0);
    char *big = xcalloc(1, LAYOUT_CACHE_VALUE_MAX + 1);
    layout_cache_put(c, "k3", big, LAYOUT_CACHE_VALUE_MAX + 1, 0);   /* over the bound: not kept */
    ck_assert_int_eq(layout_cache_get(c, "k3", &b), 0);
    free(big);
    /* a key that is not the slot's reads as a miss even when it hashes there */
    ck_assert_int_eq(layout_cache_get(c, "k1x", &b), 0);
    ck_assert_int_eq(layout_cache_get(c, "line\nbreak", &b), 0);
    buf_free(&b);
    layout_cache_free(c);
    char *cmd = xasprintf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(sub);
}
END_TEST

Suite *suite_layout(void)
{
    Suite *s = suite_create("layout");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, layout_names);
    tcase_add_test(tc, layout_push_paths);
    tcase_add_test(tc, layout_marker);
    tcase_add_test(tc, layout_index);
    tcase_add_test(tc, layout_refs);
    tcase_add_test(tc, layout_tag_lookup);
    tcase_add_test(tc, layout_cache_contract);
    suite_add_tcase(s, tc);
    return s;
}
