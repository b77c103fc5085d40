/* registry: the entry of the distribution API. registry_handle() finds the
 * route, refuses anonymous writes when the front server must authenticate
 * them, applies the rules every repository route shares (name grammar,
 * OCI layouts on IPFS, read-only mode) and calls the handler the dispatch
 * table names for the route and method; the table also answers 405 with
 * an Allow header derived from its rows. Handlers never call back here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/registry/registry.h"
#include "core/registry/admit.h"
#include "core/registry/handlers.h"
#include "core/registry/h_common.h"
#include "core/names.h"
#include "core/p2pstate.h"
#include "core/query.h"
#include "core/xalloc.h"
#include "core/ui/ui.h"
#include "oci/layout.h"

enum reg_method {
    RM_GET = 1 << 0,
    RM_HEAD = 1 << 1,
    RM_POST = 1 << 2,
    RM_PATCH = 1 << 3,
    RM_PUT = 1 << 4,
    RM_DELETE = 1 << 5,
};
#define RM_READ (RM_GET | RM_HEAD)

/* In the order Allow lists them. */
static const struct {
    enum reg_method bit;
    const char *name;
} reg_methods[] = {
    { RM_GET, "GET" }, { RM_HEAD, "HEAD" }, { RM_POST, "POST" },
    { RM_PATCH, "PATCH" }, { RM_PUT, "PUT" }, { RM_DELETE, "DELETE" },
};

struct reg_route {
    enum route_kind kind;
    unsigned methods;     /* enum reg_method bits */
    h_fn *handler;
};

static const struct reg_route reg_routes[] = {
    { ROUTE_BASE, RM_READ, h_base },
    { ROUTE_CATALOG, RM_READ, h_catalog },
    { ROUTE_P2P, RM_READ, h_p2p },
    { ROUTE_BLOB, RM_READ, h_blob_get },
    { ROUTE_BLOB, RM_DELETE, h_blob_delete },
    { ROUTE_UPLOAD_START, RM_POST, h_upload_post },
    { ROUTE_UPLOAD, RM_READ, h_upload_status },
    { ROUTE_UPLOAD, RM_PATCH, h_upload_patch },
    { ROUTE_UPLOAD, RM_PUT, h_upload_put },
    { ROUTE_UPLOAD, RM_DELETE, h_upload_delete },
    { ROUTE_MANIFEST, RM_READ, h_manifest_get },
    { ROUTE_MANIFEST, RM_PUT, h_manifest_put },
    { ROUTE_MANIFEST, RM_DELETE, h_manifest_delete },
    { ROUTE_TAGS, RM_READ, h_tags_list },
    { ROUTE_REFERRERS, RM_READ, h_referrers },
};

/* metrics_path, when set, is one more read-only endpoint. */
static const struct reg_route reg_metrics_route = { ROUTE_P2P, RM_READ, h_metrics };

void registry_init(struct registry *reg, const struct registry_opts *opts, struct store *store)
{
    memset(reg, 0, sizeof *reg);
    reg->opts = *opts;
    reg->store = store;
}

static unsigned reg_method_bit(const char *method)
{
    for (size_t i = 0; i < sizeof reg_methods / sizeof reg_methods[0]; i++)
        if (strcmp(method, reg_methods[i].name) == 0)
            return reg_methods[i].bit;
    return 0;
}

static int reg_is_read(const char *method)
{
    return (reg_method_bit(method) & RM_READ) != 0;
}

/* Allow: the methods in allowed (RFC 9110: every 405 carries it; empty
 * when the resource allows none). */
static void reg_allow(struct response *resp, unsigned allowed)
{
    char allow[64];   /* all six methods take 38 bytes */
    size_t len = 0;
    allow[0] = '\0';
    for (size_t i = 0; i < sizeof reg_methods / sizeof reg_methods[0]; i++)
        if (allowed & reg_methods[i].bit)
            len += (size_t)snprintf(allow + len, sizeof allow - len, "%s%s", len ? ", " : "",
                                    reg_methods[i].name);
    resp_header(resp, "Allow", "%s", allow);
}

