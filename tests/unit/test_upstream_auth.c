/* upstream_auth: WWW-Authenticate challenges as registries send them
 * (Docker Hub, GHCR, distribution, several at once, quoting), and token
 * endpoint answers; plus the mirror's configuration (conf/conf_mirror.c):
 * defaults, every key, and each refusal with its line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/unit/unit.h"
#include "oci/upstream_auth.h"
#include "conf/conf.h"

START_TEST(ua_challenges)
{
    struct upstream_challenge c;
    ck_assert_int_eq(upstream_challenge_parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                                              "scope=\"repository:library/alpine:pull\"", &c), 0);
    ck_assert_int_eq(c.scheme, UPSTREAM_AUTH_BEARER);
    ck_assert_str_eq(c.realm, "https://auth.docker.io/token");
    ck_assert_str_eq(c.service, "registry.docker.io");
    ck_assert_str_eq(c.scope, "repository:library/alpine:pull");
    upstream_challenge_free(&c);
    /* case, spaces, tokens unquoted, unknown parameters, an escape */
    ck_assert_int_eq(upstream_challenge_parse("bearer  Realm = https://ghcr.io/token , service=ghcr.io, error=\"in\\\"valid\"",
                                              &c), 0);
    ck_assert_str_eq(c.realm, "https://ghcr.io/token");
    ck_assert_str_eq(c.service, "ghcr.io");
    ck_assert_ptr_null(c.scope);
    upstream_challenge_free(&c);
    /* several challenges: Bearer wins over Basic, unknown schemes skipped */
    ck_assert_int_eq(upstream_challenge_parse("Negotiate abc==, Basic realm=\"r\", Bearer realm=\"https://t\"", &c), 0);
    ck_assert_int_eq(c.scheme, UPSTREAM_AUTH_BEARER);
    ck_assert_str_eq(c.realm, "https://t");
    upstream_challenge_free(&c);
    ck_assert_int_eq(upstream_challenge_parse("Basic realm=\"Registry Realm\"", &c), 0);
    ck_assert_int_eq(c.scheme, UPSTREAM_AUTH_BASIC);
    upstream_challenge_free(&c);
    /* nothing we speak, a Bearer without realm, malformed */
    ck_assert_int_eq(upstream_challenge_parse("Negotiate", &c), -1);
    ck_assert_int_eq(upstream_challenge_parse("Bearer service=x", &c), -1);
    ck_assert_int_eq(upstream_challenge_parse("Bearer realm=\"unterminated", &c), -1);
    ck_assert_int_eq(upstream_challenge_parse("", &c), -1);
    ck_assert_int_eq(upstream_challenge_parse("=x", &c), -1);
}
END_TEST

START_TEST(ua_tokens)
{
    char *t = NULL, *err = NULL;
    long exp = 0;
    ck_assert_int_eq(upstream_token_parse("{\"token\":\"abc\",\"expires_in\":300}", 33, &t, &exp, &err), 0);
    ck_assert_str_eq(t, "abc");
    ck_assert_int_eq(exp, 300);
    free(t);
    const char *j = "{\"access_token\":\"xyz\"}";
    ck_assert_int_eq(upstream_token_parse(j, strlen(j), &t, &exp, &err), 0);
    ck_assert_str_eq(t, "xyz");
    ck_assert_int_eq(exp, 60);   /* the spec's default */
    free(t);
    j = "{\"token\":\"a\",\"expires_in\":-5}";
    ck_assert_int_eq(upstream_token_parse(j, strlen(j), &t, &exp, &err), 0);
    ck_assert_int_eq(exp, 1);
    free(t);
    const char *bad[] = { "{}", "[1]", "{\"token\":\"\"}", "{\"token\":\"a\\nb\"}", "{\"token\":7}", "not json" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(upstream_token_parse(bad[i], strlen(bad[i]), &t, &exp, &err) == -1, "%s", bad[i]);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_null(t);
        free(err);
        err = NULL;
    }
}
END_TEST

/* ---- the mirror's configuration ---- */

static char *mir_load(const char *text, struct config *c)
{
    char path[64], *err = NULL;
    snprintf(path, sizeof path, "/tmp/test-mirror-%ld.conf", (long)getpid());
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    int rc = config_load(path, c, &err);
    unlink(path);
    ck_assert_int_eq(rc == 0, err == NULL);
    return err;
}

