/* manifest: parsing and validating pushed manifests (OCI image manifest and
 * index, Docker schema2 manifest and manifest list) with json-c, and the
 * descriptor a referrers response lists for one. */
#ifndef OCI_MANIFEST_H
#define OCI_MANIFEST_H
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "core/digest.h"

#define MT_OCI_MANIFEST  "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX     "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_V2     "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST   "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_EMPTY     "application/vnd.oci.empty.v1+json"

enum manifest_kind { MANIFEST_IMAGE = 0, MANIFEST_INDEX };

struct descriptor {
    const char *media_type;      /* borrowed from the manifest's JSON; may be NULL */
    struct digest digest;
    int64_t size;
    int skip_check;              /* non-distributable or has urls: never checked */
};

struct manifest {
    json_object *root;           /* owned */
    enum manifest_kind kind;
    const char *media_type;      /* the type it is served with (field, else Content-Type, else guessed) */
    const char *artifact_type;   /* artifactType, else config.mediaType (images); may be NULL */
    int has_config;
    struct descriptor config;
    struct descriptor *blobs;    /* layers (images) or blobs (artifacts); owned array */
    size_t nblobs;
    struct descriptor *children; /* manifests (indexes); owned array */
    size_t nchildren;
    int has_subject;
    struct digest subject;
};

/* Parse data (len bytes). content_type is the request's Content-Type (may be NULL).
 * 0 ok; -1 MANIFEST_INVALID with *err (caller frees) saying why. */
int manifest_parse(const char *data, size_t len, const char *content_type,
                   struct manifest *m, char **err);
void manifest_free(struct manifest *m);
/* The media type to serve stored bytes with (mediaType field, else a guess
 * from the shape, else MT_OCI_MANIFEST). Caller frees. */
char *manifest_sniff_media_type(const char *data, size_t len);
/* A referrers-index descriptor for manifest m stored as (d, size): mediaType,
 * digest, size, artifactType, annotations. New object (caller puts it). */
json_object *manifest_referrer_descriptor(const struct manifest *m, const struct digest *d, size_t size);

#endif
