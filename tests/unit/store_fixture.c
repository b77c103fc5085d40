/* store_fixture: helpers shared by the storage backend tests (see
 * store_fixture.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/store_fixture.h"
#include "core/xalloc.h"

void fx_digest(const void *s, size_t len, struct digest *d)
{
    digest_of(DIGEST_SHA256, s, len, d);
}

const char *fx_str(const struct digest *d)
{
    static char s[DIGEST_STR_MAX];
    return digest_str(d, s);
}

char *fx_manifest(const struct digest *config, size_t config_size, const struct digest *layer,
                  size_t layer_size, const struct digest *subject, size_t subject_size)
{
    char cs[DIGEST_STR_MAX], ls[DIGEST_STR_MAX], ss[DIGEST_STR_MAX];
    char *subj = subject_size ? xasprintf(",\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                                          "\"digest\":\"%s\",\"size\":%zu}",
                                          digest_str(subject, ss), subject_size)
                              : xstrdup("");
    char *m = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                        "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                        "\"digest\":\"%s\",\"size\":%zu},"
                        "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
                        "\"digest\":\"%s\",\"size\":%zu}]%s}",
                        digest_str(config, cs), config_size, digest_str(layer, ls), layer_size, subj);
    free(subj);
    return m;
}

ssize_t fx_read(void *ctx, char *p, size_t n)
{
    struct fx_source *src = ctx;
    size_t left = src->len - src->off;
    if (left == 0)
        return src->abort_at_end ? -1 : 0;
    if (n > src->step)
        n = src->step;
    if (n > left)
        n = left;
    memcpy(p, src->p + src->off, n);
    src->off += n;
    return (ssize_t)n;
}

int fx_collect(void *ctx, const char *p, size_t n)
{
    return buf_append(ctx, p, n) == 0 ? 0 : -1;
}

int fx_has(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

void fx_write(struct kubo *k, const char *path, const char *s)
{
    ck_assert_int_eq(kubo_files_write(k, path, s, strlen(s)), KUBO_OK);
}
