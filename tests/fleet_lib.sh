# shellcheck shell=bash
# fleet_lib.sh: a fleet on one machine (issue 16). One writer and N
# followers, each a real Kubo node + registry + nginx in a network namespace
# of its own, joined to one bridge by links shaped with tbf:
#
#   namespace <ns>-hub: bridge br0 (nothing is added to the root namespace)
#     veth v-<node> (tbf) <-> eth0 (tbf) in namespace <ns>-<node>, 10.77.0.<i>/24
#   node w  (writer, 10.77.0.1): key "fleet", registry "reg" with writeipnskey
#   node fK (follower K, 10.77.0.K+1): registry "reg" with readonlyipnskeys,
#            readonly, ipnsrefresh = 1, pinreadonly on or off
#
# Sourced after tests/e2e/lib.sh by tests/e2e/fleet.sh and
# bench/cases_fleet.sh (and, inside a namespace, by fleet_in). It only
# defines functions. Node NODE's files are in $FLEET/NODE, laid out as lib.sh
# expects (kubo/, <stack>/), so lib.sh's functions run in the namespace with
# E2E_RUN=$FLEET/NODE. Each namespace has its own loopback, so every Kubo
# node has the same ports: RPC 127.0.0.1:5001, gateway 127.0.0.1:8080, swarm
# 10.77.0.<i>:4001 (DHT server, no bootstrap, no mDNS). nginx listens on
# 0.0.0.0 in its namespace (clients on other nodes reach it at 10.77.0.<i>).
#
# Settings: FLEET (scratch dir, required), FLEET_NS (namespace prefix,
# default orp<pid>), FLEET_RATE (tbf rate, default 100mbit), FLEET_NET
# (10.77.0), FLEET_KUBO_SET (lines "Key JSON" applied with `ipfs config
# --json` to every node: Kubo tuning), FLEET_SYSCTL (lines "key=value"
# set in every namespace: TCP tuning). netem does not exist on the machines
# this was written on: no delay is added. Everything made is listed under
# $FLEET (namespaces in $FLEET/netns, pids in pid files) and fleet_teardown
# removes it; the caller traps EXIT INT TERM to call it.

# (FLEET_RATE's default is applied where it is used, so a caller that
# sources this file first can still choose its own)
FLEET_NET=${FLEET_NET:-10.77.0}
FLEET_NS=${FLEET_NS:-orp$$}
export FLEET_NET FLEET_NS

