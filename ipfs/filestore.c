/* filestore: what Kubo's filestore says about blocks added with --nocopy
 * (kubo.h). An entry maps a raw leaf's CID to (file, offset, size), the file
 * named relative to the filestore root (the parent directory of the node's
 * repository); boxo records an entry only for a block the node did not have
 * yet, so a leaf shared by two files is referenced into the first one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <json-c/json.h>
#include "core/digest.h"
#include "core/xalloc.h"
#include "ipfs/kubo_internal.h"

/* CIDs per call: keeps the query and each answer small. */
#define FILESTORE_BATCH 64
/* boxo filestore/util.go: an entry that reads back as its CID */
#define FILESTORE_STATUS_OK 0
#define FILESTORE_STATUS_KEY_NOT_FOUND 30
/* a DAG deeper than this is no UnixFS file Kubo made */
#define FILESTORE_MAX_DEPTH 16

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

void kubo_raw_cid(const unsigned char sha256[32], char out[KUBO_CID_MAX])
{
    /* CIDv1, codec raw (0x55), multihash sha2-256 (0x12, 32 bytes), in
     * multibase base32 ('b', RFC 4648 lower case, no padding) */
    unsigned char bin[36] = { 0x01, 0x55, 0x12, 0x20 };
    memcpy(bin + 4, sha256, 32);
    size_t o = 0;
    out[o++] = 'b';
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < sizeof bin; i++) {
        acc = (acc << 8) | bin[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32[(acc << (5 - bits)) & 31];
    out[o] = '\0';
}

/* Each JSON object of an answer that is one object per line. */
typedef void (*filestore_line_fn)(json_object *o, void *ctx);

static void filestore_each_line(const struct buf *out, filestore_line_fn fn, void *ctx)
{
    const char *p = buf_cstr(out);
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *line = xstrndup(p, n);
        json_object *o = json_tokener_parse(line);
        if (o) {
            fn(o, ctx);
            json_object_put(o);
        }
        free(line);
        p += n + (nl ? 1 : 0);
    }
}

static const char *filestore_str(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v) : NULL;
}

static int filestore_status(json_object *o)
{
    json_object *v;
    return json_object_object_get_ex(o, "Status", &v) ? json_object_get_int(v) : -1;
}

/* The "/" of a {"/": cid} member key. */
static const char *filestore_key(json_object *o)
{
    json_object *k;
    return json_object_object_get_ex(o, "Key", &k) ? filestore_str(k, "/") : NULL;
}

int kubo_filestore_path_is(const char *entry, const char *abspath)
{
    size_t e = strlen(entry), a = strlen(abspath);
    if (e == 0)
        return 0;
    if (entry[0] == '/')
        return strcmp(entry, abspath) == 0;
    return a > e && abspath[a - e - 1] == '/' && strcmp(abspath + a - e, entry) == 0;
}

struct first_entry {
    char *path;
};

static void first_entry_line(json_object *o, void *ctx)
{
    struct first_entry *f = ctx;
    const char *p = filestore_str(o, "FilePath");
    /* any verdict but "no such entry" names the file (ls reads it too:
     * a missing file is status 11 with its path) */
    if (!f->path && filestore_status(o) != FILESTORE_STATUS_KEY_NOT_FOUND && p && *p)
        f->path = xstrdup(p);
}

struct first_ref {
    char cid[KUBO_CID_MAX];
};

/* The first link of a dag-pb node as dag/get shows it (refs would not
 * do: it fetches the children, and fails when their file is gone). */
static void first_ref_line(json_object *o, void *ctx)
{
    struct first_ref *f = ctx;
    json_object *links, *hash;
    if (f->cid[0] || !json_object_object_get_ex(o, "Links", &links) ||
        !json_object_is_type(links, json_type_array) || json_object_array_length(links) == 0 ||
        !json_object_object_get_ex(json_object_array_get_idx(links, 0), "Hash", &hash))
        return;
    const char *r = filestore_str(hash, "/");
    if (r && *r && strlen(r) < KUBO_CID_MAX)
        strcpy(f->cid, r);
}

