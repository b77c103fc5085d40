/* store_union over fake stores: the local store answers first and owns
 * every repository it has; a repository only a read-only root has is served
 * from that root; a write to it first takes it over (repo_import), a mount
 * from it imports the blob (blob_import); _catalog is the sorted union;
 * roots.json decides which roots exist, and a root's store is kept while
 * its CID is. The fakes stand in for store_mfs over Kubo: the union is a
 * pure composite of store operations, so what it asks of its members is
 * the whole of its behaviour. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "core/p2pstate.h"
#include "core/xalloc.h"
#include "oci/store_union.h"

#define SU_MAX 4
#define SU_HEX "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"

/* --- a fake store: up to SU_MAX repositories, each with tag "v1" --- */
struct su_fake {
    struct store base;
    const char *repos[SU_MAX];   /* repositories it has */
    int has_blob;                /* blob SU_HEX is in its blob store */
    int tag_resolves, repo_imports, blob_imports, blob_mounts, manifest_puts;
    const char *imported_from;   /* from_name of the last blob_import ("" for NULL) */
    struct store *import_src;    /* the store the last import read from */
    char err[128];
};

static struct su_fake *su_of(struct store *s)
{
    return s->impl;
}

static int su_has(struct su_fake *f, const char *name)
{
    for (size_t i = 0; i < SU_MAX; i++)
        if (f->repos[i] && strcmp(f->repos[i], name) == 0)
            return 1;
    return 0;
}

static int su_add(struct su_fake *f, const char *name)
{
    for (size_t i = 0; i < SU_MAX; i++)
        if (!f->repos[i]) {
            f->repos[i] = name;
            return STORE_OK;
        }
    return STORE_ERROR;
}

static int su_nf(struct su_fake *f, const char *what, const char *name)
{
    snprintf(f->err, sizeof f->err, "fake: %s %s: not found", what, name);
    return STORE_NOT_FOUND;
}

static int su_repo_exists(struct store *s, const char *name)
{
    return su_has(su_of(s), name);
}

static int su_tag_resolve(struct store *s, const char *name, const char *tag, struct digest *out)
{
    struct su_fake *f = su_of(s);
    f->tag_resolves++;
    if (!su_has(f, name) || strcmp(tag, "v1") != 0)
        return su_nf(f, "tag", name);
    ck_assert_int_eq(digest_parse("sha256:" SU_HEX, out), DIGEST_PARSE_OK);
    return STORE_OK;
}

static int su_blob_stat(struct store *s, const char *name, const struct digest *d, struct store_blob *out)
{
    struct su_fake *f = su_of(s);
    if (!su_has(f, name) || !f->has_blob)
        return su_nf(f, "blob in", name);
    memset(out, 0, sizeof *out);
    out->digest = *d;
    out->size = 3;
    return STORE_OK;
}

static int su_blob_mount(struct store *s, const char *name, const char *from, const struct digest *d)
{
    struct su_fake *f = su_of(s);
    (void)d;
    f->blob_mounts++;
    if (from ? !su_has(f, from) || !f->has_blob : !f->has_blob)
        return su_nf(f, "mount into", name);
    return su_has(f, name) ? STORE_OK : su_add(f, name);
}

static int su_repo_import(struct store *s, const char *name, struct store *from)
{
    struct su_fake *f = su_of(s);
    f->repo_imports++;
    f->import_src = from;
    if (!su_has(su_of(from), name))
        return su_nf(f, "import of", name);
    return su_add(f, name);
}

static int su_blob_import(struct store *s, struct store *from, const char *from_name, const struct digest *d)
{
    struct su_fake *f = su_of(s), *src = su_of(from);
    (void)d;
    f->blob_imports++;
    f->import_src = from;
    f->imported_from = from_name ? from_name : "";
    if (!src->has_blob || (from_name && !su_has(src, from_name)))
        return su_nf(f, "blob import from", from_name ? from_name : "(blobs)");
    f->has_blob = 1;
    return STORE_OK;
}

