/* The web view (core/ui/): escaping (html.h) turns every byte of outside
 * text into text, links from content are only http(s), pagination follows
 * tags/list's rules, and /ui/ answers with the security headers, only GET
 * and HEAD, and not at all when the setting is off. The pages run over the
 * fake store (tests/unit/fake_store.h). */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "tests/unit/handler_env.h"
#include "core/ui/html.h"
#include "core/ui/ui_internal.h"
#include "core/xalloc.h"

#define UI_CSP "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; " \
               "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

static char *esc(const char *s)
{
    struct buf b;
    buf_init(&b, 1024);
    ck_assert_int_eq(html_text(&b, s), 0);
    char *r = xstrdup(buf_cstr(&b));
    buf_free(&b);
    return r;
}

START_TEST(text_escapes_markup)
{
    char *r = esc("<script>alert(\"x\")</script>&'");
    ck_assert_str_eq(r, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
    free(r);
    r = esc("plain name-1.2_3/x");
    ck_assert_str_eq(r, "plain name-1.2_3/x");
    free(r);
    /* control bytes are not text: U+FFFD; tab and newline stay */
    r = esc("a\x01" "b\x7f\tc\n");
    ck_assert_str_eq(r, "a\xef\xbf\xbd" "b\xef\xbf\xbd\tc\n");
    free(r);
    r = esc("");
    ck_assert_str_eq(r, "");
    free(r);
}
END_TEST

START_TEST(query_encodes)
{
    struct buf b;
    buf_init(&b, 1024);
    ck_assert_int_eq(html_query(&b, "a/b c\"<&>?=#'é"), 0);
    ck_assert_str_eq(buf_cstr(&b), "a%2Fb%20c%22%3C%26%3E%3F%3D%23%27%C3%A9");
    buf_free(&b);
}
END_TEST

START_TEST(text_over_cap_fails)
{
    struct buf b;
    buf_init(&b, 16);
    ck_assert_int_eq(html_text(&b, "<<<<<<"), -1);
    ck_assert_uint_eq(b.len, 0);
    buf_free(&b);
}
END_TEST

START_TEST(url_safe_only_http)
{
    ck_assert_int_eq(html_url_safe("https://example.org/x?y=1"), 1);
    ck_assert_int_eq(html_url_safe("HTTP://example.org"), 1);
    ck_assert_int_eq(html_url_safe("javascript:alert(1)"), 0);
    ck_assert_int_eq(html_url_safe("JavaScript:alert(1)"), 0);
    ck_assert_int_eq(html_url_safe(" https://example.org"), 0);
    ck_assert_int_eq(html_url_safe("https://exa mple.org"), 0);
    ck_assert_int_eq(html_url_safe("https://x\n.org"), 0);
    ck_assert_int_eq(html_url_safe("data:text/html,<script>"), 0);
    ck_assert_int_eq(html_url_safe("//evil.example"), 0);
    ck_assert_int_eq(html_url_safe("https://"), 0);
    ck_assert_int_eq(html_url_safe("https:///path"), 0);
    ck_assert_int_eq(html_url_safe("ftp://example.org"), 0);
}
END_TEST

START_TEST(page_n_and_window)
{
    char *names[] = { "a", "b", "c", "d", "e" };
    size_t first, count;
    ck_assert_uint_eq(ui_page_n(""), UI_N_DEFAULT);
    ck_assert_uint_eq(ui_page_n("n=7"), 7);
    ck_assert_uint_eq(ui_page_n("n=5000"), UI_N_MAX);
    ck_assert_uint_eq(ui_page_n("n=-3"), UI_N_DEFAULT);
    ck_assert_uint_eq(ui_page_n("n=0"), UI_N_DEFAULT);
    ck_assert_uint_eq(ui_page_n("n=2x"), UI_N_DEFAULT);
    ck_assert_int_eq(ui_window(names, 5, NULL, 2, &first, &count), 1);
    ck_assert_uint_eq(first, 0);
    ck_assert_uint_eq(count, 2);
    /* last= is lexical, and need not be one of the names */
    ck_assert_int_eq(ui_window(names, 5, "bb", 2, &first, &count), 1);
    ck_assert_uint_eq(first, 2);
    ck_assert_int_eq(ui_window(names, 5, "c", 2, &first, &count), 0);
    ck_assert_uint_eq(first, 3);
    ck_assert_uint_eq(count, 2);
    ck_assert_int_eq(ui_window(names, 5, "z", 2, &first, &count), 0);
    ck_assert_uint_eq(count, 0);
}
END_TEST

static void ui_on(void)
{
    handler_env_setup();
    henv.reg.opts.ui = 1;
}

static void headers_ok(const char *out)
{
    fake_resp_header_is(out, "Content-Security-Policy", UI_CSP);
    fake_resp_header_is(out, "X-Content-Type-Options", "nosniff");
    fake_resp_header_is(out, "Referrer-Policy", "no-referrer");
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

START_TEST(off_is_not_found)
{
    handler_env_setup();
    char *out = handler_env_expect("GET", "/ui/", NULL, 404, "NOT_FOUND");
    ck_assert_ptr_null(fake_resp_header(out, "Content-Security-Policy"));
    free(out);
    handler_env_teardown();
}
END_TEST

START_TEST(repositories_page)
{
    char *out = handler_env_expect("GET", "/ui/", NULL, 200, NULL);
    headers_ok(out);
    fake_resp_header_is(out, "Content-Type", "text/html; charset=utf-8");
    const char *body = fake_resp_body(out);
    ck_assert_ptr_nonnull(strstr(body, "<html lang=\"en\">"));
    ck_assert_int_eq(count_of(body, "<h1>"), 1);
    ck_assert_int_eq(count_of(body, "<title>"), 1);
    ck_assert_ptr_nonnull(strstr(body, "<th scope=\"col\">Repository</th>"));
    ck_assert_ptr_null(strstr(body, "<script"));
    ck_assert_int_eq(henv.store.calls[FAKE_CATALOG], 1);
    free(out);
}
END_TEST

START_TEST(only_get_and_head)
{
    static const char *const m[] = { "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        char *out = handler_env_expect(m[i], "/ui/", NULL, 405, NULL);
        headers_ok(out);
        fake_resp_header_is(out, "Allow", "GET, HEAD");
        free(out);
    }
    char *out = handler_env_expect("HEAD", "/ui/registry", NULL, 200, NULL);
    headers_ok(out);
    ck_assert_str_eq(fake_resp_body(out), "");
    free(out);
    ck_assert_int_eq(fake_store_total_calls(&henv.store) - henv.store.calls[FAKE_PING], 0);
}
END_TEST

START_TEST(stylesheet_and_unknown)
{
    char *out = handler_env_expect("GET", "/ui/style.css", NULL, 200, NULL);
    fake_resp_header_is(out, "Content-Type", "text/css; charset=utf-8");
    headers_ok(out);
    free(out);
    out = handler_env_expect("GET", "/ui/nope", NULL, 404, NULL);
    headers_ok(out);
    ck_assert_int_eq(count_of(fake_resp_body(out), "<h1>"), 1);
    free(out);
}
END_TEST

/* A name from a mirrored root may hold anything but '/': an error page
 * about it prints it as text. */
START_TEST(hostile_name_is_text)
{
    henv.store.fail[FAKE_TAGS_LIST] = STORE_NOT_FOUND;
    char *out = handler_env_expect("GET", "/ui/repo?name=%3Cscript%3Ealert(1)%3C%2Fscript%3E", NULL, 404, NULL);
    headers_ok(out);
    ck_assert_ptr_null(strstr(fake_resp_body(out), "<script>"));
    free(out);
    out = handler_env_expect("GET", "/ui/manifest?name=a&ref=%22%3E%3Cimg%20src%3Dx%3E", NULL, 404, NULL);
    ck_assert_ptr_null(strstr(fake_resp_body(out), "<img"));
    free(out);
}
END_TEST

START_TEST(registry_page)
{
    char *out = handler_env_expect("GET", "/ui/registry", NULL, 200, NULL);
    const char *body = fake_resp_body(out);
    ck_assert_ptr_nonnull(strstr(body, "<h1>Registry</h1>"));
    ck_assert_ptr_nonnull(strstr(body, PACKAGE_VERSION));
    free(out);
}
END_TEST

Suite *suite_ui(void)
{
    Suite *s = suite_create("ui");
    TCase *t = tcase_create("html");
    tcase_add_test(t, text_escapes_markup);
    tcase_add_test(t, query_encodes);
    tcase_add_test(t, text_over_cap_fails);
    tcase_add_test(t, url_safe_only_http);
    tcase_add_test(t, page_n_and_window);
    tcase_add_test(t, off_is_not_found);
    suite_add_tcase(s, t);
    t = tcase_create("pages");
    tcase_add_checked_fixture(t, ui_on, handler_env_teardown);
    tcase_add_test(t, repositories_page);
    tcase_add_test(t, only_get_and_head);
    tcase_add_test(t, stylesheet_and_unknown);
    tcase_add_test(t, hostile_name_is_text);
    tcase_add_test(t, registry_page);
    suite_add_tcase(s, t);
    return s;
}
