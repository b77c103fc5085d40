/* buf and xalloc: the cap is enforced, appends stay NUL-terminated. */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "core/buf.h"
#include "core/xalloc.h"

START_TEST(buf_append_and_cstr)
{
    struct buf b;
    buf_init(&b, 100);
    ck_assert_str_eq(buf_cstr(&b), "");
    ck_assert_int_eq(buf_appends(&b, "hello"), 0);
    ck_assert_int_eq(buf_append(&b, ", world", 7), 0);
    ck_assert_int_eq(buf_appendf(&b, " %d%s", 42, "!"), 0);
    ck_assert_str_eq(buf_cstr(&b), "hello, world 42!");
    ck_assert_uint_eq(b.len, 16);
    buf_reset(&b);
    ck_assert_str_eq(buf_cstr(&b), "");
    ck_assert_uint_eq(b.max, 100);
    buf_free(&b);
}
END_TEST

START_TEST(buf_cap_enforced)
{
    struct buf b;
    buf_init(&b, 8);
    ck_assert_int_eq(buf_appends(&b, "12345678"), 0);   /* exactly max is fine */
    ck_assert_int_eq(buf_appends(&b, "9"), -1);         /* one more is not */
    ck_assert_ptr_null(b.data);                         /* and the buffer was freed */
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(buf_appendf(&b, "%s", "123456789"), -1);
    ck_assert_int_eq(buf_append(&b, "x", (size_t)-1), -1);   /* overflow-safe */
    buf_free(&b);
}
END_TEST

START_TEST(buf_grows_and_take)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    for (int i = 0; i < 10000; i++)
        ck_assert_int_eq(buf_append(&b, "abcdefgh", 8), 0);
    ck_assert_uint_eq(b.len, 80000);
    ck_assert_uint_eq(strlen(b.data), 80000);
    char *s = buf_take(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(memcmp(s + 79992, "abcdefgh", 9), 0);
    free(s);
    ck_assert_ptr_null(buf_take(&b));   /* empty: NULL */
    buf_free(&b);
}
END_TEST

START_TEST(buf_binary)
{
    struct buf b;
    buf_init(&b, 16);
    ck_assert_int_eq(buf_append(&b, "a\0b", 3), 0);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_int_eq(memcmp(b.data, "a\0b\0", 4), 0);
    buf_free(&b);
}
END_TEST

START_TEST(xalloc_helpers)
{
    char *s = xasprintf("%s-%d", "x", 7);
    ck_assert_str_eq(s, "x-7");
    free(s);
    s = xstrndup("abcdef", 3);
    ck_assert_str_eq(s, "abc");
    free(s);
    s = xstrndup("ab", 10);
    ck_assert_str_eq(s, "ab");
    free(s);
    char **v = xcalloc(3, sizeof *v);
    v[0] = xstrdup("a");
    v[1] = xstrdup("b");
    strv_free(v, (size_t)-1);   /* NULL-terminated */
    v = xmalloc(2 * sizeof *v);
    v[0] = xstrdup("a");
    v[1] = xstrdup("b");
    strv_free(v, 2);            /* counted */
    strv_free(NULL, 0);
}
END_TEST

Suite *suite_buf(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("buf");
    tcase_add_test(tc, buf_append_and_cstr);
    tcase_add_test(tc, buf_cap_enforced);
    tcase_add_test(tc, buf_grows_and_take);
    tcase_add_test(tc, buf_binary);
    tcase_add_test(tc, xalloc_helpers);
    suite_add_tcase(s, tc);
    return s;
}
