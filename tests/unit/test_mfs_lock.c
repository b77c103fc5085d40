/* The MFS writer lock (ipfs/mfs.c): two clients of the same lock file, as
 * two workers would have, exclude each other; a client without one never
 * blocks; a lock file that cannot be made is an error, not a silent no-op. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include "ipfs/kubo_internal.h"
#include "tests/unit/unit.h"

static struct kubo *client(void)
{
    char *err = NULL;
    struct kubo *k = kubo_new("/ip4/127.0.0.1/tcp/1", NULL, &err);
    ck_assert_msg(k != NULL, "%s", err ? err : "?");
    return k;
}

/* Can another open file description take the lock right now? */
static int free_now(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    int got = flock(fd, LOCK_EX | LOCK_NB) == 0;
    ck_assert(got || errno == EWOULDBLOCK);
    close(fd);   /* releases it if we got it */
    return got;
}

START_TEST(test_two_clients_exclude)
{
    char dir[] = "/tmp/mfslock.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/mfs.lock", dir);
    struct kubo *a = client(), *b = client();
    ck_assert_int_eq(kubo_set_mfs_lock(a, path), 0);
    ck_assert_int_eq(kubo_set_mfs_lock(b, path), 0);
    ck_assert(free_now(path));
    kubo_mfs_lock(a);
    ck_assert(!free_now(path));
    ck_assert_int_eq(flock(b->mfs_lock_fd, LOCK_EX | LOCK_NB), -1);   /* b would wait */
    kubo_mfs_unlock(a);
    ck_assert(free_now(path));
    kubo_mfs_lock(b);
    ck_assert(!free_now(path));
    kubo_mfs_unlock(b);
    kubo_free(a);
    kubo_free(b);
    ck_assert(free_now(path));
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_no_lock_file)
{
    struct kubo *k = client();
    kubo_mfs_lock(k);   /* no lock set: returns at once */
    kubo_mfs_unlock(k);
    ck_assert_int_eq(kubo_set_mfs_lock(k, "/nonexistent-dir/mfs.lock"), -1);
    ck_assert_ptr_nonnull(strstr(kubo_errmsg(k), "/nonexistent-dir/mfs.lock"));
    ck_assert_int_eq(k->mfs_lock_fd, -1);
    kubo_free(k);
}
END_TEST

Suite *suite_mfs_lock(void)
{
    Suite *s = suite_create("mfs_lock");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_two_clients_exclude);
    tcase_add_test(tc, test_no_lock_file);
    suite_add_tcase(s, tc);
    return s;
}
