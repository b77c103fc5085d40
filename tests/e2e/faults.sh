#!/usr/bin/env bash
# faults.sh: real faults against a real stack, and what the clients see.
# The rule: bad input gets a clear error and changes nothing; every byte
# stored is verified against its digest; a fault loses nothing that was
# acknowledged. On a Kubo node of its own (the shared one is left alone):
#
#   Kubo, repository on a 40 MiB tmpfs  <-  kubo_fault_proxy.py (RPC)  <-
#     registry (statedir on a 4 MiB tmpfs) under spawn-fcgi  <-  nginx
#
#   1. Kubo's disk full: a 64 MiB layer (skopeo, and a streamed chunked
#      PATCH) gets 507 naming "no space left on device"; the session keeps
#      its offset; the image pushed before still pulls; after `repo gc` and
#      a bigger filesystem the same pushes succeed, bytes verified.
#   2. statedir full: a new session and a PATCH get 507 naming the cause;
#      the session keeps its offset; once freed the PATCH and PUT succeed.
#   3. Kubo SIGKILLed in the middle of a PATCH (mid-body), of a final PUT
#      (before the blob's data is in place, and between the data and the
#      repository's link), of a manifest PUT (before the tag), and of a blob
#      GET (mid-stream): 503 JSON (a short body for the GET), nothing
#      half-visible, and after Kubo is back the same master serves and the
#      retried push succeeds.
#   4. A worker SIGKILLed in the middle of a PATCH (the session keeps the
#      offset of its last acknowledged chunk, and completes with the right
#      digest), of a final PUT and of a manifest PUT (held by the proxy just
#      before the link or tag is written, and just after): the state is the
#      old one or the new one, and the registry's answers are Kubo's.
#   5. The master SIGKILLed with a PATCH in flight, then started again at
#      once: it waits for the orphaned worker (which finishes its request),
#      then serves the same data.
#   6. Blob files (a second registry with blobdir on a 8 MiB tmpfs below the
#      node's filestore root): blobdir full in a one-request upload and in a
#      streamed PATCH gets 507 naming the cause, leaves no file, no staging
#      and no filestore entry, and the session keeps its offset; Kubo
#      SIGKILLed at the add --nocopy of a one-request upload and of a final
#      PUT gets 503, nothing visible, and the retries complete with the
#      right bytes; `ipfs filestore verify` is clean at the end.
#
# The exact points in 3 and 4 come from kubo_fault_proxy.py, which kills
# Kubo or holds the call when a given RPC request line goes by. tmpfs
# mounts need root (CI runs as root): if mounting fails the suite FAILS.
# Every mount is undone on exit. Numbers go to $E2E_ARTIFACTS/faults.txt.
#
# Every SC2016 in this file is a check written as e2e_check DESC eval '...':
# the single quotes are the point, the condition must expand when the check
# runs (after the fault), not when its arguments are built.
# shellcheck disable=SC2016
set -u
E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib.sh
. "$E2E_ROOT/tests/e2e/lib.sh"

KUBO_FS_MB=40                  # smaller than the big layer
BIG=$((64 * 1024 * 1024))      # the layer that does not fit
MB=$((1024 * 1024))

e2e_init_run
F=$(mktemp -d "$E2E_RUN/faults.XXXX")
E2E_HTTP_DIR=$F   # the last answer: $F/body, $F/headers
CTL=$F/ctl
REPORT=$E2E_ARTIFACTS/faults.txt
: >"$REPORT"
report() { printf '%s\n' "$*" | tee -a "$REPORT"; }
mkdir -p "$CTL" "$F/data"

# Two lib.sh namespaces: k = our Kubo node, r = the registry, whose
# "Kubo RPC port" is the proxy's.
k() { E2E_RUN=$F "$@"; }
r() { E2E_RUN=$F/r "$@"; }
STACK=faults
FB=faultsfiles   # the blob-files registry of part 6
ROOTDIR=$(e2e_mfsroot "$STACK")
REPOS=$ROOTDIR/docker/registry/v2/repositories

