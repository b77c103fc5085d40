/* Blob GET offload (core/h_blobs.c): with accel_redirect a GET becomes an
 * X-Accel-Redirect carrying the CID, the digest and the type; with
 * blob_redirect a 307 to the template; HEAD, an unsatisfiable Range, empty
 * blobs and blobs without a CID still stream through the worker; a store
 * that does not vouch for its bytes verifies before they are handed off.
 * The zero-copy path (store blob_open + edge splice_from): taken for GETs
 * when both sides offer it and the store need not hash, left for the
 * streaming path when nothing went out, never retried after a partial send.
 * A fake store stands in for Kubo (these are answers about one blob, no
 * bytes need to exist), a fake edge collects what would go to FastCGI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/unit/unit.h"
#include "tests/unit/fake_edge.h"
#include "core/http.h"
#include "core/registry/registry.h"
#include "core/xalloc.h"

#define OFF_HEX "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae" /* sha256("foo") */
#define OFF_DIGEST "sha256:" OFF_HEX
#define OFF_CID "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"

/* --- fake store: repository "repo" has one blob, "foo" --- */
struct off_store {
    struct store base;
    const char *cid;     /* "" = a backend that cannot name the content */
    uint64_t size;
    int reads, verifies, verify_fail;
    int opens, open_fail;
    uint64_t open_off, open_len;
};

static int off_blob_stat(struct store *s, const char *name, const struct digest *d, struct store_blob *out)
{
    struct off_store *f = s->impl;
    (void)d;
    if (strcmp(name, "repo") != 0)
        return STORE_NOT_FOUND;
    memset(out, 0, sizeof *out);
    out->size = f->size;
    snprintf(out->cid, sizeof out->cid, "%s", f->cid);
    return STORE_OK;
}

static int off_blob_read(struct store *s, const struct store_blob *b, uint64_t off, uint64_t len,
                         store_write_cb cb, void *ctx)
{
    struct off_store *f = s->impl;
    (void)b;
    f->reads++;
    return cb(ctx, "foo" + off, (size_t)len) == 0 ? STORE_OK : STORE_ABORTED;
}

static int off_blob_verify(struct store *s, const struct store_blob *b)
{
    struct off_store *f = s->impl;
    (void)b;
    f->verifies++;
    return f->verify_fail ? STORE_INVALID : STORE_OK;
}

static const char *off_errmsg(struct store *s)
{
    (void)s;
    return "fake: the bytes do not hash to their name";
}

/* The zero-copy path: a pipe holding the asked bytes stands in for the
 * gateway's socket. */
static int off_blob_open(struct store *s, const struct store_blob *b, uint64_t off, uint64_t len,
                         int *fd)
{
    struct off_store *f = s->impl;
    int p[2];
    (void)b;
    f->opens++;
    f->open_off = off;
    f->open_len = len;
    if (f->open_fail)
        return f->open_fail;   /* a store_rc */
    if (pipe(p) < 0)
        return STORE_ERROR;
    ck_assert_int_eq(write(p[1], "foo" + off, (size_t)len), (ssize_t)len);
    close(p[1]);
    *fd = p[0];
    return STORE_OK;
}

static const struct store_ops off_ops_open = {
    .blob_stat = off_blob_stat, .blob_read = off_blob_read, .blob_open = off_blob_open,
    .errmsg = off_errmsg,
};
/* The first open works, later ones fail (the node went away mid-stream). */
static int off_blob_open_once(struct store *s, const struct store_blob *b, uint64_t off, uint64_t len, int *fd)
{
    struct off_store *f = s->impl;
    if (f->opens >= 1) {
        f->opens++;
        return STORE_UNAVAILABLE;
    }
    return off_blob_open(s, b, off, len, fd);
}

static const struct store_ops off_ops_open_then_fail = {
    .blob_stat = off_blob_stat, .blob_read = off_blob_read, .blob_open = off_blob_open_once,
    .errmsg = off_errmsg,
};
static const struct store_ops off_ops_open_verify = {
    .blob_stat = off_blob_stat, .blob_read = off_blob_read, .blob_open = off_blob_open,
    .blob_verify = off_blob_verify, .errmsg = off_errmsg,
};

