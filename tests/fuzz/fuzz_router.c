/* fuzz_router: route_parse() on any raw request path. Beyond not crashing:
 * a route that names a repository is exactly "/v2/" + name + endpoint +
 * ref (nothing of the path is lost or invented), a ref never holds '/', and
 * a name the grammar accepts can never climb out of the storage root. */
#include <stdlib.h>
#include <string.h>
#include "tests/fuzz/fuzz.h"
#include "core/names.h"
#include "core/registry/router.h"
#include "core/xalloc.h"
#include "oci/layout.h"

/* The endpoint text between name and ref that route kind k was matched by. */
static int fuzz_router_rebuilds(const struct route *r, const char *path)
{
    static const struct {
        enum route_kind kind;
        const char *mid;
    } mids[] = {
        { ROUTE_UPLOAD_START, "/blobs/uploads/" }, { ROUTE_UPLOAD_START, "/blobs/uploads" },
        { ROUTE_TAGS, "/tags/list" }, { ROUTE_UPLOAD, "/blobs/uploads/" },
        { ROUTE_BLOB, "/blobs/" }, { ROUTE_MANIFEST, "/manifests/" },
        { ROUTE_REFERRERS, "/referrers/" },
    };
    for (size_t i = 0; i < sizeof mids / sizeof mids[0]; i++) {
        if (mids[i].kind != r->kind)
            continue;
        char *p = xasprintf("/v2/%s%s%s", r->name, mids[i].mid, r->ref ? r->ref : "");
        int same = strcmp(p, path) == 0;
        free(p);
        if (same)
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = fuzz_cstr(data, size);
    struct route r;

    route_parse(path, &r);
    FUZZ_ASSERT(route_kind_name(r.kind) != NULL);
    switch (r.kind) {
    case ROUTE_NOT_FOUND:
        FUZZ_ASSERT(!r.name && !r.ref);
        break;
    case ROUTE_BASE:
        FUZZ_ASSERT(strcmp(path, "/v2") == 0 || strcmp(path, "/v2/") == 0);
        break;
    case ROUTE_CATALOG:
        FUZZ_ASSERT(strcmp(path, "/v2/_catalog") == 0);
        break;
    case ROUTE_P2P:
        FUZZ_ASSERT(!r.name && r.ref && *r.ref);
        FUZZ_ASSERT(strspn(r.ref, "abcdefghijklmnopqrstuvwxyz") == strlen(r.ref));
        break;
    default:
        FUZZ_ASSERT(r.name != NULL);
        FUZZ_ASSERT(fuzz_router_rebuilds(&r, path));
        FUZZ_ASSERT(!r.ref || (*r.ref && !strchr(r.ref, '/')));
        FUZZ_ASSERT(r.name_valid == name_valid(r.name));
        break;
    }
    if (r.name && r.name_valid) {
        /* what registry_handle does next with a valid name */
        FUZZ_ASSERT(strlen(r.name) <= NAME_MAX_LEN);
        FUZZ_ASSERT(!strstr(r.name, "..") && r.name[0] != '/' && !strstr(r.name, "//"));
        FUZZ_ASSERT(!strpbrk(r.name, "%\\?#"));
        struct layout_name ln;
        if (layout_name_parse(r.name, &ln)) {
            FUZZ_ASSERT(*ln.root && !strchr(ln.root, '/'));
            layout_name_free(&ln);
        }
        FUZZ_ASSERT(!layout_name_is_cidv0(r.name));   /* upper case: never valid */
    }
    route_free(&r);
    free(path);
    return 0;
}
