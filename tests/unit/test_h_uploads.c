/* The upload handler (core/registry/h_uploads.c over core/registry/upload.c):
 * POST starts a session (or mounts, or takes a whole blob with ?digest=),
 * PATCH appends, GET reports progress, PUT completes against the digest,
 * DELETE cancels; sessions are files in a temporary statedir, the chunks
 * live in the fake store (tests/unit/fake_store.h, standing in for Kubo),
 * which keeps them in memory, joins them and links committed blobs. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "tests/unit/unit.h"
#include "tests/unit/handler_env.h"
#include "core/metrics.h"
#include "core/names.h"
#include "core/registry/upload.h"
#include "core/xalloc.h"

#define FOO_DIGEST "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae" /* sha256("foo") */
#define BAR_DIGEST "sha256:fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9" /* sha256("bar") */
#define EMPTY_DIGEST "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" /* sha256("") */
#define UPLOADS "/v2/repo/blobs/uploads/"

#define UP_URI_MAX 320   /* an upload URL with a sha512 digest in its query */

/* "/v2/repo/blobs/uploads/<id><query>" into uri. */
static const char *up_uri(char uri[UP_URI_MAX], const char *id, const char *query)
{
    snprintf(uri, UP_URI_MAX, UPLOADS "%s%s", id, query);
    return uri;
}

/* Asserts an answer about session id of "repo" holding n bytes: its
 * Location, Range and Docker-Upload-UUID. */
static void up_session_headers(const char *out, const char *id, unsigned long long n)
{
    char want[128];
    snprintf(want, sizeof want, UPLOADS "%s", id);
    fake_resp_header_is(out, "Location", want);
    snprintf(want, sizeof want, "0-%llu", n ? n - 1 : 0);
    fake_resp_header_is(out, "Range", want);
    fake_resp_header_is(out, "Docker-Upload-UUID", id);
}

/* POSTs a new session in "repo" and, unless bytes is NULL, PATCHes bytes
 * into it; its URL goes to uri. Returns its id (caller frees). */
static char *up_start(const char *bytes, char uri[UP_URI_MAX])
{
    char *out = handler_env_expect("POST", UPLOADS, NULL, 202, NULL);
    char *id = fake_resp_header(out, "Docker-Upload-UUID");
    ck_assert_ptr_nonnull(id);
    ck_assert_msg(upload_id_valid(id), "%s", id);
    up_session_headers(out, id, 0);
    fake_resp_header_is(out, "Content-Length", "0");
    ck_assert_str_eq(fake_resp_body(out), "");
    free(out);
    up_uri(uri, id, "");
    if (bytes)
        handler_env_check("PATCH", uri, bytes, 202, NULL);
    return id;
}

/* Asserts session id (of "repo") holds n bytes, as GET reports it. */
static void up_status_is(const char *id, unsigned long long n)
{
    char uri[UP_URI_MAX];
    char *out = handler_env_expect("GET", up_uri(uri, id, ""), NULL, 204, NULL);
    up_session_headers(out, id, n);
    ck_assert_str_eq(fake_resp_body(out), "");
    free(out);
}

/* Asserts the blob d of name holds exactly bytes in the fake store. */
static void up_blob_is(const char *name, const char *d, const char *bytes)
{
    struct digest dd;
    ck_assert_int_eq(digest_parse(d, &dd), DIGEST_PARSE_OK);
    const struct buf *b = fake_store_blob(&henv.store, name, &dd);
    ck_assert_msg(b != NULL, "blob %s not linked into %s", d, name);
    ck_assert_str_eq(buf_cstr(b), bytes);
}

/* The last blob_commit (or blob_mount) was for d in name. */
static void up_committed(const char *name, const char *d)
{
    char s[DIGEST_STR_MAX];
    ck_assert_str_eq(henv.store.last_name, name);
    ck_assert_str_eq(digest_str(&henv.store.last_digest, s), d);
}

START_TEST(upload_post_starts_session)
{
    char uri[UP_URI_MAX], *id = up_start(NULL, uri);
    ck_assert_int_eq(handler_env_session_files(), 2);
    ck_assert_int_eq(fake_store_total_calls(&henv.store), 0);   /* nothing staged yet */
    up_status_is(id, 0);
    free(id);
    /* the path without the trailing slash is the same endpoint */
    handler_env_check("POST", "/v2/repo/blobs/uploads", NULL, 202, NULL);
    ck_assert_int_eq(handler_env_session_files(), 4);
}
END_TEST