static int su_manifest_put(struct store *s, const char *name, const struct digest *d, const char *data,
                           size_t len, char *const *tags, size_t ntags, const struct digest *subject)
{
    struct su_fake *f = su_of(s);
    (void)d; (void)data; (void)len; (void)tags; (void)ntags; (void)subject;
    f->manifest_puts++;
    return su_has(f, name) ? STORE_OK : su_add(f, name);
}

static int su_catalog(struct store *s, char ***names, size_t *n)
{
    struct su_fake *f = su_of(s);
    *names = xcalloc(SU_MAX + 1, sizeof **names);
    *n = 0;
    for (size_t i = 0; i < SU_MAX; i++)
        if (f->repos[i])
            (*names)[(*n)++] = xstrdup(f->repos[i]);
    return STORE_OK;
}

static const char *su_errmsg(struct store *s)
{
    return su_of(s)->err;
}

static const struct store_ops su_ops = {
    .repo_exists = su_repo_exists,
    .tag_resolve = su_tag_resolve,
    .blob_stat = su_blob_stat,
    .blob_mount = su_blob_mount,
    .repo_import = su_repo_import,
    .blob_import = su_blob_import,
    .manifest_put = su_manifest_put,
    .catalog = su_catalog,
    .errmsg = su_errmsg,
};

static void su_init(struct su_fake *f)
{
    memset(f, 0, sizeof *f);
    f->base.ops = &su_ops;
    f->base.impl = f;
}

/* --- the roots: CID "bafyroota" and "bafyrootb" open these fakes --- */
static struct su_fake su_root_a, su_root_b, su_local;
static int su_opens, su_closes;
static char su_dir[] = "/tmp/test_store_union.XXXXXX";
static struct store *su_union;
static struct digest su_d;

static struct store *su_open(void *ctx, const char *cid)
{
    (void)ctx;
    su_opens++;
    if (strcmp(cid, "bafyroota") == 0)
        return &su_root_a.base;
    ck_assert_str_eq(cid, "bafyrootb");
    return &su_root_b.base;
}

static void su_close(void *ctx, struct store *s)
{
    (void)ctx;
    (void)s;
    su_closes++;
}

/* roots.json as the resolver writes it: the given CIDs, in order */
static void su_roots(const char *cid1, const char *cid2)
{
    struct p2p_root r[2];
    memset(r, 0, sizeof r);
    snprintf(r[0].key, sizeof r[0].key, "k51a");
    snprintf(r[0].cid, sizeof r[0].cid, "%s", cid1);
    snprintf(r[1].key, sizeof r[1].key, "k51b");
    snprintf(r[1].cid, sizeof r[1].cid, "%s", cid2 ? cid2 : "");
    ck_assert_int_eq(p2pstate_write_roots(su_dir, r, cid2 ? 2 : 1), 0);
    /* a replace within one clock tick looks unchanged to stat(): the union
     * compares inode, size and mtime, and the rename gives a new inode */
}