int kubo_filestore_file_of(struct kubo *k, const char *cid, char **path)
{
    char cur[KUBO_CID_MAX];
    *path = NULL;
    if (strlen(cid) >= sizeof cur)
        return kubo_fail(k, KUBO_ERROR, "filestore/ls", "CID too long");
    strcpy(cur, cid);
    for (int depth = 0; depth < FILESTORE_MAX_DEPTH; depth++) {
        struct kubo_query q;
        struct buf out;
        kubo_query_init(&q);
        kubo_query_add(&q, "arg", cur);
        buf_init(&out, KUBO_JSON_MAX);
        int rc = kubo_rpc(k, "filestore/ls", cur, &q, NULL, &out);
        struct first_entry fe = { 0 };
        if (rc == KUBO_OK)
            filestore_each_line(&out, first_entry_line, &fe);
        buf_free(&out);
        kubo_query_free(&q);
        if (fe.path) {
            *path = fe.path;
            return KUBO_OK;
        }
        /* Kubo answers an error for a key it holds as an ordinary block
         * (an internal node): that is no verdict on the file, go down */
        if (rc == KUBO_UNAVAILABLE)
            return rc;
        kubo_query_init(&q);
        kubo_query_add(&q, "arg", cur);
        kubo_query_add(&q, "output-codec", "dag-json");
        buf_init(&out, KUBO_JSON_MAX);
        rc = kubo_rpc(k, "dag/get", cur, &q, NULL, &out);
        struct first_ref fr = { { 0 } };
        if (rc == KUBO_OK)
            filestore_each_line(&out, first_ref_line, &fr);
        buf_free(&out);
        kubo_query_free(&q);
        if (rc != KUBO_OK)
            return rc;
        if (!fr.cid[0])
            return kubo_fail(k, KUBO_NOT_FOUND, "filestore/ls", "%s: no block of it is in the filestore", cid);
        strcpy(cur, fr.cid);
    }
    return kubo_fail(k, KUBO_ERROR, "filestore/ls", "%s: deeper than %d levels", cid, FILESTORE_MAX_DEPTH);
}

/* ---- taking out entries that name a file whose bytes are not theirs ---- */

struct forget_batch {
    const char *target;
    int all;         /* those that read back too */
    char **bad;      /* CIDs to remove */
    size_t nbad;
};

static void forget_line(json_object *o, void *ctx)
{
    struct forget_batch *b = ctx;
    int st = filestore_status(o);
    const char *p = filestore_str(o, "FilePath"), *key = filestore_key(o);
    if ((st == FILESTORE_STATUS_OK && !b->all) || st == FILESTORE_STATUS_KEY_NOT_FOUND || st < 0 || !p || !key)
        return;
    if (kubo_filestore_path_is(p, b->target)) {
        b->bad = xrealloc(b->bad, (b->nbad + 1) * sizeof *b->bad);
        b->bad[b->nbad++] = xstrdup(key);
    }
}

/* Verifies the entries of cids; removes those that name target and do not
 * read back as their CID. */
static int forget_batch(struct kubo *k, const char *target, int all, char cids[][KUBO_CID_MAX], size_t n,
                        size_t *taken)
{
    struct kubo_query q;
    struct buf out;
    kubo_query_init(&q);
    for (size_t i = 0; i < n; i++)
        kubo_query_add(&q, "arg", cids[i]);
    buf_init(&out, KUBO_JSON_MAX);
    int rc = kubo_rpc(k, "filestore/verify", target, &q, NULL, &out);
    kubo_query_free(&q);
    struct forget_batch b = { .target = target, .all = all };
    if (rc == KUBO_OK || rc == KUBO_NOT_FOUND) {
        filestore_each_line(&out, forget_line, &b);
        rc = KUBO_OK;
    }
    buf_free(&out);
    if (rc == KUBO_OK && b.nbad) {
        kubo_query_init(&q);
        for (size_t i = 0; i < b.nbad; i++)
            kubo_query_add(&q, "arg", b.bad[i]);
        kubo_query_add(&q, "force", "true");
        rc = kubo_rpc(k, "block/rm", target, &q, NULL, NULL);
        kubo_query_free(&q);
        if (rc == KUBO_OK)
            *taken += b.nbad;
    }
    for (size_t i = 0; i < b.nbad; i++)
        free(b.bad[i]);
    free(b.bad);
    return rc;
}

