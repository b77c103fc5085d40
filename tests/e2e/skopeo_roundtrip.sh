#!/usr/bin/env bash
# skopeo_roundtrip.sh: a real client through the whole stack. Each image is
# pushed from a local OCI layout with `skopeo copy oci:... docker://...`,
# copied back into a new layout, and compared: same manifest digest, same
# layer digests, every blob's bytes hash to its name. Images (all built
# here, nothing comes from the internet):
#   small  three layers made with umoci (gzip layers, a real toolchain)
#   seed   tests/e2e/data/seed-hello-layout, written by buildah
#   big    one uncompressed 1 GiB layer of incompressible bytes, generated
#          fast with AES-CTR and cached in $OCI_P2P_CACHE/testdata
# Around the big image it records the workers' peak RSS (VmHWM, reset
# before the push) and how long the final PUT of the 1 GiB blob took
# (nginx's request_time for that PUT), in $E2E_ARTIFACTS/roundtrip.txt.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

BIG_SIZE=${E2E_BIG_SIZE:-1073741824}

# --------------------------------------------------------------- images
rt_build_small() {
    local img=$1 src=$2 i
    umoci init --layout "$img" >/dev/null || return 1
    umoci new --image "$img:v1" >/dev/null || return 1
    for i in 1 2 3; do
        mkdir -p "$src/layer$i/sub"
        printf 'layer %s of the small e2e image\n' "$i" >"$src/layer$i/hello.txt"
        head -c $((i * 200000)) /dev/urandom >"$src/layer$i/sub/random.bin"
        umoci insert --image "$img:v1" "$src/layer$i" "/data$i" >/dev/null || return 1
    done
    umoci config --image "$img:v1" --config.cmd=/data1/hello.txt >/dev/null || return 1
    umoci gc --layout "$img" >/dev/null
}

# rt_big_image: the 1 GiB image's layout (one uncompressed tar layer of
# BIG_SIZE AES-CTR bytes: incompressible, deterministic, ~1 GB/s to
# generate), cached in $OCI_P2P_CACHE/testdata; prints its path.
rt_big_image() {
    local big=$OCI_P2P_CACHE/testdata/big-$BIG_SIZE-v1
    if [ ! -f "$big/index.json" ]; then
        e2e_log "generating the $BIG_SIZE-byte test layer (cached in $big)"
        mkdir -p "$(dirname "$big")"
        e2e_oci_layout "$big" oci-registry-p2p-e2e "$BIG_SIZE" big.bin >/dev/null || return 1
    fi
    printf '%s\n' "$big"
}

# --------------------------------------------------------------- checks
# rt_manifest_digest LAYOUT TAG: the digest index.json gives TAG.
rt_manifest_digest() {
    jq -r --arg t "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' \
        "$1/index.json" | head -n 1
}
rt_blob() { printf '%s/blobs/%s' "$1" "${2/://}"; }
rt_layers() { jq -r '[.config.digest] + [.layers[].digest] | .[]' "$(rt_blob "$1" "$2")"; }
# rt_first_layer LAYOUT: the digest of the first layer of its v1 image.
rt_first_layer() { jq -r '.layers[0].digest' "$(rt_blob "$1" "$(rt_manifest_digest "$1" v1)")"; }

