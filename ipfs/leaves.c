/* leaves: the raw leaves a --nocopy add cuts a file into (see kubo.h).
 * Computed locally, so a caller can act on the blocks an add will make
 * before making it: boxo's Filestore.Put skips a block the node already
 * holds, so a leaf in the ordinary blockstore must go first, or the
 * filestore never records it and the node keeps its own copy. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/digest.h"
#include "core/xalloc.h"
#include "ipfs/kubo_internal.h"

/* CIDs per block/rm: keeps each query small. */
#define LEAVES_BATCH 64

void kubo_leaf_cid(const void *p, size_t n, char out[KUBO_CID_MAX])
{
    unsigned char sha[SHA256_DIGEST_LENGTH];
    SHA256(p, n, sha);
    kubo_raw_cid(sha, out);
}

ssize_t kubo_leaf_next(int fd, char *buf)
{
    size_t got = 0;
    while (got < KUBO_LEAF_SIZE) {
        ssize_t r = read(fd, buf + got, KUBO_LEAF_SIZE - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int leaves_rm_batch(struct kubo *k, const char *path, char cids[][KUBO_CID_MAX], size_t n)
{
    struct kubo_query q;
    kubo_query_init(&q);
    for (size_t i = 0; i < n; i++)
        kubo_query_add(&q, "arg", cids[i]);
    /* force: a leaf the node does not hold is no error */
    kubo_query_add(&q, "force", "true");
    int rc = kubo_rpc(k, "block/rm", path, &q, NULL, NULL);
    kubo_query_free(&q);
    return rc;
}

int kubo_leaves_rm(struct kubo *k, const char *path, uint64_t *nleaves)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kubo_fail(k, KUBO_ERROR, "block/rm the leaves of", "open %s: %s", path, strerror(errno));
    char *leaf = xmalloc(KUBO_LEAF_SIZE);
    char (*cids)[KUBO_CID_MAX] = xcalloc(LEAVES_BATCH, sizeof *cids);
    size_t n = 0;
    uint64_t total = 0;
    int rc = KUBO_OK;
    for (;;) {
        ssize_t got = kubo_leaf_next(fd, leaf);
        if (got < 0) {
            rc = kubo_fail(k, KUBO_ERROR, "block/rm the leaves of", "read %s: %s", path, strerror(errno));
            break;
        }
        if (got == 0)
            break;
        kubo_leaf_cid(leaf, (size_t)got, cids[n++]);
        total++;
        if (n == LEAVES_BATCH) {
            rc = leaves_rm_batch(k, path, cids, n);
            n = 0;
            if (rc != KUBO_OK)
                break;
        }
        if ((size_t)got < KUBO_LEAF_SIZE)
            break;
    }
    if (rc == KUBO_OK && n)
        rc = leaves_rm_batch(k, path, cids, n);
    if (nleaves)
        *nleaves = total;
    free(cids);
    free(leaf);
    close(fd);
    return rc;
}
