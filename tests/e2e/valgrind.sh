#!/usr/bin/env bash
# valgrind.sh: the registry's processes under valgrind's memcheck during a
# short real run, on a stack of its own (one worker, so every request goes
# through the same process; the shared Kubo node): skopeo pushes and pulls
# the buildah-made seed image, then a few hundred requests of every kind
# (manifest and blob GET/HEAD, chunked and monolithic uploads, mounts,
# tags/list, _catalog, referrers, deletes, errors), a layout pushed under
# its key (ipns/<key>/...: index.json edits, deletes) and the pull-through
# mirror of a CNCF distribution registry (fetches, tee, commits after the
# answer, hits, a foreign ns). After a clean stop each
# process's report must say: no memcheck errors, and nothing definitely or
# indirectly lost; a leak per request would show as bytes lost in
# proportion to the requests. Reports: $E2E_ARTIFACTS/valgrind/.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

STACK=vg
SEED=$E2E_ROOT/tests/e2e/data/seed-hello-layout
VG_OUT=""

t_url() { e2e_url "$STACK"; }

# t_upload REPO TEXT: TEXT as a blob in a PATCH of 3 bytes and a PUT ?digest=
# carrying the rest; prints its digest
t_upload() {
    local repo=$1 text=$2 loc dg f=$E2E_RUN/$STACK/chunk
    dg=sha256:$(printf '%s' "$text" | e2e_sha256)
    loc=$(e2e_upload_start "$(t_url)" "$repo") || return 1
    printf '%s' "${text:0:3}" >"$f"
    [ "$(e2e_upload_patch "$loc" "$f")" = 202 ] || return 1
    loc=$(e2e_location "$(t_url)") || return 1
    printf '%s' "${text:3}" >"$f"
    [ "$(e2e_http PUT "$(e2e_query "$loc" "digest=$dg")" -H 'Content-Type: application/octet-stream' \
        --data-binary "@$f")" = 201 ] || return 1
    printf '%s' "$dg"
}

# t_load ROUNDS: each kind of request, ROUNDS times.
t_load() {
    local rounds=$1 i dg man u
    u=$(t_url)
    man=$(curl -sf -H "Accept: $MT_OCI_MANIFEST" "$u/v2/vg/seed/manifests/v1" | e2e_sha256)
    for ((i = 0; i < rounds; i++)); do
        curl -s -o /dev/null -H "Accept: $MT_OCI_MANIFEST" "$u/v2/vg/seed/manifests/v1"
        curl -s -o /dev/null -I -H "Accept: $MT_OCI_MANIFEST" "$u/v2/vg/seed/manifests/sha256:$man"
        curl -s -o /dev/null "$u/v2/vg/seed/tags/list?n=1"
        curl -s -o /dev/null "$u/v2/_catalog"
        curl -s -o /dev/null "$u/v2/vg/seed/referrers/sha256:$man"
        curl -s -o /dev/null "$u/v2/vg/seed/manifests/nope"
        curl -s -o /dev/null "$u/v2/vg/NOPE/tags/list"
        dg=$(t_upload vg/up "round $i of the valgrind load") || { e2e_log "upload $i failed"; return 1; }
        curl -s -o /dev/null -H 'Range: bytes=2-9' "$u/v2/vg/up/blobs/$dg"
        curl -s -o /dev/null -X POST "$u/v2/vg/mounted/blobs/uploads/?mount=$dg&from=vg/up"
        curl -s -o /dev/null -X DELETE "$u/v2/vg/mounted/blobs/$dg"
        curl -s -o /dev/null "$u/v2/_p2p/status"
    done
}

# t_layout_mirror ROUNDS: the layout writer and the mirror, ROUNDS times
t_layout_mirror() {
    local rounds=$1 i u body
    u=$(t_url)
    body=$E2E_RUN/$STACK/m.json
    curl -sf -H "Accept: $MT_OCI_MANIFEST" "$u/v2/vg/seed/manifests/v1" -o "$body" || return 1
    for ((i = 0; i < rounds; i++)); do
        [ "$(e2e_manifest_put "$u" "ipns/vgkey/vg/layout" "t$i" "$body")" = 201 ] || return 1
        curl -s -o /dev/null "$u/v2/ipns/vgkey/vg/layout/tags/list"
        curl -s -o /dev/null -H "Accept: $MT_OCI_MANIFEST" "$u/v2/ipns/vgkey/vg/layout/manifests/t$i"
        curl -s -o /dev/null -X DELETE "$u/v2/ipns/vgkey/vg/layout/manifests/t$i"
        curl -s -o /dev/null -H "Accept: $MT_OCI_MANIFEST" "$u/v2/vg/seed/manifests/v1?ns=$VG_UP"
        curl -s -o /dev/null -H "Accept: $MT_OCI_MANIFEST" "$u/v2/vg/seed/manifests/v1?ns=evil.example"
        curl -s -o /dev/null -X POST "$u/v2/vg/x/blobs/uploads/?ns=$VG_UP"
    done
}

