/* ui_page: the page-building helpers every page of the view shares
 * (ui_internal.h): escaped writes into the capped page, links, the frame,
 * pagination windows and the store a name belongs to. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/ui/ui_internal.h"
#include "core/ui/html.h"
#include "core/query.h"
#include "core/registry/registry.h"
#include "oci/layout.h"

static void ui_check(struct ui_page *pg, int rc)
{
    if (rc < 0)
        pg->overflow = 1;
}

void ui_raw(struct ui_page *pg, const char *s)
{
    if (!pg->overflow)
        ui_check(pg, html_raw(&pg->b, s));
}

void ui_fmt(struct ui_page *pg, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    int n;
    if (pg->overflow)
        return;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        pg->overflow = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        ui_check(pg, buf_append(&pg->b, small, (size_t)n));
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        pg->overflow = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ui_check(pg, buf_append(&pg->b, big, (size_t)n));
    free(big);
}

void ui_text(struct ui_page *pg, const char *s)
{
    if (!pg->overflow)
        ui_check(pg, html_text(&pg->b, s ? s : ""));
}

void ui_platform(struct ui_page *pg, json_object *p)
{
    static const char *const keys[] = { "os", "architecture", "variant" };
    json_object *v;
    if (!p || !json_object_is_type(p, json_type_object))
        return;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (json_object_object_get_ex(p, keys[k], &v) && json_object_is_type(v, json_type_string)) {
            if (k)
                ui_raw(pg, "/");
            ui_text(pg, json_object_get_string(v));
        }
}

void ui_q(struct ui_page *pg, const char *s)
{
    if (!pg->overflow)
        ui_check(pg, html_query(&pg->b, s ? s : ""));
}

/* "?k=v&k=v" from pairs up to a NULL key; returns how many. */
static int ui_pairs(struct ui_page *pg, va_list ap)
{
    const char *k;
    int first = 1;
    while ((k = va_arg(ap, const char *))) {
        const char *v = va_arg(ap, const char *);
        ui_raw(pg, first ? "?" : "&amp;");
        ui_raw(pg, k);
        ui_raw(pg, "=");
        ui_q(pg, v);
        first = 0;
    }
    return !first;
}

void ui_link(struct ui_page *pg, const char *path, const char *text, ...)
{
    va_list ap;
    ui_raw(pg, "<a href=\"");
    ui_raw(pg, path);
    va_start(ap, text);
    ui_pairs(pg, ap);
    va_end(ap);
    ui_raw(pg, "\">");
    ui_text(pg, text);
    ui_raw(pg, "</a>");
}

void ui_ext_link(struct ui_page *pg, const char *url)
{
    if (!html_url_safe(url)) {
        ui_text(pg, url);
        return;
    }
    ui_raw(pg, "<a rel=\"noreferrer\" href=\"");
    ui_text(pg, url);
    ui_raw(pg, "\">");
    ui_text(pg, url);
    ui_raw(pg, "</a>");
}

void ui_pull(struct ui_page *pg, const char *name, const char *sep, const char *ref)
{
    ui_raw(pg, "<code class=\"pull\">podman pull ");
    ui_text(pg, ui_host(pg));
    ui_raw(pg, "/");
    ui_text(pg, name);
    ui_raw(pg, sep);
    ui_text(pg, ref);
    ui_raw(pg, "</code>");
}

void ui_time(struct ui_page *pg, time_t t)
{
    char s[64];
    struct tm tm;
    if (t <= 0 || !gmtime_r(&t, &tm) || !strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S UTC", &tm)) {
        ui_raw(pg, "never");
        return;
    }
    ui_fmt(pg, "<time datetime=\"%lld\">%s</time>", (long long)t, s);
}

void ui_size(struct ui_page *pg, long long bytes)
{
    static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
    double v = (double)bytes;
    int u = -1;
    if (bytes < 1024) {
        ui_fmt(pg, "%lld B", bytes);
        return;
    }
    while (v >= 1024 && u < 3) {
        v /= 1024;
        u++;
    }
    ui_fmt(pg, "<span title=\"%lld bytes\">%.1f %s</span>", bytes, v, unit[u]);
}

void ui_cid(struct ui_page *pg, const char *cid)
{
    const char *gw = pg->reg->opts.ui_gateway_url;
    if (!cid || !*cid) {
        ui_raw(pg, "<span class=\"none\">none</span>");
        return;
    }
    ui_raw(pg, "<a class=\"cid\" href=\"ipfs://");
    ui_q(pg, cid);
    ui_raw(pg, "\">");
    ui_text(pg, cid);
    ui_raw(pg, "</a>");
    if (gw && *gw) {
        ui_raw(pg, " <a class=\"gw\" rel=\"noreferrer\" href=\"");
        ui_text(pg, gw);
        ui_raw(pg, "/ipfs/");
        ui_q(pg, cid);
        ui_raw(pg, "\">gateway</a>");
    }
}

