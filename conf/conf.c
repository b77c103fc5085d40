/* conf: the configuration (see conf.h): defaults, then the libconfig file,
 * then the environment, each setting validated where it is read so an error
 * names its file and line (or its environment variable). Unknown keys are
 * errors: a typo must not silently leave a default in force. Validation goes
 * on past a bad setting and reports every one, one line each, so a file is
 * fixed in one pass; only a syntax error stops libconfig's parse, and then
 * it is the one line. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <libconfig.h>
#include "conf/conf.h"
#include "conf/conf_internal.h"
#include "core/xalloc.h"
#include "ipfs/multiaddr.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

#define CONFIG_DEFAULT_API "/ip4/127.0.0.1/tcp/5001"
#define CONFIG_DEFAULT_GATEWAY "http://127.0.0.1:8080"
#define CONFIG_DEFAULT_MFSROOT "/oci-registry-p2p"
#define CONFIG_DEFAULT_STATEDIR LOCALSTATEDIR "/lib/oci-registry-p2p"
/* the spec asks registries to accept manifests of at least 4 MiB */
#define CONFIG_DEFAULT_MAX_MANIFEST (4u * 1024 * 1024)
#define CONFIG_MIN_MANIFEST 1024u
#define CONFIG_MAX_MANIFEST (64u * 1024 * 1024)   /* manifests are read into memory */
#define CONFIG_DEFAULT_EXPIRY 86400
/* Sessions expire counted from their start: a short expiry fails slow
 * uploads, so below a minute is for tests (tests/e2e/slow_clients.sh). */
#define CONFIG_MIN_EXPIRY 10
#define CONFIG_DEFAULT_GC_GRACE 3600
#define CONFIG_MAX_GC_SECONDS (10LL * 365 * 86400)
#define CONFIG_MIN_GC_INTERVAL 10
#define CONFIG_MAX_GC_KEEP 1000000
/* Each open session is two small files in statedir (about 4 KiB of disk on
 * ext4, nothing in memory): 10,000 is ~40 MB, and far more than concurrent
 * pushes need; beyond it POST answers 429. */
#define CONFIG_DEFAULT_MAX_SESSIONS 10000
#define CONFIG_MAX_SESSIONS 10000000
/* a republished layout should show up within half a minute; a day is plenty of cap */
#define CONFIG_DEFAULT_IPNS_TTL 30
#define CONFIG_MAX_IPNS_TTL 86400
/* More workers answer small requests slower on a small machine (manifest
 * GETs, 32 connections, 2 cores: 10.1k req/s with 8, 9.2k with 16, 7.0k
 * with 24, 5.9k with 32): bodies get processes of their own on top
 * (upload_workers), so this pool stays whole for everything else. */
#define CONFIG_DEFAULT_WORKERS 16
#define CONFIG_MAX_WORKERS 1024
/* 32 MiB: 262,144 entries of 128 bytes, room for ~100k tags with their
 * manifest and blob links; shared by all workers, its pages are touched
 * only as entries land in them. */
#define CONFIG_DEFAULT_CACHE_MB 32
#define CONFIG_MAX_CACHE_MB 4096
#define CONFIG_KEY_MAX 128        /* a keystore name or a key ID */
#define CONFIG_RO_KEY_MAX 255     /* a key ID or a DNSLink domain */
#define CONFIG_PATH_MAX 1024
/* under /v2/ so the front servers' registry location already passes it */
#define CONFIG_DEFAULT_METRICS_PATH "/v2/_p2p/metrics"

#define ENV_API "REGISTRY_STORAGE_IPFS_IPFSAPIADDRESS"
#define ENV_WRITEKEY "REGISTRY_STORAGE_IPFS_WRITEIPNSKEY"
#define ENV_ROKEYS "REGISTRY_STORAGE_IPFS_READONLYIPNSKEYS"

static void config_defaults(struct config *c)
{
    memset(c, 0, sizeof *c);
    c->ipfsapiaddress = xstrdup(CONFIG_DEFAULT_API);
    c->ipfsgatewayaddress = xstrdup(CONFIG_DEFAULT_GATEWAY);
    c->mfsroot = xstrdup(CONFIG_DEFAULT_MFSROOT);
    c->statedir = xstrdup(CONFIG_DEFAULT_STATEDIR);
    c->max_manifest_size = CONFIG_DEFAULT_MAX_MANIFEST;
    c->upload_expiry = CONFIG_DEFAULT_EXPIRY;
    c->max_upload_sessions = CONFIG_DEFAULT_MAX_SESSIONS;
    c->metadata_cache_mb = CONFIG_DEFAULT_CACHE_MB;
    c->layout_ipns_ttl = CONFIG_DEFAULT_IPNS_TTL;
    c->gc_grace = CONFIG_DEFAULT_GC_GRACE;
    c->gc_untagged_keep = -1;
    c->gc_duty = 50;
    c->workers = CONFIG_DEFAULT_WORKERS;
    c->listen_mode = 0660;
    c->shutdown_timeout = 0;
    c->log_level = LOG_LVL_INFO;
    c->metrics_path = xstrdup(CONFIG_DEFAULT_METRICS_PATH);
    c->publish_quiet_ms = 300;
    c->publish_max_interval_ms = 3000;
    c->ipns_lifetime = xstrdup("48h");
    c->ipns_ttl = xstrdup("1m");
    c->ipnsrefresh = 5;
    c->owner_lease = 30;
    config_mirror_defaults(c);
}

