#!/usr/bin/env bash
# mirror.sh: the pull-through mirror (docs/design-mirror.md) with real parts:
#
#   upstream U   the CNCF distribution registry v3.1.1 on loopback, filled by
#                skopeo (a 3-layer image, a two-platform index, more)
#   upstream T   tests/e2e/token_proxy.py in front of U: Bearer tokens from
#                its realm, asked with basic credentials (test code)
#   node 1       registry M: writeipnskey K, blob files, mirror of U (ns
#                127.0.0.1:<U>, prefix up, the default upstream, freshness
#                2 s) and of T (prefix tok, credentials)
#   node 2       registry F: follows K (readonlyipnskeys, pinreadonly)
#
# containerd (`ctr --hosts-dir`, a hosts.toml naming M as U's mirror): cold
# pull, warm pull (no upstream blob GET), U stopped (served stale), an image
# never cached with U stopped (fails within the bound), a tag moved upstream
# (seen after the freshness time); skopeo through the default upstream (no
# ns) and through T (the token flow); 8 concurrent cold pulls, U's access log
# shows each blob once; a tampered blob upstream: the pull fails, nothing
# stored; a foreign ns answers 404 and pushes 405; F serves the cached image
# with U, T, M and node 1 stopped. Times go to $E2E_ARTIFACTS/mirror.txt.
set -u
E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=containerd.sh
. "$E2E_ROOT/tests/e2e/containerd.sh"
set +o pipefail

e2e_init_run
P2P=$(mktemp -d "$E2E_RUN/mirror.XXXX")
T=$P2P/t
C=$P2P/c
mkdir -p "$T" "$C"
REPORT=$E2E_ARTIFACTS/mirror.txt
: >"$REPORT"
report() { printf '%s\n' "$*" | tee -a "$REPORT"; }
# shellcheck source=p2p_lib.sh
. "$E2E_ROOT/tests/e2e/p2p_lib.sh"

UP=""     # 127.0.0.1:<port> of U
TP=""     # 127.0.0.1:<port> of T
M=""      # 127.0.0.1:<port> of M (nginx)
NS=0      # containerd namespaces used (one per pull: a cold content store)
STALL=""  # the blob T stops sending halfway

