/* gc_tags: a repository's tags for the mark, read in one gateway request:
 * its _manifests/tags directory (in the collection's snapshot) as a tar
 * archive, each <tag>/current/link taken from it. One RPC per tag was most
 * of what a collection asked of Kubo (50,000 reads over 1,000 repositories
 * x 50 tags), and Kubo's CPU is the workers' too. */
#include <stdlib.h>
#include <string.h>
#include "core/xalloc.h"
#include "ipfs/kubo.h"
#include "ipfs/tar.h"
#include "oci/gc_internal.h"

struct gc_tags_read {
    struct tar_reader t;
    struct digest *tags;
    size_t ntags;
    char **bad;                  /* tags whose link holds no digest */
    size_t nbad;
};

/* <root>/<tag>/current/link: the tag's target. Everything else (the
 * directories, index/ history links) is not needed for the mark. */
static int gc_tags_file(const char *name, const char *data, size_t len, void *arg)
{
    struct gc_tags_read *x = arg;
    const char *tag = strchr(name, '/');
    if (!tag)
        return 0;
    tag++;
    const char *end = strchr(tag, '/');
    if (!end || strcmp(end, "/current/link") != 0)
        return 0;
    struct digest d;
    char s[TAR_DATA_MAX + 1] = "";
    if (data) {
        while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
            len--;
        memcpy(s, data, len);
        s[len] = '\0';
    }
    if (data && digest_parse(s, &d) == DIGEST_PARSE_OK) {
        gc_digest_push(&x->tags, &x->ntags, &d);
    } else {
        x->bad = xrealloc(x->bad, (x->nbad + 1) * sizeof *x->bad);
        x->bad[x->nbad++] = xstrndup(tag, (size_t)(end - tag));
    }
    return 0;
}

static int gc_tags_write(void *ctx, const char *p, size_t n)
{
    struct gc_tags_read *x = ctx;
    return tar_feed(&x->t, p, n) < 0 ? -1 : 0;
}

int gc_tags_tar(struct gc *c, const char *repo, const char *snap, struct digest **tags, size_t *ntags,
                int *unsure)
{
    struct gc_tags_read x;
    memset(&x, 0, sizeof x);
    tar_init(&x.t, gc_tags_file, &x);
    /* snap is /ipfs/<cid>: the gateway takes <cid>/<path> */
    char *path = xasprintf("%s/_manifests/tags", snap + strlen("/ipfs/"));
    int krc = kubo_gateway_tar(c->k, path, gc_tags_write, &x);
    free(path);
    int rc = 1;
    if (krc == KUBO_NOT_FOUND) {
        rc = 0;   /* no tags directory: no tags */
    } else if (krc != KUBO_OK || !tar_complete(&x.t)) {
        gc_say(c, "note: %s: its tags are read one by one (the gateway's archive of them could not be used: %s)",
               repo, krc != KUBO_OK ? kubo_errmsg(c->k) : "incomplete or malformed");
    } else {
        rc = 0;
        for (size_t i = 0; i < x.nbad; i++)
            gc_problem(c, "%s:%s: its link holds no digest; the repository keeps everything", repo, x.bad[i]);
        if (x.nbad)
            *unsure = 1;
        *tags = x.tags;
        *ntags = x.ntags;
        x.tags = NULL;
    }
    for (size_t i = 0; i < x.nbad; i++)
        free(x.bad[i]);
    free(x.bad);
    free(x.tags);
    tar_free(&x.t);
    return rc;
}
