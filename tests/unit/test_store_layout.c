/* store_layout (oci/store_layout.c) over the fake Kubo: OCI image layouts
 * written into the fake's MFS, flushed, and served read-only by the names
 * ipfs/<cid>[/<path>] and ipns/<name>[/<path>]. Tags come from ref.name
 * annotations, nothing read is trusted (a manifest or blob that does not
 * hash to its name is refused, a bad blob's bytes are held back), a broken
 * layout is STORE_INVALID saying what is wrong, and with a cache a second
 * look costs Kubo nothing but the blob bytes. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/unit/store_fixture.h"
#include "tests/unit/fake_kubo.h"
#include "oci/store_layout.h"
#include "core/xalloc.h"

#define MARKER "{\"imageLayoutVersion\":\"1.0.0\"}"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MANIFEST_MAX (1 << 20)
/* store_layout holds back this much of a blob until its hash is known */
#define HOLD (64 * 1024)

static struct kubo *k;
static struct store *s;

/* The layout every test starts with: image "v1" (also named by the full
 * reference docker.io/library/alpine:3.19) with one config and one layer,
 * and a signature whose subject it is. */
static struct digest cfg, layer, man, sig;
static char *man_json;
static char name[KUBO_CID_MAX + 8];   /* "ipfs/<cid>" */
static const char *layer_bytes = "layer bytes, gzipped for real in real life";

/* Writes bytes as blobs/sha256/<hex of d> under dir (d NULL: their own digest, into *out). */
static void put_blob(const char *dir, const void *bytes, size_t len, const struct digest *d, struct digest *out)
{
    struct digest own;
    if (!d) {
        fx_digest(bytes, len, &own);
        d = &own;
    }
    if (out)
        *out = *d;
    char *p = xasprintf("%s/blobs/sha256/%s", dir, d->hex);
    ck_assert_int_eq(kubo_files_write(k, p, bytes, len), KUBO_OK);
    free(p);
}

/* One index.json entry for manifest d of len bytes, named ref (NULL: none). */
static char *index_entry(const struct digest *d, size_t len, const char *ref)
{
    char ds[DIGEST_STR_MAX];
    char *ann = ref ? xasprintf(",\"annotations\":{\"org.opencontainers.image.ref.name\":\"%s\"}", ref)
                    : xstrdup("");
    char *e = xasprintf("{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu%s}",
                        digest_str(d, ds), len, ann);
    free(ann);
    return e;
}

/* Flushes dir and answers "ipfs/<its cid>" in out. */
static void flush_name(const char *dir, char out[KUBO_CID_MAX + 8])
{
    char cid[KUBO_CID_MAX];
    ck_assert_int_eq(kubo_files_flush(k, dir, cid), KUBO_OK);
    snprintf(out, KUBO_CID_MAX + 8, "ipfs/%s", cid);
}

/* An image (config "{}", one layer) under dir; man_out gets its manifest's digest. */
static char *put_image(const char *dir, const char *layer_data, const struct digest *subject,
                       struct digest *man_out)
{
    struct digest c, l;
    put_blob(dir, "{}", 2, NULL, &c);
    put_blob(dir, layer_data, strlen(layer_data), NULL, &l);
    char *m = fx_manifest(&c, 2, &l, strlen(layer_data), subject, subject ? 100 : 0);
    put_blob(dir, m, strlen(m), NULL, man_out);
    return m;
}

static void setup(void)
{
    k = fake_kubo_new();
    s = store_layout_new(k, NULL, 0, MANIFEST_MAX);
    man_json = put_image("/lay", layer_bytes, NULL, &man);
    fx_digest("{}", 2, &cfg);
    fx_digest(layer_bytes, strlen(layer_bytes), &layer);
    char *sig_json = put_image("/lay", "a signature", &man, &sig);
    char *e1 = index_entry(&man, strlen(man_json), "v1");
    char *e2 = index_entry(&man, strlen(man_json), "docker.io/library/alpine:3.19");
    char *e3 = index_entry(&sig, strlen(sig_json), NULL);
    char *index = xasprintf("{\"schemaVersion\":2,\"manifests\":[%s,%s,%s]}", e1, e2, e3);
    fx_write(k, "/lay/index.json", index);
    fx_write(k, "/lay/oci-layout", MARKER);
    flush_name("/lay", name);
    free(index);
    free(e1);
    free(e2);
    free(e3);
    free(sig_json);
    fake_kubo_reset_calls(k);
}