/* The read methods reg_routes offers for kind: what a read-only refusal allows. */
static unsigned reg_read_methods(enum route_kind kind)
{
    unsigned m = 0;
    for (size_t i = 0; i < sizeof reg_routes / sizeof reg_routes[0]; i++)
        if (reg_routes[i].kind == kind)
            m |= reg_routes[i].methods & RM_READ;
    return m;
}

/* 405 with Allow: every method some row of routes offers for kind. */
static void reg_method_not_allowed(struct response *resp, unsigned allowed)
{
    reg_allow(resp, allowed);
    resp_error(resp, OCI_METHOD, "method not allowed on this endpoint", NULL);
}

/* The handler of rt->kind and the request's method among routes[0..n). */
static void reg_dispatch(const struct reg_route *routes, size_t n, struct registry *reg,
                         struct request *req, struct response *resp, const struct route *rt)
{
    unsigned m = reg_method_bit(req->method), allowed = 0;

    for (size_t i = 0; i < n; i++) {
        if (routes[i].kind != rt->kind)
            continue;
        if (routes[i].methods & m) {
            if (admit_begin(reg, req, resp) == 0) {
                routes[i].handler(reg, req, resp, rt);
                admit_end(reg);
            }
            return;
        }
        allowed |= routes[i].methods;
    }
    if (allowed)
        reg_method_not_allowed(resp, allowed);
    else
        resp_error(resp, OCI_NOT_FOUND, "no such API endpoint", NULL);
}

void h_base(struct registry *reg, struct request *req, struct response *resp, const struct route *rt)
{
    (void)reg;
    (void)req;
    (void)rt;
    h_json(resp, 200, "application/json", "{}");
}

/* With require_remote_user, a write (any method but GET and HEAD, on every
 * API route; the metrics path answers reads only) needs the user the front
 * server authenticated: a front server misconfigured to let writes through
 * without asking for credentials gets them refused here, before anything
 * is looked at, instead of committed. Returns 1 when the request was
 * refused. */
static int reg_refuse_anonymous_write(struct registry *reg, struct request *req, struct response *resp)
{
    const char *user;
    if (!reg->opts.require_remote_user || reg_is_read(req->method))
        return 0;
    user = req_header(req, "REMOTE_USER");
    if (user && *user)
        return 0;
    /* a 401 names a scheme (RFC 9110); the front server is the one to ask */
    resp_header(resp, "WWW-Authenticate", "Basic realm=\"oci-registry-p2p\"");
    resp_error(resp, OCI_UNAUTHORIZED, "writes need an authenticated user",
               "the front server passed no REMOTE_USER: it must authenticate every write (require_remote_user is set)");
    return 1;
}

/* Writes are refused as a whole when readonly is set (as distribution
 * does in its read-only mode). Returns 1 when the request was refused. */
static int reg_refuse_write(struct registry *reg, struct request *req, struct response *resp,
                            const struct route *rt)
{
    if (!reg->opts.readonly || reg_is_read(req->method))
        return 0;
    reg_allow(resp, reg_read_methods(rt->kind));
    resp_error(resp, OCI_UNSUPPORTED, "this registry is read-only", NULL);
    return 1;
}

static void reg_name_invalid(struct response *resp, const struct route *rt)
{
    /* "ipfs/Qm..." fails the grammar for its upper case: say what works */
    if (layout_name_is_cidv0(rt->name))
        resp_error(resp, OCI_NAME_INVALID, "CIDv0 (Qm...) is not a valid repository name: use the CIDv1 base32 form of the CID (ipfs cid base32 <cid>)",
                   rt->name);
    else
        resp_error(resp, OCI_NAME_INVALID, "invalid repository name",
                   "names are lower-case components [a-z0-9] separated by '.', '_', '__', '-' or '/', at most 255 characters");
}

