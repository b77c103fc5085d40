/* gc: one collection, the walk and the mark (see gc.h; the removals are in
 * gc_sweep.c, the retention rules in gc_retain.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/gcmark.h"
#include "core/lockfile.h"
#include "core/xalloc.h"
#include "oci/gc_internal.h"
#include "oci/manifest.h"
#include "oci/paths.h"

/* Names are at most 255 bytes: no real repository tree is deeper. */
#define GC_DEPTH 128
/* A link file holds one digest string. */
#define GC_LINK_MAX 256

/* ---- output ---- */

void gc_say(struct gc *c, const char *fmt, ...)
{
    if (!c->o->out)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->o->out, fmt, ap);
    va_end(ap);
    fputc('\n', c->o->out);
}

void gc_problem(struct gc *c, const char *fmt, ...)
{
    c->st->problems++;
    if (!c->o->out)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("problem: ", c->o->out);
    vfprintf(c->o->out, fmt, ap);
    va_end(ap);
    fputc('\n', c->o->out);
}

void gc_progress(struct gc *c, int force)
{
    if (!c->o->progress || (!progress_due(&c->prog, progress_now_ms()) && !force))
        return;
    fprintf(c->o->progress,
            "gc: %lu repositories, %lu manifests read; %lu manifests, %lu links, %lu blobs %s so far\n",
            c->st->repos, c->st->manifests_read, c->st->manifests, c->st->links, c->st->blobs,
            c->o->dry_run ? "to remove" : "removed");
}

int gc_too_late(struct gc *c)
{
    if (!c->late && time(NULL) - c->start >= c->o->grace) {
        c->late = 1;
        gc_problem(c, "the collection ran longer than gc_grace (%llds): it removes nothing more, "
                      "the next run goes on", (long long)c->o->grace);
    }
    return c->late;
}

/* A Kubo failure: unreachable stops the run; anything else is a problem
 * with this one thing (reported by the caller). */
static int gc_kubo_fatal(struct gc *c, int krc, const char *what)
{
    if (krc != KUBO_UNAVAILABLE)
        return 0;
    if (!c->err)
        c->err = xasprintf("%s: %s", what, kubo_errmsg(c->k));
    return 1;
}

/* ---- manifests ---- */

static struct gc_man *gc_man_of(struct gc *c, const char *ds)
{
    int added;
    size_t i = gc_set_add(&c->mans, ds, &added);
    if (i >= c->man_cap) {
        size_t cap = c->man_cap ? c->man_cap * 2 : 256;
        c->man = xrealloc(c->man, cap * sizeof *c->man);
        memset(c->man + c->man_cap, 0, (cap - c->man_cap) * sizeof *c->man);
        c->man_cap = cap;
    }
    return &c->man[i];
}

/* The manifest d, read from the snapshot once per collection. NULL when
 * it cannot be read or parsed (reported once). */
static struct gc_man *gc_man_load(struct gc *c, const struct digest *d)
{
    char ds[DIGEST_STR_MAX];
    digest_str(d, ds);
    struct gc_man *m = gc_man_of(c, ds);
    if (m->state)
        return m->state > 0 ? m : NULL;
    m->state = -1;
    if (!c->blobs[0]) {
        gc_problem(c, "manifest %s: the snapshot has no blobs directory", ds);
        return NULL;
    }
    char *p = xasprintf("/ipfs/%s/%s/%.2s/%s/data", c->blobs, digest_alg_name(d->alg), d->hex, d->hex);
    struct buf b;
    buf_init(&b, c->o->max_manifest_size);
    int krc = kubo_files_read(c->k, p, &b);
    free(p);
    if (krc != KUBO_OK) {
        if (!gc_kubo_fatal(c, krc, ds))
            gc_problem(c, "manifest %s cannot be read: %s", ds, kubo_errmsg(c->k));
        buf_free(&b);
        return NULL;
    }
    struct manifest mf;
    char *err = NULL;
    if (manifest_parse(buf_cstr(&b), b.len, NULL, &mf, &err) < 0) {
        gc_problem(c, "manifest %s does not parse: %s", ds, err ? err : "?");
        free(err);
        buf_free(&b);
        return NULL;
    }
    buf_free(&b);
    c->st->manifests_read++;
    m->nrefs = (mf.has_config ? 1 : 0) + mf.nblobs;
    m->refs = xcalloc(m->nrefs ? m->nrefs : 1, sizeof *m->refs);
    size_t j = 0;
    if (mf.has_config)
        m->refs[j++] = mf.config.digest;
    for (size_t i = 0; i < mf.nblobs; i++)
        m->refs[j++] = mf.blobs[i].digest;
    m->nkids = mf.nchildren;
    m->kids = xcalloc(m->nkids ? m->nkids : 1, sizeof *m->kids);
    for (size_t i = 0; i < mf.nchildren; i++)
        m->kids[i] = mf.children[i].digest;
    m->has_subject = mf.has_subject;
    m->subject = mf.subject;
    manifest_free(&mf);
    m->state = 1;
    return m;
}

