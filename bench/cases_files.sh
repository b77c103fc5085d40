# shellcheck shell=bash
# bench/cases_files.sh: the blob-files cases (blobdir: committed blobs are
# plain files, added to Kubo with --nocopy). Sourced by bench/run after
# cases.sh (rec, rotate, mkrandom, curl_speed, timed). Stacks, started by
# the first case that needs them:
#   bfiles   blobdir + blobfile_accel_redirect: nginx sends the file itself
#            (X-Accel-Redirect to the shipped /_oci_p2p_file/ location)
#   bfilesw  blobdir alone: the worker splices from the file
#   static   nginx serving bfiles' blob directory at /static/ with sendfile,
#            no registry: the physical limit for the same file
# Groups: files (1 GiB pull), files16 (16 x 100 MiB), filesskopeo (skopeo
# copy, push and pull), filespush (1 GiB push, final PUT, one-request push,
# disk used per GiB). The stack names are not the e2e suites' ("files"),
# so a borrowed Kubo node's MFS roots and blob directories never mix.

# files_stacks: starts the three (once); sets FILES, FILESW, STATIC.
files_stacks() {
    if [ ! -f "$E2E_RUN/bfiles/port" ]; then
        e2e_start_stack bfiles "blobdir = \"$(e2e_blobdir bfiles)\";" \
            'blobfile_accel_redirect = "/_oci_p2p_file/";' || return 1
    fi
    if [ ! -f "$E2E_RUN/bfilesw/port" ]; then
        e2e_start_stack bfilesw "blobdir = \"$(e2e_blobdir bfilesw)\";" || return 1
    fi
    if [ ! -f "$E2E_RUN/static/port" ]; then
        bench_start_static static "$(e2e_blobdir bfiles)" || return 1
    fi
    FILES=$(e2e_url bfiles) FILESW=$(e2e_url bfilesw) STATIC=$(e2e_url static)
}

