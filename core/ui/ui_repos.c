/* ui_repos: /ui/ — the repositories: this registry's own, the read-only
 * roots' (the store's catalog) and the layouts pushed under its key, sorted,
 * filtered by ?prefix= and paginated by ?n= and ?last= as _catalog is.
 * CSP form-action 'none' forbids even a GET form, so the filter is a link:
 * one per distinct first component of the names. */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "core/ui/ui_internal.h"
#include "core/layoutreg.h"
#include "core/names.h"
#include "core/query.h"
#include "core/xalloc.h"

/* Prefix links shown at most: a catalog of thousands of namespaces gets a
 * partial index, not a page of links. */
#define UI_REPOS_PREFIXES 50

/* The catalog plus pushed layouts (as h_catalog lists them); *n set. */
static int ui_repos_names(struct ui_page *pg, char ***out, size_t *n)
{
    struct registry *reg = pg->reg;
    char **names = NULL;
    int rc = reg->store->ops->catalog(reg->store, &names, n);
    if (rc != STORE_OK)
        return rc;
    const char *id = reg->layout_rw ? registry_key_id(reg) : "";
    if (*id) {
        json_object *list = layoutreg_list(reg->opts.statedir), *p;
        size_t nl = json_object_array_length(list);
        names = xrealloc(names, (*n + nl + 1) * sizeof *names);
        for (size_t i = 0; i < nl; i++)
            if (json_object_object_get_ex(json_object_array_get_idx(list, i), "path", &p))
                names[(*n)++] = xasprintf("ipns/%s/%s", id, json_object_get_string(p));
        json_object_put(list);
    }
    *out = names;
    return STORE_OK;
}

/* Links to the distinct first components (names are sorted). */
static void ui_repos_prefixes(struct ui_page *pg, char **names, size_t n)
{
    size_t shown = 0;
    const char *prev = NULL;
    size_t prevlen = 0;
    ui_raw(pg, "<p class=\"prefixes\">Filter by prefix: <a href=\"/ui/\">all</a>");
    for (size_t i = 0; i < n && shown < UI_REPOS_PREFIXES; i++) {
        const char *slash = strchr(names[i], '/');
        size_t len = slash ? (size_t)(slash - names[i]) + 1 : strlen(names[i]);
        if (prev && len == prevlen && strncmp(prev, names[i], len) == 0)
            continue;
        char *p = xstrndup(names[i], len);
        ui_raw(pg, " ");
        ui_link(pg, "/ui/", p, "prefix", p, NULL);
        free(p);
        prev = names[i];
        prevlen = len;
        shown++;
    }
    ui_raw(pg, "</p>\n");
}

void ui_repos(struct ui_page *pg)
{
    struct store *st = pg->reg->store;
    char **names = NULL, **sel;
    size_t n = 0, nsel = 0, first, count, limit = ui_page_n(pg->req->query);
    char *prefix = query_get(pg->req->query, "prefix");
    char *last = query_get(pg->req->query, "last");
    int rc = ui_repos_names(pg, &names, &n), more;

    if (rc != STORE_OK) {
        ui_error(pg, rc == STORE_UNAVAILABLE ? 503 : 500, "Repositories unavailable", st->ops->errmsg(st));
        goto out;
    }
    ui_sort(names, n);
    sel = xcalloc(n + 1, sizeof *sel);
    for (size_t i = 0; i < n; i++)
        if (!prefix || strncmp(names[i], prefix, strlen(prefix)) == 0)
            sel[nsel++] = names[i];
    more = ui_window(sel, nsel, last, limit, &first, &count);

    ui_begin(pg, "Repositories");
    ui_fmt(pg, "<p>%zu repositories", nsel);
    if (prefix && *prefix) {
        ui_raw(pg, " whose name starts with <code>");
        ui_text(pg, prefix);
        ui_raw(pg, "</code>");
    }
    ui_raw(pg, ".</p>\n");
    ui_repos_prefixes(pg, names, n);
    ui_raw(pg, "<table>\n<thead><tr><th scope=\"col\">Repository</th><th scope=\"col\">Tags</th></tr></thead>\n<tbody>\n");
    for (size_t i = first; i < first + count; i++) {
        struct store *rs = ui_store_for(pg->reg, sel[i]);
        char **tags = NULL;
        size_t nt = 0;
        ui_raw(pg, "<tr><td data-label=\"Repository\">");
        ui_link(pg, "/ui/repo", sel[i], "name", sel[i], NULL);
        ui_raw(pg, "</td><td data-label=\"Tags\">");
        if (rs && rs->ops->tags_list(rs, sel[i], &tags, &nt) == STORE_OK)
            ui_fmt(pg, "%zu", nt);
        else
            ui_raw(pg, "<span class=\"none\">unknown</span>");
        strv_free(tags, nt);
        ui_raw(pg, "</td></tr>\n");
    }
    ui_raw(pg, "</tbody>\n</table>\n");
    if (more)
        ui_next(pg, limit, sel[first + count - 1], "/ui/", prefix ? "prefix" : NULL, prefix, NULL);
    ui_end(pg);
    free(sel);
out:
    strv_free(names, n);
    free(prefix);
    free(last);
}