# rt_blobs_intact LAYOUT DIGEST...: every blob file hashes to its name.
rt_blobs_intact() {
    local layout=$1 d alg hex
    shift
    for d in "$@"; do
        alg=${d%%:*} hex=${d#*:}
        [ "$("${alg}sum" "$(rt_blob "$layout" "$d")" | cut -d' ' -f1)" = "$hex" ] || { e2e_log "blob $d is corrupt in $layout"; return 1; }
    done
}

# rt_skopeo NAME WHAT DESCRIPTION ARGS...: skopeo copy -q --preserve-digests
# ARGS (15 minutes at most), its output in roundtrip/NAME-WHAT.log; a
# failure is recorded, with the log's tail.
rt_skopeo() {
    local name=$1 log=$E2E_RUN/roundtrip/$1-$2.log desc=$3
    shift 3
    timeout 900 skopeo copy -q --preserve-digests "$@" >"$log" 2>&1 && return 0
    e2e_fail "$name: skopeo $desc"
    tail -n 15 "$log"
    return 1
}

# rt_roundtrip NAME LAYOUT TAG STACK: push, HEAD, pull back, compare.
rt_roundtrip() {
    local name=$1 layout=$2 tag=$3 stack=$4 port ref back want got head t0 t1 t2 orig_layers back_layers
    port=$(e2e_port "$stack")
    ref="127.0.0.1:$port/e2e/$name:$tag"
    back=$E2E_RUN/roundtrip/$name-back
    rm -rf "$back"
    want=$(rt_manifest_digest "$layout" "$tag")
    t0=$(date +%s.%N)
    # --preserve-digests: skopeo would otherwise gzip uncompressed layers
    # on the way to a registry, and we compare digests end to end.
    rt_skopeo "$name" push "push to $ref" --dest-tls-verify=false "oci:$layout:$tag" "docker://$ref" || return 1
    t1=$(date +%s.%N)
    e2e_ok "$name: pushed $ref in $(rt_secs "$t0" "$t1") s"
    head=$(e2e_head_header Docker-Content-Digest "http://127.0.0.1:$port/v2/e2e/$name/manifests/$tag" \
        -H "Accept: $MT_OCI_MANIFEST" -H "Accept: $MT_DOCKER_MANIFEST")
    e2e_check "$name: registry's Docker-Content-Digest for :$tag is the layout's ($want)" [ "$head" = "$want" ]
    rt_skopeo "$name" pull "pull from $ref" --dest-oci-accept-uncompressed-layers --src-tls-verify=false \
        "docker://$ref" "oci:$back:$tag" || return 1
    t2=$(date +%s.%N)
    e2e_ok "$name: pulled back in $(rt_secs "$t1" "$t2") s"
    got=$(rt_manifest_digest "$back" "$tag")
    e2e_check "$name: manifest digest after the round trip ($got)" [ "$got" = "$want" ]
    orig_layers=$(rt_layers "$layout" "$want" | tr '\n' ' ')
    back_layers=$(rt_layers "$back" "$got" 2>/dev/null | tr '\n' ' ')
    e2e_check "$name: config and layer digests match ($(echo "$orig_layers" | wc -w) blobs)" [ "$orig_layers" = "$back_layers" ]
    # shellcheck disable=SC2086
    e2e_check "$name: every pulled blob hashes to its digest" rt_blobs_intact "$back" $got $back_layers
    rm -rf "$back"
    RT_PUSH_SECS=$(rt_secs "$t0" "$t1")
    RT_PULL_SECS=$(rt_secs "$t1" "$t2")
}

# ------------------------------------------------------------ PUT timing
# rt_put_line STACK DIGEST: the nginx access-log line of the PUT that
# finished DIGEST's upload (clients write the digest raw or %-encoded).
rt_put_line() {
    grep -F '"PUT ' "$E2E_RUN/$1/nginx/access.log" | grep -e "digest=${2/:/%3A}" -e "digest=$2" | tail -n 1
}
# rt_patch_lines STACK PUTLINE: the PATCH lines of that same upload session.
rt_patch_lines() {
    local session
    session=$(sed -n 's|.*"PUT \([^? ]*\).*|\1|p' <<<"$2")
    [ -n "$session" ] && grep -F "\"PATCH $session " "$E2E_RUN/$1/nginx/access.log"
}
rt_between() { [ "$1" -ge "$2" ] && [ "$1" -lt "$3" ]; }
rt_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
rt_field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

main() {
    local stack=default imgs small seed big bigdigest rss putline patchline report
    e2e_ensure_stack "$stack" || { e2e_fail "stack '$stack' did not start"; e2e_finish skopeo_roundtrip; return; }
    imgs=$E2E_RUN/roundtrip
    mkdir -p "$imgs"
    echo "== skopeo round trip (stack $stack, $(e2e_url "$stack"))"

    small=$imgs/small
    if rt_build_small "$small" "$imgs/small-src" >"$imgs/umoci.log" 2>&1; then
        rt_roundtrip small "$small" v1 "$stack"
    else
        e2e_fail "small: building the image with umoci"; tail -n 10 "$imgs/umoci.log"
    fi

    seed=$imgs/seed
    cp -r "$E2E_ROOT/tests/e2e/data/seed-hello-layout" "$seed" && chmod -R u+w "$seed"
    rt_roundtrip seed "$seed" v1 "$stack"

    big=$(rt_big_image) || { e2e_fail "big: generating the image"; e2e_finish skopeo_roundtrip; return; }
    # the peak RSS read afterwards covers the big image only
    e2e_peak_rss_reset "$stack"
    RT_PUSH_SECS=0 RT_PULL_SECS=0
    rt_roundtrip big "$big" v1 "$stack"
    rss=$(e2e_peak_rss "$stack")
    bigdigest=$(rt_first_layer "$big")
    putline=$(rt_put_line "$stack" "$bigdigest")
    patchline=$(rt_patch_lines "$stack" "$putline" | tail -n 1)
    report=$E2E_ARTIFACTS/roundtrip.txt
    {
        echo "1 GiB round trip ($BIG_SIZE-byte layer $bigdigest)"
        printf '  push %.1f s, pull %.1f s\n' "$RT_PUSH_SECS" "$RT_PULL_SECS"
        read -r max n master <<<"$rss"
        printf '  peak RSS (VmHWM) of the workers: max %s KiB over %s workers; master %s KiB\n' "$max" "$n" "$master"
        printf '  final PUT of the blob: request_time %s s, upstream %s s, request length %s bytes\n' \
            "$(rt_field "$putline" rt)" "$(rt_field "$putline" urt)" "$(rt_field "$putline" req_len)"
        printf '  PATCH carrying the body: request_time %s s, request length %s bytes\n' \
            "$(rt_field "$patchline" rt)" "$(rt_field "$patchline" req_len)"
        echo "  nginx lines:"
        echo "    $patchline"
        echo "    $putline"
    } | tee "$report"
    read -r max n master <<<"$rss"
    # The design promises flat memory while a 1 GiB blob goes through: a
    # worker holding the blob would be over 1 GiB; 256 MiB is a loud alarm.
    e2e_check "big: peak worker RSS ${max} KiB stays under 256 MiB" rt_between "${max:-0}" 1 262144
    e2e_check "big: nginx logged the final PUT of the 1 GiB blob" [ -n "$putline" ]
    e2e_finish skopeo_roundtrip
}

# Sourced (tests/e2e/fronts.sh reuses the functions): define only.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
