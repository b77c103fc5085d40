/* kubo: the client object and the one RPC call path every command goes
 * through, with Kubo's two ways of reporting errors (see kubo.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "core/errmsg.h"
#include "core/metrics.h"
#include "core/xalloc.h"
#include "ipfs/kubo_internal.h"
#include "ipfs/multiaddr.h"

/* Worth the memory: curl then hands big slices of an add stream to the
 * socket instead of 64 KiB ones (curl allows at most 2 MiB). */
#define KUBO_UPLOAD_BUFSIZE (1024L * 1024L)

struct kubo *kubo_new(const char *api_maddr, const char *gateway_url, char **err)
{
    char *base, *unix_path;
    if (multiaddr_to_url(api_maddr, &base, &unix_path, err) < 0)
        return NULL;
    /* Refcounted by libcurl; this process is single-threaded. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(base);
        free(unix_path);
        *err = xstrdup("ipfs: curl_global_init failed");
        return NULL;
    }
    struct kubo *k = xcalloc(1, sizeof *k);
    k->api_base = base;
    k->unix_path = unix_path;
    if (gateway_url && *gateway_url) {
        size_t n = strlen(gateway_url);
        while (n > 0 && gateway_url[n - 1] == '/')
            n--;
        k->gw_base = xstrndup(gateway_url, n);
    }
    k->connect_s = 5;
    k->stall_s = 300;
    k->mfs_lock_fd = -1;
    k->rpc = curl_easy_init();
    k->gw = curl_easy_init();
    if (!k->rpc || !k->gw) {
        kubo_free(k);
        *err = xstrdup("ipfs: curl_easy_init failed");
        return NULL;
    }
    return k;
}

void kubo_free(struct kubo *k)
{
    if (!k)
        return;
    if (k->rpc)
        curl_easy_cleanup(k->rpc);
    if (k->gw)
        curl_easy_cleanup(k->gw);
    free(k->api_base);
    free(k->unix_path);
    free(k->gw_base);
    free(k->err);
    if (k->mfs_lock_fd >= 0)
        close(k->mfs_lock_fd);
    free(k);
    curl_global_cleanup();
}

const char *kubo_errmsg(const struct kubo *k)
{
    return k->err ? k->err : "";
}

void kubo_set_timeouts(struct kubo *k, long connect_s, long stall_s)
{
    if (connect_s > 0)
        k->connect_s = connect_s;
    if (stall_s > 0)
        k->stall_s = stall_s;
}

unsigned long kubo_request_count(const struct kubo *k)
{
    return k->nreq;
}

/* --- query strings --- */

void kubo_query_init(struct kubo_query *q)
{
    buf_init(&q->b, KUBO_QUERY_MAX);
    q->overflow = 0;
}

void kubo_query_free(struct kubo_query *q)
{
    buf_free(&q->b);
}

int kubo_pct_encode(struct buf *b, const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        int plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                    (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_' ||
                    *c == '~' || (keep_slash && *c == '/');
        char esc[3] = { '%', hex[*c >> 4], hex[*c & 15] };
        if (plain ? buf_append(b, c, 1) : buf_append(b, esc, 3))
            return -1;
    }
    return 0;
}

void kubo_query_add(struct kubo_query *q, const char *key, const char *val)
{
    if (q->overflow)
        return;
    if (buf_append(&q->b, q->b.len ? "&" : "?", 1) || buf_appends(&q->b, key) ||
        buf_append(&q->b, "=", 1) || kubo_pct_encode(&q->b, val, 0))
        q->overflow = 1;
}

/* --- errors --- */

int kubo_fail(struct kubo *k, int rc, const char *what, const char *fmt, ...)
{
    char *prefix = xasprintf("ipfs: %s", what);
    va_list ap;
    va_start(ap, fmt);
    errmsg_vset(&k->err, rc, prefix, NULL, fmt, ap);
    va_end(ap);
    free(prefix);
    return rc;
}

int kubo_classify(const char *msg)
{
    /* Kubo has no error codes worth the name (Code is 0 for nearly
     * everything), so the message text is all there is. */
    static const char *const not_found[] = {
        "does not exist", "no link named", "not found", "could not find",
        "not a directory",
    };
    static const char *const exists[] = { "already has entry", "already exists" };
    for (size_t i = 0; i < sizeof not_found / sizeof not_found[0]; i++)
        if (strcasestr(msg, not_found[i]))
            return KUBO_NOT_FOUND;
    for (size_t i = 0; i < sizeof exists / sizeof exists[0]; i++)
        if (strcasestr(msg, exists[i]))
            return KUBO_EXISTS;
    return KUBO_ERROR;
}

int kubo_curl_fail(struct kubo *k, CURLcode cc, const char *what, const char *detail)
{
    int rc = KUBO_ERROR;
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
        rc = KUBO_UNAVAILABLE;
        break;
    default:
        break;
    }
    return kubo_fail(k, rc, what, "%s%s%s", curl_easy_strerror(cc),
                     detail && *detail ? ": " : "", detail ? detail : "");
}