/* ---- one repository ---- */

struct gc_pair {
    struct digest subject, ref;
};

struct gc_repo {
    const char *name;
    char *snap;                  /* /ipfs/<repo CID> */
    int unsure;                  /* something could not be read: every link stays */
    struct digest *tags;         /* tag targets */
    size_t ntags;
    struct digest *revs;
    size_t nrevs;
    struct digest *layers;
    size_t nlayers;
    struct gc_pair *refs;        /* _referrers entries */
    size_t nrefs;
};

void gc_digest_push(struct digest **v, size_t *n, const struct digest *d)
{
    if ((*n & (*n - 1)) == 0 || *n == 0)   /* grow at powers of two */
        *v = xrealloc(*v, (*n ? *n * 2 : 4) * sizeof **v);
    (*v)[(*n)++] = *d;
}

/* The digests named by the <alg>/<hex> directories under dir. */
static int gc_ls_digests(struct gc *c, struct gc_repo *r, const char *dir, struct digest **v, size_t *n)
{
    char **algs = NULL;
    size_t na = 0;
    int krc = kubo_files_ls(c->k, dir, &algs, &na);
    if (krc == KUBO_NOT_FOUND)
        return 0;
    if (krc != KUBO_OK) {
        if (gc_kubo_fatal(c, krc, dir))
            return -1;
        gc_problem(c, "%s: cannot list %s: %s", r->name, dir, kubo_errmsg(c->k));
        r->unsure = 1;
        return 0;
    }
    for (size_t a = 0; a < na; a++) {
        char **hexes = NULL;
        size_t nh = 0;
        char *adir = xasprintf("%s/%s", dir, algs[a]);
        krc = kubo_files_ls(c->k, adir, &hexes, &nh);
        if (krc != KUBO_OK && krc != KUBO_NOT_FOUND) {
            if (!gc_kubo_fatal(c, krc, adir)) {
                gc_problem(c, "%s: cannot list %s: %s", r->name, adir, kubo_errmsg(c->k));
                r->unsure = 1;
            }
        }
        for (size_t h = 0; h < nh; h++) {
            struct digest d;
            char *ds = xasprintf("%s:%s", algs[a], hexes[h]);
            if (digest_parse(ds, &d) == DIGEST_PARSE_OK)
                gc_digest_push(v, n, &d);
            free(ds);   /* anything else in there is not ours: left alone */
        }
        strv_free(hexes, nh);
        free(adir);
    }
    strv_free(algs, na);
    return c->err ? -1 : 0;
}

