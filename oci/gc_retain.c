/* gc_retain: the retention rules for untagged manifests (off by default).
 *
 * An untagged revision goes when it is neither among the gc_untagged_keep
 * most recent untagged revisions of its repository nor younger than
 * gc_untagged_max_age (a rule that is off protects nothing; both off keeps
 * everything). Age and recency count from the first collection that found
 * the revision untagged: MFS keeps no times, and a tag moved away today
 * should not make a manifest pushed a year ago go at once. Those times are
 * kept in <statedir>/gc/untagged, one "<unix time> <repo> <digest>" line
 * per untagged revision, rewritten by each run that changes things. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/xalloc.h"
#include "oci/gc_internal.h"

static int gc_retain_on(const struct gc_opts *o)
{
    return o->untagged_max_age > 0 || o->untagged_keep >= 0;
}

static char *gc_retain_file(const struct gc *c)
{
    return xasprintf("%s/gc/untagged", c->o->statedir);
}

static void gc_retain_put(struct gc_set *keys, time_t **first, size_t *cap, const char *key, time_t t)
{
    size_t i = gc_set_add(keys, key, NULL);
    if (i >= *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *first = xrealloc(*first, *cap * sizeof **first);
    }
    (*first)[i] = t;
}

void gc_retain_load(struct gc *c)
{
    struct gc_retain *r = &c->ret;
    memset(r, 0, sizeof *r);
    gc_set_init(&r->keys);
    gc_set_init(&r->next_keys);
    if (!gc_retain_on(c->o))
        return;
    char *f = gc_retain_file(c);
    FILE *fp = fopen(f, "r");
    free(f);
    char *line = NULL;
    size_t cap = 0;
    while (fp && getline(&line, &cap, fp) > 0) {
        char *end;
        long long t = strtoll(line, &end, 10);
        if (end == line || *end != ' ')
            continue;   /* a damaged line: that revision's clock starts again */
        end[strcspn(end, "\n")] = '\0';
        gc_retain_put(&r->keys, &r->first, &r->cap, end + 1, (time_t)t);
    }
    free(line);
    if (fp)
        fclose(fp);
}

struct gc_retain_item {
    time_t first;
    const struct digest *d;
    size_t i;
};

/* Most recent first; equal times by digest, so the choice is stable. */
static int gc_retain_cmp(const void *a, const void *b)
{
    const struct gc_retain_item *x = a, *y = b;
    if (x->first != y->first)
        return x->first > y->first ? -1 : 1;
    return strcmp(y->d->hex, x->d->hex);
}

void gc_retain_decide(struct gc *c, const char *repo, const struct digest *untagged, size_t n, int *keep)
{
    struct gc_retain *r = &c->ret;
    if (!gc_retain_on(c->o)) {
        for (size_t i = 0; i < n; i++)
            keep[i] = 1;
        return;
    }
    time_t now = time(NULL);
    struct gc_retain_item *items = xcalloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        char ds[DIGEST_STR_MAX];
        char *key = xasprintf("%s %s", repo, digest_str(&untagged[i], ds));
        long at = gc_set_find(&r->keys, key);
        items[i] = (struct gc_retain_item){ .first = at >= 0 ? r->first[at] : now, .d = &untagged[i], .i = i };
        gc_retain_put(&r->next_keys, &r->next_first, &r->next_cap, key, items[i].first);
        free(key);
    }
    qsort(items, n, sizeof *items, gc_retain_cmp);
    for (size_t rank = 0; rank < n; rank++) {
        const struct gc_retain_item *it = &items[rank];
        int recent = c->o->untagged_keep >= 0 && rank < (size_t)c->o->untagged_keep;
        int young = c->o->untagged_max_age > 0 && now - it->first < c->o->untagged_max_age;
        keep[it->i] = recent || young;
    }
    free(items);
}

void gc_retain_save(struct gc *c)
{
    struct gc_retain *r = &c->ret;
    if (!gc_retain_on(c->o))
        return;
    char *f = gc_retain_file(c);
    char *tmp = xasprintf("%s.tmp", f);
    FILE *fp = fopen(tmp, "w");
    int ok = fp != NULL;
    for (size_t i = 0; ok && i < r->next_keys.n; i++)
        ok = fprintf(fp, "%lld %s\n", (long long)r->next_first[i], r->next_keys.keys[i]) > 0;
    if (fp && fclose(fp) != 0)
        ok = 0;
    if (!ok || rename(tmp, f) < 0) {
        gc_problem(c, "cannot save the retention records %s: %s", f, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    free(f);
}

void gc_retain_free(struct gc *c)
{
    struct gc_retain *r = &c->ret;
    gc_set_free(&r->keys);
    gc_set_free(&r->next_keys);
    free(r->first);
    free(r->next_first);
}
