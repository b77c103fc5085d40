# shellcheck shell=bash
# bench/cases.sh: the benchmark cases (issue 6's table). Each case_<group>
# sets up what it needs, then measures every side of each pair in the same
# loop, alternating (rotate: the side that goes first changes each rep), and
# appends one line per sample to $RESULTS: case, side, value, extra. Sides:
# ours, ref (the reference), refng (the reference behind nginx), ceil (the
# FastCGI edge ceiling). Timing is always done by a tool: curl's own
# counters, hyperfine, wrk. table.py turns the samples into medians.

rec() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >>"$RESULTS"; }

# rotate REP WORD...: the words, starting at (REP mod count).
rotate() {
    local r=$1
    shift
    local n=$# i
    local a=("$@")
    for ((i = 0; i < n; i++)); do printf '%s ' "${a[$(((r + i) % n))]}"; done
}

# Bytes of pseudo-random data into FILE (incompressible; seeded per use so
# every upload is new content to Kubo and to distribution).
mkrandom() {
    python3 -c 'import random,sys
r = random.Random(sys.argv[2]); n = int(sys.argv[3])
with open(sys.argv[1], "wb") as f:
    while n > 0:
        k = min(n, 4 << 20); f.write(r.randbytes(k)); n -= k' "$1" "$2" "$3"
}

# BENCH_PERF=1: each streaming sample (curl_speed, timed) runs under
# `perf record -a` with the cpu-clock event (all CPUs, because Kubo, the
# worker, nginx and the client share them; cpu-clock, because VMs often
# have no hardware counters), and $OUT/perf/CASE-SIDE.txt gets the share of
# each process and the top functions (of the last rep). The samples taken
# so are slower and not for the table.
PERF_PRE=()
perf_begin() { # CASE SIDE: sets PERF_PRE, the prefix for the sample's command
    PERF_PRE=()
    [ -n "${BENCH_PERF:-}" ] || return 0
    command -v perf >/dev/null || { bench_log "BENCH_PERF needs perf (Debian: apt-get install linux-perf)"; return 0; }
    mkdir -p "$OUT/perf"
    PERF_PRE=(perf record -q -a -e cpu-clock -F 999 -o "$OUT/perf/$1-$2.data" --)
}
perf_end() { # CASE SIDE
    local d=$OUT/perf/$1-$2.data
    [ -n "${BENCH_PERF:-}" ] && [ -f "$d" ] || return 0
    {
        echo "== $1 $2: share of cpu-clock samples per process"
        perf report -i "$d" --stdio -q --sort comm 2>/dev/null | head -n 12
        echo "== per process and object"
        perf report -i "$d" --stdio -q --sort comm,dso 2>/dev/null | head -n 25
        echo "== top functions"
        perf report -i "$d" --stdio -q --sort comm,dso,sym 2>/dev/null | head -n 40
    } >"$OUT/perf/$1-$2.txt"
}

# curl_speed CASE SIDE SIZE URL: one download to /dev/null; records bytes/s.
curl_speed() {
    local out got speed
    perf_begin "$1" "$2"
    out=$("${PERF_PRE[@]}" curl -sSf -o /dev/null -w '%{size_download} %{speed_download}' "$4") || { bench_log "$1/$2: GET $4 failed"; return 1; }
    perf_end "$1" "$2"
    read -r got speed <<<"$out"
    [ "$got" = "$3" ] || { bench_log "$1/$2: got $got bytes, want $3"; return 1; }
    rec "$1" "$2" "$speed"
}

# timed CASE SIDE BYTES CMD...: one hyperfine run of CMD (no shell);
# records BYTES / seconds.
timed() {
    local case=$1 side=$2 bytes=$3 json=$WORK/hf.json t
    shift 3
    perf_begin "$case" "$side"
    if ! "${PERF_PRE[@]}" hyperfine -N --runs 1 --style none --export-json "$json" "$*" >"$WORK/hf.log" 2>&1; then
        bench_log "$case/$side: command failed: $*"
        tail -n 5 "$WORK/hf.log" >&2
        return 1
    fi
    perf_end "$case" "$side"
    t=$(jq -r '.results[0].mean' "$json")
    rec "$case" "$side" "$(awk -v b="$bytes" -v t="$t" 'BEGIN {printf "%.0f", b / t}')"
}

