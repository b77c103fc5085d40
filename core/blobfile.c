/* blobfile: the blob-files layout and its POSIX helpers (see blobfile.h). */
#include <errno.h>
#include <stdio.h>
#include <time.h>
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

char *blobfile_added(const char *dir, const char *upload_id)
{
    return xasprintf("%s/" BLOBFILE_ADDED "/%s", dir, upload_id);
}

int blobfile_is_added(const char *dir, const char *path)
{
    char *prefix = blobfile_added(dir, "");
    size_t n = strlen(prefix);
    int is = strncmp(path, prefix, n) == 0 && path[n] && !strchr(path + n, '/');
    free(prefix);
    return is;
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

void blobfile_flush_behind(int fd, off_t *started, off_t now)
{
    if (now - *started < BLOBFILE_FLUSH_STEP)
        return;
#ifdef __linux__
    (void)sync_file_range(fd, *started, now - *started, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd;
#endif
    *started = now;
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

static char *blobfile_damage_path(const char *dir)
{
    return xasprintf("%s/.damaged", dir);
}

int blobfile_damage_note(const char *dir, const char *path, uint64_t size, const char *problem)
{
    char *final = blobfile_damage_path(dir);
    char *tmp = xasprintf("%s.%ld", final, (long)getpid());
    int rc = -1;
    FILE *f = fopen(tmp, "w");
    if (f) {
        /* tabs and newlines would break the record: paths here never have them */
        fprintf(f, "%lld\t%llu\t%s\t%s\n", (long long)time(NULL), (unsigned long long)size, path, problem);
        rc = fclose(f) == 0 ? rename(tmp, final) : -1;
    }
    int e = errno;
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    free(final);
    errno = e;
    return rc;
}

int blobfile_damage_read(const char *dir, struct blobfile_damage *out)
{
    char *path = blobfile_damage_path(dir);
    FILE *f = fopen(path, "r");
    char line[4096 + 512];
    int rc = 0;
    if (f && fgets(line, sizeof line, f)) {
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL, *t3 = t2 ? strchr(t2 + 1, '\t') : NULL;
        if (t3) {
            *t1 = *t2 = *t3 = '\0';
            line[strcspn(line, "\n")] = '\0';
            t3[1 + strcspn(t3 + 1, "\n")] = '\0';
            out->at = strtoll(line, NULL, 10);
            out->size = strtoull(t1 + 1, NULL, 10);
            snprintf(out->path, sizeof out->path, "%s", t2 + 1);
            snprintf(out->problem, sizeof out->problem, "%s", t3 + 1);
            struct stat sb;
            rc = stat(out->path, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == out->size ? 0 : 1;
        }
    }
    if (f)
        fclose(f);
    if (f && rc == 0)
        unlink(path);   /* repaired (or unreadable): nothing to report */
    free(path);
    return rc;
}
