# shellcheck shell=bash
# bench/cases_mirror.sh: the pull-through mirror (issue 14). Sourced by
# bench/run after cases.sh (rec, rotate, timed). Stack, started on first
# use:
#   bmirror   blob files sent by nginx, and a mirror of the CNCF
#             distribution registry the harness runs (dist): ns
#             127.0.0.1:<dist port>, prefix up
# Group mirror: skopeo copy of a 5-layer image (new each rep, pushed to
# dist first) straight from dist (the reference), then through the mirror
# cold (fetched from dist while it is sent and stored) and warm (stored:
# blob files sent by nginx).

mirror_stack() {
    [ -f "$E2E_RUN/bmirror/port" ] && return 0
    local up=${DIST#http://}
    e2e_start_stack bmirror "blobdir = \"$(e2e_blobdir bmirror)\";" 'blobfile_accel_redirect = "/_oci_p2p_file/";' \
        "mirror = ( { ns = \"$up\"; url = \"$DIST\"; prefix = \"up\"; freshness = 3600; } );"
}

# mirror_stored DIR: waits (30 s at most) until every blob skopeo wrote to
# DIR (dir: transport, files named by hex digest) is a blob file of bmirror.
mirror_stored() {
    local f hex i
    for f in "$1"/*; do
        hex=$(basename "$f")
        [ ${#hex} = 64 ] || continue
        for ((i = 0; i < 300; i++)); do
            [ -f "$(e2e_blobdir bmirror)/sha256/${hex:0:2}/$hex" ] && break
            sleep 0.1
        done
        [ -f "$(e2e_blobdir bmirror)/sha256/${hex:0:2}/$hex" ] || { bench_log "mirror: blob $hex not stored after 30 s"; return 1; }
    done
}

case_mirror() {
    local r s img m ok=0
    mirror_stack || return 1
    m=$(e2e_url bmirror)
    for ((r = 0; r < REPS; r++)); do
        img=$WORK/mimg
        rm -rf "$img"
        python3 "$BENCH_DIR/mkimage.py" "$img" "$IMG" 5 "mirror-$r" || return 1
        timeout 600 skopeo copy -q --dest-tls-verify=false "oci:$img:bench" "docker://${DIST#http://}/bench/mimg$r:v1" \
            >/dev/null || return 1
        rm -rf "$img"
        for s in $(rotate "$r" ours ref); do
            rm -rf "$WORK/mpulled"
            case $s in
                ref)
                    timed mirror_cold ref "$IMG" skopeo copy -q --src-tls-verify=false \
                        "docker://${DIST#http://}/bench/mimg$r:v1" "dir:$WORK/mpulled" && rec_last mirror_warm ref ;;
                ours)
                    timed mirror_cold ours "$IMG" skopeo copy -q --src-tls-verify=false \
                        "docker://${m#http://}/up/bench/mimg$r:v1" "dir:$WORK/mpulled" || { ok=1; continue; }
                    # warm means stored: the commits run after each answer went out
                    mirror_stored "$WORK/mpulled" || ok=1
                    rm -rf "$WORK/mpulled"
                    timed mirror_warm ours "$IMG" skopeo copy -q --src-tls-verify=false \
                        "docker://${m#http://}/up/bench/mimg$r:v1" "dir:$WORK/mpulled" ;;
            esac || ok=1
        done
        rm -rf "$WORK/mpulled"
    done
    return $ok
}
