/* kubo: the client for one Kubo node, over its HTTP RPC API (/api/v0, POST
 * only) and its gateway (/ipfs/<cid>, for streaming bytes with Range).
 *
 * One struct kubo per process, reused across requests (libcurl keeps the
 * connection alive). Not thread-safe. Every call returns an enum kubo_rc; on
 * failure kubo_errmsg() has "ipfs: <command> <arg>: <Kubo's message>".
 *
 * Errors are detected in both places Kubo reports them: a non-200 status with
 * a JSON {"Message":...} body, and the X-Stream-Error trailer that arrives
 * after a 200 when a streaming command fails midway. */
#ifndef IPFS_KUBO_H
#define IPFS_KUBO_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/buf.h"

enum kubo_rc {
    KUBO_OK = 0,
    KUBO_NOT_FOUND,     /* "file does not exist", "no link named", ... */
    KUBO_EXISTS,        /* files/cp onto an existing entry */
    KUBO_UNAVAILABLE,   /* connection refused / reset / timed out: the node is down */
    KUBO_ERROR,         /* any other failure */
    KUBO_ABORTED,       /* a caller's callback returned an abort */
    KUBO_TOO_LARGE,     /* a read exceeded the caller's cap */
};

#define KUBO_CID_MAX 128

struct kubo;

/* api_maddr: e.g. "/ip4/127.0.0.1/tcp/5001"; gateway_url: e.g. "http://127.0.0.1:8080".
 * NULL and *err (caller frees) on a bad address. Does not contact the node. */
struct kubo *kubo_new(const char *api_maddr, const char *gateway_url, char **err);
void kubo_free(struct kubo *k);
const char *kubo_errmsg(const struct kubo *k);
/* Seconds to wait for a connection (default 5) and for a stalled transfer (default 300). */
void kubo_set_timeouts(struct kubo *k, long connect_s, long stall_s);
/* Makes every MFS change through k (files/write, cp, rm, mkdir, flush) hold
 * an exclusive flock on path, created if missing (ipfs/mfs.c says why).
 * Every process that changes the same MFS tree must call it with the same
 * path, after any fork. 0, or -1 with errno and k's error set. */
int kubo_set_mfs_lock(struct kubo *k, const char *path);
/* on: this client's adds (and the dag/put of kubo_concat) pin what they
 * store. Kubo holds its pin lock for the whole add only when pinning: an
 * add without it leaves its blocks to any `repo gc` running meanwhile, and
 * until the caller links them into MFS (tests/e2e/gc_race.sh: pushes then
 * fail, or are acknowledged with holes). The caller removes the pin once
 * the result is linked (kubo_unpin_added). */
void kubo_set_pin_adds(struct kubo *k, int on);
/* Removes the pin an add of this client made on cid: Kubo is asked only
 * when this client remembers pinning it (a no-op for anything else, and
 * when adds do not pin). Best effort: a failure leaves a pin, which keeps garbage
 * alive but never loses data. Returns KUBO_OK, or the failure (logged at
 * debug by the caller if it cares). */
int kubo_unpin_added(struct kubo *k, const char *cid);
/* Counts RPC + gateway requests made (for tests and benchmarks). */
unsigned long kubo_request_count(const struct kubo *k);
/* Health probe (ipfs/ping.c): the version RPC, the whole call bounded by
 * timeout_ms. KUBO_OK with Kubo's version string in version (n bytes). */
int kubo_ping(struct kubo *k, long timeout_ms, char *version, size_t n);

/* --- MFS (ipfs/mfs.c). Paths are absolute MFS paths; the reading calls
 * (stat, read, ls) also take immutable "/ipfs/<cid>/..." paths (read and ls
 * then use cat and ls, see ipfs/ipfspath.c). --- */
enum kubo_ftype { KUBO_FILE = 0, KUBO_DIR = 1 };
struct kubo_stat {
    char cid[KUBO_CID_MAX];
    uint64_t size;            /* file size in bytes (0 for directories) */
    enum kubo_ftype type;
};
int kubo_files_stat(struct kubo *k, const char *path, struct kubo_stat *st);
/* Whole small file into out (out's cap applies: KUBO_TOO_LARGE beyond it). */
int kubo_files_read(struct kubo *k, const char *path, struct buf *out);
/* Creates or replaces a small file (create, truncate, parents; CIDv1 raw leaves).
 * For link files and the like, never for blobs. */