void kubo_curl_prepare(struct kubo *k, CURL *h, int rpc, const char *url, char *errbuf,
                       curl_write_callback on_header, curl_write_callback on_body, void *ctx)
{
    /* curl_easy_reset keeps the connection cache, so keep-alive survives;
     * starting from defaults means no option leaks from the previous call. */
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, k->connect_s);
    /* A stall limit, not a total timeout: multi-GiB streams are normal. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, k->stall_s);
    if (k->total_ms > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, k->total_ms);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    /* Never through an http_proxy from the environment: the node is ours. */
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    if (rpc && k->unix_path)
        curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, k->unix_path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, ctx);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, ctx);
}

/* --- the RPC call --- */

struct kubo_rpc_ctx {
    long status;           /* of the last status line seen */
    struct buf *out;       /* 200 body, or NULL to discard; with on_line: the line not ended yet */
    struct buf errbody;    /* non-200 body */
    struct buf trailer;    /* X-Stream-Error value */
    int too_large;
    kubo_line_cb on_line;  /* NULL, or each line of a 200 body as it arrives */
    void *line_ctx;
};

/* Hands every complete line in c->out to c->on_line and keeps the rest. */
static void kubo_rpc_lines_out(struct kubo_rpc_ctx *c)
{
    char *s = c->out->data;
    size_t done = 0;
    for (;;) {
        char *nl = memchr(s + done, '\n', c->out->len - done);
        if (!nl)
            break;
        *nl = '\0';
        c->on_line(s + done, (size_t)(nl - (s + done)), c->line_ctx);
        done = (size_t)(nl - s) + 1;
    }
    if (done) {
        memmove(s, s + done, c->out->len - done);
        c->out->len -= done;
        s[c->out->len] = '\0';
    }
}

static size_t kubo_rpc_header(char *p, size_t size, size_t n, void *arg)
{
    struct kubo_rpc_ctx *c = arg;
    size_t len = size * n;
    static const char se[] = "X-Stream-Error:";
    if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* A new response (after a 100 Continue, say): start over. */
        const char *sp = memchr(p, ' ', len);
        c->status = 0;
        if (sp && (size_t)(sp - p) + 4 <= len && sp[1] >= '1' && sp[1] <= '5')
            c->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
        buf_reset(&c->trailer);
    } else if (len > sizeof se - 1 && strncasecmp(p, se, sizeof se - 1) == 0) {
        /* Trailers come through the header callback after the body. */
        const char *v = p + sizeof se - 1;
        size_t vl = len - (sizeof se - 1);
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl && buf_append(&c->trailer, v, vl) < 0)
            buf_append(&c->trailer, "(trailer too long)", 18);
    }
    return len;
}

static size_t kubo_rpc_write(char *p, size_t size, size_t n, void *arg)
{
    struct kubo_rpc_ctx *c = arg;
    size_t len = size * n;
    if (c->status != 200) {
        /* Keep the start of an error body; the message is at the front. */
        size_t room = c->errbody.max - c->errbody.len;
        buf_append(&c->errbody, p, len < room ? len : room);
        return len;
    }
    if (!c->out)
        return len;
    if (buf_append(c->out, p, len) < 0) {
        c->too_large = 1;
        return 0;
    }
    if (c->on_line)
        kubo_rpc_lines_out(c);
    return len;
}

/* The Message of a {"Message":...} error body, or the body itself trimmed
 * (some errors arrive as a bare JSON string or plain text). Caller frees. */
static char *kubo_error_text(const struct buf *body)
{
    const char *s = buf_cstr(body);
    json_object *o = json_tokener_parse(s);
    char *msg = NULL;
    json_object *m;
    if (o && json_object_is_type(o, json_type_object) &&
        json_object_object_get_ex(o, "Message", &m) && json_object_is_type(m, json_type_string))
        msg = xstrdup(json_object_get_string(m));
    else if (o && json_object_is_type(o, json_type_string))
        msg = xstrdup(json_object_get_string(o));
    json_object_put(o);
    if (msg)
        return msg;
    size_t n = body->len;
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        n--;
    return xstrndup(s, n);
}

