#!/usr/bin/env bash
# run_registry.sh: scripts/run-registry, the run command, as a user runs it,
# on free loopback ports with a temporary OCI_P2P_DATA:
#   - --help and -h print the usage and exit 0 at once, building and
#     starting nothing; an unknown argument gets the usage on stderr, exit 2
#   - a kept registry.conf made with other Kubo ports and another data
#     folder: ipfsapiaddress, ipfsgatewayaddress and statedir are updated in
#     place (one "old -> new" line each; the user's other lines and comments
#     kept), the registry becomes healthy through nginx and takes a push;
#     SIGTERM stops nginx, the registry and the Kubo node it started
#   - Kubo unreachable from the registry (REGISTRY_STORAGE_IPFS_IPFSAPIADDRESS
#     naming a dead port): no "registry ready"; the health endpoint's reason
#     is printed, everything it started is stopped, exit 1, in bounded time
# It needs no shared stack: run-registry starts its own Kubo node.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

RR_SCRIPT=$E2E_ROOT/scripts/run-registry
RR_PID=""

rr_alive() { [ -n "$RR_PID" ] && kill -0 "$RR_PID" 2>/dev/null; }

# rr_start OUT VAR=VALUE...: run-registry in the background in a session
# of its own (so a last-resort cleanup can reach its children), with the
# suite's data folder and ports plus the given variables; output in OUT.
rr_start() {
    local out=$1
    shift
    env -u REGISTRY_STORAGE_IPFS_IPFSAPIADDRESS OCI_P2P_DATA="$RR_DATA" REGISTRY_PORT="$RR_PORT" \
        KUBO_API_PORT="$RR_API" KUBO_GATEWAY_PORT="$RR_GW" "$@" \
        setsid bash "$RR_SCRIPT" >"$out" 2>&1 &
    RR_PID=$!
}

# rr_wait_exit SECONDS: waits for run-registry to exit; its status in RR_RC.
rr_wait_exit() {
    local end=$((SECONDS + $1))
    while rr_alive && [ "$SECONDS" -lt "$end" ]; do sleep 0.5; done
    rr_alive && return 1
    wait "$RR_PID"
    RR_RC=$?
    RR_PID=""
}

# rr_stop: SIGTERM (what Ctrl-C does in a terminal: a background job
# ignores SIGINT), bounded; the session is killed if it does not exit.
rr_stop() {
    rr_alive || return 0
    kill -TERM "$RR_PID"
    if ! rr_wait_exit 90; then
        e2e_log "run-registry (pid $RR_PID) ignored SIGTERM for 90s: killing its session"
        kill -KILL -- "-$RR_PID" 2>/dev/null
        RR_PID=""
    fi
}

