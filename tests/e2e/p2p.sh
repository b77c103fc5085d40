#!/usr/bin/env bash
# p2p.sh: peer-to-peer replication between two real Kubo nodes on loopback.
#
#   node 1 (online, loopback only)  <-- swarm connect -->  node 2 (same)
#     registry A: writeipnskey = K                 registry B: readonlyipnskeys = [K, D],
#     (the publisher owns every IPNS write)        readonly, pinreadonly, no write key
#
# The bytes reach node 2 over bitswap and the name over the DHT (both nodes
# are DHT servers on 127.0.0.1; nothing is copied by hand). Checks: skopeo
# push to A and pull from B; propagation time of a new tag (median, min, max
# over P2P_PUSHES pushes); publishes per burst of P2P_BURST tag pushes;
# catalog union; readonly B refuses writes; a second master on A's statedir
# refuses to start; restart A and pull; restart with the key read-only only
# and pull; start-up import of the published root into a missing mfsroot;
# another writer detected and refused; SIGTERM publishes a pending change;
# interop: the CNCF distribution registry's storage, added to IPFS and
# published under key D, served by B; with pinreadonly, node 1 stopped, B
# still serves every tag. Registry A keeps blob files (blobdir): node 2
# fetches them from node 1's filestore, which verifies clean after; two
# blobs share leaves and one of them is swept (t_shared_leaves).
# Numbers go to $E2E_ARTIFACTS/p2p.txt.
set -u
E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib.sh
. "$E2E_ROOT/tests/e2e/lib.sh"

P2P_PUSHES=${P2P_PUSHES:-5}
P2P_BURST=${P2P_BURST:-20}
# Kubo cuts a gateway response whose reader stalls this long (t_resume)
export P2P_KUBO_RETRIEVAL_TIMEOUT=5s
SEED=$E2E_ROOT/tests/e2e/data/seed-hello-layout

e2e_init_run
P2P=$(mktemp -d "$E2E_RUN/p2p.XXXX")
REPORT=$E2E_ARTIFACTS/p2p.txt
: >"$REPORT"
report() { printf '%s\n' "$*" | tee -a "$REPORT"; }

# node helpers: p2p_node, p2p_daemon, nipfs, p2p_connect, on, url
# shellcheck source=p2p_lib.sh
. "$E2E_ROOT/tests/e2e/p2p_lib.sh"

p2p_teardown() {
    p2p_stop_nodes p2p
    e2e_stop_pid "$P2P/dist/pid" 10
    [ "${E2E_KEEP:-0}" = 1 ] || rm -rf "$P2P"
}

# ---------------------------------------------------------------- helpers
status() { curl -sf "$(url "$1" "$2")/v2/_p2p/status"; }
pubfield() { status "$1" "$2" | jq -r ".publisher.$3"; }
pubfield_is() { [ "$(pubfield "$1" "$2" "$3")" = "$4" ]; }   # pubfield_is N STACK FIELD VALUE
manifest_code() { e2e_code -H "Accept: $MT_OCI_MANIFEST" "$(url "$1" "$2")/v2/$3/manifests/$4"; }
serves() { [ "$(manifest_code "$@")" = 200 ]; }   # serves N STACK REPO REF
manifest_digest() {
    e2e_head_header Docker-Content-Digest "$(url "$1" "$2")/v2/$3/manifests/$4" -H "Accept: $MT_OCI_MANIFEST"
}
push() { timeout 300 skopeo copy -q --dest-tls-verify=false "oci:$SEED:v1" "docker://127.0.0.1:$(on "$1" e2e_port "$2")/$3" >>"$P2P/skopeo.log" 2>&1; }
pull() {
    rm -rf "$P2P/pulled"
    timeout 300 skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$(on "$1" e2e_port "$2")/$3" "oci:$P2P/pulled:x" >>"$P2P/skopeo.log" 2>&1
}
# tag_put N STACK REPO DIGEST TAG: a manifest PUT by tag of existing bytes (a cheap push)
tag_put() {
    local body=$P2P/manifest.json
    curl -sf -H "Accept: $MT_OCI_MANIFEST" "$(url "$1" "$2")/v2/$3/manifests/$4" -o "$body" &&
        [ "$(e2e_manifest_put "$(url "$1" "$2")" "$3" "$5" "$body")" = 201 ]
}
now() { date +%s.%N; }
# published_after CID: A published a root other than CID, and nothing is pending
published_after() { [ "$(pubfield 1 A last_published_cid)" != "$1" ] && pubfield_is 1 A pending false; }
not() { ! "$@"; }
stats() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "median %.2f s, min %.2f s, max %.2f s (n=%d)", m, a[1], a[NR], NR}'; }