static int gc_read_tags(struct gc *c, struct gc_repo *r)
{
    if (gc_tags_tar(c, r->name, r->snap, &r->tags, &r->ntags, &r->unsure) == 0)
        return 0;
    /* the gateway's archive could not be used: one read per tag */
    char *dir = xasprintf("%s/_manifests/tags", r->snap);
    char **tags = NULL;
    size_t nt = 0;
    int krc = kubo_files_ls(c->k, dir, &tags, &nt);
    free(dir);
    if (krc == KUBO_NOT_FOUND)
        return 0;
    if (krc != KUBO_OK) {
        if (gc_kubo_fatal(c, krc, r->name))
            return -1;
        gc_problem(c, "%s: cannot list its tags: %s", r->name, kubo_errmsg(c->k));
        r->unsure = 1;
        return 0;
    }
    for (size_t i = 0; i < nt && !c->err; i++) {
        char *p = xasprintf("%s/_manifests/tags/%s/current/link", r->snap, tags[i]);
        struct buf b;
        buf_init(&b, GC_LINK_MAX);
        krc = kubo_files_read(c->k, p, &b);
        struct digest d;
        if (krc == KUBO_OK) {
            while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
                b.data[--b.len] = '\0';
            if (digest_parse(buf_cstr(&b), &d) == DIGEST_PARSE_OK) {
                gc_digest_push(&r->tags, &r->ntags, &d);
            } else {
                gc_problem(c, "%s:%s: its link holds no digest; the repository keeps everything", r->name,
                           tags[i]);
                r->unsure = 1;
            }
        } else if (krc != KUBO_NOT_FOUND && !gc_kubo_fatal(c, krc, p)) {
            gc_problem(c, "%s:%s: cannot read its link: %s", r->name, tags[i], kubo_errmsg(c->k));
            r->unsure = 1;
        }
        buf_free(&b);
        free(p);
    }
    strv_free(tags, nt);
    return c->err ? -1 : 0;
}

/* _referrers/<alg>/<subject hex>/<alg>/<hex> */
static int gc_read_referrers(struct gc *c, struct gc_repo *r)
{
    char *dir = xasprintf("%s/_referrers", r->snap);
    struct digest *subjects = NULL;
    size_t ns = 0;
    int rc = gc_ls_digests(c, r, dir, &subjects, &ns);
    for (size_t i = 0; i < ns && rc == 0; i++) {
        char *sdir = xasprintf("%s/%s/%s", dir, digest_alg_name(subjects[i].alg), subjects[i].hex);
        struct digest *refs = NULL;
        size_t nr = 0;
        rc = gc_ls_digests(c, r, sdir, &refs, &nr);
        for (size_t j = 0; j < nr; j++) {
            if ((r->nrefs & (r->nrefs - 1)) == 0 || r->nrefs == 0)
                r->refs = xrealloc(r->refs, (r->nrefs ? r->nrefs * 2 : 4) * sizeof *r->refs);
            r->refs[r->nrefs].subject = subjects[i];
            r->refs[r->nrefs++].ref = refs[j];
        }
        free(refs);
        free(sdir);
    }
    free(subjects);
    free(dir);
    return rc;
}

static int gc_has(const struct gc_set *s, const struct digest *d)
{
    char ds[DIGEST_STR_MAX];
    return gc_set_has(s, digest_str(d, ds));
}

static int gc_put(struct gc_set *s, const struct digest *d)
{
    char ds[DIGEST_STR_MAX];
    int added;
    gc_set_add(s, digest_str(d, ds), &added);
    return added;
}

void gc_put_linked(struct gc *c, const struct digest *d)
{
    gc_put(&c->linked, d);
}

static int gc_in(const struct digest *v, size_t n, const struct digest *d)
{
    for (size_t i = 0; i < n; i++)
        if (digest_equal(&v[i], d))
            return 1;
    return 0;
}

/* kept: the revisions that stay. Grows it with children (all levels) and
 * referrers of what it holds, until nothing changes. */
static void gc_close(struct gc *c, struct gc_repo *r, struct gc_set *kept)
{
    for (int changed = 1; changed && !c->err;) {
        changed = 0;
        for (size_t i = 0; i < kept->n && !c->err; i++) {
            struct digest d;
            if (digest_parse(kept->keys[i], &d) != DIGEST_PARSE_OK)
                continue;
            struct gc_man *m = gc_man_load(c, &d);
            if (!m) {
                if (gc_in(r->revs, r->nrevs, &d) || gc_in(r->tags, r->ntags, &d))
                    r->unsure = 1;   /* a kept manifest we cannot read: keep all */
                continue;
            }
            for (size_t k = 0; k < m->nkids; k++)
                changed |= gc_put(kept, &m->kids[k]);
        }
        for (size_t i = 0; i < r->nrefs; i++)
            if (gc_has(kept, &r->refs[i].subject))
                changed |= gc_put(kept, &r->refs[i].ref);
        /* a revision naming a kept subject, recorded or not under _referrers */
        for (size_t i = 0; i < r->nrevs && !c->err; i++) {
            if (gc_has(kept, &r->revs[i]))
                continue;
            struct gc_man *m = gc_man_load(c, &r->revs[i]);
            if (m && m->has_subject && gc_has(kept, &m->subject))
                changed |= gc_put(kept, &r->revs[i]);
        }
    }
}

