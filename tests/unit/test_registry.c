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

/* METHOD uri against a registry with opts (statedir and manifest cap
 * filled in), the layout store when layouts, the layout writer rw (may be
 * NULL); returns what the edge got (caller frees). */
static char *reg_run_with(const char *method, const char *uri, struct registry_opts opts, int layouts,
                          struct store *rw)
{
    struct registry reg;
    struct request req;
    struct response resp;
    struct buf out;
    opts.statedir = "/nonexistent";
    opts.max_manifest_size = 4096;
    buf_init(&out, 1 << 16);
    registry_init(&reg, &opts, &reg_store);
    reg.layout_store = layouts ? &reg_store : NULL;
    reg.layout_rw = rw;
    ck_assert_int_eq(req_init(&req, method, uri, NULL, &reg_edge, &out), 0);
    resp_init(&resp, &reg_edge, &out);
    registry_handle(&reg, &req, &resp);
    req_free(&req);
    resp_free(&resp);
    buf_append(&out, "", 1);
    return out.data;
}

/* METHOD uri against a registry (readonly or not, with a layout store or
 * not); returns what the edge got (caller frees). */
static char *reg_run(const char *method, const char *uri, int readonly, int layouts)
{
    return reg_run_with(method, uri, (struct registry_opts){ .readonly = readonly }, layouts, NULL);
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

/* Layout push routing: a store whose every operation records that it was
 * reached stands in for the layout writer (a fake: no real component can
 * tell which store a request was given). */
static int reg_rw_reached;

static int reg_rw_tags(struct store *s, const char *name, char ***tags, size_t *n)
{
    (void)s;
    (void)name;
    reg_rw_reached++;
    *tags = NULL;
    *n = 0;
    return STORE_OK;
}

static const struct store_ops reg_rw_ops = { .tags_list = reg_rw_tags };
static struct store reg_rw = { &reg_rw_ops, NULL };

/* METHOD uri against a registry whose write key is "mykey", with a writer;
 * require: require_remote_user (the edge passes no REMOTE_USER). */
static char *reg_run_rw(const char *method, const char *uri, int readonly, int require)
{
    return reg_run_with(method, uri,
                        (struct registry_opts){ .readonly = readonly, .writeipnskey = "mykey",
                                                .require_remote_user = require },
                        1, &reg_rw);
}

static void reg_expect_rw(const char *method, const char *uri, int readonly, int require,
                          const char *status, const char *words, int reached)
{
    reg_rw_reached = 0;
    char *out = reg_run_rw(method, uri, readonly, require);
    ck_assert_msg(strncmp(out, status, strlen(status)) == 0, "%s %s: %s", method, uri, out);
    ck_assert_msg(strstr(out, words) != NULL, "%s %s: no \"%s\" in %s", method, uri, words, out);
    ck_assert_msg(reg_rw_reached == reached, "%s %s: writer reached %d times", method, uri, reg_rw_reached);
    free(out);
}

START_TEST(registry_layout_push_routes)
{
    /* the keystore name selects the writer, for reads and (below) writes */
    reg_expect_rw("GET", "/v2/ipns/mykey/demo/app/tags/list", 0, 0, "Status: 200", "tags", 1);
    /* other keys and CIDs: read-only, the refusal names the writable prefix */
    reg_expect_rw("POST", "/v2/ipns/otherkey/demo/blobs/uploads/", 0, 0, "Status: 405",
                  "push under ipns/mykey/<path>", 0);
    reg_expect_rw("PUT", "/v2/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/x/manifests/v1",
                  0, 0, "Status: 405", "push under ipns/mykey/<path>", 0);
    /* reserved paths and a missing one */
    reg_expect_rw("POST", "/v2/ipns/mykey/docker/x/blobs/uploads/", 0, 0, "Status: 400", "NAME_INVALID", 0);
    reg_expect_rw("POST", "/v2/ipns/mykey/a/oci-layout/blobs/uploads/", 0, 0, "Status: 400", "NAME_INVALID", 0);
    reg_expect_rw("POST", "/v2/ipns/mykey/blobs/uploads/", 0, 0, "Status: 400", "a path is needed", 0);
    reg_expect_rw("POST", "/v2/ipns/mykey/%2e%2e/x/blobs/uploads/", 0, 0, "Status: 400", "NAME_INVALID", 0);
    reg_expect_rw("POST", "/v2/ipns/mykey/../x/blobs/uploads/", 0, 0, "Status: 400", "NAME_INVALID", 0);
    /* the same write rules as storage mode: anonymous writes and read-only mode */
    reg_expect_rw("POST", "/v2/ipns/mykey/demo/blobs/uploads/", 0, 1, "Status: 401", "UNAUTHORIZED", 0);
    reg_expect_rw("PUT", "/v2/ipns/mykey/demo/manifests/v1", 1, 0, "Status: 405", "read-only", 0);
    reg_expect_rw("GET", "/v2/ipns/mykey/demo/tags/list", 1, 1, "Status: 200", "tags", 1);
}
END_TEST

Suite *suite_registry(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("registry");
    tcase_add_test(tc, registry_405_allow);
    tcase_add_test(tc, registry_layout_push_routes);
    suite_add_tcase(s, tc);
    return s;
}
