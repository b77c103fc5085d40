/* upstream: the client of one upstream registry (see upstream.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include "oci/upstream.h"
#include "oci/upstream_auth.h"
#include "oci/manifest.h"
#include "core/errmsg.h"
#include "core/xalloc.h"

/* What an error answer's body may add to a message. */
#define UP_ERRBODY_MAX 512
#define UP_TOKEN_BODY_MAX (256 * 1024)
/* Tokens cached per upstream (scopes are per repository). */
#define UP_TOKENS 16
/* A token is renewed this long before its expiry. */
#define UP_TOKEN_MARGIN_S 10
#define UP_HEADER_MAX 2048

struct up_token {
    char *scope;
    char *token;
    time_t expires;
};

struct upstream {
    CURL *h;
    char *url;
    char *username, *password;
    long timeout_ms, stall_s;
    uint64_t manifest_max;
    int basic;                        /* the upstream asked for Basic: send the credentials */
    struct up_token tokens[UP_TOKENS];
    char *err;
};

/* One response (the last one, when redirects are followed). */
struct up_resp {
    struct upstream *u;
    long status;
    char www_auth[UP_HEADER_MAX];
    char dcd[UP_HEADER_MAX];          /* Docker-Content-Digest */
    long long length;                 /* Content-Length, -1 unknown */
    struct buf *body;                 /* a 2xx body is kept here (capped), unless cb */
    store_write_cb cb;                /* a 2xx body goes here */
    void *ctx;
    uint64_t bytes;                   /* given to cb or body */
    int too_large, aborted;
    char errbody[UP_ERRBODY_MAX + 1]; /* the start of a non-2xx body */
    size_t errlen;
    struct timespec start;
    int headers_done;
};

#define up_fail(u, rc, ...) errmsg_set(&(u)->err, (rc), "upstream", NULL, __VA_ARGS__)

struct upstream *upstream_new(const struct upstream_opts *o)
{
    struct upstream *u = xcalloc(1, sizeof *u);
    u->h = curl_easy_init();
    if (!u->h) {
        free(u);
        return NULL;
    }
    u->url = xstrdup(o->url);
    u->username = o->username ? xstrdup(o->username) : NULL;
    u->password = o->password ? xstrdup(o->password) : NULL;
    u->timeout_ms = o->timeout_ms;
    u->stall_s = o->stall_s;
    u->manifest_max = o->manifest_max;
    return u;
}

void upstream_free(struct upstream *u)
{
    if (!u)
        return;
    curl_easy_cleanup(u->h);
    for (size_t i = 0; i < UP_TOKENS; i++) {
        free(u->tokens[i].scope);
        free(u->tokens[i].token);
    }
    free(u->url);
    free(u->username);
    free(u->password);
    free(u->err);
    free(u);
}

const char *upstream_errmsg(const struct upstream *u)
{
    return u->err ? u->err : "upstream: no error";
}

/* ---- one HTTP exchange ---- */

static void up_header_value(char *dst, const char *line, size_t n, size_t name_len)
{
    const char *v = line + name_len;
    size_t len = n - name_len;
    while (len && (*v == ' ' || *v == '\t'))
        v++, len--;
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    if (len >= UP_HEADER_MAX)
        len = UP_HEADER_MAX - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static size_t up_on_header(char *p, size_t size, size_t nitems, void *arg)
{
    struct up_resp *r = arg;
    size_t n = size * nitems;
    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or a 100): forget the last one's headers */
        const char *sp = memchr(p, ' ', n);
        r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        r->www_auth[0] = r->dcd[0] = '\0';
        r->length = -1;
    } else if (n >= 17 && strncasecmp(p, "www-authenticate:", 17) == 0) {
        up_header_value(r->www_auth, p, n, 17);
    } else if (n >= 22 && strncasecmp(p, "docker-content-digest:", 22) == 0) {
        up_header_value(r->dcd, p, n, 22);
    } else if (n >= 15 && strncasecmp(p, "content-length:", 15) == 0) {
        char v[32];
        up_header_value(v, p, n < 15 + sizeof v - 1 ? n : 15 + sizeof v - 1, 15);
        r->length = strtoll(v, NULL, 10);
    } else if (n <= 2 && r->status >= 200 && (r->status < 300 || r->status >= 400)) {
        r->headers_done = 1;   /* the final response's headers ended */
    }
    return n;
}