# wrk_rps CASE SIDE URL [wrk args...]: 32 connections for $DUR s; records
# requests/s and the p99 latency. Any non-2xx answer voids the sample: a
# benchmark of errors measures nothing.
wrk_rps() {
    local case=$1 side=$2 url=$3 out rps p99
    shift 3
    out=$(wrk -t2 -c32 -d"${DUR}s" --latency "$@" "$url" 2>&1) || { bench_log "$case/$side: wrk failed: $out"; return 1; }
    printf '%s\n' "$out" >>"$OUT/wrk.log"
    if grep -q 'Non-2xx' <<<"$out"; then
        bench_log "$case/$side: non-2xx answers from $url"
        grep 'Non-2xx' <<<"$out" >&2
        return 1
    fi
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    awk -v r="$rps" 'BEGIN {exit !(r > 0)}' || { bench_log "$case/$side: no requests/s in wrk output"; return 1; }
    rec "$case" "$side" "$rps" "$p99"
}

# ab_head CASE SIDE URL [ab args...]: like wrk_rps for HEAD requests. wrk
# (4.1) waits for a body after a HEAD answer that has a Content-Length, so
# HEAD is measured with ApacheBench: 32 connections, keep-alive, $DUR s.
ab_head() {
    local case=$1 side=$2 url=$3 out rps p99
    shift 3
    out=$(ab -q -i -k -c 32 -t "$DUR" -n 100000000 "$@" "$url" 2>&1) || { bench_log "$case/$side: ab failed: $out"; return 1; }
    printf '%s\n' "$out" >>"$OUT/ab.log"
    if grep -qE '^(Non-2xx responses|Failed requests): *[1-9]' <<<"$out"; then
        bench_log "$case/$side: failed or non-2xx answers from $url"
        grep -E '^(Non-2xx|Failed)' <<<"$out" >&2
        return 1
    fi
    rps=$(awk '/^Requests per second:/ {print $4}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2 "ms"}' <<<"$out")
    awk -v r="$rps" 'BEGIN {exit !(r > 0)}' || { bench_log "$case/$side: no requests/s in ab output"; return 1; }
    rec "$case" "$side" "$rps" "$p99"
}

# pull_blob_on STACK: pushes the pull case's bytes (the same seed each
# time, so Kubo stores them once) to bench/pull on STACK; sets the caller's
# dg and cid.
pull_blob_on() {
    local f=$WORK/pull.bin
    mkrandom "$f" pull "$BLOB" || return 1
    dg=$(e2e_digest "$f")
    e2e_blob_push "$(e2e_url "$1")" bench/pull "$f" "$dg" || return 1
    rm -f "$f"
    cid=$(e2e_ipfs files stat --hash "$(e2e_mfs_blob_path "$1" "$dg")")
}

# pull_reps CASE URL STACK SIDE...: REPS rounds of the pull case's blob ($dg,
# $cid, from pull_blob_on) from each SIDE in turn: ours through URL (STACK's), ref
# from the gateway, ceil from the ceiling.
pull_reps() {
    local case=$1 url=$2 stack=$3 r s ok=0 c0 c1
    shift 3
    for ((r = 0; r < REPS; r++)); do
        for s in $(rotate "$r" "$@"); do
            case $s in
                ours)
                    c0=$(bench_stack_cpu_ns "$stack")
                    curl_speed "$case" ours "$BLOB" "$url/v2/bench/pull/blobs/$dg" || { ok=1; continue; }
                    # the worker's CPU per GiB (bench/lib.sh), for the pull case only
                    [ "$case" = pull ] || continue
                    c1=$(bench_stack_cpu_ns "$stack")
                    rec pull_cpu ours "$(awk -v d=$((c1 - c0)) -v b="$BLOB" 'BEGIN {printf "%.1f", d / 1e6 / (b / 1073741824)}')" ;;
                ref) curl_speed "$case" ref "$BLOB" "$GW/ipfs/$cid" ;;
                ceil) curl_speed "$case" ceil "$BLOB" "$CEIL/v2/ceiling/blob?n=$BLOB" ;;
            esac || ok=1
        done
    done
    return $ok
}

