/* errors: the distribution spec's error codes, their HTTP statuses and
 * default messages (the spec's table; statuses as distribution answers them). */
#include <string.h>
#include "core/errors.h"

static const struct {
    const char *code;
    int status;
    const char *message;
} oci_errors[OCI_ERR_COUNT] = {
    [OCI_BLOB_UNKNOWN] = { "BLOB_UNKNOWN", 404, "blob unknown to registry" },
    [OCI_BLOB_UPLOAD_INVALID] = { "BLOB_UPLOAD_INVALID", 400, "blob upload invalid" },
    [OCI_BLOB_UPLOAD_UNKNOWN] = { "BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry" },
    [OCI_DIGEST_INVALID] = { "DIGEST_INVALID", 400, "provided digest did not match uploaded content" },
    /* 400 as the CNCF distribution registry answers: the push is a bad
     * request, not a missing resource (the spec fixes the code, not the status) */
    [OCI_MANIFEST_BLOB_UNKNOWN] = { "MANIFEST_BLOB_UNKNOWN", 400,
                                    "manifest references a manifest or blob unknown to registry" },
    [OCI_MANIFEST_INVALID] = { "MANIFEST_INVALID", 400, "manifest invalid" },
    [OCI_MANIFEST_UNKNOWN] = { "MANIFEST_UNKNOWN", 404, "manifest unknown to registry" },
    [OCI_NAME_INVALID] = { "NAME_INVALID", 400, "invalid repository name" },
    [OCI_NAME_UNKNOWN] = { "NAME_UNKNOWN", 404, "repository name not known to registry" },
    [OCI_SIZE_INVALID] = { "SIZE_INVALID", 400, "provided length did not match content length" },
    [OCI_UNAUTHORIZED] = { "UNAUTHORIZED", 401, "authentication required" },
    [OCI_DENIED] = { "DENIED", 403, "requested access to the resource is denied" },
    [OCI_UNSUPPORTED] = { "UNSUPPORTED", 405, "the operation is unsupported" },
    [OCI_TOOMANYREQUESTS] = { "TOOMANYREQUESTS", 429, "too many requests" },
    [OCI_RANGE_INVALID] = { "RANGE_INVALID", 416, "invalid content range" },
    [OCI_UNAVAILABLE] = { "UNAVAILABLE", 503, "the storage node is unavailable" },
    [OCI_INTERNAL] = { "UNKNOWN", 500, "unknown error" },
    [OCI_TOO_LARGE] = { "SIZE_INVALID", 413, "content too large" },
    [OCI_NOT_FOUND] = { "NOT_FOUND", 404, "not found" },
    [OCI_METHOD] = { "UNSUPPORTED", 405, "method not allowed" },
    /* the spec has no code for it; 507 Insufficient Storage says what to fix */
    [OCI_NO_SPACE] = { "UNKNOWN", 507, "the registry's storage is full" },
};

const char *oci_err_code(enum oci_err e)
{
    return (unsigned)e < OCI_ERR_COUNT ? oci_errors[e].code : "UNKNOWN";
}

int oci_err_status(enum oci_err e)
{
    return (unsigned)e < OCI_ERR_COUNT ? oci_errors[e].status : 500;
}

const char *oci_err_default_message(enum oci_err e)
{
    return (unsigned)e < OCI_ERR_COUNT ? oci_errors[e].message : "unknown error";
}

int oci_msg_no_space(const char *msg)
{
    return msg && (strcasestr(msg, "no space left on device") || strcasestr(msg, "disk quota exceeded"));
}
