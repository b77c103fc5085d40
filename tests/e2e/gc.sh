#!/usr/bin/env bash
# gc.sh: garbage collection (oci-registry-p2p gc, the collector), issue 15's
# tests, on two Kubo nodes of its own (tests/e2e/p2p_lib.sh) and a CNCF
# distribution registry as the mirror's upstream:
#
#   node 1  G  Kubo blocks; writeipnskey gk (layout push), a pull-through
#              mirror of U under up/, untagged retention on (1 s), Kubo's
#              repo gc after each collection, upload_expiry 10 s
#           F  blob files; the collector every 10 s (gc_interval)
#           R  Kubo blocks, gc_grace 2 s: the race of pushes and collections
#   node 2  only Kubo: reads what G keeps over bitswap
#
# 1. Three images sharing a base layer; one deleted; `gc --dry-run` changes
#    nothing (root CID); `gc` removes the deleted image's own layers and
#    config, and the space comes back (`ipfs repo stat` in G's case, the
#    blob directory and the filestore in F's), while the shared layer and
#    the other images pull byte for byte, also from node 2.
# 2. A layout pushed under ipns/<gk>/... and an image cached from the
#    upstream survive (the upstream is stopped before they are pulled).
# 3. A two-platform index, its children untagged, and an artifact referring
#    to one child: with retention on, deleting an unrelated tag removes
#    nothing of them, while an unreferenced untagged manifest goes.
# 4. 8 clients pushing, each image naming a layer of the image it deleted
#    just before, while 5 collections run back to back: every tag that got
#    201 pulls byte for byte, every blob hashes to its name.
# 5. An abandoned upload older than upload_expiry is gone after a
#    collection, a fresh one survives.
# 6. The publisher publishes the collected root; /metrics counts the runs;
#    the collector ran on F.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GR=${GC_GRACE_S:-6}         # gc_grace of G and F
RACE_CLIENTS=8 RACE_ROUNDS=8 RACE_GCS=5