# ------------------------------------------------------------ mounts
fmount() { # fmount DIR SIZE
    mkdir -p "$1" && mount -t tmpfs -o "size=$2,mode=0755" tmpfs "$1" && echo "$1" >>"$F/mounts"
}
faults_teardown() {
    local m
    r e2e_stop_nginx "$STACK"
    r e2e_stop_registry "$STACK"
    r e2e_stop_nginx "$FB"
    r e2e_stop_registry "$FB"
    e2e_stop_pid "$F/proxy.pid" 5
    k e2e_stop_kubo
    mkdir -p "$E2E_ARTIFACTS/logs/faults"
    cp "$F"/r/"$STACK"/*.log "$F"/r/"$STACK"/nginx/*.log "$F"/kubo/*.log "$CTL"/*.log \
        "$E2E_ARTIFACTS/logs/faults/" 2>/dev/null
    mkdir -p "$E2E_ARTIFACTS/logs/faults/$FB"
    cp "$F"/r/"$FB"/*.log "$F"/r/"$FB"/nginx/*.log "$E2E_ARTIFACTS/logs/faults/$FB/" 2>/dev/null
    # orphaned workers of the killed master may still be finishing
    for m in $(tac "$F/mounts" 2>/dev/null); do
        umount "$m" 2>/dev/null || { sleep 1; umount "$m"; } || umount -l "$m"
    done
    [ "${E2E_KEEP:-0}" = 1 ] || rm -rf "$F"
    [ "$E2E_OWNER" = 1 ] && e2e_teardown
}
trap faults_teardown EXIT
trap 'exit 130' INT TERM

# --------------------------------------------------------------- data
rnd() { e2e_keystream "$2" "$3" >"$1"; }   # rnd FILE KEY BYTES

# -------------------------------------------------------------- HTTP
# Requests with an answer to read go through e2e_http (words.sh): status
# on stdout, the answer in $F/body and $F/headers. A session ("loc") is
# the absolute URL e2e_upload_start gives.
URL=
upload_start() { e2e_upload_start "$URL" "$1"; }   # upload_start REPO
# staged_upload REPO NAME: an upload session in REPO holding one fresh MiB
# ($F/data/NAME) in one PATCH; sets loc (the session) and d (its digest).
staged_upload() {
    loc=$(upload_start "$1")
    rnd "$F/data/$2" "$2" "$MB"
    d=$(e2e_digest "$F/data/$2")
    patch "$loc" "$F/data/$2" >/dev/null
}
# patch_in_flight REPO RATE: a session in REPO holding the MiB $F/data/c1,
# and a PATCH of the 8 MiB $F/data/c8 sent at RATE in the background (its
# status goes to $F/bg.code); sets loc and pid.
patch_in_flight() {
    loc=$(upload_start "$1")
    patch "$loc" "$F/data/c1" >/dev/null
    patch "$loc" "$F/data/c8" --limit-rate "$2" >"$F/bg.code" &
    pid=$!
}
# upload_range LOC: the Range a GET on the session reports ("-" if none)
upload_range() {
    [ "$(e2e_http GET "$1")" = 204 ] || { echo "-"; return; }
    e2e_header Range
}
range_of() { echo "0-$(($1 - 1))"; }   # range_of BYTES
# patch LOC FILE [CURL OPTS...]: a chunked PATCH (as docker sends)
patch() { e2e_upload_stream "$@"; }
put_done() { e2e_upload_put "$1" "$2"; }   # put_done LOC DIGEST
# completes REPO LOC DIGEST: the closing PUT is 201 and the blob serves
completes() { [ "$(put_done "$2" "$3")" = 201 ] && blob_is "$1" "$3"; }
answer_detail() { jq -r '.errors[0].detail // ""' "$F/body" 2>/dev/null; }
answer_message() { jq -r '.errors[0].message' "$F/body" 2>/dev/null; }
# blob_is REPO DIGEST: GET returns exactly the bytes of DIGEST
blob_is() { [ "$(curl -sf "$URL/v2/$1/blobs/$2" | e2e_digest)" = "$2" ]; }
tag_digest() {   # tag_digest REPO TAG: the Docker-Content-Digest of a GET
    e2e_http GET "$URL/v2/$1/manifests/$2" -H "Accept: $MT_OCI_MANIFEST" >/dev/null
    e2e_header Docker-Content-Digest
}
# kubo_tag REPO TAG: the digest the tag's link holds in Kubo itself
kubo_tag() { k e2e_ipfs files read "$REPOS/$1/_manifests/tags/$2/current/link" 2>/dev/null; }
# image_whole REPO REF: the manifest and every blob it names serve their digests
image_whole() {
    local m d
    m=$(curl -sf -H "Accept: $MT_OCI_MANIFEST" "$URL/v2/$1/manifests/$2") || return 1
    for d in $(printf '%s' "$m" | jq -r '.config.digest, .layers[].digest'); do
        blob_is "$1" "$d" || return 1
    done
}
put_manifest() { e2e_manifest_put "$URL" "$@"; }   # put_manifest REPO REF FILE
# annotated FILE NOTE: f/small:v1's manifest with the annotation
# faults=NOTE, in FILE; sets new (its digest)
annotated() {
    curl -s -H "Accept: $MT_OCI_MANIFEST" "$URL/v2/f/small/manifests/v1" |
        jq -c --arg n "$2" '. + {annotations: {"faults": $n}}' >"$1"
    new=$(e2e_digest "$1")
}
skopeo_push() { # skopeo_push LAYOUT REPO:TAG LOG
    timeout 180 skopeo copy --dest-tls-verify=false "oci:$1:v1" "docker://${URL#http://}/$2" >"$3" 2>&1
}

# -------------------------------------------------------------- Kubo
kubo_kill() {
    local pid
    pid=$(cat "$F/kubo/pid")
    kill -KILL "$pid" 2>/dev/null
    e2e_wait_gone 10 "$pid"
}
kubo_start() { k e2e_kubo_daemon >/dev/null 2>&1 && cp "$F/kubo/pid" "$CTL/kubo.pid"; }
# arm ACTION SUBSTRING: the proxy's next matching RPC call fires ACTION
arm() {
    rm -f "$CTL/fired" "$CTL/held" "$CTL/release"
    echo "$1 $2" >"$CTL/rule.tmp" && mv "$CTL/rule.tmp" "$CTL/rule"
}
# arm_at ACTION POINT REPO: arm ACTION at the RPC call that makes POINT
# happen for REPO: data (blob $d's data put in place), link (REPO's link to
# blob $d), tag (REPO's tag v1), flush (the flush that follows any of them)
arm_at() {
    local rpc
    case $2 in
        data) rpc="${d#sha256:}/data&parents=true" ;;
        link) rpc="files/write?arg=$REPOS/$3/_layers/sha256/${d#sha256:}/link" ;;
        tag) rpc="files/write?arg=$REPOS/$3/_manifests/tags/v1/current/link" ;;
        flush) rpc="files/flush?arg=$ROOTDIR HTTP" ;;
    esac
    arm "$1" "$rpc"
}
fired() { [ -f "$CTL/fired" ]; }
disarm() { rm -f "$CTL/rule"; }
# held_worker: the pid of the worker whose call the proxy holds
held_worker() {
    e2e_wait_for 20 "the proxy to hold a call" test -s "$CTL/held" || return 1
    ss -tnpH "sport = :$(cat "$CTL/held")" | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2
}
release() { echo "$1" >"$CTL/release"; }
# kill_held_worker PID: SIGKILL the worker whose call the proxy holds, have
# the proxy drop that call, wait for the client (PID), disarm
kill_held_worker() {
    local w
    w=$(held_worker)
    [ -n "$w" ] && kill -KILL "$w"
    release drop
    wait "$1"
    disarm
}
# worker_of_upload LOC: the worker holding that session's lock (mid-request)
worker_of_upload() {
    local id=${1##*/} p
    for p in $(pgrep -x orp2p-worker); do
        # shellcheck disable=SC2010 # one ls shows every fd's target; this polls
        ls -l "/proc/$p/fd" 2>/dev/null | grep -q "uploads/$id.lock" && { echo "$p"; return 0; }
    done
    return 1
}
master_pid() { r e2e_registry_pid "$STACK"; }
contains() { case $1 in *"$2"*) return 0 ;; *) return 1 ;; esac; }
now_ms() { date +%s%3N; }

