/* kubo_internal: what the files of ipfs/ share behind kubo.h — the client
 * struct, the RPC call helper, query building and the UnixFS encoder. Not for
 * use outside ipfs/ (and the unit tests). */
#ifndef IPFS_KUBO_INTERNAL_H
#define IPFS_KUBO_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include "core/buf.h"
#include "ipfs/kubo.h"

/* JSON answers of the RPC API are small; anything bigger is a bug or hostile. */
#define KUBO_JSON_MAX (1024 * 1024)
/* An IPNS record is at most 10 KiB (IPNS spec); a little room over that. */
#define KUBO_IPNS_RECORD_MAX (16 * 1024)
/* Error bodies and trailers are one message. */
#define KUBO_ERRBODY_MAX (64 * 1024)
/* Query strings carry MFS paths built from request names; nginx caps URIs
 * far below this. */
#define KUBO_QUERY_MAX (64 * 1024)

/* Pins of adds not linked yet: an upload holds one or two at a time; more
 * (a burst of concat nodes) drops the oldest from the list, whose pin then
 * stays (garbage kept, never data lost). */
#define KUBO_PINNED_MAX 32

struct kubo {
    CURL *rpc;            /* RPC handle, reused so the connection stays alive */
    CURL *gw;             /* gateway handle, separate so each keeps its own options */
    char *api_base;       /* "http://127.0.0.1:5001" (or "http://localhost" over a Unix socket) */
    char *unix_path;      /* Unix socket of the API, or NULL */
    char *gw_base;        /* "http://127.0.0.1:8080", or NULL if none configured */
    long connect_s;
    long stall_s;
    long total_ms;        /* > 0: a limit on the whole call (health probes only) */
    unsigned long nreq;
    char *err;            /* last error message, owned */
    int mfs_lock_fd;      /* serializes MFS changes across processes (mfs.c); -1: none */
    int pin_adds;         /* add and dag/put pin what they store (kubo_set_pin_adds) */
    /* the CIDs those pins are on, until kubo_unpin_added (oldest first) */
    char pinned[KUBO_PINNED_MAX][KUBO_CID_MAX];
    unsigned npinned;
};

/* After a pinning add or dag/put of cid succeeded: remember the pin
 * (name.c), so kubo_unpin_added asks Kubo only about pins made here. */
void kubo_note_pinned(struct kubo *k, const char *cid);

/* A query string under construction: a capped buffer and a sticky overflow
 * flag, so a too-long path fails the call instead of being cut silently. */
struct kubo_query {
    struct buf b;
    int overflow;
};
void kubo_query_init(struct kubo_query *q);
/* Appends key=<percent-encoded val>, with '?' or '&' as needed. */
void kubo_query_add(struct kubo_query *q, const char *key, const char *val);
void kubo_query_free(struct kubo_query *q);
/* Percent-encodes s onto b, keeping RFC 3986 unreserved bytes and, if
 * keep_slash, '/'. -1 on overflow of b's cap. */
int kubo_pct_encode(struct buf *b, const char *s, int keep_slash);

/* The MFS writer lock (mfs.c): blocks until this process holds it; no-op
 * without kubo_set_mfs_lock. Exposed for the unit tests. */
void kubo_mfs_lock(struct kubo *k);
void kubo_mfs_unlock(struct kubo *k);

