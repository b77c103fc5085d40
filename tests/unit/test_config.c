/* config: defaults, every key, list and string forms, environment overrides
 * and error messages with file and line, one line per error, every error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/unit/unit.h"
#include "conf/conf.h"
#include "core/xalloc.h"

static char cfg_path[64];

static void cfg_setup(void)
{
    unsetenv("REGISTRY_STORAGE_IPFS_IPFSAPIADDRESS");
    unsetenv("REGISTRY_STORAGE_IPFS_WRITEIPNSKEY");
    unsetenv("REGISTRY_STORAGE_IPFS_READONLYIPNSKEYS");
    snprintf(cfg_path, sizeof cfg_path, "/tmp/test-config-%ld.conf", (long)getpid());
}

static void cfg_teardown(void)
{
    unlink(cfg_path);
}

static void cfg_write(const char *text)
{
    FILE *f = fopen(cfg_path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Loads text; returns the error line (caller frees) or NULL on success. */
static char *cfg_load_text(const char *text, struct config *c)
{
    cfg_write(text);
    char *err = NULL;
    int rc = config_load(cfg_path, c, &err);
    if (rc == 0) {
        ck_assert_ptr_null(err);
        return NULL;
    }
    ck_assert_ptr_nonnull(err);
    return err;
}

/* Expects text to fail with "<file>:<line>: <rest>". */
static void cfg_expect_error(const char *text, int line, const char *rest)
{
    struct config c;
    char *err = cfg_load_text(text, &c);
    ck_assert_msg(err != NULL, "no error for: %s", text);
    char *want = xasprintf("%s:%d: %s", cfg_path, line, rest);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got \"%s\", want prefix \"%s\"", err, want);
    ck_assert_ptr_null(strchr(err, '\n'));   /* one line */
    free(want);
    free(err);
    config_free(&c);
}

START_TEST(config_defaults)
{
    struct config c;
    char *err = NULL;
    ck_assert_int_eq(config_load(NULL, &c, &err), 0);
    ck_assert_ptr_null(c.file);
    ck_assert_str_eq(c.ipfsapiaddress, "/ip4/127.0.0.1/tcp/5001");
    ck_assert_str_eq(c.ipfsgatewayaddress, "http://127.0.0.1:8080");
    ck_assert_ptr_null(c.writeipnskey);
    ck_assert_uint_eq(c.n_readonlyipnskeys, 0);
    ck_assert_str_eq(c.mfsroot, "/oci-registry-p2p");
    ck_assert_str_eq(c.statedir, LOCALSTATEDIR "/lib/oci-registry-p2p");
    ck_assert_int_eq(c.readonly, 0);
    ck_assert_int_eq(c.require_remote_user, 0);
    ck_assert_int_eq(c.allow_sparse, 0);
    ck_assert_uint_eq(c.max_manifest_size, 4194304);
    ck_assert_int_eq(c.upload_expiry, 86400);
    ck_assert_uint_eq(c.metadata_cache_mb, 32);
    ck_assert_int_eq(c.workers, 16);
    ck_assert_uint_eq(c.max_upload_sessions, 10000);
    /* unset: twice the workers */
    ck_assert_int_eq(c.upload_workers, 0);
    ck_assert_int_eq(config_upload_workers(&c), 32);
    ck_assert_ptr_null(c.listen);
    ck_assert_int_eq(c.listen_mode, 0660);
    ck_assert_int_eq(c.shutdown_timeout, 0);
    ck_assert_int_eq(c.log_level, LOG_LVL_INFO);
    config_free(&c);
    /* an empty file is all defaults too */
    ck_assert_ptr_null(cfg_load_text("# nothing\n", &c));
    ck_assert_str_eq(c.file, cfg_path);
    ck_assert_int_eq(c.workers, 16);
    config_free(&c);
}
END_TEST

