#!/usr/bin/env bash
# slow_clients.sh: slow and many upload clients cannot take the registry's
# workers from pulls, and open upload sessions are bounded and expire. On a
# stack of its own on the shared Kubo node (4 workers, upload_workers = 2,
# upload_expiry = 20 s, max_upload_sessions = 10,000):
#   - with both upload slots held by PATCHes sending a byte a second
#     (bench/slow_uploads.py), the master runs two more workers (6), manifest
#     GETs are answered at once and a further PATCH or POST ?digest= with a
#     body gets 429 TOOMANYREQUESTS with Retry-After: 1 at once, while a
#     bodiless POST still opens a session; the pool is back to 4 after;
#   - the slots come back when those slow uploads end (their clients go
#     away) and when the worker holding one is SIGKILLed (the kernel drops
#     its flock; the holder is read from /proc/locks);
#   - 10,100 POSTs from 16 parallel clients leave exactly 10,000 sessions (the
#     rest are 429 with Retry-After), what they cost in statedir, MFS and
#     worker memory is recorded, and all are swept once expired.
# Numbers go to slow_clients.txt. About 45 s.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

STACK=slow
WORKERS=4
SLOTS=2
EXPIRY=20
MAX_SESSIONS=10000
SLOW_PY=$E2E_ROOT/bench/slow_uploads.py
T=""
BASE=""
DRIVER=""
ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json'

metric() { # metric NAME_WITH_LABELS: its value in a scrape now (0 when absent)
    curl -s -m 10 "$BASE/v2/_p2p/metrics" | awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }'
}
refused_workers() { metric 'oci_registry_p2p_upload_refused_total{reason="workers"}'; }
sessions_open() { metric oci_registry_p2p_upload_sessions_open; }
session_files() { find "$E2E_RUN/$STACK/state/uploads" -maxdepth 1 -name '*.json' 2>/dev/null | wc -l; }
# pool_is N: the master runs N workers
pool_is() { [ "$(pgrep -P "$(e2e_registry_pid "$STACK")" -x orp2p-worker | wc -l)" = "$1" ]; }

# blob_put FILE: monolithic upload into slow/img; prints the digest.
blob_put() {
    local dg
    dg=sha256:$(sha256sum "$1" | cut -d' ' -f1)
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/octet-stream' \
        --data-binary @"$1" "$BASE/v2/slow/img/blobs/uploads/?digest=$dg")" = 201 ] || return 1
    printf '%s' "$dg"
}

push_image() {
    local cfg layer
    printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$T/config.json"
    head -c 4096 /dev/urandom >"$T/layer.bin"
    cfg=$(blob_put "$T/config.json") && layer=$(blob_put "$T/layer.bin") || return 1
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":4096}]}' \
        "$cfg" "$(stat -c %s "$T/config.json")" "$layer" >"$T/manifest.json"
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
        --data-binary @"$T/manifest.json" "$BASE/v2/slow/img/manifests/v1")" = 201 ]
}

# new_session: a session's URL (absolute)
new_session() {
    local loc
    loc=$(curl -s -X POST -D - -o /dev/null "$BASE/v2/slow/img/blobs/uploads/" | tr -d '\r' |
        awk 'tolower($1) == "location:" {print $2; exit}')
    [ -n "$loc" ] && printf '%s%s' "$BASE" "$loc"
}

# start_slow N [ARGS...]: N slow uploads in the background (for 60 s at most)
start_slow() {
    local n=$1
    shift
    python3 "$SLOW_PY" --url "$BASE" --clients "$n" --duration 60 "$@" >"$T/slow.json" 2>"$T/slow.err" &
    DRIVER=$!
}
stop_slow() {
    [ -n "$DRIVER" ] && kill "$DRIVER" 2>/dev/null && wait "$DRIVER" 2>/dev/null
    DRIVER=""
}
# slots_full: a refusal was counted since $1
slots_full() { [ "$(refused_workers)" -gt "$1" ]; }
# is_and_under VALUE WANT SECONDS LIMIT: VALUE is WANT, in under LIMIT s
is_and_under() { [ "$1" = "$2" ] && awk -v a="$3" -v b="$4" 'BEGIN {exit !(a < b)}'; }
refusal_says_so() {
    grep -qi '^retry-after: 1' "$T/patch.head" && grep -q '"code":"TOOMANYREQUESTS"' "$T/patch.body"
}

# patch_answer URL: "CODE SECONDS" of a PATCH with a 3-byte body
patch_answer() {
    curl -s -m 20 -o "$T/patch.body" -D "$T/patch.head" -w '%{http_code} %{time_total}' -X PATCH \
        -H 'Content-Type: application/octet-stream' --data-binary abc "$1"
}

