/* mfs: the files commands of Kubo's RPC API (see kubo.h). Every command
 * keeps Kubo's default flush=true, so a change is in the MFS root when the
 * call returns.
 *
 * Changes are serialized (kubo_set_mfs_lock): Kubo's MFS loses writes that
 * run concurrently. Each change flushes its parent directory, and a flush
 * drops that directory's cache of child objects; a concurrent call still
 * holding one of the dropped children writes into it, then propagates that
 * child's stale node upwards over whatever a fresh copy received meanwhile.
 * Seen with 8 parallel blob uploads into a new repository: each PUT got 201,
 * and afterwards some _layers/<hex>/ held no link (files/write even answered
 * "file does not exist" or "already has entry" now and then). One change at
 * a time, each propagated to the root before the next looks anything up,
 * leaves no stale object to write through. Reads need no lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <json-c/json.h>
#include "core/xalloc.h"
#include "ipfs/kubo_internal.h"

int kubo_set_mfs_lock(struct kubo *k, const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        kubo_fail(k, KUBO_ERROR, "MFS lock", "%s: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    if (k->mfs_lock_fd >= 0)
        close(k->mfs_lock_fd);
    k->mfs_lock_fd = fd;
    return 0;
}

/* Blocking: a holder makes one RPC call, which the client's timeouts bound,
 * and a holder that dies releases the lock with its file descriptor. */
void kubo_mfs_lock(struct kubo *k)
{
    if (k->mfs_lock_fd < 0)
        return;
    while (flock(k->mfs_lock_fd, LOCK_EX) < 0 && errno == EINTR)
        ;
}

void kubo_mfs_unlock(struct kubo *k)
{
    if (k->mfs_lock_fd >= 0)
        flock(k->mfs_lock_fd, LOCK_UN);
}

/* The command with one arg and the given extra key=value pairs (NULL-ended). */
static int mfs_call(struct kubo *k, const char *cmd, const char *path, struct buf *out,
                    const char *const *opts)
{
    struct kubo_query q;
    kubo_query_init(&q);
    kubo_query_add(&q, "arg", path);
    for (size_t i = 0; opts && opts[i]; i += 2)
        kubo_query_add(&q, opts[i], opts[i + 1]);
    int rc = kubo_rpc(k, cmd, path, &q, NULL, out);
    kubo_query_free(&q);
    return rc;
}

int kubo_files_stat(struct kubo *k, const char *path, struct kubo_stat *st)
{
    struct buf out;
    buf_init(&out, KUBO_JSON_MAX);
    int rc = mfs_call(k, "files/stat", path, &out, NULL);
    if (rc != KUBO_OK) {
        buf_free(&out);
        return rc;
    }
    char *what = xasprintf("files/stat %s", path);
    rc = kubo_json_cid(k, what, &out, "Hash", 0, st->cid);
    json_object *o = json_tokener_parse(buf_cstr(&out));
    json_object *size, *type;
    if (rc == KUBO_OK) {
        if (!o || !json_object_object_get_ex(o, "Size", &size) ||
            !json_object_is_type(size, json_type_int) || json_object_get_int64(size) < 0 ||
            !json_object_object_get_ex(o, "Type", &type) ||
            !json_object_is_type(type, json_type_string)) {
            rc = kubo_fail(k, KUBO_ERROR, what, "unexpected answer: %.200s", buf_cstr(&out));
        } else {
            st->type = strcmp(json_object_get_string(type), "directory") == 0 ? KUBO_DIR : KUBO_FILE;
            st->size = st->type == KUBO_DIR ? 0 : (uint64_t)json_object_get_int64(size);
        }
    }
    json_object_put(o);
    free(what);
    buf_free(&out);
    return rc;
}

int kubo_files_read(struct kubo *k, const char *path, struct buf *out)
{
    if (kubo_ipfs_is_path(path))
        return kubo_ipfs_cat(k, path, out);
    return mfs_call(k, "files/read", path, out, NULL);
}

int kubo_files_write(struct kubo *k, const char *path, const void *data, size_t len)
{
    static const char *const opts[] = {
        "create", "true", "truncate", "true", "parents", "true",
        "cid-version", "1", "raw-leaves", "true", NULL,
    };
    struct kubo_query q;
    kubo_query_init(&q);
    kubo_query_add(&q, "arg", path);
    for (size_t i = 0; opts[i]; i += 2)
        kubo_query_add(&q, opts[i], opts[i + 1]);
    curl_mime *mime;
    curl_mimepart *part = kubo_mime_file(k, &mime, "data", "application/octet-stream");
    /* Copied by curl: fine, these are link files of a few dozen bytes. */
    curl_mime_data(part, len ? data : "", len);
    kubo_mfs_lock(k);
    int rc = kubo_rpc(k, "files/write", path, &q, mime, NULL);
    kubo_mfs_unlock(k);
    curl_mime_free(mime);
    kubo_query_free(&q);
    return rc;
}

