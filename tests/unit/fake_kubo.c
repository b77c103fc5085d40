/* fake_kubo: a FAKE Kubo node for unit tests only (see fake_kubo.h). It is
 * not a client of anything: it stands in for ipfs/kubo.c and its siblings in
 * the store_tests program, answering the same functions with the same
 * signatures from memory.
 *
 * What it models:
 * - MFS as a tree of directories and files (bytes), every change visible at
 *   once (Kubo's flush=true); files/flush only answers the CID.
 * - Content addressing: every file and directory is an immutable node with a
 *   deterministic fake CID, "bafkfake" + the hex SHA-256 of its content (a
 *   file's bytes; a directory's sorted (name, child CID) pairs). A change
 *   copies the nodes on its path, so every node ever made stays reachable as
 *   /ipfs/<cid>[/path], like blocks in a blockstore: a flushed root is a
 *   snapshot, and files/cp /ipfs/<cid> dst links that very node.
 * - add (streamed from the caller's callback, optionally --to-files), UnixFS
 *   concatenation (its CID derives from the parts' CIDs, not the bytes: a
 *   real concatenation is a DAG of another shape than an add of the same
 *   bytes), gateway reads with ranges, IPNS names set by the test, ping.
 * - Kubo's answers as ipfs/kubo.h documents them: KUBO_NOT_FOUND ("file does
 *   not exist" in MFS, "no link named ..." under /ipfs), KUBO_EXISTS for cp
 *   (and add --to-files) onto an existing entry, KUBO_TOO_LARGE past a
 *   read's cap, KUBO_ABORTED when a callback stops, and kubo_errmsg() as
 *   "ipfs: <command> <arg>: <Kubo's words>".
 *
 * What it does not model: HTTP, timeouts, the MFS lock and concurrency
 * (nothing here is shared between processes), pins and garbage collection
 * (nothing is ever dropped), real CIDs and their codecs, chunking and DAG
 * layout (a file is one node), the network (an unknown CID is "not found"
 * at once, as on an offline node), IPNS publishing and record lifetimes.
 * Where Kubo would let files/write, cp, rm or mkdir make an MFS directory
 * named "ipfs", the fake refuses any change under /ipfs/ (KUBO_ERROR); a
 * concat whose given sizes do not match its parts is refused too (Kubo
 * would store a broken file). gateway_open serves at most FK_OPEN_MAX bytes
 * (a socketpair filled up front). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tests/unit/fake_kubo.h"
#include "ipfs/name.h"
#include "core/digest.h"
#include "core/errmsg.h"
#include "core/xalloc.h"

#define FK_CID_PREFIX "bafkfake"
#define FK_BUCKETS 256
/* Bytes asked of an add's source per callback, and handed to a gateway
 * reader per callback: small enough that a test's blob takes several. */
#define FK_ADD_PIECE 4096
#define FK_GATEWAY_PIECE 16384
/* What gateway_open can put in a socketpair without blocking. */
#define FK_OPEN_MAX (16 * 1024)

enum fk_call {
    FK_FILES_STAT, FK_FILES_READ, FK_FILES_WRITE, FK_FILES_LS, FK_FILES_CP, FK_FILES_RM,
    FK_FILES_MKDIR, FK_FILES_FLUSH, FK_ADD_STREAM, FK_ADD_MEM, FK_CONCAT, FK_GATEWAY_GET,
    FK_GATEWAY_OPEN, FK_PING, FK_NAME_RESOLVE, FK_UNPIN_ADDED, FK_NCALLS
};

static const char *const fk_call_names[FK_NCALLS] = {
    "files_stat", "files_read", "files_write", "files_ls", "files_cp", "files_rm",
    "files_mkdir", "files_flush", "add_stream", "add_mem", "concat", "gateway_get",
    "gateway_open", "ping", "name_resolve", "unpin_added",
};

struct fk_node;

struct fk_link {
    char *name;
    struct fk_node *node;
};

