#!/usr/bin/env bash
# fronts.sh: every front server and start method the project ships, with a
# real client through each, on the Kubo node the other suites share:
#
#   lighttpd  shipped deploy/lighttpd config, lighttpd starting the registry
#             itself (bin-path, max-procs 1), in blob-files mode (blobdir,
#             blobfile_sendfile; the config's x-sendfile lines on):
#             conformance dev with every toggle, skopeo round trip of the
#             1 GiB image, a docker-style chunked 1 GiB PATCH, Range on that
#             blob file byte for byte (lighttpd answers it), the registry's
#             log showing every blob GET of it offloaded, raw-URI routing;
#             then a SIGHUP without blobdir and the workers SIGKILLed mid
#             blob GET; stopping lighttpd must stop the registry (lighttpd
#             signals only the master, which must drain its pool)
#   caddy     shipped deploy/caddy site block (caddy 2.6, transport fastcgi),
#             registry under systemd-socket-activate (LISTEN_FDS), in
#             blob-files mode (blobfile_accel_redirect; handle_response +
#             file_server): the same checks, no Status: header leaking; then
#             the SIGHUP and SIGKILL as for lighttpd; then a SIGHUP turns on
#             the blob offload to the gateway (handle_response) and
#             conformance dev runs again
#   offload   nginx with the shipped config, registry with
#             accel_redirect = "/_oci_p2p_blob/": conformance dev, every
#             toggle on (digest headers included); blob GETs must be served
#             by nginx from the gateway (two upstreams in one request); a
#             docker-style chunked 1 GiB PATCH (nginx streams it)
#   nginx-files  nginx, registry in blob-files mode (blobfile_accel_redirect):
#             conformance dev with every toggle, Range on a 5 MB blob file
#   redirect  nginx, registry with blob_redirect = gateway URL template:
#             skopeo round trip following the 307s to the Kubo gateway
#
# nginx with the registry streaming is covered by the other suites
# (skopeo_roundtrip, big_put, conformance, api). Results per front go to
# $E2E_ARTIFACTS/fronts.txt.
set -uo pipefail
FRONTS_DIR=$(cd "$(dirname "$0")" && pwd)
. "$FRONTS_DIR/lib.sh"
. "$FRONTS_DIR/fronts_lib.sh"
# conf_run (conformance) and rt_* (skopeo round trip) without their mains.
. "$FRONTS_DIR/conformance.sh"
. "$FRONTS_DIR/skopeo_roundtrip.sh"

FR_REPORT=${E2E_ARTIFACTS:-/tmp}/fronts.txt

fr_note() { printf '%s\n' "$*" | tee -a "$FR_REPORT"; }

# fr_conf_result RUN: "N passed, F failed, ..." from the run's counts file.
fr_conf_result() {
    local c=$E2E_ARTIFACTS/conformance-$1/counts n f e s d
    [ -f "$c" ] || { echo "no result"; return; }
    read -r n f e s d <"$c"
    echo "$((n - f - e - s - d))/$n passed, $f failed, $e errors, $s skipped, $d disabled"
}

# fr_big_image: the cached 1 GiB image's layout dir and layer digest.
fr_big_image() {
    FR_BIG=$(rt_big_image) || return 1
    FR_BIG_LAYER=$(rt_first_layer "$FR_BIG")
}

# t_chunked_upload STACK REPO FILE DIGEST: what docker does for a layer:
# POST, then one PATCH with the whole body chunked (no Content-Length),
# then PUT ?digest= with no body. The registry checks the digest of what
# arrived, so 201 means every byte went through the front intact.
t_chunked_upload() {
    local stack=$1 repo=$2 file=$3 digest=$4 base loc code t0 t1 t2 size
    base=$(e2e_url "$stack")
    loc=$(e2e_upload_start "$base" "$repo") || { e2e_fail "$stack: chunked upload: POST gave no Location"; return 1; }
    t0=$(date +%s.%N)
    code=$(e2e_upload_stream "$loc" "$file" -m 900)
    t1=$(date +%s.%N)
    if [ "$code" != 202 ]; then
        e2e_fail "$stack: chunked PATCH of $(stat -c %s "$file") bytes answered $code"
        head -c 400 "$E2E_HTTP_DIR/body"; echo
        return 1
    fi
    code=$(e2e_upload_put "$loc" "$digest" -m 900)
    t2=$(date +%s.%N)
    e2e_check "$stack: chunked PATCH of $(stat -c %s "$file") bytes 202 in $(rt_secs "$t0" "$t1") s, PUT ?digest= $code in $(rt_secs "$t1" "$t2") s" [ "$code" = 201 ]
    size=$(e2e_head_header Content-Length "$base/v2/$repo/blobs/$digest")
    e2e_check "$stack: HEAD of the chunked blob says $size bytes" [ "$size" = "$(stat -c %s "$file")" ]
    FR_CHUNKED="PATCH $(rt_secs "$t0" "$t1") s, PUT $(rt_secs "$t1" "$t2") s, $code"
    [ "$code" = 201 ]
}