/* Decides and sweeps one repository's links; adds what stays to c->marked
 * and c->linked. */
static int gc_repo_sweep(struct gc *c, struct gc_repo *r, int is_layout)
{
    struct gc_set kept;
    gc_set_init(&kept);
    for (size_t i = 0; i < r->ntags; i++)
        gc_put(&kept, &r->tags[i]);
    /* untagged revisions: all kept unless retention says otherwise; the
     * revisions of a pushed layout are its index.json, all kept */
    struct digest *untagged = NULL;
    size_t nu = 0;
    for (size_t i = 0; i < r->nrevs; i++)
        if (!gc_has(&kept, &r->revs[i]))
            gc_digest_push(&untagged, &nu, &r->revs[i]);
    int *keep = xcalloc(nu ? nu : 1, sizeof *keep);
    if (is_layout)
        for (size_t i = 0; i < nu; i++)
            keep[i] = 1;
    else
        gc_retain_decide(c, r->name, untagged, nu, keep);
    for (size_t i = 0; i < nu; i++)
        if (keep[i])
            gc_put(&kept, &untagged[i]);
    gc_close(c, r, &kept);
    /* what the kept manifests name */
    struct gc_set reach;
    gc_set_init(&reach);
    for (size_t i = 0; i < kept.n; i++) {
        struct digest d;
        if (digest_parse(kept.keys[i], &d) != DIGEST_PARSE_OK)
            continue;
        gc_put(&reach, &d);
        gc_put(&c->marked, &d);
        struct gc_man *m = gc_man_load(c, &d);
        for (size_t j = 0; m && j < m->nrefs; j++) {
            gc_put(&reach, &m->refs[j]);
            gc_put(&c->marked, &m->refs[j]);
        }
    }
    int keep_all = r->unsure || is_layout || c->err;
    if (r->unsure && !is_layout)
        gc_problem(c, "%s: not everything could be read; all its links are kept", r->name);
    int rc = c->err ? -1 : 0;
    /* revisions */
    for (size_t i = 0; i < r->nrevs && rc == 0; i++) {
        if (keep_all || gc_has(&kept, &r->revs[i])) {
            gc_put(&c->linked, &r->revs[i]);
            continue;
        }
        char *link = path_revision_link(c->o->mfsroot, r->name, &r->revs[i]);
        *strrchr(link, '/') = '\0';
        rc = gc_remove_link(c, GC_LINK_REVISION, r->name, &r->revs[i], link);
        free(link);
    }
    /* layers */
    for (size_t i = 0; i < r->nlayers && rc == 0; i++) {
        if (keep_all || gc_has(&reach, &r->layers[i])) {
            gc_put(&c->linked, &r->layers[i]);
            continue;
        }
        char *link = path_layer_link(c->o->mfsroot, r->name, &r->layers[i]);
        *strrchr(link, '/') = '\0';
        rc = gc_remove_link(c, GC_LINK_LAYER, r->name, &r->layers[i], link);
        free(link);
    }
    /* referrer entries of revisions that are gone (or never were) */
    for (size_t i = 0; i < r->nrefs && rc == 0; i++) {
        if (keep_all || gc_has(&kept, &r->refs[i].ref))
            continue;
        char *link = path_referrer_link(c->o->mfsroot, r->name, &r->refs[i].subject, &r->refs[i].ref);
        *strrchr(link, '/') = '\0';
        rc = gc_remove_link(c, GC_LINK_REFERRER, r->name, &r->refs[i].ref, link);
        free(link);
    }
    gc_set_free(&reach);
    gc_set_free(&kept);
    free(untagged);
    free(keep);
    return rc;
}

