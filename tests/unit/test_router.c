/* router: endpoints recognised from the end of the raw path. */
#include <string.h>
#include "tests/unit/unit.h"
#include "core/registry/router.h"

#define D "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define ID "0123456789abcdef0123456789abcdef"

struct rcase {
    const char *path;
    enum route_kind kind;
    const char *name;   /* NULL: no name */
    const char *ref;    /* NULL: no ref */
    int name_valid;
};

static const struct rcase router_cases[] = {
    { "/v2/", ROUTE_BASE, NULL, NULL, 0 },
    { "/v2", ROUTE_BASE, NULL, NULL, 0 },
    { "/v2/_catalog", ROUTE_CATALOG, NULL, NULL, 0 },
    { "/v2/_p2p/status", ROUTE_P2P, NULL, "status", 0 },
    { "/v2/_p2p/health", ROUTE_P2P, NULL, "health", 0 },
    { "/v2/_p2p/", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v2/_p2p/Health", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v2/_p2p/a/b", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v2/library/ubuntu/manifests/latest", ROUTE_MANIFEST, "library/ubuntu", "latest", 1 },
    { "/v2/a/manifests/" D, ROUTE_MANIFEST, "a", D, 1 },
    { "/v2/a/b/c/blobs/" D, ROUTE_BLOB, "a/b/c", D, 1 },
    { "/v2/a/blobs/uploads/", ROUTE_UPLOAD_START, "a", NULL, 1 },
    { "/v2/a/blobs/uploads", ROUTE_UPLOAD_START, "a", NULL, 1 },
    { "/v2/a/b/blobs/uploads/" ID, ROUTE_UPLOAD, "a/b", ID, 1 },
    { "/v2/a/tags/list", ROUTE_TAGS, "a", NULL, 1 },
    { "/v2/a/referrers/" D, ROUTE_REFERRERS, "a", D, 1 },
    /* names with endpoint-like components */
    { "/v2/a/blobs/b/manifests/latest", ROUTE_MANIFEST, "a/blobs/b", "latest", 1 },
    { "/v2/manifests/manifests/x", ROUTE_MANIFEST, "manifests", "x", 1 },
    { "/v2/blobs/blobs/" D, ROUTE_BLOB, "blobs", D, 1 },
    { "/v2/a/manifests/b/blobs/" D, ROUTE_BLOB, "a/manifests/b", D, 1 },
    { "/v2/a/blobs/uploads/blobs/uploads/", ROUTE_UPLOAD_START, "a/blobs/uploads", NULL, 1 },
    { "/v2/tags/list/tags/list", ROUTE_TAGS, "tags/list", NULL, 1 },
    { "/v2/a/tags/list/manifests/v1", ROUTE_MANIFEST, "a/tags/list", "v1", 1 },
    { "/v2/uploads/blobs/" D, ROUTE_BLOB, "uploads", D, 1 },
    { "/v2/ipfs/bafyabc/sub/manifests/v1", ROUTE_MANIFEST, "ipfs/bafyabc/sub", "v1", 1 },
    /* recognised endpoint, bad name: still routed so the handler says NAME_INVALID */
    { "/v2/a/%2e%2e/b/manifests/x", ROUTE_MANIFEST, "a/%2e%2e/b", "x", 0 },
    { "/v2/A/manifests/x", ROUTE_MANIFEST, "A", "x", 0 },
    { "/v2/a//b/manifests/x", ROUTE_MANIFEST, "a//b", "x", 0 },
    { "/v2/a/../b/blobs/" D, ROUTE_BLOB, "a/../b", D, 0 },
    { "/v2//manifests/x", ROUTE_MANIFEST, "", "x", 0 },
    /* refs are raw */
    { "/v2/a/manifests/sha256%3Aabc", ROUTE_MANIFEST, "a", "sha256%3Aabc", 1 },
    /* not endpoints */
    { "/", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v1/", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v2x", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v20/a/manifests/x", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "v2/a/manifests/x", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v2/_catalog/", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v2/a/manifests/", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v2/a/blobs/", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v2/a/referrers/", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v2/a/tags/list/", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v2/a/tags/other", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v2/a", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v2/a/b/c", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v2/manifests/x", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v2/blobs/uploads/", ROUTE_NOT_FOUND, NULL, NULL, 0 },
    { "/v2/tags/list", ROUTE_NOT_FOUND, NULL, NULL, 0 },
};

START_TEST(router_table)
{
    const struct rcase *c = &router_cases[_i];
    struct route r;
    route_parse(c->path, &r);
    ck_assert_msg(r.kind == c->kind, "%s: kind %d, want %d", c->path, r.kind, c->kind);
    if (c->name)
        ck_assert_msg(r.name && strcmp(r.name, c->name) == 0, "%s: name %s", c->path,
                      r.name ? r.name : "(null)");
    else
        ck_assert_msg(r.name == NULL, "%s: name %s", c->path, r.name);
    if (c->ref)
        ck_assert_msg(r.ref && strcmp(r.ref, c->ref) == 0, "%s: ref %s", c->path,
                      r.ref ? r.ref : "(null)");
    else
        ck_assert_msg(r.ref == NULL, "%s: ref %s", c->path, r.ref);
    if (c->name)
        ck_assert_msg(r.name_valid == c->name_valid, "%s: name_valid %d", c->path, r.name_valid);
    route_free(&r);
}
END_TEST

START_TEST(router_null)
{
    struct route r;
    route_parse(NULL, &r);
    ck_assert_int_eq(r.kind, ROUTE_NOT_FOUND);
    route_free(&r);
    route_free(&r);   /* idempotent */
}
END_TEST

Suite *suite_router(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("router");
    tcase_add_loop_test(tc, router_table, 0, (int)(sizeof router_cases / sizeof router_cases[0]));
    tcase_add_test(tc, router_null);
    suite_add_tcase(s, tc);
    return s;
}