START_TEST(config_every_key)
{
    struct config c;
    char *err = cfg_load_text(
        "ipfsapiaddress = \"/ip4/10.0.0.1/tcp/5002\";\n"
        "ipfsgatewayaddress = \"http://gw.example:8081/\";\n"
        "writeipnskey = \"registry-key\";\n"
        "readonlyipnskeys = [\"k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8\", \"example.org\"];\n"
        "mfsroot = \"/my/registry\";\n"
        "statedir = \"/srv/state/\";\n"
        "readonly = true;\n"
        "require_remote_user = true;\n"
        "allow_sparse = true;\n"
        "max_manifest_size = 8388608;\n"
        "upload_expiry = 3600;\n"
        "max_upload_sessions = 50;\n"
        "metadata_cache_mb = 0;\n"
        "workers = 4;\n"
        "upload_workers = 2;\n"
        "listen = \"/run/oci.sock\";\n"
        "listen_mode = \"0600\";\n"
        "shutdown_timeout = 30;\n"
        "log_level = \"debug\";\n", &c);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_str_eq(c.ipfsapiaddress, "/ip4/10.0.0.1/tcp/5002");
    ck_assert_str_eq(c.ipfsgatewayaddress, "http://gw.example:8081");
    ck_assert_str_eq(c.writeipnskey, "registry-key");
    ck_assert_uint_eq(c.n_readonlyipnskeys, 2);
    ck_assert_str_eq(c.readonlyipnskeys[1], "example.org");
    ck_assert_str_eq(c.mfsroot, "/my/registry");
    ck_assert_str_eq(c.statedir, "/srv/state");
    ck_assert_int_eq(c.readonly, 1);
    ck_assert_int_eq(c.require_remote_user, 1);
    ck_assert_int_eq(c.allow_sparse, 1);
    ck_assert_uint_eq(c.max_manifest_size, 8388608);
    ck_assert_int_eq(c.upload_expiry, 3600);
    ck_assert_uint_eq(c.max_upload_sessions, 50);
    ck_assert_uint_eq(c.metadata_cache_mb, 0);
    ck_assert_int_eq(c.workers, 4);
    ck_assert_int_eq(c.upload_workers, 2);
    ck_assert_int_eq(config_upload_workers(&c), 2);
    ck_assert_str_eq(c.listen, "/run/oci.sock");
    ck_assert_int_eq(c.listen_mode, 0600);
    ck_assert_int_eq(c.shutdown_timeout, 30);
    ck_assert_int_eq(c.log_level, LOG_LVL_DEBUG);
    config_free(&c);
}
END_TEST

START_TEST(config_forms)
{
    struct config c;
    /* upload_workers: as set (workers of their own, so it may exceed
     * workers); unset, twice workers, at most 1024 */
    ck_assert_ptr_null(cfg_load_text("workers = 4;\nupload_workers = 8;\n", &c));
    ck_assert_int_eq(config_upload_workers(&c), 8);
    config_free(&c);
    const int workers[][2] = { { 1, 2 }, { 3, 6 }, { 16, 32 }, { 600, 1024 }, { 1024, 1024 } };
    for (size_t i = 0; i < sizeof workers / sizeof workers[0]; i++) {
        char text[32];
        snprintf(text, sizeof text, "workers = %d;\n", workers[i][0]);
        ck_assert_ptr_null(cfg_load_text(text, &c));
        ck_assert_int_eq(config_upload_workers(&c), workers[i][1]);
        config_free(&c);
    }
    /* list form with parentheses, and the comma-separated string form */
    ck_assert_ptr_null(cfg_load_text("readonlyipnskeys = (\"a\", \"b.c\");\n", &c));
    ck_assert_uint_eq(c.n_readonlyipnskeys, 2);
    ck_assert_str_eq(c.readonlyipnskeys[0], "a");
    config_free(&c);
    ck_assert_ptr_null(cfg_load_text("readonlyipnskeys = \" a, b.c ,d-e,\"\n", &c));
    ck_assert_uint_eq(c.n_readonlyipnskeys, 3);
    ck_assert_str_eq(c.readonlyipnskeys[0], "a");
    ck_assert_str_eq(c.readonlyipnskeys[1], "b.c");
    ck_assert_str_eq(c.readonlyipnskeys[2], "d-e");
    config_free(&c);
    ck_assert_ptr_null(cfg_load_text("readonlyipnskeys = [];\nlisten_mode = 0x1B0;\n", &c));
    ck_assert_uint_eq(c.n_readonlyipnskeys, 0);
    ck_assert_int_eq(c.listen_mode, 0660);
    config_free(&c);
    /* listen forms; libconfig's "key: value" syntax without ';' */
    ck_assert_ptr_null(cfg_load_text("listen: \"127.0.0.1:9000\"\n", &c));
    ck_assert_str_eq(c.listen, "127.0.0.1:9000");
    config_free(&c);
    ck_assert_ptr_null(cfg_load_text("listen = \"[::1]:9000\";\n", &c));
    ck_assert_str_eq(c.listen, "[::1]:9000");
    config_free(&c);
    ck_assert_ptr_null(cfg_load_text("ipfsapiaddress = \"/unix/run/kubo.sock\";\nmax_manifest_size = 1024L;\n",
                                     &c));
    ck_assert_uint_eq(c.max_manifest_size, 1024);
    config_free(&c);
}
END_TEST

