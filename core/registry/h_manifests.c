/* h_manifests: GET/HEAD, PUT and DELETE of /v2/<name>/manifests/<reference>.
 * A pushed manifest is read whole (capped at max_manifest_size), hashed,
 * validated and its references checked before anything is stored. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/registry/handlers.h"
#include "core/registry/h_common.h"
#include "core/gcmark.h"
#include "core/log.h"
#include "core/names.h"
#include "core/query.h"
#include "core/xalloc.h"
#include "oci/manifest.h"

/* Resolves a tag or digest reference to a digest. On failure it has answered
 * and returns -1. */
static int resolve(struct registry *reg, struct response *resp, const struct route *rt,
                   struct digest *d)
{
    struct store *st = reg->store;
    int rc;

    if (digest_looks_like(rt->ref))
        return h_digest(resp, rt->ref, d);
    if (!tag_valid(rt->ref)) {
        resp_error(resp, OCI_MANIFEST_INVALID, "invalid tag", rt->ref);
        return -1;
    }
    rc = st->ops->tag_resolve(st, rt->name, rt->ref, d);
    if (rc != STORE_OK) {
        h_store_fail(reg, resp, rc, OCI_MANIFEST_UNKNOWN, "tag resolve");
        return -1;
    }
    return 0;
}

/* Reads manifest d of name into b and checks it still matches its digest. */
static int load(struct registry *reg, struct response *resp, const char *name,
                const struct digest *d, struct buf *b)
{
    struct store *st = reg->store;
    struct digest check;
    char ds[DIGEST_STR_MAX];
    int rc;

    rc = st->ops->manifest_get(st, name, d, b);
    if (rc != STORE_OK) {
        h_store_fail(reg, resp, rc, OCI_MANIFEST_UNKNOWN, "manifest read");
        return -1;
    }
    digest_of(d->alg, b->data ? b->data : "", b->len, &check);
    if (!digest_equal(&check, d)) {
        log_error("manifest %s in %s: stored bytes do not match their digest", digest_str(d, ds), name);
        resp_error(resp, OCI_INTERNAL, "stored manifest is corrupt", NULL);
        return -1;
    }
    return 0;
}

void h_manifest_get(struct registry *reg, struct request *req, struct response *resp,
                    const struct route *rt)
{
    struct digest d;
    struct buf b;
    char ds[DIGEST_STR_MAX];
    char *mt;

    if (resolve(reg, resp, rt, &d) < 0)
        return;
    buf_init(&b, reg->opts.max_manifest_size);
    if (load(reg, resp, rt->name, &d, &b) == 0) {
        mt = manifest_sniff_media_type(buf_cstr(&b), b.len);
        digest_str(&d, ds);
        resp_status(resp, 200);
        resp_header(resp, "Content-Type", "%s", mt);
        resp_header(resp, "Content-Length", "%zu", b.len);
        resp_header(resp, "Docker-Content-Digest", "%s", ds);
        resp_header(resp, "ETag", "\"%s\"", ds);
        if (b.len)
            resp_write(resp, b.data, b.len);
        resp_finish(resp);
        free(mt);
    }
    buf_free(&b);
}

/* Marks the manifest and every digest it names for garbage collection
 * (core/gcmark.h) before check_references looks at them: a collection
 * running meanwhile then either removed them first (and the check fails,
 * a retryable MANIFEST_BLOB_UNKNOWN) or keeps them. 0, or -1 having answered. */
static int mark_references(struct registry *reg, struct response *resp, const struct digest *d,
                           const struct manifest *m)
{
    const char *sd = reg->opts.statedir;
    int bad = 0;
    if (!sd)
        return 0;
    bad |= gcmark_touch(sd, d) < 0;
    if (m->has_config)
        bad |= gcmark_touch(sd, &m->config.digest) < 0;
    for (size_t i = 0; i < m->nblobs && !bad; i++)
        bad |= gcmark_touch(sd, &m->blobs[i].digest) < 0;
    for (size_t i = 0; i < m->nchildren && !bad; i++)
        bad |= gcmark_touch(sd, &m->children[i].digest) < 0;
    if (!bad)
        return 0;
    log_error("manifest put: cannot write garbage collection markers in %s/gc: %s", sd, strerror(errno));
    resp_error(resp, errno == ENOSPC ? OCI_NO_SPACE : OCI_INTERNAL,
               "cannot record the manifest's references for garbage collection", NULL);
    return -1;
}

