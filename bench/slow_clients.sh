#!/usr/bin/env bash
# bench/slow_clients.sh: do slow uploads stop pulls? One command, one run:
#
#   bench/slow_clients.sh        3 reps, wrk 10 s, 100 slow uploads
#
# It starts its own stack on loopback (Kubo, the registry with its defaults
# under spawn-fcgi, the shipped nginx config: tests/e2e/lib.sh), pushes a
# small image, then measures manifest GETs by tag with wrk (2 threads, 32
# connections) twice per rep, in alternating order:
#   base  nothing else going on
#   slow  while bench/slow_uploads.py holds SLOW uploads open, each PATCH
#         sending its body one byte a second (a refused one waits for its
#         Retry-After and tries again, as a client would)
# and prints requests/s and p99 of each sample, each rep's ratios and their
# medians against the targets of the hardening issue: p99 slow/base <= 3,
# requests/s slow/base >= 0.8. Not a pass/fail test (BENCH_STRICT=1 makes a
# missed target exit 1); a sample with any non-2xx GET is void and fails the run.
#
# Environment: BENCH_REPS (3), BENCH_DURATION (wrk seconds, 10),
# BENCH_SLOW_CLIENTS (100), BENCH_CONNECTIONS (32), BENCH_REGISTRY_CONF
# (extra registry config lines, newline-separated, e.g. "upload_workers = 8;"),
# BENCH_OUT (default
# <checkout>/_artifacts/bench-slow: samples.tsv, wrk.log, slow-*.json,
# settings.txt, logs/), BENCH_KUBO_RUN (reuse that e2e run's Kubo),
# REGISTRY_BIN (a given build).
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
case ${1:-} in
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    "") ;;
    *) echo "bench/slow_clients.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
esac
REPS=${BENCH_REPS:-3}
DUR=${BENCH_DURATION:-10}
SLOW=${BENCH_SLOW_CLIENTS:-100}
CONNS=${BENCH_CONNECTIONS:-32}
OUT=${BENCH_OUT:-$ROOT/_artifacts/bench-slow}
# Seconds the slow clients get to fill the upload slots before wrk starts
# (connecting 100 clients takes well under one), and after wrk ends.
RAMP=3

export OCI_P2P_ROOT=$ROOT E2E_ROOT=$ROOT
# shellcheck source=../scripts/deps.sh
. "$ROOT/scripts/deps.sh"
deps_packages && deps_kubo || exit 1
for t in wrk spawn-fcgi nginx python3 jq; do
    command -v "$t" >/dev/null || { echo "bench/slow_clients.sh: $t is missing (scripts/deps.sh deps_packages installs it)" >&2; exit 1; }
done
if [ -z "${REGISTRY_BIN:-}" ]; then
    deps_build normal || exit 1
    REGISTRY_BIN=$BUILD_DIR/oci-registry-p2p
fi
export REGISTRY_BIN IPFS_BIN

rm -rf "$OUT"
mkdir -p "$OUT"
E2E_RUN=$(mktemp -d /tmp/oci-p2p-bench.XXXXXX) || exit 1
E2E_OWNER=1
E2E_ARTIFACTS=$OUT
export E2E_RUN E2E_OWNER
# shellcheck source=../tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"
# shellcheck source=lib.sh
. "$BENCH_DIR/lib.sh"
# shellcheck source=cases.sh
. "$BENCH_DIR/cases.sh"   # meta_push, rotate
e2e_init_run
WORK=$(mktemp -d /tmp/oci-p2p-bench-work.XXXXXX)
SLOW_PID=""
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    [ -n "$SLOW_PID" ] && kill "$SLOW_PID" 2>/dev/null
    e2e_teardown
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${BENCH_KUBO_RUN:-}" ] && [ -f "$BENCH_KUBO_RUN/kubo/api.port" ]; then
    mkdir -p "$E2E_RUN/kubo"
    cp "$BENCH_KUBO_RUN/kubo/api.port" "$BENCH_KUBO_RUN/kubo/gw.port" "$E2E_RUN/kubo/"
    ln -s "$BENCH_KUBO_RUN/kubo/repo" "$E2E_RUN/kubo/repo"
else
    e2e_start_kubo || exit 1
fi
conf=()
if [ -n "${BENCH_REGISTRY_CONF:-}" ]; then
    mapfile -t conf <<<"$BENCH_REGISTRY_CONF"
fi
e2e_start_stack ours "${conf[@]}" || exit 1
OURS=$(e2e_url ours)
RESULTS=$OUT/samples.tsv
: >"$RESULTS"
meta_push "$OURS" meta || { bench_log "pushing the image failed"; exit 1; }
URL=$OURS/v2/meta/manifests/v1
ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json'

{
    echo "reps: $REPS; wrk: ${DUR}s, $CONNS connections, 2 threads, GET $URL"
    echo "slow uploads: $SLOW clients, one body byte a second each, from ${RAMP}s before wrk to ${RAMP}s after"
    echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1), load $(cut -d' ' -f1-3 /proc/loadavg) at start"
    echo "--- registry (--check-config):"
    "$REGISTRY_BIN" --check-config -c "$E2E_RUN/ours/registry.conf" 2>&1
} >"$OUT/settings.txt"
cat "$OUT/settings.txt"

