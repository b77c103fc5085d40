#!/usr/bin/env bash
# layout_push.sh: pushing OCI image layouts under ipns/<own key>/<path>
# (docs/design-layout-push.md), on two real Kubo nodes on loopback:
#
#   node 1: registry A  writeipnskey = reg (K), blob files sent by nginx
#           registry S  writeipnskey = reg2 (K2), allow_sparse (conformance dev)
#   node 2: registry B  no keys: reads ipns/ and ipfs/ layouts only
#
# Checks: the conformance suite (1.1 against A, dev with every toggle
# against S) with OCI_REPO1/OCI_REPO2 under ipns/<key>/...; skopeo pushes
# ipns/K/demo/app:1 and :2 (and a multi-platform index); the manifest PUT
# answers OCI-IPFS-Root; B pulls ipns/K/demo/app:2 (propagation time
# measured) and ipfs/<cid>/demo/app:1; `ipfs get` of the layout on node 2,
# then skopeo and umoci read the folder, digests identical; 8 concurrent
# pushes of different tags into one layout, all 8 in index.json; tag and
# manifest delete edit index.json and prune blobs/; a mount from storage
# mode links the same CID; the status endpoint lists the layouts; layout
# blobs are blob files in files mode; the refusals (other key, ipfs/, no
# write key, reserved and '..' paths), each with code and message.
# Numbers go to $E2E_ARTIFACTS/layout_push.txt.
set -u
E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=conformance.sh
. "$E2E_ROOT/tests/e2e/conformance.sh"
set +o pipefail

SEED=$E2E_ROOT/tests/e2e/data/seed-hello-layout
TOOL=$E2E_ROOT/tests/e2e/layout_tool.py

e2e_init_run
P2P=$(mktemp -d "$E2E_RUN/lpush.XXXX")
REPORT=$E2E_ARTIFACTS/layout_push.txt
: >"$REPORT"
report() { printf '%s\n' "$*" | tee -a "$REPORT"; }
# shellcheck source=p2p_lib.sh
. "$E2E_ROOT/tests/e2e/p2p_lib.sh"

lp_teardown() {
    p2p_stop_nodes lpush
    [ "${E2E_KEEP:-0}" = 1 ] || rm -rf "$P2P"
}

# ---------------------------------------------------------------- helpers
reg() { printf '127.0.0.1:%s' "$(on "$1" e2e_port "$2")"; }
push() {   # push N STACK REF DEST [skopeo args]: oci:<layout>:REF -> docker://<stack>/DEST
    local n=$1 st=$2 src=$3 dest=$4
    shift 4
    timeout 300 skopeo copy -q "$@" --dest-tls-verify=false "oci:$src" "docker://$(reg "$n" "$st")/$dest" \
        >>"$P2P/skopeo.log" 2>&1
}
pull() {   # pull N STACK REPO:TAG DIR: into oci:DIR:x
    rm -rf "$4"
    timeout 300 skopeo copy -q --src-tls-verify=false "docker://$(reg "$1" "$2")/$3" "oci:$4:x" >>"$P2P/skopeo.log" 2>&1
}
mdigest() {   # mdigest N STACK REPO REF: the manifest digest the stack serves
    e2e_head_header Docker-Content-Digest "http://$(reg "$1" "$2")/v2/$3/manifests/$4" \
        -H "Accept: $MT_OCI_MANIFEST" -H "Accept: $MT_OCI_INDEX"
}
serves() { [ "$(mdigest "$@")" != "" ]; }
# index_json N MFSPATH: the index.json node N has there (MFS)
index_json() { nipfs "$1" files read "$2/index.json"; }
tags_in_index() { index_json "$1" "$2" | jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"] // empty] | sort | join(" ")'; }
# err_is CODE MESSAGE-SUBSTRING FILE: an OCI error body with that code and words
err_is() { jq -e --arg c "$1" --arg m "$2" '.errors[0].code == $c and (.errors[0].message | contains($m))' "$3" >/dev/null; }
now() { date +%s.%N; }
stats() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "median %.2f s, min %.2f s, max %.2f s (n=%d)", m, a[1], a[NR], NR}'; }