static int kubo_rpc_do(struct kubo *k, const char *cmd, const char *arg, const struct kubo_query *q,
                       curl_mime *mime, struct buf *out, kubo_line_cb on_line, void *line_ctx)
{
    char *what = arg ? xasprintf("%s %s", cmd, arg) : xstrdup(cmd);
    if (q && q->overflow) {
        int rc = kubo_fail(k, KUBO_ERROR, what, "request too long");
        free(what);
        return rc;
    }
    char *url = xasprintf("%s/api/v0/%s%s", k->api_base, cmd, q ? buf_cstr(&q->b) : "");
    struct kubo_rpc_ctx c = { .status = 0, .out = out, .on_line = on_line, .line_ctx = line_ctx };
    buf_init(&c.errbody, KUBO_ERRBODY_MAX);
    buf_init(&c.trailer, KUBO_ERRBODY_MAX);
    if (out)
        buf_reset(out);

    CURL *h = k->rpc;
    char errbuf[CURL_ERROR_SIZE] = "";
    kubo_curl_prepare(k, h, 1, url, errbuf, kubo_rpc_header, kubo_rpc_write, &c);
    /* Without Expect: curl would wait up to a second for a 100 Continue
     * before sending a body of unknown size. */
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    if (!hdrs)
        abort();
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (mime) {
        curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
        curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, KUBO_UPLOAD_BUFSIZE);
    } else {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    }
    k->nreq++;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CURLcode cc = curl_easy_perform(h);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    int rc = KUBO_OK;
    if (c.too_large) {
        rc = kubo_fail(k, KUBO_TOO_LARGE, what, "response larger than %zu bytes", out->max);
    } else if (cc != CURLE_OK && !(c.status > 200 && c.errbody.len)) {
        rc = kubo_curl_fail(k, cc, what, errbuf);
    } else if (c.status != 200) {
        /* Also when Kubo refused early and closed while we were still
         * sending a body: its answer says more than the broken pipe. */
        char *msg = kubo_error_text(&c.errbody);
        /* A 404 from the RPC API means an unknown command, not a missing file. */
        rc = kubo_fail(k, c.status == 404 ? KUBO_ERROR : kubo_classify(msg), what,
                       "%s (HTTP %ld)", *msg ? msg : "no message", c.status);
        free(msg);
    } else if (c.trailer.len) {
        /* Failed after the 200: some commands (files/rm) put the detail in
         * the body as a JSON string and a summary in the trailer. */
        char *detail = out ? kubo_error_text(out) : xstrdup("");
        int body_is_msg = out && out->len && buf_cstr(out)[0] == '"';
        char *msg = body_is_msg ? xasprintf("%s: %s", buf_cstr(&c.trailer), detail)
                                : xstrdup(buf_cstr(&c.trailer));
        rc = kubo_fail(k, kubo_classify(msg), what, "%s", msg);
        free(msg);
        free(detail);
    }
    int64_t us = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
    metrics_kubo_rpc(us > 0 ? (uint64_t)us : 0,
                     rc == KUBO_UNAVAILABLE ? 1 : (rc == KUBO_ERROR || rc == KUBO_TOO_LARGE) ? 2 : 0);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(hdrs);
    buf_free(&c.errbody);
    buf_free(&c.trailer);
    free(url);
    free(what);
    return rc;
}

int kubo_rpc(struct kubo *k, const char *cmd, const char *arg, const struct kubo_query *q,
             curl_mime *mime, struct buf *out)
{
    return kubo_rpc_do(k, cmd, arg, q, mime, out, NULL, NULL);
}

curl_mimepart *kubo_mime_file(struct kubo *k, curl_mime **mime, const char *filename, const char *type)
{
    *mime = curl_mime_init(k->rpc);
    curl_mimepart *part = *mime ? curl_mime_addpart(*mime) : NULL;
    if (!part)
        abort();
    curl_mime_name(part, "file");
    curl_mime_filename(part, filename);
    curl_mime_type(part, type);
    return part;
}

int kubo_rpc_lines(struct kubo *k, const char *cmd, const char *arg, const struct kubo_query *q,
                   kubo_line_cb on_line, void *ctx)
{
    struct buf line;
    buf_init(&line, KUBO_JSON_MAX);
    int rc = kubo_rpc_do(k, cmd, arg, q, NULL, &line, on_line, ctx);
    buf_free(&line);
    return rc;
}

void kubo_json_names(struct json_object *arr, char ***names, size_t *n)
{
    size_t len = json_object_array_length(arr);
    char **v = xcalloc(len + 1, sizeof *v);
    size_t m = 0;
    for (size_t i = 0; i < len; i++) {
        json_object *name;
        if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "Name", &name) &&
            json_object_is_type(name, json_type_string))
            v[m++] = xstrdup(json_object_get_string(name));
    }
    *names = v;
    *n = m;
}

int kubo_json_cid(struct kubo *k, const char *what, const struct buf *out, const char *key,
                  int slash, char cid[KUBO_CID_MAX])
{
    json_object *o = json_tokener_parse(buf_cstr(out));
    json_object *v = NULL;
    int ok = o && json_object_object_get_ex(o, key, &v);
    if (ok && slash)
        ok = json_object_object_get_ex(v, "/", &v);
    ok = ok && json_object_is_type(v, json_type_string);
    const char *s = ok ? json_object_get_string(v) : "";
    size_t n = strlen(s);
    int rc = KUBO_OK;
    if (!ok || n == 0 || n >= KUBO_CID_MAX)
        rc = kubo_fail(k, KUBO_ERROR, what, "unexpected answer: %.200s", buf_cstr(out));
    else
        memcpy(cid, s, n + 1);
    json_object_put(o);
    return rc;
}
