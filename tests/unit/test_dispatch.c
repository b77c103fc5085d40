/* Dispatch (core/registry/registry.c): registry_handle() sends every route
 * and method to the handler its table names, or answers 405 with the Allow
 * header derived from the table; the rules every repository route shares
 * come first (an authenticated user for writes when required, the name
 * grammar, OCI layouts on IPFS, read-only mode); the
 * metrics path; HEAD without a body. The handlers run for real over the fake
 * store (tests/unit/fake_store.h, standing in for Kubo), so the handler that
 * was reached shows in the status and in the store operation it called.
 * handler_env_run checks the API version header on every answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "tests/unit/handler_env.h"
#include "core/xalloc.h"

#define FOO_DIGEST "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae" /* sha256("foo") */
#define LAYOUT_NAME "ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
#define CIDV0_NAME "ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"
/* an image index with no entries: a manifest that references nothing */
#define EMPTY_INDEX "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}"
#define NO_CALL (-1)   /* the handler answers without asking the store */

static void setup(void)
{
    handler_env_setup();
    fake_store_add_blob(&henv.store, "repo", "foo", NULL);
}

/* A new upload session in "repo"; returns its id (caller frees). */
static char *dsp_session(void)
{
    char *out = handler_env_expect("POST", "/v2/repo/blobs/uploads/", NULL, 202, NULL);
    char *id = fake_resp_header(out, "Docker-Upload-UUID");
    ck_assert_ptr_nonnull(id);
    free(out);
    return id;
}

/* --- every route kind x every method --- */

static const char *const dsp_methods[] = { "GET", "HEAD", "POST", "PATCH", "PUT", "DELETE" };
#define DSP_METHODS (sizeof dsp_methods / sizeof dsp_methods[0])

/* One path per route kind, the methods its Allow header lists, and what
 * each of those methods answers there: the status and the store operation
 * that shows which handler ran. Every other method must be 405. */
static const struct dsp_route {
    const char *path;    /* "%s": the id of a fresh upload session */
    const char *allow;
    struct {
        const char *method, *query, *body;
        int status, op;
    } ok[5];
} dsp_routes[] = {
    { "/v2/", "GET, HEAD",
      { { "GET", "", NULL, 200, NO_CALL }, { "HEAD", "", NULL, 200, NO_CALL } } },
    { "/v2/_catalog", "GET, HEAD",
      { { "GET", "", NULL, 200, FAKE_CATALOG }, { "HEAD", "", NULL, 200, FAKE_CATALOG } } },
    { "/v2/_p2p/health", "GET, HEAD",
      { { "GET", "", NULL, 200, FAKE_PING }, { "HEAD", "", NULL, 200, FAKE_PING } } },
    { "/v2/repo/blobs/" FOO_DIGEST, "GET, HEAD, DELETE",
      { { "GET", "", NULL, 200, FAKE_BLOB_READ }, { "HEAD", "", NULL, 200, FAKE_BLOB_STAT },
        { "DELETE", "", NULL, 202, FAKE_BLOB_UNLINK } } },
    { "/v2/other/blobs/uploads/", "POST",
      { { "POST", "?mount=" FOO_DIGEST "&from=repo", NULL, 201, FAKE_BLOB_MOUNT } } },
    { "/v2/repo/blobs/uploads/%s", "GET, HEAD, PATCH, PUT, DELETE",
      { { "GET", "", NULL, 204, NO_CALL }, { "HEAD", "", NULL, 204, NO_CALL },
        { "PATCH", "", "foo", 202, FAKE_CHUNK_PUT },
        { "PUT", "?digest=" FOO_DIGEST, "foo", 201, FAKE_BLOB_COMMIT },
        { "DELETE", "", NULL, 204, NO_CALL } } },   /* nothing staged: nothing to discard */
    { "/v2/repo/manifests/latest", "GET, HEAD, PUT, DELETE",
      { { "GET", "", NULL, 404, FAKE_TAG_RESOLVE }, { "HEAD", "", NULL, 404, FAKE_TAG_RESOLVE },
        { "PUT", "", EMPTY_INDEX, 201, FAKE_MANIFEST_PUT },
        { "DELETE", "", NULL, 202, FAKE_TAG_DELETE } } },
    { "/v2/repo/tags/list", "GET, HEAD",
      { { "GET", "", NULL, 200, FAKE_TAGS_LIST }, { "HEAD", "", NULL, 200, FAKE_TAGS_LIST } } },
    { "/v2/repo/referrers/" FOO_DIGEST, "GET, HEAD",
      { { "GET", "", NULL, 200, FAKE_REFERRERS }, { "HEAD", "", NULL, 200, FAKE_REFERRERS } } },
};
#define DSP_ROUTES (sizeof dsp_routes / sizeof dsp_routes[0])

