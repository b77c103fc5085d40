/* layout_index_edit: tags as ref.name descriptors, what survives an edit,
 * and what a damaged index.json gets (refused, never rewritten). Every
 * edited document is read back with oci/layout.c's parser, the one the
 * registry and other tools' layouts are read with. */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "oci/layout.h"
#include "oci/layout_index_edit.h"
#include "core/xalloc.h"

#define D1 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define D2 "sha256:a3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MT "application/vnd.oci.image.manifest.v1+json"

static struct layout_desc desc(const char *ds, uint64_t size)
{
    struct layout_desc d = { .media_type = MT, .size = size };
    ck_assert_int_eq(digest_parse(ds, &d.digest), DIGEST_PARSE_OK);
    return d;
}

/* The document as text, parsed back: "<ref or ->@<digest>" per entry. */
static char *entries(json_object *ix)
{
    char *text = layout_ixe_text(ix), *err = NULL, *out = xstrdup("");
    struct layout_index li;
    ck_assert_msg(layout_index_parse(text, strlen(text), &li, &err) == 0, "%s", err ? err : "");
    for (size_t i = 0; i < li.n; i++) {
        char ds[DIGEST_STR_MAX];
        char *next = xasprintf("%s%s%s@%.15s", out, i ? " " : "", li.v[i].ref ? li.v[i].ref : "-",
                               digest_str(&li.v[i].digest, ds));
        free(out);
        out = next;
    }
    layout_index_free(&li);
    free(text);
    return out;
}

#define EXPECT(ix, want)                        \
    do {                                        \
        char *got_ = entries(ix);               \
        ck_assert_str_eq(got_, want);           \
        free(got_);                             \
    } while (0)

START_TEST(ixe_tags)
{
    json_object *ix = layout_ixe_new();
    struct layout_desc a = desc(D1, 10), b = desc(D2, 20);
    EXPECT(ix, "");
    ck_assert_int_eq(layout_ixe_set_tag(ix, "1", &a), 1);
    ck_assert_int_eq(layout_ixe_set_tag(ix, "1", &a), 0);   /* already so */
    EXPECT(ix, "1@sha256:e3b0c442");
    /* a second tag of the same manifest: a descriptor of its own */
    ck_assert_int_eq(layout_ixe_set_tag(ix, "latest", &a), 1);
    EXPECT(ix, "1@sha256:e3b0c442 latest@sha256:e3b0c442");
    /* the tag moves: the old descriptor goes (its digest is still held) */
    ck_assert_int_eq(layout_ixe_set_tag(ix, "latest", &b), 1);
    EXPECT(ix, "1@sha256:e3b0c442 latest@sha256:a3b0c442");
    /* the last tag of a manifest moves: it stays, untagged */
    ck_assert_int_eq(layout_ixe_set_tag(ix, "1", &b), 1);
    EXPECT(ix, "-@sha256:e3b0c442 latest@sha256:a3b0c442 1@sha256:a3b0c442");
    /* tagging it again reuses the untagged descriptor */
    ck_assert_int_eq(layout_ixe_set_tag(ix, "old", &a), 1);
    EXPECT(ix, "old@sha256:e3b0c442 latest@sha256:a3b0c442 1@sha256:a3b0c442");
    /* untag: the manifest stays while no other descriptor holds it */
    ck_assert_int_eq(layout_ixe_untag(ix, "old"), 1);
    ck_assert_int_eq(layout_ixe_untag(ix, "old"), 0);
    EXPECT(ix, "-@sha256:e3b0c442 latest@sha256:a3b0c442 1@sha256:a3b0c442");
    ck_assert_int_eq(layout_ixe_untag(ix, "1"), 1);
    EXPECT(ix, "-@sha256:e3b0c442 latest@sha256:a3b0c442");
    /* hold: an untagged descriptor only when nothing holds the digest */
    ck_assert_int_eq(layout_ixe_hold(ix, &a), 0);
    ck_assert_uint_eq(layout_ixe_remove(ix, &a.digest), 1);
    ck_assert_int_eq(layout_ixe_hold(ix, &a), 1);
    EXPECT(ix, "latest@sha256:a3b0c442 -@sha256:e3b0c442");
    /* remove by digest takes every tag of it */
    ck_assert_int_eq(layout_ixe_set_tag(ix, "x", &b), 1);
    ck_assert_uint_eq(layout_ixe_remove(ix, &b.digest), 2);
    EXPECT(ix, "-@sha256:e3b0c442");
    json_object_put(ix);
}
END_TEST

/* Fields this module does not know survive its edits. */
START_TEST(ixe_keeps_the_rest)
{
    static const char doc[] =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
        "\"annotations\":{\"org.example.top\":\"kept\"},"
        "\"manifests\":[{\"mediaType\":\"" MT "\",\"digest\":\"" D1 "\",\"size\":10,"
        "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"},"
        "\"annotations\":{\"org.opencontainers.image.ref.name\":\"1\",\"org.example.note\":\"kept too\"}}]}";
    json_object *ix = NULL;
    char *err = NULL;
    ck_assert_int_eq(layout_ixe_load(doc, strlen(doc), &ix, &err), 0);
    struct layout_desc b = desc(D2, 20);
    ck_assert_int_eq(layout_ixe_set_tag(ix, "1", &b), 1);
    char *text = layout_ixe_text(ix);
    ck_assert_ptr_nonnull(strstr(text, "\"org.example.top\": \"kept\""));
    ck_assert_ptr_nonnull(strstr(text, "\"architecture\": \"arm64\""));
    ck_assert_ptr_nonnull(strstr(text, "\"org.example.note\": \"kept too\""));
    ck_assert_ptr_nonnull(strstr(text, "application/vnd.oci.image.index.v1+json"));   /* no \/ escapes */
    free(text);
    EXPECT(ix, "-@sha256:e3b0c442 1@sha256:a3b0c442");
    json_object_put(ix);
}
END_TEST

/* A damaged index.json is refused with the reason, never rewritten. */
START_TEST(ixe_refuses)
{
    static const char *bad[] = {
        "", "[]", "{\"manifests\":{}}", "{}", "{\"manifests\":[{}]}",
        "{\"manifests\":[{\"digest\":\"sha256:zz\"}]}", "{\"manifests\":[1]}",
        "{\"manifests\":[]} trailing",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_object *ix = (json_object *)1;
        char *err = NULL;
        ck_assert_msg(layout_ixe_load(bad[i], strlen(bad[i]), &ix, &err) == -1, "accepted: %s", bad[i]);
        ck_assert_ptr_null(ix);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, "index.json"));
        free(err);
    }
    json_object *ix = NULL;
    char *err = NULL;
    ck_assert_int_eq(layout_ixe_load("{\"manifests\":[]}", 16, &ix, &err), 0);
    json_object_put(ix);
}
END_TEST

Suite *suite_layout_ixe(void)
{
    Suite *s = suite_create("layout_index_edit");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, ixe_tags);
    tcase_add_test(tc, ixe_keeps_the_rest);
    tcase_add_test(tc, ixe_refuses);
    suite_add_tcase(s, tc);
    return s;
}