START_TEST(config_errors)
{
    cfg_expect_error("workers = 4;\nworker = 5;\n", 2, "worker: unknown setting");
    cfg_expect_error("\n\nworkers = 0;\n", 3, "workers: must be 1..1024");
    cfg_expect_error("workers = 1025;\n", 1, "workers: must be 1..1024");
    cfg_expect_error("metadata_cache_mb = 4097;\n", 1, "metadata_cache_mb: must be 0..4096");
    cfg_expect_error("workers = \"4\";\n", 1, "workers: must be an integer");
    cfg_expect_error("workers = 4\nreadonly = 1;\n", 2, "readonly: must be true or false");
    cfg_expect_error("allow_sparse = \"yes\";\n", 1, "allow_sparse: must be true or false");
    cfg_expect_error("max_manifest_size = 1023;\n", 1, "max_manifest_size: must be 1024..67108864");
    cfg_expect_error("max_manifest_size = 67108865;\n", 1, "max_manifest_size: must be");
    cfg_expect_error("upload_expiry = 9;\n", 1, "upload_expiry: must be at least 10");
    cfg_expect_error("max_upload_sessions = 0;\n", 1, "max_upload_sessions: must be 1..10000000");
    cfg_expect_error("upload_workers = 0;\n", 1, "upload_workers: must be 1..1024");
    cfg_expect_error("shutdown_timeout = -1;\n", 1, "shutdown_timeout:");
    cfg_expect_error("log_level = \"verbose\";\n", 1, "log_level: must be one of");
    cfg_expect_error("mfsroot = \"/\";\n", 1, "mfsroot:");
    cfg_expect_error("mfsroot = \"relative\";\n", 1, "mfsroot:");
    cfg_expect_error("mfsroot = \"/a/\";\n", 1, "mfsroot:");
    cfg_expect_error("mfsroot = \"/a/../b\";\n", 1, "mfsroot:");
    cfg_expect_error("mfsroot = \"/a//b\";\n", 1, "mfsroot:");
    cfg_expect_error("statedir = \"var/lib\";\n", 1, "statedir: must be an absolute");
    cfg_expect_error("ipfsgatewayaddress = \"https://x\";\n", 1, "ipfsgatewayaddress: must be an http:// URL");
    cfg_expect_error("ipfsgatewayaddress = \"http://\";\n", 1, "ipfsgatewayaddress:");
    cfg_expect_error("ipfsapiaddress = \"/ip4/1.2.3.4/udp/5\";\n", 1, "ipfsapiaddress: invalid API address");
    cfg_expect_error("ipfsapiaddress = 5001;\n", 1, "ipfsapiaddress: must be a string");
    cfg_expect_error("writeipnskey = \"a b\";\n", 1, "writeipnskey:");
    cfg_expect_error("readonlyipnskeys = [\"ok\",\n \"bad/key\"];\n", 2, "readonlyipnskeys:");
    cfg_expect_error("readonlyipnskeys = \"a,b c\";\n", 1, "readonlyipnskeys:");
    cfg_expect_error("readonlyipnskeys = 5;\n", 1, "readonlyipnskeys: must be a list");
    cfg_expect_error("listen = \"nohostport\";\n", 1, "listen:");
    cfg_expect_error("listen = \"host:0\";\n", 1, "listen:");
    cfg_expect_error("listen = \"host:65536\";\n", 1, "listen:");
    cfg_expect_error("listen = \"::1:80\";\n", 1, "listen:");
    cfg_expect_error("listen_mode = 0660;\n", 1, "listen_mode: must be an octal mode written as a string");
    cfg_expect_error("listen_mode = \"0980\";\n", 1, "listen_mode:");
    cfg_expect_error("log = { level = \"x\"; };\n", 1, "log: unknown setting");
    /* syntax errors and duplicates come from libconfig, with their line */
    cfg_expect_error("workers = 4;\nreadonly = ;\n", 2, "syntax error");
    cfg_expect_error("workers = 4;\nworkers = 5;\n", 2, "duplicate setting name");
}
END_TEST

