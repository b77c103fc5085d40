/* gc_sweep: the removals of a collection, each made under the digest's
 * lock and only when no write touched it within the grace period
 * (core/gcmark.h), and the record of each run (see gc.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/gcmark.h"
#include "core/xalloc.h"
#include "core/xjson.h"
#include "oci/gc_internal.h"
#include "oci/paths.h"

static const char *gc_kind_name(enum gc_link_kind kind)
{
    return kind == GC_LINK_REVISION ? "manifest" : kind == GC_LINK_LAYER ? "layer link" : "referrer link";
}

/* Removes MFS directory dir for digest d under d's lock. Returns 1 removed
 * (or would be), 0 kept (young, or gone already), -1 fatal. *size, when
 * not NULL, is read from data (a blob's) first. */
static int gc_remove(struct gc *c, const struct digest *d, const char *dir, const char *data, uint64_t *size)
{
    if (gc_too_late(c))
        return 0;
    int lk = -1;
    if (!c->o->dry_run && (lk = gcmark_lock(c->o->statedir, d)) < 0) {
        c->err = xasprintf("gc: lock for %s in %s/gc: %s", d->hex, c->o->statedir, strerror(errno));
        return -1;
    }
    int rc = 1;
    if (gcmark_young(c->o->statedir, d, c->o->grace, time(NULL))) {
        c->st->young++;
        rc = 0;
    }
    if (rc == 1 && data) {
        struct kubo_stat st;
        int krc = kubo_files_stat(c->k, data, &st);
        if (krc == KUBO_OK)
            *size = st.size;
        else if (krc == KUBO_UNAVAILABLE)
            rc = -1;
        else
            *size = 0;   /* a blob without data: the directory still goes */
    }
    if (rc == 1 && !c->o->dry_run) {
        int krc = kubo_files_rm(c->k, dir, 1);
        if (krc == KUBO_NOT_FOUND)
            rc = 0;   /* a client's delete came first */
        else if (krc != KUBO_OK)
            rc = -1;
        else
            gcmark_epoch_bump(c->o->statedir);   /* before the lock goes: no stale cache after it */
    }
    if (rc < 0 && !c->err)
        c->err = xasprintf("gc: remove %s: %s", dir, kubo_errmsg(c->k));
    gcmark_unlock(lk);
    return rc;
}

int gc_remove_link(struct gc *c, enum gc_link_kind kind, const char *repo, const struct digest *d,
                   const char *dir)
{
    char ds[DIGEST_STR_MAX];
    int rc = gc_remove(c, d, dir, NULL, NULL);
    if (rc <= 0) {
        if (rc == 0)
            gc_put_linked(c, d);
        return rc < 0 ? -1 : 0;
    }
    if (kind == GC_LINK_REVISION)
        c->st->manifests++;
    else
        c->st->links++;
    gc_say(c, "%s %s %s@%s", c->o->dry_run ? "would remove" : "removed", gc_kind_name(kind), repo,
           digest_str(d, ds));
    return 0;
}