START_TEST(upload_patch_and_status)
{
    char uri[UP_URI_MAX], *id = up_start(NULL, uri);
    char *out = handler_env_expect("PATCH", uri, "hello ", 202, NULL);
    up_session_headers(out, id, 6);
    fake_resp_header_is(out, "Content-Length", "0");
    ck_assert_int_eq(henv.store.calls[FAKE_CHUNK_PUT], 1);
    free(out);
    up_status_is(id, 6);
    /* a chunk that says where it starts, at the right place */
    fake_edge_param(&henv.edge, "HTTP_CONTENT_RANGE", "6-10");
    out = handler_env_expect("PATCH", uri, "world", 202, NULL);
    up_session_headers(out, id, 11);
    free(out);
    henv.edge.nparams = 0;
    out = handler_env_expect("HEAD", uri, NULL, 204, NULL);
    up_session_headers(out, id, 11);
    ck_assert_str_eq(fake_resp_body(out), "");
    free(out);
    /* an empty PATCH changes nothing and stages nothing */
    out = handler_env_expect("PATCH", uri, NULL, 202, NULL);
    up_session_headers(out, id, 11);
    free(out);
    ck_assert_int_eq(henv.store.calls[FAKE_CHUNK_PUT], 2);
    free(id);
}
END_TEST

/* A chunk that does not start at the offset is 416 with the current Range;
 * a malformed or inconsistent Content-Range is 400; neither moves the session. */
START_TEST(upload_patch_bad_content_range)
{
    char uri[UP_URI_MAX], *id = up_start("foo", uri);
    fake_edge_param(&henv.edge, "HTTP_CONTENT_RANGE", "0-2");
    char *out = handler_env_expect("PATCH", uri, "bar", 416, "RANGE_INVALID");
    up_session_headers(out, id, 3);
    free(out);
    henv.edge.param_values[0] = "bytes=x-y";
    handler_env_check("PATCH", uri, "bar", 400, "BLOB_UPLOAD_INVALID");
    henv.edge.param_values[0] = "3-5";
    handler_env_check("PATCH", uri, "ba", 400, "BLOB_UPLOAD_INVALID");   /* Content-Length 2 */
    ck_assert_int_eq(henv.store.calls[FAKE_CHUNK_PUT], 1);
    up_status_is(id, 3);
    handler_env_check("PATCH", uri, "bar", 202, NULL);
    henv.edge.nparams = 0;
    up_status_is(id, 6);
    free(id);
}
END_TEST

START_TEST(upload_put_completes)
{
    char uri[UP_URI_MAX], *id = up_start("foo", uri);
    char *out = handler_env_expect("PUT", up_uri(uri, id, "?digest=" FOO_DIGEST), NULL, 201, NULL);
    fake_resp_header_is(out, "Location", "/v2/repo/blobs/" FOO_DIGEST);
    fake_resp_header_is(out, "Docker-Content-Digest", FOO_DIGEST);
    fake_resp_header_is(out, "Content-Length", "0");
    fake_resp_header_is(out, "Docker-Upload-UUID", NULL);
    ck_assert_str_eq(fake_resp_body(out), "");
    free(out);
    ck_assert_int_eq(henv.store.calls[FAKE_BLOB_COMMIT], 1);
    up_committed("repo", FOO_DIGEST);
    up_blob_is("repo", FOO_DIGEST, "foo");
    ck_assert_int_eq(henv.store.calls[FAKE_CONTENT_READ], 0);   /* hashed while streaming */
    /* the session is gone, its staged chunks too */
    ck_assert_int_eq(handler_env_session_files(), 0);
    ck_assert_str_eq(henv.store.last_upload_id, id);
    handler_env_check("GET", up_uri(uri, id, ""), NULL, 404, "BLOB_UPLOAD_UNKNOWN");
    out = handler_env_expect("GET", "/v2/repo/blobs/" FOO_DIGEST, NULL, 200, NULL);
    ck_assert_str_eq(fake_resp_body(out), "foo");
    free(out);
    free(id);
}
END_TEST