/* Every descriptor the manifest names must already be in the repository,
 * unless allow_sparse. Returns 0, or -1 having answered. */
static int check_references(struct registry *reg, struct response *resp, const char *name,
                            const struct manifest *m)
{
    struct store *st = reg->store;
    char ds[DIGEST_STR_MAX];
    struct store_blob b = { 0 };
    int rc;

    if (reg->opts.allow_sparse)
        return 0;
    if (m->has_config) {
        rc = st->ops->blob_stat(st, name, &m->config.digest, &b);
        if (rc == STORE_NOT_FOUND) {
            resp_error(resp, OCI_MANIFEST_BLOB_UNKNOWN, "config blob not in this repository",
                       digest_str(&m->config.digest, ds));
            return -1;
        }
        if (rc != STORE_OK)
            goto fail;
    }
    for (size_t i = 0; i < m->nblobs; i++) {
        if (m->blobs[i].skip_check)
            continue;
        rc = st->ops->blob_stat(st, name, &m->blobs[i].digest, &b);
        if (rc == STORE_NOT_FOUND) {
            resp_error(resp, OCI_MANIFEST_BLOB_UNKNOWN, "layer blob not in this repository",
                       digest_str(&m->blobs[i].digest, ds));
            return -1;
        }
        if (rc != STORE_OK)
            goto fail;
    }
    for (size_t i = 0; i < m->nchildren; i++) {
        rc = st->ops->manifest_exists(st, name, &m->children[i].digest);
        if (rc == STORE_NOT_FOUND) {
            resp_error(resp, OCI_MANIFEST_BLOB_UNKNOWN, "manifest not in this repository",
                       digest_str(&m->children[i].digest, ds));
            return -1;
        }
        if (rc != STORE_OK)
            goto fail;
    }
    return 0;
fail:
    h_store_fail(reg, resp, rc, OCI_MANIFEST_BLOB_UNKNOWN, "manifest reference check");
    return -1;
}

/* The tags a push sets: the reference (when it is a tag) and every ?tag=.
 * Returns the list (caller frees with strv_free), or NULL having answered. */
static char **push_tags(struct request *req, struct response *resp, const struct route *rt,
                        int by_digest, size_t *n)
{
    size_t nq = 0;
    char **q = query_get_all(req->query, "tag", &nq);
    char **tags = xcalloc(nq + 2, sizeof *tags);

    *n = 0;
    if (!by_digest)
        tags[(*n)++] = xstrdup(rt->ref);
    for (size_t i = 0; i < nq; i++) {
        if (!tag_valid(q[i])) {
            resp_error(resp, OCI_MANIFEST_INVALID, "invalid tag parameter", q[i]);
            strv_free(q, nq);
            strv_free(tags, *n);
            return NULL;
        }
        tags[(*n)++] = xstrdup(q[i]);
    }
    strv_free(q, nq);
    return tags;
}