# --------------------------------------------------------------- setup
setup() {
    local api pp
    e2e_prepare || { e2e_fail "build or Kubo"; return 1; }
    if ! fmount "$F/kubo/repo" "${KUBO_FS_MB}m" || ! fmount "$F/r/$STACK/state" 4m; then
        e2e_fail "cannot mount a tmpfs (root and CAP_SYS_ADMIN are needed): the full-disk checks cannot run"
        return 1
    fi
    k e2e_start_kubo >/dev/null 2>&1 || { e2e_fail "Kubo did not start on a tmpfs repository"; tail -n 20 "$F/kubo/daemon.log"; return 1; }
    cp "$F/kubo/pid" "$CTL/kubo.pid"
    api=$(k e2e_kubo_api_port) && pp=$(e2e_free_port) || return 1
    mkdir -p "$F/r/kubo"
    echo "$pp" >"$F/r/kubo/api.port"
    k e2e_kubo_gw_port >"$F/r/kubo/gw.port"
    python3 "$E2E_ROOT/tests/e2e/kubo_fault_proxy.py" "$pp" "$api" "$CTL" >"$CTL/proxy.log" 2>&1 &
    echo $! >"$F/proxy.pid"
    e2e_wait_for 10 "the fault proxy" curl -sf -X POST "http://127.0.0.1:$pp/api/v0/version" \
        || { e2e_fail "the fault proxy did not start"; cat "$CTL/proxy.log"; return 1; }
    r e2e_start_stack "$STACK" >/dev/null 2>&1 || { e2e_fail "registry stack did not start"; return 1; }
    URL=$(r e2e_url "$STACK")
    if ! { e2e_oci_layout "$F/data/small" small "$MB" data.bin >/dev/null &&
        BIG_LAYER=$(e2e_oci_layout "$F/data/big" big "$BIG" data.bin); }; then
        e2e_fail "building the test images"; return 1
    fi
    rnd "$F/data/c1" c1 "$MB" && rnd "$F/data/c8" c8 $((8 * MB)) && cp "$F/data/big/blobs/sha256/${BIG_LAYER#sha256:}" "$F/data/bigbody" || return 1
    e2e_log "faults: Kubo repo on ${KUBO_FS_MB} MiB tmpfs, statedir on 4 MiB tmpfs, registry $URL (master $(master_pid))"
}

