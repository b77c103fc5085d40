#!/usr/bin/env bash
# containerd.sh: containerd (Debian's package, driven with `ctr`) against
# the "default" stack through nginx. containerd is what docker pulls and
# pushes with, and its resolver and pusher are code of their own (not
# go-containerregistry, not regclient). It runs as root with its own
# config, root, state and socket under $E2E_RUN, the CRI plugin disabled,
# the native snapshotter (no overlayfs needed), and is stopped and its
# dirs removed on exit.
#   pull    by tag (unpacked) and by digest; the digest ctr records is the
#           registry's Docker-Content-Digest
#   push    an image pulled from here, to another repository (containerd
#           mounts the blobs: POST ?mount=&from=), and an image imported
#           from an OCI archive (no source label: containerd's own upload
#           flow, POST then PUT); the registry then serves the manifest and
#           every blob with the right digest
#   index   a two-platform index, pulled with --all-platforms
# Every ctr call runs under `timeout`; every loop has a fixed count.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STACK=default
T=""    # scratch dir (images, archives)
C=""    # containerd's dir: config, root, state, socket, log
R=""    # host:port of the default stack
LOG=""  # nginx access log of the default stack
CPID=""

ctr() { timeout 60 /usr/bin/ctr --address "$C/c.sock" --namespace e2e "$@"; }
ACCEPT=(-H "Accept: $MT_OCI_INDEX" -H "Accept: $MT_OCI_MANIFEST" -H "Accept: $MT_DOCKER_MANIFEST"
    -H "Accept: $MT_DOCKER_LIST")
# served_digest REPO REF: the registry's Docker-Content-Digest for a manifest
served_digest() { e2e_head_header Docker-Content-Digest "http://$R/v2/$1/manifests/$2" "${ACCEPT[@]}"; }
# ctr_digest REF: the manifest digest containerd recorded for REF
ctr_digest() { ctr images ls "name==$1" 2>/dev/null | awk 'NR == 2 {print $3}'; }

