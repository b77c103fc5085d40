/* tar: a streaming reader of the tar archives Kubo's gateway answers for
 * ?format=tar (Go's archive/tar: ustar headers, long names in a ustar
 * prefix, a PAX 'x' record or a GNU 'L' entry). Bytes are fed as they
 * arrive; every regular file is reported with its full name and, when it is
 * at most TAR_DATA_MAX bytes, its content (larger ones are skipped over).
 * Pure: no I/O. Used by garbage collection to read a repository's tag links
 * in one gateway request instead of one RPC per tag (oci/gc.c). */
#ifndef IPFS_TAR_H
#define IPFS_TAR_H
#include <stddef.h>
#include <stdint.h>

#define TAR_NAME_MAX 4096
#define TAR_DATA_MAX 4096

/* name: the entry's path as written (NUL-terminated); data/len: its bytes,
 * or NULL/0 for a file over TAR_DATA_MAX. Return non-zero to stop. */
typedef int (*tar_file_cb)(const char *name, const char *data, size_t len, void *ctx);

struct tar_reader {
    tar_file_cb cb;
    void *ctx;
    unsigned char hdr[512];
    size_t nhdr;                 /* header bytes collected */
    uint64_t left;               /* data bytes of the current entry still to come */
    uint64_t pad;                /* padding after them */
    char type;                   /* of the current entry; 0 between entries */
    int collect;                 /* its data is kept (a small file, a PAX/GNU record) */
    char name[TAR_NAME_MAX];     /* of the current entry */
    char next_name[TAR_NAME_MAX];   /* from a PAX or GNU long-name entry, for the next one */
    char *data;                  /* collected: a small file, or a PAX/GNU record (owned) */
    size_t ndata, data_cap;
    int zero_blocks;             /* consecutive all-zero headers: two end the archive */
    int done, failed, stopped;
};

void tar_init(struct tar_reader *t, tar_file_cb cb, void *ctx);
/* Feeds n bytes. 0, or -1 once the archive is malformed or cb stopped it
 * (t->failed or t->stopped says which); bytes after the end are ignored. */
int tar_feed(struct tar_reader *t, const char *p, size_t n);
/* 1 when the archive ended properly (its two zero blocks, or the end of
 * the last entry when the sender stops there, as Go's writer does not). */
int tar_complete(const struct tar_reader *t);
void tar_free(struct tar_reader *t);

#endif