# --------------------------------------------------------------- 1
t_kubo_disk_full() {
    local loc d t0
    report "== 1. Kubo's disk full (repository on a ${KUBO_FS_MB} MiB tmpfs, a 64 MiB layer)"
    e2e_check "1: skopeo pushes a small image while there is room" skopeo_push "$F/data/small" f/small:v1 "$F/skopeo-small.log"
    loc=$(upload_start f/patch)
    e2e_check "1: a first 1 MiB chunk is acknowledged" [ "$(patch "$loc" "$F/data/c1")" = 202 ]
    if skopeo_push "$F/data/big" f/big:v1 "$F/skopeo-big-full.log"; then
        e2e_fail "1: skopeo push of 64 MiB onto a 40 MiB disk succeeded?"
    else
        e2e_check "1: skopeo's push fails with 507 Insufficient Storage" grep -q 507 "$F/skopeo-big-full.log"
        report "   skopeo: $(grep -o 'received unexpected HTTP status.*' "$F/skopeo-big-full.log" | head -n1)"
    fi
    d=$(patch "$loc" "$F/data/bigbody")
    report "   streamed PATCH: $d $(e2e_errcode): $(answer_message); $(answer_detail | grep -o 'no space left on device' | head -n1)"
    e2e_check "1: the streamed PATCH gets 507 (was 500) with an OCI error naming 'no space left on device'" \
        eval '[ "$d" = 507 ] && answer_detail | grep -q "no space left on device"'
    e2e_check "1: the session still reports only the acknowledged 1 MiB" [ "$(upload_range "$loc")" = "$(range_of "$MB")" ]
    e2e_check "1: the image that did not fit is unknown (manifest 404)" [ "$(e2e_code -H "Accept: $MT_OCI_MANIFEST" "$URL/v2/f/big/manifests/v1")" = 404 ]
    e2e_check "1: the image pushed before still serves every blob by digest" image_whole f/small v1
    # Free space the way an operator would: drop the failed add's orphan
    # blocks, and give the node a bigger disk.
    k e2e_ipfs repo gc >/dev/null 2>&1
    mount -o remount,size=256m "$F/kubo/repo" || e2e_fail "1: growing the tmpfs"
    e2e_check "1: after repo gc, the image pushed before still serves every blob" image_whole f/small v1
    t0=$(now_ms)
    e2e_check "1: the same skopeo push succeeds once there is room" skopeo_push "$F/data/big" f/big:v1 "$F/skopeo-big.log"
    report "   skopeo push of 64 MiB after freeing space: $(($(now_ms) - t0)) ms"
    e2e_check "1: the pushed image serves every blob by digest" image_whole f/big v1
    e2e_check "1: the same PATCH on the same session is acknowledged" [ "$(patch "$loc" "$F/data/bigbody")" = 202 ]
    e2e_check "1: the session covers both chunks" \
        [ "$(upload_range "$loc")" = "$(range_of $((MB + $(stat -c %s "$F/data/bigbody"))))" ]
    d=$(e2e_digest "$F/data/c1" "$F/data/bigbody")
    e2e_check "1: PUT ?digest= of both chunks completes (201)" [ "$(put_done "$loc" "$d")" = 201 ]
    e2e_check "1: the blob serves exactly its digest's bytes" blob_is f/patch "$d"
}

# --------------------------------------------------------------- 2
t_statedir_full() {
    local loc state=$F/r/$STACK/state d
    report "== 2. statedir full (4 MiB tmpfs)"
    loc=$(upload_start f/state)
    e2e_check "2: a first chunk is acknowledged" [ "$(patch "$loc" "$F/data/c1")" = 202 ]
    dd if=/dev/zero of="$state/filler" bs=64k >/dev/null 2>&1
    d=$(e2e_http POST "$URL/v2/f/state/blobs/uploads/")
    report "   POST: $d $(e2e_errcode) $(answer_message): $(answer_detail)"
    e2e_check "2: a new session gets 507 naming 'No space left on device'" \
        eval '[ "$d" = 507 ] && [ "$(answer_detail)" = "No space left on device" ]'
    d=$(patch "$loc" "$F/data/c1")
    report "   PATCH: $d $(answer_message): $(answer_detail)"
    e2e_check "2: a PATCH gets 507 'cannot save upload session: No space left on device'" \
        eval '[ "$d" = 507 ] && [ "$(answer_detail)" = "No space left on device" ]'
    e2e_check "2: the session still reports only the acknowledged chunk" [ "$(upload_range "$loc")" = "$(range_of "$MB")" ]
    rm -f "$state/filler"
    e2e_check "2: once freed, the same PATCH is acknowledged" [ "$(patch "$loc" "$F/data/c1")" = 202 ]
    d=$(e2e_digest "$F/data/c1" "$F/data/c1")
    e2e_check "2: and PUT ?digest= completes with the right bytes" completes f/state "$loc" "$d"
}