/* Validation goes on past a bad setting: an unknown key, a wrong type, an
 * out-of-range value and two exclusive settings are all reported, in file
 * order, one line each with its line number, in the usual wording. */
START_TEST(config_every_error)
{
    struct config c;
    char *err = cfg_load_text("workers = 4;\n"
                              "worker = 5;\n"
                              "readonly = \"yes\";\n"
                              "mfsroot = \"/ok\";\n"
                              "upload_expiry = 9;\n"
                              "accel_redirect = \"/_b/\";\n"
                              "blob_redirect = \"https://gw/{cid}\";\n", &c);
    ck_assert_ptr_nonnull(err);
    char *want = xasprintf("%1$s:2: worker: unknown setting\n"
                           "%1$s:3: readonly: must be true or false, not a string\n"
                           "%1$s:5: upload_expiry: must be at least 10 (got 9)\n"
                           "%1$s:7: blob_redirect: accel_redirect and blob_redirect are exclusive; set one",
                           cfg_path);
    ck_assert_str_eq(err, want);
    /* the good settings around the bad ones were still read */
    ck_assert_int_eq(c.workers, 4);
    ck_assert_str_eq(c.mfsroot, "/ok");
    free(want);
    free(err);
    config_free(&c);

    /* a syntax error stops libconfig: it is the one error, with its line */
    err = cfg_load_text("worker = 5;\nreadonly = ;\nworkers = 0;\n", &c);
    want = xasprintf("%s:2: syntax error", cfg_path);
    ck_assert_str_eq(err, want);
    free(want);
    free(err);
    config_free(&c);

    /* the environment's errors come after the file's */
    setenv("REGISTRY_STORAGE_IPFS_WRITEIPNSKEY", "not a key", 1);
    err = cfg_load_text("workers = 0;\n", &c);
    want = xasprintf("%s:1: workers: must be 1..1024 (got 0)\n"
                     "environment: REGISTRY_STORAGE_IPFS_WRITEIPNSKEY: \"not a key\" is not a key name", cfg_path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got \"%s\"", err);
    unsetenv("REGISTRY_STORAGE_IPFS_WRITEIPNSKEY");
    free(want);
    free(err);
    config_free(&c);
}
END_TEST

/* A file of nothing but errors gives a bounded report. */
START_TEST(config_error_cap)
{
    struct config c;
    char *text = xstrdup("");
    for (int i = 0; i < 60; i++) {
        char *more = xasprintf("%sbad%d = 1;\n", text, i);
        free(text);
        text = more;
    }
    char *err = cfg_load_text(text, &c);
    size_t lines = 1;
    for (const char *p = err; *p; p++)
        lines += *p == '\n';
    ck_assert_uint_eq(lines, 51);   /* 50 errors and a count of the rest */
    ck_assert_ptr_nonnull(strstr(err, ":50: bad49: unknown setting\n... and 10 more errors"));
    ck_assert_ptr_null(strstr(err, "bad50"));
    free(err);
    free(text);
    config_free(&c);
}
END_TEST