# t_upstream: a CNCF distribution registry holding the seed image (the
# mirror's upstream); sets VG_UP
t_upstream() {
    deps_distribution || return 1
    VG_UP=127.0.0.1:$(e2e_free_port)
    e2e_start_distribution "$E2E_RUN/vgdist" "$VG_UP" || return 1
    skopeo copy -q --dest-tls-verify=false "oci:$SEED:v1" "docker://$VG_UP/vg/seed:v1" >/dev/null 2>&1
}

# t_clean FILE: one process's report says no errors and nothing lost.
t_clean() {
    local f=$1
    grep -q 'ERROR SUMMARY: 0 errors' "$f" || return 1
    # "All heap blocks were freed" or a summary with 0 definitely/indirectly lost
    grep -q 'All heap blocks were freed' "$f" && return 0
    grep -q 'definitely lost: 0 bytes' "$f" && grep -q 'indirectly lost: 0 bytes' "$f"
}

main() {
    e2e_init_run
    e2e_need_kubo || { e2e_finish valgrind; return; }
    command -v valgrind >/dev/null || { e2e_fail "valgrind is not installed"; e2e_finish valgrind; return; }
    VG_OUT=$E2E_ARTIFACTS/valgrind
    rm -rf "$VG_OUT" && mkdir -p "$VG_OUT"
    t_upstream || { e2e_fail "the mirror's upstream (distribution)"; e2e_finish valgrind; return; }
    e2e_ipfs key list | grep -qx vgkey || e2e_ipfs key gen --type=ed25519 vgkey >/dev/null ||
        { e2e_fail "key gen"; e2e_finish valgrind; return; }
    # every process the master forks stays under valgrind (--trace-children)
    E2E_REGISTRY_WRAP="$(command -v valgrind) --tool=memcheck --trace-children=yes --leak-check=full \
--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --track-fds=no \
--log-file=$VG_OUT/vg.%p.log" \
        e2e_start_stack "$STACK" "workers = 1;" 'writeipnskey = "vgkey";' 'publish_allow_offline = true;' \
        "mirror = ( { ns = \"$VG_UP\"; url = \"http://$VG_UP\"; prefix = \"mirrored\"; freshness = 0; } );" ||
        { e2e_fail "stack under valgrind"; e2e_finish valgrind; return; }
    e2e_check "skopeo pushes the seed image through the valgrind'ed registry" \
        skopeo copy -q --dest-tls-verify=false "oci:$SEED:v1" "docker://127.0.0.1:$(e2e_port "$STACK")/vg/seed:v1"
    e2e_check "skopeo pulls it back" skopeo copy -q --src-tls-verify=false \
        "docker://127.0.0.1:$(e2e_port "$STACK")/vg/seed:v1" "oci:$E2E_RUN/$STACK/pulled:v1"
    local t0=$SECONDS
    e2e_check "50 rounds of every kind of request" t_load 50
    e2e_check "skopeo pulls through the mirror (vg/seed of the upstream, fetched, then stored)" skopeo copy -q \
        --src-tls-verify=false "docker://127.0.0.1:$(e2e_port "$STACK")/mirrored/vg/seed:v1" "oci:$E2E_RUN/$STACK/mirrored:v1"
    e2e_check "skopeo pushes a layout under ipns/vgkey/vg/layout" skopeo copy -q --dest-tls-verify=false \
        "oci:$SEED:v1" "docker://127.0.0.1:$(e2e_port "$STACK")/ipns/vgkey/vg/layout:v1"
    e2e_check "10 rounds of layout writes and mirror reads" t_layout_mirror 10
    e2e_log "load took $((SECONDS - t0)) s under valgrind"
    e2e_stop_nginx "$STACK"
    e2e_stop_registry "$STACK"
    e2e_stop_pid "$E2E_RUN/vgdist/pid" 10
    local f n=0 bad=0 roles=""
    for f in "$VG_OUT"/vg.*.log; do
        [ -s "$f" ] || continue
        # only the registry's processes (valgrind also logs the short-lived execs, if any)
        grep -q 'oci-registry-p2p' "$f" || continue
        n=$((n + 1))
        roles="$roles $(sed -n 's/^==[0-9]*== Command: //p' "$f" | head -n 1 | awk '{print $1}' | xargs basename)"
        if ! t_clean "$f"; then
            bad=$((bad + 1))
            e2e_log "valgrind report $f:"
            grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|Invalid|uninitialised' "$f" | head -n 20 >&2
        fi
    done
    e2e_check "valgrind reports from the master, the worker and the sidecars ($n)" [ "$n" -ge 3 ]
    e2e_check "every one: 0 errors, 0 bytes definitely or indirectly lost" [ "$bad" = 0 ]
    grep -h -E 'ERROR SUMMARY|definitely lost|indirectly lost|in use at exit' "$VG_OUT"/vg.*.log |
        sort | uniq -c | sed 's/^/  /' >"$E2E_ARTIFACTS/valgrind.txt"
    e2e_finish valgrind
}

main
