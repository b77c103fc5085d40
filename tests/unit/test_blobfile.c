/* blobfile: the blob-files layout (core/blobfile.c) and the raw leaf CIDs
 * the filestore is asked about (ipfs/filestore.c kubo_raw_cid). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/unit/unit.h"
#include "core/blobfile.h"
#include "core/xalloc.h"
#include "ipfs/kubo.h"

#define HEX64 "c4513ed4b66f8bd0e4bdd0a243ee89df16b724dcca99de00a2ca100efb749876"

START_TEST(blobfile_paths)
{
    struct digest d;
    char rel[BLOBFILE_REL_MAX];
    ck_assert_int_eq(digest_parse("sha256:" HEX64, &d), DIGEST_PARSE_OK);
    ck_assert_str_eq(blobfile_rel(&d, rel), "sha256/c4/" HEX64);
    char *p = blobfile_path("/srv/blobs", &d);
    ck_assert_str_eq(p, "/srv/blobs/sha256/c4/" HEX64);
    free(p);
    p = blobfile_staging("/srv/blobs", "0123abcd");
    ck_assert_str_eq(p, "/srv/blobs/.uploads/0123abcd");
    free(p);
    p = blobfile_added("/srv/blobs", "0123abcd");
    ck_assert_str_eq(p, "/srv/blobs/.added/0123abcd");
    ck_assert_int_eq(blobfile_is_added("/srv/blobs", p), 1);
    free(p);
    /* only a name right in <dir>/.added/ is an alias */
    ck_assert_int_eq(blobfile_is_added("/srv/blobs", "/srv/blobs/.uploads/0123abcd"), 0);
    ck_assert_int_eq(blobfile_is_added("/srv/blobs", "/srv/blobs/.added/x/y"), 0);
    ck_assert_int_eq(blobfile_is_added("/srv/blobs", "/srv/blobs/.added/"), 0);
    ck_assert_int_eq(blobfile_is_added("/srv/blobs", "/srv/blobsx/.added/0123abcd"), 0);
    ck_assert_int_eq(blobfile_is_added("/srv/blobs", "/srv/blobs/sha256/c4/" HEX64), 0);
    /* the longest: sha512 fits the buffer */
    char s512[7 + 128 + 1] = "sha512:";
    memset(s512 + 7, 'a', 128);
    s512[135] = '\0';
    ck_assert_int_eq(digest_parse(s512, &d), DIGEST_PARSE_OK);
    ck_assert_uint_eq(strlen(blobfile_rel(&d, rel)), 7 + 3 + 128);
}
END_TEST

/* Only a blob file's own path names a digest; staging files, stray names and
 * a fan-out directory that is not the hex's start do not. */
START_TEST(blobfile_parse)
{
    struct digest d;
    ck_assert_int_eq(blobfile_parse_rel("sha256/c4/" HEX64, &d), 0);
    ck_assert_str_eq(d.hex, HEX64);
    ck_assert_int_eq(blobfile_parse_rel("sha256/c5/" HEX64, &d), -1);
    ck_assert_int_eq(blobfile_parse_rel(".uploads/abc", &d), -1);
    ck_assert_int_eq(blobfile_parse_rel("sha256/c4/" HEX64 "/x", &d), -1);
    ck_assert_int_eq(blobfile_parse_rel("sha256/c4/C4513ED4", &d), -1);
    ck_assert_int_eq(blobfile_parse_rel("md5/c4/" HEX64, &d), -1);
    ck_assert_int_eq(blobfile_parse_rel("sha256" HEX64, &d), -1);
    ck_assert_int_eq(blobfile_parse_rel("", &d), -1);
}
END_TEST

/* What Kubo gives for `add --cid-version 1 --raw-leaves` of one leaf. */
START_TEST(blobfile_raw_cid)
{
    static const struct { const char *data, *cid; } v[] = {
        { "", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku" },
        { "hello world", "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct digest d;
        unsigned char sha[32];
        char cid[KUBO_CID_MAX];
        digest_of(DIGEST_SHA256, v[i].data, strlen(v[i].data), &d);
        for (int j = 0; j < 32; j++) {
            unsigned x;
            ck_assert_int_eq(sscanf(d.hex + 2 * j, "%2x", &x), 1);
            sha[j] = (unsigned char)x;
        }
        kubo_raw_cid(sha, cid);
        ck_assert_str_eq(cid, v[i].cid);
    }
}
END_TEST

START_TEST(blobfile_filestore_path)
{
    /* the filestore names files relative to its root */
    ck_assert_int_eq(kubo_filestore_path_is("blobs/sha256/ab/ab12", "/var/lib/x/blobs/sha256/ab/ab12"), 1);
    ck_assert_int_eq(kubo_filestore_path_is("blobs/sha256/ab/ab12", "/var/lib/x/oblobs/sha256/ab/ab12"), 0);
    ck_assert_int_eq(kubo_filestore_path_is("/abs/f", "/abs/f"), 1);
    ck_assert_int_eq(kubo_filestore_path_is("", "/abs/f"), 0);
    ck_assert_int_eq(kubo_filestore_path_is("f", "f"), 0);
}
END_TEST

/* The damage record: kept while the file is not right, gone once it is. */
START_TEST(blobfile_damage)
{
    char dir[] = "/tmp/test-blobfile-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    struct blobfile_damage dm;
    ck_assert_int_eq(blobfile_damage_read(dir, &dm), 0);
    char *f = xasprintf("%s/blob", dir);
    ck_assert_int_eq(blobfile_damage_note(dir, f, 5, "missing"), 0);
    ck_assert_int_eq(blobfile_damage_read(dir, &dm), 1);
    ck_assert_str_eq(dm.path, f);
    ck_assert_str_eq(dm.problem, "missing");
    ck_assert_uint_eq(dm.size, 5);
    FILE *w = fopen(f, "w");
    ck_assert_ptr_nonnull(w);
    fputs("1234", w);
    fclose(w);
    ck_assert_int_eq(blobfile_damage_read(dir, &dm), 1);   /* 4 bytes: still wrong */
    w = fopen(f, "a");
    fputs("5", w);
    fclose(w);
    ck_assert_int_eq(blobfile_damage_read(dir, &dm), 0);   /* repaired: record removed */
    char *rec = xasprintf("%s/.damaged", dir);
    ck_assert_int_eq(access(rec, F_OK), -1);
    unlink(f);
    rmdir(dir);
    free(rec);
    free(f);
}
END_TEST

Suite *suite_blobfile(void)
{
    Suite *s = suite_create("blobfile");
    TCase *tc = tcase_create("blobfile");
    tcase_add_test(tc, blobfile_paths);
    tcase_add_test(tc, blobfile_parse);
    tcase_add_test(tc, blobfile_raw_cid);
    tcase_add_test(tc, blobfile_filestore_path);
    tcase_add_test(tc, blobfile_damage);
    suite_add_tcase(s, tc);
    return s;
}
