/* router: splits the raw request path (never a decoded PATH_INFO) into one of
 * the distribution API endpoints. Digests, tags and upload ids contain no '/',
 * so the endpoint is recognised from the end of the path and the name is
 * everything between "/v2/" and it. */
#ifndef CORE_REGISTRY_ROUTER_H
#define CORE_REGISTRY_ROUTER_H

enum route_kind {
    ROUTE_NOT_FOUND = 0,  /* not an API path: 404 */
    ROUTE_BASE,           /* /v2/ or /v2 */
    ROUTE_CATALOG,        /* /v2/_catalog */
    ROUTE_BLOB,           /* /v2/<name>/blobs/<digest>        ref = digest string */
    ROUTE_UPLOAD_START,   /* /v2/<name>/blobs/uploads/        ref = NULL */
    ROUTE_UPLOAD,         /* /v2/<name>/blobs/uploads/<id>    ref = id */
    ROUTE_MANIFEST,       /* /v2/<name>/manifests/<reference> ref = tag or digest */
    ROUTE_TAGS,           /* /v2/<name>/tags/list             ref = NULL */
    ROUTE_REFERRERS,      /* /v2/<name>/referrers/<digest>    ref = digest string */
    ROUTE_P2P,            /* /v2/_p2p/<word>: this registry's own endpoints (status, health, metrics); ref = word */
};

struct route {
    enum route_kind kind;
    char *name;   /* owned; NULL for BASE, CATALOG, NOT_FOUND */
    char *ref;    /* owned; may be NULL */
    int name_valid;   /* 0 when the endpoint was recognised but the name breaks the grammar */
};

/* path is the path part of REQUEST_URI, exactly as received. Fills *r
 * (free with route_free). Never fails; unknown shapes are ROUTE_NOT_FOUND. */
void route_parse(const char *path, struct route *r);
void route_free(struct route *r);
/* A short lower-case name for logs and metrics labels ("blob", "upload",
 * ...); "other" for a kind without one. Static string. */
const char *route_kind_name(enum route_kind k);

#endif