int kubo_files_write(struct kubo *k, const char *path, const void *data, size_t len);
/* Entry names of a directory (unsorted); caller frees with strv_free(*names, *n). */
int kubo_files_ls(struct kubo *k, const char *path, char ***names, size_t *n);
/* src may be an MFS path or "/ipfs/<cid>"; parents are created; KUBO_EXISTS if dst exists. */
int kubo_files_cp(struct kubo *k, const char *src, const char *dst);
/* KUBO_NOT_FOUND if path does not exist. recursive for directories. */
int kubo_files_rm(struct kubo *k, const char *path, int recursive);
int kubo_files_mkdir(struct kubo *k, const char *path);   /* with parents; existing is ok */
/* files/flush; cid_out may be NULL. */
int kubo_files_flush(struct kubo *k, const char *path, char cid_out[KUBO_CID_MAX]);
/* dst becomes a copy of src (files/rm then files/cp) under one hold of the
 * MFS lock, so no other change of this registry sees dst missing between. */
int kubo_files_replace(struct kubo *k, const char *src, const char *dst);

/* --- add (ipfs/add.c) --- */
/* Source of bytes for add: >0 bytes, 0 end of data, -1 abort (the add is
 * cancelled and KUBO_ABORTED returned). */
typedef ssize_t (*kubo_read_cb)(void *ctx, char *buf, size_t n);
/* Streams a file into Kubo: add with cid-version=1, raw-leaves=true, pin=false,
 * chunked transfer (length unknown up front). If to_files is non-NULL, the
 * result is also linked at that MFS path (add --to-files; parents must exist,
 * else KUBO_NOT_FOUND; NOT flushed; no trailing '/', which would mean "inside
 * this directory"). cid_out gets the root CID, *size the byte count.
 * If to_files already exists (file or directory), Kubo 0.43 still stores the
 * data and answers its CID, then fails in the X-Stream-Error trailer
 * ("directory already has entry by that name") leaving the entry unchanged:
 * that is KUBO_EXISTS with cid_out and *size filled, so a caller adding a
 * content-addressed blob can compare cid_out with the existing entry's. */
int kubo_add_stream(struct kubo *k, kubo_read_cb cb, void *ctx, const char *to_files,
                    char cid_out[KUBO_CID_MAX], uint64_t *size);
int kubo_add_mem(struct kubo *k, const void *data, size_t len, const char *to_files,
                 char cid_out[KUBO_CID_MAX]);
/* kubo_add_stream without copying the bytes into Kubo's blockstore (add
 * --nocopy): the node records, per leaf, the file abspath and the offset
 * the leaf has in it (its filestore), and reads the bytes from that file
 * whenever it needs them. The bytes still come from cb; abspath only names
 * where they will be, and must do so by the time anyone reads them. Needs
 * Experimental.FilestoreEnabled and abspath below the parent directory of
 * the node's repository; leaves are raw and the CID v1 as for
 * kubo_add_stream, so the CID is the same as a copying add's. Not pinned,
 * not linked into MFS. */
int kubo_add_nocopy(struct kubo *k, const char *abspath, kubo_read_cb cb, void *ctx,
                    char cid_out[KUBO_CID_MAX], uint64_t *size);

/* --- the filestore of --nocopy adds (ipfs/filestore.c) --- */
/* The file (as the filestore names it: relative to its root) that the
 * first leaf of cid's DAG is referenced into; *path is the caller's to
 * free. KUBO_NOT_FOUND when the node holds that leaf itself. */
int kubo_filestore_file_of(struct kubo *k, const char *cid, char **path);
/* For each of n CIDs, the file its filestore entry names (relative to the
 * filestore root), or NULL when it has none; *paths (n strings) is the
 * caller's to free. */
int kubo_filestore_paths(struct kubo *k, const char *const *cids, size_t n, char ***paths);
/* 1 when entry (a filestore path: relative to the filestore root, or
 * absolute) names the absolute path abspath. */
int kubo_filestore_path_is(const char *entry, const char *abspath);
/* Takes out (block/rm) every filestore entry that names target but does not
 * read back as its CID, for the leaves of the bytes in bytes_file from
 * offset from (a multiple of KUBO_LEAF_SIZE), cut as a --nocopy add cuts
 * them: what an add naming target left when the bytes did not become
 * target. With all, also those that do read back. A missing bytes_file is
 * nothing to do; *taken (may be NULL) counts the entries taken out. */
int kubo_filestore_forget(struct kubo *k, const char *bytes_file, uint64_t from, const char *target, int all,
                          size_t *taken);
/* The filestore's verdict on block cid (boxo filestore/util.go): 0 ok,
 * 10 the file cannot be read, 11 it is not there, 12 it changed, 20 other,
 * 30 the block is no filestore entry. */