fleet_ns() { printf '%s-%s' "$FLEET_NS" "$1"; }
# fleet_ip NODE: w is .1, fK is .K+1
fleet_ip() {
    case $1 in
        w) printf '%s.1' "$FLEET_NET" ;;
        f*) printf '%s.%d' "$FLEET_NET" $((${1#f} + 1)) ;;
        *) return 1 ;;
    esac
}
fleet_now() { date +%s.%N; }

# fleet_in NODE COMMAND...: COMMAND (a lib.sh or fleet_lib.sh function, or
# any program) in NODE's namespace, with lib.sh's E2E_RUN pointing at it.
fleet_in() {
    local node=$1
    shift
    # shellcheck disable=SC2016 # expanded by the inner shell
    ip netns exec "$(fleet_ns "$node")" env E2E_RUN="$FLEET/$node" E2E_HTTP_DIR="$FLEET/$node/.http" \
        E2E_NGINX_HOST=0.0.0.0 bash -c '. "$E2E_ROOT/tests/e2e/lib.sh" && . "$E2E_ROOT/tests/fleet_lib.sh" && "$@"' \
        fleet_in "$@"
}
# fleet_x NODE PROGRAM...: a program in NODE's namespace (no shell)
fleet_x() {
    local node=$1
    shift
    ip netns exec "$(fleet_ns "$node")" "$@"
}
# fleet_rpc NODE CMD [CURL ARGS]: Kubo's RPC /api/v0/CMD on NODE
fleet_rpc() {
    local node=$1 cmd=$2
    shift 2
    fleet_x "$node" curl -sf -m 30 -X POST "$@" "http://127.0.0.1:5001/api/v0/$cmd"
}
fleet_ipfs() {
    local node=$1
    shift
    fleet_x "$node" env IPFS_PATH="$FLEET/$node/kubo/repo" "$IPFS_BIN" --api /ip4/127.0.0.1/tcp/5001 "$@"
}
# fleet_url NODE STACK: the stack's front, from inside NODE's namespace;
# fleet_addr NODE STACK: the same, from any other node
fleet_url() { printf 'http://127.0.0.1:%s' "$(cat "$FLEET/$1/$2/port")"; }
fleet_addr() { printf 'http://%s:%s' "$(fleet_ip "$1")" "$(cat "$FLEET/$1/$2/port")"; }
fleet_peer_id() { cat "$FLEET/$1/kubo/id"; }

# ------------------------------------------------------------------ links
# fleet_rate_bits: FLEET_RATE in bits/s
fleet_rate_bits() {
    local r=${FLEET_RATE:-100mbit}
    r=${r,,}
    case $r in
        *gbit) echo $((${r%gbit} * 1000000000)) ;;
        *mbit) echo $((${r%mbit} * 1000000)) ;;
        *kbit) echo $((${r%kbit} * 1000)) ;;
        *) echo "${r%bit}" ;;
    esac
}
# tbf's bucket (bytes): 10 ms at the rate, at least one 64 KiB GSO segment
fleet_burst() {
    local b
    b=$(($(fleet_rate_bits) / 8 / 100))
    [ "$b" -lt 65536 ] && b=65536
    echo "$b"
}
fleet_shape() { # NAMESPACE DEV
    ip -n "$1" link set "$2" gso_max_size 65536 2>/dev/null
    tc -n "$1" qdisc replace dev "$2" root tbf rate "${FLEET_RATE:-100mbit}" burst "$(fleet_burst)" latency 100ms
}
# fleet_sysctl NAMESPACE: FLEET_SYSCTL's lines ("key=value", for example
# net.ipv4.tcp_notsent_lowat=131072) set in NAMESPACE (those sysctls that
# are per namespace)
fleet_sysctl() {
    local kv
    while read -r kv; do
        [ -n "$kv" ] || continue
        ip netns exec "$1" sysctl -qw "$kv" || { e2e_log "sysctl $kv in $1 failed"; return 1; }
    done <<<"${FLEET_SYSCTL:-}"
}
# fleet_net_up: the hub namespace and its bridge
fleet_net_up() {
    local hub
    hub=$(fleet_ns hub)
    mkdir -p "$FLEET"
    ip netns add "$hub" || return 1
    echo "$hub" >>"$FLEET/netns"
    ip -n "$hub" link set lo up &&
        ip -n "$hub" link add br0 type bridge &&
        ip -n "$hub" link set br0 up
}
# fleet_link NODE: NODE's namespace, its veth to the bridge, its address,
# both ends shaped
fleet_link() {
    local node=$1 ns hub
    ns=$(fleet_ns "$node") hub=$(fleet_ns hub)
    mkdir -p "$FLEET/$node/.http"
    ip netns add "$ns" || return 1
    echo "$ns" >>"$FLEET/netns"
    fleet_sysctl "$ns" || return 1
    ip -n "$ns" link set lo up &&
        ip -n "$hub" link add "v-$node" type veth peer name eth0 netns "$ns" &&
        ip -n "$hub" link set "v-$node" master br0 up &&
        ip -n "$ns" addr add "$(fleet_ip "$node")/24" dev eth0 &&
        ip -n "$ns" link set eth0 up &&
        fleet_shape "$hub" "v-$node" && fleet_shape "$ns" eth0
}

