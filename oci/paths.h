/* paths: where things live under mfsroot, in the CNCF distribution
 * registry's storage layout (registry/storage/paths.go), plus this registry's
 * own additions beside it. Every function returns a new string (caller frees).
 * Inputs must already be validated (name_valid, tag_valid, digest_parse).
 *
 *   <root>/docker/registry/v2/blobs/<alg>/<2 hex>/<hex>/data
 *   <root>/docker/registry/v2/repositories/<name>/_layers/<alg>/<hex>/link
 *   <root>/docker/registry/v2/repositories/<name>/_manifests/revisions/<alg>/<hex>/link
 *   <root>/docker/registry/v2/repositories/<name>/_manifests/tags/<tag>/current/link
 *   <root>/docker/registry/v2/repositories/<name>/_manifests/tags/<tag>/index/<alg>/<hex>/link
 * additions (ignored by distribution, which never lists these directories):
 *   <root>/docker/registry/v2/repositories/<name>/_referrers/<alg>/<subject hex>/<alg>/<hex>/link
 *   <uploads>/<upload id>/<chunk index>          staged chunks, outside root so never published
 */
#ifndef OCI_PATHS_H
#define OCI_PATHS_H
#include "core/digest.h"

struct publisher_prefetch;

char *path_v2(const char *root);                     /* <root>/docker/registry/v2 */
char *path_blob_data(const char *root, const struct digest *d);
char *path_repositories(const char *root);           /* <root>/docker/registry/v2/repositories */
char *path_repo(const char *root, const char *name);
char *path_layer_link(const char *root, const char *name, const struct digest *d);
char *path_revision_link(const char *root, const char *name, const struct digest *d);
char *path_revisions_dir(const char *root, const char *name);   /* .../_manifests/revisions */
char *path_tags_dir(const char *root, const char *name);        /* .../_manifests/tags */
char *path_tag_dir(const char *root, const char *name, const char *tag);
char *path_tag_current_link(const char *root, const char *name, const char *tag);
char *path_tag_index_link(const char *root, const char *name, const char *tag, const struct digest *d);
char *path_referrers_dir(const char *root, const char *name, const struct digest *subject);
char *path_referrer_link(const char *root, const char *name, const struct digest *subject,
                         const struct digest *d);
/* <mfsroot>-uploads (trailing slashes of mfsroot dropped): where uploads
 * stage their chunks, outside the published root. */
char *path_uploads_root(const char *mfsroot);
char *path_upload_dir(const char *uploads, const char *upload_id);
char *path_upload_chunk(const char *uploads, const char *upload_id, unsigned idx);
/* What the resolver fetches of a read-only root before pinning it
 * (publisher_opts.prefetch): every repository link, and each blob's first
 * block (the whole of a manifest). */
const struct publisher_prefetch *paths_prefetch(size_t *n);
/* The content of a link file: "sha256:<hex>" (no newline, as distribution writes it). */
char *link_content(const struct digest *d);

#endif
