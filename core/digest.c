/* digest: OCI digest strings and a resumable streaming hasher (see digest.h
 * for why the low-level SHA contexts are used). */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/digest.h"
#include "core/xalloc.h"

static const char digest_hexchars[] = "0123456789abcdef";

static int digest_is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* algorithm := [a-z0-9]+ ( [+._-] [a-z0-9]+ )* over s[0..n) */
static int digest_alg_wellformed(const char *s, size_t n)
{
    if (n == 0 || !digest_is_lower_alnum(s[0]) || !digest_is_lower_alnum(s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (digest_is_lower_alnum(s[i]))
            continue;
        if (!strchr("+._-", s[i]))
            return 0;
        if (!digest_is_lower_alnum(s[i + 1]))   /* a separator is followed by a component */
            return 0;
    }
    return 1;
}

/* encoded := [a-zA-Z0-9=_-]+ */
static int digest_encoded_wellformed(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '=' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int digest_is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

enum digest_parse_rc digest_parse(const char *s, struct digest *out)
{
    if (!s)
        return DIGEST_PARSE_INVALID;
    const char *colon = strchr(s, ':');
    if (!colon)
        return DIGEST_PARSE_INVALID;
    size_t alen = (size_t)(colon - s);
    const char *enc = colon + 1;
    if (!digest_alg_wellformed(s, alen) || !digest_encoded_wellformed(enc))
        return DIGEST_PARSE_INVALID;
    enum digest_alg alg;
    if (alen == 6 && memcmp(s, "sha256", 6) == 0)
        alg = DIGEST_SHA256;
    else if (alen == 6 && memcmp(s, "sha512", 6) == 0)
        alg = DIGEST_SHA512;
    else
        return DIGEST_PARSE_UNSUPPORTED;
    size_t hexlen = digest_alg_hexlen(alg);
    /* the spec: registered algorithms require lower-case hex of their exact length */
    if (strlen(enc) != hexlen || !digest_is_lower_hex(enc, hexlen))
        return DIGEST_PARSE_INVALID;
    out->alg = alg;
    memcpy(out->hex, enc, hexlen + 1);
    return DIGEST_PARSE_OK;
}

int digest_looks_like(const char *s)
{
    return s && strchr(s, ':') != NULL;
}

const char *digest_alg_name(enum digest_alg alg)
{
    return alg == DIGEST_SHA512 ? "sha512" : "sha256";
}

int digest_alg_parse(const char *name, enum digest_alg *out)
{
    if (!name)
        return -1;
    if (strcmp(name, "sha256") == 0) {
        *out = DIGEST_SHA256;
        return 0;
    }
    if (strcmp(name, "sha512") == 0) {
        *out = DIGEST_SHA512;
        return 0;
    }
    return -1;
}

size_t digest_alg_hexlen(enum digest_alg alg)
{
    return alg == DIGEST_SHA512 ? 128 : 64;
}

char *digest_str(const struct digest *d, char out[DIGEST_STR_MAX])
{
    snprintf(out, DIGEST_STR_MAX, "%s:%s", digest_alg_name(d->alg), d->hex);
    return out;
}

int digest_equal(const struct digest *a, const struct digest *b)
{
    return a->alg == b->alg && strcmp(a->hex, b->hex) == 0;
}

void hasher_init(struct hasher *h, enum digest_alg alg)
{
    memset(h, 0, sizeof *h);
    h->alg = alg;
    if (alg == DIGEST_SHA512)
        SHA512_Init(&h->u.s512);
    else
        SHA256_Init(&h->u.s256);
}

void hasher_update(struct hasher *h, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (h->alg == DIGEST_SHA512)
        SHA512_Update(&h->u.s512, p, n);
    else
        SHA256_Update(&h->u.s256, p, n);
}

static void digest_hex_encode(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digest_hexchars[in[i] >> 4];
        out[2 * i + 1] = digest_hexchars[in[i] & 0xf];
    }
    out[2 * n] = '\0';
}

void hasher_final(struct hasher *h, struct digest *out)
{
    unsigned char md[SHA512_DIGEST_LENGTH];
    size_t n;
    if (h->alg == DIGEST_SHA512) {
        SHA512_Final(md, &h->u.s512);
        n = SHA512_DIGEST_LENGTH;
    } else {
        SHA256_Final(md, &h->u.s256);
        n = SHA256_DIGEST_LENGTH;
    }
    out->alg = h->alg;
    digest_hex_encode(md, n, out->hex);
}

static size_t hasher_ctx_size(enum digest_alg alg)
{
    return alg == DIGEST_SHA512 ? sizeof(SHA512_CTX) : sizeof(SHA256_CTX);
}

/* Format: "<alg>:<sizeof ctx>:<hex of the ctx bytes>". The size tag makes a
 * state written by a build with a different struct layout fail to load
 * instead of silently producing a wrong digest. */
char *hasher_save(const struct hasher *h)
{
    size_t sz = hasher_ctx_size(h->alg);
    const unsigned char *raw = h->alg == DIGEST_SHA512 ? (const unsigned char *)&h->u.s512
                                                       : (const unsigned char *)&h->u.s256;
    char *hex = xmalloc(2 * sz + 1);
    digest_hex_encode(raw, sz, hex);
    char *s = xasprintf("%s:%zu:%s", digest_alg_name(h->alg), sz, hex);
    free(hex);
    return s;
}

static int digest_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Whether h holds a context SHA*_Update could have left: OpenSSL uses num
 * (the bytes waiting in the block) as an index into the block and md_len
 * for what Final writes, trusting both; a damaged session file must not
 * steer them out of bounds. num is also the byte count modulo the block. */
static int hasher_state_sane(const struct hasher *h)
{
    if (h->alg == DIGEST_SHA512) {
        const SHA512_CTX *c = &h->u.s512;
        return c->md_len == SHA512_DIGEST_LENGTH && c->num < SHA512_CBLOCK &&
               c->num == (c->Nl >> 3) % SHA512_CBLOCK;
    }
    const SHA256_CTX *c = &h->u.s256;
    return c->md_len == SHA256_DIGEST_LENGTH && c->num < SHA256_CBLOCK &&
           c->num == (c->Nl >> 3) % SHA256_CBLOCK;
}

int hasher_load(struct hasher *h, const char *saved)
{
    if (!saved)
        return -1;
    const char *c1 = strchr(saved, ':');
    if (!c1 || c1 - saved > 16)
        return -1;
    char algname[17];
    memcpy(algname, saved, (size_t)(c1 - saved));
    algname[c1 - saved] = '\0';
    enum digest_alg alg;
    if (digest_alg_parse(algname, &alg) < 0)
        return -1;
    size_t sz = hasher_ctx_size(alg);
    char want[32];
    int wl = snprintf(want, sizeof want, "%zu:", sz);
    if (wl < 0 || strncmp(c1 + 1, want, (size_t)wl) != 0)
        return -1;
    const char *hex = c1 + 1 + wl;
    if (strlen(hex) != 2 * sz)
        return -1;
    struct hasher tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.alg = alg;
    unsigned char *raw = alg == DIGEST_SHA512 ? (unsigned char *)&tmp.u.s512
                                              : (unsigned char *)&tmp.u.s256;
    for (size_t i = 0; i < sz; i++) {
        int hi = digest_hexval(hex[2 * i]), lo = digest_hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        raw[i] = (unsigned char)(hi << 4 | lo);
    }
    if (!hasher_state_sane(&tmp))
        return -1;
    *h = tmp;
    return 0;
}

void digest_of(enum digest_alg alg, const void *p, size_t n, struct digest *out)
{
    struct hasher h;
    hasher_init(&h, alg);
    hasher_update(&h, p, n);
    hasher_final(&h, out);
}
