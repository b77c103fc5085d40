/* handler_env: a registry over the fake store and the fake edge, with a
 * temporary statedir (see handler_env.h). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>
#include "tests/unit/handler_env.h"
#include "core/xalloc.h"

#define HANDLER_ENV_EXPIRY 3600             /* no session expires during a test */
#define HANDLER_ENV_MANIFEST_MAX (4u << 20) /* the spec's minimum */

struct handler_env henv;

void handler_env_setup(void)
{
    struct registry_opts opts = { .upload_expiry = HANDLER_ENV_EXPIRY,
                                  .max_manifest_size = HANDLER_ENV_MANIFEST_MAX };
    memset(&henv, 0, sizeof henv);
    snprintf(henv.statedir, sizeof henv.statedir, "/tmp/test-handlers-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(henv.statedir));
    opts.statedir = henv.statedir;
    fake_store_init(&henv.store);
    registry_init(&henv.reg, &opts, &henv.store.base);
    fake_edge_init(&henv.edge);
}

/* Calls fn on the path of every file in <statedir>/uploads; returns how many. */
static int handler_env_each_session_file(int (*fn)(const char *))
{
    char *dir = xasprintf("%s/uploads", henv.statedir);
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    while (d && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *path = xasprintf("%s/%s", dir, de->d_name);
        if (fn)
            ck_assert_int_eq(fn(path), 0);
        free(path);
        n++;
    }
    if (d)
        closedir(d);
    free(dir);
    return n;
}

void handler_env_teardown(void)
{
    char *dir = xasprintf("%s/uploads", henv.statedir);
    handler_env_each_session_file(unlink);
    rmdir(dir);
    free(dir);
    /* a manifest PUT marks what it names for garbage collection (core/gcmark.h) */
    char *cmd = xasprintf("rm -rf '%s/gc'", henv.statedir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);

    ck_assert_int_eq(rmdir(henv.statedir), 0);
    fake_store_free(&henv.store);
    buf_free(&henv.edge.out);
}

char *handler_env_send(const char *method, const char *uri, const char *body, size_t len,
                       const char *content_length)
{
    henv.edge.body = body;
    henv.edge.body_len = len;
    henv.edge.body_off = 0;
    char *out = fake_edge_run(&henv.reg, &henv.edge, NULL, method, uri, content_length);
    char *v = fake_resp_header(out, "Docker-Distribution-API-Version");
    ck_assert_msg(v && strcmp(v, "registry/2.0") == 0, "%s %s: no API version header in\n%s",
                  method, uri, out);
    free(v);
    return out;
}

char *handler_env_run(const char *method, const char *uri, const char *body)
{
    char cl[32];
    size_t len = body ? strlen(body) : 0;
    snprintf(cl, sizeof cl, "%zu", len);
    return handler_env_send(method, uri, body, len, body ? cl : NULL);
}

char *handler_env_expect(const char *method, const char *uri, const char *body, int status,
                         const char *code)
{
    char *out = handler_env_run(method, uri, body);
    ck_assert_msg(fake_resp_status(out) == status, "%s %s: want %d, got\n%s", method, uri, status, out);
    if (code && strcmp(method, "HEAD") == 0) {
        ck_assert_str_eq(fake_resp_body(out), "");
    } else if (code) {
        char *want = xasprintf("{\"errors\":[{\"code\":\"%s\"", code);
        ck_assert_msg(strncmp(fake_resp_body(out), want, strlen(want)) == 0, "%s %s: want %s, got\n%s",
                      method, uri, code, out);
        free(want);
    }
    return out;
}

void handler_env_check(const char *method, const char *uri, const char *body, int status,
                       const char *code)
{
    free(handler_env_expect(method, uri, body, status, code));
}

int handler_env_session_files(void)
{
    char *dir = xasprintf("%s/uploads", henv.statedir);
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    while (d && (de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if ((len > 5 && strcmp(de->d_name + len - 5, ".json") == 0) ||
            (len > 5 && strcmp(de->d_name + len - 5, ".lock") == 0))
            n++;
    }
    if (d)
        closedir(d);
    free(dir);
    return n;
}