# t_raw_uri STACK: the front passes the raw REQUEST_URI (a decoded and
# normalized path would turn %2e%2e into a parent directory).
t_raw_uri() {
    local code
    code=$(e2e_http GET "$(e2e_url "$1")/v2/e2e/%2e%2e/secret/tags/list")
    # shellcheck disable=SC2016 # eval'd by e2e_check when the check runs, not now
    e2e_check "$1: /v2/e2e/%2e%2e/secret/tags/list is 400 NAME_INVALID (raw URI reaches the registry)" \
        eval '[ "$code" = 400 ] && grep -q NAME_INVALID "$E2E_HTTP_DIR/body"'
}

# t_front STACK LABEL HOW: the stack runs in blob-files mode (blobdir; the
# front sends blob files itself, HOW says how): conformance dev with every
# toggle, the 1 GiB round trip, the chunked 1 GiB upload, Range on it byte
# for byte, proof that the worker sent no blob bytes, raw URIs; one line per
# result in the report.
t_front() {
    local stack=$1 label=$2 how=$3 ok_rt=FAIL ok_ch=FAIL all_on=() t t0
    for t in $CONF_ALL_TOGGLES; do all_on+=("$t=true"); done
    t0=$(date +%s)
    conf_run "$stack-files-dev" "$stack" dev "${all_on[@]}"
    FR_CONF_SECS=$(($(date +%s) - t0))
    RT_PUSH_SECS=0 RT_PULL_SECS=0
    rt_roundtrip "big-$stack" "$FR_BIG" v1 "$stack" && ok_rt=PASS
    FR_CHUNKED=""
    t_chunked_upload "$stack" "e2e/chunked-$stack" "$(rt_blob "$FR_BIG" "$FR_BIG_LAYER")" "$FR_BIG_LAYER" && ok_ch=PASS
    e2e_blob_bytes "$stack" "e2e/chunked-$stack" "$FR_BIG_LAYER" "$(rt_blob "$FR_BIG" "$FR_BIG_LAYER")"
    t_files_probe "$stack" "e2e/chunked-$stack" "$FR_BIG_LAYER" "$(rt_blob "$FR_BIG" "$FR_BIG_LAYER")"
    t_raw_uri "$stack"
    fr_note "$label"
    fr_note "  blob files (blobdir) sent by $how"
    fr_note "  conformance dev (every toggle): $(fr_conf_result "$stack-files-dev") (${FR_CONF_SECS} s)"
    fr_note "  1 GiB skopeo round trip: $ok_rt (push ${RT_PUSH_SECS} s, pull ${RT_PULL_SECS} s)"
    fr_note "  1 GiB docker-style chunked PATCH + PUT: $ok_ch (${FR_CHUNKED:-failed})"
    fr_note "  Range on the 1 GiB blob file (first byte, last byte, middle, suffix, unsatisfiable): $FR_RANGES; blob GETs sent by the front, none by a worker: $FR_OFFLOADED"
}

# fr_reglog STACK: the registry's log (under lighttpd's bin-path, its
# stderr is lighttpd's stderr).
fr_reglog() {
    if [ -d "$E2E_RUN/$1/lighttpd" ]; then echo "$E2E_RUN/$1/lighttpd/stderr.log"; else echo "$E2E_RUN/$1/registry.log"; fi
}

# fr_files_conf STACK sendfile|accel: the registry's config lines for blob
# files the front sends: X-Sendfile (lighttpd) or X-Accel-Redirect to
# /_oci_p2p_file/ (caddy, nginx); allow_sparse for conformance dev's sparse
# manifests.
fr_files_conf() {
    printf '%s\n' "workers = 4;" "blobdir = \"$(e2e_blobdir "$1")\";" "allow_sparse = true;"
    case $2 in
        sendfile) echo "blobfile_sendfile = true;" ;;
        accel) echo 'blobfile_accel_redirect = "/_oci_p2p_file/";' ;;
    esac
}

