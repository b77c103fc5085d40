/* slots: n lock files shared by processes (core/slots.c). Each struct slots
 * opens the files itself, so two of them in one process compete like two
 * workers do; a holder that dies gives its slot back. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/unit/unit.h"
#include "core/slots.h"
#include "core/xalloc.h"

static char slots_tmp[64];

static void slots_setup(void)
{
    snprintf(slots_tmp, sizeof slots_tmp, "/tmp/test-slots-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(slots_tmp));
}

static void slots_teardown(void)
{
    char *cmd = xasprintf("rm -rf '%s'", slots_tmp);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

static char *slots_dir(void)
{
    return xasprintf("%s/upload-slots", slots_tmp);
}

START_TEST(slots_take_until_full)
{
    char *dir = slots_dir();
    struct slots s[4];
    for (int i = 0; i < 4; i++)
        slots_init(&s[i], dir, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(slots_take(&s[i]), SLOTS_TAKEN);
    /* a fourth holder finds none, and says so at once */
    ck_assert_int_eq(slots_take(&s[3]), SLOTS_FULL);
    /* taking again while holding keeps the one held */
    ck_assert_int_eq(slots_take(&s[1]), SLOTS_TAKEN);
    ck_assert_int_eq(slots_take(&s[3]), SLOTS_FULL);
    /* one given back is one free */
    slots_release(&s[1]);
    ck_assert_int_eq(s[1].held, -1);
    ck_assert_int_eq(slots_take(&s[3]), SLOTS_TAKEN);
    ck_assert_int_eq(slots_take(&s[1]), SLOTS_FULL);
    /* releasing what is not held does nothing */
    slots_release(&s[1]);
    ck_assert_int_eq(slots_take(&s[1]), SLOTS_FULL);
    /* freeing a holder frees its slot */
    slots_free(&s[0]);
    ck_assert_int_eq(slots_take(&s[1]), SLOTS_TAKEN);
    for (int i = 1; i < 4; i++)
        slots_free(&s[i]);
    free(dir);
}
END_TEST

/* A holder killed outright (SIGKILL: no cleanup runs) gives its slot back:
 * the kernel drops the lock with the process's files. */
START_TEST(slots_holder_killed)
{
    char *dir = slots_dir();
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct slots held;
        slots_init(&held, dir, 1);
        char c = slots_take(&held) == SLOTS_TAKEN ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    char c = 0;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    ck_assert_int_eq(c, 'y');
    struct slots s;
    slots_init(&s, dir, 1);
    ck_assert_int_eq(slots_take(&s), SLOTS_FULL);
    /* seen from outside, with its pid, while it lives (not after the
     * kill: the kernel drops the lock as the process exits, which may be
     * before this process looks) */
    int pids[1] = { 0 };
    ck_assert_uint_eq(slots_holders(dir, 1, pids), 1);
    ck_assert_int_eq(pids[0], pid);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_uint_eq(slots_holders(dir, 1, NULL), 0);
    ck_assert_int_eq(slots_take(&s), SLOTS_TAKEN);
    slots_free(&s);
    close(ready[0]);
    close(ready[1]);
    free(dir);
}
END_TEST

/* Who holds what, seen from outside: the count and the holders' pids; a
 * probe never takes a slot from anyone, and files never made are free. */
START_TEST(slots_holders_probe)
{
    char *dir = slots_dir();
    ck_assert_uint_eq(slots_holders(dir, 4, NULL), 0);   /* nothing made yet */
    struct slots a, b;
    slots_init(&a, dir, 4);
    slots_init(&b, dir, 4);
    ck_assert_int_eq(slots_take(&a), SLOTS_TAKEN);
    ck_assert_int_eq(slots_take(&b), SLOTS_TAKEN);
    int pids[4] = { 0 };
    ck_assert_uint_eq(slots_holders(dir, 4, pids), 2);
    ck_assert_int_eq(pids[0], getpid());
    ck_assert_int_eq(pids[1], getpid());
    /* the probe left them held, and the other two free */
    struct slots c[3];
    for (int i = 0; i < 3; i++)
        slots_init(&c[i], dir, 4);
    ck_assert_int_eq(slots_take(&c[0]), SLOTS_TAKEN);
    ck_assert_int_eq(slots_take(&c[1]), SLOTS_TAKEN);
    ck_assert_int_eq(slots_take(&c[2]), SLOTS_FULL);
    ck_assert_uint_eq(slots_holders(dir, 4, NULL), 4);
    slots_release(&a);
    ck_assert_uint_eq(slots_holders(dir, 4, NULL), 3);
    slots_free(&a);
    slots_free(&b);
    for (int i = 0; i < 3; i++)
        slots_free(&c[i]);
    ck_assert_uint_eq(slots_holders(dir, 4, NULL), 0);
    free(dir);
}
END_TEST

/* The directory cannot be made: an error with errno, not a full house. */
START_TEST(slots_error)
{
    char *dir = xasprintf("%s/missing/upload-slots", slots_tmp);
    struct slots s;
    slots_init(&s, dir, 2);
    errno = 0;
    ck_assert_int_eq(slots_take(&s), SLOTS_ERROR);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_int_eq(s.held, -1);
    slots_release(&s);   /* harmless */
    slots_free(&s);
    free(dir);
}
END_TEST

Suite *suite_slots(void)
{
    Suite *s = suite_create("slots");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, slots_setup, slots_teardown);
    tcase_add_test(tc, slots_take_until_full);
    tcase_add_test(tc, slots_holder_killed);
    tcase_add_test(tc, slots_holders_probe);
    tcase_add_test(tc, slots_error);
    suite_add_tcase(s, tc);
    return s;
}
