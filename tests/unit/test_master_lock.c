/* The statedir lock (fcgi/master.c): a live master keeps a second one out at
 * once; a dead master's lock, still held by processes it started (workers
 * finishing their requests after a SIGKILL), is waited for, not refused. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "fcgi/master.h"
#include "tests/unit/unit.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A pid that existed a moment ago and is gone now. */
static pid_t dead_pid(void)
{
    pid_t p = fork();
    ck_assert_int_ge(p, 0);
    if (p == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(p, NULL, 0), p);
    return p;
}

/* A child that locks <dir>/master.lock as if it were master `owner` (its own
 * pid when 0), then holds it for hold_ms. Returns once the lock is held. */
static pid_t holder(const char *dir, pid_t owner, int hold_ms)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t c = fork();
    ck_assert_int_ge(c, 0);
    if (c == 0) {
        char path[256], line[32];
        snprintf(path, sizeof path, "%s/master.lock", dir);
        int fd = open(path, O_RDWR | O_CREAT, 0640);
        if (fd < 0 || flock(fd, LOCK_EX) < 0)
            _exit(1);
        int n = snprintf(line, sizeof line, "%ld\n", (long)(owner ? owner : getpid()));
        if (ftruncate(fd, 0) < 0 || pwrite(fd, line, (size_t)n, 0) != n || write(p[1], "l", 1) != 1)
            _exit(1);
        struct timespec ts = { hold_ms / 1000, (hold_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        _exit(0);
    }
    close(p[1]);
    char b;
    ck_assert_int_eq(read(p[0], &b, 1), 1);
    close(p[0]);
    return c;
}

START_TEST(test_live_master_refused_at_once)
{
    char dir[] = "/tmp/masterlock.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    pid_t h = holder(dir, 0, 10000);
    char *err = NULL;
    long long t0 = now_ms();
    int fd = master_lock_statedir(dir, &err);
    ck_assert_int_eq(fd, -1);
    ck_assert_int_lt(now_ms() - t0, 1000);
    char want[96];
    snprintf(want, sizeof want, "another oci-registry-p2p master (pid %ld)", (long)h);
    ck_assert_msg(err && strstr(err, want), "err: %s", err ? err : "(none)");
    free(err);
    kill(h, SIGKILL);
    waitpid(h, NULL, 0);
    char path[64];
    snprintf(path, sizeof path, "%s/master.lock", dir);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_dead_master_orphans_waited_for)
{
    char dir[] = "/tmp/masterlock.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    pid_t h = holder(dir, dead_pid(), 400);
    char *err = NULL;
    long long t0 = now_ms();
    int fd = master_lock_statedir(dir, &err);
    long long waited = now_ms() - t0;
    ck_assert_msg(fd >= 0, "err: %s", err ? err : "(none)");
    ck_assert_int_ge(waited, 200);   /* it waited for the holder... */
    ck_assert_int_lt(waited, 5000);  /* ...and no longer than it held on */
    char line[32] = "";
    ck_assert_int_gt(pread(fd, line, sizeof line - 1, 0), 0);
    ck_assert_int_eq(atol(line), (long)getpid());   /* the file names us now */
    close(fd);
    waitpid(h, NULL, 0);
    char path[64];
    snprintf(path, sizeof path, "%s/master.lock", dir);
    unlink(path);
    rmdir(dir);
}
END_TEST

Suite *suite_master_lock(void)
{
    Suite *s = suite_create("master_lock");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_live_master_refused_at_once);
    tcase_add_test(tc, test_dead_master_orphans_waited_for);
    suite_add_tcase(s, tc);
    return s;
}