# ---- 1 GiB blob pull: ours (nginx -> worker -> gateway) vs the gateway
case_pull() {
    local dg cid
    pull_blob_on ours || return 1
    pull_reps pull "$OURS" ours ours ref ceil
}

# ---- the same pull with the X-Accel-Redirect offload (issue 5): a second
# stack with accel_redirect set, nginx streaming from the gateway itself.
# Skipped, with the reason in the table, where the registry has no such
# option or the shipped nginx config no offload location.
case_offload() {
    local dg cid
    if ! grep -q '_oci_p2p_blob' "$NGINX_SHIPPED_CONF" \
        || ! printf 'accel_redirect = "/_oci_p2p_blob/";\n' >"$WORK/accel.conf" \
        || ! "$REGISTRY_BIN" --check-config -c "$WORK/accel.conf" >/dev/null 2>&1; then
        rec pull_offload ours "n/a: offload not available"
        return 0
    fi
    e2e_start_stack offload 'accel_redirect = "/_oci_p2p_blob/";' || return 1
    pull_blob_on offload || return 1
    pull_reps pull_offload "$(e2e_url offload)" offload ours ref
}

# ---- the same blob with blob_redirect: a 307 to the gateway, which the
# client follows. Not a target of the issue: it shows what taking the bytes
# out of the registry's path gives (one more round trip, then Kubo alone).
case_redirect() {
    local dg cid r s ok=0 url out got secs n
    e2e_start_stack redirect "blob_redirect = \"$GW/ipfs/{cid}\";" || return 1
    url=$(e2e_url redirect)
    pull_blob_on redirect || return 1
    for ((r = 0; r < REPS; r++)); do
        for s in $(rotate "$r" ours ref); do
            case $s in
                ours)
                    # speed over the whole exchange, the 307 included
                    out=$(curl -sSfL -o /dev/null -w '%{size_download} %{time_total} %{num_redirects}' \
                        "$url/v2/bench/pull/blobs/$dg") || { bench_log "redirect/ours: GET failed"; ok=1; continue; }
                    read -r got secs n <<<"$out"
                    if [ "$n" != 1 ] || [ "$got" != "$BLOB" ]; then
                        bench_log "redirect/ours: $n redirects, $got bytes (want 1, $BLOB)"
                        ok=1
                        continue
                    fi
                    rec pull_redirect ours "$(awk -v b="$BLOB" -v t="$secs" 'BEGIN {printf "%.0f", b / t}')" ;;
                ref) curl_speed pull_redirect ref "$BLOB" "$GW/ipfs/$cid" ;;
            esac || ok=1
        done
    done
    return $ok
}

# ---- 1 GiB push: POST, one streamed PATCH, PUT vs ipfs add over RPC
case_push() {
    local r s f dg ok=0
    for ((r = 0; r < REPS; r++)); do
        for s in $(rotate "$r" ours ref ceil); do
            f=$WORK/push-$s.bin
            mkrandom "$f" "push-$s-$r" "$BLOB" || return 1
            case $s in
                ours)
                    dg=$(e2e_digest "$f")
                    timed push ours "$BLOB" bash "$BENCH_DIR/push-blob" "$OURS" bench/push "$f" "$dg" ;;
                ref)
                    timed push ref "$BLOB" env IPFS_PATH="$E2E_RUN/kubo/repo" "$IPFS_BIN" \
                        --api "/ip4/127.0.0.1/tcp/$(e2e_kubo_api_port)" add --cid-version 1 --raw-leaves -Q "$f" ;;
                ceil)
                    timed push ceil "$BLOB" bash "$BENCH_DIR/push-blob" "$CEIL" ceiling "$f" sha256:0 ;;
            esac || ok=1
            rm -f "$f"
        done
    done
    # The workers have now streamed BLOB bytes up and down (case_pull ran
    # first): their peak RSS.
    local kib
    read -r kib _ <<<"$(e2e_peak_rss ours)"
    rec rss ours "$(awk -v k="$kib" 'BEGIN {printf "%.1f", k / 1024}')"
    return $ok
}

