#!/usr/bin/env bash
# api.sh: targeted HTTP checks the conformance suite does not make, through
# nginx against the "default" stack: hostile names, bad digests and
# manifests change nothing; the storage layout in Kubo's MFS is
# distribution's, with CIDv1 raw-leaf blobs; unknown query parameters are
# ignored; Kubo going away gives a quick 503 and service comes back by
# itself; every response carries Docker-Distribution-API-Version.
# It stops and restarts the shared Kubo node, so tests/run-all runs it last.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

STACK=default
REPO=e2e/api
T=""       # scratch dir
BASE=""    # http://127.0.0.1:PORT
CODE=""    # status of the last api_req
NO_API_VERSION=0

# api_req METHOD PATH [curl args...]: one request (e2e_http: the answer
# is in $T, E2E_HTTP_DIR); CODE holds its status. Checks the API version
# header on the way.
api_req() {
    local method=$1 path=$2
    shift 2
    local url=$path
    case $url in http://*) ;; *) url=$BASE$url ;; esac
    CODE=$(e2e_http "$method" "$url" "$@")
    case $(e2e_header Docker-Distribution-API-Version) in
        registry/2.0*) ;;
        *)
            NO_API_VERSION=$((NO_API_VERSION + 1))
            e2e_log "no Docker-Distribution-API-Version on $method $path ($CODE)" ;;
    esac
}
# api_expect DESC STATUS [ERRCODE]: checks the last answer. STATUS 4xx
# means any client error (where the spec leaves the exact status open).
api_expect() {
    local desc=$1 want=$2 werr=${3:-} got_err
    got_err=$(e2e_errcode)
    if { [ "$CODE" = "$want" ] || { [ "$want" = 4xx ] && [ "${CODE:0:1}" = 4 ]; }; } && { [ -z "$werr" ] || [ "$got_err" = "$werr" ]; }; then
        e2e_ok "$desc -> $CODE${werr:+ $werr}"
    else
        e2e_fail "$desc: want $want${werr:+ $werr}, got $CODE ${got_err:-$(head -c 200 "$T/body")}"
    fi
}

# The MFS path of a blob (by its hex digest), in distribution's layout.
blob_path() { e2e_mfs_blob_path "$STACK" "$1"; }
repo_path() { printf '%s/docker/registry/v2/repositories/%s' "$(e2e_mfsroot "$STACK")" "$REPO"; }
mfs_exists() { e2e_ipfs files stat --hash "$1" >/dev/null 2>&1; }
mfs_absent() { ! mfs_exists "$1"; }
mfs_read_is() { [ "$(e2e_ipfs files read "$1" 2>/dev/null)" = "$2" ]; }

# push_blob FILE: monolithic POST ?digest= (the one-request upload).
push_blob() {
    api_req POST "/v2/$REPO/blobs/uploads/?digest=$(e2e_digest "$1")" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$1"
}

t_names() {
    echo "-- names"
    api_req GET "/v2/e2e/%2e%2e/secret/tags/list"
    api_expect "GET /v2/e2e/%2e%2e/secret/tags/list" 400 NAME_INVALID
    api_req POST "/v2/e2e/%2E%2E/x/blobs/uploads/"
    api_expect "POST /v2/e2e/%2E%2E/x/blobs/uploads/" 400 NAME_INVALID
    api_req GET "/v2/e2e/..%2fescape/manifests/latest"
    api_expect "GET /v2/e2e/..%2fescape/manifests/latest" 400 NAME_INVALID
    api_req GET "/v2/E2E/Upper/tags/list"
    api_expect "GET /v2/E2E/Upper/tags/list (upper case)" 400 NAME_INVALID
    api_req GET "/v2/$(printf 'a%.0s' $(seq 1 300))/tags/list"
    api_expect "GET /v2/<300 chars>/tags/list" 400 NAME_INVALID
    e2e_check "nothing named 'secret' or 'escape' appeared in MFS" \
        mfs_absent "$(e2e_mfsroot "$STACK")/docker/registry/v2/repositories/secret"
}

t_bad_digest() {
    local real claimed loc
    echo "-- blob whose bytes do not match its digest"
    printf 'these bytes are not what the digest says %s\n' "$RANDOM" >"$T/bad.bin"
    printf 'the digest is of these bytes %s\n' "$RANDOM" >"$T/other.bin"
    real=$(e2e_sha256 "$T/bad.bin") claimed=$(e2e_sha256 "$T/other.bin")
    api_req POST "/v2/$REPO/blobs/uploads/?digest=sha256:$claimed" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$T/bad.bin"
    api_expect "monolithic POST with a wrong digest" 400 DIGEST_INVALID
    api_req POST "/v2/$REPO/blobs/uploads/"
    api_expect "POST opens an upload session" 202
    loc=$(e2e_location "$BASE")
    api_req PUT "$(e2e_query "$loc" "digest=sha256:$claimed")" -H 'Content-Type: application/octet-stream' --data-binary "@$T/bad.bin"
    api_expect "PUT closing a session with a wrong digest" 400 DIGEST_INVALID
    api_req HEAD "/v2/$REPO/blobs/sha256:$claimed"
    api_expect "HEAD of the claimed digest" 404
    api_req HEAD "/v2/$REPO/blobs/sha256:$real"
    api_expect "HEAD of the bytes' real digest" 404
    e2e_check "no blob data in MFS under the claimed digest" mfs_absent "$(blob_path "$claimed")"
    e2e_check "no blob data in MFS under the real digest" mfs_absent "$(blob_path "$real")"
}