# ------------------------------------------------------------------ main
main() {
    e2e_prepare || { e2e_fail "prepare"; return; }
    deps_distribution || e2e_log "the CNCF distribution registry could not be built; interop is skipped"
    trap p2p_teardown EXIT
    trap 'exit 130' INT TERM
    if ! { p2p_node 1 && p2p_node 2; }; then e2e_fail "two Kubo nodes did not start"; return; fi
    e2e_check "node 2 connects to node 1 over loopback (swarm connect)" p2p_connect
    local K D want got i t0 t1 tag A_FILES
    K=$(nipfs 1 key gen --type=ed25519 reg) || { e2e_fail "key gen"; return; }
    report "write key K = $K (keystore name 'reg' on node 1)"

    # A refuses a key its node does not have, at start-up, with a clear message
    on 1 e2e_start_registry nokey "writeipnskey = \"nosuchkey\";" >/dev/null 2>&1
    sleep 2
    e2e_check "a missing writeipnskey is a start-up error naming 'ipfs key gen'" \
        grep -q "nosuchkey.*ipfs key gen" "$P2P/n1/nokey/registry.log"
    on 1 e2e_stop_registry nokey

    # interop source: the CNCF distribution registry's storage under key D
    if [ -n "${DISTRIBUTION_BIN:-}" ] && [ -x "$DISTRIBUTION_BIN" ]; then
        p2p_distribution
    fi

    # A keeps blob files (sent by nginx, referenced by node 1's filestore):
    # B's node fetches them over bitswap from that filestore
    A_FILES=("blobdir = \"$P2P/n1/kubo/blobs-A\";" 'blobfile_accel_redirect = "/_oci_p2p_file/";')
    on 1 e2e_start_stack A "writeipnskey = \"reg\";" "ipnsrefresh = 1;" "${A_FILES[@]}" || { e2e_fail "registry A"; return; }
    t_shared_leaves
    local rokeys="\"$K\"${D:+, \"$D\"}"
    on 2 e2e_start_stack B "readonlyipnskeys = [ $rokeys ];" "readonly = true;" "ipnsrefresh = 1;" \
        "pinreadonly = true;" || { e2e_fail "registry B"; return; }

    # a second master on A's statedir refuses
    # (the statedir lock comes before anything else at start-up)
    timeout 10 "$REGISTRY_BIN" -c "$P2P/n1/A/registry.conf" </dev/null >"$P2P/second.log" 2>&1
    e2e_check "a second master on the same statedir refuses to start" \
        grep -q "another oci-registry-p2p master" "$P2P/second.log"

    # push to A, pull from B
    t0=$(now)
    e2e_check "skopeo push to A" push 1 A p2p/hello:v1
    want=$(manifest_digest 1 A p2p/hello v1)
    e2e_wait_for 60 "B serves p2p/hello:v1" serves 2 B p2p/hello v1
    t1=$(now)
    report "first push + replication to B: $(echo "$t1 - $t0" | bc) s"
    e2e_check "skopeo pull from B (bytes over bitswap, name over the DHT)" pull 2 B p2p/hello:v1
    got=$(manifest_digest 2 B p2p/hello v1)
    e2e_expect_eq "B's digest for p2p/hello:v1 is A's ($want)" "$got" "$want"
    # a 4-layer push, its blobs a second apart (each gap longer than the
    # quiet period, all of them longer than the maximum interval): one
    # publish, when the manifest lands, not one per blob. Its first layer
    # is a blob only A has (the seed's layers are also in node 1 as ordinary
    # blocks, from the interop step: a block the node has gets no filestore
    # entry): B's node must fetch it from node 1's filestore
    local ub="$P2P/unique.bin" udg hex entries bad layers=() p0 p1
    e2e_keystream oci-registry-p2p-p2p-unique 3000000 >"$ub"
    udg=$(e2e_digest "$ub") hex=${udg#sha256:}
    layers=("$ub")
    for i in 2 3 4; do
        e2e_keystream "oci-registry-p2p-p2p-layer$i" 1000000 >"$P2P/layer$i.bin"
        layers+=("$P2P/layer$i.bin")
    done
    e2e_wait_for 10 "A idle" pubfield_is 1 A pending false
    p0=$(pubfield 1 A publishes_total)
    for i in 0 1 2 3; do
        e2e_expect_eq "4-layer push: layer $((i + 1)) uploaded to A in one request" \
            "$(e2e_blob_post "$(url 1 A)" p2p/four "${layers[$i]}")" 201
        sleep 1.1
    done
    e2e_check "4-layer push: the manifest (its blobs are there: HEAD, then PUT)" \
        python3 "$E2E_ROOT/tests/e2e/gc_push.py" image "$(url 1 A)" p2p/four v1 '{"p2p":"four"}' "${layers[@]}"
    e2e_wait_for 30 "B serves p2p/four:v1" serves 2 B p2p/four v1
    e2e_wait_for 10 "A idle" pubfield_is 1 A pending false
    p1=$(pubfield 1 A publishes_total)
    report "a 4-layer push over 4.4 s: $((p1 - p0)) publish(es)"
    e2e_expect_eq "a 4-layer push gave exactly one publish (blobs alone publish nothing)" "$((p1 - p0))" 1
    entries=$(nipfs 1 filestore ls 2>/dev/null | grep -c " blobs-A/sha256/${hex:0:2}/$hex ")
    e2e_expect_eq "its 3 MB layer is a blob file that node 1's filestore references (12 chunks)" "$entries" 12
    e2e_wait_for 30 "B serves the blob" e2e_code_is 200 -I "$(url 2 B)/v2/p2p/four/blobs/$udg"
    e2e_expect_eq "B serves its bytes (node 2 fetched them over bitswap from node 1's filestore)" \
        "$(curl -sf "$(url 2 B)/v2/p2p/four/blobs/$udg" | e2e_digest)" "$udg"
    bad=$(nipfs 1 filestore verify 2>&1 | grep -vc '^ok ')
    e2e_expect_eq "ipfs filestore verify on node 1: every entry ok" "$bad" 0
    e2e_check "A's status: published, nothing pending, no error" \
        sh -c "[ \"\$(curl -sf $(url 1 A)/v2/_p2p/status | jq -r '.publisher | \"\(.alive) \(.pending) \(.last_error) \(.state)\"')\" = 'true false  ready' ]"
    e2e_check "B's status shows K resolved to A's last published root" \
        sh -c "[ \"\$(curl -sf $(url 2 B)/v2/_p2p/status | jq -r '.readonly_roots[0].cid')\" = \"\$(curl -sf $(url 1 A)/v2/_p2p/status | jq -r .publisher.last_published_cid)\" ]"
    e2e_check "B (readonly) refuses a push" not push 2 B p2p/hello:nope
    e2e_check "B's catalog has p2p/hello" sh -c "curl -sf $(url 2 B)/v2/_catalog | jq -e '.repositories | index(\"p2p/hello\")' >/dev/null"

    # propagation of a new tag, pushed with skopeo
    : >"$P2P/prop.txt"
    for ((i = 1; i <= P2P_PUSHES; i++)); do
        tag=p$i
        push 1 A "p2p/hello:$tag" || { e2e_fail "push :$tag"; continue; }
        t0=$(now)
        for ((j = 0; j < 600; j++)); do
            serves 2 B p2p/hello "$tag" && break
            sleep 0.05
        done
        t1=$(now)
        if serves 2 B p2p/hello "$tag"; then
            echo "$t1 - $t0" | bc >>"$P2P/prop.txt"
        else
            e2e_fail "B never served :$tag (30 s)"
        fi
    done
    report "propagation A -> B of a new tag (end of skopeo push to first 200 on B): $(stats <"$P2P/prop.txt")"
    e2e_check "propagation median under 10 s" \
        sh -c "[ \"\$(sort -n $P2P/prop.txt | awk '{a[NR]=\$1} END {print ((NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2) < 10}')\" = 1 ]"

    # a burst of tag pushes: coalesced, and the last one always published
    local p0 p1
    sleep 4
    p0=$(pubfield 1 A publishes_total)
    t0=$(now)
    for ((i = 1; i <= P2P_BURST; i++)); do
        tag_put 1 A p2p/hello v1 "b$i" || e2e_fail "burst push b$i"
    done
    t1=$(now)
    e2e_wait_for 30 "B serves the burst's last tag" serves 2 B p2p/hello "b$P2P_BURST"
    e2e_wait_for 10 "A idle" pubfield_is 1 A pending false
    p1=$(pubfield 1 A publishes_total)
    report "burst: $P2P_BURST tag pushes in $(echo "$t1 - $t0" | bc) s gave $((p1 - p0)) publishes"
    e2e_check "the burst was coalesced (fewer publishes than pushes)" [ $((p1 - p0)) -lt "$P2P_BURST" ]
    e2e_check "the burst's last tag reached B" serves 2 B p2p/hello "b$P2P_BURST"

    t_pin_superseded
    t_resume
    t_gave_up
    t_offline_follower

    # SIGTERM publishes a pending change before exiting (a long quiet period
    # keeps it pending when the signal arrives)
    on 1 e2e_stop_registry A
    on 1 e2e_start_registry A "writeipnskey = \"reg\";" "ipnsrefresh = 1;" "${A_FILES[@]}" "publish_quiet_ms = 60000;" \
        "publish_max_interval_ms = 600000;" || e2e_fail "restart A"
    e2e_wait_for 30 "A's publisher ready" sh -c "[ \"\$(jq -r .state $P2P/n1/A/state/publisher.json 2>/dev/null)\" = ready ]"
    tag_put 1 A p2p/hello v1 term || e2e_fail "push :term"
    sleep 1
    e2e_check "with a 60 s quiet period, :term is pending" [ "$(pubfield 1 A pending)" = true ]
    on 1 e2e_stop_registry A
    e2e_wait_for 20 "B serves :term after A's SIGTERM" serves 2 B p2p/hello term
    e2e_check "SIGTERM published the pending change (B serves :term)" serves 2 B p2p/hello term

    # restart: push, restart, pull (from A itself)
    on 1 e2e_start_registry A "writeipnskey = \"reg\";" "ipnsrefresh = 1;" "${A_FILES[@]}" || e2e_fail "restart A"
    e2e_wait_for 30 "A answers" curl -sf "$(url 1 A)/v2/"
    e2e_check "after a restart A serves what was pushed before (skopeo pull)" pull 1 A p2p/hello:p1
    e2e_check "after a restart A's publisher is ready again (its own root, not another writer)" \
        e2e_wait_for 30 "ready" pubfield_is 1 A state ready

    # restart with the key as read-only only: a fresh mfsroot, no write key
    on 1 e2e_stop_nginx A
    on 1 e2e_stop_registry A
    on 1 e2e_start_stack R "readonlyipnskeys = [ \"$K\" ];" "ipnsrefresh = 1;" || e2e_fail "registry R"
    e2e_wait_for 30 "R resolved K" sh -c "[ -n \"\$(curl -sf $(url 1 R)/v2/_p2p/status | jq -r '.readonly_roots[0].cid // empty')\" ]"
    e2e_check "restarted with K read-only only: skopeo pull p2p/hello:p2" pull 1 R p2p/hello:p2
    e2e_check "a repository only a read-only root has can be pushed to (taken over locally)" \
        tag_put 1 R p2p/hello v1 local1
    e2e_check "  ... then it is served locally with its old tags" serves 1 R p2p/hello p1
    on 1 e2e_stop_nginx R
    on 1 e2e_stop_registry R

    # start-up import: mfsroot missing, the key resolves -> files/cp the root
    nipfs 1 files rm -r "$(e2e_mfsroot A)" || e2e_fail "remove A's mfsroot"
    on 1 e2e_start_stack A "writeipnskey = \"reg\";" "ipnsrefresh = 1;" "${A_FILES[@]}" || e2e_fail "restart A"
    e2e_wait_for 30 "A ready" pubfield_is 1 A state ready
    e2e_check "a missing mfsroot is imported from what K points at (pull :b1)" pull 1 A p2p/hello:b1
    e2e_check "  ... the import is logged" grep -q "imported" "$P2P/n1/A/registry.log"

    # another writer: K now points at a root A did not publish
    local other
    other=$(echo other-writer | nipfs 1 add -Q --cid-version 1 -w)
    on 1 e2e_stop_nginx A
    on 1 e2e_stop_registry A
    nipfs 1 name publish --key=reg "/ipfs/$other" >/dev/null || e2e_fail "publish another root"
    on 1 e2e_start_stack A "writeipnskey = \"reg\";" "ipnsrefresh = 1;" "${A_FILES[@]}" || e2e_fail "restart A"
    e2e_wait_for 30 "A sees the other writer" pubfield_is 1 A state other_writer
    e2e_check "another writer's root is detected (state other_writer)" pubfield_is 1 A state other_writer
    e2e_check "  ... and logged loudly" grep -q "ANOTHER WRITER" "$P2P/n1/A/registry.log"
    tag_put 1 A p2p/hello v1 after-other || e2e_fail "push :after-other"
    sleep 2
    e2e_check "  ... and not overwritten: K still points at the other root" \
        [ "$(nipfs 2 name resolve --nocache "$K")" = "/ipfs/$other" ]

    # pinreadonly: B holds a full copy. Put K back on A's root first.
    nipfs 1 name publish --key=reg "/ipfs/$(nipfs 1 files stat --hash "$(e2e_mfsroot A)")" >/dev/null
    e2e_wait_for 30 "B follows K back" serves 2 B p2p/hello after-other
    local pinned="" cid
    b_pinned() { cid=$(status 2 B | jq -r '.readonly_roots[0].cid'); nipfs 2 pin ls --type=recursive -q 2>/dev/null | grep -qx "$cid"; }
    e2e_wait_for 30 "B to pin the root K resolves to" b_pinned && pinned=$cid
    e2e_check "B pinned the root K resolves to ($cid)" [ -n "$pinned" ]
    on 1 e2e_stop_nginx A
    on 1 e2e_stop_registry A
    e2e_stop_pid "$P2P/n1/kubo/pid" 20
    local all_ok=1 t
    for t in $(curl -sf "$(url 2 B)/v2/p2p/hello/tags/list" | jq -r '.tags[]'); do
        pull 2 B "p2p/hello:$t" || { all_ok=0; e2e_log "pull :$t from B failed with node 1 down"; }
    done
    e2e_check "node 1 stopped: B still serves every tag of p2p/hello (pinned replica)" [ "$all_ok" = 1 ]
    if [ -n "${D:-}" ]; then
        e2e_check "interop: B serves the distribution registry's image (node 1 down, pinned)" pull 2 B dist/hello:v1
    fi
}

# t_pin_superseded: B pins each root in the background. A root that links
# a block no node has (added unpinned to node 1, then removed from it) can
# never be pinned whole: while B's pin of it runs, a tag pushed to A must be
# served by B within 3 refresh periods (1 s each) of A's publish, and B's
# status must show the pin moved to the newer root (superseded), the last
# completed pin kept. Then the block's file leaves A's tree, and B's pin
# completes on the next root.
t_pin_superseded() {
    local f=$P2P/stuck.bin stuck leaf mroot pub t0 t1 n
    e2e_keystream oci-registry-p2p-p2p-stuck 600000 >"$f"
    if ! { stuck=$(nipfs 1 add -Q --pin=false --raw-leaves --chunker=size-262144 "$f") &&
        leaf=$(nipfs 1 refs "$stuck" | sed -n 2p) && nipfs 1 block rm "$leaf" >/dev/null &&
        mroot=$(on 1 e2e_mfsroot A) && nipfs 1 files cp "/ipfs/$stuck" "$mroot/stuck-pin-test"; }; then
        e2e_fail "pin superseded: a file with a block no node has, in A's tree"
        return
    fi
    tag_put 1 A p2p/hello v1 stuck1 || e2e_fail "pin superseded: tag :stuck1"
    e2e_wait_for 30 "B pinning a root that links the missing block" \
        sh -c "curl -sf $(url 2 B)/v2/_p2p/status | jq -e '.readonly_roots[0].pinning != \"\"' >/dev/null"
    e2e_wait_for 10 "A idle" pubfield_is 1 A pending false
    pub=$(pubfield 1 A last_published_cid)
    tag_put 1 A p2p/hello v1 past-stuck || e2e_fail "pin superseded: tag :past-stuck"
    e2e_wait_for 10 "A publishes :past-stuck" published_after "$pub"
    t0=$(now)
    for ((n = 0; n < 200; n++)); do
        serves 2 B p2p/hello past-stuck && break
        sleep 0.05
    done
    t1=$(now)
    report "a tag pushed while B's pin of an earlier root runs: served by B $(echo "$t1 - $t0" | bc) s after A published it"
    e2e_check "  ... within 3 refresh periods (3 s) of A's publish, the earlier pin still running" \
        sh -c "[ \"\$(echo '$t1 - $t0 < 3' | bc)\" = 1 ] && curl -sf $(url 2 B)/v2/_p2p/status | jq -e '.readonly_roots[0].pinning != \"\"' >/dev/null"
    pub=$(pubfield 1 A last_published_cid)
    e2e_wait_for 10 "B pinning A's newest root" \
        sh -c "curl -sf $(url 2 B)/v2/_p2p/status | jq -e '.readonly_roots[0].pinning == \"$pub\"' >/dev/null"
    e2e_check "  ... the pin moved to the newer root (superseded, logged), the last completed pin kept" \
        sh -c "grep -q 'superseded the pin of' '$P2P/n2/B/registry.log' && curl -sf $(url 2 B)/v2/_p2p/status | jq -e '.readonly_roots[0] | .pinned != \"\" and .pinned != .pinning' >/dev/null"
    e2e_check "  ... the metrics show the pin in progress" \
        sh -c "curl -sf $(url 2 B)/v2/_p2p/metrics | grep -q '^oci_registry_p2p_readonly_root_pinning{key=\"$K\"} 1\$'"
    nipfs 1 files rm -r "$mroot/stuck-pin-test" || e2e_fail "pin superseded: remove the file again"
    tag_put 1 A p2p/hello v1 unstuck || e2e_fail "pin superseded: tag :unstuck"
    e2e_wait_for 10 "A idle" pubfield_is 1 A pending false
    pub=$(pubfield 1 A last_published_cid)
    e2e_wait_for 30 "B's pin completes" \
        sh -c "curl -sf $(url 2 B)/v2/_p2p/status | jq -e '.readonly_roots[0] | .pinned == \"$pub\" and .pinning == \"\"' >/dev/null"
    e2e_check "  ... once A's root has every block again, B pins it whole" \
        sh -c "curl -sf $(url 2 B)/v2/_p2p/status | jq -e '.readonly_roots[0] | .pinned == \"$pub\" and .pinning == \"\"' >/dev/null"
}

# t_resume: a client that stops reading for longer than Kubo's
# Gateway.RetrievalTimeout (5 s on these nodes, P2P_KUBO_RETRIEVAL_TIMEOUT)
# makes node 2's gateway cut B's blob stream; B asks again from where it
# stopped and the client gets every byte, in order.
t_resume() {
    local f=$P2P/big.bin d out r0 r1
    e2e_keystream oci-registry-p2p-p2p-big 67108864 >"$f"
    d=$(e2e_digest "$f")
    e2e_expect_eq "resume: a 64 MiB blob pushed to A" "$(e2e_blob_post "$(url 1 A)" p2p/big "$f")" 201
    e2e_check "resume: tagged (p2p/big:v1)" \
        python3 "$E2E_ROOT/tests/e2e/gc_push.py" image "$(url 1 A)" p2p/big v1 '{"p2p":"big"}' "$f"
    e2e_wait_for 30 "B serves p2p/big:v1" serves 2 B p2p/big v1
    r0=$(curl -sf "$(url 2 B)/v2/_p2p/metrics" | awk '$1 == "oci_registry_p2p_kubo_gateway_resumes_total" {print $2}')
    out=$(timeout 120 python3 "$E2E_ROOT/tests/e2e/slow_reader.py" "$(url 2 B)/v2/p2p/big/blobs/$d" 1048576 12)
    r1=$(curl -sf "$(url 2 B)/v2/_p2p/metrics" | awk '$1 == "oci_registry_p2p_kubo_gateway_resumes_total" {print $2}')
    report "resume: a client pausing 12 s after 1 MiB of a 64 MiB blob from B: $out; B resumed $((r1 - r0)) stream(s)"
    e2e_expect_eq "resume: the paused client got the whole blob, byte for byte" "$out" "200 67108864 $d 67108864"
    e2e_check "resume: node 2's gateway cut the stream and B resumed it (kubo_gateway_resumes_total grew)" \
        [ "$((r1 - r0))" -ge 1 ]
    # the same through the streaming path (libcurl; a layout pull, whose
    # bytes are hashed on the way): the same blob in an OCI layout on node 1
    local lay=$P2P/biglayout cfg md lcid
    mkdir -p "$lay/blobs/sha256"
    cp "$f" "$lay/blobs/sha256/${d#sha256:}"
    printf '{}' >"$lay/cfg"
    cfg=$(e2e_digest "$lay/cfg")
    mv "$lay/cfg" "$lay/blobs/sha256/${cfg#sha256:}"
    jq -nc --arg c "$cfg" --arg l "$d" '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: 2},
        layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: 67108864}]}' >"$lay/m"
    md=$(e2e_digest "$lay/m")
    jq -nc --arg m "$md" --argjson n "$(stat -c %s "$lay/m")" '{schemaVersion: 2, manifests: [{mediaType:
        "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $n,
        annotations: {"org.opencontainers.image.ref.name": "v1"}}]}' >"$lay/index.json"
    mv "$lay/m" "$lay/blobs/sha256/${md#sha256:}"
    printf '{"imageLayoutVersion":"1.0.0"}' >"$lay/oci-layout"
    lcid=$(nipfs 1 add -r -Q --cid-version 1 "$lay") || { e2e_fail "resume: ipfs add -r of the layout"; return; }
    r0=$r1
    out=$(timeout 120 python3 "$E2E_ROOT/tests/e2e/slow_reader.py" "$(url 2 B)/v2/ipfs/$lcid/blobs/$d" 1048576 12)
    r1=$(curl -sf "$(url 2 B)/v2/_p2p/metrics" | awk '$1 == "oci_registry_p2p_kubo_gateway_resumes_total" {print $2}')
    report "resume, layout pull (streamed, hashed): $out; B resumed $((r1 - r0)) stream(s)"
    e2e_expect_eq "resume: the paused client of a layout pull got the whole blob, byte for byte" \
        "$out" "200 67108864 $d 67108864"
    e2e_check "resume: ... the streaming path resumed the stream node 2 cut" [ "$((r1 - r0))" -ge 1 ]
}

