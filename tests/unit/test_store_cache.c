/* store_cache over a fake inner store (it counts calls and holds one tag,
 * one manifest and a few referrers): warm reads skip the inner store, every write through the cache makes the
 * next read on any process (a forked child here) go back to it, a value
 * read while a write was happening is never served afterwards, and errors
 * are never cached. The fake stands in for Kubo because the race needs a
 * write to land exactly in the middle of a read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"
#include "core/xalloc.h"
#include "oci/cache_shm.h"
#include "oci/store_cache.h"

struct fake_store {
    struct store base;
    int calls;            /* reads that reached the fake */
    struct digest tag;    /* what tag "v1" of "repo" points at */
    int fail;             /* answer STORE_UNAVAILABLE */
    int write_during_read; /* simulate a write landing mid-read */
    struct digest next;   /* ... which moves the tag here */
};

static int fake_tag_resolve(struct store *s, const char *name, const char *tag, struct digest *out)
{
    struct fake_store *f = s->impl;
    f->calls++;
    if (f->fail)
        return STORE_UNAVAILABLE;
    if (strcmp(name, "repo") != 0 || strcmp(tag, "v1") != 0)
        return STORE_NOT_FOUND;
    *out = f->tag;   /* the value as read ... */
    if (f->write_during_read) {
        f->write_during_read = 0;
        f->tag = f->next;       /* ... then a writer moves the tag */
        cache_shm_bump();       /* and bumps, as store_cache_wrote does */
    }
    return STORE_OK;
}

static int fake_manifest_put(struct store *s, const char *name, const struct digest *d, const char *data,
                             size_t len, char *const *tags, size_t ntags, const struct digest *subject)
{
    struct fake_store *f = s->impl;
    (void)name; (void)data; (void)len; (void)tags; (void)ntags; (void)subject;
    f->tag = *d;
    return STORE_OK;
}

static void digest_n(struct digest *d, int n);

/* Subject 1 has one referrer (digest 9), subject 3 two; others none. */
static int fake_referrers(struct store *s, const char *name, const struct digest *subject,
                          struct digest **out, size_t *n)
{
    struct fake_store *f = s->impl;
    struct digest one, three;
    (void)name;
    f->calls++;
    digest_n(&one, 1);
    digest_n(&three, 3);
    *n = digest_equal(subject, &one) ? 1 : digest_equal(subject, &three) ? 2 : 0;
    *out = *n ? xcalloc(*n, sizeof **out) : NULL;
    for (size_t i = 0; i < *n; i++)
        digest_n(&(*out)[i], 9 - (int)i);
    return STORE_OK;
}

/* Manifest "{}" exists in "repo" under its digest. */
static int fake_manifest_exists(struct store *s, const char *name, const struct digest *d)
{
    struct fake_store *f = s->impl;
    struct digest m;
    f->calls++;
    digest_of(DIGEST_SHA256, "{}", 2, &m);
    return strcmp(name, "repo") == 0 && digest_equal(d, &m) ? STORE_OK : STORE_NOT_FOUND;
}

static int fake_manifest_get(struct store *s, const char *name, const struct digest *d, struct buf *out)
{
    int rc = fake_manifest_exists(s, name, d);   /* as store_mfs: the revision, then the bytes */
    if (rc == STORE_OK)
        buf_append(out, "{}", 2);
    return rc;
}

static const char *fake_errmsg(struct store *s)
{
    (void)s;
    return "fake: error";
}

static const struct store_ops fake_ops = {
    .tag_resolve = fake_tag_resolve,
    .referrers = fake_referrers,
    .manifest_exists = fake_manifest_exists,
    .manifest_get = fake_manifest_get,
    .manifest_put = fake_manifest_put,
    .errmsg = fake_errmsg,
};

static struct fake_store fake;

static void digest_n(struct digest *d, int n)
{
    char s[80];
    snprintf(s, sizeof s, "sha256:%064d", n);
    ck_assert_int_eq(digest_parse(s, d), DIGEST_PARSE_OK);
}

static void setup(void)
{
    char *err = NULL;
    memset(&fake, 0, sizeof fake);
    fake.base.ops = &fake_ops;
    fake.base.impl = &fake;
    digest_n(&fake.tag, 1);
    ck_assert_int_eq(cache_shm_init((size_t)1 << 20, &err), 0);
}

static void teardown(void)
{
    cache_shm_fini();
}

static int resolve(struct store *c, struct digest *out)
{
    return c->ops->tag_resolve(c, "repo", "v1", out);
}

