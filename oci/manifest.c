/* manifest: parsing and validating pushed manifests (see manifest.h).
 *
 * Decisions, with the spec text behind them:
 * - The kind comes from the mediaType field, else the request Content-Type,
 *   else the shape ("manifests" array: index; otherwise image manifest).
 *   distribution-spec: "If a manifest includes a mediaType field, clients MUST
 *   set the Content-Type header to the value specified by the mediaType
 *   field", so a field and a Content-Type that differ are refused. The
 *   conformance suite always sends Content-Type equal to the field.
 * - A Content-Type we do not know (application/json, octet-stream, an
 *   artifact's own type) with no mediaType field is not an error: the body is
 *   taken by its shape and served as the OCI type it has. A body with both
 *   "manifests" and "config"/"layers" and no mediaType field is refused as
 *   ambiguous (GHSA-mc8v-mgrf-8f4m): otherwise the type it is served with on
 *   GET (manifest_sniff_media_type, from the stored bytes) could differ from
 *   the one it was validated as.
 * - Docker types need their mediaType field (Docker's own schema2 requires it,
 *   and so does CNCF distribution), so GET serves them with the right type.
 * - The OCI artifact manifest (vnd.oci.artifact.manifest.v1, "blobs") was
 *   dropped before image-spec 1.1.0 and no conformance mode pushes it: it is
 *   refused as an unsupported type.
 * - Descriptors follow image-spec descriptor.md and its JSON schema: mediaType
 *   (RFC 6838 shape), digest (a supported algorithm) and size (int64 >= 0)
 *   are required; urls, annotations and data are checked when present, and
 *   data must decode to exactly the bytes the digest and size describe.
 *   Unknown media types inside descriptors are accepted (the spec says they
 *   MUST NOT be an error).
 * - An optional field set to null is treated as absent (Go encoders emit null
 *   for nil slices and maps).
 * - "layers" may be empty or absent: the conformance suite pushes images with
 *   no layers, and image-spec only says it SHOULD have one.
 * - schemaVersion must be the integer 2 when present; Docker manifests must
 *   carry it. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/xjson.h"
#include "oci/manifest.h"
#include "core/errmsg.h"
#include "core/xalloc.h"

/* descriptor layers that are never pushed to a registry, so never checked */
#define MT_OCI_LAYER_NONDIST_PREFIX "application/vnd.oci.image.layer.nondistributable."
#define MT_DOCKER_FOREIGN_PREFIX    "application/vnd.docker.image.rootfs.foreign."

/* a path like "manifests[12].platform" or "layers[3]" fits with room to spare */
#define MANIFEST_WHERE_MAX 64

/* Sets *err (when err is not NULL) to a new message and returns -1, so
 * callers can `return manifest_fail(...)`. */
#define manifest_fail(err, ...) errmsg_set((err), -1, NULL, NULL, __VA_ARGS__)

/* The field, or NULL when absent or JSON null. */
static json_object *manifest_field(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v;   /* json-c stores null as a NULL value */
}

static int manifest_has_key(json_object *obj, const char *key)
{
    return json_object_object_get_ex(obj, key, NULL);
}

/* RFC 6838 section 4.2 restricted-name, as image-spec's schema writes it:
 * ^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$
 * Also what keeps a stored mediaType safe to echo in a response header. */
static int manifest_rfc6838_part(const char *s, size_t n)
{
    if (n == 0 || n > 127 || !isalnum((unsigned char)s[0]))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("!#$&^_.+-", s[i]))
            return 0;
    return 1;
}

static int manifest_media_type_valid(const char *s)
{
    const char *slash = strchr(s, '/');
    if (!slash)
        return 0;
    return manifest_rfc6838_part(s, (size_t)(slash - s)) &&
           manifest_rfc6838_part(slash + 1, strlen(slash + 1));
}

/* ASCII case-insensitive equality (media types are ASCII; no locale wanted). */
static int manifest_ascii_caseeq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

/* The supported manifest type equal to s (case-insensitive), as our constant; else NULL. */
static const char *manifest_known_type(const char *s)
{
    static const char *const known[] = { MT_OCI_MANIFEST, MT_OCI_INDEX, MT_DOCKER_V2, MT_DOCKER_LIST };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (manifest_ascii_caseeq(s, known[i]))
            return known[i];
    return NULL;
}

