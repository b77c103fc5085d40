/* name: IPNS publish/resolve, keystore lookup and pins (see name.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "core/xalloc.h"
#include "ipfs/kubo_internal.h"
#include "ipfs/name.h"

int kubo_name_publish(struct kubo *k, const char *cid, const struct kubo_publish_opts *opts)
{
    char *path = xasprintf("/ipfs/%s", cid);
    struct kubo_query q;
    kubo_query_init(&q);
    kubo_query_add(&q, "arg", path);
    kubo_query_add(&q, "key", opts->key);
    /* resolve=false: the root was just flushed here, it surely resolves */
    kubo_query_add(&q, "resolve", "false");
    if (opts->lifetime)
        kubo_query_add(&q, "lifetime", opts->lifetime);
    if (opts->ttl)
        kubo_query_add(&q, "ttl", opts->ttl);
    if (opts->allow_offline)
        kubo_query_add(&q, "allow-offline", "true");
    struct buf out;
    buf_init(&out, KUBO_JSON_MAX);
    char *what = xasprintf("%s under %s", path, opts->key);
    int rc = kubo_rpc(k, "name/publish", what, &q, NULL, &out);
    free(what);
    buf_free(&out);
    kubo_query_free(&q);
    free(path);
    return rc;
}

/* "/ipfs/<cid>" -> cid; anything else (a path below it, /ipns/...) is refused. */
static int kubo_name_root_cid(const char *path, char cid_out[KUBO_CID_MAX])
{
    if (strncmp(path, "/ipfs/", 6) != 0)
        return -1;
    const char *c = path + 6;
    size_t n = strlen(c);
    while (n > 0 && c[n - 1] == '/')
        n--;
    if (n == 0 || n >= KUBO_CID_MAX || memchr(c, '/', n))
        return -1;
    memcpy(cid_out, c, n);
    cid_out[n] = '\0';
    return 0;
}

/* Kubo's words for "there is no record" (namesys.ErrResolveFailed and the
 * routing's not-found), as opposed to a failure to look. */
static int kubo_name_no_record(const char *msg)
{
    return strstr(msg, "could not resolve name") != NULL ||
           strstr(msg, "routing: not found") != NULL;
}

/* key=<timeout_s>s on q, if timeout_s > 0 (0: Kubo's default). */
static void kubo_name_timeout(struct kubo_query *q, const char *key, int timeout_s)
{
    char tmo[32];
    if (timeout_s > 0) {
        snprintf(tmo, sizeof tmo, "%ds", timeout_s);
        kubo_query_add(q, key, tmo);
    }
}

enum kubo_resolve kubo_name_resolve(struct kubo *k, const char *name, int nocache, int timeout_s,
                                    char cid_out[KUBO_CID_MAX])
{
    struct kubo_query q;
    kubo_query_init(&q);
    kubo_query_add(&q, "arg", name);
    kubo_query_add(&q, "recursive", "true");
    if (nocache)
        kubo_query_add(&q, "nocache", "true");
    kubo_name_timeout(&q, "dht-timeout", timeout_s);
    struct buf out;
    buf_init(&out, KUBO_JSON_MAX);
    int rc = kubo_rpc(k, "name/resolve", name, &q, NULL, &out);
    kubo_query_free(&q);
    enum kubo_resolve res = KUBO_RESOLVE_FAILED;
    if (rc == KUBO_OK) {
        json_object *o = json_tokener_parse(buf_cstr(&out));
        json_object *p;
        char *what = xasprintf("name/resolve %s", name);
        if (o && json_object_object_get_ex(o, "Path", &p) && json_object_is_type(p, json_type_string) &&
            kubo_name_root_cid(json_object_get_string(p), cid_out) == 0)
            res = KUBO_RESOLVED;
        else
            kubo_fail(k, KUBO_ERROR, what, "not a registry root (/ipfs/<cid>): %.200s", buf_cstr(&out));
        free(what);
        json_object_put(o);
    } else if (rc != KUBO_UNAVAILABLE && kubo_name_no_record(kubo_errmsg(k))) {
        res = KUBO_RESOLVE_NO_RECORD;
    }
    buf_free(&out);
    return res;
}

/* name/inspect of the record bytes in rec: value and sequence, if its
 * signature is valid for name. */