/* A value quoted in an error may hold any byte libconfig takes in a string,
 * newlines too (found by tests/fuzz/fuzz_config): the message stays one
 * line, so a log or journal shows one start-up error and nothing that looks
 * like another line. */
START_TEST(config_errors_one_line)
{
    cfg_expect_error("writeipnskey = \"se\nworkers = 5;\n\";\n", 1, "writeipnskey: \"se workers = 5; \"");
    cfg_expect_error("log_level = \"a\r\x1b[31mb\";\n", 1, "log_level: must be one of");

    struct config c;
    char *err = NULL;
    setenv("REGISTRY_STORAGE_IPFS_WRITEIPNSKEY", "a\nb", 1);
    ck_assert_int_eq(config_load(NULL, &c, &err), -1);
    ck_assert_ptr_null(strpbrk(err, "\r\n"));
    free(err);
    config_free(&c);
    unsetenv("REGISTRY_STORAGE_IPFS_WRITEIPNSKEY");
}
END_TEST

START_TEST(config_missing_file)
{
    struct config c;
    char *err = NULL;
    ck_assert_int_eq(config_load("/nonexistent/oci.conf", &c, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/oci.conf: cannot open: "));
    free(err);
    config_free(&c);
}
END_TEST

START_TEST(config_env_overrides)
{
    struct config c;
    setenv("REGISTRY_STORAGE_IPFS_IPFSAPIADDRESS", "/ip4/127.0.0.1/tcp/6001", 1);
    setenv("REGISTRY_STORAGE_IPFS_WRITEIPNSKEY", "envkey", 1);
    setenv("REGISTRY_STORAGE_IPFS_READONLYIPNSKEYS", "x,y.example", 1);
    char *err = cfg_load_text("ipfsapiaddress = \"/ip4/10.0.0.1/tcp/5001\";\nwriteipnskey = \"filekey\";\n"
                              "readonlyipnskeys = [\"z\"];\n", &c);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_str_eq(c.ipfsapiaddress, "/ip4/127.0.0.1/tcp/6001");   /* environment wins */
    ck_assert_str_eq(c.writeipnskey, "envkey");
    ck_assert_uint_eq(c.n_readonlyipnskeys, 2);
    ck_assert_str_eq(c.readonlyipnskeys[0], "x");
    ck_assert_str_eq(c.readonlyipnskeys[1], "y.example");
    config_free(&c);

    /* without a file too; an empty WRITEIPNSKEY turns publishing off */
    setenv("REGISTRY_STORAGE_IPFS_WRITEIPNSKEY", "", 1);
    ck_assert_int_eq(config_load(NULL, &c, &err), 0);
    ck_assert_ptr_null(c.writeipnskey);
    config_free(&c);

    setenv("REGISTRY_STORAGE_IPFS_IPFSAPIADDRESS", "/bogus", 1);
    ck_assert_int_eq(config_load(NULL, &c, &err), -1);
    ck_assert_msg(strncmp(err, "environment: REGISTRY_STORAGE_IPFS_IPFSAPIADDRESS: ", 51) == 0, "%s", err);
    free(err);
    config_free(&c);
    unsetenv("REGISTRY_STORAGE_IPFS_IPFSAPIADDRESS");

    setenv("REGISTRY_STORAGE_IPFS_READONLYIPNSKEYS", "ok,not ok", 1);
    ck_assert_int_eq(config_load(NULL, &c, &err), -1);
    ck_assert_msg(strncmp(err, "environment: REGISTRY_STORAGE_IPFS_READONLYIPNSKEYS: ", 53) == 0, "%s", err);
    free(err);
    config_free(&c);
}
END_TEST

START_TEST(config_dump_roundtrip)
{
    struct config c;
    char *err = cfg_load_text("writeipnskey = \"k\";\nreadonlyipnskeys = [\"a\", \"b\"];\nworkers = 3;\n"
                              "listen = \"/run/x.sock\";\nlisten_mode = \"0666\";\nlog_level = \"warn\";\n", &c);
    ck_assert_msg(err == NULL, "%s", err);
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    config_dump(&c, m);
    fclose(m);
    ck_assert_ptr_nonnull(strstr(text, "workers = 3;\n"));
    ck_assert_ptr_nonnull(strstr(text, "readonlyipnskeys = [\"a\", \"b\"];\n"));
    ck_assert_ptr_nonnull(strstr(text, "listen_mode = \"0666\";\n"));
    config_free(&c);
    /* the dump is itself a valid configuration with the same values */
    err = cfg_load_text(text, &c);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_int_eq(c.workers, 3);
    ck_assert_str_eq(c.writeipnskey, "k");
    ck_assert_int_eq(c.listen_mode, 0666);
    ck_assert_int_eq(c.log_level, LOG_LVL_WARN);
    ck_assert_uint_eq(c.n_readonlyipnskeys, 2);
    config_free(&c);
    free(text);
}
END_TEST

START_TEST(config_example_file)
{
    /* the shipped example loads and gives the defaults */
    const char *srcdir = getenv("srcdir");
    char *path = xasprintf("%s/conf/oci-registry-p2p.conf", srcdir ? srcdir : ".");
    if (access(path, R_OK) != 0) {
        /* run by hand: find the tree from this file's compiled-in path */
        free(path);
        const char *me = __FILE__;
        const char *tail = strstr(me, "tests/unit/test_config.c");
        path = xasprintf("%.*sconf/oci-registry-p2p.conf", tail ? (int)(tail - me) : 0, me);
    }
    struct config c;
    char *err = NULL;
    ck_assert_msg(config_load(path, &c, &err) == 0, "%s", err);
    ck_assert_int_eq(c.workers, 16);
    ck_assert_str_eq(c.mfsroot, "/oci-registry-p2p");
    config_free(&c);
    free(path);
}
END_TEST

/* The publisher and mirror settings: defaults, every form, every refusal. */
START_TEST(config_p2p_keys)
{
    struct config c;
    char *err = cfg_load_text("", &c);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(c.publish_quiet_ms, 300);
    ck_assert_int_eq(c.publish_max_interval_ms, 3000);
    ck_assert_str_eq(c.ipns_lifetime, "48h");
    ck_assert_str_eq(c.ipns_ttl, "1m");
    ck_assert_int_eq(c.ipnsrefresh, 5);
    ck_assert_int_eq(c.publish_allow_offline, 0);
    ck_assert_int_eq(c.pinreadonly, 0);
    ck_assert_int_eq(c.other_writer_overwrite, 0);
    config_free(&c);
    err = cfg_load_text("publish_quiet_ms = 0;\npublish_max_interval_ms = 100;\nipns_lifetime = \"1h30m\";\n"
                        "ipns_ttl = \"500ms\";\nipnsrefresh = 1;\npublish_allow_offline = true;\n"
                        "pinreadonly = true;\nother_writer = \"overwrite\";\n", &c);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(c.publish_quiet_ms, 0);
    ck_assert_int_eq(c.publish_max_interval_ms, 100);
    ck_assert_str_eq(c.ipns_lifetime, "1h30m");
    ck_assert_str_eq(c.ipns_ttl, "500ms");
    ck_assert_int_eq(c.ipnsrefresh, 1);
    ck_assert_int_eq(c.publish_allow_offline, 1);
    ck_assert_int_eq(c.pinreadonly, 1);
    ck_assert_int_eq(c.other_writer_overwrite, 1);
    config_free(&c);
    cfg_expect_error("publish_quiet_ms = 60001;\n", 1, "publish_quiet_ms: must be 0..60000");
    cfg_expect_error("publish_max_interval_ms = 99;\n", 1, "publish_max_interval_ms:");
    cfg_expect_error("ipns_lifetime = \"48\";\n", 1, "ipns_lifetime: must be a duration");
    cfg_expect_error("ipns_ttl = \"1d\";\n", 1, "ipns_ttl: must be a duration");
    cfg_expect_error("ipns_ttl = \"\";\n", 1, "ipns_ttl: must be a duration");
    cfg_expect_error("ipnsrefresh = 0;\n", 1, "ipnsrefresh: must be 1..86400");
    cfg_expect_error("pinreadonly = 1;\n", 1, "pinreadonly: must be true or false");
    cfg_expect_error("other_writer = \"ignore\";\n", 1, "other_writer: must be \"refuse\" or \"overwrite\"");
}
END_TEST

/* Blob offload: off by default, each form accepted, every refusal. */
START_TEST(config_offload_keys)
{
    struct config c;
    char *err = cfg_load_text("", &c);
    ck_assert_ptr_null(err);
    ck_assert_ptr_null(c.accel_redirect);
    ck_assert_ptr_null(c.blob_redirect);
    config_free(&c);
    err = cfg_load_text("accel_redirect = \"/_oci_p2p_blob/\";\n", &c);
    ck_assert_ptr_null(err);
    ck_assert_str_eq(c.accel_redirect, "/_oci_p2p_blob/");
    config_free(&c);
    err = cfg_load_text("blob_redirect = \"https://gw.example/ipfs/{cid}?x=1\";\n", &c);
    ck_assert_ptr_null(err);
    ck_assert_str_eq(c.blob_redirect, "https://gw.example/ipfs/{cid}?x=1");
    config_free(&c);
    /* "" switches it off, so it can be set and unset with the other one */
    err = cfg_load_text("accel_redirect = \"\";\nblob_redirect = \"http://127.0.0.1:8080/ipfs/{cid}\";\n", &c);
    ck_assert_ptr_null(err);
    ck_assert_ptr_null(c.accel_redirect);
    ck_assert_str_eq(c.blob_redirect, "http://127.0.0.1:8080/ipfs/{cid}");
    config_free(&c);
    cfg_expect_error("accel_redirect = \"/_blob\";\n", 1, "accel_redirect: must be the front server's internal location");
    cfg_expect_error("accel_redirect = \"_blob/\";\n", 1, "accel_redirect:");
    cfg_expect_error("accel_redirect = \"/v2/blob/\";\n", 1, "accel_redirect:");
    cfg_expect_error("accel_redirect = \"/a b/\";\n", 1, "accel_redirect:");
    cfg_expect_error("accel_redirect = \"/a?b/\";\n", 1, "accel_redirect:");
    cfg_expect_error("blob_redirect = \"https://gw.example/ipfs/\";\n", 1, "blob_redirect: must be an http:// or https:// URL with {cid} once");
    cfg_expect_error("blob_redirect = \"ftp://gw/{cid}\";\n", 1, "blob_redirect:");
    cfg_expect_error("blob_redirect = \"https://gw/{cid}/{cid}\";\n", 1, "blob_redirect:");
    cfg_expect_error("blob_redirect = \"https://gw/{cid} x\";\n", 1, "blob_redirect:");
    cfg_expect_error("accel_redirect = \"/_b/\";\nblob_redirect = \"https://gw/{cid}\";\n", 2,
                     "blob_redirect: accel_redirect and blob_redirect are exclusive");
}
END_TEST

/* Blob files: off by default; blobdir absolute; the two ways to have the
 * front server send them are exclusive and need blobdir. */
START_TEST(config_blobfile_keys)
{
    struct config c;
    char *err = cfg_load_text("", &c);
    ck_assert_ptr_null(err);
    ck_assert_ptr_null(c.blobdir);
    ck_assert_ptr_null(c.blobfile_accel);
    ck_assert_int_eq(c.blobfile_sendfile, 0);
    config_free(&c);
    err = cfg_load_text("blobdir = \"/srv/ipfs/blobs//\";\nblobfile_accel_redirect = \"/_oci_p2p_file/\";\n", &c);
    ck_assert_ptr_null(err);
    ck_assert_str_eq(c.blobdir, "/srv/ipfs/blobs");
    ck_assert_str_eq(c.blobfile_accel, "/_oci_p2p_file/");
    config_free(&c);
    err = cfg_load_text("blobdir = \"/srv/ipfs/blobs\";\nblobfile_sendfile = true;\nblobfiles = \"required\";\n", &c);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(c.blobfile_sendfile, 1);
    ck_assert_int_eq(c.blobfiles_required, 1);
    config_free(&c);
    cfg_expect_error("blobdir = \"blobs\";\n", 1, "blobdir: must be an absolute directory path");
    cfg_expect_error("blobfiles = \"yes\";\n", 1, "blobfiles: must be \"auto\" or \"required\"");
    cfg_expect_error("blobdir = \"/\";\n", 1, "blobdir: must be an absolute directory path");
    cfg_expect_error("blobdir = \"/b\";\nblobfile_accel_redirect = \"/v2/f/\";\n", 2,
                     "blobfile_accel_redirect: must be the front server's internal location");
    cfg_expect_error("blobdir = \"/b\";\nblobfile_accel_redirect = \"/_f/\";\nblobfile_sendfile = true;\n", 3,
                     "blobfile_sendfile: blobfile_accel_redirect and blobfile_sendfile are exclusive");
    err = cfg_load_text("blobfile_sendfile = true;\n", &c);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "blobfile_sendfile needs blobdir"));
    free(err);
    config_free(&c);
}
END_TEST