static int manifest_type_is_index(const char *mt)
{
    return strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0;
}

static int manifest_type_is_docker(const char *mt)
{
    return strcmp(mt, MT_DOCKER_V2) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0;
}

/* The media type of a Content-Type value without parameters or surrounding
 * blanks ("registries SHOULD ignore parameters"), into out. Returns out, or
 * NULL when ct is absent, empty, or too long to be a media type. */
static char *manifest_content_type_base(const char *ct, char *out, size_t outsz)
{
    if (!ct)
        return NULL;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= outsz)
        return NULL;
    memcpy(out, ct, n);
    out[n] = '\0';
    return out;
}

/* A grammar check of RFC 8259 run before json-c, because json-c's strict mode
 * still takes single-quoted keys and raw control characters in strings that
 * Go's encoding/json (what clients and other registries use) refuses. No
 * allocation; recursion is bounded by MANIFEST_JSON_DEPTH. */
#define MANIFEST_JSON_DEPTH 64

struct manifest_scan {
    const char *p;
    const char *end;
    const char *start;
    const char *what;   /* why it failed */
};

static int manifest_scan_value(struct manifest_scan *s, int depth);

static void manifest_scan_ws(struct manifest_scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int manifest_scan_fail(struct manifest_scan *s, const char *what)
{
    s->what = what;
    return -1;
}

static int manifest_is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int manifest_scan_string(struct manifest_scan *s)
{
    s->p++;   /* the opening quote */
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p++;
        if (c == '"')
            return 0;
        if (c < 0x20)
            return manifest_scan_fail(s, "control character in string");
        if (c != '\\')
            continue;
        if (s->p >= s->end)
            break;
        c = (unsigned char)*s->p++;
        if (c == 'u') {
            for (int i = 0; i < 4; i++, s->p++)
                if (s->p >= s->end || !manifest_is_hex(*s->p))
                    return manifest_scan_fail(s, "bad \\u escape");
        } else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
            return manifest_scan_fail(s, "bad escape");
        }
    }
    return manifest_scan_fail(s, "unterminated string");
}

static int manifest_scan_digits(struct manifest_scan *s)
{
    const char *from = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return s->p > from ? 0 : manifest_scan_fail(s, "bad number");
}

static int manifest_scan_number(struct manifest_scan *s)
{
    if (*s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;   /* no leading zeros: "0" stands alone */
    else if (manifest_scan_digits(s) < 0)
        return -1;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (manifest_scan_digits(s) < 0)
            return -1;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (manifest_scan_digits(s) < 0)
            return -1;
    }
    return 0;
}

static int manifest_scan_literal(struct manifest_scan *s, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return manifest_scan_fail(s, "unexpected character");
    s->p += n;
    return 0;
}

