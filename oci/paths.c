/* paths: the CNCF distribution storage layout under mfsroot (see paths.h).
 * Pure string building: no I/O, inputs already validated by the caller. */
#include <string.h>
#include "oci/paths.h"
#include "core/xalloc.h"
#include "ipfs/publisher.h"

/* The root without trailing slashes, so "/" and "/reg/" join cleanly
 * ("/" becomes "", and every path below starts with its own "/"). */
static int paths_root_len(const char *root)
{
    size_t n = strlen(root);
    while (n > 0 && root[n - 1] == '/')
        n--;
    /* a length that fits an int: MFS roots are short, config-validated paths */
    return (int)n;
}

char *path_v2(const char *root)
{
    return xasprintf("%.*s/docker/registry/v2", paths_root_len(root), root);
}

/* distribution shards blobs by the first two hex characters of the digest */
char *path_blob_data(const char *root, const struct digest *d)
{
    return xasprintf("%.*s/docker/registry/v2/blobs/%s/%.2s/%s/data", paths_root_len(root), root,
                     digest_alg_name(d->alg), d->hex, d->hex);
}

char *path_repositories(const char *root)
{
    return xasprintf("%.*s/docker/registry/v2/repositories", paths_root_len(root), root);
}

char *path_repo(const char *root, const char *name)
{
    return xasprintf("%.*s/docker/registry/v2/repositories/%s", paths_root_len(root), root, name);
}

char *path_layer_link(const char *root, const char *name, const struct digest *d)
{
    return xasprintf("%.*s/docker/registry/v2/repositories/%s/_layers/%s/%s/link",
                     paths_root_len(root), root, name, digest_alg_name(d->alg), d->hex);
}

char *path_revision_link(const char *root, const char *name, const struct digest *d)
{
    return xasprintf("%.*s/docker/registry/v2/repositories/%s/_manifests/revisions/%s/%s/link",
                     paths_root_len(root), root, name, digest_alg_name(d->alg), d->hex);
}

char *path_revisions_dir(const char *root, const char *name)
{
    return xasprintf("%.*s/docker/registry/v2/repositories/%s/_manifests/revisions",
                     paths_root_len(root), root, name);
}

char *path_tags_dir(const char *root, const char *name)
{
    return xasprintf("%.*s/docker/registry/v2/repositories/%s/_manifests/tags",
                     paths_root_len(root), root, name);
}

char *path_tag_dir(const char *root, const char *name, const char *tag)
{
    return xasprintf("%.*s/docker/registry/v2/repositories/%s/_manifests/tags/%s",
                     paths_root_len(root), root, name, tag);
}

char *path_tag_current_link(const char *root, const char *name, const char *tag)
{
    return xasprintf("%.*s/docker/registry/v2/repositories/%s/_manifests/tags/%s/current/link",
                     paths_root_len(root), root, name, tag);
}

char *path_tag_index_link(const char *root, const char *name, const char *tag, const struct digest *d)
{
    return xasprintf("%.*s/docker/registry/v2/repositories/%s/_manifests/tags/%s/index/%s/%s/link",
                     paths_root_len(root), root, name, tag, digest_alg_name(d->alg), d->hex);
}

/* Our addition: distribution never lists _referrers, so it ignores it. */
char *path_referrers_dir(const char *root, const char *name, const struct digest *subject)
{
    return xasprintf("%.*s/docker/registry/v2/repositories/%s/_referrers/%s/%s",
                     paths_root_len(root), root, name, digest_alg_name(subject->alg), subject->hex);
}

char *path_referrer_link(const char *root, const char *name, const struct digest *subject,
                         const struct digest *d)
{
    return xasprintf("%.*s/docker/registry/v2/repositories/%s/_referrers/%s/%s/%s/%s/link",
                     paths_root_len(root), root, name, digest_alg_name(subject->alg), subject->hex,
                     digest_alg_name(d->alg), d->hex);
}

char *path_upload_dir(const char *uploads, const char *upload_id)
{
    return xasprintf("%.*s/%s", paths_root_len(uploads), uploads, upload_id);
}

char *path_upload_chunk(const char *uploads, const char *upload_id, unsigned idx)
{
    return xasprintf("%.*s/%s/%u", paths_root_len(uploads), uploads, upload_id, idx);
}

char *link_content(const struct digest *d)
{
    return xasprintf("%s:%s", digest_alg_name(d->alg), d->hex);
}

char *path_uploads_root(const char *mfsroot)
{
    size_t n = strlen(mfsroot);
    while (n > 1 && mfsroot[n - 1] == '/')
        n--;
    return xasprintf("%.*s-uploads", (int)n, mfsroot);
}

const struct publisher_prefetch *paths_prefetch(size_t *n)
{
    /* Depths count links from the subtree: blobs/sha256/<2>/<digest>/data is
     * 4 deep. refs fetches every block it lists, max-depth included: at 5 it
     * would fetch every chunk of every layer (all of the root, one block at a
     * time: 64 s for 64 MiB on the fleet rig). */
    static const struct publisher_prefetch f[] = {
        { "docker/registry/v2/repositories", -1 },
        { "docker/registry/v2/blobs", 4 },
    };
    *n = sizeof f / sizeof f[0];
    return f;
}
