/* conf: the configuration (struct config, config_*): the libconfig file,
 * its defaults, environment overrides and validation. Bad settings stop
 * start-up with one line each naming the file, the line and the key:
 * "/etc/oci-registry-p2p.conf:12: workers: must be 1..1024". */
#ifndef CONF_CONF_H
#define CONF_CONF_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "core/log.h"

/* One upstream of the pull-through mirror (conf_mirror.c, docs/design-mirror.md). */
struct config_upstream {
    char *ns;                    /* the registry host clients name: "docker.io", "127.0.0.1:5000" */
    char *url;                   /* "https://registry-1.docker.io": http(s), no path, no trailing '/' */
    char *prefix;                /* storage repositories the cache lives under; default ns */
    char *username, *password;   /* NULL: anonymous (basic credentials, also for token requests) */
    int freshness;               /* seconds a cached tag is served without asking upstream; default 300 */
    int is_default;              /* requests without ?ns= map here (at most one) */
};

struct config {
    char *file;                  /* path loaded, or NULL for defaults only */
    /* Kubo */
    char *ipfsapiaddress;        /* multiaddr, default /ip4/127.0.0.1/tcp/5001 (env REGISTRY_STORAGE_IPFS_IPFSAPIADDRESS) */
    char *ipfsgatewayaddress;    /* URL, default http://127.0.0.1:8080 */
    /* IPNS (validated here; used by the publisher and mirrors) */
    char *writeipnskey;          /* NULL = nothing is published (env REGISTRY_STORAGE_IPFS_WRITEIPNSKEY) */
    char **readonlyipnskeys;     /* list or comma-separated string (env REGISTRY_STORAGE_IPFS_READONLYIPNSKEYS) */
    size_t n_readonlyipnskeys;
    /* publisher and read-only mirrors (ipfs/publisher.c) */
    int publish_quiet_ms;        /* publish after this long without a change, default 300 */
    int publish_max_interval_ms; /* ...but at least this often while changes keep coming, default 3000 */
    char *ipns_lifetime;         /* name/publish lifetime (Kubo duration), default 48h */
    char *ipns_ttl;              /* name/publish ttl (Kubo duration), default 1m */
    int publish_allow_offline;   /* name/publish allow-offline, default false */
    int ipnsrefresh;             /* seconds between resolves of readonlyipnskeys, default 5 */
    int owner_lease;             /* seconds a tree's owner record lives without a heartbeat (ipfs/owner.h), default 30 */
    int pinreadonly;             /* pin each resolved read-only root (full replica) */
    int other_writer_overwrite;  /* other_writer = "overwrite": publish over a root we did not publish */
    /* storage */
    char *mfsroot;               /* default /oci-registry-p2p */
    char *statedir;              /* default LOCALSTATEDIR/lib/oci-registry-p2p */
    int readonly;                /* refuse every write */
    int require_remote_user;     /* refuse writes the front server passed without REMOTE_USER */
    int allow_sparse;            /* accept manifests whose descriptors are missing */
    uint64_t max_manifest_size;  /* bytes, default 4 MiB */
    time_t upload_expiry;        /* seconds, default 24 h */
    unsigned max_upload_sessions;   /* open upload sessions at most (POST beyond: 429), default 10,000 */
    unsigned metadata_cache_mb;  /* MiB of the shared metadata cache, 0 = off */
    time_t layout_ipns_ttl;      /* longest an ipns/<name> layout resolution is reused, s; default 30; 0 = never */
    /* process model */
    int workers;                 /* default 16 */
    int upload_workers;          /* request bodies read at once, by extra workers; 0 = derived (config_upload_workers) */
    char *listen;                /* NULL = inherit fd 0 / LISTEN_FDS; "/path.sock" or "host:port" */
    int listen_mode;             /* Unix socket mode, default 0660 */
    int shutdown_timeout;        /* seconds a drain may take before workers are killed; 0 = no limit */
    enum log_level log_level;    /* default info */
    char *logfile;               /* NULL = stderr; reopened on SIGHUP (logrotate) */
    int syslog;                  /* also (or, without logfile, only) to syslog, facility daemon */
    char *metrics_path;          /* request path answered with Prometheus metrics; NULL = none */
    /* the read-only web view (core/ui/ui.h) */
    int ui;                      /* serve /ui/ (default off) */
    char *ui_gateway_url;        /* a gateway browsers reach ("https://gw.example"); NULL = no gateway links */
    /* blob files (oci/store_files.h): committed blobs as plain files */
    char *blobdir;               /* NULL = off; absolute, below Kubo's filestore root */
    int blobfiles_required;      /* blobfiles = "required": refuse to start when Kubo cannot
                                  * reference files in blobdir ("auto": go on without them) */
    char *blobfile_accel;        /* NULL = off; internal location prefix "/_oci_p2p_file/" (X-Accel-Redirect) */
    int blobfile_sendfile;       /* X-Sendfile with the file's absolute path (lighttpd) */
    /* blob GET offload (core/h_blobs.c); at most one of them is set */
    char *accel_redirect;        /* NULL = off; internal location prefix "/_oci_p2p_blob/" (X-Accel-Redirect) */
    char *blob_redirect;         /* NULL = off; 307 to this URL template with "{cid}" */
    /* the pull-through mirror (oci/store_mirror.h) */
    struct config_upstream *mirror;   /* n_mirror upstreams; NULL = no mirror */
    size_t n_mirror;
    int mirror_timeout_ms;       /* connect + first byte for what is not cached, default 3000 */
    int mirror_stall_s;          /* an upstream body without progress this long is cut, default 30 */
    int mirror_writable;         /* pushes into the mirrored prefixes are allowed (default refused) */
    /* garbage collection (oci/gc.h) */
    time_t gc_grace;             /* s: what a write touched more recently stays; default 1 h */
    time_t gc_interval;          /* s between collections inside the registry; 0 = none (default) */
    time_t gc_untagged_max_age;  /* s: retention, untagged revisions older go; 0 = off (default) */
    long gc_untagged_keep;       /* retention: the N most recent untagged stay; -1 = off (default) */
    int gc_repo_gc;              /* run Kubo's repo/gc after each collection (default off) */
    unsigned gc_duty;            /* percent of a collection's time spent working (10..100; default 50) */
};

/* Fills c with defaults, then the file (if file != NULL), then the
 * environment; validates. 0 ok; -1 with *err (caller frees) set to one
 * line per error found ('\n'-separated, every bad setting, not only the first). */
int config_load(const char *file, struct config *c, char **err);
void config_free(struct config *c);
/* Writes the effective configuration, one "key = value" per line (for --check-config -v and logs). */
void config_dump(const struct config *c, FILE *out);
/* How many request bodies (an upload's bytes, a manifest) may be read at
 * the same time: upload_workers, or twice workers when unset (at most
 * 1024). Each is read by a worker of its own: the master starts one more
 * for every body being read, so `workers` stay free for the rest. */
int config_upload_workers(const struct config *c);

#endif
