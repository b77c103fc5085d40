/* gc: the digest set of a collection (oci/gc_set.c) and the markers, locks
 * and epoch that keep a push safe from it (core/gcmark.c). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tests/unit/unit.h"
#include "core/gcmark.h"
#include "core/xalloc.h"
#include "oci/gc_set.h"

START_TEST(gc_set_grows_and_keeps_indexes)
{
    struct gc_set s;
    gc_set_init(&s);
    ck_assert_int_eq(gc_set_find(&s, "x"), -1);
    for (int i = 0; i < 5000; i++) {
        char k[32];
        int added;
        snprintf(k, sizeof k, "sha256:%d", i);
        ck_assert_uint_eq(gc_set_add(&s, k, &added), (size_t)i);
        ck_assert_int_eq(added, 1);
    }
    int added;
    ck_assert_uint_eq(gc_set_add(&s, "sha256:42", &added), 42);   /* again: same index, not added */
    ck_assert_int_eq(added, 0);
    ck_assert_int_eq(gc_set_find(&s, "sha256:4999"), 4999);
    ck_assert_int_eq(gc_set_has(&s, "sha256:5000"), 0);
    ck_assert_uint_eq(s.n, 5000);
    gc_set_free(&s);
}
END_TEST

START_TEST(gcmark_touch_young_prune_epoch)
{
    char dir[] = "/tmp/test-gcmark-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    struct digest d;
    ck_assert_int_eq(digest_parse("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &d),
                     DIGEST_PARSE_OK);
    time_t now = time(NULL);
    ck_assert_int_eq(gcmark_young(dir, &d, 60, now), 0);   /* never touched */
    ck_assert_int_eq(gcmark_touch(dir, &d), 0);
    ck_assert_int_eq(gcmark_young(dir, &d, 60, now), 1);
    ck_assert_int_eq(gcmark_young(dir, &d, 60, now + 120), 0);   /* older than the grace */
    ck_assert_uint_eq(gcmark_prune(dir, 60, now), 0);             /* young: stays */
    ck_assert_uint_eq(gcmark_prune(dir, 60, now + 120), 1);
    ck_assert_int_eq(gcmark_young(dir, &d, 60, now), 0);
    /* the lock is exclusive across open files, as across processes */
    int a = gcmark_lock(dir, &d);
    ck_assert_int_ge(a, 0);
    gcmark_unlock(a);
    /* the epoch grows by one per bump */
    char *ep = gcmark_epoch_path(dir);
    ck_assert_int_eq(gcmark_epoch_read(ep), 0);
    ck_assert_int_eq(gcmark_epoch_bump(dir), 0);
    ck_assert_int_eq(gcmark_epoch_bump(dir), 0);
    ck_assert_int_eq(gcmark_epoch_read(ep), 2);
    free(ep);
    char *cmd = xasprintf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}
END_TEST

Suite *suite_gc(void)
{
    Suite *s = suite_create("gc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, gc_set_grows_and_keeps_indexes);
    tcase_add_test(tc, gcmark_touch_young_prune_epoch);
    suite_add_tcase(s, tc);
    return s;
}