main() {
set +o pipefail
e2e_init_run
P2P=$(mktemp -d "$E2E_RUN/gc.XXXX")
T=$P2P/t
mkdir -p "$T"
REPORT=$E2E_ARTIFACTS/gc.txt
: >"$REPORT"
report() { printf '%s\n' "$*" | tee -a "$REPORT"; }
# shellcheck source=p2p_lib.sh
. "$E2E_ROOT/tests/e2e/p2p_lib.sh"
PUSH=$E2E_ROOT/tests/e2e/gc_push.py

gc_teardown() {
    e2e_stop_pid "$P2P/dist/pid" 10
    p2p_stop_nodes gc
    [ "${E2E_KEEP:-0}" = 1 ] || rm -rf "$P2P"
}
trap gc_teardown EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers
reg() { printf 'http://127.0.0.1:%s' "$(on 1 e2e_port "$1")"; }
mfsroot() { on 1 e2e_mfsroot "$1"; }
root_cid() { nipfs 1 files stat --hash "$(mfsroot "$1")"; }
blob_path() { on 1 e2e_mfs_blob_path "$1" "$2"; }
has_blob() { nipfs 1 files stat "$(blob_path "$1" "$2")" >/dev/null 2>&1; }
lacks_blob() { ! has_blob "$@"; }
not() { ! "$@"; }
# collect STACK [--dry-run]: one `gc`, its output in $T/gc-STACK-<n>.out;
# waits its turn when the collector holds the run lock
GCN=0
collect() {
    local st=$1 i out rc
    shift
    GCN=$((GCN + 1))
    out=$T/gc-$st-$GCN.out
    for ((i = 0; i < 60; i++)); do
        timeout 300 "$REGISTRY_BIN" gc -c "$P2P/n1/$st/registry.conf" "$@" >"$out" 2>"$out.err"
        rc=$?
        grep -q "another collection is running" "$out.err" || break
        sleep 1
    done
    LAST_GC=$out
    sed -n '$p' "$out" >>"$REPORT"
    [ "$rc" = 0 ] || e2e_log "gc of $st exited $rc: $(tail -n 3 "$out.err")"
    return "$rc"
}
# push_image STACK REPO TAG CONFIG LAYER_FILE...: prints the manifest digest
push_image() {
    local st=$1 out
    shift
    out=$(python3 "$PUSH" image "$(reg "$st")" "$@") || { e2e_log "push $2:$3 to $st: $out"; return 1; }
    echo "${out#* }"
}
mdigest() {   # mdigest STACK REPO REF
    e2e_head_header Docker-Content-Digest "$(reg "$1")/v2/$2/manifests/$3" \
        -H "Accept: $MT_OCI_MANIFEST" -H "Accept: $MT_OCI_INDEX"
}
serves() { [ -n "$(mdigest "$@")" ]; }
not_serves() { ! serves "$@"; }
pull() {   # pull STACK REPO:TAG DIR: skopeo hashes every blob it copies
    rm -rf "$3"
    timeout 120 skopeo copy -q --src-tls-verify=false "docker://$(reg "$1" | sed 's|http://||')/$2" "oci:$3:x" \
        >>"$P2P/skopeo.log" 2>&1
}
# node2_has STACK DIGEST...: node 2 reads each blob (bitswap from node 1)
# under G's current root, and it hashes to its name
node2_has() {
    local st=$1 root d hex
    shift
    root=$(root_cid "$st") || return 1
    for d in "$@"; do
        hex=${d#sha256:}
        [ "$(nipfs 2 --timeout=60s cat "/ipfs/$root/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data" | e2e_digest)" = "$d" ] ||
            { e2e_log "node 2: $d does not read back"; return 1; }
    done
}
repo_size() { nipfs 1 repo stat --size-only | awk '/RepoSize/ {print $2}'; }

# ------------------------------------------------------------------ setup
deps_distribution || { e2e_fail "the CNCF distribution registry could not be built"; return; }
{ p2p_node 1 && p2p_node 2 && p2p_connect; } || { e2e_fail "two Kubo nodes"; return; }
K=$(nipfs 1 key gen --type=ed25519 gk) || { e2e_fail "key gen"; return; }
UP=127.0.0.1:$(e2e_free_port)
e2e_start_distribution "$P2P/dist" "$UP" || { e2e_fail "upstream registry"; return; }
on 1 e2e_start_stack G 'writeipnskey = "gk";' 'ipns_ttl = "1s";' "gc_grace = $GR;" 'upload_expiry = 10;' \
    'gc_untagged_max_age = 1;' 'gc_repo_gc = true;' \
    "mirror = ( { ns = \"$UP\"; url = \"http://$UP\"; prefix = \"up\"; freshness = 2; } );" ||
    { e2e_fail "registry G"; return; }
on 1 e2e_start_stack F "blobdir = \"$(on 1 e2e_blobdir F)\";" 'blobfile_accel_redirect = "/_oci_p2p_file/";' \
    "gc_grace = $GR;" 'gc_interval = 10;' || { e2e_fail "registry F"; return; }
on 1 e2e_start_stack R 'gc_grace = 2;' || { e2e_fail "registry R"; return; }
G=$(reg G)

# layers: a shared base, one of its own per image (sizes known: random bytes)
# (G's and F's of their own: the node would otherwise share their blocks)
for st in G F; do
    head -c 2000000 /dev/urandom >"$T/base$st"
    for i in 1 2 3; do head -c 3000000 /dev/urandom >"$T/own$st$i"; done
done
LOWN=$(e2e_digest "$T/ownG2") LBASE=$(e2e_digest "$T/baseG") FOWN=$(e2e_digest "$T/ownF2")

# an upload abandoned now: older than upload_expiry (10 s) by the last collection
head -c 1000 /dev/urandom >"$T/part"
ABANDONED=$(e2e_upload_start "$G" gc/abandoned) || e2e_fail "an upload to abandon"
e2e_expect_eq "G: an upload to abandon: PATCH" "$(e2e_upload_patch "$ABANDONED" "$T/part")" 202

# -------------------------------------------------------- 1. three images
declare -A D
for st in G F; do
    for i in 1 2 3; do
        D[$st$i]=$(push_image "$st" gc/app "$i" "{\"architecture\":\"amd64\",\"os\":\"linux\",\"n\":$i,\"s\":\"$st\"}" \
            "$T/base$st" "$T/own$st$i") || e2e_fail "$st: push gc/app:$i"
    done
done
# 2. what must survive: a pushed layout and a cached upstream image
skopeo copy -q --dest-tls-verify=false "oci:$E2E_ROOT/tests/e2e/data/seed-hello-layout:v1" \
    "docker://$UP/base/hello:1" >>"$P2P/skopeo.log" 2>&1 || e2e_fail "push to the upstream"
e2e_check "G: up/base/hello:1 pulled through the mirror (so cached)" pull G up/base/hello:1 "$T/cached0"
e2e_check "G: a layout pushed under ipns/<gk>/lay" skopeo copy -q --dest-tls-verify=false \
    "oci:$E2E_ROOT/tests/e2e/data/seed-hello-layout:v1" "docker://${G#http://}/ipns/$K/lay/hello:1"
LAYOUT_IX=$(nipfs 1 files read "$(mfsroot G)/lay/hello/index.json" | e2e_digest)
sleep "$GR"   # everything pushed so far is older than the grace now

# G, Kubo blocks: delete image 2, dry run, collect
e2e_expect_eq "G: DELETE gc/app@<image 2>" "$(e2e_http DELETE "$G/v2/gc/app/manifests/${D[G2]}")" 202
before=$(root_cid G)
collect G --dry-run || e2e_fail "G: gc --dry-run exit $?"
e2e_expect_eq "G: gc --dry-run changes nothing (the root CID is the same)" "$(root_cid G)" "$before"
e2e_check "G: gc --dry-run says it would remove image 2's own layer" grep -q "would remove blob $LOWN" "$LAST_GC"
e2e_check "G: ... and nothing of the shared layer" not grep -q "$LBASE" "$LAST_GC"
size0=$(repo_size)
collect G || e2e_fail "G: gc exit $?"
size1=$(repo_size)
e2e_check "G: gc removed image 2's own layer ($LOWN)" grep -q "^removed blob $LOWN" "$LAST_GC"
e2e_check "G: ... it is gone from MFS" lacks_blob G "$LOWN"
e2e_check "G: ... the shared layer stays" has_blob G "$LBASE"
freed=$((size0 - size1))
report "G (Kubo blocks): image 2's own layer 3000000 bytes; ipfs repo stat fell by $freed bytes after gc (with repo gc)"
e2e_check "G: the space came back: repo stat fell by at least 2.7 MB ($freed bytes)" test "$freed" -ge 2700000
for i in 1 3; do
    e2e_check "G: gc/app:$i pulls byte for byte" pull G "gc/app:$i" "$T/back$i"
done
e2e_check "G: node 2 reads the kept layers over bitswap, byte for byte" \
    node2_has G "$LBASE" "$(e2e_digest "$T/ownG1")" "$(e2e_digest "$T/ownG3")"
e2e_check "G: image 2 is gone" not_serves G gc/app "${D[G2]}"

# 2. survivors
e2e_expect_eq "G: the pushed layout's index.json is untouched" \
    "$(nipfs 1 files read "$(mfsroot G)/lay/hello/index.json" | e2e_digest)" "$LAYOUT_IX"
e2e_check "G: the layout pulls (ipns/<gk>/lay/hello:1)" pull G "ipns/$K/lay/hello:1" "$T/lay"
e2e_stop_pid "$P2P/dist/pid" 10
e2e_check "G: the cached upstream image pulls with the upstream stopped" pull G up/base/hello:1 "$T/cached1"

# F, blob files: the same
e2e_expect_eq "F: DELETE gc/app@<image 2>" "$(e2e_http DELETE "$(reg F)/v2/gc/app/manifests/${D[F2]}")" 202
leaves=$(nipfs 1 refs "$(nipfs 1 files stat --hash "$(blob_path F "$FOWN")")" | sort)
bd=$(on 1 e2e_blobdir F)
du0=$(du -sb "$bd" | cut -f1)
collect F || e2e_fail "F: gc exit $?"
du1=$(du -sb "$bd" | cut -f1)
report "F (blob files): image 2's own layer 3000000 bytes; the blob directory shrank by $((du0 - du1)) bytes"
e2e_check "F: image 2's own layer is gone from MFS" lacks_blob F "$FOWN"
e2e_check "F: the blob directory shrank by about its size ($((du0 - du1)) bytes)" test $((du0 - du1)) -ge 2900000
nipfs 1 filestore ls 2>/dev/null | awk '{print $1}' | sort >"$T/fs-ls"
e2e_expect_eq "F: ipfs filestore ls lists none of its $(wc -w <<<"$leaves") chunks" "$(comm -12 "$T/fs-ls" - <<<"$leaves" | wc -l)" 0
nipfs 1 filestore verify >"$T/fs-verify" 2>&1 || e2e_fail "F: ipfs filestore verify exited $?"
e2e_check "F: ipfs filestore verify lists entries (the kept images' chunks)" grep -q '^ok ' "$T/fs-verify"
e2e_expect_eq "F: ipfs filestore verify: no entry other than ok" "$(grep -vc '^ok ' "$T/fs-verify")" 0
for i in 1 3; do
    e2e_check "F: gc/app:$i pulls byte for byte" pull F "gc/app:$i" "$T/fback$i"
done

# ------------------------------------- 3. index, children, referrer, retention
printf '{"architecture":"amd64","os":"linux"}' >"$T/cfg-a"
head -c 100000 /dev/urandom >"$T/la"
head -c 100000 /dev/urandom >"$T/lb"
head -c 100000 /dev/urandom >"$T/lj"
head -c 100000 /dev/urandom >"$T/lo"
A=$(push_image G gc/multi a '{"architecture":"amd64","os":"linux"}' "$T/la")
B=$(push_image G gc/multi b '{"architecture":"arm64","os":"linux"}' "$T/lb")
J=$(push_image G gc/multi junk '{"architecture":"amd64","os":"linux","junk":1}' "$T/lj")
O=$(push_image G gc/multi other '{"architecture":"amd64","os":"linux","other":1}' "$T/lo")
size_of() { curl -s -m 30 -H "Accept: $MT_OCI_MANIFEST" "$G/v2/gc/multi/manifests/$1" | wc -c; }
printf '{"schemaVersion":2,"mediaType":"%s","manifests":[{"mediaType":"%s","digest":"%s","size":%s,"platform":{"architecture":"amd64","os":"linux"}},{"mediaType":"%s","digest":"%s","size":%s,"platform":{"architecture":"arm64","os":"linux"}}]}' \
    "$MT_OCI_INDEX" "$MT_OCI_MANIFEST" "$A" "$(size_of "$A")" "$MT_OCI_MANIFEST" "$B" "$(size_of "$B")" >"$T/index.json"
IX=$(e2e_digest "$T/index.json")
e2e_expect_eq "G: index PUT gc/multi:all" "$(e2e_manifest_put "$G" gc/multi all "$T/index.json" "$MT_OCI_INDEX")" 201
printf '{}' >"$T/empty"
printf 'signature of a' >"$T/sig"
e2e_expect_eq "G: empty config blob" "$(e2e_blob_post "$G" gc/multi "$T/empty")" 201
e2e_expect_eq "G: signature blob" "$(e2e_blob_post "$G" gc/multi "$T/sig")" 201
printf '{"schemaVersion":2,"mediaType":"%s","artifactType":"application/vnd.example.sig","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},"layers":[{"mediaType":"application/vnd.example.sig","digest":"%s","size":%s}],"subject":{"mediaType":"%s","digest":"%s","size":%s}}' \
    "$MT_OCI_MANIFEST" "$(e2e_digest "$T/empty")" "$(e2e_digest "$T/sig")" "$(stat -c %s "$T/sig")" "$MT_OCI_MANIFEST" "$A" "$(size_of "$A")" >"$T/ref.json"
REF=$(e2e_digest "$T/ref.json")
e2e_expect_eq "G: referrer PUT (subject: child a), untagged" "$(e2e_manifest_put "$G" gc/multi "$REF" "$T/ref.json")" 201
for t in a b junk; do
    e2e_expect_eq "G: DELETE tag gc/multi:$t (its manifest stays, untagged)" "$(e2e_http DELETE "$G/v2/gc/multi/manifests/$t")" 202
done
sleep "$GR"
collect G || e2e_fail "G: gc exit $?"   # the first collection that sees them untagged starts their clock
sleep 2
e2e_expect_eq "G: DELETE tag gc/multi:other (an unrelated tag)" "$(e2e_http DELETE "$G/v2/gc/multi/manifests/other")" 202
FRESH=$(e2e_upload_start "$G" gc/fresh) || e2e_fail "a fresh upload"
collect G || e2e_fail "G: gc exit $?"
sleep 2
collect G || e2e_fail "G: gc exit $?"   # other: untagged for 2 s by now
for d in "$IX" "$A" "$B" "$REF"; do
    e2e_check "G: kept with retention on: gc/multi@$d" serves G gc/multi "$d"
done
e2e_expect_eq "G: the referrers of child a still list the artifact" \
    "$(curl -s -m 30 "$G/v2/gc/multi/referrers/$A" | jq -r '.manifests[].digest')" "$REF"
e2e_check "G: retention removed the unreferenced untagged manifest (junk)" not_serves G gc/multi "$J"
e2e_check "G: ... and the one the unrelated tag left (other)" not_serves G gc/multi "$O"
e2e_check "G: ... and its layer" lacks_blob G "$(e2e_digest "$T/lj")"
e2e_check "G: the children's layers stay" has_blob G "$(e2e_digest "$T/la")"
e2e_check "G: the referrer's blob stays" has_blob G "$(e2e_digest "$T/sig")"
e2e_check "G: gc/multi:all pulls" pull G gc/multi:all "$T/multi"

# ------------------------------------------------------------- 5. uploads
e2e_expect_eq "G: the abandoned upload (older than upload_expiry) is gone" "$(e2e_http GET "$ABANDONED")" 404
e2e_expect_eq "G: the fresh upload survives" "$(e2e_http GET "$FRESH")" 204

# ---------------------------------------------------- 6. publish, metrics
published() { [ "$(nipfs 1 name resolve --nocache "/ipns/$K" 2>/dev/null)" = "/ipfs/$(root_cid G)" ]; }
e2e_check "G: the publisher published the collected root" e2e_wait_for 30 "G's root under gk" published
runs=$(curl -s "$G/v2/_p2p/metrics" | awk '/^oci_registry_p2p_gc_runs_total/ {print $2}')
e2e_check "G: /metrics counts the collections ($runs)" test "${runs:-0}" -ge 4
e2e_check "F: the collector ran (gc_interval = 10)" grep -q "collector: collecting garbage" "$P2P/n1/F/registry.log"

# ---------------------------------------------- 4. pushes race collections
for ((c = 1; c <= RACE_CLIENTS; c++)); do
    for ((r = 1; r <= RACE_ROUNDS; r++)); do head -c 300000 /dev/urandom >"$T/u$c-$r"; done
done
head -c 1000000 /dev/urandom >"$T/base"
racers=()
for ((c = 1; c <= RACE_CLIENTS; c++)); do
    GC_RACE_PAUSE=0.7 python3 "$PUSH" race "$(reg R)" "race/c$c" "$c" "$RACE_ROUNDS" "$T" >"$T/race$c.out" 2>&1 &
    racers+=($!)
done
sleep 1   # the pushes under way
for ((i = 1; i <= RACE_GCS; i++)); do
    sleep 1   # collections spread over the pushes (R's grace: 2 s)
    collect R || e2e_fail "R: gc $i exit $?"
    cp "$LAST_GC" "$T/race-gc$i.out"
done
wait "${racers[@]}"   # not a bare wait: the Kubo daemons are children too
pushed=0 failed=0 pulled=0 bad=0 removed=0
for ((c = 1; c <= RACE_CLIENTS; c++)); do
    pushed=$((pushed + $(grep -c '^push v[0-9]* 201 ' "$T/race$c.out")))
    failed=$((failed + $(grep -c '^push v[0-9]* [^2]' "$T/race$c.out")))
    # every push that got 201 and that its client did not delete must pull
    while read -r _ tag _ _; do
        grep -q "^delete $tag 202" "$T/race$c.out" && continue
        if pull R "race/c$c:$tag" "$T/rb"; then
            pulled=$((pulled + 1))
        else
            bad=$((bad + 1))
            e2e_log "race/c$c:$tag got 201 and was not deleted, but does not pull"
        fi
    done < <(grep '^push v[0-9]* 201 ' "$T/race$c.out")
done
for ((i = 1; i <= RACE_GCS; i++)); do removed=$((removed + $(grep -c '^removed ' "$T/race-gc$i.out"))); done
collect R || e2e_fail "R: gc after the race"
blobs_bad=0 blobs=0
broot=$(mfsroot R)/docker/registry/v2/blobs/sha256
for xx in $(nipfs 1 files ls "$broot"); do
    for hex in $(nipfs 1 files ls "$broot/$xx"); do
        blobs=$((blobs + 1))
        [ "$(nipfs 1 files read "$broot/$xx/$hex/data" | e2e_digest)" = "sha256:$hex" ] || blobs_bad=$((blobs_bad + 1))
    done
done
report "race: $RACE_CLIENTS clients x $RACE_ROUNDS images; $pushed pushes got 201, $failed failed; $RACE_GCS collections meanwhile removed $removed things; of the tags left $pulled pull byte for byte, $bad do not; $blobs blobs, $blobs_bad do not hash to their name"
e2e_check "race: collections removed something while the pushes ran ($removed)" test "$removed" -gt 0
e2e_expect_eq "race: every tag that got 201 and was not deleted pulls byte for byte" "$bad" 0
e2e_check "race: tags pulled ($pulled)" test "$pulled" -gt 0
e2e_expect_eq "race: every blob hashes to its name ($blobs blobs)" "$blobs_bad" 0
# every collection read each repository's tags in one gateway request
# (its ?format=tar archive), never one by one
e2e_check "every collection read the tags from the gateway's archive ($GCN collections)" \
    sh -c "[ \$(ls $T/gc-*.out | wc -l) -eq $GCN ] && ! grep -l 'read one by one' $T/gc-*.out"

e2e_finish gc
}

main "$@"