check_slots_full() {
    local before code secs max=0 i t out url
    before=$(refused_workers)
    start_slow $((SLOTS + 2))
    e2e_check "$((SLOTS + 2)) slow uploads: $SLOTS hold the upload slots, the others are refused" \
        e2e_wait_for 10 "a refusal" slots_full "$before"
    e2e_check "  ... and the master runs a worker more for each body read ($WORKERS + $SLOTS)" \
        e2e_wait_for 5 "$((WORKERS + SLOTS)) workers" pool_is $((WORKERS + SLOTS))
    # pulls: answered, promptly
    local ok=1
    for ((i = 0; i < 20; i++)); do
        out=$(curl -s -m 10 -o /dev/null -H "$ACCEPT" -w '%{http_code} %{time_total}' "$BASE/v2/slow/img/manifests/v1")
        read -r code t <<<"$out"
        [ "$code" = 200 ] || ok=0
        max=$(awk -v a="$max" -v b="$t" 'BEGIN {print (b > a ? b : a)}')
    done
    e2e_check "with the upload slots full, 20 manifest GETs are 200, the slowest in ${max}s (< 1 s)" \
        is_and_under "$ok" 1 "$max" 1
    echo "manifest GET with the $SLOTS upload slots held by slow clients: slowest of 20 ${max}s" >>"$T/report"
    # a further upload: 429 at once, with Retry-After, body unread
    url=$(new_session)
    e2e_check "a bodiless POST still opens a session" [ -n "$url" ]
    read -r code secs <<<"$(patch_answer "$url")"
    e2e_check "a further PATCH: 429 (got $code) in ${secs}s (< 1 s)" is_and_under "$code" 429 "$secs" 1
    e2e_check "  ... TOOMANYREQUESTS, Retry-After: 1" refusal_says_so
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/octet-stream' \
        --data-binary abc "$BASE/v2/slow/img/blobs/uploads/?digest=sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    e2e_check "a monolithic POST ?digest= with a body: 429 (got $code)" [ "$code" = 429 ]
    # the slow uploads end (their client goes away): the slots are free again
    stop_slow
    e2e_check "once the slow clients are gone, the PATCH is accepted" e2e_wait_for 10 "PATCH 202" patch_accepted "$url"
    e2e_check "  ... and the pool is back to $WORKERS workers" e2e_wait_for 10 "$WORKERS workers" pool_is "$WORKERS"
}
patch_accepted() { [ "$(curl -s -o /dev/null -w '%{http_code}' -X PATCH --data-binary abc "$1")" = 202 ]; }

