/* upload: blob upload sessions as files in <statedir>/uploads (see upload.h).
 *
 * Concurrency rules:
 * - <id>.lock is flock(LOCK_EX|LOCK_NB)ed by whoever works on the session; a
 *   second request gets BUSY instead of waiting (the client retries).
 * - <id>.json is only written by the lock holder, through tmp + rename, so a
 *   reader never sees half a file.
 * - Removal (upload_remove, upload_sweep) happens while holding the lock and
 *   unlinks the lock file last; an opener that got the lock checks that its
 *   lock file is still linked, so it never resurrects a removed session. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include <openssl/rand.h>
#include "core/xjson.h"
#include "core/registry/upload.h"
#include "core/buf.h"
#include "core/names.h"
#include "core/xalloc.h"

#define UPLOAD_JSON_MAX (64u * 1024 * 1024)   /* a session with ~500k chunks; more is corruption */

static char *upload_path(const char *dir, const char *id, const char *ext)
{
    return xasprintf("%s/%s%s", dir, id, ext);
}

static void upload_clear(struct upload *u)
{
    memset(u, 0, sizeof *u);
    u->lock_fd = -1;
}

static int upload_mkdir(const char *dir)
{
    if (mkdir(dir, 0700) == 0 || errno == EEXIST)
        return 0;
    return -1;
}

static int upload_new_id(char id[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        errno = EIO;
        return -1;
    }
    for (size_t i = 0; i < sizeof raw; i++) {
        id[2 * i] = hex[raw[i] >> 4];
        id[2 * i + 1] = hex[raw[i] & 0xf];
    }
    id[32] = '\0';
    return 0;
}

/* Opens (creating if asked) and locks <id>.lock. Returns the fd, or -1 with
 * *rc set: NOT_FOUND (no lock file, or it was removed meanwhile), BUSY, ERROR. */
static int upload_lock(const char *dir, const char *id, int create, int *rc)
{
    char *path = upload_path(dir, id, ".lock");
    int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0);
    int fd = open(path, flags, 0600);
    free(path);
    if (fd < 0) {
        *rc = errno == ENOENT ? UPLOAD_NOT_FOUND : UPLOAD_ERROR;
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(fd);
        *rc = e == EWOULDBLOCK ? UPLOAD_BUSY : UPLOAD_ERROR;
        errno = e;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_nlink == 0) {
        close(fd);   /* removed between our open and our lock */
        *rc = UPLOAD_NOT_FOUND;
        return -1;
    }
    *rc = UPLOAD_OK;
    return fd;
}

int upload_create(const char *statedir, const char *name, enum digest_alg alg, struct upload *u)
{
    upload_clear(u);
    char *dir = xasprintf("%s/uploads", statedir);
    if (upload_mkdir(dir) < 0) {
        free(dir);
        return UPLOAD_ERROR;
    }
    int rc = UPLOAD_ERROR;
    for (int attempt = 0; attempt < 4; attempt++) {   /* EEXIST on 128 random bits: paranoia */
        if (upload_new_id(u->id) < 0)
            break;
        u->lock_fd = upload_lock(dir, u->id, 1, &rc);
        if (u->lock_fd >= 0 || errno != EEXIST)
            break;
    }
    if (u->lock_fd < 0) {
        free(dir);
        upload_clear(u);
        return UPLOAD_ERROR;
    }
    u->dir = dir;
    u->name = xstrdup(name);
    hasher_init(&u->hash, alg);
    u->created = time(NULL);
    if (upload_save(u) < 0) {
        int e = errno;
        upload_remove(u);
        upload_close(u);
        errno = e;
        return UPLOAD_ERROR;
    }
    return UPLOAD_OK;
}

/* Reads a whole small file into b. 0 ok, -1 errno set. */
static int upload_read_file(const char *path, struct buf *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char tmp[8192];
    for (;;) {
        ssize_t r = read(fd, tmp, sizeof tmp);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (r == 0)
            break;
        if (buf_append(b, tmp, (size_t)r) < 0) {
            close(fd);
            errno = EFBIG;
            return -1;
        }
    }
    close(fd);
    return 0;
}

