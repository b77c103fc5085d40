/* router: recognises distribution API endpoints from the end of the raw
 * path. Digests, tags and upload ids contain no '/', and repository names
 * may contain "blobs" or "manifests" components, so matching from the end is
 * the only unambiguous way ("/v2/a/blobs/b/manifests/latest" is repository
 * "a/blobs/b"). */
#include <string.h>
#include <stdlib.h>
#include "core/registry/router.h"
#include "core/names.h"
#include "core/xalloc.h"

/* Does s[0..len) end with suffix? */
static int router_ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

static void router_set(struct route *r, enum route_kind kind, const char *name, size_t name_len,
                       const char *ref)
{
    r->kind = kind;
    r->name = xstrndup(name, name_len);
    r->ref = ref ? xstrdup(ref) : NULL;
    r->name_valid = name_valid(r->name);
}

void route_parse(const char *path, struct route *r)
{
    r->kind = ROUTE_NOT_FOUND;
    r->name = NULL;
    r->ref = NULL;
    r->name_valid = 0;
    if (!path)
        return;
    if (strcmp(path, "/v2") == 0 || strcmp(path, "/v2/") == 0) {
        r->kind = ROUTE_BASE;
        return;
    }
    if (strncmp(path, "/v2/", 4) != 0)
        return;
    if (strcmp(path, "/v2/_catalog") == 0) {
        r->kind = ROUTE_CATALOG;
        return;
    }
    if (strncmp(path, "/v2/_p2p/", 9) == 0) {
        /* this registry's own endpoints; repository names never start with '_' */
        const char *w = path + 9;
        if (*w && strspn(w, "abcdefghijklmnopqrstuvwxyz") == strlen(w)) {
            r->kind = ROUTE_P2P;
            r->ref = xstrdup(w);
        }
        return;
    }
    const char *rest = path + 4;   /* "<name>/<endpoint>" */
    size_t len = strlen(rest);

    /* endpoints without a trailing reference; each suffix starts with '/',
     * so there is always a '/' between the name and the endpoint */
    static const struct { const char *suffix; enum route_kind kind; } fixed[] = {
        { "/blobs/uploads/", ROUTE_UPLOAD_START },
        { "/blobs/uploads", ROUTE_UPLOAD_START },
        { "/tags/list", ROUTE_TAGS },
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (router_ends_with(rest, len, fixed[i].suffix)) {
            router_set(r, fixed[i].kind, rest, len - strlen(fixed[i].suffix), NULL);
            return;
        }
    }

    /* "<name>/<endpoint>/<ref>": the ref is the last component */
    const char *slash = strrchr(rest, '/');
    if (!slash || slash[1] == '\0')
        return;   /* no ref, or an empty one */
    const char *ref = slash + 1;
    size_t plen = (size_t)(slash - rest);
    static const struct { const char *suffix; enum route_kind kind; } with_ref[] = {
        { "/blobs/uploads", ROUTE_UPLOAD },   /* before "/blobs": longer match first */
        { "/blobs", ROUTE_BLOB },
        { "/manifests", ROUTE_MANIFEST },
        { "/referrers", ROUTE_REFERRERS },
    };
    for (size_t i = 0; i < sizeof with_ref / sizeof with_ref[0]; i++) {
        if (router_ends_with(rest, plen, with_ref[i].suffix)) {
            router_set(r, with_ref[i].kind, rest, plen - strlen(with_ref[i].suffix), ref);
            return;
        }
    }
}

void route_free(struct route *r)
{
    free(r->name);
    free(r->ref);
    r->name = NULL;
    r->ref = NULL;
    r->kind = ROUTE_NOT_FOUND;
}

const char *route_kind_name(enum route_kind k)
{
    static const char *const names[] = {
        [ROUTE_NOT_FOUND] = "not_found", [ROUTE_BASE] = "base", [ROUTE_CATALOG] = "catalog",
        [ROUTE_BLOB] = "blob", [ROUTE_UPLOAD_START] = "upload_start", [ROUTE_UPLOAD] = "upload",
        [ROUTE_MANIFEST] = "manifest", [ROUTE_TAGS] = "tags", [ROUTE_REFERRERS] = "referrers",
        [ROUTE_P2P] = "p2p",
    };
    if ((unsigned)k < sizeof names / sizeof names[0] && names[k])
        return names[k];
    return "other";
}