static int gc_repo(struct gc *c, const char *base, const char *name, int is_layout)
{
    struct gc_repo r = { .name = name };
    struct kubo_stat st;
    char *p = xasprintf("%s/%s", base, name);
    int krc = kubo_files_stat(c->k, p, &st);
    free(p);
    if (krc != KUBO_OK) {
        if (gc_kubo_fatal(c, krc, name))
            return -1;
        gc_problem(c, "%s: cannot read the repository: %s", name, kubo_errmsg(c->k));
        return 0;
    }
    c->st->repos++;
    r.snap = xasprintf("/ipfs/%s", st.cid);
    char *rev = xasprintf("%s/_manifests/revisions", r.snap);
    char *lay = xasprintf("%s/_layers", r.snap);
    int rc = gc_read_tags(c, &r);
    if (rc == 0)
        rc = gc_ls_digests(c, &r, rev, &r.revs, &r.nrevs);
    if (rc == 0)
        rc = gc_ls_digests(c, &r, lay, &r.layers, &r.nlayers);
    if (rc == 0)
        rc = gc_read_referrers(c, &r);
    if (rc == 0)
        rc = gc_repo_sweep(c, &r, is_layout);
    free(rev);
    free(lay);
    free(r.snap);
    free(r.tags);
    free(r.revs);
    free(r.layers);
    free(r.refs);
    gc_progress(c, 0);
    return rc;
}

/* Like the catalog's walk, and also into the top-level _layouts (the
 * hidden repositories of pushed layouts). */
/* A collection is background work: after a repository that took `took`
 * ms, it pauses so that it works gc_opts.duty percent of the time, leaving
 * Kubo's CPU (which its calls use) to the workers the rest of it. */