# served_intact REPO DIGEST: the manifest and every blob it names come back
# from the registry hashing to their digests.
served_intact() {
    local repo=$1 d=$2 b
    curl -sf -m 30 "${ACCEPT[@]}" -o "$T/m.json" "http://$R/v2/$repo/manifests/$d" || { e2e_log "$repo@$d: no manifest"; return 1; }
    [ "$(e2e_digest "$T/m.json")" = "$d" ] || { e2e_log "$repo@$d: manifest bytes do not hash to it"; return 1; }
    for b in $(jq -r '[.config.digest] + [.layers[].digest] | .[]' "$T/m.json" | head -n 50); do
        [ "$(curl -sf -m 60 "http://$R/v2/$repo/blobs/$b" | e2e_digest)" = "$b" ] || { e2e_log "$repo: blob $b"; return 1; }
    done
}

# ------------------------------------------------------------ containerd
cd_start() {
    mkdir -p "$C/root" "$C/state"
    cat >"$C/config.toml" <<EOF
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$C/c.sock"
[ttrpc]
  address = "$C/c.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
    /usr/bin/containerd --config "$C/config.toml" >"$C/containerd.log" 2>&1 &
    CPID=$!
    e2e_wait_for 10 "containerd on $C/c.sock" /usr/bin/ctr --address "$C/c.sock" version && return 0
    tail -n 20 "$C/containerd.log" >&2
    return 1
}
cd_stop() {
    if e2e_alive "$CPID"; then
        kill "$CPID"
        e2e_wait_gone 5 "$CPID" || kill -9 "$CPID"
        wait "$CPID" 2>/dev/null
    fi
    CPID=""
    if [ -n "$C" ]; then
        mkdir -p "$E2E_ARTIFACTS/logs/containerd"
        cp "$C/containerd.log" "$E2E_ARTIFACTS/logs/containerd/" 2>/dev/null
        # the native snapshotter's unpack leaves no mounts; be sure anyway
        grep -F " $C/" /proc/mounts | cut -d' ' -f2 | tac | head -n 50 | while read -r m; do umount -l "$m"; done
        rm -rf "$C"
    fi
    [ -n "$T" ] && rm -rf "$T"
}
cd_teardown() {
    cd_stop
    [ "$E2E_OWNER" = 1 ] && e2e_teardown
}

# --------------------------------------------------------------- images
# build IMG ARCH: a two-layer umoci image, tag v1, for linux/ARCH
build() {
    local img=$1 arch=$2 i
    umoci init --layout "$img" >/dev/null && umoci new --image "$img:v1" >/dev/null || return 1
    for i in 1 2; do
        mkdir -p "$T/src-$arch-$i"
        printf 'layer %s for %s\n' "$i" "$arch" >"$T/src-$arch-$i/hello.txt"
        head -c $((i * 150000)) /dev/urandom >"$T/src-$arch-$i/r.bin"
        umoci insert --image "$img:v1" "$T/src-$arch-$i" "/d$i" >/dev/null || return 1
    done
    umoci config --image "$img:v1" --architecture "$arch" --os linux >/dev/null || return 1
    umoci gc --layout "$img" >/dev/null
}
skopeo_push() { timeout 120 skopeo copy -q --preserve-digests --dest-tls-verify=false "oci:$1:v1" "docker://$R/$2" >/dev/null 2>&1; }

# ----------------------------------------------------------------- tests
t_pull() {
    local want got
    want=$(served_digest ctr/src v1)
    ctr images pull --plain-http --snapshotter native "$R/ctr/src:v1" >"$T/pull.log" 2>&1 ||
        { e2e_fail "ctr images pull by tag: $(tail -n 3 "$T/pull.log")"; return; }
    got=$(ctr_digest "$R/ctr/src:v1")
    e2e_expect_eq "ctr images pull by tag (unpacked, native snapshotter): digest = Docker-Content-Digest" "$got" "$want"
    e2e_check "ctr images check: the image is complete" \
        sh -c "timeout 60 /usr/bin/ctr --address '$C/c.sock' --namespace e2e images check 'name==$R/ctr/src:v1' | grep -q complete"
    e2e_expect_eq "unpacked: two native snapshots, the first layer's file in one" \
        "$(ctr snapshots --snapshotter native ls 2>/dev/null | awk 'NR > 1' | wc -l) $(cat "$C"/root/io.containerd.snapshotter.v1.native/snapshots/*/d1/hello.txt 2>/dev/null | head -n 1)" \
        "2 layer 1 for amd64"
    ctr images pull --plain-http --snapshotter native "$R/ctr/src@$want" >"$T/pull2.log" 2>&1 ||
        { e2e_fail "ctr images pull by digest: $(tail -n 3 "$T/pull2.log")"; return; }
    e2e_expect_eq "ctr images pull by digest: recorded under that digest" "$(ctr_digest "$R/ctr/src@$want")" "$want"
    SRC_DIGEST=$want
}

t_push() {
    local got n0
    n0=$(wc -l <"$LOG")
    ctr images tag "$R/ctr/src:v1" "$R/ctr/pushed:v1" >/dev/null || e2e_fail "ctr images tag"
    ctr images push --plain-http "$R/ctr/pushed:v1" >"$T/push.log" 2>&1 ||
        { e2e_fail "ctr images push (pulled image): $(tail -n 3 "$T/push.log")"; return; }
    e2e_expect_eq "ctr images push to another repository: Docker-Content-Digest is the source's" \
        "$(served_digest ctr/pushed v1)" "$SRC_DIGEST"
    e2e_check "... the manifest and every blob served with the right digest" served_intact ctr/pushed "$SRC_DIGEST"
    e2e_expect_eq "... its blobs mounted from ctr/src (3 POST ?mount=&from= answered 201)" \
        "$(tail -n +$((n0 + 1)) "$LOG" | grep -c '"POST /v2/ctr/pushed/blobs/uploads/?mount=sha256:[0-9a-f]*&from=ctr/src HTTP/1.1" 201 ')" 3

    # An image containerd has no source for: it must upload every blob.
    timeout 120 skopeo copy -q --preserve-digests "oci:$T/imp:v1" "oci-archive:$T/imp.tar:import/me:v1" >/dev/null 2>&1 ||
        { e2e_fail "skopeo oci-archive"; return; }
    ctr images import --snapshotter native --base-name "$R/ctr/imported" --digests "$T/imp.tar" >"$T/import.log" 2>&1 ||
        { e2e_fail "ctr images import: $(tail -n 3 "$T/import.log")"; return; }
    ctr images ls -q >"$T/ls" 2>/dev/null
    local ref want
    ref=$(grep -m 1 "^$R/ctr/imported" "$T/ls")
    want=$(ctr_digest "$ref")
    ctr images tag "$ref" "$R/ctr/uploaded:v1" >/dev/null 2>&1
    n0=$(wc -l <"$LOG")
    ctr images push --plain-http "$R/ctr/uploaded:v1" >"$T/push2.log" 2>&1 ||
        { e2e_fail "ctr images push (imported image): $(tail -n 3 "$T/push2.log")"; return; }
    got=$(tail -n +$((n0 + 1)) "$LOG" | grep -c '"POST /v2/ctr/uploaded/blobs/uploads/ HTTP/1.1" 202 ')
    got="$got $(tail -n +$((n0 + 1)) "$LOG" | grep -c '"PUT /v2/ctr/uploaded/blobs/uploads/[^ ]*?digest=sha256%3A[0-9a-f]* HTTP/1.1" 201 ')"
    e2e_expect_eq "ctr images push of an imported image: config and both layers uploaded (3 POST 202, 3 PUT ?digest= 201)" "$got" "3 3"
    e2e_expect_eq "... Docker-Content-Digest is the imported manifest's" "$(served_digest ctr/uploaded v1)" "$want"
    e2e_check "... the manifest and every blob served with the right digest" served_intact ctr/uploaded "$want"
}

t_index() {
    local amd arm idx ms
    amd=$(served_digest ctr/multi amd64) arm=$(served_digest ctr/multi arm64)
    printf '{"schemaVersion":2,"mediaType":"%s","manifests":[{"mediaType":"%s","digest":"%s","size":%s,"platform":{"architecture":"amd64","os":"linux"}},{"mediaType":"%s","digest":"%s","size":%s,"platform":{"architecture":"arm64","os":"linux"}}]}' \
        "$MT_OCI_INDEX" "$MT_OCI_MANIFEST" "$amd" "$(curl -s -m 30 "${ACCEPT[@]}" "http://$R/v2/ctr/multi/manifests/$amd" | wc -c)" \
        "$MT_OCI_MANIFEST" "$arm" "$(curl -s -m 30 "${ACCEPT[@]}" "http://$R/v2/ctr/multi/manifests/$arm" | wc -c)" \
        >"$T/index.json"
    idx=$(e2e_digest "$T/index.json")
    e2e_expect_eq "index PUT" "$(e2e_manifest_put "http://$R" ctr/multi all "$T/index.json" "$MT_OCI_INDEX")" 201
    ctr images pull --plain-http --all-platforms "$R/ctr/multi:all" >"$T/pull3.log" 2>&1 ||
        { e2e_fail "ctr images pull --all-platforms: $(tail -n 3 "$T/pull3.log")"; return; }
    e2e_expect_eq "ctr images pull --all-platforms of the index: its digest" "$(ctr_digest "$R/ctr/multi:all")" "$idx"
    ms=$(ctr images check "name==$R/ctr/multi:all" 2>/dev/null | awk 'NR == 2 {print $4}')
    e2e_check "ctr images check: both platforms' content present ($ms)" grep -q complete <<<"$ms"
    ctr images pull --plain-http --snapshotter native --platform linux/arm64 "$R/ctr/multi:all" >"$T/pull4.log" 2>&1 ||
        e2e_fail "ctr images pull --platform linux/arm64: $(tail -n 3 "$T/pull4.log")"
    e2e_expect_eq "ctr content get of the arm64 manifest: the registry's bytes" "$(ctr content get "$arm" | e2e_digest)" "$arm"
}

main() {
    local t0=$SECONDS
    [ "$(id -u)" = 0 ] || { e2e_fail "containerd needs root"; e2e_finish containerd; return; }
    if ! { command -v containerd >/dev/null && command -v ctr >/dev/null; }; then
        e2e_fail "containerd and ctr not installed (scripts/deps.sh)"; e2e_finish containerd; return
    fi
    e2e_ensure_stack "$STACK" || { e2e_fail "stack '$STACK' did not start"; e2e_finish containerd; return; }
    trap cd_teardown EXIT
    trap 'exit 130' INT TERM
    R=127.0.0.1:$(e2e_port "$STACK")
    LOG=$E2E_RUN/$STACK/nginx/access.log
    T=$(mktemp -d "$E2E_RUN/containerd-t.XXXXXX")
    C=$(mktemp -d "$E2E_RUN/containerd.XXXXXX")
    echo "== containerd $(containerd --version | cut -d' ' -f3) (stack $STACK, $R)"
    if ! { build "$T/src" amd64 && build "$T/arm" arm64 && build "$T/imp" amd64; }; then
        e2e_fail "umoci images"; e2e_finish containerd; return
    fi
    if ! { skopeo_push "$T/src" ctr/src:v1 && skopeo_push "$T/src" ctr/multi:amd64 && skopeo_push "$T/arm" ctr/multi:arm64; }; then
        e2e_fail "skopeo push of the test images"; e2e_finish containerd; return
    fi
    cd_start || { e2e_fail "containerd did not start (log above)"; e2e_finish containerd; return; }
    e2e_ok "containerd up on $C/c.sock"
    t_pull
    t_push
    t_index
    cd_stop
    echo "containerd: $((SECONDS - t0)) s"
    e2e_finish containerd
}

# Sourced (tests/e2e/mirror.sh reuses containerd's set-up and the image
# builder): define only.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