# ms of a wrk latency ("850.00us", "3.30ms", "1.20s")
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.3f", n }'
}

# measure REP MODE: one wrk sample; appends "rep mode rps p99_ms" to RESULTS.
measure() {
    local rep=$1 mode=$2 out rps p99
    out=$(wrk -t2 -c"$CONNS" -d"${DUR}s" --latency -H "$ACCEPT" "$URL" 2>&1) || { bench_log "wrk failed: $out"; return 1; }
    printf '== rep %s %s\n%s\n' "$rep" "$mode" "$out" >>"$OUT/wrk.log"
    if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
        bench_log "rep $rep $mode: errors from $URL:"
        grep -E 'Non-2xx|Socket errors' <<<"$out" >&2
        return 1
    fi
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
    awk -v r="$rps" 'BEGIN {exit !(r > 0)}' || { bench_log "rep $rep $mode: no requests/s"; return 1; }
    printf '%s\t%s\t%s\t%s\n' "$rep" "$mode" "$rps" "$p99" >>"$RESULTS"
    printf '  rep %s %-4s  %10.0f req/s  p99 %8.2f ms\n' "$rep" "$mode" "$rps" "$p99"
}

# The same with the slow uploads running around it.
measure_slow() {
    local rep=$1 rc json=$OUT/slow-$1.json
    python3 "$BENCH_DIR/slow_uploads.py" --url "$OURS" --clients "$SLOW" \
        --duration $((DUR + 2 * RAMP)) >"$json" 2>"$OUT/slow-$rep.err" &
    SLOW_PID=$!
    sleep "$RAMP"
    measure "$rep" slow
    rc=$?
    wait "$SLOW_PID"
    SLOW_PID=""
    printf '        slow clients: %s\n' "$(jq -c '{sending, answered, errors}' "$json" 2>/dev/null || cat "$OUT/slow-$rep.err")"
    # they must really have been holding uploads: else the sample says nothing
    jq -e '.sending > 0 and .errors == 0' "$json" >/dev/null 2>&1 || { bench_log "rep $rep: the slow uploads did not run"; return 1; }
    return $rc
}

FAILED=0
for ((r = 1; r <= REPS; r++)); do
    for m in $(rotate "$r" base slow); do
        if [ "$m" = base ]; then measure "$r" base; else measure_slow "$r"; fi || FAILED=1
    done
done
curl -s "$OURS/v2/_p2p/metrics" | grep -E '^oci_registry_p2p_upload_(refused_total|sessions_open)' >"$OUT/metrics.txt"

python3 - "$RESULTS" "$OUT/summary.txt" <<'PY'
# The verdict is on the median of the per-rep ratios: each rep's two samples
# ran back to back, so a load that drifts over the run (other jobs on the
# machine) cancels out of a rep's ratio better than out of the medians.
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
by = {}
for rep, mode, rps, p99 in rows:
    by.setdefault(rep, {})[mode] = (float(rps), float(p99))
reps = sorted((r for r in by if "base" in by[r] and "slow" in by[r]), key=int)
if not reps:
    sys.exit("no complete rep")
ok = lambda good: "yes" if good else "NO"
lines = ["rep  base req/s  slow req/s  ratio (>= 0.8)   base p99   slow p99  ratio (<= 3)"]
tr_all, tp_all = [], []
for rep in reps:
    (br, bp), (sr, sp) = by[rep]["base"], by[rep]["slow"]
    tr_all.append(sr / br)
    tp_all.append(sp / bp)
    lines.append("%3s  %10.0f  %10.0f  %6.2f %-7s  %7.2fms  %7.2fms  %5.2f %s" % (
        rep, br, sr, sr / br, ok(sr / br >= 0.8), bp, sp, sp / bp, ok(sp / bp <= 3)))
med = statistics.median
tr, tp = med(tr_all), med(tp_all)
lines.append("med  %10.0f  %10.0f  %6.2f %-7s  %7.2fms  %7.2fms  %5.2f %s" % (
    med([by[r]["base"][0] for r in reps]), med([by[r]["slow"][0] for r in reps]), tr, ok(tr >= 0.8),
    med([by[r]["base"][1] for r in reps]), med([by[r]["slow"][1] for r in reps]), tp, ok(tp <= 3)))
lines.append("targets (median of the per-rep ratios): throughput %.2f >= 0.8: %s; p99 %.2f <= 3: %s" % (
    tr, "met" if tr >= 0.8 else "MISSED", tp, "met" if tp <= 3 else "MISSED"))
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print("\n" + "\n".join(lines))
sys.exit(0 if (tr >= 0.8 and tp <= 3) else 3)
PY
verdict=$?   # 0 targets met, 3 missed, else no complete rep
[ "$verdict" = 0 ] || [ "$verdict" = 3 ] || FAILED=1
cat "$OUT/metrics.txt"
echo "samples: $RESULTS; wrk output: $OUT/wrk.log; load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$FAILED" = 0 ] || { echo "bench/slow_clients.sh: some samples failed (see above)" >&2; exit 1; }
if [ "$verdict" = 3 ] && [ "${BENCH_STRICT:-0}" = 1 ]; then exit 1; fi
exit 0
