/* tar: see tar.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/xalloc.h"
#include "ipfs/tar.h"

/* PAX extended headers and GNU long names are collected whole: a path
 * record is far below this. */
#define TAR_META_MAX (64 * 1024)

void tar_init(struct tar_reader *t, tar_file_cb cb, void *ctx)
{
    memset(t, 0, sizeof *t);
    t->cb = cb;
    t->ctx = ctx;
}

void tar_free(struct tar_reader *t)
{
    free(t->data);
    t->data = NULL;
}

int tar_complete(const struct tar_reader *t)
{
    return t->done && !t->failed;
}

static int tar_fail(struct tar_reader *t)
{
    t->failed = 1;
    return -1;
}

/* An octal field (NUL- or space-terminated, leading spaces allowed). */
static int tar_octal(const unsigned char *f, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    while (i < n && f[i] == ' ')
        i++;
    size_t start = i;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v > (UINT64_MAX >> 3))
            return -1;
        v = (v << 3) | (uint64_t)(f[i] - '0');
    }
    if (i == start || (i < n && f[i] != '\0' && f[i] != ' '))
        return -1;
    *out = v;
    return 0;
}

/* The header's checksum: the sum of its bytes with the checksum field as spaces. */
static int tar_checksum_ok(const unsigned char *h)
{
    uint64_t want;
    if (tar_octal(h + 148, 8, &want) < 0)
        return 0;
    uint64_t sum = 0;
    for (size_t i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return sum == want;
}

/* The "path=" record of a PAX extended header ("<len> path=<value>\n"...). */
static void tar_pax_path(struct tar_reader *t)
{
    size_t i = 0;
    while (i < t->ndata) {
        char *sp = memchr(t->data + i, ' ', t->ndata - i);
        if (!sp)
            return;
        size_t len = (size_t)strtoul(t->data + i, NULL, 10);
        if (len == 0 || i + len > t->ndata)
            return;
        const char *kv = sp + 1;
        size_t kvlen = (size_t)(t->data + i + len - kv);
        if (kvlen > 6 && strncmp(kv, "path=", 5) == 0) {
            size_t vlen = kvlen - 5 - (kv[kvlen - 1] == '\n');
            if (vlen < sizeof t->next_name) {
                memcpy(t->next_name, kv + 5, vlen);
                t->next_name[vlen] = '\0';
            }
        }
        i += len;
    }
}

/* A complete header in t->hdr: sets up the entry. */
static int tar_header(struct tar_reader *t)
{
    const unsigned char *h = t->hdr;
    int zero = 1;
    for (size_t i = 0; i < 512 && zero; i++)
        zero = h[i] == 0;
    if (zero) {
        if (++t->zero_blocks == 2)
            t->done = 1;
        return 0;
    }
    if (t->zero_blocks)
        return tar_fail(t);   /* a lone zero block inside the archive */
    if (!tar_checksum_ok(h) || tar_octal(h + 124, 12, &t->left) < 0)
        return tar_fail(t);
    t->pad = (512 - t->left % 512) % 512;
    t->type = h[156] ? (char)h[156] : '0';   /* '\0': a regular file, pre-POSIX */
    if (t->next_name[0]) {
        memcpy(t->name, t->next_name, sizeof t->name);
        t->next_name[0] = '\0';
    } else {
        char prefix[156] = "", base[101];
        if (memcmp(h + 257, "ustar", 5) == 0)
            memcpy(prefix, h + 345, 155);
        memcpy(base, h, 100);
        base[100] = '\0';
        snprintf(t->name, sizeof t->name, "%s%s%s", prefix, prefix[0] ? "/" : "", base);
    }
    t->ndata = 0;
    t->collect = t->type == 'x' || t->type == 'L' || (t->type == '0' && t->left <= TAR_DATA_MAX);
    if ((t->type == 'x' || t->type == 'L') && t->left > TAR_META_MAX)
        return tar_fail(t);
    if (t->collect && t->left + 1 > t->data_cap) {
        t->data_cap = (size_t)t->left + 1;
        t->data = xrealloc(t->data, t->data_cap);
    }
    return 0;
}

/* The current entry's data is complete (t->left reached 0). */
static int tar_entry_done(struct tar_reader *t)
{
    if (t->type == 'x') {
        tar_pax_path(t);
    } else if (t->type == 'L') {
        size_t n = t->ndata;
        while (n && t->data[n - 1] == '\0')
            n--;
        if (n >= sizeof t->next_name)
            return tar_fail(t);
        memcpy(t->next_name, t->data, n);
        t->next_name[n] = '\0';
    } else if (t->type == '0') {
        if (t->collect)
            t->data[t->ndata] = '\0';
        if (t->cb(t->name, t->collect ? t->data : NULL, t->collect ? t->ndata : 0, t->ctx) != 0) {
            t->stopped = 1;
            return -1;
        }
    }
    t->type = 0;
    return 0;
}

int tar_feed(struct tar_reader *t, const char *p, size_t n)
{
    if (t->failed || t->stopped)
        return -1;
    while (n > 0 && !t->done) {
        if (t->left > 0) {
            size_t k = n < t->left ? n : (size_t)t->left;
            if (t->collect) {
                memcpy(t->data + t->ndata, p, k);
                t->ndata += k;
            }
            p += k;
            n -= k;
            t->left -= k;
            if (t->left == 0 && tar_entry_done(t) < 0)
                return -1;
            continue;
        }
        if (t->pad > 0) {
            size_t k = n < t->pad ? n : (size_t)t->pad;
            p += k;
            n -= k;
            t->pad -= k;
            continue;
        }
        size_t k = 512 - t->nhdr;
        if (k > n)
            k = n;
        memcpy(t->hdr + t->nhdr, p, k);
        t->nhdr += k;
        p += k;
        n -= k;
        if (t->nhdr < 512)
            break;
        t->nhdr = 0;
        if (tar_header(t) < 0)
            return -1;
        /* an entry without data (a directory, an empty file) is complete at once */
        if (!t->done && t->type && t->left == 0 && tar_entry_done(t) < 0)
            return -1;
    }
    return 0;
}
