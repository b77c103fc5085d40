/* blobfile: the blob-files layout (blobdir). A committed blob is one
 * immutable plain file at <blobdir>/<alg>/<first two hex>/<hex>, written
 * once (temporary name, fsync, rename) and never changed; upload staging
 * lives in <blobdir>/.uploads/. A blob whose digest was unknown while Kubo
 * added it (a streamed PATCH) also has an alias, <blobdir>/.added/<upload
 * id>.<n>, which its filestore entries name (they were made before the
 * content path was known): a symbolic link to the staging file, then to
 * the blob file; or, for an upload that ended otherwise, a plain file
 * keeping the bytes its entries name until --sweep-files. The same relative path is what a front
 * server is told to send (X-Accel-Redirect prefix + path, or X-Sendfile
 * with the absolute path), so this file is the one place that names it.
 *
 * Pure rules and small POSIX helpers; no Kubo, no registry state. */
#ifndef CORE_BLOBFILE_H
#define CORE_BLOBFILE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/digest.h"

/* "sha512/" + 2 + "/" + 128 hex + NUL */
#define BLOBFILE_REL_MAX (7 + 2 + 1 + DIGEST_HEX_MAX + 1)
#define BLOBFILE_UPLOADS ".uploads"
#define BLOBFILE_ADDED ".added"

/* The path of blob d below blobdir, e.g. "sha256/ab/ab12...". Returns out. */
char *blobfile_rel(const struct digest *d, char out[BLOBFILE_REL_MAX]);
/* <dir>/<rel>; caller frees. */
char *blobfile_path(const char *dir, const struct digest *d);
/* <dir>/.uploads/<upload id>; caller frees. */
char *blobfile_staging(const char *dir, const char *upload_id);
/* <dir>/.added/<upload id>; caller frees. */
char *blobfile_added(const char *dir, const char *upload_id);
/* 1 when path is a name in <dir>/.added/. */
int blobfile_is_added(const char *dir, const char *path);
/* The digest named by rel ("sha256/ab/<hex>"): 0, or -1 when rel is not a
 * blob file's path (a staging file, a stray name). */
int blobfile_parse_rel(const char *rel, struct digest *out);

/* Creates dir's parents of path as needed (mode 0755). 0, or -1 with errno. */
int blobfile_mkparents(const char *path);
/* fsync of the directory that holds path. 0, or -1 with errno. */
int blobfile_sync_parent(const char *path);
/* Writes all n bytes at fd's position. 0, or -1 with errno. */
int blobfile_write_all(int fd, const void *p, size_t n);
/* Write-behind: once BLOBFILE_FLUSH_STEP bytes past *started are written
 * (up to now), asks the kernel to start writing them to disk (Linux
 * sync_file_range, not waiting) and moves *started to now. The commit's
 * fsync then waits only for the tail instead of the whole blob: measured
 * on a 1 GiB push, 1.3 s of idle fsync became the last few MiB. A no-op
 * elsewhere; failures are ignored (the fsync at commit still decides). */
#define BLOBFILE_FLUSH_STEP (8L * 1024 * 1024)
void blobfile_flush_behind(int fd, off_t *started, off_t now);

/* The last damaged blob file a reader found (missing, or of the wrong
 * size), kept in <dir>/.damaged for the health endpoint: the newest only. */
struct blobfile_damage {
    long long at;                /* unix time it was found */
    unsigned long long size;     /* the size the blob has */
    char path[4096];
    char problem[256];
};
/* Records it (atomically replacing the last one). 0, or -1 with errno. */
int blobfile_damage_note(const char *dir, const char *path, uint64_t size, const char *problem);
/* 1 with *out when a damage is recorded and the file is still not what it
 * must be; 0 when none is (a repaired file's record is removed). */
int blobfile_damage_read(const char *dir, struct blobfile_damage *out);

#endif
