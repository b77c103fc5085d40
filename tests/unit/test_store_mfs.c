/* store_mfs (oci/store_mfs.c) over the fake Kubo: the push flow (chunks
 * staged in MFS, joined, committed and linked), manifests with tags and
 * referrers and what deleting them removes, mounts, imports from a flushed
 * snapshot read back as /ipfs/<cid>, that the publisher is told exactly once
 * per successful write, and how Kubo's failures read. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/unit/store_fixture.h"
#include "tests/unit/fake_kubo.h"
#include "oci/paths.h"
#include "oci/store_mfs.h"
#include "core/xalloc.h"

#define ROOT "/reg"
#define REPO "lib/app"

static struct kubo *k;
static struct store *s;
static int notified;

static void count_change(void *ctx)
{
    (*(int *)ctx)++;
}

static const struct store_notify notify = { count_change, &notified };

static void setup(void)
{
    k = fake_kubo_new();
    notified = 0;
    s = store_mfs_new(k, ROOT, "/uploads", &notify);
}

static void teardown(void)
{
    store_mfs_free(s);
    fake_kubo_free(k);
}

/* Pushes bytes as a blob of name in two chunks, as an upload does; d gets
 * its digest. */
static void push_blob(struct store *st, const char *name, const char *bytes, struct digest *d)
{
    size_t len = strlen(bytes), half = len / 2;
    struct fx_source a = { .p = bytes, .len = half, .step = 3 };
    struct fx_source b = { .p = bytes + half, .len = len - half, .step = 3 };
    struct store_chunk c[2], joined;
    fx_digest(bytes, len, d);
    ck_assert_int_eq(st->ops->chunk_put(st, "push", 0, 0, NULL, fx_read, &a, &c[0]), STORE_OK);
    ck_assert_int_eq(st->ops->chunk_put(st, "push", 1, 0, NULL, fx_read, &b, &c[1]), STORE_OK);
    ck_assert_int_eq(st->ops->chunks_join(st, c, 2, &joined), STORE_OK);
    ck_assert_int_eq(st->ops->blob_commit(st, name, d, &joined), STORE_OK);
    ck_assert_int_eq(st->ops->upload_discard(st, "push"), STORE_OK);
}

/* Puts a manifest of one layer (with a subject if given) into name. */
static char *put_manifest(struct store *st, const char *name, const char *layer_bytes, char **tags,
                          size_t ntags, const struct digest *subject, struct digest *d)
{
    struct digest cfg, layer;
    fx_digest("{}", 2, &cfg);
    fx_digest(layer_bytes, strlen(layer_bytes), &layer);
    char *m = fx_manifest(&cfg, 2, &layer, strlen(layer_bytes), subject, subject ? 100 : 0);
    fx_digest(m, strlen(m), d);
    ck_assert_int_eq(st->ops->manifest_put(st, name, d, m, strlen(m), tags, ntags, subject), STORE_OK);
    return m;
}

static void assert_file(const char *path, const char *want)
{
    struct buf b;
    buf_init(&b, 4096);
    ck_assert_int_eq(kubo_files_read(k, path, &b), KUBO_OK);
    ck_assert_str_eq(buf_cstr(&b), want);
    buf_free(&b);
}

static void assert_missing(const char *path)
{
    struct kubo_stat st;
    ck_assert_int_eq(kubo_files_stat(k, path, &st), KUBO_NOT_FOUND);
}