static const struct store_ops off_ops = {
    .blob_stat = off_blob_stat, .blob_read = off_blob_read, .errmsg = off_errmsg,
};
static const struct store_ops off_ops_verify = {
    .blob_stat = off_blob_stat, .blob_read = off_blob_read, .blob_verify = off_blob_verify,
    .errmsg = off_errmsg,
};

/* --- the fake edge (tests/unit/fake_edge.h), here with a splice of its own --- */

/* What the fake splice answers: 0 sent, 1 nothing sent, -1 failed partway. */
static int off_splice_rc;
static int off_splices;
/* > 0: the source "ends" after this many bytes on each of the first
 * off_short_times calls (HTTP_SHORT), as a gateway cutting a stream does */
static size_t off_short_after;
static int off_short_times;

static int off_splice_from(void *ctx, int fd, uint64_t n, uint64_t *sent)
{
    struct fake_edge *io = ctx;
    char b[16];
    off_splices++;
    *sent = 0;
    if (off_splice_rc == 1)
        return 1;
    if (off_short_times > 0 && off_short_after < n) {
        off_short_times--;
        ssize_t r = off_short_after ? read(fd, b, off_short_after) : 0;
        ck_assert_int_eq(r, (ssize_t)off_short_after);
        buf_append(&io->out, b, off_short_after);
        *sent = off_short_after;
        return HTTP_SHORT;
    }
    ssize_t r = read(fd, b, n < sizeof b ? (size_t)n : sizeof b);
    ck_assert_int_eq(r, (ssize_t)n);
    buf_append(&io->out, b, (size_t)r);
    *sent = (uint64_t)r;
    return off_splice_rc;
}

static const struct http_io off_edge_splice = {
    .param = fake_edge_get_param, .read = fake_edge_read, .write = fake_edge_write,
    .abort = fake_edge_abort, .splice_from = off_splice_from,
};
static const struct http_io *off_edge_ops = &fake_edge_io;

static struct off_store fake;

/* Runs METHOD on the blob with the given offload settings; returns what the
 * edge got (head and body; caller frees). */
static char *off_run(const char *method, const char *range, const char *accel, const char *redirect,
                     const struct store_ops *ops)
{
    struct registry_opts opts = { .statedir = "/nonexistent", .max_manifest_size = 4096,
                                  .accel_redirect = accel, .blob_redirect = redirect };
    struct registry reg;
    struct fake_edge io;
    fake.base.ops = ops;
    fake.base.impl = &fake;
    fake_edge_init(&io);
    fake_edge_param(&io, "HTTP_RANGE", range);
    registry_init(&reg, &opts, &fake.base);
    char *out = fake_edge_run(&reg, &io, off_edge_ops, method, "/v2/repo/blobs/" OFF_DIGEST, NULL);
    buf_free(&io.out);
    return out;
}

static void setup(void)
{
    off_edge_ops = &fake_edge_io;
    off_splice_rc = 0;
    off_splices = 0;
    off_short_after = 0;
    off_short_times = 0;
    memset(&fake, 0, sizeof fake);
    fake.cid = OFF_CID;
    fake.size = 3;
}

