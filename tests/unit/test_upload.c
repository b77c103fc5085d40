/* upload: sessions as files in a temporary statedir. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "tests/unit/unit.h"
#include "core/registry/upload.h"
#include "core/metrics.h"
#include "core/names.h"
#include "core/xalloc.h"

static char *upload_tmpdir(void)
{
    char tmpl[] = "/tmp/test-upload-XXXXXX";
    char *d = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(d);
    return xstrdup(d);
}

static void rm_rf(const char *dir)
{
    char *up = xasprintf("%s/uploads", dir);
    DIR *d = opendir(up);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;   /* .count and .sweep go too */
            char *p = xasprintf("%s/%s", up, de->d_name);
            unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(up);
    rmdir(dir);
    free(up);
}

static int count_files(const char *dir)
{
    char *up = xasprintf("%s/uploads", dir);
    DIR *d = opendir(up);
    free(up);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

START_TEST(upload_create_open_save)
{
    char *dir = upload_tmpdir();
    struct upload u;
    ck_assert_int_eq(upload_create(dir, "library/x", DIGEST_SHA256, 0, &u), UPLOAD_OK);
    ck_assert(upload_id_valid(u.id));
    ck_assert_str_eq(u.name, "library/x");
    ck_assert_uint_eq(u.offset, 0);
    ck_assert_uint_eq(u.nchunks, 0);
    char *up = xasprintf("%s/uploads", dir);
    struct stat st;
    ck_assert_int_eq(stat(up, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);   /* upload state is private */
    free(up);

    /* locked while open: another open (its own file description) is BUSY */
    struct upload u2;
    ck_assert_int_eq(upload_open(dir, u.id, &u2), UPLOAD_BUSY);

    hasher_update(&u.hash, "hello ", 6);
    u.offset = 6;
    struct store_chunk c = { .size = 6 };
    memcpy(c.cid, "bafkreiabc", 11);
    upload_add_chunk(&u, &c);
    ck_assert_int_eq(upload_save(&u), 0);
    char id[33];
    memcpy(id, u.id, sizeof id);
    time_t created = u.created;
    upload_close(&u);

    ck_assert_int_eq(upload_open(dir, id, &u2), UPLOAD_OK);
    ck_assert_str_eq(u2.id, id);
    ck_assert_str_eq(u2.name, "library/x");
    ck_assert_uint_eq(u2.offset, 6);
    ck_assert_int_eq(u2.created, created);
    ck_assert_uint_eq(u2.nchunks, 1);
    ck_assert_str_eq(u2.chunks[0].cid, "bafkreiabc");
    ck_assert_uint_eq(u2.chunks[0].size, 6);
    /* the resumed hash continues where the first request stopped */
    hasher_update(&u2.hash, "world", 5);
    struct digest got, want;
    hasher_final(&u2.hash, &got);
    digest_of(DIGEST_SHA256, "hello world", 11, &want);
    ck_assert(digest_equal(&got, &want));
    ck_assert_int_eq(upload_remove(&u2), 0);
    upload_close(&u2);
    upload_close(&u2);   /* idempotent */
    ck_assert_int_eq(count_files(dir), 0);
    ck_assert_int_eq(upload_open(dir, id, &u2), UPLOAD_NOT_FOUND);
    rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(upload_open_bad_ids)
{
    char *dir = upload_tmpdir();
    struct upload u;
    ck_assert_int_eq(upload_open(dir, "0123456789abcdef0123456789abcdef", &u), UPLOAD_NOT_FOUND);
    ck_assert_int_eq(upload_open(dir, "../../etc/passwd", &u), UPLOAD_NOT_FOUND);
    ck_assert_int_eq(upload_open(dir, "", &u), UPLOAD_NOT_FOUND);
    /* a corrupt session file is an error, not a crash */
    ck_assert_int_eq(upload_create(dir, "a", DIGEST_SHA512, 0, &u), UPLOAD_OK);
    char id[33];
    memcpy(id, u.id, sizeof id);
    upload_close(&u);
    char *json = xasprintf("%s/uploads/%s.json", dir, id);
    FILE *f = fopen(json, "w");
    fputs("{\"id\":\"nope\"}", f);
    fclose(f);
    free(json);
    ck_assert_int_eq(upload_open(dir, id, &u), UPLOAD_ERROR);
    rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(upload_sha512_roundtrip)
{
    char *dir = upload_tmpdir();
    struct upload u;
    ck_assert_int_eq(upload_create(dir, "a/b", DIGEST_SHA512, 0, &u), UPLOAD_OK);
    hasher_update(&u.hash, "ab", 2);
    u.offset = 2;
    ck_assert_int_eq(upload_save(&u), 0);
    char id[33];
    memcpy(id, u.id, sizeof id);
    upload_close(&u);
    ck_assert_int_eq(upload_open(dir, id, &u), UPLOAD_OK);
    ck_assert_int_eq(u.hash.alg, DIGEST_SHA512);
    hasher_update(&u.hash, "c", 1);
    struct digest got, want;
    hasher_final(&u.hash, &got);
    digest_of(DIGEST_SHA512, "abc", 3, &want);
    ck_assert(digest_equal(&got, &want));
    upload_close(&u);
    rm_rf(dir);
    free(dir);
}
END_TEST

static void sweep_discard(void *ctx, const char *id)
{
    (*(int *)ctx)++;
    ck_assert(upload_id_valid(id));
}

START_TEST(upload_sweep_removes_old)
{
    char *dir = upload_tmpdir();
    struct upload a, b, c;
    ck_assert_int_eq(upload_create(dir, "a", DIGEST_SHA256, 0, &a), UPLOAD_OK);
    ck_assert_int_eq(upload_create(dir, "b", DIGEST_SHA256, 0, &b), UPLOAD_OK);
    ck_assert_int_eq(upload_create(dir, "c", DIGEST_SHA256, 0, &c), UPLOAD_OK);
    char ida[33], idc[33];
    memcpy(ida, a.id, sizeof ida);
    memcpy(idc, c.id, sizeof idc);
    /* a had a chunk on its way to the store; c never had one */
    ck_assert_int_eq(upload_mark_staged(&a), 0);
    ck_assert_int_eq(count_files(dir), 7);   /* three .json and .lock, a's .staged */
    upload_close(&a);
    upload_close(&c);
    ck_assert_int_eq(upload_open(dir, ida, &a), UPLOAD_OK);
    ck_assert_int_eq(a.staged, 1);
    upload_close(&a);
    ck_assert_int_eq(upload_open(dir, idc, &c), UPLOAD_OK);
    ck_assert_int_eq(c.staged, 0);
    upload_close(&c);
    ck_assert_uint_eq(upload_open_count(), 3);
    /* b stays open (locked): a sweep must not pull it from under its request */
    int discarded = 0;
    ck_assert_int_eq(upload_sweep(dir, 3600, 0, sweep_discard, &discarded, NULL), 0);   /* nothing old */
    ck_assert_int_eq(discarded, 0);
    ck_assert_int_eq(upload_sweep(dir, -10, 0, sweep_discard, &discarded, NULL), 2);     /* all old */
    /* only the one that may have staged content costs a store call */
    ck_assert_int_eq(discarded, 1);
    ck_assert_int_eq(upload_open(dir, ida, &a), UPLOAD_NOT_FOUND);
    ck_assert_int_eq(upload_open(dir, idc, &c), UPLOAD_NOT_FOUND);
    ck_assert_int_eq(count_files(dir), 2);   /* b's json and lock */
    ck_assert_uint_eq(upload_open_count(), 1);   /* removals count down */
    upload_close(&b);
    ck_assert_int_eq(upload_sweep(dir, -10, 0, NULL, NULL, NULL), 1);
    ck_assert_int_eq(count_files(dir), 0);
    ck_assert_uint_eq(upload_open_count(), 0);
    /* no uploads dir at all */
    ck_assert_int_eq(upload_sweep("/nonexistent-dir-for-test", 0, 0, NULL, NULL, NULL), 0);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* Strays: a lock or a staged mark whose session file is gone (a create or
 * a removal that crashed) goes once old; a fresh one stays. */
START_TEST(upload_sweep_strays)
{
    char *dir = upload_tmpdir();
    struct upload u;
    ck_assert_int_eq(upload_create(dir, "a", DIGEST_SHA256, 0, &u), UPLOAD_OK);
    ck_assert_int_eq(upload_mark_staged(&u), 0);
    char *json = xasprintf("%s/uploads/%s.json", dir, u.id);
    ck_assert_int_eq(unlink(json), 0);
    free(json);
    upload_close(&u);
    ck_assert_int_eq(count_files(dir), 2);
    ck_assert_int_eq(upload_sweep(dir, 3600, 0, NULL, NULL, NULL), 0);
    ck_assert_int_eq(count_files(dir), 2);
    ck_assert_int_eq(upload_sweep(dir, -10, 0, NULL, NULL, NULL), 0);   /* not sessions: not counted as removed */
    ck_assert_int_eq(count_files(dir), 0);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* The sweep runs at most once per interval across processes, and not while
 * another one runs. */
START_TEST(upload_sweep_takes_turns)
{
    char *dir = upload_tmpdir();
    struct upload u;
    ck_assert_int_eq(upload_create(dir, "a", DIGEST_SHA256, 0, &u), UPLOAD_OK);
    upload_close(&u);
    ck_assert_int_eq(upload_create(dir, "b", DIGEST_SHA256, 0, &u), UPLOAD_OK);
    upload_close(&u);
    /* someone is sweeping: skip */
    char *stamp = xasprintf("%s/uploads/.sweep", dir);
    int fd = open(stamp, O_RDWR | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX), 0);
    ck_assert_int_eq(upload_sweep_due(dir, -10, 3600, 0, NULL, NULL, NULL), 0);
    close(fd);
    /* nobody swept yet: sweep now */
    ck_assert_int_eq(upload_sweep_due(dir, -10, 3600, 0, NULL, NULL, NULL), 2);
    ck_assert_int_eq(upload_create(dir, "c", DIGEST_SHA256, 0, &u), UPLOAD_OK);
    upload_close(&u);
    /* one swept less than an interval ago: not again */
    ck_assert_int_eq(upload_sweep_due(dir, -10, 3600, 0, NULL, NULL, NULL), 0);
    ck_assert_int_eq(count_files(dir), 2);
    /* an interval later it does */
    struct timespec past[2] = { { .tv_sec = time(NULL) - 4000 }, { .tv_sec = time(NULL) - 4000 } };
    ck_assert_int_eq(utimensat(AT_FDCWD, stamp, past, 0), 0);
    ck_assert_int_eq(upload_sweep_due(dir, -10, 3600, 0, NULL, NULL, NULL), 1);
    free(stamp);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* A sweep out of time stops, says so, and the next one goes on; a due one
 * that stopped so is due again at once. */
START_TEST(upload_sweep_budget)
{
    char *dir = upload_tmpdir();
    struct upload u;
    for (int i = 0; i < 600; i++) {
        ck_assert_int_eq(upload_create(dir, "a", DIGEST_SHA256, 0, &u), UPLOAD_OK);
        upload_close(&u);
    }
    int more = 0;
    int n = upload_sweep(dir, -10, 1, NULL, NULL, &more);
    ck_assert_int_eq(more, 1);
    ck_assert_int_lt(n, 600);
    int m = upload_sweep_due(dir, -10, 3600, 1, NULL, NULL, &more);
    ck_assert_int_lt(m, 600 - n);
    ck_assert_int_eq(more, 1);
    /* due again at once, though the interval is an hour */
    ck_assert_int_eq(upload_sweep_due(dir, -10, 3600, 0, NULL, NULL, NULL), 600 - n - m);
    ck_assert_int_eq(upload_sweep(dir, -10, 0, NULL, NULL, &more), 0);
    ck_assert_int_eq(more, 0);
    ck_assert_int_eq(count_files(dir), 0);
    ck_assert_uint_eq(upload_open_count(), 0);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* At most max sessions: one more is UPLOAD_FULL, and nothing is made. */
START_TEST(upload_max_sessions)
{
    char *dir = upload_tmpdir();
    struct upload u;
    char id[33];
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(upload_create(dir, "a", DIGEST_SHA256, 3, &u), UPLOAD_OK);
        memcpy(id, u.id, sizeof id);
        upload_close(&u);
    }
    struct upload x;
    ck_assert_int_eq(upload_create(dir, "a", DIGEST_SHA256, 3, &x), UPLOAD_FULL);
    ck_assert_int_eq(count_files(dir), 6);
    ck_assert_uint_eq(upload_open_count(), 3);
    ck_assert_int_eq(upload_create(dir, "a", DIGEST_SHA256, 0, &x), UPLOAD_OK);   /* no maximum */
    ck_assert_int_eq(upload_remove(&x), 0);
    upload_close(&x);
    /* one removed, one more may start */
    ck_assert_int_eq(upload_open(dir, id, &x), UPLOAD_OK);
    ck_assert_int_eq(upload_remove(&x), 0);
    upload_close(&x);
    ck_assert_uint_eq(upload_open_count(), 2);
    ck_assert_int_eq(upload_create(dir, "a", DIGEST_SHA256, 3, &x), UPLOAD_OK);
    upload_close(&x);
    ck_assert_int_eq(upload_create(dir, "a", DIGEST_SHA256, 3, &x), UPLOAD_FULL);
    /* sessions removed behind the count's back: it is taken from the
     * directory again when it says full (at most every 10 s) */
    char *cmd = xasprintf("rm -f %s/uploads/*", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    metrics_live()->upload_sessions_counted = 1;   /* long ago */
    ck_assert_int_eq(upload_create(dir, "a", DIGEST_SHA256, 3, &x), UPLOAD_OK);
    upload_close(&x);
    ck_assert_uint_eq(upload_open_count(), 1);
    rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(upload_create_fails_cleanly)
{
    struct upload u;
    ck_assert_int_eq(upload_create("/nonexistent-dir-for-test/x", "a", DIGEST_SHA256, 0, &u), UPLOAD_ERROR);
    upload_close(&u);   /* safe on a failed create */
}
END_TEST

Suite *suite_upload(void)
{
    Suite *s = suite_create("upload");
    TCase *tc = tcase_create("upload");
    tcase_add_test(tc, upload_create_open_save);
    tcase_add_test(tc, upload_open_bad_ids);
    tcase_add_test(tc, upload_sha512_roundtrip);
    tcase_add_test(tc, upload_sweep_removes_old);
    tcase_add_test(tc, upload_sweep_strays);
    tcase_add_test(tc, upload_sweep_takes_turns);
    tcase_add_test(tc, upload_sweep_budget);
    tcase_add_test(tc, upload_max_sessions);
    tcase_add_test(tc, upload_create_fails_cleanly);
    suite_add_tcase(s, tc);
    return s;
}
