#!/usr/bin/env bash
# clients.sh: the registry clients other than skopeo that users point at us,
# pinned in scripts/deps.sh (deps_clients): crane (go-containerregistry),
# oras and regctl (regclient), through nginx against the "default" stack,
# and pulls of the same images from the read-only "layout" stack.
#   crane   append (also a streamed layer), mutate, tag, ls, catalog, digest,
#           manifest, config, blob, export, pull --format oci, copy (blobs
#           mounted across repositories), an index of two platforms
#           (index append, digest --platform, index filter), delete by tag
#           and by digest
#   oras    push of arbitrary files with artifactType and annotations, pull,
#           attach and discover (the referrers API, and its artifactType
#           filter), tag, resolve, blob push/fetch/delete, copy -r,
#           manifest fetch/delete; parallel pushes (--concurrency, and three
#           clients into one repository at once)
#   regctl  tag ls/rm, manifest head, image copy --referrers, artifact
#           list with a filter, index create, blob put/get/head/delete, a
#           chunked blob push (--blob-chunk), image copy to an OCI layout
#           that the layout stack then serves to all three clients
#   HTTP    what the clients rely on and skopeo never exercises: a resumed
#           upload (PATCH out of order: 416 with Range, then the right one),
#           Range on blobs, JSON error bodies, Docker-Content-Digest,
#           OCI-Subject on a manifest PUT with a subject, and eight parallel
#           uploads into a new repository, every blob linked afterwards
# Every client call runs under `timeout`; every loop has a fixed count.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

STACK=default
T=""     # scratch dir
R=""     # host:port of the default stack, as clients name it
L=""     # host:port of the layout stack
LOG=""   # nginx access log of the default stack

crane() { timeout 60 "$CRANE_BIN" --insecure "$@"; }
oras() { timeout 60 "$ORAS_BIN" "$@"; }
regctl() { REGCTL_CONFIG=$T/regctl.json timeout 60 "$REGCTL_BIN" "$@"; }
P=--plain-http

# code METHOD PATH [curl args...]: the status of one request to the
# default stack (e2e_http; the answer is in $T, E2E_HTTP_DIR).
code() {
    local m=$1 p=$2
    shift 2
    e2e_http "$m" "http://$R$p" "$@"
}
quiet() { "$@" >/dev/null 2>&1; }

