/* ui_manifest: /ui/manifest?name=<repository>&ref=<digest or tag> — one
 * manifest: its type, the pull command by digest, its config and layers
 * (size, media type, digest, CID with ipfs:// and gateway links) or an
 * index's manifests, its annotations (URLs become links only for http(s)),
 * its subject and its referrers. Everything it prints that a client pushed
 * is escaped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "core/ui/ui_internal.h"
#include "core/query.h"
#include "core/xalloc.h"
#include "oci/manifest.h"

/* A manifest page lists at most this many referrers (each costs a read). */
#define UI_MANIFEST_REFERRERS 100
/* An image config larger than this is not read for its created time. */
#define UI_MANIFEST_CONFIG_MAX (256 * 1024)

struct ui_mctx {
    struct ui_page *pg;
    struct store *st;
    const char *name;
};

static void ui_manifest_desc_row(struct ui_mctx *c, const struct descriptor *dsc, const char *label)
{
    struct ui_page *pg = c->pg;
    struct store_blob sb;
    char ds[DIGEST_STR_MAX];
    digest_str(&dsc->digest, ds);
    ui_raw(pg, "<tr><td data-label=\"\">");
    ui_text(pg, label);
    ui_raw(pg, "</td><td data-label=\"Media type\">");
    ui_text(pg, dsc->media_type ? dsc->media_type : "");
    ui_raw(pg, "</td><td data-label=\"Size\">");
    ui_size(pg, dsc->size);
    ui_raw(pg, "</td><td data-label=\"Digest\" class=\"digest\">");
    ui_text(pg, ds);
    ui_raw(pg, "</td><td data-label=\"CID\">");
    if (c->st->ops->blob_stat(c->st, c->name, &dsc->digest, &sb) == STORE_OK)
        ui_cid(pg, sb.cid);
    else
        ui_raw(pg, "<span class=\"none\">not stored here</span>");
    ui_raw(pg, "</td></tr>\n");
}

static int ui_manifest_sink(void *ctx, const char *p, size_t n)
{
    return buf_append(ctx, p, n);
}

/* The image config's "created", read through the store (the bytes are
 * checked against their digest as any blob GET's are); NULL if absent or
 * not an image config. Caller frees. */
static char *ui_manifest_created(struct ui_mctx *c, const struct manifest *m)
{
    struct store_blob sb;
    struct buf b;
    json_object *root, *v;
    char *out = NULL;
    if (!m->has_config || !m->config.media_type || m->config.size <= 0 ||
        m->config.size > UI_MANIFEST_CONFIG_MAX ||
        (strcmp(m->config.media_type, "application/vnd.oci.image.config.v1+json") != 0 &&
         strcmp(m->config.media_type, "application/vnd.docker.container.image.v1+json") != 0))
        return NULL;
    if (c->st->ops->blob_stat(c->st, c->name, &m->config.digest, &sb) != STORE_OK)
        return NULL;
    buf_init(&b, UI_MANIFEST_CONFIG_MAX);
    if (c->st->ops->blob_read(c->st, &sb, 0, sb.size, ui_manifest_sink, &b) == STORE_OK &&
        (root = json_tokener_parse(buf_cstr(&b)))) {
        if (json_object_object_get_ex(root, "created", &v) && json_object_is_type(v, json_type_string))
            out = xstrdup(json_object_get_string(v));
        json_object_put(root);
    }
    buf_free(&b);
    return out;
}

static void ui_manifest_blobs(struct ui_mctx *c, const struct manifest *m)
{
    struct ui_page *pg = c->pg;
    ui_raw(pg, "<h2>Config and layers</h2>\n<table>\n<thead><tr><th scope=\"col\">Part</th>"
               "<th scope=\"col\">Media type</th><th scope=\"col\">Size</th><th scope=\"col\">Digest</th>"
               "<th scope=\"col\">CID</th></tr></thead>\n<tbody>\n");
    if (m->has_config)
        ui_manifest_desc_row(c, &m->config, "config");
    for (size_t i = 0; i < m->nblobs; i++) {
        char label[32];
        snprintf(label, sizeof label, "layer %zu", i + 1);
        ui_manifest_desc_row(c, &m->blobs[i], label);
    }
    ui_raw(pg, "</tbody>\n</table>\n");
}

