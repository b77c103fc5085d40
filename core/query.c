/* query: parameters of the raw query string (application/x-www-form-urlencoded
 * shape, but '+' is kept: digests and names never contain spaces, and
 * registries commonly treat '+' literally). */
#include <string.h>
#include <stdlib.h>
#include "core/query.h"
#include "core/xalloc.h"

static int query_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *pct_decode(const char *s, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\0')
            break;
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        if (len - i < 3) {   /* a truncated escape */
            free(out);
            return NULL;
        }
        int hi = query_hexval(s[i + 1]), lo = hi < 0 ? -1 : query_hexval(s[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        out[o++] = (char)(hi << 4 | lo);
        i += 2;
    }
    out[o] = '\0';
    return out;
}

char *pct_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = xmalloc(3 * n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 0xf];
        }
    }
    out[o] = '\0';
    return out;
}

/* Collects the values of every "key[=value]" pair whose decoded key equals
 * key, in order; stops after the first when max_one. */
static char **query_collect(const char *query, const char *key, size_t *n, int max_one)
{
    char **v = NULL;
    size_t count = 0;
    const char *p = query ? query : "";
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', plen);
        size_t klen = eq ? (size_t)(eq - p) : plen;
        char *k = pct_decode(p, klen);
        if (k && strcmp(k, key) == 0) {
            char *val;
            if (!eq) {
                val = xstrdup("");
            } else {
                size_t vlen = plen - klen - 1;
                val = pct_decode(eq + 1, vlen);
                /* a malformed escape: hand back the raw text so the caller's
                 * validation rejects it (the parameter was sent after all) */
                if (!val)
                    val = xstrndup(eq + 1, vlen);
            }
            v = xrealloc(v, (count + 1) * sizeof *v);
            v[count++] = val;
        }
        free(k);
        if (max_one && count)
            break;
        if (!amp)
            break;
        p = amp + 1;
    }
    *n = count;
    return v;
}

char *query_get(const char *query, const char *key)
{
    size_t n;
    char **v = query_collect(query, key, &n, 1);
    if (!v)
        return NULL;
    char *val = v[0];
    free(v);
    return val;
}

char **query_get_all(const char *query, const char *key, size_t *n)
{
    return query_collect(query, key, n, 0);
}