static enum kubo_resolve kubo_name_inspect(struct kubo *k, const char *name, const struct buf *rec,
                                           char cid_out[KUBO_CID_MAX], unsigned long long *seq)
{
    struct kubo_query q;
    kubo_query_init(&q);
    kubo_query_add(&q, "verify", name);
    kubo_query_add(&q, "dump", "false");
    curl_mime *mime;
    curl_mimepart *part = kubo_mime_file(k, &mime, "record", "application/vnd.ipfs.ipns-record");
    curl_mime_data(part, rec->data, rec->len);
    struct buf out;
    buf_init(&out, KUBO_JSON_MAX);
    int rc = kubo_rpc(k, "name/inspect", name, &q, mime, &out);
    curl_mime_free(mime);
    kubo_query_free(&q);
    enum kubo_resolve res = KUBO_RESOLVE_FAILED;
    if (rc == KUBO_OK) {
        json_object *o = json_tokener_parse(buf_cstr(&out));
        json_object *entry, *val, *valid, *value, *sq;
        char *what = xasprintf("name/inspect %s", name);
        if (!o || !json_object_object_get_ex(o, "Entry", &entry) ||
            !json_object_object_get_ex(entry, "Value", &value) || !json_object_is_type(value, json_type_string))
            kubo_fail(k, KUBO_ERROR, what, "no value: %.200s", buf_cstr(&out));
        else if (!json_object_object_get_ex(o, "Validation", &val) ||
                 !json_object_object_get_ex(val, "Valid", &valid) || !json_object_get_boolean(valid))
            kubo_fail(k, KUBO_ERROR, what, "the record's signature is not valid for this name: %.200s",
                      buf_cstr(&out));
        else if (kubo_name_root_cid(json_object_get_string(value), cid_out) != 0)
            kubo_fail(k, KUBO_ERROR, what, "not a registry root (/ipfs/<cid>): %.200s", json_object_get_string(value));
        else {
            *seq = json_object_object_get_ex(entry, "Sequence", &sq) ? (unsigned long long)json_object_get_uint64(sq)
                                                                     : 0;
            res = KUBO_RESOLVED;
        }
        free(what);
        json_object_put(o);
    }
    buf_free(&out);
    return res;
}

enum kubo_resolve kubo_name_record(struct kubo *k, const char *name, int timeout_s,
                                   char cid_out[KUBO_CID_MAX], unsigned long long *seq)
{
    struct kubo_query q;
    kubo_query_init(&q);
    char *path = xasprintf("/ipns/%s", name);
    kubo_query_add(&q, "arg", path);
    kubo_name_timeout(&q, "timeout", timeout_s);
    struct buf rec;
    buf_init(&rec, KUBO_IPNS_RECORD_MAX);
    int rc = kubo_rpc(k, "name/get", path, &q, NULL, &rec);
    kubo_query_free(&q);
    free(path);
    enum kubo_resolve res = KUBO_RESOLVE_FAILED;
    if (rc == KUBO_OK && rec.len == 0)
        kubo_fail(k, KUBO_ERROR, "name/get", "%s: an empty record", name);
    else if (rc == KUBO_OK)
        res = kubo_name_inspect(k, name, &rec, cid_out, seq);
    else if (rc != KUBO_UNAVAILABLE && kubo_name_no_record(kubo_errmsg(k)))
        res = KUBO_RESOLVE_NO_RECORD;
    buf_free(&rec);
    return res;
}

int kubo_key_find(struct kubo *k, const char *key, char id_out[KUBO_CID_MAX])
{
    struct kubo_query q;
    kubo_query_init(&q);
    kubo_query_add(&q, "l", "true");   /* names and IDs */
    struct buf out;
    buf_init(&out, KUBO_JSON_MAX);
    int rc = kubo_rpc(k, "key/list", "", &q, NULL, &out);
    kubo_query_free(&q);
    if (rc != KUBO_OK) {
        buf_free(&out);
        return rc;
    }
    json_object *o = json_tokener_parse(buf_cstr(&out));
    json_object *keys;
    if (!o || !json_object_object_get_ex(o, "Keys", &keys) || !json_object_is_type(keys, json_type_array)) {
        rc = kubo_fail(k, KUBO_ERROR, "key/list", "unexpected answer: %.200s", buf_cstr(&out));
    } else {
        rc = kubo_fail(k, KUBO_NOT_FOUND, "key/list",
                       "no key named or with ID \"%s\" in the node's keystore (make one with: ipfs key gen %s)",
                       key, key);
        for (size_t i = 0; i < json_object_array_length(keys); i++) {
            json_object *e = json_object_array_get_idx(keys, i), *nm, *id;
            if (!json_object_object_get_ex(e, "Name", &nm) || !json_object_object_get_ex(e, "Id", &id) ||
                !json_object_is_type(nm, json_type_string) || !json_object_is_type(id, json_type_string))
                continue;
            const char *ids = json_object_get_string(id);
            if ((strcmp(json_object_get_string(nm), key) == 0 || strcmp(ids, key) == 0) &&
                strlen(ids) < KUBO_CID_MAX) {
                memcpy(id_out, ids, strlen(ids) + 1);
                rc = KUBO_OK;
                break;
            }
        }
    }
    json_object_put(o);
    buf_free(&out);
    return rc;
}