mi_teardown() {
    local f
    cd_stop
    for f in "$P2P"/*.pid "$P2P/dist/pid"; do [ -f "$f" ] && e2e_stop_pid "$f" 10; done
    p2p_stop_nodes mirror
    mkdir -p "$E2E_ARTIFACTS/logs/mirror"
    cp "$P2P"/*.log "$P2P/dist/dist.log" "$E2E_ARTIFACTS/logs/mirror/" 2>/dev/null
    [ "${E2E_KEEP:-0}" = 1 ] || rm -rf "$P2P"
}

# ---------------------------------------------------------------- upstreams
# mi_dist_start: U on a free port (the same one again on a restart), its
# storage kept across restarts
mi_dist_start() {
    [ -n "$UP" ] || UP=127.0.0.1:$(e2e_free_port)
    e2e_start_distribution "$P2P/dist" "$UP"
}
mi_dist_stop() { e2e_stop_pid "$P2P/dist/pid" 10; }
mi_token_start() {
    local port
    port=$(e2e_free_port)
    TP=127.0.0.1:$port
    TOKEN_PROXY_STALL=$STALL python3 "$E2E_ROOT/tests/e2e/token_proxy.py" "$port" "http://$UP" mirror-user s3cret \
        >>"$P2P/token.log" 2>&1 &
    echo $! >"$P2P/token.pid"
    e2e_wait_for 30 "token proxy on $TP" sh -c "curl -s -o /dev/null -w '%{http_code}' http://$TP/v2/ | grep -q 401"
}

# mi_image IMG ARCH N TEXT: an N-layer umoci image, tag v1, for linux/ARCH
mi_image() {
    local img=$1 arch=$2 n=$3 text=$4 i
    umoci init --layout "$img" >/dev/null && umoci new --image "$img:v1" >/dev/null || return 1
    for ((i = 1; i <= n; i++)); do
        mkdir -p "$T/src-$text-$i"
        printf '%s layer %s for %s\n' "$text" "$i" "$arch" >"$T/src-$text-$i/hello.txt"
        head -c $((i * 200000)) /dev/urandom >"$T/src-$text-$i/r.bin"
        umoci insert --image "$img:v1" "$T/src-$text-$i" "/d$i" >/dev/null || return 1
    done
    umoci config --image "$img:v1" --architecture "$arch" --os linux >/dev/null || return 1
    umoci gc --layout "$img" >/dev/null
}
# up_push LAYOUT:TAG REPO:TAG [--all]
up_push() { timeout 120 skopeo copy -q --preserve-digests "${@:3}" --dest-tls-verify=false "oci:$1" "docker://$UP/$2" >>"$P2P/skopeo.log" 2>&1; }
up_digest() { e2e_head_header Docker-Content-Digest "http://$UP/v2/$1/manifests/$2" -H "Accept: $MT_OCI_MANIFEST" -H "Accept: $MT_OCI_INDEX"; }
# up_blob_gets DIGEST: GETs of that blob in U's access log
up_blob_gets() { grep -c "\"GET /v2/[^ ]*/blobs/$1 HTTP" "$P2P/dist/dist.log"; }

# ---------------------------------------------------------------- clients
# mi_ctr_pull REF [args]: ctr pull through the hosts.toml in a fresh namespace
mi_ctr_pull() {
    NS=$((NS + 1))
    timeout 120 /usr/bin/ctr --address "$C/c.sock" --namespace "m$NS" images pull --hosts-dir "$P2P/hosts" \
        "${@:2}" "$1" >"$T/ctr-$NS.log" 2>&1
}
mi_ctr_digest() { timeout 30 /usr/bin/ctr --address "$C/c.sock" --namespace "m$NS" images ls "name==$1" 2>/dev/null | awk 'NR == 2 {print $3}'; }
m_pull() {   # m_pull NAME:TAG DIR [skopeo args]: through M's nginx, no ns
    rm -rf "$2"
    timeout 120 skopeo copy -q "${@:3}" --src-tls-verify=false "docker://$M/$1" "oci:$2:x" >>"$P2P/skopeo.log" 2>&1
}
pulled_digest() { jq -r '.manifests[0].digest' "$1/index.json" 2>/dev/null; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
not() { ! "$@"; }
mfs_has() { nipfs 1 files stat "$1" >/dev/null 2>&1; }

mi_hosts() {
    mkdir -p "$P2P/hosts/$UP"
    cat >"$P2P/hosts/$UP/hosts.toml" <<EOF
server = "http://$UP"

[host."http://$M"]
  capabilities = ["pull", "resolve"]
EOF
}

# ------------------------------------------------------------------ main
main() {
    local K t0 d3 dm dc db got i pids=() want
    [ "$(id -u)" = 0 ] || { e2e_fail "containerd needs root"; return; }
    e2e_prepare || { e2e_fail "prepare"; return; }
    deps_distribution || { e2e_fail "the CNCF distribution registry could not be built"; return; }
    trap mi_teardown EXIT
    trap 'exit 130' INT TERM
    if ! { p2p_node 1 && p2p_node 2; }; then e2e_fail "two Kubo nodes did not start"; return; fi
    e2e_check "node 2 connects to node 1 (swarm connect)" p2p_connect
    K=$(nipfs 1 key gen --type=ed25519 reg) || { e2e_fail "key gen"; return; }

    # --- the upstreams and their images
    mi_dist_start || { e2e_fail "upstream U"; return; }
    if ! { mi_image "$T/three" amd64 3 three && mi_image "$T/arm" arm64 2 arm && mi_image "$T/cold" amd64 3 cold &&
        mi_image "$T/bad" amd64 1 bad && mi_image "$T/moved" amd64 2 moved && mi_image "$T/tok" amd64 2 tok &&
        mi_image "$T/never" amd64 1 never && mi_image "$T/stall" amd64 1 stall; }; then
        e2e_fail "umoci images"; return
    fi
    if ! { cp -r "$T/three" "$T/multi" && skopeo copy -q "oci:$T/arm:v1" "oci:$T/multi:arm" >/dev/null 2>&1 &&
        python3 "$E2E_ROOT/tests/e2e/layout_tool.py" retag "$T/multi" v1 amd &&
        python3 "$E2E_ROOT/tests/e2e/layout_tool.py" index "$T/multi" v1 amd arm; }; then
        e2e_fail "index layout"
        return
    fi
    if ! { up_push "$T/three:v1" library/three:v1 && up_push "$T/multi:v1" library/multi:v1 --all &&
        up_push "$T/cold:v1" library/cold:v1 && up_push "$T/bad:v1" library/bad:v1 &&
        up_push "$T/tok:v1" library/tok:v1 && up_push "$T/never:v1" library/never:v1 &&
        up_push "$T/stall:v1" library/stall:v1; }; then
        e2e_fail "skopeo push to the upstream"; return
    fi
    STALL=$(python3 "$E2E_ROOT/tests/e2e/layout_tool.py" blobs "$T/stall" v1 | tail -n 1)
    mi_token_start || { e2e_fail "token proxy T"; return; }
    d3=$(up_digest library/three v1)
    report "upstream U on $UP (distribution v3.1.1), token proxy T on $TP; library/three:v1 = $d3"

    # --- M: the mirror (and the writer F follows); a staging file left by a
    # worker that died before its commit (pid 4194303: none) is cleaned
    mkdir -p "$P2P/n1/M/state/mirror/tmp"
    : >"$P2P/n1/M/state/mirror/tmp/${d3#sha256:}.4194303"
    on 1 e2e_start_stack M "writeipnskey = \"reg\";" "ipnsrefresh = 1;" \
        "blobdir = \"$P2P/n1/kubo/blobs-M\";" 'blobfile_accel_redirect = "/_oci_p2p_file/";' \
        "mirror = ( { ns = \"$UP\"; url = \"http://$UP\"; prefix = \"up\"; freshness = 2; default = true; }," \
        "           { ns = \"$TP\"; url = \"http://$TP\"; prefix = \"tok\"; username = \"mirror-user\"; password = \"s3cret\"; } );" \
        'mirror_timeout_ms = 2000;' 'mirror_stall_s = 3;' || { e2e_fail "registry M"; return; }
    M=127.0.0.1:$(on 1 e2e_port M)
    e2e_check "a staging file of a dead worker is removed at start" not test -e "$P2P/n1/M/state/mirror/tmp/${d3#sha256:}.4194303"
    mi_hosts
    cd_start || { e2e_fail "containerd did not start"; return; }

    # --- containerd: cold, warm
    t0=$(now)
    e2e_check "ctr pull $UP/library/three:v1 through the mirror (cold)" mi_ctr_pull "$UP/library/three:v1" --plain-http
    report "containerd cold pull (3 layers, 1.2 MB): $(since "$t0") s"
    e2e_expect_eq "cold: containerd's digest is the upstream's" "$(mi_ctr_digest "$UP/library/three:v1")" "$d3"
    e2e_check "cold: the requests reached M with ?ns=$UP" grep -q "manifests/v1?ns=${UP/:/%3A} " "$P2P/n1/M/nginx/access.log"
    e2e_expect_eq "M stored it as up/library/three:v1" "$(e2e_head_header Docker-Content-Digest "http://$M/v2/up/library/three/manifests/v1" -H "Accept: $MT_OCI_MANIFEST")" "$d3"
    want=$(grep -c '"GET /v2/library/three/blobs/' "$P2P/dist/dist.log")
    # the count below means something only if the cold pull's GETs show in the log
    e2e_check "cold: U's access log shows the blob GETs the mirror made ($want)" test "$want" -gt 0
    t0=$(now)
    e2e_check "ctr pull again, a cold containerd (warm mirror)" mi_ctr_pull "$UP/library/three:v1" --plain-http
    report "containerd warm pull: $(since "$t0") s"
    e2e_expect_eq "warm: no blob GET reached the upstream" "$(grep -c '"GET /v2/library/three/blobs/' "$P2P/dist/dist.log")" "$want"

    # --- the upstream down: the cached image still pulls (its tag stale); a never-cached one fails fast
    mi_dist_stop
    sleep 3   # past the freshness time: the tag must be asked for, and cannot be
    t0=$(now)
    e2e_check "U stopped: ctr pull of the cached image still works" mi_ctr_pull "$UP/library/three:v1" --plain-http
    report "containerd pull with the upstream down (cached): $(since "$t0") s"
    e2e_expect_eq "U stopped: the digest is the cached one" "$(mi_ctr_digest "$UP/library/three:v1")" "$d3"
    e2e_check "M logged that it served the tag stale" grep -q "serving up/library/three:v1 as cached" "$P2P/n1/M/registry.log"
    t0=$(now)
    mi_ctr_pull "$UP/library/never:v1" --plain-http && e2e_fail "a never-cached image pulled with U down"
    got=$(since "$t0")
    report "containerd pull of a never-cached image, upstream down: failed after $got s"
    e2e_check "... it failed within 15 s (mirror_timeout_ms 2000, then containerd's own try of U)" \
        test "$(echo "$got < 15" | bc)" = 1

    # --- the tag moved upstream: seen after the freshness time
    mi_dist_start || { e2e_fail "restart U"; return; }
    up_push "$T/moved:v1" library/three:v1 || e2e_fail "push the moved tag"
    dm=$(up_digest library/three v1)
    sleep 3
    e2e_check "ctr pull after the tag moved upstream" mi_ctr_pull "$UP/library/three:v1" --plain-http
    e2e_expect_eq "the moved tag is seen after the freshness time" "$(mi_ctr_digest "$UP/library/three:v1")" "$dm"

    # --- skopeo: the default upstream (no ns), an index; the token upstream
    e2e_check "skopeo copy --all of library/multi:v1 from M (no ns: the default upstream)" m_pull library/multi:v1 "$T/p-multi" --all
    e2e_expect_eq "... the index digest is the upstream's" "$(pulled_digest "$T/p-multi")" "$(up_digest library/multi v1)"
    e2e_check "skopeo copy of tok/library/tok:v1 (T: Bearer token, basic credentials)" m_pull tok/library/tok:v1 "$T/p-tok"
    e2e_expect_eq "... the digest is the upstream's" "$(pulled_digest "$T/p-tok")" "$(up_digest library/tok v1)"
    e2e_check "... T issued a token and served the blobs with it" \
        sh -c "grep -q '^GET /token' '$P2P/token.log' && grep -q '^GET /v2/library/tok/blobs/.* 200' '$P2P/token.log'"

    # --- an upstream that stops sending mid-blob is cut off (mirror_stall_s 3)
    t0=$(now)
    e2e_check "a blob T stops sending halfway: the pull fails" not m_pull tok/library/stall:v1 "$T/p-stall"
    got=$(since "$t0")
    report "pull of an image whose blob stalls upstream halfway: failed after $got s (mirror_stall_s 3)"
    e2e_check "... within 15 s, not after the upstream's 60 s" test "$(echo "$got < 15" | bc)" = 1
    e2e_check "... nothing stored under that digest" not mfs_has "$(e2e_mfsroot M)/docker/registry/v2/blobs/sha256/${STALL:7:2}/${STALL#sha256:}/data"

    # --- 8 concurrent cold pulls of one image: each blob fetched once
    dc=$(up_digest library/cold v1)
    for i in 1 2 3 4 5 6 7 8; do
        m_pull library/cold:v1 "$T/p-cold-$i" &
        pids+=($!)
    done
    got=0
    for i in "${pids[@]}"; do wait "$i" || got=$((got + 1)); done
    e2e_expect_eq "8 concurrent cold pulls of library/cold:v1: failures" "$got" 0
    got=$(for i in 1 2 3 4 5 6 7 8; do pulled_digest "$T/p-cold-$i"; done | sort -u)
    e2e_expect_eq "... all 8 have the upstream's digest" "$got" "$dc"
    got=$(for b in $(python3 "$E2E_ROOT/tests/e2e/layout_tool.py" blobs "$T/cold" v1); do up_blob_gets "$b"; done | sort -u | tr '\n' ' ')
    e2e_expect_eq "... U's access log shows each of its blobs fetched once" "$got" "1 "

    # --- a HEAD and a Range GET of a blob not cached yet (fetched and stored first)
    local arm0 size
    arm0=$(python3 "$E2E_ROOT/tests/e2e/layout_tool.py" blobs "$T/never" v1 | tail -n 1)
    size=$(stat -c %s "$T/never/blobs/sha256/${arm0#sha256:}")
    e2e_expect_eq "HEAD of an uncached blob (?ns=): its size" \
        "$(e2e_head_header Content-Length "http://$M/v2/library/never/blobs/$arm0?ns=$UP")" "$size"
    e2e_check "... it is stored now (MFS)" mfs_has "$(e2e_mfsroot M)/docker/registry/v2/blobs/sha256/${arm0:7:2}/${arm0#sha256:}/data"
    got=$(curl -sf -H "Range: bytes=100-199" "http://$M/v2/library/never/blobs/$arm0?ns=$UP" | sha256sum | cut -c1-64)
    e2e_expect_eq "a Range GET of it: the upstream's bytes" "$got" "$(tail -c +101 "$T/never/blobs/sha256/${arm0#sha256:}" | head -c 100 | sha256sum | cut -c1-64)"

    # --- a blob whose bytes upstream do not match its digest
    db=$(python3 "$E2E_ROOT/tests/e2e/layout_tool.py" blobs "$T/bad" v1 | tail -n 1)
    printf 'tampered' | dd of="$P2P/dist/storage/docker/registry/v2/blobs/sha256/${db:7:2}/${db#sha256:}/data" bs=1 seek=1000 conv=notrunc 2>/dev/null
    e2e_check "a tampered upstream blob: the pull fails" not m_pull library/bad:v1 "$T/p-bad"
    e2e_check "... M logged the mismatch" grep -q "blob sha256:${db#sha256:} of library/bad hashes to" "$P2P/n1/M/registry.log"
    e2e_check "... nothing is stored under that digest (MFS)" not mfs_has "$(e2e_mfsroot M)/docker/registry/v2/blobs/sha256/${db:7:2}/${db#sha256:}/data"
    e2e_check "... nor as a blob file" not test -e "$P2P/n1/kubo/blobs-M/sha256/${db:7:2}/${db#sha256:}"

    # --- never an open proxy; the cache is read-only for clients
    e2e_expect_eq "a foreign ?ns= answers 404" "$(e2e_code "http://$M/v2/library/three/manifests/v1?ns=evil.example")" 404
    e2e_expect_eq "a push with ?ns= answers 405" "$(e2e_code -X POST "http://$M/v2/library/x/blobs/uploads/?ns=$UP")" 405
    e2e_expect_eq "a push under the prefix answers 405" "$(e2e_code -X POST "http://$M/v2/up/library/x/blobs/uploads/")" 405
    e2e_expect_eq "a push of a name of M's own (storage mode) answers 202" "$(e2e_code -X POST "http://$M/v2/own/x/blobs/uploads/")" 202
    got=$(curl -sf "http://$M/v2/_p2p/metrics" | awk '/^oci_registry_p2p_mirror_(hits|misses)_total/ {print $2}' | tr '\n' ' ')
    e2e_check "metrics count mirror hits and misses ($got)" sh -c "echo '$got' | awk '{exit !(\$1 > 0 && \$2 > 0)}'"

    # --- a follower of K serves the cached image with U, T, M and node 1 gone
    on 2 e2e_start_stack F "readonlyipnskeys = [ \"$K\" ];" 'readonly = true;' 'ipnsrefresh = 1;' 'pinreadonly = true;' ||
        { e2e_fail "registry F"; return; }
    local F
    F=127.0.0.1:$(on 2 e2e_port F)
    e2e_wait_for 60 "F serves up/library/three:v1" sh -c "curl -sf -o /dev/null -H 'Accept: $MT_OCI_MANIFEST' http://$F/v2/up/library/three/manifests/v1" ||
        e2e_fail "F never served the cached image"
    e2e_wait_for 60 "F pinned the root it serves" sh -c "curl -sf http://$F/v2/_p2p/status | jq -e '.readonly_roots[0].cid != \"\"' >/dev/null"
    sleep 5   # the pin of the resolved root completes in the background
    mi_dist_stop
    e2e_stop_pid "$P2P/token.pid" 10
    on 1 e2e_stop_nginx M
    on 1 e2e_stop_registry M
    e2e_stop_pid "$P2P/n1/kubo/pid" 20
    rm -rf "$T/p-f"
    e2e_check "F serves up/library/three:v1 with the upstream, M and node 1 stopped" \
        timeout 120 skopeo copy -q --src-tls-verify=false "docker://$F/up/library/three:v1" "oci:$T/p-f:x"
    e2e_expect_eq "... with the digest M cached" "$(pulled_digest "$T/p-f")" "$dm"
}

main
e2e_finish mirror | tee -a "$REPORT"