static int upload_get_u64(json_object *o, const char *key, uint64_t *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return -1;
    int64_t x = json_object_get_int64(v);
    if (x < 0)
        return -1;
    *out = (uint64_t)x;
    return 0;
}

static const char *upload_get_str(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Fills u's fields from the session JSON; -1 when anything is off. */
static int upload_from_json(struct upload *u, const char *text)
{
    json_object *o = json_tokener_parse(text);
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return -1;
    }
    int rc = -1;
    const char *id = upload_get_str(o, "id");
    const char *name = upload_get_str(o, "name");
    const char *hash = upload_get_str(o, "hash");
    uint64_t offset, created;
    json_object *chunks;
    if (!id || strcmp(id, u->id) != 0 || !name || !hash ||
        upload_get_u64(o, "offset", &offset) < 0 || upload_get_u64(o, "created", &created) < 0 ||
        !json_object_object_get_ex(o, "chunks", &chunks) ||
        !json_object_is_type(chunks, json_type_array))
        goto out;
    if (hasher_load(&u->hash, hash) < 0)
        goto out;
    size_t n = json_object_array_length(chunks);
    struct store_chunk *c = n ? xcalloc(n, sizeof *c) : NULL;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(chunks, i);
        const char *cid = e ? upload_get_str(e, "cid") : NULL;
        if (!cid || strlen(cid) >= STORE_CID_MAX || upload_get_u64(e, "size", &c[i].size) < 0) {
            free(c);
            goto out;
        }
        memcpy(c[i].cid, cid, strlen(cid) + 1);
    }
    u->name = xstrdup(name);
    u->offset = offset;
    u->created = (time_t)created;
    u->chunks = c;
    u->nchunks = n;
    rc = 0;
out:
    json_object_put(o);
    return rc;
}

int upload_open(const char *statedir, const char *id, struct upload *u)
{
    upload_clear(u);
    if (!upload_id_valid(id))
        return UPLOAD_NOT_FOUND;   /* also keeps the id from naming any other file */
    char *dir = xasprintf("%s/uploads", statedir);
    memcpy(u->id, id, 33);
    int rc;
    int fd = upload_lock(dir, id, 0, &rc);
    if (fd < 0) {
        free(dir);
        upload_clear(u);
        return rc;
    }
    u->dir = dir;
    u->lock_fd = fd;
    char *path = upload_path(dir, id, ".json");
    struct buf b;
    buf_init(&b, UPLOAD_JSON_MAX);
    int r = upload_read_file(path, &b);
    int e = errno;
    free(path);
    if (r < 0) {
        buf_free(&b);
        upload_close(u);
        errno = e;
        return e == ENOENT ? UPLOAD_NOT_FOUND : UPLOAD_ERROR;
    }
    if (upload_from_json(u, buf_cstr(&b)) < 0) {
        buf_free(&b);
        upload_close(u);
        errno = EINVAL;
        return UPLOAD_ERROR;
    }
    buf_free(&b);
    return UPLOAD_OK;
}

void upload_add_chunk(struct upload *u, const struct store_chunk *c)
{
    u->chunks = xrealloc(u->chunks, (u->nchunks + 1) * sizeof *u->chunks);
    u->chunks[u->nchunks++] = *c;
}

static char *upload_to_json(const struct upload *u)
{
    json_object *o = xjson_object();
    xjson_set(o, "id", xjson_string(u->id));
    xjson_set(o, "name", xjson_string(u->name ? u->name : ""));
    xjson_set(o, "alg", xjson_string(digest_alg_name(u->hash.alg)));
    xjson_set(o, "offset", xjson_int64((int64_t)u->offset));
    xjson_set(o, "created", xjson_int64((int64_t)u->created));
    char *hash = hasher_save(&u->hash);
    xjson_set(o, "hash", xjson_string(hash));
    free(hash);
    json_object *arr = xjson_array();
    for (size_t i = 0; i < u->nchunks; i++) {
        json_object *c = xjson_object();
        xjson_set(c, "cid", xjson_string(u->chunks[i].cid));
        xjson_set(c, "size", xjson_int64((int64_t)u->chunks[i].size));
        xjson_push(arr, c);
    }
    xjson_set(o, "chunks", arr);
    char *s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return s;
}