START_TEST(mfs_push_flow)
{
    const char *bytes = "hello world, in two chunks";
    struct digest d;
    struct store_chunk c[2], joined, again;
    struct fx_source a = { .p = bytes, .len = 12, .step = 5 };
    struct fx_source b = { .p = bytes + 12, .len = strlen(bytes) - 12, .step = 5 };
    struct kubo_stat st;
    fx_digest(bytes, strlen(bytes), &d);

    /* each chunk streams from the callback into an add, then is staged */
    ck_assert_int_eq(s->ops->chunk_put(s, "u1", 0, 0, NULL, fx_read, &a, &c[0]), STORE_OK);
    ck_assert_uint_eq(c[0].size, 12);
    ck_assert_uint_eq(a.off, 12);
    ck_assert_int_eq(kubo_files_stat(k, "/uploads/u1/0", &st), KUBO_OK);
    ck_assert_str_eq(st.cid, c[0].cid);
    ck_assert_uint_eq(st.size, 12);
    ck_assert_int_eq(s->ops->chunk_put(s, "u1", 1, 0, NULL, fx_read, &b, &c[1]), STORE_OK);
    ck_assert_uint_eq(c[1].size, strlen(bytes) - 12);
    ck_assert_uint_eq(fake_kubo_calls(k, "add_stream"), 2);
    /* each chunk's pin (kubo_set_pin_adds) goes once it is staged */
    ck_assert_uint_eq(fake_kubo_calls(k, "unpin_added"), 2);
    ck_assert_int_eq(notified, 0);   /* staging is never published */

    ck_assert_int_eq(s->ops->chunks_join(s, c, 2, &joined), STORE_OK);
    ck_assert_uint_eq(joined.size, strlen(bytes));
    ck_assert_str_ne(joined.cid, c[0].cid);
    struct buf got;
    buf_init(&got, 1024);
    ck_assert_int_eq(s->ops->content_read(s, &joined, fx_collect, &got), STORE_OK);
    ck_assert_str_eq(buf_cstr(&got), bytes);

    /* one chunk is itself; none is the empty file */
    ck_assert_int_eq(s->ops->chunks_join(s, c, 1, &again), STORE_OK);
    ck_assert_str_eq(again.cid, c[0].cid);
    ck_assert_int_eq(s->ops->chunks_join(s, c, 0, &again), STORE_OK);
    ck_assert_uint_eq(again.size, 0);

    ck_assert_int_eq(s->ops->blob_commit(s, REPO, &d, &joined), STORE_OK);
    ck_assert_int_eq(notified, 0);
    ck_assert_uint_eq(fake_kubo_calls(k, "files_flush"), 1);
    char *link = path_layer_link(ROOT, REPO, &d);
    assert_file(link, fx_str(&d));
    free(link);

    struct store_blob blob;
    ck_assert_int_eq(s->ops->blob_stat(s, REPO, &d, &blob), STORE_OK);
    ck_assert_uint_eq(blob.size, strlen(bytes));
    ck_assert_str_eq(blob.cid, joined.cid);
    buf_reset(&got);
    ck_assert_int_eq(s->ops->blob_read(s, &blob, 6, 5, fx_collect, &got), STORE_OK);
    ck_assert_str_eq(buf_cstr(&got), "world");
    buf_free(&got);
    /* the same bytes as a socket, for splice */
    int fd = -1;
    char five[8] = "";
    ck_assert_int_eq(s->ops->blob_open(s, &blob, 6, 5, &fd), STORE_OK);
    ck_assert_int_eq(read(fd, five, sizeof five), 5);
    ck_assert_str_eq(five, "world");
    close(fd);
    fx_assert_err(s, s->ops->blob_stat(s, "other", &d, &blob), STORE_NOT_FOUND,
                  "is not linked in repository other");

    /* the staged chunks go with the session; twice is fine */
    ck_assert_int_eq(s->ops->upload_discard(s, "u1"), STORE_OK);
    assert_missing("/uploads/u1");
    ck_assert_int_eq(s->ops->upload_discard(s, "u1"), STORE_OK);
    ck_assert_int_eq(notified, 0);
}
END_TEST

/* A chunk left at an index by an attempt the session never recorded is
 * replaced by the retry's. */
START_TEST(mfs_chunk_retry)
{
    struct store_chunk c1, c2;
    struct fx_source a = { .p = "first", .len = 5, .step = 64 };
    struct fx_source b = { .p = "second", .len = 6, .step = 64 };
    struct kubo_stat st;
    ck_assert_int_eq(s->ops->chunk_put(s, "u2", 0, 0, NULL, fx_read, &a, &c1), STORE_OK);
    ck_assert_int_eq(s->ops->chunk_put(s, "u2", 0, 0, NULL, fx_read, &b, &c2), STORE_OK);
    ck_assert_int_eq(kubo_files_stat(k, "/uploads/u2/0", &st), KUBO_OK);
    ck_assert_str_eq(st.cid, c2.cid);
    ck_assert_uint_eq(st.size, 6);

    /* a source that aborts cancels the add and stages nothing */
    struct fx_source bad = { .p = "abc", .len = 3, .step = 1, .abort_at_end = 1 };
    ck_assert_int_eq(s->ops->chunk_put(s, "u2", 1, 0, NULL, fx_read, &bad, &c1), STORE_ABORTED);
    assert_missing("/uploads/u2/1");
}
END_TEST

