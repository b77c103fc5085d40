/* store_fixture: what the tests of the store_tests program share: their
 * suites (the fake Kubo's own, then the storage backends'), run by store_main.c
 * over the fake Kubo (fake_kubo.h), and small helpers for bytes, digests and
 * manifests. */
#ifndef TESTS_UNIT_STORE_FIXTURE_H
#define TESTS_UNIT_STORE_FIXTURE_H
#include <check.h>
#include <stddef.h>
#include <sys/types.h>
#include "core/buf.h"
#include "core/digest.h"
#include "core/store.h"
#include "ipfs/kubo.h"

Suite *suite_fake_kubo(void);
Suite *suite_store_mfs(void);
Suite *suite_store_layout(void);
Suite *suite_store_layout_rw(void);

/* d := the sha256 digest of s (len bytes). */
void fx_digest(const void *s, size_t len, struct digest *d);
/* "sha256:<hex>" of d, in a static buffer (one at a time). */
const char *fx_str(const struct digest *d);
/* An OCI image manifest with the given config and one layer (sizes as
 * given), and a subject when subject_size > 0. Caller frees. */
char *fx_manifest(const struct digest *config, size_t config_size, const struct digest *layer,
                  size_t layer_size, const struct digest *subject, size_t subject_size);

/* A store_read_cb over memory that hands out at most step bytes a call. */
struct fx_source {
    const char *p;
    size_t len, off, step;
    int abort_at_end;   /* answer -1 instead of 0 at the end */
};
ssize_t fx_read(void *ctx, char *p, size_t n);
/* A store_write_cb appending to the struct buf ctx. */
int fx_collect(void *ctx, const char *p, size_t n);

/* 1 if s is one of v[0..n). */
int fx_has(char *const *v, size_t n, const char *s);
/* Writes s into the fake's MFS at path (asserting it worked). */
void fx_write(struct kubo *k, const char *path, const char *s);
/* Asserts that rc is want and that s's message contains needle. */
#define fx_assert_err(s, rc, want, needle)                                                     \
    do {                                                                                       \
        ck_assert_int_eq((rc), (want));                                                        \
        ck_assert_msg(strstr((s)->ops->errmsg(s), (needle)) != NULL, "\"%s\" lacks \"%s\"",   \
                      (s)->ops->errmsg(s), (needle));                                          \
    } while (0)

#endif