void config_replace(char **slot, const char *v)
{
    free(*slot);
    *slot = v ? xstrdup(v) : NULL;
}

int config_has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* ---- validators shared by the file and the environment; each returns 0 or
 * -1 with *problem (caller frees) ---- */

static int config_set_api(struct config *c, const char *v, char **problem)
{
    char *base = NULL, *unix_path = NULL, *err = NULL;
    if (!*v) {
        *problem = xstrdup("must not be empty");
        return -1;
    }
    if (multiaddr_to_url(v, &base, &unix_path, &err) < 0) {
        *problem = xasprintf("invalid API address \"%s\": %s", v, err ? err : "unsupported form");
        free(err);
        return -1;
    }
    free(base);
    free(unix_path);
    config_replace(&c->ipfsapiaddress, v);
    return 0;
}

static int config_set_gateway(struct config *c, const char *v, char **problem)
{
    const char *host = strncmp(v, "http://", 7) == 0 ? v + 7 : NULL;
    if (!host || !*host || *host == '/' || config_has_ctl(v) || strpbrk(v, " \t")) {
        *problem = xasprintf("must be an http:// URL such as %s (got \"%s\")", CONFIG_DEFAULT_GATEWAY, v);
        return -1;
    }
    char *s = xstrdup(v);
    size_t n = strlen(s);
    while (n > 7 && s[n - 1] == '/')   /* callers append "/ipfs/..." */
        s[--n] = '\0';
    free(c->ipfsgatewayaddress);
    c->ipfsgatewayaddress = s;
    return 0;
}

/* [A-Za-z0-9._-]{1,max} */
static int config_key_chars_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
            return 0;
    return 1;
}

static int config_set_writekey(struct config *c, const char *v, char **problem)
{
    if (!*v) {   /* an empty value means: publish nothing */
        config_replace(&c->writeipnskey, NULL);
        return 0;
    }
    if (!config_key_chars_ok(v, CONFIG_KEY_MAX)) {
        *problem = xasprintf("\"%s\" is not a key name or key ID ([A-Za-z0-9._-], at most %d characters)",
                             v, CONFIG_KEY_MAX);
        return -1;
    }
    config_replace(&c->writeipnskey, v);
    return 0;
}

static void config_clear_rokeys(struct config *c)
{
    strv_free(c->readonlyipnskeys, c->n_readonlyipnskeys);
    c->readonlyipnskeys = NULL;
    c->n_readonlyipnskeys = 0;
}

static int config_add_rokey(char ***v, size_t *n, const char *key, char **problem)
{
    if (!config_key_chars_ok(key, CONFIG_RO_KEY_MAX)) {
        *problem = xasprintf("\"%s\" is not a key ID or DNSLink domain ([A-Za-z0-9._-]+)", key);
        return -1;
    }
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = xstrdup(key);
    return 0;
}

/* "k1, k2,k3": items trimmed; empty items (a trailing comma) skipped. */
static int config_set_rokeys_csv(struct config *c, const char *v, char **problem)
{
    char **keys = NULL;
    size_t n = 0;
    const char *p = v;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        while (p < end && isspace((unsigned char)*p))
            p++;
        const char *e = end;
        while (e > p && isspace((unsigned char)e[-1]))
            e--;
        if (e > p) {
            char *item = xstrndup(p, (size_t)(e - p));
            int rc = config_add_rokey(&keys, &n, item, problem);
            free(item);
            if (rc < 0) {
                strv_free(keys, n);
                return -1;
            }
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    config_clear_rokeys(c);
    c->readonlyipnskeys = keys;
    c->n_readonlyipnskeys = n;
    return 0;
}

/* ---- the errors of one load ---- */

/* Enough for any real file; a file of garbage must not fill the terminal. */
#define CONFIG_MAX_ERRORS 50

/* Every error found, in the order found (file order, then the environment). */
struct config_errs {
    char *line[CONFIG_MAX_ERRORS];   /* owned, one line each, no '\n' */
    size_t n;
    size_t dropped;                  /* errors beyond CONFIG_MAX_ERRORS */
};

/* Takes ownership of line. An error quotes the value it refuses, and
 * libconfig strings may hold newlines and other control characters: they
 * are blanked, so each error stays the one line start-up prints (and a
 * journal shows no forged lines). */
static void config_errs_add(struct config_errs *e, char *line)
{
    for (unsigned char *p = (unsigned char *)line; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = ' ';
    if (e->n == CONFIG_MAX_ERRORS) {
        e->dropped++;
        free(line);
        return;
    }
    e->line[e->n++] = line;
}

/* The errors joined with '\n' (no trailing one), or NULL when there were
 * none; the caller frees. Empties e. */
static char *config_errs_take(struct config_errs *e)
{
    if (e->n == 0)
        return NULL;
    size_t len = 0;
    for (size_t i = 0; i < e->n; i++)
        len += strlen(e->line[i]) + 1;
    char *all = xmalloc(len);
    char *p = all;
    for (size_t i = 0; i < e->n; i++) {
        size_t n = strlen(e->line[i]);
        memcpy(p, e->line[i], n);
        p += n;
        *p++ = i + 1 < e->n ? '\n' : '\0';
        free(e->line[i]);
    }
    if (e->dropped) {
        char *more = xasprintf("%s\n... and %zu more errors", all, e->dropped);
        free(all);
        all = more;
    }
    memset(e, 0, sizeof *e);
    return all;
}

/* ---- the file ---- */

/* Records one error naming the file, the line and the key; the caller
 * leaves the setting at its previous value and validation goes on. */
void config_fail(struct config_ctx *x, const config_setting_t *s, const char *fmt, ...)
{
    char problem[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    /* a list element has no name: report the list's key */
    const config_setting_t *named = s;
    while (named && !config_setting_name(named) && config_setting_parent(named))
        named = config_setting_parent(named);
    const char *key = named && config_setting_name(named) ? config_setting_name(named) : "?";
    config_errs_add(x->errs, xasprintf("%s:%u: %s: %s", x->file, config_setting_source_line(s), key, problem));
}

static void config_fail_problem(struct config_ctx *x, const config_setting_t *s, char *problem)
{
    config_fail(x, s, "%s", problem);
    free(problem);
}

const char *config_type_name(int type)
{
    switch (type) {
    case CONFIG_TYPE_GROUP: return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: return "an integer";
    case CONFIG_TYPE_FLOAT: return "a number with a fraction";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL: return "a boolean";
    case CONFIG_TYPE_ARRAY: return "an array";
    case CONFIG_TYPE_LIST: return "a list";
    default: return "something else";
    }
}

const char *config_get_str(struct config_ctx *x, const config_setting_t *s)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        config_fail(x, s, "must be a string, not %s", config_type_name(config_setting_type(s)));
        return NULL;
    }
    return config_setting_get_string(s);
}

int config_get_int(struct config_ctx *x, const config_setting_t *s, long long lo, long long hi,
                          long long *out)
{
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
        config_fail(x, s, "must be an integer, not %s", config_type_name(t));
        return -1;
    }
    long long v = config_setting_get_int64(s);
    if (v < lo || v > hi) {
        if (hi == LLONG_MAX)
            config_fail(x, s, "must be at least %lld (got %lld)", lo, v);
        else
            config_fail(x, s, "must be %lld..%lld (got %lld)", lo, hi, v);
        return -1;
    }
    *out = v;
    return 0;
}