# t_gave_up: a blob whose first block no node has: node 2's gateway gives
# up before the first byte (504 after its 5 s Gateway.RetrievalTimeout);
# B asks it again, 3 times in all, then answers 503 (never a 200 that
# breaks off). The blob sits in an OCI layout built in node 1's MFS (an
# `ipfs add` would store the block again).
t_gave_up() {
    local f=$P2P/gone.bin d gone leaf lay=/p2p-gave-up lcid r0 r1 code t0 t1
    e2e_keystream oci-registry-p2p-p2p-gone 600000 >"$f"
    d=$(e2e_digest "$f")
    if ! { gone=$(nipfs 1 add -Q --pin=false --raw-leaves --chunker=size-262144 "$f") &&
        leaf=$(nipfs 1 refs "$gone" | sed -n 1p) && nipfs 1 block rm "$leaf" >/dev/null &&
        nipfs 1 files mkdir -p "$lay/blobs/sha256" && nipfs 1 files cp "/ipfs/$gone" "$lay/blobs/sha256/${d#sha256:}" &&
        printf '{"imageLayoutVersion":"1.0.0"}' | nipfs 1 files write --create "$lay/oci-layout" &&
        printf '{"schemaVersion":2,"manifests":[]}' | nipfs 1 files write --create "$lay/index.json" &&
        lcid=$(nipfs 1 cid base32 "$(nipfs 1 files stat --hash "$lay")"); }; then
        e2e_fail "gave up: a layout whose blob's first block no node has"
        return
    fi
    r0=$(curl -sf "$(url 2 B)/v2/_p2p/metrics" | awk '$1 == "oci_registry_p2p_kubo_gateway_resumes_total" {print $2}')
    t0=$(now)
    code=$(curl -s -o /dev/null -w '%{http_code}' -m 90 "$(url 2 B)/v2/ipfs/$lcid/blobs/$d")
    t1=$(now)
    r1=$(curl -sf "$(url 2 B)/v2/_p2p/metrics" | awk '$1 == "oci_registry_p2p_kubo_gateway_resumes_total" {print $2}')
    report "gave up: a blob no node has, from B: $code after $(echo "$t1 - $t0" | bc) s, asked again $((r1 - r0)) time(s)"
    e2e_expect_eq "gave up: a blob no node has is a 503 (not a 200 that breaks off)" "$code" 503
    e2e_check "gave up: ... after node 2's gateway was asked 3 times (2 more after its 504)" [ "$((r1 - r0))" -ge 2 ]
    nipfs 1 files rm -r "$lay" >/dev/null 2>&1
}