# ---- skopeo copy of a 5-layer image: push and pull, ours vs distribution
case_skopeo() {
    local r s img url ok=0
    for ((r = 0; r < REPS; r++)); do
        img=$WORK/img
        rm -rf "$img"
        python3 "$BENCH_DIR/mkimage.py" "$img" "$IMG" 5 "skopeo-$r" || return 1
        for s in $(rotate "$r" ours ref refng); do
            case $s in ours) url=$OURS ;; ref) url=$DIST ;; refng) url=$DISTNG ;; esac
            timed skopeo_push "$s" "$IMG" skopeo copy -q --dest-tls-verify=false \
                "oci:$img:bench" "docker://${url#http://}/bench/img$r:v1" || ok=1
        done
        rm -rf "$img"
        for s in $(rotate "$r" ours ref refng); do
            case $s in ours) url=$OURS ;; ref) url=$DIST ;; refng) url=$DISTNG ;; esac
            rm -rf "$WORK/pulled"
            timed skopeo_pull "$s" "$IMG" skopeo copy -q --src-tls-verify=false \
                "docker://${url#http://}/bench/img$r:v1" "dir:$WORK/pulled" || ok=1
        done
        rm -rf "$WORK/pulled"
    done
    return $ok
}

# A small image (config + one layer) in repository REPO of registry URL,
# tagged v1; the same bytes everywhere. Sets META_M (manifest digest),
# META_L (layer digest), META_LEN (manifest size).
meta_files() {
    [ -f "$WORK/meta/manifest.json" ] && return 0
    mkdir -p "$WORK/meta"
    printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$WORK/meta/config.json"
    mkrandom "$WORK/meta/layer.bin" meta 4096
    local cd ld
    cd=$(e2e_digest "$WORK/meta/config.json")
    ld=$(e2e_digest "$WORK/meta/layer.bin")
    e2e_image_manifest "$cd" "$(stat -c %s "$WORK/meta/config.json")" "$ld" 4096 >"$WORK/meta/manifest.json"
    META_M=$(e2e_digest "$WORK/meta/manifest.json")
    META_L=$ld
    META_LEN=$(stat -c %s "$WORK/meta/manifest.json")
}

# meta_manifest_put URL REPO REF: PUT the small image's manifest as REF
# (with any ?tag= query); status 1 unless 201.
meta_manifest_put() {
    local code
    code=$(e2e_manifest_put "$1" "$2" "$3" "$WORK/meta/manifest.json")
    [ "$code" = 201 ] || { bench_log "manifest put $2:$3: HTTP $code"; return 1; }
}

meta_push() { # URL REPO [TAG [QUERY]]
    meta_files || return 1
    e2e_blob_put "$1" "$2" "$WORK/meta/config.json" >/dev/null || return 1
    e2e_blob_put "$1" "$2" "$WORK/meta/layer.bin" >/dev/null || return 1
    meta_manifest_put "$1" "$2" "${3:-v1}${4:+?$4}"
}

# ---- metadata: manifest GET by tag, manifest HEAD by digest, blob HEAD
case_meta() {
    local r s url c path ok=0 accept="Accept: $MT_OCI_MANIFEST"
    meta_push "$OURS" meta && meta_push "$DIST" meta || return 1
    for c in mget_tag mhead_digest bhead; do
        for ((r = 0; r < REPS; r++)); do
            for s in $(rotate "$r" ours ref refng ceil); do
                case $s in ours) url=$OURS ;; ref) url=$DIST ;; refng) url=$DISTNG ;; ceil) url=$CEIL ;; esac
                case $c in
                    mget_tag) path=/v2/meta/manifests/v1 ;;
                    mhead_digest) path=/v2/meta/manifests/$META_M ;;
                    bhead) path=/v2/meta/blobs/$META_L ;;
                esac
                [ "$s" = ceil ] && path="/v2/ceiling/$c?n=$META_LEN"
                if [ "$c" = mget_tag ]; then
                    wrk_rps "$c" "$s" "$url$path" -H "$accept"
                else
                    ab_head "$c" "$s" "$url$path" -H "$accept"
                fi || ok=1
            done
        done
    done
    return $ok
}