int kubo_filestore_forget(struct kubo *k, const char *bytes_file, uint64_t from, const char *target, int all,
                          size_t *taken)
{
    size_t dummy = 0;
    if (!taken)
        taken = &dummy;
    *taken = 0;
    int fd = open(bytes_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? KUBO_OK : kubo_fail(k, KUBO_ERROR, "filestore forget", "open %s: %s",
                                                     bytes_file, strerror(errno));
    if (from && lseek(fd, (off_t)from, SEEK_SET) < 0) {
        int e = errno;
        close(fd);
        return kubo_fail(k, KUBO_ERROR, "filestore forget", "seek %s: %s", bytes_file, strerror(e));
    }
    char *leaf = xmalloc(KUBO_LEAF_SIZE);
    char (*cids)[KUBO_CID_MAX] = xcalloc(FILESTORE_BATCH, sizeof *cids);
    size_t n = 0;
    int rc = KUBO_OK, eof = 0;
    while (!eof && rc == KUBO_OK) {
        ssize_t got = kubo_leaf_next(fd, leaf);
        if (got < 0) {
            rc = kubo_fail(k, KUBO_ERROR, "filestore forget", "read %s: %s", bytes_file, strerror(errno));
            break;
        }
        if (got == 0)
            break;
        eof = got < KUBO_LEAF_SIZE;
        kubo_leaf_cid(leaf, (size_t)got, cids[n++]);
        if (n == FILESTORE_BATCH) {
            rc = forget_batch(k, target, all, cids, n, taken);
            n = 0;
        }
    }
    if (rc == KUBO_OK && n)
        rc = forget_batch(k, target, all, cids, n, taken);
    free(cids);
    free(leaf);
    close(fd);
    return rc;
}

struct status_line {
    const char *cid;
    int status;
};

static void status_line(json_object *o, void *ctx)
{
    struct status_line *s = ctx;
    const char *key = filestore_key(o);
    if (s->status < 0 && key && strcmp(key, s->cid) == 0)
        s->status = filestore_status(o);
}

int kubo_filestore_status(struct kubo *k, const char *cid, int *status)
{
    struct kubo_query q;
    struct buf out;
    kubo_query_init(&q);
    kubo_query_add(&q, "arg", cid);
    buf_init(&out, KUBO_JSON_MAX);
    int rc = kubo_rpc(k, "filestore/verify", cid, &q, NULL, &out);
    struct status_line s = { .cid = cid, .status = -1 };
    if (rc == KUBO_OK)
        filestore_each_line(&out, status_line, &s);
    buf_free(&out);
    kubo_query_free(&q);
    if (rc != KUBO_OK)
        return rc;
    if (s.status < 0)
        return kubo_fail(k, KUBO_ERROR, "filestore/verify", "%s: no answer for it", cid);
    *status = s.status;
    return KUBO_OK;
}

int kubo_block_rm(struct kubo *k, const char *cid)
{
    struct kubo_query q;
    kubo_query_init(&q);
    kubo_query_add(&q, "arg", cid);
    kubo_query_add(&q, "force", "true");
    int rc = kubo_rpc(k, "block/rm", cid, &q, NULL, NULL);
    kubo_query_free(&q);
    return rc;
}

int kubo_repo_gc(struct kubo *k)
{
    struct kubo_query q;
    kubo_query_init(&q);
    kubo_query_add(&q, "quiet", "true");
    int rc = kubo_rpc(k, "repo/gc", NULL, &q, NULL, NULL);   /* the list of removed CIDs: not wanted */
    kubo_query_free(&q);
    return rc;
}

/* ---- a DAG's leaves, from its internal nodes only ---- */

/* A raw CID (bafk...: codec raw) is a leaf; anything else is read. */
static int filestore_is_raw(const char *cid)
{
    return strncmp(cid, "bafk", 4) == 0;
}

struct links {
    char **cids;
    size_t n;
};

static void links_line(json_object *o, void *ctx)
{
    struct links *l = ctx;
    json_object *links;
    if (!json_object_object_get_ex(o, "Links", &links) || !json_object_is_type(links, json_type_array))
        return;
    size_t n = json_object_array_length(links);
    l->cids = xcalloc(n ? n : 1, sizeof *l->cids);
    for (size_t i = 0; i < n; i++) {
        json_object *hash;
        if (!json_object_object_get_ex(json_object_array_get_idx(links, i), "Hash", &hash))
            continue;
        const char *c = filestore_str(hash, "/");
        if (c && *c && strlen(c) < KUBO_CID_MAX)
            l->cids[l->n++] = xstrdup(c);
    }
}

static int filestore_leaves_at(struct kubo *k, const char *cid, int depth, kubo_leaf_fn fn, void *ctx)
{
    if (filestore_is_raw(cid))
        return fn(ctx, cid) < 0 ? KUBO_ABORTED : KUBO_OK;
    if (depth > FILESTORE_MAX_DEPTH)
        return kubo_fail(k, KUBO_ERROR, "dag/get", "%s: deeper than %d levels", cid, FILESTORE_MAX_DEPTH);
    struct kubo_query q;
    struct buf out;
    kubo_query_init(&q);
    kubo_query_add(&q, "arg", cid);
    kubo_query_add(&q, "output-codec", "dag-json");
    buf_init(&out, KUBO_JSON_MAX);
    int rc = kubo_rpc(k, "dag/get", cid, &q, NULL, &out);
    struct links l = { 0 };
    if (rc == KUBO_OK)
        filestore_each_line(&out, links_line, &l);
    buf_free(&out);
    kubo_query_free(&q);
    for (size_t i = 0; i < l.n && rc == KUBO_OK; i++)
        rc = filestore_leaves_at(k, l.cids[i], depth + 1, fn, ctx);
    for (size_t i = 0; i < l.n; i++)
        free(l.cids[i]);
    free(l.cids);
    return rc;
}

int kubo_dag_leaves(struct kubo *k, const char *root, kubo_leaf_fn fn, void *ctx)
{
    return filestore_leaves_at(k, root, 0, fn, ctx);
}

int kubo_block_put_raw(struct kubo *k, const void *data, size_t len, char cid_out[KUBO_CID_MAX])
{
    struct kubo_query q;
    kubo_query_init(&q);
    kubo_query_add(&q, "cid-codec", "raw");
    kubo_query_add(&q, "mhtype", "sha2-256");
    curl_mime *mime;
    curl_mimepart *part = kubo_mime_file(k, &mime, "leaf", "application/octet-stream");
    curl_mime_data(part, data, len);
    struct buf out;
    buf_init(&out, KUBO_JSON_MAX);
    int rc = kubo_rpc(k, "block/put", "(leaf)", &q, mime, &out);
    if (rc == KUBO_OK)
        rc = kubo_json_cid(k, "block/put (leaf)", &out, "Key", 0, cid_out);
    buf_free(&out);
    curl_mime_free(mime);
    kubo_query_free(&q);
    return rc;
}

struct paths_batch {
    const char *const *cids;
    size_t n;
    char **paths;
};

static void paths_line(json_object *o, void *ctx)
{
    struct paths_batch *b = ctx;
    const char *key = filestore_key(o), *p = filestore_str(o, "FilePath");
    int st = filestore_status(o);
    if (!key || !p || !*p || st == FILESTORE_STATUS_KEY_NOT_FOUND)
        return;
    for (size_t i = 0; i < b->n; i++) {
        if (!b->paths[i] && strcmp(b->cids[i], key) == 0) {
            b->paths[i] = xstrdup(p);
            return;
        }
    }
}

int kubo_filestore_paths(struct kubo *k, const char *const *cids, size_t n, char ***paths)
{
    struct paths_batch b = { .cids = cids, .n = n, .paths = xcalloc(n ? n : 1, sizeof *b.paths) };
    int rc = KUBO_OK;
    for (size_t at = 0; at < n && rc == KUBO_OK; at += FILESTORE_BATCH) {
        struct kubo_query q;
        struct buf out;
        kubo_query_init(&q);
        for (size_t i = at; i < n && i < at + FILESTORE_BATCH; i++)
            kubo_query_add(&q, "arg", cids[i]);
        buf_init(&out, KUBO_JSON_MAX);
        rc = kubo_rpc(k, "filestore/ls", cids[at], &q, NULL, &out);
        if (rc == KUBO_OK || rc == KUBO_NOT_FOUND) {
            filestore_each_line(&out, paths_line, &b);
            rc = KUBO_OK;
        }
        buf_free(&out);
        kubo_query_free(&q);
    }
    *paths = b.paths;
    return rc;
}
