/* The gateway's response head as ipfs/gateway_fd.c reads it before handing
 * the socket over for splicing: where the head ends, and what it says
 * (status, Content-Length, Content-Range, codings). Canned heads, as Kubo
 * writes them and as it must not be trusted to. */
#include <string.h>
#include "tests/unit/unit.h"
#include "ipfs/kubo_internal.h"

static int parse(const char *h, struct kubo_gw_head *out)
{
    return kubo_gw_head_parse(h, strlen(h), out);
}

START_TEST(test_head_end)
{
    const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    ck_assert_uint_eq(kubo_gw_head_end(h, strlen(h)), strlen(h) - 3);
    /* not there yet: a head cut anywhere before its blank line */
    for (size_t n = 0; n < strlen(h) - 3; n++)
        ck_assert_uint_eq(kubo_gw_head_end(h, n), 0);
    /* LF LF alone is not the end this reader looks for */
    ck_assert_uint_eq(kubo_gw_head_end("HTTP/1.1 200 OK\n\nabc", 20), 0);
}
END_TEST

START_TEST(test_kubo_206)
{
    /* what Kubo 0.43's gateway sent for a Range on a UnixFS file (some
     * Access-Control lines left out) */
    const char *h = "HTTP/1.1 206 Partial Content\r\n"
                    "Accept-Ranges: bytes\r\n"
                    "Access-Control-Allow-Headers: Content-Type\r\n"
                    "Access-Control-Allow-Headers: Range\r\n"
                    "Access-Control-Allow-Methods: GET\r\n"
                    "Access-Control-Allow-Origin: *\r\n"
                    "Access-Control-Expose-Headers: Content-Length\r\n"
                    "Access-Control-Expose-Headers: Content-Range\r\n"
                    "Cache-Control: public, max-age=29030400, immutable\r\n"
                    "Content-Length: 299000001\r\n"
                    "Content-Range: bytes 1000000-300000000/1073745920\r\n"
                    "Etag: \"bafybeidiwvgdmpqs5k3ma7nv6vbsdefa4iqgmdcc7ccrblzqdhtay5btye\"\r\n"
                    "Ipfs-Uri: ipfs://bafybeidiwvgdmpqs5k3ma7nv6vbsdefa4iqgmdcc7ccrblzqdhtay5btye\r\n"
                    "X-Ipfs-Roots: bafybeidiwvgdmpqs5k3ma7nv6vbsdefa4iqgmdcc7ccrblzqdhtay5btye\r\n"
                    "Date: Sat, 28 Nov 2026 00:48:31 GMT\r\n"
                    "Content-Type: application/octet-stream\r\n"
                    "\r\n";
    struct kubo_gw_head g;
    ck_assert_int_eq(parse(h, &g), 0);
    ck_assert_int_eq(g.status, 206);
    ck_assert_int_eq(g.content_length, 299000001);
    ck_assert_int_eq(g.has_range, 1);
    ck_assert_uint_eq(g.range_first, 1000000);
    ck_assert_uint_eq(g.range_last, 300000000);
    ck_assert_int_eq(g.chunked, 0);
    ck_assert_int_eq(g.encoded, 0);
}
END_TEST

START_TEST(test_fields)
{
    struct kubo_gw_head g;
    /* names in any case, blanks around values */
    ck_assert_int_eq(parse("HTTP/1.0 200 OK\r\ncontent-length:\t 42 \r\n\r\n", &g), 0);
    ck_assert_int_eq(g.status, 200);
    ck_assert_int_eq(g.content_length, 42);
    ck_assert_int_eq(g.has_range, 0);
    /* no Content-Length */
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nX: y\r\n\r\n", &g), 0);
    ck_assert_int_eq(g.content_length, -1);
    /* chunked, and gzip'd, are flagged (the caller then falls back) */
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &g), 0);
    ck_assert_int_eq(g.chunked, 1);
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\n", &g), 0);
    ck_assert_int_eq(g.encoded, 1);
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Encoding: identity\r\nContent-Length: 9\r\n\r\n", &g), 0);
    ck_assert_int_eq(g.encoded, 0);
    /* the same Content-Length twice is one */
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &g), 0);
    ck_assert_int_eq(g.content_length, 5);
    /* an error status parses; deciding is the caller's business */
    ck_assert_int_eq(parse("HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\n", &g), 0);
    ck_assert_int_eq(g.status, 404);
    /* a status line without a reason */
    ck_assert_int_eq(parse("HTTP/1.1 204\r\n\r\n", &g), 0);
    ck_assert_int_eq(g.status, 204);
    /* an unsatisfied total in Content-Range */
    ck_assert_int_eq(parse("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-0/*\r\n\r\n", &g), 0);
    ck_assert_int_eq(g.has_range, 1);
}
END_TEST

START_TEST(test_malformed)
{
    struct kubo_gw_head g;
    static const char *bad[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n",                 /* no blank line */
        "HTTP/2 200 OK\r\n\r\n",                                      /* not HTTP/1.x */
        "HTTP/1.1 2000 OK\r\n\r\n",                                   /* four-digit status */
        "HTTP/1.1 20x OK\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",   /* disagree */
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",                 /* obsolete folding */
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n",                      /* bare LF */
        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-4/9\r\n\r\n",
        "HTTP/1.1 206 Partial Content\r\nContent-Range: items 0-4/9\r\n\r\n",
        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-4\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(parse(bad[i], &g) == -1, "accepted bad[%zu]", i);
}
END_TEST

Suite *suite_gateway_head(void)
{
    Suite *s = suite_create("gateway_head");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_head_end);
    tcase_add_test(tc, test_kubo_206);
    tcase_add_test(tc, test_fields);
    tcase_add_test(tc, test_malformed);
    suite_add_tcase(s, tc);
    return s;
}
