/* p2pstate: publisher.json and roots.json (see p2pstate.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "core/xjson.h"
#include "core/p2pstate.h"
#include "core/xalloc.h"

/* Both files are a few hundred bytes per key; a bigger one is not ours. */
#define P2P_FILE_MAX (1024 * 1024)

char *p2pstate_path(const char *dir, const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

/* Writes text to <dir>/<name> through <dir>/.<name>.<pid>.tmp and rename. */
static int p2pstate_replace(const char *dir, const char *name, const char *text)
{
    char *tmp = xasprintf("%s/.%s.%ld.tmp", dir, name, (long)getpid());
    char *dst = p2pstate_path(dir, name);
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd >= 0) {
        size_t len = strlen(text), off = 0;
        while (off < len) {
            ssize_t w = write(fd, text + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        int ok = off == len;
        if (close(fd) < 0)
            ok = 0;
        if (ok && rename(tmp, dst) == 0)
            rc = 0;
        else
            unlink(tmp);
    }
    free(tmp);
    free(dst);
    return rc;
}

static char *p2pstate_slurp(const char *dir, const char *name)
{
    char *p = p2pstate_path(dir, name);
    FILE *f = fopen(p, "re");
    free(p);
    if (!f)
        return NULL;
    char *b = xmalloc(P2P_FILE_MAX + 1);
    size_t n = fread(b, 1, P2P_FILE_MAX + 1, f);
    fclose(f);
    if (n > P2P_FILE_MAX) {
        free(b);
        return NULL;
    }
    b[n] = '\0';
    return b;
}

static void p2pstate_copy(char *dst, size_t cap, json_object *o, const char *key)
{
    json_object *v;
    dst[0] = '\0';
    if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
        snprintf(dst, cap, "%s", json_object_get_string(v));
}

static long long p2pstate_int(json_object *o, const char *key)
{
    json_object *v;
    if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    return 0;
}

int p2pstate_write_pub(const char *dir, const struct p2p_pubstate *s)
{
    json_object *o = xjson_object();
    xjson_set(o, "pid", xjson_int64(s->pid));
    xjson_set(o, "heartbeat", xjson_int64((int64_t)s->heartbeat));
    xjson_set(o, "state", xjson_string(s->state));
    xjson_set(o, "key", xjson_string(s->key));
    xjson_set(o, "key_id", xjson_string(s->key_id));
    xjson_set(o, "last_published_cid", xjson_string(s->last_published_cid));
    xjson_set(o, "last_published_at", xjson_int64((int64_t)s->last_published_at));
    xjson_set(o, "sequence", xjson_uint64(s->sequence));
    xjson_set(o, "pending", xjson_bool(s->pending));
    xjson_set(o, "last_error", xjson_string(s->last_error));
    xjson_set(o, "other_writer_cid", xjson_string(s->other_writer_cid));
    xjson_set(o, "publishes_total", xjson_uint64(s->publishes_total));
    xjson_set(o, "publish_failures_total", xjson_uint64(s->publish_failures_total));
    xjson_set(o, "last_publish_ms", xjson_uint64(s->last_publish_ms));
    xjson_set(o, "last_latency_ms", xjson_uint64(s->last_latency_ms));
    int rc = p2pstate_replace(dir, P2P_STATE_FILE, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return rc;
}

int p2pstate_read_pub(const char *dir, struct p2p_pubstate *s)
{
    memset(s, 0, sizeof *s);
    char *text = p2pstate_slurp(dir, P2P_STATE_FILE);
    if (!text)
        return -1;
    json_object *o = json_tokener_parse(text);
    free(text);
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return -1;
    }
    s->pid = (long)p2pstate_int(o, "pid");
    s->heartbeat = (time_t)p2pstate_int(o, "heartbeat");
    p2pstate_copy(s->state, sizeof s->state, o, "state");
    p2pstate_copy(s->key, sizeof s->key, o, "key");
    p2pstate_copy(s->key_id, sizeof s->key_id, o, "key_id");
    p2pstate_copy(s->last_published_cid, sizeof s->last_published_cid, o, "last_published_cid");
    s->last_published_at = (time_t)p2pstate_int(o, "last_published_at");
    s->sequence = (unsigned long long)p2pstate_int(o, "sequence");
    json_object *v;
    s->pending = json_object_object_get_ex(o, "pending", &v) && json_object_get_boolean(v);
    p2pstate_copy(s->last_error, sizeof s->last_error, o, "last_error");
    p2pstate_copy(s->other_writer_cid, sizeof s->other_writer_cid, o, "other_writer_cid");
    s->publishes_total = (unsigned long long)p2pstate_int(o, "publishes_total");
    s->publish_failures_total = (unsigned long long)p2pstate_int(o, "publish_failures_total");
    s->last_publish_ms = (unsigned long long)p2pstate_int(o, "last_publish_ms");
    s->last_latency_ms = (unsigned long long)p2pstate_int(o, "last_latency_ms");
    json_object_put(o);
    return 0;
}

enum p2p_root_take p2p_root_take(struct p2p_root *ro, const char *cid, int seq_known, unsigned long long seq)
{
    if (strcmp(cid, ro->cid) == 0) {
        if (seq_known && seq > ro->sequence)
            ro->sequence = seq;   /* the same root published again */
        return P2P_ROOT_SAME;
    }
    if (seq_known && ro->cid[0] && seq < ro->sequence)
        return P2P_ROOT_OLDER;
    snprintf(ro->cid, sizeof ro->cid, "%s", cid);
    ro->sequence = seq_known ? seq : 0;
    return P2P_ROOT_NEW;
}

int p2pstate_write_roots(const char *dir, const struct p2p_root *roots, size_t n)
{
    json_object *o = xjson_object();
    json_object *a = xjson_array();
    for (size_t i = 0; i < n; i++) {
        json_object *e = xjson_object();
        xjson_set(e, "key", xjson_string(roots[i].key));
        xjson_set(e, "cid", xjson_string(roots[i].cid));
        xjson_set(e, "resolved_at", xjson_int64((int64_t)roots[i].resolved_at));
        xjson_set(e, "sequence", xjson_uint64(roots[i].sequence));
        xjson_set(e, "error", xjson_string(roots[i].error));
        xjson_set(e, "pinned", xjson_string(roots[i].pinned));
        xjson_set(e, "pinning", xjson_string(roots[i].pinning));
        xjson_set(e, "pin_started", xjson_int64((int64_t)roots[i].pin_started));
        xjson_set(e, "pin_nodes", xjson_uint64(roots[i].pin_nodes));
        xjson_set(e, "pin_bytes", xjson_uint64(roots[i].pin_bytes));
        xjson_push(a, e);
    }
    xjson_set(o, "roots", a);
    int rc = p2pstate_replace(dir, P2P_ROOTS_FILE, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return rc;
}

int p2pstate_read_roots(const char *dir, struct p2p_root **roots, size_t *n)
{
    *roots = NULL;
    *n = 0;
    char *text = p2pstate_slurp(dir, P2P_ROOTS_FILE);
    if (!text)
        return -1;
    json_object *o = json_tokener_parse(text);
    free(text);
    json_object *a;
    if (!o || !json_object_object_get_ex(o, "roots", &a) || !json_object_is_type(a, json_type_array)) {
        json_object_put(o);
        return -1;
    }
    size_t len = json_object_array_length(a);
    struct p2p_root *r = xcalloc(len + 1, sizeof *r);
    for (size_t i = 0; i < len; i++) {
        json_object *e = json_object_array_get_idx(a, i);
        p2pstate_copy(r[i].key, sizeof r[i].key, e, "key");
        p2pstate_copy(r[i].cid, sizeof r[i].cid, e, "cid");
        p2pstate_copy(r[i].error, sizeof r[i].error, e, "error");
        r[i].resolved_at = (time_t)p2pstate_int(e, "resolved_at");
        r[i].sequence = (unsigned long long)p2pstate_int(e, "sequence");
        p2pstate_copy(r[i].pinned, sizeof r[i].pinned, e, "pinned");
        p2pstate_copy(r[i].pinning, sizeof r[i].pinning, e, "pinning");
        r[i].pin_started = (time_t)p2pstate_int(e, "pin_started");
        r[i].pin_nodes = (unsigned long long)p2pstate_int(e, "pin_nodes");
        r[i].pin_bytes = (unsigned long long)p2pstate_int(e, "pin_bytes");
    }
    json_object_put(o);
    *roots = r;
    *n = len;
    return 0;
}
