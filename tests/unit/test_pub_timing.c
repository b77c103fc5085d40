/* pub_timing: when the publisher publishes after change notices (quiet
 * period, maximum interval), retries its start-up checks, and backs off
 * after a failed publish. Times are arbitrary monotonic ms. */
#include "tests/unit/unit.h"
#include "ipfs/pub_timing.h"

/* The shipped defaults: publish_quiet_ms = 300, publish_max_interval_ms = 3000. */
static struct pub_timing timing(int quiet_ms, int max_interval_ms)
{
    struct pub_timing t = { .quiet_ms = quiet_ms, .max_interval_ms = max_interval_ms };
    return t;
}

/* A change notice at now; the period must then run from first and the
 * publish be due at due. */
static void notice_expect(struct pub_timing *t, long long now, long long first, long long due)
{
    pub_timing_notice(t, now);
    ck_assert_msg(t->first_change_ms == first, "notice at %lld: first change %lld, want %lld", now,
                  t->first_change_ms, first);
    ck_assert_msg(t->last_change_ms == now, "notice at %lld: last change %lld", now, t->last_change_ms);
    long long got = pub_timing_due(t, PUB_TIMING_PENDING);
    ck_assert_msg(got == due, "notice at %lld: due at %lld, want %lld", now, got, due);
}

START_TEST(timing_quiet_period_moves_with_each_notice)
{
    struct pub_timing t = timing(300, 3000);
    notice_expect(&t, 1000, 1000, 1300);
    notice_expect(&t, 1200, 1000, 1500);   /* the period stays open from the first */
    notice_expect(&t, 1450, 1000, 1750);
    notice_expect(&t, 1450, 1000, 1750);   /* a notice in the same millisecond changes nothing */
}
END_TEST

START_TEST(timing_max_interval_caps_a_steady_stream)
{
    /* a notice every 200 ms never leaves 300 ms of quiet */
    struct pub_timing t = timing(300, 3000);
    for (long long now = 1000; now <= 3600; now += 200)
        pub_timing_notice(&t, now);
    ck_assert_int_eq(pub_timing_due(&t, PUB_TIMING_PENDING), 3900);   /* quiet end, still before the cap */
    notice_expect(&t, 3700, 1000, 4000);   /* quiet end == cap */
    notice_expect(&t, 3800, 1000, 4000);   /* capped: first + 3000 */
    notice_expect(&t, 5000, 1000, 4000);   /* overdue stays overdue */

    /* a quiet period longer than the interval: the interval decides */
    struct pub_timing u = timing(5000, 1000);
    notice_expect(&u, 1000, 1000, 2000);
}
END_TEST

START_TEST(timing_after_a_publish_a_new_period_starts)
{
    struct pub_timing t = timing(300, 3000);
    notice_expect(&t, 1000, 1000, 1300);
    notice_expect(&t, 3500, 1000, 3800);
    t.first_change_ms = 0;   /* what the publisher does once it has published */
    notice_expect(&t, 9000, 9000, 9300);
}
END_TEST

START_TEST(timing_idle_is_never_due)
{
    struct pub_timing t = timing(300, 3000);
    ck_assert(pub_timing_due(&t, PUB_TIMING_IDLE) == PUB_TIMING_NEVER);
    /* no key, or nothing pending: the change times and retries do not matter */
    pub_timing_notice(&t, 1000);
    pub_timing_retry_startup(&t, 1000, 2);
    pub_timing_failed(&t, 1000);
    ck_assert(pub_timing_due(&t, PUB_TIMING_IDLE) == PUB_TIMING_NEVER);
}
END_TEST