/* The PUT may carry the last chunk. */
START_TEST(upload_put_with_last_chunk)
{
    char uri[UP_URI_MAX], *id = up_start("fo", uri);
    handler_env_check("PUT", up_uri(uri, id, "?digest=" FOO_DIGEST), "o", 201, NULL);
    ck_assert_int_eq(henv.store.calls[FAKE_CHUNK_PUT], 2);
    ck_assert_int_eq(henv.store.calls[FAKE_CHUNKS_JOIN], 1);
    up_committed("repo", FOO_DIGEST);
    up_blob_is("repo", FOO_DIGEST, "foo");
    free(id);
}
END_TEST

/* A PUT with the last chunk that the store fails leaves the session as it
 * was: the client's retry of the same PUT, body and all, completes it. */
START_TEST(upload_put_retry_with_chunk)
{
    char uri[UP_URI_MAX], *id = up_start("fo", uri);
    up_uri(uri, id, "?digest=" FOO_DIGEST);
    henv.store.fail[FAKE_BLOB_COMMIT] = STORE_UNAVAILABLE;
    handler_env_check("PUT", uri, "o", 503, "UNAVAILABLE");
    up_status_is(id, 2);
    henv.store.fail[FAKE_BLOB_COMMIT] = 0;
    handler_env_check("PUT", uri, "o", 201, NULL);
    up_blob_is("repo", FOO_DIGEST, "foo");
    free(id);
}
END_TEST

START_TEST(upload_put_wrong_digest)
{
    char uri[UP_URI_MAX], *id = up_start("foo", uri);
    /* no digest, or not one: refused, the session stays as it was */
    handler_env_check("PUT", up_uri(uri, id, ""), NULL, 400, "DIGEST_INVALID");
    handler_env_check("PUT", up_uri(uri, id, "?digest=sha256:abc"), NULL, 400, "DIGEST_INVALID");
    up_status_is(id, 3);
    /* the content is not what the digest says: nothing committed, the session dropped */
    up_uri(uri, id, "?digest=" BAR_DIGEST);
    char *out = handler_env_expect("PUT", uri, NULL, 400, "DIGEST_INVALID");
    ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "\"detail\":\"" FOO_DIGEST "\""));
    free(out);
    ck_assert_int_eq(henv.store.calls[FAKE_BLOB_COMMIT], 0);
    ck_assert_int_eq((int)henv.store.nblobs, 0);
    ck_assert_int_eq(handler_env_session_files(), 0);
    handler_env_check("PATCH", up_uri(uri, id, ""), "foo", 404, "BLOB_UPLOAD_UNKNOWN");
    free(id);
}
END_TEST

/* POST ?digest= with the whole blob as its body: 201 at once, no session left. */
START_TEST(upload_monolithic)
{
    char *out = handler_env_expect("POST", UPLOADS "?digest=" FOO_DIGEST, "foo", 201, NULL);
    fake_resp_header_is(out, "Location", "/v2/repo/blobs/" FOO_DIGEST);
    fake_resp_header_is(out, "Docker-Content-Digest", FOO_DIGEST);
    fake_resp_header_is(out, "Docker-Upload-UUID", NULL);
    free(out);
    up_committed("repo", FOO_DIGEST);
    up_blob_is("repo", FOO_DIGEST, "foo");
    ck_assert_int_eq(handler_env_session_files(), 0);
    /* the wrong digest: nothing committed, nothing left */
    handler_env_check("POST", UPLOADS "?digest=" BAR_DIGEST, "foo", 400, "DIGEST_INVALID");
    ck_assert_int_eq(henv.store.calls[FAKE_BLOB_COMMIT], 1);
    ck_assert_int_eq(handler_env_session_files(), 0);
    /* an empty blob never reaches the chunk store */
    handler_env_check("POST", UPLOADS "?digest=" EMPTY_DIGEST, NULL, 201, NULL);
    ck_assert_int_eq(henv.store.calls[FAKE_CHUNK_PUT], 2);
    up_blob_is("repo", EMPTY_DIGEST, "");
    /* a digest that is none: refused before any session is made */
    handler_env_check("POST", UPLOADS "?digest=foo", "foo", 400, "DIGEST_INVALID");
    ck_assert_int_eq(handler_env_session_files(), 0);
}
END_TEST

/* A body without Content-Length (chunked) is read to its end, here in
 * pieces and longer than the handler's first read. */