# fr_reload STACK [CONFIG LINES...]: STACK's registry.conf rewritten, then
# SIGHUP to its master; returns once the reload is logged and the pool has
# rolled over to the new generation.
fr_reload() {
    local stack=$1 log n
    shift
    log=$(fr_reglog "$stack")
    e2e_write_conf "$stack" "$@" || return 1
    n=$(grep -c "SIGHUP: reloaded" "$log")
    kill -HUP "$(cat "$E2E_RUN/$stack/registry.pid")"
    e2e_wait_for 20 "$stack registry reload" sh -c "[ \$(grep -c 'SIGHUP: reloaded' '$log') -gt $n ]" || return 1
    sleep 2   # let the pool roll over to the new generation
}

# fr_range STACK URL FILE FIRST LAST DESC: a Range GET answers 206 with
# FILE's bytes FIRST..LAST (compared byte for byte) and their Content-Range.
fr_range() {
    local stack=$1 url=$2 file=$3 first=$4 last=$5 desc=$6 size code
    size=$(stat -c %s "$file")
    code=$(e2e_http GET "$url" -H "Range: bytes=$first-$last")
    # shellcheck disable=SC2016 # eval'd by e2e_check when the check runs, not now
    e2e_check "$stack: Range $desc ($first-$last): 206, Content-Range, the file's bytes" \
        eval '[ "$code" = 206 ] && e2e_headers_match "^content-range: bytes $first-$last/$size\$" &&
            cmp -s "$E2E_HTTP_DIR/body" <(tail -c +$((first + 1)) "$file" | head -c $((last - first + 1)))'
}

# t_files_probe STACK REPO DIGEST FILE: blob DIGEST (FILE's bytes) is a blob
# file the front sends: Range first byte, last byte, middle, suffix are the
# file's bytes, an unsatisfiable one is 416; the registry's headers are
# there and the front's internal ones are not; every blob GET line of the
# registry's log for it says 0 bytes out (the front sent them).
t_files_probe() {
    local stack=$1 repo=$2 dg=$3 file=$4 url size code lines sent fails=$E2E_FAILS
    url=$(e2e_url "$stack")/v2/$repo/blobs/$dg
    size=$(stat -c %s "$file")
    fr_range "$stack" "$url" "$file" 0 0 "first byte"
    # shellcheck disable=SC2016 # eval'd by e2e_check when the check runs, not now
    e2e_check "$stack: blob file GET headers: Docker-Content-Digest, ETag \"<digest>\", one Content-Type application/octet-stream, no X-Sendfile/X-Accel-Redirect" \
        eval 'e2e_headers_match "^docker-content-digest: $dg\$" "^etag: \"$dg\"\$" "^content-type: application/octet-stream\$" \
            "!^(x-sendfile|x-accel-redirect|x-lighttpd-send-file):" && [ "$(grep -ci "^content-type:" "$E2E_HTTP_DIR/headers")" = 1 ]'
    fr_range "$stack" "$url" "$file" $((size - 1)) $((size - 1)) "last byte"
    fr_range "$stack" "$url" "$file" $((size / 2 + 12345)) $((size / 2 + 12345 + 1048576 - 1)) "middle, 1 MiB"
    code=$(e2e_http GET "$url" -H "Range: bytes=-1000")
    # shellcheck disable=SC2016 # eval'd by e2e_check when the check runs, not now
    e2e_check "$stack: Range suffix (-1000): 206, Content-Range, the last 1000 bytes" \
        eval '[ "$code" = 206 ] && e2e_headers_match "^content-range: bytes $((size - 1000))-$((size - 1))/$size\$" &&
            cmp -s "$E2E_HTTP_DIR/body" <(tail -c 1000 "$file")'
    code=$(e2e_http GET "$url" -H "Range: bytes=$size-")
    e2e_check "$stack: Range past the end: 416 with Content-Range bytes */$size" \
        eval "[ '$code' = 416 ] && e2e_headers_match '^content-range: bytes \*/$size\$'"
    FR_RANGES=$([ "$E2E_FAILS" = "$fails" ] && echo PASS || echo FAIL)
    lines=$(grep -c "GET /v2/[^ ]*/blobs/$dg blob 20[06] " "$(fr_reglog "$stack")")
    sent=$(grep "GET /v2/[^ ]*/blobs/$dg blob 20[06] " "$(fr_reglog "$stack")" | grep -vc ' out 0 bytes')
    e2e_check "$stack: the registry log shows $lines blob GETs of it, all offloaded (out 0 bytes; $sent sent by a worker)" \
        sh -c "[ '$lines' -ge 4 ] && [ '$sent' = 0 ]"
    FR_OFFLOADED="$lines GETs, $sent by a worker"
}