# ------------------------------------------------------------------ crane
t_crane() {
    echo "-- crane $("$CRANE_BIN" version 2>/dev/null)"
    local img=$R/cl/crane d1 d2 layer got
    mkdir -p "$T/src1" "$T/src2"
    echo "hello from crane" >"$T/src1/hello.txt"
    tar -C "$T/src1" -cf "$T/layer1.tar" hello.txt
    crane append -f "$T/layer1.tar" -t "$img:v1" >/dev/null 2>&1 || e2e_fail "crane append"
    d1=$(crane digest "$img:v1")
    e2e_expect_eq "crane append, then digest = sha256 of the manifest crane reads" \
        "$(crane manifest "$img:v1" | e2e_digest)" "$d1"
    crane mutate --label org.example=yes --env FOO=bar -t "$img:v2" "$img:v1" >/dev/null 2>&1 || e2e_fail "crane mutate"
    e2e_expect_eq "crane mutate: label in the pushed config" "$(crane config "$img:v2" | jq -r '.config.Labels["org.example"]')" yes
    d2=$(crane digest "$img:v2")
    crane tag "$img:v2" v2b 2>/dev/null || e2e_fail "crane tag"
    e2e_expect_lines "crane ls lists v1 v2 v2b" "$(crane ls "$img")" v1 v2 v2b
    got=$(crane export "$img:v1" - | tar -xO hello.txt)
    e2e_expect_eq "crane export: the file comes back" "$got" "hello from crane"
    layer=$(crane manifest "$img:v1" | jq -r '.layers[0].digest')
    e2e_expect_eq "crane blob: bytes hash to the layer digest" "sha256:$(crane blob "$img@$layer" | e2e_sha256)" "$layer"
    rm -rf "$T/oci" && crane pull --format oci "$img:v2" "$T/oci" 2>/dev/null
    e2e_expect_eq "crane pull --format oci: the layout holds v2's manifest" "$(jq -r '.manifests[0].digest' "$T/oci/index.json" 2>/dev/null)" "$d2"

    # streamed layer (size unknown: chunked PATCH without Content-Range)
    head -c 300000 /dev/urandom >"$T/src2/r.bin"
    tar -C "$T/src2" -cf - r.bin | crane append -f - -b "$img:v1" -t "$img:stream" >/dev/null 2>&1 || e2e_fail "crane append -f -"
    e2e_check "crane validate --remote of the image with a streamed layer" quiet crane validate --remote "$img:stream"

    crane copy "$img:v2" "$R/cl/crane-copy:v2" >/dev/null 2>&1 || e2e_fail "crane copy"
    e2e_expect_eq "crane copy: same digest in the other repository" "$(crane digest "$R/cl/crane-copy:v2")" "$d2"
    e2e_check "crane copy mounted the blobs (POST ?mount=&from= answered 201)" \
        grep -q '"POST /v2/cl/crane-copy/blobs/uploads/?from=cl%2Fcrane&mount=[^ ]* HTTP/1.1" 201 ' "$LOG"
    e2e_expect_lines "crane catalog lists both repositories" "$(crane catalog "$R")" cl/crane cl/crane-copy

    crane delete "$img:v2b" || e2e_fail "crane delete by tag"
    got=$(crane ls "$img")
    e2e_expect_no_line "crane delete by tag: v2b gone" "$got" v2b
    e2e_expect_lines "crane delete by tag: v2 (same manifest) stays" "$got" v2
    crane delete "$R/cl/crane-copy@$d2" || e2e_fail "crane delete by digest"
    e2e_expect_eq "crane delete by digest: manifest GET is MANIFEST_UNKNOWN" \
        "$(code GET "/v2/cl/crane-copy/manifests/$d2")/$(e2e_errcode)" 404/MANIFEST_UNKNOWN
    e2e_expect_no_line "crane delete by digest: its tag is gone too" "$(crane ls "$R/cl/crane-copy")" v2

    echo "-- multi-platform index"
    local amd arm idx
    crane mutate --set-platform linux/amd64 -t "$R/cl/multi:amd64" "$img:v1" >/dev/null 2>&1
    crane mutate --set-platform linux/arm64 -t "$R/cl/multi:arm64" "$img:v1" >/dev/null 2>&1
    amd=$(crane digest "$R/cl/multi:amd64") arm=$(crane digest "$R/cl/multi:arm64")
    crane index append -m "$R/cl/multi:amd64" -m "$R/cl/multi:arm64" -t "$R/cl/multi:all" >/dev/null 2>&1 ||
        e2e_fail "crane index append"
    e2e_expect_eq "crane digest --platform linux/arm64 picks the arm64 image from the index" \
        "$(crane digest --platform linux/arm64 "$R/cl/multi:all")" "$arm"
    crane index filter --platform linux/amd64 -t "$R/cl/multi:amd-only" "$R/cl/multi:all" >/dev/null 2>&1
    e2e_expect_eq "crane index filter: one manifest left, the amd64 one" \
        "$(crane manifest "$R/cl/multi:amd-only" | jq -r '[.manifests[].digest] | join(",")')" "$amd"
    idx=$(crane digest "$R/cl/multi:all")
    regctl image copy "$R/cl/multi:all" "$R/cl/multi-copy:all" >/dev/null 2>&1 || e2e_fail "regctl image copy of the index"
    e2e_expect_eq "regctl image copy of the index: same digest" "$(regctl image digest "$R/cl/multi-copy:all")" "$idx"
    e2e_expect_eq "regctl index create: both platforms" \
        "$(regctl index create "$R/cl/multi:rg" --ref "$R/cl/multi:amd64" --ref "$R/cl/multi:arm64" >/dev/null 2>&1;
            regctl manifest get "$R/cl/multi:rg" --format raw-body | jq -r '[.manifests[].platform.architecture] | join(",")')" \
        amd64,arm64
    CRANE_V1=$d1
}

