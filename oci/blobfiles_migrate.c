/* blobfiles_migrate: blobs Kubo alone holds become blob files (see
 * blobfiles_admin.h). For each blob linked in MFS whose file is missing or
 * not referenced by the node:
 *
 *   1. its bytes stream from the gateway into <blobdir>/.uploads/migrate-<hex>,
 *      hashed on the way; the digest must be the blob's; fsync, rename into
 *      place (a file already in place that hashes right is kept);
 *   2. block/rm of the leaves the file is cut into: boxo's Filestore.Put
 *      skips a block the node already holds, so without this the node
 *      would keep its own copy and the filestore would record nothing;
 *   3. add --nocopy of the file: the filestore now references it;
 *   4. a CID other than the MFS link's (a blob uploaded in several PATCHes
 *      has another DAG shape) replaces the link, under the MFS lock.
 *
 * Resumable: a blob whose file is in place and referenced by the node is
 * skipped; a run killed between 2 and 3 finds the file in place, hashes it
 * and goes on from there (the node may lack leaves by then: the bytes come
 * from the file, never again from Kubo). Safe beside a running registry:
 * only files are added, and links are re-pointed at the same bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/blobfile.h"
#include "core/progress.h"
#include "core/xalloc.h"
#include "ipfs/kubo.h"
#include "oci/blobfiles_admin.h"
#include "oci/paths.h"
#include "oci/store_files.h"

#define MIGRATE_BUF (1024 * 1024)

struct mig_blob {
    struct digest d;
    char cid[KUBO_CID_MAX];
    uint64_t size;
};

struct migrate {
    const struct blobfiles_admin_opts *o;
    struct kubo *k;
    struct progress pr;
    struct mig_blob *blobs;
    size_t n, done;
    uint64_t bytes, total_bytes, moved_bytes;
    uint64_t migrated, already, empty, failed, relinked;
    char *buf;
};

static void mig_progress(struct migrate *m)
{
    if (!progress_due(&m->pr, progress_now_ms()))
        return;
    fprintf(m->o->progress, "migrate: %zu/%zu blobs, %llu/%llu bytes (%llu migrated, %llu already files), %.0f s\n",
            m->done, m->n, (unsigned long long)m->bytes, (unsigned long long)m->total_bytes,
            (unsigned long long)m->migrated, (unsigned long long)m->already,
            progress_seconds(&m->pr, progress_now_ms()));
    fflush(m->o->progress);
}

/* ---- listing MFS: <root>/docker/registry/v2/blobs/<alg>/<xx>/<hex>/data ---- */

static void mig_add_blob(struct migrate *m, const struct digest *d)
{
    char *data = path_blob_data(m->o->mfsroot, d);
    struct kubo_stat st;
    int krc = kubo_files_stat(m->k, data, &st);
    free(data);
    if (krc == KUBO_NOT_FOUND)
        return;   /* a directory without data: nothing to migrate */
    if (krc != KUBO_OK || st.type != KUBO_FILE) {
        char ds[DIGEST_STR_MAX];
        fprintf(m->o->out, "blob %s: %s\n", digest_str(d, ds),
                krc != KUBO_OK ? kubo_errmsg(m->k) : "its data is a directory");
        m->failed++;
        return;
    }
    m->blobs = xrealloc(m->blobs, (m->n + 1) * sizeof *m->blobs);
    struct mig_blob *b = &m->blobs[m->n++];
    b->d = *d;
    memcpy(b->cid, st.cid, sizeof b->cid);
    b->size = st.size;
    m->total_bytes += st.size;
}

static int mig_listed(void *ctx, const struct digest *d)
{
    struct migrate *m = ctx;
    mig_add_blob(m, d);
    mig_progress(m);
    return 0;
}

static int mig_list(struct migrate *m)
{
    int krc = blobfiles_mfs_walk(m->k, m->o->mfsroot, mig_listed, m);
    if (krc != KUBO_OK)
        fprintf(m->o->progress, "migrate: listing blobs: %s\n", kubo_errmsg(m->k));
    return krc;
}

/* ---- one blob ---- */