# t_cut_get STACK REPO DIGEST: the workers SIGKILLed in the middle of a
# blob GET. A dead worker cannot end its FastCGI stream with an error, so
# the front server sees EOF before FCGI_END_REQUEST: lighttpd and caddy take
# that as a failed response and close the client's connection at once (curl
# exit 18, bytes missing). nginx does not (README, "Faults"), so this runs
# here, not in the nginx suites.
t_cut_get() {
    local stack=$1 url master pid rc t0 ms got
    url=$(e2e_url "$stack")
    master=$(cat "$E2E_RUN/$stack/registry.pid" 2>/dev/null)
    curl -s -m 60 --limit-rate 64M -o "$E2E_RUN/cut-$stack" "$url/v2/$2/blobs/$3" &
    pid=$!
    sleep 1
    pkill -KILL -P "$master" -x orp2p-worker
    t0=$(date +%s%N)
    wait "$pid"
    rc=$?
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    got=$(stat -c %s "$E2E_RUN/cut-$stack" 2>/dev/null || echo 0)
    rm -f "$E2E_RUN/cut-$stack"
    e2e_check "$stack: workers SIGKILLed mid blob GET: the client's connection closes short at once (curl exit $rc after $got bytes, $ms ms)" \
        sh -c "[ '$rc' = 18 ] && [ '$ms' -lt 10000 ]"
    fr_note "  workers SIGKILLed mid blob GET: curl exit $rc, $got bytes, closed $ms ms after the kill"
    e2e_check "$stack: the master replaced the workers (GET /v2/ is 200 again)" \
        e2e_wait_for 20 "/v2/ on $stack" e2e_code_is 200 "$url/v2/"
}

# A graceful restart of lighttpd (SIGUSR1; what a reload of lighttpd does)
# stops the registry it started and starts a new one: requests around it
# must all be answered, and the new master must own the statedir.
t_lighttpd_graceful() {
    local dir=$E2E_RUN/lighttpd old new codes i base loc slow
    old=$(cat "$dir/registry.pid")
    base=$(e2e_url lighttpd)
    # A 3 MB PATCH at 1 MB/s in flight across the restart: lighttpd waits
    # for it before it stops the old master.
    head -c 3000000 /dev/urandom >"$dir/slow.bin"
    loc=$(e2e_upload_start "$base" e2e/graceful)
    e2e_upload_patch "$loc" "$dir/slow.bin" --limit-rate 1M -m 60 >"$dir/slow.code" &
    slow=$!
    sleep 0.5
    kill -USR1 "$(cat "$dir/front.pid")"
    codes=""
    for ((i = 0; i < 20; i++)); do
        codes="$codes $(e2e_code -m 10 "$(e2e_url lighttpd)/v2/")"
        sleep 0.25
    done
    wait "$slow"
    e2e_check "lighttpd: a PATCH in flight across the graceful restart completed ($(cat "$dir/slow.code"))" \
        [ "$(cat "$dir/slow.code")" = 202 ]
    new=$(fronts_master_pid lighttpd)
    e2e_check "lighttpd: graceful restart (SIGUSR1) replaced master $old by $new; 20 requests around it:$codes" \
        sh -c "[ -n '$new' ] && [ '$new' != '$old' ] && ! kill -0 '$old' 2>/dev/null && [ -z \"\$(echo '$codes' | tr ' ' '\n' | grep -v '^200\$' | grep .)\" ]"
    [ -n "$new" ] && echo "$new" >"$dir/registry.pid"
    fr_note "  lighttpd graceful restart (SIGUSR1) restarts the registry; a PATCH in flight: $(cat "$dir/slow.code"); 20 requests around it:$codes"
}

