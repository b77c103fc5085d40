/* upstream_auth: parsing WWW-Authenticate challenges and token answers
 * (see upstream_auth.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include "oci/upstream_auth.h"
#include "core/xalloc.h"

#define UA_PARAM_MAX 2048
#define UA_TOKEN_MAX (64 * 1024)

static int ua_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *ua_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A token or quoted-string at p into a new string (*out), the end in *end.
 * -1 if malformed or too long. */
static int ua_value(const char *p, char **out, const char **end)
{
    char buf[UA_PARAM_MAX + 1];
    size_t n = 0;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            if (n == UA_PARAM_MAX)
                return -1;
            buf[n++] = *p;
        }
        if (*p != '"')
            return -1;
        p++;
    } else {
        while (ua_tchar(*p) || *p == '/' || *p == ':' || *p == '=') {
            if (n == UA_PARAM_MAX)
                return -1;
            buf[n++] = *p++;
        }
    }
    buf[n] = '\0';
    *out = xstrdup(buf);
    *end = p;
    return 0;
}

/* cur, finished: kept in *best if it is better (Bearer > Basic; a Bearer
 * challenge without a realm is no use), else freed. */
static void ua_keep_better(struct upstream_challenge *cur, struct upstream_challenge *best)
{
    if (cur->scheme > best->scheme && (cur->scheme != UPSTREAM_AUTH_BEARER || cur->realm)) {
        upstream_challenge_free(best);
        *best = *cur;
    } else {
        upstream_challenge_free(cur);
    }
    memset(cur, 0, sizeof *cur);
}

int upstream_challenge_parse(const char *header, struct upstream_challenge *out)
{
    struct upstream_challenge cur = { 0 }, best = { 0 };
    const char *p = header;
    memset(out, 0, sizeof *out);
    for (;;) {
        p = ua_ws(p);
        while (*p == ',')
            p = ua_ws(p + 1);
        if (!*p)
            break;
        const char *t = p;
        while (ua_tchar(*p))
            p++;
        size_t tn = (size_t)(p - t);
        const char *q = ua_ws(p);
        if (tn == 0) {
            upstream_challenge_free(&cur);
            upstream_challenge_free(&best);
            return -1;
        }
        if (*q == '=') {
            /* a parameter of the current challenge (or token68): kept if
             * the challenge is one we speak and the name one we use */
            char *v = NULL;
            if (ua_value(ua_ws(q + 1), &v, &p) < 0) {
                upstream_challenge_free(&cur);
                upstream_challenge_free(&best);
                return -1;
            }
            char **slot = cur.scheme == UPSTREAM_AUTH_NONE ? NULL
                          : tn == 5 && strncasecmp(t, "realm", 5) == 0 ? &cur.realm
                          : tn == 7 && strncasecmp(t, "service", 7) == 0 ? &cur.service
                          : tn == 5 && strncasecmp(t, "scope", 5) == 0 ? &cur.scope : NULL;
            if (slot) {
                free(*slot);
                *slot = v;
            } else {
                free(v);
            }
            continue;
        }
        /* a token alone: the scheme of a new challenge */
        ua_keep_better(&cur, &best);
        cur.scheme = tn == 6 && strncasecmp(t, "bearer", 6) == 0  ? UPSTREAM_AUTH_BEARER
                     : tn == 5 && strncasecmp(t, "basic", 5) == 0 ? UPSTREAM_AUTH_BASIC
                                                                  : UPSTREAM_AUTH_NONE;
    }
    ua_keep_better(&cur, &best);
    if (best.scheme == UPSTREAM_AUTH_NONE)
        return -1;
    *out = best;
    return 0;
}

void upstream_challenge_free(struct upstream_challenge *c)
{
    free(c->realm);
    free(c->service);
    free(c->scope);
    memset(c, 0, sizeof *c);
}

int upstream_token_parse(const char *json, size_t len, char **token, long *expires_in, char **err)
{
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, json, (int)len), *t = NULL, *e;
    json_tokener_free(tok);
    *token = NULL;
    *expires_in = 60;
    if (!o || !json_object_is_type(o, json_type_object)) {
        *err = xstrdup("the token endpoint's answer is not a JSON object");
        json_object_put(o);
        return -1;
    }
    if (!(json_object_object_get_ex(o, "token", &t) && json_object_is_type(t, json_type_string) &&
          json_object_get_string_len(t) > 0) &&
        !(json_object_object_get_ex(o, "access_token", &t) && json_object_is_type(t, json_type_string) &&
          json_object_get_string_len(t) > 0)) {
        *err = xstrdup("the token endpoint's answer has no token (nor access_token)");
        json_object_put(o);
        return -1;
    }
    const char *s = json_object_get_string(t);
    if (strlen(s) > UA_TOKEN_MAX || strpbrk(s, "\r\n")) {
        *err = xstrdup("the token endpoint's token is too long or holds a line break");
        json_object_put(o);
        return -1;
    }
    if (json_object_object_get_ex(o, "expires_in", &e) && json_object_is_type(e, json_type_int)) {
        long v = (long)json_object_get_int64(e);
        *expires_in = v < 1 ? 1 : v;
    }
    *token = xstrdup(s);
    json_object_put(o);
    return 0;
}