const char *registry_key_id(struct registry *reg)
{
    const char *name = reg->opts.writeipnskey;
    if (!reg->own_key_id[0] && name && *name) {
        struct p2p_pubstate ps;
        if (p2pstate_read_pub(reg->opts.statedir, &ps) == 0 && strcmp(ps.key, name) == 0)
            snprintf(reg->own_key_id, sizeof reg->own_key_id, "%s", ps.key_id);
    }
    return reg->own_key_id;
}

/* 1 if key (the <key> of ipns/<key>/...) is this registry's write key: the
 * keystore name writeipnskey, or its ID. */
static int reg_own_key(struct registry *reg, const char *key)
{
    const char *name = reg->opts.writeipnskey;
    if (!name || !*name)
        return 0;
    return strcmp(key, name) == 0 || strcmp(key, registry_key_id(reg)) == 0;
}

/* 405 for a write to a layout this registry does not write, saying where
 * pushes go. */
static void reg_layout_read_only(struct registry *reg, struct response *resp, const struct route *rt)
{
    char msg[384];
    reg_allow(resp, reg_read_methods(rt->kind));
    if (reg->layout_rw) {
        const char *id = registry_key_id(reg);
        snprintf(msg, sizeof msg,
                 "OCI image layouts under ipfs/ and under other keys are read-only: push under ipns/%s/<path> (this registry's key)",
                 *id ? id : reg->opts.writeipnskey);
    } else {
        snprintf(msg, sizeof msg, "OCI image layouts on IPFS are read-only here: with writeipnskey set, layouts are pushed under ipns/<that key>/<path>");
    }
    resp_error(resp, OCI_UNSUPPORTED, msg, rt->name);
}

/* ipfs/<cid>... and ipns/<name>... are OCI image layouts on IPFS: served by
 * the layout store, read-only; ipns/<own key>/<path> by the layout writer,
 * reads and writes (so a push reads back at once, with no IPNS between).
 * The handlers use reg->store, so they get a view of the registry whose
 * store is the one chosen. Returns 1 if rt named a layout (and the request
 * was answered). */
static int reg_layout_dispatch(struct registry *reg, struct request *req, struct response *resp,
                               const struct route *rt)
{
    struct layout_name ln;
    const char *why = NULL;
    if (!layout_name_parse(rt->name, &ln))
        return 0;
    int write = !reg_is_read(req->method);
    struct store *st = reg->layout_store;
    if (reg->layout_rw && ln.ns == LAYOUT_IPNS && reg_own_key(reg, ln.root)) {
        if (layout_push_path_check(ln.sub, &why) == 0)
            st = reg->layout_rw;
    }
    if (write && reg_refuse_write(reg, req, resp, rt))
        ;
    else if (write && why)
        resp_error(resp, OCI_NAME_INVALID, why, rt->name);
    else if (!st)
        resp_error(resp, OCI_NAME_UNKNOWN, "this registry does not serve ipfs/ and ipns/ names", rt->name);
    else if (write && st != reg->layout_rw)
        reg_layout_read_only(reg, resp, rt);
    else {
        struct registry view = *reg;
        view.store = st;
        reg_dispatch(reg_routes, sizeof reg_routes / sizeof reg_routes[0], &view, req, resp, rt);
    }
    layout_name_free(&ln);
    return 1;
}

/* The mirrored namespace whose prefix name is under, or NULL. */
static const struct registry_mirror_ns *reg_mirror_prefix(const struct registry *reg, const char *name)
{
    for (size_t i = 0; i < reg->opts.n_mirror_ns; i++) {
        size_t n = strlen(reg->opts.mirror_ns[i].prefix);
        if (strncmp(name, reg->opts.mirror_ns[i].prefix, n) == 0 && name[n] == '/')
            return &reg->opts.mirror_ns[i];
    }
    return NULL;
}

