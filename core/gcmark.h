/* gcmark: what lets garbage collection run while pushes do (docs/design-gc.md,
 * "Safety under load"). Three things under <statedir>/gc/:
 *
 *   touched/<alg>-<hex>   a marker per digest, its mtime the last time a
 *                         write linked (or is about to link) that digest;
 *   locks/<xx>.lock       256 lock files by the digest's first byte;
 *   epoch                 a file that grows by one byte after each removal.
 *
 * A writer calls gcmark_touch before it links a digest (blob commit, mount,
 * manifest put) and, for a manifest push, for every digest the manifest
 * names before it checks they exist. A collection removes a digest's link or
 * blob only while holding that digest's lock and only when its marker is
 * older than the grace period, so a touch happens either before the check
 * (the collection sees it and keeps) or after the removal (the writer's
 * check, or its copy, sees the removal). Never "201 then gone".
 *
 * The epoch tells the workers' metadata cache (oci/cache_shm.h) and the
 * publisher that something changed under them: its size is a counter no
 * clock granularity can hide.
 *
 * All functions are safe to call from any process; none keeps state. */
#ifndef CORE_GCMARK_H
#define CORE_GCMARK_H
#include <time.h>
#include "core/digest.h"

/* Records that d is being linked now (under d's lock). 0, or -1 with errno
 * (the caller must then refuse the write: a collection could take d). */
int gcmark_touch(const char *statedir, const struct digest *d);
/* Takes d's lock (blocking). A descriptor for gcmark_unlock, or -1 with errno. */
int gcmark_lock(const char *statedir, const struct digest *d);
void gcmark_unlock(int fd);
/* 1 when d was touched less than grace seconds before now (or its marker
 * cannot be read for another reason than not existing: keep when unsure),
 * 0 when it was not. */
int gcmark_young(const char *statedir, const struct digest *d, time_t grace, time_t now);
/* Removes markers older than grace; returns how many. */
unsigned long gcmark_prune(const char *statedir, time_t grace, time_t now);

/* <statedir>/gc/epoch (caller frees). */
char *gcmark_epoch_path(const char *statedir);
/* Grows the epoch file by one byte (created if missing). 0, or -1 with errno. */
int gcmark_epoch_bump(const char *statedir);
/* Starts the epoch again when it has grown large (a collection's start):
 * the size then changes too, which readers see as a change. */
void gcmark_epoch_trim(const char *statedir);
/* The epoch's current value: its size, or 0 when there is none. */
long long gcmark_epoch_read(const char *path);

#endif
