/* admit: requests that read a body take one of the upload_workers slots
 * (core/registry/admit.c over core/slots.c). With every slot held, they get
 * 429 TOOMANYREQUESTS with Retry-After at once and not a byte of their body
 * is read; everything else is served as usual. Slots are the same lock
 * files a worker uses, in the test's statedir; "the other workers" are
 * struct slots of this process holding them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit.h"
#include "tests/unit/handler_env.h"
#include "core/metrics.h"
#include "core/slots.h"
#include "core/xalloc.h"

#define FOO_DIGEST "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae" /* sha256("foo") */
#define UPLOADS "/v2/repo/blobs/uploads/"
#define EMPTY_INDEX "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}"
#define NSLOTS 2

static struct slots admit_mine;            /* this worker's */
static struct slots admit_others[NSLOTS];  /* the other workers' */

static void admit_setup(void)
{
    handler_env_setup();
    char *dir = xasprintf("%s/upload-slots", henv.statedir);
    slots_init(&admit_mine, dir, NSLOTS);
    for (int i = 0; i < NSLOTS; i++)
        slots_init(&admit_others[i], dir, NSLOTS);
    free(dir);
    henv.reg.body_slots = &admit_mine;
}

static void admit_teardown(void)
{
    slots_free(&admit_mine);
    for (int i = 0; i < NSLOTS; i++)
        slots_free(&admit_others[i]);
    char *cmd = xasprintf("rm -rf '%s/upload-slots'", henv.statedir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    handler_env_teardown();
}

static void admit_fill(void)
{
    for (int i = 0; i < NSLOTS; i++)
        ck_assert_int_eq(slots_take(&admit_others[i]), SLOTS_TAKEN);
}

/* POSTs a session and returns its URL with query (caller frees). */
static char *admit_session(const char *query)
{
    char *out = handler_env_expect("POST", UPLOADS, NULL, 202, NULL);
    char *id = fake_resp_header(out, "Docker-Upload-UUID");
    ck_assert_ptr_nonnull(id);
    char *uri = xasprintf(UPLOADS "%s%s", id, query);
    free(id);
    free(out);
    return uri;
}

/* method uri with body: 429 TOOMANYREQUESTS, Retry-After: 1, body unread. */
static void admit_refused(const char *method, const char *uri, const char *body)
{
    char *out = handler_env_expect(method, uri, body, 429, "TOOMANYREQUESTS");
    fake_resp_header_is(out, "Retry-After", "1");
    ck_assert_msg(henv.edge.body_off == 0, "%s %s read %zu body bytes", method, uri, henv.edge.body_off);
    free(out);
}

START_TEST(admit_refuses_bodies_when_full)
{
    char *patch = admit_session("");
    admit_fill();
    struct metrics_counters before, after;
    metrics_snapshot(&before);
    admit_refused("PATCH", patch, "foo");
    admit_refused("POST", UPLOADS "?digest=" FOO_DIGEST, "foo");
    admit_refused("PUT", "/v2/repo/manifests/v1", EMPTY_INDEX);
    char *put = xasprintf("%s?digest=" FOO_DIGEST, patch);
    admit_refused("PUT", put, "foo");
    /* a chunked body (no Content-Length) may be anything: refused too */
    char *out = handler_env_send("PATCH", patch, "foo", 3, NULL);
    ck_assert_int_eq(fake_resp_status(out), 429);
    free(out);
    metrics_snapshot(&after);
    ck_assert_uint_eq(after.uploads_refused[METRICS_REFUSED_WORKERS] -
                      before.uploads_refused[METRICS_REFUSED_WORKERS], 5);
    /* nothing reached the store; the session did not move; no session was
     * opened for the refused monolithic POST */
    ck_assert_int_eq(henv.store.calls[FAKE_CHUNK_PUT], 0);
    ck_assert_int_eq(henv.store.calls[FAKE_MANIFEST_PUT], 0);
    ck_assert_int_eq(handler_env_session_files(), 2);
    out = handler_env_expect("GET", patch, NULL, 204, NULL);
    fake_resp_header_is(out, "Range", "0-0");
    free(out);
    free(put);
    free(patch);
}
END_TEST

/* method uri was answered by its handler (the fake store keeps no
 * manifests: a 404 is that answer), not refused. */
static void admit_served(const char *method, const char *uri)
{
    char *out = handler_env_run(method, uri, NULL);
    int st = fake_resp_status(out);
    ck_assert_msg(st != 429 && st < 500, "%s %s: got\n%s", method, uri, out);
    free(out);
}

/* What reads no body is served with every slot held: pulls, HEADs, the
 * POST that opens a session (or mounts), a final PUT with Content-Length:
 * 0, DELETE. */
START_TEST(admit_serves_the_rest_when_full)
{
    char *patch = admit_session("");
    handler_env_check("PATCH", patch, "foo", 202, NULL);
    handler_env_check("PUT", "/v2/repo/manifests/v1", EMPTY_INDEX, 201, NULL);
    admit_fill();
    admit_served("GET", "/v2/repo/manifests/v1");
    admit_served("HEAD", "/v2/repo/manifests/v1");
    admit_served("GET", "/v2/repo/tags/list");
    admit_served("DELETE", "/v2/repo/manifests/v1");
    handler_env_check("GET", "/v2/", NULL, 200, NULL);
    handler_env_check("GET", patch, NULL, 204, NULL);
    char *other = admit_session("");
    handler_env_check("POST", UPLOADS "?mount=" FOO_DIGEST "&from=elsewhere", NULL, 202, NULL);
    char *put = xasprintf("%s?digest=" FOO_DIGEST, patch);
    char *out = handler_env_send("PUT", put, "", 0, "0");
    ck_assert_msg(fake_resp_status(out) == 201, "%s", out);
    free(out);
    handler_env_check("GET", "/v2/repo/blobs/" FOO_DIGEST, NULL, 200, NULL);
    handler_env_check("DELETE", other, NULL, 204, NULL);
    free(put);
    free(other);
    free(patch);
}
END_TEST

/* A slot freed by another worker is usable at once, and the request that
 * took it gives it back when it ends, whatever its answer. */
START_TEST(admit_slot_comes_back)
{
    char *patch = admit_session("");
    admit_fill();
    admit_refused("PATCH", patch, "foo");
    slots_release(&admit_others[0]);
    handler_env_check("PATCH", patch, "foo", 202, NULL);
    ck_assert_int_eq(admit_mine.held, -1);
    /* taken and given back around a failing request too */
    handler_env_check("PUT", "/v2/repo/manifests/v1", "{not json", 400, "MANIFEST_INVALID");
    ck_assert_int_eq(admit_mine.held, -1);
    ck_assert_int_eq(slots_take(&admit_others[0]), SLOTS_TAKEN);
    admit_refused("PATCH", patch, "bar");
    free(patch);
}
END_TEST

/* The worker is told each time a body is about to be read (the master then
 * starts another worker), and only then. */
static int admit_begun;
static void admit_count_begun(void)
{
    admit_begun++;
}

START_TEST(admit_tells_the_worker)
{
    henv.reg.body_begun = admit_count_begun;
    char *patch = admit_session("");
    ck_assert_int_eq(admit_begun, 0);   /* a bodiless POST */
    handler_env_check("PATCH", patch, "foo", 202, NULL);
    ck_assert_int_eq(admit_begun, 1);
    admit_served("GET", "/v2/repo/manifests/v1");
    ck_assert_int_eq(admit_begun, 1);
    admit_fill();
    admit_refused("PATCH", patch, "bar");
    ck_assert_int_eq(admit_begun, 1);
    free(patch);
}
END_TEST

/* Without slots (body_slots NULL: unit tests, --check-config) nothing is
 * limited. */
START_TEST(admit_unlimited_without_slots)
{
    henv.reg.body_slots = NULL;
    admit_fill();
    char *patch = admit_session("");
    handler_env_check("PATCH", patch, "foo", 202, NULL);
    free(patch);
}
END_TEST

Suite *suite_admit(void)
{
    Suite *s = suite_create("admit");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, admit_setup, admit_teardown);
    tcase_add_test(tc, admit_refuses_bodies_when_full);
    tcase_add_test(tc, admit_serves_the_rest_when_full);
    tcase_add_test(tc, admit_slot_comes_back);
    tcase_add_test(tc, admit_tells_the_worker);
    tcase_add_test(tc, admit_unlimited_without_slots);
    suite_add_tcase(s, tc);
    return s;
}
