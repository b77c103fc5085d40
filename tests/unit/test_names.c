/* names: repository names, tags and upload ids. */
#include <string.h>
#include "tests/unit/unit.h"
#include "core/names.h"

START_TEST(names_valid)
{
    const char *ok[] = {
        "a", "library/ubuntu", "a/b/c/d", "foo.bar", "foo_bar", "foo__bar", "foo-bar", "foo---bar",
        "a1/b2.c3_d4__e5-f6", "0", "ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        ck_assert_msg(name_valid(ok[i]), "%s", ok[i]);
}
END_TEST

START_TEST(names_invalid)
{
    const char *bad[] = {
        "", "/", "a/", "/a", "a//b", "A", "library/Ubuntu", "..", "a/../b", "a/./b", "a/%2e%2e/b",
        "a.", ".a", "a..b", "a___b", "a_.b", "a-", "-a", "a/-b", "a b", "a:b", "a@b", "a\nb", "ä",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!name_valid(bad[i]), "%s", bad[i]);
    ck_assert(!name_valid(NULL));
}
END_TEST

START_TEST(names_length)
{
    char n[300];
    memset(n, 'a', 255);
    n[255] = '\0';
    ck_assert(name_valid(n));
    n[255] = 'a';
    n[256] = '\0';
    ck_assert(!name_valid(n));
}
END_TEST

START_TEST(tags)
{
    const char *ok[] = { "latest", "v1.0.0", "_x", "A-b_c.D", "1", "sha256-abc.sig" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        ck_assert_msg(tag_valid(ok[i]), "%s", ok[i]);
    const char *bad[] = { "", ".x", "-x", "a/b", "a:b", "a b", "a%20", "sha256:abc" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!tag_valid(bad[i]), "%s", bad[i]);
    char t[200];
    memset(t, 'a', 128);
    t[128] = '\0';
    ck_assert(tag_valid(t));
    t[128] = 'a';
    t[129] = '\0';
    ck_assert(!tag_valid(t));
    ck_assert(!tag_valid(NULL));
}
END_TEST

START_TEST(upload_ids)
{
    ck_assert(upload_id_valid("0123456789abcdef0123456789abcdef"));
    ck_assert(!upload_id_valid("0123456789ABCDEF0123456789abcdef"));
    ck_assert(!upload_id_valid("0123456789abcdef0123456789abcde"));
    ck_assert(!upload_id_valid("0123456789abcdef0123456789abcdef0"));
    ck_assert(!upload_id_valid("../../../../etc/passwd/aaaaaaaaaa"));
    ck_assert(!upload_id_valid(""));
    ck_assert(!upload_id_valid(NULL));
}
END_TEST

Suite *suite_names(void)
{
    Suite *s = suite_create("names");
    TCase *tc = tcase_create("names");
    tcase_add_test(tc, names_valid);
    tcase_add_test(tc, names_invalid);
    tcase_add_test(tc, names_length);
    tcase_add_test(tc, tags);
    tcase_add_test(tc, upload_ids);
    suite_add_tcase(s, tc);
    return s;
}