int kubo_files_ls(struct kubo *k, const char *path, char ***names, size_t *n)
{
    /* U: directory order; sorting a big directory is work nobody wants. */
    static const char *const opts[] = { "long", "false", "U", "true", NULL };
    if (kubo_ipfs_is_path(path))
        return kubo_ipfs_ls(k, path, names, n);
    *names = NULL;
    *n = 0;
    struct buf out;
    buf_init(&out, KUBO_JSON_MAX);
    int rc = mfs_call(k, "files/ls", path, &out, opts);
    if (rc != KUBO_OK) {
        buf_free(&out);
        return rc;
    }
    json_object *o = json_tokener_parse(buf_cstr(&out));
    json_object *entries = NULL;
    if (!o || !json_object_object_get_ex(o, "Entries", &entries)) {
        char *what = xasprintf("files/ls %s", path);
        rc = kubo_fail(k, KUBO_ERROR, what, "unexpected answer: %.200s", buf_cstr(&out));
        free(what);
    } else if (json_object_is_type(entries, json_type_array)) {
        /* Entries is null, not [], for an empty directory. */
        kubo_json_names(entries, names, n);
    }
    json_object_put(o);
    buf_free(&out);
    return rc;
}

int kubo_files_cp(struct kubo *k, const char *src, const char *dst)
{
    struct kubo_query q;
    kubo_query_init(&q);
    kubo_query_add(&q, "arg", src);
    kubo_query_add(&q, "arg", dst);
    kubo_query_add(&q, "parents", "true");
    char *arg = xasprintf("%s %s", src, dst);
    kubo_mfs_lock(k);
    int rc = kubo_rpc(k, "files/cp", arg, &q, NULL, NULL);
    kubo_mfs_unlock(k);
    free(arg);
    kubo_query_free(&q);
    return rc;
}

int kubo_files_rm(struct kubo *k, const char *path, int recursive)
{
    static const char *const opts[] = { "recursive", "true", NULL };
    /* files/rm answers 200 and reports "does not exist" in the body and the
     * trailer; kubo_rpc needs the body to tell NOT_FOUND from other errors. */
    struct buf out;
    buf_init(&out, KUBO_ERRBODY_MAX);
    kubo_mfs_lock(k);
    int rc = mfs_call(k, "files/rm", path, &out, recursive ? opts : NULL);
    kubo_mfs_unlock(k);
    buf_free(&out);
    return rc;
}

int kubo_files_mkdir(struct kubo *k, const char *path)
{
    static const char *const opts[] = { "parents", "true", NULL };
    kubo_mfs_lock(k);
    int rc = mfs_call(k, "files/mkdir", path, NULL, opts);
    kubo_mfs_unlock(k);
    return rc;
}

int kubo_files_flush(struct kubo *k, const char *path, char cid_out[KUBO_CID_MAX])
{
    struct buf out;
    buf_init(&out, KUBO_JSON_MAX);
    kubo_mfs_lock(k);
    int rc = mfs_call(k, "files/flush", path, &out, NULL);
    kubo_mfs_unlock(k);
    if (rc == KUBO_OK && cid_out) {
        char *what = xasprintf("files/flush %s", path);
        rc = kubo_json_cid(k, what, &out, "Cid", 0, cid_out);
        free(what);
    }
    buf_free(&out);
    return rc;
}

int kubo_files_replace(struct kubo *k, const char *src, const char *dst)
{
    struct kubo_query q;
    struct buf out;
    buf_init(&out, KUBO_ERRBODY_MAX);
    kubo_mfs_lock(k);
    int rc = mfs_call(k, "files/rm", dst, &out, (const char *const[]){ "recursive", "true", NULL });
    buf_free(&out);
    if (rc == KUBO_OK || rc == KUBO_NOT_FOUND) {
        kubo_query_init(&q);
        kubo_query_add(&q, "arg", src);
        kubo_query_add(&q, "arg", dst);
        kubo_query_add(&q, "parents", "true");
        char *arg = xasprintf("%s %s", src, dst);
        rc = kubo_rpc(k, "files/cp", arg, &q, NULL, NULL);
        free(arg);
        kubo_query_free(&q);
    }
    kubo_mfs_unlock(k);
    return rc;
}
