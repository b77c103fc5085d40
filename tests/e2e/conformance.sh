#!/usr/bin/env bash
# conformance.sh: the official OCI distribution-spec conformance suite (the
# 2026 rewrite) against the real stack, twice:
#   1.1   OCI_VERSION=1.1, the suite's defaults, registry with its defaults
#   dev   OCI_VERSION=dev, every API and data toggle on, registry with
#         allow_sparse = true
# Each run must end with 0 failed, 0 errors and 0 skipped: the suite records
# an unsupported feature (405 on delete, 202 instead of a mount, full body
# instead of a Range) as "skipped", so a skip is a gap. Tests a toggle turns
# off are "disabled" and counted apart. results.yaml, junit.xml and
# report.html of each run are kept in $E2E_ARTIFACTS/conformance-<run>/.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

# Every toggle the suite has (its README's OCI_API_* and OCI_DATA_* list).
CONF_ALL_TOGGLES="OCI_API_PING OCI_API_PULL OCI_API_PUSH
OCI_API_BLOBS_ATOMIC OCI_API_BLOBS_DELETE OCI_API_BLOBS_DIGEST_HEADER
OCI_API_BLOBS_MOUNT_ANONYMOUS OCI_API_BLOBS_UPLOAD_CANCEL
OCI_API_MANIFESTS_ATOMIC OCI_API_MANIFESTS_DELETE OCI_API_MANIFESTS_DIGEST_HEADER
OCI_API_MANIFESTS_TAG_PARAM OCI_API_TAGS_ATOMIC OCI_API_TAGS_DELETE OCI_API_TAGS_LIST
OCI_API_REFERRER
OCI_DATA_IMAGE OCI_DATA_INDEX OCI_DATA_INDEX_LIST OCI_DATA_SPARSE OCI_DATA_ARTIFACT
OCI_DATA_SUBJECT OCI_DATA_SUBJECT_MISSING OCI_DATA_ARTIFACT_LIST OCI_DATA_SUBJECT_LIST
OCI_DATA_DATA_FIELD OCI_DATA_NONDISTRIBUTABLE OCI_DATA_CUSTOM_FIELDS OCI_DATA_NO_LAYERS
OCI_DATA_EMPTY_BLOB OCI_DATA_SHA512"

# conf_counts JUNIT: prints "tests failures errors skipped disabled".
conf_counts() {
    python3 - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
get = lambda k: int(root.get(k) or 0)
print(get("tests"), get("failures"), get("errors"), get("skipped"), get("disabled"))
EOF
}

# conf_run RUN STACK VERSION [VAR=VALUE...]
conf_run() {
    local run=$1 stack=$2 version=$3 out rc counts tests failed errors skipped disabled
    shift 3
    out=$E2E_ARTIFACTS/conformance-$run
    rm -rf "$out"
    mkdir -p "$out"
    : >"$out/empty.yaml"
    e2e_log "conformance run '$run' (OCI_VERSION=$version) against $(e2e_url "$stack")"
    # Run inside the results dir with an empty OCI_CONFIGURATION, so no
    # stray oci-conformance.yaml can change the settings.
    (
        cd "$out" || exit 1
        env OCI_CONFIGURATION="$out/empty.yaml" OCI_RESULTS_DIR="$out" OCI_VERSION="$version" \
            OCI_REGISTRY="127.0.0.1:$(e2e_port "$stack")" OCI_TLS=disabled OCI_LOG=warn \
            OCI_REPO1="conformance-$run/repo1" OCI_REPO2="conformance-$run/repo2" \
            "$@" timeout 900 "$CONFORMANCE_BIN"
    ) >"$out/stdout.log" 2>"$out/stderr.log"
    rc=$?
    if [ ! -f "$out/junit.xml" ]; then
        e2e_fail "conformance $run: no junit.xml (exit $rc); see $out/stderr.log"
        tail -n 20 "$out/stderr.log"
        return
    fi
    counts=$(conf_counts "$out/junit.xml") || { e2e_fail "conformance $run: unreadable junit.xml"; return; }
    read -r tests failed errors skipped disabled <<<"$counts"
    printf 'conformance %-4s: %s tests, %s passed, %s failed, %s errors, %s skipped, %s disabled (exit %s)\n' \
        "$run" "$tests" "$((tests - failed - errors - skipped - disabled))" "$failed" "$errors" "$skipped" "$disabled" "$rc"
    printf '%s %s %s %s %s\n' "$tests" "$failed" "$errors" "$skipped" "$disabled" >"$out/counts"
    if [ "$failed" -eq 0 ] && [ "$errors" -eq 0 ] && [ "$skipped" -eq 0 ] && [ "$rc" -eq 0 ]; then
        e2e_ok "conformance $run: 0 failed, 0 errors, 0 skipped"
    else
        e2e_fail "conformance $run: $failed failed, $errors errors, $skipped skipped (exit $rc)"
        # The report's tree names each test; show the ones that did not pass.
        grep -E ': (FAIL|Error|Skip)$' "$out/stdout.log" | head -n 60
        sed -n '/^Errors:/,/^API conformance:/p' "$out/stdout.log" | head -n 40
    fi
}

main() {
    local t all_on=()
    e2e_ensure_stack default || { e2e_fail "stack 'default' did not start"; e2e_finish conformance; return; }
    e2e_ensure_stack sparse || { e2e_fail "stack 'sparse' did not start"; e2e_finish conformance; return; }
    [ -n "${CONFORMANCE_BIN:-}" ] || deps_conformance || { e2e_fail "no conformance binary"; e2e_finish conformance; return; }
    echo "== OCI conformance (artifacts: $E2E_ARTIFACTS/conformance-*)"
    conf_run 1.1 default 1.1
    for t in $CONF_ALL_TOGGLES; do all_on+=("$t=true"); done
    conf_run dev sparse dev "${all_on[@]}"
    e2e_finish conformance
}

# Sourced (tests/e2e/fronts.sh reuses the functions): define only.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
