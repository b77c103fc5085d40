/* slots: n lock files, one flock()ed per holder (see slots.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/slots.h"
#include "core/xalloc.h"

void slots_init(struct slots *s, const char *dir, unsigned n)
{
    s->dir = xstrdup(dir);
    s->n = n;
    s->fds = NULL;
    s->held = -1;
}

static void slots_close(struct slots *s)
{
    if (s->fds) {
        for (unsigned i = 0; i < s->n; i++)
            if (s->fds[i] >= 0)
                close(s->fds[i]);   /* also drops a held lock */
        free(s->fds);
        s->fds = NULL;
    }
    s->held = -1;
}

void slots_free(struct slots *s)
{
    slots_close(s);
    free(s->dir);
    s->dir = NULL;
}

/* Opens every slot file once; they stay open, so a take costs one flock()
 * per busy slot and no open(). 0, or -1 with errno (nothing left open). */
static int slots_open(struct slots *s)
{
    if (s->fds)
        return 0;
    if (mkdir(s->dir, 0700) < 0 && errno != EEXIST)
        return -1;
    s->fds = xcalloc(s->n, sizeof *s->fds);
    for (unsigned i = 0; i < s->n; i++)
        s->fds[i] = -1;
    for (unsigned i = 0; i < s->n; i++) {
        char *path = xasprintf("%s/%u", s->dir, i);
        s->fds[i] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        free(path);
        if (s->fds[i] < 0) {
            int e = errno;
            slots_close(s);
            errno = e;
            return -1;
        }
    }
    return 0;
}

/* Records who holds slot i (read by slots_holders); best effort. */
static void slots_sign(int fd)
{
    char pid[24];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (len > 0 && pwrite(fd, pid, (size_t)len, 0) == len)
        (void)ftruncate(fd, len);
}

int slots_take(struct slots *s)
{
    if (s->held >= 0)
        return SLOTS_TAKEN;
    if (slots_open(s) < 0)
        return SLOTS_ERROR;
    /* twice round: a file free but probed by slots_holders at that very
     * moment refuses an exclusive lock for a few microseconds */
    for (unsigned pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < s->n; i++) {
            int r;
            do
                r = flock(s->fds[i], LOCK_EX | LOCK_NB);
            while (r < 0 && errno == EINTR);
            if (r == 0) {
                s->held = (int)i;
                slots_sign(s->fds[i]);
                return SLOTS_TAKEN;
            }
            if (errno != EWOULDBLOCK)
                return SLOTS_ERROR;
        }
    }
    return SLOTS_FULL;
}

void slots_release(struct slots *s)
{
    if (s->held < 0)
        return;
    /* It cannot fail on a descriptor held open; if it did, closing drops
     * the lock all the same (the files are reopened on the next take). */
    if (flock(s->fds[s->held], LOCK_UN) < 0)
        slots_close(s);
    s->held = -1;
}

unsigned slots_holders(const char *dir, unsigned n, int *pids)
{
    unsigned held = 0;
    for (unsigned i = 0; i < n; i++) {
        char *path = xasprintf("%s/%u", dir, i);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        free(path);
        if (fd < 0)
            continue;   /* never made: never taken */
        int r;
        do
            r = flock(fd, LOCK_SH | LOCK_NB);
        while (r < 0 && errno == EINTR);
        if (r == 0) {
            close(fd);   /* free (closing drops the probe's lock) */
            continue;
        }
        if (errno == EWOULDBLOCK) {
            char buf[24];
            ssize_t got = pread(fd, buf, sizeof buf - 1, 0);
            long pid = 0;
            if (got > 0) {
                buf[got] = '\0';
                pid = strtol(buf, NULL, 10);
            }
            if (pids)
                pids[held] = (int)pid;
            held++;
        }
        close(fd);
    }
    return held;
}
