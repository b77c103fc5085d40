/* h_common: the helpers the handlers (core/registry/h_*.c) share. They know
 * struct registry (its store and options) but call nothing in registry.c,
 * so the calls run one way: registry.c -> h_*.c -> h_common.c. */
#ifndef CORE_REGISTRY_H_COMMON_H
#define CORE_REGISTRY_H_COMMON_H
#include <stddef.h>
#include "core/digest.h"
#include "core/errors.h"
#include "core/http.h"
#include "core/registry/registry.h"
#include "core/registry/router.h"

/* Answers a failed store call: NOT_FOUND as not_found (with its default
 * message), UNAVAILABLE as 503, ABORTED by aborting, anything else as 500.
 * what says what was being done, for the log and the error detail. */
void h_store_fail(struct registry *reg, struct response *resp, int rc,
                  enum oci_err not_found, const char *what);
/* Parses a digest from the request; on failure answers 400 DIGEST_INVALID and returns -1. */
int h_digest(struct response *resp, const char *s, struct digest *d);
/* A JSON body with Content-Type and Content-Length. */
void h_json(struct response *resp, int status, const char *content_type, const char *json);
/* Answers with body json, paginated per ?n=&last= over sorted names: shared by
 * tags/list and _catalog. key is "tags" or "repositories"; name is the
 * repository (for tags) or NULL; base the path for the Link header. */
void h_paginate(struct request *req, struct response *resp, char **names, size_t n,
                const char *key, const char *name, const char *base);

#endif