# --------------------------------------------------------------- 3
t_kubo_killed() {
    local master loc d pid got t0 new old layer size
    report "== 3. Kubo SIGKILLed mid-request, then started again (the registry is not restarted)"
    master=$(master_pid)

    # a. mid-PATCH, while the body streams
    patch_in_flight f/k 4M
    sleep 0.8
    kubo_kill
    wait "$pid"
    report "   mid-PATCH: $(cat "$F/bg.code") $(e2e_errcode): $(answer_detail | cut -c1-120)"
    e2e_check "3a: a PATCH that loses Kubo mid-body gets 503 UNAVAILABLE (JSON)" \
        eval '[ "$(cat "$F/bg.code")" = 503 ] && [ "$(e2e_errcode)" = UNAVAILABLE ]'
    e2e_check "3a: the session still reports only the acknowledged chunk" [ "$(upload_range "$loc")" = "$(range_of "$MB")" ]
    kubo_start || e2e_fail "3: Kubo restart"
    e2e_check "3a: the retried PATCH is acknowledged" [ "$(patch "$loc" "$F/data/c8")" = 202 ]
    d=$(e2e_digest "$F/data/c1" "$F/data/c8")
    e2e_check "3a: PUT completes and the blob is its digest's bytes" completes f/k "$loc" "$d"

    # b. final PUT: Kubo dies before the data is in place, then between
    # the data and the repository's link
    for point in data link; do
        staged_upload f/k "p-$point"
        arm_at kill "$point" f/k
        got=$(put_done "$loc" "$d")
        report "   final PUT, Kubo killed before the $point: $got $(e2e_errcode)"
        e2e_check "3b: final PUT with Kubo killed before the $point: 503 UNAVAILABLE" \
            eval 'fired && [ "$got" = 503 ] && [ "$(e2e_errcode)" = UNAVAILABLE ]'
        disarm
        kubo_start || e2e_fail "3: Kubo restart"
        e2e_check "3b ($point): nothing visible: HEAD of the blob is 404" [ "$(e2e_code -I "$URL/v2/f/k/blobs/$d")" = 404 ]
        e2e_check "3b ($point): the session survived with its offset" [ "$(upload_range "$loc")" = "$(range_of "$MB")" ]
        e2e_check "3b ($point): the retried PUT completes with the right bytes" \
            completes f/k "$loc" "$d"
    done

    # c. manifest PUT: Kubo dies before the tag is written
    old=$(tag_digest f/small v1)
    annotated "$F/m3c.json" 3c
    arm_at kill tag f/small
    got=$(put_manifest f/small v1 "$F/m3c.json")
    report "   manifest PUT, Kubo killed before the tag: $got $(e2e_errcode)"
    e2e_check "3c: manifest PUT with Kubo killed before the tag: 503 UNAVAILABLE" \
        eval 'fired && [ "$got" = 503 ] && [ "$(e2e_errcode)" = UNAVAILABLE ]'
    disarm
    kubo_start || e2e_fail "3: Kubo restart"
    e2e_check "3c: the tag still names the old manifest, in the registry and in Kubo" \
        eval '[ "$(tag_digest f/small v1)" = "$old" ] && [ "$(kubo_tag f/small v1)" = "$old" ]'
    e2e_check "3c: the old image is whole" image_whole f/small v1
    e2e_check "3c: the retried manifest PUT completes and the tag moves" \
        eval '[ "$(put_manifest f/small v1 "$F/m3c.json")" = 201 ] && [ "$(tag_digest f/small v1)" = "$new" ]'

    # d. blob GET, mid-stream (skopeo gzipped the layer: ask the manifest)
    layer=$(curl -s -H "Accept: $MT_OCI_MANIFEST" "$URL/v2/f/big/manifests/v1" | jq -r '.layers[0].digest')
    size=$(curl -s -H "Accept: $MT_OCI_MANIFEST" "$URL/v2/f/big/manifests/v1" | jq -r '.layers[0].size')
    # The worker drops the response with a bogus FastCGI record, which nginx
    # takes as an upstream error and closes the client connection at once
    # (a bare EOF would look like the end of the response to nginx, and
    # the client would wait for keepalive_timeout, 75 s). The client is
    # slow (8 MB/s), so nginx's buffers and the socket toward it are full
    # when the worker drops: the bogus record must still get through.
    curl -s -m 30 --limit-rate 8M -o "$F/got" "$URL/v2/f/big/blobs/$layer" &
    pid=$!
    sleep 1
    kubo_kill
    t0=$(now_ms)
    wait "$pid"
    got=$?
    local ended=$(($(now_ms) - t0))
    report "   blob GET, Kubo killed mid-stream: curl exit $got after $(stat -c %s "$F/got") of $size bytes, ended $ended ms after the kill (exit 18: closed with bytes missing; 28: still waiting at 30 s)"
    e2e_check "3d: a GET that loses Kubo mid-stream ends short (curl fails), never complete" \
        eval '[ "$got" != 0 ] && [ "$(stat -c %s "$F/got")" -lt "$size" ]'
    e2e_check "3d: ...and the client is not left waiting (curl exit 18 within 15 s, not a timeout)" \
        eval '[ "$got" = 18 ] && [ "$ended" -lt 15000 ]'
    t0=$(now_ms)
    kubo_start || e2e_fail "3: Kubo restart"
    e2e_check "3d: once Kubo is back the blob serves its digest's bytes" blob_is f/big "$layer"
    report "   back to serving $(($(now_ms) - t0)) ms after the Kubo restart began"
    e2e_check "3: the same master served throughout (pid $master), and /v2/_p2p/health is 200" \
        eval '[ "$(master_pid)" = "$master" ] && e2e_alive "$master" && [ "$(e2e_code "$URL/v2/_p2p/health")" = 200 ]'
}