# t_offline_follower: a follower whose node runs --offline (records put
# into it by hand with name put) still follows the key. Kubo refuses
# name/get offline, so its resolver uses name/resolve, without the check
# that a record is not older than the one served (that rule:
# tests/unit/test_p2pstate.c; with peers, the fleet bench).
t_offline_follower() {
    local id c0 c1 dir=$P2P/n3/kubo
    if ! { id=$(nipfs 1 key gen --type=ed25519 offline) &&
        c0=$(echo offline-0 | nipfs 1 add -Q --pin=false) && c1=$(echo offline-1 | nipfs 1 add -Q --pin=false) &&
        nipfs 1 name publish --key=offline --allow-offline "/ipfs/$c0" >/dev/null && nipfs 1 name get "$id" >"$P2P/rec0" &&
        nipfs 1 name publish --key=offline --allow-offline "/ipfs/$c1" >/dev/null && nipfs 1 name get "$id" >"$P2P/rec1"; }; then
        e2e_fail "offline follower: two records of a new key from node 1"
        return
    fi
    mkdir -p "$dir"
    if ! { IPFS_PATH=$dir/repo "$IPFS_BIN" init --profile=test >"$dir/init.log" 2>&1 &&
        e2e_free_port >"$dir/api.port" && e2e_free_port >"$dir/gw.port" &&
        IPFS_PATH=$dir/repo "$IPFS_BIN" config Addresses.API "/ip4/127.0.0.1/tcp/$(cat "$dir/api.port")" &&
        IPFS_PATH=$dir/repo "$IPFS_BIN" config Addresses.Gateway "/ip4/127.0.0.1/tcp/$(cat "$dir/gw.port")"; }; then
        e2e_fail "offline follower: node 3's repository"
        return
    fi
    IPFS_PATH=$dir/repo "$IPFS_BIN" daemon --offline >>"$dir/daemon.log" 2>&1 &
    echo $! >"$dir/pid"
    e2e_wait_for 60 "node 3 RPC" nipfs 3 version >/dev/null || { e2e_fail "offline follower: node 3"; return; }
    nipfs 3 name put --allow-offline "$id" "$P2P/rec0" >/dev/null
    on 3 e2e_start_stack C "readonlyipnskeys = [ \"$id\" ];" "readonly = true;" "ipnsrefresh = 1;" ||
        { e2e_fail "offline follower: registry C"; return; }
    e2e_check "offline follower: C serves the key's first root" e2e_wait_for 15 "C on rec0" \
        sh -c "[ \"\$(curl -sf $(url 3 C)/v2/_p2p/status | jq -r '.readonly_roots[0].cid')\" = $c0 ]"
    nipfs 3 name put --allow-offline "$id" "$P2P/rec1" >/dev/null
    e2e_check "offline follower: C moves to the next one" e2e_wait_for 15 "C on rec1" \
        sh -c "[ \"\$(curl -sf $(url 3 C)/v2/_p2p/status | jq -r '.readonly_roots[0].cid')\" = $c1 ]"
    e2e_check "offline follower: ... with name/resolve, and C's log says so" \
        grep -q "the node is offline (no name/get)" "$P2P/n3/C/registry.log"
}

