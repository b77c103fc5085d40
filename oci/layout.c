/* layout: OCI image layout rules (see layout.h). */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "oci/layout.h"
#include "oci/manifest.h"
#include "core/names.h"
#include "core/xalloc.h"

#define LAYOUT_REF_ANNOTATION "org.opencontainers.image.ref.name"

/* ---- names ---- */

int layout_name_parse(const char *name, struct layout_name *out)
{
    enum layout_ns ns;
    if (strncmp(name, "ipfs/", 5) == 0)
        ns = LAYOUT_IPFS;
    else if (strncmp(name, "ipns/", 5) == 0)
        ns = LAYOUT_IPNS;
    else
        return 0;
    const char *root = name + 5;
    const char *slash = strchr(root, '/');
    size_t rlen = slash ? (size_t)(slash - root) : strlen(root);
    if (rlen == 0)
        return 0;
    out->ns = ns;
    out->root = xstrndup(root, rlen);
    out->sub = xstrdup(slash ? slash + 1 : "");
    return 1;
}

void layout_name_free(struct layout_name *n)
{
    free(n->root);
    free(n->sub);
    n->root = n->sub = NULL;
}

int layout_push_path_check(const char *sub, const char **why)
{
    static const char *const own[] = { "blobs", "index.json", "oci-layout" };
    const char *p = sub;
    int first = 1;
    if (!*sub) {
        *why = "a path is needed after the key: ipns/<key>/<path>";
        return -1;
    }
    for (;;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
            *why = "a path component is empty, '.' or '..'";
            return -1;
        }
        if (first && n == 6 && memcmp(p, "docker", 6) == 0) {
            *why = "'docker' is reserved as the first component (storage mode's tree)";
            return -1;
        }
        for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
            if (strlen(own[i]) == n && memcmp(p, own[i], n) == 0) {
                *why = "'blobs', 'index.json' and 'oci-layout' are a layout's own names, not path components";
                return -1;
            }
        first = 0;
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

int layout_name_is_cidv0(const char *name)
{
    /* CIDv0 is base58btc multihash: "Qm" + 44 characters */
    return name && strncmp(name, "ipfs/Qm", 7) == 0;
}

/* ---- parsing ---- */

static json_object *layout_json(const char *data, size_t len, const char *what, char **err)
{
    json_tokener *tok = json_tokener_new();
    json_object *o = NULL;
    if (len > (size_t)INT32_MAX) {
        *err = xasprintf("%s: too large", what);
    } else {
        o = json_tokener_parse_ex(tok, data, (int)len);
        enum json_tokener_error je = json_tokener_get_error(tok);
        if (!o || je != json_tokener_success) {
            *err = xasprintf("%s is not JSON: %s", what,
                             je == json_tokener_success ? "empty" : json_tokener_error_desc(je));
            json_object_put(o);
            o = NULL;
        } else if (!json_object_is_type(o, json_type_object)) {
            *err = xasprintf("%s is not a JSON object", what);
            json_object_put(o);
            o = NULL;
        }
    }
    json_tokener_free(tok);
    return o;
}

int layout_marker_check(const char *data, size_t len, char **err)
{
    json_object *o = layout_json(data, len, "oci-layout", err), *v;
    if (!o)
        return -1;
    int rc = 0;
    if (!json_object_object_get_ex(o, "imageLayoutVersion", &v) ||
        !json_object_is_type(v, json_type_string)) {
        *err = xstrdup("oci-layout has no imageLayoutVersion");
        rc = -1;
    } else if (strncmp(json_object_get_string(v), "1.", 2) != 0) {
        *err = xasprintf("oci-layout: unsupported imageLayoutVersion %.40s", json_object_get_string(v));
        rc = -1;
    }
    json_object_put(o);
    return rc;
}

static char *layout_str(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return xstrdup(json_object_get_string(v));
}

/* One descriptor of "manifests"; 0 ok, -1 with *err. */
static int layout_entry_parse(json_object *d, size_t i, struct layout_entry *e, char **err)
{
    json_object *v, *ann;
    memset(e, 0, sizeof *e);
    if (!json_object_is_type(d, json_type_object)) {
        *err = xasprintf("manifests[%zu] is not an object", i);
        return -1;
    }
    if (!json_object_object_get_ex(d, "digest", &v) || !json_object_is_type(v, json_type_string) ||
        digest_parse(json_object_get_string(v), &e->digest) != DIGEST_PARSE_OK) {
        *err = xasprintf("manifests[%zu]: missing or invalid digest", i);
        return -1;
    }
    if (!json_object_object_get_ex(d, "size", &v) || !json_object_is_type(v, json_type_int) ||
        json_object_get_int64(v) < 0) {
        *err = xasprintf("manifests[%zu]: missing or invalid size", i);
        return -1;
    }
    e->size = (uint64_t)json_object_get_int64(v);
    e->media_type = layout_str(d, "mediaType");
    if (json_object_object_get_ex(d, "annotations", &ann) && json_object_is_type(ann, json_type_object))
        e->ref = layout_str(ann, LAYOUT_REF_ANNOTATION);
    return 0;
}

int layout_index_parse(const char *data, size_t len, struct layout_index *out, char **err)
{
    out->v = NULL;
    out->n = 0;
    json_object *o = layout_json(data, len, "index", err), *arr;
    if (!o)
        return -1;
    char *e = NULL;
    int rc = 0;
    if (!json_object_object_get_ex(o, "manifests", &arr) || !json_object_is_type(arr, json_type_array)) {
        e = xstrdup("no \"manifests\" array");
        rc = -1;
    } else if (json_object_array_length(arr) > LAYOUT_ENTRIES_MAX) {
        e = xasprintf("%zu entries (at most %d are read)", json_object_array_length(arr),
                      LAYOUT_ENTRIES_MAX);
        rc = -1;
    } else {
        size_t n = json_object_array_length(arr);
        out->v = xcalloc(n ? n : 1, sizeof *out->v);
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (layout_entry_parse(json_object_array_get_idx(arr, i), i, &out->v[out->n], &e) < 0)
                rc = -1;
            else
                out->n++;
        }
    }
    json_object_put(o);
    if (rc < 0) {
        layout_index_free(out);
        *err = e;
    }
    return rc;
}

