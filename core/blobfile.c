/* blobfile: the blob-files layout and its POSIX helpers (see blobfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/blobfile.h"
#include "core/xalloc.h"

char *blobfile_rel(const struct digest *d, char out[BLOBFILE_REL_MAX])
{
    const char *alg = digest_alg_name(d->alg);
    size_t a = strlen(alg), h = strlen(d->hex);

    memcpy(out, alg, a);
    out[a] = '/';
    out[a + 1] = d->hex[0];
    out[a + 2] = d->hex[1];
    out[a + 3] = '/';
    memcpy(out + a + 4, d->hex, h + 1);
    return out;
}

char *blobfile_path(const char *dir, const struct digest *d)
{
    char rel[BLOBFILE_REL_MAX];

    return xasprintf("%s/%s", dir, blobfile_rel(d, rel));
}

char *blobfile_staging(const char *dir, const char *upload_id)
{
    return xasprintf("%s/" BLOBFILE_UPLOADS "/%s", dir, upload_id);
}

int blobfile_parse_rel(const char *rel, struct digest *out)
{
    const char *s1 = strchr(rel, '/');
    char buf[DIGEST_STR_MAX];

    if (!s1 || (size_t)(s1 - rel) > 6)
        return -1;
    const char *s2 = strchr(s1 + 1, '/');
    if (!s2 || s2 != s1 + 3 || strchr(s2 + 1, '/'))
        return -1;
    size_t alen = (size_t)(s1 - rel), hlen = strlen(s2 + 1);
    if (alen + 1 + hlen + 1 > sizeof buf)
        return -1;
    memcpy(buf, rel, alen);
    buf[alen] = ':';
    memcpy(buf + alen + 1, s2 + 1, hlen + 1);
    if (digest_parse(buf, out) != DIGEST_PARSE_OK)
        return -1;
    /* the fan-out directory must be the hex's first two characters */
    return strncmp(s1 + 1, out->hex, 2) == 0 ? 0 : -1;
}

int blobfile_mkparents(const char *path)
{
    char *p = xstrdup(path);
    int rc = 0;

    for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
            rc = -1;
            break;
        }
        *s = '/';
    }
    int e = errno;
    free(p);
    errno = e;
    return rc;
}

int blobfile_sync_parent(const char *path)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');

    if (slash && slash != dir)
        *slash = '\0';
    else if (slash)
        slash[1] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd < 0 ? -1 : fsync(fd);
    int e = errno;
    if (fd >= 0)
        close(fd);
    free(dir);
    errno = e;
    return rc;
}

int blobfile_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}
