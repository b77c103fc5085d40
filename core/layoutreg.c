/* layoutreg: the statedir records of pushed layouts (see layoutreg.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/layoutreg.h"
#include "core/digest.h"
#include "core/lockfile.h"
#include "core/xalloc.h"
#include "core/xjson.h"

/* Records read for a status answer: a bound, not a limit on layouts. */
#define LAYOUTREG_LIST_MAX 1000
#define LAYOUTREG_RECORD_MAX 4096

/* <statedir>/layouts/<h><suffix>, the directory created; caller frees. */
static char *layoutreg_file(const char *statedir, const char *path, const char *suffix)
{
    struct digest d;
    char *dir = xasprintf("%s/layouts", statedir);
    (void)mkdir(dir, 0700);
    digest_of(DIGEST_SHA256, path, strlen(path), &d);
    char *f = xasprintf("%s/%.16s%s", dir, d.hex, suffix);
    free(dir);
    return f;
}

int layoutreg_lock(const char *statedir, const char *path)
{
    char *f = layoutreg_file(statedir, path, ".lock");
    int fd = lockfile_take(f, 1);
    int e = errno;
    free(f);
    errno = e;
    return fd;
}

void layoutreg_unlock(int fd)
{
    if (fd >= 0)
        close(fd);   /* releases the flock */
}

int layoutreg_note(const char *statedir, const char *path, const char *cid, const char *root)
{
    json_object *o = xjson_object();
    xjson_set(o, "path", xjson_string(path));
    xjson_set(o, "cid", xjson_string(cid));
    xjson_set(o, "root", xjson_string(root));
    xjson_set(o, "updated", xjson_int64((int64_t)time(NULL)));
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    char *f = layoutreg_file(statedir, path, ".json");
    char *tmp = xasprintf("%s.%ld.tmp", f, (long)getpid());
    int rc = -1;
    FILE *fp = fopen(tmp, "we");
    if (fp) {
        int ok = fputs(text, fp) >= 0;
        if (fclose(fp) == 0 && ok && rename(tmp, f) == 0)
            rc = 0;
    }
    if (rc < 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
    }
    free(tmp);
    free(f);
    json_object_put(o);
    return rc;
}

static json_object *layoutreg_read(const char *file)
{
    char buf[LAYOUTREG_RECORD_MAX];
    FILE *fp = fopen(file, "re");
    if (!fp)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    json_object *o = json_tokener_parse(buf);
    json_object *p;
    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "path", &p) ||
        !json_object_is_type(p, json_type_string)) {
        json_object_put(o);
        return NULL;   /* half a record (a crash between write and rename never leaves one) */
    }
    return o;
}

static int layoutreg_cmp(const void *a, const void *b)
{
    json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b, *px, *py;
    json_object_object_get_ex(x, "path", &px);
    json_object_object_get_ex(y, "path", &py);
    return strcmp(json_object_get_string(px), json_object_get_string(py));
}

json_object *layoutreg_list(const char *statedir)
{
    json_object *a = xjson_array();
    char *dir = xasprintf("%s/layouts", statedir);
    DIR *dp = opendir(dir);
    if (dp) {
        struct dirent *e;
        while ((e = readdir(dp)) && json_object_array_length(a) < LAYOUTREG_LIST_MAX) {
            size_t n = strlen(e->d_name);
            if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
                continue;
            char *f = xasprintf("%s/%s", dir, e->d_name);
            json_object *o = layoutreg_read(f);
            free(f);
            if (o)
                xjson_push(a, o);
        }
        closedir(dp);
    }
    free(dir);
    json_object_array_sort(a, layoutreg_cmp);
    return a;
}
