/* store_files: blob files in front of the linking store (see store_files.h).
 *
 * A staged chunk is named in store_chunk.cid as "file:<upload id>", or
 * "file:<upload id>:<cid>" when a one-pass add already gave the whole
 * blob's CID; chunks without the prefix came from the inner store (a
 * session begun before this mode) and stay its business. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/blobfile.h"
#include "core/errmsg.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "oci/store_files.h"
#include "oci/paths.h"
#include "oci/store_kubo.h"

#define FILES_TAG "file:"
#define FILES_TAG_LEN 5
#define FILES_BUF (256 * 1024)

struct store_files {
    struct store base;
    struct store_ops ops;    /* ours, with inner's optional NULLs kept */
    struct store *in;        /* borrowed */
    struct kubo *k;          /* borrowed */
    char *dir;
    char *uploads;           /* MFS staging area of the chain, or NULL */
    char *err;
    int own_err;             /* the last failure is ours, not the inner store's */
};

static struct store_files *files_of(struct store *s)
{
    return s->impl;
}

static struct store *files_in(struct store *s)
{
    struct store_files *f = files_of(s);
    f->own_err = 0;
    return f->in;
}

static int files_fail(struct store_files *f, int rc, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Our own failure: "<what>: <strerror(e)>" (e == 0: no cause). */
static int files_fail(struct store_files *f, int rc, int e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errmsg_vset(&f->err, rc, "blob files", e ? strerror(e) : NULL, fmt, ap);
    va_end(ap);
    f->own_err = 1;
    return rc;
}

static int files_kfail(struct store_files *f, int krc, const char *what, const char *arg)
{
    f->own_err = 1;
    return store_kubo_fail(&f->err, "blob files", f->k, krc, "%s %s", what, arg);
}

/* ---- reads ---- */

/* The file of blob b is gone: is that an error (Kubo's filestore points at
 * it, so the blob was a file here) or a blob that never was one? */
static int files_missing(struct store_files *f, const struct store_blob *b, const char *path)
{
    char *owner = NULL;
    int krc = kubo_filestore_file_of(f->k, b->cid, &owner);
    if (krc == KUBO_NOT_FOUND)
        return STORE_OK;   /* the node holds the bytes itself: not a file */
    if (krc != KUBO_OK)
        return files_kfail(f, krc, "find the file of blob", b->cid);
    /* its file, or its alias (.added/<id>): either way the blob was a file here */
    const char *base = strrchr(owner, '/');
    char *alias = blobfile_added(f->dir, base ? base + 1 : owner);
    int ours = kubo_filestore_path_is(owner, path) || kubo_filestore_path_is(owner, alias);
    free(alias);
    free(owner);
    if (!ours)
        return STORE_OK;   /* shares another file's blocks: Kubo serves it */
    log_error("blob file %s is missing; Kubo's filestore still points at it", path);
    blobfile_damage_note(f->dir, path, b->size, "missing; Kubo's filestore points at it");
    return files_fail(f, STORE_ERROR, ENOENT, "blob file %s (the node's filestore points at it)", path);
}

static int files_blob_stat(struct store *s, const char *name, const struct digest *d, struct store_blob *out)
{
    struct store_files *f = files_of(s);
    struct store *in = files_in(s);
    int rc = in->ops->blob_stat(in, name, d, out);
    if (rc != STORE_OK)
        return rc;
    out->digest = *d;
    out->file = 0;
    if (out->size == 0)
        return STORE_OK;   /* never a file: nothing to send */
    char *path = blobfile_path(f->dir, d);
    struct stat sb;
    if (stat(path, &sb) == 0) {
        if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == out->size) {
            out->file = 1;
        } else {
            log_error("blob file %s has %lld bytes, the blob %llu", path, (long long)sb.st_size,
                      (unsigned long long)out->size);
            blobfile_damage_note(f->dir, path, out->size, "its size is not the blob's");
            rc = files_fail(f, STORE_ERROR, 0, "blob file %s has %lld bytes, the blob %llu", path,
                            (long long)sb.st_size, (unsigned long long)out->size);
        }
    } else if (errno == ENOENT) {
        rc = files_missing(f, out, path);
    } else {
        rc = files_fail(f, STORE_ERROR, errno, "stat %s", path);
    }
    free(path);
    return rc;
}

/* Opens blob b's file at offset. -1 when it failed (recorded). */
static int files_open_at(struct store_files *f, const struct store_blob *b, uint64_t offset)
{
    char *path = blobfile_path(f->dir, &b->digest);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        files_fail(f, STORE_ERROR, errno, "open %s", path);
    } else if (lseek(fd, (off_t)offset, SEEK_SET) < 0) {
        files_fail(f, STORE_ERROR, errno, "seek %s", path);
        close(fd);
        fd = -1;
    }
    free(path);
    return fd;
}

