/* tar (ipfs/tar.c): the streaming reader of the gateway's ?format=tar
 * answers. Archives are built here the way Go's archive/tar writes them:
 * ustar headers, a long name split into prefix and name, a PAX 'x' path
 * record, a GNU 'L' long name; fed whole and a byte at a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "core/buf.h"
#include "ipfs/tar.h"

/* One header block: name (and ustar prefix), size, type; checksum filled. */
static void tt_header(struct buf *b, const char *prefix, const char *name, size_t size, char type)
{
    unsigned char h[512];
    memset(h, 0, sizeof h);
    memcpy(h, name, strlen(name) < 100 ? strlen(name) : 100);
    memcpy(h + 100, "0000644", 7);
    snprintf((char *)h + 124, 12, "%011o", (unsigned)size);
    h[156] = (unsigned char)type;
    memcpy(h + 257, "ustar\0" "00", 8);
    if (prefix)
        memcpy(h + 345, prefix, strlen(prefix));
    unsigned sum = 0;
    memset(h + 148, ' ', 8);
    for (size_t i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    buf_append(b, (const char *)h, sizeof h);
}

/* An entry's data, padded to the block. */
static void tt_data(struct buf *b, const char *data, size_t n)
{
    static const char zero[512];
    buf_append(b, data, n);
    if (n % 512)
        buf_append(b, zero, 512 - n % 512);
}

static void tt_file(struct buf *b, const char *prefix, const char *name, const char *data)
{
    tt_header(b, prefix, name, strlen(data), '0');
    tt_data(b, data, strlen(data));
}

static void tt_end(struct buf *b)
{
    static const char zero[1024];
    buf_append(b, zero, sizeof zero);
}

struct tt_seen {
    char names[8][TAR_NAME_MAX];
    char data[8][64];
    int big[8];
    int n;
};

static int tt_cb(const char *name, const char *data, size_t len, void *ctx)
{
    struct tt_seen *s = ctx;
    ck_assert_int_lt(s->n, 8);
    snprintf(s->names[s->n], TAR_NAME_MAX, "%s", name);
    s->big[s->n] = data == NULL;
    if (data)
        snprintf(s->data[s->n], sizeof s->data[s->n], "%.*s", (int)len, data);
    s->n++;
    return 0;
}

/* The archive of every kind of entry the gateway writes. */
static void tt_archive(struct buf *b, char *longname, size_t longcap)
{
    buf_init(b, 1 << 20);
    tt_header(b, NULL, "root", 0, '5');
    tt_header(b, NULL, "root/v1", 0, '5');
    tt_file(b, NULL, "root/v1/current/link", "sha256:aaa");
    /* a name over 100 bytes, split at a '/' into prefix and name */
    tt_file(b, "root/v2/index/sha256", "0123456789012345678901234567890123456789012345678901234567890123/link",
            "sha256:bbb");
    /* a PAX path record */
    snprintf(longname, longcap, "root/%0200d/current/link", 7);
    char rec[512];
    int rl = (int)strlen(longname) + 6 + 4;   /* "NNN path=...\n" with a 3-digit length */
    snprintf(rec, sizeof rec, "%d path=%s\n", rl, longname);
    ck_assert_int_eq((int)strlen(rec), rl);
    tt_header(b, NULL, "PaxHeaders/x", strlen(rec), 'x');
    tt_data(b, rec, strlen(rec));
    tt_file(b, NULL, "ignored-short-name", "sha256:ccc");
    /* a GNU long name */
    tt_header(b, NULL, "././@LongLink", strlen(longname) + 1, 'L');
    tt_data(b, longname, strlen(longname) + 1);
    tt_file(b, NULL, "ignored-too", "sha256:ddd");
    /* a file too big to keep: reported without data */
    char *big = malloc(TAR_DATA_MAX + 10);
    memset(big, 'x', TAR_DATA_MAX + 9);
    big[TAR_DATA_MAX + 9] = '\0';
    tt_file(b, NULL, "root/big", big);
    free(big);
    tt_file(b, NULL, "root/empty", "");
    tt_end(b);
}

static void tt_check(const struct tt_seen *s, const char *longname)
{
    ck_assert_int_eq(s->n, 6);
    ck_assert_str_eq(s->names[0], "root/v1/current/link");
    ck_assert_str_eq(s->data[0], "sha256:aaa");
    ck_assert_str_eq(s->names[1],
                     "root/v2/index/sha256/0123456789012345678901234567890123456789012345678901234567890123/link");
    ck_assert_str_eq(s->data[1], "sha256:bbb");
    ck_assert_str_eq(s->names[2], longname);
    ck_assert_str_eq(s->data[2], "sha256:ccc");
    ck_assert_str_eq(s->names[3], longname);
    ck_assert_str_eq(s->data[3], "sha256:ddd");
    ck_assert_str_eq(s->names[4], "root/big");
    ck_assert_int_eq(s->big[4], 1);
    ck_assert_str_eq(s->names[5], "root/empty");
    ck_assert_int_eq(s->big[5], 0);
    ck_assert_str_eq(s->data[5], "");
}

START_TEST(tar_whole_and_bytewise)
{
    struct buf b;
    char longname[300];
    tt_archive(&b, longname, sizeof longname);
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        struct tt_seen s;
        memset(&s, 0, sizeof s);
        struct tar_reader t;
        tar_init(&t, tt_cb, &s);
        if (bytewise) {
            for (size_t i = 0; i < b.len; i++)
                ck_assert_int_eq(tar_feed(&t, b.data + i, 1), 0);
        } else {
            ck_assert_int_eq(tar_feed(&t, b.data, b.len), 0);
        }
        ck_assert_int_eq(tar_complete(&t), 1);
        tt_check(&s, longname);
        tar_free(&t);
    }
    buf_free(&b);
}
END_TEST