t_lighttpd() {
    local master workers alive conf=()
    mapfile -t conf < <(fr_files_conf lighttpd sendfile)
    if ! FRONTS_BLOBDIR=$(e2e_blobdir lighttpd) fronts_start_lighttpd_binpath lighttpd "${conf[@]}"; then
        e2e_fail "lighttpd: stack did not start"
        return
    fi
    master=$(cat "$E2E_RUN/lighttpd/registry.pid" 2>/dev/null)
    e2e_check "lighttpd: bin-path started one registry master ($master), child of lighttpd" \
        sh -c "[ -n '$master' ] && [ \"\$(ps -o ppid= -p '$master' | tr -d ' ')\" = '$(cat "$E2E_RUN/lighttpd/front.pid")' ]"
    t_front lighttpd "lighttpd $(lighttpd -v 2>/dev/null | sed -n 's|^lighttpd/\([^ ]*\).*|\1|p') (mod_fastcgi, bin-path, max-procs 1)" \
        "lighttpd (X-Sendfile, x-sendfile-docroot = blobdir; Range answered by lighttpd)"
    # The worker streaming (no blob files): what a SIGKILLed worker does to
    # a blob GET in flight.
    e2e_log "lighttpd: SIGHUP without blobdir (the worker streams blobs from Kubo)"
    fr_reload lighttpd "workers = 4;" || e2e_fail "lighttpd: registry reload without blobdir"
    t_cut_get lighttpd "e2e/chunked-lighttpd" "$FR_BIG_LAYER"
    t_lighttpd_graceful
    master=$(cat "$E2E_RUN/lighttpd/registry.pid" 2>/dev/null)
    # lighttpd signals only the process it started; the master must take
    # its workers (and publisher) with it.
    workers=$(pgrep -P "$master" | tr '\n' ' ')
    e2e_stop_pid "$E2E_RUN/lighttpd/front.pid" 10
    # shellcheck disable=SC2086 # pid lists
    e2e_wait_gone 20 $master $workers
    # shellcheck disable=SC2086
    alive=$(e2e_alive_of $master $workers)
    e2e_check "lighttpd: stopping lighttpd stops the master and its children ($master; $workers) within 20 s" [ -z "$alive" ]
    [ -z "$alive" ] && rm -f "$E2E_RUN/lighttpd/registry.pid"
    fr_note "  stopping lighttpd stops the registry (master and workers): $([ -z "$alive" ] && echo PASS || echo "FAIL (left:$alive)")"
}

t_caddy() {
    local dir=$E2E_RUN/caddy base conf=()
    mapfile -t conf < <(fr_files_conf caddy accel)
    if ! fronts_start_caddy_socket_activated caddy "${conf[@]}"; then
        e2e_fail "caddy: stack did not start"
        return
    fi
    e2e_check "caddy: the registry took its socket from systemd-socket-activate (LISTEN_FDS)" \
        grep -q "serving on systemd socket fd 3" "$dir/registry.log"
    base=$(e2e_url caddy)
    e2e_upload_start "$base" e2e/status >/dev/null
    e2e_check "caddy: upload POST is 202 with a Location, and no Status: header reaches the client" \
        e2e_headers_match '^HTTP/1.1 202' '^location: /v2/' '!^status:'
    t_front caddy "caddy $(caddy version 2>/dev/null | cut -d' ' -f1) (reverse_proxy, transport fastcgi; registry socket-activated)" \
        "caddy (handle_response of X-Accel-Redirect /_oci_p2p_file/, file_server from blobdir; Range answered by file_server)"

    # The worker streaming (no blob files): a SIGKILLed worker mid GET.
    e2e_log "caddy: SIGHUP without blobdir (the worker streams blobs from Kubo)"
    fr_reload caddy "workers = 4;" || e2e_fail "caddy: registry reload without blobdir"
    t_cut_get caddy "e2e/chunked-caddy" "$FR_BIG_LAYER"

    # Offload to the gateway through caddy (handle_response), switched on by
    # a reload.
    e2e_log "caddy: SIGHUP with accel_redirect and allow_sparse on"
    fr_reload caddy "workers = 4;" 'accel_redirect = "/_oci_p2p_blob/";' "allow_sparse = true;" \
        || e2e_fail "caddy: registry reload with accel_redirect"
    t_offload_probe caddy
    local all_on=() t
    for t in $CONF_ALL_TOGGLES; do all_on+=("$t=true"); done
    conf_run caddy-offload-dev caddy dev "${all_on[@]}"
    fr_note "  conformance dev (every toggle) with the blob offload (handle_response): $(fr_conf_result caddy-offload-dev)"
}

