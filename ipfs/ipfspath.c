/* ipfspath: reading immutable /ipfs/<cid>/... paths for the MFS calls that
 * Kubo only answers for MFS paths. Kubo 0.43's files/stat accepts /ipfs
 * paths, but files/read and files/ls do not ("file does not exist"), so
 * kubo_files_read and kubo_files_ls come here for them: cat and ls, which
 * answer "no link named ..." (KUBO_NOT_FOUND) for a missing entry. This is
 * what lets the MFS backend read a read-only root at /ipfs/<cid>. */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "core/xalloc.h"
#include "ipfs/kubo_internal.h"

int kubo_ipfs_is_path(const char *path)
{
    return strncmp(path, "/ipfs/", 6) == 0;
}

int kubo_ipfs_cat(struct kubo *k, const char *path, struct buf *out)
{
    struct kubo_query q;
    kubo_query_init(&q);
    kubo_query_add(&q, "arg", path);
    int rc = kubo_rpc(k, "cat", path, &q, NULL, out);
    kubo_query_free(&q);
    return rc;
}

/* Names of the links of the one object in an ls answer. */
static int kubo_ipfs_ls_names(struct kubo *k, const char *path, const struct buf *out,
                              char ***names, size_t *n)
{
    json_object *o = json_tokener_parse(buf_cstr(out));
    json_object *objs = NULL, *links = NULL;
    int rc = KUBO_OK;
    if (!o || !json_object_object_get_ex(o, "Objects", &objs) ||
        !json_object_is_type(objs, json_type_array) || json_object_array_length(objs) != 1) {
        char *what = xasprintf("ls %s", path);
        rc = kubo_fail(k, KUBO_ERROR, what, "unexpected answer: %.200s", buf_cstr(out));
        free(what);
    } else if (json_object_object_get_ex(json_object_array_get_idx(objs, 0), "Links", &links) &&
               json_object_is_type(links, json_type_array)) {
        kubo_json_names(links, names, n);
    }
    json_object_put(o);
    return rc;
}

int kubo_ipfs_ls(struct kubo *k, const char *path, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    struct kubo_query q;
    kubo_query_init(&q);
    kubo_query_add(&q, "arg", path);
    /* names only: resolving each child's type or size costs a block fetch each */
    kubo_query_add(&q, "resolve-type", "false");
    kubo_query_add(&q, "size", "false");
    kubo_query_add(&q, "stream", "false");
    struct buf out;
    buf_init(&out, KUBO_JSON_MAX);
    int rc = kubo_rpc(k, "ls", path, &q, NULL, &out);
    kubo_query_free(&q);
    if (rc == KUBO_OK)
        rc = kubo_ipfs_ls_names(k, path, &out, names, n);
    buf_free(&out);
    return rc;
}
