/* owner: the owner records of trees and write keys (see owner.h). A new
 * record is made by add + files/cp, which Kubo refuses onto an existing
 * entry: of two registries claiming at once, one gets KUBO_EXISTS and reads
 * the winner's record. Heartbeats rewrite the record in place. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "core/buf.h"
#include "core/xalloc.h"
#include "core/xjson.h"
#include "core/log.h"
#include "ipfs/kubo_internal.h"
#include "ipfs/owner.h"

/* A record is a few hundred bytes; anything larger is not ours. */
#define OWNER_REC_MAX 8192
#define OWNER_KEYS_DIR "/.oci-registry-p2p-keys"
/* Claims tried before giving up on a record that keeps changing under us. */
#define OWNER_TRIES 3

void owner_me(struct owner_rec *me, const char *statedir, pid_t master_pid)
{
    memset(me, 0, sizeof *me);
    if (gethostname(me->host, sizeof me->host - 1) < 0 || !me->host[0])
        snprintf(me->host, sizeof me->host, "unknown-host");
    snprintf(me->statedir, sizeof me->statedir, "%s", statedir);
    me->pid = (long)master_pid;
    me->heartbeat = time(NULL);
}

char *owner_tree_path(const char *mfsroot)
{
    return xasprintf("%s.owner", mfsroot);
}

char *owner_key_path(const char *keyname)
{
    /* key names are one path component in Kubo's keystore; keep '/' out anyway */
    char *p = xasprintf(OWNER_KEYS_DIR "/%s.owner", keyname);
    for (char *c = p + sizeof OWNER_KEYS_DIR; *c; c++)
        if (*c == '/')
            *c = '_';
    return p;
}

const char *owner_describe(const struct owner_rec *r, char *buf, size_t n)
{
    long long age = (long long)(time(NULL) - r->heartbeat);
    snprintf(buf, n, "statedir %s on host %s (master pid %ld, heartbeat %lld s ago)", r->statedir, r->host,
             r->pid, age);
    return buf;
}

static char *owner_to_json(const struct owner_rec *r)
{
    json_object *o = xjson_object();
    xjson_set(o, "host", xjson_string(r->host));
    xjson_set(o, "statedir", xjson_string(r->statedir));
    xjson_set(o, "pid", xjson_int64(r->pid));
    xjson_set(o, "heartbeat", xjson_int64((int64_t)r->heartbeat));
    char *s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return s;
}

/* 0 and *r, or -1 if the bytes are no record (then it is treated as stale:
 * nobody could be told who owns the tree anyway). */
static int owner_parse(const char *s, struct owner_rec *r)
{
    json_object *o = json_tokener_parse(s), *v;
    int rc = -1;
    memset(r, 0, sizeof *r);
    if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "host", &v) &&
        json_object_is_type(v, json_type_string)) {
        snprintf(r->host, sizeof r->host, "%s", json_object_get_string(v));
        if (json_object_object_get_ex(o, "statedir", &v) && json_object_is_type(v, json_type_string))
            snprintf(r->statedir, sizeof r->statedir, "%s", json_object_get_string(v));
        if (json_object_object_get_ex(o, "pid", &v) && json_object_is_type(v, json_type_int))
            r->pid = (long)json_object_get_int64(v);
        if (json_object_object_get_ex(o, "heartbeat", &v) && json_object_is_type(v, json_type_int)) {
            r->heartbeat = (time_t)json_object_get_int64(v);
            rc = 0;
        }
    }
    json_object_put(o);
    return rc;
}

/* KUBO_OK and *r; KUBO_NOT_FOUND; KUBO_ERROR for a record that is not one. */
static int owner_read(struct kubo *k, const char *path, struct owner_rec *r)
{
    struct buf b;
    buf_init(&b, OWNER_REC_MAX);
    int krc = kubo_files_read(k, path, &b);
    if (krc == KUBO_OK && owner_parse(buf_cstr(&b), r) < 0)
        krc = KUBO_ERROR;
    buf_free(&b);
    return krc;
}

static int owner_same_registry(const struct owner_rec *a, const struct owner_rec *b)
{
    return strcmp(a->host, b->host) == 0 && strcmp(a->statedir, b->statedir) == 0;
}

static int owner_pid_alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static int owner_stale(const struct owner_rec *r, const struct owner_rec *me, long lease_s)
{
    if (time(NULL) - r->heartbeat > lease_s)
        return 1;
    /* on this host a dead master is known at once: a restart after a crash waits for nothing */
    return strcmp(r->host, me->host) == 0 && !owner_pid_alive(r->pid);
}

/* Writes me (heartbeat now) at path. create: only if nothing is there. */
static int owner_write(struct kubo *k, const char *path, const struct owner_rec *me, int create)
{
    struct owner_rec now = *me;
    now.heartbeat = time(NULL);
    char *json = owner_to_json(&now);
    int krc;
    if (create) {
        char cid[KUBO_CID_MAX], *src;
        krc = kubo_add_mem(k, json, strlen(json), NULL, cid);
        if (krc == KUBO_OK) {
            src = xasprintf("/ipfs/%s", cid);
            krc = kubo_files_cp(k, src, path);
            free(src);
        }
    } else {
        krc = kubo_files_write(k, path, json, strlen(json));
    }
    free(json);
    return krc;
}

