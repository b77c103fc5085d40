#!/usr/bin/env bash
# blobfiles.sh: blob files (blobdir). Every committed blob is a plain file
# below blobdir that nginx sends itself (X-Accel-Redirect to an internal
# alias location, sendfile), and that Kubo references from its filestore
# (add --nocopy) instead of holding a second copy. Checked here, on the
# "files" stack (tests/e2e/lib.sh: blobdir below the Kubo node's filestore
# root, blobfile_accel_redirect, the shipped nginx config):
#   - a 100 MiB one-request push: the file is in place and hashes to its
#     name, Kubo's repository grows by less than 1% of it, `ipfs filestore
#     ls` lists its chunks, its CID is `ipfs add --cid-version 1
#     --raw-leaves --only-hash` of the bytes;
#   - the same for a chunked upload (POST, PATCH, PATCH, PUT), which adds
#     the file at completion;
#   - GET through nginx byte for byte: whole, and Range first byte, last
#     byte, middle, suffix; unsatisfiable is 416; HEAD and the headers;
#   - a wrong digest on a one-request push: 400, no file, and no filestore
#     entry left naming the file;
#   - a blob file truncated or removed under the registry: 5xx naming the
#     file, never bytes; `ipfs filestore verify` clean once it is back;
#   - without blobfile_accel_redirect the worker splices the file itself
#     (whole and Range, byte for byte, never the streaming fallback);
#   - skopeo copies an image in and out.
# Numbers go to $E2E_ARTIFACTS/blobfiles.txt.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

STACK=files
REPO=e2e/files
SIZE=${E2E_FILES_SIZE:-104857600}