int kubo_filestore_status(struct kubo *k, const char *cid, int *status);
#define KUBO_FILESTORE_OK 0
#define KUBO_FILESTORE_FILE_ERROR 10
#define KUBO_FILESTORE_FILE_NOT_FOUND 11
#define KUBO_FILESTORE_FILE_CHANGED 12
/* repo/gc: Kubo removes every block that neither MFS nor a pin holds
 * (every unpinned block of the node, not only this registry's). */
int kubo_repo_gc(struct kubo *k);
/* block/rm --force of one block (a filestore entry's too). */
int kubo_block_rm(struct kubo *k, const char *cid);
/* Calls fn with the CID of every leaf (raw block) of the DAG at root, in
 * order, reading only its internal nodes (dag/get), never a leaf's bytes.
 * fn returns -1 to stop (KUBO_ABORTED). */
typedef int (*kubo_leaf_fn)(void *ctx, const char *cid);
int kubo_dag_leaves(struct kubo *k, const char *root, kubo_leaf_fn fn, void *ctx);
/* block/put of len bytes as a raw block (an ordinary block, not a
 * filestore entry); cid_out gets its CIDv1. */
int kubo_block_put_raw(struct kubo *k, const void *data, size_t len, char cid_out[KUBO_CID_MAX]);
/* The CIDv1 (raw, sha2-256) of a leaf whose SHA-256 is sha256. */
void kubo_raw_cid(const unsigned char sha256[32], char out[KUBO_CID_MAX]);

/* --- the leaves of a --nocopy add (ipfs/leaves.c) --- */
/* Kubo's chunker default (size-262144): an add cuts a file there. */
#define KUBO_LEAF_SIZE (256 * 1024)
/* Reads the next leaf of the file at fd's position into buf (KUBO_LEAF_SIZE
 * bytes): bytes read (fewer only at the end, 0 past it), or -1 with errno. */
ssize_t kubo_leaf_next(int fd, char *buf);
/* The CID of the raw leaf holding bytes p[0..n) (kubo_raw_cid of their SHA-256). */
void kubo_leaf_cid(const void *p, size_t n, char out[KUBO_CID_MAX]);
/* block/rm --force of every leaf the file at path is cut into (a leaf the
 * node does not hold is skipped): what must go before a --nocopy add of
 * the file, so its filestore records each leaf instead of skipping those
 * the node already holds. *nleaves (may be NULL) gets how many leaves. */
int kubo_leaves_rm(struct kubo *k, const char *path, uint64_t *nleaves);

/* --- UnixFS concatenation (ipfs/unixfs.c) --- */
/* Builds one UnixFS file whose content is the given files in order (dag/put
 * of a dag-pb node linking them, no data copied). n == 1 returns cids[0]. */
int kubo_concat(struct kubo *k, const char *const *cids, const uint64_t *sizes, size_t n,
                char cid_out[KUBO_CID_MAX]);

/* --- gateway (ipfs/gateway.c) --- */
/* Body sink: 0 continue, -1 abort. Called only with body bytes of a
 * successful (200/206) response. */
typedef int (*kubo_write_cb)(void *ctx, const char *buf, size_t n);
/* Streams bytes [offset, offset+length) of /ipfs/<cid> (length 0 = to the end)
 * through the gateway, with a Range request. KUBO_NOT_FOUND on 404. */
int kubo_gateway_get(struct kubo *k, const char *cid, uint64_t offset, uint64_t length,
                     kubo_write_cb cb, void *ctx);
/* A UnixFS directory, <cid>/<path inside it>, as the tar archive the
 * gateway makes of it (?format=tar), streamed to cb (ipfs/tar.h reads it):
 * every file under it in one request. */
int kubo_gateway_tar(struct kubo *k, const char *path, kubo_write_cb cb, void *ctx);
/* The same bytes [offset, offset+length) (length > 0) as a blocking TCP
 * socket to the gateway, read up to the first body byte: *fd then has
 * exactly length bytes left to read (splice) before the gateway closes, and
 * SO_RCVTIMEO/SO_SNDTIMEO set to the stall limit; the caller closes it
 * (ipfs/gateway_fd.c). Any answer this plain reader does not expect (a
 * status other than 200/206, no Content-Length, chunked or encoded bodies,
 * another range, an https gateway) fails with *fd = -1: use
 * kubo_gateway_get instead, which handles all of that. */
int kubo_gateway_open(struct kubo *k, const char *cid, uint64_t offset, uint64_t length, int *fd);

#endif