int owner_claim(struct kubo *k, const char *path, const struct owner_rec *me, long lease_s,
                struct owner_rec *other)
{
    for (int i = 0; i < OWNER_TRIES; i++) {
        struct owner_rec r;
        int krc = owner_read(k, path, &r);
        if (krc == KUBO_NOT_FOUND) {
            krc = owner_write(k, path, me, 1);
            if (krc == KUBO_EXISTS)
                continue;   /* another registry claimed it just now: read its record */
            return krc == KUBO_OK ? OWNER_MINE : OWNER_ERROR;
        }
        if (krc == KUBO_OK && !owner_same_registry(&r, me) && !owner_stale(&r, me, lease_s)) {
            *other = r;
            return OWNER_TAKEN;
        }
        if (krc != KUBO_OK && krc != KUBO_ERROR)
            return OWNER_ERROR;
        /* ours, stale, or not a record: take it */
        return owner_write(k, path, me, 0) == KUBO_OK ? OWNER_MINE : OWNER_ERROR;
    }
    kubo_fail(k, KUBO_ERROR, "owner", "%s: changed %d times while being claimed", path, OWNER_TRIES);
    return OWNER_ERROR;
}

int owner_renew(struct kubo *k, const char *path, const struct owner_rec *me, struct owner_rec *other)
{
    struct owner_rec r;
    int krc = owner_read(k, path, &r);
    if (krc == KUBO_OK && (!owner_same_registry(&r, me) || r.pid != me->pid)) {
        *other = r;
        return OWNER_TAKEN;
    }
    if (krc != KUBO_OK && krc != KUBO_NOT_FOUND && krc != KUBO_ERROR)
        return OWNER_ERROR;
    /* ours, or gone (removed by hand): write it back */
    return owner_write(k, path, me, krc == KUBO_NOT_FOUND) == KUBO_OK ? OWNER_MINE : OWNER_ERROR;
}

void owner_release(struct kubo *k, const char *path, const struct owner_rec *me)
{
    struct owner_rec r;
    if (owner_read(k, path, &r) == KUBO_OK && owner_same_registry(&r, me) && r.pid == me->pid)
        kubo_files_rm(k, path, 0);
}

/* ---- owner_hold ---- */

void owner_hold_init(struct owner_hold *h, const char *mfsroot, const char *key, const char *statedir,
                     pid_t master_pid, long lease_s)
{
    memset(h, 0, sizeof *h);
    owner_me(&h->me, statedir, master_pid);
    h->lease_s = lease_s;
    h->path[h->n] = owner_tree_path(mfsroot);
    h->setting[h->n++] = xasprintf("mfsroot %s", mfsroot);
    if (key) {
        h->path[h->n] = owner_key_path(key);
        h->setting[h->n++] = xasprintf("writeipnskey \"%s\"", key);
    }
}

void owner_hold_free(struct owner_hold *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->path[i]);
        free(h->setting[i]);
    }
    memset(h, 0, sizeof *h);
}

int owner_hold_tick(struct owner_hold *h, struct kubo *k, long long now_ms, char **err)
{
    *err = NULL;
    if (now_ms < h->next_ms)
        return 0;
    for (size_t i = 0; i < h->n; i++) {
        struct owner_rec other;
        int rc = h->held ? owner_renew(k, h->path[i], &h->me, &other)
                         : owner_claim(k, h->path[i], &h->me, h->lease_s, &other);
        if (rc == OWNER_TAKEN) {
            char who[OWNER_HOST_MAX + OWNER_DIR_MAX + 96];
            *err = xasprintf("%s is %s another registry: %s (record %s). Give this registry its own "
                             "%.*s, or stop that one; a registry that died is taken over once its "
                             "heartbeat is older than owner_lease (%ld s)",
                             h->setting[i], h->held ? "now held by" : "owned by",
                             owner_describe(&other, who, sizeof who), h->path[i],
                             (int)strcspn(h->setting[i], " "), h->setting[i], h->lease_s);
            h->held = 0;
            return -1;
        }
        if (rc == OWNER_ERROR) {
            log_warn("owner: %s: %s (trying again)", h->path[i], kubo_errmsg(k));
            h->held = 0;
            h->next_ms = now_ms + 1000;
            return 0;
        }
    }
    if (!h->held)
        log_info("owner: this registry owns %s%s%s", h->setting[0], h->n > 1 ? " and " : "",
                 h->n > 1 ? h->setting[1] : "");
    h->held = 1;
    h->next_ms = now_ms + h->lease_s * 1000 / 3;
    return 0;
}

void owner_hold_release(struct owner_hold *h, struct kubo *k)
{
    if (!h->held)
        return;
    for (size_t i = 0; i < h->n; i++)
        owner_release(k, h->path[i], &h->me);
    h->held = 0;
}
