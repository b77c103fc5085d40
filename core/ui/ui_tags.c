/* ui_tags: /ui/repo?name=<repository> — its tags, sorted and paginated by
 * ?n= and ?last= as tags/list is, each with what its manifest says: digest,
 * media type, the platforms of an index, the total size its descriptors
 * name, the referrers count and the pull command. What a page costs in
 * Kubo RPCs on a cold cache: the tag list and the subjects that have
 * referrers (store referrer_subjects: one or two listings for the page,
 * not a referrers call per tag), then per tag its link (1) and its
 * manifest (2: the revision, the bytes; none for a manifest another tag
 * of the page already read), plus the referrers of a subject that has
 * some. Warm, none: the metadata cache (oci/store_cache.h) answers all. */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "core/ui/ui_internal.h"
#include "core/layoutreg.h"
#include "core/query.h"
#include "core/xalloc.h"
#include "oci/manifest.h"

/* An index's platforms as "linux/amd64, linux/arm64/v8". */
static void ui_tags_platforms(struct ui_page *pg, const struct manifest *m)
{
    json_object *arr, *e, *p;
    int any = 0;
    if (!json_object_object_get_ex(m->root, "manifests", &arr) || !json_object_is_type(arr, json_type_array))
        return;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        e = json_object_array_get_idx(arr, i);
        if (!json_object_object_get_ex(e, "platform", &p) || !json_object_is_type(p, json_type_object))
            continue;
        ui_raw(pg, any ? ", " : "");
        ui_platform(pg, p);
        any = 1;
    }
}

/* The manifest's created annotation, escaped, or nothing. */
static void ui_tags_created(struct ui_page *pg, const struct manifest *m)
{
    json_object *a, *v;
    if (json_object_object_get_ex(m->root, "annotations", &a) && json_object_is_type(a, json_type_object) &&
        json_object_object_get_ex(a, "org.opencontainers.image.created", &v) &&
        json_object_is_type(v, json_type_string))
        ui_text(pg, json_object_get_string(v));
}

/* Sum of what the manifest references (config, layers or children). */
static long long ui_tags_size(const struct manifest *m, size_t self)
{
    long long s = (long long)self;
    if (m->has_config)
        s += m->config.size;
    for (size_t i = 0; i < m->nblobs; i++)
        s += m->blobs[i].size;
    for (size_t i = 0; i < m->nchildren; i++)
        s += m->children[i].size;
    return s;
}

/* The subjects with referrers, sorted, or no list (NULL) when the store
 * does not offer them: then every tag asks. */
struct ui_subjects {
    char **v;
    size_t n;
    int have;
};

