/* add: streaming a file of unknown length into Kubo (see kubo.h). The
 * caller's callback fills curl's upload buffer directly, so the bytes are
 * copied once, into the socket's buffer; nothing holds the whole file. */
#include <stdlib.h>
#include <string.h>
#include "core/xalloc.h"
#include "ipfs/kubo_internal.h"

struct add_src {
    kubo_read_cb cb;
    void *ctx;
    uint64_t total;
    int aborted;      /* the caller asked to stop */
    int overrun;      /* the caller claimed more bytes than it was given room for */
    int eof;
};

static size_t add_read(char *buf, size_t size, size_t nitems, void *arg)
{
    struct add_src *s = arg;
    size_t room = size * nitems;
    if (s->eof)
        return 0;
    ssize_t r = s->cb(s->ctx, buf, room);
    if (r < 0) {
        s->aborted = 1;
        return CURL_READFUNC_ABORT;
    }
    if ((size_t)r > room) {
        s->overrun = 1;
        return CURL_READFUNC_ABORT;
    }
    if (r == 0)
        s->eof = 1;   /* curl may ask again after the end: don't call back */
    s->total += (uint64_t)r;
    return (size_t)r;
}

/* Both adds: to_files (copying add) or abspath (nocopy add), at most one. */
static int kubo_add_common(struct kubo *k, kubo_read_cb cb, void *ctx, const char *to_files,
                           const char *abspath, char cid_out[KUBO_CID_MAX], uint64_t *size)
{
    struct kubo_query q;
    kubo_query_init(&q);
    kubo_query_add(&q, "cid-version", "1");
    kubo_query_add(&q, "raw-leaves", "true");
    kubo_query_add(&q, "pin", k->pin_adds ? "true" : "false");   /* kubo_set_pin_adds */
    /* One answer line at the end instead of a progress stream. */
    kubo_query_add(&q, "progress", "false");
    if (to_files)
        kubo_query_add(&q, "to-files", to_files);
    if (abspath)
        kubo_query_add(&q, "nocopy", "true");

    struct add_src src = { .cb = cb, .ctx = ctx };
    curl_mime *mime;
    curl_mimepart *part = kubo_mime_file(k, &mime, "blob", "application/octet-stream");
    /* Size -1: unknown, so curl sends the request chunked. */
    curl_mime_data_cb(part, -1, add_read, NULL, NULL, &src);
    struct curl_slist *hdrs = NULL;
    if (abspath) {
        /* what boxo's multipart reader takes as the file's absolute path */
        char *h = xasprintf("Abspath: %s", abspath);
        hdrs = curl_slist_append(NULL, h);
        free(h);
        if (!hdrs)
            abort();
        curl_mime_headers(part, hdrs, 1);   /* the part owns the list */
    }

    struct buf out;
    buf_init(&out, KUBO_JSON_MAX);
    const char *what = to_files ? to_files : abspath ? abspath : "(stream)";
    int rc = kubo_rpc(k, "add", what, &q, mime, &out);
    char *cmd = xasprintf(abspath ? "add --nocopy %s" : "add %s", what);
    if (src.aborted) {
        rc = kubo_fail(k, KUBO_ABORTED, cmd, "cancelled by the data source after %llu bytes",
                       (unsigned long long)src.total);
    } else if (src.overrun) {
        rc = kubo_fail(k, KUBO_ERROR, cmd, "data source returned more bytes than asked");
    } else if (rc == KUBO_OK || rc == KUBO_EXISTS) {
        /* On EXISTS (to-files target taken) Kubo has still added the data
         * and answered its CID before the trailer: hand it over too. */
        char *saved = rc == KUBO_EXISTS ? xstrdup(kubo_errmsg(k)) : NULL;
        int prc = kubo_json_cid(k, cmd, &out, "Hash", 0, cid_out);
        if (prc == KUBO_OK)
            kubo_note_pinned(k, cid_out);
        if (prc != KUBO_OK) {
            rc = prc;
        } else if (saved) {
            free(k->err);
            k->err = saved;
            saved = NULL;
        }
        free(saved);
        if (size)
            *size = src.total;
    }
    free(cmd);
    buf_free(&out);
    curl_mime_free(mime);
    kubo_query_free(&q);
    return rc;
}

int kubo_add_stream(struct kubo *k, kubo_read_cb cb, void *ctx, const char *to_files,
                    char cid_out[KUBO_CID_MAX], uint64_t *size)
{
    return kubo_add_common(k, cb, ctx, to_files, NULL, cid_out, size);
}

int kubo_add_nocopy(struct kubo *k, const char *abspath, kubo_read_cb cb, void *ctx,
                    char cid_out[KUBO_CID_MAX], uint64_t *size)
{
    return kubo_add_common(k, cb, ctx, NULL, abspath, cid_out, size);
}

struct add_mem {
    const char *p;
    size_t left;
};

static ssize_t add_mem_read(void *ctx, char *buf, size_t n)
{
    struct add_mem *m = ctx;
    size_t c = m->left < n ? m->left : n;   /* n is curl's buffer: small */
    memcpy(buf, m->p, c);
    m->p += c;
    m->left -= c;
    return (ssize_t)c;
}

int kubo_add_mem(struct kubo *k, const void *data, size_t len, const char *to_files,
                 char cid_out[KUBO_CID_MAX])
{
    struct add_mem m = { .p = data, .left = len };
    return kubo_add_stream(k, add_mem_read, &m, to_files, cid_out, NULL);
}