/* blobs/<alg>/<xx>/<hex> of the snapshot, each neither marked nor linked. */
static int gc_sweep_alg(struct gc *c, const char *alg)
{
    char **xxs = NULL;
    size_t nx = 0;
    char *adir = xasprintf("/ipfs/%s/%s", c->blobs, alg);
    int krc = kubo_files_ls(c->k, adir, &xxs, &nx);
    free(adir);
    if (krc != KUBO_OK) {
        if (krc == KUBO_UNAVAILABLE) {
            c->err = xasprintf("gc: list blobs/%s: %s", alg, kubo_errmsg(c->k));
            return -1;
        }
        gc_problem(c, "cannot list blobs/%s: %s", alg, kubo_errmsg(c->k));
        return 0;
    }
    int rc = 0;
    for (size_t x = 0; x < nx && rc == 0; x++) {
        char **hexes = NULL;
        size_t nh = 0;
        char *xdir = xasprintf("/ipfs/%s/%s/%s", c->blobs, alg, xxs[x]);
        krc = kubo_files_ls(c->k, xdir, &hexes, &nh);
        free(xdir);
        if (krc == KUBO_UNAVAILABLE) {
            c->err = xasprintf("gc: list blobs/%s/%s: %s", alg, xxs[x], kubo_errmsg(c->k));
            rc = -1;
        } else if (krc != KUBO_OK) {
            gc_problem(c, "cannot list blobs/%s/%s: %s", alg, xxs[x], kubo_errmsg(c->k));
        }
        for (size_t h = 0; h < nh && rc == 0; h++) {
            struct digest d;
            char ds[DIGEST_STR_MAX + 8];
            snprintf(ds, sizeof ds, "%s:%s", alg, hexes[h]);
            if (digest_parse(ds, &d) != DIGEST_PARSE_OK || strncmp(d.hex, xxs[x], 2) != 0)
                continue;   /* not a blob of this layout: left alone */
            if (gc_set_has(&c->marked, ds) || gc_set_has(&c->linked, ds))
                continue;
            char *data = path_blob_data(c->o->mfsroot, &d);
            char *dir = xstrdup(data);
            *strrchr(dir, '/') = '\0';
            uint64_t size = 0;
            int r = gc_remove(c, &d, dir, data, &size);
            if (r > 0) {
                c->st->blobs++;
                c->st->bytes += size;
                gc_say(c, "%s blob %s (%llu bytes)", c->o->dry_run ? "would remove" : "removed", ds,
                       (unsigned long long)size);
            }
            rc = r < 0 ? -1 : 0;
            free(dir);
            free(data);
            gc_progress(c, 0);
        }
        strv_free(hexes, nh);
    }
    strv_free(xxs, nx);
    return rc;
}

int gc_sweep_blobs(struct gc *c)
{
    if (!c->blobs[0])
        return 0;
    char **algs = NULL;
    size_t na = 0;
    char *dir = xasprintf("/ipfs/%s", c->blobs);
    int krc = kubo_files_ls(c->k, dir, &algs, &na);
    free(dir);
    if (krc == KUBO_UNAVAILABLE) {
        c->err = xasprintf("gc: list blobs: %s", kubo_errmsg(c->k));
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < na && rc == 0; i++) {
        enum digest_alg alg;
        if (digest_alg_parse(algs[i], &alg) == 0)
            rc = gc_sweep_alg(c, algs[i]);
    }
    strv_free(algs, na);
    return rc;
}

/* ---- the record of runs: <statedir>/gc/stats, read by /metrics ---- */

/* The counter key of the last record (0 when missing or not a number). */
static uint64_t gc_record_get(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return 0;
    return (uint64_t)json_object_get_int64(v);
}

void gc_record(const char *statedir, const struct gc_stats *st, int failed)
{
    char *f = xasprintf("%s/gc/stats", statedir);
    char *tmp = xasprintf("%s.tmp", f);
    json_object *o = json_object_from_file(f);
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = xjson_object();
    }
    static const char *const keys[] = { "runs", "failures", "manifests", "links", "blobs", "bytes" };
    uint64_t add[] = { 1, failed ? 1 : 0, st->manifests, st->links, st->blobs, st->bytes };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        xjson_set(o, keys[i], xjson_int64((int64_t)(gc_record_get(o, keys[i]) + add[i])));
    xjson_set(o, "last_duration_ms", xjson_int64((int64_t)(st->seconds * 1000)));
    xjson_set(o, "last_end", xjson_int64((int64_t)time(NULL)));
    /* written whole then renamed: a reader sees the old record or the new */
    if (json_object_to_file_ext(tmp, o, JSON_C_TO_STRING_PLAIN) < 0 || rename(tmp, f) < 0)
        unlink(tmp);
    json_object_put(o);
    free(tmp);
    free(f);
}

void gc_print_summary(FILE *f, const struct gc_opts *o, const struct gc_stats *st)
{
    fprintf(f,
            "gc: %s %lu manifests, %lu links, %lu blobs (%llu bytes)%s; %lu blob files (%llu bytes); "
            "%lu expired uploads; kept %lu touched within the grace; %lu problems; "
            "%lu repositories, %lu manifests read in %.1f s\n",
            o->dry_run ? "would remove" : "removed", st->manifests, st->links, st->blobs,
            (unsigned long long)st->bytes, o->repo_gc && !o->dry_run ? ", then Kubo's repo gc" : "",
            st->files, (unsigned long long)st->file_bytes, st->uploads, st->young, st->problems, st->repos,
            st->manifests_read, st->seconds);
}