# ------------------------------------------------------------------- oras
t_oras() {
    echo "-- oras $("$ORAS_BIN" version 2>/dev/null | sed -n 's/^Version: *//p')"
    local img=$R/cl/oras subj m out
    mkdir -p "$T/o" && cd "$T/o" || return
    head -c 300000 /dev/urandom >data.bin
    echo "read me" >readme.txt
    echo sig >sig.txt
    echo '{"sbom":true}' >sbom.json
    oras push $P "$img:v1" --artifact-type application/vnd.example.thing --annotation org.example.k=v \
        data.bin:application/octet-stream readme.txt >/dev/null 2>&1 || e2e_fail "oras push"
    m=$(oras manifest fetch $P "$img:v1")
    e2e_expect_eq "oras push: artifactType and annotation in the stored manifest" \
        "$(jq -r '.artifactType + " " + .annotations["org.example.k"]' <<<"$m")" "application/vnd.example.thing v"
    subj=$(oras resolve $P "$img:v1")
    e2e_expect_eq "oras resolve = sha256 of the fetched manifest" "$(printf '%s' "$m" | e2e_digest)" "$subj"
    rm -rf pull && oras pull $P -o pull "$img:v1" >/dev/null 2>&1
    e2e_check "oras pull: both files byte for byte" sh -c 'cmp -s pull/data.bin data.bin && cmp -s pull/readme.txt readme.txt'

    oras attach $P --artifact-type application/vnd.example.sig --annotation x=y "$img:v1" sig.txt >/dev/null 2>&1 ||
        e2e_fail "oras attach sig"
    oras attach $P --artifact-type application/vnd.example.sbom "$img:v1" sbom.json >/dev/null 2>&1 ||
        e2e_fail "oras attach sbom"
    out=$(oras discover $P --format json "$img:v1" | jq -r '.referrers[].artifactType' | sort)
    e2e_expect_eq "oras discover: both referrers" "$(tr '\n' ' ' <<<"$out")" "application/vnd.example.sbom application/vnd.example.sig "
    out=$(oras discover $P --format json --artifact-type application/vnd.example.sbom "$img:v1" | jq -r '.referrers[].artifactType')
    e2e_expect_eq "oras discover --artifact-type: only the sbom" "$out" application/vnd.example.sbom
    code GET "/v2/cl/oras/referrers/$subj?artifactType=application/vnd.example.sig" >/dev/null
    e2e_expect_eq "referrers?artifactType= says OCI-Filters-Applied" "$(e2e_header OCI-Filters-Applied)" artifactType

    oras tag $P "$img:v1" v1a v1b >/dev/null 2>&1 || e2e_fail "oras tag"
    e2e_expect_lines "oras repo tags lists v1 v1a v1b" "$(oras repo tags $P "$img")" v1 v1a v1b
    e2e_expect_eq "oras manifest fetch --descriptor: digest" "$(oras manifest fetch $P --descriptor "$img:v1a" | jq -r .digest)" "$subj"
    local bd
    bd=$(jq -r '.layers[] | select(.annotations["org.opencontainers.image.title"] == "data.bin") | .digest' <<<"$m")
    e2e_expect_eq "oras blob fetch: the layer's bytes" "sha256:$(oras blob fetch $P --output - "$img@$bd" | e2e_sha256)" "$(e2e_digest data.bin)"
    head -c 100000 /dev/urandom >b.bin
    bd=$(e2e_digest b.bin)
    oras blob push $P "$R/cl/oras-blobs" b.bin >/dev/null 2>&1 || e2e_fail "oras blob push"
    e2e_expect_eq "oras blob push, then HEAD" "$(code HEAD "/v2/cl/oras-blobs/blobs/$bd")" 200
    oras blob delete $P --force "$R/cl/oras-blobs@$bd" >/dev/null 2>&1 || e2e_fail "oras blob delete"
    e2e_expect_eq "oras blob delete: HEAD is 404" "$(code HEAD "/v2/cl/oras-blobs/blobs/$bd")" 404

    oras copy --from-plain-http --to-plain-http -r "$img:v1" "$R/cl/oras-copy:v1" >/dev/null 2>&1 || e2e_fail "oras copy -r"
    e2e_expect_eq "oras copy -r: both referrers in the new repository" \
        "$(oras discover $P --format json "$R/cl/oras-copy:v1" | jq '.referrers | length')" 2
    ORAS_SUBJECT=$subj
    cd "$T" || return
}