START_TEST(warm_read_skips_inner)
{
    struct store *c = store_cache_new(&fake.base);
    struct digest d;
    ck_assert_int_eq(resolve(c, &d), STORE_OK);
    ck_assert_int_eq(resolve(c, &d), STORE_OK);
    ck_assert_int_eq(fake.calls, 1);
    ck_assert(digest_equal(&d, &fake.tag));
    /* NOT_FOUND is an answer too */
    ck_assert_int_eq(c->ops->tag_resolve(c, "repo", "nope", &d), STORE_NOT_FOUND);
    ck_assert_int_eq(c->ops->tag_resolve(c, "repo", "nope", &d), STORE_NOT_FOUND);
    ck_assert_int_eq(fake.calls, 2);
    store_cache_free(c);
}
END_TEST

START_TEST(write_invalidates)
{
    struct store *c = store_cache_new(&fake.base);
    struct digest d, two;
    char *tags[] = { "v1" };
    digest_n(&two, 2);
    ck_assert_int_eq(resolve(c, &d), STORE_OK);
    ck_assert_int_eq(c->ops->manifest_put(c, "repo", &two, "{}", 2, tags, 1, NULL), STORE_OK);
    ck_assert_int_eq(resolve(c, &d), STORE_OK);
    ck_assert(digest_equal(&d, &two));
    ck_assert_int_eq(fake.calls, 2);
    store_cache_free(c);
}
END_TEST

/* Another worker (a forked child with its own cache over the shared table)
 * moves the tag: the parent's very next read sees it. */
START_TEST(write_in_other_process_invalidates)
{
    struct store *c = store_cache_new(&fake.base);
    struct digest d, three;
    digest_n(&three, 3);
    ck_assert_int_eq(resolve(c, &d), STORE_OK);
    ck_assert_int_eq(resolve(c, &d), STORE_OK);
    ck_assert_int_eq(fake.calls, 1);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct store *cc = store_cache_new(&fake.base);
        char *tags[] = { "v1" };
        int rc = cc->ops->manifest_put(cc, "repo", &three, "{}", 2, tags, 1, NULL);
        _exit(rc == STORE_OK ? 0 : 1);
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    fake.tag = three;   /* the fake's memory is not shared: mirror the child's write */
    ck_assert_int_eq(resolve(c, &d), STORE_OK);
    ck_assert_int_eq(fake.calls, 2);
    ck_assert(digest_equal(&d, &three));
    store_cache_free(c);
}
END_TEST

/* A read that returned the old value while a write completed must not be
 * served from the cache afterwards. */
START_TEST(read_racing_a_write_is_not_served)
{
    struct store *c = store_cache_new(&fake.base);
    struct digest d, one, four;
    digest_n(&one, 1);
    digest_n(&four, 4);
    fake.write_during_read = 1;
    fake.next = four;
    ck_assert_int_eq(resolve(c, &d), STORE_OK);
    ck_assert(digest_equal(&d, &one));   /* the old value, legitimately */
    ck_assert_int_eq(resolve(c, &d), STORE_OK);
    ck_assert(digest_equal(&d, &four));
    ck_assert_int_eq(fake.calls, 2);
    store_cache_free(c);
}
END_TEST

START_TEST(errors_are_not_cached)
{
    struct store *c = store_cache_new(&fake.base);
    struct digest d;
    fake.fail = 1;
    ck_assert_int_eq(resolve(c, &d), STORE_UNAVAILABLE);
    ck_assert_str_eq(c->ops->errmsg(c), "fake: error");
    fake.fail = 0;
    ck_assert_int_eq(resolve(c, &d), STORE_OK);
    ck_assert_int_eq(fake.calls, 2);
    store_cache_free(c);
}
END_TEST

/* Without the master's shared table there is nothing to invalidate other
 * workers' copies with: every read goes to the inner store. */
START_TEST(no_table_passes_through)
{
    cache_shm_fini();
    struct store *c = store_cache_new(&fake.base);
    struct digest d;
    ck_assert_int_eq(resolve(c, &d), STORE_OK);
    ck_assert_int_eq(resolve(c, &d), STORE_OK);
    ck_assert_int_eq(fake.calls, 2);
    store_cache_free(c);
}
END_TEST

/* metadata_cache_mb = 0: no table, the workers ask the store every time. */
START_TEST(size_zero_is_off)
{
    char *err = NULL;
    cache_shm_fini();
    ck_assert_int_eq(cache_shm_init(0, &err), 0);
    ck_assert_int_eq(cache_shm_available(), 0);
    ck_assert_uint_eq(cache_shm_entries_for(0), 0);
    ck_assert_uint_eq(cache_shm_entries_for((size_t)32 << 20), 262140);
}
END_TEST

/* A table of one set (4 entries): a fifth key evicts one entry, it never
 * fails, and every answer still served is the one stored under its key. */
