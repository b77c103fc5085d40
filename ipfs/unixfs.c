/* unixfs: joining files already in Kubo into one without moving their bytes
 * (see kubo_concat in kubo.h). A UnixFS file is a dag-pb node whose Links
 * are its pieces in order and whose Data says "File" and each piece's size,
 * so a node over the parts *is* their concatenation. We write that node
 * ourselves and store it with dag/put. */
#include <stdlib.h>
#include <string.h>
#include "core/xalloc.h"
#include "ipfs/kubo_internal.h"

/* Links per node. Kubo's own files use 174; a few hundred keeps each node
 * far below the 1 MiB block limit (a link is ~50 bytes) and deeper trees
 * are only needed past this many parts. */
#define UNIXFS_FANOUT 1024
/* The dag-json text of one node: FANOUT links of ~150 bytes, and Data. */
#define UNIXFS_JSON_MAX (1024 * 1024)

/* Protobuf field keys: (field number << 3) | wire type 0 (varint). */
#define PB_TYPE_KEY 0x08        /* Data.Type = 1 */
#define PB_FILESIZE_KEY 0x18    /* Data.filesize = 3 */
#define PB_BLOCKSIZE_KEY 0x20   /* Data.blocksizes = 4, repeated, not packed */
#define UNIXFS_TYPE_FILE 2

size_t unixfs_varint(unsigned char *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (unsigned char)v;
    return n;
}

unsigned char *unixfs_file_data(const uint64_t *sizes, size_t n, size_t *len)
{
    /* key + up to 10 varint bytes per field */
    unsigned char *p = xmalloc(2 + 11 * (n + 1));
    size_t o = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += sizes[i];
    p[o++] = PB_TYPE_KEY;
    p[o++] = UNIXFS_TYPE_FILE;
    p[o++] = PB_FILESIZE_KEY;
    o += unixfs_varint(p + o, total);
    for (size_t i = 0; i < n; i++) {
        p[o++] = PB_BLOCKSIZE_KEY;
        o += unixfs_varint(p + o, sizes[i]);
    }
    *len = o;
    return p;
}