# --------------------------------------------------------------- regctl
t_regctl() {
    echo "-- regctl $("$REGCTL_BIN" version --format '{{.VCSTag}}' 2>/dev/null)"
    local out b d
    e2e_expect_lines "regctl tag ls" "$(regctl tag ls "$R/cl/crane")" v1 v2
    e2e_expect_eq "regctl manifest head: the digest crane saw" "$(regctl manifest head "$R/cl/crane:v1")" "$CRANE_V1"

    regctl image copy --referrers "$R/cl/oras:v1" "$R/cl/regctl-copy:v1" >/dev/null 2>&1 || e2e_fail "regctl image copy --referrers"
    out=$(regctl artifact list "$R/cl/regctl-copy:v1" --format '{{range .Descriptors}}{{println .ArtifactType}}{{end}}' | sort)
    e2e_expect_eq "regctl image copy --referrers: referrers listed in the copy" "$(tr '\n' ' ' <<<"$out")" \
        "application/vnd.example.sbom application/vnd.example.sig "
    out=$(regctl artifact list --filter-artifact-type application/vnd.example.sig "$R/cl/regctl-copy:v1" \
        --format '{{range .Descriptors}}{{println .ArtifactType}}{{end}}')
    e2e_expect_eq "regctl artifact list --filter-artifact-type" "$out" application/vnd.example.sig

    head -c 3000000 /dev/urandom >"$T/blob.bin"
    d=$(e2e_digest "$T/blob.bin")
    e2e_expect_eq "regctl blob put: digest" "$(regctl blob put "$R/cl/regctl-blob" <"$T/blob.bin")" "$d"
    e2e_expect_eq "regctl blob get: bytes" "sha256:$(regctl blob get "$R/cl/regctl-blob" "$d" | e2e_sha256)" "$d"
    out=$(regctl blob head "$R/cl/regctl-blob" "$d" | tr -d '\r')
    e2e_check "regctl blob head: Docker-Content-Digest and Content-Length" \
        grep -qx "Docker-Content-Digest: $d" <<<"$out"
    regctl blob delete "$R/cl/regctl-blob" "$d" || e2e_fail "regctl blob delete"
    e2e_expect_eq "regctl blob delete: HEAD is 404" "$(code HEAD "/v2/cl/regctl-blob/blobs/$d")" 404

    # chunked: 1 MiB PATCHes for anything over 1 MiB
    regctl registry set --tls disabled --blob-chunk 1048576 --blob-max 1048576 "$R"
    head -c 2500000 /dev/urandom >"$T/blob2.bin"
    d=$(e2e_digest "$T/blob2.bin")
    e2e_expect_eq "regctl chunked blob put: digest" "$(regctl blob put "$R/cl/regctl-chunked" <"$T/blob2.bin")" "$d"
    b=$(grep -c '"PATCH /v2/cl/regctl-chunked/blobs/uploads/[^ ]* HTTP/1.1" 202 ' "$LOG")
    e2e_expect_eq "regctl chunked blob put: 3 PATCHes of at most 1 MiB" "$b" 3
    e2e_expect_eq "regctl chunked blob put: bytes back" "sha256:$(regctl blob get "$R/cl/regctl-chunked" "$d" | e2e_sha256)" "$d"
    regctl registry set --tls disabled --blob-chunk 0 --blob-max 0 "$R" 2>/dev/null

    regctl image copy "$R/cl/crane:v1" "$R/cl/regctl-tags:a" >/dev/null 2>&1
    regctl image copy "$R/cl/crane:v1" "$R/cl/regctl-tags:b" >/dev/null 2>&1
    regctl tag rm "$R/cl/regctl-tags:a" || e2e_fail "regctl tag rm"
    out=$(regctl tag ls "$R/cl/regctl-tags")
    e2e_expect_no_line "regctl tag rm: a gone" "$out" a
    e2e_expect_lines "regctl tag rm: b (same manifest) stays" "$out" b
}

# -------------------------------------------------------------- deletes
t_deletes() {
    echo "-- oras manifest delete"
    oras manifest delete $P --force "$R/cl/oras:v1b" >/dev/null 2>&1 || e2e_fail "oras manifest delete"
    e2e_expect_eq "oras manifest delete (by tag): the manifest is gone" "$(code GET "/v2/cl/oras/manifests/$ORAS_SUBJECT")" 404
    e2e_expect_eq "... and with it every tag" "$(oras repo tags $P "$R/cl/oras" | wc -l)" 0
}