/* The pull-through mirror (docs/design-mirror.md). ?ns=<host> names a
 * configured upstream (any other answers 404: never an open proxy) and the
 * name becomes <prefix>/<name>; without ns, a name under a prefix is the
 * mirror's, and a read of a name this registry does not have goes to the
 * default upstream, if one is set. Writes there are refused unless
 * mirror_writable. Returns 1 if the request was answered. */
static int reg_mirror_dispatch(struct registry *reg, struct request *req, struct response *resp,
                               const struct route *rt)
{
    const struct registry_mirror_ns *m = NULL;
    char *ns = reg->mirror && rt->name ? query_get(req->query, "ns") : NULL;
    char *name = NULL;
    int write = !reg_is_read(req->method);
    if (!reg->mirror || !rt->name)
        return 0;
    if (ns && *ns) {
        for (size_t i = 0; i < reg->opts.n_mirror_ns && !m; i++)
            if (strcasecmp(ns, reg->opts.mirror_ns[i].ns) == 0)
                m = &reg->opts.mirror_ns[i];
        if (!m) {
            resp_error(resp, OCI_NAME_UNKNOWN, "not a registry this mirror serves", ns);
            free(ns);
            return 1;
        }
        name = xasprintf("%s/%s", m->prefix, rt->name);
    } else if ((m = reg_mirror_prefix(reg, rt->name))) {
        name = xstrdup(rt->name);
    } else {
        for (size_t i = 0; i < reg->opts.n_mirror_ns && !m; i++)
            if (reg->opts.mirror_ns[i].is_default)
                m = &reg->opts.mirror_ns[i];
        /* (layout names never get here: reg_layout_dispatch took them) */
        if (!m || write || reg->store->ops->repo_exists(reg->store, rt->name) != 0) {
            free(ns);
            return 0;   /* this registry's own (or no default upstream) */
        }
        name = xasprintf("%s/%s", m->prefix, rt->name);
    }
    free(ns);
    if (write && !reg->opts.mirror_writable) {
        reg_allow(resp, reg_read_methods(rt->kind));
        resp_error(resp, OCI_UNSUPPORTED, "the mirror's repositories are read-only (mirror_writable is off)", name);
    } else if (!name_valid(name)) {
        resp_error(resp, OCI_NAME_INVALID, "the mirrored name is too long or invalid with its prefix", name);
    } else {
        struct registry view = *reg;
        struct route mrt = *rt;
        view.store = reg->mirror;
        mrt.name = name;
        reg_dispatch(reg_routes, sizeof reg_routes / sizeof reg_routes[0], &view, req, resp, &mrt);
    }
    free(name);
    return 1;
}

void registry_handle(struct registry *reg, struct request *req, struct response *resp)
{
    struct route rt;

    resp->head_only = strcmp(req->method, "HEAD") == 0;
    resp_header(resp, "Docker-Distribution-API-Version", "registry/2.0");
    if (reg->opts.metrics_path && *reg->opts.metrics_path &&
        strcmp(req->path, reg->opts.metrics_path) == 0) {
        memset(&rt, 0, sizeof rt);
        rt.kind = ROUTE_P2P;
        req->route = rt.kind;
        reg_dispatch(&reg_metrics_route, 1, reg, req, resp, &rt);
        return;
    }
    /* the web view (off by default) is no API route: its own rules */
    if (ui_handle(reg, req, resp))
        return;
    route_parse(req->path, &rt);
    req->route = rt.kind;
    /* an anonymous write goes no further; then, on a route that names a
     * repository, its name's rules come first */
    if (reg_refuse_anonymous_write(reg, req, resp))
        ;
    else if (rt.name && !rt.name_valid)
        reg_name_invalid(resp, &rt);
    else if (rt.name && reg_layout_dispatch(reg, req, resp, &rt))
        ;
    else if (rt.name && reg_mirror_dispatch(reg, req, resp, &rt))
        ;
    else if (!(rt.name && reg_refuse_write(reg, req, resp, &rt)))
        reg_dispatch(reg_routes, sizeof reg_routes / sizeof reg_routes[0], reg, req, resp, &rt);
    route_free(&rt);
}
