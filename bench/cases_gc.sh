# shellcheck shell=bash
# bench/cases_gc.sh: garbage collection at scale (issue 15). Sourced by
# bench/run after cases.sh (rec, meta_push, wrk_rps). Stack, started on
# first use:
#   bgc   storage mode, defaults (retention off, gc_grace 1 h)
# Population: REPOS repositories x TAGS tags (one manifest tagged TAGS
# times, as the "large" case) plus TAGS/10 untagged manifests of their own
# in each repository (a tenth of the manifests untagged). Then:
#   gc_time / gc_rss / gc_cpu   one `oci-registry-p2p gc`: its wall time
#                      (s), peak RSS (MiB) and CPU time (s, user + system;
#                      Kubo's work for it is not counted), by /usr/bin/time
#   gc_get             manifest GETs by random tag and 4 KiB blob GETs (wrk, which
#                      cannot time HEADs: it waits for their body), ours
#                      while the collection runs, reference the same load
#                      before it: the ratio is the throughput kept (wrk
#                      runs BENCH_DURATION s: a shorter collection leaves
#                      part of that window without one)
#   gc_head            blob HEADs (ab), the same way: after gc_get, while
#                      the same collection still runs (a warning in the
#                      log says when it ended before the windows did)
# BENCH_CASES=gc bench/run [--full] runs it alone.
gc_stack() {
    [ -f "$E2E_RUN/bgc/port" ] && return 0
    e2e_start_stack bgc
}

case_gc() {
    local i j n=$((TAGS / 10)) q="" url ok=0 layer
    gc_stack || return 1
    url=$(e2e_url bgc)
    for ((j = 1; j < TAGS; j++)); do q="$q&tag=t$j"; done
    q=${q#&}
    for ((i = 0; i < REPOS; i++)); do
        meta_push "$url" "gcb/r$i" t0 "$q" || return 1
        for ((j = 0; j < n; j++)); do
            # an untagged manifest of its own: the same blobs, a new annotation
            jq -c --arg n "$i-$j" '.annotations = {"n": $n}' "$WORK/meta/manifest.json" >"$WORK/gc-m.json"
            e2e_manifest_put "$url" "gcb/r$i" "$(e2e_digest "$WORK/gc-m.json")" "$WORK/gc-m.json" >/dev/null
        done
    done
    layer=$(e2e_digest "$WORK/meta/layer.bin")
    cat >"$WORK/gc.lua" <<LUA
-- manifest GETs by random tag and GETs of a 4 KiB blob, in turns
local repos, tags, n = $REPOS, $TAGS, 0
function request()
  n = n + 1
  local r = "/v2/gcb/r" .. math.random(0, repos - 1)
  if n % 2 == 0 then return wrk.format(nil, r .. "/blobs/$layer") end
  return wrk.format(nil, r .. "/manifests/t" .. math.random(0, tags - 1))
end
LUA
    # a warm-up first: the reference must not pay for cold caches
    wrk -t2 -c32 -d"${DUR}s" -H "Accept: $MT_OCI_MANIFEST" -s "$WORK/gc.lua" "$url/" >/dev/null 2>&1
    wrk_rps gc_get ref "$url/" -H "Accept: $MT_OCI_MANIFEST" -s "$WORK/gc.lua" || ok=1
    ab_head gc_head ref "$url/v2/gcb/r0/blobs/$layer" || ok=1
    /usr/bin/time -f '%e %M %U %S' -o "$WORK/gc.time" "$REGISTRY_BIN" gc -c "$E2E_RUN/bgc/registry.conf" \
        >"$OUT/gc.out" 2>"$OUT/gc.err" &
    local gcpid=$!
    wrk_rps gc_get ours "$url/" -H "Accept: $MT_OCI_MANIFEST" -s "$WORK/gc.lua" || ok=1
    ab_head gc_head ours "$url/v2/gcb/r0/blobs/$layer" || ok=1
    kill -0 "$gcpid" 2>/dev/null \
        || bench_log "gc: the collection ended before the measuring windows did (gc_time < 2 x ${DUR} s): part of them ran without it"
    wait "$gcpid" || { bench_log "gc: the collection failed: $(tail -n 2 "$OUT/gc.err")"; return 1; }
    rec gc_time ours "$(awk '{print $1}' "$WORK/gc.time")"
    rec gc_rss ours "$(awk '{printf "%.1f", $2 / 1024}' "$WORK/gc.time")"
    rec gc_cpu ours "$(awk '{printf "%.1f", $3 + $4}' "$WORK/gc.time")"
    tail -n 1 "$OUT/gc.out" >&2
    return $ok
}
