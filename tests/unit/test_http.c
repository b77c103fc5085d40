/* http: request splitting, body reading and response framing, driven by an
 * in-memory fake of the FastCGI edge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "core/http.h"

/* fake_io: a scripted edge. The body is served in chunks of at most
 * read_chunk bytes; everything written is collected in out. */
struct fake_io {
    const char *const *params;   /* name, value, name, value, ..., NULL */
    const char *body;
    size_t body_len, body_pos, read_chunk;
    size_t max_read_request;     /* largest n ever passed to read */
    int read_fail;
    int write_fail;
    int aborted;
    int writes;
    struct buf out;
};

static const char *fake_param(void *ctx, const char *name)
{
    struct fake_io *f = ctx;
    for (size_t i = 0; f->params && f->params[i]; i += 2)
        if (strcmp(f->params[i], name) == 0)
            return f->params[i + 1];
    return NULL;
}

static ssize_t fake_read(void *ctx, char *p, size_t n)
{
    struct fake_io *f = ctx;
    if (n > f->max_read_request)
        f->max_read_request = n;
    if (f->read_fail)
        return -1;
    size_t left = f->body_len - f->body_pos;
    if (n > left)
        n = left;
    if (f->read_chunk && n > f->read_chunk)
        n = f->read_chunk;
    memcpy(p, f->body + f->body_pos, n);
    f->body_pos += n;
    return (ssize_t)n;
}

static int fake_write(void *ctx, const char *p, size_t n)
{
    struct fake_io *f = ctx;
    if (f->write_fail)
        return -1;
    f->writes++;
    return buf_append(&f->out, p, n);
}

static void fake_abort(void *ctx)
{
    ((struct fake_io *)ctx)->aborted++;
}

static const struct http_io fake_ops = {
    .param = fake_param, .read = fake_read, .write = fake_write, .abort = fake_abort,
};

static void fake_init(struct fake_io *f, const char *body)
{
    memset(f, 0, sizeof *f);
    f->body = body;
    f->body_len = body ? strlen(body) : 0;
    buf_init(&f->out, 1 << 20);
}

START_TEST(http_req_init_split)
{
    struct fake_io f;
    fake_init(&f, NULL);
    struct request req;
    ck_assert_int_eq(req_init(&req, "PUT", "/v2/a/manifests/x?digest=sha256%3Aa?b&n=1", "12",
                              &fake_ops, &f), 0);
    ck_assert_str_eq(req.path, "/v2/a/manifests/x");
    ck_assert_str_eq(req.query, "digest=sha256%3Aa?b&n=1");
    ck_assert_int_eq(req.content_length, 12);
    ck_assert_str_eq(req.method, "PUT");
    req_free(&req);

    ck_assert_int_eq(req_init(&req, "GET", "/v2/", NULL, &fake_ops, &f), 0);
    ck_assert_str_eq(req.path, "/v2/");
    ck_assert_str_eq(req.query, "");
    ck_assert_int_eq(req.content_length, -1);
    req_free(&req);

    ck_assert_int_eq(req_init(&req, "GET", "/v2/?", "", &fake_ops, &f), 0);
    ck_assert_str_eq(req.query, "");
    ck_assert_int_eq(req.content_length, -1);
    req_free(&req);

    ck_assert_int_eq(req_init(&req, "GET", "/v2/a/%2e%2e/manifests/x", "0", &fake_ops, &f), 0);
    ck_assert_str_eq(req.path, "/v2/a/%2e%2e/manifests/x");   /* never decoded */
    ck_assert_int_eq(req.content_length, 0);
    req_free(&req);

    ck_assert_int_eq(req_init(&req, "GET", "v2/", NULL, &fake_ops, &f), -1);
    req_free(&req);
    ck_assert_int_eq(req_init(&req, "GET", NULL, NULL, &fake_ops, &f), -1);
    req_free(&req);
    const char *bad_len[] = { "abc", "-1", "+5", " 5", "5 ", "1e3", "99999999999999999999" };
    for (size_t i = 0; i < sizeof bad_len / sizeof bad_len[0]; i++) {
        ck_assert_msg(req_init(&req, "GET", "/v2/", bad_len[i], &fake_ops, &f) == -1, "%s", bad_len[i]);
        req_free(&req);
    }
    buf_free(&f.out);
}
END_TEST