# files_rel DIGEST: the blob file's path below blobdir (core/blobfile.h).
files_rel() { local hex=${1#sha256:}; printf 'sha256/%s/%s' "${hex:0:2}" "$hex"; }

# rec_last CASE SIDE: the value of the sample just recorded, once more
# under CASE SIDE (one measurement, two rows: e.g. ours vs nginx static
# and ours vs the gateway).
rec_last() { rec "$1" "$2" "$(tail -n 1 "$RESULTS" | cut -f3)"; }

# files_rss: the peak RSS of every blob-files worker so far (table.py takes
# the largest sample).
files_rss() {
    local kib a b
    read -r a _ <<<"$(e2e_peak_rss bfiles)"
    read -r b _ <<<"$(e2e_peak_rss bfilesw)"
    kib=$((a > b ? a : b))
    rec rss_files ours "$(awk -v k="$kib" 'BEGIN {printf "%.1f", k / 1024}')"
}

# ---- 1 GiB pull: files mode (nginx sends the file) vs nginx static vs the
# gateway; and the worker's splice path (no accel) with its CPU per GiB.
case_files() {
    local f dg cid r s ok=0 c0 c1
    files_stacks || return 1
    f=$WORK/fpull.bin
    mkrandom "$f" files-pull "$BLOB" || return 1
    dg=$(e2e_digest "$f")
    e2e_blob_push "$FILES" bench/fpull "$f" "$dg" && e2e_blob_push "$FILESW" bench/fpull "$f" "$dg" || return 1
    rm -f "$f"
    cid=$(e2e_ipfs files stat --hash "$(e2e_mfs_blob_path bfiles "$dg")")
    for ((r = 0; r < REPS; r++)); do
        for s in $(rotate "$r" ours static gw worker); do
            case $s in
                ours)
                    curl_speed pull_files ours "$BLOB" "$FILES/v2/bench/fpull/blobs/$dg" &&
                        rec_last pull_files_gw ours ;;
                static)
                    curl_speed pull_files ref "$BLOB" "$STATIC/static/$(files_rel "$dg")" &&
                        rec_last pull_files_worker ref ;;
                gw) curl_speed pull_files_gw ref "$BLOB" "$GW/ipfs/$cid" ;;
                worker)
                    c0=$(bench_stack_cpu_ns bfilesw)
                    curl_speed pull_files_worker ours "$BLOB" "$FILESW/v2/bench/fpull/blobs/$dg" || { ok=1; continue; }
                    c1=$(bench_stack_cpu_ns bfilesw)
                    rec pull_files_cpu ours "$(awk -v d=$((c1 - c0)) -v b="$BLOB" 'BEGIN {printf "%.1f", d / 1e6 / (b / 1073741824)}')" ;;
            esac || ok=1
        done
    done
    if grep -qh "blob $dg: .*streaming it instead" "$E2E_RUN"/bfilesw/*.log 2>/dev/null; then
        bench_log "files: the bfilesw worker streamed the blob instead of splicing it (see its log)"
        ok=1
    fi
    files_rss
    return $ok
}

# ---- 16 concurrent pulls of P16 bytes: files mode vs nginx static with 16
# parallel GETs vs 16 parallel gateway GETs
case_files16() {
    local i f dg r s ok=0
    local ours_urls=() static_urls=() gw_urls=()
    files_stacks || return 1
    for ((i = 0; i < 16; i++)); do
        f=$WORK/fp16.bin
        mkrandom "$f" "files-p16-$i" "$P16" || return 1
        dg=$(e2e_digest "$f")
        e2e_blob_push "$FILES" bench/fp16 "$f" "$dg" || return 1
        ours_urls+=(-o /dev/null "$FILES/v2/bench/fp16/blobs/$dg")
        static_urls+=(-o /dev/null "$STATIC/static/$(files_rel "$dg")")
        gw_urls+=(-o /dev/null "$GW/ipfs/$(e2e_ipfs files stat --hash "$(e2e_mfs_blob_path bfiles "$dg")")")
    done
    rm -f "$WORK/fp16.bin"
    local par=(curl -sSf --parallel --parallel-immediate --parallel-max 16)
    for ((r = 0; r < REPS; r++)); do
        for s in $(rotate "$r" ours static gw); do
            case $s in
                ours) timed pull16_files ours $((16 * P16)) "${par[@]}" "${ours_urls[@]}" &&
                    rec_last pull16_files_gw ours ;;
                static) timed pull16_files ref $((16 * P16)) "${par[@]}" "${static_urls[@]}" ;;
                gw) timed pull16_files_gw ref $((16 * P16)) "${par[@]}" "${gw_urls[@]}" ;;
            esac || ok=1
        done
    done
    files_rss
    return $ok
}

# ---- skopeo copy of a 5-layer image, push and pull: files mode vs
# distribution (its own images, so neither side sees the other's bytes)
case_filesskopeo() {
    local r s img url ok=0
    files_stacks || return 1
    for ((r = 0; r < REPS; r++)); do
        img=$WORK/fimg
        rm -rf "$img"
        python3 "$BENCH_DIR/mkimage.py" "$img" "$IMG" 5 "files-skopeo-$r" || return 1
        for s in $(rotate "$r" ours ref); do
            case $s in ours) url=$FILES ;; ref) url=$DIST ;; esac
            timed skopeo_push_files "$s" "$IMG" skopeo copy -q --dest-tls-verify=false \
                "oci:$img:bench" "docker://${url#http://}/bench/fimg$r:v1" || ok=1
        done
        rm -rf "$img"
        for s in $(rotate "$r" ours ref); do
            case $s in ours) url=$FILES ;; ref) url=$DIST ;; esac
            rm -rf "$WORK/fpulled"
            timed skopeo_pull_files "$s" "$IMG" skopeo copy -q --src-tls-verify=false \
                "docker://${url#http://}/bench/fimg$r:v1" "dir:$WORK/fpulled" || ok=1
        done
        rm -rf "$WORK/fpulled"
    done
    files_rss
    return $ok
}

# files_disk: bytes of bfiles' blob directory plus Kubo's repository (what
# a push in files mode adds to the disk).
files_disk() {
    local a b
    a=$(du -sb "$(e2e_blobdir bfiles)" | cut -f1)
    b=$(du -sbD "$E2E_RUN/kubo/repo" | cut -f1)
    echo $((a + b))
}
kubo_disk() { du -sbD "$E2E_RUN/kubo/repo" | cut -f1; }

# files_put_time REPO CASE: the request time nginx logged for bfiles' last
# blob PUT in REPO (the closing PUT ?digest= of a chunked upload: what is
# left after the last byte arrived), in seconds per GiB, recorded as CASE.
files_put_time() {
    local rt
    rt=$(grep "\"PUT /v2/$1/blobs/uploads/" "$E2E_RUN/bfiles/nginx/access.log" | tail -n 1 |
        sed -n 's/.* rt=\([0-9.]*\).*/\1/p')
    [ -n "$rt" ] || { bench_log "filespush: no PUT for $1 in bfiles' access log"; return 1; }
    rec "$2" ours "$(awk -v t="$rt" -v b="$BLOB" 'BEGIN {printf "%.3f", t / (b / 1073741824)}')"
}

