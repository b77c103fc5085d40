/* ui: the entry of the web view (ui.h): the method rule, the security
 * headers every answer under /ui/ carries, and the page a path names. */
#include <string.h>
#include "core/ui/ui.h"
#include "core/ui/ui_internal.h"
#include "core/log.h"

/* The view loads nothing but its own stylesheet: no script runs even if
 * escaping were ever missed, and no page can be framed or post a form. */
#define UI_CSP "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; " \
               "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

static void ui_headers(struct response *resp)
{
    resp_header(resp, "Content-Security-Policy", "%s", UI_CSP);
    resp_header(resp, "X-Content-Type-Options", "nosniff");
    resp_header(resp, "Referrer-Policy", "no-referrer");
}

static void ui_send(struct response *resp, int status, const char *type, const char *body, size_t n)
{
    resp_status(resp, status);
    resp_header(resp, "Content-Type", "%s", type);
    resp_header(resp, "Content-Length", "%zu", n);
    /* pages show state that changes with every push */
    resp_header(resp, "Cache-Control", "no-cache");
    if (n)
        resp_write(resp, body, n);
    resp_finish(resp);
}

static const struct {
    const char *path;
    void (*page)(struct ui_page *);
} ui_pages[] = {
    { "/ui/", ui_repos },
    { "/ui/repo", ui_tags },
    { "/ui/manifest", ui_manifest },
    { "/ui/registry", ui_registry },
};

static void ui_render(struct registry *reg, struct request *req, struct response *resp)
{
    struct ui_page pg = { .reg = reg, .req = req, .status = 200 };
    buf_init(&pg.b, UI_PAGE_MAX);
    size_t i;
    for (i = 0; i < sizeof ui_pages / sizeof ui_pages[0]; i++)
        if (strcmp(req->path, ui_pages[i].path) == 0)
            break;
    if (i < sizeof ui_pages / sizeof ui_pages[0])
        ui_pages[i].page(&pg);
    else
        ui_error(&pg, 404, "Not found", "This view has no such page.");
    if (pg.overflow) {
        log_warn("ui: %s: the page is larger than %zu bytes", req->path, UI_PAGE_MAX);
        ui_error(&pg, 500, "Page too large", "Ask for fewer rows with ?n=.");
    }
    ui_send(resp, pg.status, "text/html; charset=utf-8", buf_cstr(&pg.b), pg.b.len);
    buf_free(&pg.b);
}

int ui_handle(struct registry *reg, struct request *req, struct response *resp)
{
    static const char msg[] = "The web view is read-only: GET and HEAD only.\n";
    if (!reg->opts.ui || strncmp(req->path, "/ui/", 4) != 0)
        return 0;
    ui_headers(resp);
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        resp_header(resp, "Allow", "GET, HEAD");
        ui_send(resp, 405, "text/plain; charset=utf-8", msg, sizeof msg - 1);
        return 1;
    }
    if (strcmp(req->path, "/ui/style.css") == 0) {
        ui_send(resp, 200, "text/css; charset=utf-8", ui_stylesheet, strlen(ui_stylesheet));
        return 1;
    }
    if (strcmp(req->path, "/ui/icon.svg") == 0) {
        ui_send(resp, 200, "image/svg+xml", ui_icon, strlen(ui_icon));
        return 1;
    }
    ui_render(reg, req, resp);
    return 1;
}