/* The request line for route r with query: a fresh session's id in place of "%s". */
static char *dsp_uri(const struct dsp_route *r, const char *query)
{
    const char *at = strstr(r->path, "%s");
    if (!at)
        return xasprintf("%s%s", r->path, query);
    char *id = dsp_session();
    char *uri = xasprintf("%.*s%s%s%s", (int)(at - r->path), r->path, id, at + 2, query);
    free(id);
    return uri;
}

/* Each route answers its own methods through its handler, and every other
 * method with 405 and exactly the Allow header the table derives. */
START_TEST(dispatch_route_method_matrix)
{
    const struct dsp_route *r = &dsp_routes[_i];
    for (size_t m = 0; m < DSP_METHODS; m++) {
        const char *method = dsp_methods[m];
        int allowed = 0;
        for (size_t k = 0; k < 5 && r->ok[k].method; k++) {
            if (strcmp(r->ok[k].method, method) != 0)
                continue;
            char *uri = dsp_uri(r, r->ok[k].query);
            memset(henv.store.calls, 0, sizeof henv.store.calls);
            char *out = handler_env_expect(method, uri, r->ok[k].body, r->ok[k].status, NULL);
            fake_resp_header_is(out, "Allow", NULL);
            if (r->ok[k].op == NO_CALL)
                ck_assert_int_eq(fake_store_total_calls(&henv.store), 0);
            else
                ck_assert_msg(henv.store.calls[r->ok[k].op] >= 1, "%s %s: store operation %d not called",
                              method, uri, r->ok[k].op);
            free(out);
            free(uri);
            allowed = 1;
        }
        /* the table's Allow lists exactly the methods answered above */
        char *listed = xasprintf(", %s,", r->allow), *word = xasprintf(" %s,", method);
        ck_assert_msg(allowed == (strstr(listed, word) != NULL), "%s %s", method, r->path);
        free(listed);
        free(word);
        if (allowed)
            continue;
        char *uri = dsp_uri(r, "");
        memset(henv.store.calls, 0, sizeof henv.store.calls);
        char *out = handler_env_expect(method, uri, NULL, 405, "UNSUPPORTED");
        fake_resp_header_is(out, "Allow", r->allow);
        ck_assert_int_eq(fake_store_total_calls(&henv.store), 0);
        free(out);
        free(uri);
    }
}
END_TEST

/* A method no row names (OPTIONS) is refused with the route's Allow too. */
START_TEST(dispatch_unknown_method)
{
    char *out = handler_env_expect("OPTIONS", "/v2/repo/blobs/" FOO_DIGEST, NULL, 405, "UNSUPPORTED");
    fake_resp_header_is(out, "Allow", "GET, HEAD, DELETE");
    ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "method not allowed on this endpoint"));
    ck_assert_int_eq(fake_store_total_calls(&henv.store), 0);
    free(out);
}
END_TEST

/* --- the rules before the table --- */