/* The web view: off by default; its gateway URL is printed into pages, so
 * only a plain http(s) base is taken. */
START_TEST(config_ui_keys)
{
    struct config c;
    char *err = cfg_load_text("", &c);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(c.ui, 0);
    ck_assert_ptr_null(c.ui_gateway_url);
    config_free(&c);
    err = cfg_load_text("ui = true;\nui_gateway_url = \"https://gw.example:8443\";\n", &c);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(c.ui, 1);
    ck_assert_str_eq(c.ui_gateway_url, "https://gw.example:8443");
    config_free(&c);
    err = cfg_load_text("ui_gateway_url = \"\";\n", &c);
    ck_assert_ptr_null(err);
    ck_assert_ptr_null(c.ui_gateway_url);
    config_free(&c);
    cfg_expect_error("ui_gateway_url = \"javascript:alert(1)\";\n", 1, "ui_gateway_url: must be an http:// or https:// URL");
    cfg_expect_error("ui_gateway_url = \"https://gw.example/\";\n", 1, "ui_gateway_url:");
    cfg_expect_error("ui_gateway_url = \"https://gw.example/\\\"><x\";\n", 1, "ui_gateway_url:");
    cfg_expect_error("ui_gateway_url = \"https://gw.example?a=1\";\n", 1, "ui_gateway_url:");
    cfg_expect_error("ui = \"yes\";\n", 1, "ui:");
}
END_TEST

Suite *suite_config(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
    tcase_add_test(tc, config_defaults);
    tcase_add_test(tc, config_every_key);
    tcase_add_test(tc, config_forms);
    tcase_add_test(tc, config_errors);
    tcase_add_test(tc, config_every_error);
    tcase_add_test(tc, config_error_cap);
    tcase_add_test(tc, config_errors_one_line);
    tcase_add_test(tc, config_missing_file);
    tcase_add_test(tc, config_env_overrides);
    tcase_add_test(tc, config_dump_roundtrip);
    tcase_add_test(tc, config_example_file);
    tcase_add_test(tc, config_p2p_keys);
    tcase_add_test(tc, config_offload_keys);
    tcase_add_test(tc, config_blobfile_keys);
    tcase_add_test(tc, config_ui_keys);
    suite_add_tcase(s, tc);
    return s;
}