int config_get_bool(struct config_ctx *x, const config_setting_t *s, int *out)
{
    if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
        config_fail(x, s, "must be true or false, not %s", config_type_name(config_setting_type(s)));
        return -1;
    }
    *out = config_setting_get_bool(s) ? 1 : 0;
    return 0;
}

/* Absolute, no empty, "." or ".." component, no trailing slash, not "/". */
static const char *config_mfs_path_problem(const char *v)
{
    if (v[0] != '/')
        return "must be an absolute MFS path";
    if (strcmp(v, "/") == 0)
        return "must not be the MFS root \"/\" (use a directory such as " CONFIG_DEFAULT_MFSROOT ")";
    if (strlen(v) > CONFIG_PATH_MAX || config_has_ctl(v))
        return "is too long or contains control characters";
    const char *p = v + 1;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0)
            return slash ? "must not contain \"//\"" : "must not end with '/'";
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return "must not contain \".\" or \"..\" components";
        if (!slash)
            return NULL;
        p = slash + 1;
    }
}

static void config_key_mfsroot(struct config_ctx *x, const config_setting_t *s)
{
    const char *v = config_get_str(x, s);
    if (!v)
        return;
    const char *problem = config_mfs_path_problem(v);
    if (problem)
        config_fail(x, s, "\"%s\" %s", v, problem);
    else
        config_replace(&x->c->mfsroot, v);
}

static void config_key_statedir(struct config_ctx *x, const config_setting_t *s)
{
    const char *v = config_get_str(x, s);
    if (!v)
        return;
    if (v[0] != '/' || strlen(v) > CONFIG_PATH_MAX || config_has_ctl(v)) {
        config_fail(x, s, "must be an absolute directory path (got \"%s\")", v);
        return;
    }
    char *d = xstrdup(v);
    size_t n = strlen(d);
    while (n > 1 && d[n - 1] == '/')   /* callers append "/uploads" */
        d[--n] = '\0';
    free(x->c->statedir);
    x->c->statedir = d;
}

static void config_key_api(struct config_ctx *x, const config_setting_t *s)
{
    const char *v = config_get_str(x, s);
    char *problem;
    if (v && config_set_api(x->c, v, &problem) < 0)
        config_fail_problem(x, s, problem);
}

static void config_key_gateway(struct config_ctx *x, const config_setting_t *s)
{
    const char *v = config_get_str(x, s);
    char *problem;
    if (v && config_set_gateway(x->c, v, &problem) < 0)
        config_fail_problem(x, s, problem);
}

static void config_key_writekey(struct config_ctx *x, const config_setting_t *s)
{
    const char *v = config_get_str(x, s);
    char *problem;
    if (v && config_set_writekey(x->c, v, &problem) < 0)
        config_fail_problem(x, s, problem);
}

static void config_key_rokeys(struct config_ctx *x, const config_setting_t *s)
{
    int t = config_setting_type(s);
    char *problem;
    if (t == CONFIG_TYPE_STRING) {
        if (config_set_rokeys_csv(x->c, config_setting_get_string(s), &problem) < 0)
            config_fail_problem(x, s, problem);
        return;
    }
    if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
        config_fail(x, s, "must be a list of strings or one comma-separated string, not %s",
                    config_type_name(t));
        return;
    }
    char **keys = NULL;
    size_t n = 0;
    for (int i = 0; i < config_setting_length(s); i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            config_fail(x, e, "element %d must be a string, not %s", i + 1,
                        config_type_name(config_setting_type(e)));
            strv_free(keys, n);
            return;
        }
        if (config_add_rokey(&keys, &n, config_setting_get_string(e), &problem) < 0) {
            config_fail_problem(x, e, problem);
            strv_free(keys, n);
            return;
        }
    }
    config_clear_rokeys(x->c);
    x->c->readonlyipnskeys = keys;
    x->c->n_readonlyipnskeys = n;
}

