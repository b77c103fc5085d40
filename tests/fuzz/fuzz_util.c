/* fuzz_util: the helpers every fuzz target shares (see fuzz.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/fuzz/fuzz.h"
#include "core/log.h"
#include "core/xalloc.h"

void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: invariant does not hold: %s\n", file, line, what);
    abort();
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
    return xstrndup((const char *)data, size);
}

char *fuzz_line(struct fuzz_in *in)
{
    if (in->n == 0)
        return NULL;
    size_t len;
    const uint8_t *p = fuzz_until(in, "\n", &len);
    return xstrndup((const char *)p, len);
}

const uint8_t *fuzz_until(struct fuzz_in *in, const char *sep, size_t *len)
{
    const uint8_t *start = in->p;
    size_t slen = strlen(sep);
    const uint8_t *hit = slen ? memmem(in->p, in->n, sep, slen) : NULL;
    if (!hit) {
        *len = in->n;
        in->p += in->n;
        in->n = 0;
        return start;
    }
    *len = (size_t)(hit - start);
    in->n -= *len + slen;
    in->p = hit + slen;
    return start;
}

static char *fuzz_dir;

static int fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (ftw->level > 0)
        remove(path);
    return 0;
}

void fuzz_empty_dir(const char *dir)
{
    nftw(dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void fuzz_tmpdir_remove(void)
{
    if (fuzz_dir) {
        fuzz_empty_dir(fuzz_dir);
        rmdir(fuzz_dir);
        free(fuzz_dir);
        fuzz_dir = NULL;
    }
}

const char *fuzz_tmpdir(void)
{
    if (!fuzz_dir) {
        const char *t = getenv("TMPDIR");
        fuzz_dir = xasprintf("%s/oci-p2p-fuzz.XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(fuzz_dir)) {
            fprintf(stderr, "fuzz: mkdtemp %s: %s\n", fuzz_dir, strerror(errno));
            abort();
        }
        atexit(fuzz_tmpdir_remove);
    }
    return fuzz_dir;
}

char *fuzz_write_file(const char *name, const void *data, size_t size)
{
    char *path = xasprintf("%s/%s", fuzz_tmpdir(), name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const char *p = data;
    while (fd >= 0 && size > 0) {
        ssize_t w = write(fd, p, size);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        p += w;
        size -= (size_t)w;
    }
    if (fd < 0 || size > 0 || close(fd) < 0) {
        fprintf(stderr, "fuzz: writing %s: %s\n", path, strerror(errno));
        abort();
    }
    return path;
}

void fuzz_setup(void)
{
    extern char **environ;
    /* conf/ reads REGISTRY_* overrides (distribution's names) */
    for (size_t i = 0; environ[i];) {
        const char *eq = strchr(environ[i], '=');
        if (strncmp(environ[i], "REGISTRY_", 9) == 0 && eq) {
            char *name = xstrndup(environ[i], (size_t)(eq - environ[i]));
            unsetenv(name);   /* shifts environ: look at index i again */
            free(name);
        } else {
            i++;
        }
    }
    log_set_level(LOG_LVL_ERROR);
}
