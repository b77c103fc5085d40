# shellcheck shell=bash
# p2p_lib.sh: two (or more) real Kubo nodes on loopback for the suites
# that need a second node (tests/e2e/p2p.sh, tests/e2e/layout_push.sh).
# Sourced after lib.sh, with P2P set to the suite's scratch directory:
# node N lives in $P2P/nN, laid out as lib.sh expects, so `on N
# e2e_start_stack ...` starts a stack against node N's Kubo.

# p2p_node N: an online Kubo node in $P2P/nN/kubo, laid out as lib.sh
# expects (so e2e_start_stack works with E2E_RUN=$P2P/nN), listening on
# 127.0.0.1 only, no bootstrap peers, no mDNS, a DHT server (a node on a
# private address would otherwise stay a DHT client that nobody can ask).
# P2P_KUBO_RETRIEVAL_TIMEOUT, if set, is the nodes' Gateway.RetrievalTimeout
# (how long Kubo's gateway waits for a write to go through before it cuts
# the response; 30 s by default).
p2p_node() {
    local dir=$P2P/n$1/kubo api gw swarm
    mkdir -p "$dir"
    export IPFS_PATH=$dir/repo
    "$IPFS_BIN" init --profile=test >"$dir/init.log" 2>&1 || { cat "$dir/init.log" >&2; return 1; }
    api=$(e2e_free_port) && gw=$(e2e_free_port) && swarm=$(e2e_free_port) || return 1
    e2e_kubo_peer_config "/ip4/127.0.0.1/tcp/$api" "/ip4/127.0.0.1/tcp/$gw" "/ip4/127.0.0.1/tcp/$swarm" || return 1
    if [ -n "${P2P_KUBO_RETRIEVAL_TIMEOUT:-}" ]; then
        "$IPFS_BIN" config Gateway.RetrievalTimeout "$P2P_KUBO_RETRIEVAL_TIMEOUT" || return 1
    fi
    unset IPFS_PATH
    echo "$api" >"$dir/api.port"
    echo "$gw" >"$dir/gw.port"
    p2p_daemon "$1"
}

p2p_daemon() {
    local dir=$P2P/n$1/kubo
    IPFS_PATH=$dir/repo "$IPFS_BIN" daemon >>"$dir/daemon.log" 2>&1 &
    echo $! >"$dir/pid"
    e2e_wait_for 60 "node $1 RPC" curl -sf -X POST "http://127.0.0.1:$(cat "$dir/api.port")/api/v0/version" \
        || { tail -n 20 "$dir/daemon.log" >&2; return 1; }
}

# ipfs CLI against node N
nipfs() { local n=$1; shift; IPFS_PATH=$P2P/n$n/kubo/repo "$IPFS_BIN" --api "/ip4/127.0.0.1/tcp/$(cat "$P2P/n$n/kubo/api.port")" "$@"; }
p2p_connect() { nipfs 2 swarm connect "$(nipfs 1 id -f '<addrs>' | grep 127.0.0.1 | head -n1)/p2p/$(nipfs 1 id -f '<id>')" >/dev/null; }

# In node N's namespace: lib.sh functions see that node's Kubo.
on() { local n=$1; shift; E2E_RUN=$P2P/n$n "$@"; }
url() { on "$1" e2e_url "$2"; }


# p2p_stop_nodes TAG: every stack (nginx, registry) and Kubo node under
# $P2P stopped, their logs kept in $E2E_ARTIFACTS/logs/TAG-n<N>-<stack>.
p2p_stop_nodes() {
    local tag=$1 n name d
    for n in 1 2 3; do
        [ -d "$P2P/n$n" ] || continue
        for d in "$P2P/n$n"/*/; do
            [ -d "$d" ] || continue
            name=$(basename "$d")
            [ "$name" = kubo ] && continue
            on "$n" e2e_stop_nginx "$name"
            on "$n" e2e_stop_registry "$name"
            mkdir -p "$E2E_ARTIFACTS/logs/$tag-n$n-$name"
            cp "$d"/*.log "$d"/*.conf "$d"/state/*.json "$d"/nginx/*.log "$E2E_ARTIFACTS/logs/$tag-n$n-$name/" 2>/dev/null
        done
        e2e_stop_pid "$P2P/n$n/kubo/pid" 20
        mkdir -p "$E2E_ARTIFACTS/logs/$tag-n$n-kubo"
        cp "$P2P/n$n/kubo"/*.log "$E2E_ARTIFACTS/logs/$tag-n$n-kubo/" 2>/dev/null
    done
}
