/* test_p2pstate: p2p_root_take, the resolver's rule that a follower never
 * goes back to an older IPNS record (core/p2pstate.c). Pure logic: no
 * Kubo, no fakes. */
#include <check.h>
#include <string.h>
#include "core/p2pstate.h"
#include "tests/unit/unit.h"

/* A root that already serves cid at sequence seq. */
static struct p2p_root root_at(const char *cid, unsigned long long seq)
{
    struct p2p_root ro;
    memset(&ro, 0, sizeof ro);
    ck_assert_int_eq(p2p_root_take(&ro, cid, 1, seq), P2P_ROOT_NEW);
    return ro;
}

START_TEST(first_root_taken)
{
    struct p2p_root ro;
    memset(&ro, 0, sizeof ro);
    ck_assert_int_eq(p2p_root_take(&ro, "bafyA", 1, 7), P2P_ROOT_NEW);
    ck_assert_str_eq(ro.cid, "bafyA");
    ck_assert_uint_eq(ro.sequence, 7);
}
END_TEST

START_TEST(newer_taken_older_refused)
{
    struct p2p_root ro = root_at("bafyA", 3);
    ck_assert_int_eq(p2p_root_take(&ro, "bafyB", 1, 4), P2P_ROOT_NEW);
    /* the record of A again (a peer that missed B's): refused, B stays */
    ck_assert_int_eq(p2p_root_take(&ro, "bafyA", 1, 3), P2P_ROOT_OLDER);
    ck_assert_str_eq(ro.cid, "bafyB");
    ck_assert_uint_eq(ro.sequence, 4);
    /* and again, for as long as that peer answers */
    ck_assert_int_eq(p2p_root_take(&ro, "bafyA", 1, 3), P2P_ROOT_OLDER);
    ck_assert_str_eq(ro.cid, "bafyB");
}
END_TEST

START_TEST(same_root_republished)
{
    struct p2p_root ro = root_at("bafyA", 3);
    ck_assert_int_eq(p2p_root_take(&ro, "bafyA", 1, 9), P2P_ROOT_SAME);
    ck_assert_uint_eq(ro.sequence, 9);
    /* an older record of the same root changes nothing */
    ck_assert_int_eq(p2p_root_take(&ro, "bafyA", 1, 2), P2P_ROOT_SAME);
    ck_assert_uint_eq(ro.sequence, 9);
}
END_TEST

START_TEST(a_rollback_the_writer_published_is_taken)
{
    /* the writer going back to an earlier tree publishes it with a higher
     * sequence: that is a new root, not an older record */
    struct p2p_root ro = root_at("bafyA", 1);
    ck_assert_int_eq(p2p_root_take(&ro, "bafyB", 1, 2), P2P_ROOT_NEW);
    ck_assert_int_eq(p2p_root_take(&ro, "bafyA", 1, 3), P2P_ROOT_NEW);
    ck_assert_str_eq(ro.cid, "bafyA");
}
END_TEST

START_TEST(no_sequence_taken_as_it_is)
{
    /* DNSLink names and offline nodes give no sequence number */
    struct p2p_root ro = root_at("bafyA", 5);
    ck_assert_int_eq(p2p_root_take(&ro, "bafyB", 0, 0), P2P_ROOT_NEW);
    ck_assert_str_eq(ro.cid, "bafyB");
    ck_assert_uint_eq(ro.sequence, 0);
    /* with nothing known any record is newer */
    ck_assert_int_eq(p2p_root_take(&ro, "bafyC", 1, 0), P2P_ROOT_NEW);
}
END_TEST

Suite *suite_p2pstate(void)
{
    Suite *s = suite_create("p2pstate");
    TCase *tc = tcase_create("root_take");
    tcase_add_test(tc, first_root_taken);
    tcase_add_test(tc, newer_taken_older_refused);
    tcase_add_test(tc, same_root_republished);
    tcase_add_test(tc, a_rollback_the_writer_published_is_taken);
    tcase_add_test(tc, no_sequence_taken_as_it_is);
    suite_add_tcase(s, tc);
    return s;
}
