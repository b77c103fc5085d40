/* digest: OCI digest strings ("sha256:<64 hex>", "sha512:<128 hex>") and a
 * streaming hasher whose state can be saved and resumed by another process.
 *
 * Why the low-level SHA256_CTX/SHA512_CTX and not EVP: an upload session may be
 * continued by any worker, so the running hash state must be written to
 * statedir between chunks; EVP offers no way to export it. The low-level
 * functions use the same assembly (SHA-NI, AVX2) as EVP. */
#ifndef CORE_DIGEST_H
#define CORE_DIGEST_H
#include <stddef.h>
#include <stdint.h>
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>

enum digest_alg { DIGEST_SHA256 = 0, DIGEST_SHA512 = 1 };

#define DIGEST_HEX_MAX 128
#define DIGEST_STR_MAX (7 + DIGEST_HEX_MAX + 1)   /* "sha512:" + hex + NUL */

struct digest {
    enum digest_alg alg;
    char hex[DIGEST_HEX_MAX + 1];   /* lower-case hex, NUL-terminated */
};

enum digest_parse_rc {
    DIGEST_PARSE_OK = 0,
    DIGEST_PARSE_INVALID,       /* not "alg:encoded" per the spec grammar, or wrong hex length */
    DIGEST_PARSE_UNSUPPORTED,   /* well-formed but an algorithm we don't implement */
};

/* Parse and validate s. */
enum digest_parse_rc digest_parse(const char *s, struct digest *out);
/* True if s looks like a digest (has ':'), used to tell digests from tags. */
int digest_looks_like(const char *s);
/* "sha256" or "sha512" */
const char *digest_alg_name(enum digest_alg alg);
int digest_alg_parse(const char *name, enum digest_alg *out);   /* 0 ok, -1 unknown */
size_t digest_alg_hexlen(enum digest_alg alg);
/* Writes "alg:hex" into out (DIGEST_STR_MAX bytes). Returns out. */
char *digest_str(const struct digest *d, char out[DIGEST_STR_MAX]);
int digest_equal(const struct digest *a, const struct digest *b);

struct hasher {
    enum digest_alg alg;
    union { SHA256_CTX s256; SHA512_CTX s512; } u;
};
void hasher_init(struct hasher *h, enum digest_alg alg);
void hasher_update(struct hasher *h, const void *p, size_t n);
/* Finishes the hash (h cannot be updated afterwards). */
void hasher_final(struct hasher *h, struct digest *out);
/* Hex-encodes the running state into a new string (caller frees); tagged with
 * the algorithm and struct size so a state from another build is refused. */
char *hasher_save(const struct hasher *h);
int hasher_load(struct hasher *h, const char *saved);    /* 0 ok, -1 invalid (malformed, another build's, or a context SHA could not have left) */
/* One-shot helper. */
void digest_of(enum digest_alg alg, const void *p, size_t n, struct digest *out);

#endif
