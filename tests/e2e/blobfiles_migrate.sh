#!/usr/bin/env bash
# blobfiles_migrate.sh: --migrate and --verify (oci/blobfiles_admin.h).
# A registry that predates blob files holds its blobs in Kubo only; once
# restarted with blobdir on the same mfsroot and statedir, --migrate makes
# each blob a file the node references (add --nocopy) and takes the node's
# own copy of its leaves out. Checked here, on a stack of its own ("migr"):
#   - three blobs pushed without blobdir: a big one in one request, one in
#     two PATCHes cut off the 256 KiB leaf grid (another DAG shape than a
#     --nocopy add gives), a small one;
#   - the registry restarted with blobdir; --migrate killed (SIGKILL) while
#     it copies the big blob, then run again: it goes on and finishes;
#   - every blob has its file, hashing to its name; `ipfs filestore verify`
#     is clean; the chunked blob's link now names the file's CID; GETs
#     through nginx give the right bytes; Kubo's repository did not grow by
#     the blobs' bytes (it shrinks once `ipfs repo gc` takes the old DAG);
#   - a third --migrate finds nothing to do; --verify exits 0;
#   - a byte flipped in place in one file: --verify exits 1 naming it.
# Numbers go to $E2E_ARTIFACTS/blobfiles_migrate.txt.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

STACK=migr
REPO=e2e/migrate
BIG=${E2E_MIGRATE_SIZE:-134217728}