/* object or array: open is '{' or '[' */
static int manifest_scan_container(struct manifest_scan *s, int depth)
{
    char close = *s->p == '{' ? '}' : ']';
    int is_object = close == '}';
    if (depth >= MANIFEST_JSON_DEPTH)
        return manifest_scan_fail(s, "nested too deeply");
    s->p++;
    manifest_scan_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 0;
    }
    for (;;) {
        if (is_object) {
            if (s->p >= s->end || *s->p != '"')
                return manifest_scan_fail(s, "expected a string key");
            if (manifest_scan_string(s) < 0)
                return -1;
            manifest_scan_ws(s);
            if (s->p >= s->end || *s->p != ':')
                return manifest_scan_fail(s, "expected ':'");
            s->p++;
        }
        if (manifest_scan_value(s, depth + 1) < 0)
            return -1;
        manifest_scan_ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            manifest_scan_ws(s);
            continue;
        }
        if (s->p < s->end && *s->p == close) {
            s->p++;
            return 0;
        }
        return manifest_scan_fail(s, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int manifest_scan_value(struct manifest_scan *s, int depth)
{
    manifest_scan_ws(s);
    if (s->p >= s->end)
        return manifest_scan_fail(s, "unexpected end of input");
    switch (*s->p) {
    case '{':
    case '[':
        return manifest_scan_container(s, depth);
    case '"':
        return manifest_scan_string(s);
    case 't':
        return manifest_scan_literal(s, "true");
    case 'f':
        return manifest_scan_literal(s, "false");
    case 'n':
        return manifest_scan_literal(s, "null");
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
            return manifest_scan_number(s);
        return manifest_scan_fail(s, "unexpected character");
    }
}

/* 0 if data[0..len) is exactly one JSON value with optional blanks around it. */
static int manifest_json_wellformed(const char *data, size_t len, char **err)
{
    struct manifest_scan s = { data, data + len, data, NULL };
    if (manifest_scan_value(&s, 0) == 0) {
        manifest_scan_ws(&s);
        if (s.p == s.end)
            return 0;
        s.what = "trailing data";
    }
    return manifest_fail(err, "not JSON: %s at offset %zu", s.what, (size_t)(s.p - s.start));
}

/* Parses the whole of data as one JSON value. Strict mode (no trailing
 * commas, no single quotes, nothing but blanks after the value) and UTF-8
 * validation. Returns a new object, or NULL with *err set. */
static json_object *manifest_parse_json(const char *data, size_t len, char **err)
{
    if (len == 0) {
        manifest_fail(err, "not JSON: empty body");
        return NULL;
    }
    if (len > INT_MAX) {
        manifest_fail(err, "not JSON: body too large");
        return NULL;
    }
    /* json-c would take a NUL as the end of input; JSON never has a raw NUL */
    if (memchr(data, '\0', len)) {
        manifest_fail(err, "not JSON: NUL byte in body");
        return NULL;
    }
    if (manifest_json_wellformed(data, len, err) < 0)
        return NULL;
    json_tokener *tok = json_tokener_new_ex(MANIFEST_JSON_DEPTH + 1);
    if (!tok) {
        manifest_fail(err, "not JSON: out of memory");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *obj = json_tokener_parse_ex(tok, data, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr == json_tokener_continue) {
        json_object_put(obj);
        manifest_fail(err, "not JSON: unexpected end of input");
        return NULL;
    }
    if (jerr != json_tokener_success || !obj) {
        json_object_put(obj);
        manifest_fail(err, "not JSON: %s at offset %zu", json_tokener_error_desc(jerr), used);
        return NULL;
    }
    for (size_t i = used; i < len; i++) {
        if (!strchr(" \t\r\n", data[i])) {
            json_object_put(obj);
            manifest_fail(err, "not JSON: trailing data at offset %zu", i);
            return NULL;
        }
    }
    return obj;
}

/* Strict RFC 4648 section 4 base64 (standard alphabet, padding required). */
static int manifest_b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes s (n chars) into a new buffer (caller frees) of *outlen bytes; NULL if malformed. */
static unsigned char *manifest_b64_decode(const char *s, size_t n, size_t *outlen)
{
    if (n % 4 != 0)
        return NULL;
    size_t pad = 0;
    if (n >= 1 && s[n - 1] == '=')
        pad++;
    if (n >= 2 && s[n - 2] == '=')
        pad++;
    unsigned char *out = xmalloc(n / 4 * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int last = (i + 4 == n);
        for (int k = 0; k < 4; k++) {
            int is_pad = last && s[i + k] == '=' && (size_t)k >= 4 - pad;
            v[k] = is_pad ? 0 : manifest_b64_value(s[i + k]);
            if (v[k] < 0) {
                free(out);
                return NULL;
            }
        }
        unsigned bits = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
        out[o++] = (unsigned char)(bits >> 16);
        if (!last || pad < 2)
            out[o++] = (unsigned char)(bits >> 8);
        if (!last || pad < 1)
            out[o++] = (unsigned char)bits;
    }
    *outlen = o;
    return out;
}

/* descriptor.md: the decoded data MUST be identical to the referenced content. */
static int manifest_check_data(json_object *data, const struct descriptor *d, const char *where, char **err)
{
    if (!json_object_is_type(data, json_type_string))
        return manifest_fail(err, "%s.data: must be a base64 string", where);
    size_t n;
    unsigned char *raw = manifest_b64_decode(json_object_get_string(data),
                                             (size_t)json_object_get_string_len(data), &n);
    if (!raw)
        return manifest_fail(err, "%s.data: invalid base64", where);
    struct digest got;
    digest_of(d->digest.alg, raw, n, &got);
    free(raw);
    if ((int64_t)n != d->size)
        return manifest_fail(err, "%s.data: %zu bytes, size says %lld", where, n, (long long)d->size);
    if (!digest_equal(&got, &d->digest))
        return manifest_fail(err, "%s.data: does not match digest", where);
    return 0;
}

/* annotations: a string-to-string map when present. */
static int manifest_check_annotations(json_object *obj, const char *where, char **err)
{
    json_object *ann = manifest_field(obj, "annotations");
    if (!ann)
        return 0;
    if (!json_object_is_type(ann, json_type_object))
        return manifest_fail(err, "%sannotations: must be an object", where);
    json_object_object_foreach(ann, key, val) {
        if (!json_object_is_type(val, json_type_string))
            return manifest_fail(err, "%sannotations.%s: must be a string", where, key);
    }
    return 0;
}

/* An optional media-type-valued string field (artifactType); "" counts as absent. */
static int manifest_check_type_field(json_object *obj, const char *key, const char *where,
                                     const char **out, char **err)
{
    json_object *v = manifest_field(obj, key);
    if (out)
        *out = NULL;
    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return manifest_fail(err, "%s%s: must be a string", where, key);
    const char *s = json_object_get_string(v);
    if (!*s)
        return 0;
    if (!manifest_media_type_valid(s))
        return manifest_fail(err, "%s%s: invalid media type", where, key);
    if (out)
        *out = s;
    return 0;
}

static int manifest_check_platform(json_object *p, const char *where, char **err)
{
    if (!json_object_is_type(p, json_type_object))
        return manifest_fail(err, "%s.platform: must be an object", where);
    static const char *const required[] = { "architecture", "os" };
    for (size_t i = 0; i < 2; i++) {
        json_object *v = manifest_field(p, required[i]);
        if (!v || !json_object_is_type(v, json_type_string))
            return manifest_fail(err, "%s.platform.%s: must be a string", where, required[i]);
    }
    return 0;
}

static int manifest_type_skips_check(const char *mt)
{
    return strncmp(mt, MT_OCI_LAYER_NONDIST_PREFIX, strlen(MT_OCI_LAYER_NONDIST_PREFIX)) == 0 ||
           strncmp(mt, MT_DOCKER_FOREIGN_PREFIX, strlen(MT_DOCKER_FOREIGN_PREFIX)) == 0;
}

/* Validates one descriptor object at where ("config", "layers[2]") into *d. */
static int manifest_parse_descriptor(json_object *o, const char *where, struct descriptor *d, char **err)
{
    memset(d, 0, sizeof *d);
    if (!o || !json_object_is_type(o, json_type_object))
        return manifest_fail(err, "%s: must be a descriptor object", where);

    json_object *mt = manifest_field(o, "mediaType");
    if (!mt)
        return manifest_fail(err, "%s.mediaType: missing", where);
    if (!json_object_is_type(mt, json_type_string) || !manifest_media_type_valid(json_object_get_string(mt)))
        return manifest_fail(err, "%s.mediaType: invalid media type", where);
    d->media_type = json_object_get_string(mt);

    json_object *dg = manifest_field(o, "digest");
    if (!dg)
        return manifest_fail(err, "%s.digest: missing", where);
    if (!json_object_is_type(dg, json_type_string))
        return manifest_fail(err, "%s.digest: invalid digest", where);
    switch (digest_parse(json_object_get_string(dg), &d->digest)) {
    case DIGEST_PARSE_OK:
        break;
    case DIGEST_PARSE_UNSUPPORTED:
        return manifest_fail(err, "%s.digest: unsupported digest algorithm", where);
    default:
        return manifest_fail(err, "%s.digest: invalid digest", where);
    }

    json_object *sz = manifest_field(o, "size");
    if (!sz)
        return manifest_fail(err, "%s.size: missing", where);
    if (!json_object_is_type(sz, json_type_int))
        return manifest_fail(err, "%s.size: must be an integer", where);
    int64_t size = json_object_get_int64(sz);
    /* json-c saturates out-of-range values at INT64_MAX: no real blob is that big */
    if (size < 0 || size == INT64_MAX)
        return manifest_fail(err, "%s.size: must be between 0 and 2^63-2", where);
    d->size = size;

    json_object *urls = manifest_field(o, "urls");
    if (urls) {
        if (!json_object_is_type(urls, json_type_array))
            return manifest_fail(err, "%s.urls: must be an array", where);
        size_t n = json_object_array_length(urls);
        for (size_t i = 0; i < n; i++)
            if (!json_object_is_type(json_object_array_get_idx(urls, i), json_type_string))
                return manifest_fail(err, "%s.urls[%zu]: must be a string", where, i);
        if (n > 0)
            d->skip_check = 1;   /* fetched from elsewhere; the registry need not hold it */
    }
    if (manifest_type_skips_check(d->media_type))
        d->skip_check = 1;

    char sub[MANIFEST_WHERE_MAX + 2];
    snprintf(sub, sizeof sub, "%s.", where);
    if (manifest_check_annotations(o, sub, err) < 0 ||
        manifest_check_type_field(o, "artifactType", sub, NULL, err) < 0)
        return -1;
    json_object *plat = manifest_field(o, "platform");
    if (plat && manifest_check_platform(plat, where, err) < 0)
        return -1;
    json_object *data = manifest_field(o, "data");
    if (data && manifest_check_data(data, d, where, err) < 0)
        return -1;
    return 0;
}

/* Validates the descriptor array root[key] into a new array (*out, *n).
 * Absent or null is an empty array unless required. */
static int manifest_parse_descriptors(json_object *root, const char *key, int required,
                                      struct descriptor **out, size_t *n, char **err)
{
    *out = NULL;
    *n = 0;
    json_object *arr = manifest_field(root, key);
    if (!arr) {
        if (required)
            return manifest_fail(err, "%s: missing", key);
        return 0;
    }
    if (!json_object_is_type(arr, json_type_array))
        return manifest_fail(err, "%s: must be an array", key);
    size_t len = json_object_array_length(arr);
    if (len == 0)
        return 0;
    struct descriptor *ds = xcalloc(len, sizeof *ds);
    for (size_t i = 0; i < len; i++) {
        char where[MANIFEST_WHERE_MAX];
        snprintf(where, sizeof where, "%s[%zu]", key, i);
        if (manifest_parse_descriptor(json_object_array_get_idx(arr, i), where, &ds[i], err) < 0) {
            free(ds);
            return -1;
        }
    }
    *out = ds;
    *n = len;
    return 0;
}

/* Decides the media type the manifest is validated and served as. */
static int manifest_decide_type(json_object *root, const char *content_type, const char **out, char **err)
{
    char ctbuf[256];
    const char *ct = manifest_content_type_base(content_type, ctbuf, sizeof ctbuf);
    json_object *mtf = manifest_field(root, "mediaType");
    if (mtf) {
        if (!json_object_is_type(mtf, json_type_string))
            return manifest_fail(err, "mediaType: must be a string");
        const char *field = json_object_get_string(mtf);
        /* compared exactly: the field is the type the manifest is served with */
        const char *known = manifest_known_type(field);
        if (!known || strcmp(known, field) != 0)
            return manifest_fail(err, "mediaType: unsupported manifest type \"%.128s\"", field);
        if (ct && !manifest_ascii_caseeq(ct, field))
            return manifest_fail(err, "mediaType \"%s\" does not match Content-Type \"%.128s\"", field, ct);
        *out = known;
        return 0;
    }
    int has_index_shape = manifest_has_key(root, "manifests");
    int has_image_shape = manifest_has_key(root, "config") || manifest_has_key(root, "layers");
    if (has_index_shape && has_image_shape)
        return manifest_fail(err, "ambiguous manifest: both \"manifests\" and \"config\"/\"layers\" "
                                  "without a mediaType field");
    const char *known = ct ? manifest_known_type(ct) : NULL;
    if (known && manifest_type_is_docker(known))
        return manifest_fail(err, "mediaType: missing (required for %s)", known);
    if (known) {
        *out = known;
        return 0;
    }
    /* no field and no Content-Type we know: take the shape (see the top of this file) */
    *out = has_index_shape ? MT_OCI_INDEX : MT_OCI_MANIFEST;
    return 0;
}

static int manifest_check_schema_version(json_object *root, const char *mt, char **err)
{
    json_object *sv = manifest_field(root, "schemaVersion");
    if (!sv) {
        if (manifest_type_is_docker(mt))
            return manifest_fail(err, "schemaVersion: missing (must be 2)");
        return 0;
    }
    if (!json_object_is_type(sv, json_type_int) || json_object_get_int64(sv) != 2)
        return manifest_fail(err, "schemaVersion: must be 2");
    return 0;
}

static int manifest_parse_body(struct manifest *m, const char *content_type, char **err)
{
    json_object *root = m->root;
    if (manifest_decide_type(root, content_type, &m->media_type, err) < 0 ||
        manifest_check_schema_version(root, m->media_type, err) < 0 ||
        manifest_check_type_field(root, "artifactType", "", &m->artifact_type, err) < 0 ||
        manifest_check_annotations(root, "", err) < 0)
        return -1;

    m->kind = manifest_type_is_index(m->media_type) ? MANIFEST_INDEX : MANIFEST_IMAGE;
    if (m->kind == MANIFEST_INDEX) {
        if (manifest_parse_descriptors(root, "manifests", 1, &m->children, &m->nchildren, err) < 0)
            return -1;
    } else {
        json_object *config = manifest_field(root, "config");
        if (!config)
            return manifest_fail(err, "config: missing");
        if (manifest_parse_descriptor(config, "config", &m->config, err) < 0)
            return -1;
        m->has_config = 1;
        if (manifest_parse_descriptors(root, "layers", 0, &m->blobs, &m->nblobs, err) < 0)
            return -1;
        /* referrers API: no artifactType means the config's media type */
        if (!m->artifact_type)
            m->artifact_type = m->config.media_type;
    }

    json_object *subject = manifest_field(root, "subject");
    if (subject) {
        struct descriptor sd;
        if (manifest_parse_descriptor(subject, "subject", &sd, err) < 0)
            return -1;
        m->has_subject = 1;
        m->subject = sd.digest;
    }
    return 0;
}

int manifest_parse(const char *data, size_t len, const char *content_type,
                   struct manifest *m, char **err)
{
    memset(m, 0, sizeof *m);
    if (err)
        *err = NULL;
    m->root = manifest_parse_json(data, len, err);
    if (!m->root)
        return -1;
    if (!json_object_is_type(m->root, json_type_object)) {
        manifest_free(m);
        return manifest_fail(err, "manifest must be a JSON object");
    }
    if (manifest_parse_body(m, content_type, err) < 0) {
        manifest_free(m);
        return -1;
    }
    return 0;
}

void manifest_free(struct manifest *m)
{
    if (!m)
        return;
    json_object_put(m->root);
    free(m->blobs);
    free(m->children);
    memset(m, 0, sizeof *m);
}

char *manifest_sniff_media_type(const char *data, size_t len)
{
    char *err = NULL;
    json_object *root = manifest_parse_json(data, len, &err);
    free(err);
    const char *mt = MT_OCI_MANIFEST;
    if (root && json_object_is_type(root, json_type_object)) {
        json_object *f = manifest_field(root, "mediaType");
        /* only a well-formed media type: the value goes into a response header */
        if (f && json_object_is_type(f, json_type_string) &&
            manifest_media_type_valid(json_object_get_string(f)))
            mt = json_object_get_string(f);
        else if (manifest_has_key(root, "manifests"))
            mt = MT_OCI_INDEX;
    }
    char *out = xstrdup(mt);
    json_object_put(root);
    return out;
}

json_object *manifest_referrer_descriptor(const struct manifest *m, const struct digest *d, size_t size)
{
    char ds[DIGEST_STR_MAX];
    json_object *o = xjson_object();
    xjson_set(o, "mediaType", xjson_string(m->media_type ? m->media_type : MT_OCI_MANIFEST));
    xjson_set(o, "digest", xjson_string(digest_str(d, ds)));
    xjson_set(o, "size", xjson_int64((int64_t)size));
    if (m->artifact_type && *m->artifact_type)
        xjson_set(o, "artifactType", xjson_string(m->artifact_type));
    json_object *ann = m->root ? manifest_field(m->root, "annotations") : NULL;
    if (ann && json_object_is_type(ann, json_type_object)) {
        json_object *copy = NULL;
        if (json_object_deep_copy(ann, &copy, NULL) == 0)
            xjson_set(o, "annotations", copy);
    }
    return o;
}