# t_shared_leaves: two blobs sharing their first 4 MiB, pushed to A (X
# first: node 1's filestore then reads the shared leaves from X's file).
# X leaves the registry (a DELETE from its repository, then what garbage
# collection will do: its data taken out of MFS, here by hand) and
# --sweep-files removes its file: Y's shared leaves must be re-pointed
# first. Node 1's filestore verifies clean and node 2, which never had Y,
# fetches Y's bytes over bitswap, byte for byte. Run before B exists, so
# nothing on node 2 holds Y yet.
t_shared_leaves() {
    local x="$P2P/shared-x" y="$P2P/shared-y" dx dy hx fx fy cy out xleaf
    e2e_keystream oci-registry-p2p-shared-head 4194304 >"$x"
    cp "$x" "$y"
    e2e_keystream oci-registry-p2p-shared-x 1000000 >>"$x"
    e2e_keystream oci-registry-p2p-shared-y 1500000 >>"$y"
    dx=$(e2e_digest "$x") dy=$(e2e_digest "$y") hx=${dx#sha256:}
    fx=$P2P/n1/kubo/blobs-A/sha256/${hx:0:2}/$hx fy=$P2P/n1/kubo/blobs-A/sha256/${dy:7:2}/${dy#sha256:}
    e2e_check "shared leaves: X pushed to A (POST, streamed PATCH, PUT)" e2e_blob_push "$(url 1 A)" p2p/shared "$x" "$dx"
    e2e_expect_eq "shared leaves: Y (its first 4 MiB are X's) pushed to A" "$(e2e_blob_post "$(url 1 A)" p2p/shared "$y")" 201
    # X's add ran during its PATCH, before its digest was known: its
    # entries name its alias, blobs-A/.added/<upload id>.<n>, a symbolic
    # link to X's file
    xleaf=$(nipfs 1 filestore ls "$(head -c 262144 "$y" | nipfs 1 add -Q --only-hash --cid-version 1 --raw-leaves)" 2>/dev/null | awk '{print $3}')
    e2e_check "shared leaves: Y's first leaf is read from X's file, by its alias ($xleaf)" \
        eval "[[ '$xleaf' == blobs-A/.added/* ]] && [ \"\$(readlink '$P2P/n1/kubo/$xleaf')\" = '$fx' ]"
    cy=$(nipfs 1 files stat --hash "$(on 1 e2e_mfs_blob_path A "$dy")")
    e2e_expect_eq "shared leaves: DELETE X from its repository -> 202" \
        "$(e2e_code -X DELETE "$(url 1 A)/v2/p2p/shared/blobs/$dx")" 202
    nipfs 1 files rm -r "$(dirname "$(on 1 e2e_mfs_blob_path A "$dx")")" || e2e_fail "shared leaves: take X out of MFS"
    out=$("$REGISTRY_BIN" --sweep-files --min-age 0 -c "$P2P/n1/A/registry.conf" 2>&1)
    report "sweep of X's file: $(tr '\n' ' ' <<<"$out")"
    e2e_check "shared leaves: --sweep-files removed X's file" [ ! -e "$fx" ]
    e2e_check "shared leaves: ...and its alias" [ ! -e "$P2P/n1/kubo/$xleaf" ]
    e2e_check "shared leaves: ...and kept Y's" [ -f "$fy" ]
    e2e_expect_eq "shared leaves: node 1's filestore verify is clean" "$(nipfs 1 filestore verify 2>&1 | grep -vc '^ok ')" 0
    e2e_expect_eq "shared leaves: node 1 reads Y whole" "$(nipfs 1 cat "$cy" | e2e_digest)" "$dy"
    e2e_expect_eq "shared leaves: node 2 (which never had Y) fetches Y byte for byte over bitswap" \
        "$(nipfs 2 --timeout=60s cat "$cy" | e2e_digest)" "$dy"
}

# The CNCF distribution registry, filesystem storage in a temp dir, plain
# HTTP on loopback: push with skopeo, add its storage root to node 1, publish
# under key D. B (started after this) has D as its second read-only key.
p2p_distribution() {
    local port root cid
    port=$(e2e_free_port)
    root=$P2P/dist/storage
    e2e_start_distribution "$P2P/dist" "127.0.0.1:$port" || { e2e_fail "distribution registry did not start"; return; }
    timeout 120 skopeo copy -q --dest-tls-verify=false "oci:$SEED:v1" "docker://127.0.0.1:$port/dist/hello:v1" \
        >>"$P2P/skopeo.log" 2>&1 || { e2e_fail "interop: skopeo push to the distribution registry"; return; }
    e2e_stop_pid "$P2P/dist/pid" 10
    cid=$(nipfs 1 add -r -Q --cid-version 1 "$root") || { e2e_fail "interop: ipfs add -r"; return; }
    if ! { D=$(nipfs 1 key gen --type=ed25519 dist) && nipfs 1 name publish --key=dist "/ipfs/$cid" >/dev/null; }; then
        e2e_fail "interop: publish under D"; D=; return
    fi
    report "interop: distribution v3.1.1 storage $cid published under D = $D"
}

main
e2e_finish p2p | tee -a "$REPORT"