# ----------------------------------------------------------------- HTTP
t_http() {
    echo "-- HTTP details"
    local loc d
    head -c 2000 /dev/urandom >"$T/u.bin"
    head -c 1000 "$T/u.bin" >"$T/u1"
    tail -c 1000 "$T/u.bin" >"$T/u2"
    d=$(e2e_digest "$T/u.bin")
    code POST /v2/cl/http/blobs/uploads/ >/dev/null
    loc=$(e2e_header Location)
    code PATCH "$loc" -H 'Content-Range: 0-999' -H 'Content-Type: application/octet-stream' --data-binary "@$T/u1" >/dev/null
    e2e_expect_eq "PATCH 0-999: Range" "$(e2e_header Range)" 0-999
    e2e_expect_eq "GET on the session (resume point)" "$(code GET "$loc") $(e2e_header Range)" "204 0-999"
    e2e_expect_eq "PATCH out of order: 416, RANGE_INVALID, Range still 0-999" \
        "$(code PATCH "$loc" -H 'Content-Range: 500-1499' --data-binary "@$T/u2") $(e2e_errcode) $(e2e_header Range)" \
        "416 RANGE_INVALID 0-999"
    e2e_expect_eq "PATCH 1000-1999 resumes" "$(code PATCH "$loc" -H 'Content-Range: 1000-1999' --data-binary "@$T/u2") $(e2e_header Range)" "202 0-1999"
    e2e_expect_eq "PUT ?digest= completes with Docker-Content-Digest" "$(code PUT "$loc?digest=$d") $(e2e_header Docker-Content-Digest)" "201 $d"
    e2e_expect_eq "Range: bytes=10-19 on the blob: 206, Content-Range, the bytes" \
        "$(code GET "/v2/cl/http/blobs/$d" -H 'Range: bytes=10-19') $(e2e_header Content-Range) $(e2e_sha256 "$T/body")" \
        "206 bytes 10-19/2000 $(tail -c +11 "$T/u.bin" | head -c 10 | e2e_sha256)"
    e2e_expect_eq "missing blob: 404 JSON BLOB_UNKNOWN" \
        "$(code GET "/v2/cl/http/blobs/sha256:$(printf '%064d' 0)") $(e2e_header Content-Type) $(e2e_errcode)" \
        "404 application/json BLOB_UNKNOWN"
    e2e_expect_eq "unknown repository: 404 JSON NAME_UNKNOWN" \
        "$(code GET /v2/cl/nope/tags/list) $(e2e_errcode)" "404 NAME_UNKNOWN"
    e2e_expect_eq "manifest HEAD: Docker-Content-Digest" "$(code HEAD /v2/cl/crane/manifests/v1) $(e2e_header Docker-Content-Digest)" "200 $CRANE_V1"

    # a referrer pushed by hand: OCI-Subject in the answer
    local empty=$E2E_EMPTY_DIGEST ref rd
    printf '{}' >"$T/empty"
    code POST "/v2/cl/crane/blobs/uploads/?digest=$empty" --data-binary "@$T/empty" >/dev/null
    ref=$T/ref.json
    printf '{"schemaVersion":2,"mediaType":"%s","artifactType":"application/vnd.example.http","config":{"mediaType":"%s","digest":"%s","size":2},"layers":[{"mediaType":"%s","digest":"%s","size":2}],"subject":{"mediaType":"%s","digest":"%s","size":%s}}' \
        "$MT_OCI_MANIFEST" "$MT_OCI_EMPTY" "$empty" "$MT_OCI_EMPTY" "$empty" "$MT_DOCKER_MANIFEST" "$CRANE_V1" \
        "$(crane manifest "$R/cl/crane:v1" | wc -c)" >"$ref"
    rd=$(e2e_digest "$ref")
    e2e_expect_eq "manifest PUT with a subject: 201 and OCI-Subject" \
        "$(e2e_manifest_put "http://$R" cl/crane "$rd" "$ref") $(e2e_header OCI-Subject)" \
        "201 $CRANE_V1"
    e2e_expect_eq "... found by oras discover" \
        "$(oras discover $P --format json "$R/cl/crane:v1" | jq -r '.referrers[].digest')" "$rd"
}