static void teardown(void)
{
    store_layout_free(s);
    fake_kubo_free(k);
    free(man_json);
}

START_TEST(layout_reads)
{
    struct digest got, *refs;
    char **tags;
    size_t n;
    ck_assert_int_eq(s->ops->tag_resolve(s, name, "v1", &got), STORE_OK);
    ck_assert(digest_equal(&got, &man));
    ck_assert_int_eq(s->ops->tag_resolve(s, name, "3.19", &got), STORE_OK);
    ck_assert(digest_equal(&got, &man));
    fx_assert_err(s, s->ops->tag_resolve(s, name, "v2", &got), STORE_INVALID, "no image tagged \"v2\" in the layout at /ipfs/");
    ck_assert_int_eq(s->ops->tags_list(s, name, &tags, &n), STORE_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert(fx_has(tags, n, "v1") && fx_has(tags, n, "3.19"));
    strv_free(tags, n);

    struct buf b;
    buf_init(&b, MANIFEST_MAX);
    ck_assert_int_eq(s->ops->manifest_get(s, name, &man, &b), STORE_OK);
    ck_assert_str_eq(buf_cstr(&b), man_json);
    buf_free(&b);
    ck_assert_int_eq(s->ops->manifest_exists(s, name, &man), STORE_OK);
    fx_assert_err(s, s->ops->manifest_exists(s, name, &layer), STORE_INVALID, " is not a manifest: ");
    ck_assert_int_eq(s->ops->referrers(s, name, &man, &refs, &n), STORE_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert(digest_equal(&refs[0], &sig));
    free(refs);
    ck_assert_int_eq(s->ops->repo_exists(s, name), 1);
    char **all;
    ck_assert_int_eq(s->ops->catalog(s, &all, &n), STORE_OK);
    ck_assert_uint_eq(n, 0);   /* layouts are addressed, never listed */
}
END_TEST

START_TEST(layout_blobs)
{
    struct store_blob blob;
    struct kubo_stat st;
    struct buf got;
    char *p = xasprintf("/lay/blobs/sha256/%s", layer.hex);
    ck_assert_int_eq(kubo_files_stat(k, p, &st), KUBO_OK);
    free(p);
    fake_kubo_reset_calls(k);

    ck_assert_int_eq(s->ops->blob_stat(s, name, &layer, &blob), STORE_OK);
    ck_assert_uint_eq(blob.size, strlen(layer_bytes));
    ck_assert_str_eq(blob.cid, st.cid);
    ck_assert(digest_equal(&blob.digest, &layer));
    buf_init(&got, 1 << 20);
    ck_assert_int_eq(s->ops->blob_read(s, &blob, 0, blob.size, fx_collect, &got), STORE_OK);
    ck_assert_str_eq(buf_cstr(&got), layer_bytes);
    ck_assert_uint_eq(fake_kubo_calls(k, "gateway_get"), 1);
    /* a Range is answered only after the whole blob was hashed (no cache
     * here to remember that it was) */
    buf_reset(&got);
    ck_assert_int_eq(s->ops->blob_read(s, &blob, 6, 5, fx_collect, &got), STORE_OK);
    ck_assert_str_eq(buf_cstr(&got), "bytes");
    ck_assert_uint_eq(fake_kubo_calls(k, "gateway_get"), 3);
    ck_assert_int_eq(s->ops->blob_verify(s, &blob), STORE_OK);
    buf_free(&got);

    struct digest unknown;
    fx_digest("absent", 6, &unknown);
    fx_assert_err(s, s->ops->blob_stat(s, name, &unknown, &blob), STORE_INVALID, "is not in the layout at /ipfs/");

    /* read-only */
    struct store_chunk c = { "x", 1 };
    fx_assert_err(s, s->ops->blob_commit(s, name, &layer, &c), STORE_ERROR,
                  "layout: OCI layouts on IPFS are read-only");
    ck_assert_int_eq(s->ops->manifest_put(s, name, &man, "{}", 2, NULL, 0, NULL), STORE_ERROR);
    ck_assert_int_eq(s->ops->tag_delete(s, name, "v1"), STORE_ERROR);
}
END_TEST

/* Bytes that do not hash to their name never reach the client whole: a
 * small blob not at all, a big one short of its last HOLD bytes. */
START_TEST(layout_tampered_blob)
{
    struct digest small, big;
    struct store_blob blob;
    struct buf got;
    char tampered[KUBO_CID_MAX + 8];
    fx_digest("good bytes", 10, &small);
    put_blob("/lay", "evil bytes", 10, &small, NULL);
    size_t big_len = 100 * 1024;
    char *big_bytes = xmalloc(big_len);
    memset(big_bytes, 'a', big_len);
    fx_digest(big_bytes, big_len, &big);
    big_bytes[big_len - 1] = 'b';
    put_blob("/lay", big_bytes, big_len, &big, NULL);
    flush_name("/lay", tampered);
    buf_init(&got, 1 << 20);

    ck_assert_int_eq(s->ops->blob_stat(s, tampered, &small, &blob), STORE_OK);
    ck_assert_uint_eq(blob.size, 10);
    fx_assert_err(s, s->ops->blob_read(s, &blob, 0, blob.size, fx_collect, &got), STORE_INVALID,
                  "does not hash to its name (its bytes are sha256:");
    ck_assert_uint_eq(got.len, 0);
    fx_assert_err(s, s->ops->blob_verify(s, &blob), STORE_INVALID, "tampered or corrupt layout");
    fx_assert_err(s, s->ops->blob_read(s, &blob, 2, 3, fx_collect, &got), STORE_INVALID, "does not hash");
    ck_assert_uint_eq(got.len, 0);

    ck_assert_int_eq(s->ops->blob_stat(s, tampered, &big, &blob), STORE_OK);
    ck_assert_int_eq(s->ops->blob_read(s, &blob, 0, blob.size, fx_collect, &got), STORE_INVALID);
    ck_assert_uint_eq(got.len, big_len - HOLD);
    buf_free(&got);
    free(big_bytes);
}
END_TEST

START_TEST(layout_tampered_manifest)
{
    struct digest claimed, got;
    char bad[KUBO_CID_MAX + 8];
    fx_digest("{\"schemaVersion\":2}", 19, &claimed);
    put_blob("/bad", man_json, strlen(man_json), &claimed, NULL);
    char *e = index_entry(&claimed, 19, "v1");
    char *index = xasprintf("{\"schemaVersion\":2,\"manifests\":[%s]}", e);
    fx_write(k, "/bad/index.json", index);
    fx_write(k, "/bad/oci-layout", MARKER);
    flush_name("/bad", bad);
    free(index);
    free(e);

    /* the index names it, but its bytes are another manifest's */
    ck_assert_int_eq(s->ops->tag_resolve(s, bad, "v1", &got), STORE_OK);
    struct buf b;
    buf_init(&b, MANIFEST_MAX);
    fx_assert_err(s, s->ops->manifest_get(s, bad, &claimed, &b), STORE_INVALID,
                  "does not hash to its name (its bytes are sha256:");
    ck_assert_uint_eq(b.len, 0);
    ck_assert(strstr(s->ops->errmsg(s), man.hex) != NULL);
    buf_free(&b);
}
END_TEST

/* Builds /broken from the given index.json and oci-layout (NULL: the file
 * is missing) and answers tag_resolve's result on it. */
static int resolve_broken(const char *index, const char *marker, char out[KUBO_CID_MAX + 8])
{
    struct digest got;
    kubo_files_rm(k, "/broken", 1);
    ck_assert_int_eq(kubo_files_mkdir(k, "/broken"), KUBO_OK);
    if (index)
        fx_write(k, "/broken/index.json", index);
    if (marker)
        fx_write(k, "/broken/oci-layout", marker);
    flush_name("/broken", out);
    return s->ops->tag_resolve(s, out, "v1", &got);
}

START_TEST(layout_malformed)
{
    char n[KUBO_CID_MAX + 8], want[512];
    const char *ok_index = "{\"schemaVersion\":2,\"manifests\":[]}";

    int rc = resolve_broken(ok_index, NULL, n);
    snprintf(want, sizeof want, "layout: /%s: not an OCI image layout: no oci-layout file", n);
    ck_assert_int_eq(rc, STORE_INVALID);
    ck_assert_str_eq(s->ops->errmsg(s), want);

    rc = resolve_broken(ok_index, "{\"imageLayoutVersion\":\"2.0.0\"}", n);
    fx_assert_err(s, rc, STORE_INVALID, "not an OCI image layout: oci-layout: unsupported imageLayoutVersion 2.0.0");

    rc = resolve_broken("{\"manifests\": [", MARKER, n);
    snprintf(want, sizeof want, "layout: /%s/index.json: index is not JSON: ", n);
    fx_assert_err(s, rc, STORE_INVALID, want);
    ck_assert_int_eq(strncmp(s->ops->errmsg(s), want, strlen(want)), 0);

    rc = resolve_broken("{\"schemaVersion\":2}", MARKER, n);
    fx_assert_err(s, rc, STORE_INVALID, "/index.json: no \"manifests\" array");

    rc = resolve_broken("{\"manifests\":[{\"digest\":\"sha256:short\",\"size\":1}]}", MARKER, n);
    fx_assert_err(s, rc, STORE_INVALID, "manifests[0]: missing or invalid digest");

    rc = resolve_broken(NULL, MARKER, n);
    snprintf(want, sizeof want, "layout: /%s: not an OCI image layout: no index.json", n);
    ck_assert_int_eq(rc, STORE_INVALID);
    ck_assert_str_eq(s->ops->errmsg(s), want);
    ck_assert_int_eq(s->ops->repo_exists(s, n), 0);

    /* the layout is fine, the tag is not in it */
    rc = resolve_broken(ok_index, MARKER, n);
    fx_assert_err(s, rc, STORE_INVALID, "no image tagged \"v1\"");

    /* names that cannot be a layout on this node */
    struct digest got;
    fx_assert_err(s, s->ops->tag_resolve(s, "ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", "v1", &got),
                  STORE_INVALID, "layout: ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG: not a CID or IPNS name");
    fx_assert_err(s, s->ops->tag_resolve(s, "ipfs/bafkfake00", "v1", &got), STORE_INVALID,
                  "could not find bafkfake00");
    fx_assert_err(s, s->ops->tag_resolve(s, "library/alpine", "v1", &got), STORE_INVALID,
                  "library/alpine: not an ipfs/ or ipns/ name");
}
END_TEST

/* ipfs/<cid>/<path>: a layout in a subdirectory, or the images named
 * "<path>:<tag>" in the layout above it. */
START_TEST(layout_paths)
{
    struct digest a, bb, got;
    char root[KUBO_CID_MAX + 8], n[2 * KUBO_CID_MAX];
    char **tags;
    size_t nt;
    char *ma = put_image("/multi", "alpine layer", NULL, &a);
    char *mb = put_image("/multi", "busybox layer", NULL, &bb);
    char *ea = index_entry(&a, strlen(ma), "alpine:3.19");
    char *eb = index_entry(&bb, strlen(mb), "busybox:1.36");
    char *index = xasprintf("{\"manifests\":[%s,%s]}", ea, eb);
    fx_write(k, "/multi/index.json", index);
    fx_write(k, "/multi/oci-layout", MARKER);
    ck_assert_int_eq(kubo_files_cp(k, "/lay", "/multi/nested/one"), KUBO_OK);
    flush_name("/multi", root);

    snprintf(n, sizeof n, "%s/alpine", root);
    ck_assert_int_eq(s->ops->tag_resolve(s, n, "3.19", &got), STORE_OK);
    ck_assert(digest_equal(&got, &a));
    ck_assert_int_eq(s->ops->tags_list(s, n, &tags, &nt), STORE_OK);
    ck_assert_uint_eq(nt, 1);
    ck_assert_str_eq(tags[0], "3.19");
    strv_free(tags, nt);
    fx_assert_err(s, s->ops->tag_resolve(s, n, "1.36", &got), STORE_INVALID, "no image tagged \"alpine:1.36\"");
    struct store_blob blob;
    struct digest al;
    fx_digest("alpine layer", 12, &al);
    ck_assert_int_eq(s->ops->blob_stat(s, n, &al, &blob), STORE_OK);
    ck_assert_uint_eq(blob.size, 12);

    snprintf(n, sizeof n, "%s/nested/one", root);
    ck_assert_int_eq(s->ops->tag_resolve(s, n, "v1", &got), STORE_OK);
    ck_assert(digest_equal(&got, &man));

    snprintf(n, sizeof n, "%s/debian", root);
    fx_assert_err(s, s->ops->tag_resolve(s, n, "v1", &got), STORE_INVALID,
                  "names no image \"debian:<tag>\"");
    free(index);
    free(ea);
    free(eb);
    free(ma);
    free(mb);
}
END_TEST

START_TEST(layout_ipns)
{
    struct digest got;
    fake_kubo_name_set(k, "k51qzitest", name + 5);
    ck_assert_int_eq(s->ops->tag_resolve(s, "ipns/k51qzitest", "v1", &got), STORE_OK);
    ck_assert(digest_equal(&got, &man));
    ck_assert_int_eq(s->ops->tag_resolve(s, "ipns/k51qzitest", "3.19", &got), STORE_OK);
    /* no cache: every request resolves again */
    ck_assert_uint_eq(fake_kubo_calls(k, "name_resolve"), 2);

    fx_assert_err(s, s->ops->tag_resolve(s, "ipns/k51qzinone", "v1", &got), STORE_INVALID,
                  "layout: ipns/k51qzinone: the name resolves to nothing: ipfs: name/resolve k51qzinone: could not resolve name");
    /* a DNSLink domain is an IPNS name too (README, "Names") */
    fake_kubo_name_set(k, "images.example-dns.org", name + 5);
    ck_assert_int_eq(s->ops->tag_resolve(s, "ipns/images.example-dns.org", "v1", &got), STORE_OK);
    ck_assert(digest_equal(&got, &man));
    /* but an ipfs/ root is a CID: nothing else goes into an /ipfs path */
    fx_assert_err(s, s->ops->tag_resolve(s, "ipfs/a.b", "v1", &got), STORE_INVALID,
                  "layout: ipfs/a.b: not a CID or IPNS name");

    /* The node down: an error naming the cause. (It is STORE_ERROR, a 500,
     * where an ipfs/ name gets STORE_UNAVAILABLE, a 503: kubo_name_resolve
     * does not say why it failed.) */
    fake_kubo_fail_next(k, KUBO_UNAVAILABLE);
    int rc = s->ops->tag_resolve(s, "ipns/k51qzitest", "v1", &got);
    ck_assert_int_ne(rc, STORE_OK);
    ck_assert_str_eq(s->ops->errmsg(s), "layout: ipns resolve: ipfs: name/resolve k51qzitest: Couldn't connect to server");
    fake_kubo_fail_next(k, KUBO_UNAVAILABLE);
    fx_assert_err(s, s->ops->tag_resolve(s, name, "v1", &got), STORE_UNAVAILABLE,
                  ": ipfs: cat /ipfs/");
}
END_TEST

/* Removes the cache directory (flat: slot files and their temporaries). */
static void rm_cache_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = xasprintf("%s/%s", dir, e->d_name);
        unlink(p);
        free(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* With the shared cache, what was learnt about /ipfs content (and an IPNS
 * name, for ipns_ttl) is not asked of Kubo again; blob bytes always are. */
START_TEST(layout_cached)
{
    char dir[] = "/tmp/store-layout-cache-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    struct store *c = store_layout_new(k, dir, 60, MANIFEST_MAX);
    struct digest got, bad;
    struct store_blob blob, evil;
    struct buf b;
    char tampered[KUBO_CID_MAX + 8];
    fx_digest("good", 4, &bad);
    put_blob("/lay", "evil", 4, &bad, NULL);
    flush_name("/lay", tampered);
    fake_kubo_name_set(k, "k51qzitest", name + 5);
    buf_init(&b, MANIFEST_MAX);

    for (int round = 0; round < 2; round++) {
        fake_kubo_reset_calls(k);
        ck_assert_int_eq(c->ops->tag_resolve(c, "ipns/k51qzitest", "v1", &got), STORE_OK);
        ck_assert_int_eq(c->ops->manifest_get(c, name, &got, &b), STORE_OK);
        ck_assert_int_eq(c->ops->blob_stat(c, name, &layer, &blob), STORE_OK);
        buf_reset(&b);
        ck_assert_int_eq(c->ops->blob_read(c, &blob, 0, blob.size, fx_collect, &b), STORE_OK);
        ck_assert_str_eq(buf_cstr(&b), layer_bytes);
        buf_reset(&b);
        ck_assert_uint_eq(fake_kubo_calls(k, "name_resolve"), round == 0 ? 1 : 0);
        ck_assert_uint_eq(fake_kubo_calls(k, "files_read"), round == 0 ? 3 : 0);   /* index, marker, manifest */
        ck_assert_uint_eq(fake_kubo_calls(k, "files_stat"), round == 0 ? 1 : 0);
        ck_assert_uint_eq(fake_kubo_calls(k, "gateway_get"), 1);
    }
    /* a verified blob's Range costs one read, a bad verdict none */
    fake_kubo_reset_calls(k);
    ck_assert_int_eq(c->ops->blob_read(c, &blob, 0, 5, fx_collect, &b), STORE_OK);
    ck_assert_str_eq(buf_cstr(&b), "layer");
    ck_assert_uint_eq(fake_kubo_calls(k, "gateway_get"), 1);
    ck_assert_int_eq(c->ops->blob_stat(c, tampered, &bad, &evil), STORE_OK);
    ck_assert_int_eq(c->ops->blob_verify(c, &evil), STORE_INVALID);
    fake_kubo_reset_calls(k);
    fx_assert_err(c, c->ops->blob_verify(c, &evil), STORE_INVALID, "(found earlier)");
    fx_assert_err(c, c->ops->blob_read(c, &evil, 0, evil.size, fx_collect, &b), STORE_INVALID, "(found earlier)");
    ck_assert_uint_eq(fake_kubo_calls(k, NULL), 0);
    buf_free(&b);
    store_layout_free(c);
    rm_cache_dir(dir);
}
END_TEST

Suite *suite_store_layout(void)
{
    Suite *su = suite_create("store_layout");
    TCase *tc = tcase_create("store_layout");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, layout_reads);
    tcase_add_test(tc, layout_blobs);
    tcase_add_test(tc, layout_tampered_blob);
    tcase_add_test(tc, layout_tampered_manifest);
    tcase_add_test(tc, layout_malformed);
    tcase_add_test(tc, layout_paths);
    tcase_add_test(tc, layout_ipns);
    tcase_add_test(tc, layout_cached);
    suite_add_tcase(su, tc);
    return su;
}
