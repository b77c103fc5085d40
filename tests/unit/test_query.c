/* query: raw query strings and percent coding. */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "core/query.h"
#include "core/xalloc.h"

START_TEST(query_get_cases)
{
    char *v;
    v = query_get("digest=sha256%3Aabc&n=5", "digest");
    ck_assert_str_eq(v, "sha256:abc");
    free(v);
    v = query_get("digest=sha256%3Aabc&n=5", "n");
    ck_assert_str_eq(v, "5");
    free(v);
    ck_assert_ptr_null(query_get("digest=x", "n"));
    ck_assert_ptr_null(query_get("", "n"));
    ck_assert_ptr_null(query_get(NULL, "n"));
    ck_assert_ptr_null(query_get("nn=1&xn=2", "n"));   /* whole keys only */
    v = query_get("ns=docker.io&mount", "mount");       /* present without '=' */
    ck_assert_str_eq(v, "");
    free(v);
    v = query_get("a=1+2", "a");                        /* '+' stays '+' */
    ck_assert_str_eq(v, "1+2");
    free(v);
    v = query_get("a=1&a=2", "a");                      /* the first one */
    ck_assert_str_eq(v, "1");
    free(v);
    v = query_get("a=&b=2", "a");
    ck_assert_str_eq(v, "");
    free(v);
    v = query_get("&&a=x&&", "a");
    ck_assert_str_eq(v, "x");
    free(v);
    v = query_get("a=%zz", "a");                        /* malformed: raw, so validation rejects it */
    ck_assert_str_eq(v, "%zz");
    free(v);
    v = query_get("last=a%2Fb", "last");
    ck_assert_str_eq(v, "a/b");
    free(v);
}
END_TEST

START_TEST(query_get_all_cases)
{
    size_t n;
    char **v = query_get_all("tag=a&x=1&tag=b&tag=c%2Dd", "tag", &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(v[0], "a");
    ck_assert_str_eq(v[1], "b");
    ck_assert_str_eq(v[2], "c-d");
    strv_free(v, n);
    v = query_get_all("x=1", "tag", &n);
    ck_assert_uint_eq(n, 0);
    strv_free(v, n);
}
END_TEST

START_TEST(pct_cases)
{
    char *s = pct_decode("a%2Fb%2fc", 9);
    ck_assert_str_eq(s, "a/b/c");
    free(s);
    s = pct_decode("abcdef", 3);   /* only len bytes are decoded */
    ck_assert_str_eq(s, "abc");
    free(s);
    ck_assert_ptr_null(pct_decode("abc%41", 4));   /* an escape cut by len */
    ck_assert_ptr_null(pct_decode("%", 1));
    ck_assert_ptr_null(pct_decode("%4", 2));
    ck_assert_ptr_null(pct_decode("%g1", 3));
    ck_assert_ptr_null(pct_decode("a%00b", 5));   /* NUL would cut a string */
    s = pct_encode("sha256:ab/c d~-._");
    ck_assert_str_eq(s, "sha256%3Aab%2Fc%20d~-._");
    char *back = pct_decode(s, strlen(s));
    ck_assert_str_eq(back, "sha256:ab/c d~-._");
    free(back);
    free(s);
}
END_TEST

Suite *suite_query(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("query");
    tcase_add_test(tc, query_get_cases);
    tcase_add_test(tc, query_get_all_cases);
    tcase_add_test(tc, pct_cases);
    suite_add_tcase(s, tc);
    return s;
}
