/* store_files: blob files in front of the store that links blobs (the MFS
 * store, usually through its cache). Every blob committed through it is an
 * immutable plain file at <blobdir>/<alg>/<xx>/<hex> (core/blobfile.h),
 * written once (staging file, fsync, rename) and added to Kubo with
 * --nocopy, so the node's filestore references the file instead of holding
 * a second copy; the inner store links the resulting CID into MFS exactly
 * as it links any blob, so publishing, mirrors and Kubo's GC see no change.
 *
 * Reads: blob_stat marks a blob whose file is present (store_blob.file)
 * and blob_open/blob_read serve it from the file; a blob without a file
 * (written before this mode, or by a mirror) goes to the inner store, as
 * before. A file that is missing although Kubo's filestore points at it,
 * or whose size is not the blob's, is an error naming the file.
 *
 * Uploads: each chunk is appended to <blobdir>/.uploads/<id>; completion
 * renames it into place and adds it (reading it once more). A monolithic
 * upload whose digest is known up front goes to the staging file and to
 * Kubo in one pass, the add naming the final path; if the digest then does
 * not match, upload_discard removes the filestore entries that add made.
 *
 * Ownership: the inner store and the Kubo client are borrowed. */
#ifndef OCI_STORE_FILES_H
#define OCI_STORE_FILES_H
#include "core/store.h"
#include "ipfs/kubo.h"

/* dir: the absolute blob directory (created if missing). uploads: the MFS
 * staging area of the storage chain (store_mfs's, NULL: none): a streamed
 * chunk's add is linked there until its commit, so a `repo gc` in between
 * cannot take its blocks (with kubo_set_pin_adds, the add's pin goes once
 * that link exists; upload_discard of the chain removes it). */
struct store *store_files_new(struct store *inner, struct kubo *k, const char *dir, const char *uploads);
void store_files_free(struct store *s);
/* Whether the node can reference files in dir, tried for real: a small file
 * written there, added with --nocopy and verified through the node's
 * filestore, then removed. 0 yes; -1 no, *why says which condition fails
 * (the filestore is off, dir is outside its root, the node cannot see or
 * read the file); 1 cannot tell now (the node is down), *why says so. *why
 * is the caller's to free. */
int store_files_probe(struct kubo *k, const char *dir, char **why);
/* At start, before any worker: what an upload whose discard could not
 * finish (the node was down, the registry was killed) left in
 * <dir>/.uploads: the filestore entries of its one-pass add are taken out,
 * and a staging file whose session (<sessions>/<id>.json) is gone is
 * removed. Returns how many could not be dealt with now (logged). */
int store_files_recover(struct kubo *k, const char *dir, const char *sessions);

#endif
