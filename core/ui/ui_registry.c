/* ui_registry: /ui/registry — where the registry lives in IPFS: the root
 * CID it last published and under which IPNS key (the publisher's one
 * record of its last publish: CID, time and sequence; no history is kept),
 * the read-only keys and the roots they resolved to, the layouts pushed
 * under the key, health (Kubo answers, the publisher is alive) and the
 * versions. Read from statedir (core/p2pstate.h) and one ping to Kubo. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "core/ui/ui_internal.h"
#include "core/layoutreg.h"
#include "core/p2pstate.h"

/* As h_status: three missed heartbeats and the publisher counts as gone. */
#define UI_REGISTRY_STALE_S (3 * P2P_HEARTBEAT_S)
/* A page must not hang on a stuck node. */
#define UI_REGISTRY_PING_MS 2000

static void ui_dt(struct ui_page *pg, const char *term)
{
    ui_raw(pg, "<dt>");
    ui_raw(pg, term);
    ui_raw(pg, "</dt><dd>");
}

static void ui_registry_publisher(struct ui_page *pg, const struct p2p_pubstate *s, int alive)
{
    ui_raw(pg, "<h2>Published root</h2>\n<dl>\n");
    ui_dt(pg, "IPNS key");
    if (*s->key_id) {
        ui_raw(pg, "<code>");
        ui_text(pg, s->key_id);
        ui_raw(pg, "</code> (");
        ui_text(pg, s->key);
        ui_raw(pg, ")");
    } else {
        ui_raw(pg, "<span class=\"none\">none</span>");
    }
    ui_raw(pg, "</dd>\n");
    ui_dt(pg, "Root CID");
    ui_cid(pg, s->last_published_cid);
    ui_raw(pg, "</dd>\n");
    ui_dt(pg, "Last publish");
    ui_time(pg, s->last_published_at);
    ui_fmt(pg, ", sequence %llu</dd>\n", s->sequence);
    ui_dt(pg, "Publisher");
    ui_text(pg, s->state);
    ui_raw(pg, alive ? ", alive" : ", <strong>not running</strong>");
    if (s->pending)
        ui_raw(pg, ", a change is waiting to be published");
    ui_raw(pg, "</dd>\n");
    if (*s->last_error) {
        ui_dt(pg, "Last error");
        ui_raw(pg, "<span class=\"error\">");
        ui_text(pg, s->last_error);
        ui_raw(pg, "</span></dd>\n");
    }
    ui_fmt(pg, "<dt>Publishes</dt><dd>%llu made, %llu failed</dd>\n</dl>\n", s->publishes_total,
           s->publish_failures_total);
}

static void ui_registry_roots(struct ui_page *pg)
{
    struct p2p_root *r = NULL;
    size_t n = 0;
    ui_raw(pg, "<h2>Read-only keys</h2>\n");
    if (p2pstate_read_roots(pg->reg->opts.statedir, &r, &n) < 0 || n == 0) {
        ui_raw(pg, "<p class=\"none\">None configured.</p>\n");
        free(r);
        return;
    }
    ui_raw(pg, "<table>\n<thead><tr><th scope=\"col\">Key</th><th scope=\"col\">Root</th>"
               "<th scope=\"col\">Resolved</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < n; i++) {
        ui_raw(pg, "<tr><td data-label=\"Key\"><code>");
        ui_text(pg, r[i].key);
        ui_raw(pg, "</code></td><td data-label=\"Root\">");
        ui_cid(pg, r[i].cid);
        if (*r[i].error) {
            ui_raw(pg, "<br><span class=\"error\">");
            ui_text(pg, r[i].error);
            ui_raw(pg, "</span>");
        }
        ui_raw(pg, "</td><td data-label=\"Resolved\">");
        ui_time(pg, r[i].resolved_at);
        ui_raw(pg, "</td></tr>\n");
    }
    ui_raw(pg, "</tbody>\n</table>\n");
    free(r);
}

static void ui_registry_layouts(struct ui_page *pg)
{
    json_object *list = layoutreg_list(pg->reg->opts.statedir), *p, *c, *u;
    size_t n = json_object_array_length(list);
    if (n) {
        ui_raw(pg, "<h2>Pushed layouts</h2>\n<table>\n<thead><tr><th scope=\"col\">Path</th>"
                   "<th scope=\"col\">CID</th><th scope=\"col\">Updated</th></tr></thead>\n<tbody>\n");
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(list, i);
            if (!json_object_object_get_ex(e, "path", &p) || !json_object_object_get_ex(e, "cid", &c))
                continue;
            ui_raw(pg, "<tr><td data-label=\"Path\">");
            ui_text(pg, json_object_get_string(p));
            ui_raw(pg, "</td><td data-label=\"CID\">");
            ui_cid(pg, json_object_get_string(c));
            ui_raw(pg, "</td><td data-label=\"Updated\">");
            ui_time(pg, json_object_object_get_ex(e, "updated", &u) ? (time_t)json_object_get_int64(u) : 0);
            ui_raw(pg, "</td></tr>\n");
        }
        ui_raw(pg, "</tbody>\n</table>\n");
    }
    json_object_put(list);
}

void ui_registry(struct ui_page *pg)
{
    struct registry *reg = pg->reg;
    struct p2p_pubstate s;
    char version[64] = "";
    int have = p2pstate_read_pub(reg->opts.statedir, &s) == 0;
    int alive = have && s.pid > 0 && (kill((pid_t)s.pid, 0) == 0 || errno == EPERM) &&
                time(NULL) - s.heartbeat <= UI_REGISTRY_STALE_S && strcmp(s.state, "stopped") != 0;
    int kubo = !reg->store->ops->ping ||
               reg->store->ops->ping(reg->store, UI_REGISTRY_PING_MS, version, sizeof version) == STORE_OK;
    int need_pub = reg->opts.writeipnskey && *reg->opts.writeipnskey;

    ui_begin(pg, "Registry");
    ui_raw(pg, "<dl>\n");
    ui_dt(pg, "Health");
    ui_raw(pg, kubo && (alive || !need_pub) ? "healthy" : "<strong class=\"error\">unhealthy</strong>");
    ui_raw(pg, kubo ? ": the IPFS node answers" : ": the IPFS node does not answer");
    if (need_pub)
        ui_raw(pg, alive ? ", the publisher is alive" : ", the publisher is not alive");
    ui_raw(pg, "</dd>\n");
    ui_dt(pg, "Version");
    ui_raw(pg, "oci-registry-p2p " PACKAGE_VERSION);
    if (*version) {
        ui_raw(pg, ", Kubo ");
        ui_text(pg, version);
    }
    ui_raw(pg, "</dd>\n");
    ui_dt(pg, "Mode");
    ui_raw(pg, reg->opts.readonly ? "read-only" : "read-write");
    ui_raw(pg, "</dd>\n</dl>\n");
    if (have)
        ui_registry_publisher(pg, &s, alive);
    else
        ui_raw(pg, "<h2>Published root</h2>\n<p class=\"none\">Nothing is published (no writeipnskey, or the publisher has not started).</p>\n");
    ui_registry_roots(pg);
    ui_registry_layouts(pg);
    ui_end(pg);
}