static void ui_manifest_children(struct ui_mctx *c, const struct manifest *m)
{
    struct ui_page *pg = c->pg;
    json_object *arr = NULL, *p;
    json_object_object_get_ex(m->root, "manifests", &arr);
    ui_raw(pg, "<h2>Manifests</h2>\n<table>\n<thead><tr><th scope=\"col\">Platform</th>"
               "<th scope=\"col\">Media type</th><th scope=\"col\">Size</th><th scope=\"col\">Digest</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < m->nchildren; i++) {
        char ds[DIGEST_STR_MAX];
        json_object *e = arr ? json_object_array_get_idx(arr, i) : NULL;
        digest_str(&m->children[i].digest, ds);
        ui_raw(pg, "<tr><td data-label=\"Platform\">");
        if (e && json_object_object_get_ex(e, "platform", &p))
            ui_platform(pg, p);
        ui_raw(pg, "</td><td data-label=\"Media type\">");
        ui_text(pg, m->children[i].media_type ? m->children[i].media_type : "");
        ui_raw(pg, "</td><td data-label=\"Size\">");
        ui_size(pg, m->children[i].size);
        ui_raw(pg, "</td><td data-label=\"Digest\" class=\"digest\">");
        ui_link(pg, "/ui/manifest", ds, "name", c->name, "ref", ds, NULL);
        ui_raw(pg, "</td></tr>\n");
    }
    ui_raw(pg, "</tbody>\n</table>\n");
}

static void ui_manifest_annotations(struct ui_page *pg, const struct manifest *m)
{
    json_object *a;
    if (!json_object_object_get_ex(m->root, "annotations", &a) || !json_object_is_type(a, json_type_object) ||
        json_object_object_length(a) == 0)
        return;
    ui_raw(pg, "<h2>Annotations</h2>\n<table>\n<thead><tr><th scope=\"col\">Key</th><th scope=\"col\">Value</th></tr></thead>\n<tbody>\n");
    json_object_object_foreach(a, k, v) {
        ui_raw(pg, "<tr><th scope=\"row\" data-label=\"Key\">");
        ui_text(pg, k);
        ui_raw(pg, "</th><td data-label=\"Value\">");
        ui_ext_link(pg, json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "");
        ui_raw(pg, "</td></tr>\n");
    }
    ui_raw(pg, "</tbody>\n</table>\n");
}

static void ui_manifest_referrers(struct ui_mctx *c, const struct digest *d)
{
    struct ui_page *pg = c->pg;
    struct digest *refs = NULL;
    size_t n = 0;
    ui_raw(pg, "<h2>Referrers</h2>\n");
    if (c->st->ops->referrers(c->st, c->name, d, &refs, &n) != STORE_OK || n == 0) {
        ui_raw(pg, "<p class=\"none\">None.</p>\n");
        free(refs);
        return;
    }
    ui_raw(pg, "<table>\n<thead><tr><th scope=\"col\">Digest</th><th scope=\"col\">Artifact type</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < n && i < UI_MANIFEST_REFERRERS; i++) {
        char ds[DIGEST_STR_MAX];
        struct buf b;
        struct manifest m;
        char *err = NULL;
        digest_str(&refs[i], ds);
        ui_raw(pg, "<tr><td data-label=\"Digest\" class=\"digest\">");
        ui_link(pg, "/ui/manifest", ds, "name", c->name, "ref", ds, NULL);
        ui_raw(pg, "</td><td data-label=\"Artifact type\">");
        buf_init(&b, pg->reg->opts.max_manifest_size ? pg->reg->opts.max_manifest_size : (4u << 20));
        if (c->st->ops->manifest_get(c->st, c->name, &refs[i], &b) == STORE_OK &&
            manifest_parse(buf_cstr(&b), b.len, NULL, &m, &err) == 0) {
            ui_text(pg, m.artifact_type ? m.artifact_type : "");
            manifest_free(&m);
        }
        free(err);
        buf_free(&b);
        ui_raw(pg, "</td></tr>\n");
    }
    ui_raw(pg, "</tbody>\n</table>\n");
    if (n > UI_MANIFEST_REFERRERS)
        ui_fmt(pg, "<p>%zu referrers; the first %d are shown.</p>\n", n, UI_MANIFEST_REFERRERS);
    free(refs);
}