START_TEST(http_req_header)
{
    const char *params[] = { "HTTP_RANGE", "bytes=0-1", "CONTENT_TYPE", "application/json", NULL };
    struct fake_io f;
    fake_init(&f, NULL);
    f.params = params;
    struct request req;
    ck_assert_int_eq(req_init(&req, "GET", "/v2/", NULL, &fake_ops, &f), 0);
    ck_assert_str_eq(req_header(&req, "HTTP_RANGE"), "bytes=0-1");
    ck_assert_str_eq(req_header(&req, "CONTENT_TYPE"), "application/json");
    ck_assert_ptr_null(req_header(&req, "HTTP_X"));
    req_free(&req);
    buf_free(&f.out);
}
END_TEST

START_TEST(http_req_read_respects_length)
{
    struct fake_io f;
    fake_init(&f, "helloEXTRA");   /* bytes past CONTENT_LENGTH must stay unread */
    f.read_chunk = 2;
    struct request req;
    ck_assert_int_eq(req_init(&req, "PATCH", "/x", "5", &fake_ops, &f), 0);
    struct buf b;
    buf_init(&b, 100);
    ck_assert_int_eq(req_read_all(&req, &b), 0);
    ck_assert_str_eq(buf_cstr(&b), "hello");
    ck_assert_uint_eq(req.body_read, 5);
    ck_assert_uint_eq(f.body_pos, 5);
    char c;
    ck_assert_int_eq(req_read(&req, &c, 1), 0);   /* at end */
    buf_free(&b);
    req_free(&req);
    buf_free(&f.out);
}
END_TEST

START_TEST(http_req_read_unknown_length)
{
    struct fake_io f;
    fake_init(&f, "chunked body to EOF");
    f.read_chunk = 3;
    struct request req;
    ck_assert_int_eq(req_init(&req, "PATCH", "/x", "", &fake_ops, &f), 0);
    struct buf b;
    buf_init(&b, 100);
    ck_assert_int_eq(req_read_all(&req, &b), 0);
    ck_assert_str_eq(buf_cstr(&b), "chunked body to EOF");
    ck_assert_uint_eq(req.body_read, 19);
    buf_free(&b);
    req_free(&req);
    buf_free(&f.out);
}
END_TEST

START_TEST(http_req_read_errors)
{
    struct fake_io f;
    struct request req;
    struct buf b;
    /* over the cap with a declared length: refused before reading */
    fake_init(&f, "0123456789");
    ck_assert_int_eq(req_init(&req, "PUT", "/x", "10", &fake_ops, &f), 0);
    buf_init(&b, 5);
    ck_assert_int_eq(req_read_all(&req, &b), -2);
    ck_assert_uint_eq(f.body_pos, 0);
    buf_free(&b);
    req_free(&req);
    /* over the cap without a length */
    f.body_pos = 0;
    ck_assert_int_eq(req_init(&req, "PUT", "/x", NULL, &fake_ops, &f), 0);
    buf_init(&b, 5);
    ck_assert_int_eq(req_read_all(&req, &b), -2);
    buf_free(&b);
    req_free(&req);
    /* body shorter than CONTENT_LENGTH: the client went away */
    f.body_pos = 0;
    ck_assert_int_eq(req_init(&req, "PUT", "/x", "20", &fake_ops, &f), 0);
    buf_init(&b, 100);
    ck_assert_int_eq(req_read_all(&req, &b), -1);
    buf_free(&b);
    req_free(&req);
    /* read error */
    f.body_pos = 0;
    f.read_fail = 1;
    ck_assert_int_eq(req_init(&req, "PUT", "/x", NULL, &fake_ops, &f), 0);
    buf_init(&b, 100);
    ck_assert_int_eq(req_read_all(&req, &b), -1);
    buf_free(&b);
    req_free(&req);
    /* empty body gives an empty string */
    fake_init(&f, "");
    ck_assert_int_eq(req_init(&req, "PUT", "/x", "0", &fake_ops, &f), 0);
    buf_init(&b, 100);
    ck_assert_int_eq(req_read_all(&req, &b), 0);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_str_eq(b.data, "");
    buf_free(&b);
    req_free(&req);
    buf_free(&f.out);
}
END_TEST

START_TEST(http_req_drain)
{
    struct fake_io f;
    struct request req;
    fake_init(&f, "0123456789");
    ck_assert_int_eq(req_init(&req, "PUT", "/x", NULL, &fake_ops, &f), 0);
    ck_assert_int_eq(req_drain(&req, 100), 0);
    ck_assert_uint_eq(req.body_read, 10);
    req_free(&req);
    f.body_pos = 0;
    ck_assert_int_eq(req_init(&req, "PUT", "/x", NULL, &fake_ops, &f), 0);
    ck_assert_int_eq(req_drain(&req, 5), -1);
    req_free(&req);
    buf_free(&f.out);
}
END_TEST