static size_t up_on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct up_resp *r = arg;
    size_t n = size * nmemb;
    if (r->status < 200 || r->status >= 300) {
        size_t room = UP_ERRBODY_MAX - r->errlen, k = n < room ? n : room;
        memcpy(r->errbody + r->errlen, p, k);
        r->errlen += k;
        r->errbody[r->errlen] = '\0';
        return n;   /* an error body is read and dropped */
    }
    if (r->cb) {
        if (r->cb(r->ctx, p, n) != 0) {
            r->aborted = 1;
            return 0;
        }
    } else if (r->body && buf_append(r->body, p, n) < 0) {
        r->too_large = 1;
        return 0;
    }
    r->bytes += n;
    return n;
}

/* Headers must come within timeout_ms (the body is bounded by the stall). */
static int up_on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct up_resp *r = arg;
    struct timespec now;
    (void)dt, (void)dn, (void)ut, (void)un;
    if (r->headers_done)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - r->start.tv_sec) * 1000 + (now.tv_nsec - r->start.tv_nsec) / 1000000;
    return ms > r->u->timeout_ms;
}

/* method url: the answer in r. auth: an Authorization header or NULL;
 * basic: send the credentials as Basic. Returns CURLcode. */
static CURLcode up_perform(struct upstream *u, const char *method, const char *url, const char *accept,
                           const char *auth, int basic, struct up_resp *r)
{
    CURL *h = u->h;
    struct curl_slist *hdrs = NULL;
    char line[UP_HEADER_MAX + 32];
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);   /* blobs live behind CDNs */
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, u->timeout_ms);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, u->stall_s);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, up_on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, up_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, up_on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "oci-registry-p2p (pull-through mirror)");
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (accept) {
        snprintf(line, sizeof line, "Accept: %s", accept);
        hdrs = curl_slist_append(hdrs, line);
    }
    if (auth) {
        char *a = xasprintf("Authorization: %s", auth);   /* tokens may be long (JWTs) */
        hdrs = curl_slist_append(hdrs, a);
        free(a);
    } else if (basic && u->username) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, u->username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, u->password);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    r->u = u;
    r->status = 0;
    r->length = -1;
    clock_gettime(CLOCK_MONOTONIC, &r->start);
    CURLcode c = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    return c;
}

/* ---- tokens ---- */

static struct up_token *up_token_find(struct upstream *u, const char *scope)
{
    for (size_t i = 0; i < UP_TOKENS; i++)
        if (u->tokens[i].scope && strcmp(u->tokens[i].scope, scope) == 0)
            return &u->tokens[i];
    return NULL;
}

static void up_token_put(struct upstream *u, const char *scope, char *token, long expires_in)
{
    struct up_token *t = up_token_find(u, scope);
    if (!t) {
        /* a free slot, else the one that expires first */
        t = &u->tokens[0];
        for (size_t i = 0; i < UP_TOKENS; i++) {
            if (!u->tokens[i].scope) {
                t = &u->tokens[i];
                break;
            }
            if (u->tokens[i].expires < t->expires)
                t = &u->tokens[i];
        }
        free(t->scope);
        t->scope = xstrdup(scope);
    }
    free(t->token);
    t->token = token;
    t->expires = time(NULL) + expires_in - UP_TOKEN_MARGIN_S;
}

