/* store_layout_rw (oci/store_layout_rw.c) over the fake Kubo, with
 * store_mfs as the storage chain: a push writes a standard layout (marker,
 * index.json with the tag, blobs/ linking the hidden repository's CIDs);
 * a tag that moves leaves its old manifest untagged; a manifest delete
 * prunes only what nothing else reaches; a manifest whose blob left the
 * layout is refused under the lock (unless allow_sparse); a damaged
 * index.json is refused and never rewritten; the status record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "tests/unit/store_fixture.h"
#include "tests/unit/fake_kubo.h"
#include "oci/paths.h"
#include "oci/store_mfs.h"
#include "oci/store_layout_rw.h"
#include "oci/layout_index_edit.h"
#include "core/layoutreg.h"
#include "core/xalloc.h"

#define ROOT "/reg"
#define NAME "ipns/k51test/demo/app"
#define DIR ROOT "/demo/app"
#define SHADOW "_layouts/demo/app"

static struct kubo *k;
static struct store *mfs, *s;
static char statedir[] = "/tmp/slw-test.XXXXXX";
static int notified;

static void count_change(void *ctx)
{
    (*(int *)ctx)++;
}

static const struct store_notify notify = { count_change, &notified };

static void setup_sparse(int sparse)
{
    k = fake_kubo_new();
    notified = 0;
    strcpy(statedir, "/tmp/slw-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(statedir));
    mfs = store_mfs_new(k, ROOT, "/uploads", NULL);
    s = store_layout_rw_new(mfs, k, ROOT, statedir, 1 << 20, sparse, &notify);
}

static void setup(void)
{
    setup_sparse(0);
}

static void teardown(void)
{
    char *cmd = xasprintf("rm -rf '%s'", statedir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    store_layout_rw_free(s);
    store_mfs_free(mfs);
    fake_kubo_free(k);
}

/* bytes as a blob of the layout, in one chunk */
static void push_blob(const char *bytes, struct digest *d)
{
    struct fx_source src = { .p = bytes, .len = strlen(bytes), .step = 7 };
    struct store_chunk c, joined;
    fx_digest(bytes, strlen(bytes), d);
    ck_assert_int_eq(s->ops->chunk_put(s, "u", 0, 0, NULL, fx_read, &src, &c), STORE_OK);
    ck_assert_int_eq(s->ops->chunks_join(s, &c, 1, &joined), STORE_OK);
    ck_assert_int_eq(s->ops->blob_commit(s, NAME, d, &joined), STORE_OK);
    ck_assert_int_eq(s->ops->upload_discard(s, "u"), STORE_OK);
}

/* a manifest of config cfg_bytes and layer layer_bytes (both pushed), put with tag */
static char *push_image(const char *cfg_bytes, const char *layer_bytes, const char *tag, struct digest *d)
{
    struct digest cfg, layer;
    push_blob(cfg_bytes, &cfg);
    push_blob(layer_bytes, &layer);
    char *m = fx_manifest(&cfg, strlen(cfg_bytes), &layer, strlen(layer_bytes), NULL, 0);
    char *tags[] = { (char *)tag };
    fx_digest(m, strlen(m), d);
    ck_assert_int_eq(s->ops->manifest_put(s, NAME, d, m, strlen(m), tags, tag ? 1 : 0, NULL), STORE_OK);
    return m;
}

static int has(const char *path)
{
    struct kubo_stat st;
    return kubo_files_stat(k, path, &st) == KUBO_OK;
}

static char *blob_in_layout(const struct digest *d)
{
    return xasprintf(DIR "/blobs/sha256/%s", d->hex);
}

/* the ref names of index.json's descriptors, in order ("-" for none), joined by ' ' */
static char *index_refs(void)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    ck_assert_int_eq(kubo_files_read(k, DIR "/index.json", &b), KUBO_OK);
    json_object *o = json_tokener_parse(buf_cstr(&b)), *arr, *e, *ann, *ref;
    ck_assert_ptr_nonnull(o);
    ck_assert(json_object_object_get_ex(o, "manifests", &arr));
    char *out = xstrdup("");
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        e = json_object_array_get_idx(arr, i);
        const char *r = json_object_object_get_ex(e, "annotations", &ann) &&
                                json_object_object_get_ex(ann, LAYOUT_REF_NAME, &ref)
                            ? json_object_get_string(ref) : "-";
        char *n = xasprintf("%s%s%s", out, *out ? " " : "", r);
        free(out);
        out = n;
    }
    json_object_put(o);
    buf_free(&b);
    return out;
}