# ------------------------------------------------------------------- Kubo
# fleet_kubo NODE: init and configure NODE's Kubo repository, start it
fleet_kubo() {
    local node=$1 dir=$FLEET/$1/kubo ip line
    ip=$(fleet_ip "$node")
    mkdir -p "$dir"
    export IPFS_PATH=$dir/repo
    "$IPFS_BIN" init --profile=test >"$dir/init.log" 2>&1 || { cat "$dir/init.log" >&2; return 1; }
    e2e_kubo_peer_config /ip4/127.0.0.1/tcp/5001 /ip4/127.0.0.1/tcp/8080 "/ip4/$ip/tcp/4001" || return 1
    while read -r line; do
        [ -n "$line" ] || continue
        # shellcheck disable=SC2086 # "Key JSON"
        "$IPFS_BIN" config --json $line || { unset IPFS_PATH; return 1; }
    done <<<"${FLEET_KUBO_SET:-}"
    "$IPFS_BIN" config Identity.PeerID >"$dir/id" || return 1
    unset IPFS_PATH
    echo 5001 >"$dir/api.port"
    echo 8080 >"$dir/gw.port"
    fleet_kubo_daemon "$node"
}
# fleet_kubo_daemon NODE: (re)start NODE's daemon, ready when RPC and
# gateway answer
fleet_kubo_daemon() {
    local node=$1 dir=$FLEET/$1/kubo
    # a simple command (not fleet_x): its pid is the daemon's, as ip and
    # env exec what follows
    ip netns exec "$(fleet_ns "$node")" env IPFS_PATH="$dir/repo" "$IPFS_BIN" daemon >>"$dir/daemon.log" 2>&1 &
    echo $! >"$dir/pid"
    if ! e2e_wait_for 60 "$node: Kubo RPC" fleet_rpc "$node" version ||
        ! e2e_wait_for 30 "$node: Kubo gateway" fleet_x "$node" curl -sf http://127.0.0.1:8080/ipfs/bafkqaaa; then
        tail -n 20 "$dir/daemon.log" >&2
        return 1
    fi
}
fleet_kubo_stop() { e2e_stop_pid "$FLEET/$1/kubo/pid" 20; }
# fleet_kubo_down NODE: NODE's Kubo RPC does not answer
fleet_kubo_down() { ! fleet_rpc "$1" version >/dev/null 2>&1; }
# fleet_connect NODE TO: one swarm connection, NODE to TO
fleet_connect() {
    fleet_ipfs "$1" swarm connect "/ip4/$(fleet_ip "$2")/tcp/4001/p2p/$(fleet_peer_id "$2")" >/dev/null
}
fleet_peers() { fleet_rpc "$1" swarm/peers | jq '.Peers // [] | length'; }
fleet_has_peers() { [ "$(fleet_peers "$1")" -ge "$2" ]; }