void ui_begin(struct ui_page *pg, const char *title)
{
    ui_raw(pg, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    ui_text(pg, title);
    ui_raw(pg, " - oci-registry-p2p</title>\n<link rel=\"stylesheet\" href=\"/ui/style.css\">\n"
               "<link rel=\"icon\" type=\"image/svg+xml\" href=\"/ui/icon.svg\">\n</head>\n<body>\n"
               "<nav><a href=\"/ui/\">Repositories</a> <a href=\"/ui/registry\">Registry</a></nav>\n<main>\n<h1>");
    ui_text(pg, title);
    ui_raw(pg, "</h1>\n");
}

void ui_end(struct ui_page *pg)
{
    ui_raw(pg, "</main>\n<footer>oci-registry-p2p " PACKAGE_VERSION ", a read-only view</footer>\n</body>\n</html>\n");
}

void ui_error(struct ui_page *pg, int status, const char *what, const char *detail)
{
    buf_reset(&pg->b);
    pg->overflow = 0;
    pg->status = status;
    ui_begin(pg, what);
    if (detail && *detail) {
        ui_raw(pg, "<p class=\"error\">");
        ui_text(pg, detail);
        ui_raw(pg, "</p>\n");
    }
    ui_end(pg);
}

size_t ui_page_n(const char *query)
{
    char *v = query_get(query, "n");
    char *end = NULL;
    size_t n = UI_N_DEFAULT;
    if (v && *v >= '0' && *v <= '9') {
        unsigned long long x = strtoull(v, &end, 10);
        if (end && *end == '\0' && x > 0)
            n = x > UI_N_MAX ? UI_N_MAX : (size_t)x;
    }
    free(v);
    return n;
}

int ui_window(char *const *names, size_t n, const char *last, size_t limit, size_t *first,
              size_t *count)
{
    size_t f = 0;
    if (last && *last)
        while (f < n && strcmp(names[f], last) <= 0)
            f++;
    *first = f;
    *count = n - f < limit ? n - f : limit;
    return f + *count < n;
}

void ui_next(struct ui_page *pg, size_t n, const char *last, const char *path, ...)
{
    va_list ap;
    int any;
    ui_raw(pg, "<p class=\"pager\"><a rel=\"next\" href=\"");
    ui_raw(pg, path);
    va_start(ap, path);
    any = ui_pairs(pg, ap);
    va_end(ap);
    ui_raw(pg, any ? "&amp;last=" : "?last=");
    ui_q(pg, last);
    ui_fmt(pg, "&amp;n=%zu\">Next page</a></p>\n", n);
}

static int ui_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void ui_sort(char **v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, ui_cmp);
}

struct store *ui_store_for(struct registry *reg, const char *name)
{
    struct layout_name ln;
    if (layout_name_parse(name, &ln)) {
        struct store *st = reg->layout_store;
        const char *key = reg->opts.writeipnskey;
        if (reg->layout_rw && ln.ns == LAYOUT_IPNS && key && *key &&
            (strcmp(ln.root, key) == 0 || strcmp(ln.root, registry_key_id(reg)) == 0))
            st = reg->layout_rw;
        layout_name_free(&ln);
        return st;
    }
    for (size_t i = 0; reg->mirror && i < reg->opts.n_mirror_ns; i++) {
        size_t n = strlen(reg->opts.mirror_ns[i].prefix);
        if (strncmp(name, reg->opts.mirror_ns[i].prefix, n) == 0 && name[n] == '/')
            return reg->mirror;
    }
    return reg->store;
}

/* Debian's nginx passes HTTP_HOST as $host, without the port: a port the
 * server listens on that is not the scheme's default is added back from
 * SERVER_PORT, so a pull command names the registry as clients reach it
 * (behind a port forward, name it with the Host the forward keeps). */
const char *ui_host(struct ui_page *pg)
{
    const char *h = req_header(pg->req, "HTTP_HOST");
    const char *port = req_header(pg->req, "SERVER_PORT");
    const char *https = req_header(pg->req, "HTTPS");
    int tls = https && *https && strcmp(https, "off") != 0;
    if (pg->host[0])
        return pg->host;
    if (!h || !*h || strlen(h) >= sizeof pg->host - 8) {
        snprintf(pg->host, sizeof pg->host, "registry.example");
        return pg->host;
    }
    /* a port is there already (host:port, [v6]:port), or none to add */
    const char *colon = strrchr(h, ':');
    int has_port = colon && (h[0] != '[' || colon > strchr(h, ']'));
    if (has_port || !port || !*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
        strcmp(port, tls ? "443" : "80") == 0)
        snprintf(pg->host, sizeof pg->host, "%s", h);
    else
        snprintf(pg->host, sizeof pg->host, "%s:%s", h, port);
    return pg->host;
}
