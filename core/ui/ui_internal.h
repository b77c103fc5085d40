/* ui_internal: what the view's pages (ui_*.c) share: the page being built
 * (a capped buffer: a page never grows without bound), its frame, the
 * window of a paginated list, and the store a repository name is served
 * from. Every write helper escapes or is given trusted text only; after
 * the cap is hit they do nothing and the page answers 500. */
#ifndef CORE_UI_UI_INTERNAL_H
#define CORE_UI_UI_INTERNAL_H
#include <json-c/json.h>
#include <stddef.h>
#include <time.h>
#include "core/buf.h"
#include "core/http.h"
#include "core/registry/registry.h"

/* A page of 1,000 rows of tags with their digests, types and pull
 * commands is about 1 MiB: 8 MiB is a generous ceiling. */
#define UI_PAGE_MAX ((size_t)8 << 20)
/* ?n= as tags/list takes it: 100 rows unless asked, never more than 1,000. */
#define UI_N_DEFAULT 100
#define UI_N_MAX 1000

struct ui_page {
    struct registry *reg;
    struct request *req;
    struct buf b;
    int status;        /* 200 unless a page says otherwise */
    int overflow;      /* the cap was hit: nothing more is written */
    char host[320];    /* ui_host's answer, once asked */
};

/* Trusted markup (a literal of the page's own). */
void ui_raw(struct ui_page *pg, const char *s);
/* Trusted markup from a format: only numbers and strings that are safe as
 * they are (digests, CIDs checked by their parsers, the page's literals). */
void ui_fmt(struct ui_page *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Outside text, escaped (html_text). */
void ui_text(struct ui_page *pg, const char *s);
/* Outside text as a query value, percent-encoded (html_query). */
void ui_q(struct ui_page *pg, const char *s);
/* A link to the view's own page: <a href="PATH?KEY=VALUE...">text</a>, with
 * KEY/VALUE pairs (values encoded) ending at a NULL key. */
void ui_link(struct ui_page *pg, const char *path, const char *text, ...);
/* An outside link (html_url_safe) or, if it is not safe, the text alone. */
void ui_ext_link(struct ui_page *pg, const char *url);
/* A descriptor's platform object as "os/architecture/variant" (escaped;
 * missing parts left out). Nothing when p is not an object. */
void ui_platform(struct ui_page *pg, json_object *p);
/* A pull command in a <code> the browser can select whole. */
void ui_pull(struct ui_page *pg, const char *name, const char *sep, const char *ref);
/* A unix time as "2026-12-05 15:08:39 UTC", or "never" for 0. */
void ui_time(struct ui_page *pg, time_t t);
/* A byte count as "1.5 MiB (1572864 bytes)". */
void ui_size(struct ui_page *pg, long long bytes);
/* An IPFS address: the CID as ipfs://<cid>, and the gateway's URL when
 * ui_gateway_url is set. */
void ui_cid(struct ui_page *pg, const char *cid);

/* Frame: doctype, lang, title, stylesheet, navigation and the one h1
 * (both the title's text, escaped). */
void ui_begin(struct ui_page *pg, const char *title);
void ui_end(struct ui_page *pg);
/* An error page (status, a sentence, and detail escaped; detail may be NULL). */
void ui_error(struct ui_page *pg, int status, const char *what, const char *detail);

/* ?n= of the request, UI_N_DEFAULT if absent or malformed, at most UI_N_MAX. */
size_t ui_page_n(const char *query);
/* The window [*first, *first + *count) of sorted names (n of them) after
 * last (NULL: from the start), at most limit long; 1 if more follow. */
int ui_window(char *const *names, size_t n, const char *last, size_t limit, size_t *first,
              size_t *count);
/* A "Next" link: PATH?KEY=VALUE...&last=<last>&n=<n> (pairs as ui_link's). */
void ui_next(struct ui_page *pg, size_t n, const char *last, const char *path, ...);
/* Sorts strings in place (strcmp order, which tags/list's last= uses). */
void ui_sort(char **v, size_t n);

/* The store that serves repository name (as the API would route it: OCI
 * layouts, the mirror's prefixes, this registry's own); NULL if none. */
struct store *ui_store_for(struct registry *reg, const char *name);
/* The registry's host[:port] as the browser asked for it (for pull
 * commands; escape it: it is the client's); never NULL. */
const char *ui_host(struct ui_page *pg);

/* The pages (ui_repos.c, ui_tags.c, ui_manifest.c, ui_registry.c). */
void ui_repos(struct ui_page *pg);
void ui_tags(struct ui_page *pg);
void ui_manifest(struct ui_page *pg);
void ui_registry(struct ui_page *pg);
/* ui_style.c: the stylesheet served on /ui/style.css, the icon on /ui/icon.svg. */
extern const char ui_stylesheet[];
extern const char ui_icon[];

#endif
