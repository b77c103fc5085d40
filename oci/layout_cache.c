/* layout_cache: a direct-mapped table of files (see layout_cache.h).
 *
 * Slot file format: "<key>\n<expires>\n<len>\n" then len value bytes. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "oci/layout_cache.h"
#include "core/digest.h"
#include "core/log.h"
#include "core/xalloc.h"

/* Keys are paths and digests; the header line must stay small. */
#define LAYOUT_CACHE_KEY_MAX 2048
#define LAYOUT_CACHE_HEAD_MAX (LAYOUT_CACHE_KEY_MAX + 64)

struct layout_cache {
    char *dir;
    int dir_ready;
    unsigned long hits, misses;
};

struct layout_cache *layout_cache_new(const char *dir)
{
    struct layout_cache *c = xcalloc(1, sizeof *c);
    c->dir = dir ? xstrdup(dir) : NULL;
    return c;
}

void layout_cache_free(struct layout_cache *c)
{
    if (!c)
        return;
    free(c->dir);
    free(c);
}

unsigned long layout_cache_hits(const struct layout_cache *c)
{
    return c->hits;
}

unsigned long layout_cache_misses(const struct layout_cache *c)
{
    return c->misses;
}

static char *layout_cache_slot(const struct layout_cache *c, const char *key)
{
    struct digest d;
    digest_of(DIGEST_SHA256, key, strlen(key), &d);
    unsigned long v = strtoul((char[]){ d.hex[0], d.hex[1], d.hex[2], d.hex[3], '\0' }, NULL, 16);
    return xasprintf("%s/%04lu", c->dir, v % LAYOUT_CACHE_SLOTS);
}

/* mkdir -p of c->dir, once per process. */
static int layout_cache_mkdir(struct layout_cache *c)
{
    if (c->dir_ready)
        return 0;
    char *p = xstrdup(c->dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
            break;
        *s = '/';
    }
    int rc = mkdir(p, 0700) < 0 && errno != EEXIST ? -1 : 0;
    if (rc < 0)
        log_warn("layout cache: mkdir %s: %s (caching off)", p, strerror(errno));
    free(p);
    c->dir_ready = rc == 0;
    return rc;
}

/* Parses the 3-line head at the start of b; 0 and the value offset, length and expiry, else -1. */
static int layout_cache_head(const char *b, size_t n, const char *key, size_t *off,
                             uint64_t *len, time_t *expires)
{
    size_t klen = strlen(key);
    if (n < klen + 1 || memcmp(b, key, klen) != 0 || b[klen] != '\n')
        return -1;
    const char *p = b + klen + 1, *end = b + n;
    char *q;
    errno = 0;
    long long e = strtoll(p, &q, 10);
    if (errno || q >= end || *q != '\n')
        return -1;
    p = q + 1;
    unsigned long long l = strtoull(p, &q, 10);
    if (errno || q >= end || *q != '\n' || l > LAYOUT_CACHE_VALUE_MAX)
        return -1;
    *expires = (time_t)e;
    *len = l;
    *off = (size_t)(q + 1 - b);
    return 0;
}

int layout_cache_get(struct layout_cache *c, const char *key, struct buf *out)
{
    if (!c->dir || strlen(key) > LAYOUT_CACHE_KEY_MAX || strchr(key, '\n'))
        return 0;
    char *slot = layout_cache_slot(c, key);
    int fd = open(slot, O_RDONLY | O_CLOEXEC);
    free(slot);
    if (fd < 0) {
        c->misses++;
        return 0;
    }
    size_t cap = LAYOUT_CACHE_HEAD_MAX + LAYOUT_CACHE_VALUE_MAX, n = 0;
    char *b = xmalloc(cap);
    while (n < cap) {
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    size_t off;
    uint64_t len;
    time_t expires;
    int hit = layout_cache_head(b, n, key, &off, &len, &expires) == 0 && n - off == len &&
              (expires == 0 || expires > time(NULL)) && buf_append(out, b + off, (size_t)len) == 0;
    free(b);
    if (hit)
        c->hits++;
    else
        c->misses++;
    return hit;
}

static int layout_cache_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

void layout_cache_put(struct layout_cache *c, const char *key, const void *value, size_t len,
                      time_t expires)
{
    if (!c->dir || len > LAYOUT_CACHE_VALUE_MAX || strlen(key) > LAYOUT_CACHE_KEY_MAX ||
        strchr(key, '\n') || layout_cache_mkdir(c) < 0)
        return;
    char *slot = layout_cache_slot(c, key);
    char *tmp = xasprintf("%s.%ld.tmp", slot, (long)getpid());
    char *head = xasprintf("%s\n%lld\n%zu\n", key, (long long)expires, len);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0 && layout_cache_write_all(fd, head, strlen(head)) == 0 &&
             layout_cache_write_all(fd, value, len) == 0;
    if (fd >= 0 && close(fd) < 0)
        ok = 0;
    if (ok && rename(tmp, slot) == 0) {
        /* done */
    } else {
        log_warn("layout cache: write %s: %s", slot, strerror(errno));
        unlink(tmp);
    }
    free(head);
    free(tmp);
    free(slot);
}