START_TEST(offload_accel)
{
    char *out = off_run("GET", NULL, "/_oci_p2p_blob/", NULL, &off_ops);
    ck_assert_ptr_nonnull(strstr(out, "Status: 200"));
    ck_assert_ptr_nonnull(strstr(out, "X-Accel-Redirect: /_oci_p2p_blob/" OFF_CID "?digest=" OFF_DIGEST
                                      "&type=application/octet-stream\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "Docker-Content-Digest: " OFF_DIGEST "\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "Content-Type: application/octet-stream\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "Content-Length: 0\r\n"));
    ck_assert_int_eq(fake.reads, 0);   /* no byte through the worker */
    free(out);
    /* a satisfiable Range goes to the gateway too, untouched */
    out = off_run("GET", "bytes=1-2", "/_oci_p2p_blob/", NULL, &off_ops);
    ck_assert_ptr_nonnull(strstr(out, "X-Accel-Redirect: "));
    ck_assert_ptr_null(strstr(out, "Content-Range"));
    ck_assert_int_eq(fake.reads, 0);
    free(out);
}
END_TEST

START_TEST(offload_redirect)
{
    char *out = off_run("GET", NULL, NULL, "https://gw.example/ipfs/{cid}?filename=x", &off_ops);
    ck_assert_ptr_nonnull(strstr(out, "Status: 307"));
    ck_assert_ptr_nonnull(strstr(out, "Location: https://gw.example/ipfs/" OFF_CID "?filename=x\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "Docker-Content-Digest: " OFF_DIGEST "\r\n"));
    ck_assert_int_eq(fake.reads, 0);
    free(out);
}
END_TEST

/* What the worker keeps answering itself. */
START_TEST(offload_stays_with_worker)
{
    char *out = off_run("HEAD", NULL, "/_oci_p2p_blob/", NULL, &off_ops);
    ck_assert_ptr_null(strstr(out, "X-Accel-Redirect"));
    ck_assert_ptr_nonnull(strstr(out, "Content-Length: 3\r\n"));
    free(out);
    out = off_run("GET", "bytes=5-9", "/_oci_p2p_blob/", "https://gw/{cid}", &off_ops);
    ck_assert_ptr_nonnull(strstr(out, "Status: 416"));
    ck_assert_ptr_null(strstr(out, "X-Accel-Redirect"));
    free(out);
    fake.cid = "";
    out = off_run("GET", NULL, "/_oci_p2p_blob/", NULL, &off_ops);
    ck_assert_ptr_null(strstr(out, "X-Accel-Redirect"));
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nfoo"));
    ck_assert_int_eq(fake.reads, 1);
    free(out);
    fake.cid = OFF_CID;
    fake.size = 0;
    out = off_run("GET", NULL, NULL, "https://gw/{cid}", &off_ops);
    ck_assert_ptr_null(strstr(out, "Location"));
    ck_assert_ptr_nonnull(strstr(out, "Content-Length: 0\r\n"));
    free(out);
    /* off: streams */
    fake.size = 3;
    out = off_run("GET", NULL, "", "", &off_ops);
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nfoo"));
    free(out);
}
END_TEST

/* Bytes nobody hashes on the offloaded path are checked first. */
START_TEST(offload_verifies_untrusted)
{
    char *out = off_run("GET", NULL, "/_oci_p2p_blob/", NULL, &off_ops_verify);
    ck_assert_int_eq(fake.verifies, 1);
    ck_assert_ptr_nonnull(strstr(out, "X-Accel-Redirect: "));
    free(out);
    fake.verify_fail = 1;
    out = off_run("GET", NULL, NULL, "https://gw/{cid}", &off_ops_verify);
    ck_assert_int_eq(fake.verifies, 2);
    ck_assert_ptr_null(strstr(out, "Location"));
    ck_assert_ptr_null(strstr(out, "Status: 2"));
    ck_assert_ptr_null(strstr(out, "Status: 3"));
    free(out);
}
END_TEST

/* A store that can hand over a socket and an edge that can splice: the
 * bytes take that path, the store's reader is not called. */
START_TEST(splice_used)
{
    off_edge_ops = &off_edge_splice;
    char *out = off_run("GET", NULL, NULL, NULL, &off_ops_open);
    ck_assert_ptr_nonnull(strstr(out, "Status: 200"));
    ck_assert_ptr_nonnull(strstr(out, "Content-Length: 3\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nfoo"));
    ck_assert_int_eq(fake.opens, 1);
    ck_assert_int_eq(off_splices, 1);
    ck_assert_int_eq(fake.reads, 0);
    free(out);
    /* a Range: the store is asked for exactly those bytes */
    out = off_run("GET", "bytes=1-2", NULL, NULL, &off_ops_open);
    ck_assert_ptr_nonnull(strstr(out, "Status: 206"));
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\noo"));
    ck_assert_uint_eq(fake.open_off, 1);
    ck_assert_uint_eq(fake.open_len, 2);
    ck_assert_int_eq(fake.reads, 0);
    free(out);
}
END_TEST

/* Nothing sent, or no socket: the bytes stream as before, once. */
START_TEST(splice_falls_back)
{
    off_edge_ops = &off_edge_splice;
    off_splice_rc = 1;
    char *out = off_run("GET", NULL, NULL, NULL, &off_ops_open);
    ck_assert_ptr_nonnull(strstr(out, "Status: 200"));
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nfoo"));
    ck_assert_ptr_null(strstr(out, "foofoo"));
    ck_assert_int_eq(fake.reads, 1);
    free(out);
    off_splice_rc = 0;
    fake.open_fail = STORE_ERROR;   /* e.g. an answer the raw reader does not take */
    out = off_run("GET", NULL, NULL, NULL, &off_ops_open);
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nfoo"));
    ck_assert_int_eq(fake.reads, 2);
    free(out);
    /* the node itself cannot serve the bytes (down; its gateway gave up with
     * a 5xx): that is the answer, not a reason to ask again and wait twice */
    fake.open_fail = STORE_UNAVAILABLE;
    out = off_run("GET", NULL, NULL, NULL, &off_ops_open);
    ck_assert_ptr_nonnull(strstr(out, "Status: 503"));
    ck_assert_ptr_null(strstr(out, "foo"));
    ck_assert_int_eq(fake.reads, 2);
    free(out);
    /* failed partway: the edge dropped the response; no second try */
    fake.open_fail = 0;
    fake.reads = 0;
    off_splice_rc = -1;
    out = off_run("GET", NULL, NULL, NULL, &off_ops_open);
    ck_assert_int_eq(fake.reads, 0);
    free(out);
}
END_TEST

/* The node's stream stops partway (Kubo cuts a response whose reader fell
 * behind): the rest is asked for from where it stopped, the body arrives
 * whole; a try that moves nothing ends the response aborted, never padded. */
START_TEST(splice_resumes)
{
    off_edge_ops = &off_edge_splice;
    off_short_after = 1;
    off_short_times = 2;
    char *out = off_run("GET", NULL, NULL, NULL, &off_ops_open);
    ck_assert_ptr_nonnull(strstr(out, "Status: 200"));
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nfoo"));
    ck_assert_int_eq(fake.opens, 3);
    ck_assert_uint_eq(fake.open_off, 2);   /* the last try: from byte 2, one byte */
    ck_assert_uint_eq(fake.open_len, 1);
    ck_assert_int_eq(fake.reads, 0);
    free(out);
    /* a Range resumes inside the range */
    fake.opens = 0;
    off_short_times = 1;
    out = off_run("GET", "bytes=1-2", NULL, NULL, &off_ops_open);
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\noo"));
    ck_assert_int_eq(fake.opens, 2);
    ck_assert_uint_eq(fake.open_off, 2);
    free(out);
    /* no progress: aborted with what went out, nothing streamed after it */
    fake.opens = 0;
    off_short_after = 0;
    off_short_times = 1;
    out = off_run("GET", NULL, NULL, NULL, &off_ops_open);
    ck_assert_int_eq(fake.opens, 1);
    ck_assert_int_eq(fake.reads, 0);
    ck_assert_ptr_null(strstr(out, "foo"));
    free(out);
    /* the second open fails: aborted after the first byte */
    fake.opens = 0;
    off_short_after = 1;
    off_short_times = 1;
    fake.open_fail = 0;
    out = off_run("GET", NULL, NULL, NULL, &off_ops_open_then_fail);
    ck_assert_int_eq(fake.opens, 2);
    ck_assert_int_eq(fake.reads, 0);
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nf"));
    ck_assert_ptr_null(strstr(out, "foo"));
    free(out);
}
END_TEST

/* Never for a HEAD, an edge that cannot splice, or a store that must hash
 * what it serves. */
START_TEST(splice_not_used)
{
    off_edge_ops = &off_edge_splice;
    char *out = off_run("HEAD", NULL, NULL, NULL, &off_ops_open);
    ck_assert_int_eq(fake.opens, 0);
    free(out);
    out = off_run("GET", NULL, NULL, NULL, &off_ops_open_verify);
    ck_assert_int_eq(fake.opens, 0);
    ck_assert_int_eq(fake.reads, 1);
    free(out);
    off_edge_ops = &fake_edge_io;
    out = off_run("GET", NULL, NULL, NULL, &off_ops_open);
    ck_assert_int_eq(fake.opens, 0);
    ck_assert_int_eq(fake.reads, 2);
    free(out);
}
END_TEST

Suite *suite_blob_offload(void)
{
    Suite *s = suite_create("blob_offload");
    TCase *tc = tcase_create("blob_offload");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, offload_accel);
    tcase_add_test(tc, offload_redirect);
    tcase_add_test(tc, offload_stays_with_worker);
    tcase_add_test(tc, offload_verifies_untrusted);
    tcase_add_test(tc, splice_used);
    tcase_add_test(tc, splice_falls_back);
    tcase_add_test(tc, splice_not_used);
    tcase_add_test(tc, splice_resumes);
    suite_add_tcase(s, tc);
    return s;
}