START_TEST(slw_push_writes_a_layout)
{
    struct digest m, cfg, layer, got;
    char *text = push_image("{\"a\":1}", "layer one", "v1", &m);
    fx_digest("{\"a\":1}", 7, &cfg);
    fx_digest("layer one", 9, &layer);

    /* the marker, the index with the tag, the blobs (same CIDs as the hidden repository's) */
    struct buf b;
    buf_init(&b, 4096);
    ck_assert_int_eq(kubo_files_read(k, DIR "/oci-layout", &b), KUBO_OK);
    ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "\"imageLayoutVersion\": \"1.0.0\""));
    buf_free(&b);
    char *refs = index_refs();
    ck_assert_str_eq(refs, "v1");
    free(refs);
    const struct digest *all[] = { &m, &cfg, &layer };
    for (size_t i = 0; i < 3; i++) {
        struct kubo_stat a, h;
        struct store_blob sb;
        char *p = blob_in_layout(all[i]);
        ck_assert_int_eq(kubo_files_stat(k, p, &a), KUBO_OK);
        ck_assert_int_eq(mfs->ops->blob_stat(mfs, SHADOW, all[i], &sb), STORE_OK);
        char *data = path_blob_data(ROOT, all[i]);
        ck_assert_int_eq(kubo_files_stat(k, data, &h), KUBO_OK);
        ck_assert_str_eq(a.cid, h.cid);
        free(data);
        free(p);
    }
    /* reads: the tag from index.json, the rest from the hidden repository */
    ck_assert_int_eq(s->ops->tag_resolve(s, NAME, "v1", &got), STORE_OK);
    ck_assert(digest_equal(&got, &m));
    buf_init(&b, 4096);
    ck_assert_int_eq(s->ops->manifest_get(s, NAME, &m, &b), STORE_OK);
    ck_assert_str_eq(buf_cstr(&b), text);
    buf_free(&b);
    ck_assert_int_eq(s->ops->tag_resolve(s, NAME, "v2", &got), STORE_NOT_FOUND);
    ck_assert_int_eq(s->ops->repo_exists(s, NAME), 1);
    ck_assert_int_eq(s->ops->repo_exists(s, "ipns/k51test/other"), 0);
    /* the manifest told the publisher (its blobs alone did not); the
     * published address names the path */
    ck_assert_int_eq(notified, 1);
    char at[256];
    ck_assert_int_eq(s->ops->published_at(s, NAME, at, sizeof at), STORE_OK);
    ck_assert_msg(strncmp(at, "/ipfs/", 6) == 0 && strstr(at, "/demo/app") != NULL, "%s", at);
    /* the status record */
    json_object *list = layoutreg_list(statedir);
    ck_assert_uint_eq(json_object_array_length(list), 1);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(json_object_array_get_idx(list, 0), "path")), "demo/app");
    json_object_put(list);
    free(text);
}
END_TEST