START_TEST(http_resp_head_and_body)
{
    struct fake_io f;
    fake_init(&f, NULL);
    struct response r;
    resp_init(&r, &fake_ops, &f);
    resp_status(&r, 201);
    resp_header(&r, "Location", "/v2/%s/blobs/%s", "a", "sha256:x");
    resp_header(&r, "X-Evil", "a\r\nInjected: 1");
    ck_assert_uint_eq(f.out.len, 0);   /* nothing sent before the first write */
    ck_assert_int_eq(resp_write(&r, "body", 4), 0);
    ck_assert_int_eq(resp_write(&r, "!", 1), 0);
    ck_assert_int_eq(resp_finish(&r), 0);
    ck_assert_str_eq(buf_cstr(&f.out), "Status: 201 Created\r\nLocation: /v2/a/blobs/sha256:x\r\n"
                                       "X-Evil: a  Injected: 1\r\n\r\nbody!");
    ck_assert_uint_eq(r.body_bytes, 5);
    resp_header(&r, "Late", "x");   /* ignored once the head is out */
    ck_assert_ptr_null(strstr(buf_cstr(&f.out), "Late"));
    resp_free(&r);
    buf_free(&f.out);
}
END_TEST

START_TEST(http_resp_finish_only)
{
    struct fake_io f;
    fake_init(&f, NULL);
    struct response r;
    resp_init(&r, &fake_ops, &f);
    ck_assert_int_eq(resp_finish(&r), 0);   /* default status is still sent */
    ck_assert_str_eq(buf_cstr(&f.out), "Status: 200 OK\r\n\r\n");
    ck_assert_int_eq(resp_finish(&r), 0);   /* twice is harmless */
    ck_assert_str_eq(buf_cstr(&f.out), "Status: 200 OK\r\n\r\n");
    resp_free(&r);
    buf_free(&f.out);
}
END_TEST

START_TEST(http_resp_head_only)
{
    struct fake_io f;
    fake_init(&f, NULL);
    struct response r;
    resp_init(&r, &fake_ops, &f);
    r.head_only = 1;
    resp_header(&r, "Content-Length", "%d", 4);
    ck_assert_int_eq(resp_write(&r, "body", 4), 0);
    ck_assert_int_eq(resp_finish(&r), 0);
    ck_assert_str_eq(buf_cstr(&f.out), "Status: 200 OK\r\nContent-Length: 4\r\n\r\n");
    ck_assert_uint_eq(r.body_bytes, 4);
    resp_free(&r);
    buf_free(&f.out);
}
END_TEST

START_TEST(http_resp_error_json)
{
    struct fake_io f;
    fake_init(&f, NULL);
    struct response r;
    resp_init(&r, &fake_ops, &f);
    resp_header(&r, "Content-Range", "bytes */%d", 10);   /* kept: a 416 needs it */
    resp_header(&r, "Content-Length", "%d", 999);         /* replaced by the error body's */
    resp_error(&r, OCI_BLOB_UNKNOWN, NULL, "sha256:\"x\"/y");
    const char *out = buf_cstr(&f.out);
    const char *body = "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown to registry\","
                       "\"detail\":\"sha256:\\\"x\\\"/y\"}]}";
    char *want = NULL;
    size_t blen = strlen(body);
    ck_assert_int_ne(asprintf(&want, "Status: 404 Not Found\r\nContent-Range: bytes */10\r\n"
                                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                              blen, body), -1);
    ck_assert_str_eq(out, want);
    free(want);
    ck_assert_int_eq(f.aborted, 0);
    resp_free(&r);
    buf_free(&f.out);

    fake_init(&f, NULL);
    resp_init(&r, &fake_ops, &f);
    resp_error(&r, OCI_TOO_LARGE, "manifest too big", NULL);
    ck_assert_ptr_nonnull(strstr(buf_cstr(&f.out), "Status: 413 "));
    ck_assert_ptr_nonnull(strstr(buf_cstr(&f.out),
        "{\"errors\":[{\"code\":\"SIZE_INVALID\",\"message\":\"manifest too big\"}]}"));
    resp_free(&r);
    buf_free(&f.out);
}
END_TEST