static void ui_manifest_body(struct ui_mctx *c, const struct digest *d, const char *tag,
                             const struct manifest *m, size_t size)
{
    struct ui_page *pg = c->pg;
    char ds[DIGEST_STR_MAX];
    digest_str(d, ds);
    ui_raw(pg, "<p>In repository ");
    ui_link(pg, "/ui/repo", c->name, "name", c->name, NULL);
    ui_raw(pg, ".</p>\n<dl>\n<dt>Digest</dt><dd class=\"digest\">");
    ui_text(pg, ds);
    ui_raw(pg, "</dd>\n<dt>Media type</dt><dd>");
    ui_text(pg, m->media_type);
    ui_raw(pg, "</dd>\n");
    if (m->artifact_type) {
        ui_raw(pg, "<dt>Artifact type</dt><dd>");
        ui_text(pg, m->artifact_type);
        ui_raw(pg, "</dd>\n");
    }
    ui_raw(pg, "<dt>Size</dt><dd>");
    ui_size(pg, (long long)size);
    ui_raw(pg, "</dd>\n");
    char *created = m->kind == MANIFEST_IMAGE ? ui_manifest_created(c, m) : NULL;
    if (created) {
        ui_raw(pg, "<dt>Created</dt><dd>");
        ui_text(pg, created);
        ui_raw(pg, " (image config)</dd>\n");
        free(created);
    }
    if (m->has_subject) {
        char ss[DIGEST_STR_MAX];
        digest_str(&m->subject, ss);
        ui_raw(pg, "<dt>Subject</dt><dd class=\"digest\">");
        ui_link(pg, "/ui/manifest", ss, "name", c->name, "ref", ss, NULL);
        ui_raw(pg, "</dd>\n");
    }
    ui_raw(pg, "<dt>Pull</dt><dd>");
    if (tag) {
        ui_pull(pg, c->name, ":", tag);
        ui_raw(pg, "<br>");
    }
    ui_pull(pg, c->name, "@", ds);
    ui_raw(pg, "</dd>\n</dl>\n");
    if (m->kind == MANIFEST_INDEX)
        ui_manifest_children(c, m);
    else
        ui_manifest_blobs(c, m);
    ui_manifest_annotations(pg, m);
    ui_manifest_referrers(c, d);
}

void ui_manifest(struct ui_page *pg)
{
    char *name = query_get(pg->req->query, "name");
    char *ref = query_get(pg->req->query, "ref");
    struct ui_mctx c = { .pg = pg, .name = name };
    struct digest d;
    struct buf b;
    struct manifest m;
    char *err = NULL, *title;
    int rc, tagged;

    buf_init(&b, pg->reg->opts.max_manifest_size ? pg->reg->opts.max_manifest_size : (4u << 20));
    c.st = name && *name ? ui_store_for(pg->reg, name) : NULL;
    if (!c.st || !ref || !*ref) {
        ui_error(pg, 404, "No such manifest", "Name a repository and a digest or tag (?name=&ref=).");
        goto out;
    }
    tagged = !digest_looks_like(ref);
    rc = tagged ? c.st->ops->tag_resolve(c.st, name, ref, &d)
                : digest_parse(ref, &d) == DIGEST_PARSE_OK ? STORE_OK : STORE_NOT_FOUND;
    if (rc == STORE_OK)
        rc = c.st->ops->manifest_get(c.st, name, &d, &b);
    if (rc != STORE_OK) {
        ui_error(pg, rc == STORE_NOT_FOUND ? 404 : rc == STORE_UNAVAILABLE ? 503 : 500,
                 rc == STORE_NOT_FOUND ? "No such manifest" : "Manifest unavailable", c.st->ops->errmsg(c.st));
        goto out;
    }
    if (manifest_parse(buf_cstr(&b), b.len, NULL, &m, &err) < 0) {
        ui_error(pg, 500, "Manifest unreadable", err);
        goto out;
    }
    title = xasprintf("%s%s%s", name, tagged ? ":" : "@", ref);
    ui_begin(pg, title);
    free(title);
    ui_manifest_body(&c, &d, tagged ? ref : NULL, &m, b.len);
    ui_end(pg);
    manifest_free(&m);
out:
    free(err);
    buf_free(&b);
    free(name);
    free(ref);
}
