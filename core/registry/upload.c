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
#include "core/metrics.h"
#include "core/names.h"
#include "core/xalloc.h"

#define UPLOAD_JSON_MAX (64u * 1024 * 1024)   /* a session with ~500k chunks; more is corruption */
/* A count that says "full" is taken again from the directory at most this
 * often: one a crash left too high (a worker killed between a session file
 * and the count) refuses sessions no longer than that, and a registry
 * really at its maximum lists its 20,000 files (tens of ms on ext4, creates
 * and removals waiting) no more often. */
#define UPLOAD_RECOUNT_S 10

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

/* ---- the open count (shared, see upload.h) ----
 *
 * <statedir>/uploads/.count is flock()ed shared by whoever makes or
 * removes a session file and changes the count with it, and exclusively
 * while the count is taken from the directory: a count taken with creates
 * and removals going on beside it would miss some. */

/* "<32 hex>.json": a session file. */
static int upload_is_session_file(const char *fn, char id[33])
{
    size_t len = strlen(fn);
    if (len != 32 + 5 || strcmp(fn + 32, ".json") != 0)
        return 0;
    memcpy(id, fn, 32);
    id[32] = '\0';
    return upload_id_valid(id);
}

/* Opens and flocks dir/.count (op: LOCK_SH or LOCK_EX). The fd, or -1 when
 * it cannot be had: the count then goes on unguarded (a later count from
 * the directory puts it right). */
