#!/bin/sh
# tests/fuzz/run.sh SEEDS OUT SECONDS TARGET...: runs each fuzz target built
# in OUT (OUT/fuzz_TARGET) for SECONDS, one after the other at low priority,
# and prints per target the executions, libFuzzer's final cov: and ft:, the
# seconds it ran and the outcome. Called by `make fuzz` and `make fuzz-smoke`
# (tests/fuzz/fuzz.mk).
#
# The seeds (SEEDS/fuzz_TARGET, kept in the tree) are only read. `make fuzz`
# grows a corpus per target in OUT/corpus/fuzz_TARGET, kept between runs;
# with FUZZ_SMOKE=1 the corpus is a temporary directory and the random seed
# is fixed, so the smoke in tests/run-all is the seeds plus a few seconds of
# the same mutations every time. A crash, leak, sanitizer report, invariant
# (FUZZ_ASSERT) or timeout leaves the input in OUT/crash-TARGET-*, the log in
# OUT/fuzz_TARGET.log, and makes the exit status 1.
set -u
seeds=$1 out=$2 seconds=$3
shift 3
# leaks inside libraries, not ours (see the file)
LSAN_OPTIONS=suppressions=$(cd "$(dirname "$0")" && pwd)/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
export LSAN_OPTIONS
failed=0
printf '%-14s %10s %7s %7s %5s  %s\n' target execs cov ft secs result
for t in "$@"; do
    bin=$out/fuzz_$t log=$out/fuzz_$t.log
    if [ "${FUZZ_SMOKE:-0}" = 1 ]; then
        corpus=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$t.XXXXXX") || exit 1
        extra=-seed=1
    else
        corpus=$out/corpus/fuzz_$t
        mkdir -p "$corpus"
        extra=
    fi
    dict=
    [ -f "$seeds/fuzz_$t.dict" ] && dict=-dict=$seeds/fuzz_$t.dict
    rm -f "$out"/crash-"$t"-*
    start=$(date +%s)
    # shellcheck disable=SC2086 # $dict and $extra are empty or one word
    nice -n 10 "$bin" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 \
        -artifact_prefix="$out/crash-$t-" $dict $extra "$corpus" "$seeds/fuzz_$t" >"$log" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    [ "${FUZZ_SMOKE:-0}" = 1 ] && rm -rf "$corpus"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    last=$(grep -E '^#[0-9]+.* cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
    cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    if [ "$rc" = 0 ]; then
        result=ok
    else
        result="FAIL (exit $rc): $(find "$out" -maxdepth 1 -name "crash-$t-*" 2>/dev/null | head -n 1) log $log"
        failed=1
    fi
    printf '%-14s %10s %7s %7s %5s  %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$secs" "$result"
    if [ "$rc" != 0 ]; then
        grep -E 'ERROR: |SUMMARY: |invariant does not hold|runtime error:' "$log" | head -n 5 | sed 's/^/    /'
    fi
done
exit "$failed"
