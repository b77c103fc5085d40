/* conf_mirror: the pull-through mirror's settings (docs/design-mirror.md):
 *
 *   mirror = ( { ns = "docker.io"; url = "https://registry-1.docker.io";
 *                prefix = "docker.io"; username = "u"; password = "p";
 *                freshness = 300; default = true; }, ... );
 *   mirror_timeout_ms = 3000; mirror_stall_s = 30; mirror_writable = false;
 *
 * Each entry is checked where it is read; across entries, ns and prefix
 * are unique and at most one is the default. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "conf/conf_internal.h"
#include "core/names.h"
#include "core/xalloc.h"

#define MIRROR_DEFAULT_FRESHNESS 300
#define MIRROR_MAX_FRESHNESS (7 * 86400)
#define MIRROR_DEFAULT_TIMEOUT_MS 3000
#define MIRROR_DEFAULT_STALL_S 30
#define MIRROR_NS_MAX 255
#define MIRROR_MAX 64

static void mirror_upstream_free(struct config_upstream *u)
{
    free(u->ns);
    free(u->url);
    free(u->prefix);
    free(u->username);
    free(u->password);
    memset(u, 0, sizeof *u);
}

void config_mirror_defaults(struct config *c)
{
    c->mirror_timeout_ms = MIRROR_DEFAULT_TIMEOUT_MS;
    c->mirror_stall_s = MIRROR_DEFAULT_STALL_S;
}

void config_mirror_free(struct config *c)
{
    for (size_t i = 0; i < c->n_mirror; i++)
        mirror_upstream_free(&c->mirror[i]);
    free(c->mirror);
    c->mirror = NULL;
    c->n_mirror = 0;
}

/* host[:port]: what containerd sends as ns (a registry host). */
static const char *mirror_ns_problem(const char *v)
{
    size_t n = strlen(v), colon = strcspn(v, ":");
    if (n == 0 || n > MIRROR_NS_MAX)
        return "must be a registry host such as docker.io or 127.0.0.1:5000";
    for (size_t i = 0; i < colon; i++)
        if (!isalnum((unsigned char)v[i]) && v[i] != '.' && v[i] != '-')
            return "must be a registry host such as docker.io or 127.0.0.1:5000 (letters, digits, '.', '-', then an optional :port)";
    if (colon < n) {
        if (colon == 0 || colon + 1 == n || strspn(v + colon + 1, "0123456789") != n - colon - 1)
            return "must be a registry host such as docker.io or 127.0.0.1:5000 (the port is digits)";
    }
    return NULL;
}

/* http(s)://host[:port], no path; *out a copy without a trailing '/'. */
static const char *mirror_url_problem(const char *v, char **out)
{
    const char *host = strncmp(v, "https://", 8) == 0 ? v + 8 : strncmp(v, "http://", 7) == 0 ? v + 7 : NULL;
    if (!host || !*host || *host == '/' || config_has_ctl(v) || strpbrk(v, " \t\"'<>\\"))
        return "must be an http:// or https:// URL such as https://registry-1.docker.io";
    size_t n = strlen(v);
    while (n > 0 && v[n - 1] == '/')
        n--;
    const char *slash = strchr(host, '/');
    if (slash && (size_t)(slash - v) < n)
        return "must not have a path (the registry API is at <url>/v2/)";
    *out = xstrndup(v, n);
    return NULL;
}

/* A storage repository prefix: a valid name whose first component is not
 * one the registry gives another meaning. */
static const char *mirror_prefix_problem(const char *v)
{
    if (!name_valid(v))
        return "must be a valid repository name (lower case components separated by '/')";
    size_t first = strcspn(v, "/");
    if ((first == 4 && (strncmp(v, "ipfs", 4) == 0 || strncmp(v, "ipns", 4) == 0)))
        return "must not start with ipfs or ipns (OCI image layouts on IPFS)";
    return NULL;
}

