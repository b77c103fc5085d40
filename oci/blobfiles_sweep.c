/* blobfiles_sweep: removing blob files without breaking shared leaves (see
 * blobfiles_sweep.h). Three passes: what MFS holds (every blob's CID), the
 * files to remove and the filestore entries that point into them, then
 * which of those entries a held blob's DAG needs (internal nodes only: no
 * leaf is read). A file's entries may name it or one of its aliases in
 * .added/ (symbolic links to it); an alias left alone (a plain file: the
 * bytes of an upload that ended otherwise) is a file to remove too.
 * Memory: one entry per leaf of the files removed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/blobfile.h"
#include "core/xalloc.h"
#include "oci/blobfiles_admin.h"
#include "oci/blobfiles_sweep.h"
#include "oci/paths.h"

#define SWEEP_LEAF KUBO_LEAF_SIZE

struct held {          /* a blob MFS links */
    char ds[DIGEST_STR_MAX];
    char cid[KUBO_CID_MAX];
    int readd;         /* its file must be added again (it needs a leaf of a removed file) */
};

struct doomed {        /* a blob file to remove */
    char *path;
    char **aliases;    /* the names in .added/ that stand for it */
    size_t naliases;
    uint64_t size;
};

struct added {         /* a name in .added/ */
    char *path;
    char *link;        /* a symbolic link's target, or NULL: a plain file */
    dev_t dev;
    ino_t ino;
    nlink_t nlink;
    time_t ctime;
    uint64_t size;
};

struct entry {         /* a filestore entry that points into a doomed file */
    char cid[KUBO_CID_MAX];
    size_t doomed;     /* which */
    uint64_t off;
    size_t len;
    int needed;        /* a held blob's DAG has it */
};

struct sweep {
    struct kubo *k;
    const char *dir;
    const char *mfsroot;
    char **err;
    struct held *held;
    size_t nheld;
    struct doomed *doomed;
    size_t ndoomed;
    struct entry *e;
    size_t ne, cape;
    struct added *added;   /* the names in .added/, read before pass 2 */
    size_t nadded;
    size_t cur_held;   /* during the DAG walk */
};

static int sweep_fail(struct sweep *s, const char *what, const char *cause)
{
    *s->err = xasprintf("sweep blob files: %s: %s", what, cause);
    return -1;
}

static int held_cmp(const void *a, const void *b)
{
    return strcmp(((const struct held *)a)->ds, ((const struct held *)b)->ds);
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->cid, ((const struct entry *)b)->cid);
}

/* ---- pass 1: every blob MFS links, with its CID ---- */

static int sweep_held_one(void *ctx, const struct digest *d)
{
    struct sweep *s = ctx;
    char *data = path_blob_data(s->mfsroot, d);
    struct kubo_stat st;
    int krc = kubo_files_stat(s->k, data, &st);
    free(data);
    if (krc == KUBO_NOT_FOUND)
        return 0;   /* a directory without data: holds nothing */
    if (krc != KUBO_OK)
        return -1;
    s->held = xrealloc(s->held, (s->nheld + 1) * sizeof *s->held);
    struct held *x = &s->held[s->nheld++];
    memset(x, 0, sizeof *x);
    digest_str(d, x->ds);
    snprintf(x->cid, sizeof x->cid, "%s", st.cid);
    return 0;
}

static int sweep_held(struct sweep *s)
{
    if (blobfiles_mfs_walk(s->k, s->mfsroot, sweep_held_one, s) != KUBO_OK)
        return sweep_fail(s, "list the blobs MFS links", kubo_errmsg(s->k));
    qsort(s->held, s->nheld, sizeof *s->held, held_cmp);
    return 0;
}

static struct held *sweep_find_held(struct sweep *s, const struct digest *d)
{
    struct held key;
    digest_str(d, key.ds);
    return bsearch(&key, s->held, s->nheld, sizeof *s->held, held_cmp);
}

/* ---- pass 2: the files to remove, and the entries pointing into them ---- */