# ---- 16 concurrent pulls of 100 MiB blobs vs 16 concurrent gateway GETs
case_pull16() {
    local i f dg r s ok=0
    local ours_urls=() gw_urls=() ceil_urls=()
    for ((i = 0; i < 16; i++)); do
        f=$WORK/p16.bin
        mkrandom "$f" "p16-$i" "$P16" || return 1
        dg=$(e2e_digest "$f")
        e2e_blob_push "$OURS" bench/p16 "$f" "$dg" || return 1
        ours_urls+=(-o /dev/null "$OURS/v2/bench/p16/blobs/$dg")
        gw_urls+=(-o /dev/null "$GW/ipfs/$(e2e_ipfs files stat --hash "$(e2e_mfs_blob_path ours "$dg")")")
        ceil_urls+=(-o /dev/null "$CEIL/v2/ceiling/blob?n=$P16&i=$i")
    done
    rm -f "$WORK/p16.bin"
    local par=(curl -sSf --parallel --parallel-immediate --parallel-max 16)
    for ((r = 0; r < REPS; r++)); do
        for s in $(rotate "$r" ours ref ceil); do
            case $s in
                ours) timed pull16 ours $((16 * P16)) "${par[@]}" "${ours_urls[@]}" ;;
                ref) timed pull16 ref $((16 * P16)) "${par[@]}" "${gw_urls[@]}" ;;
                ceil) timed pull16 ceil $((16 * P16)) "${par[@]}" "${ceil_urls[@]}" ;;
            esac || ok=1
        done
    done
    return $ok
}

# ---- REPOS x TAGS: manifest GET by a random tag of a random repository vs
# the same registry's single-repository GET by tag. Populated through the
# API: one manifest PUT per repository carrying every tag (?tag=...).
case_large() {
    local i t q r s ok=0 accept="Accept: $MT_OCI_MANIFEST"
    meta_push "$OURS" meta || return 1
    q=""
    for ((t = 1; t < TAGS; t++)); do q="$q&tag=t$t"; done
    q=${q#&}
    for ((i = 0; i < REPOS; i++)); do
        meta_push "$OURS" "big/r$i" t0 "$q" || return 1
    done
    cat >"$WORK/random.lua" <<LUA
-- a random repository and tag of the populated set for every request
local repos, tags = $REPOS, $TAGS
local n = 0
function setup(thread) n = n + 1; thread:set("seed", n) end
function init(args) math.randomseed(os.time() + seed * 7919) end
function request()
  return wrk.format(nil, "/v2/big/r" .. math.random(0, repos - 1) .. "/manifests/t" .. math.random(0, tags - 1))
end
LUA
    # Every repository and tag once first, so both sides run warm (the
    # caches fill on first use; random requests would leave some cold).
    large_warm || return 1
    local rpc0 req0
    for ((r = 0; r < REPS; r++)); do
        for s in $(rotate "$r" ours ref); do
            case $s in
                ours)
                    rpc0=$(ours_metric kubo_rpc_duration_seconds_count)
                    req0=$(ours_metric 'request_duration_seconds_count{route="manifest"}')
                    wrk_rps large ours "$OURS/" -H "$accept" -s "$WORK/random.lua" &&
                        large_rpc_rate "$rpc0" "$req0" ;;
                ref) wrk_rps large ref "$OURS/v2/meta/manifests/v1" -H "$accept" ;;
            esac || ok=1
        done
    done
    return $ok
}

# large_warm: one GET of every repository x tag (curl, 16 in parallel);
# all must answer 200.
large_warm() {
    local i t n cfg=$WORK/large-warm.cfg
    : >"$cfg"
    for ((i = 0; i < REPOS; i++)); do
        for ((t = 0; t < TAGS; t++)); do
            printf 'url = "%s/v2/big/r%s/manifests/t%s"\noutput = "/dev/null"\n' "$OURS" "$i" "$t"
        done
    done >>"$cfg"
    n=$(curl -sS --no-progress-meter --parallel --parallel-max 16 -H "Accept: $MT_OCI_MANIFEST" \
        -w '%{http_code}\n' -K "$cfg" | grep -c '^200$')
    [ "$n" = $((REPOS * TAGS)) ] || { bench_log "large: warm-up got $n of $((REPOS * TAGS)) 200s"; return 1; }
}

# ours_metric NAME: one sample of our registry's Prometheus metrics.
ours_metric() {
    curl -sS "$OURS/v2/_p2p/metrics" | awk -v n="oci_registry_p2p_$1" '$1 == n {print $2; f = 1} END {if (!f) print 0}'
}