/* One group of the list into u; 0, or -1 (recorded). */
static int mirror_entry(struct config_ctx *x, const config_setting_t *g, struct config_upstream *u)
{
    int bad = 0;
    u->freshness = MIRROR_DEFAULT_FRESHNESS;
    if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
        config_fail(x, g, "each upstream must be a group { ns = ...; url = ...; }, not %s",
                    config_type_name(config_setting_type(g)));
        return -1;
    }
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(s), *v, *problem = NULL;
        long long n;
        if (strcmp(key, "ns") == 0) {
            if (!(v = config_get_str(x, s)) || (problem = mirror_ns_problem(v)))
                bad = 1;
            else
                config_replace(&u->ns, v);
        } else if (strcmp(key, "url") == 0) {
            char *url = NULL;
            if (!(v = config_get_str(x, s)) || (problem = mirror_url_problem(v, &url)))
                bad = 1;
            free(u->url);
            u->url = url;
        } else if (strcmp(key, "prefix") == 0) {
            if (!(v = config_get_str(x, s)) || (problem = mirror_prefix_problem(v)))
                bad = 1;
            else
                config_replace(&u->prefix, v);
        } else if (strcmp(key, "username") == 0 || strcmp(key, "password") == 0) {
            if (!(v = config_get_str(x, s)) || (config_has_ctl(v) && (problem = "must not hold control characters")))
                bad = 1;
            else
                config_replace(key[0] == 'u' ? &u->username : &u->password, *v ? v : NULL);
        } else if (strcmp(key, "freshness") == 0) {
            if (config_get_int(x, s, 0, MIRROR_MAX_FRESHNESS, &n) < 0)
                bad = 1;
            else
                u->freshness = (int)n;
        } else if (strcmp(key, "default") == 0) {
            if (config_get_bool(x, s, &u->is_default) < 0)
                bad = 1;
        } else {
            config_fail(x, s, "unknown setting of an upstream (ns, url, prefix, username, password, freshness, default)");
            bad = 1;
        }
        if (problem)
            config_fail(x, s, "\"%s\" %s", v, problem);
    }
    if (!bad && (!u->ns || !u->url)) {
        config_fail(x, g, "an upstream needs ns and url");
        bad = 1;
    }
    if (!bad && !u->prefix) {
        /* the ns as the prefix: lower case, ':' (a port) becomes '-' */
        char *p = xstrdup(u->ns);
        for (char *q = p; *q; q++)
            *q = *q == ':' ? '-' : (char)tolower((unsigned char)*q);
        if (mirror_prefix_problem(p)) {
            config_fail(x, g, "upstream %s: its ns is no repository name prefix: set prefix", u->ns);
            bad = 1;
        }
        u->prefix = p;
    }
    if (!bad && (u->username == NULL) != (u->password == NULL)) {
        config_fail(x, g, "upstream %s: username and password go together", u->ns);
        bad = 1;
    }
    return bad ? -1 : 0;
}

/* 1 if one prefix is the other or contains it as leading components. */
static int mirror_prefix_overlap(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b), n = na < nb ? na : nb;
    return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/') && (b[n] == '\0' || b[n] == '/');
}

void config_key_mirror(struct config_ctx *x, const config_setting_t *s)
{
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_LIST) {
        config_fail(x, s, "must be a list of upstreams ( { ns = ...; url = ...; }, ... ), not %s",
                    config_type_name(t));
        return;
    }
    int n = config_setting_length(s), bad = 0, defaults = 0;
    if (n > MIRROR_MAX) {
        config_fail(x, s, "at most %d upstreams", MIRROR_MAX);
        return;
    }
    struct config_upstream *v = xcalloc((size_t)n + 1, sizeof *v);
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
        if (mirror_entry(x, g, &v[i]) < 0) {
            bad = 1;
            continue;
        }
        defaults += v[i].is_default;
        for (int j = 0; j < i; j++) {
            if (!v[j].ns)
                continue;
            if (strcasecmp(v[i].ns, v[j].ns) == 0) {
                config_fail(x, g, "ns %s is named twice", v[i].ns);
                bad = 1;
            } else if (mirror_prefix_overlap(v[i].prefix, v[j].prefix)) {
                config_fail(x, g, "prefix %s overlaps %s's (%s): each upstream needs its own", v[i].prefix,
                            v[j].ns, v[j].prefix);
                bad = 1;
            }
        }
    }
    if (defaults > 1) {
        config_fail(x, s, "at most one upstream may be the default (requests without ?ns=)");
        bad = 1;
    }
    if (bad) {
        for (int i = 0; i < n; i++)
            mirror_upstream_free(&v[i]);
        free(v);
        return;
    }
    config_mirror_free(x->c);
    x->c->mirror = v;
    x->c->n_mirror = (size_t)n;
}

void config_key_mirror_timeout(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, 100, 600000, &v) == 0)
        x->c->mirror_timeout_ms = (int)v;
}

void config_key_mirror_stall(struct config_ctx *x, const config_setting_t *s)
{
    long long v;
    if (config_get_int(x, s, 1, 3600, &v) == 0)
        x->c->mirror_stall_s = (int)v;
}

void config_key_mirror_writable(struct config_ctx *x, const config_setting_t *s)
{
    config_get_bool(x, s, &x->c->mirror_writable);
}

void config_mirror_dump(const struct config *c, FILE *out)
{
    if (c->n_mirror == 0) {
        fputs("# mirror: not set (no pull-through mirror)\n", out);
    } else {
        fputs("mirror = (\n", out);
        for (size_t i = 0; i < c->n_mirror; i++) {
            const struct config_upstream *u = &c->mirror[i];
            fputs("  { ", out);
            config_dump_str(out, "ns", u->ns);
            config_dump_str(out, "    url", u->url);
            config_dump_str(out, "    prefix", u->prefix);
            if (u->username) {
                config_dump_str(out, "    username", u->username);
                fputs("    # password: set (not shown)\n", out);
            }
            fprintf(out, "    freshness = %d;\n    default = %s; }%s\n", u->freshness,
                    u->is_default ? "true" : "false", i + 1 < c->n_mirror ? "," : "");
        }
        fputs(");\n", out);
    }
    fprintf(out, "mirror_timeout_ms = %d;\n", c->mirror_timeout_ms);
    fprintf(out, "mirror_stall_s = %d;\n", c->mirror_stall_s);
    fprintf(out, "mirror_writable = %s;\n", c->mirror_writable ? "true" : "false");
}
