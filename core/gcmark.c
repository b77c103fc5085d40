/* gcmark: touched markers, per-digest locks and the epoch (see gcmark.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/gcmark.h"
#include "core/lockfile.h"
#include "core/xalloc.h"

/* An epoch file beyond this is started again by the next collection. */
#define GCMARK_EPOCH_TRIM (1L << 20)

/* <statedir>/gc/<sub>, made (with gc/) if missing; caller frees. */
static char *gcmark_dir(const char *statedir, const char *sub)
{
    char *gc = xasprintf("%s/gc", statedir);
    (void)mkdir(gc, 0700);
    char *dir = xasprintf("%s/%s", gc, sub);
    (void)mkdir(dir, 0700);
    free(gc);
    return dir;
}

static char *gcmark_marker(const char *statedir, const struct digest *d)
{
    char *dir = gcmark_dir(statedir, "touched");
    char *f = xasprintf("%s/%s-%s", dir, digest_alg_name(d->alg), d->hex);
    free(dir);
    return f;
}

int gcmark_lock(const char *statedir, const struct digest *d)
{
    char *dir = gcmark_dir(statedir, "locks");
    char *f = xasprintf("%s/%.2s.lock", dir, d->hex);
    free(dir);
    int fd = lockfile_take(f, 1);
    int e = errno;
    free(f);
    errno = e;
    return fd;
}

void gcmark_unlock(int fd)
{
    if (fd >= 0)
        close(fd);   /* releases the flock */
}

int gcmark_touch(const char *statedir, const struct digest *d)
{
    int lk = gcmark_lock(statedir, d);
    if (lk < 0)
        return -1;
    char *f = gcmark_marker(statedir, d);
    int fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    int rc = -1, e = 0;
    if (fd >= 0) {
        rc = futimens(fd, NULL);   /* now, also for a marker that existed */
        e = errno;
        close(fd);
    } else {
        e = errno;
    }
    free(f);
    gcmark_unlock(lk);
    errno = e;
    return rc;
}

int gcmark_young(const char *statedir, const struct digest *d, time_t grace, time_t now)
{
    char *f = gcmark_marker(statedir, d);
    struct stat st;
    int rc = stat(f, &st);
    int e = errno;
    free(f);
    if (rc < 0)
        return e == ENOENT ? 0 : 1;
    return st.st_mtime > now - grace;
}

unsigned long gcmark_prune(const char *statedir, time_t grace, time_t now)
{
    char *dir = gcmark_dir(statedir, "touched");
    DIR *dh = opendir(dir);
    unsigned long n = 0;
    struct dirent *e;
    while (dh && (e = readdir(dh))) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        if (fstatat(dirfd(dh), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mtime <= now - grace &&
            unlinkat(dirfd(dh), e->d_name, 0) == 0)
            n++;
    }
    if (dh)
        closedir(dh);
    free(dir);
    return n;
}

char *gcmark_epoch_path(const char *statedir)
{
    return xasprintf("%s/gc/epoch", statedir);
}

int gcmark_epoch_bump(const char *statedir)
{
    free(gcmark_dir(statedir, "locks"));   /* makes gc/ */
    char *f = gcmark_epoch_path(statedir);
    int fd = open(f, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    free(f);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, "+", 1);
    int e = errno;
    close(fd);
    errno = e;
    return w == 1 ? 0 : -1;
}

void gcmark_epoch_trim(const char *statedir)
{
    char *f = gcmark_epoch_path(statedir);
    if (gcmark_epoch_read(f) > GCMARK_EPOCH_TRIM) {
        /* a new file one byte long: a size no reader has seen recently */
        int fd = open(f, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd >= 0) {
            if (write(fd, "+", 1) != 1) {
                /* the size is still a change readers notice */
            }
            close(fd);
        }
    }
    free(f);
}

long long gcmark_epoch_read(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}