START_TEST(upload_unknown_length)
{
    enum { N = 100000 };
    char uri[UP_URI_MAX], ds[DIGEST_STR_MAX], *body = xmalloc(N + 1), *id = up_start(NULL, uri);
    struct digest d;
    for (size_t i = 0; i < N; i++)
        body[i] = (char)('a' + i % 26);
    body[N] = '\0';
    digest_of(DIGEST_SHA256, body, N, &d);
    digest_str(&d, ds);
    henv.edge.read_max = 1000;
    char *out = handler_env_send("PATCH", uri, body, N, NULL);
    ck_assert_int_eq(fake_resp_status(out), 202);
    up_session_headers(out, id, N);
    free(out);
    snprintf(uri, sizeof uri, UPLOADS "%s?digest=%s", id, ds);
    handler_env_check("PUT", uri, NULL, 201, NULL);
    up_blob_is("repo", ds, body);
    /* the same as one monolithic POST */
    fake_store_free(&henv.store);
    fake_store_init(&henv.store);
    snprintf(uri, sizeof uri, UPLOADS "?digest=%s", ds);
    out = handler_env_send("POST", uri, body, N, NULL);
    ck_assert_int_eq(fake_resp_status(out), 201);
    free(out);
    up_blob_is("repo", ds, body);
    free(body);
    free(id);
}
END_TEST

/* A body shorter than its Content-Length (the client went away) is refused
 * and leaves the session as it was. */
START_TEST(upload_body_ends_early)
{
    char uri[UP_URI_MAX], *id = up_start(NULL, uri);
    char *out = handler_env_send("PATCH", uri, "fo", 2, "3");
    ck_assert_int_eq(fake_resp_status(out), 400);
    ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "\"code\":\"BLOB_UPLOAD_INVALID\""));
    free(out);
    up_status_is(id, 0);
    free(id);
}
END_TEST

START_TEST(upload_delete)
{
    char uri[UP_URI_MAX], *id = up_start("foo", uri);
    char *out = handler_env_expect("DELETE", uri, NULL, 204, NULL);
    fake_resp_header_is(out, "Content-Length", "0");
    ck_assert_str_eq(fake_resp_body(out), "");
    free(out);
    ck_assert_int_eq(henv.store.calls[FAKE_UPLOAD_DISCARD], 1);
    ck_assert_str_eq(henv.store.last_upload_id, id);
    ck_assert_int_eq(handler_env_session_files(), 0);
    handler_env_check("PATCH", uri, "foo", 404, "BLOB_UPLOAD_UNKNOWN");
    handler_env_check("DELETE", uri, NULL, 404, "BLOB_UPLOAD_UNKNOWN");
    ck_assert_int_eq(henv.store.calls[FAKE_BLOB_COMMIT], 0);
    free(id);
}
END_TEST

/* A session belongs to its repository; ids that name no session are unknown. */
START_TEST(upload_unknown_sessions)
{
    char uri[UP_URI_MAX], *id = up_start(NULL, uri);
    snprintf(uri, sizeof uri, "/v2/other/blobs/uploads/%s", id);
    handler_env_check("PATCH", uri, "foo", 404, "BLOB_UPLOAD_UNKNOWN");
    handler_env_check("GET", UPLOADS "0123456789abcdef0123456789abcdef", NULL, 404, "BLOB_UPLOAD_UNKNOWN");
    handler_env_check("GET", UPLOADS "not-an-id", NULL, 404, "BLOB_UPLOAD_UNKNOWN");
    handler_env_check("PUT", UPLOADS "..%2f..%2fx?digest=" FOO_DIGEST, NULL, 404, "BLOB_UPLOAD_UNKNOWN");
    ck_assert_int_eq(henv.store.calls[FAKE_CHUNK_PUT], 0);
    up_status_is(id, 0);
    free(id);
}
END_TEST

/* Another request holds the session: 416, so the client retries. */
START_TEST(upload_session_busy)
{
    char uri[UP_URI_MAX], *id = up_start(NULL, uri);
    struct upload u;
    ck_assert_int_eq(upload_open(henv.statedir, id, &u), UPLOAD_OK);
    handler_env_check("PATCH", uri, "foo", 416, "RANGE_INVALID");
    ck_assert_int_eq(henv.store.calls[FAKE_CHUNK_PUT], 0);
    upload_close(&u);
    up_status_is(id, 0);
    free(id);
}
END_TEST

/* An expired session is unknown and removed, its chunks discarded; one
 * that never had a chunk costs no store call. */