static void config_key_readonly(struct config_ctx *x, const config_setting_t *s)
{
    config_get_bool(x, s, &x->c->readonly);
}

static void config_key_require_remote_user(struct config_ctx *x, const config_setting_t *s)
{
    config_get_bool(x, s, &x->c->require_remote_user);
}

static void config_key_allow_sparse(struct config_ctx *x, const config_setting_t *s)
{
    config_get_bool(x, s, &x->c->allow_sparse);
}

static void config_key_max_manifest(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, CONFIG_MIN_MANIFEST, CONFIG_MAX_MANIFEST, &v) == 0)
        x->c->max_manifest_size = (uint64_t)v;
}

static void config_key_layout_ipns_ttl(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, 0, CONFIG_MAX_IPNS_TTL, &v) == 0)
        x->c->layout_ipns_ttl = (time_t)v;
}

static void config_key_expiry(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, CONFIG_MIN_EXPIRY, LLONG_MAX, &v) == 0)
        x->c->upload_expiry = (time_t)v;
}

static void config_key_gc_grace(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, 1, CONFIG_MAX_GC_SECONDS, &v) == 0)
        x->c->gc_grace = (time_t)v;
}

static void config_key_gc_interval(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, 0, CONFIG_MAX_GC_SECONDS, &v) == 0) {
        if (v > 0 && v < CONFIG_MIN_GC_INTERVAL)
            config_fail(x, s, "a collection every %lld s is too often (0 = none, else at least %d)", v,
                       CONFIG_MIN_GC_INTERVAL);
        else
            x->c->gc_interval = (time_t)v;
    }
}

static void config_key_gc_max_age(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, 0, CONFIG_MAX_GC_SECONDS, &v) == 0)
        x->c->gc_untagged_max_age = (time_t)v;
}

static void config_key_gc_keep(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, -1, CONFIG_MAX_GC_KEEP, &v) == 0)
        x->c->gc_untagged_keep = (long)v;
}

static void config_key_gc_duty(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, 10, 100, &v) == 0)
        x->c->gc_duty = (unsigned)v;
}

static void config_key_gc_repo_gc(struct config_ctx *x, const config_setting_t *s)
{
    config_get_bool(x, s, &x->c->gc_repo_gc);
}

static void config_key_max_sessions(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, 1, CONFIG_MAX_SESSIONS, &v) == 0)
        x->c->max_upload_sessions = (unsigned)v;
}

static void config_key_cache(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, 0, CONFIG_MAX_CACHE_MB, &v) == 0)
        x->c->metadata_cache_mb = (unsigned)v;
}

static void config_key_workers(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, 1, CONFIG_MAX_WORKERS, &v) == 0)
        x->c->workers = (int)v;
}

static void config_key_upload_workers(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, 1, CONFIG_MAX_WORKERS, &v) == 0)
        x->c->upload_workers = (int)v;
}

int config_upload_workers(const struct config *c)
{
    if (c->upload_workers > 0)
        return c->upload_workers;
    int n = 2 * c->workers;
    return n > CONFIG_MAX_WORKERS ? CONFIG_MAX_WORKERS : n;
}

static void config_key_shutdown(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, 0, INT_MAX, &v) == 0)
        x->c->shutdown_timeout = (int)v;
}

/* "/path.sock", "host:port" or "[v6addr]:port" */
static const char *config_listen_problem(const char *v)
{
    if (config_has_ctl(v) || strpbrk(v, " \t"))
        return "must not contain spaces or control characters";
    if (v[0] == '/')
        return strlen(v) < 108 ? NULL : "Unix socket path too long (at most 107 bytes)";
    const char *colon = strrchr(v, ':');
    if (!colon)
        return "must be an absolute Unix socket path, host:port or [IPv6]:port";
    size_t hlen = (size_t)(colon - v);
    if (v[0] == '[') {
        if (hlen < 3 || v[hlen - 1] != ']')
            return "an IPv6 address must be written [address]:port";
    } else if (hlen == 0 || memchr(v, ':', hlen) || memchr(v, '/', hlen)) {
        return "must be an absolute Unix socket path, host:port or [IPv6]:port";
    }
    const char *port = colon + 1;
    if (!*port || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))
        return "port must be 1..65535";
    long p = strtol(port, NULL, 10);
    if (p < 1 || p > 65535)
        return "port must be 1..65535";
    return NULL;
}

static void config_key_listen(struct config_ctx *x, const config_setting_t *s)
{
    const char *v = config_get_str(x, s);
    if (!v)
        return;
    if (!*v) {
        config_replace(&x->c->listen, NULL);   /* inherit the socket */
        return;
    }
    const char *problem = config_listen_problem(v);
    if (problem)
        config_fail(x, s, "\"%s\": %s", v, problem);
    else
        config_replace(&x->c->listen, v);
}

