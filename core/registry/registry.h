/* registry: the distribution API. registry_handle() routes one request to its
 * handler (core/h_*.c), which speaks to storage only through struct store. */
#ifndef CORE_REGISTRY_REGISTRY_H
#define CORE_REGISTRY_REGISTRY_H
#include <stdint.h>
#include <time.h>
#include "core/http.h"
#include "core/slots.h"
#include "core/store.h"

/* A namespace of the pull-through mirror, as the registry routes it. */
struct registry_mirror_ns {
    const char *ns;       /* the upstream host clients name with ?ns= */
    const char *prefix;   /* storage repositories it is cached under */
    int is_default;       /* requests without ?ns= map here */
};

struct registry_opts {
    const char *statedir;        /* upload sessions live in <statedir>/uploads */
    int readonly;
    int require_remote_user;     /* writes need REMOTE_USER (the front server's authenticated user) */
    int allow_sparse;
    uint64_t max_manifest_size;
    time_t upload_expiry;
    unsigned max_upload_sessions;   /* POST beyond it: 429 (0: no maximum) */
    /* Blob GET offload (HEAD, 416 and empty blobs are always answered here):
     * accel_redirect: an internal front-server location prefix ("/_oci_p2p_blob/"):
     *   answer "X-Accel-Redirect: <prefix><cid>?digest=<digest>&type=<type>";
     * blob_redirect: a URL template with "{cid}": answer 307 to it.
     * NULL or "" = stream the bytes through the worker. */
    const char *accel_redirect;
    const char *blob_redirect;
    /* Blob files (store_blob.file; core/blobfile.h), sent by the front
     * server instead: blobfile_accel, an internal location prefix
     * ("/_oci_p2p_file/") whose alias is blobdir: answer "X-Accel-Redirect:
     * <prefix><alg>/<xx>/<hex>?digest=<digest>"; blobfile_sendfile: answer
     * "X-Sendfile: <blobdir>/<alg>/<xx>/<hex>" (lighttpd). Neither: the
     * worker sends the file (splice, no copy through user space). */
    const char *blobdir;
    const char *blobfile_accel;
    int blobfile_sendfile;
    const char *metrics_path;    /* exact request path answered with metrics; NULL or "" = none */
    const char *writeipnskey;    /* set: the health check requires a live publisher */
    /* the read-only web view on /ui/ (core/ui/ui.h); off: /ui/ is 404 */
    int ui;
    const char *ui_gateway_url;  /* gateway links' base for browsers; NULL or "": none */
    /* the pull-through mirror's namespaces (borrowed), and whether clients
     * may push under their prefixes */
    const struct registry_mirror_ns *mirror_ns;
    size_t n_mirror_ns;
    int mirror_writable;
};

struct registry {
    struct registry_opts opts;   /* strings borrowed */
    struct store *store;         /* borrowed */
    /* borrowed; serves the names oci/layout.h calls layout names (ipfs/<cid>...,
     * ipns/<name>...), read-only. NULL: those names are unknown. */
    struct store *layout_store;
    /* borrowed; serves ipns/<this registry's key>/<path> (reads and writes:
     * layouts pushed into MFS, oci/store_layout_rw.h). NULL: none (no
     * writeipnskey), those names go to layout_store. */
    struct store *layout_rw;
    /* borrowed; the pull-through mirror (oci/store_mirror.h), serving the
     * names under opts.mirror_ns's prefixes. NULL: no mirror. */
    struct store *mirror;
    char own_key_id[128];        /* writeipnskey's k51... ID once the publisher said it */
    /* borrowed; the upload_workers slots a request that reads a body takes
     * (core/registry/admit.h). NULL: bodies are not limited. */
    struct slots *body_slots;
    /* Called once a request took a slot, before its body is read (the
     * worker tells the master, which starts another worker). NULL: none. */
    void (*body_begun)(void);
    time_t last_sweep;           /* when this worker last looked whether a sweep is due */
    int sweep_more;              /* its last slice ran out of time with sessions left */
};

void registry_init(struct registry *reg, const struct registry_opts *opts, struct store *store);
/* writeipnskey's k51... ID as the publisher recorded it (read from
 * statedir once it is there, then kept), or "" while it is not known. */
const char *registry_key_id(struct registry *reg);
/* Answers req on resp completely (status, headers, body, or an aborted stream). */
void registry_handle(struct registry *reg, struct request *req, struct response *resp);
/* Upkeep for a worker to run between two requests, never inside one: a
 * slice (about 500 ms) of the sweep of expired upload sessions when one is
 * due (the workers take turns; core/registry/h_uploads.c). Returns 1 when
 * work is left for another slice right away. */
int registry_maintain(struct registry *reg);

#endif