START_TEST(upload_session_expired)
{
    char uri[UP_URI_MAX], *id = up_start("bar", uri);
    char uri2[UP_URI_MAX], *id2 = up_start(NULL, uri2);
    henv.reg.opts.upload_expiry = -1;
    handler_env_check("PATCH", uri, "foo", 404, "BLOB_UPLOAD_UNKNOWN");
    ck_assert_int_eq(henv.store.calls[FAKE_CHUNK_PUT], 1);
    ck_assert_int_eq(henv.store.calls[FAKE_UPLOAD_DISCARD], 1);
    ck_assert_str_eq(henv.store.last_upload_id, id);
    ck_assert_int_eq(handler_env_session_files(), 2);
    handler_env_check("PATCH", uri2, "foo", 404, "BLOB_UPLOAD_UNKNOWN");
    ck_assert_int_eq(henv.store.calls[FAKE_UPLOAD_DISCARD], 1);
    ck_assert_int_eq(handler_env_session_files(), 0);
    free(id2);
    free(id);
}
END_TEST

/* At most max_upload_sessions open: one more POST (a session, or a whole
 * blob) is 429 TOOMANYREQUESTS with Retry-After, and makes nothing; one
 * that ends makes room. */
START_TEST(upload_max_sessions)
{
    henv.reg.opts.max_upload_sessions = 2;
    char uri[UP_URI_MAX], *id = up_start(NULL, uri);
    char uri2[UP_URI_MAX], *id2 = up_start("fo", uri2);
    struct metrics_counters before, after;
    metrics_snapshot(&before);
    char *out = handler_env_expect("POST", UPLOADS, NULL, 429, "TOOMANYREQUESTS");
    fake_resp_header_is(out, "Retry-After", "10");
    ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "max_upload_sessions"));
    free(out);
    handler_env_check("POST", UPLOADS "?digest=" FOO_DIGEST, "foo", 429, "TOOMANYREQUESTS");
    metrics_snapshot(&after);
    ck_assert_uint_eq(after.uploads_refused[METRICS_REFUSED_SESSIONS] -
                      before.uploads_refused[METRICS_REFUSED_SESSIONS], 2);
    ck_assert_int_eq(handler_env_session_files(), 4);
    ck_assert_uint_eq(upload_open_count(), 2);
    /* a mount needs no session */
    fake_store_add_blob(&henv.store, "repo", "foo", NULL);
    handler_env_check("POST", "/v2/other/blobs/uploads/?mount=" FOO_DIGEST "&from=repo", NULL, 201, NULL);
    /* one completes, one is cancelled: room for two */
    handler_env_check("PUT", up_uri(uri2, id2, "?digest=" FOO_DIGEST), "o", 201, NULL);
    handler_env_check("DELETE", up_uri(uri, id, ""), NULL, 204, NULL);
    ck_assert_uint_eq(upload_open_count(), 0);
    free(up_start(NULL, uri));
    handler_env_check("POST", UPLOADS "?digest=" FOO_DIGEST, "foo", 201, NULL);
    free(id2);
    free(id);
}
END_TEST

/* Expired sessions are swept between requests (registry_maintain), never
 * inside one, and that makes room under max_upload_sessions; one that
 * never had a chunk costs no store call. */
START_TEST(upload_sweep_between_requests)
{
    henv.reg.opts.max_upload_sessions = 2;
    char uri[UP_URI_MAX], *id = up_start(NULL, uri);
    char uri2[UP_URI_MAX], *id2 = up_start("foo", uri2);
    registry_maintain(&henv.reg);   /* a first sweep: nothing old */
    ck_assert_int_eq(handler_env_session_files(), 4);
    /* both expire: a POST still finds no room (it does not sweep) */
    henv.reg.opts.upload_expiry = -1;
    handler_env_check("POST", UPLOADS, NULL, 429, "TOOMANYREQUESTS");
    /* the next turn: this worker looks at most once a second, and the last
     * sweep was long ago */
    henv.reg.last_sweep = 0;
    char *stamp = xasprintf("%s/uploads/.sweep", henv.statedir);
    struct timespec past[2] = { { .tv_sec = time(NULL) - 100 }, { .tv_sec = time(NULL) - 100 } };
    ck_assert_int_eq(utimensat(AT_FDCWD, stamp, past, 0), 0);
    free(stamp);
    memset(henv.store.calls, 0, sizeof henv.store.calls);
    registry_maintain(&henv.reg);
    ck_assert_int_eq(henv.store.calls[FAKE_UPLOAD_DISCARD], 1);
    ck_assert_str_eq(henv.store.last_upload_id, id2);
    ck_assert_int_eq(handler_env_session_files(), 0);
    ck_assert_uint_eq(upload_open_count(), 0);
    henv.reg.opts.upload_expiry = 3600;
    handler_env_check("POST", UPLOADS, NULL, 202, NULL);
    free(id2);
    free(id);
}
END_TEST