START_TEST(dispatch_unknown_paths)
{
    static const char *const paths[] = {
        "/", "/v1/", "/v2x", "/v3/repo/tags/list", "/v2/repo", "/v2/repo/blobs/", "/v2/repo/manifests/",
        "/v2/repo/tags", "/v2/_p2p/", "/v2/_p2p/Health", "/v2/repo/unknown/latest",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        for (size_t m = 0; m < DSP_METHODS; m++) {
            char *out = handler_env_expect(dsp_methods[m], paths[i], NULL, 404, "NOT_FOUND");
            fake_resp_header_is(out, "Allow", NULL);
            free(out);
        }
    }
    /* a /v2/_p2p/ word this registry has no endpoint for */
    handler_env_check("GET", "/v2/_p2p/nope", NULL, 404, "NOT_FOUND");
    ck_assert_int_eq(fake_store_total_calls(&henv.store), 0);
}
END_TEST

START_TEST(dispatch_name_invalid)
{
    static const char *const uris[] = {
        "/v2/Repo/manifests/latest", "/v2/a//b/tags/list", "/v2/-repo/blobs/" FOO_DIGEST,
        "/v2/repo./blobs/uploads/",
    };
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
        char *out = handler_env_expect("GET", uris[i], NULL, 400, "NAME_INVALID");
        ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "\"message\":\"invalid repository name\""));
        free(out);
    }
    /* before the method: a POST that no table row takes is still a bad name */
    char *out = handler_env_expect("POST", "/v2/Repo/manifests/latest", NULL, 400, "NAME_INVALID");
    fake_resp_header_is(out, "Allow", NULL);
    free(out);
    /* a CIDv0 says what to use instead */
    out = handler_env_expect("GET", "/v2/" CIDV0_NAME "/manifests/latest", NULL, 400, "NAME_INVALID");
    ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "CIDv0 (Qm...) is not a valid repository name"));
    ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "ipfs cid base32"));
    ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "\"detail\":\"" CIDV0_NAME "\""));
    free(out);
    ck_assert_int_eq(fake_store_total_calls(&henv.store), 0);
}
END_TEST

struct dsp_write {
    const char *method, *uri, *body;
};
#define DSP_REPO_WRITES 9

/* Every write on the repository routes (up: an upload session's URI), and
 * one with a method its route lacks. */
static void dsp_repo_writes(const char *up, struct dsp_write w[DSP_REPO_WRITES])
{
    const struct dsp_write all[DSP_REPO_WRITES] = {
        { "POST", "/v2/repo/blobs/uploads/", NULL },
        { "POST", "/v2/other/blobs/uploads/?mount=" FOO_DIGEST "&from=repo", NULL },
        { "PATCH", up, "foo" },
        { "PUT", up, "foo" },
        { "DELETE", up, NULL },
        { "DELETE", "/v2/repo/blobs/" FOO_DIGEST, NULL },
        { "PUT", "/v2/repo/manifests/latest", EMPTY_INDEX },
        { "DELETE", "/v2/repo/manifests/latest", NULL },
        { "POST", "/v2/repo/tags/list", NULL },   /* not even a method of the route */
    };
    memcpy(w, all, sizeof all);
}

/* The Allow of a write refused as read-only: the route's read methods,
 * none for the start of an upload (it has no read). */
static const char *dsp_read_allow(const char *uri)
{
    const char *u = strstr(uri, "/blobs/uploads/");
    size_t k = strlen("/blobs/uploads/");
    return u && (u[k] == '\0' || u[k] == '?') ? "" : "GET, HEAD";
}

/* Read-only mode refuses writes to repositories as a whole, before any
 * handler; reads go through, and /v2/ and the registry's own endpoints keep
 * the table's answers. */