bm_bytes() { e2e_keystream "oci-registry-p2p-migrate-$1" "$2"; }
bm_repo_bytes() { du -sb "$E2E_RUN/kubo/repo" | cut -f1; }
bm_mfs_cid() { e2e_ipfs files stat --hash "$(e2e_mfs_blob_path "$STACK" "$1")"; }
bm_file() { local hex=${1#sha256:}; printf '%s/sha256/%s/%s' "$(e2e_blobdir "$STACK")" "${hex:0:2}" "$hex"; }
bm_conf() { printf '%s' "$E2E_RUN/$STACK/registry.conf"; }
# bm_run CMD LOG: the registry binary's --CMD on the stack's config; prints its exit code.
bm_run() {
    local rc=0
    "$REGISTRY_BIN" "--$1" -c "$(bm_conf)" >"$2" 2>"$2.err" || rc=$?
    echo "$rc"
}

# bm_start [CONFIG LINES...]: the stack (registry + nginx) with these settings.
bm_start() {
    e2e_start_stack "$STACK" "$@" || { e2e_fail "stack $STACK did not start"; return 1; }
}
bm_stop() { e2e_stop_nginx "$STACK"; e2e_stop_registry "$STACK"; }

main() {
    local base work report dg1 dg2 dg3 f dg old_cid before after gc code loc pid staging t0 t1 rc n secs
    e2e_init_run
    e2e_need_kubo || { e2e_finish blobfiles_migrate; return; }
    work=$(mktemp -d "$E2E_RUN/blobfiles_migrate.XXXXXX")
    report=$E2E_ARTIFACTS/blobfiles_migrate.txt
    : >"$report"

    # --- a registry without blob files
    bm_start || { e2e_finish blobfiles_migrate; return; }
    base=$(e2e_url "$STACK")
    echo "== blob files migrate (stack $STACK, $base)"
    bm_bytes big "$BIG" >"$work/big"
    dg1=$(e2e_digest "$work/big")
    code=$(e2e_blob_post "$base" "$REPO" "$work/big")
    e2e_expect_eq "big blob ($BIG bytes) pushed without blobdir -> 201" "$code" 201
    bm_bytes two $((3 * 1048576 + 12345)) >"$work/two"
    dg2=$(e2e_digest "$work/two")
    head -c 1000000 "$work/two" >"$work/two.a"
    tail -c +1000001 "$work/two" >"$work/two.b"
    loc=$(e2e_upload_start "$base" "$REPO")
    e2e_upload_patch "$loc" "$work/two.a" -H "Content-Range: 0-999999" >/dev/null
    loc=$(e2e_location "$base")
    e2e_upload_patch "$loc" "$work/two.b" >/dev/null
    loc=$(e2e_location "$base")
    code=$(e2e_upload_put "$loc" "$dg2")
    e2e_expect_eq "chunked blob (POST, PATCH, PATCH, PUT) -> 201" "$code" 201
    bm_bytes small 5000 >"$work/small"
    dg3=$(e2e_digest "$work/small")
    code=$(e2e_blob_post "$base" "$REPO" "$work/small")
    e2e_expect_eq "small blob -> 201" "$code" 201
    old_cid=$(bm_mfs_cid "$dg2")
    e2e_check "the chunked blob's CID is not a one-pass add's (another DAG shape)" \
        [ "$old_cid" != "$(e2e_ipfs add -Q --cid-version 1 --raw-leaves --only-hash "$work/two")" ]
    # (the node is shared under tests/run-all: count only this stack's files)
    n=$(e2e_ipfs filestore ls 2>/dev/null | grep -c " blobs-$STACK/")
    e2e_expect_eq "no filestore entries name this registry's blob files yet" "$n" 0

    # --- the same registry with blobdir
    bm_stop
    bm_start "blobdir = \"$(e2e_blobdir "$STACK")\";" 'blobfile_accel_redirect = "/_oci_p2p_file/";' ||
        { e2e_finish blobfiles_migrate; return; }
    base=$(e2e_url "$STACK")
    code=$(e2e_http GET "$base/v2/$REPO/blobs/$dg2")
    e2e_expect_eq "before migrate, with blobdir: GET of an old blob (from Kubo)" \
        "$code $(e2e_digest <"$E2E_HTTP_DIR/body")" "200 $dg2"
    before=$(bm_repo_bytes)

    # --- migrate, killed while it copies the big blob, then again
    staging=$(e2e_blobdir "$STACK")/.uploads/migrate-${dg1#sha256:}
    t0=$(date +%s.%N)
    "$REGISTRY_BIN" --migrate -c "$(bm_conf)" >"$work/migrate1.out" 2>"$work/migrate1.err" &
    pid=$!
    if e2e_wait_for 60 "migrate's staging file of the big blob" test -s "$staging"; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        e2e_ok "migrate killed (SIGKILL) with $(stat -c %s "$staging" 2>/dev/null || echo 0) of $BIG bytes staged"
    else
        wait "$pid"
        e2e_fail "migrate never staged the big blob: $(tail -n 3 "$work/migrate1.out" "$work/migrate1.err")"
    fi
    rc=$(bm_run migrate "$work/migrate2.out")
    t1=$(date +%s.%N)
    e2e_expect_eq "migrate after the kill: exit 0" "$rc" 0
    e2e_check "it ends with its summary line" grep -q '^migrate: [0-9]* migrated' "$work/migrate2.out"
    # the chunked blob may have been done by the killed run: its lines count too
    e2e_check "it reported the chunked blob's link changed, and the MFS root with it" \
        grep -q "^blob $dg2: .* now links .*MFS root changed" "$work/migrate1.out" "$work/migrate2.out"
    # a line every 2 s at most: a run of 3 s or more has one
    secs=$(sed -n 's/^migrate: .* \([0-9]*\)\.[0-9] s$/\1/p' "$work/migrate2.out")
    e2e_check "progress lines on stderr in a run of ${secs:-?} s ($(grep -c '^migrate: .*blobs, ' "$work/migrate2.out.err"))" \
        eval "[ '${secs:-0}' -lt 3 ] || grep -q '^migrate: [0-9]*/3 blobs, [0-9]*/[0-9]* bytes' '$work/migrate2.out.err'"
    after=$(bm_repo_bytes)
    {
        printf 'migrate of %d blobs (%d bytes), killed once and resumed: %.1f s in all\n' 3 \
            $((BIG + $(stat -c %s "$work/two") + 5000)) "$(echo "$t1 - $t0" | bc)"
        printf 'second run: %s\n' "$(grep '^migrate: .* migrated' "$work/migrate2.out")"
        printf 'Kubo repository: %d bytes before, %d after (%+d)\n' "$before" "$after" $((after - before))
    } | tee -a "$report"
    e2e_check "Kubo's repository did not grow by the blobs' bytes ($((after - before)))" \
        [ "$((after - before))" -lt $((BIG / 100)) ]

    # --- the result
    for dg in "$dg1" "$dg2" "$dg3"; do
        f=$(bm_file "$dg")
        e2e_expect_eq "blob file of ${dg:0:19}… in place, hashing to its name" "$(e2e_digest "$f" 2>/dev/null)" "$dg"
        code=$(e2e_http GET "$base/v2/$REPO/blobs/$dg")
        e2e_expect_eq "GET ${dg:0:19}…: 200 with its bytes" "$code $(e2e_digest <"$E2E_HTTP_DIR/body")" "200 $dg"
    done
    n=$(find "$(e2e_blobdir "$STACK")/.uploads" -type f | wc -l)
    e2e_expect_eq "no staging file left" "$n" 0
    e2e_expect_eq "the chunked blob links the file's CID (add --only-hash of its bytes)" "$(bm_mfs_cid "$dg2")" \
        "$(e2e_ipfs add -Q --cid-version 1 --raw-leaves --only-hash "$work/two")"
    n=$(e2e_ipfs filestore ls 2>/dev/null | grep -c " $(bm_file "$dg1" | sed "s|^$E2E_RUN/kubo/||") ")
    e2e_expect_eq "ipfs filestore ls lists the big blob's $(((BIG + 262143) / 262144)) chunks" "$n" \
        "$(((BIG + 262143) / 262144))"
    n=$(e2e_ipfs filestore verify 2>&1 | grep -vc '^ok ')
    e2e_expect_eq "ipfs filestore verify: every entry ok" "$n" 0
    e2e_ipfs repo gc >/dev/null 2>&1
    gc=$(bm_repo_bytes)
    printf 'Kubo repository after ipfs repo gc: %d bytes (%+d against before migrate)\n' "$gc" $((gc - before)) |
        tee -a "$report"
    e2e_check "after repo gc the repository is smaller than before migrate" [ "$gc" -lt "$before" ]
    code=$(e2e_http GET "$base/v2/$REPO/blobs/$dg2")
    e2e_expect_eq "after repo gc: GET of the relinked blob still 200 with its bytes" \
        "$code $(e2e_digest <"$E2E_HTTP_DIR/body")" "200 $dg2"

    rc=$(bm_run migrate "$work/migrate3.out")
    e2e_expect_eq "a third migrate: exit 0, nothing migrated, 3 already files" \
        "$rc $(grep -o '^migrate: [0-9]* migrated ([0-9]* bytes), [0-9]* already' "$work/migrate3.out")" \
        "0 migrate: 0 migrated (0 bytes), 3 already"

    # --- verify
    rc=$(bm_run verify "$work/verify1.out")
    e2e_expect_eq "verify: exit 0 ($(tail -n 1 "$work/verify1.out"))" "$rc" 0
    tail -n 1 "$work/verify1.out" >>"$report"
    f=$(bm_file "$dg3")
    # one byte flipped in place: same size, same inode
    python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(100); b = f.read(1); f.seek(100); f.write(bytes([b[0] ^ 1]))' "$f"
    e2e_expect_eq "the damaged file kept its size" "$(stat -c %s "$f")" 5000
    rc=$(bm_run verify "$work/verify2.out")
    e2e_expect_eq "verify after a flipped byte: exit 1" "$rc" 1
    e2e_check "it names the file: '$f: content hashes to …'" grep -q "^$f: content hashes to sha256:" "$work/verify2.out"
    e2e_check "its summary counts 1 bad" grep -q '^verify: 3 files, .* 1 bad' "$work/verify2.out"

    cp "$work"/*.out "$work"/*.err "$E2E_ARTIFACTS/" 2>/dev/null
    e2e_finish blobfiles_migrate
}

main "$@"