START_TEST(upload_mount)
{
    fake_store_add_blob(&henv.store, "repo", "foo", NULL);
    char *out = handler_env_expect("POST", "/v2/other/blobs/uploads/?mount=" FOO_DIGEST "&from=repo", NULL,
                                   201, NULL);
    fake_resp_header_is(out, "Location", "/v2/other/blobs/" FOO_DIGEST);
    fake_resp_header_is(out, "Docker-Content-Digest", FOO_DIGEST);
    fake_resp_header_is(out, "Content-Length", "0");
    fake_resp_header_is(out, "Docker-Upload-UUID", NULL);
    free(out);
    up_committed("other", FOO_DIGEST);
    ck_assert_str_eq(henv.store.last_from, "repo");
    up_blob_is("other", FOO_DIGEST, "foo");
    ck_assert_int_eq(handler_env_session_files(), 0);
    /* without from: from anywhere in the store */
    handler_env_check("POST", "/v2/third/blobs/uploads/?mount=" FOO_DIGEST, NULL, 201, NULL);
    ck_assert_str_eq(henv.store.last_from, "");
    up_blob_is("third", FOO_DIGEST, "foo");
    ck_assert_int_eq(henv.store.calls[FAKE_BLOB_MOUNT], 2);
}
END_TEST

/* A mount the store cannot make becomes an ordinary session, as the spec asks. */
START_TEST(upload_mount_falls_back)
{
    struct digest foo;
    fake_store_add_blob(&henv.store, "repo", "foo", &foo);
    char *out = handler_env_expect("POST", UPLOADS "?mount=" BAR_DIGEST "&from=other", NULL, 202, NULL);
    char *id = fake_resp_header(out, "Docker-Upload-UUID");
    ck_assert_ptr_nonnull(id);
    up_session_headers(out, id, 0);
    free(out);
    free(id);
    ck_assert_int_eq(henv.store.calls[FAKE_BLOB_MOUNT], 1);
    /* the blob exists, but not in from */
    handler_env_check("POST", "/v2/other/blobs/uploads/?mount=" FOO_DIGEST "&from=third", NULL, 202, NULL);
    ck_assert_int_eq(henv.store.calls[FAKE_BLOB_MOUNT], 2);
    /* a from or a digest that is none: no store call at all */
    handler_env_check("POST", "/v2/other/blobs/uploads/?mount=" FOO_DIGEST "&from=Repo", NULL, 202, NULL);
    handler_env_check("POST", "/v2/other/blobs/uploads/?mount=foo&from=repo", NULL, 202, NULL);
    ck_assert_int_eq(henv.store.calls[FAKE_BLOB_MOUNT], 2);
    ck_assert_int_eq(handler_env_session_files(), 8);
    ck_assert_ptr_null(fake_store_blob(&henv.store, "other", &foo));
}
END_TEST