START_TEST(full_set_evicts_one)
{
    char *err = NULL, key[16];
    cache_shm_fini();
    ck_assert_int_eq(cache_shm_init(128 + 4 * 128, &err), 0);
    ck_assert_uint_eq(cache_shm_entries_for(128 + 4 * 128), 4);
    uint64_t gen = cache_shm_gen();
    for (int i = 0; i < 5; i++) {
        struct cache_shm_val v = { .rc = i, .size = (uint64_t)i, .len = 1, .data = { (char)('a' + i) } };
        snprintf(key, sizeof key, "k%d", i);
        cache_shm_put(key, gen, &v);
    }
    int hits = 0;
    for (int i = 0; i < 5; i++) {
        struct cache_shm_val v;
        snprintf(key, sizeof key, "k%d", i);
        if (!cache_shm_get(key, gen, &v))
            continue;
        hits++;
        ck_assert_int_eq(v.rc, i);
        ck_assert_int_eq(v.data[0], 'a' + i);
    }
    ck_assert_int_eq(hits, 4);
    struct cache_shm_val v;
    ck_assert_int_eq(cache_shm_get("k4", gen, &v), 1);   /* the newest is kept */
}
END_TEST

/* Referrers: none or one sha256 digest fit the shared table and are served
 * warm; longer answers always ask; a write makes them stale. */
START_TEST(referrers_cached_when_small)
{
    struct store *c = store_cache_new(&fake.base);
    struct digest one, two, three, *r = NULL;
    size_t n;
    char *tags[] = { "v1" };
    digest_n(&one, 1);
    digest_n(&two, 2);
    digest_n(&three, 3);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(c->ops->referrers(c, "repo", &one, &r, &n), STORE_OK);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(r[0].hex, "0000000000000000000000000000000000000000000000000000000000000009");
        free(r);
        ck_assert_int_eq(c->ops->referrers(c, "repo", &two, &r, &n), STORE_OK);
        ck_assert_uint_eq(n, 0);
        free(r);
    }
    ck_assert_int_eq(fake.calls, 2);
    ck_assert_int_eq(c->ops->referrers(c, "repo", &three, &r, &n), STORE_OK);
    free(r);
    ck_assert_int_eq(c->ops->referrers(c, "repo", &three, &r, &n), STORE_OK);
    ck_assert_uint_eq(n, 2);
    free(r);
    ck_assert_int_eq(fake.calls, 4);
    ck_assert_int_eq(c->ops->manifest_put(c, "repo", &two, "{}", 2, tags, 1, NULL), STORE_OK);
    ck_assert_int_eq(c->ops->referrers(c, "repo", &one, &r, &n), STORE_OK);
    free(r);
    ck_assert_int_eq(fake.calls, 5);
    store_cache_free(c);
}
END_TEST

/* A manifest GET the worker has no bytes for asks the inner store once
 * (its manifest_get checks the revision itself), then is served warm; a
 * revision known missing costs nothing. */
START_TEST(manifest_get_checks_once)
{
    struct store *c = store_cache_new(&fake.base);
    struct digest m, other;
    struct buf b;
    digest_of(DIGEST_SHA256, "{}", 2, &m);
    digest_n(&other, 5);
    buf_init(&b, 1024);
    ck_assert_int_eq(c->ops->manifest_get(c, "repo", &m, &b), STORE_OK);
    ck_assert_str_eq(buf_cstr(&b), "{}");
    ck_assert_int_eq(fake.calls, 1);
    buf_reset(&b);
    ck_assert_int_eq(c->ops->manifest_get(c, "repo", &m, &b), STORE_OK);
    ck_assert_int_eq(fake.calls, 1);
    ck_assert_int_eq(c->ops->manifest_exists(c, "repo", &m), STORE_OK);
    ck_assert_int_eq(fake.calls, 1);
    ck_assert_int_eq(c->ops->manifest_exists(c, "repo", &other), STORE_NOT_FOUND);
    ck_assert_int_eq(fake.calls, 2);
    ck_assert_int_eq(c->ops->manifest_get(c, "repo", &other, &b), STORE_NOT_FOUND);
    ck_assert_int_eq(fake.calls, 2);
    buf_free(&b);
    store_cache_free(c);
}
END_TEST

Suite *suite_store_cache(void)
{
    Suite *s = suite_create("store_cache");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, warm_read_skips_inner);
    tcase_add_test(tc, write_invalidates);
    tcase_add_test(tc, write_in_other_process_invalidates);
    tcase_add_test(tc, read_racing_a_write_is_not_served);
    tcase_add_test(tc, errors_are_not_cached);
    tcase_add_test(tc, no_table_passes_through);
    tcase_add_test(tc, size_zero_is_off);
    tcase_add_test(tc, full_set_evicts_one);
    tcase_add_test(tc, referrers_cached_when_small);
    tcase_add_test(tc, manifest_get_checks_once);
    suite_add_tcase(s, tc);
    return s;
}