# Pushes a small image (config + 1 MiB layer) tagged v1; sets CFG, LAYER, MAN.
t_push_image() {
    echo "-- push an image with curl"
    head -c 1048576 /dev/urandom >"$T/layer.bin"
    printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
        "$(e2e_sha256 "$T/layer.bin")" >"$T/config.json"
    CFG=$(e2e_sha256 "$T/config.json") LAYER=$(e2e_sha256 "$T/layer.bin")
    push_blob "$T/config.json"
    api_expect "POST ?digest= config blob" 201
    push_blob "$T/layer.bin"
    api_expect "POST ?digest= 1 MiB layer blob" 201
    e2e_image_manifest "sha256:$CFG" "$(stat -c %s "$T/config.json")" "sha256:$LAYER" "$(stat -c %s "$T/layer.bin")" \
        >"$T/manifest.json"
    MAN=$(e2e_sha256 "$T/manifest.json")
    api_req PUT "/v2/$REPO/manifests/v1" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$T/manifest.json"
    api_expect "PUT manifest :v1" 201
    e2e_check "PUT manifest answers Docker-Content-Digest sha256:$MAN" [ "$(e2e_header Docker-Content-Digest)" = "sha256:$MAN" ]
}

cid_is_v1() { case $1 in b*) return 0 ;; *) return 1 ;; esac; }
# A raw-leaf blob: one block is itself a raw CID (bafkrei...); a bigger one
# is a dag-pb root (bafybei...) whose leaves are all raw.
cid_raw_leaves() {
    local cid=$1 ref
    case $cid in bafk*) return 0 ;; esac
    while read -r ref; do
        case $ref in bafk*) ;; *) e2e_log "leaf $ref of $cid is not a raw block"; return 1 ;; esac
    done < <(e2e_ipfs refs -r "$cid")
}
mfs_size_is() { [ "$(e2e_ipfs files stat --format '<size>' "$1" 2>/dev/null)" = "$2" ]; }

t_layout() {
    local rp cid_cfg cid_layer
    echo "-- storage layout in MFS ($(e2e_mfsroot "$STACK"))"
    rp=$(repo_path)
    e2e_check "blobs/sha256/${LAYER:0:2}/$LAYER/data exists with the layer's size" mfs_size_is "$(blob_path "$LAYER")" 1048576
    e2e_check "blobs/.../<config>/data exists" mfs_exists "$(blob_path "$CFG")"
    e2e_check "blobs/.../<manifest>/data exists (manifests are blobs)" mfs_exists "$(blob_path "$MAN")"
    e2e_check "_layers/sha256/<layer>/link holds its digest" mfs_read_is "$rp/_layers/sha256/$LAYER/link" "sha256:$LAYER"
    e2e_check "_layers/sha256/<config>/link holds its digest" mfs_read_is "$rp/_layers/sha256/$CFG/link" "sha256:$CFG"
    e2e_check "_manifests/revisions/sha256/<manifest>/link" mfs_read_is "$rp/_manifests/revisions/sha256/$MAN/link" "sha256:$MAN"
    e2e_check "_manifests/tags/v1/current/link" mfs_read_is "$rp/_manifests/tags/v1/current/link" "sha256:$MAN"
    e2e_check "_manifests/tags/v1/index/sha256/<manifest>/link" mfs_read_is "$rp/_manifests/tags/v1/index/sha256/$MAN/link" "sha256:$MAN"
    cid_cfg=$(e2e_ipfs files stat --hash "$(blob_path "$CFG")" 2>/dev/null)
    cid_layer=$(e2e_ipfs files stat --hash "$(blob_path "$LAYER")" 2>/dev/null)
    e2e_check "config blob is CIDv1 ($cid_cfg)" cid_is_v1 "$cid_cfg"
    e2e_check "config blob is a raw block" cid_raw_leaves "$cid_cfg"
    e2e_check "1 MiB layer blob is CIDv1 ($cid_layer)" cid_is_v1 "$cid_layer"
    e2e_check "1 MiB layer blob has raw leaves" cid_raw_leaves "$cid_layer"
    e2e_check "the layer's bytes in Kubo are the pushed bytes" \
        [ "$(e2e_ipfs cat "$cid_layer" 2>/dev/null | e2e_sha256)" = "$LAYER" ]
}

