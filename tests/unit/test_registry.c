/* registry: the rules registry_handle() applies before any handler runs.
 * A store with no operations stands in for the storage: none of these
 * answers may reach it. */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "core/buf.h"
#include "core/registry/registry.h"

static const struct store_ops reg_no_ops = { 0 };
static struct store reg_store = { &reg_no_ops, NULL };

static const char *reg_param(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

static ssize_t reg_read(void *ctx, char *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    return 0;
}

static int reg_write(void *ctx, const char *p, size_t n)
{
    return buf_append(ctx, p, n);
}

static void reg_abort(void *ctx)
{
    (void)ctx;
}

static const struct http_io reg_edge = {
    .param = reg_param, .read = reg_read, .write = reg_write, .abort = reg_abort,
};

/* METHOD uri against a registry (readonly or not, with a layout store or
 * not); returns what the edge got (caller frees). */
static char *reg_run(const char *method, const char *uri, int readonly, int layouts)
{
    struct registry_opts opts = { .statedir = "/nonexistent", .max_manifest_size = 4096,
                                  .readonly = readonly };
    struct registry reg;
    struct request req;
    struct response resp;
    struct buf out;
    buf_init(&out, 1 << 16);
    registry_init(&reg, &opts, &reg_store);
    reg.layout_store = layouts ? &reg_store : NULL;
    ck_assert_int_eq(req_init(&req, method, uri, NULL, &reg_edge, &out), 0);
    resp_init(&resp, &reg_edge, &out);
    registry_handle(&reg, &req, &resp);
    req_free(&req);
    resp_free(&resp);
    buf_append(&out, "", 1);
    return out.data;
}

static void reg_expect_405(const char *method, const char *uri, int readonly, int layouts,
                           const char *allow)
{
    char *out = reg_run(method, uri, readonly, layouts);
    ck_assert_msg(strncmp(out, "Status: 405 ", 12) == 0, "%s %s: %s", method, uri, out);
    ck_assert_msg(strstr(out, allow) != NULL, "%s %s: no \"%s\" in %s", method, uri, allow, out);
    free(out);
}

/* RFC 9110 15.5.6: a 405 MUST carry Allow with what the resource supports.
 * The refusals of read-only mode and of layouts on IPFS had none (found by
 * tests/fuzz/fuzz_request); a route with no read method allows nothing. */
START_TEST(registry_405_allow)
{
    reg_expect_405("POST", "/v2/a/tags/list", 0, 0, "\r\nAllow: GET, HEAD\r\n");
    reg_expect_405("PUT", "/v2/a/manifests/v1", 1, 0, "\r\nAllow: GET, HEAD\r\n");
    reg_expect_405("DELETE", "/v2/a/blobs/sha256:" "0000000000000000000000000000000000000000000000000000000000000000",
                   1, 0, "\r\nAllow: GET, HEAD\r\n");
    reg_expect_405("POST", "/v2/a/blobs/uploads/", 1, 0, "\r\nAllow: \r\n");
    reg_expect_405("PUT", "/v2/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/manifests/v1",
                   0, 1, "\r\nAllow: GET, HEAD\r\n");
    reg_expect_405("PATCH", "/v2/ipns/example.com/blobs/uploads/0123456789abcdef0123456789abcdef",
                   0, 1, "\r\nAllow: GET, HEAD\r\n");
}
END_TEST

Suite *suite_registry(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("registry");
    tcase_add_test(tc, registry_405_allow);
    suite_add_tcase(s, tc);
    return s;
}