static void gc_pace(const struct gc *c, int64_t took)
{
    unsigned duty = c->o->duty;
    if (duty == 0 || duty >= 100 || took <= 0)
        return;
    int64_t ms = took * (int64_t)(100 - duty) / (int64_t)duty;
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int gc_walk(struct gc *c, const char *base, const char *name, unsigned depth, int is_layout)
{
    char **ents = NULL;
    size_t ne = 0;
    char *p = name ? xasprintf("%s/%s", base, name) : xstrdup(base);
    int krc = kubo_files_ls(c->k, p, &ents, &ne);
    if (krc != KUBO_OK) {
        int fatal = gc_kubo_fatal(c, krc, p);
        if (!fatal && krc != KUBO_NOT_FOUND)
            gc_problem(c, "cannot list %s: %s", p, kubo_errmsg(c->k));
        free(p);
        return fatal ? -1 : 0;
    }
    free(p);
    int rc = 0, is_repo = 0;
    for (size_t i = 0; i < ne; i++)
        if (strcmp(ents[i], "_manifests") == 0 || strcmp(ents[i], "_layers") == 0)
            is_repo = 1;
    if (is_repo && name) {
        int64_t t0 = progress_now_ms();
        rc = gc_repo(c, base, name, is_layout);
        gc_pace(c, progress_now_ms() - t0);
    }
    for (size_t i = 0; i < ne && rc == 0 && depth < GC_DEPTH; i++) {
        int layouts = !name && strcmp(ents[i], "_layouts") == 0;
        if ((ents[i][0] == '_' && !layouts) || ents[i][0] == '.' || ents[i][0] == '\0')
            continue;
        char *child = name ? xasprintf("%s/%s", name, ents[i]) : xstrdup(ents[i]);
        rc = gc_walk(c, base, child, depth + 1, is_layout || layouts);
        free(child);
    }
    strv_free(ents, ne);
    return rc;
}

/* ---- the run ---- */

/* Only one collection per statedir: an flock held for the run. */
static int gc_run_lock(const char *statedir, char **err)
{
    char *dir = xasprintf("%s/gc", statedir);
    (void)mkdir(dir, 0700);
    char *f = xasprintf("%s/run.lock", dir);
    free(dir);
    int fd = lockfile_take(f, 0);
    if (fd < 0 && errno == EWOULDBLOCK)
        *err = xasprintf("gc: another collection is running (it holds %s); try again when it is done", f);
    else if (fd < 0)
        *err = xasprintf("gc: %s: %s", f, strerror(errno));
    free(f);
    return fd;
}

static int gc_snapshot(struct gc *c)
{
    int krc = c->o->dry_run ? KUBO_OK : kubo_files_flush(c->k, c->o->mfsroot, NULL);
    struct kubo_stat st;
    if (krc == KUBO_OK)
        krc = kubo_files_stat(c->k, c->o->mfsroot, &st);
    if (krc == KUBO_NOT_FOUND)
        return 1;   /* nothing stored yet */
    if (krc != KUBO_OK) {
        c->err = xasprintf("gc: %s: %s", c->o->mfsroot, kubo_errmsg(c->k));
        return -1;
    }
    snprintf(c->snap, sizeof c->snap, "%s", st.cid);
    char *p = xasprintf("/ipfs/%s/docker/registry/v2/blobs", c->snap);
    krc = kubo_files_stat(c->k, p, &st);
    free(p);
    if (krc == KUBO_OK)
        snprintf(c->blobs, sizeof c->blobs, "%s", st.cid);
    return 0;
}

int gc_run(struct kubo *k, const struct gc_opts *o, struct gc_stats *st, char **err)
{
    memset(st, 0, sizeof *st);
    *err = NULL;
    int lock = gc_run_lock(o->statedir, err);
    if (lock < 0)
        return -1;
    struct gc c = { .k = k, .o = o, .st = st, .start = time(NULL) };
    progress_init(&c.prog, progress_now_ms());
    gc_set_init(&c.mans);
    gc_set_init(&c.marked);
    gc_set_init(&c.linked);
    gc_retain_load(&c);
    if (!o->dry_run)
        gcmark_epoch_trim(o->statedir);
    int rc = gc_snapshot(&c);
    int empty = rc == 1;   /* nothing stored yet: nothing to collect, nothing to flush */
    if (rc == 0) {
        char *base = xasprintf("/ipfs/%s/docker/registry/v2/repositories", c.snap);
        rc = gc_walk(&c, base, NULL, 0, 0);
        free(base);
    }
    if (rc == 0)
        rc = gc_sweep_blobs(&c);
    if (rc >= 0 && o->after_sweep && o->after_sweep(o->ctx, k, o, st, &c.err) < 0)
        rc = -1;
    if (!o->dry_run && !empty) {
        /* what was removed is published (the publisher watches the epoch) */
        if (kubo_files_flush(k, o->mfsroot, NULL) != KUBO_OK && rc >= 0 && !c.err) {
            c.err = xasprintf("gc: flush %s: %s", o->mfsroot, kubo_errmsg(k));
            rc = -1;
        }
        gcmark_epoch_bump(o->statedir);
        if (rc >= 0)
            gc_retain_save(&c);
        gcmark_prune(o->statedir, o->grace, time(NULL));
    }
    if (rc >= 0 && !o->dry_run && o->repo_gc && kubo_repo_gc(k) != KUBO_OK) {
        c.err = xasprintf("gc: Kubo's repo/gc: %s", kubo_errmsg(k));
        rc = -1;
    }
    st->seconds = progress_seconds(&c.prog, progress_now_ms());
    gc_progress(&c, 1);
    if (!o->dry_run)
        gc_record(o->statedir, st, rc < 0);
    for (size_t i = 0; i < c.man_cap; i++) {
        free(c.man[i].refs);
        free(c.man[i].kids);
    }
    free(c.man);
    gc_set_free(&c.mans);
    gc_set_free(&c.marked);
    gc_set_free(&c.linked);
    gc_retain_free(&c);
    close(lock);
    if (rc < 0) {
        *err = c.err ? c.err : xstrdup("gc: failed");
        return -1;
    }
    free(c.err);
    return 0;
}