static int upload_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int upload_save(struct upload *u)
{
    if (!u->dir || u->lock_fd < 0) {
        errno = EBADF;
        return -1;
    }
    char *json = upload_to_json(u);
    char *tmp = upload_path(u->dir, u->id, ".json.tmp");
    char *dst = upload_path(u->dir, u->id, ".json");
    int rc = -1, e = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        /* fsync before rename: after a crash the session is the old one or
         * the new one, never an empty file */
        if (upload_write_all(fd, json, strlen(json)) == 0 && fsync(fd) == 0) {
            if (close(fd) == 0 && rename(tmp, dst) == 0)
                rc = 0;
            fd = -1;
        }
        e = errno;
        if (fd >= 0)
            close(fd);
        if (rc < 0)
            unlink(tmp);
    } else {
        e = errno;
    }
    free(json);
    free(tmp);
    free(dst);
    if (rc < 0)
        errno = e;
    return rc;
}

int upload_remove(struct upload *u)
{
    if (!u->dir)
        return -1;
    int rc = 0;
    char *json = upload_path(u->dir, u->id, ".json");
    char *lock = upload_path(u->dir, u->id, ".lock");
    if (unlink(json) < 0 && errno != ENOENT)
        rc = -1;
    /* the lock file last, while still holding it (see the top of this file) */
    if (unlink(lock) < 0 && errno != ENOENT)
        rc = -1;
    free(json);
    free(lock);
    return rc;
}

void upload_close(struct upload *u)
{
    if (u->lock_fd >= 0)
        close(u->lock_fd);   /* releases the flock */
    free(u->name);
    free(u->chunks);
    free(u->dir);
    upload_clear(u);
}

/* Removes a stray file (tmp or an orphan lock) if it is older than max_age. */
static void upload_sweep_stray(const char *dir, const char *fname, time_t cutoff)
{
    char *path = xasprintf("%s/%s", dir, fname);
    struct stat st;
    if (stat(path, &st) == 0 && st.st_mtime < cutoff)
        unlink(path);
    free(path);
}

int upload_sweep(const char *statedir, time_t max_age, upload_discard_fn discard, void *ctx)
{
    char *dir = xasprintf("%s/uploads", statedir);
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return 0;
    }
    time_t now = time(NULL);
    time_t cutoff = now - max_age;
    int removed = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *fn = de->d_name;
        size_t len = strlen(fn);
        if (len == 32 + 5 && strcmp(fn + 32, ".lock") == 0) {
            /* a lock without a session: a create that crashed before saving */
            char id[33];
            memcpy(id, fn, 32);
            id[32] = '\0';
            char *json = upload_path(dir, id, ".json");
            struct stat st;
            if (stat(json, &st) < 0 && errno == ENOENT)
                upload_sweep_stray(dir, fn, cutoff);
            free(json);
            continue;
        }
        if (len == 32 + 9 && strcmp(fn + 32, ".json.tmp") == 0) {
            upload_sweep_stray(dir, fn, cutoff);
            continue;
        }
        if (len != 32 + 5 || strcmp(fn + 32, ".json") != 0)
            continue;
        char id[33];
        memcpy(id, fn, 32);
        id[32] = '\0';
        if (!upload_id_valid(id))
            continue;
        struct upload u;
        int rc = upload_open(statedir, id, &u);
        if (rc == UPLOAD_BUSY || rc == UPLOAD_NOT_FOUND)
            continue;   /* in use right now, or gone meanwhile */
        if (rc == UPLOAD_ERROR) {
            /* unreadable session: judge by its file's age and remove it
             * under the lock all the same */
            char *path = upload_path(dir, id, ".json");
            struct stat st;
            int old = stat(path, &st) == 0 && st.st_mtime < cutoff;
            free(path);
            if (!old)
                continue;
            int lrc;
            int fd = upload_lock(dir, id, 0, &lrc);
            if (fd < 0)
                continue;
            upload_clear(&u);
            memcpy(u.id, id, 33);
            u.dir = xstrdup(dir);
            u.lock_fd = fd;
        } else if (u.created > cutoff) {
            upload_close(&u);
            continue;
        }
        if (discard)
            discard(ctx, id);
        if (upload_remove(&u) == 0)
            removed++;
        upload_close(&u);
    }
    closedir(d);
    free(dir);
    return removed;
}