static void su_setup(void)
{
    static const struct store_union_roots ro = { .open = su_open, .close = su_close };
    strcpy(su_dir, "/tmp/test_store_union.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(su_dir));
    su_init(&su_local);
    su_init(&su_root_a);
    su_init(&su_root_b);
    su_local.repos[0] = "mine";
    su_local.repos[1] = "both";
    su_root_a.repos[0] = "mirrored";
    su_root_a.repos[1] = "both";
    su_root_a.has_blob = 1;
    su_root_b.repos[0] = "other";
    su_opens = su_closes = 0;
    su_roots("bafyroota", NULL);
    su_union = store_union_new(&su_local.base, su_dir, &ro);
    ck_assert_int_eq(digest_parse("sha256:" SU_HEX, &su_d), DIGEST_PARSE_OK);
}

static void su_teardown(void)
{
    store_union_free(su_union);
    char *p = p2pstate_path(su_dir, P2P_ROOTS_FILE);
    unlink(p);
    free(p);
    rmdir(su_dir);
}

START_TEST(union_local_first)
{
    struct digest out;
    ck_assert_int_eq(su_union->ops->tag_resolve(su_union, "mine", "v1", &out), STORE_OK);
    ck_assert_int_eq(su_local.tag_resolves, 1);
    ck_assert_int_eq(su_root_a.tag_resolves, 0);
    ck_assert_int_eq(su_opens, 0);   /* no local miss: roots.json not even read */
}
END_TEST

START_TEST(union_mirrored_repo_from_its_root)
{
    struct digest out;
    ck_assert_int_eq(su_union->ops->tag_resolve(su_union, "mirrored", "v1", &out), STORE_OK);
    ck_assert_int_eq(su_root_a.tag_resolves, 1);
    ck_assert_int_eq(su_opens, 1);
    ck_assert_int_eq(su_union->ops->repo_exists(su_union, "mirrored"), 1);
}
END_TEST

START_TEST(union_local_owns_what_it_has)
{
    /* "both" is local: a tag it lacks is not found, whatever the root says */
    struct digest out;
    ck_assert_int_eq(su_union->ops->tag_resolve(su_union, "both", "v2", &out), STORE_NOT_FOUND);
    ck_assert_int_eq(su_root_a.tag_resolves, 0);
    ck_assert_str_eq(su_union->ops->errmsg(su_union), "fake: tag both: not found");
}
END_TEST

START_TEST(union_unknown_everywhere)
{
    struct digest out;
    ck_assert_int_eq(su_union->ops->tag_resolve(su_union, "nowhere", "v1", &out), STORE_NOT_FOUND);
    ck_assert_str_eq(su_union->ops->errmsg(su_union), "fake: tag nowhere: not found");
    ck_assert_int_eq(su_union->ops->repo_exists(su_union, "nowhere"), 0);
}
END_TEST

START_TEST(union_write_takes_over)
{
    char *tags[] = { "v2" };
    ck_assert_int_eq(su_union->ops->manifest_put(su_union, "mirrored", &su_d, "{}", 2, tags, 1, NULL), STORE_OK);
    ck_assert_int_eq(su_local.repo_imports, 1);
    ck_assert_ptr_eq(su_local.import_src, &su_root_a.base);
    ck_assert_int_eq(su_local.manifest_puts, 1);
    /* ours now: a second write imports nothing */
    ck_assert_int_eq(su_union->ops->manifest_put(su_union, "mirrored", &su_d, "{}", 2, tags, 1, NULL), STORE_OK);
    ck_assert_int_eq(su_local.repo_imports, 1);
    ck_assert_int_eq(su_local.manifest_puts, 2);
}
END_TEST

START_TEST(union_write_to_new_repo_imports_nothing)
{
    char *tags[] = { "v1" };
    ck_assert_int_eq(su_union->ops->manifest_put(su_union, "fresh", &su_d, "{}", 2, tags, 1, NULL), STORE_OK);
    ck_assert_int_eq(su_local.repo_imports, 0);
    ck_assert_int_eq(su_local.manifest_puts, 1);
}
END_TEST

START_TEST(union_mount_from_mirrored_repo)
{
    ck_assert_int_eq(su_union->ops->blob_mount(su_union, "fresh", "mirrored", &su_d), STORE_OK);
    ck_assert_int_eq(su_local.blob_imports, 1);
    ck_assert_str_eq(su_local.imported_from, "mirrored");
    ck_assert_ptr_eq(su_local.import_src, &su_root_a.base);
    /* imported into the blob store, then linked from it (no from) */
    ck_assert_int_eq(su_local.blob_mounts, 1);
    ck_assert_int_eq(su_local.has_blob, 1);
}
END_TEST

START_TEST(union_mount_blob_only_a_root_has)
{
    ck_assert_int_eq(su_union->ops->blob_mount(su_union, "fresh", NULL, &su_d), STORE_OK);
    /* the local try, its NOT_FOUND, the import from the roots' blobs, the link */
    ck_assert_int_eq(su_local.blob_mounts, 2);
    ck_assert_int_eq(su_local.blob_imports, 1);
    ck_assert_str_eq(su_local.imported_from, "");
}
END_TEST

START_TEST(union_mount_of_a_blob_nobody_has)
{
    su_root_a.has_blob = 0;
    ck_assert_int_eq(su_union->ops->blob_mount(su_union, "fresh", NULL, &su_d), STORE_NOT_FOUND);
    ck_assert_str_eq(su_union->ops->errmsg(su_union), "store: mount sha256:" SU_HEX ": not in any root");
    ck_assert_int_eq(su_local.has_blob, 0);
}
END_TEST

START_TEST(union_catalog_is_the_sorted_union)
{
    char **names = NULL;
    size_t n = 0;
    su_roots("bafyroota", "bafyrootb");
    ck_assert_int_eq(su_union->ops->catalog(su_union, &names, &n), STORE_OK);
    ck_assert_uint_eq(n, 4);   /* "both" once */
    ck_assert_str_eq(names[0], "both");
    ck_assert_str_eq(names[1], "mine");
    ck_assert_str_eq(names[2], "mirrored");
    ck_assert_str_eq(names[3], "other");
    strv_free(names, n);
}
END_TEST

START_TEST(union_roots_follow_roots_json)
{
    struct digest out;
    ck_assert_int_eq(su_union->ops->tag_resolve(su_union, "other", "v1", &out), STORE_NOT_FOUND);
    ck_assert_int_eq(su_opens, 1);
    /* the resolver adds a second root: the first one's store is kept */
    su_roots("bafyroota", "bafyrootb");
    ck_assert_int_eq(su_union->ops->tag_resolve(su_union, "other", "v1", &out), STORE_OK);
    ck_assert_int_eq(su_opens, 2);
    ck_assert_int_eq(su_closes, 0);
    /* and then drops the first one: it is closed */
    su_roots("bafyrootb", NULL);
    ck_assert_int_eq(su_union->ops->tag_resolve(su_union, "mirrored", "v1", &out), STORE_NOT_FOUND);
    ck_assert_int_eq(su_closes, 1);
    ck_assert_int_eq(su_opens, 2);
}
END_TEST

START_TEST(union_without_import_refuses_a_takeover)
{
    static struct store_ops no_import;
    no_import = su_ops;
    no_import.repo_import = NULL;
    su_local.base.ops = &no_import;
    char *tags[] = { "v2" };
    ck_assert_int_eq(su_union->ops->manifest_put(su_union, "mirrored", &su_d, "{}", 2, tags, 1, NULL),
                     STORE_ERROR);
    ck_assert_str_eq(su_union->ops->errmsg(su_union), "store: this store cannot take over a mirrored repository");
    ck_assert_int_eq(su_local.manifest_puts, 0);
}
END_TEST

Suite *suite_store_union(void)
{
    Suite *s = suite_create("store_union");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, su_setup, su_teardown);
    tcase_add_test(tc, union_local_first);
    tcase_add_test(tc, union_mirrored_repo_from_its_root);
    tcase_add_test(tc, union_local_owns_what_it_has);
    tcase_add_test(tc, union_unknown_everywhere);
    tcase_add_test(tc, union_write_takes_over);
    tcase_add_test(tc, union_write_to_new_repo_imports_nothing);
    tcase_add_test(tc, union_mount_from_mirrored_repo);
    tcase_add_test(tc, union_mount_blob_only_a_root_has);
    tcase_add_test(tc, union_mount_of_a_blob_nobody_has);
    tcase_add_test(tc, union_catalog_is_the_sorted_union);
    tcase_add_test(tc, union_roots_follow_roots_json);
    tcase_add_test(tc, union_without_import_refuses_a_takeover);
    suite_add_tcase(s, tc);
    return s;
}
