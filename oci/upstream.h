/* upstream: a client of one upstream registry (the pull-through mirror's
 * source, docs/design-mirror.md): manifest HEAD and GET, blob HEAD and a
 * streamed blob GET, over one reused libcurl handle (keep-alive).
 *
 * Authentication as registries do it: a 401 names a scheme; Basic gets the
 * configured credentials, Bearer a token from the realm it names (asked
 * with the credentials, or anonymously), kept per scope until shortly
 * before it expires; each request is retried once after a 401.
 *
 * Everything an upstream sends is untrusted: manifests are capped and
 * verified against the digest asked for (or the Docker-Content-Digest the
 * upstream answered with), blob bytes are the caller's to hash. Bounds: a
 * response's headers must come within timeout_ms of the request; a body
 * without progress for stall_s is cut off.
 *
 * Not thread-safe; one per worker per upstream. */
#ifndef OCI_UPSTREAM_H
#define OCI_UPSTREAM_H
#include <stdint.h>
#include "core/buf.h"
#include "core/digest.h"
#include "core/store.h"

struct upstream_opts {
    const char *url;                  /* "https://registry-1.docker.io" (no trailing '/') */
    const char *username, *password;  /* NULL: anonymous */
    long timeout_ms;                  /* connect + response headers */
    long stall_s;                     /* a body without progress this long is cut */
    uint64_t manifest_max;            /* manifests larger than this are refused */
};

enum upstream_rc {
    UPSTREAM_OK = 0,
    UPSTREAM_NOT_FOUND,     /* 404 */
    UPSTREAM_UNAVAILABLE,   /* unreachable, timed out, stalled, 5xx, 429 */
    UPSTREAM_DENIED,        /* 401/403 with the credentials (or tokens) we have */
    UPSTREAM_INVALID,       /* an answer we refuse: too large, wrong digest, malformed */
    UPSTREAM_ABORTED,       /* the caller's callback asked to stop */
    UPSTREAM_ERROR,         /* any other status */
};

/* Strings are copied. */
struct upstream *upstream_new(const struct upstream_opts *o);
void upstream_free(struct upstream *u);
/* Why the last call failed: "upstream https://...: GET /v2/...: 502". */
const char *upstream_errmsg(const struct upstream *u);

/* HEAD /v2/<repo>/manifests/<ref>: the digest the upstream names (its
 * Docker-Content-Digest; a GET when the HEAD does not say it). */
int upstream_manifest_head(struct upstream *u, const char *repo, const char *ref, struct digest *d);
/* GET the manifest into out (capped at manifest_max), verified: a ref that
 * is a digest must match, a tag's body must match the Docker-Content-Digest
 * answered (sha256 of the body if none). *d gets its digest. */
int upstream_manifest_get(struct upstream *u, const char *repo, const char *ref, struct buf *out,
                          struct digest *d);
/* HEAD /v2/<repo>/blobs/<d>: its size. */
int upstream_blob_head(struct upstream *u, const char *repo, const struct digest *d, uint64_t *size);
/* GET /v2/<repo>/blobs/<d> (redirects followed), the body to cb as it
 * arrives; *bytes counts what cb got. */
int upstream_blob_get(struct upstream *u, const char *repo, const struct digest *d, store_write_cb cb,
                      void *ctx, uint64_t *bytes);

#endif