static int kubo_pin_call(struct kubo *k, const char *cmd, const char *a, const char *b)
{
    struct kubo_query q;
    kubo_query_init(&q);
    char *pa = xasprintf("/ipfs/%s", a);
    char *pb = b ? xasprintf("/ipfs/%s", b) : NULL;
    kubo_query_add(&q, "arg", pa);
    if (pb)
        kubo_query_add(&q, "arg", pb);
    char *what = pb ? xasprintf("%s -> %s", pa, pb) : xstrdup(pa);
    struct buf out;
    buf_init(&out, KUBO_JSON_MAX);
    int rc = kubo_rpc(k, cmd, what, &q, NULL, &out);
    buf_free(&out);
    free(what);
    free(pb);
    free(pa);
    kubo_query_free(&q);
    return rc;
}

int kubo_pin_add(struct kubo *k, const char *cid)
{
    return kubo_pin_call(k, "pin/add", cid, NULL);
}

struct kubo_pin_watch {
    kubo_pin_progress_cb cb;
    void *ctx;
};

static void kubo_pin_line(const char *line, size_t n, void *arg)
{
    struct kubo_pin_watch *w = arg;
    (void)n;
    json_object *o = json_tokener_parse(line);
    json_object *v;
    uint64_t nodes = 0, bytes = 0;
    if (o && json_object_object_get_ex(o, "Progress", &v))
        nodes = (uint64_t)json_object_get_int64(v);
    if (o && json_object_object_get_ex(o, "Bytes", &v))
        bytes = (uint64_t)json_object_get_int64(v);
    json_object_put(o);
    if (nodes || bytes)
        w->cb(nodes, bytes, w->ctx);
}

int kubo_pin_add_progress(struct kubo *k, const char *cid, kubo_pin_progress_cb cb, void *ctx)
{
    struct kubo_query q;
    kubo_query_init(&q);
    char *pa = xasprintf("/ipfs/%s", cid);
    kubo_query_add(&q, "arg", pa);
    kubo_query_add(&q, "progress", "true");
    struct kubo_pin_watch w = { cb, ctx };
    int rc = kubo_rpc_lines(k, "pin/add", pa, &q, kubo_pin_line, &w);
    free(pa);
    kubo_query_free(&q);
    return rc;
}

static void kubo_refs_line(const char *line, size_t n, void *arg)
{
    (void)line;
    (void)n;
    (*(uint64_t *)arg)++;
}

int kubo_refs_fetch(struct kubo *k, const char *path, int max_depth, uint64_t *n)
{
    struct kubo_query q;
    char depth[16];
    snprintf(depth, sizeof depth, "%d", max_depth);
    kubo_query_init(&q);
    kubo_query_add(&q, "arg", path);
    kubo_query_add(&q, "recursive", "true");
    kubo_query_add(&q, "unique", "true");
    kubo_query_add(&q, "max-depth", depth);
    *n = 0;
    int rc = kubo_rpc_lines(k, "refs", path, &q, kubo_refs_line, n);
    kubo_query_free(&q);
    return rc;
}

int kubo_pin_update(struct kubo *k, const char *from, const char *to)
{
    return kubo_pin_call(k, "pin/update", from, to);
}

int kubo_pin_rm(struct kubo *k, const char *cid)
{
    return kubo_pin_call(k, "pin/rm", cid, NULL);
}

void kubo_set_pin_adds(struct kubo *k, int on)
{
    k->pin_adds = on;
}

void kubo_note_pinned(struct kubo *k, const char *cid)
{
    if (!k->pin_adds)
        return;
    if (k->npinned == KUBO_PINNED_MAX) {
        memmove(k->pinned[0], k->pinned[1], (KUBO_PINNED_MAX - 1) * sizeof k->pinned[0]);
        k->npinned--;
    }
    snprintf(k->pinned[k->npinned++], KUBO_CID_MAX, "%s", cid);
}

int kubo_unpin_added(struct kubo *k, const char *cid)
{
    unsigned i;
    for (i = 0; i < k->npinned && strcmp(k->pinned[i], cid) != 0; i++)
        ;
    if (i == k->npinned)
        return KUBO_OK;   /* no pin of ours (a chunk committed as it is, unpinned already) */
    memmove(k->pinned[i], k->pinned[i + 1], (k->npinned - i - 1) * sizeof k->pinned[0]);
    k->npinned--;
    int rc = kubo_pin_call(k, "pin/rm", cid, NULL);
    /* "not pinned or pinned indirectly": nothing of ours to remove */
    if (rc != KUBO_OK && strstr(kubo_errmsg(k), "not pinned"))
        rc = KUBO_OK;
    return rc;
}

int kubo_swarm_peer_count(struct kubo *k)
{
    struct buf out;
    buf_init(&out, KUBO_JSON_MAX);
    int rc = kubo_rpc(k, "swarm/peers", NULL, NULL, NULL, &out);
    int n = -1;
    if (rc == KUBO_OK) {
        json_object *o = json_tokener_parse(buf_cstr(&out));
        json_object *peers;
        if (o && json_object_object_get_ex(o, "Peers", &peers))
            n = json_object_is_type(peers, json_type_array) ? (int)json_object_array_length(peers) : 0;
        json_object_put(o);
    }
    buf_free(&out);
    return n;
}