START_TEST(slw_tag_moves_and_delete_prunes)
{
    struct digest m1, m2, cfg2, layer;
    free(push_image("{\"a\":1}", "shared layer", "v1", &m1));
    free(push_image("{\"a\":2}", "shared layer", "v1", &m2));
    fx_digest("{\"a\":2}", 7, &cfg2);
    fx_digest("shared layer", 12, &layer);
    /* the tag moved; the old manifest stays, untagged */
    char *refs = index_refs();
    ck_assert_str_eq(refs, "- v1");
    free(refs);
    char **tags = NULL;
    size_t n = 0;
    ck_assert_int_eq(s->ops->tags_list(s, NAME, &tags, &n), STORE_OK);
    ck_assert_uint_eq(n, 1);
    strv_free(tags, n);

    /* deleting m2 prunes its manifest and config, not the layer m1 shares */
    ck_assert_int_eq(s->ops->manifest_delete(s, NAME, &m2, NULL), STORE_OK);
    refs = index_refs();
    ck_assert_str_eq(refs, "-");
    free(refs);
    char *p = blob_in_layout(&m2);
    ck_assert(!has(p));
    free(p);
    p = blob_in_layout(&cfg2);
    ck_assert(!has(p));
    free(p);
    p = blob_in_layout(&layer);
    ck_assert(has(p));
    free(p);
    struct store_blob sb;
    ck_assert_int_eq(mfs->ops->blob_stat(mfs, SHADOW, &cfg2, &sb), STORE_NOT_FOUND);
    ck_assert_int_eq(s->ops->manifest_exists(s, NAME, &m2), STORE_NOT_FOUND);
    ck_assert_int_eq(s->ops->manifest_exists(s, NAME, &m1), STORE_OK);
    ck_assert_int_eq(s->ops->manifest_delete(s, NAME, &m2, NULL), STORE_NOT_FOUND);
    /* a tag delete keeps the manifest */
    ck_assert_int_eq(s->ops->tag_delete(s, NAME, "nope"), STORE_NOT_FOUND);
}
END_TEST

/* A manifest whose config is in the layout and whose layer never was. */
static char *holey_manifest(struct digest *m)
{
    struct digest cfg, layer;
    push_blob("{}", &cfg);
    fx_digest("never pushed", 12, &layer);
    char *text = fx_manifest(&cfg, 2, &layer, 12, NULL, 0);
    fx_digest(text, strlen(text), m);
    return text;
}

START_TEST(slw_manifest_needs_its_blobs)
{
    struct digest m;
    char *tags[] = { "v1" };
    char *text = holey_manifest(&m);
    fx_assert_err(s, s->ops->manifest_put(s, NAME, &m, text, strlen(text), tags, 1, NULL), STORE_INVALID,
                  "push the blob again");
    char *refs = index_refs();
    ck_assert_str_eq(refs, "");   /* nothing tagged */
    free(refs);
    free(text);
}
END_TEST

START_TEST(slw_sparse_skips_the_check)
{
    teardown();
    setup_sparse(1);
    struct digest m;
    char *tags[] = { "v1" };
    char *text = holey_manifest(&m);
    ck_assert_int_eq(s->ops->manifest_put(s, NAME, &m, text, strlen(text), tags, 1, NULL), STORE_OK);
    free(text);
}
END_TEST

START_TEST(slw_damaged_index_is_not_rewritten)
{
    struct digest m;
    free(push_image("{\"a\":1}", "layer", "v1", &m));
    fx_write(k, DIR "/index.json", "{\"manifests\": 7}");
    char *tags[] = { "v2" };
    struct buf b;
    buf_init(&b, 4096);
    ck_assert_int_eq(s->ops->manifest_get(s, NAME, &m, &b), STORE_OK);
    fx_assert_err(s, s->ops->manifest_put(s, NAME, &m, buf_cstr(&b), b.len, tags, 1, NULL), STORE_ERROR,
                  "damaged, not rewritten");
    buf_free(&b);
    buf_init(&b, 4096);
    ck_assert_int_eq(kubo_files_read(k, DIR "/index.json", &b), KUBO_OK);
    ck_assert_str_eq(buf_cstr(&b), "{\"manifests\": 7}");
    buf_free(&b);
}
END_TEST

Suite *suite_store_layout_rw(void)
{
    Suite *su = suite_create("store_layout_rw");
    TCase *tc = tcase_create("store_layout_rw");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, slw_push_writes_a_layout);
    tcase_add_test(tc, slw_tag_moves_and_delete_prunes);
    tcase_add_test(tc, slw_manifest_needs_its_blobs);
    tcase_add_test(tc, slw_sparse_skips_the_check);
    tcase_add_test(tc, slw_damaged_index_is_not_rewritten);
    suite_add_tcase(su, tc);
    return su;
}