# rr_wait_ready OUT SECONDS: until run-registry says it is ready, or exits.
rr_wait_ready() {
    local end=$((SECONDS + $2))
    until grep -q 'registry ready' "$1"; do
        rr_alive && [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.5
    done
}

rr_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Nothing run-registry started outlives it: no registry names the data
# folder's registry.conf, and nginx's and Kubo's ports are free.
rr_nothing_left() {
    ! pgrep -f "$RR_DATA/registry.conf" >/dev/null && rr_port_free "$RR_PORT" && rr_port_free "$RR_API" \
        && rr_port_free "$RR_GW"
}

rr_cleanup() {
    rr_stop
    if [ -n "${RR_DATA:-}" ] && [ -d "$RR_DATA" ]; then
        mkdir -p "$E2E_ARTIFACTS/logs/run_registry"
        cp "$RR_DATA"/*.log "$RR_DATA"/*.conf "$RR_DIR"/*.out "$E2E_ARTIFACTS/logs/run_registry/" 2>/dev/null
        rm -rf "$RR_DIR"
    fi
    [ "$E2E_OWNER" = 1 ] && rm -rf "$E2E_RUN"
}

rr_help() {
    local out=$RR_DIR/help.out err=$RR_DIR/help.err opt rc t
    for opt in --help -h; do
        t=$SECONDS
        OCI_P2P_DATA=$RR_DIR/nodata timeout 20 bash "$RR_SCRIPT" "$opt" >"$out" 2>"$err"
        rc=$?
        e2e_check "run-registry $opt exits 0 (got $rc)" [ "$rc" = 0 ]
        e2e_check "run-registry $opt prints the usage with every variable and its default" \
            sh -c "grep -q '^Usage: scripts/run-registry' '$out' && grep -q 'REGISTRY_PORT .*(5000)' '$out' \
                && grep -q 'KUBO_API_PORT .*(5001)' '$out' && grep -q 'KUBO_GATEWAY_PORT .*(8080)' '$out' \
                && grep -q 'OCI_P2P_DATA' '$out' && grep -q 'OCI_P2P_HEALTH_WAIT .*(30)' '$out'"
        e2e_check "run-registry $opt installs, builds and starts nothing (no output on stderr, no data folder, $((SECONDS - t))s)" \
            sh -c "[ ! -s '$err' ] && [ ! -e '$RR_DIR/nodata' ] && [ $((SECONDS - t)) -le 5 ]"
    done
    OCI_P2P_DATA=$RR_DIR/nodata timeout 20 bash "$RR_SCRIPT" --frobnicate >"$out" 2>"$err"
    rc=$?
    e2e_check "run-registry --frobnicate exits 2 (got $rc) with the usage on stderr, nothing on stdout" \
        sh -c "[ $rc = 2 ] && [ ! -s '$out' ] && grep -q 'unknown argument \"--frobnicate\"' '$err' \
            && grep -q '^Usage:' '$err' && [ ! -e '$RR_DIR/nodata' ]"
}

rr_healthy() { [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RR_PORT/v2/_p2p/health")" = 200 ]; }

# A monolithic blob push through nginx: the registry reaches Kubo.
rr_push() {
    local f=$RR_DIR/blob.bin d
    head -c 4096 /dev/urandom >"$f"
    d=sha256:$(sha256sum "$f" | cut -d' ' -f1)
    [ "$(curl -s -m 30 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/octet-stream' \
        --data-binary "@$f" "http://127.0.0.1:$RR_PORT/v2/e2e/run-registry/blobs/uploads/?digest=$d")" = 201 ] \
        && curl -sf -m 30 "http://127.0.0.1:$RR_PORT/v2/e2e/run-registry/blobs/$d" | cmp -s - "$f"
}

# A registry.conf kept from a run with other Kubo ports and another data
# folder, with edits of the user's own.
rr_stale_conf() {
    local out=$RR_DIR/stale.out old_api old_gw conf=$RR_DATA/registry.conf
    old_api=$(e2e_free_port) old_gw=$(e2e_free_port)
    mkdir -p "$RR_DATA"
    cat >"$conf" <<EOF
# written by an earlier run-registry, then edited
ipfsapiaddress = "/ip4/127.0.0.1/tcp/$old_api";   # the old Kubo
ipfsgatewayaddress = "http://127.0.0.1:$old_gw";
mfsroot = "/oci-registry-p2p-e2e-run";
statedir = "/tmp/oci-p2p-old-data-folder/state";
workers = 2;   # mine
log_level = "debug";
EOF
    cp "$conf" "$RR_DIR/registry.conf.before"
    rr_start "$out"
    e2e_check "stale ports: run-registry says 'registry ready'" rr_wait_ready "$out" 300
    e2e_check "stale ports: it says ipfsapiaddress old -> new" \
        grep -qF "registry.conf: ipfsapiaddress \"/ip4/127.0.0.1/tcp/$old_api\" -> \"/ip4/127.0.0.1/tcp/$RR_API\" (KUBO_API_PORT=$RR_API)" "$out"
    e2e_check "stale ports: it says ipfsgatewayaddress old -> new" \
        grep -qF "registry.conf: ipfsgatewayaddress \"http://127.0.0.1:$old_gw\" -> \"http://127.0.0.1:$RR_GW\" (KUBO_GATEWAY_PORT=$RR_GW)" "$out"
    e2e_check "stale data folder: it says statedir old -> new" \
        grep -qF "registry.conf: statedir \"/tmp/oci-p2p-old-data-folder/state\" -> \"$RR_DATA/state\"" "$out"
    e2e_check "registry.conf: exactly those three values changed, in place; comments and the user's lines kept" \
        sh -c "diff '$RR_DIR/registry.conf.before' '$conf' | grep '^[<>]' | sort >'$RR_DIR/conf.diff'
            [ \"\$(grep -c '^<' '$RR_DIR/conf.diff')\" = 3 ] && [ \"\$(grep -c '^>' '$RR_DIR/conf.diff')\" = 3 ] \
            && grep -qxF 'ipfsapiaddress = \"/ip4/127.0.0.1/tcp/$RR_API\";   # the old Kubo' '$conf' \
            && grep -qxF 'ipfsgatewayaddress = \"http://127.0.0.1:$RR_GW\";' '$conf' \
            && grep -qxF 'statedir = \"$RR_DATA/state\";' '$conf' && grep -qxF 'workers = 2;   # mine' '$conf'"
    e2e_check "stale ports: /v2/_p2p/health answers 200 through nginx on REGISTRY_PORT" rr_healthy
    e2e_check "stale ports: a blob push and pull through nginx work" rr_push
    e2e_check "a kept registry.conf without blobdir: it says blob files are off and how to turn them on" \
        grep -q 'blob files: off (no blobdir in' "$out"
    rr_stop
    e2e_check "SIGTERM: run-registry stops what it started and exits 130 (got ${RR_RC:-none})" \
        sh -c "grep -q 'stopping' '$out' && [ '${RR_RC:-}' = 130 ]"
    e2e_check "SIGTERM: nothing it started is left (no registry, ports $RR_PORT $RR_API $RR_GW free)" \
        e2e_wait_for 10 "run-registry's processes to go" rr_nothing_left
    # A second start with the now matching file changes nothing.
    rr_start "$RR_DIR/again.out"
    rr_wait_ready "$RR_DIR/again.out" 120
    e2e_check "second start: ready, and no registry.conf line changed" \
        sh -c "grep -q 'registry ready' '$RR_DIR/again.out' && ! grep -q 'registry.conf:' '$RR_DIR/again.out'"
    rr_stop
}

# Kubo genuinely unreachable from the registry: the environment override
# names a port nothing listens on.
rr_unreachable() {
    local out=$RR_DIR/unreachable.out dead t
    dead=$(e2e_free_port)
    t=$SECONDS
    rr_start "$out" REGISTRY_STORAGE_IPFS_IPFSAPIADDRESS="/ip4/127.0.0.1/tcp/$dead" OCI_P2P_HEALTH_WAIT=5
    if ! rr_wait_exit 120; then
        e2e_fail "Kubo unreachable: run-registry still runs after 120s"
        rr_stop
        return
    fi
    e2e_check "Kubo unreachable: run-registry exits 1 (got $RR_RC) in $((SECONDS - t))s" [ "$RR_RC" = 1 ]
    e2e_check "Kubo unreachable: it never says 'registry ready'" sh -c "! grep -q 'registry ready' '$out'"
    e2e_check "Kubo unreachable: it prints the health reason and where the registry looks for Kubo" \
        sh -c "grep 'error: the registry is not healthy after 5s: the IPFS node does not answer' '$out' \
            | grep -qF '/ip4/127.0.0.1/tcp/$dead (from REGISTRY_STORAGE_IPFS_IPFSAPIADDRESS)'"
    e2e_check "Kubo unreachable: nothing it started is left (no registry, ports $RR_PORT $RR_API $RR_GW free)" \
        e2e_wait_for 10 "run-registry's processes to go" rr_nothing_left
    grep 'error:' "$out" | sed 's/^/    /'
}

# Two run-registry on one Kubo node (the second reuses the node the first
# started) and the same default mfsroot: the second one's registry refuses
# the tree, and run-registry says so at once, with the owner and the
# setting to change, instead of serving it beside the first.
rr_shared_tree() {
    local a=$RR_DIR/share-a.out b=$RR_DIR/share-b.out port2 t rc
    port2=$(e2e_free_port)
    rr_start "$a" OCI_P2P_DATA="$RR_DIR/share-a"
    e2e_check "shared tree: the first run-registry is ready" rr_wait_ready "$a" 300
    e2e_check "a fresh data folder: blob files are on, in it (its own Kubo references them)" \
        grep -qF "blob files: on, in $RR_DIR/share-a/blobs" "$a"
    local first=$RR_PID
    t=$SECONDS
    env -u REGISTRY_STORAGE_IPFS_IPFSAPIADDRESS OCI_P2P_DATA="$RR_DIR/share-b" REGISTRY_PORT="$port2" \
        KUBO_API_PORT="$RR_API" KUBO_GATEWAY_PORT="$RR_GW" timeout 120 setsid bash "$RR_SCRIPT" >"$b" 2>&1
    rc=$?
    e2e_check "shared tree: the second run-registry exits 1 (got $rc) in $((SECONDS - t))s, before its health wait ends" \
        [ "$rc" = 1 ]
    e2e_check "shared tree: it names the owner of mfsroot /oci-registry-p2p and the setting to change" \
        grep -qF "error: the registry stopped: mfsroot /oci-registry-p2p is owned by another registry: statedir $RR_DIR/share-a/state" "$b"
    e2e_check "shared tree: it never says 'registry ready'" sh -c "! grep -q 'registry ready' '$b'"
    grep 'error:' "$b" | cut -c1-200 | sed 's/^/    /'
    RR_PID=$first
    rr_stop
}

main() {
    e2e_init_run
    RR_DIR=$(mktemp -d /tmp/oci-p2p-runreg.XXXXXX)
    RR_DATA=$RR_DIR/data
    RR_PORT=$(e2e_free_port) RR_API=$(e2e_free_port) RR_GW=$(e2e_free_port)
    trap rr_cleanup EXIT
    trap 'exit 130' INT TERM
    echo "== scripts/run-registry (data $RR_DATA; ports: registry $RR_PORT, Kubo RPC $RR_API, gateway $RR_GW)"
    rr_help
    rr_stale_conf
    rr_unreachable
    rr_shared_tree
    e2e_finish run_registry
}

main "$@"