static int mig_fail(struct migrate *m, const struct mig_blob *b, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "blob <digest>: <what was being done>: <cause>" on out; counts a failure. */
static int mig_fail(struct migrate *m, const struct mig_blob *b, const char *fmt, ...)
{
    char ds[DIGEST_STR_MAX];
    va_list ap;
    fprintf(m->o->out, "blob %s: ", digest_str(&b->d, ds));
    va_start(ap, fmt);
    vfprintf(m->o->out, fmt, ap);
    va_end(ap);
    fputc('\n', m->o->out);
    fflush(m->o->out);
    m->failed++;
    return -1;
}

/* Hashes the file at path; 1 when it is blob b's bytes, 0 when not, -1 on error. */
static int mig_file_is(struct migrate *m, const struct mig_blob *b, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct hasher h;
    hasher_init(&h, b->d.alg);
    uint64_t n = 0;
    ssize_t r;
    while ((r = read(fd, m->buf, MIGRATE_BUF)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            close(fd);
            return -1;
        }
        hasher_update(&h, m->buf, (size_t)r);
        n += (uint64_t)r;
    }
    close(fd);
    struct digest got;
    hasher_final(&h, &got);
    return n == b->size && digest_equal(&got, &b->d) ? 1 : 0;
}

struct mig_sink {
    struct migrate *m;
    int fd;
    struct hasher h;
    uint64_t n;
    int err;          /* errno of a failed write */
};

static int mig_sink_write(void *ctx, const char *p, size_t n)
{
    struct mig_sink *s = ctx;
    if (blobfile_write_all(s->fd, p, n) < 0) {
        s->err = errno;
        return -1;
    }
    hasher_update(&s->h, p, n);
    s->n += n;
    s->m->bytes += n;
    mig_progress(s->m);
    return 0;
}

/* Streams blob b from the gateway into its file at path (through a
 * staging file, fsync, rename). 0, or -1 reported. */
static int mig_fetch(struct migrate *m, const struct mig_blob *b, const char *path)
{
    char *id = xasprintf("migrate-%s", b->d.hex);
    char *tmp = blobfile_staging(m->o->blobdir, id);
    free(id);
    int rc = -1;
    struct mig_sink s = { .m = m, .fd = -1 };
    if (blobfile_mkparents(tmp) < 0 ||
        (s.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        mig_fail(m, b, "create %s: %s", tmp, strerror(errno));
        goto out;
    }
    hasher_init(&s.h, b->d.alg);
    int krc = kubo_gateway_get(m->k, b->cid, 0, 0, mig_sink_write, &s);
    struct digest got;
    hasher_final(&s.h, &got);
    char gs[DIGEST_STR_MAX];
    if (s.err) {
        mig_fail(m, b, "write %s: %s", tmp, strerror(s.err));
    } else if (krc != KUBO_OK) {
        mig_fail(m, b, "read its bytes from Kubo (%s): %s", b->cid, kubo_errmsg(m->k));
    } else if (s.n != b->size || !digest_equal(&got, &b->d)) {
        char *why = xasprintf("%llu bytes that hash to %s", (unsigned long long)s.n, digest_str(&got, gs));
        mig_fail(m, b, "Kubo's bytes (%s) are not the blob's: %s", b->cid, why);
        free(why);
    } else if (fsync(s.fd) < 0 || blobfile_mkparents(path) < 0 || rename(tmp, path) < 0 ||
               blobfile_sync_parent(path) < 0) {
        mig_fail(m, b, "put the file in place at %s: %s", path, strerror(errno));
    } else {
        rc = 0;
    }
out:
    if (s.fd >= 0)
        close(s.fd);
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

struct mig_src {
    struct migrate *m;
    int fd;
};

/* The file's bytes for add --nocopy; progress lines go on meanwhile. */
static ssize_t mig_file_read(void *ctx, char *p, size_t n)
{
    struct mig_src *s = ctx;
    ssize_t r;
    while ((r = read(s->fd, p, n)) < 0 && errno == EINTR)
        ;
    mig_progress(s->m);
    return r;
}

/* Steps 2-4 on the file at path, which holds blob b's bytes. 0, or -1 reported. */
static int mig_reference(struct migrate *m, const struct mig_blob *b, const char *path)
{
    int krc = kubo_leaves_rm(m->k, path, NULL);
    if (krc != KUBO_OK)
        return mig_fail(m, b, "remove the node's copies of its leaves (%s): %s", path, kubo_errmsg(m->k));
    struct mig_src src = { .m = m, .fd = open(path, O_RDONLY | O_CLOEXEC) };
    if (src.fd < 0)
        return mig_fail(m, b, "open %s: %s", path, strerror(errno));
    char cid[KUBO_CID_MAX];
    uint64_t n = 0;
    krc = kubo_add_nocopy(m->k, path, mig_file_read, &src, cid, &n);
    close(src.fd);
    if (krc != KUBO_OK)
        return mig_fail(m, b, "add --nocopy %s: %s", path, kubo_errmsg(m->k));
    if (strcmp(cid, b->cid) == 0)
        return 0;
    char *ipfs = xasprintf("/ipfs/%s", cid);
    char *data = path_blob_data(m->o->mfsroot, &b->d);
    krc = kubo_files_replace(m->k, ipfs, data);
    free(ipfs);
    if (krc != KUBO_OK) {
        mig_fail(m, b, "link %s to the file's CID: %s", data, kubo_errmsg(m->k));
        free(data);
        return -1;
    }
    char ds[DIGEST_STR_MAX];
    fprintf(m->o->out, "blob %s: %s now links %s (was %s, another DAG shape of the same bytes); "
            "the MFS root changed with it\n", digest_str(&b->d, ds), data, cid, b->cid);
    fflush(m->o->out);
    free(data);
    m->relinked++;
    return 0;
}

static void mig_one(struct migrate *m, const struct mig_blob *b)
{
    if (b->size == 0) {
        m->empty++;   /* never a file (store_files.h): nothing to send */
        return;
    }
    char *path = blobfile_path(m->o->blobdir, &b->d);
    struct stat sb;
    int have = 0;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == b->size) {
        char *owner = NULL;
        if (kubo_filestore_file_of(m->k, b->cid, &owner) == KUBO_OK && kubo_filestore_path_is(owner, path)) {
            free(owner);
            free(path);
            m->already++;
            m->bytes += b->size;
            return;
        }
        free(owner);
        /* in place but not referenced (a run stopped half way): keep it if right */
        have = mig_file_is(m, b, path) == 1;
    }
    uint64_t before = m->bytes;
    if ((have || mig_fetch(m, b, path) == 0) && mig_reference(m, b, path) == 0) {
        m->migrated++;
        m->moved_bytes += b->size;
    }
    m->bytes = before + b->size;
    free(path);
}

/* ---- the command ---- */

static int mig_setup(struct migrate *m)
{
    const struct blobfiles_admin_opts *o = m->o;
    char *err = NULL;
    if (!o->blobdir) {
        fprintf(o->progress, "migrate: blobdir is not set in the configuration: nowhere to put blob files\n");
        return -1;
    }
    m->k = kubo_new(o->api, o->gateway, &err);
    if (!m->k) {
        fprintf(o->progress, "migrate: Kubo client: %s\n", err);
        free(err);
        return -1;
    }
    char *lock = xasprintf("%s/mfs.lock", o->statedir);
    int rc = kubo_set_mfs_lock(m->k, lock);
    free(lock);
    if (rc < 0) {
        fprintf(o->progress, "migrate: %s\n", kubo_errmsg(m->k));
        return -1;
    }
    char *why = NULL;
    rc = store_files_probe(m->k, o->blobdir, &why);
    if (rc != 0) {
        fprintf(o->progress, "migrate: blob files in %s: %s\n", o->blobdir, why ? why : "cannot be used");
        free(why);
        return -1;
    }
    return 0;
}

int blobfiles_migrate(const struct blobfiles_admin_opts *o)
{
    struct migrate m = { .o = o };
    progress_init(&m.pr, progress_now_ms());
    if (mig_setup(&m) < 0 || mig_list(&m) != KUBO_OK) {
        kubo_free(m.k);
        free(m.blobs);
        return BLOBFILES_SETUP;
    }
    fprintf(o->progress, "migrate: %zu blobs, %llu bytes, in %s\n", m.n, (unsigned long long)m.total_bytes,
            o->mfsroot);
    m.buf = xmalloc(MIGRATE_BUF);
    for (m.done = 0; m.done < m.n; m.done++) {
        mig_one(&m, &m.blobs[m.done]);
        mig_progress(&m);
    }
    free(m.buf);
    fprintf(o->out, "migrate: %llu migrated (%llu bytes), %llu already files, %llu empty, %llu failed, "
            "%llu bytes in all, %.1f s\n",
            (unsigned long long)m.migrated, (unsigned long long)m.moved_bytes, (unsigned long long)m.already,
            (unsigned long long)m.empty, (unsigned long long)m.failed, (unsigned long long)m.total_bytes,
            progress_seconds(&m.pr, progress_now_ms()));
    if (m.relinked)
        fprintf(o->out, "migrate: %llu blob links changed, so the MFS root did: a running registry publishes "
                "it with its next change, a stopped one when it starts\n", (unsigned long long)m.relinked);
    kubo_free(m.k);
    free(m.blobs);
    return m.failed ? BLOBFILES_SOME_BAD : BLOBFILES_ALL_GOOD;
}