static int ui_tags_has_referrers(const struct ui_subjects *sj, const char *ds)
{
    size_t lo = 0, hi = sj->n;
    if (!sj->have)
        return 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(sj->v[mid], ds);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static void ui_tags_row(struct ui_page *pg, struct store *st, const char *name, const char *tag,
                        const struct ui_subjects *sj)
{
    struct digest d;
    char ds[DIGEST_STR_MAX];
    struct buf mb;
    struct manifest m;
    char *err = NULL;
    struct digest *refs = NULL;
    size_t nrefs = 0;

    ui_raw(pg, "<tr><th scope=\"row\" data-label=\"Tag\">");
    ui_text(pg, tag);
    ui_raw(pg, "</th>");
    if (st->ops->tag_resolve(st, name, tag, &d) != STORE_OK) {
        ui_raw(pg, "<td colspan=\"7\" class=\"error\">");
        ui_text(pg, st->ops->errmsg(st));
        ui_raw(pg, "</td></tr>\n");
        return;
    }
    digest_str(&d, ds);
    ui_raw(pg, "<td data-label=\"Digest\" class=\"digest\">");
    ui_link(pg, "/ui/manifest", ds, "name", name, "ref", ds, NULL);
    ui_raw(pg, "</td>");
    buf_init(&mb, pg->reg->opts.max_manifest_size ? pg->reg->opts.max_manifest_size : (4u << 20));
    if (st->ops->manifest_get(st, name, &d, &mb) != STORE_OK ||
        manifest_parse(buf_cstr(&mb), mb.len, NULL, &m, &err) < 0) {
        ui_raw(pg, "<td colspan=\"4\" class=\"error\">");
        ui_text(pg, err ? err : st->ops->errmsg(st));
        ui_raw(pg, "</td>");
    } else {
        ui_raw(pg, "<td data-label=\"Media type\">");
        ui_text(pg, m.media_type);
        if (m.artifact_type) {
            ui_raw(pg, "<br>artifact: ");
            ui_text(pg, m.artifact_type);
        }
        ui_raw(pg, "</td><td data-label=\"Platforms\">");
        ui_tags_platforms(pg, &m);
        ui_raw(pg, "</td><td data-label=\"Size\">");
        ui_size(pg, ui_tags_size(&m, mb.len));
        ui_raw(pg, "</td><td data-label=\"Created\">");
        ui_tags_created(pg, &m);
        ui_raw(pg, "</td>");
        manifest_free(&m);
    }
    free(err);
    buf_free(&mb);
    ui_raw(pg, "<td data-label=\"Referrers\">");
    if (!ui_tags_has_referrers(sj, ds))
        ui_raw(pg, "0");
    else if (st->ops->referrers(st, name, &d, &refs, &nrefs) == STORE_OK)
        ui_fmt(pg, "%zu", nrefs);
    else
        ui_raw(pg, "<span class=\"none\">?</span>");
    free(refs);
    ui_raw(pg, "</td><td data-label=\"Pull\">");
    ui_pull(pg, name, ":", tag);
    ui_raw(pg, "</td></tr>\n");
}

/* A layout pushed under this registry's key (ipns/<id>/<path>) is also at
 * an immutable address: ipfs/<its CID>. */
static void ui_tags_layout_cid(struct ui_page *pg, const char *name)
{
    const char *id = pg->reg->layout_rw ? registry_key_id(pg->reg) : "";
    size_t n = strlen(id);
    if (!*id || strncmp(name, "ipns/", 5) != 0 || strncmp(name + 5, id, n) != 0 || name[5 + n] != '/')
        return;
    json_object *list = layoutreg_list(pg->reg->opts.statedir), *p, *c;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *e = json_object_array_get_idx(list, i);
        if (json_object_object_get_ex(e, "path", &p) && json_object_object_get_ex(e, "cid", &c) &&
            strcmp(json_object_get_string(p), name + 6 + n) == 0) {
            char *imm = xasprintf("ipfs/%s", json_object_get_string(c));
            ui_raw(pg, "<p>Its content as of its last push: ");
            ui_cid(pg, json_object_get_string(c));
            ui_raw(pg, ", pulled as ");
            ui_pull(pg, imm, ":", "<tag>");
            ui_raw(pg, "</p>\n");
            free(imm);
        }
    }
    json_object_put(list);
}

void ui_tags(struct ui_page *pg)
{
    char *name = query_get(pg->req->query, "name");
    char *last = query_get(pg->req->query, "last");
    size_t limit = ui_page_n(pg->req->query), n = 0, first, count;
    struct store *st = name && *name ? ui_store_for(pg->reg, name) : NULL;
    char **tags = NULL;
    struct ui_subjects sj = { 0 };
    int rc, more;

    if (!st) {
        ui_error(pg, 404, "No such repository", name);
        goto out;
    }
    rc = st->ops->tags_list(st, name, &tags, &n);
    if (rc != STORE_OK) {
        ui_error(pg, rc == STORE_NOT_FOUND ? 404 : rc == STORE_UNAVAILABLE ? 503 : 500,
                 rc == STORE_NOT_FOUND ? "No such repository" : "Tags unavailable", st->ops->errmsg(st));
        goto out;
    }
    ui_sort(tags, n);
    more = ui_window(tags, n, last, limit, &first, &count);
    if (count && st->ops->referrer_subjects &&
        st->ops->referrer_subjects(st, name, &sj.v, &sj.n) == STORE_OK) {
        sj.have = 1;
        ui_sort(sj.v, sj.n);
    }
    ui_begin(pg, name);
    ui_fmt(pg, "<p>Repository, %zu tags.</p>\n", n);
    ui_tags_layout_cid(pg, name);
    ui_raw(pg, "<table>\n<thead><tr><th scope=\"col\">Tag</th><th scope=\"col\">Digest</th>"
               "<th scope=\"col\">Media type</th><th scope=\"col\">Platforms</th><th scope=\"col\">Size</th>"
               "<th scope=\"col\">Created</th>"
               "<th scope=\"col\">Referrers</th><th scope=\"col\">Pull</th></tr></thead>\n<tbody>\n");
    for (size_t i = first; i < first + count; i++)
        ui_tags_row(pg, st, name, tags[i], &sj);
    ui_raw(pg, "</tbody>\n</table>\n");
    if (more)
        ui_next(pg, limit, tags[first + count - 1], "/ui/repo", "name", name, NULL);
    ui_end(pg);
out:
    strv_free(sj.v, sj.n);
    strv_free(tags, n);
    free(name);
    free(last);
}