static int files_blob_read(struct store *s, const struct store_blob *b, uint64_t offset, uint64_t length,
                           store_write_cb cb, void *ctx)
{
    struct store_files *f = files_of(s);
    struct store *in = files_in(s);
    if (!b->file)
        return in->ops->blob_read(in, b, offset, length, cb, ctx);
    int fd = files_open_at(f, b, offset);
    if (fd < 0)
        return STORE_ERROR;
    if (length == 0)
        length = b->size - offset;
    char *buf = xmalloc(FILES_BUF);
    int rc = STORE_OK;
    while (length > 0) {
        ssize_t r = read(fd, buf, length < FILES_BUF ? (size_t)length : FILES_BUF);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            char ds[DIGEST_STR_MAX];
            rc = files_fail(f, STORE_ERROR, r < 0 ? errno : 0, "read blob file of %s: %s",
                            digest_str(&b->digest, ds), r < 0 ? "read failed" : "it ended early");
            break;
        }
        if (cb(ctx, buf, (size_t)r) < 0) {
            rc = files_fail(f, STORE_ABORTED, 0, "read blob file: the receiver stopped");
            break;
        }
        length -= (uint64_t)r;
    }
    free(buf);
    close(fd);
    return rc;
}

static int files_blob_open(struct store *s, const struct store_blob *b, uint64_t offset, uint64_t length,
                           int *fd)
{
    struct store_files *f = files_of(s);
    struct store *in = files_in(s);
    *fd = -1;
    if (!b->file) {
        if (!in->ops->blob_open)
            return files_fail(f, STORE_ERROR, 0, "this store cannot open blob %s", b->cid);
        return in->ops->blob_open(in, b, offset, length, fd);
    }
    (void)length;   /* the file holds at least offset + length bytes: blob_stat checked its size */
    *fd = files_open_at(f, b, offset);
    return *fd < 0 ? STORE_ERROR : STORE_OK;
}

/* ---- uploads ---- */

/* The upload id of a staged chunk's name, copied into id; NULL for a chunk
 * of the inner store. Returns the CID part after it ("" when none). */
static const char *files_chunk_parse(const char *name, char id[33])
{
    if (strncmp(name, FILES_TAG, FILES_TAG_LEN) != 0)
        return NULL;
    const char *p = name + FILES_TAG_LEN;
    size_t n = strcspn(p, ":");
    if (n == 0 || n > 32)
        return NULL;
    memcpy(id, p, n);
    id[n] = '\0';
    return p[n] == ':' ? p + n + 1 : "";
}

/* Reading the body: each piece read is also written to the staging file,
 * so a one-pass add sees the bytes exactly when the file gets them. A
 * failure (the body stopped, the disk is full) ends the add's data early
 * instead of cutting its request (soft): Kubo then finishes that add
 * before it answers, so every filestore entry it makes exists by the time
 * upload_discard takes them out (a cut request goes on being added inside
 * Kubo after the registry moved on). */
struct files_tee {
    store_read_cb cb;
    void *ctx;
    int fd;
    int soft;
    int write_errno;
    int read_failed;
    int eof;                 /* the body was read to its end */
    off_t given;             /* bytes in the file, all handed on */
    off_t flushed;           /* write-behind started up to here */
};

static ssize_t files_tee_read(void *arg, char *p, size_t n)
{
    struct files_tee *t = arg;
    if (t->write_errno || t->read_failed)
        return t->soft ? 0 : -1;
    ssize_t r = t->cb(t->ctx, p, n);
    if (r < 0) {
        t->read_failed = 1;
        return t->soft ? 0 : -1;
    }
    if (r == 0)
        t->eof = 1;
    if (r > 0 && blobfile_write_all(t->fd, p, (size_t)r) < 0) {
        t->write_errno = errno;
        /* the file holds exactly what was handed on, so the leaves cut
         * from it are the add's (upload_discard) */
        if (ftruncate(t->fd, t->given) < 0)
            log_warn("blob files: cannot cut a failed write back: %s", strerror(errno));
        return t->soft ? 0 : -1;
    }
    t->given += r;
    blobfile_flush_behind(t->fd, &t->flushed, t->given);
    return r;
}

/* <staging>.target: the path a one-pass add named, on its first line,
 * written before the add; for an alias, a second line with the bytes that
 * add took, once it is done. Gone once the file is in place or what the
 * add recorded is dealt with. */
static char *files_target_note(const char *staging)
{
    return xasprintf("%s.target", staging);
}

