# shellcheck shell=bash
# words.sh: the words every e2e suite and bench/ speak, so that each thing
# is said once: checks and waits, digests, the media types, HTTP requests
# and their headers, blob uploads and manifest PUTs. tests/e2e/lib.sh (the
# stack) sources it; bench/push-blob, which hyperfine runs on its own,
# sources only this file, so it starts nothing and needs nothing but curl,
# jq and coreutils.
#
# Names: every shared word is e2e_* (constants MT_*). In a suite, t_* are
# its test steps (main calls them, they record checks); any other helper of
# a suite is the suite's own business.
#
# HTTP words that keep the answer (e2e_http and what is built on it) write
# its headers to $E2E_HTTP_DIR/headers and its body to $E2E_HTTP_DIR/body;
# e2e_header, e2e_location and e2e_errcode read them by default.
# e2e_init_run (lib.sh) sets E2E_HTTP_DIR; a suite may point it at its own
# scratch dir. Two requests at once must not share it.

E2E_FAILS=${E2E_FAILS:-0}

# ------------------------------------------------------------------ checks
e2e_log() { printf '[e2e] %s\n' "$*" >&2; }
e2e_ok() { printf '  ok    %s\n' "$*"; }
e2e_fail() { printf '  FAIL  %s\n' "$*"; E2E_FAILS=$((E2E_FAILS + 1)); }
# e2e_check DESCRIPTION COMMAND...: runs COMMAND, records ok/FAIL.
e2e_check() {
    local desc=$1
    shift
    if "$@"; then e2e_ok "$desc"; else e2e_fail "$desc"; fi
}
# e2e_expect_eq DESCRIPTION GOT WANT: ok when GOT is WANT. An empty WANT
# never passes (two empty strings are a broken check, not a match).
e2e_expect_eq() {
    if [ "$2" = "$3" ] && [ -n "$3" ]; then e2e_ok "$1"; else e2e_fail "$1: got '${2:0:200}', want '${3:0:200}'"; fi
}
# e2e_expect_lines DESCRIPTION LIST LINE...: every LINE is a line of LIST.
e2e_expect_lines() {
    local desc=$1 list=$2 w
    shift 2
    for w in "$@"; do
        grep -qxF -- "$w" <<<"$list" || { e2e_fail "$desc: no '$w' in: $(tr '\n' ' ' <<<"$list")"; return; }
    done
    e2e_ok "$desc"
}
# e2e_expect_no_line DESCRIPTION LIST LINE: LINE is not a line of LIST.
e2e_expect_no_line() {
    if grep -qxF -- "$3" <<<"$2"; then e2e_fail "$1: '$3' still listed"; else e2e_ok "$1"; fi
}
# A suite ends with `e2e_finish NAME`: its exit status is its verdict.
e2e_finish() {
    if [ "$E2E_FAILS" -eq 0 ]; then
        printf '%s: all checks passed\n' "$1"
        return 0
    fi
    printf '%s: %d check(s) FAILED\n' "$1" "$E2E_FAILS"
    return 1
}

