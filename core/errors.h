/* errors: the distribution spec's error codes and their HTTP statuses. */
#ifndef CORE_ERRORS_H
#define CORE_ERRORS_H

enum oci_err {
    OCI_BLOB_UNKNOWN = 0,
    OCI_BLOB_UPLOAD_INVALID,
    OCI_BLOB_UPLOAD_UNKNOWN,
    OCI_DIGEST_INVALID,
    OCI_MANIFEST_BLOB_UNKNOWN,
    OCI_MANIFEST_INVALID,
    OCI_MANIFEST_UNKNOWN,
    OCI_NAME_INVALID,
    OCI_NAME_UNKNOWN,
    OCI_SIZE_INVALID,
    OCI_UNAUTHORIZED,
    OCI_DENIED,
    OCI_UNSUPPORTED,
    OCI_TOOMANYREQUESTS,
    OCI_RANGE_INVALID,      /* 416 on out-of-order chunks (distribution uses this code) */
    OCI_UNAVAILABLE,        /* 503: the IPFS node is unreachable */
    OCI_INTERNAL,           /* 500 */
    OCI_TOO_LARGE,          /* 413 (code SIZE_INVALID in the body) */
    OCI_NOT_FOUND,          /* 404 for a path that is no endpoint (code NOT_FOUND) */
    OCI_METHOD,             /* 405 (code UNSUPPORTED) */
    OCI_NO_SPACE,           /* 507: a disk the registry writes to is full (code UNKNOWN) */
    OCI_ERR_COUNT
};

const char *oci_err_code(enum oci_err e);     /* "BLOB_UNKNOWN", ... */
int oci_err_status(enum oci_err e);           /* 404, 400, ... */
const char *oci_err_default_message(enum oci_err e);

/* Does an error message (errno text, or one passed on from the IPFS node)
 * say that a disk is full? ENOSPC and EDQUOT, in the words strerror and Go
 * use for them. */
int oci_msg_no_space(const char *msg);

#endif