/* 1 when a filestore entry's path names the doomed file or an alias of it. */
static int sweep_names(const struct doomed *d, const char *entry)
{
    if (kubo_filestore_path_is(entry, d->path))
        return 1;
    for (size_t i = 0; i < d->naliases; i++)
        if (kubo_filestore_path_is(entry, d->aliases[i]))
            return 1;
    return 0;
}

/* Keeps, of the leaves asked about, those whose entry names the file. */
static int sweep_entries_of(struct sweep *s, size_t di, struct entry *cand, size_t n)
{
    char **cids = xcalloc(n, sizeof *cids);
    for (size_t i = 0; i < n; i++)
        cids[i] = cand[i].cid;
    char **paths = NULL;
    int rc = kubo_filestore_paths(s->k, (const char *const *)cids, n, &paths);
    free(cids);
    if (rc != KUBO_OK)
        return sweep_fail(s, "ask the filestore", kubo_errmsg(s->k));
    for (size_t i = 0; i < n; i++) {
        if (!paths[i] || !sweep_names(&s->doomed[di], paths[i]))
            continue;
        if (s->ne == s->cape) {
            s->cape = s->cape ? 2 * s->cape : 256;
            s->e = xrealloc(s->e, s->cape * sizeof *s->e);
        }
        s->e[s->ne] = cand[i];
        s->e[s->ne].doomed = di;
        s->ne++;
    }
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return 0;
}

#define SWEEP_BATCH 64

static int sweep_leaves(struct sweep *s, size_t di)
{
    const char *path = s->doomed[di].path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sweep_fail(s, path, strerror(errno));
    char *leaf = xmalloc(SWEEP_LEAF);
    struct entry cand[SWEEP_BATCH];
    size_t n = 0;
    uint64_t off = 0;
    int rc = 0;
    for (;;) {
        ssize_t got = kubo_leaf_next(fd, leaf);
        if (got < 0)
            rc = sweep_fail(s, path, strerror(errno));
        if (got <= 0)
            break;
        memset(&cand[n], 0, sizeof cand[n]);
        kubo_leaf_cid(leaf, (size_t)got, cand[n].cid);
        cand[n].off = off;
        cand[n].len = (size_t)got;
        n++;
        off += (uint64_t)got;
        if (n == SWEEP_BATCH) {
            rc = sweep_entries_of(s, di, cand, n);
            n = 0;
            if (rc < 0)
                break;
        }
        if ((size_t)got < SWEEP_LEAF)
            break;
    }
    if (rc == 0 && n)
        rc = sweep_entries_of(s, di, cand, n);
    free(leaf);
    close(fd);
    return rc;
}

/* Sorts the entries by CID (for the lookups of pass 3) and keeps one of
 * each: a leaf twice in a file has one filestore entry. */
static void sweep_sort_entries(struct sweep *s)
{
    qsort(s->e, s->ne, sizeof *s->e, entry_cmp);
    size_t w = 0;
    for (size_t i = 0; i < s->ne; i++) {
        if (w == 0 || strcmp(s->e[w - 1].cid, s->e[i].cid) != 0)
            s->e[w++] = s->e[i];
    }
    s->ne = w;
}

/* The names in <dir>/.added/ with their inodes (a missing directory has
 * none). */
static int sweep_read_added(struct sweep *s)
{
    char *where = xasprintf("%s/" BLOBFILE_ADDED, s->dir);
    DIR *d = opendir(where);
    if (!d) {
        int e = errno;
        int rc = e == ENOENT ? 0 : sweep_fail(s, where, strerror(e));
        free(where);
        return rc;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *path = xasprintf("%s/%s", where, e->d_name), *link = NULL;
        struct stat sb;
        if (lstat(path, &sb) < 0 || !(S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode))) {
            free(path);
            continue;
        }
        if (S_ISLNK(sb.st_mode)) {
            char buf[4096];
            ssize_t n = readlink(path, buf, sizeof buf - 1);
            if (n <= 0) {
                free(path);
                continue;
            }
            buf[n] = '\0';
            link = xstrdup(buf);
        }
        s->added = xrealloc(s->added, (s->nadded + 1) * sizeof *s->added);
        s->added[s->nadded++] = (struct added){ .path = path, .link = link, .dev = sb.st_dev, .ino = sb.st_ino,
                                                .nlink = sb.st_nlink, .ctime = sb.st_ctime,
                                                .size = (uint64_t)sb.st_size };
    }
    closedir(d);
    free(where);
    return 0;
}