# --------------------------------------------------------------- 4
t_worker_killed() {
    local loc d pid w got old new when tag
    report "== 4. a worker SIGKILLed mid-request"

    # a. mid-PATCH
    patch_in_flight f/w 4M
    e2e_wait_for 5 "a worker on the PATCH" worker_of_upload "$loc"
    sleep 0.5
    w=$(worker_of_upload "$loc")
    kill -KILL "$w"
    wait "$pid"
    report "   mid-PATCH: worker $w killed; the client got $(cat "$F/bg.code")"
    e2e_check "4a: the client's PATCH fails (not 202)" [ "$(cat "$F/bg.code")" != 202 ]
    e2e_check "4a: the session resumes at its last acknowledged chunk" [ "$(upload_range "$loc")" = "$(range_of "$MB")" ]
    e2e_check "4a: the retried PATCH is acknowledged (the chunk left by the dead worker is replaced)" \
        eval '[ "$(patch "$loc" "$F/data/c8")" = 202 ] && [ "$(upload_range "$loc")" = "$(range_of $((9 * MB)))" ]'
    d=$(e2e_digest "$F/data/c1" "$F/data/c8")
    e2e_check "4a: PUT with the digest of exactly the acknowledged bytes completes, and they serve" \
        completes f/w "$loc" "$d"

    # b. final PUT: the worker dies while its link write is held (before),
    # or while the flush after it is held (after)
    for when in before after; do
        staged_upload f/w "w-$when"
        if [ $when = before ]; then arm_at hold link f/w; else arm_at hold flush f/w; fi
        put_done "$loc" "$d" >"$F/bg.code" &
        kill_held_worker $!
        got=$(e2e_code -I "$URL/v2/f/w/blobs/$d")
        report "   final PUT, worker killed $when the link: client $(cat "$F/bg.code"), then HEAD $got"
        if [ $when = before ]; then
            e2e_check "4b: killed before the link: fully old (HEAD 404)" [ "$got" = 404 ]
        else
            e2e_check "4b: killed after the link: fully new (the blob serves its bytes)" \
                eval '[ "$got" = 200 ] && blob_is f/w "$d"'
        fi
        e2e_check "4b ($when): the session is not stuck: the retried PUT completes" \
            completes f/w "$loc" "$d"
    done

    # c. manifest PUT: before the tag is written, and after
    for when in before after; do
        old=$(tag_digest f/small v1)
        annotated "$F/m4c.json" "4c-$when"
        if [ $when = before ]; then arm_at hold tag f/small; else arm_at hold flush f/small; fi
        put_manifest f/small v1 "$F/m4c.json" >"$F/bg.code" &
        kill_held_worker $!
        got=$(tag_digest f/small v1)
        if [ "$got" = "$new" ]; then tag=new; elif [ "$got" = "$old" ]; then tag=old; else tag="?$got"; fi
        report "   manifest PUT, worker killed $when the tag: client $(cat "$F/bg.code"), tag -> $tag"
        if [ $when = before ]; then
            e2e_check "4c: killed before the tag: v1 is the old manifest" [ "$got" = "$old" ]
        else
            e2e_check "4c: killed after the tag: v1 is the new manifest" [ "$got" = "$new" ]
        fi
        e2e_check "4c ($when): the registry answers what Kubo holds, and the image is whole" \
            eval '[ "$(kubo_tag f/small v1)" = "$got" ] && image_whole f/small v1'
    done
}