# large_rpc_rate RPC0 REQ0: Kubo RPCs per 1,000 manifest requests since
# those counts; shows whether a warm GET by tag still reaches Kubo.
large_rpc_rate() {
    local rpc req
    rpc=$(ours_metric kubo_rpc_duration_seconds_count)
    req=$(ours_metric 'request_duration_seconds_count{route="manifest"}')
    rec large_rpc ours "$(awk -v a="$1" -v b="$2" -v c="$rpc" -v d="$req" \
        'BEGIN {printf "%.2f", (d > b ? 1000 * (c - a) / (d - b) : 0)}')"
}

# ---- the web view's tags page (/ui/repo, n = UITAGS) over UITAGS tags,
# each its own manifest: Kubo RPCs per tag shown on a cold cache (after a
# write, which makes the cached metadata stale) and warm (the same page
# again), from the registry's Kubo RPC counter, and pages/s warm (wrk).
# A warm page is warm for the worker that served it before: the manifest
# bytes are kept per worker.
case_ui() {
    local i r a b c url="$OURS/ui/repo?name=uibench&n=$UITAGS" ok=0
    meta_push "$OURS" uibench t0 || return 1
    for ((i = 1; i < UITAGS; i++)); do
        jq -c --arg i "$i" '. + {annotations: {"bench.tag": $i}}' "$WORK/meta/manifest.json" >"$WORK/ui-m.json"
        [ "$(e2e_manifest_put "$OURS" uibench "t$i" "$WORK/ui-m.json")" = 201 ] || { bench_log "ui: push t$i"; return 1; }
    done
    for ((r = 0; r < REPS; r++)); do
        meta_manifest_put "$OURS" uibench t0 || return 1
        a=$(ours_metric kubo_rpc_duration_seconds_count)
        curl -sf -o /dev/null "$url" || ok=1
        b=$(ours_metric kubo_rpc_duration_seconds_count)
        curl -sf -o /dev/null "$url" || ok=1
        c=$(ours_metric kubo_rpc_duration_seconds_count)
        rec ui_rpc_cold ours "$(awk -v x="$((b - a))" -v n="$UITAGS" 'BEGIN {printf "%.2f", x / n}')"
        rec ui_rpc_warm ours "$(awk -v x="$((c - b))" -v n="$UITAGS" 'BEGIN {printf "%.2f", x / n}')"
        wrk_rps ui ours "$url" || ok=1
    done
    return $ok
}

# ---- tags/list?n=100 over TLTAGS tags in one repository
case_tags() {
    local i q="" r s url ok=0 cfg=$WORK/tags.cfg
    meta_files || return 1
    meta_push "$OURS" tl tag-0 && meta_push "$DIST" tl tag-0 || return 1
    # ours: 100 tags per PUT (?tag=); distribution has no tag parameters:
    # one PUT per tag, all in one curl process (a config file of URLs).
    for ((i = 1; i < TLTAGS; i++)); do
        q="$q&tag=tag-$i"
        if [ $((i % 100)) = 0 ] || [ "$i" = $((TLTAGS - 1)) ]; then
            meta_manifest_put "$OURS" tl "$META_M?${q#&}" || return 1
            q=""
        fi
    done
    : >"$cfg"
    for ((i = 1; i < TLTAGS; i++)); do printf 'url = "%s/v2/tl/manifests/tag-%s"\n' "$DIST" "$i" >>"$cfg"; done
    curl -sS -X PUT -H "Content-Type: $MT_OCI_MANIFEST" \
        --data-binary @"$WORK/meta/manifest.json" -w '%{http_code}\n' -K "$cfg" -o /dev/null >"$WORK/tags.codes" || return 1
    [ "$(grep -c '^201$' "$WORK/tags.codes")" = $((TLTAGS - 1)) ] || { bench_log "tags: distribution refused some tag PUTs"; return 1; }
    for ((r = 0; r < REPS; r++)); do
        for s in $(rotate "$r" ours ref refng ceil); do
            case $s in ours) url=$OURS ;; ref) url=$DIST ;; refng) url=$DISTNG ;; ceil) url=$CEIL ;; esac
            if [ "$s" = ceil ]; then
                wrk_rps tags ceil "$url/v2/ceiling/tags?n=2000"
            else
                wrk_rps tags "$s" "$url/v2/tl/tags/list?n=100"
            fi || ok=1
        done
    done
    return $ok
}
