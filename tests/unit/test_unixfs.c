/* The UnixFS File node encoder behind kubo_concat: varints, the Data
 * protobuf, and dag-json's unpadded base64. The vectors come from nodes Kubo
 * itself wrote (ipfs dag get of an added 600000-byte file) or by hand from
 * the protobuf wire format. */
#include <stdlib.h>
#include <string.h>
#include "ipfs/kubo_internal.h"
#include "tests/unit/unit.h"

static void varint_is(uint64_t v, const char *hex_bytes, size_t n)
{
    unsigned char out[16];
    size_t len = unixfs_varint(out, v);
    ck_assert_uint_eq(len, n);
    ck_assert_mem_eq(out, hex_bytes, n);
}

START_TEST(test_varint)
{
    varint_is(0, "\x00", 1);
    varint_is(1, "\x01", 1);
    varint_is(127, "\x7f", 1);
    varint_is(128, "\x80\x01", 2);
    varint_is(300, "\xac\x02", 2);
    varint_is(262144, "\x80\x80\x10", 3);
    varint_is(UINT64_MAX, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
}
END_TEST

static void data_is(const uint64_t *sizes, size_t n, const char *want, size_t want_len)
{
    size_t len;
    unsigned char *p = unixfs_file_data(sizes, n, &len);
    ck_assert_uint_eq(len, want_len);
    ck_assert_mem_eq(p, want, want_len);
    free(p);
}

START_TEST(test_file_data_kubo)
{
    /* Kubo's root node for a 600000-byte file with 256 KiB chunks:
     * Data "CAIYwM8kIICAECCAgBAgwM8E". */
    uint64_t sizes[] = { 262144, 262144, 75712 };
    static const char want[] = "\x08\x02\x18\xc0\xcf\x24\x20\x80\x80\x10\x20\x80\x80\x10\x20\xc0\xcf\x04";
    data_is(sizes, 3, want, sizeof want - 1);
    size_t len;
    unsigned char *p = unixfs_file_data(sizes, 3, &len);
    char *b64 = unixfs_base64(p, len);
    ck_assert_str_eq(b64, "CAIYwM8kIICAECCAgBAgwM8E");
    free(b64);
    free(p);
}
END_TEST

START_TEST(test_file_data_hand)
{
    /* Type=File(2), filesize=12, blocksizes 6 and 6, non-packed. */
    uint64_t two[] = { 6, 6 };
    data_is(two, 2, "\x08\x02\x18\x0c\x20\x06\x20\x06", 8);
    /* No children: just type and a zero size. */
    data_is(NULL, 0, "\x08\x02\x18\x00", 4);
    /* Sizes over 32 bits keep all their bits. */
    uint64_t big[] = { 1ULL << 33 };
    data_is(big, 1, "\x08\x02\x18\x80\x80\x80\x80\x20\x20\x80\x80\x80\x80\x20", 14);
}
END_TEST

START_TEST(test_base64)
{
    static const struct { const char *in, *out; } v[] = {
        { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
        { "\xff\xfe\xfd", "//79" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *s = unixfs_base64((const unsigned char *)v[i].in, strlen(v[i].in));
        ck_assert_str_eq(s, v[i].out);
        free(s);
    }
}
END_TEST

Suite *suite_unixfs(void)
{
    Suite *s = suite_create("unixfs");
    TCase *tc = tcase_create("encode");
    tcase_add_test(tc, test_varint);
    tcase_add_test(tc, test_file_data_kubo);
    tcase_add_test(tc, test_file_data_hand);
    tcase_add_test(tc, test_base64);
    suite_add_tcase(s, tc);
    return s;
}