/* Immutable once made; owned by the blockstore (struct kubo's blocks). */
struct fk_node {
    enum kubo_ftype type;
    char cid[KUBO_CID_MAX];
    char *data;               /* files */
    size_t len;
    struct fk_link *links;    /* directories: sorted by name */
    size_t nlinks;
    struct fk_node *next;     /* blockstore bucket chain */
};

struct fk_name {
    char *name;
    char cid[KUBO_CID_MAX];
};

struct kubo {
    struct fk_node *root;               /* MFS "/" */
    struct fk_node *blocks[FK_BUCKETS]; /* every node ever made, by CID */
    char *err;
    unsigned long calls[FK_NCALLS];
    int fail_next;                      /* a KUBO_* code, 0: none */
    int fail_call, fail_call_rc;        /* fail_call < 0: none */
    char *fail_path;
    int fail_path_rc;
    struct fk_name *names;
    size_t nnames;
};

/* ---- errors ---- */

static int fk_fail(struct kubo *k, int rc, const char *cmd, const char *arg, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fk_fail(struct kubo *k, int rc, const char *cmd, const char *arg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cause = xvasprintf(fmt, ap);
    va_end(ap);
    errmsg_set(&k->err, rc, "ipfs", cause, "%s %s", cmd, arg);
    free(cause);
    return rc;
}

static int fk_under(const char *path, const char *top)
{
    size_t n = strlen(top);
    return path && strncmp(path, top, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Counts the call and answers an injected failure, if one applies (0:
 * none). what is the argument the error message names; path and path2 (may
 * be NULL) are matched against fake_kubo_fail_path. */
static int fk_enter(struct kubo *k, enum fk_call call, const char *cmd, const char *what,
                    const char *path, const char *path2)
{
    int rc = 0;
    k->calls[call]++;
    if (k->fail_next) {
        rc = k->fail_next;
        k->fail_next = 0;
    } else if (k->fail_call == (int)call) {
        rc = k->fail_call_rc;
        k->fail_call = -1;
    } else if (k->fail_path && (fk_under(path, k->fail_path) || fk_under(path2, k->fail_path))) {
        rc = k->fail_path_rc;
    }
    if (!rc)
        return 0;
    return fk_fail(k, rc, cmd, what, "%s",
                   rc == KUBO_UNAVAILABLE ? "Couldn't connect to server" : "failure injected by the test");
}

/* ---- the blockstore ---- */

static unsigned fk_bucket(const char *cid)
{
    unsigned h = 0;
    for (; *cid; cid++)
        h = h * 31 + (unsigned char)*cid;
    return h % FK_BUCKETS;
}

static struct fk_node *fk_block(const struct kubo *k, const char *cid)
{
    for (struct fk_node *n = k->blocks[fk_bucket(cid)]; n; n = n->next)
        if (strcmp(n->cid, cid) == 0)
            return n;
    return NULL;
}

static void fk_node_free(struct fk_node *n)
{
    for (size_t i = 0; i < n->nlinks; i++)
        free(n->links[i].name);
    free(n->links);
    free(n->data);
    free(n);
}

static void fk_cid_of(struct hasher *h, char cid[KUBO_CID_MAX])
{
    struct digest d;
    hasher_final(h, &d);
    /* a SHA-256 is 64 hex digits: 72 characters in all */
    snprintf(cid, KUBO_CID_MAX, FK_CID_PREFIX "%.64s", d.hex);
}

/* Gives n (fully built) its CID and keeps it; the same content made twice
 * is one node. Returns the node to use; n may have been freed. */
static struct fk_node *fk_intern(struct kubo *k, struct fk_node *n)
{
    struct hasher h;
    hasher_init(&h, DIGEST_SHA256);
    if (n->type == KUBO_FILE) {
        if (!n->cid[0]) {   /* a concatenation came with its CID */
            hasher_update(&h, "file\n", 5);
            hasher_update(&h, n->data, n->len);
            fk_cid_of(&h, n->cid);
        }
    } else {
        hasher_update(&h, "dir\n", 4);
        for (size_t i = 0; i < n->nlinks; i++) {
            hasher_update(&h, n->links[i].name, strlen(n->links[i].name) + 1);
            hasher_update(&h, n->links[i].node->cid, strlen(n->links[i].node->cid));
            hasher_update(&h, "\n", 1);
        }
        fk_cid_of(&h, n->cid);
    }
    struct fk_node *old = fk_block(k, n->cid);
    if (old) {
        fk_node_free(n);
        return old;
    }
    unsigned b = fk_bucket(n->cid);
    n->next = k->blocks[b];
    k->blocks[b] = n;
    return n;
}

static struct fk_node *fk_file(struct kubo *k, const void *data, size_t len)
{
    struct fk_node *n = xcalloc(1, sizeof *n);
    n->type = KUBO_FILE;
    n->data = xmalloc(len ? len : 1);
    if (len)
        memcpy(n->data, data, len);
    n->len = len;
    return fk_intern(k, n);
}

static long fk_find(const struct fk_node *dir, const char *name)
{
    for (size_t i = 0; i < dir->nlinks; i++)
        if (strcmp(dir->links[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* A copy of dir with entry name set to child (child NULL: removed). */
static struct fk_node *fk_dir_with(struct kubo *k, const struct fk_node *dir, const char *name,
                                   struct fk_node *child)
{
    struct fk_node *n = xcalloc(1, sizeof *n);
    n->type = KUBO_DIR;
    n->links = xcalloc(dir->nlinks + 1, sizeof *n->links);
    int placed = child == NULL;
    for (size_t i = 0; i < dir->nlinks; i++) {
        int c = strcmp(dir->links[i].name, name);
        if (c > 0 && !placed) {
            n->links[n->nlinks++] = (struct fk_link){ xstrdup(name), child };
            placed = 1;
        }
        if (c == 0)
            continue;
        n->links[n->nlinks++] = (struct fk_link){ xstrdup(dir->links[i].name), dir->links[i].node };
    }
    if (!placed)
        n->links[n->nlinks++] = (struct fk_link){ xstrdup(name), child };
    return fk_intern(k, n);
}

static struct fk_node *fk_empty_dir(struct kubo *k)
{
    struct fk_node *n = xcalloc(1, sizeof *n);
    n->type = KUBO_DIR;
    return fk_intern(k, n);
}

/* ---- paths ---- */

struct fk_path {
    char **c;     /* components, no empty ones */
    size_t n;
    int ipfs;     /* "/ipfs/<cid>/...": c[0] is the CID */
};

static void fk_path_free(struct fk_path *p)
{
    strv_free(p->c, p->n);
}

/* 0, or -1 for a path that does not start with '/'. */
static int fk_path_split(const char *path, struct fk_path *p)
{
    memset(p, 0, sizeof *p);
    if (path[0] != '/')
        return -1;
    p->ipfs = strncmp(path, "/ipfs/", 6) == 0;
    const char *s = p->ipfs ? path + 6 : path;
    while (*s) {
        size_t len = strcspn(s, "/");
        if (len) {
            p->c = xrealloc(p->c, (p->n + 1) * sizeof *p->c);
            p->c[p->n++] = xstrndup(s, len);
        }
        s += len + (s[len] == '/');
    }
    return 0;
}

static int fk_cid_syntax(const char *cid)
{
    return *cid && strspn(cid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == strlen(cid);
}

/* The node at path (an MFS path or /ipfs/<cid>/...), or an error set. */
static int fk_lookup(struct kubo *k, const char *cmd, const char *what, const char *path,
                     struct fk_node **out)
{
    struct fk_path p;
    if (fk_path_split(path, &p) < 0)
        return fk_fail(k, KUBO_ERROR, cmd, what, "paths must start with a leading slash");
    int rc = KUBO_OK;
    struct fk_node *n = k->root;
    size_t i = 0;
    if (p.ipfs) {
        if (p.n == 0 || !fk_cid_syntax(p.c[0])) {
            rc = fk_fail(k, KUBO_ERROR, cmd, what, "invalid path \"%s\": invalid cid", path);
            goto out;
        }
        n = fk_block(k, p.c[0]);
        if (!n) {
            rc = fk_fail(k, KUBO_NOT_FOUND, cmd, what,
                         "block was not found locally (offline): ipld: could not find %s", p.c[0]);
            goto out;
        }
        i = 1;
    }
    for (; i < p.n; i++) {
        long j = n->type == KUBO_DIR ? fk_find(n, p.c[i]) : -1;
        if (j < 0) {
            if (p.ipfs)
                rc = fk_fail(k, KUBO_NOT_FOUND, cmd, what, "no link named \"%s\" under %s", p.c[i], n->cid);
            else
                rc = fk_fail(k, KUBO_NOT_FOUND, cmd, what, "file does not exist");
            goto out;
        }
        n = n->links[j].node;
    }
    *out = n;
out:
    fk_path_free(&p);
    return rc;
}

enum {
    FK_PARENTS = 1,     /* make missing parent directories */
    FK_REPLACE = 2,     /* an existing file there is replaced */
    FK_MKDIR = 4,       /* an existing directory there is fine */
    FK_RECURSIVE = 8,   /* removing a directory is fine */
};

/* dir with c[0..n) set to leaf (NULL: removed), into *out; else a KUBO_*
 * code and *why in Kubo's words. */
static int fk_put(struct kubo *k, struct fk_node *dir, char *const *c, size_t n, struct fk_node *leaf,
                  unsigned flags, struct fk_node **out, const char **why)
{
    long i = fk_find(dir, c[0]);
    struct fk_node *child = i >= 0 ? dir->links[i].node : NULL;
    if (n == 1) {
        if (!leaf) {
            if (!child) {
                *why = "file does not exist";
                return KUBO_NOT_FOUND;
            }
            if (child->type == KUBO_DIR && !(flags & FK_RECURSIVE)) {
                *why = "is a directory, use -r to remove directories";
                return KUBO_ERROR;
            }
        } else if (child && (flags & FK_MKDIR)) {
            if (child->type != KUBO_DIR) {
                *why = "file already exists";
                return KUBO_EXISTS;
            }
            *out = dir;
            return KUBO_OK;
        } else if (child && !(flags & FK_REPLACE)) {
            *why = "directory already has entry by that name";
            return KUBO_EXISTS;
        } else if (child && child->type == KUBO_DIR) {
            *why = "not a file";
            return KUBO_ERROR;
        }
        *out = fk_dir_with(k, dir, c[0], leaf);
        return KUBO_OK;
    }
    if (!child) {
        if (!leaf || !(flags & FK_PARENTS)) {
            *why = "file does not exist";
            return KUBO_NOT_FOUND;
        }
        child = fk_empty_dir(k);
    } else if (child->type != KUBO_DIR) {
        *why = "not a directory";
        return KUBO_NOT_FOUND;
    }
    struct fk_node *sub;
    int rc = fk_put(k, child, c + 1, n - 1, leaf, flags, &sub, why);
    if (rc != KUBO_OK)
        return rc;
    *out = sub == child && i >= 0 ? dir : fk_dir_with(k, dir, c[0], sub);
    return KUBO_OK;
}

/* The MFS change "path := leaf" (NULL: removed), made on the root. */
static int fk_change(struct kubo *k, const char *cmd, const char *what, const char *path,
                     struct fk_node *leaf, unsigned flags)
{
    struct fk_path p;
    const char *why = NULL;
    if (fk_path_split(path, &p) < 0)
        return fk_fail(k, KUBO_ERROR, cmd, what, "paths must start with a leading slash");
    int rc = KUBO_OK;
    struct fk_node *root;
    if (p.ipfs)
        rc = fk_fail(k, KUBO_ERROR, cmd, what, "the fake changes MFS only, never /ipfs/ paths");
    else if (p.n == 0)
        rc = fk_fail(k, KUBO_ERROR, cmd, what, "cannot change the root itself");
    else if ((rc = fk_put(k, k->root, p.c, p.n, leaf, flags, &root, &why)) != KUBO_OK)
        fk_fail(k, rc, cmd, what, "%s", why);
    else
        k->root = root;
    fk_path_free(&p);
    return rc;
}

/* ---- lifecycle and knobs ---- */

struct kubo *fake_kubo_new(void)
{
    struct kubo *k = xcalloc(1, sizeof *k);
    k->fail_call = -1;
    k->root = fk_empty_dir(k);
    return k;
}

void fake_kubo_free(struct kubo *k)
{
    if (!k)
        return;
    for (size_t b = 0; b < FK_BUCKETS; b++) {
        while (k->blocks[b]) {
            struct fk_node *n = k->blocks[b];
            k->blocks[b] = n->next;
            fk_node_free(n);
        }
    }
    for (size_t i = 0; i < k->nnames; i++)
        free(k->names[i].name);
    free(k->names);
    free(k->fail_path);
    free(k->err);
    free(k);
}

static int fk_call_of(const char *call)
{
    for (int i = 0; i < FK_NCALLS; i++)
        if (strcmp(fk_call_names[i], call) == 0)
            return i;
    fprintf(stderr, "fake_kubo: no call named %s\n", call);
    abort();
}

unsigned long fake_kubo_calls(const struct kubo *k, const char *call)
{
    unsigned long total = 0;
    if (call)
        return k->calls[fk_call_of(call)];
    for (int i = 0; i < FK_NCALLS; i++)
        total += k->calls[i];
    return total;
}

void fake_kubo_reset_calls(struct kubo *k)
{
    memset(k->calls, 0, sizeof k->calls);
}

void fake_kubo_fail_next(struct kubo *k, int rc)
{
    k->fail_next = rc;
}

void fake_kubo_fail_call(struct kubo *k, const char *call, int rc)
{
    k->fail_call = fk_call_of(call);
    k->fail_call_rc = rc;
}

void fake_kubo_fail_path(struct kubo *k, const char *path, int rc)
{
    free(k->fail_path);
    k->fail_path = path ? xstrdup(path) : NULL;
    k->fail_path_rc = rc;
}

void fake_kubo_name_set(struct kubo *k, const char *name, const char *cid)
{
    for (size_t i = 0; i < k->nnames; i++) {
        if (strcmp(k->names[i].name, name) != 0)
            continue;
        if (cid) {
            snprintf(k->names[i].cid, sizeof k->names[i].cid, "%s", cid);
        } else {
            free(k->names[i].name);
            k->names[i] = k->names[--k->nnames];
        }
        return;
    }
    if (!cid)
        return;
    k->names = xrealloc(k->names, (k->nnames + 1) * sizeof *k->names);
    k->names[k->nnames].name = xstrdup(name);
    snprintf(k->names[k->nnames].cid, KUBO_CID_MAX, "%s", cid);
    k->nnames++;
}

/* ---- ipfs/kubo.h ---- */

const char *kubo_errmsg(const struct kubo *k)
{
    return k->err ? k->err : "";
}

int kubo_ping(struct kubo *k, long timeout_ms, char *version, size_t n)
{
    (void)timeout_ms;
    int rc = fk_enter(k, FK_PING, "version", "", NULL, NULL);
    if (rc)
        return rc;
    snprintf(version, n, "0.0.0-fake");
    return KUBO_OK;
}

int kubo_files_stat(struct kubo *k, const char *path, struct kubo_stat *st)
{
    struct fk_node *n;
    int rc = fk_enter(k, FK_FILES_STAT, "files/stat", path, path, NULL);
    if (rc || (rc = fk_lookup(k, "files/stat", path, path, &n)) != KUBO_OK)
        return rc;
    snprintf(st->cid, sizeof st->cid, "%s", n->cid);
    st->type = n->type;
    st->size = n->type == KUBO_FILE ? n->len : 0;
    return KUBO_OK;
}

int kubo_files_read(struct kubo *k, const char *path, struct buf *out)
{
    /* the real client reads /ipfs paths with cat (ipfs/ipfspath.c) */
    const char *cmd = strncmp(path, "/ipfs/", 6) == 0 ? "cat" : "files/read";
    struct fk_node *n;
    int rc = fk_enter(k, FK_FILES_READ, cmd, path, path, NULL);
    if (rc || (rc = fk_lookup(k, cmd, path, path, &n)) != KUBO_OK)
        return rc;
    if (n->type != KUBO_FILE)
        return fk_fail(k, KUBO_ERROR, cmd, path, "this dag node is a directory");
    size_t max = out->max;
    if (buf_append(out, n->data, n->len) < 0)
        return fk_fail(k, KUBO_TOO_LARGE, cmd, path, "response larger than %zu bytes", max);
    return KUBO_OK;
}

int kubo_files_write(struct kubo *k, const char *path, const void *data, size_t len)
{
    int rc = fk_enter(k, FK_FILES_WRITE, "files/write", path, path, NULL);
    if (rc)
        return rc;
    return fk_change(k, "files/write", path, path, fk_file(k, data, len), FK_PARENTS | FK_REPLACE);
}

int kubo_files_ls(struct kubo *k, const char *path, char ***names, size_t *n)
{
    const char *cmd = strncmp(path, "/ipfs/", 6) == 0 ? "ls" : "files/ls";
    struct fk_node *node;
    *names = NULL;
    *n = 0;
    int rc = fk_enter(k, FK_FILES_LS, cmd, path, path, NULL);
    if (rc || (rc = fk_lookup(k, cmd, path, path, &node)) != KUBO_OK)
        return rc;
    if (node->type == KUBO_FILE) {
        /* files/ls of a file lists the file; ls of one has no links */
        if (strcmp(cmd, "files/ls") == 0) {
            const char *slash = strrchr(path, '/');
            *names = xcalloc(1, sizeof **names);
            (*names)[0] = xstrdup(slash + 1);
            *n = 1;
        }
        return KUBO_OK;
    }
    if (node->nlinks == 0)
        return KUBO_OK;
    *names = xcalloc(node->nlinks, sizeof **names);
    for (size_t i = 0; i < node->nlinks; i++)
        (*names)[i] = xstrdup(node->links[i].name);
    *n = node->nlinks;
    return KUBO_OK;
}

int kubo_files_cp(struct kubo *k, const char *src, const char *dst)
{
    struct fk_node *n;
    char *what = xasprintf("%s %s", src, dst);
    int rc = fk_enter(k, FK_FILES_CP, "files/cp", what, src, dst);
    if (!rc && (rc = fk_lookup(k, "files/cp", what, src, &n)) == KUBO_OK)
        rc = fk_change(k, "files/cp", what, dst, n, FK_PARENTS);
    free(what);
    return rc;
}

int kubo_files_rm(struct kubo *k, const char *path, int recursive)
{
    int rc = fk_enter(k, FK_FILES_RM, "files/rm", path, path, NULL);
    if (rc)
        return rc;
    return fk_change(k, "files/rm", path, path, NULL, recursive ? FK_RECURSIVE : 0);
}

int kubo_files_mkdir(struct kubo *k, const char *path)
{
    int rc = fk_enter(k, FK_FILES_MKDIR, "files/mkdir", path, path, NULL);
    if (rc)
        return rc;
    return fk_change(k, "files/mkdir", path, path, fk_empty_dir(k), FK_PARENTS | FK_MKDIR);
}

/* Pins are not modelled (nothing here is ever collected): the calls are
 * counted, so a test can see that a backend unpins what it linked. */
void kubo_set_pin_adds(struct kubo *k, int on)
{
    (void)k;
    (void)on;
}

int kubo_unpin_added(struct kubo *k, const char *cid)
{
    return fk_enter(k, FK_UNPIN_ADDED, "pin/rm", cid, cid, NULL);
}

int kubo_files_flush(struct kubo *k, const char *path, char cid_out[KUBO_CID_MAX])
{
    struct fk_node *n;
    int rc = fk_enter(k, FK_FILES_FLUSH, "files/flush", path, path, NULL);
    if (rc || (rc = fk_lookup(k, "files/flush", path, path, &n)) != KUBO_OK)
        return rc;
    if (cid_out)
        snprintf(cid_out, KUBO_CID_MAX, "%s", n->cid);
    return KUBO_OK;
}

/* The file n as to_files (add --to-files: parents must exist). */
static int fk_add_link(struct kubo *k, const char *cmd, const char *to_files, struct fk_node *n)
{
    return to_files ? fk_change(k, cmd, to_files, to_files, n, 0) : KUBO_OK;
}

int kubo_add_stream(struct kubo *k, kubo_read_cb cb, void *ctx, const char *to_files,
                    char cid_out[KUBO_CID_MAX], uint64_t *size)
{
    const char *arg = to_files ? to_files : "(stream)";
    int rc = fk_enter(k, FK_ADD_STREAM, "add", arg, to_files, NULL);
    if (rc)
        return rc;
    char *data = NULL;
    size_t len = 0;
    for (;;) {
        data = xrealloc(data, len + FK_ADD_PIECE);
        ssize_t got = cb(ctx, data + len, FK_ADD_PIECE);
        if (got < 0) {
            free(data);
            return fk_fail(k, KUBO_ABORTED, "add", arg, "the source aborted after %zu bytes", len);
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    struct fk_node *n = fk_file(k, data, len);
    free(data);
    snprintf(cid_out, KUBO_CID_MAX, "%s", n->cid);
    *size = n->len;
    return fk_add_link(k, "add", to_files, n);
}

int kubo_add_mem(struct kubo *k, const void *data, size_t len, const char *to_files,
                 char cid_out[KUBO_CID_MAX])
{
    const char *arg = to_files ? to_files : "(stream)";
    int rc = fk_enter(k, FK_ADD_MEM, "add", arg, to_files, NULL);
    if (rc)
        return rc;
    struct fk_node *n = fk_file(k, data, len);
    snprintf(cid_out, KUBO_CID_MAX, "%s", n->cid);
    return fk_add_link(k, "add", to_files, n);
}

int kubo_concat(struct kubo *k, const char *const *cids, const uint64_t *sizes, size_t n,
                char cid_out[KUBO_CID_MAX])
{
    int rc = fk_enter(k, FK_CONCAT, "dag/put", "(concatenation)", NULL, NULL);
    if (rc)
        return rc;
    if (n == 0)
        return fk_fail(k, KUBO_ERROR, "dag/put", "(concatenation)", "nothing to join");
    if (n == 1) {
        snprintf(cid_out, KUBO_CID_MAX, "%s", cids[0]);
        return KUBO_OK;
    }
    struct fk_node *c = xcalloc(1, sizeof *c);
    struct hasher h;
    c->type = KUBO_FILE;
    hasher_init(&h, DIGEST_SHA256);
    hasher_update(&h, "concat\n", 7);
    for (size_t i = 0; i < n; i++) {
        struct fk_node *part = fk_block(k, cids[i]);
        if (!part || part->type != KUBO_FILE || part->len != sizes[i]) {
            fk_node_free(c);
            if (!part || part->type != KUBO_FILE)
                return fk_fail(k, KUBO_NOT_FOUND, "dag/put", "(concatenation)", "could not find file %s", cids[i]);
            return fk_fail(k, KUBO_ERROR, "dag/put", "(concatenation)", "part %zu is %zu bytes, not %llu",
                           i, part->len, (unsigned long long)sizes[i]);
        }
        c->data = xrealloc(c->data, c->len + part->len + 1);
        memcpy(c->data + c->len, part->data, part->len);
        c->len += part->len;
        hasher_update(&h, part->cid, strlen(part->cid));
        hasher_update(&h, "\n", 1);
    }
    fk_cid_of(&h, c->cid);
    c = fk_intern(k, c);
    snprintf(cid_out, KUBO_CID_MAX, "%s", c->cid);
    return KUBO_OK;
}

/* The file /ipfs/<cid> and the range [*from, *to) of it, or an error set. */
static int fk_gateway_range(struct kubo *k, const char *cid, uint64_t offset, uint64_t length,
                            struct fk_node **out, size_t *from, size_t *to)
{
    struct fk_node *n = fk_block(k, cid);
    if (!n)
        return fk_fail(k, KUBO_NOT_FOUND, "gateway", cid, "HTTP 404: ipld: could not find %s", cid);
    if (n->type != KUBO_FILE)
        return fk_fail(k, KUBO_ERROR, "gateway", cid, "HTTP 200: a directory listing, not a file");
    if (offset > n->len || (offset == n->len && n->len > 0))
        return fk_fail(k, KUBO_ERROR, "gateway", cid, "HTTP 416: range out of bounds");
    *out = n;
    *from = (size_t)offset;
    *to = length && length < n->len - offset ? (size_t)(offset + length) : n->len;
    return KUBO_OK;
}

int kubo_gateway_get(struct kubo *k, const char *cid, uint64_t offset, uint64_t length,
                     kubo_write_cb cb, void *ctx)
{
    char *path = xasprintf("/ipfs/%s", cid);
    struct fk_node *n;
    size_t from = 0, to = 0;
    int rc = fk_enter(k, FK_GATEWAY_GET, "gateway", cid, path, NULL);
    if (!rc)
        rc = fk_gateway_range(k, cid, offset, length, &n, &from, &to);
    for (size_t at = from; !rc && at < to; at += FK_GATEWAY_PIECE) {
        size_t piece = to - at < FK_GATEWAY_PIECE ? to - at : FK_GATEWAY_PIECE;
        if (cb(ctx, n->data + at, piece) != 0)
            rc = fk_fail(k, KUBO_ABORTED, "gateway", cid, "cancelled by the receiver after %zu bytes",
                         at - from);
    }
    free(path);
    return rc;
}

int kubo_gateway_open(struct kubo *k, const char *cid, uint64_t offset, uint64_t length, int *fd)
{
    char *path = xasprintf("/ipfs/%s", cid);
    struct fk_node *n;
    size_t from = 0, to = 0;
    int sv[2];
    *fd = -1;
    int rc = fk_enter(k, FK_GATEWAY_OPEN, "gateway", cid, path, NULL);
    free(path);
    if (rc || (rc = fk_gateway_range(k, cid, offset, length, &n, &from, &to)) != KUBO_OK)
        return rc;
    if (length == 0 || to - from > FK_OPEN_MAX)
        return fk_fail(k, KUBO_ERROR, "gateway", cid, "the fake opens 1 to %d bytes", FK_OPEN_MAX);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return fk_fail(k, KUBO_UNAVAILABLE, "gateway", cid, "socketpair failed");
    ssize_t w = write(sv[1], n->data + from, to - from);
    close(sv[1]);
    if (w != (ssize_t)(to - from)) {
        close(sv[0]);
        return fk_fail(k, KUBO_UNAVAILABLE, "gateway", cid, "short write into the socketpair");
    }
    *fd = sv[0];
    return KUBO_OK;
}

/* ---- ipfs/name.h ---- */

enum kubo_resolve kubo_name_resolve(struct kubo *k, const char *name, int nocache, int timeout_s,
                                    char cid_out[KUBO_CID_MAX])
{
    (void)nocache;
    (void)timeout_s;
    char *path = xasprintf("/ipns/%s", name);
    int rc = fk_enter(k, FK_NAME_RESOLVE, "name/resolve", name, path, NULL);
    free(path);
    if (rc)
        return KUBO_RESOLVE_FAILED;
    for (size_t i = 0; i < k->nnames; i++) {
        if (strcmp(k->names[i].name, name) == 0) {
            snprintf(cid_out, KUBO_CID_MAX, "%s", k->names[i].cid);
            return KUBO_RESOLVED;
        }
    }
    fk_fail(k, KUBO_NOT_FOUND, "name/resolve", name, "could not resolve name");
    return KUBO_RESOLVE_NO_RECORD;
}