static int files_note_target(struct store_files *f, const char *staging, const char *target, long long added)
{
    char *note = files_target_note(staging);
    char *text = added < 0 ? xasprintf("%s\n", target) : xasprintf("%s\n%lld\n", target, added);
    int fd = open(note, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 || blobfile_write_all(fd, text, strlen(text)) < 0 ? -1 : 0;
    if (rc < 0)
        files_fail(f, STORE_ERROR, errno, "write %s", note);
    if (fd >= 0)
        close(fd);
    free(text);
    free(note);
    return rc;
}

/* The note's target (NULL: none, or unreadable) and, when added is not
 * NULL, the bytes that add took (-1: not written). */
static char *files_read_note(const char *staging, long long *added)
{
    char *note = files_target_note(staging), buf[4096];
    int fd = open(note, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    free(note);
    if (added)
        *added = -1;
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    char *nl = strchr(buf, '\n');
    if (nl) {
        *nl = '\0';
        if (added && nl[1])
            *added = strtoll(nl + 1, NULL, 10);
    }
    return buf[0] ? xstrdup(buf) : NULL;
}

static char *files_read_target(const char *staging)
{
    return files_read_note(staging, NULL);
}

/* An alias's name: a symbolic link to the file that holds its bytes,
 * staging while the upload lives, the blob file once committed, so that
 * what the entries name always follows the blob file (a blob file put back
 * after damage is found through it again); or, retired, a plain name of
 * staging's inode (below). files_alias_swap replaces it atomically and
 * durably with a symbolic link to src, or (hard) a hard link to src.
 * 0, or -1 with errno (of the step that failed). */
static int files_alias_swap(const char *alias, const char *src, int hard)
{
    char *tmp = xasprintf("%s.tmp", alias);
    int rc = -1;
    if ((unlink(tmp) == 0 || errno == ENOENT) && (hard ? link(src, tmp) : symlink(src, tmp)) == 0
        && rename(tmp, alias) == 0)
        rc = blobfile_sync_parent(alias);
    int e = errno;
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    errno = e;
    return rc;
}

/* An upload that ends without its alias becoming the blob file's: the
 * alias becomes a plain file (a hard link to staging's inode) that keeps
 * the bytes its entries name after staging goes, alone, for --sweep-files,
 * which takes out what no held blob needs and re-points the rest (taking
 * valid entries out here could break a blob added since that shares a leaf
 * with them). 0, or -1 with errno. */
static int files_alias_retire(const char *alias, const char *staging)
{
    struct stat sb;
    if (lstat(alias, &sb) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISLNK(sb.st_mode))
        return 0;   /* retired already */
    if (files_alias_swap(alias, staging, 1) == 0)
        return 0;
    if (errno != ENOENT || access(staging, F_OK) == 0)
        return -1;
    /* no bytes left to keep (blobdir changed under the registry) */
    log_warn("blob files: %s: its bytes (%s) are gone; removing it", alias, staging);
    return unlink(alias) == 0 || errno == ENOENT ? 0 : -1;
}

/* Deals with what a one-pass add recorded under staging's note, then drops
 * the note: entries naming a content path that do not read back are taken
 * out (the bytes did not become that file); an alias is retired (above).
 * Reads the leaves from staging. 0 (also when there was no note), -1 when
 * Kubo failed (kubo_errmsg), -2 when the filesystem did (errno). */
static int files_unnote_k(struct kubo *k, const char *dir, const char *staging, size_t *taken)
{
    char *target = files_read_target(staging);
    int rc = 0;
    *taken = 0;
    if (target && !blobfile_is_added(dir, target))
        rc = kubo_filestore_forget(k, staging, 0, target, 0, taken) == KUBO_OK ? 0 : -1;
    else if (target)
        rc = files_alias_retire(target, staging) == 0 ? 0 : -2;
    int e = errno;
    if (rc == 0) {
        char *note = files_target_note(staging);
        unlink(note);
        free(note);
    }
    free(target);
    errno = e;
    return rc;
}

static int files_unnote(struct store_files *f, const char *staging, const char *upload_id)
{
    size_t taken;
    int rc = files_unnote_k(f->k, f->dir, staging, &taken);
    if (rc == -1)
        return files_kfail(f, KUBO_ERROR, "take out the filestore entries of upload", upload_id);
    if (rc == -2)
        return files_fail(f, STORE_ERROR, errno, "upload %s: keep the bytes of its alias", upload_id);
    if (taken)
        log_info("upload %s: took out %zu filestore entries of its earlier add", upload_id, taken);
    return STORE_OK;
}

/* The alias staging's note names (caller frees), or NULL. */
static char *files_noted_alias(struct store_files *f, const char *staging, long long *added)
{
    char *target = files_read_note(staging, added);
    if (target && !blobfile_is_added(f->dir, target)) {
        free(target);
        return NULL;
    }
    return target;
}

/* The first chunk of a session whose digest is not known yet (a streamed
 * PATCH) is added in the same pass too, naming an alias in .added/ (a
 * symbolic link to staging; commit points it at the blob file, which has
 * the same bytes at the same offsets). Each attempt has its own alias (an
 * earlier one may still hold bytes that entries name). The note is
 * written first: no alias without one until commit. */
static char *files_alias_for(struct store_files *f, const char *staging, const char *upload_id)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char *name = xasprintf("%s.%lld%09ld", upload_id, (long long)ts.tv_sec, (long)ts.tv_nsec);
    char *alias = blobfile_added(f->dir, name);
    free(name);
    if (files_note_target(f, staging, alias, -1) < 0) {
        free(alias);
        return NULL;
    }
    if (blobfile_mkparents(alias) < 0 || symlink(staging, alias) < 0) {
        files_fail(f, STORE_ERROR, errno, "link %s to %s", alias, staging);
        free(alias);
        return NULL;
    }
    return alias;
}

/* A second chunk after a first one added with an alias: that add's leaves
 * are leaves of this blob too (the same bytes at the same offsets, never
 * rewritten), except its last one if it was short: a leaf of no blob,
 * which no walk of the blob file would find. Only that one is taken out,
 * while staging holds exactly the first chunk (offset bytes). */
static int files_second_chunk(struct store_files *f, const char *staging, const char *upload_id, uint64_t offset)
{
    long long added;
    char *alias = files_noted_alias(f, staging, &added);
    int rc = STORE_OK;
    if (alias && added == (long long)offset && offset % KUBO_LEAF_SIZE) {
        int krc = kubo_filestore_forget(f->k, staging, offset - offset % KUBO_LEAF_SIZE, alias, 1, NULL);
        if (krc != KUBO_OK)
            rc = files_kfail(f, krc, "take out the short last leaf of the first chunk of upload", upload_id);
    }
    free(alias);
    return rc;
}

/* A one-pass add is possible when the chunk is the whole blob, the digest is
 * known, and no file is there yet (an existing one is kept: its filestore
 * entries must never be pointed at bytes still unverified). */
static int files_one_pass(struct store_files *f, const struct digest *whole, uint64_t offset, char **target)
{
    *target = NULL;
    if (!whole || offset != 0)
        return 0;
    char *path = blobfile_path(f->dir, whole);
    if (access(path, F_OK) == 0) {
        free(path);
        return 0;
    }
    *target = path;
    return 1;
}

/* The rest of the body into the staging file only; *n counts it. */
static int files_drain(struct store_files *f, struct files_tee *t, const char *path, const char *upload_id,
                       unsigned idx, uint64_t *n)
{
    char *buf = xmalloc(FILES_BUF);
    int rc = STORE_OK;
    for (;;) {
        ssize_t r = files_tee_read(t, buf, FILES_BUF);
        if (r == 0)
            break;
        if (r < 0) {
            rc = t->write_errno ? files_fail(f, STORE_ERROR, t->write_errno, "write %s", path)
                                : files_fail(f, STORE_ABORTED, 0, "upload %s chunk %u: the body stopped", upload_id,
                                             idx);
            break;
        }
        *n += (uint64_t)r;
    }
    free(buf);
    return rc;
}

/* The DAG a streamed chunk's add made is committed at the PUT, a later
 * request: until then it is linked into the chain's MFS staging area
 * (<uploads>/<id>/<idx>, removed with the session by the chain's
 * upload_discard), so a `repo gc` in between cannot take its blocks; the
 * add's pin (kubo_set_pin_adds) then goes, so that forgetting the
 * entries (a second chunk, a wrong digest) stays possible. A failure
 * leaves the pin: the DAG stays protected, only less tidy. */
static void files_hold(struct store_files *f, const char *upload_id, unsigned idx, const char *cid)
{
    if (!f->uploads)
        return;
    char *dst = path_upload_chunk(f->uploads, upload_id, idx);
    char *src = xasprintf("/ipfs/%s", cid);
    int krc = kubo_files_cp(f->k, src, dst);
    if (krc == KUBO_EXISTS && (krc = kubo_files_rm(f->k, dst, 1)) == KUBO_OK)
        krc = kubo_files_cp(f->k, src, dst);
    if (krc == KUBO_OK)
        krc = kubo_unpin_added(f->k, cid);
    if (krc != KUBO_OK)
        log_warn("upload %s: the add of chunk %u stays pinned: %s", upload_id, idx, kubo_errmsg(f->k));
    free(src);
    free(dst);
}

static int files_chunk_put(struct store *s, const char *upload_id, unsigned idx, uint64_t offset,
                           const struct digest *whole, store_read_cb cb, void *ctx, struct store_chunk *out)
{
    struct store_files *f = files_of(s);
    char *path = blobfile_staging(f->dir, upload_id);
    int rc = STORE_OK, fd = -1;
    struct stat sb;

    f->own_err = 1;
    if (blobfile_mkparents(path) < 0) {
        rc = files_fail(f, STORE_ERROR, errno, "create the directory of %s", path);
        goto out;
    }
    /* a new first chunk replaces an earlier attempt: what its add recorded
     * is dealt with first; bytes an alias names are left to that alias
     * (staging starts again as a new file) */
    if (offset == 0) {
        char *old = files_noted_alias(f, path, NULL);
        rc = files_unnote(f, path, upload_id);
        if (rc == STORE_OK && old && unlink(path) < 0 && errno != ENOENT)
            rc = files_fail(f, STORE_ERROR, errno, "remove %s", path);
        free(old);
        if (rc != STORE_OK)
            goto out;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = files_fail(f, STORE_ERROR, errno, "open %s", path);
        goto out;
    }
    /* what a failed attempt left past offset goes; less than offset means
     * the staged bytes were lost (blobdir wiped under a live session) */
    if (fstat(fd, &sb) < 0 || (uint64_t)sb.st_size < offset) {
        rc = files_fail(f, STORE_ERROR, 0, "upload %s: the staging file %s has %lld bytes, the session %llu",
                        upload_id, path, (long long)sb.st_size, (unsigned long long)offset);
        goto out;
    }
    if (ftruncate(fd, (off_t)offset) < 0 || lseek(fd, (off_t)offset, SEEK_SET) < 0) {
        rc = files_fail(f, STORE_ERROR, errno, "truncate %s", path);
        goto out;
    }
    if (offset > 0 && (rc = files_second_chunk(f, path, upload_id, offset)) != STORE_OK)
        goto out;
    struct files_tee t = { .cb = cb, .ctx = ctx, .fd = fd, .given = (off_t)offset, .flushed = (off_t)offset };
    char *target;
    uint64_t n = 0;
    int alias_failed = 0;
    if (files_one_pass(f, whole, offset, &target)
        || (offset == 0 && !whole && !(alias_failed = !(target = files_alias_for(f, path, upload_id))))) {
        char cid[KUBO_CID_MAX];
        /* from here on the node may hold entries naming target: say where,
         * so upload_discard can take them out if the digest is wrong (an
         * alias's note is written already, before the alias) */
        if (whole && files_note_target(f, path, target, -1) < 0) {
            rc = STORE_ERROR;
            free(target);
            goto out;
        }
        t.soft = 1;
        int krc = kubo_add_nocopy(f->k, target, files_tee_read, &t, cid, &n);
        if (t.write_errno)
            rc = files_fail(f, STORE_ERROR, t.write_errno, "write %s", path);
        else if (t.read_failed)
            rc = files_fail(f, STORE_ABORTED, 0, "upload %s: the body stopped", upload_id);
        else if (krc != KUBO_OK && krc != KUBO_UNAVAILABLE && t.eof && t.given <= KUBO_LEAF_SIZE) {
            /* Kubo 0.43 fails a one-pass add of a blob of one chunk (up
             * to 256 KiB: a raw leaf that is its own root) after taking the
             * whole body, with "open <target>: no such file or directory":
             * it reads that root back from target, which is only put in
             * place at commit (seen with every 512-byte blob of the OCI
             * conformance suite; 300000 bytes pass). The body is staged
             * whole: add the placed file at commit, as for a chunked upload
             * (the target note stays, so a wrong digest still takes out any
             * entry this add made). */
            log_debug("upload %s: one-pass add of %lld bytes failed (%s); adding the file at commit", upload_id,
                      (long long)t.given, kubo_errmsg(f->k));
            snprintf(out->cid, sizeof out->cid, FILES_TAG "%s", upload_id);
            n = (uint64_t)t.given;
        } else if (krc == KUBO_UNAVAILABLE && !whole) {
            /* a streamed PATCH needs no Kubo: as before the one-pass add,
             * the rest goes to the staging file and the file is added at
             * commit (the note stays: what the add recorded names the
             * alias, whose bytes these are) */
            log_warn("upload %s: the node went away during its add (%s); staging the rest, adding the file "
                     "at commit", upload_id, kubo_errmsg(f->k));
            t.soft = 0;
            n = (uint64_t)(t.given - (off_t)offset);
            if (!t.eof)
                rc = files_drain(f, &t, path, upload_id, idx, &n);
            snprintf(out->cid, sizeof out->cid, FILES_TAG "%s", upload_id);
        } else if (krc != KUBO_OK)
            rc = files_kfail(f, krc, "add", target);
        else if ((size_t)snprintf(out->cid, sizeof out->cid, FILES_TAG "%s:%s", upload_id, cid) >=
                 sizeof out->cid)
            rc = files_fail(f, STORE_ERROR, 0, "add %s: CID %s too long to keep", target, cid);
        else
            files_hold(f, upload_id, idx, cid);
        /* an add that completed for a chunk that failed anyway (its file
         * write): its pin goes, so discard can take its entries out */
        if (krc == KUBO_OK && rc != STORE_OK && kubo_unpin_added(f->k, cid) != KUBO_OK)
            log_warn("upload %s: the add of a failed chunk stays pinned: %s", upload_id, kubo_errmsg(f->k));
        /* an alias's add is done: how much it took, for a second chunk */
        if (rc == STORE_OK && !whole)
            rc = files_note_target(f, path, target, (long long)t.given) < 0 ? STORE_ERROR : STORE_OK;
        free(target);
    } else if (alias_failed) {
        rc = STORE_ERROR;   /* recorded by files_alias_for */
    } else {
        rc = files_drain(f, &t, path, upload_id, idx, &n);
        snprintf(out->cid, sizeof out->cid, FILES_TAG "%s", upload_id);
    }
    out->size = n;
    /* the chunk is acknowledged (202) once this returns: on disk by then
     * (the write-behind left only the tail to wait for) */
    if (rc == STORE_OK && fsync(fd) < 0)
        rc = files_fail(f, STORE_ERROR, errno, "fsync %s", path);
out:
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

static int files_chunks_join(struct store *s, const struct store_chunk *chunks, size_t n,
                             struct store_chunk *out)
{
    struct store_files *f = files_of(s);
    struct store *in = files_in(s);
    char id[33], id0[33];
    size_t staged = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (files_chunk_parse(chunks[i].cid, id)) {
            if (staged++ == 0)
                memcpy(id0, id, sizeof id);
            else if (strcmp(id, id0) != 0)
                return files_fail(f, STORE_ERROR, 0, "join: chunks of two uploads (%s, %s)", id0, id);
        }
        total += chunks[i].size;
    }
    if (staged == 0 || total == 0)
        return in->ops->chunks_join(in, chunks, n, out);   /* not ours, or empty: never a file */
    if (staged != n)
        return files_fail(f, STORE_ERROR, 0, "upload %s began before blob files were on; start it again", id0);
    if (n == 1)
        *out = chunks[0];
    else
        snprintf(out->cid, sizeof out->cid, FILES_TAG "%s", id0);
    out->size = total;
    return STORE_OK;
}

static int files_read_fd(struct store_files *f, int fd, const char *path, store_write_cb cb, void *ctx)
{
    char *buf = xmalloc(FILES_BUF);
    int rc = STORE_OK;
    for (;;) {
        ssize_t r = read(fd, buf, FILES_BUF);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = files_fail(f, STORE_ERROR, errno, "read %s", path);
            break;
        }
        if (r == 0)
            break;
        if (cb(ctx, buf, (size_t)r) < 0) {
            rc = files_fail(f, STORE_ABORTED, 0, "read %s: the receiver stopped", path);
            break;
        }
    }
    free(buf);
    return rc;
}