void h_manifest_put(struct registry *reg, struct request *req, struct response *resp,
                    const struct route *rt)
{
    struct store *st = reg->store;
    int by_digest = digest_looks_like(rt->ref);
    struct digest want, got;
    enum digest_alg alg = DIGEST_SHA256;
    struct manifest m;
    struct buf body;
    char ds[DIGEST_STR_MAX], ss[DIGEST_STR_MAX];
    char *err = NULL, *qalg = NULL;
    char **tags = NULL;
    size_t ntags = 0;
    int rc, parsed = 0;

    buf_init(&body, reg->opts.max_manifest_size);
    if (by_digest) {
        if (h_digest(resp, rt->ref, &want) < 0)
            goto out;
        alg = want.alg;
    } else if (!tag_valid(rt->ref)) {
        resp_error(resp, OCI_MANIFEST_INVALID, "invalid tag", rt->ref);
        goto out;
    } else if ((qalg = query_get(req->query, "digest-algorithm")) && *qalg &&
               digest_alg_parse(qalg, &alg) < 0) {
        resp_error(resp, OCI_DIGEST_INVALID, "unsupported digest-algorithm", qalg);
        goto out;
    }
    if (req->content_length > 0 && (uint64_t)req->content_length > reg->opts.max_manifest_size) {
        resp_error(resp, OCI_TOO_LARGE, "manifest larger than this registry accepts", NULL);
        goto out;
    }
    rc = req_read_all(req, &body);
    if (rc == -2) {
        resp_error(resp, OCI_TOO_LARGE, "manifest larger than this registry accepts", NULL);
        goto out;
    }
    if (rc < 0) {
        resp_error(resp, OCI_MANIFEST_INVALID, "request body ended early", NULL);
        goto out;
    }
    digest_of(alg, buf_cstr(&body), body.len, &got);
    if (by_digest && !digest_equal(&got, &want)) {
        resp_error(resp, OCI_DIGEST_INVALID, "the manifest does not match the digest it was pushed by",
                   digest_str(&got, ds));
        goto out;
    }
    if (manifest_parse(buf_cstr(&body), body.len, req_header(req, "CONTENT_TYPE"), &m, &err) < 0) {
        resp_error(resp, OCI_MANIFEST_INVALID, "invalid manifest", err);
        goto out;
    }
    parsed = 1;
    if (mark_references(reg, resp, &got, &m) < 0 || check_references(reg, resp, rt->name, &m) < 0)
        goto out;
    if (!(tags = push_tags(req, resp, rt, by_digest, &ntags)))
        goto out;
    rc = st->ops->manifest_put(st, rt->name, &got, buf_cstr(&body), body.len, tags, ntags,
                               m.has_subject ? &m.subject : NULL);
    if (rc != STORE_OK) {
        h_store_fail(reg, resp, rc, OCI_NAME_UNKNOWN, "manifest put");
        goto out;
    }
    digest_str(&got, ds);
    resp_status(resp, 201);
    resp_header(resp, "Location", "/v2/%s/manifests/%s", rt->name, ds);
    resp_header(resp, "Docker-Content-Digest", "%s", ds);
    if (m.has_subject)
        resp_header(resp, "OCI-Subject", "%s", digest_str(&m.subject, ss));
    for (size_t i = by_digest ? 0 : 1; i < ntags; i++)
        resp_header(resp, "OCI-Tag", "%s", tags[i]);
    char at[STORE_CID_MAX + 512];
    if (st->ops->published_at && st->ops->published_at(st, rt->name, at, sizeof at) == STORE_OK)
        resp_header(resp, "OCI-IPFS-Root", "%s", at);   /* a pushed layout's immutable address */
    resp_header(resp, "Content-Length", "0");
    resp_finish(resp);
out:
    if (parsed)
        manifest_free(&m);
    strv_free(tags, ntags);
    free(err);
    free(qalg);
    buf_free(&body);
}

void h_manifest_delete(struct registry *reg, struct request *req, struct response *resp,
                       const struct route *rt)
{
    struct store *st = reg->store;
    struct manifest m;
    struct digest d;
    struct buf b;
    char *err = NULL;
    int rc, parsed = 0;

    if (!digest_looks_like(rt->ref)) {
        if (!tag_valid(rt->ref)) {
            resp_error(resp, OCI_MANIFEST_INVALID, "invalid tag", rt->ref);
            return;
        }
        rc = st->ops->tag_delete(st, rt->name, rt->ref);
        if (rc != STORE_OK) {
            h_store_fail(reg, resp, rc, OCI_MANIFEST_UNKNOWN, "tag delete");
            return;
        }
        goto done;
    }
    if (h_digest(resp, rt->ref, &d) < 0)
        return;
    /* The subject is needed to drop the referrer entry with the manifest. */
    buf_init(&b, reg->opts.max_manifest_size);
    if (load(reg, resp, rt->name, &d, &b) < 0) {
        buf_free(&b);
        return;
    }
    parsed = manifest_parse(buf_cstr(&b), b.len, NULL, &m, &err) == 0;
    rc = st->ops->manifest_delete(st, rt->name, &d, parsed && m.has_subject ? &m.subject : NULL);
    if (parsed)
        manifest_free(&m);
    free(err);
    buf_free(&b);
    if (rc != STORE_OK) {
        h_store_fail(reg, resp, rc, OCI_MANIFEST_UNKNOWN, "manifest delete");
        return;
    }
done:
    resp_status(resp, 202);
    resp_header(resp, "Content-Length", "0");
    resp_finish(resp);
}