# holders: the workers holding a flock on a slot file (from /proc/locks)
holders() {
    local inodes master p
    inodes=$(stat -c %i "$E2E_RUN/$STACK/state/upload-slots"/* 2>/dev/null | tr '\n' '|')
    [ -n "$inodes" ] || return 0
    master=$(e2e_registry_pid "$STACK")
    awk -v re="^(${inodes%|})$" '$2 == "FLOCK" { split($6, f, ":"); if (f[3] ~ re) print $5 }' /proc/locks |
        while read -r p; do
            [ "$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null)" = "$master" ] && echo "$p"
        done
}
holders_at_least() { [ "$(holders | wc -l)" -ge "$1" ]; }

check_worker_killed() {
    local before pids victim url code
    before=$(refused_workers)
    start_slow "$SLOTS" --no-retry
    e2e_wait_for 10 "$SLOTS slot holders" holders_at_least "$SLOTS"
    pids=$(holders)
    e2e_check "the $SLOTS slow uploads hold both slots (holders: $(tr '\n' ' ' <<<"$pids"))" [ "$(wc -w <<<"$pids")" = "$SLOTS" ]
    url=$(new_session)
    read -r code _ <<<"$(patch_answer "$url")"
    e2e_check "  ... so a PATCH is refused (got $code)" [ "$code" = 429 ]
    victim=$(echo "$pids" | head -n 1)
    kill -KILL "$victim" 2>/dev/null
    read -r code _ <<<"$(patch_answer "$url")"
    e2e_check "the worker holding a slot SIGKILLed: its slot is free at once (PATCH $code)" [ "$code" = 202 ]
    stop_slow
}

check_sessions() {
    local i code n n429 open0 files kib mfs rss0 rss1 t0 t1 swept
    e2e_wait_for 10 "$WORKERS workers" pool_is "$WORKERS"
    rss0=$(workers_rss_kib)
    for ((i = 0; i < MAX_SESSIONS + 100; i++)); do
        printf 'url = "%s/v2/many/blobs/uploads/"\nrequest = "POST"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$BASE"
    done >"$T/posts.cfg"
    open0=$(sessions_open)
    t0=$(date +%s.%N)
    curl -s -Z --parallel-max 16 -K "$T/posts.cfg" 2>/dev/null | sort | uniq -c >"$T/posts.out"
    t1=$(date +%s.%N)
    n=$(awk '$2 == 202 {print $1}' "$T/posts.out")
    files=$(session_files)
    n429=$(awk '$2 == 429 {print $1}' "$T/posts.out")
    # exactly MAX_SESSIONS, unless the burst outlasted upload_expiry and the
    # sweep made room meanwhile (a loaded machine): never more
    e2e_check "$((MAX_SESSIONS + 100)) POSTs with $open0 open: $files sessions, at most $MAX_SESSIONS, and ${n429:-0} refused" \
        within_cap "$files" "${n429:-0}"
    e2e_check "  ... every POST was answered 202 or 429 ($(tr -s ' \n' ' ' <"$T/posts.out"))" \
        [ $((${n:-0} + ${n429:-0})) = $((MAX_SESSIONS + 100)) ]
    e2e_check "  ... 429 with Retry-After" refused_with_retry_after
    e2e_check "  ... and the gauge counts the files ($files)" [ "$(sessions_open)" = "$files" ]
    kib=$(du -sk "$E2E_RUN/$STACK/state/uploads" | cut -f1)
    mfs=$(e2e_ipfs files ls "$(e2e_mfsroot "$STACK")-uploads" 2>/dev/null | wc -l)
    rss1=$(workers_rss_kib)
    {
        echo "10,000 open sessions: made in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s by 16 parallel POST clients ($n accepted, the rest 429)"
        echo "  statedir/uploads: $kib KiB on $(stat -f -c %T "$E2E_RUN/$STACK/state") ($((kib * 1024 / MAX_SESSIONS)) bytes per session: a .json and a .lock)"
        echo "  staged in MFS: $mfs session directories under $(e2e_mfsroot "$STACK")-uploads (a session has none before a body reaches it)"
        echo "  workers' RSS: $rss0 KiB before, $rss1 KiB with them ($WORKERS workers; sessions live in files only)"
    } >>"$T/report"
    # they expire EXPIRY s after their start; the sweep (after requests,
    # in 500 ms slices) removes them: poll, which also makes requests
    t0=$(date +%s)
    e2e_check "all expired sessions are swept (upload_expiry = ${EXPIRY}s)" \
        e2e_wait_for 60 "sessions swept" no_sessions_open
    swept=$(($(date +%s) - t0))
    e2e_check "  ... and their files are gone ($(session_files) left)" [ "$(session_files)" = 0 ]
    echo "  swept: all gone ${swept} s after the last was made (expiry ${EXPIRY} s; swept between requests, 500 ms at a time)" >>"$T/report"
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/v2/many/blobs/uploads/")
    e2e_check "then a POST opens a session again ($code)" [ "$code" = 202 ]
}

no_sessions_open() { [ "$(sessions_open)" = 0 ]; }
within_cap() { [ "$1" -le "$MAX_SESSIONS" ] && [ "$2" -gt 0 ]; }
refused_with_retry_after() {
    curl -s -D - -o /dev/null -X POST "$BASE/v2/many/blobs/uploads/" | tr -d '\r' | grep -qi '^retry-after: [0-9]'
}

# Sum of the workers' RSS in KiB.
workers_rss_kib() {
    local master p sum=0 r
    master=$(e2e_registry_pid "$STACK")
    for p in $(pgrep -P "$master"); do
        r=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = orp2p-worker ] && sum=$((sum + ${r:-0}))
    done
    echo "$sum"
}

main() {
    e2e_init_run
    e2e_need_kubo || { e2e_finish slow_clients; return; }
    T=$(mktemp -d)
    trap 'stop_slow; rm -rf "$T"' RETURN
    if ! e2e_start_stack "$STACK" "workers = $WORKERS;" "upload_workers = $SLOTS;" \
        "upload_expiry = $EXPIRY;" "max_upload_sessions = $MAX_SESSIONS;"; then
        e2e_fail "stack $STACK did not start"
        e2e_finish slow_clients
        return
    fi
    BASE=$(e2e_url "$STACK")
    : >"$T/report"
    e2e_check "a small image is pushed" push_image
    check_slots_full
    check_worker_killed
    check_sessions
    e2e_stop_nginx "$STACK"
    e2e_stop_registry "$STACK"
    cp "$T/report" "$E2E_ARTIFACTS/slow_clients.txt"
    sed 's/^/  /' "$T/report"
    e2e_finish slow_clients
}

main
