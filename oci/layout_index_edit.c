/* layout_index_edit: editing an OCI layout's index.json (see
 * layout_index_edit.h). */
#include <stdlib.h>
#include <string.h>
#include "core/xalloc.h"
#include "core/xjson.h"
#include "oci/layout.h"
#include "oci/layout_index_edit.h"

#define OCI_INDEX_MT "application/vnd.oci.image.index.v1+json"

static json_object *ixe_manifests(json_object *ix)
{
    json_object *m = NULL;
    json_object_object_get_ex(ix, "manifests", &m);
    return m;
}

static const char *ixe_str(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* The tag a descriptor carries, or NULL. */
static const char *ixe_tag(json_object *desc)
{
    json_object *a = NULL;
    if (!json_object_object_get_ex(desc, "annotations", &a) || !json_object_is_type(a, json_type_object))
        return NULL;
    return ixe_str(a, LAYOUT_REF_NAME);
}

static int ixe_has_digest(json_object *desc, const char *ds)
{
    const char *d = ixe_str(desc, "digest");
    return d && strcmp(d, ds) == 0;
}

/* Whether a descriptor other than the one at skip holds ds. */
static int ixe_held_elsewhere(json_object *arr, size_t skip, const char *ds)
{
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++)
        if (i != skip && ixe_has_digest(json_object_array_get_idx(arr, i), ds))
            return 1;
    return 0;
}

/* Takes the tag off the descriptor at i; it goes if another descriptor
 * holds its digest. */
static void ixe_untag_at(json_object *arr, size_t i)
{
    json_object *desc = json_object_array_get_idx(arr, i), *a = NULL;
    if (json_object_object_get_ex(desc, "annotations", &a) && json_object_is_type(a, json_type_object)) {
        json_object_object_del(a, LAYOUT_REF_NAME);
        if (json_object_object_length(a) == 0)
            json_object_object_del(desc, "annotations");
    }
    const char *ds = ixe_str(desc, "digest");
    if (ds && ixe_held_elsewhere(arr, i, ds))
        json_object_array_del_idx(arr, i, 1);
}

static json_object *ixe_desc(const struct layout_desc *d, const char *tag)
{
    char ds[DIGEST_STR_MAX];
    json_object *o = xjson_object();
    xjson_set(o, "mediaType", xjson_string(d->media_type));
    xjson_set(o, "digest", xjson_string(digest_str(&d->digest, ds)));
    xjson_set(o, "size", xjson_uint64(d->size));
    if (d->artifact_type)
        xjson_set(o, "artifactType", xjson_string(d->artifact_type));
    if (tag) {
        json_object *a = xjson_object();
        xjson_set(a, LAYOUT_REF_NAME, xjson_string(tag));
        xjson_set(o, "annotations", a);
    }
    return o;
}

json_object *layout_ixe_new(void)
{
    json_object *ix = xjson_object();
    xjson_set(ix, "schemaVersion", xjson_int(2));
    xjson_set(ix, "mediaType", xjson_string(OCI_INDEX_MT));
    xjson_set(ix, "manifests", xjson_array());
    return ix;
}

int layout_ixe_load(const char *data, size_t len, json_object **out, char **err)
{
    *out = NULL;
    *err = NULL;
    json_tokener *tok = json_tokener_new();
    if (!tok)
        xalloc_die("json_tokener_new", 0);
    json_object *ix = len > INT32_MAX ? NULL : json_tokener_parse_ex(tok, data, (int)len);
    int complete = ix && json_tokener_get_error(tok) == json_tokener_success
                   && (size_t)json_tokener_get_parse_end(tok) == len;
    json_tokener_free(tok);
    if (!complete || !json_object_is_type(ix, json_type_object)) {
        *err = xstrdup("index.json is not one JSON object");
        json_object_put(ix);
        return -1;
    }
    json_object *arr = ixe_manifests(ix);
    if (!arr || !json_object_is_type(arr, json_type_array)) {
        *err = xstrdup("index.json has no \"manifests\" array");
        json_object_put(ix);
        return -1;
    }
    size_t n = json_object_array_length(arr);
    if (n > LAYOUT_ENTRIES_MAX) {
        *err = xasprintf("index.json has %zu manifests (at most %d)", n, LAYOUT_ENTRIES_MAX);
        json_object_put(ix);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *desc = json_object_array_get_idx(arr, i);
        const char *ds = json_object_is_type(desc, json_type_object) ? ixe_str(desc, "digest") : NULL;
        struct digest d;
        if (!ds || digest_parse(ds, &d) != DIGEST_PARSE_OK) {
            *err = xasprintf("index.json: manifests[%zu] has no valid digest", i);
            json_object_put(ix);
            return -1;
        }
    }
    *out = ix;
    return 0;
}

int layout_ixe_set_tag(json_object *ix, const char *tag, const struct layout_desc *d)
{
    json_object *arr = ixe_manifests(ix);
    char ds[DIGEST_STR_MAX];
    digest_str(&d->digest, ds);
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        json_object *desc = json_object_array_get_idx(arr, i);
        const char *t = ixe_tag(desc);
        if (t && strcmp(t, tag) == 0 && ixe_has_digest(desc, ds))
            return 0;
    }
    for (size_t i = n; i-- > 0;) {
        const char *t = ixe_tag(json_object_array_get_idx(arr, i));
        if (t && strcmp(t, tag) == 0)
            ixe_untag_at(arr, i);
    }
    n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        json_object *desc = json_object_array_get_idx(arr, i);
        if (ixe_has_digest(desc, ds) && !ixe_tag(desc)) {
            json_object *a = NULL;
            if (!json_object_object_get_ex(desc, "annotations", &a) || !json_object_is_type(a, json_type_object)) {
                a = xjson_object();
                xjson_set(desc, "annotations", a);
            }
            xjson_set(a, LAYOUT_REF_NAME, xjson_string(tag));
            return 1;
        }
    }
    xjson_push(arr, ixe_desc(d, tag));
    return 1;
}

int layout_ixe_hold(json_object *ix, const struct layout_desc *d)
{
    json_object *arr = ixe_manifests(ix);
    char ds[DIGEST_STR_MAX];
    digest_str(&d->digest, ds);
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++)
        if (ixe_has_digest(json_object_array_get_idx(arr, i), ds))
            return 0;
    xjson_push(arr, ixe_desc(d, NULL));
    return 1;
}

int layout_ixe_untag(json_object *ix, const char *tag)
{
    json_object *arr = ixe_manifests(ix);
    int found = 0;
    for (size_t i = json_object_array_length(arr); i-- > 0;) {
        const char *t = ixe_tag(json_object_array_get_idx(arr, i));
        if (t && strcmp(t, tag) == 0) {
            ixe_untag_at(arr, i);
            found = 1;
        }
    }
    return found;
}

size_t layout_ixe_remove(json_object *ix, const struct digest *d)
{
    json_object *arr = ixe_manifests(ix);
    char ds[DIGEST_STR_MAX];
    digest_str(d, ds);
    size_t gone = 0;
    for (size_t i = json_object_array_length(arr); i-- > 0;) {
        if (ixe_has_digest(json_object_array_get_idx(arr, i), ds)) {
            json_object_array_del_idx(arr, i, 1);
            gone++;
        }
    }
    return gone;
}

char *layout_ixe_text(json_object *ix)
{
    const char *s = json_object_to_json_string_ext(ix, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!s)
        xalloc_die("json_object_to_json_string_ext", 0);
    return xstrdup(s);
}
