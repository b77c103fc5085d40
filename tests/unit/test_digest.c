/* digest: the spec's grammar, known vectors, and a hash state that survives
 * save/load across a split point (how upload chunks hop between workers). */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "core/digest.h"

#define SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA256_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA512_EMPTY "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce" \
                     "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
#define SHA512_ABC "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" \
                   "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"

START_TEST(digest_vectors)
{
    struct digest d;
    digest_of(DIGEST_SHA256, "", 0, &d);
    ck_assert_str_eq(d.hex, SHA256_EMPTY);
    digest_of(DIGEST_SHA256, "abc", 3, &d);
    ck_assert_str_eq(d.hex, SHA256_ABC);
    digest_of(DIGEST_SHA512, "", 0, &d);
    ck_assert_str_eq(d.hex, SHA512_EMPTY);
    digest_of(DIGEST_SHA512, "abc", 3, &d);
    ck_assert_str_eq(d.hex, SHA512_ABC);
    ck_assert_int_eq(d.alg, DIGEST_SHA512);
    char s[DIGEST_STR_MAX];
    ck_assert_str_eq(digest_str(&d, s), "sha512:" SHA512_ABC);
}
END_TEST

START_TEST(digest_parse_valid)
{
    struct digest d, e;
    ck_assert_int_eq(digest_parse("sha256:" SHA256_ABC, &d), DIGEST_PARSE_OK);
    ck_assert_int_eq(d.alg, DIGEST_SHA256);
    ck_assert_str_eq(d.hex, SHA256_ABC);
    ck_assert_int_eq(digest_parse("sha512:" SHA512_EMPTY, &e), DIGEST_PARSE_OK);
    ck_assert_int_eq(e.alg, DIGEST_SHA512);
    ck_assert(!digest_equal(&d, &e));
    struct digest f;
    digest_of(DIGEST_SHA256, "abc", 3, &f);
    ck_assert(digest_equal(&d, &f));
}
END_TEST

START_TEST(digest_parse_invalid)
{
    struct digest d;
    const char *invalid[] = {
        "", "sha256", "sha256:", ":" SHA256_ABC, "SHA256:" SHA256_ABC,
        "sha256:" "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", /* upper hex */
        "sha256:" "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",  /* 63 */
        "sha256:" SHA256_ABC "0",                                                     /* 65 */
        "sha256:" SHA512_ABC,                                                         /* 128 */
        "sha512:" SHA256_ABC,                                                         /* 64 */
        "sha256:" "ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", /* g */
        "sha256:ba78 16", "sha256:../../etc", "sha256+:abc", "sha-:abc", "-sha:abc",
        "sha..256:abc", "foo:bar:baz", "foo:ba/r", "foo:", "sha256:" SHA256_ABC "\n",
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        ck_assert_msg(digest_parse(invalid[i], &d) == DIGEST_PARSE_INVALID, "%s", invalid[i]);
    ck_assert_int_eq(digest_parse(NULL, &d), DIGEST_PARSE_INVALID);
}
END_TEST

START_TEST(digest_parse_unsupported)
{
    struct digest d;
    const char *unsupported[] = {
        "md5:abcdef", "sha384:abc", "blake3:" SHA256_ABC, "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
        "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", "a.b_c-d:x=y",
    };
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        ck_assert_msg(digest_parse(unsupported[i], &d) == DIGEST_PARSE_UNSUPPORTED, "%s", unsupported[i]);
}
END_TEST

START_TEST(digest_helpers)
{
    enum digest_alg a;
    ck_assert(digest_looks_like("sha256:x"));
    ck_assert(!digest_looks_like("latest"));
    ck_assert(!digest_looks_like(NULL));
    ck_assert_int_eq(digest_alg_parse("sha512", &a), 0);
    ck_assert_int_eq(a, DIGEST_SHA512);
    ck_assert_int_eq(digest_alg_parse("md5", &a), -1);
    ck_assert_str_eq(digest_alg_name(DIGEST_SHA256), "sha256");
    ck_assert_uint_eq(digest_alg_hexlen(DIGEST_SHA256), 64);
    ck_assert_uint_eq(digest_alg_hexlen(DIGEST_SHA512), 128);
}
END_TEST

/* Hash data in two parts with a save/load between them; must equal one pass. */
static void check_split(enum digest_alg alg, const unsigned char *data, size_t n, size_t split)
{
    struct digest one, two;
    digest_of(alg, data, n, &one);
    struct hasher h, h2;
    hasher_init(&h, alg);
    hasher_update(&h, data, split);
    char *saved = hasher_save(&h);
    memset(&h2, 0xa5, sizeof h2);   /* garbage, as in another process */
    ck_assert_int_eq(hasher_load(&h2, saved), 0);
    free(saved);
    hasher_update(&h2, data + split, n - split);
    hasher_final(&h2, &two);
    ck_assert_msg(digest_equal(&one, &two), "alg %d split %zu", alg, split);
}

START_TEST(hasher_save_load_split)
{
    unsigned char data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 31 + 7);
    size_t splits[] = { 0, 1, 63, 64, 65, 127, 128, 129, 500, 999, 1000 };
    for (size_t i = 0; i < sizeof splits / sizeof splits[0]; i++) {
        check_split(DIGEST_SHA256, data, sizeof data, splits[i]);
        check_split(DIGEST_SHA512, data, sizeof data, splits[i]);
    }
}
END_TEST