# t_offload_probe STACK: a blob GET and a Range GET answer the right
# bytes and headers while the worker sends none of them (its log line for
# the GET shows 0 bytes out).
t_offload_probe() {
    local stack=$1 base f d
    base=$(e2e_url "$stack")
    f=$E2E_RUN/$stack/probe.bin
    head -c 300000 /dev/urandom >"$f"
    d=$(e2e_digest "$f")
    e2e_blob_put "$base" e2e/probe "$f" >/dev/null
    e2e_http GET "$base/v2/e2e/probe/blobs/$d" >/dev/null
    # shellcheck disable=SC2016 # eval'd by e2e_check when the check runs, not now
    e2e_check "$stack: offloaded blob GET: 200, bytes hash to the digest" \
        eval 'e2e_headers_match "^HTTP/1.1 200" && [ "$(e2e_digest "$E2E_HTTP_DIR/body")" = "$d" ]'
    # shellcheck disable=SC2016 # eval'd by e2e_check when the check runs, not now
    e2e_check "$stack: offloaded blob GET carries Docker-Content-Digest, Content-Type application/octet-stream, no X-Accel-Redirect or gateway headers" \
        eval '[ "$(e2e_header Docker-Content-Digest)" = "$d" ] && [ "$(e2e_header Content-Type)" = application/octet-stream ] &&
            [ "$(grep -ci "^content-type:" "$E2E_HTTP_DIR/headers")" = 1 ] &&
            e2e_headers_match "!^(x-accel-redirect|x-ipfs-|ipfs-uri|access-control-)"'
    e2e_http GET "$base/v2/e2e/probe/blobs/$d" -H 'Range: bytes=1000-1009' >/dev/null
    # shellcheck disable=SC2016 # eval'd by e2e_check when the check runs, not now
    e2e_check "$stack: offloaded Range GET is 206 with the right 10 bytes and Content-Range" \
        eval 'e2e_headers_match "^HTTP/1.1 206" "^content-range: bytes 1000-1009/300000" &&
            cmp -s "$E2E_HTTP_DIR/body" <(tail -c +1001 "$f" | head -c 10)'
    e2e_check "$stack: HEAD is still answered by the worker (Content-Length 300000)" \
        [ "$(e2e_head_header Content-Length "$base/v2/e2e/probe/blobs/$d")" = 300000 ]
    e2e_check "$stack: the worker sent none of the bytes (its GET lines show out 0)" \
        sh -c "grep 'GET /v2/e2e/probe/blobs/$d' '$E2E_RUN/$stack/registry.log' | grep -q ' out 0 bytes' && ! grep 'GET /v2/e2e/probe/blobs/$d' '$E2E_RUN/$stack/registry.log' | grep -q ' out [1-9]'"
}

t_offload() {
    local all_on=() t
    if ! e2e_start_stack offload 'accel_redirect = "/_oci_p2p_blob/";' "allow_sparse = true;"; then
        e2e_fail "offload: stack did not start"
        return
    fi
    t_offload_probe offload
    for t in $CONF_ALL_TOGGLES; do all_on+=("$t=true"); done
    conf_run offload-dev offload dev "${all_on[@]}"
    # nginx's row of the table: docker's chunked layer PATCH streams too.
    local ok_ch=FAIL
    FR_CHUNKED=""
    t_chunked_upload offload "e2e/chunked-nginx" "$(rt_blob "$FR_BIG" "$FR_BIG_LAYER")" "$FR_BIG_LAYER" && ok_ch=PASS
    e2e_check "offload: nginx served blob GETs from the gateway (two upstreams in one request in its log)" \
        grep -qE '"GET /v2/[^ ]*/blobs/sha256:[^ ]* HTTP/1.1" 20[06] .* urt=[0-9.]+ : [0-9.]+' "$E2E_RUN/offload/nginx/access.log"
    fr_note "nginx $(nginx -v 2>&1 | sed -n 's|.*nginx/||p') with the blob offload (X-Accel-Redirect to the Kubo gateway)"
    fr_note "  conformance dev (every toggle): $(fr_conf_result offload-dev)"
    fr_note "  1 GiB docker-style chunked PATCH + PUT: $ok_ch (${FR_CHUNKED:-failed})"
    e2e_stop_nginx offload
    e2e_stop_registry offload
}