START_TEST(dispatch_readonly)
{
    char *id = dsp_session();
    char *up = xasprintf("/v2/repo/blobs/uploads/%s", id);
    struct dsp_write writes[DSP_REPO_WRITES];
    dsp_repo_writes(up, writes);
    henv.reg.opts.readonly = 1;
    memset(henv.store.calls, 0, sizeof henv.store.calls);
    for (size_t i = 0; i < DSP_REPO_WRITES; i++) {
        char *out = handler_env_expect(writes[i].method, writes[i].uri, writes[i].body, 405, "UNSUPPORTED");
        ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "this registry is read-only"));
        /* RFC 9110: a 405 names what is allowed, here the route's reads */
        fake_resp_header_is(out, "Allow", dsp_read_allow(writes[i].uri));
        free(out);
    }
    ck_assert_int_eq(fake_store_total_calls(&henv.store), 0);
    ck_assert_int_eq(handler_env_session_files(), 2);   /* the session is untouched */

    char *out = handler_env_expect("GET", "/v2/repo/blobs/" FOO_DIGEST, NULL, 200, NULL);
    ck_assert_str_eq(fake_resp_body(out), "foo");
    free(out);
    handler_env_check("HEAD", "/v2/repo/blobs/" FOO_DIGEST, NULL, 200, NULL);
    handler_env_check("GET", up, NULL, 204, NULL);
    handler_env_check("GET", "/v2/", NULL, 200, NULL);
    /* /v2/ names no repository: the table answers, not the read-only rule */
    out = handler_env_expect("POST", "/v2/", NULL, 405, "UNSUPPORTED");
    fake_resp_header_is(out, "Allow", "GET, HEAD");
    ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "method not allowed on this endpoint"));
    free(out);
    out = handler_env_expect("DELETE", "/v2/_catalog", NULL, 405, "UNSUPPORTED");
    fake_resp_header_is(out, "Allow", "GET, HEAD");
    free(out);
    free(up);
    free(id);
}
END_TEST

/* require_remote_user: a write the front server passed without the user it
 * authenticated (REMOTE_USER absent or empty) is 401 on every path, before
 * the name, layout, read-only and method rules and before any store call;
 * reads stay anonymous; a write that names a user goes through. */
START_TEST(dispatch_require_remote_user)
{
    char *id = dsp_session();
    char *up = xasprintf("/v2/repo/blobs/uploads/%s", id);
    struct dsp_write writes[DSP_REPO_WRITES + 4] = {
        [DSP_REPO_WRITES] = { "POST", "/v2/", NULL },      /* no repository */
        { "PUT", "/v2/Bad/manifests/latest", EMPTY_INDEX },   /* an invalid name */
        { "PUT", "/v2/" LAYOUT_NAME "/manifests/v1", EMPTY_INDEX },
        { "OPTIONS", "/v2/repo/tags/list", NULL },         /* not GET or HEAD */
    };
    dsp_repo_writes(up, writes);
    henv.reg.opts.require_remote_user = 1;
    henv.reg.opts.readonly = 1;   /* the user comes first */
    memset(henv.store.calls, 0, sizeof henv.store.calls);
    for (int empty = 0; empty <= 1; empty++) {
        henv.edge.nparams = 0;
        if (empty)
            fake_edge_param(&henv.edge, "REMOTE_USER", "");
        for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
            char *out = handler_env_expect(writes[i].method, writes[i].uri, writes[i].body, 401,
                                           "UNAUTHORIZED");
            fake_resp_header_is(out, "WWW-Authenticate", "Basic realm=\"oci-registry-p2p\"");
            ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "REMOTE_USER"));
            free(out);
        }
    }
    ck_assert_int_eq(fake_store_total_calls(&henv.store), 0);
    ck_assert_int_eq(handler_env_session_files(), 2);   /* the session is untouched */

    /* reads need no user */
    henv.edge.nparams = 0;
    char *out = handler_env_expect("GET", "/v2/repo/blobs/" FOO_DIGEST, NULL, 200, NULL);
    ck_assert_str_eq(fake_resp_body(out), "foo");
    fake_resp_header_is(out, "WWW-Authenticate", NULL);
    free(out);
    handler_env_check("HEAD", "/v2/repo/blobs/" FOO_DIGEST, NULL, 200, NULL);
    handler_env_check("GET", up, NULL, 204, NULL);
    handler_env_check("GET", "/v2/", NULL, 200, NULL);
    handler_env_check("HEAD", "/v2/repo/manifests/latest", NULL, 404, NULL);

    /* with a user, the write reaches the next rule (read-only) or its handler */
    fake_edge_param(&henv.edge, "REMOTE_USER", "alice");
    out = handler_env_expect("PUT", "/v2/repo/manifests/latest", EMPTY_INDEX, 405, "UNSUPPORTED");
    ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "this registry is read-only"));
    free(out);
    henv.reg.opts.readonly = 0;
    char *put = xasprintf("%s?digest=%s", up, FOO_DIGEST);
    handler_env_check("PUT", put, "foo", 201, NULL);
    ck_assert_int_eq(henv.store.calls[FAKE_BLOB_COMMIT], 1);
    free(put);
    handler_env_check("PUT", "/v2/repo/manifests/latest", EMPTY_INDEX, 201, NULL);
    handler_env_check("DELETE", "/v2/repo/manifests/latest", NULL, 202, NULL);
    handler_env_check("POST", "/v2/", NULL, 405, "UNSUPPORTED");
    free(up);
    free(id);
}
END_TEST