t_bad_manifests() {
    local pad
    echo "-- bad manifests"
    printf '{"schemaVersion":2,"mediaType":"%s","config":' "$MT_OCI_MANIFEST" >"$T/broken.json"
    api_req PUT "/v2/$REPO/manifests/broken" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$T/broken.json"
    api_expect "PUT manifest that is not valid JSON" 400 MANIFEST_INVALID
    api_req GET "/v2/$REPO/manifests/broken"
    api_expect "GET the rejected tag" 404
    e2e_image_manifest "sha256:$(printf 'nope' | e2e_sha256)" 3 >"$T/dangling.json"
    api_req PUT "/v2/$REPO/manifests/dangling" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$T/dangling.json"
    # The spec asks for "a relevant 4xx"; distribution answers 400.
    api_expect "PUT manifest whose config was never pushed (allow_sparse off)" 400 MANIFEST_BLOB_UNKNOWN
    # Valid JSON just over the default 4 MiB limit.
    pad=$((4 * 1024 * 1024))
    {
        printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"sha256:%s","size":%s},"layers":[],"annotations":{"pad":"' \
            "$MT_OCI_MANIFEST" "$MT_OCI_CONFIG" "$CFG" "$(stat -c %s "$T/config.json")"
        head -c "$pad" /dev/zero | tr '\0' 'x'
        printf '"}}'
    } >"$T/huge.json"
    api_req PUT "/v2/$REPO/manifests/huge" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$T/huge.json"
    api_expect "PUT manifest over the 4 MiB limit ($(stat -c %s "$T/huge.json") bytes)" 413
}

t_query() {
    echo "-- unknown query parameters are ignored (containerd's ?ns=)"
    api_req GET "/v2/$REPO/manifests/v1?ns=docker.io" -H "Accept: $MT_OCI_MANIFEST"
    api_expect "GET manifests/v1?ns=docker.io" 200
    e2e_check "same manifest bytes with ?ns=" [ "$(e2e_sha256 "$T/body")" = "$MAN" ]
    api_req GET "/v2/$REPO/tags/list?ns=docker.io"
    api_expect "GET tags/list?ns=docker.io" 200
    e2e_check "tags/list?ns= lists v1" [ "$(jq -r '.tags | index("v1") != null' "$T/body" 2>/dev/null)" = true ]
    api_req HEAD "/v2/$REPO/blobs/sha256:$LAYER?ns=docker.io&foo=bar"
    api_expect "HEAD blob?ns=docker.io&foo=bar" 200
}

kubo_503() {
    local t0 t1 secs
    t0=$(date +%s%N)
    api_req GET "/v2/$REPO/manifests/v1" -H "Accept: $MT_OCI_MANIFEST"
    t1=$(date +%s%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    api_expect "GET manifest with Kubo stopped (answered in ${secs} s)" 503
    e2e_check "the 503 has a JSON error body ($(e2e_errcode))" jq -e '.errors[0].code' "$T/body" >/dev/null
    e2e_check "the 503 came within 5 s (${secs} s)" awk -v s="$secs" 'BEGIN { exit !(s < 5) }'
    api_req GET "/v2/$REPO/blobs/sha256:$LAYER"
    api_expect "GET blob with Kubo stopped" 503
}
# A blob of many FastCGI records and pipe loads (the worker's zero-copy path).
t_blob_bytes() {
    echo "-- blob bytes through nginx (whole, Range, HEAD)"
    head -c $((48 * 1048576 + 4321)) /dev/urandom >"$T/big.bin"
    push_blob "$T/big.bin"
    api_expect "POST ?digest= 48 MiB blob" 201
    e2e_blob_bytes "$STACK" "$REPO" "$(e2e_digest "$T/big.bin")" "$T/big.bin"
}

t_kubo_down() {
    echo "-- Kubo stopped, then restarted"
    e2e_stop_kubo
    kubo_503
    e2e_kubo_daemon || { e2e_fail "restarting Kubo"; return; }
    e2e_check "service resumes by itself within 30 s of Kubo's return" e2e_wait_for 30 "manifest GET after Kubo restart" \
        e2e_code_is 200 "$BASE/v2/$REPO/manifests/v1"
    api_req GET "/v2/$REPO/blobs/sha256:$LAYER"
    api_expect "GET blob after the restart" 200
    e2e_check "blob bytes after the restart" [ "$(e2e_sha256 "$T/body")" = "$LAYER" ]
}

main() {
    e2e_ensure_stack "$STACK" || { e2e_fail "stack '$STACK' did not start"; e2e_finish api; return; }
    BASE=$(e2e_url "$STACK")
    T=$(mktemp -d "$E2E_RUN/api.XXXXXX")
    E2E_HTTP_DIR=$T
    echo "== API checks (stack $STACK, $BASE)"
    api_req GET /v2/
    api_expect "GET /v2/" 200
    t_names
    t_bad_digest
    t_push_image
    t_layout
    t_bad_manifests
    t_query
    t_blob_bytes
    t_kubo_down
    e2e_check "every response carried Docker-Distribution-API-Version: registry/2.0 ($NO_API_VERSION without)" [ "$NO_API_VERSION" = 0 ]
    rm -rf "$T"
    e2e_finish api
}

main "$@"