static int files_content_read(struct store *s, const struct store_chunk *c, store_write_cb cb, void *ctx)
{
    struct store_files *f = files_of(s);
    struct store *in = files_in(s);
    char id[33];
    if (!files_chunk_parse(c->cid, id))
        return in->ops->content_read(in, c, cb, ctx);
    char *path = blobfile_staging(f->dir, id);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = fd < 0 ? files_fail(f, STORE_ERROR, errno, "open %s", path) : files_read_fd(f, fd, path, cb, ctx);
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

/* The file as a kubo_read_cb, for the add at completion. */
struct files_src {
    int fd;
    int read_errno;
};

static ssize_t files_src_read(void *arg, char *p, size_t n)
{
    struct files_src *r = arg;
    for (;;) {
        ssize_t got = read(r->fd, p, n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            r->read_errno = errno;
        return got;
    }
}

/* Adds the file at path (in place, read once) with --nocopy; cid gets the
 * root. */
static int files_add_in_place(struct store_files *f, const char *path, uint64_t size, char cid[KUBO_CID_MAX])
{
    struct files_src r = { .fd = open(path, O_RDONLY | O_CLOEXEC) };
    if (r.fd < 0)
        return files_fail(f, STORE_ERROR, errno, "open %s", path);
    uint64_t n = 0;
    int krc = kubo_add_nocopy(f->k, path, files_src_read, &r, cid, &n);
    close(r.fd);
    if (r.read_errno)
        return files_fail(f, STORE_ERROR, r.read_errno, "read %s", path);
    if (krc != KUBO_OK)
        return files_kfail(f, krc, "add", path);
    if (n != size)
        return files_fail(f, STORE_ERROR, 0, "add %s: %llu bytes read, the blob has %llu", path,
                          (unsigned long long)n, (unsigned long long)size);
    return STORE_OK;
}

/* Moves the verified staging file into place, durably: its bytes are on
 * disk before the rename, and the rename is before the caller's 201. An
 * existing file of the same digest has the same bytes and stays. With an
 * alias, staging is linked into place and the alias pointed at it before
 * staging goes, so that the entries' name never dangles. */
static int files_place(struct store_files *f, const char *staging, const char *path, uint64_t size,
                       const char *alias)
{
    struct stat sb;
    int there = stat(path, &sb) == 0 && (uint64_t)sb.st_size == size;
    if (!there) {
        int fd = open(staging, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return files_fail(f, STORE_ERROR, errno, "open %s", staging);
        int syncrc = fsync(fd), e = errno;
        close(fd);
        if (syncrc < 0)
            return files_fail(f, STORE_ERROR, e, "fsync %s", staging);
        if (blobfile_mkparents(path) < 0)
            return files_fail(f, STORE_ERROR, errno, "create the directory of %s", path);
        if (!alias) {
            if (rename(staging, path) < 0)
                return files_fail(f, STORE_ERROR, errno, "rename %s to %s", staging, path);
        } else if (link(staging, path) < 0 && (errno != EEXIST || rename(staging, path) < 0)) {
            /* EEXIST: a file of the wrong size (damaged) is replaced */
            return files_fail(f, STORE_ERROR, errno, "link %s to %s", path, staging);
        }
        if (blobfile_sync_parent(path) < 0)
            return files_fail(f, STORE_ERROR, errno, "fsync the directory of %s", path);
    }
    if (alias && files_alias_swap(alias, path, 0) < 0)
        return files_fail(f, STORE_ERROR, errno, "point %s at %s", alias, path);
    if ((there || alias) && unlink(staging) < 0 && errno != ENOENT)
        log_warn("blob files: cannot remove %s: %s", staging, strerror(errno));
    return STORE_OK;
}

static int files_blob_commit(struct store *s, const char *name, const struct digest *d,
                             const struct store_chunk *content)
{
    struct store_files *f = files_of(s);
    struct store *in = files_in(s);
    char id[33];
    const char *cid = files_chunk_parse(content->cid, id);
    if (!cid)
        return in->ops->blob_commit(in, name, d, content);
    char *staging = blobfile_staging(f->dir, id);
    char *path = blobfile_path(f->dir, d);
    /* the note guards what a one-pass add recorded: without it (a retry
     * after a commit that failed later on), the file is added again */
    char *target = files_read_target(staging);
    const char *alias = target && blobfile_is_added(f->dir, target) ? target : NULL;
    int readd = !*cid || !target;
    struct store_chunk linked = { .size = content->size };
    int rc = files_place(f, staging, path, content->size, alias);
    if (rc == STORE_OK) {
        char *note = files_target_note(staging);
        unlink(note);   /* the entries it guards now name a verified file */
        free(note);
    }
    if (rc == STORE_OK && !readd)
        snprintf(linked.cid, sizeof linked.cid, "%s", cid);
    else if (rc == STORE_OK)
        rc = files_add_in_place(f, path, content->size, linked.cid);
    if (rc == STORE_OK) {
        in = files_in(s);
        rc = in->ops->blob_commit(in, name, d, &linked);
    }
    free(target);
    free(path);
    free(staging);
    return rc;
}

static int files_upload_discard(struct store *s, const char *upload_id)
{
    struct store_files *f = files_of(s);
    char *staging = blobfile_staging(f->dir, upload_id);
    /* A one-pass add whose digest did not match left filestore entries
     * that name a file that will not be there: they go, so no later blob
     * sharing a chunk with those bytes is referenced into it. An alias
     * keeps its bytes (and its entries) for --sweep-files. */
    int rc = files_unnote(f, staging, upload_id);
    if (rc != STORE_OK) {
        free(staging);
        return rc;   /* kept, with its note: the next discard (the sweep's) tries again */
    }
    if (unlink(staging) < 0 && errno != ENOENT)
        rc = files_fail(f, STORE_ERROR, errno, "remove %s", staging);
    free(staging);
    if (rc != STORE_OK)
        return rc;
    struct store *in = files_in(s);
    return in->ops->upload_discard(in, upload_id);
}

/* ---- everything else is the inner store's ---- */

static int files_blob_unlink(struct store *s, const char *name, const struct digest *d)
{
    struct store *in = files_in(s);
    return in->ops->blob_unlink(in, name, d);
}

static int files_blob_mount(struct store *s, const char *name, const char *from, const struct digest *d)
{
    struct store *in = files_in(s);
    return in->ops->blob_mount(in, name, from, d);
}

static int files_blob_verify(struct store *s, const struct store_blob *b)
{
    struct store *in = files_in(s);
    return b->file ? STORE_OK : in->ops->blob_verify(in, b);
}

static int files_repo_import(struct store *s, const char *name, struct store *from)
{
    struct store *in = files_in(s);
    return in->ops->repo_import(in, name, from);
}

static int files_blob_import(struct store *s, struct store *from, const char *from_name, const struct digest *d)
{
    struct store *in = files_in(s);
    return in->ops->blob_import(in, from, from_name, d);
}

static int files_tag_resolve(struct store *s, const char *name, const char *tag, struct digest *out)
{
    struct store *in = files_in(s);
    return in->ops->tag_resolve(in, name, tag, out);
}

static int files_manifest_exists(struct store *s, const char *name, const struct digest *d)
{
    struct store *in = files_in(s);
    return in->ops->manifest_exists(in, name, d);
}

static int files_manifest_get(struct store *s, const char *name, const struct digest *d, struct buf *out)
{
    struct store *in = files_in(s);
    return in->ops->manifest_get(in, name, d, out);
}

static int files_manifest_put(struct store *s, const char *name, const struct digest *d, const char *data,
                              size_t len, char *const *tags, size_t ntags, const struct digest *subject)
{
    struct store *in = files_in(s);
    return in->ops->manifest_put(in, name, d, data, len, tags, ntags, subject);
}

static int files_manifest_delete(struct store *s, const char *name, const struct digest *d,
                                 const struct digest *subject)
{
    struct store *in = files_in(s);
    return in->ops->manifest_delete(in, name, d, subject);
}

static int files_tag_delete(struct store *s, const char *name, const char *tag)
{
    struct store *in = files_in(s);
    return in->ops->tag_delete(in, name, tag);
}

static int files_tags_list(struct store *s, const char *name, char ***tags, size_t *n)
{
    struct store *in = files_in(s);
    return in->ops->tags_list(in, name, tags, n);
}

static int files_referrers(struct store *s, const char *name, const struct digest *subject,
                           struct digest **out, size_t *n)
{
    struct store *in = files_in(s);
    return in->ops->referrers(in, name, subject, out, n);
}

static int files_referrer_subjects(struct store *s, const char *name, char ***subjects, size_t *n)
{
    struct store *in = files_in(s);
    return in->ops->referrer_subjects(in, name, subjects, n);
}

static int files_catalog(struct store *s, char ***names, size_t *n)
{
    struct store *in = files_in(s);
    return in->ops->catalog(in, names, n);
}

static int files_repo_exists(struct store *s, const char *name)
{
    struct store *in = files_in(s);
    return in->ops->repo_exists(in, name);
}

/* The node only: the blob directory is the health endpoint's to check. */
static int files_ping(struct store *s, long timeout_ms, char *version, size_t n)
{
    struct store *in = files_in(s);
    return in->ops->ping ? in->ops->ping(in, timeout_ms, version, n) : STORE_OK;
}

static const char *files_errmsg(struct store *s)
{
    struct store_files *f = files_of(s);
    if (f->own_err)
        return f->err ? f->err : "blob files: no error";
    return f->in->ops->errmsg(f->in);
}

static const struct store_ops files_ops = {
    .blob_stat = files_blob_stat,
    .blob_read = files_blob_read,
    .blob_open = files_blob_open,
    .blob_unlink = files_blob_unlink,
    .blob_mount = files_blob_mount,
    .blob_verify = files_blob_verify,
    .repo_import = files_repo_import,
    .blob_import = files_blob_import,
    .chunk_put = files_chunk_put,
    .chunks_join = files_chunks_join,
    .content_read = files_content_read,
    .blob_commit = files_blob_commit,
    .upload_discard = files_upload_discard,
    .tag_resolve = files_tag_resolve,
    .manifest_exists = files_manifest_exists,
    .manifest_get = files_manifest_get,
    .manifest_put = files_manifest_put,
    .manifest_delete = files_manifest_delete,
    .tag_delete = files_tag_delete,
    .tags_list = files_tags_list,
    .referrers = files_referrers,
    .referrer_subjects = files_referrer_subjects,
    .catalog = files_catalog,
    .repo_exists = files_repo_exists,
    .ping = files_ping,
    .errmsg = files_errmsg,
};

struct store *store_files_new(struct store *inner, struct kubo *k, const char *dir, const char *uploads)
{
    struct store_files *f = xcalloc(1, sizeof *f);
    f->ops = files_ops;
    /* optional operations stay optional (blob_open is ours for files) */
    if (!inner->ops->blob_verify)
        f->ops.blob_verify = NULL;
    if (!inner->ops->repo_import)
        f->ops.repo_import = NULL;
    if (!inner->ops->blob_import)
        f->ops.blob_import = NULL;
    if (!inner->ops->referrer_subjects)
        f->ops.referrer_subjects = NULL;
    f->base.ops = &f->ops;
    f->base.impl = f;
    f->in = inner;
    f->k = k;
    f->uploads = uploads ? xstrdup(uploads) : NULL;
    f->dir = xstrdup(dir);
    return &f->base;
}

void store_files_free(struct store *s)
{
    if (!s)
        return;
    struct store_files *f = files_of(s);
    free(f->dir);
    free(f->uploads);
    free(f->err);
    free(f);
}

/* ---- what a crash or a node that was down left in <dir>/.uploads ---- */

int store_files_recover(struct kubo *k, const char *dir, const char *sessions)
{
    char *updir = xasprintf("%s/" BLOBFILE_UPLOADS, dir);
    DIR *d = opendir(updir);
    int left = 0;
    if (!d) {
        free(updir);
        return 0;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len != 32 + 7 || strcmp(e->d_name + 32, ".target") != 0)
            continue;
        char id[33];
        memcpy(id, e->d_name, 32);
        id[32] = '\0';
        char *staging = xasprintf("%s/%s", updir, id);
        char *target = files_read_target(staging);
        char *session = xasprintf("%s/%s.json", sessions, id);
        size_t taken;
        /* an alias of a session that lives on is left to its next request
         * (commit points it at the blob file; a new first chunk retires
         * it); of a session that is gone, it is retired and --sweep-files's
         * once staging goes below; a content path's entries may be what a
         * crash cut short */
        if (target && blobfile_is_added(dir, target) && access(session, F_OK) == 0) {
            free(session);
            free(target);
            free(staging);
            continue;
        }
        int rc = files_unnote_k(k, dir, staging, &taken);
        if (rc < 0) {
            log_warn("blob files: %s: %s (tried again at the next start)", staging,
                     rc == -1 ? kubo_errmsg(k) : strerror(errno));
            left++;
        }
        free(session);
        free(target);
        free(staging);
    }
    rewinddir(d);
    /* staging files whose session is gone (its discard could not finish) */
    while ((e = readdir(d))) {
        if (strlen(e->d_name) != 32 || strspn(e->d_name, "0123456789abcdef") != 32)
            continue;
        char *session = xasprintf("%s/%s.json", sessions, e->d_name);
        char *staging = xasprintf("%s/%s", updir, e->d_name);
        char *note = files_target_note(staging);
        if (access(session, F_OK) < 0 && errno == ENOENT && access(note, F_OK) < 0 && unlink(staging) == 0)
            log_info("blob files: removed %s, the staging of a session that no longer exists", staging);
        free(note);
        free(staging);
        free(session);
    }
    closedir(d);
    free(updir);
    return left;
}

/* ---- can Kubo reference files in dir? ---- */

static ssize_t files_mem_read(void *arg, char *p, size_t n)
{
    const char **s = arg;
    size_t left = strlen(*s), c = left < n ? left : n;
    memcpy(p, *s, c);
    *s += c;
    return (ssize_t)c;
}

int store_files_probe(struct kubo *k, const char *dir, char **why)
{
    *why = NULL;
    char *path = xasprintf("%s/" BLOBFILE_UPLOADS "/probe-%ld", dir, (long)getpid());
    char *text = xasprintf("oci-registry-p2p filestore probe %ld %ld\n", (long)getpid(), (long)time(NULL));
    int rc = -1, fd = -1;
    if (blobfile_mkparents(path) < 0) {
        *why = xasprintf("blobdir %s: cannot create %s/" BLOBFILE_UPLOADS ": %s", dir, dir, strerror(errno));
        goto out;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || blobfile_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
        *why = xasprintf("blobdir %s: cannot write %s: %s", dir, path, strerror(errno));
        goto out;
    }
    char cid[KUBO_CID_MAX];
    const char *src = text;
    int krc = kubo_add_nocopy(k, path, files_mem_read, &src, cid, NULL);
    if (krc == KUBO_UNAVAILABLE) {
        *why = xasprintf("cannot check blobdir now: %s", kubo_errmsg(k));
        rc = 1;
        goto out;
    }
    if (krc != KUBO_OK) {
        *why = xasprintf("blobdir %s: Kubo cannot reference files there: %s (blob files need "
                         "Experimental.FilestoreEnabled = true and blobdir below the parent directory "
                         "of the node's repository)", dir, kubo_errmsg(k));
        goto out;
    }
    int status;
    krc = kubo_filestore_status(k, cid, &status);
    if (krc != KUBO_OK) {
        *why = xasprintf("blobdir %s: cannot ask Kubo's filestore: %s", dir, kubo_errmsg(k));
        rc = krc == KUBO_UNAVAILABLE ? 1 : -1;
    } else if (status == KUBO_FILESTORE_OK) {
        rc = 0;
    } else if (status == KUBO_FILESTORE_FILE_NOT_FOUND) {
        *why = xasprintf("blobdir %s: Kubo does not see %s (is the node on another host, or in "
                         "another mount namespace?)", dir, path);
    } else {
        *why = xasprintf("blobdir %s: Kubo cannot read %s (filestore status %d: can the node's user "
                         "read blobdir?)", dir, path, status);
    }
    kubo_block_rm(k, cid);
out:
    if (fd >= 0)
        close(fd);
    unlink(path);
    free(text);
    free(path);
    return rc;
}
