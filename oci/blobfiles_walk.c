/* blobfiles_walk: every blob file below blobdir, and every blob MFS links
 * (see blobfiles_admin.h).
 * Only names of the layout count: <alg>/<xx>/<hex> as blobfile_parse_rel
 * takes them; dot-names (.uploads, .damaged) and anything else are left. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/blobfile.h"
#include "core/xalloc.h"
#include "ipfs/kubo.h"
#include "oci/blobfiles_admin.h"
#include "oci/paths.h"

/* Calls fn(ctx, dir/name, name) for each entry of dir but dot-names.
 * 0, 1 when fn stopped, -1 with errno (and *where) when dir cannot be read. */
typedef int (*walk_entry_fn)(void *ctx, const char *path, const char *name);

static int walk_dir(const char *dir, walk_entry_fn fn, void *ctx, char **where)
{
    DIR *d = opendir(dir);
    if (!d && errno == ENOTDIR)
        return 0;   /* a stray file where a directory of the layout would be */
    if (!d) {
        *where = xstrdup(dir);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    errno = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *p = xasprintf("%s/%s", dir, e->d_name);
        rc = fn(ctx, p, e->d_name);
        free(p);
        errno = 0;
    }
    if (rc == 0 && errno != 0) {
        *where = xstrdup(dir);
        rc = -1;
    }
    int er = errno;
    closedir(d);
    errno = er;
    return rc;
}

struct walk {
    const char *blobdir;
    blobfiles_fn fn;
    void *ctx;
    char **where;
    const char *alg;      /* the current level's names */
    const char *fan;
};

static int walk_file(void *ctx, const char *path, const char *name)
{
    struct walk *w = ctx;
    char rel[BLOBFILE_REL_MAX + 16];
    struct digest d;
    if ((size_t)snprintf(rel, sizeof rel, "%s/%s/%s", w->alg, w->fan, name) >= sizeof rel ||
        blobfile_parse_rel(rel, &d) < 0)
        return 0;   /* not a blob file's name */
    return w->fn(w->ctx, path, &d) < 0 ? 1 : 0;
}

static int walk_fan(void *ctx, const char *path, const char *name)
{
    struct walk *w = ctx;
    if (strlen(name) != 2)
        return 0;
    w->fan = name;
    return walk_dir(path, walk_file, w, w->where);
}

static int walk_alg(void *ctx, const char *path, const char *name)
{
    struct walk *w = ctx;
    enum digest_alg a;
    if (digest_alg_parse(name, &a) < 0)
        return 0;
    w->alg = name;
    return walk_dir(path, walk_fan, w, w->where);
}

int blobfiles_walk(const char *blobdir, blobfiles_fn fn, void *ctx, char **where)
{
    struct walk w = { .blobdir = blobdir, .fn = fn, .ctx = ctx, .where = where };
    *where = NULL;
    int rc = walk_dir(blobdir, walk_alg, &w, where);
    return rc < 0 ? -1 : 0;
}

/* ---- the blobs MFS links ---- */

/* Names of dir; none when dir does not exist. KUBO_* */
static int mfs_ls(struct kubo *k, const char *dir, char ***names, size_t *n)
{
    int krc = kubo_files_ls(k, dir, names, n);
    if (krc == KUBO_NOT_FOUND) {
        *names = NULL;
        *n = 0;
        return KUBO_OK;
    }
    return krc;
}

int blobfiles_mfs_walk(struct kubo *k, const char *mfsroot, blobfiles_mfs_fn fn, void *ctx)
{
    char *v2 = path_v2(mfsroot);
    char *top = xasprintf("%s/blobs", v2);
    free(v2);
    char **algs, **fans, **hexes;
    size_t na, nf, nh;
    int krc = mfs_ls(k, top, &algs, &na);
    for (size_t a = 0; krc == KUBO_OK && a < na; a++) {
        enum digest_alg alg;
        if (digest_alg_parse(algs[a], &alg) < 0)
            continue;
        char *adir = xasprintf("%s/%s", top, algs[a]);
        krc = mfs_ls(k, adir, &fans, &nf);
        for (size_t f = 0; krc == KUBO_OK && f < nf; f++) {
            char *fdir = xasprintf("%s/%s", adir, fans[f]);
            krc = mfs_ls(k, fdir, &hexes, &nh);
            for (size_t h = 0; krc == KUBO_OK && h < nh; h++) {
                char *s = xasprintf("%s:%s", algs[a], hexes[h]);
                struct digest d;
                if (digest_parse(s, &d) == DIGEST_PARSE_OK && strncmp(d.hex, fans[f], 2) == 0 && fn(ctx, &d) < 0)
                    krc = KUBO_ABORTED;
                free(s);
            }
            strv_free(hexes, nh);
            free(fdir);
        }
        strv_free(fans, nf);
        free(adir);
    }
    strv_free(algs, na);
    free(top);
    return krc;
}