/* The names in .added/ that stand for the blob file at path (sb): links
 * to it (an upload's alias, pointed at the blob file at commit) and a plain
 * name of the same inode (an alias retired after its bytes were placed). */
static void sweep_aliases_of(struct sweep *s, struct doomed *d, const struct stat *sb)
{
    for (size_t i = 0; i < s->nadded; i++) {
        const struct added *a = &s->added[i];
        if (a->link ? strcmp(a->link, d->path) == 0
                    : (sb->st_nlink > 1 && a->dev == sb->st_dev && a->ino == sb->st_ino)) {
            d->aliases = xrealloc(d->aliases, (d->naliases + 1) * sizeof *d->aliases);
            d->aliases[d->naliases++] = xstrdup(a->path);
        }
    }
}

/* A new doomed file (zeroed but for path and size): its leaves are read
 * by sweep_leaves. */
static struct doomed *sweep_doom(struct sweep *s, const char *path, uint64_t size)
{
    s->doomed = xrealloc(s->doomed, (s->ndoomed + 1) * sizeof *s->doomed);
    struct doomed *dm = &s->doomed[s->ndoomed++];
    memset(dm, 0, sizeof *dm);
    dm->path = xstrdup(path);
    dm->size = size;
    return dm;
}

/* Each blob file below dir: those MFS does not link and that are older
 * than grace become doomed. */
struct sweep_walk {
    struct sweep *s;
    time_t now, grace;
    struct blobfiles_sweep_stats *st;
};

static int sweep_file(void *ctx, const char *path, const struct digest *d)
{
    struct sweep_walk *w = ctx;
    struct sweep *s = w->s;
    struct stat sb;
    if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
        return 0;
    w->st->files++;
    if (sweep_find_held(s, d)) {
        w->st->held++;
        return 0;
    }
    if (w->now - sb.st_ctime < w->grace) {   /* ctime: when it was put in place */
        w->st->young++;
        return 0;
    }
    sweep_aliases_of(s, sweep_doom(s, path, (uint64_t)sb.st_size), &sb);
    return sweep_leaves(s, s->ndoomed - 1);
}

/* An alias left alone (.added/ name with no other link): the bytes of an
 * upload that ended without becoming that blob's file (given up, a wrong
 * digest, a blob already there, a new first chunk). Its entries may be
 * leaves of blobs added since: it is doomed like a blob file MFS does not
 * link, once older than grace. */
static int sweep_lone_aliases(struct sweep_walk *w)
{
    struct sweep *s = w->s;
    for (size_t i = 0; i < s->nadded; i++) {
        const struct added *a = &s->added[i];
        if (a->link || a->nlink != 1)
            continue;   /* an upload's alias, or a retired one whose bytes are a blob file's too */
        w->st->files++;
        if (w->now - a->ctime < w->grace) {
            w->st->young++;
            continue;
        }
        sweep_doom(s, a->path, a->size);
        if (sweep_leaves(s, s->ndoomed - 1) < 0)
            return -1;
    }
    return 0;
}

static int sweep_files(struct sweep *s, time_t grace, struct blobfiles_sweep_stats *st)
{
    struct sweep_walk w = { .s = s, .now = time(NULL), .grace = grace, .st = st };
    if (sweep_read_added(s) < 0)
        return -1;
    char *where = NULL;
    int rc = blobfiles_walk(s->dir, sweep_file, &w, &where);
    if (rc < 0 && !*s->err) {
        sweep_fail(s, where ? where : s->dir, strerror(errno));
    }
    free(where);
    if (rc == 0)
        rc = sweep_lone_aliases(&w);
    sweep_sort_entries(s);
    return rc < 0 ? -1 : 0;
}

/* ---- pass 3: which of those entries a held blob needs ---- */