# ---- 1 GiB push in files mode (POST, one streamed PATCH, PUT: what docker
# does) vs ipfs add --cid-version 1 --raw-leaves of the same size over RPC
# (curl multipart to /api/v0/add); the one-request push (POST ?digest=);
# a session of two PATCHes, whose final PUT adds the file (untimed push:
# only that PUT is recorded);
# the same chunked push in Kubo-only mode (our default stack); disk used
# per GiB pushed, files mode (blob files + repository growth) vs Kubo-only.
case_filespush() {
    local r s f dg ok=0 d0 d1 add
    files_stacks || return 1
    add="http://127.0.0.1:$(e2e_kubo_api_port)/api/v0/add?cid-version=1&raw-leaves=true&quieter=true"
    for ((r = 0; r < REPS; r++)); do
        for s in $(rotate "$r" ours mono two kubo ref); do
            f=$WORK/fpush-$s.bin
            mkrandom "$f" "files-push-$s-$r" "$BLOB" || return 1
            dg=$(e2e_digest "$f")
            case $s in
                ours)
                    d0=$(files_disk)
                    timed push_files ours "$BLOB" bash "$BENCH_DIR/push-blob" "$FILES" bench/fpush "$f" "$dg" &&
                        rec_last push_files_kubo ours && files_put_time bench/fpush push_files_put &&
                        d1=$(files_disk) &&
                        rec disk_files ours "$(awk -v d=$((d1 - d0)) -v b="$BLOB" 'BEGIN {printf "%.4f", d / b}')" ;;
                mono)
                    timed push_files_mono ours "$BLOB" bash "$BENCH_DIR/push-blob" --mono "$FILES" bench/fpush "$f" "$dg" ;;
                two)
                    bash "$BENCH_DIR/push-blob" --two "$FILES" bench/fpush2 "$f" "$dg" &&
                        files_put_time bench/fpush2 push_files_put2 ;;
                kubo)
                    d0=$(kubo_disk)
                    timed push_files_kubo ref "$BLOB" bash "$BENCH_DIR/push-blob" "$OURS" bench/fpush "$f" "$dg" &&
                        d1=$(kubo_disk) &&
                        rec disk_files ref "$(awk -v d=$((d1 - d0)) -v b="$BLOB" 'BEGIN {printf "%.4f", d / b}')" ;;
                ref)
                    timed push_files ref "$BLOB" curl -sSf -X POST -F "file=@$f" "$add" &&
                        rec_last push_files_mono ref ;;
            esac || ok=1
            rm -f "$f"
        done
    done
    files_rss
    return $ok
}