void layout_index_free(struct layout_index *ix)
{
    for (size_t i = 0; i < ix->n; i++) {
        free(ix->v[i].ref);
        free(ix->v[i].media_type);
    }
    free(ix->v);
    ix->v = NULL;
    ix->n = 0;
}

int layout_entry_is_index(const struct layout_entry *e)
{
    return e->media_type &&
           (strcmp(e->media_type, MT_OCI_INDEX) == 0 || strcmp(e->media_type, MT_DOCKER_LIST) == 0);
}

/* ---- tags ---- */

/* Splits a reference "[host/]path[:tag]" into its repository part (length
 * *rlen) and tag (NULL when none). A digest reference ("x@sha256:...") has
 * no tag. The tag's ':' is the last one after the last '/', so a registry
 * port ("host:5000/x") is never taken for one. */
static const char *layout_split_ref(const char *ref, size_t *rlen)
{
    if (strchr(ref, '@'))
        return NULL;
    const char *slash = strrchr(ref, '/');
    const char *colon = strrchr(slash ? slash : ref, ':');
    if (!colon)
        return NULL;
    *rlen = (size_t)(colon - ref);
    return colon + 1;
}

static int layout_put_tag(const char *t, char *tag)
{
    size_t n = strlen(t);
    if (n > TAG_MAX_LEN || !tag_valid(t))
        return 0;
    memcpy(tag, t, n + 1);
    return 1;
}

int layout_ref_tag(const char *ref, const char *filter, char *tag)
{
    size_t rlen = 0;
    if (!ref || !*ref)
        return 0;
    if (!filter) {
        if (layout_put_tag(ref, tag))
            return 2;
        const char *t = layout_split_ref(ref, &rlen);
        return t && rlen > 0 && layout_put_tag(t, tag) ? 1 : 0;
    }
    const char *t = layout_split_ref(ref, &rlen);
    size_t flen = strlen(filter);
    if (!t || rlen < flen || memcmp(ref + rlen - flen, filter, flen) != 0)
        return 0;
    if (rlen == flen)
        return layout_put_tag(t, tag) ? 2 : 0;
    /* "docker.io/library/x:v1" names image x too, but "libx:v1" does not */
    return ref[rlen - flen - 1] == '/' && layout_put_tag(t, tag) ? 1 : 0;
}

long layout_find_tag(const struct layout_index *ix, const char *filter, const char *tag)
{
    char t[TAG_MAX_LEN + 1];
    long partial = -1;
    for (size_t i = 0; i < ix->n; i++) {
        int k = layout_ref_tag(ix->v[i].ref, filter, t);
        if (k == 0 || strcmp(t, tag) != 0)
            continue;
        if (k == 2)
            return (long)i;
        if (partial < 0)
            partial = (long)i;
    }
    return partial;
}

void layout_tags(const struct layout_index *ix, const char *filter, char ***tags, size_t *n)
{
    char t[TAG_MAX_LEN + 1];
    for (size_t i = 0; i < ix->n; i++) {
        if (!layout_ref_tag(ix->v[i].ref, filter, t))
            continue;
        int dup = 0;
        for (size_t j = 0; j < *n && !dup; j++)
            dup = strcmp((*tags)[j], t) == 0;
        if (dup)
            continue;
        *tags = xrealloc(*tags, (*n + 1) * sizeof **tags);
        (*tags)[(*n)++] = xstrdup(t);
    }
}