static void config_key_listen_mode(struct config_ctx *x, const config_setting_t *s)
{
    int t = config_setting_type(s);
    if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
        long long v = config_setting_get_int64(s);
        if (v < 0 || v > 0777) {
            /* libconfig reads 0660 as decimal 660 */
            config_fail(x, s, "must be an octal mode written as a string such as \"0660\" (got %lld)", v);
            return;
        }
        x->c->listen_mode = (int)v;
        return;
    }
    const char *v = config_get_str(x, s);
    if (!v)
        return;
    size_t n = strlen(v);
    if (n == 0 || n > 4 || strspn(v, "01234567") != n) {
        config_fail(x, s, "must be an octal mode such as \"0660\" (got \"%s\")", v);
        return;
    }
    x->c->listen_mode = (int)strtol(v, NULL, 8);
}

/* ---- blob offload ---- */

/* Only characters that need no escaping in a URI path or a header value:
 * the prefix is pasted in front of the CID as is. */
static int config_uri_chars_ok(const char *v)
{
    return strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_.-~") == strlen(v);
}

static void config_key_accel(struct config_ctx *x, const config_setting_t *s)
{
    const char *v = config_get_str(x, s);
    if (!v)
        return;
    size_t n = strlen(v);
    if (n == 0) {
        config_replace(&x->c->accel_redirect, NULL);
        return;
    }
    if (x->c->blob_redirect)
        config_fail(x, s, "accel_redirect and blob_redirect are exclusive; set one");
    else if (v[0] != '/' || v[n - 1] != '/' || n < 3 || !config_uri_chars_ok(v) || strncmp(v, "/v2/", 4) == 0)
        config_fail(x, s, "must be the front server's internal location, a path such as "
                          "\"/_oci_p2p_blob/\" (starts and ends with '/', outside /v2/; got \"%s\")", v);
    else
        config_replace(&x->c->accel_redirect, v);
}

static void config_key_blob_redirect(struct config_ctx *x, const config_setting_t *s)
{
    const char *v = config_get_str(x, s);
    if (!v)
        return;
    if (!*v) {
        config_replace(&x->c->blob_redirect, NULL);
        return;
    }
    const char *at = strstr(v, "{cid}");
    if (x->c->accel_redirect)
        config_fail(x, s, "accel_redirect and blob_redirect are exclusive; set one");
    else if ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) || !at ||
             strstr(at + 5, "{cid}") || config_has_ctl(v) || strpbrk(v, " \t\"<>\\"))
        config_fail(x, s, "must be an http:// or https:// URL with {cid} once, such as "
                          "\"https://gw.example/ipfs/{cid}\" (got \"%s\")", v);
    else
        config_replace(&x->c->blob_redirect, v);
}

/* ---- blob files ---- */

static void config_key_blobdir(struct config_ctx *x, const config_setting_t *s)
{
    const char *v = config_get_str(x, s);
    if (!v)
        return;
    if (!*v) {
        config_replace(&x->c->blobdir, NULL);
        return;
    }
    if (v[0] != '/' || strlen(v) > CONFIG_PATH_MAX || config_has_ctl(v) || strcmp(v, "/") == 0) {
        config_fail(x, s, "must be an absolute directory path below Kubo's filestore root (got \"%s\")", v);
        return;
    }
    char *d = xstrdup(v);
    size_t n = strlen(d);
    while (n > 1 && d[n - 1] == '/')   /* blobfile_path appends "/<alg>/..." */
        d[--n] = '\0';
    free(x->c->blobdir);
    x->c->blobdir = d;
}

static void config_key_blobfiles(struct config_ctx *x, const config_setting_t *s)
{
    const char *v = config_get_str(x, s);
    if (!v)
        return;
    if (strcmp(v, "auto") == 0)
        x->c->blobfiles_required = 0;
    else if (strcmp(v, "required") == 0)
        x->c->blobfiles_required = 1;
    else
        config_fail(x, s, "must be \"auto\" or \"required\" (got \"%s\")", v);
}

static void config_key_blobfile_accel(struct config_ctx *x, const config_setting_t *s)
{
    const char *v = config_get_str(x, s);
    if (!v)
        return;
    size_t n = strlen(v);
    if (n == 0) {
        config_replace(&x->c->blobfile_accel, NULL);
        return;
    }
    if (x->c->blobfile_sendfile)
        config_fail(x, s, "blobfile_accel_redirect and blobfile_sendfile are exclusive; set one");
    else if (v[0] != '/' || v[n - 1] != '/' || n < 3 || !config_uri_chars_ok(v) || strncmp(v, "/v2/", 4) == 0)
        config_fail(x, s, "must be the front server's internal location, a path such as "
                          "\"/_oci_p2p_file/\" (starts and ends with '/', outside /v2/; got \"%s\")", v);
    else
        config_replace(&x->c->blobfile_accel, v);
}

static void config_key_blobfile_sendfile(struct config_ctx *x, const config_setting_t *s)
{
    config_get_bool(x, s, &x->c->blobfile_sendfile);
    if (x->c->blobfile_sendfile && x->c->blobfile_accel)
        config_fail(x, s, "blobfile_accel_redirect and blobfile_sendfile are exclusive; set one");
}

static void config_key_log_level(struct config_ctx *x, const config_setting_t *s)
{
    const char *v = config_get_str(x, s);
    if (v && log_level_parse(v, &x->c->log_level) < 0)
        config_fail(x, s, "must be one of error, warn, info, debug (got \"%s\")", v);
}

/* ---- publisher and mirrors ---- */

static void config_key_quiet(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, 0, 60000, &v) == 0)
        x->c->publish_quiet_ms = (int)v;
}

static void config_key_max_interval(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, 100, 3600000, &v) == 0)
        x->c->publish_max_interval_ms = (int)v;
}