bf_bytes() { e2e_keystream "oci-registry-p2p-blobfiles-$1" "$2"; }
# bf_repo_bytes: what Kubo's repository holds on disk (blocks and datastore).
bf_repo_bytes() { du -sb "$E2E_RUN/kubo/repo" | cut -f1; }
# bf_mfs_cid DIGEST: the CID the registry linked blob DIGEST as.
# the names in .added/ with no other link (upload bytes left for --sweep-files)
bf_lone_aliases() { find "$(e2e_blobdir "$STACK")/.added" -type f -links 1 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//'; }
bf_upload_id() { local id=${1##*/}; echo "${id%%\?*}"; }   # bf_upload_id LOCATION
bf_alias() { find "$(e2e_blobdir "$STACK")/.added" -name "$1.*" ! -name '*.tmp' 2>/dev/null; }   # bf_alias UPLOAD-ID
# how many filestore entries name the file at PATH
bf_entries_naming() { e2e_ipfs filestore ls 2>/dev/null | grep -c " ${1#"$E2E_RUN/kubo/"} "; }
bf_mfs_cid() { e2e_ipfs files stat --hash "$(e2e_mfs_blob_path "$STACK" "$1")"; }
bf_file() { local hex=${1#sha256:}; printf '%s/sha256/%s/%s' "$(e2e_blobdir "$STACK")" "${hex:0:2}" "$hex"; }
# bf_range URL FILE FIRST LAST DESC: a Range GET answers 206 with FILE's bytes FIRST..LAST.
bf_range() {
    local url=$1 file=$2 first=$3 last=$4 desc=$5 want got code
    want=$(tail -c +$((first + 1)) "$file" | head -c $((last - first + 1)) | e2e_sha256)
    code=$(e2e_http GET "$url" -H "Range: bytes=$first-$last")
    got=$(e2e_sha256 <"$E2E_HTTP_DIR/body")
    e2e_expect_eq "Range $desc ($first-$last): 206 with the file's bytes" "$code $got" "206 $want"
}

main() {
    local base work before after grown dg f cid want_cid url code loc n report dg2 f2 bad dg3 f3 id alias how lone gone out a loc4 id5 conf
    e2e_ensure_stack "$STACK" || { e2e_fail "stack '$STACK' did not start"; e2e_finish blobfiles; return; }
    base=$(e2e_url "$STACK")
    work=$(mktemp -d "$E2E_RUN/blobfiles.XXXXXX")
    report=$E2E_ARTIFACTS/blobfiles.txt
    : >"$report"
    echo "== blob files (stack $STACK, $base, blobdir $(e2e_blobdir "$STACK"))"

    # --- one-request push: bytes to the file and to Kubo in one pass
    bf_bytes one "$SIZE" >"$work/one"
    dg=$(e2e_digest "$work/one")
    f=$(bf_file "$dg")
    before=$(bf_repo_bytes)
    code=$(e2e_blob_post "$base" "$REPO" "$work/one")
    e2e_expect_eq "100 MiB POST ?digest= (one request) -> 201" "$code" 201
    after=$(bf_repo_bytes)
    grown=$((after - before))
    printf '100 MiB one-request push: Kubo repository grew by %d bytes (%s%% of the blob)\n' "$grown" \
        "$(awk -v g="$grown" -v s="$SIZE" 'BEGIN { printf "%.3f", 100 * g / s }')" | tee -a "$report"
    e2e_check "Kubo's repository grew by less than 1% of the blob ($grown bytes)" [ "$grown" -lt $((SIZE / 100)) ]
    e2e_expect_eq "the blob file is in place and hashes to its name" "$(e2e_digest "$f" 2>/dev/null)" "$dg"
    cid=$(bf_mfs_cid "$dg")
    want_cid=$(e2e_ipfs add -Q --cid-version 1 --raw-leaves --only-hash "$work/one")
    e2e_expect_eq "its CID is add --cid-version 1 --raw-leaves --only-hash of the bytes" "$cid" "$want_cid"
    n=$(e2e_ipfs filestore ls 2>/dev/null | grep -c " ${f#"$E2E_RUN/kubo/"} ")
    e2e_expect_eq "ipfs filestore ls lists its $((SIZE / 262144)) chunks" "$n" "$((SIZE / 262144))"

    # --- GET through nginx: the file, sent by nginx
    url=$base/v2/$REPO/blobs/$dg
    code=$(e2e_http GET "$url")
    e2e_expect_eq "GET: 200 with the blob's bytes" "$code $(e2e_digest <"$E2E_HTTP_DIR/body")" "200 $dg"
    e2e_check "GET: Docker-Content-Digest, ETag, Content-Type, Content-Length" e2e_headers_match \
        "^docker-content-digest: $dg\$" "^etag: \"$dg\"\$" '^content-type: application/octet-stream$' \
        "^content-length: $SIZE\$"
    bf_range "$url" "$work/one" 0 0 "first byte"
    bf_range "$url" "$work/one" $((SIZE - 1)) $((SIZE - 1)) "last byte"
    bf_range "$url" "$work/one" 1234567 7654321 "middle"
    code=$(e2e_http GET "$url" -H "Range: bytes=-1000")
    e2e_expect_eq "Range suffix (-1000): 206 with the last 1000 bytes" "$code $(e2e_sha256 <"$E2E_HTTP_DIR/body")" \
        "206 $(tail -c 1000 "$work/one" | e2e_sha256)"
    code=$(e2e_http GET "$url" -H "Range: bytes=$SIZE-")
    e2e_expect_eq "Range past the end: 416" "$code" 416
    code=$(e2e_http HEAD "$url")
    e2e_check "HEAD: 200, Content-Length $SIZE, the digest" eval "[ $code = 200 ] && e2e_headers_match \
        '^content-length: $SIZE\$' '^docker-content-digest: $dg\$'"
    # every whole or Range GET of it was answered by a worker with no body
    # (the X-Accel-Redirect), and nginx sent the bytes
    e2e_check "nginx sent the file: each of its GETs left the worker with 0 bytes out" sh -c "
        grep -h 'GET /v2/$REPO/blobs/$dg blob' '$E2E_RUN/$STACK/registry.log' >'$work/gets'
        [ \$(grep -c ' 200 ' '$work/gets') -ge 5 ] && ! grep -qv ' 416 \\| out 0 bytes' '$work/gets'"

    # --- a one-request push of one leaf (a raw block that is its own root)
    bf_bytes small 512 >"$work/small"
    code=$(e2e_blob_post "$base" "$REPO" "$work/small")
    e2e_expect_eq "512-byte POST ?digest= -> 201" "$code" 201
    e2e_expect_eq "its blob file is in place" "$(e2e_digest "$(bf_file "$(e2e_digest "$work/small")")" 2>/dev/null)" \
        "$(e2e_digest "$work/small")"
    code=$(e2e_http GET "$base/v2/$REPO/blobs/$(e2e_digest "$work/small")")
    e2e_expect_eq "GET of it: 200 with its bytes" "$code $(e2e_digest <"$E2E_HTTP_DIR/body")" "200 $(e2e_digest "$work/small")"

    # --- chunked upload: staged, placed and added at completion
    bf_bytes two $((3 * 1048576 + 12345)) >"$work/two"
    dg2=$(e2e_digest "$work/two")
    f2=$(bf_file "$dg2")
    # the first chunk ends 1000 bytes into a leaf: its add's short last
    # leaf is a leaf of no blob, taken out when the second chunk comes
    head -c 1049576 "$work/two" >"$work/two.a"
    tail -c +1049577 "$work/two" >"$work/two.b"
    loc=$(e2e_upload_start "$base" "$REPO")
    id=$(bf_upload_id "$loc")
    e2e_upload_patch "$loc" "$work/two.a" -H "Content-Range: 0-1049575" >/dev/null
    loc=$(e2e_location "$base")
    e2e_upload_patch "$loc" "$work/two.b" >/dev/null
    loc=$(e2e_location "$base")
    code=$(e2e_upload_put "$loc" "$dg2")
    e2e_expect_eq "chunked upload (POST, PATCH, PATCH, PUT) -> 201" "$code" 201
    e2e_expect_eq "its blob file is in place" "$(e2e_digest "$f2" 2>/dev/null)" "$dg2"
    e2e_expect_eq "its CID is add --only-hash of the bytes" "$(bf_mfs_cid "$dg2")" \
        "$(e2e_ipfs add -Q --cid-version 1 --raw-leaves --only-hash "$work/two")"
    code=$(e2e_http GET "$base/v2/$REPO/blobs/$dg2")
    e2e_expect_eq "GET of it: 200 with its bytes" "$code $(e2e_digest <"$E2E_HTTP_DIR/body")" "200 $dg2"

    alias=$(bf_alias "$id")
    e2e_expect_eq "two chunks: the first chunk's alias now points at the blob file" "$(readlink "$alias")" "$f2"
    e2e_expect_eq "...its 4 whole leaves name the alias (the short fifth was taken out), the other 9 the file" \
        "$(bf_entries_naming "$alias") $(bf_entries_naming "$f2")" "4 9"

    # --- a streamed PATCH (the digest known only at the PUT): added in the
    # same pass, naming the alias .added/<upload id>, kept at commit
    bf_bytes three $((5 * 1048576 + 777)) >"$work/three"
    dg3=$(e2e_digest "$work/three")
    f3=$(bf_file "$dg3")
    loc=$(e2e_upload_start "$base" "$REPO")
    id=$(bf_upload_id "$loc")
    e2e_upload_stream "$loc" "$work/three" >/dev/null
    alias=$(bf_alias "$id")
    e2e_expect_eq "streamed PATCH: its 21 leaves are in the filestore already, naming its alias" \
        "$(bf_entries_naming "${alias:-none}") $(readlink "$alias")" "21 $(e2e_blobdir "$STACK")/.uploads/$id"
    loc=$(e2e_location "$base")
    code=$(e2e_upload_put "$loc" "$dg3")
    e2e_expect_eq "streamed PATCH, PUT ?digest= -> 201" "$code" 201
    e2e_expect_eq "the blob file is in place and hashes to its name" "$(e2e_digest "$f3" 2>/dev/null)" "$dg3"
    e2e_expect_eq "the alias now points at the blob file" "$(readlink "$alias")" "$f3"
    e2e_expect_eq "its CID (from the PATCH's add) is add --only-hash of the bytes" "$(bf_mfs_cid "$dg3")" \
        "$(e2e_ipfs add -Q --cid-version 1 --raw-leaves --only-hash "$work/three")"
    code=$(e2e_http GET "$base/v2/$REPO/blobs/$dg3")
    e2e_expect_eq "GET of it: 200 with its bytes" "$code $(e2e_digest <"$E2E_HTTP_DIR/body")" "200 $dg3"
    # a restart between the PATCH and the PUT: recovery leaves the alias of
    # a session that lives on alone, and the PUT completes it; a session
    # that went away meanwhile has its alias retired (a plain file keeping
    # its bytes and entries, for --sweep-files)
    bf_bytes four $((2 * 1048576 + 5)) >"$work/four"
    loc=$(e2e_upload_start "$base" "$REPO")
    id=$(bf_upload_id "$loc")
    e2e_upload_stream "$loc" "$work/four" >/dev/null
    loc4=$(e2e_location "$base")
    bf_bytes five 700000 >"$work/five"
    loc=$(e2e_upload_start "$base" "$REPO")
    id5=$(bf_upload_id "$loc")
    e2e_upload_stream "$loc" "$work/five" >/dev/null
    mapfile -t conf < <(e2e_stack_config "$STACK")
    e2e_stop_registry "$STACK"
    rm -f "$E2E_RUN/$STACK/state/uploads/$id5.json"
    e2e_start_registry "$STACK" "${conf[@]}" || e2e_fail "restart of stack $STACK"
    code=$(e2e_upload_put "$loc4" "$(e2e_digest "$work/four")")
    f=$(bf_file "$(e2e_digest "$work/four")")
    e2e_expect_eq "after a restart, the live session's PUT -> 201, its alias pointing at the blob file" \
        "$code $(readlink "$(bf_alias "$id")")" "201 $f"
    e2e_expect_eq "...with the entries of its 9 leaves, and it pulls byte for byte" \
        "$(bf_entries_naming "$(bf_alias "$id")") $(curl -sf "$base/v2/$REPO/blobs/$(e2e_digest "$work/four")" | e2e_digest)" \
        "9 $(e2e_digest "$work/four")"
    e2e_expect_eq "...and the session gone while it was down: its alias is a plain file with its bytes and 3 entries" \
        "$(stat -c %F "$(bf_alias "$id5")" 2>&1) $(e2e_digest "$(bf_alias "$id5")") $(bf_entries_naming "$(bf_alias "$id5")")" \
        "regular file $(e2e_digest "$work/five") 3"

    # the same bytes again, streamed: the blob file is there, and this
    # upload's alias is pointed at it too (same bytes, same offsets)
    lone=$(bf_lone_aliases | wc -w)
    loc=$(e2e_upload_start "$base" "$REPO/again")
    id=$(bf_upload_id "$loc")
    e2e_upload_stream "$loc" "$work/three" >/dev/null
    loc=$(e2e_location "$base")
    e2e_expect_eq "the same blob streamed again -> 201" "$(e2e_upload_put "$loc" "$dg3")" 201
    e2e_expect_eq "...and its alias points at the blob file too" "$(readlink "$(bf_alias "$id")")" "$f3"
    # a session given up, and one with the wrong digest: their aliases
    # become plain files that keep the bytes their entries name, alone,
    # until --sweep-files
    for how in DELETE wrong; do
        bf_bytes "gone-$how" 900000 >"$work/gone"
        loc=$(e2e_upload_start "$base" "$REPO")
        id=$(bf_upload_id "$loc")
        e2e_upload_stream "$loc" "$work/gone" >/dev/null
        loc=$(e2e_location "$base")
        if [ "$how" = DELETE ]; then
            code=$(e2e_http DELETE "$loc")
            e2e_expect_eq "streamed PATCH, then DELETE of the session -> 204" "$code" 204
        else
            code=$(e2e_upload_put "$loc" "sha256:$(printf 'not these bytes' | e2e_sha256)")
            e2e_expect_eq "streamed PATCH, PUT with another digest: 400 DIGEST_INVALID" "$code $(e2e_errcode)" \
                "400 DIGEST_INVALID"
        fi
        lone=$((lone + 1))
        e2e_expect_eq "...($how) its alias is left alone with its bytes and the entries of its 4 leaves" \
            "$(bf_lone_aliases | wc -w) $(e2e_digest "$(bf_alias "$id")") $(bf_entries_naming "$(bf_alias "$id")")" \
            "$lone $(e2e_digest "$work/gone") 4"
    done
    gone=$(bf_lone_aliases)
    out=$("$REGISTRY_BIN" --sweep-files --min-age 0 -c "$E2E_RUN/$STACK/registry.conf" 2>&1)
    echo "sweep of the lone aliases: $(echo "$out" | tail -n 1)" | tee -a "$report"
    e2e_check "--sweep-files removed the lone aliases" [ -z "$(bf_lone_aliases)" ]
    n=0
    for a in $gone; do n=$((n + $(bf_entries_naming "$a"))); done
    e2e_expect_eq "...and every filestore entry naming them" "$n" 0
    e2e_expect_eq "...and kept the blob file's alias and its 21 entries" \
        "$(readlink "$alias") $(bf_entries_naming "$alias")" "$f3 21"
    code=$(e2e_http GET "$base/v2/$REPO/blobs/$dg3")
    e2e_expect_eq "the streamed blob still pulls byte for byte" "$code $(e2e_digest <"$E2E_HTTP_DIR/body")" "200 $dg3"
    e2e_expect_eq "Kubo still reads it whole" "$(e2e_ipfs cat "$(bf_mfs_cid "$dg3")" | e2e_digest)" "$dg3"

    # --- a wrong digest: nothing stays, not even a filestore entry
    bf_bytes bad 700000 >"$work/bad"
    bad=sha256:$(printf 'not the bytes' | e2e_sha256)
    code=$(e2e_http POST "$base/v2/$REPO/blobs/uploads/?digest=$bad" -H 'Content-Type: application/octet-stream' \
        --data-binary "@$work/bad")
    e2e_expect_eq "POST ?digest= with other bytes: 400 DIGEST_INVALID" "$code $(e2e_errcode)" "400 DIGEST_INVALID"
    e2e_check "no file for the wrong digest" [ ! -e "$(bf_file "$bad")" ]
    n=$(e2e_ipfs filestore ls 2>/dev/null | grep -c "$(bf_file "$bad" | sed "s|^$E2E_RUN/kubo/||")")
    e2e_expect_eq "no filestore entry names the file the wrong digest would have had" "$n" 0
    n=$(find "$(e2e_blobdir "$STACK")/.uploads" -type f | wc -l)
    e2e_expect_eq "no staging file left" "$n" 0

    # --- a damaged blob file: an error naming it, never bytes
    cp "$f2" "$work/two.saved"
    truncate -s 1000 "$f2"
    code=$(e2e_http GET "$base/v2/$REPO/blobs/$dg2")
    e2e_check "truncated file: GET 5xx naming the file ($code)" eval "[ ${code:0:1} = 5 ] && grep -q '$f2' '$E2E_HTTP_DIR/body'"
    rm -f "$f2"
    code=$(e2e_http GET "$base/v2/$REPO/blobs/$dg2")
    e2e_check "missing file: GET 5xx naming the file ($code)" eval "[ ${code:0:1} = 5 ] && grep -q '$f2' '$E2E_HTTP_DIR/body'"
    code=$(e2e_http HEAD "$base/v2/$REPO/blobs/$dg2")
    e2e_check "missing file: HEAD 5xx too ($code)" [ "${code:0:1}" = 5 ]
    code=$(e2e_http GET "$base/v2/_p2p/health")
    e2e_expect_eq "health names the missing file (and stays 200: the other blobs serve)" \
        "$code $(jq -r '.blob_files.damaged.file // empty' "$E2E_HTTP_DIR/body")" "200 $f2"
    cp "$work/two.saved" "$f2"
    code=$(e2e_http GET "$base/v2/$REPO/blobs/$dg2")
    e2e_expect_eq "file back: GET 200 with its bytes" "$code $(e2e_digest <"$E2E_HTTP_DIR/body")" "200 $dg2"
    code=$(e2e_http GET "$base/v2/_p2p/health")
    e2e_expect_eq "health: no damaged file once it is back" \
        "$code $(jq -r '.blob_files | has("damaged")' "$E2E_HTTP_DIR/body")" "200 false"
    n=$(e2e_ipfs filestore verify 2>&1 | grep -vc '^ok ')
    e2e_expect_eq "ipfs filestore verify: every entry ok" "$n" 0

    # --- no front server offload: the worker splices the file itself
    local wstack=fileswk wbase
    if e2e_start_stack "$wstack" "blobdir = \"$(e2e_blobdir "$wstack")\";" >/dev/null; then
        wbase=$(e2e_url "$wstack")
        code=$(e2e_blob_post "$wbase" "$REPO" "$work/two")
        e2e_expect_eq "worker-sent stack: one-request push -> 201" "$code" 201
        code=$(e2e_http GET "$wbase/v2/$REPO/blobs/$dg2")
        e2e_expect_eq "worker-sent stack: GET 200 with the bytes" "$code $(e2e_digest <"$E2E_HTTP_DIR/body")" "200 $dg2"
        bf_range "$wbase/v2/$REPO/blobs/$dg2" "$work/two" 300000 2999999 "worker-sent, middle"
        bf_range "$wbase/v2/$REPO/blobs/$dg2" "$work/two" $(($(stat -c %s "$work/two") - 1)) \
            $(($(stat -c %s "$work/two") - 1)) "worker-sent, last byte"
        e2e_check "worker-sent stack: the worker spliced the file (no 'streaming it instead' in its log)" \
            sh -c "! grep -h 'streaming it instead' '$E2E_RUN/$wstack'/*.log"
        e2e_stop_nginx "$wstack"
        e2e_stop_registry "$wstack"
    else
        e2e_fail "stack $wstack (blob files sent by the worker) did not start"
    fi

    # --- a client's round trip
    if skopeo copy -q --dest-tls-verify=false "oci:$E2E_ROOT/tests/e2e/data/seed-hello-layout" \
        "docker://${base#http://}/$REPO/seed:1" >"$work/skopeo.log" 2>&1 &&
        skopeo copy -q --src-tls-verify=false "docker://${base#http://}/$REPO/seed:1" "oci:$work/pulled:1" \
            >>"$work/skopeo.log" 2>&1; then
        e2e_ok "skopeo push and pull of the seed image"
    else
        e2e_fail "skopeo push and pull of the seed image: $(tail -n 3 "$work/skopeo.log")"
    fi
    rm -rf "$work"
    e2e_finish blobfiles
}

main "$@"