START_TEST(timing_startup_retry)
{
    struct pub_timing t = timing(300, 3000);
    /* the first start-up check runs at once */
    ck_assert_int_eq(pub_timing_due(&t, PUB_TIMING_STARTING), 0);
    pub_timing_retry_startup(&t, 5000, 2);   /* Kubo not answering */
    ck_assert_int_eq(t.next_startup_ms, 7000);
    ck_assert_int_eq(pub_timing_due(&t, PUB_TIMING_STARTING), 7000);
    pub_timing_retry_startup(&t, 7000, 10);  /* no such key */
    ck_assert_int_eq(pub_timing_due(&t, PUB_TIMING_STARTING), 17000);
    pub_timing_retry_startup(&t, 17000, 30); /* another writer */
    ck_assert_int_eq(pub_timing_due(&t, PUB_TIMING_STARTING), 47000);
    pub_timing_retry_startup(&t, 47000, 0);
    ck_assert_int_eq(pub_timing_due(&t, PUB_TIMING_STARTING), 47000);
    /* notices while starting wait for the checks, not for the quiet period */
    pub_timing_notice(&t, 46000);
    ck_assert_int_eq(pub_timing_due(&t, PUB_TIMING_STARTING), 47000);
    /* once ready, the retry time no longer counts */
    ck_assert_int_eq(pub_timing_due(&t, PUB_TIMING_PENDING), 46300);
}
END_TEST

START_TEST(timing_backoff_after_failures)
{
    struct pub_timing t = timing(300, 3000);
    pub_timing_notice(&t, 10000);
    pub_timing_failed(&t, 10300);
    ck_assert_uint_eq(t.backoff_s, 1);
    ck_assert_int_eq(t.next_try_ms, 11300);
    ck_assert_int_eq(pub_timing_due(&t, PUB_TIMING_PENDING), 11300);   /* not at 10300 again */
    const unsigned want[] = { 2, 4, 8, 16, 32, 60, 60 };
    long long now = 11300;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        pub_timing_failed(&t, now);
        ck_assert_uint_eq(t.backoff_s, want[i]);
        ck_assert_int_eq(t.next_try_ms, now + (long long)want[i] * 1000);
        now = t.next_try_ms;
    }
    ck_assert_int_eq(pub_timing_due(&t, PUB_TIMING_PENDING), now);
    /* a back-off that ends before the quiet period does not hurry it */
    t.backoff_s = 0;
    t.next_try_ms = 0;
    t.first_change_ms = 0;
    pub_timing_notice(&t, 500000);
    pub_timing_failed(&t, 499000);
    ck_assert_int_eq(t.next_try_ms, 500000);
    ck_assert_int_eq(pub_timing_due(&t, PUB_TIMING_PENDING), 500300);
}
END_TEST

START_TEST(timing_edge_values)
{
    /* publish_quiet_ms = 0: due at the notice itself */
    struct pub_timing t = timing(0, 3000);
    notice_expect(&t, 1000, 1000, 1000);
    notice_expect(&t, 2999, 1000, 2999);

    /* quiet == interval with a single notice: both ends are the same time */
    struct pub_timing u = timing(1000, 1000);
    notice_expect(&u, 1000, 1000, 2000);

    /* a back-off ending exactly when the publish is due */
    struct pub_timing v = timing(300, 3000);
    notice_expect(&v, 700, 700, 1000);
    v.next_try_ms = 1000;
    ck_assert_int_eq(pub_timing_due(&v, PUB_TIMING_PENDING), 1000);
    v.next_try_ms = 1001;
    ck_assert_int_eq(pub_timing_due(&v, PUB_TIMING_PENDING), 1001);

    /* the largest settings the configuration accepts do not overflow */
    struct pub_timing w = timing(60000, 3600000);
    long long late = 1LL << 50;
    notice_expect(&w, late, late, late + 60000);
}
END_TEST

Suite *suite_pub_timing(void)
{
    Suite *s = suite_create("pub_timing");
    TCase *tc = tcase_create("pub_timing");
    tcase_add_test(tc, timing_quiet_period_moves_with_each_notice);
    tcase_add_test(tc, timing_max_interval_caps_a_steady_stream);
    tcase_add_test(tc, timing_after_a_publish_a_new_period_starts);
    tcase_add_test(tc, timing_idle_is_never_due);
    tcase_add_test(tc, timing_startup_retry);
    tcase_add_test(tc, timing_backoff_after_failures);
    tcase_add_test(tc, timing_edge_values);
    suite_add_tcase(s, tc);
    return s;
}