/* A Go duration as Kubo takes it: digits and the units h, m, s, ms (e.g.
 * "48h", "1m30s", "500ms"). Kubo ignores nothing here: a bad one fails
 * every publish, so it is refused at start-up instead. */
static int config_duration_ok(const char *v)
{
    const char *p = v;
    if (!*p || strlen(p) > 32)
        return 0;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
        if (strncmp(p, "ms", 2) == 0)
            p += 2;
        else if (*p == 'h' || *p == 'm' || *p == 's')
            p++;
        else
            return 0;
    }
    return 1;
}

static void config_key_duration(struct config_ctx *x, const config_setting_t *s, char **slot)
{
    const char *v = config_get_str(x, s);
    if (!v)
        return;
    if (!config_duration_ok(v))
        config_fail(x, s, "must be a duration such as \"48h\", \"1m30s\" or \"500ms\" (got \"%s\")", v);
    else
        config_replace(slot, v);
}

static void config_key_lifetime(struct config_ctx *x, const config_setting_t *s)
{
    config_key_duration(x, s, &x->c->ipns_lifetime);
}

static void config_key_ttl(struct config_ctx *x, const config_setting_t *s)
{
    config_key_duration(x, s, &x->c->ipns_ttl);
}

static void config_key_allow_offline(struct config_ctx *x, const config_setting_t *s)
{
    config_get_bool(x, s, &x->c->publish_allow_offline);
}

static void config_key_ipnsrefresh(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, 1, 86400, &v) == 0)
        x->c->ipnsrefresh = (int)v;
}

static void config_key_owner_lease(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, 3, 3600, &v) == 0)
        x->c->owner_lease = (int)v;
}

static void config_key_pinreadonly(struct config_ctx *x, const config_setting_t *s)
{
    config_get_bool(x, s, &x->c->pinreadonly);
}

static void config_key_other_writer(struct config_ctx *x, const config_setting_t *s)
{
    const char *v = config_get_str(x, s);
    if (!v)
        return;
    if (strcmp(v, "refuse") == 0)
        x->c->other_writer_overwrite = 0;
    else if (strcmp(v, "overwrite") == 0)
        x->c->other_writer_overwrite = 1;
    else
        config_fail(x, s, "must be \"refuse\" or \"overwrite\" (got \"%s\")", v);
}

/* ---- logs and metrics ---- */

static void config_key_logfile(struct config_ctx *x, const config_setting_t *s)
{
    const char *v = config_get_str(x, s);
    if (!v)
        return;
    if (*v && (v[0] != '/' || strlen(v) > CONFIG_PATH_MAX || config_has_ctl(v)))
        config_fail(x, s, "must be an absolute file path, or \"\" for stderr (got \"%s\")", v);
    else
        config_replace(&x->c->logfile, *v ? v : NULL);
}

static void config_key_syslog(struct config_ctx *x, const config_setting_t *s)
{
    config_get_bool(x, s, &x->c->syslog);
}

static void config_key_metrics_path(struct config_ctx *x, const config_setting_t *s)
{
    const char *v = config_get_str(x, s);
    if (!v)
        return;
    if (*v && (v[0] != '/' || strlen(v) > CONFIG_PATH_MAX || config_has_ctl(v) ||
               strpbrk(v, "?# \t%"))) {
        config_fail(x, s, "must be a URL path such as \"%s\", or \"\" to turn metrics off (got \"%s\")",
                    CONFIG_DEFAULT_METRICS_PATH, v);
        return;
    }
    config_replace(&x->c->metrics_path, *v ? v : NULL);
}

/* ---- the web view ---- */

static void config_key_ui(struct config_ctx *x, const config_setting_t *s)
{
    config_get_bool(x, s, &x->c->ui);
}

/* Printed into pages as the base of gateway links (".../ipfs/<cid>"), so
 * only a plain http(s) URL without a query, quotes or angle brackets. */
static void config_key_ui_gateway_url(struct config_ctx *x, const config_setting_t *s)
{
    const char *v = config_get_str(x, s);
    size_t n;
    if (!v)
        return;
    if (!*v) {
        config_replace(&x->c->ui_gateway_url, NULL);
        return;
    }
    n = strlen(v);
    if ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) || n > CONFIG_PATH_MAX ||
        config_has_ctl(v) || strpbrk(v, " \t\"'<>\\?#`") || v[n - 1] == '/') {
        config_fail(x, s, "must be an http:// or https:// URL without a trailing '/', such as "
                          "\"https://gw.example\", that browsers reach (got \"%s\")", v);
        return;
    }
    config_replace(&x->c->ui_gateway_url, v);
}