START_TEST(dispatch_layout_without_store)
{
    static const char *const uris[] = {
        "/v2/" LAYOUT_NAME "/tags/list", "/v2/" LAYOUT_NAME "/manifests/latest",
        "/v2/ipns/example.com/blobs/" FOO_DIGEST,
    };
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
        char *out = handler_env_expect("GET", uris[i], NULL, 404, "NAME_UNKNOWN");
        ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "does not serve ipfs/ and ipns/ names"));
        free(out);
    }
    handler_env_check("PUT", "/v2/" LAYOUT_NAME "/manifests/latest", EMPTY_INDEX, 404, "NAME_UNKNOWN");
    ck_assert_int_eq(fake_store_total_calls(&henv.store), 0);
}
END_TEST

/* A layout name goes to the layout store, read-only; the registry's own
 * store is never asked. */
START_TEST(dispatch_layout_store)
{
    struct fake_store layout;
    fake_store_init(&layout);
    fake_store_add_blob(&layout, LAYOUT_NAME, "foo", NULL);
    henv.reg.layout_store = &layout.base;

    char *out = handler_env_expect("GET", "/v2/" LAYOUT_NAME "/tags/list", NULL, 200, NULL);
    ck_assert_str_eq(fake_resp_body(out), "{\"name\":\"" LAYOUT_NAME "\",\"tags\":[]}");
    ck_assert_int_eq(layout.calls[FAKE_TAGS_LIST], 1);
    free(out);
    out = handler_env_expect("GET", "/v2/" LAYOUT_NAME "/blobs/" FOO_DIGEST, NULL, 200, NULL);
    ck_assert_str_eq(fake_resp_body(out), "foo");
    free(out);
    handler_env_check("HEAD", "/v2/" LAYOUT_NAME "/manifests/latest", NULL, 404, "MANIFEST_UNKNOWN");
    ck_assert_int_eq(layout.calls[FAKE_TAG_RESOLVE], 1);
    /* a read the route does not take is the table's 405 */
    out = handler_env_expect("GET", "/v2/" LAYOUT_NAME "/blobs/uploads/", NULL, 405, "UNSUPPORTED");
    fake_resp_header_is(out, "Allow", "POST");
    free(out);

    int before = fake_store_total_calls(&layout);
    const struct { const char *method, *uri, *body; } writes[] = {
        { "PUT", "/v2/" LAYOUT_NAME "/manifests/latest", EMPTY_INDEX },
        { "DELETE", "/v2/" LAYOUT_NAME "/manifests/latest", NULL },
        { "DELETE", "/v2/" LAYOUT_NAME "/blobs/" FOO_DIGEST, NULL },
        { "POST", "/v2/" LAYOUT_NAME "/blobs/uploads/", NULL },
    };
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        out = handler_env_expect(writes[i].method, writes[i].uri, writes[i].body, 405, "UNSUPPORTED");
        ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "OCI image layouts on IPFS are read-only"));
        fake_resp_header_is(out, "Allow", dsp_read_allow(writes[i].uri));
        free(out);
    }
    ck_assert_int_eq(fake_store_total_calls(&layout), before);
    ck_assert_int_eq(handler_env_session_files(), 0);
    ck_assert_int_eq(fake_store_total_calls(&henv.store), 0);
    fake_store_free(&layout);
}
END_TEST