START_TEST(mfs_manifests)
{
    char *tags[] = { "v1", "latest" };
    struct digest d1, d2, got, *refs;
    size_t n;
    char **names;
    char *m1 = put_manifest(s, REPO, "layer one", tags, 2, NULL, &d1);
    ck_assert_int_eq(notified, 1);

    ck_assert_int_eq(s->ops->tag_resolve(s, REPO, "v1", &got), STORE_OK);
    ck_assert(digest_equal(&got, &d1));
    ck_assert_int_eq(s->ops->tag_resolve(s, REPO, "latest", &got), STORE_OK);
    ck_assert(digest_equal(&got, &d1));
    fx_assert_err(s, s->ops->tag_resolve(s, REPO, "v2", &got), STORE_NOT_FOUND, "store: tag lib/app:v2: ");
    ck_assert_int_eq(s->ops->manifest_exists(s, REPO, &d1), STORE_OK);
    ck_assert_int_eq(s->ops->manifest_exists(s, "other", &d1), STORE_NOT_FOUND);
    struct buf b;
    buf_init(&b, 1 << 16);
    ck_assert_int_eq(s->ops->manifest_get(s, REPO, &d1, &b), STORE_OK);
    ck_assert_str_eq(buf_cstr(&b), m1);
    buf_free(&b);
    /* a manifest is a blob of its repository too */
    struct store_blob blob;
    ck_assert_int_eq(s->ops->blob_stat(s, REPO, &d1, &blob), STORE_OK);
    ck_assert_uint_eq(blob.size, strlen(m1));
    /* distribution's tag history */
    char *idx = path_tag_index_link(ROOT, REPO, "v1", &d1);
    assert_file(idx, fx_str(&d1));
    free(idx);

    char *m2 = put_manifest(s, REPO, "signature", NULL, 0, &d1, &d2);
    ck_assert_int_eq(notified, 2);
    ck_assert_int_eq(s->ops->referrers(s, REPO, &d1, &refs, &n), STORE_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert(digest_equal(&refs[0], &d2));
    free(refs);
    ck_assert_int_eq(s->ops->referrers(s, REPO, &d2, &refs, &n), STORE_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(s->ops->referrers(s, "nowhere", &d1, &refs, &n), STORE_OK);
    ck_assert_uint_eq(n, 0);
    /* the subjects that have referrers, in one listing (the web view's tags page) */
    char ds1[DIGEST_STR_MAX];
    ck_assert_int_eq(s->ops->referrer_subjects(s, REPO, &names, &n), STORE_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(names[0], digest_str(&d1, ds1));
    strv_free(names, n);
    ck_assert_int_eq(s->ops->referrer_subjects(s, "nowhere", &names, &n), STORE_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(names);

    ck_assert_int_eq(s->ops->tags_list(s, REPO, &names, &n), STORE_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert(fx_has(names, n, "v1") && fx_has(names, n, "latest"));
    strv_free(names, n);
    fx_assert_err(s, s->ops->tags_list(s, "nowhere", &names, &n), STORE_NOT_FOUND,
                  "store: repository nowhere: ");

    struct digest layer;
    push_blob(s, "team/x/y", "a layer of y", &layer);
    ck_assert_int_eq(s->ops->catalog(s, &names, &n), STORE_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert(fx_has(names, n, REPO) && fx_has(names, n, "team/x/y"));
    strv_free(names, n);
    ck_assert_int_eq(s->ops->repo_exists(s, "team/x/y"), 1);
    ck_assert_int_eq(s->ops->repo_exists(s, "team/z"), 0);
    /* an existing repository with no tags lists none */
    ck_assert_int_eq(s->ops->tags_list(s, "team/x/y", &names, &n), STORE_OK);
    ck_assert_uint_eq(n, 0);
    free(m1);
    free(m2);
}
END_TEST

START_TEST(mfs_deletes)
{
    char *t1[] = { "v1", "latest" }, *t3[] = { "v3" };
    struct digest d1, d2, d3, got, *refs;
    size_t n;
    char **names;
    free(put_manifest(s, REPO, "one", t1, 2, NULL, &d1));
    free(put_manifest(s, REPO, "sig", NULL, 0, &d1, &d2));
    free(put_manifest(s, REPO, "three", t3, 1, NULL, &d3));
    ck_assert_int_eq(notified, 3);

    ck_assert_int_eq(s->ops->tag_delete(s, REPO, "latest"), STORE_OK);
    ck_assert_int_eq(notified, 4);
    ck_assert_int_eq(s->ops->tag_resolve(s, REPO, "latest", &got), STORE_NOT_FOUND);
    ck_assert_int_eq(s->ops->manifest_exists(s, REPO, &d1), STORE_OK);   /* only the tag went */
    fx_assert_err(s, s->ops->tag_delete(s, REPO, "latest"), STORE_NOT_FOUND, "store: delete tag lib/app:latest: ");
    ck_assert_int_eq(notified, 4);

    /* a tag whose link is broken is not ours to remove */
    char *broken = path_tag_current_link(ROOT, REPO, "broken");
    fx_write(k, broken, "not a digest");

    /* deleting d1 takes v1 with it, leaves v3 and the broken tag */
    ck_assert_int_eq(s->ops->manifest_delete(s, REPO, &d1, NULL), STORE_OK);
    ck_assert_int_eq(notified, 5);
    ck_assert_int_eq(s->ops->manifest_exists(s, REPO, &d1), STORE_NOT_FOUND);
    ck_assert_int_eq(s->ops->tag_resolve(s, REPO, "v1", &got), STORE_NOT_FOUND);
    ck_assert_int_eq(s->ops->tag_resolve(s, REPO, "v3", &got), STORE_OK);
    ck_assert(digest_equal(&got, &d3));
    ck_assert_int_eq(s->ops->tags_list(s, REPO, &names, &n), STORE_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert(fx_has(names, n, "v3") && fx_has(names, n, "broken"));
    strv_free(names, n);
    assert_file(broken, "not a digest");
    free(broken);
    /* its bytes stay under blobs/: collecting them is GC's business */
    char *data = path_blob_data(ROOT, &d1);
    struct kubo_stat st;
    ck_assert_int_eq(kubo_files_stat(k, data, &st), KUBO_OK);
    free(data);
    fx_assert_err(s, s->ops->manifest_delete(s, REPO, &d1, NULL), STORE_NOT_FOUND,
                  "store: delete manifest lib/app@sha256:");

    /* deleting the referrer removes its entry under its subject */
    ck_assert_int_eq(s->ops->manifest_delete(s, REPO, &d2, &d1), STORE_OK);
    ck_assert_int_eq(notified, 6);
    ck_assert_int_eq(s->ops->referrers(s, REPO, &d1, &refs, &n), STORE_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(refs);
}
END_TEST

START_TEST(mfs_unlink_and_mount)
{
    struct digest d, unknown;
    struct store_blob blob;
    push_blob(s, "a", "shared layer", &d);
    fx_digest("never pushed", 12, &unknown);
    ck_assert_int_eq(notified, 0);   /* blobs alone are not published (core/store.h) */

    /* from a repository that links it */
    ck_assert_int_eq(s->ops->blob_mount(s, "b", "a", &d), STORE_OK);
    ck_assert_int_eq(notified, 0);
    ck_assert_int_eq(s->ops->blob_stat(s, "b", &d, &blob), STORE_OK);
    ck_assert_uint_eq(blob.size, 12);
    /* from a repository that does not: nothing changes */
    fx_assert_err(s, s->ops->blob_mount(s, "c", "nowhere", &d), STORE_NOT_FOUND, "store: mount sha256:");
    ck_assert_int_eq(s->ops->repo_exists(s, "c"), 0);
    ck_assert_int_eq(notified, 0);
    /* from anywhere in the store */
    ck_assert_int_eq(s->ops->blob_mount(s, "c", NULL, &d), STORE_OK);
    ck_assert_int_eq(s->ops->blob_stat(s, "c", &d, &blob), STORE_OK);
    ck_assert_int_eq(s->ops->blob_mount(s, "c", NULL, &unknown), STORE_NOT_FOUND);
    ck_assert_int_eq(notified, 0);

    /* unlink removes one repository's link, not the bytes */
    ck_assert_int_eq(s->ops->blob_unlink(s, "a", &d), STORE_OK);
    ck_assert_int_eq(notified, 1);   /* a blob deleted: clients see that */
    ck_assert_int_eq(s->ops->blob_stat(s, "a", &d, &blob), STORE_NOT_FOUND);
    ck_assert_int_eq(s->ops->blob_stat(s, "b", &d, &blob), STORE_OK);
    char *layers = path_repo(ROOT, "a");
    char *dir = xasprintf("%s/_layers/sha256", layers);
    char **names;
    size_t n;
    ck_assert_int_eq(kubo_files_ls(k, dir, &names, &n), KUBO_OK);
    ck_assert_uint_eq(n, 0);   /* no empty <hex> directory left behind */
    free(dir);
    free(layers);
    fx_assert_err(s, s->ops->blob_unlink(s, "a", &d), STORE_NOT_FOUND, "store: unlink blob sha256:");
    ck_assert_int_eq(notified, 1);
}
END_TEST

/* A second registry's root, flushed and read back as /ipfs/<cid>: read
 * directly, adopted whole (repo_import) or blob by blob (blob_import). */
START_TEST(mfs_import_from_root)
{
    char *tags[] = { "v1" };
    struct digest layer, mdig, got, unknown;
    struct store_blob blob;
    char cid[KUBO_CID_MAX];
    char **names;
    size_t n;
    struct store *src = store_mfs_new(k, "/src", "/src-uploads", NULL);
    push_blob(src, REPO, "layer one", &layer);
    char *m = put_manifest(src, REPO, "layer one", tags, 1, NULL, &mdig);
    ck_assert_int_eq(kubo_files_flush(k, "/src", cid), KUBO_OK);
    ck_assert_int_eq(strncmp(cid, "bafkfake", 8), 0);
    struct store *ro = store_mfs_new_root(k, cid);
    fx_digest("never pushed", 12, &unknown);

    /* the snapshot reads like the tree it was */
    ck_assert_int_eq(ro->ops->tag_resolve(ro, REPO, "v1", &got), STORE_OK);
    ck_assert(digest_equal(&got, &mdig));
    struct buf b;
    buf_init(&b, 1 << 16);
    ck_assert_int_eq(ro->ops->manifest_get(ro, REPO, &mdig, &b), STORE_OK);
    ck_assert_str_eq(buf_cstr(&b), m);
    ck_assert_int_eq(ro->ops->catalog(ro, &names, &n), STORE_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(names[0], REPO);
    strv_free(names, n);
    /* ... and it is a snapshot: later changes to /src are not in it */
    ck_assert_int_eq(src->ops->tag_delete(src, REPO, "v1"), STORE_OK);
    ck_assert_int_eq(ro->ops->tag_resolve(ro, REPO, "v1", &got), STORE_OK);

    ck_assert_int_eq(s->ops->repo_import(s, REPO, ro), STORE_OK);
    ck_assert_int_eq(notified, 1);
    ck_assert_int_eq(s->ops->tag_resolve(s, REPO, "v1", &got), STORE_OK);
    ck_assert(digest_equal(&got, &mdig));
    buf_reset(&b);
    ck_assert_int_eq(s->ops->manifest_get(s, REPO, &mdig, &b), STORE_OK);
    ck_assert_str_eq(buf_cstr(&b), m);
    buf_free(&b);
    ck_assert_int_eq(s->ops->blob_stat(s, REPO, &layer, &blob), STORE_OK);
    struct store_blob src_blob;
    ck_assert_int_eq(ro->ops->blob_stat(ro, REPO, &layer, &src_blob), STORE_OK);
    ck_assert_str_eq(blob.cid, src_blob.cid);   /* by reference: the same content */
    /* what this store already has of it stays */
    char *mine[] = { "mine" };
    free(put_manifest(s, REPO, "local", mine, 1, NULL, &got));
    ck_assert_int_eq(s->ops->repo_import(s, REPO, ro), STORE_OK);
    ck_assert_int_eq(s->ops->tag_resolve(s, REPO, "mine", &got), STORE_OK);
    ck_assert_int_eq(notified, 3);

    /* blob by blob, into a store that has nothing */
    int other_notified = 0;
    struct store_notify on = { count_change, &other_notified };
    struct store *dst = store_mfs_new(k, "/dst", "/dst-uploads", &on);
    ck_assert_int_eq(dst->ops->blob_import(dst, ro, REPO, &layer), STORE_OK);
    char *data = path_blob_data("/dst", &layer);
    struct kubo_stat st;
    ck_assert_int_eq(kubo_files_stat(k, data, &st), KUBO_OK);
    ck_assert_str_eq(st.cid, src_blob.cid);
    free(data);
    /* part of the store's blobs, linked in no repository (the mount that
     * follows in store_union links it and flushes; the manifest that names
     * it tells the publisher: blobs alone are not published) */
    ck_assert_int_eq(dst->ops->blob_stat(dst, REPO, &layer, &blob), STORE_NOT_FOUND);
    ck_assert_int_eq(other_notified, 0);
    ck_assert_int_eq(dst->ops->blob_mount(dst, "x", NULL, &layer), STORE_OK);
    ck_assert_int_eq(other_notified, 0);
    ck_assert_int_eq(dst->ops->blob_import(dst, ro, NULL, &mdig), STORE_OK);
    fx_assert_err(dst, dst->ops->blob_import(dst, ro, REPO, &unknown), STORE_NOT_FOUND,
                  "is not linked in repository lib/app");
    fx_assert_err(dst, dst->ops->blob_import(dst, ro, NULL, &unknown), STORE_NOT_FOUND, "store: import sha256:");

    /* only from a store of the same kind */
    static const struct store_ops no_ops;
    struct store other = { &no_ops, NULL };
    fx_assert_err(dst, dst->ops->repo_import(dst, REPO, &other), STORE_ERROR,
                  "adopt lib/app: the source is not an MFS-layout store");
    fx_assert_err(dst, dst->ops->blob_import(dst, &other, NULL, &layer), STORE_ERROR,
                  "the source is not an MFS-layout store");
    ck_assert_int_eq(other_notified, 0);
    store_mfs_free(dst);
    store_mfs_free(ro);
    store_mfs_free(src);
    free(m);
}
END_TEST

/* The publisher hears of successful writes only: a failed write, at its
 * first step or at the final flush, and any read tell it nothing. */
START_TEST(mfs_notify_only_on_success)
{
    char *tags[] = { "v1" };
    struct digest d, got, *refs;
    struct store_blob blob;
    char **names;
    size_t n;
    free(put_manifest(s, REPO, "one", tags, 1, NULL, &d));
    ck_assert_int_eq(notified, 1);

    ck_assert_int_eq(s->ops->tag_resolve(s, REPO, "v1", &got), STORE_OK);
    ck_assert_int_eq(s->ops->manifest_exists(s, REPO, &d), STORE_OK);
    ck_assert_int_eq(s->ops->blob_stat(s, REPO, &d, &blob), STORE_OK);
    ck_assert_int_eq(s->ops->tags_list(s, REPO, &names, &n), STORE_OK);
    strv_free(names, n);
    ck_assert_int_eq(s->ops->referrers(s, REPO, &d, &refs, &n), STORE_OK);
    ck_assert_int_eq(s->ops->catalog(s, &names, &n), STORE_OK);
    strv_free(names, n);
    ck_assert_int_eq(notified, 1);
    ck_assert_uint_eq(fake_kubo_calls(k, "files_flush"), 1);

    /* the tag link cannot be written */
    char *tagdir = path_tag_dir(ROOT, REPO, "v2");
    fake_kubo_fail_path(k, tagdir, KUBO_ERROR);
    char *t2[] = { "v2" };
    struct digest d2;
    fx_digest("x", 1, &d2);
    fx_assert_err(s, s->ops->manifest_put(s, REPO, &d2, "x", 1, t2, 1, NULL), STORE_ERROR,
                  "store: tag lib/app:v2 -> sha256:");
    fake_kubo_fail_path(k, NULL, 0);
    free(tagdir);
    /* everything is written but the flush fails */
    fake_kubo_fail_call(k, "files_flush", KUBO_UNAVAILABLE);
    fx_assert_err(s, s->ops->tag_delete(s, REPO, "v1"), STORE_UNAVAILABLE, "store: delete tag: flush: ipfs: files/flush /reg: ");
    ck_assert_int_eq(notified, 1);
    ck_assert_int_eq(s->ops->tag_delete(s, "other", "v1"), STORE_NOT_FOUND);
    ck_assert_int_eq(notified, 1);
}
END_TEST

START_TEST(mfs_kubo_unavailable)
{
    char *tags[] = { "v1" };
    struct digest d, got;
    char version[64];
    free(put_manifest(s, REPO, "one", tags, 1, NULL, &d));
    ck_assert_int_eq(s->ops->ping(s, 1000, version, sizeof version), STORE_OK);
    ck_assert_str_eq(version, "0.0.0-fake");

    fake_kubo_fail_next(k, KUBO_UNAVAILABLE);
    int rc = s->ops->tag_resolve(s, REPO, "v1", &got);
    ck_assert_int_eq(rc, STORE_UNAVAILABLE);
    ck_assert_str_eq(s->ops->errmsg(s),
                     "store: tag lib/app:v1: ipfs: files/read "
                     "/reg/docker/registry/v2/repositories/lib/app/_manifests/tags/v1/current/link: "
                     "Couldn't connect to server");
    /* the next call goes through again */
    ck_assert_int_eq(s->ops->tag_resolve(s, REPO, "v1", &got), STORE_OK);

    fake_kubo_fail_next(k, KUBO_UNAVAILABLE);
    fx_assert_err(s, s->ops->ping(s, 1000, version, sizeof version), STORE_UNAVAILABLE,
                  "store: health check: ipfs: version");
    fake_kubo_fail_next(k, KUBO_UNAVAILABLE);
    ck_assert_int_eq(s->ops->repo_exists(s, REPO), -1);
    fake_kubo_fail_call(k, "add_stream", KUBO_UNAVAILABLE);
    struct fx_source src = { .p = "abc", .len = 3, .step = 3 };
    struct store_chunk c;
    fx_assert_err(s, s->ops->chunk_put(s, "u", 0, 0, NULL, fx_read, &src, &c), STORE_UNAVAILABLE,
                  "store: upload u chunk 0: ipfs: add (stream): Couldn't connect to server");
    ck_assert_int_eq(notified, 1);
}
END_TEST

START_TEST(mfs_garbage_link)
{
    struct digest got;
    char *link = path_tag_current_link(ROOT, REPO, "v1");
    fx_write(k, link, "garbage");
    fx_assert_err(s, s->ops->tag_resolve(s, REPO, "v1", &got), STORE_ERROR, "");
    ck_assert_str_eq(s->ops->errmsg(s), "store: tag lib/app:v1: current link holds no digest");
    /* a hand-written link with a newline is still a digest */
    struct digest d;
    fx_digest("m", 1, &d);
    char *content = xasprintf("%s\n", fx_str(&d));
    fx_write(k, link, content);
    ck_assert_int_eq(s->ops->tag_resolve(s, REPO, "v1", &got), STORE_OK);
    ck_assert(digest_equal(&got, &d));
    free(content);
    free(link);
}
END_TEST

Suite *suite_store_mfs(void)
{
    Suite *su = suite_create("store_mfs");
    TCase *tc = tcase_create("store_mfs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, mfs_push_flow);
    tcase_add_test(tc, mfs_chunk_retry);
    tcase_add_test(tc, mfs_manifests);
    tcase_add_test(tc, mfs_deletes);
    tcase_add_test(tc, mfs_unlink_and_mount);
    tcase_add_test(tc, mfs_import_from_root);
    tcase_add_test(tc, mfs_notify_only_on_success);
    tcase_add_test(tc, mfs_kubo_unavailable);
    tcase_add_test(tc, mfs_garbage_link);
    suite_add_tcase(su, tc);
    return su;
}