START_TEST(hasher_load_rejects)
{
    struct hasher h;
    hasher_init(&h, DIGEST_SHA256);
    char *saved = hasher_save(&h);
    ck_assert_int_eq(strncmp(saved, "sha256:", 7), 0);
    ck_assert_int_eq(hasher_load(&h, saved), 0);
    char *bad = strdup(saved);
    bad[strlen(bad) - 1] = '\0';   /* truncated */
    ck_assert_int_eq(hasher_load(&h, bad), -1);
    free(bad);
    bad = strdup(saved);
    bad[strlen(bad) - 1] = 'z';    /* not hex */
    ck_assert_int_eq(hasher_load(&h, bad), -1);
    free(bad);
    bad = strdup(saved);
    memcpy(bad, "sha512", 6);      /* other algorithm, wrong size */
    ck_assert_int_eq(hasher_load(&h, bad), -1);
    free(bad);
    ck_assert_int_eq(hasher_load(&h, "sha256:1:00"), -1);   /* size from another build */
    ck_assert_int_eq(hasher_load(&h, "md5:4:00000000"), -1);
    ck_assert_int_eq(hasher_load(&h, ""), -1);
    ck_assert_int_eq(hasher_load(&h, NULL), -1);
    free(saved);
}
END_TEST

/* A saved state whose context SHA*_Update could never have left (found by
 * tests/fuzz/fuzz_names): OpenSSL takes num, the bytes waiting in the
 * block, as an index into it, so a damaged session file made the next
 * chunk's hasher_update write far past the context. */
static void check_damaged(enum digest_alg alg, void (*damage)(struct hasher *))
{
    struct hasher h;
    hasher_init(&h, alg);
    hasher_update(&h, "abc", 3);
    damage(&h);
    char *saved = hasher_save(&h);
    ck_assert_msg(hasher_load(&h, saved) == -1, "alg %d: %s", alg, saved);
    free(saved);
}

static void damage_num_256(struct hasher *h) { h->u.s256.num = 0xfffffff0u; }
static void damage_num_512(struct hasher *h) { h->u.s512.num = SHA512_CBLOCK; }
static void damage_count_256(struct hasher *h) { h->u.s256.num = 5; }   /* 3 bytes were hashed */
static void damage_count_512(struct hasher *h) { h->u.s512.Nl = 8 * 200; }
static void damage_mdlen_256(struct hasher *h) { h->u.s256.md_len = 0; }
static void damage_mdlen_512(struct hasher *h) { h->u.s512.md_len = SHA384_DIGEST_LENGTH; }

START_TEST(hasher_load_rejects_damaged_state)
{
    check_damaged(DIGEST_SHA256, damage_num_256);
    check_damaged(DIGEST_SHA512, damage_num_512);
    check_damaged(DIGEST_SHA256, damage_count_256);
    check_damaged(DIGEST_SHA512, damage_count_512);
    check_damaged(DIGEST_SHA256, damage_mdlen_256);
    check_damaged(DIGEST_SHA512, damage_mdlen_512);
}
END_TEST

Suite *suite_digest(void)
{
    Suite *s = suite_create("digest");
    TCase *tc = tcase_create("digest");
    tcase_add_test(tc, digest_vectors);
    tcase_add_test(tc, digest_parse_valid);
    tcase_add_test(tc, digest_parse_invalid);
    tcase_add_test(tc, digest_parse_unsupported);
    tcase_add_test(tc, digest_helpers);
    tcase_add_test(tc, hasher_save_load_split);
    tcase_add_test(tc, hasher_load_rejects);
    tcase_add_test(tc, hasher_load_rejects_damaged_state);
    suite_add_tcase(s, tc);
    return s;
}