/* The token the challenge's realm issues for scope; 0 or an upstream_rc. */
static int up_token_fetch(struct upstream *u, const struct upstream_challenge *c, const char *scope)
{
    struct buf body;
    struct up_resp r = { 0 };
    char *svc = c->service ? curl_easy_escape(u->h, c->service, 0) : NULL;
    char *sc = curl_easy_escape(u->h, scope, 0);
    char *url = xasprintf("%s%s%s%s&scope=%s", c->realm, strchr(c->realm, '?') ? "&" : "?",
                          svc ? "service=" : "", svc ? svc : "", sc);
    curl_free(svc);
    curl_free(sc);
    buf_init(&body, UP_TOKEN_BODY_MAX);
    r.body = &body;
    /* the realm is the upstream's word: only http(s), checked by curl's protocol list */
    CURLcode cc = up_perform(u, "GET", url, "application/json", NULL, 1, &r);
    int rc = UPSTREAM_OK;
    if (cc != CURLE_OK)
        rc = up_fail(u, UPSTREAM_UNAVAILABLE, "token from %s: %s", c->realm, curl_easy_strerror(cc));
    else if (r.status == 401 || r.status == 403)
        rc = up_fail(u, UPSTREAM_DENIED, "token from %s: %ld (the credentials are refused)", c->realm, r.status);
    else if (r.status != 200)
        rc = up_fail(u, r.status >= 500 ? UPSTREAM_UNAVAILABLE : UPSTREAM_ERROR, "token from %s: %ld",
                     c->realm, r.status);
    else {
        char *token = NULL, *err = NULL;
        long exp = 60;
        if (upstream_token_parse(buf_cstr(&body), body.len, &token, &exp, &err) < 0) {
            rc = up_fail(u, UPSTREAM_INVALID, "token from %s: %s", c->realm, err);
            free(err);
        } else {
            char *bearer = xasprintf("Bearer %s", token);
            free(token);
            up_token_put(u, scope, bearer, exp);
        }
    }
    free(url);
    buf_free(&body);
    return rc;
}

/* ---- one request, with authentication ---- */

/* method path (below u->url) for repository repo into r; a 401 is
 * answered once (Basic: the credentials; Bearer: a token). The status
 * becomes an upstream_rc: 2xx OK, 404 NOT_FOUND, the rest failures. */
static int up_request(struct upstream *u, const char *method, const char *repo, const char *path,
                      const char *accept, struct up_resp *r)
{
    char *url = xasprintf("%s%s", u->url, path);
    char *scope = xasprintf("repository:%s:pull", repo);
    int rc = UPSTREAM_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        struct up_token *t = up_token_find(u, scope);
        const char *auth = t && t->expires > time(NULL) ? t->token : NULL;
        r->bytes = 0;
        r->errlen = 0;
        r->headers_done = 0;
        CURLcode cc = up_perform(u, method, url, accept, auth, u->basic, r);
        if (r->aborted) {
            rc = up_fail(u, UPSTREAM_ABORTED, "%s %s: stopped by the reader", method, url);
            break;
        }
        if (r->too_large) {
            rc = up_fail(u, UPSTREAM_INVALID, "%s %s: larger than %llu bytes (max_manifest_size): refused",
                         method, url, (unsigned long long)u->manifest_max);
            break;
        }
        if (cc != CURLE_OK) {
            rc = up_fail(u, UPSTREAM_UNAVAILABLE, "%s %s: %s", method, url,
                         cc == CURLE_ABORTED_BY_CALLBACK ? "no answer in time (mirror_timeout_ms)"
                         : cc == CURLE_OPERATION_TIMEDOUT ? "no progress (mirror_stall_s) or no connection in time"
                                                          : curl_easy_strerror(cc));
            break;
        }
        if (r->status == 401 && attempt == 0 && r->www_auth[0]) {
            struct upstream_challenge c;
            if (upstream_challenge_parse(r->www_auth, &c) < 0) {
                rc = up_fail(u, UPSTREAM_DENIED, "%s %s: 401 with a challenge we do not speak: %s", method, url,
                             r->www_auth);
                break;
            }
            if (c.scheme == UPSTREAM_AUTH_BASIC) {
                if (!u->username) {
                    upstream_challenge_free(&c);
                    rc = up_fail(u, UPSTREAM_DENIED, "%s %s: the upstream wants credentials (set username and password)",
                                 method, url);
                    break;
                }
                u->basic = 1;
            } else {
                /* the scope the upstream named, if any, is the one to ask for */
                if (c.scope && strcmp(c.scope, scope) != 0) {
                    free(scope);
                    scope = xstrdup(c.scope);
                }
                int trc = up_token_fetch(u, &c, scope);
                if (trc != UPSTREAM_OK) {
                    upstream_challenge_free(&c);
                    rc = trc;
                    break;
                }
            }
            upstream_challenge_free(&c);
            continue;
        }
        if (r->status >= 200 && r->status < 300)
            rc = UPSTREAM_OK;
        else if (r->status == 404)
            rc = up_fail(u, UPSTREAM_NOT_FOUND, "%s %s: 404", method, url);
        else if (r->status == 401 || r->status == 403)
            rc = up_fail(u, UPSTREAM_DENIED, "%s %s: %ld %.200s", method, url, r->status, r->errbody);
        else if (r->status >= 500 || r->status == 429 || r->status == 408)
            rc = up_fail(u, UPSTREAM_UNAVAILABLE, "%s %s: %ld %.200s", method, url, r->status, r->errbody);
        else
            rc = up_fail(u, UPSTREAM_ERROR, "%s %s: %ld %.200s", method, url, r->status, r->errbody);
        break;
    }
    free(scope);
    free(url);
    return rc;
}