char *unixfs_base64(const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *s = xmalloc(4 * (n / 3 + 1) + 1);
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        s[o++] = tab[v >> 18];
        s[o++] = tab[(v >> 12) & 63];
        s[o++] = tab[(v >> 6) & 63];
        s[o++] = tab[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        s[o++] = tab[v >> 18];
        s[o++] = tab[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        s[o++] = tab[v >> 18];
        s[o++] = tab[(v >> 12) & 63];
        s[o++] = tab[(v >> 6) & 63];
    }
    s[o] = '\0';
    return s;
}

/* A CID is multibase text: letters and digits only. Checked because it is
 * pasted into JSON. */
static int unixfs_cid_ok(const char *c)
{
    size_t n = strlen(c);
    if (n == 0 || n >= KUBO_CID_MAX)
        return 0;
    for (; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
            return 0;
    return 1;
}

/* One dag-pb File node over n (<= FANOUT) non-empty parts, stored with dag/put. */
static int unixfs_put_node(struct kubo *k, const char *const *cids, const uint64_t *sizes,
                           size_t n, char cid_out[KUBO_CID_MAX])
{
    size_t dlen;
    unsigned char *data = unixfs_file_data(sizes, n, &dlen);
    char *b64 = unixfs_base64(data, dlen);
    free(data);
    struct buf json;
    buf_init(&json, UNIXFS_JSON_MAX);
    int bad = buf_appendf(&json, "{\"Data\":{\"/\":{\"bytes\":\"%s\"}},\"Links\":[", b64);
    free(b64);
    /* Tsize should be the child's whole DAG size; the file size is close
     * enough (it only feeds size estimates) and costs no extra request. */
    for (size_t i = 0; i < n && !bad; i++)
        bad = buf_appendf(&json, "%s{\"Hash\":{\"/\":\"%s\"},\"Name\":\"\",\"Tsize\":%llu}",
                          i ? "," : "", cids[i], (unsigned long long)sizes[i]);
    if (!bad)
        bad = buf_appends(&json, "]}");
    if (bad) {
        buf_free(&json);
        return kubo_fail(k, KUBO_ERROR, "dag/put", "node too large");
    }

    struct kubo_query q;
    kubo_query_init(&q);
    kubo_query_add(&q, "input-codec", "dag-json");
    kubo_query_add(&q, "store-codec", "dag-pb");
    kubo_query_add(&q, "hash", "sha2-256");
    kubo_query_add(&q, "pin", k->pin_adds ? "true" : "false");   /* kubo_set_pin_adds */
    curl_mime *mime;
    curl_mimepart *part = kubo_mime_file(k, &mime, "node.json", "application/json");
    curl_mime_data(part, json.data, json.len);
    struct buf out;
    buf_init(&out, KUBO_JSON_MAX);
    int rc = kubo_rpc(k, "dag/put", "(unixfs file)", &q, mime, &out);
    if (rc == KUBO_OK)
        rc = kubo_json_cid(k, "dag/put (unixfs file)", &out, "Cid", 1, cid_out);
    if (rc == KUBO_OK)
        kubo_note_pinned(k, cid_out);
    buf_free(&out);
    curl_mime_free(mime);
    kubo_query_free(&q);
    buf_free(&json);
    return rc;
}

/* Concatenation of n non-empty parts (n >= 1): a node per FANOUT parts, then
 * nodes over those nodes, until one is left. */
static int unixfs_concat_nonempty(struct kubo *k, const char *const *cids, const uint64_t *sizes,
                                  size_t n, char cid_out[KUBO_CID_MAX])
{
    if (n == 1) {
        memcpy(cid_out, cids[0], strlen(cids[0]) + 1);
        return KUBO_OK;
    }
    if (n <= UNIXFS_FANOUT)
        return unixfs_put_node(k, cids, sizes, n, cid_out);
    size_t groups = (n + UNIXFS_FANOUT - 1) / UNIXFS_FANOUT;
    char (*gcid)[KUBO_CID_MAX] = xcalloc(groups, KUBO_CID_MAX);
    const char **gcids = xcalloc(groups, sizeof *gcids);
    uint64_t *gsizes = xcalloc(groups, sizeof *gsizes);
    int rc = KUBO_OK;
    for (size_t g = 0; g < groups && rc == KUBO_OK; g++) {
        size_t from = g * UNIXFS_FANOUT;
        size_t m = n - from < UNIXFS_FANOUT ? n - from : UNIXFS_FANOUT;
        for (size_t i = 0; i < m; i++)
            gsizes[g] += sizes[from + i];
        gcids[g] = gcid[g];
        rc = unixfs_concat_nonempty(k, cids + from, sizes + from, m, gcid[g]);
    }
    if (rc == KUBO_OK)
        rc = unixfs_concat_nonempty(k, gcids, gsizes, groups, cid_out);
    /* the group nodes are held by the root's pin now (or are garbage) */
    for (size_t g = 0; g < groups; g++)
        if (gcid[g][0])
            kubo_unpin_added(k, gcid[g]);
    free(gsizes);
    free(gcids);
    free(gcid);
    return rc;
}

int kubo_concat(struct kubo *k, const char *const *cids, const uint64_t *sizes, size_t n,
                char cid_out[KUBO_CID_MAX])
{
    for (size_t i = 0; i < n; i++)
        if (!unixfs_cid_ok(cids[i]))
            return kubo_fail(k, KUBO_ERROR, "concat", "bad CID \"%.*s\"", KUBO_CID_MAX, cids[i]);
    if (n == 1) {
        memcpy(cid_out, cids[0], strlen(cids[0]) + 1);
        return KUBO_OK;
    }
    /* Empty parts would be links that add nothing but a block fetch. */
    const char **nz = xcalloc(n ? n : 1, sizeof *nz);
    uint64_t *nzs = xcalloc(n ? n : 1, sizeof *nzs);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (sizes[i] == 0)
            continue;
        nz[m] = cids[i];
        nzs[m++] = sizes[i];
    }
    int rc;
    if (m == 0)
        rc = kubo_add_mem(k, "", 0, NULL, cid_out);   /* Kubo's own empty file */
    else
        rc = unixfs_concat_nonempty(k, nz, nzs, m, cid_out);
    free(nzs);
    free(nz);
    return rc;
}
