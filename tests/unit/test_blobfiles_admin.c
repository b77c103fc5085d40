/* blobfiles_admin: the pure helpers of --verify and --migrate: the pacing of
 * progress lines (core/progress.h), the CID of a --nocopy add's leaf
 * (ipfs/leaves.c, against Kubo 0.43.1's `add -n --cid-version 1
 * --raw-leaves`), and the walk over blobdir (oci/blobfiles_walk.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tests/unit/unit.h"
#include "core/blobfile.h"
#include "core/progress.h"
#include "core/xalloc.h"
#include "ipfs/kubo.h"
#include "oci/blobfiles_admin.h"

START_TEST(progress_every_two_seconds_at_most)
{
    struct progress p;
    progress_init(&p, 10000);
    ck_assert_int_eq(progress_due(&p, 10000), 0);
    ck_assert_int_eq(progress_due(&p, 11999), 0);
    ck_assert_int_eq(progress_due(&p, 12000), 1);
    ck_assert_int_eq(progress_due(&p, 12001), 0);   /* a line was just printed */
    ck_assert_int_eq(progress_due(&p, 13999), 0);
    ck_assert_int_eq(progress_due(&p, 15000), 1);   /* late: the next 2 s run from now */
    ck_assert_int_eq(progress_due(&p, 16999), 0);
    ck_assert_int_eq(progress_due(&p, 17000), 1);
    ck_assert(progress_seconds(&p, 17500) > 7.49 && progress_seconds(&p, 17500) < 7.51);
}
END_TEST

START_TEST(leaf_cid_is_kubos)
{
    char cid[KUBO_CID_MAX];
    kubo_leaf_cid("hello\n", 6, cid);
    ck_assert_str_eq(cid, "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am");
    kubo_leaf_cid("", 0, cid);
    ck_assert_str_eq(cid, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    char *zeros = xcalloc(1, KUBO_LEAF_SIZE);
    kubo_leaf_cid(zeros, KUBO_LEAF_SIZE, cid);
    ck_assert_str_eq(cid, "bafkreiekhhjkxu4ztk3tyng3er3ijhg56mb44oe3gwbgquhzu4afrg2ksa");
    free(zeros);
}
END_TEST

struct seen {
    int n;
    char hex[4][DIGEST_HEX_MAX + 1];
};

static int walk_note(void *ctx, const char *path, const struct digest *d)
{
    struct seen *s = ctx;
    ck_assert_msg(strstr(path, d->hex) != NULL, "%s does not name %s", path, d->hex);
    if (s->n < 4)
        strcpy(s->hex[s->n], d->hex);
    s->n++;
    return 0;
}

static void touch(const char *dir, const char *rel)
{
    char *p = xasprintf("%s/%s", dir, rel);
    ck_assert_int_eq(blobfile_mkparents(p), 0);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    free(p);
}

START_TEST(walk_takes_blob_files_only)
{
    char dir[] = "/tmp/test_blobfiles.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *good = "ab00000000000000000000000000000000000000000000000000000000000000";
    char *rel = xasprintf("sha256/ab/%s", good);
    touch(dir, rel);
    free(rel);
    /* none of these is a blob file */
    touch(dir, ".uploads/migrate-ab00");
    touch(dir, ".damaged");
    touch(dir, "sha256/ab/short");
    touch(dir, "sha256/cd/ab00000000000000000000000000000000000000000000000000000000000000");   /* wrong fan-out */
    touch(dir, "md5/ab/ab000000000000000000000000000000");
    touch(dir, "sha256/stray");
    struct seen s = { 0 };
    char *where = NULL;
    ck_assert_int_eq(blobfiles_walk(dir, walk_note, &s, &where), 0);
    ck_assert_int_eq(s.n, 1);
    ck_assert_str_eq(s.hex[0], good);
    char *cmd = xasprintf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    /* a missing blobdir is an error naming it */
    ck_assert_int_eq(blobfiles_walk(dir, walk_note, &s, &where), -1);
    ck_assert_str_eq(where, dir);
    free(where);
}
END_TEST

Suite *suite_blobfiles_admin(void)
{
    Suite *s = suite_create("blobfiles_admin");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, progress_every_two_seconds_at_most);
    tcase_add_test(tc, leaf_cid_is_kubos);
    tcase_add_test(tc, walk_takes_blob_files_only);
    suite_add_tcase(s, tc);
    return s;
}
