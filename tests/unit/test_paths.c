/* paths: the storage layout must be byte-for-byte distribution's, since
 * roots published by the original Go project are read with these paths. */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "oci/paths.h"

#define HEX256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HEX512 "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce" \
               "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
#define V2 "/reg/docker/registry/v2"

static struct digest paths_d256(void)
{
    struct digest d;
    ck_assert_int_eq(digest_parse("sha256:" HEX256, &d), DIGEST_PARSE_OK);
    return d;
}

static struct digest paths_d512(void)
{
    struct digest d;
    ck_assert_int_eq(digest_parse("sha512:" HEX512, &d), DIGEST_PARSE_OK);
    return d;
}

/* compares and frees, so each check stays one line */
static void paths_eq(char *got, const char *want)
{
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(test_paths_blob_data)
{
    struct digest a = paths_d256(), b = paths_d512();
    paths_eq(path_blob_data("/reg", &a), V2 "/blobs/sha256/e3/" HEX256 "/data");
    paths_eq(path_blob_data("/reg", &b), V2 "/blobs/sha512/cf/" HEX512 "/data");
}
END_TEST

START_TEST(test_paths_root_slashes)
{
    struct digest a = paths_d256();
    paths_eq(path_v2("/reg"), V2);
    paths_eq(path_v2("/reg/"), V2);
    paths_eq(path_v2("/"), "/docker/registry/v2");
    paths_eq(path_blob_data("/", &a), "/docker/registry/v2/blobs/sha256/e3/" HEX256 "/data");
    paths_eq(path_repositories("/a/b//"), "/a/b/docker/registry/v2/repositories");
}
END_TEST

START_TEST(test_paths_repo)
{
    struct digest a = paths_d256(), b = paths_d512();
    paths_eq(path_repositories("/reg"), V2 "/repositories");
    paths_eq(path_repo("/reg", "alpine"), V2 "/repositories/alpine");
    paths_eq(path_repo("/reg", "a/b/c"), V2 "/repositories/a/b/c");
    paths_eq(path_layer_link("/reg", "a/b", &a), V2 "/repositories/a/b/_layers/sha256/" HEX256 "/link");
    paths_eq(path_layer_link("/reg", "x", &b), V2 "/repositories/x/_layers/sha512/" HEX512 "/link");
    paths_eq(path_revision_link("/reg", "a/b/c", &a),
             V2 "/repositories/a/b/c/_manifests/revisions/sha256/" HEX256 "/link");
    paths_eq(path_revision_link("/reg", "x", &b),
             V2 "/repositories/x/_manifests/revisions/sha512/" HEX512 "/link");
    paths_eq(path_revisions_dir("/reg", "a/b"), V2 "/repositories/a/b/_manifests/revisions");
}
END_TEST

START_TEST(test_paths_tags)
{
    struct digest a = paths_d256(), b = paths_d512();
    paths_eq(path_tags_dir("/reg", "a/b"), V2 "/repositories/a/b/_manifests/tags");
    paths_eq(path_tag_dir("/reg", "a/b", "v1.0_rc-1"), V2 "/repositories/a/b/_manifests/tags/v1.0_rc-1");
    paths_eq(path_tag_current_link("/reg", "a/b", "latest"),
             V2 "/repositories/a/b/_manifests/tags/latest/current/link");
    paths_eq(path_tag_index_link("/reg", "a", "latest", &a),
             V2 "/repositories/a/_manifests/tags/latest/index/sha256/" HEX256 "/link");
    paths_eq(path_tag_index_link("/reg", "a/b/c", "V2", &b),
             V2 "/repositories/a/b/c/_manifests/tags/V2/index/sha512/" HEX512 "/link");
}
END_TEST

START_TEST(test_paths_referrers)
{
    struct digest a = paths_d256(), b = paths_d512();
    paths_eq(path_referrers_dir("/reg", "a/b", &a), V2 "/repositories/a/b/_referrers/sha256/" HEX256);
    paths_eq(path_referrer_link("/reg", "a/b", &a, &b),
             V2 "/repositories/a/b/_referrers/sha256/" HEX256 "/sha512/" HEX512 "/link");
    paths_eq(path_referrer_link("/reg", "x", &b, &a),
             V2 "/repositories/x/_referrers/sha512/" HEX512 "/sha256/" HEX256 "/link");
}
END_TEST

START_TEST(test_paths_uploads)
{
    const char *id = "0123456789abcdef0123456789abcdef";
    paths_eq(path_upload_dir("/uploads", id), "/uploads/0123456789abcdef0123456789abcdef");
    paths_eq(path_upload_dir("/uploads/", id), "/uploads/0123456789abcdef0123456789abcdef");
    paths_eq(path_upload_chunk("/uploads", id, 0), "/uploads/0123456789abcdef0123456789abcdef/0");
    paths_eq(path_upload_chunk("/up", id, 4294967295u), "/up/0123456789abcdef0123456789abcdef/4294967295");
}
END_TEST

START_TEST(test_paths_link_content)
{
    struct digest a = paths_d256(), b = paths_d512();
    /* no trailing newline: distribution writes the bare digest */
    paths_eq(link_content(&a), "sha256:" HEX256);
    paths_eq(link_content(&b), "sha512:" HEX512);
}
END_TEST

Suite *suite_paths(void)
{
    Suite *s = suite_create("paths");
    TCase *tc = tcase_create("layout");
    tcase_add_test(tc, test_paths_blob_data);
    tcase_add_test(tc, test_paths_root_slashes);
    tcase_add_test(tc, test_paths_repo);
    tcase_add_test(tc, test_paths_tags);
    tcase_add_test(tc, test_paths_referrers);
    tcase_add_test(tc, test_paths_uploads);
    tcase_add_test(tc, test_paths_link_content);
    suite_add_tcase(s, tc);
    return s;
}