static const struct {
    const char *name;
    void (*set)(struct config_ctx *, const config_setting_t *);
} config_keys[] = {
    { "ipfsapiaddress", config_key_api },
    { "ipfsgatewayaddress", config_key_gateway },
    { "writeipnskey", config_key_writekey },
    { "readonlyipnskeys", config_key_rokeys },
    { "mfsroot", config_key_mfsroot },
    { "statedir", config_key_statedir },
    { "readonly", config_key_readonly },
    { "require_remote_user", config_key_require_remote_user },
    { "publish_quiet_ms", config_key_quiet },
    { "publish_max_interval_ms", config_key_max_interval },
    { "ipns_lifetime", config_key_lifetime },
    { "ipns_ttl", config_key_ttl },
    { "publish_allow_offline", config_key_allow_offline },
    { "ipnsrefresh", config_key_ipnsrefresh },
    { "owner_lease", config_key_owner_lease },
    { "pinreadonly", config_key_pinreadonly },
    { "other_writer", config_key_other_writer },
    { "allow_sparse", config_key_allow_sparse },
    { "max_manifest_size", config_key_max_manifest },
    { "upload_expiry", config_key_expiry },
    { "max_upload_sessions", config_key_max_sessions },
    { "layout_ipns_ttl", config_key_layout_ipns_ttl },
    { "metadata_cache_mb", config_key_cache },
    { "workers", config_key_workers },
    { "upload_workers", config_key_upload_workers },
    { "listen", config_key_listen },
    { "listen_mode", config_key_listen_mode },
    { "shutdown_timeout", config_key_shutdown },
    { "log_level", config_key_log_level },
    { "logfile", config_key_logfile },
    { "syslog", config_key_syslog },
    { "metrics_path", config_key_metrics_path },
    { "blobdir", config_key_blobdir },
    { "blobfiles", config_key_blobfiles },
    { "blobfile_accel_redirect", config_key_blobfile_accel },
    { "blobfile_sendfile", config_key_blobfile_sendfile },
    { "accel_redirect", config_key_accel },
    { "blob_redirect", config_key_blob_redirect },
    { "ui", config_key_ui },
    { "ui_gateway_url", config_key_ui_gateway_url },
    { "mirror", config_key_mirror },
    { "mirror_timeout_ms", config_key_mirror_timeout },
    { "mirror_stall_s", config_key_mirror_stall },
    { "mirror_writable", config_key_mirror_writable },
    { "gc_grace", config_key_gc_grace },
    { "gc_interval", config_key_gc_interval },
    { "gc_untagged_max_age", config_key_gc_max_age },
    { "gc_untagged_keep", config_key_gc_keep },
    { "gc_repo_gc", config_key_gc_repo_gc },
    { "gc_duty", config_key_gc_duty },
};

/* Reads file into c, adding every error to errs. A file that cannot be
 * opened or parsed (libconfig stops at the first syntax error) is one error;
 * past that, every setting is validated and each bad one is reported. */
static void config_read_file_into(const char *file, struct config *c, struct config_errs *errs)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        config_errs_add(errs, xasprintf("%s: cannot open: %s", file, strerror(errno)));
        return;
    }
    config_t cfg;
    config_init(&cfg);
    int ok = config_read(&cfg, f);
    fclose(f);
    if (!ok) {
        config_errs_add(errs, xasprintf("%s:%d: %s", config_error_file(&cfg) ? config_error_file(&cfg) : file,
                                        config_error_line(&cfg), config_error_text(&cfg)));
        config_destroy(&cfg);
        return;
    }
    struct config_ctx x = { .c = c, .file = file, .errs = errs };
    config_setting_t *root = config_root_setting(&cfg);
    for (int i = 0; i < config_setting_length(root); i++) {
        config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(s);
        size_t k;
        for (k = 0; k < sizeof config_keys / sizeof config_keys[0]; k++)
            if (strcmp(name, config_keys[k].name) == 0)
                break;
        if (k == sizeof config_keys / sizeof config_keys[0])
            config_fail(&x, s, "unknown setting");
        else
            config_keys[k].set(&x, s);
    }
    config_destroy(&cfg);
}

/* ---- the environment: the names distribution's storage driver used ---- */

static void config_env(struct config *c, struct config_errs *errs)
{
    static const struct {
        const char *var;
        int (*set)(struct config *, const char *, char **);
    } vars[] = {
        { ENV_API, config_set_api },
        { ENV_WRITEKEY, config_set_writekey },
        { ENV_ROKEYS, config_set_rokeys_csv },
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i].var);
        char *problem;
        if (v && vars[i].set(c, v, &problem) < 0) {
            config_errs_add(errs, xasprintf("environment: %s: %s", vars[i].var, problem));
            free(problem);
        }
    }
}

int config_load(const char *file, struct config *c, char **err)
{
    struct config_errs errs = { .n = 0 };
    config_defaults(c);
    if (file) {
        c->file = xstrdup(file);
        config_read_file_into(file, c, &errs);
    }
    config_env(c, &errs);
    if ((c->blobfile_accel || c->blobfile_sendfile) && !c->blobdir)
        config_errs_add(&errs, xasprintf("%s: %s needs blobdir (there are no blob files to send without it)",
                                         file ? file : "configuration",
                                         c->blobfile_accel ? "blobfile_accel_redirect" : "blobfile_sendfile"));
    *err = config_errs_take(&errs);
    return *err ? -1 : 0;
}

void config_free(struct config *c)
{
    free(c->file);
    free(c->ipfsapiaddress);
    free(c->ipfsgatewayaddress);
    free(c->writeipnskey);
    config_clear_rokeys(c);
    free(c->ipns_lifetime);
    free(c->ipns_ttl);
    free(c->mfsroot);
    free(c->statedir);
    free(c->listen);
    free(c->blobdir);
    free(c->blobfile_accel);
    free(c->accel_redirect);
    free(c->blob_redirect);
    free(c->logfile);
    free(c->metrics_path);
    free(c->ui_gateway_url);
    config_mirror_free(c);
    memset(c, 0, sizeof *c);
}

/* A libconfig string literal, so the dump can be loaded back. */
void config_dump_str(FILE *out, const char *key, const char *v)
{
    fprintf(out, "%s = \"", key);
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            fputc('\\', out);
        fputc(*v, out);
    }
    fputs("\";\n", out);
}

