/* layout: reading OCI image layouts (image-spec image-layout.md) as found on
 * IPFS, and the repository names that address them. Pure: no I/O, so every
 * rule here is unit-tested; oci/store_layout.c does the reading.
 *
 * A layout is untrusted input: every parser here caps what it accepts and
 * says precisely what is wrong, for the registry's error messages. */
#ifndef OCI_LAYOUT_H
#define OCI_LAYOUT_H
#include <stddef.h>
#include <stdint.h>
#include "core/digest.h"

/* An index.json (or a nested image index) with more entries than this is
 * refused: real layouts hold a handful, and the walk must stay bounded. */
#define LAYOUT_ENTRIES_MAX 10000
/* oci-layout is a one-line JSON object. */
#define LAYOUT_MARKER_MAX 4096
/* Nested indexes are walked at most this deep and read at most this many
 * manifests per walk (cycles are cut by digest, these bound the rest). */
#define LAYOUT_WALK_DEPTH 8
#define LAYOUT_WALK_MAX 256

enum layout_ns { LAYOUT_IPFS = 0, LAYOUT_IPNS };

/* A repository name served from IPFS: "ipfs/<cid>[/<path>]" or
 * "ipns/<name>[/<path>]". */
struct layout_name {
    enum layout_ns ns;
    char *root;   /* owned: the CID or IPNS name */
    char *sub;    /* owned: the path below it ("" for none), no leading '/' */
};

/* 1 if name is a layout name (ipfs/<x> or ipns/<x>, optionally with more
 * components), filling *out (free with layout_name_free); else 0. Only the
 * shape is checked: name must already satisfy the spec's grammar. */
int layout_name_parse(const char *name, struct layout_name *out);
void layout_name_free(struct layout_name *n);
/* 1 if path (a /v2/<name>/... request path, raw) names a CIDv0 ("ipfs/Qm...")
 * layout: the router refuses it as upper case, and the error should say to
 * use CIDv1 base32 instead. */
int layout_name_is_cidv0(const char *name);

/* Whether sub (the <path> of ipns/<own key>/<path>) may name a layout this
 * registry writes at <mfsroot>/<sub>: at least one component; none empty,
 * "." or ".."; none that a layout itself uses ("blobs", "index.json",
 * "oci-layout": one layout inside another's files); the first not "docker"
 * (storage mode's tree). 0 ok; -1 with *why (static text) saying which. */
int layout_push_path_check(const char *sub, const char **why);

/* One entry of index.json's "manifests". */
struct layout_entry {
    char *ref;           /* owned: org.opencontainers.image.ref.name, or NULL */
    char *media_type;    /* owned: may be NULL */
    struct digest digest;
    uint64_t size;
};

struct layout_index {
    struct layout_entry *v;   /* owned */
    size_t n;
};

/* Checks the oci-layout marker ({"imageLayoutVersion": "1.0.0"}). 0 ok;
 * -1 with *err (caller frees) saying why. */
int layout_marker_check(const char *data, size_t len, char **err);
/* Parses index.json or a nested image index / manifest list (anything with a
 * "manifests" array of descriptors). 0 ok; -1 with *err (caller frees). */
int layout_index_parse(const char *data, size_t len, struct layout_index *out, char **err);
void layout_index_free(struct layout_index *ix);
/* 1 if the entry's media type is an image index or a Docker manifest list. */
int layout_entry_is_index(const struct layout_entry *e);

/* The tag entry ref names for a layout addressed with filter (NULL: the
 * layout itself; "x": the images named "x:<tag>" in a parent layout).
 * Writes it into tag (TAG_MAX_LEN+1 bytes) and returns 2 for an exact ref
 * ("v1" with no filter, "x:v1" with filter x), 1 for the tag part of a full
 * reference ("docker.io/library/x:v1"), 0 when ref names no tag for filter. */
int layout_ref_tag(const char *ref, const char *filter, char *tag);
/* Index of the entry tag names in ix (exact refs win over full references,
 * then the first in order), or -1. */
long layout_find_tag(const struct layout_index *ix, const char *filter, const char *tag);
/* Adds the distinct tags of ix under filter to *tags (growing it; caller
 * frees with strv_free). */
void layout_tags(const struct layout_index *ix, const char *filter, char ***tags, size_t *n);

#endif