# t_nginx_files: nginx with the shipped config in blob-files mode
# (blobfile_accel_redirect to its /_oci_p2p_file/ alias): conformance dev
# with every toggle, a blob's bytes and Range, blob GETs offloaded. The rest
# of this mode behind nginx is tests/e2e/blobfiles.sh's.
t_nginx_files() {
    local all_on=() t conf=() f dg t0 secs
    mapfile -t conf < <(fr_files_conf nginx-files accel)
    if ! e2e_start_stack nginx-files "${conf[@]}"; then
        e2e_fail "nginx-files: stack did not start"
        return
    fi
    for t in $CONF_ALL_TOGGLES; do all_on+=("$t=true"); done
    t0=$(date +%s)
    conf_run nginx-files-dev nginx-files dev "${all_on[@]}"
    secs=$(($(date +%s) - t0))
    f=$E2E_RUN/nginx-files/probe.bin
    head -c 5000000 /dev/urandom >"$f"
    dg=$(e2e_digest "$f")
    e2e_blob_put "$(e2e_url nginx-files)" e2e/files-probe "$f" >/dev/null
    e2e_blob_bytes nginx-files e2e/files-probe "$dg" "$f"
    t_files_probe nginx-files e2e/files-probe "$dg" "$f"
    fr_note "nginx $(nginx -v 2>&1 | sed -n 's|.*nginx/||p') with blob files (X-Accel-Redirect to the /_oci_p2p_file/ alias, sendfile)"
    fr_note "  conformance dev (every toggle): $(fr_conf_result nginx-files-dev) ($secs s)"
    fr_note "  Range on a 5 MB blob file (first byte, last byte, middle, suffix, unsatisfiable): $FR_RANGES; blob GETs sent by nginx, none by a worker: $FR_OFFLOADED"
    e2e_stop_nginx nginx-files
    e2e_stop_registry nginx-files
}

t_redirect() {
    local gw base loc small
    gw="http://127.0.0.1:$(e2e_kubo_gw_port)/ipfs/{cid}"
    if ! e2e_start_stack redirect "blob_redirect = \"$gw\";"; then
        e2e_fail "redirect: stack did not start"
        return
    fi
    small=$E2E_RUN/roundtrip/redirect-seed
    mkdir -p "$E2E_RUN/roundtrip"
    rm -rf "$small" && cp -r "$E2E_ROOT/tests/e2e/data/seed-hello-layout" "$small" && chmod -R u+w "$small"
    RT_PUSH_SECS=0 RT_PULL_SECS=0
    rt_roundtrip redirect-seed "$small" v1 redirect
    base=$(e2e_url redirect)
    e2e_http GET "$base/v2/e2e/redirect-seed/blobs/$(rt_layers "$small" "$(rt_manifest_digest "$small" v1)" | tail -n 1)" >/dev/null
    loc=$(e2e_header Location)
    e2e_check "redirect: blob GET is a 307 to the gateway template ($loc)" \
        sh -c "case '$loc' in http://127.0.0.1:$(e2e_kubo_gw_port)/ipfs/b*) exit 0 ;; *) exit 1 ;; esac"
    fr_note "nginx with blob_redirect (307 to the Kubo gateway): skopeo round trip of the seed image $([ "$E2E_FAILS" -eq 0 ] && echo PASS || echo 'see log')"
    e2e_stop_nginx redirect
    e2e_stop_registry redirect
}

main() {
    e2e_init_run
    FR_REPORT=$E2E_ARTIFACTS/fronts.txt
    : >"$FR_REPORT"
    e2e_need_kubo || { e2e_finish fronts; return; }
    [ -n "${CONFORMANCE_BIN:-}" ] || deps_conformance || { e2e_fail "no conformance binary"; e2e_finish fronts; return; }
    fr_big_image || { e2e_fail "big: generating the image"; e2e_finish fronts; return; }
    mkdir -p "$E2E_RUN/roundtrip"
    echo "== front servers (report: $FR_REPORT)"
    t_lighttpd
    t_caddy
    t_offload
    t_nginx_files
    t_redirect
    e2e_finish fronts
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