# --------------------------------------------------------------- 5
t_master_killed() {
    local loc pid old t0 t1="" d
    report "== 5. the master SIGKILLed with a PATCH in flight, started again at once"
    patch_in_flight f/m 2M
    e2e_wait_for 5 "a worker on the PATCH" worker_of_upload "$loc"
    sleep 0.5
    old=$(master_pid)
    kill -KILL "$old"
    t0=$(now_ms)
    r e2e_start_registry "$STACK" >/dev/null 2>&1
    if e2e_wait_for 30 "the new master to serve" e2e_code_is 200 -m 2 "$URL/v2/"; then
        t1=$(now_ms)
        e2e_ok "5: a master started right after the SIGKILL serves (in $((t1 - t0)) ms)"
    else
        e2e_fail "5: a master started right after the SIGKILL serves: $(grep 'error master' "$F/r/$STACK/registry.log" | tail -n 1)"
    fi
    wait "$pid"
    if [ -n "$t1" ]; then
        report "   new master pid $(master_pid) serving after $((t1 - t0)) ms; the orphaned PATCH answered $(cat "$F/bg.code")"
    else
        report "   no master serving after 30 s; the orphaned PATCH answered $(cat "$F/bg.code")"
    fi
    e2e_check "5: it waited for the old master's worker, and said so" \
        grep -q "is gone, but processes it started still hold it" "$F/r/$STACK/registry.log"
    e2e_check "5: the orphaned worker finished the PATCH it had (202)" [ "$(cat "$F/bg.code")" = 202 ]
    e2e_check "5: the session carries every acknowledged byte" [ "$(upload_range "$loc")" = "$(range_of $((9 * MB)))" ]
    d=$(e2e_digest "$F/data/c1" "$F/data/c8")
    e2e_check "5: and completes with the right digest" completes f/m "$loc" "$d"
    e2e_check "5: the new master serves the same data" eval 'image_whole f/small v1 && image_whole f/big v1'
}