/* The IPFS node is down: 503 (retry later), and no session is left half-changed. */
START_TEST(upload_store_unavailable)
{
    char uri[UP_URI_MAX], *id = up_start(NULL, uri);
    henv.store.fail[FAKE_CHUNK_PUT] = STORE_UNAVAILABLE;
    char *out = handler_env_expect("PATCH", uri, "foo", 503, "UNAVAILABLE");
    /* with what the node said */
    ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "\"detail\":\"fake: the operation was told to fail"));
    free(out);
    up_status_is(id, 0);
    henv.store.fail[FAKE_CHUNK_PUT] = 0;
    handler_env_check("PATCH", uri, "foo", 202, NULL);
    /* a failed commit keeps the session: the PUT can be retried */
    up_uri(uri, id, "?digest=" FOO_DIGEST);
    henv.store.fail[FAKE_BLOB_COMMIT] = STORE_UNAVAILABLE;
    handler_env_check("PUT", uri, NULL, 503, "UNAVAILABLE");
    ck_assert_int_eq(handler_env_session_files(), 2);
    henv.store.fail[FAKE_CHUNKS_JOIN] = STORE_ERROR;
    handler_env_check("PUT", uri, NULL, 500, "UNKNOWN");
    ck_assert_int_eq(handler_env_session_files(), 2);
    henv.store.fail[FAKE_CHUNKS_JOIN] = 0;
    henv.store.fail[FAKE_BLOB_COMMIT] = 0;
    handler_env_check("PUT", uri, NULL, 201, NULL);
    up_blob_is("repo", FOO_DIGEST, "foo");
    /* a monolithic POST cannot be retried by session: none is left */
    henv.store.fail[FAKE_BLOB_COMMIT] = STORE_UNAVAILABLE;
    handler_env_check("POST", UPLOADS "?digest=" FOO_DIGEST, "foo", 503, "UNAVAILABLE");
    ck_assert_int_eq(handler_env_session_files(), 0);
    /* and a mount the node cannot answer is not turned into a session */
    henv.store.fail[FAKE_BLOB_MOUNT] = STORE_UNAVAILABLE;
    handler_env_check("POST", UPLOADS "?mount=" FOO_DIGEST "&from=other", NULL, 503, "UNAVAILABLE");
    ck_assert_int_eq(handler_env_session_files(), 0);
    free(id);
}
END_TEST

/* Completing with another algorithm than the session hashed with reads the
 * content back once; a session started with that algorithm does not. */
START_TEST(upload_other_algorithm)
{
    char uri[UP_URI_MAX], ds[DIGEST_STR_MAX], *id = up_start("foo", uri);
    struct digest d;
    digest_of(DIGEST_SHA512, "foo", 3, &d);
    digest_str(&d, ds);
    snprintf(uri, sizeof uri, UPLOADS "%s?digest=%s", id, ds);
    handler_env_check("PUT", uri, NULL, 201, NULL);
    ck_assert_int_eq(henv.store.calls[FAKE_CONTENT_READ], 1);
    up_committed("repo", ds);
    up_blob_is("repo", ds, "foo");
    free(id);

    char *out = handler_env_expect("POST", UPLOADS "?digest-algorithm=sha512", NULL, 202, NULL);
    id = fake_resp_header(out, "Docker-Upload-UUID");
    free(out);
    handler_env_check("PATCH", up_uri(uri, id, ""), "foo", 202, NULL);
    snprintf(uri, sizeof uri, UPLOADS "%s?digest=%s", id, ds);
    handler_env_check("PUT", uri, NULL, 201, NULL);
    ck_assert_int_eq(henv.store.calls[FAKE_CONTENT_READ], 1);
    free(id);

    handler_env_check("POST", UPLOADS "?digest-algorithm=md5", NULL, 400, "DIGEST_INVALID");
    ck_assert_int_eq(handler_env_session_files(), 0);
}
END_TEST

Suite *suite_h_uploads(void)
{
    Suite *s = suite_create("h_uploads");
    TCase *tc = tcase_create("h_uploads");
    tcase_add_checked_fixture(tc, handler_env_setup, handler_env_teardown);
    tcase_add_test(tc, upload_post_starts_session);
    tcase_add_test(tc, upload_patch_and_status);
    tcase_add_test(tc, upload_patch_bad_content_range);
    tcase_add_test(tc, upload_put_completes);
    tcase_add_test(tc, upload_put_with_last_chunk);
    tcase_add_test(tc, upload_put_retry_with_chunk);
    tcase_add_test(tc, upload_put_wrong_digest);
    tcase_add_test(tc, upload_monolithic);
    tcase_add_test(tc, upload_unknown_length);
    tcase_add_test(tc, upload_body_ends_early);
    tcase_add_test(tc, upload_delete);
    tcase_add_test(tc, upload_unknown_sessions);
    tcase_add_test(tc, upload_session_busy);
    tcase_add_test(tc, upload_session_expired);
    tcase_add_test(tc, upload_max_sessions);
    tcase_add_test(tc, upload_sweep_between_requests);
    tcase_add_test(tc, upload_mount);
    tcase_add_test(tc, upload_mount_falls_back);
    tcase_add_test(tc, upload_store_unavailable);
    tcase_add_test(tc, upload_other_algorithm);
    suite_add_tcase(s, tc);
    return s;
}