void config_dump(const struct config *c, FILE *out)
{
    static const char *const levels[] = { "error", "warn", "info", "debug" };
    fprintf(out, "# effective configuration%s%s\n", c->file ? " from " : " (defaults and environment)",
            c->file ? c->file : "");
    config_dump_str(out, "ipfsapiaddress", c->ipfsapiaddress);
    config_dump_str(out, "ipfsgatewayaddress", c->ipfsgatewayaddress);
    if (c->writeipnskey)
        config_dump_str(out, "writeipnskey", c->writeipnskey);
    else
        fputs("# writeipnskey: not set (nothing is published)\n", out);
    fputs("readonlyipnskeys = [", out);
    for (size_t i = 0; i < c->n_readonlyipnskeys; i++)
        fprintf(out, "%s\"%s\"", i ? ", " : "", c->readonlyipnskeys[i]);
    fputs("];\n", out);
    fprintf(out, "publish_quiet_ms = %d;\n", c->publish_quiet_ms);
    fprintf(out, "publish_max_interval_ms = %d;\n", c->publish_max_interval_ms);
    config_dump_str(out, "ipns_lifetime", c->ipns_lifetime);
    config_dump_str(out, "ipns_ttl", c->ipns_ttl);
    fprintf(out, "publish_allow_offline = %s;\n", c->publish_allow_offline ? "true" : "false");
    fprintf(out, "ipnsrefresh = %d;\n", c->ipnsrefresh);
    fprintf(out, "owner_lease = %d;\n", c->owner_lease);
    fprintf(out, "pinreadonly = %s;\n", c->pinreadonly ? "true" : "false");
    fprintf(out, "other_writer = \"%s\";\n", c->other_writer_overwrite ? "overwrite" : "refuse");
    config_dump_str(out, "mfsroot", c->mfsroot);
    config_dump_str(out, "statedir", c->statedir);
    fprintf(out, "readonly = %s;\n", c->readonly ? "true" : "false");
    fprintf(out, "require_remote_user = %s;\n", c->require_remote_user ? "true" : "false");
    fprintf(out, "allow_sparse = %s;\n", c->allow_sparse ? "true" : "false");
    fprintf(out, "max_manifest_size = %llu;\n", (unsigned long long)c->max_manifest_size);
    fprintf(out, "upload_expiry = %lld;\n", (long long)c->upload_expiry);
    fprintf(out, "max_upload_sessions = %u;\n", c->max_upload_sessions);
    fprintf(out, "layout_ipns_ttl = %lld;\n", (long long)c->layout_ipns_ttl);
    fprintf(out, "gc_grace = %lld;\n", (long long)c->gc_grace);
    fprintf(out, "gc_interval = %lld;\n", (long long)c->gc_interval);
    fprintf(out, "gc_untagged_max_age = %lld;\n", (long long)c->gc_untagged_max_age);
    fprintf(out, "gc_untagged_keep = %ld;\n", c->gc_untagged_keep);
    fprintf(out, "gc_repo_gc = %s;\n", c->gc_repo_gc ? "true" : "false");
    fprintf(out, "gc_duty = %u;\n", c->gc_duty);
    fprintf(out, "metadata_cache_mb = %u;\n", c->metadata_cache_mb);
    fprintf(out, "workers = %d;\n", c->workers);
    if (c->upload_workers > 0)
        fprintf(out, "upload_workers = %d;\n", c->upload_workers);
    else
        fprintf(out, "# upload_workers: not set (%d: twice workers)\n",
                config_upload_workers(c));
    if (c->listen)
        config_dump_str(out, "listen", c->listen);
    else
        fputs("# listen: not set (inherit the socket: fd 0 or LISTEN_FDS)\n", out);
    fprintf(out, "listen_mode = \"%04o\";\n", (unsigned)c->listen_mode);
    fprintf(out, "shutdown_timeout = %d;\n", c->shutdown_timeout);
    fprintf(out, "log_level = \"%s\";\n",
            (unsigned)c->log_level < 4 ? levels[c->log_level] : "info");
    config_dump_str(out, "logfile", c->logfile ? c->logfile : "");
    fprintf(out, "syslog = %s;\n", c->syslog ? "true" : "false");
    config_dump_str(out, "metrics_path", c->metrics_path ? c->metrics_path : "");
    fprintf(out, "ui = %s;\n", c->ui ? "true" : "false");
    config_dump_str(out, "ui_gateway_url", c->ui_gateway_url ? c->ui_gateway_url : "");
    if (c->blobdir)
        config_dump_str(out, "blobdir", c->blobdir);
    else
        fputs("# blobdir: not set (blob bytes are held by Kubo only)\n", out);
    fprintf(out, "blobfiles = \"%s\";\n", c->blobfiles_required ? "required" : "auto");
    if (c->blobfile_accel)
        config_dump_str(out, "blobfile_accel_redirect", c->blobfile_accel);
    fprintf(out, "blobfile_sendfile = %s;\n", c->blobfile_sendfile ? "true" : "false");
    if (c->accel_redirect)
        config_dump_str(out, "accel_redirect", c->accel_redirect);
    else if (c->blob_redirect)
        config_dump_str(out, "blob_redirect", c->blob_redirect);
    else
        fputs("# accel_redirect, blob_redirect: not set (blobs stream through the workers)\n", out);
    config_mirror_dump(c, out);
}