# ------------------------------------------------------------- parallel
# One link per blob must survive any number of uploads at once (Kubo's MFS
# lost some when they ran unserialized: ipfs/mfs.c).
t_parallel() {
    echo "-- parallel uploads"
    local i j round ok=0 bad=0 codes pids
    mkdir -p "$T/par" && cd "$T/par" || return
    for i in 1 2 3 4 5 6 7 8; do head -c $((60000 + i * 1000)) /dev/urandom >"f$i.bin"; done
    for round in 1 2 3; do
        pids=()
        for i in 1 2 3 4 5 6 7 8; do
            curl -s -m 30 -o /dev/null -w '%{http_code}\n' -X POST --data-binary "@f$i.bin" \
                "http://$R/v2/cl/par$round/blobs/uploads/?digest=$(e2e_digest "f$i.bin")" >"code$round-$i" &
            pids+=($!)
        done
        wait "${pids[@]}"   # only these: a suite run alone has Kubo and nginx as children too
    done
    codes=$(cat code* | sort | uniq -c | tr -s ' ' | tr '\n' ';')
    e2e_expect_eq "24 uploads, 8 at a time into new repositories: all 201" "$codes" " 24 201;"
    for round in 1 2 3; do
        for i in 1 2 3 4 5 6 7 8; do
            if [ "$(code HEAD "/v2/cl/par$round/blobs/$(e2e_digest "f$i.bin")")" = 200 ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
        done
    done
    e2e_expect_eq "... and every blob linked afterwards ($bad missing)" "$ok" 24
    pids=()
    for j in 1 2 3; do
        oras push $P --concurrency 6 "$R/cl/par-same:v$j" f*.bin >"push$j.log" 2>&1 &
        pids+=($!)
    done
    wait "${pids[@]}"   # only these: a suite run alone has Kubo and nginx as children too
    e2e_expect_eq "three oras push --concurrency 6 into one repository at once" \
        "$(oras repo tags $P "$R/cl/par-same" | tr '\n' ' ')" "v1 v2 v3 "
    for j in 1 2 3; do
        grep -q '^Digest:' "push$j.log" || e2e_log "push $j: $(tail -n 2 "push$j.log")"
    done
    rm -rf out && oras pull $P -o out "$R/cl/par-same:v2" >/dev/null 2>&1
    # shellcheck disable=SC2016 # $i is the inner sh's loop variable
    e2e_check "... and pulled back byte for byte" sh -c 'for i in 1 2 3 4 5 6 7 8; do cmp -s f$i.bin out/f$i.bin || exit 1; done'
    cd "$T" || return
}

# --------------------------------------------------------------- layout
# The same images, written as an OCI layout by regctl, added to IPFS and
# pulled by all three clients from the read-only layout stack.
t_layout() {
    echo "-- the same images from the layout stack"
    local cid
    e2e_ensure_stack layout || { e2e_fail "layout stack did not start"; return; }
    L=127.0.0.1:$(e2e_port layout)
    regctl registry set --tls disabled "$L"
    rm -rf "$T/lay"
    regctl image copy "$R/cl/crane:v1" "ocidir://$T/lay:v1" >/dev/null 2>&1 || e2e_fail "regctl copy to ocidir"
    regctl image copy "$R/cl/oras-copy:v1" "ocidir://$T/lay:art" >/dev/null 2>&1 || e2e_fail "regctl copy to ocidir"
    cid=$(e2e_ipfs add -r -Q --cid-version 1 "$T/lay") || { e2e_fail "ipfs add of the layout"; return; }
    e2e_expect_eq "crane digest from ipfs/<cid>:v1" "$(crane digest "$L/ipfs/$cid:v1")" "$CRANE_V1"
    e2e_expect_eq "crane export from the layout stack: the file" "$(crane export "$L/ipfs/$cid:v1" - | tar -xO hello.txt)" "hello from crane"
    e2e_expect_eq "regctl manifest head from the layout stack" "$(regctl manifest head "$L/ipfs/$cid:v1")" "$CRANE_V1"
    e2e_expect_lines "regctl tag ls from the layout stack" "$(regctl tag ls "$L/ipfs/$cid")" v1 art
    rm -rf "$T/lpull" && oras pull $P -o "$T/lpull" "$L/ipfs/$cid:art" >/dev/null 2>&1
    e2e_check "oras pull from the layout stack: bytes" cmp -s "$T/lpull/data.bin" "$T/o/data.bin"
    e2e_expect_eq "crane push to the layout stack is refused (405)" \
        "$(crane copy "$R/cl/crane:v1" "$L/ipfs/$cid:new" 2>&1 | grep -c 'UNSUPPORTED')" 1
}

main() {
    local t0=$SECONDS
    deps_clients || { e2e_fail "installing crane, oras, regctl"; e2e_finish clients; return; }
    e2e_ensure_stack "$STACK" || { e2e_fail "stack '$STACK' did not start"; e2e_finish clients; return; }
    R=127.0.0.1:$(e2e_port "$STACK")
    LOG=$E2E_RUN/$STACK/nginx/access.log
    T=$(mktemp -d "$E2E_RUN/clients.XXXXXX")
    E2E_HTTP_DIR=$T
    cd "$T" || return
    echo "== registry clients (stack $STACK, $R)"
    regctl registry set --tls disabled "$R"
    t_crane
    t_oras
    t_regctl
    t_deletes
    t_http
    t_parallel
    t_layout
    cd / && rm -rf "$T"
    echo "clients: $((SECONDS - t0)) s"
    e2e_finish clients
}

main "$@"