# ------------------------------------------------------------------- waits
# e2e_wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s.
e2e_wait_for() {
    local secs=$1 desc=$2 i
    shift 2
    for ((i = 0; i < secs * 5; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    e2e_log "timed out after ${secs}s waiting for $desc"
    return 1
}
e2e_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
# e2e_alive_of PID...: the PIDs still alive, space-separated ("" if none).
e2e_alive_of() {
    local p out=""
    for p in "$@"; do e2e_alive "$p" && out="$out $p"; done
    printf '%s' "${out# }"
}
e2e_none_alive() { [ -z "$(e2e_alive_of "$@")" ]; }
# e2e_wait_gone SECONDS PID...: until every PID has exited (status 1 if
# some are still there after SECONDS).
e2e_wait_gone() {
    local secs=$1
    shift
    e2e_wait_for "$secs" "pid(s) $* to exit" e2e_none_alive "$@"
}

# ---------------------------------------------------------------- digests
# e2e_sha256 [FILE...]: hex sha256 of the FILEs' bytes one after another,
# or of stdin.
e2e_sha256() {
    if [ $# -eq 0 ]; then sha256sum; elif [ $# -eq 1 ]; then sha256sum <"$1"; else cat "$@" | sha256sum; fi |
        cut -d' ' -f1
}
# e2e_digest [FILE...]: the same as an OCI digest (sha256:<hex>).
e2e_digest() { printf 'sha256:%s\n' "$(e2e_sha256 "$@")"; }

# Deterministic, incompressible bytes (AES-CTR keystream, ~1 GB/s):
# e2e_keystream KEY BYTES to stdout.
e2e_keystream() {
    openssl enc -aes-128-ctr -nosalt -pass "pass:$1" -pbkdf2 -in /dev/zero 2>/dev/null | head -c "$2"
}

# ------------------------------------------------------------ media types
# shellcheck disable=SC2034 # for the scripts that source this file
{
    MT_OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
    MT_OCI_INDEX=application/vnd.oci.image.index.v1+json
    MT_OCI_CONFIG=application/vnd.oci.image.config.v1+json
    MT_OCI_LAYER=application/vnd.oci.image.layer.v1.tar
    MT_OCI_EMPTY=application/vnd.oci.empty.v1+json
    MT_DOCKER_MANIFEST=application/vnd.docker.distribution.manifest.v2+json
    MT_DOCKER_LIST=application/vnd.docker.distribution.manifest.list.v2+json
    # The blob of MT_OCI_EMPTY, '{}', is always this one.
    E2E_EMPTY_DIGEST=sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a
}

# e2e_image_manifest CONFIG_DIGEST CONFIG_SIZE [LAYER_DIGEST LAYER_SIZE]...:
# an OCI image manifest (uncompressed tar layers) on one line, no newline.
e2e_image_manifest() {
    local layers="" sep=""
    local cfg=$1 csize=$2
    shift 2
    while [ $# -ge 2 ]; do
        layers="$layers$sep$(printf '{"mediaType":"%s","digest":"%s","size":%s}' "$MT_OCI_LAYER" "$1" "$2")"
        sep=,
        shift 2
    done
    printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"%s","size":%s},"layers":[%s]}' \
        "$MT_OCI_MANIFEST" "$MT_OCI_CONFIG" "$cfg" "$csize" "$layers"
}

# e2e_layout_put LAYOUT FILE: moves FILE into the OCI layout's blobs;
# prints its digest.
e2e_layout_put() {
    local hex
    hex=$(e2e_sha256 "$2") && mv -f "$2" "$1/blobs/sha256/$hex" && printf 'sha256:%s\n' "$hex"
}
# e2e_oci_layout DIR KEY BYTES NAME: an OCI image layout in DIR, tagged v1,
# whose one uncompressed tar layer holds the file NAME: BYTES of
# e2e_keystream KEY, so the same arguments give the same digests. Built in
# DIR.tmp and moved into place whole; prints the layer's digest.
e2e_oci_layout() {
    local img=$1 key=$2 size=$3 name=$4 tmp=$1.tmp layer config manifest lsize csize msize
    rm -rf "$tmp" && mkdir -p "$tmp/blobs/sha256" "$tmp/src" || return 1
    e2e_keystream "$key" "$size" >"$tmp/src/$name"
    [ "$(stat -c %s "$tmp/src/$name")" = "$size" ] || { e2e_log "could not generate $size bytes"; return 1; }
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp/src" -cf "$tmp/layer.tar" "$name" || return 1
    rm -rf "$tmp/src"
    lsize=$(stat -c %s "$tmp/layer.tar")
    layer=$(e2e_layout_put "$tmp" "$tmp/layer.tar") || return 1
    printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
        "$layer" >"$tmp/config.json"
    csize=$(stat -c %s "$tmp/config.json")
    config=$(e2e_layout_put "$tmp" "$tmp/config.json") || return 1
    e2e_image_manifest "$config" "$csize" "$layer" "$lsize" >"$tmp/manifest.json"
    msize=$(stat -c %s "$tmp/manifest.json")
    manifest=$(e2e_layout_put "$tmp" "$tmp/manifest.json") || return 1
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"%s","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}' \
        "$MT_OCI_MANIFEST" "$manifest" "$msize" >"$tmp/index.json"
    printf '{"imageLayoutVersion":"1.0.0"}' >"$tmp/oci-layout"
    rm -rf "$img" && mv "$tmp" "$img" || return 1
    printf '%s\n' "$layer"
}

# ------------------------------------------------------------------- HTTP
# e2e_code [CURL ARGS...] URL: the status of one request; the body is
# dropped and nothing is kept.
e2e_code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
# e2e_code_is CODE [CURL ARGS...] URL: the request answers CODE (to poll
# with e2e_wait_for).
e2e_code_is() {
    local want=$1
    shift
    [ "$(e2e_code "$@")" = "$want" ]
}

# e2e_http METHOD URL [CURL ARGS...]: one request, 30 s at most (a later
# -m in CURL ARGS wins); prints the status, keeps the answer in
# $E2E_HTTP_DIR (headers, body). HEAD is sent as curl -I.
e2e_http() {
    local method=$1 url=$2 head=()
    shift 2
    [ -n "${E2E_HTTP_DIR:-}" ] || { e2e_log "e2e_http: E2E_HTTP_DIR is not set (e2e_init_run sets it)"; return 1; }
    [ "$method" = HEAD ] && head=(-I)
    curl -s -m 30 "${head[@]}" -X "$method" -D "$E2E_HTTP_DIR/headers" -o "$E2E_HTTP_DIR/body" \
        -w '%{http_code}' "$@" "$url"
}

# e2e_header NAME [FILE|-]: the value of header NAME (any case; the last
# one, as with a 100 Continue before the answer) in FILE, in stdin for -,
# by default in the last e2e_http answer. Carriage returns are dropped.
e2e_header() {
    local src=${2:-${E2E_HTTP_DIR:-}/headers}
    [ "$src" = - ] && src=/dev/stdin
    tr -d '\r' <"$src" | sed -n "s/^$1: *//Ip" | tail -n 1
}
# e2e_headers_match PATTERN...: every PATTERN (an extended regex, any
# case) matches a line of the last e2e_http answer's headers (the status
# line included, carriage returns dropped); with a leading !, none does.
e2e_headers_match() {
    local h p
    h=$(tr -d '\r' <"${E2E_HTTP_DIR:-}/headers") || return 1
    for p in "$@"; do
        case $p in
            !*) ! grep -qiE -- "${p#!}" <<<"$h" || return 1 ;;
            *) grep -qiE -- "$p" <<<"$h" || return 1 ;;
        esac
    done
}
# e2e_head_header NAME URL [CURL ARGS...]: header NAME of a HEAD of URL
# (empty on an error status).
e2e_head_header() {
    local name=$1 url=$2
    shift 2
    curl -sf -m 30 -I "$@" "$url" | e2e_header "$name" -
}
# e2e_location BASE [FILE|-]: the Location header (as e2e_header reads it),
# made absolute against BASE (http://host:port); status 1 if there is none.
e2e_location() {
    local loc
    loc=$(e2e_header Location "${2:-}")
    [ -n "$loc" ] || return 1
    case $loc in /*) printf '%s%s\n' "$1" "$loc" ;; *) printf '%s\n' "$loc" ;; esac
}
# e2e_query URL PARAM: URL with the query parameter PARAM (k=v) added.
e2e_query() {
    case $1 in *\?*) printf '%s&%s\n' "$1" "$2" ;; *) printf '%s?%s\n' "$1" "$2" ;; esac
}
# e2e_errcode [FILE]: the first OCI error code of a JSON error body (by
# default the last e2e_http answer's); empty if there is none.
# shellcheck disable=SC2120 # FILE is optional
e2e_errcode() { jq -r '.errors[0].code // empty' "${1:-${E2E_HTTP_DIR:-}/body}" 2>/dev/null; }

# ---------------------------------------------------------------- uploads
# A session is the absolute URL e2e_upload_start prints. Requests without a
# body say Content-Length: 0, as docker's do (lighttpd refuses a POST
# without a length). Each prints the status and keeps the answer.

# e2e_upload_start BASE REPO [CURL ARGS...]: POST an upload; prints the
# session (its Location, made absolute); status 1 if there is no Location.
e2e_upload_start() {
    local base=$1 repo=$2
    shift 2
    e2e_http POST "$base/v2/$repo/blobs/uploads/" -H 'Content-Length: 0' "$@" >/dev/null
    e2e_location "$base"
}
# e2e_upload_patch SESSION FILE [CURL ARGS...]: PATCH FILE's bytes, with
# their Content-Length.
e2e_upload_patch() {
    local session=$1 file=$2
    shift 2
    e2e_http PATCH "$session" -H 'Content-Type: application/octet-stream' --data-binary "@$file" "$@"
}
# e2e_upload_stream SESSION FILE [CURL ARGS...]: PATCH FILE's bytes as
# docker sends a layer: streamed from the file, chunked, no Content-Length.
e2e_upload_stream() {
    local session=$1 file=$2
    shift 2
    e2e_http PATCH "$session" -H 'Content-Type: application/octet-stream' -H 'Transfer-Encoding: chunked' \
        -T "$file" "$@"
}
# e2e_upload_put SESSION DIGEST [CURL ARGS...]: the closing PUT ?digest=,
# with no body.
e2e_upload_put() {
    local session=$1 digest=$2
    shift 2
    e2e_http PUT "$(e2e_query "$session" "digest=$digest")" -H 'Content-Length: 0' "$@"
}

# e2e_blob_put BASE REPO FILE: a monolithic upload (POST, then a PUT
# ?digest= carrying the bytes); prints the digest, status 1 unless 201.
e2e_blob_put() {
    local base=$1 repo=$2 file=$3 dg loc code
    dg=$(e2e_digest "$file")
    loc=$(e2e_upload_start "$base" "$repo") || { e2e_log "blob put $repo: the POST gave no Location"; return 1; }
    code=$(e2e_http PUT "$(e2e_query "$loc" "digest=$dg")" -H 'Content-Type: application/octet-stream' \
        --data-binary "@$file")
    [ "$code" = 201 ] || { e2e_log "blob put $repo $dg: HTTP $code"; return 1; }
    printf '%s\n' "$dg"
}
# e2e_blob_push BASE REPO FILE DIGEST: what a client pushing a layer does:
# POST, one streamed PATCH with every byte, PUT ?digest= at the Location
# the PATCH gave; status 1 unless 201. No timeout short of 15 minutes.
e2e_blob_push() {
    local base=$1 repo=$2 file=$3 dg=$4 loc code
    loc=$(e2e_upload_start "$base" "$repo") || { e2e_log "push $repo: the POST gave no Location"; return 1; }
    code=$(e2e_upload_stream "$loc" "$file" -m 900)
    loc=$(e2e_location "$base") || { e2e_log "push $repo: the PATCH ($code) gave no Location"; return 1; }
    code=$(e2e_upload_put "$loc" "$dg" -m 900)
    [ "$code" = 201 ] || { e2e_log "push $repo $dg: HTTP $code"; return 1; }
}
# e2e_blob_post BASE REPO FILE: the one-request upload (POST ?digest= with
# the bytes); prints the status.
e2e_blob_post() {
    e2e_http POST "$1/v2/$2/blobs/uploads/?digest=$(e2e_digest "$3")" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$3"
}

# e2e_manifest_put BASE REPO REF FILE [MEDIA TYPE]: PUT FILE as manifest REF
# (a tag or digest, with any ?query), of MEDIA TYPE (default
# MT_OCI_MANIFEST); prints the status.
e2e_manifest_put() {
    e2e_http PUT "$1/v2/$2/manifests/$3" -H "Content-Type: ${5:-$MT_OCI_MANIFEST}" --data-binary "@$4"
}