# --------------------------------------------------------------- 6
# fb_leftovers DIGEST: what a failed upload of DIGEST may not leave: its
# blob file, a staging file, a filestore entry naming the file.
fb_leftovers() {
    local hex=${1#sha256:} n left
    [ -e "$FBDIR/sha256/${hex:0:2}/$hex" ] && { e2e_log "the blob file is there"; return 1; }
    left=$(find "$FBDIR/.uploads" -type f 2>/dev/null)
    [ -z "$left" ] || { e2e_log "staging left: $left"; return 1; }
    n=$(k e2e_ipfs filestore ls 2>/dev/null | grep -c "blobs-$FB/sha256/${hex:0:2}/$hex ")
    [ "$n" = 0 ] || { e2e_log "$n filestore entries name the file"; return 1; }
}
t_blob_files() {
    local url_saved=$URL d got loc bad
    report "== 6. blob files (blobdir on an 8 MiB tmpfs below the node's filestore root)"
    # blobdir is below the filestore root ($F/kubo); nginx finds it at the
    # path lib.sh gives this stack ($F/r/kubo/blobs-$FB), a symlink to it
    FBDIR=$F/kubo/blobs-$FB
    fmount "$FBDIR" 8m || { e2e_fail "6: cannot mount a tmpfs for blobdir"; return; }
    ln -sfn "$FBDIR" "$F/r/kubo/blobs-$FB"
    r e2e_start_stack "$FB" "blobdir = \"$FBDIR\";" 'blobfiles = "required";' \
        'blobfile_accel_redirect = "/_oci_p2p_file/";' >/dev/null 2>&1 || { e2e_fail "6: blob-files registry did not start"; return; }
    URL=$(r e2e_url "$FB")

    # a. blobdir full
    rnd "$F/data/f12" f12 $((12 * MB))
    d=$(e2e_digest "$F/data/f12")
    got=$(e2e_blob_post "$URL" fb/full "$F/data/f12")
    report "   one-request upload of 12 MiB onto 8 MiB: $got $(e2e_errcode): $(answer_detail | cut -c1-120)"
    e2e_check "6a: a one-request upload onto a full blobdir gets 507 naming 'No space left on device'" \
        eval '[ "$got" = 507 ] && answer_detail | grep -q "No space left on device"'
    e2e_check "6a: ...leaving no blob file, no staging file and no filestore entry" fb_leftovers "$d"
    loc=$(upload_start fb/full)
    e2e_check "6a: a first 1 MiB chunk is acknowledged" [ "$(patch "$loc" "$F/data/c1")" = 202 ]
    got=$(patch "$loc" "$F/data/f12")
    e2e_check "6a: a streamed 12 MiB PATCH onto the full blobdir gets 507" [ "$got" = 507 ]
    e2e_check "6a: the session still reports only the acknowledged 1 MiB" [ "$(upload_range "$loc")" = "$(range_of "$MB")" ]
    mount -o remount,size=64m "$FBDIR" || e2e_fail "6a: growing the tmpfs"
    e2e_check "6a: with room, the same PATCH is acknowledged" [ "$(patch "$loc" "$F/data/f12")" = 202 ]
    d=$(e2e_digest "$F/data/c1" "$F/data/f12")
    e2e_check "6a: PUT completes and the blob is its digest's bytes" completes fb/full "$loc" "$d"
    e2e_check "6a: the one-request upload succeeds too" \
        eval '[ "$(e2e_blob_post "$URL" fb/full "$F/data/f12")" = 201 ] && blob_is fb/full "$(e2e_digest "$F/data/f12")"'

    # b. Kubo killed at the add --nocopy
    rnd "$F/data/k3" k3 $((3 * MB))
    d=$(e2e_digest "$F/data/k3")
    arm kill "nocopy=true"
    got=$(e2e_blob_post "$URL" fb/kill "$F/data/k3")
    report "   one-request upload, Kubo killed at its add --nocopy: $got $(e2e_errcode)"
    e2e_check "6b: one-request upload with Kubo killed at its add --nocopy: 503 UNAVAILABLE" \
        eval 'fired && [ "$got" = 503 ] && [ "$(e2e_errcode)" = UNAVAILABLE ]'
    disarm
    kubo_start || e2e_fail "6: Kubo restart"
    e2e_check "6b: nothing visible: HEAD of the blob is 404" [ "$(e2e_code -I "$URL/v2/fb/kill/blobs/$d")" = 404 ]
    e2e_check "6b: the retried upload completes with the right bytes" \
        eval '[ "$(e2e_blob_post "$URL" fb/kill "$F/data/k3")" = 201 ] && blob_is fb/kill "$d"'
    # a streamed PATCH is added as it arrives (its digest unknown yet, the
    # add names the alias .added/<id>): Kubo killed there, the PATCH still
    # stages every byte and the final PUT adds the file
    loc=$(upload_start fb/kill)
    rnd "$F/data/k5" k5 $((3 * MB))
    d=$(e2e_digest "$F/data/k5")
    arm kill "nocopy=true"
    got=$(patch "$loc" "$F/data/k5")
    report "   streamed PATCH, Kubo killed at its add --nocopy: $got"
    e2e_check "6b: streamed PATCH with Kubo killed at its add --nocopy: 202, the bytes staged" \
        eval 'fired && [ "$got" = 202 ]'
    disarm
    kubo_start || e2e_fail "6: Kubo restart"
    e2e_check "6b: the session holds all of it" [ "$(upload_range "$loc")" = "$(range_of $((3 * MB)))" ]
    e2e_check "6b: the final PUT adds the file and completes with the right bytes" completes fb/kill "$loc" "$d"
    # a session of two chunks is added at its final PUT: Kubo killed there
    loc=$(upload_start fb/kill)
    rnd "$F/data/k4" k4 "$MB"
    d=$(e2e_digest "$F/data/k4")
    head -c $((MB / 2)) "$F/data/k4" >"$F/data/k4a"
    tail -c +$((MB / 2 + 1)) "$F/data/k4" >"$F/data/k4b"
    patch "$loc" "$F/data/k4a" >/dev/null
    patch "$loc" "$F/data/k4b" >/dev/null
    arm kill "nocopy=true"
    got=$(put_done "$loc" "$d")
    report "   final PUT, Kubo killed at its add --nocopy: $got $(e2e_errcode)"
    e2e_check "6b: final PUT with Kubo killed at its add --nocopy: 503 UNAVAILABLE" \
        eval 'fired && [ "$got" = 503 ] && [ "$(e2e_errcode)" = UNAVAILABLE ]'
    disarm
    kubo_start || e2e_fail "6: Kubo restart"
    e2e_check "6b: nothing visible: HEAD of the blob is 404" [ "$(e2e_code -I "$URL/v2/fb/kill/blobs/$d")" = 404 ]
    e2e_check "6b: the session survived with its offset" [ "$(upload_range "$loc")" = "$(range_of "$MB")" ]
    e2e_check "6b: the retried PUT completes with the right bytes" completes fb/kill "$loc" "$d"
    bad=$(k e2e_ipfs filestore verify 2>&1 | grep -vc '^ok ')
    e2e_expect_eq "6: ipfs filestore verify: every entry ok" "$bad" 0
    URL=$url_saved
}

main() {
    local t0
    t0=$(date +%s)
    setup || return
    t_kubo_disk_full
    t_statedir_full
    t_kubo_killed
    t_worker_killed
    t_master_killed
    t_blob_files
    report "faults: $(($(date +%s) - t0)) s"
}

main
e2e_finish faults
