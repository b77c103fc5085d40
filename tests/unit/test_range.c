/* range: Range of blob GET and Content-Range of upload PATCH. */
#include "tests/unit/unit.h"
#include "core/range.h"

struct rcase {
    const char *hdr;
    uint64_t size;
    enum range_rc rc;
    uint64_t start, end;
};

START_TEST(range_cases)
{
    const struct rcase cases[] = {
        { NULL, 100, RANGE_NONE, 0, 0 },
        { "", 100, RANGE_NONE, 0, 0 },
        { "bytes=0-9", 100, RANGE_OK, 0, 9 },
        { "bytes=10-", 100, RANGE_OK, 10, 99 },
        { "bytes=-10", 100, RANGE_OK, 90, 99 },
        { "bytes=-1000", 100, RANGE_OK, 0, 99 },     /* suffix longer than the blob */
        { "bytes=50-1000", 100, RANGE_OK, 50, 99 },  /* end clamped */
        { "bytes=99-99", 100, RANGE_OK, 99, 99 },
        { "bytes=0-0", 1, RANGE_OK, 0, 0 },
        { " bytes=1-2 ", 100, RANGE_OK, 1, 2 },
        { "bytes=100-", 100, RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=100-200", 100, RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=-0", 100, RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=0-", 0, RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=-5", 0, RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=0-0", 0, RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=0-1,5-6", 100, RANGE_NONE, 0, 0 },  /* multi-range: serve it all */
        { "bytes=5-1", 100, RANGE_UNSATISFIABLE, 0, 0 },   /* reversed: 416, as the conformance suite expects */
        { "bytes=-", 100, RANGE_NONE, 0, 0 },
        { "bytes=a-b", 100, RANGE_NONE, 0, 0 },
        { "bytes=1-2x", 100, RANGE_NONE, 0, 0 },
        { "items=0-1", 100, RANGE_NONE, 0, 0 },
        { "bytes 0-1", 100, RANGE_NONE, 0, 0 },
        { "bytes=99999999999999999999-", 100, RANGE_NONE, 0, 0 },   /* overflow */
        { "bytes=+1-2", 100, RANGE_NONE, 0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t s = 12345, e = 12345;
        enum range_rc rc = range_parse(cases[i].hdr, cases[i].size, &s, &e);
        ck_assert_msg(rc == cases[i].rc, "case %zu \"%s\": rc %d", i,
                      cases[i].hdr ? cases[i].hdr : "(null)", rc);
        if (rc == RANGE_OK) {
            ck_assert_msg(s == cases[i].start && e == cases[i].end, "case %zu: %llu-%llu", i,
                          (unsigned long long)s, (unsigned long long)e);
        }
    }
}
END_TEST

START_TEST(content_range_cases)
{
    uint64_t s, e;
    ck_assert_int_eq(content_range_parse("0-99", &s, &e), 0);
    ck_assert_uint_eq(s, 0);
    ck_assert_uint_eq(e, 99);
    ck_assert_int_eq(content_range_parse("bytes 100-199/*", &s, &e), 0);
    ck_assert_uint_eq(s, 100);
    ck_assert_uint_eq(e, 199);
    ck_assert_int_eq(content_range_parse("bytes 100-199/200", &s, &e), 0);
    ck_assert_int_eq(content_range_parse("bytes=5-5", &s, &e), 0);
    ck_assert_uint_eq(s, 5);
    ck_assert_uint_eq(e, 5);
    ck_assert_int_eq(content_range_parse("18446744073709551614-18446744073709551615", &s, &e), 0);
    const char *bad[] = {
        NULL, "", "-", "5-", "-5", "5-4", "a-b", "0-99/", "0-99/x", "0-99/99", "bytes", "bytes0-1",
        "0-1,2-3", "0 - 1", "0-99junk", "18446744073709551616-18446744073709551617",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(content_range_parse(bad[i], &s, &e) == -1, "%s", bad[i] ? bad[i] : "(null)");
}
END_TEST

Suite *suite_range(void)
{
    Suite *s = suite_create("range");
    TCase *tc = tcase_create("range");
    tcase_add_test(tc, range_cases);
    tcase_add_test(tc, content_range_cases);
    suite_add_tcase(s, tc);
    return s;
}