static int sweep_need(void *ctx, const char *cid)
{
    struct sweep *s = ctx;
    struct entry key;
    snprintf(key.cid, sizeof key.cid, "%s", cid);
    struct entry *e = bsearch(&key, s->e, s->ne, sizeof *s->e, entry_cmp);
    if (e) {
        e->needed = 1;
        s->held[s->cur_held].readd = 1;
    }
    return 0;
}

static int sweep_needed(struct sweep *s)
{
    for (size_t i = 0; i < s->nheld; i++) {
        s->cur_held = i;
        if (kubo_dag_leaves(s->k, s->held[i].cid, sweep_need, s) != KUBO_OK) {
            char *what = xasprintf("walk the DAG of blob %s (%s)", s->held[i].ds, s->held[i].cid);
            int rc = sweep_fail(s, what, kubo_errmsg(s->k));
            free(what);
            return rc;
        }
    }
    return 0;
}

/* ---- doing it ---- */

static ssize_t sweep_read_fd(void *ctx, char *p, size_t n)
{
    int fd = *(int *)ctx;
    for (;;) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        return r;
    }
}

/* The held blob's file added again: its leaves the node lacks now get
 * entries naming it. Not a file here: nothing to do (pass 3's leaves
 * are put back as blocks instead). */
static int sweep_readd(struct sweep *s, struct held *h, FILE *out)
{
    struct digest d;
    if (digest_parse(h->ds, &d) != DIGEST_PARSE_OK)
        return 0;
    char *path = blobfile_path(s->dir, &d);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 0;
    if (fd >= 0) {
        char cid[KUBO_CID_MAX];
        if (kubo_add_nocopy(s->k, path, sweep_read_fd, &fd, cid, NULL) != KUBO_OK)
            rc = sweep_fail(s, path, kubo_errmsg(s->k));
        else if (out)
            fprintf(out, "  re-pointed shared leaves to %s\n", path);
        close(fd);
    }
    free(path);
    return rc;
}

/* A needed leaf no re-added file took: back as an ordinary block, from the
 * doomed file's bytes. */
static int sweep_put_back(struct sweep *s, struct entry *e, struct blobfiles_sweep_stats *st)
{
    int status = -1;
    if (kubo_filestore_status(s->k, e->cid, &status) == KUBO_OK && status == KUBO_FILESTORE_OK)
        return 0;   /* re-pointed into a surviving file */
    const char *path = s->doomed[e->doomed].path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sweep_fail(s, path, strerror(errno));
    char *buf = xmalloc(e->len);
    ssize_t r = pread(fd, buf, e->len, (off_t)e->off);
    close(fd);
    char cid[KUBO_CID_MAX];
    int rc = 0;
    if (r != (ssize_t)e->len)
        rc = sweep_fail(s, path, "short read");
    else if (kubo_block_put_raw(s->k, buf, e->len, cid) != KUBO_OK)
        rc = sweep_fail(s, "put a shared leaf back", kubo_errmsg(s->k));
    else if (strcmp(cid, e->cid) != 0)
        rc = sweep_fail(s, path, "a leaf's bytes no longer hash to its CID (changed in place?)");
    else
        st->leaves_put++;
    free(buf);
    return rc;
}