static int upload_count_lock(const char *dir, int op)
{
    char *path = xasprintf("%s/.count", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(path);
    if (fd < 0)
        return -1;
    int r;
    do
        r = flock(fd, op);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void upload_count_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* Takes the count from the directory, with nothing made or removed meanwhile. */
static void upload_recount(const char *dir)
{
    int lock = upload_count_lock(dir, LOCK_EX);
    DIR *d = opendir(dir);
    uint64_t n = 0;
    if (d) {
        struct dirent *de;
        char id[33];
        while ((de = readdir(d)) != NULL)
            n += upload_is_session_file(de->d_name, id);
        closedir(d);
    }
    struct metrics_counters *m = metrics_live();
    __atomic_store_n(&m->upload_sessions, n, __ATOMIC_RELAXED);
    __atomic_store_n(&m->upload_sessions_counted, (uint64_t)time(NULL), __ATOMIC_RELAXED);
    upload_count_unlock(lock);
}

static void upload_count_down(void)
{
    uint64_t *c = &metrics_live()->upload_sessions;
    uint64_t v = __atomic_load_n(c, __ATOMIC_RELAXED);
    while (v > 0 && !__atomic_compare_exchange_n(c, &v, v - 1, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

/* One more session, unless max are open: the .count lock (shared, held
 * until the session file exists), or -2 when full. A count never taken, or
 * one that says full and was taken over UPLOAD_RECOUNT_S ago, is taken
 * again first (a worker killed between a session file and the count leaves
 * it one too high; never too low). */
static int upload_count_up(const char *dir, unsigned max)
{
    struct metrics_counters *m = metrics_live();
    if (__atomic_load_n(&m->upload_sessions_counted, __ATOMIC_RELAXED) == 0)
        upload_recount(dir);
    for (int pass = 0; pass < 2; pass++) {
        int lock = upload_count_lock(dir, LOCK_SH);
        uint64_t n = __atomic_add_fetch(&m->upload_sessions, 1, __ATOMIC_RELAXED);
        if (max == 0 || n <= max)
            return lock;
        upload_count_down();
        upload_count_unlock(lock);
        uint64_t at = __atomic_load_n(&m->upload_sessions_counted, __ATOMIC_RELAXED);
        if (pass > 0 || (uint64_t)time(NULL) < at + UPLOAD_RECOUNT_S)
            break;
        upload_recount(dir);
    }
    return -2;
}

uint64_t upload_open_count(void)
{
    return __atomic_load_n(&metrics_live()->upload_sessions, __ATOMIC_RELAXED);
}

/* Unlinks the session's files, the lock file last (see the top of this
 * file); the count goes down with its session file. The caller holds the
 * .count lock. 0, or -1 if a file could not be removed. */
static int upload_unlink(struct upload *u)
{
    int rc = 0;
    char *json = upload_path(u->dir, u->id, ".json");
    char *staged = upload_path(u->dir, u->id, ".staged");
    char *lock = upload_path(u->dir, u->id, ".lock");
    if (unlink(json) == 0)
        upload_count_down();
    else if (errno != ENOENT)
        rc = -1;
    if (unlink(staged) < 0 && errno != ENOENT)
        rc = -1;
    if (unlink(lock) < 0 && errno != ENOENT)
        rc = -1;
    free(json);
    free(staged);
    free(lock);
    return rc;
}

int upload_create(const char *statedir, const char *name, enum digest_alg alg,
                  unsigned max_sessions, struct upload *u)
{
    upload_clear(u);
    char *dir = xasprintf("%s/uploads", statedir);
    if (upload_mkdir(dir) < 0) {
        free(dir);
        return UPLOAD_ERROR;
    }
    int count_lock = upload_count_up(dir, max_sessions);
    if (count_lock == -2) {
        free(dir);
        return UPLOAD_FULL;
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
        int e = errno;
        free(dir);
        upload_clear(u);
        upload_count_down();
        upload_count_unlock(count_lock);
        errno = e;
        return UPLOAD_ERROR;
    }
    u->dir = dir;
    u->name = xstrdup(name);
    hasher_init(&u->hash, alg);
    u->created = time(NULL);
    if (upload_save(u) < 0) {
        int e = errno;
        /* no session file was made (the save writes a temporary file and
         * renames it), so upload_unlink does not count it down */
        upload_unlink(u);
        upload_count_down();
        upload_count_unlock(count_lock);
        upload_close(u);
        errno = e;
        return UPLOAD_ERROR;
    }
    upload_count_unlock(count_lock);
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
    char *staged = upload_path(dir, id, ".staged");
    u->staged = access(staged, F_OK) == 0 || errno != ENOENT;   /* in doubt: staged */
    free(staged);
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

int upload_mark_staged(struct upload *u)
{
    if (u->staged)
        return 0;
    char *path = upload_path(u->dir, u->id, ".staged");
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    free(path);
    if (fd < 0)
        return -1;
    close(fd);
    u->staged = 1;
    return 0;
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
    int count_lock = upload_count_lock(u->dir, LOCK_SH);
    int rc = upload_unlink(u);
    upload_count_unlock(count_lock);
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

/* Whether <id>.lock was made before cutoff. Its mtime is the session's
 * start (nothing writes to it), so the sweep skips young sessions with one
 * stat(), without reading their files; -1 when it is gone. */
static int upload_started_before(const char *dir, const char *id, time_t cutoff)
{
    char *lock = upload_path(dir, id, ".lock");
    struct stat st;
    int r = stat(lock, &st);
    free(lock);
    if (r < 0)
        return -1;
    return st.st_mtime <= cutoff;
}

/* Removes session id if it started before cutoff and nobody holds it.
 * 1 removed, 0 kept (young, busy, or not removable), -1 gone meanwhile. */
static int upload_sweep_one(const char *statedir, const char *dir, const char *id, time_t cutoff,
                            upload_discard_fn discard, void *ctx)
{
    int old = upload_started_before(dir, id, cutoff);
    if (old <= 0)
        return old;
    struct upload u;
    int rc = upload_open(statedir, id, &u);
    if (rc == UPLOAD_NOT_FOUND)
        return -1;
    if (rc == UPLOAD_BUSY)
        return 0;   /* a request works on it right now */
    if (rc == UPLOAD_ERROR) {
        /* unreadable session: judge by its file's age and remove it
         * under the lock all the same */
        char *path = upload_path(dir, id, ".json");
        struct stat st;
        old = stat(path, &st) == 0 && st.st_mtime < cutoff;
        free(path);
        if (!old)
            return 0;
        int lrc;
        int fd = upload_lock(dir, id, 0, &lrc);
        if (fd < 0)
            return lrc == UPLOAD_NOT_FOUND ? -1 : 0;
        upload_clear(&u);
        memcpy(u.id, id, 33);
        u.dir = xstrdup(dir);
        u.lock_fd = fd;
        u.staged = 1;
    } else if (u.created > cutoff) {
        upload_close(&u);
        return 0;
    }
    if (discard && (u.staged || u.nchunks))
        discard(ctx, id);
    int removed = upload_remove(&u) == 0;
    upload_close(&u);
    return removed;
}

static long long upload_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int upload_sweep(const char *statedir, time_t max_age, long budget_ms, upload_discard_fn discard,
                 void *ctx, int *more)
{
    if (more)
        *more = 0;
    char *dir = xasprintf("%s/uploads", statedir);
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return 0;
    }
    time_t cutoff = time(NULL) - max_age;
    long long deadline = budget_ms > 0 ? upload_now_ms() + budget_ms : 0;
    int removed = 0;
    unsigned seen = 0;
    struct dirent *de;
    char id[33];
    while ((de = readdir(d)) != NULL) {
        const char *fn = de->d_name;
        size_t len = strlen(fn);
        if (deadline && ++seen % 64 == 0 && upload_now_ms() >= deadline) {
            if (more)
                *more = 1;
            break;
        }
        if ((len == 32 + 5 && strcmp(fn + 32, ".lock") == 0) ||
            (len == 32 + 7 && strcmp(fn + 32, ".staged") == 0)) {
            /* a lock or mark without a session: a create that crashed
             * before saving, or a removal that did */
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
        if (!upload_is_session_file(fn, id))
            continue;
        if (upload_sweep_one(statedir, dir, id, cutoff, discard, ctx) > 0)
            removed++;
    }
    closedir(d);
    free(dir);
    return removed;
}

int upload_sweep_due(const char *statedir, time_t max_age, time_t interval, long budget_ms,
                     upload_discard_fn discard, void *ctx, int *more_out)
{
    if (more_out)
        *more_out = 0;
    char *dir = xasprintf("%s/uploads", statedir);
    if (upload_mkdir(dir) < 0) {
        free(dir);
        return 0;
    }
    char *path = xasprintf("%s/.sweep", dir);
    free(dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(path);
    if (fd < 0)
        return 0;
    int removed = 0, more = 0;
    struct stat st;
    /* another worker sweeping now, or one that swept not long ago: skip.
     * The mtime says when the last sweep started; a new file (size 0) has
     * never seen one. */
    if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0 &&
        (st.st_size == 0 || time(NULL) - st.st_mtime >= interval) &&
        pwrite(fd, "s", 1, 0) == 1 && futimens(fd, NULL) == 0) {
        removed = upload_sweep(statedir, max_age, budget_ms, discard, ctx, &more);
        if (more) {
            /* out of time with sessions left: due again at once */
            struct timespec t[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = time(NULL) - interval } };
            futimens(fd, t);
            if (more_out)
                *more_out = 1;
        }
    }
    close(fd);   /* drops the lock */
    return removed;
}