START_TEST(mirror_config)
{
    struct config c;
    char *err = mir_load("mirror = ( { ns = \"docker.io\"; url = \"https://registry-1.docker.io/\"; default = true; },\n"
                         "  { ns = \"127.0.0.1:5000\"; url = \"http://127.0.0.1:5000\"; prefix = \"local/up\";\n"
                         "    username = \"u\"; password = \"p\"; freshness = 10; } );\n"
                         "mirror_timeout_ms = 1500; mirror_stall_s = 5; mirror_writable = true;\n", &c);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_uint_eq(c.n_mirror, 2);
    ck_assert_str_eq(c.mirror[0].url, "https://registry-1.docker.io");   /* trailing '/' gone */
    ck_assert_str_eq(c.mirror[0].prefix, "docker.io");                  /* the ns by default */
    ck_assert_int_eq(c.mirror[0].freshness, 300);
    ck_assert_int_eq(c.mirror[0].is_default, 1);
    ck_assert_ptr_null(c.mirror[0].username);
    ck_assert_str_eq(c.mirror[1].prefix, "local/up");
    ck_assert_str_eq(c.mirror[1].password, "p");
    ck_assert_int_eq(c.mirror[1].freshness, 10);
    ck_assert_int_eq(c.mirror_timeout_ms, 1500);
    ck_assert_int_eq(c.mirror_stall_s, 5);
    ck_assert_int_eq(c.mirror_writable, 1);
    config_free(&c);
    /* defaults: no mirror */
    err = mir_load("workers = 2;\n", &c);
    ck_assert_uint_eq(c.n_mirror, 0);
    ck_assert_int_eq(c.mirror_timeout_ms, 3000);
    ck_assert_int_eq(c.mirror_stall_s, 30);
    config_free(&c);
    /* a port in the ns becomes '-' in the default prefix */
    err = mir_load("mirror = ( { ns = \"Reg.Example:5000\"; url = \"http://r:5000\"; } );\n", &c);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_str_eq(c.mirror[0].prefix, "reg.example-5000");
    config_free(&c);
}
END_TEST

static void mirror_refused(const char *text, const char *words)
{
    struct config c;
    char *err = mir_load(text, &c);
    ck_assert_msg(err && strstr(err, words), "%s: got \"%s\", want \"%s\"", text, err ? err : "(none)", words);
    free(err);
    config_free(&c);
}

START_TEST(mirror_config_refusals)
{
    mirror_refused("mirror = ( { ns = \"d\"; url = \"ftp://x\"; } );", "must be an http:// or https:// URL");
    mirror_refused("mirror = ( { ns = \"d\"; url = \"http://x/v2\"; } );", "must not have a path");
    mirror_refused("mirror = ( { ns = \"a b\"; url = \"http://x\"; } );", "must be a registry host");
    mirror_refused("mirror = ( { ns = \"d:x\"; url = \"http://x\"; } );", "the port is digits");
    mirror_refused("mirror = ( { url = \"http://x\"; } );", "an upstream needs ns and url");
    mirror_refused("mirror = ( { ns = \"d\"; url = \"http://x\"; prefix = \"ipfs/x\"; } );", "must not start with ipfs");
    mirror_refused("mirror = ( { ns = \"d\"; url = \"http://x\"; prefix = \"Up\"; } );", "must be a valid repository name");
    mirror_refused("mirror = ( { ns = \"d\"; url = \"http://x\"; username = \"u\"; } );", "go together");
    mirror_refused("mirror = ( { ns = \"d\"; url = \"http://x\"; freshness = -1; } );", "freshness: must be");
    mirror_refused("mirror = ( { ns = \"d\"; url = \"http://x\"; color = 1; } );", "unknown setting of an upstream");
    mirror_refused("mirror = ( { ns = \"d\"; url = \"http://x\"; }, { ns = \"D\"; url = \"http://y\"; prefix = \"e\"; } );",
                   "is named twice");
    mirror_refused("mirror = ( { ns = \"d\"; url = \"http://x\"; prefix = \"a\"; }, { ns = \"e\"; url = \"http://y\"; prefix = \"a/b\"; } );",
                   "overlaps");
    mirror_refused("mirror = ( { ns = \"d\"; url = \"http://x\"; default = true; }, { ns = \"e\"; url = \"http://y\"; default = true; } );",
                   "at most one upstream may be the default");
    mirror_refused("mirror = { ns = \"d\"; };", "must be a list of upstreams");
    mirror_refused("mirror_timeout_ms = 50;", "mirror_timeout_ms: must be 100..600000");
    mirror_refused("mirror_stall_s = 0;", "mirror_stall_s: must be 1..3600");
}
END_TEST

Suite *suite_upstream_auth(void)
{
    Suite *s = suite_create("upstream_auth");
    TCase *tc = tcase_create("upstream_auth");
    tcase_add_test(tc, ua_challenges);
    tcase_add_test(tc, ua_tokens);
    tcase_add_test(tc, mirror_config);
    tcase_add_test(tc, mirror_config_refusals);
    suite_add_tcase(s, tc);
    return s;
}