int blobfiles_sweep(struct kubo *k, const char *dir, const char *mfsroot, time_t grace, int dry_run,
                    FILE *out, struct blobfiles_sweep_stats *st, char **err)
{
    struct sweep s = { .k = k, .dir = dir, .mfsroot = mfsroot, .err = err };
    memset(st, 0, sizeof *st);
    *err = NULL;
    int rc = sweep_held(&s);
    if (rc == 0)
        rc = sweep_files(&s, grace, st);
    if (rc == 0 && s.ne)
        rc = sweep_needed(&s);
    if (rc == 0) {
        for (size_t i = 0; i < s.ndoomed; i++) {
            st->removed++;
            st->bytes += s.doomed[i].size;
            if (out) {
                fprintf(out, "%s %s (%llu bytes)", dry_run ? "would remove" : "remove", s.doomed[i].path,
                        (unsigned long long)s.doomed[i].size);
                for (size_t j = 0; j < s.doomed[i].naliases; j++)
                    fprintf(out, "%s%s", j ? ", " : ", and its alias ", s.doomed[i].aliases[j]);
                fputc('\n', out);
            }
        }
        for (size_t i = 0; i < s.ne; i++) {
            if (s.e[i].needed)
                continue;
            st->leaves_dropped++;
            if (!dry_run && kubo_block_rm(k, s.e[i].cid) != KUBO_OK) {
                rc = sweep_fail(&s, "take out a filestore entry", kubo_errmsg(k));
                break;
            }
        }
    }
    if (rc == 0) {
        /* the needed ones: taken out too, so that an add may record them
         * again, now naming a surviving file */
        for (size_t i = 0; i < s.ne && rc == 0; i++) {
            if (s.e[i].needed && !dry_run && kubo_block_rm(k, s.e[i].cid) != KUBO_OK)
                rc = sweep_fail(&s, "take out a shared filestore entry", kubo_errmsg(k));
        }
        for (size_t i = 0; i < s.nheld && rc == 0; i++) {
            if (!s.held[i].readd)
                continue;
            st->readded++;
            if (!dry_run)
                rc = sweep_readd(&s, &s.held[i], out);
            else if (out)
                fprintf(out, "  would re-point shared leaves to blob %s\n", s.held[i].ds);
        }
        for (size_t i = 0; i < s.ne && rc == 0; i++) {
            if (!s.e[i].needed)
                continue;
            if (!dry_run)
                rc = sweep_put_back(&s, &s.e[i], st);
        }
    }
    if (rc == 0 && !dry_run) {
        /* the aliases first: a file left by a crash here is still a blob
         * file the next sweep finds */
        for (size_t i = 0; i < s.ndoomed && rc == 0; i++) {
            for (size_t j = 0; j < s.doomed[i].naliases && rc == 0; j++) {
                if (unlink(s.doomed[i].aliases[j]) < 0 && errno != ENOENT)
                    rc = sweep_fail(&s, s.doomed[i].aliases[j], strerror(errno));
            }
            if (rc == 0 && unlink(s.doomed[i].path) < 0 && errno != ENOENT)
                rc = sweep_fail(&s, s.doomed[i].path, strerror(errno));
        }
    }
    for (size_t i = 0; i < s.ndoomed; i++) {
        free(s.doomed[i].path);
        for (size_t j = 0; j < s.doomed[i].naliases; j++)
            free(s.doomed[i].aliases[j]);
        free(s.doomed[i].aliases);
    }
    for (size_t i = 0; i < s.nadded; i++) {
        free(s.added[i].path);
        free(s.added[i].link);
    }
    free(s.added);
    free(s.doomed);
    free(s.held);
    free(s.e);
    return rc;
}

/* ---- the command ---- */

int blobfiles_sweep_files(const struct blobfiles_admin_opts *o)
{
    if (!o->blobdir) {
        fprintf(o->progress, "sweep-files: blobdir is not set in the configuration: no blob files to sweep\n");
        return BLOBFILES_SETUP;
    }
    char *err = NULL;
    struct kubo *k = kubo_new(o->api, o->gateway, &err);
    if (!k) {
        fprintf(o->progress, "sweep-files: Kubo client: %s\n", err);
        free(err);
        return BLOBFILES_SETUP;
    }
    struct blobfiles_sweep_stats st;
    int rc = blobfiles_sweep(k, o->blobdir, o->mfsroot, o->min_age, o->dry_run, o->out, &st, &err);
    kubo_free(k);
    if (rc < 0) {
        fprintf(o->progress, "%s\n", err);
        free(err);
    }
    fprintf(o->out, "sweep-files%s: %lu files, %lu held, %lu younger than %lld s, %lu %s (%llu bytes); "
            "%lu filestore entries taken out, %lu files added again and %lu leaves put back as blocks "
            "to keep shared leaves\n", o->dry_run ? " (dry run)" : "", st.files, st.held, st.young,
            (long long)o->min_age, st.removed, o->dry_run ? "to remove" : "removed",
            (unsigned long long)st.bytes, st.leaves_dropped, st.readded, st.leaves_put);
    return rc < 0 ? BLOBFILES_SOME_BAD : BLOBFILES_ALL_GOOD;
}
