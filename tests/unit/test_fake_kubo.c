/* The fake Kubo (tests/unit/fake_kubo.c) keeps the contract of ipfs/kubo.h
 * the backend tests lean on: MFS changes, snapshots as /ipfs/<cid>,
 * deterministic CIDs, Kubo's error classes and words, and its knobs. */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/store_fixture.h"
#include "tests/unit/fake_kubo.h"
#include "ipfs/name.h"
#include "core/xalloc.h"

static struct kubo *k;

static void setup(void)
{
    k = fake_kubo_new();
}

static void teardown(void)
{
    fake_kubo_free(k);
}

static void assert_msg(const char *want)
{
    ck_assert_str_eq(kubo_errmsg(k), want);
}

START_TEST(fake_mfs)
{
    struct kubo_stat st, st2;
    struct buf b;
    char **names;
    size_t n;
    fx_write(k, "/a/b/file", "bytes");
    ck_assert_int_eq(kubo_files_stat(k, "/a/b/file", &st), KUBO_OK);
    ck_assert_int_eq(st.type, KUBO_FILE);
    ck_assert_uint_eq(st.size, 5);
    ck_assert_int_eq(strncmp(st.cid, "bafkfake", 8), 0);
    ck_assert_uint_eq(strlen(st.cid), 8 + 64);
    /* the same bytes are the same CID wherever they are */
    fx_write(k, "/c", "bytes");
    ck_assert_int_eq(kubo_files_stat(k, "/c", &st2), KUBO_OK);
    ck_assert_str_eq(st.cid, st2.cid);
    ck_assert_int_eq(kubo_files_stat(k, "/a", &st), KUBO_OK);
    ck_assert_int_eq(st.type, KUBO_DIR);
    ck_assert_uint_eq(st.size, 0);

    ck_assert_int_eq(kubo_files_stat(k, "/a/x", &st), KUBO_NOT_FOUND);
    assert_msg("ipfs: files/stat /a/x: file does not exist");
    ck_assert_int_eq(kubo_files_cp(k, "/c", "/a/b/file"), KUBO_EXISTS);
    assert_msg("ipfs: files/cp /c /a/b/file: directory already has entry by that name");
    ck_assert_int_eq(kubo_files_cp(k, "/nope", "/d"), KUBO_NOT_FOUND);
    ck_assert_int_eq(kubo_files_rm(k, "/a", 0), KUBO_ERROR);
    ck_assert_int_eq(kubo_files_rm(k, "/a/nope", 1), KUBO_NOT_FOUND);
    ck_assert_int_eq(kubo_files_mkdir(k, "/a/b"), KUBO_OK);   /* existing is fine */
    ck_assert_int_eq(kubo_files_mkdir(k, "/e/f"), KUBO_OK);
    ck_assert_int_eq(kubo_files_ls(k, "/", &names, &n), KUBO_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert(fx_has(names, n, "a") && fx_has(names, n, "c") && fx_has(names, n, "e"));
    strv_free(names, n);

    buf_init(&b, 4);
    ck_assert_int_eq(kubo_files_read(k, "/a/b/file", &b), KUBO_TOO_LARGE);
    buf_free(&b);
    buf_init(&b, 64);
    ck_assert_int_eq(kubo_files_read(k, "/a/b/file", &b), KUBO_OK);
    ck_assert_str_eq(buf_cstr(&b), "bytes");
    buf_free(&b);
    ck_assert_int_eq(kubo_files_rm(k, "/a", 1), KUBO_OK);
    ck_assert_int_eq(kubo_files_stat(k, "/a/b/file", &st), KUBO_NOT_FOUND);
}
END_TEST

START_TEST(fake_snapshots)
{
    char cid[KUBO_CID_MAX], cid2[KUBO_CID_MAX];
    struct kubo_stat st;
    struct buf b;
    fx_write(k, "/r/x/data", "one");
    ck_assert_int_eq(kubo_files_flush(k, "/r", cid), KUBO_OK);
    char *p = xasprintf("/ipfs/%s/x/data", cid);
    fx_write(k, "/r/x/data", "two");
    buf_init(&b, 64);
    ck_assert_int_eq(kubo_files_read(k, p, &b), KUBO_OK);
    ck_assert_str_eq(buf_cstr(&b), "one");   /* a snapshot does not change */
    buf_free(&b);
    free(p);
    p = xasprintf("/ipfs/%s/x/other", cid);
    ck_assert_int_eq(kubo_files_stat(k, p, &st), KUBO_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(kubo_errmsg(k), "no link named \"other\" under bafkfake"));
    free(p);
    /* a directory's CID is its content's: back to "one", back to cid */
    fx_write(k, "/r/x/data", "one");
    ck_assert_int_eq(kubo_files_flush(k, "/r", cid2), KUBO_OK);
    ck_assert_str_eq(cid, cid2);
    /* cp links the snapshot itself */
    p = xasprintf("/ipfs/%s", cid);
    ck_assert_int_eq(kubo_files_cp(k, p, "/copy/of/r"), KUBO_OK);
    ck_assert_int_eq(kubo_files_stat(k, "/copy/of/r", &st), KUBO_OK);
    ck_assert_str_eq(st.cid, cid);
    /* /ipfs is never changed */
    ck_assert_int_eq(kubo_files_rm(k, p, 1), KUBO_ERROR);
    free(p);
    ck_assert_int_eq(kubo_files_stat(k, "/ipfs/bafkfake00", &st), KUBO_NOT_FOUND);
    ck_assert_int_eq(kubo_files_stat(k, "/ipfs/not-a-cid!", &st), KUBO_ERROR);
    ck_assert_ptr_nonnull(strstr(kubo_errmsg(k), "invalid cid"));
}
END_TEST

START_TEST(fake_add_concat_gateway)
{
    char a[KUBO_CID_MAX], b[KUBO_CID_MAX], ab[KUBO_CID_MAX], whole[KUBO_CID_MAX];
    uint64_t size = 0;
    struct fx_source src = { .p = "hello ", .len = 6, .step = 2 };
    ck_assert_int_eq(kubo_add_stream(k, fx_read, &src, NULL, a, &size), KUBO_OK);
    ck_assert_uint_eq(size, 6);
    ck_assert_int_eq(kubo_add_mem(k, "world", 5, "/w", b), KUBO_OK);
    ck_assert_int_eq(kubo_add_mem(k, "world", 5, "/w", b), KUBO_EXISTS);   /* cid still given */
    ck_assert_int_eq(strncmp(b, "bafkfake", 8), 0);
    ck_assert_int_eq(kubo_add_mem(k, "x", 1, "/no/parent", whole), KUBO_NOT_FOUND);
    const char *cids[] = { a, b };
    uint64_t sizes[] = { 6, 5 }, wrong[] = { 6, 4 };
    ck_assert_int_eq(kubo_concat(k, cids, wrong, 2, ab), KUBO_ERROR);
    ck_assert_int_eq(kubo_concat(k, cids, sizes, 2, ab), KUBO_OK);
    ck_assert_int_eq(kubo_add_mem(k, "hello world", 11, NULL, whole), KUBO_OK);
    ck_assert_str_ne(ab, whole);   /* same bytes, another DAG */

    struct buf got;
    buf_init(&got, 64);
    ck_assert_int_eq(kubo_gateway_get(k, ab, 0, 0, fx_collect, &got), KUBO_OK);
    ck_assert_str_eq(buf_cstr(&got), "hello world");
    buf_reset(&got);
    ck_assert_int_eq(kubo_gateway_get(k, ab, 4, 3, fx_collect, &got), KUBO_OK);
    ck_assert_str_eq(buf_cstr(&got), "o w");
    ck_assert_int_eq(kubo_gateway_get(k, ab, 11, 0, fx_collect, &got), KUBO_ERROR);
    ck_assert_int_eq(kubo_gateway_get(k, "bafkfake00", 0, 0, fx_collect, &got), KUBO_NOT_FOUND);
    buf_free(&got);
    buf_init(&got, 2);   /* a sink that stops */
    ck_assert_int_eq(kubo_gateway_get(k, ab, 0, 0, fx_collect, &got), KUBO_ABORTED);
    buf_free(&got);
}
END_TEST

START_TEST(fake_knobs)
{
    struct kubo_stat st;
    char cid[KUBO_CID_MAX];
    fx_write(k, "/a/b", "x");
    fx_write(k, "/c", "y");
    ck_assert_uint_eq(fake_kubo_calls(k, "files_write"), 2);
    ck_assert_uint_eq(fake_kubo_calls(k, NULL), 2);

    fake_kubo_fail_next(k, KUBO_UNAVAILABLE);
    ck_assert_int_eq(kubo_files_stat(k, "/c", &st), KUBO_UNAVAILABLE);
    assert_msg("ipfs: files/stat /c: Couldn't connect to server");
    ck_assert_int_eq(kubo_files_stat(k, "/c", &st), KUBO_OK);

    fake_kubo_fail_call(k, "files_flush", KUBO_ERROR);
    ck_assert_int_eq(kubo_files_stat(k, "/c", &st), KUBO_OK);
    ck_assert_int_eq(kubo_files_flush(k, "/", cid), KUBO_ERROR);
    ck_assert_int_eq(kubo_files_flush(k, "/", cid), KUBO_OK);

    fake_kubo_fail_path(k, "/a", KUBO_ERROR);
    ck_assert_int_eq(kubo_files_stat(k, "/a/b", &st), KUBO_ERROR);
    ck_assert_int_eq(kubo_files_cp(k, "/c", "/a/d"), KUBO_ERROR);
    ck_assert_int_eq(kubo_files_stat(k, "/ab", &st), KUBO_NOT_FOUND);   /* a sibling, not below */
    fake_kubo_fail_path(k, NULL, 0);
    ck_assert_int_eq(kubo_files_stat(k, "/a/b", &st), KUBO_OK);
    ck_assert_uint_eq(fake_kubo_calls(k, "files_stat"), 6);
    fake_kubo_reset_calls(k);
    ck_assert_uint_eq(fake_kubo_calls(k, NULL), 0);

    ck_assert_int_eq(kubo_name_resolve(k, "k51x", 0, 1, cid), KUBO_RESOLVE_NO_RECORD);
    fake_kubo_name_set(k, "k51x", "bafkfakeabc");
    ck_assert_int_eq(kubo_name_resolve(k, "k51x", 0, 1, cid), KUBO_RESOLVED);
    ck_assert_str_eq(cid, "bafkfakeabc");
    fake_kubo_fail_next(k, KUBO_UNAVAILABLE);
    ck_assert_int_eq(kubo_name_resolve(k, "k51x", 0, 1, cid), KUBO_RESOLVE_FAILED);
    fake_kubo_name_set(k, "k51x", NULL);
    ck_assert_int_eq(kubo_name_resolve(k, "k51x", 0, 1, cid), KUBO_RESOLVE_NO_RECORD);
}
END_TEST

Suite *suite_fake_kubo(void)
{
    Suite *su = suite_create("fake_kubo");
    TCase *tc = tcase_create("fake_kubo");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, fake_mfs);
    tcase_add_test(tc, fake_snapshots);
    tcase_add_test(tc, fake_add_concat_gateway);
    tcase_add_test(tc, fake_knobs);
    suite_add_tcase(su, tc);
    return su;
}