START_TEST(dispatch_metrics_path)
{
    /* no metrics_path: no metrics anywhere */
    handler_env_check("GET", "/metrics", NULL, 404, "NOT_FOUND");
    handler_env_check("GET", "/v2/_p2p/metrics", NULL, 404, "NOT_FOUND");

    henv.reg.opts.metrics_path = "/metrics";
    char *out = handler_env_expect("GET", "/metrics", NULL, 200, NULL);
    fake_resp_header_is(out, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    fake_resp_header_is(out, "Cache-Control", "no-store");
    ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "# TYPE oci_registry_p2p_"));
    free(out);
    out = handler_env_expect("HEAD", "/metrics", NULL, 200, NULL);
    ck_assert_str_eq(fake_resp_body(out), "");
    free(out);
    out = handler_env_expect("POST", "/metrics", NULL, 405, "UNSUPPORTED");
    fake_resp_header_is(out, "Allow", "GET, HEAD");
    free(out);
    handler_env_check("GET", "/metrics/", NULL, 404, "NOT_FOUND");   /* the exact path only */

    henv.reg.opts.metrics_path = "/v2/_p2p/metrics";
    out = handler_env_expect("GET", "/v2/_p2p/metrics", NULL, 200, NULL);
    ck_assert_ptr_nonnull(strstr(fake_resp_body(out), "# TYPE oci_registry_p2p_"));
    free(out);
    ck_assert_int_eq(fake_store_total_calls(&henv.store), 0);
}
END_TEST

/* HEAD answers with GET's head (its Content-Length too) and no body. */
START_TEST(dispatch_head_no_body)
{
    char *get = handler_env_expect("GET", "/v2/", NULL, 200, NULL);
    char *head = handler_env_expect("HEAD", "/v2/", NULL, 200, NULL);
    ck_assert_str_eq(fake_resp_body(get), "{}");
    ck_assert_str_eq(fake_resp_body(head), "");
    fake_resp_header_is(head, "Content-Length", "2");
    fake_resp_header_is(head, "Content-Type", "application/json");
    free(get);
    free(head);
    head = handler_env_expect("HEAD", "/v2/repo/blobs/" FOO_DIGEST, NULL, 200, NULL);
    fake_resp_header_is(head, "Content-Length", "3");
    fake_resp_header_is(head, "Docker-Content-Digest", FOO_DIGEST);
    ck_assert_str_eq(fake_resp_body(head), "");
    ck_assert_int_eq(henv.store.calls[FAKE_BLOB_READ], 0);
    free(head);
    /* an error's JSON is left out as well */
    head = handler_env_expect("HEAD", "/v2/nobody/blobs/" FOO_DIGEST, NULL, 404, NULL);
    ck_assert_str_eq(fake_resp_body(head), "");
    fake_resp_header_is(head, "Content-Type", "application/json");
    free(head);
}
END_TEST

Suite *suite_dispatch(void)
{
    Suite *s = suite_create("dispatch");
    TCase *tc = tcase_create("dispatch");
    tcase_add_checked_fixture(tc, setup, handler_env_teardown);
    tcase_add_loop_test(tc, dispatch_route_method_matrix, 0, DSP_ROUTES);
    tcase_add_test(tc, dispatch_unknown_method);
    tcase_add_test(tc, dispatch_unknown_paths);
    tcase_add_test(tc, dispatch_name_invalid);
    tcase_add_test(tc, dispatch_readonly);
    tcase_add_test(tc, dispatch_require_remote_user);
    tcase_add_test(tc, dispatch_layout_without_store);
    tcase_add_test(tc, dispatch_layout_store);
    tcase_add_test(tc, dispatch_metrics_path);
    tcase_add_test(tc, dispatch_head_no_body);
    suite_add_tcase(s, tc);
    return s;
}
