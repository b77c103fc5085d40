/* multiaddr_to_url: every accepted form, and the ways an address is wrong. */
#include <stdlib.h>
#include <string.h>
#include "ipfs/multiaddr.h"
#include "tests/unit/unit.h"

/* Expect success with the given URL and socket path (NULL for none). */
static void ok(const char *maddr, const char *url, const char *sock)
{
    char *u = NULL, *s = NULL, *err = NULL;
    int rc = multiaddr_to_url(maddr, &u, &s, &err);
    ck_assert_msg(rc == 0, "%s: %s", maddr, err ? err : "?");
    ck_assert_ptr_null(err);
    ck_assert_str_eq(u, url);
    if (sock)
        ck_assert_str_eq(s, sock);
    else
        ck_assert_ptr_null(s);
    free(u);
    free(s);
}

static void bad(const char *maddr)
{
    char *u = NULL, *s = NULL, *err = NULL;
    int rc = multiaddr_to_url(maddr, &u, &s, &err);
    ck_assert_msg(rc == -1, "%s accepted", maddr ? maddr : "(null)");
    ck_assert_ptr_null(u);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(err);
    ck_assert(strncmp(err, "multiaddr: ", 11) == 0);
    free(err);
}

START_TEST(test_ip4)
{
    ok("/ip4/127.0.0.1/tcp/5001", "http://127.0.0.1:5001", NULL);
    ok("/ip4/10.1.2.3/tcp/1/http", "http://10.1.2.3:1", NULL);
    ok("/ip4/0.0.0.0/tcp/65535", "http://0.0.0.0:65535", NULL);
}
END_TEST

START_TEST(test_ip6)
{
    ok("/ip6/::1/tcp/5001", "http://[::1]:5001", NULL);
    ok("/ip6/fe80::1:2/tcp/80/http", "http://[fe80::1:2]:80", NULL);
}
END_TEST

START_TEST(test_dns)
{
    ok("/dns/kubo/tcp/5001", "http://kubo:5001", NULL);
    ok("/dns4/ipfs.example.org/tcp/5001", "http://ipfs.example.org:5001", NULL);
    ok("/dns6/my_host-1.local/tcp/443/http", "http://my_host-1.local:443", NULL);
}
END_TEST

START_TEST(test_unix)
{
    ok("/unix/run/ipfs/api.sock", "http://localhost", "/run/ipfs/api.sock");
    ok("/unix/api.sock", "http://localhost", "/api.sock");
}
END_TEST

START_TEST(test_url)
{
    ok("http://127.0.0.1:5001", "http://127.0.0.1:5001", NULL);
    ok("http://127.0.0.1:5001/", "http://127.0.0.1:5001", NULL);
    ok("http://[::1]:5001", "http://[::1]:5001", NULL);
}
END_TEST

START_TEST(test_errors)
{
    bad(NULL);
    bad("");
    bad("/");
    bad("/ip4");
    bad("/ip4/127.0.0.1");
    bad("/ip4/127.0.0.1/tcp");
    bad("/ip4/127.0.0.1/tcp/");
    bad("/ip4/127.0.0.1/udp/5001");
    bad("/ip4/127.0.0.1/tcp/0");
    bad("/ip4/127.0.0.1/tcp/65536");
    bad("/ip4/127.0.0.1/tcp/-1");
    bad("/ip4/127.0.0.1/tcp/+1");
    bad("/ip4/127.0.0.1/tcp/50x1");
    bad("/ip4/127.0.0.1/tcp/99999999999999999999999");
    bad("/ip4/127.0.0.1/tcp/5001/https");
    bad("/ip4/127.0.0.1/tcp/5001/http/x");
    bad("/ip4/127.0.0.1/tcp/5001/");
    bad("/ip4/256.0.0.1/tcp/5001");
    bad("/ip4/::1/tcp/5001");
    bad("/ip6/127.0.0.1/tcp/5001");
    bad("/ip6/not:an:addr::g/tcp/5001");
    bad("/dns/bad:host/tcp/5001");
    bad("/dns/user@host/tcp/5001");
    bad("/dns//tcp/5001");
    bad("/quic/1.2.3.4/tcp/1");
    bad("/unix/");
    bad("ip4/127.0.0.1/tcp/5001");
    bad("http://");
    bad("http://host:1/path");
    bad("http://user@host:1");
    bad("127.0.0.1:5001");
}
END_TEST

Suite *suite_multiaddr(void)
{
    Suite *s = suite_create("multiaddr");
    TCase *tc = tcase_create("forms");
    tcase_add_test(tc, test_ip4);
    tcase_add_test(tc, test_ip6);
    tcase_add_test(tc, test_dns);
    tcase_add_test(tc, test_unix);
    tcase_add_test(tc, test_url);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}