/* Records "ipfs: <what>: <message>" as k's error and returns rc. */
int kubo_fail(struct kubo *k, int rc, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Maps a Kubo error message to an rc (NOT_FOUND, EXISTS, else ERROR). */
int kubo_classify(const char *msg);
/* Maps a transport failure: UNAVAILABLE for refused/reset/timeouts/empty
 * replies, else ERROR; the message gets curl's detail. */
int kubo_curl_fail(struct kubo *k, CURLcode cc, const char *what, const char *detail);
/* Resets h and sets what every request needs: timeouts, no signals, the
 * Unix socket if any (for the RPC handle), the URL, the error buffer, and
 * the two callbacks, both given ctx. */
void kubo_curl_prepare(struct kubo *k, CURL *h, int rpc, const char *url, char *errbuf,
                       curl_write_callback on_header, curl_write_callback on_body, void *ctx);

/* One RPC call: POST <api>/api/v0/<cmd><query> with mime as body (NULL for
 * none). A 200 body goes to out (NULL: discarded; its cap applies:
 * KUBO_TOO_LARGE past it). Errors from a non-200 status or the
 * X-Stream-Error trailer are classified and recorded with "<cmd> <arg>". */
int kubo_rpc(struct kubo *k, const char *cmd, const char *arg, const struct kubo_query *q,
             curl_mime *mime, struct buf *out);
/* The same for a command that streams one JSON object per line (pin/add
 * with progress): each line of the 200 body goes to on_line as it arrives
 * (NUL-terminated, without its newline; a line over KUBO_JSON_MAX fails the
 * call with KUBO_TOO_LARGE). */
typedef void (*kubo_line_cb)(const char *line, size_t n, void *ctx);
/* A multipart body of one part named "file" (what Kubo's commands read),
 * with filename and content type set; the caller gives it its data
 * (curl_mime_data or curl_mime_data_cb) and frees *mime after the call.
 * Aborts when curl cannot allocate, as xalloc does. */
curl_mimepart *kubo_mime_file(struct kubo *k, curl_mime **mime, const char *filename, const char *type);
int kubo_rpc_lines(struct kubo *k, const char *cmd, const char *arg, const struct kubo_query *q,
                   kubo_line_cb on_line, void *ctx);
/* Parses out as a JSON object and copies the string member key into
 * cid (KUBO_CID_MAX). For {"Cid":{"/":...}} pass key "Cid" and slash 1. */
int kubo_json_cid(struct kubo *k, const char *what, const struct buf *out, const char *key,
                  int slash, char cid[KUBO_CID_MAX]);
/* The "Name" of every object in arr (files/ls Entries, ls Links) as a new
 * vector; entries without a string Name are skipped. Caller frees with
 * strv_free(*names, *n). */
void kubo_json_names(struct json_object *arr, char ***names, size_t *n);

/* --- immutable /ipfs paths (ipfspath.c), for files/read and files/ls --- */
int kubo_ipfs_is_path(const char *path);
/* cat of path into out (out's cap applies). */
int kubo_ipfs_cat(struct kubo *k, const char *path, struct buf *out);
/* Link names of the directory at path; caller frees with strv_free. */
int kubo_ipfs_ls(struct kubo *k, const char *path, char ***names, size_t *n);

/* --- the gateway's response head (gateway_fd.c), pure --- */
struct kubo_gw_head {
    int status;
    int64_t content_length;   /* -1: none */
    int chunked;              /* a Transfer-Encoding (any): no Content-Length framing */
    int encoded;              /* a Content-Encoding other than identity */
    int has_range;            /* a Content-Range "bytes first-last/total" */
    uint64_t range_first, range_last;
};
/* The length of the head in p[0..n) (through the blank line), 0 if the
 * blank line is not there yet. */
size_t kubo_gw_head_end(const char *p, size_t n);
/* Parses a complete head (status line, then fields; names case-insensitive).
 * -1 for anything malformed or odd: no blank line, bare CR or LF, folded
 * lines, two Content-Lengths that disagree, a bad Content-Range. */
int kubo_gw_head_parse(const char *p, size_t n, struct kubo_gw_head *h);
/* What a gateway answer other than 200/206 means (gateway.c): 404/410 is
 * KUBO_NOT_FOUND, 5xx KUBO_UNAVAILABLE (retry later), the rest KUBO_ERROR. */
int kubo_gateway_status_rc(int status);
/* A 504 before the first byte: the node gave up finding the bytes within
 * its Gateway.RetrievalTimeout (under load, bitswap starved). The node may
 * well have them on a second try; the callers ask up to this many times. */
#define KUBO_GW_TIMEOUT_TRIES 3
static inline int kubo_gateway_gave_up(int rc, int status)
{
    return rc == KUBO_UNAVAILABLE && status == 504;
}

/* --- UnixFS encoding (unixfs.c), pure --- */
/* Encodes v as a protobuf varint into out (at least 10 bytes); returns the length. */
size_t unixfs_varint(unsigned char *out, uint64_t v);
/* The UnixFS Data protobuf of a File node whose children have the given
 * sizes: Type=File(2), filesize=sum, blocksizes=sizes (unpacked, as Kubo
 * writes them). Returns a new buffer (caller frees), *len its length. */
unsigned char *unixfs_file_data(const uint64_t *sizes, size_t n, size_t *len);
/* Standard base64 without padding, as dag-json writes bytes. Caller frees. */
char *unixfs_base64(const unsigned char *p, size_t n);

#endif