# fleet_nodes N...: start the links and Kubo nodes NODE... in parallel
fleet_nodes() {
    local node pids=() p rc=0
    for node in "$@"; do fleet_link "$node" || return 1; done
    for node in "$@"; do
        fleet_kubo "$node" >"$FLEET/$node/start.log" 2>&1 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    [ $rc = 0 ] || { cat "$FLEET"/*/start.log >&2; return 1; }
}

# ------------------------------------------------------------- registries
# fleet_stack NODE NAME CONFIG LINES...: lib.sh's stack (registry + nginx)
# in NODE's namespace
fleet_stack() {
    local node=$1
    shift
    fleet_in "$node" e2e_start_stack "$@"
}
fleet_stop_stack() {
    E2E_RUN=$FLEET/$1 e2e_stop_nginx "$2"
    E2E_RUN=$FLEET/$1 e2e_stop_registry "$2"
}
# fleet_writer: key "fleet" on w, registry "reg" publishing under it
fleet_writer() {
    fleet_ipfs w key gen --type=ed25519 fleet >"$FLEET/key" || return 1
    fleet_stack w reg 'writeipnskey = "fleet";' "ipnsrefresh = 1;"
}
fleet_key() { cat "$FLEET/key"; }
# fleet_follower NODE PIN: registry "reg" on NODE mirroring the writer's
# key, pinreadonly = PIN (true or false)
fleet_follower() {
    fleet_stack "$1" reg "readonlyipnskeys = [ \"$(fleet_key)\" ];" "readonly = true;" \
        "ipnsrefresh = 1;" "pinreadonly = $2;"
}
fleet_status() { fleet_x "$1" curl -sf -m 10 "$(fleet_url "$1" "${2:-reg}")/v2/_p2p/status"; }
fleet_published() { fleet_status w | jq -r '.publisher.last_published_cid'; }
fleet_publishes() { fleet_status w | jq -r '.publisher.publishes_total'; }
# fleet_idle: the writer has published everything (nothing pending)
fleet_idle() { [ "$(fleet_status w | jq -r '.publisher.pending')" = false ]; }
# fleet_pinned NODE CID: NODE's resolver has resolved and pinned CID
# (first key; .pinned is the CID of the root pinned last)
fleet_pinned() {
    fleet_status "$1" | jq -e --arg c "$2" '.readonly_roots[0] | .cid == $c and .pinned == $c' >/dev/null
}
fleet_code() { # NODE URL [CURL ARGS]
    local node=$1 url=$2
    shift 2
    fleet_x "$node" curl -s -m 10 -o /dev/null -w '%{http_code}' "$@" "$url"
}
# fleet_serves NODE BASE REPO TAG: GET of the manifest through BASE is 200
fleet_serves() {
    [ "$(fleet_code "$1" "$2/v2/$3/manifests/$4" -H "Accept: $MT_OCI_MANIFEST")" = 200 ]
}

# ------------------------------------------------------------------ images
# fleet_push NODE STACK REPO TAG SEED MIB LAYERS: an image of LAYERS layers
# of MIB MiB in all (e2e_keystream of SEED: new bytes for a new SEED) pushed
# to NODE's STACK by tests/e2e/gc_push.py; prints its manifest digest
fleet_push() {
    local node=$1 stack=$2 repo=$3 tag=$4 seed=$5 mib=$6 k=$7 i files=() d out
    d=$(mktemp -d "${FLEET_TMP:-$FLEET}/img.XXXX") || return 1
    for ((i = 0; i < k; i++)); do
        # (its status is head's and openssl's SIGPIPE under pipefail: the
        # size says whether it worked)
        e2e_keystream "$seed-$i" $(((mib << 20) / k)) >"$d/l$i"
        [ "$(stat -c %s "$d/l$i")" = $(((mib << 20) / k)) ] || { rm -rf "$d"; return 1; }
        files+=("$d/l$i")
    done
    out=$(fleet_x "$node" python3 "$E2E_ROOT/tests/e2e/gc_push.py" image "$(fleet_url "$node" "$stack")" \
        "$repo" "$tag" "{\"seed\":\"$seed\"}" "${files[@]}")
    rm -rf "$d"
    [ "${out%% *}" = 201 ] || { e2e_log "push $repo:$tag to $node/$stack: $out"; return 1; }
    echo "${out#* }"
}

# fleet_client NODE BASE REPO TAG SECS OUT: NODE's client polls BASE for
# the tag (every 0.2 s) and, once it is there, pulls the image with skopeo
# (which verifies every digest) into a scratch layout, then removes it.
# Writes "SEEN DONE RC" (epoch seconds; RC 0 = pulled and verified) to OUT.
# Bounded by SECS in all.
fleet_client() {
    local node=$1 base=$2 repo=$3 tag=$4 secs=$5 out=$6 end seen="" rc=1 dst
    end=$((SECONDS + secs))
    while [ $SECONDS -lt $end ]; do
        fleet_serves "$node" "$base" "$repo" "$tag" && { seen=$(fleet_now); break; }
        sleep 0.2
    done
    if [ -n "$seen" ] && [ $SECONDS -lt $end ]; then
        dst=$(mktemp -d "${FLEET_TMP:-$FLEET}/pull-$node.XXXX")
        fleet_x "$node" timeout $((end - SECONDS)) skopeo copy -q --src-tls-verify=false --retry-times 0 \
            "docker://${base#http://}/$repo:$tag" "oci:$dst:x" >>"$out.log" 2>&1 && rc=0
        rm -rf "$dst"
    fi
    echo "${seen:-0} $(fleet_now) $rc" >"$out"
}
# fleet_clients DIR BASE|- REPO TAG SECS NODE...: fleet_client on every NODE
# at once (BASE "-": each node's own registry "reg"); their pids in DIR/pids.
# fleet_clients_wait DIR: until they are all done (each is bounded).
fleet_clients() {
    local dir=$1 base=$2 repo=$3 tag=$4 secs=$5 node b
    shift 5
    mkdir -p "$dir"
    : >"$dir/pids"
    for node in "$@"; do
        b=$base
        [ "$b" = - ] && b=$(fleet_url "$node" reg)
        fleet_client "$node" "$b" "$repo" "$tag" "$secs" "$dir/$node" &
        echo $! >>"$dir/pids"
    done
}
fleet_clients_wait() {
    local p
    while read -r p; do wait "$p"; done <"$1/pids"
}
# fleet_pulled DIR NODE: NODE's client (fleet_clients DIR ...) saw the tag
# and its skopeo pull verified
fleet_pulled() {
    local seen rc
    read -r seen _ rc <"$1/$2" && [ "$seen" != 0 ] && [ "$rc" = 0 ]
}
# fleet_times DIR T0: per node "NODE SEEN-T0 DONE-T0 RC"
fleet_times() {
    local f
    for f in "$1"/[wf]*; do
        case $f in *.log) continue ;; esac
        awk -v n="$(basename "$f")" -v t0="$2" '{ printf "%s %.2f %.2f %s\n", n, ($1 > 0 ? $1 - t0 : -1), $2 - t0, $3 }' "$f"
    done
}

# --------------------------------------------------------------- counters
# bytes sent by NODE's end of its link (its eth0), and its tbf's counters
fleet_tx_bytes() { fleet_x "$1" cat /sys/class/net/eth0/statistics/tx_bytes; }
fleet_tc() { tc -s -n "$(fleet_ns "$1")" qdisc show dev eth0 | tr -s ' \n' ' '; }
# fleet_ledger NODE PEER_NODE: bytes NODE received from PEER_NODE (bitswap)
fleet_ledger() { fleet_rpc "$1" bitswap/ledger -G -d "arg=$(fleet_peer_id "$2")" | jq -r '.Recv // 0'; }
# fleet_bs_recv NODE: every byte NODE's bitswap received (duplicates too)
fleet_bs_recv() { fleet_rpc "$1" bitswap/stat | jq -r '.DataReceived // 0'; }
# fleet_usage NODE: "PSS_KIB CPU_S" of every process in NODE's namespace
# (CPU: user + system, with the children each one reaped)
fleet_usage() {
    local p pss=0 v ticks=0 t hz
    hz=$(getconf CLK_TCK)
    for p in $(ip netns pids "$(fleet_ns "$1")"); do
        v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
        pss=$((pss + ${v:-0}))
        t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$p/stat" 2>/dev/null)
        ticks=$((ticks + ${t:-0}))
    done
    echo "$pss $(echo "scale=1; $ticks / $hz" | bc)"
}
# fleet_cpu_snap: "BUSY TOTAL" jiffies of the machine (/proc/stat);
# fleet_cpu_busy SNAP_BEFORE SNAP_AFTER: busy % in between
fleet_cpu_snap() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }
fleet_cpu_busy() {
    local b0 t0 b1 t1
    read -r b0 t0 <<<"$1"
    read -r b1 t1 <<<"$2"
    echo "scale=1; 100 * ($b1 - $b0) / ($t1 - $t0)" | bc
}

# --------------------------------------------------------------- teardown
# fleet_teardown: every stack, Kubo node and namespace made, logs kept in
# $E2E_ARTIFACTS/logs/fleet-<node>[-<stack>]
fleet_stop_node() {
    local node=$1 d=$FLEET/$1/ name
    for name in "$d"*/; do
        name=$(basename "$name")
        [ -f "$d$name/registry.pid" ] || continue
        fleet_stop_stack "$node" "$name"
        mkdir -p "$E2E_ARTIFACTS/logs/fleet-$node-$name"
        cp "$d$name"/*.log "$d$name"/*.conf "$d$name"/nginx/*.log "$E2E_ARTIFACTS/logs/fleet-$node-$name/" 2>/dev/null
    done
    [ -f "$d/kubo/pid" ] && fleet_kubo_stop "$node"
    [ -d "$d/kubo" ] && mkdir -p "$E2E_ARTIFACTS/logs/fleet-$node" &&
        cp "$d"/kubo/*.log "$E2E_ARTIFACTS/logs/fleet-$node/" 2>/dev/null
    return 0
}
fleet_teardown() {
    local d ns p pids=()
    [ -n "${FLEET:-}" ] && [ -d "$FLEET" ] || return 0
    # the nodes at once (each stop is bounded)
    for d in "$FLEET"/*/; do
        fleet_stop_node "$(basename "$d")" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    # anything still running in our namespaces (a pull, a pin) was started
    # by us: stopped before its namespace goes
    if [ -f "$FLEET/netns" ]; then
        while read -r ns; do
            for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        done <"$FLEET/netns"
        sleep 0.5
        tac "$FLEET/netns" | while read -r ns; do ip netns del "$ns" 2>/dev/null; done
    fi
    if [ "${E2E_KEEP:-0}" = 1 ]; then e2e_log "keeping $FLEET (E2E_KEEP=1)"; else rm -rf "$FLEET"; fi
}
