/* blobfiles_verify: every blob file hashed against its name (see
 * blobfiles_admin.h). Read only, streaming: one buffer, whatever the size. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/digest.h"
#include "core/progress.h"
#include "core/xalloc.h"
#include "oci/blobfiles_admin.h"

#define VERIFY_BUF (1024 * 1024)

struct verify {
    const struct blobfiles_admin_opts *o;
    struct progress pr;
    uint64_t files, total_files;
    uint64_t bytes, total_bytes;
    uint64_t bad;
    char *buf;
};

static int verify_count(void *ctx, const char *path, const struct digest *d)
{
    struct verify *v = ctx;
    struct stat sb;
    (void)d;
    v->total_files++;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
        v->total_bytes += (uint64_t)sb.st_size;
    return 0;
}

static void verify_progress(struct verify *v)
{
    if (!progress_due(&v->pr, progress_now_ms()))
        return;
    fprintf(v->o->progress, "verify: %llu/%llu files, %llu/%llu bytes, %.0f s\n",
            (unsigned long long)v->files, (unsigned long long)v->total_files,
            (unsigned long long)v->bytes, (unsigned long long)v->total_bytes,
            progress_seconds(&v->pr, progress_now_ms()));
    fflush(v->o->progress);
}

/* Hashes path; the digest into *got. 0, or -1 with errno. */
static int verify_hash(struct verify *v, const char *path, enum digest_alg alg, struct digest *got)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct hasher h;
    hasher_init(&h, alg);
    for (;;) {
        ssize_t r = read(fd, v->buf, VERIFY_BUF);
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
        hasher_update(&h, v->buf, (size_t)r);
        v->bytes += (uint64_t)r;
        verify_progress(v);
    }
    close(fd);
    hasher_final(&h, got);
    return 0;
}

static int verify_one(void *ctx, const char *path, const struct digest *d)
{
    struct verify *v = ctx;
    struct digest got;
    char ds[DIGEST_STR_MAX];
    struct stat sb;
    if (lstat(path, &sb) < 0) {
        fprintf(v->o->out, "%s: %s\n", path, strerror(errno));
        v->bad++;
    } else if (!S_ISREG(sb.st_mode)) {
        fprintf(v->o->out, "%s: not a regular file\n", path);
        v->bad++;
    } else if (verify_hash(v, path, d->alg, &got) < 0) {
        fprintf(v->o->out, "%s: cannot be read: %s\n", path, strerror(errno));
        v->bad++;
    } else if (!digest_equal(&got, d)) {
        fprintf(v->o->out, "%s: content hashes to %s (size %lld)\n", path, digest_str(&got, ds),
                (long long)sb.st_size);
        v->bad++;
    }
    v->files++;
    verify_progress(v);
    return 0;
}

int blobfiles_verify(const struct blobfiles_admin_opts *o)
{
    if (!o->blobdir) {
        fprintf(o->progress, "verify: blobdir is not set in the configuration: no blob files to verify\n");
        return BLOBFILES_SETUP;
    }
    struct verify v = { .o = o };
    char *where = NULL;
    progress_init(&v.pr, progress_now_ms());
    if (blobfiles_walk(o->blobdir, verify_count, &v, &where) < 0) {
        fprintf(o->progress, "verify: listing blob files: %s: %s\n", where, strerror(errno));
        free(where);
        return BLOBFILES_SETUP;
    }
    v.buf = xmalloc(VERIFY_BUF);
    int rc = blobfiles_walk(o->blobdir, verify_one, &v, &where);
    free(v.buf);
    if (rc < 0) {
        fprintf(o->progress, "verify: listing blob files: %s: %s\n", where, strerror(errno));
        free(where);
        return BLOBFILES_SETUP;
    }
    fprintf(o->out, "verify: %llu files, %llu bytes, %llu bad, %.1f s\n", (unsigned long long)v.files,
            (unsigned long long)v.bytes, (unsigned long long)v.bad, progress_seconds(&v.pr, progress_now_ms()));
    return v.bad ? BLOBFILES_SOME_BAD : BLOBFILES_ALL_GOOD;
}