/* A stream cut short is not complete; a damaged header fails; a callback
 * that says stop stops. */
START_TEST(tar_bad)
{
    struct buf b;
    char longname[300];
    tt_archive(&b, longname, sizeof longname);
    struct tt_seen s;
    memset(&s, 0, sizeof s);
    struct tar_reader t;
    tar_init(&t, tt_cb, &s);
    ck_assert_int_eq(tar_feed(&t, b.data, b.len - 1024 - 100), 0);
    ck_assert_int_eq(tar_complete(&t), 0);
    tar_free(&t);

    b.data[512 + 10] ^= 1;   /* the second header's name: its checksum no longer matches */
    memset(&s, 0, sizeof s);
    tar_init(&t, tt_cb, &s);
    ck_assert_int_eq(tar_feed(&t, b.data, b.len), -1);
    ck_assert_int_eq(t.failed, 1);
    ck_assert_int_eq(tar_complete(&t), 0);
    ck_assert_int_eq(s.n, 0);
    tar_free(&t);
    buf_free(&b);
}
END_TEST

static int tt_stop(const char *name, const char *data, size_t len, void *ctx)
{
    (void)name, (void)data, (void)len;
    ++*(int *)ctx;
    return 1;
}

START_TEST(tar_stop)
{
    struct buf b;
    char longname[300];
    tt_archive(&b, longname, sizeof longname);
    int calls = 0;
    struct tar_reader t;
    tar_init(&t, tt_stop, &calls);
    ck_assert_int_eq(tar_feed(&t, b.data, b.len), -1);
    ck_assert_int_eq(t.stopped, 1);
    ck_assert_int_eq(calls, 1);
    ck_assert_int_eq(tar_complete(&t), 0);
    tar_free(&t);
    buf_free(&b);
}
END_TEST

Suite *suite_tar(void)
{
    Suite *s = suite_create("tar");
    TCase *tc = tcase_create("tar");
    tcase_add_test(tc, tar_whole_and_bytewise);
    tcase_add_test(tc, tar_bad);
    tcase_add_test(tc, tar_stop);
    suite_add_tcase(s, tc);
    return s;
}