static const char up_manifest_accept[] = MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_V2;

int upstream_manifest_get(struct upstream *u, const char *repo, const char *ref, struct buf *out,
                          struct digest *d)
{
    struct up_resp r = { 0 };
    struct digest want, got;
    int have_want = 0;
    char *path = xasprintf("/v2/%s/manifests/%s", repo, ref);
    buf_free(out);
    buf_init(out, u->manifest_max);
    r.body = out;
    int rc = up_request(u, "GET", repo, path, up_manifest_accept, &r);
    free(path);
    if (rc != UPSTREAM_OK)
        return rc;
    if (digest_looks_like(ref)) {
        have_want = digest_parse(ref, &want) == DIGEST_PARSE_OK;
        if (!have_want)
            return up_fail(u, UPSTREAM_INVALID, "manifest %s/%s: not a digest this registry knows", repo, ref);
    } else if (r.dcd[0]) {
        have_want = digest_parse(r.dcd, &want) == DIGEST_PARSE_OK;
        if (!have_want)
            return up_fail(u, UPSTREAM_INVALID, "manifest %s:%s: the upstream's Docker-Content-Digest \"%s\" is no digest",
                           repo, ref, r.dcd);
    }
    digest_of(have_want ? want.alg : DIGEST_SHA256, buf_cstr(out), out->len, &got);
    if (have_want && !digest_equal(&got, &want)) {
        char ws[DIGEST_STR_MAX], gs[DIGEST_STR_MAX];
        return up_fail(u, UPSTREAM_INVALID, "manifest %s:%s: the upstream's bytes are %s, not %s: refused", repo,
                       ref, digest_str(&got, gs), digest_str(&want, ws));
    }
    *d = got;
    return UPSTREAM_OK;
}

int upstream_manifest_head(struct upstream *u, const char *repo, const char *ref, struct digest *d)
{
    struct up_resp r = { 0 };
    char *path = xasprintf("/v2/%s/manifests/%s", repo, ref);
    int rc = up_request(u, "HEAD", repo, path, up_manifest_accept, &r);
    free(path);
    if (rc != UPSTREAM_OK)
        return rc;
    if (r.dcd[0] && digest_parse(r.dcd, d) == DIGEST_PARSE_OK)
        return UPSTREAM_OK;
    /* the HEAD did not say: the body says, by its hash */
    struct buf b;
    buf_init(&b, u->manifest_max);
    rc = upstream_manifest_get(u, repo, ref, &b, d);
    buf_free(&b);
    return rc;
}

int upstream_blob_head(struct upstream *u, const char *repo, const struct digest *d, uint64_t *size)
{
    struct up_resp r = { 0 };
    char ds[DIGEST_STR_MAX];
    char *path = xasprintf("/v2/%s/blobs/%s", repo, digest_str(d, ds));
    int rc = up_request(u, "HEAD", repo, path, NULL, &r);
    free(path);
    if (rc != UPSTREAM_OK)
        return rc;
    if (r.length < 0)
        return up_fail(u, UPSTREAM_INVALID, "blob %s/%s: the upstream's HEAD has no Content-Length", repo, ds);
    *size = (uint64_t)r.length;
    return UPSTREAM_OK;
}

int upstream_blob_get(struct upstream *u, const char *repo, const struct digest *d, store_write_cb cb,
                      void *ctx, uint64_t *bytes)
{
    struct up_resp r = { 0 };
    char ds[DIGEST_STR_MAX];
    char *path = xasprintf("/v2/%s/blobs/%s", repo, digest_str(d, ds));
    r.cb = cb;
    r.ctx = ctx;
    int rc = up_request(u, "GET", repo, path, NULL, &r);
    free(path);
    *bytes = r.bytes;
    return rc;
}