# refuse WHAT METHOD URL CODE STATUS WORDS: a write that must be refused
# with that status, OCI code and words in its message
refuse() {
    local what=$1 method=$2 url=$3 code=$4 status=$5 words=$6 got msg
    got=$(curl -s --path-as-is -o "$P2P/refusal.json" -w '%{http_code}' -X "$method" "$url")
    msg=$(jq -r '.errors[0].code + ": " + .errors[0].message' "$P2P/refusal.json" 2>/dev/null)
    e2e_expect_eq "refused: $what: status" "$got" "$status"
    # shellcheck disable=SC2016 # jq's own variables
    e2e_check "refused: $what: $code saying '$words' ($msg)" \
        jq -e --arg c "$code" --arg m "$words" '.errors[0].code == $c and (.errors[0].message | contains($m))' "$P2P/refusal.json" >/dev/null
}
key_known() { [ "$(curl -sf "http://$(reg 1 "$1")/v2/_p2p/status" | jq -r .publisher.key_id)" = "$2" ]; }
not() { ! "$@"; }
code_of() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
has_file() { nipfs 1 files stat "$1" >/dev/null 2>&1; }

# ------------------------------------------------------------------ main
main() {
    local K K2 A t0 t1 d1 d2 root cid i pids=() got want cfg2
    e2e_prepare || { e2e_fail "prepare"; return; }
    [ -n "${CONFORMANCE_BIN:-}" ] || deps_conformance || { e2e_fail "no conformance binary"; return; }
    trap lp_teardown EXIT
    trap 'exit 130' INT TERM
    if ! { p2p_node 1 && p2p_node 2; }; then e2e_fail "two Kubo nodes did not start"; return; fi
    e2e_check "node 2 connects to node 1 over loopback (swarm connect)" p2p_connect
    if ! { K=$(nipfs 1 key gen --type=ed25519 reg) && K2=$(nipfs 1 key gen --type=ed25519 reg2); }; then
        e2e_fail "key gen"
        return
    fi
    report "write keys: K = $K (A), K2 = $K2 (S)"
    # ipns_ttl 1s: node 2's Kubo caches the record at most that long (the
    # default, 1m, bounds how stale another registry's view may be)
    on 1 e2e_start_stack A "writeipnskey = \"reg\";" 'ipns_ttl = "1s";' \
        "blobdir = \"$P2P/n1/kubo/blobs-A\";" 'blobfile_accel_redirect = "/_oci_p2p_file/";' || { e2e_fail "registry A"; return; }
    on 1 e2e_start_stack S "writeipnskey = \"reg2\";" 'allow_sparse = true;' || { e2e_fail "registry S"; return; }
    on 2 e2e_start_stack B 'layout_ipns_ttl = 1;' || { e2e_fail "registry B"; return; }
    e2e_wait_for 30 "A's publisher knows its key ID" key_known A "$K" || e2e_fail "A's publisher did not report its key"

    # --- skopeo push by key ID and by keystore name; the layout in MFS
    A=$(e2e_mfsroot A)
    cp -r "$SEED" "$P2P/src"
    chmod -R u+w "$P2P/src"
    python3 "$TOOL" variant "$P2P/src" v1 v2 "second" >/dev/null || { e2e_fail "variant image"; return; }
    e2e_check "skopeo pushes ipns/<K>/demo/app:1" push 1 A "$P2P/src:v1" "ipns/$K/demo/app:1"
    e2e_check "skopeo pushes ipns/reg/demo/app:2 (the keystore name: the same layout)" push 1 A "$P2P/src:v2" "ipns/reg/demo/app:2"
    # what skopeo pushed (it may rewrite the manifest: compare with the registry's answer)
    d1=$(skopeo inspect --raw --tls-verify=false "docker://$(reg 1 A)/ipns/$K/demo/app:1" | sha256sum | cut -c1-64)
    d2=$(skopeo inspect --raw --tls-verify=false "docker://$(reg 1 A)/ipns/$K/demo/app:2" | sha256sum | cut -c1-64)
    d1=sha256:$d1 d2=sha256:$d2
    e2e_expect_eq "A serves ipns/<K>/demo/app:1 at once (no IPNS between)" "$(mdigest 1 A "ipns/$K/demo/app" 1)" "$d1"
    e2e_expect_eq "A serves ipns/<K>/demo/app:2 at once" "$(mdigest 1 A "ipns/$K/demo/app" 2)" "$d2"
    e2e_expect_eq "MFS <mfsroot>/demo/app/oci-layout is the layout marker" \
        "$(nipfs 1 files read "$A/demo/app/oci-layout" | jq -r .imageLayoutVersion)" "1.0.0"
    e2e_expect_eq "MFS <mfsroot>/demo/app/index.json names tags 1 and 2" "$(tags_in_index 1 "$A/demo/app")" "1 2"
    got=$(index_json 1 "$A/demo/app" | jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "2") | .digest')
    e2e_expect_eq "index.json's descriptor of tag 2 is the pushed manifest" "$got" "$d2"

    # --- the manifest PUT says where it lives
    curl -sf -H "Accept: $MT_OCI_MANIFEST" "http://$(reg 1 A)/v2/ipns/$K/demo/app/manifests/1" -o "$P2P/m1.json"
    curl -s -D "$P2P/put.h" -o /dev/null -X PUT -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$P2P/m1.json" \
        "http://$(reg 1 A)/v2/ipns/$K/demo/app/manifests/one"
    root=$(tr -d '\r' <"$P2P/put.h" | sed -n 's/^OCI-IPFS-Root: //Ip')
    cid=$(echo "$root" | cut -d/ -f3)
    e2e_expect_eq "manifest PUT answers OCI-IPFS-Root: /ipfs/<cid>/demo/app" "$root" "/ipfs/$cid/demo/app"
    e2e_expect_eq "that root holds the push: its index.json tags 1, 2, one" \
        "$(nipfs 1 cat "$root/index.json" | jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"] // empty] | sort | join(" ")')" "1 2 one"
    got=$(curl -sf "http://$(reg 1 A)/v2/_p2p/status" | jq -r '.layouts[] | select(.path == "demo/app") | .root')
    e2e_expect_eq "status lists layout demo/app with the root of its last write" "$got" "$cid"
    got=$(curl -sf "http://$(reg 1 A)/v2/_catalog" | jq -r --arg r "ipns/$K/demo/app" '.repositories | index($r) != null')
    e2e_expect_eq "the catalog lists ipns/<K>/demo/app" "$got" true

    # --- blob files: a layout layer is a file nginx sends
    want=$(curl -sf -H "Accept: $MT_OCI_MANIFEST" "http://$(reg 1 A)/v2/ipns/$K/demo/app/manifests/1" | jq -r '.layers[-1].digest')
    e2e_check "a layout layer is a blob file in files mode (blobdir)" test -f "$P2P/n1/kubo/blobs-A/sha256/${want:7:2}/${want#sha256:}"
    e2e_expect_eq "its GET through A hashes to its digest" \
        "sha256:$(curl -sf "http://$(reg 1 A)/v2/ipns/$K/demo/app/blobs/$want" | sha256sum | cut -c1-64)" "$want"

    # --- another node: B by key (after publish) and by CID
    curl -sf -H "Accept: $MT_OCI_MANIFEST" "http://$(reg 1 A)/v2/ipns/$K/demo/app/manifests/1" -o "$P2P/m1.json"
    e2e_wait_for 120 "B serves ipns/<K>/demo/app:2" serves 2 B "ipns/$K/demo/app" 2 || e2e_fail "B never served ipns/<K>/demo/app:2"
    # propagation: a tag pushed to A (a manifest PUT), until B serves it by key
    for i in 1 2 3; do
        [ "$(e2e_manifest_put "http://$(reg 1 A)" "ipns/$K/demo/app" "p$i" "$P2P/m1.json")" = 201 ] || e2e_fail "PUT tag p$i"
        t0=$(now)
        e2e_wait_for 120 "B serves ipns/<K>/demo/app:p$i" serves 2 B "ipns/$K/demo/app" "p$i" || e2e_fail "B never served tag p$i"
        t1=$(now)
        echo "$t1 - $t0" | bc >>"$P2P/propagation"
    done
    report "propagation to node 2 (tag PUT to A answered -> B serves ipns/<K>/demo/app:<tag>; ipns_ttl 1s, layout_ipns_ttl 1): $(stats <"$P2P/propagation")"
    e2e_check "B pulls ipns/<K>/demo/app:2 with skopeo" pull 2 B "ipns/$K/demo/app:2" "$P2P/b2"
    e2e_check "B pulls ipfs/<cid>/demo/app:1 with skopeo" pull 2 B "ipfs/$cid/demo/app:1" "$P2P/b1"
    e2e_expect_eq "B served ipns/<K>/demo/app:2 as pushed" "$(jq -r '.manifests[0].digest' "$P2P/b2/index.json")" "$d2"
    e2e_expect_eq "B served ipfs/<cid>/demo/app:1 as pushed" "$(jq -r '.manifests[0].digest' "$P2P/b1/index.json")" "$d1"
    rm -rf "$P2P/got" "$P2P/fromdir"
    e2e_check "ipfs get /ipfs/<cid>/demo/app on node 2" nipfs 2 get -o "$P2P/got" "/ipfs/$cid/demo/app"
    skopeo copy -q "oci:$P2P/got:1" "oci:$P2P/fromdir:x" >>"$P2P/skopeo.log" 2>&1
    e2e_expect_eq "skopeo copies oci:<folder>:1 with the pushed digest" "$(jq -r '.manifests[0].digest' "$P2P/fromdir/index.json" 2>/dev/null)" "$d1"
    e2e_expect_eq "umoci lists the folder's tags" "$(umoci ls --layout "$P2P/got" 2>&1 | sort | tr '\n' ' ')" "1 2 one "

    # --- a multi-platform index and its children
    python3 "$TOOL" variant "$P2P/src" v1 v3 "third" >/dev/null
    python3 "$TOOL" index "$P2P/src" multi v1 v3
    e2e_check "skopeo pushes an image index with its children (--all) to ipns/<K>/demo/multi:1" \
        push 1 A "$P2P/src:multi" "ipns/$K/demo/multi:1" --all
    e2e_expect_eq "its index.json holds the index (tagged) and its two children (untagged)" \
        "$(index_json 1 "$A/demo/multi" | jq -r '[.manifests[] | .annotations["org.opencontainers.image.ref.name"] // "-"] | sort | join(" ")')" "- - 1"

    # --- 8 concurrent pushes of different tags into one layout
    for i in 1 2 3 4 5 6 7 8; do
        push 1 A "$P2P/src:v2" "ipns/$K/demo/many:t$i" &
        pids+=($!)
    done
    got=0
    for i in "${pids[@]}"; do wait "$i" || got=$((got + 1)); done
    e2e_expect_eq "8 concurrent skopeo pushes to ipns/<K>/demo/many:t1..t8: failures" "$got" 0
    e2e_expect_eq "all 8 tags are in index.json" "$(tags_in_index 1 "$A/demo/many")" "t1 t2 t3 t4 t5 t6 t7 t8"

    # --- deletes: a tag, then a manifest (its blobs that nothing else uses leave blobs/)
    e2e_expect_eq "DELETE tag ipns/<K>/demo/app:one" "$(code_of -X DELETE "http://$(reg 1 A)/v2/ipns/$K/demo/app/manifests/one")" 202
    e2e_expect_eq "tag 'one' left index.json; the others stay" "$(tags_in_index 1 "$A/demo/app")" "1 2 p1 p2 p3"
    cfg2=$(curl -sf -H "Accept: $MT_OCI_MANIFEST" "http://$(reg 1 A)/v2/ipns/$K/demo/app/manifests/2" | jq -r .config.digest)
    e2e_expect_eq "DELETE manifest of tag 2" "$(code_of -X DELETE "http://$(reg 1 A)/v2/ipns/$K/demo/app/manifests/$d2")" 202
    e2e_expect_eq "its entry left index.json" "$(tags_in_index 1 "$A/demo/app")" "1 p1 p2 p3"
    e2e_check "its manifest left blobs/" not has_file "$A/demo/app/blobs/sha256/${d2#sha256:}"
    e2e_check "its config (used by nothing else) left blobs/" not has_file "$A/demo/app/blobs/sha256/${cfg2#sha256:}"
    e2e_check "the layer tag 1 shares stayed" has_file "$A/demo/app/blobs/sha256/${want#sha256:}"
    e2e_expect_eq "tags/list" "$(curl -sf "http://$(reg 1 A)/v2/ipns/$K/demo/app/tags/list" | jq -c '.tags | sort')" '["1","p1","p2","p3"]'

    # --- a mount from storage mode: the same CID, no upload
    push 1 A "$P2P/src:v2" "plain/hello:1" || e2e_fail "push to storage mode (plain/hello:1, sharing its layers with demo/app:1)"
    e2e_expect_eq "mount of a layer from storage mode into ipns/<K>/mounted" \
        "$(code_of -X POST "http://$(reg 1 A)/v2/ipns/$K/mounted/blobs/uploads/?mount=$want&from=plain/hello")" 201
    e2e_expect_eq "the layout's blob is the storage blob's CID" \
        "$(nipfs 1 files stat --hash "$A/mounted/blobs/sha256/${want#sha256:}")" "$(nipfs 1 files stat --hash "$(e2e_mfs_blob_path A "$want")")"

    # --- refusals
    local other
    other=$(nipfs 1 key gen --type=ed25519 other)
    refuse "a push to ipns/<another key>/x" POST "http://$(reg 1 A)/v2/ipns/$other/x/blobs/uploads/" UNSUPPORTED 405 "push under ipns/$K/"
    refuse "a push to ipfs/<cid>/demo/app" POST "http://$(reg 1 A)/v2/ipfs/$cid/demo/app/blobs/uploads/" UNSUPPORTED 405 "push under ipns/$K/"
    refuse "a push to ipns/<K>/docker/x (storage mode's tree)" POST "http://$(reg 1 A)/v2/ipns/$K/docker/x/blobs/uploads/" NAME_INVALID 400 "'docker' is reserved"
    refuse "a push to ipns/<K>/a/blobs/x (a layout's own name)" POST "http://$(reg 1 A)/v2/ipns/$K/a/blobs/x/blobs/uploads/" NAME_INVALID 400 "a layout's own names"
    refuse "a push to ipns/<K> (no path)" POST "http://$(reg 1 A)/v2/ipns/$K/blobs/uploads/" NAME_INVALID 400 "a path is needed"
    refuse "a push to ipns/<K>/%2e%2e/x (an encoded '..')" POST "http://$(reg 1 A)/v2/ipns/$K/%2e%2e/x/blobs/uploads/" NAME_INVALID 400 "invalid repository name"
    refuse "a push to ipns/<K>/../x" POST "http://$(reg 1 A)/v2/ipns/$K/../x/blobs/uploads/" NAME_INVALID 400 "invalid repository name"
    refuse "a push to a registry without writeipnskey (B)" POST "http://$(reg 2 B)/v2/ipns/$K/x/blobs/uploads/" UNSUPPORTED 405 "writeipnskey"

    # --- the conformance suite under ipns/<key>/...
    on 1 conf_run push-1.1 A 1.1 "OCI_REPO1=ipns/$K/conformance-1.1/repo1" "OCI_REPO2=ipns/$K/conformance-1.1/repo2"
    local all_on=() t
    for t in $CONF_ALL_TOGGLES; do all_on+=("$t=true"); done
    on 1 conf_run push-dev S dev "${all_on[@]}" "OCI_REPO1=ipns/$K2/conformance-dev/repo1" "OCI_REPO2=ipns/$K2/conformance-dev/repo2"
    report "conformance under ipns/<key>/: 1.1 $(cat "$E2E_ARTIFACTS/conformance-push-1.1/counts" 2>/dev/null) / dev $(cat "$E2E_ARTIFACTS/conformance-push-dev/counts" 2>/dev/null) (tests failed errors skipped disabled)"
}

main
e2e_finish layout_push | tee -a "$REPORT"