START_TEST(http_resp_error_head_only)
{
    struct fake_io f;
    fake_init(&f, NULL);
    struct response r;
    resp_init(&r, &fake_ops, &f);
    r.head_only = 1;
    resp_error(&r, OCI_MANIFEST_UNKNOWN, NULL, NULL);
    const char *out = buf_cstr(&f.out);
    ck_assert_ptr_nonnull(strstr(out, "Status: 404 Not Found\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "Content-Length: "));
    ck_assert_ptr_null(strstr(out, "errors"));   /* no body on HEAD */
    ck_assert_uint_gt(r.body_bytes, 0);
    resp_free(&r);
    buf_free(&f.out);
}
END_TEST

START_TEST(http_resp_error_after_head_aborts)
{
    struct fake_io f;
    fake_init(&f, NULL);
    struct response r;
    resp_init(&r, &fake_ops, &f);
    ck_assert_int_eq(resp_write(&r, "partial", 7), 0);
    size_t len = f.out.len;
    resp_error(&r, OCI_UNAVAILABLE, NULL, NULL);
    ck_assert_int_eq(f.aborted, 1);
    ck_assert_int_eq(r.aborted, 1);
    ck_assert_uint_eq(f.out.len, len);   /* no JSON glued onto the body */
    ck_assert_int_eq(resp_write(&r, "x", 1), -1);
    resp_abort(&r);
    ck_assert_int_eq(f.aborted, 1);   /* only once */
    resp_free(&r);
    buf_free(&f.out);
}
END_TEST

START_TEST(http_resp_write_failure)
{
    struct fake_io f;
    fake_init(&f, NULL);
    f.write_fail = 1;
    struct response r;
    resp_init(&r, &fake_ops, &f);
    ck_assert_int_eq(resp_write(&r, "x", 1), -1);
    ck_assert_int_eq(r.aborted, 1);
    ck_assert_int_eq(resp_write(&r, "x", 1), -1);
    resp_free(&r);
    buf_free(&f.out);
}
END_TEST

START_TEST(http_errors_table)
{
    ck_assert_str_eq(oci_err_code(OCI_BLOB_UPLOAD_INVALID), "BLOB_UPLOAD_INVALID");
    ck_assert_int_eq(oci_err_status(OCI_BLOB_UPLOAD_UNKNOWN), 404);
    ck_assert_int_eq(oci_err_status(OCI_DIGEST_INVALID), 400);
    ck_assert_int_eq(oci_err_status(OCI_MANIFEST_BLOB_UNKNOWN), 400);
    ck_assert_int_eq(oci_err_status(OCI_NAME_INVALID), 400);
    ck_assert_int_eq(oci_err_status(OCI_NAME_UNKNOWN), 404);
    ck_assert_int_eq(oci_err_status(OCI_UNAUTHORIZED), 401);
    ck_assert_int_eq(oci_err_status(OCI_DENIED), 403);
    ck_assert_int_eq(oci_err_status(OCI_UNSUPPORTED), 405);
    ck_assert_int_eq(oci_err_status(OCI_TOOMANYREQUESTS), 429);
    ck_assert_int_eq(oci_err_status(OCI_RANGE_INVALID), 416);
    ck_assert_str_eq(oci_err_code(OCI_RANGE_INVALID), "RANGE_INVALID");
    ck_assert_int_eq(oci_err_status(OCI_UNAVAILABLE), 503);
    ck_assert_str_eq(oci_err_code(OCI_INTERNAL), "UNKNOWN");
    ck_assert_int_eq(oci_err_status(OCI_INTERNAL), 500);
    ck_assert_str_eq(oci_err_code(OCI_NOT_FOUND), "NOT_FOUND");
    ck_assert_str_eq(oci_err_code(OCI_METHOD), "UNSUPPORTED");
    ck_assert_int_eq(oci_err_status(OCI_METHOD), 405);
    for (int e = 0; e < OCI_ERR_COUNT; e++) {
        ck_assert_ptr_nonnull(oci_err_code((enum oci_err)e));
        ck_assert_ptr_nonnull(oci_err_default_message((enum oci_err)e));
        ck_assert_str_ne(http_reason(oci_err_status((enum oci_err)e)), "Unknown");
    }
}
END_TEST

Suite *suite_http(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("http");
    tcase_add_test(tc, http_req_init_split);
    tcase_add_test(tc, http_req_header);
    tcase_add_test(tc, http_req_read_respects_length);
    tcase_add_test(tc, http_req_read_unknown_length);
    tcase_add_test(tc, http_req_read_errors);
    tcase_add_test(tc, http_req_drain);
    tcase_add_test(tc, http_resp_head_and_body);
    tcase_add_test(tc, http_resp_finish_only);
    tcase_add_test(tc, http_resp_head_only);
    tcase_add_test(tc, http_resp_error_json);
    tcase_add_test(tc, http_resp_error_head_only);
    tcase_add_test(tc, http_resp_error_after_head_aborts);
    tcase_add_test(tc, http_resp_write_failure);
    tcase_add_test(tc, http_errors_table);
    suite_add_tcase(s, tc);
    return s;
}
