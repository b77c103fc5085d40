# shellcheck shell=bash
# lib.sh: the end-to-end stack on loopback, shared by every e2e suite.
#
#   Kubo (v0.43.1, `init --profile=test`, temp IPFS_PATH, `daemon --offline`)
#     <- the registry under spawn-fcgi (one master + workers per stack)
#       <- nginx, with the shipped deploy/nginx/oci-registry-p2p.conf
#
# One Kubo node serves every stack; a "stack" is one registry config (its own
# mfsroot and statedir) plus its nginx. tests/run-all starts them once and
# exports E2E_RUN; a suite run on its own starts what it needs itself
# (e2e_ensure_stack) and tears it down on exit, also on failure.
#
# State lives in files under $E2E_RUN (pids, ports), not in shell variables,
# so a suite running as a child process can stop and restart Kubo and the
# owner's teardown still finds the right pid.

E2E_ROOT=${E2E_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=../../scripts/deps.sh
. "$E2E_ROOT/scripts/deps.sh"
# shellcheck source=../../scripts/nginx-conf.sh
. "$E2E_ROOT/scripts/nginx-conf.sh"

E2E_OWNER=${E2E_OWNER:-0}
# shellcheck source=words.sh
. "$E2E_ROOT/tests/e2e/words.sh"

# A free TCP port on 127.0.0.1 (the kernel picks; the tiny race until we
# bind it is covered by the start-up checks, which fail loudly).
e2e_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# e2e_stop_pid PIDFILE [SECONDS]: TERM, wait (bounded), then KILL.
e2e_stop_pid() {
    local pidfile=$1 secs=${2:-15} pid
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    if e2e_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        if ! e2e_wait_gone "$secs" "$pid"; then
            e2e_log "pid $pid ($pidfile) ignored SIGTERM for ${secs}s: killing"
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    rm -f "$pidfile"
}

# ---------------------------------------------------------------- run dir
# Short path under /tmp: Unix socket paths are limited to 108 bytes.
e2e_init_run() {
    if [ -z "${E2E_RUN:-}" ]; then
        E2E_RUN=$(mktemp -d /tmp/oci-p2p-e2e.XXXXXX)
        E2E_OWNER=1
    fi
    # Standalone runs keep theirs in the checkout's (gitignored) _artifacts.
    E2E_ARTIFACTS=${E2E_ARTIFACTS:-$E2E_ROOT/_artifacts/e2e-$(date +%Y%m%d-%H%M%S)}
    mkdir -p "$E2E_ARTIFACTS"
    # Where e2e_http keeps the last answer (words.sh); a dot-dir, so the
    # teardown takes it for no stack.
    E2E_HTTP_DIR=${E2E_HTTP_DIR:-$E2E_RUN/.http}
    mkdir -p "$E2E_HTTP_DIR"
    export E2E_RUN E2E_ARTIFACTS E2E_HTTP_DIR
}

# ------------------------------------------------------------------- Kubo
e2e_kubo_api_port() { cat "$E2E_RUN/kubo/api.port"; }
e2e_kubo_gw_port() { cat "$E2E_RUN/kubo/gw.port"; }
# The ipfs CLI against our node (never the user's default repo).
e2e_ipfs() { IPFS_PATH="$E2E_RUN/kubo/repo" "$IPFS_BIN" --api "/ip4/127.0.0.1/tcp/$(e2e_kubo_api_port)" "$@"; }

# e2e_kubo_peer_config API GW SWARM: the repository at $IPFS_PATH as an
# online node of a private test network: API and gateway on the given
# multiaddrs, swarm on (and announcing) SWARM, no bootstrap peers, no mDNS,
# a DHT server (a node on a private address would otherwise stay a DHT
# client that nobody can ask), the filestore on (blob files).
e2e_kubo_peer_config() {
    "$IPFS_BIN" config Addresses.API "$1" &&
        "$IPFS_BIN" config Addresses.Gateway "$2" &&
        "$IPFS_BIN" config --json Addresses.Swarm "[\"$3\"]" &&
        "$IPFS_BIN" config --json Addresses.Announce "[\"$3\"]" &&
        "$IPFS_BIN" config --json Bootstrap '[]' &&
        "$IPFS_BIN" config --json Discovery.MDNS.Enabled false &&
        "$IPFS_BIN" config Routing.Type dhtserver &&
        "$IPFS_BIN" config --json Experimental.FilestoreEnabled true
}

e2e_start_kubo() {
    local dir=$E2E_RUN/kubo api gw
    mkdir -p "$dir"
    IPFS_PATH="$dir/repo" "$IPFS_BIN" init --profile=test >"$dir/init.log" 2>&1 \
        || { cat "$dir/init.log" >&2; return 1; }
    # Fixed ports (not the test profile's :0) so a restarted daemon comes
    # back where the registry expects it.
    api=$(e2e_free_port) && gw=$(e2e_free_port) || return 1
    IPFS_PATH="$dir/repo" "$IPFS_BIN" config Addresses.API "/ip4/127.0.0.1/tcp/$api" || return 1
    IPFS_PATH="$dir/repo" "$IPFS_BIN" config Addresses.Gateway "/ip4/127.0.0.1/tcp/$gw" || return 1
    # blob files (blobdir) are referenced from the filestore; its root is
    # $dir, the repository's parent (e2e_blobdir)
    IPFS_PATH="$dir/repo" "$IPFS_BIN" config --json Experimental.FilestoreEnabled true || return 1
    echo "$api" >"$dir/api.port"
    echo "$gw" >"$dir/gw.port"
    e2e_kubo_daemon
}

# (Re)starts the daemon on the existing repo and waits until both its RPC
# API and its gateway answer.
e2e_kubo_daemon() {
    local dir=$E2E_RUN/kubo api gw
    api=$(e2e_kubo_api_port) gw=$(e2e_kubo_gw_port)
    IPFS_PATH="$dir/repo" "$IPFS_BIN" daemon --offline >>"$dir/daemon.log" 2>&1 &
    echo $! >"$dir/pid"
    # bafkqaaa is the identity CID of empty data: the gateway serves it
    # without touching the network.
    if ! e2e_wait_for 60 "Kubo RPC on :$api" curl -sf -X POST "http://127.0.0.1:$api/api/v0/version" \
        || ! e2e_wait_for 30 "Kubo gateway on :$gw" curl -sf "http://127.0.0.1:$gw/ipfs/bafkqaaa"; then
        tail -n 20 "$dir/daemon.log" >&2
        return 1
    fi
    e2e_log "kubo: pid $(cat "$dir/pid"), RPC 127.0.0.1:$api, gateway 127.0.0.1:$gw"
}

e2e_stop_kubo() { e2e_stop_pid "$E2E_RUN/kubo/pid" 20; }

# ------------------------------------------------------- registry + nginx
e2e_port() { cat "$E2E_RUN/$1/port"; }
e2e_registry_pid() { cat "$E2E_RUN/$1/registry.pid"; }
e2e_mfsroot() { printf '/oci-registry-p2p-%s' "$1"; }
e2e_url() { printf 'http://127.0.0.1:%s' "$(e2e_port "$1")"; }
# e2e_mfs_blob_path STACK DIGEST: where STACK keeps blob DIGEST in Kubo's
# MFS (distribution's storage layout).
e2e_mfs_blob_path() {
    local hex=${2#sha256:}
    printf '%s/docker/registry/v2/blobs/sha256/%s/%s/data' "$(e2e_mfsroot "$1")" "${hex:0:2}" "$hex"
}

# e2e_write_conf NAME [CONFIG LINES...]: NAME/registry.conf for the Kubo
# node of this run, with its own mfsroot and statedir, checked by the
# registry's --check-config.
e2e_write_conf() {
    local name=$1 dir=$E2E_RUN/$1 line
    shift
    mkdir -p "$dir/state"
    {
        echo "# generated by tests/e2e/lib.sh for stack '$name'"
        echo "ipfsapiaddress = \"/ip4/127.0.0.1/tcp/$(e2e_kubo_api_port)\";"
        echo "ipfsgatewayaddress = \"http://127.0.0.1:$(e2e_kubo_gw_port)\";"
        echo "mfsroot = \"${E2E_MFSROOT:-$(e2e_mfsroot "$name")}\";"
        echo "statedir = \"$dir/state\";"
        for line in "$@"; do echo "$line"; done
    } >"$dir/registry.conf"
    "$REGISTRY_BIN" --check-config -c "$dir/registry.conf" >"$dir/check-config.log" 2>&1 \
        || { e2e_log "registry rejected its config:"; cat "$dir/check-config.log" >&2; return 1; }
}

# e2e_start_registry NAME [CONFIG LINES...]: e2e_write_conf, then the
# registry under spawn-fcgi (-n: spawn-fcgi binds the socket, then execs
# the registry with it on fd 0, so its pid is the master's).
e2e_start_registry() {
    local name=$1 dir=$E2E_RUN/$1
    e2e_write_conf "$@" || return 1
    rm -f "$dir/fcgi.sock"
    # E2E_REGISTRY_WRAP: a command the registry runs under (tests/e2e/valgrind.sh)
    # shellcheck disable=SC2086 # words of a command line
    spawn-fcgi -s "$dir/fcgi.sock" -n -- ${E2E_REGISTRY_WRAP:-} "$REGISTRY_BIN" -c "$dir/registry.conf" \
        >>"$dir/registry.log" 2>&1 &
    echo $! >"$dir/registry.pid"
    e2e_wait_for 10 "registry socket $dir/fcgi.sock" test -S "$dir/fcgi.sock" \
        || { tail -n 20 "$dir/registry.log" >&2; return 1; }
}

e2e_stop_registry() { e2e_stop_pid "$E2E_RUN/$1/registry.pid" 30; }

# e2e_workers STACK: the pids of STACK's workers, the master's orp2p-worker
# children (spawn-fcgi -n execs the master, so registry.pid is its pid).
e2e_workers() { pgrep -x -P "$(e2e_registry_pid "$1")" orp2p-worker; }
# Peak RSS (VmHWM) is a high-water mark since a process started; writing 5
# to its clear_refs restarts it. e2e_peak_rss_reset STACK: for the master
# and every worker, so what e2e_peak_rss reads next covers what came after.
e2e_peak_rss_reset() {
    local p
    for p in $(e2e_registry_pid "$1") $(e2e_workers "$1"); do echo 5 >"/proc/$p/clear_refs" 2>/dev/null; done
}
# e2e_peak_rss STACK: "MAX_WORKER_KIB N_WORKERS MASTER_KIB".
e2e_peak_rss() {
    local p v max=0 n=0 master
    for p in $(e2e_workers "$1"); do
        v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
        [ -n "$v" ] || continue
        n=$((n + 1))
        [ "$v" -gt "$max" ] && max=$v
    done
    master=$(awk '/^VmHWM:/ { print $2 }' "/proc/$(e2e_registry_pid "$1")/status" 2>/dev/null)
    echo "$max $n ${master:-0}"
}

# e2e_blobdir NAME: where stack NAME keeps blob files, below the Kubo
# node's filestore root (the parent of its repository).
e2e_blobdir() { printf '%s/kubo/blobs-%s' "$E2E_RUN" "$1"; }

e2e_start_nginx() {
    local name=$1 dir=$E2E_RUN/$1 port try
    for try in 1 2 3; do
        port=$(e2e_free_port) || return 1
        # E2E_NGINX_HOST: the address nginx listens on (tests/fleet_lib.sh:
        # 0.0.0.0 inside a network namespace, for clients on other nodes)
        nginx_render_local "$dir/nginx" "${E2E_NGINX_HOST:-127.0.0.1}:$port" "$dir/fcgi.sock" "127.0.0.1:$(e2e_kubo_gw_port)" \
            "$(e2e_blobdir "$name")" || return 1
        nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log" -g 'daemon off;' \
            >>"$dir/nginx/stderr.log" 2>&1 &
        echo $! >"$dir/nginx.pid"
        echo "$port" >"$dir/port"
        if e2e_wait_for 10 "nginx on :$port" curl -s -o /dev/null "http://127.0.0.1:$port/"; then
            return 0
        fi
        e2e_log "nginx did not start on :$port (try $try)"
        tail -n 5 "$dir/nginx/error.log" "$dir/nginx/stderr.log" >&2
        e2e_stop_pid "$dir/nginx.pid" 5
    done
    return 1
}

e2e_stop_nginx() { e2e_stop_pid "$E2E_RUN/$1/nginx.pid" 10; }

# e2e_start_distribution DIR ADDR: the CNCF distribution registry
# ($DISTRIBUTION_BIN, deps_distribution) serving host:port ADDR, its
# storage in DIR/storage (kept across restarts: call again to restart),
# deletes enabled, its log (with one access line per request) appended to
# DIR/dist.log, its pid in DIR/pid; ready when /v2/ answers.
e2e_start_distribution() {
    local dir=$1 addr=$2
    mkdir -p "$dir"
    printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n' \
        "$dir/storage" "$addr" >"$dir/config.yml"
    "$DISTRIBUTION_BIN" serve "$dir/config.yml" >>"$dir/dist.log" 2>&1 &
    echo $! >"$dir/pid"
    e2e_wait_for 30 "distribution registry on $addr" curl -sf "http://$addr/v2/"
}

# e2e_wait_v2 NAME [SECONDS]: until GET /v2/ answers 200 through the
# stack's front (30 s by default).
e2e_wait_v2() { e2e_wait_for "${2:-30}" "GET /v2/ on stack $1" e2e_code_is 200 "$(e2e_url "$1")/v2/"; }

# e2e_start_stack NAME [CONFIG LINES...]: registry + nginx, ready when
# GET /v2/ answers 200 through nginx.
e2e_start_stack() {
    local name=$1 code
    e2e_start_registry "$@" || return 1
    e2e_start_nginx "$name" || return 1
    if ! e2e_wait_v2 "$name"; then
        code=$(e2e_code "$(e2e_url "$name")/v2/")
        e2e_log "stack $name: GET /v2/ answers $code; registry log:"
        tail -n 20 "$E2E_RUN/$name/registry.log" >&2
        return 1
    fi
    e2e_log "stack $name: $(e2e_url "$name") (registry pid $(e2e_registry_pid "$name"), mfsroot $(e2e_mfsroot "$name"))"
}

# e2e_blob_bytes STACK REPO DIGEST FILE: blob DIGEST (FILE's bytes) as
# clients get it through STACK's front: a whole GET, a Range across many
# FastCGI records and a 10-byte Range at an odd offset must be FILE's bytes
# (sha256), a HEAD its size. In storage mode these GETs take the worker's
# zero-copy path (Kubo's socket spliced into the FastCGI connection), so the
# registry's log must not say it fell back to streaming them.
e2e_blob_bytes() {
    local stack=$1 repo=$2 dg=$3 file=$4 url size off len want got
    url=$(e2e_url "$stack")/v2/$repo/blobs/$dg
    size=$(stat -c %s "$file")
    got=$(curl -sf "$url" | e2e_digest)
    e2e_check "$stack: blob GET, $size bytes: they hash to the digest" [ "$got" = "$dg" ]
    off=$((size / 3 + 7)) len=$((size / 3))
    want=$(tail -c +$((off + 1)) "$file" | head -c "$len" | e2e_sha256)
    got=$(curl -sf -H "Range: bytes=$off-$((off + len - 1))" "$url" | e2e_sha256)
    e2e_check "$stack: blob Range GET, $len bytes at $off: the file's bytes (sha256)" [ "$got" = "$want" ]
    off=$((size - 12345)) len=10
    want=$(tail -c +$((off + 1)) "$file" | head -c "$len" | e2e_sha256)
    got=$(curl -sf -H "Range: bytes=$off-$((off + len - 1))" "$url" | e2e_sha256)
    e2e_check "$stack: blob Range GET, $len bytes at $off: the file's bytes (sha256)" [ "$got" = "$want" ]
    got=$(e2e_head_header Content-Length "$url")
    e2e_check "$stack: blob HEAD says $size bytes ($got)" [ "$got" = "$size" ]
    e2e_check "$stack: the blob GETs took the zero-copy path (no 'streaming it instead' in the log)" \
        sh -c "! grep -h 'blob $dg: .*streaming it instead' '$E2E_RUN/$stack'/*.log"
}

# The configurations the suites share: "default" is the registry with its
# defaults; "sparse" accepts manifests whose descriptors are missing.
e2e_stack_config() {
    case $1 in
        default) ;;
        sparse) echo "allow_sparse = true;" ;;
        # blob files sent by nginx (X-Accel-Redirect to the file)
        files) printf '%s\n' "blobdir = \"$(e2e_blobdir files)\";" 'blobfile_accel_redirect = "/_oci_p2p_file/";' ;;
        # OCI layouts on IPFS (tests/e2e/layout.sh): debug logs carry the
        # Kubo calls per request; a short IPNS reuse so a republish shows
        layout) printf '%s\n' 'log_level = "debug";' 'layout_ipns_ttl = 2;' ;;
        *) echo "$1" ;;
    esac
}

# Tools and binaries: Kubo, and the registry built out of tree. Sets
# IPFS_BIN and REGISTRY_BIN unless the caller (tests/run-all) already did.
e2e_prepare() {
    if [ -z "${IPFS_BIN:-}" ]; then
        deps_packages && deps_kubo || return 1
    fi
    if [ -z "${REGISTRY_BIN:-}" ]; then
        deps_build normal || return 1
        REGISTRY_BIN=$BUILD_DIR/oci-registry-p2p
    fi
    export IPFS_BIN REGISTRY_BIN
}

# A suite run alone has no Kubo yet: build what it needs, own the teardown
# and start one. Under tests/run-all the shared node is already there.
# Returns non-zero having recorded the failure.
e2e_need_kubo() {
    [ -f "$E2E_RUN/kubo/api.port" ] && return 0
    e2e_prepare || { e2e_fail "build or Kubo"; return 1; }
    [ "$E2E_OWNER" = 1 ] && trap e2e_teardown EXIT && trap 'exit 130' INT TERM
    e2e_start_kubo || { e2e_fail "Kubo did not start"; return 1; }
}

# Everything started under $E2E_RUN is stopped; logs are kept in the
# artifacts folder; the rest of the run dir (Kubo's repo) is removed.
e2e_teardown() {
    local d name f
    [ -n "${E2E_RUN:-}" ] && [ -d "$E2E_RUN" ] || return 0
    for d in "$E2E_RUN"/*/; do
        name=$(basename "$d")
        [ -f "$d/nginx.pid" ] && e2e_stop_nginx "$name"
        # lighttpd or caddy (tests/e2e/fronts_lib.sh)
        [ -f "$d/front.pid" ] && e2e_stop_pid "$d/front.pid" 10
        [ -f "$d/registry.pid" ] && e2e_stop_registry "$name"
    done
    e2e_stop_kubo
    mkdir -p "$E2E_ARTIFACTS/logs"
    for d in "$E2E_RUN"/*/; do
        name=$(basename "$d")
        mkdir -p "$E2E_ARTIFACTS/logs/$name"
        cp "$d"/*.log "$d"/*.conf "$E2E_ARTIFACTS/logs/$name/" 2>/dev/null
        for f in "$d"/nginx/*.log "$d"/lighttpd/*.log "$d"/lighttpd/*.conf "$d"/caddy/*.log "$d"/caddy/Caddyfile "$d"/caddy/site.caddy; do
            [ -f "$f" ] && cp "$f" "$E2E_ARTIFACTS/logs/$name/$(basename "$(dirname "$f")")-$(basename "$f")"
        done
    done
    e2e_log "logs in $E2E_ARTIFACTS/logs"
    if [ "${E2E_KEEP:-0}" = 1 ]; then
        e2e_log "keeping $E2E_RUN (E2E_KEEP=1)"
    else
        rm -rf "$E2E_RUN"
    fi
}

# e2e_ensure_stack NAME: use the stack tests/run-all started, or start Kubo
# and this stack now (and tear them down when the calling suite exits).
e2e_ensure_stack() {
    local name=$1
    e2e_init_run
    if [ -f "$E2E_RUN/$name/port" ] && e2e_alive "$(cat "$E2E_RUN/$name/registry.pid" 2>/dev/null)"; then
        return 0
    fi
    e2e_prepare || return 1
    if [ "$E2E_OWNER" = 1 ]; then
        trap e2e_teardown EXIT
        trap 'exit 130' INT TERM
    fi
    [ -f "$E2E_RUN/kubo/api.port" ] || e2e_start_kubo || return 1
    local IFS=$'\n'
    # shellcheck disable=SC2046 # one line per config entry
    e2e_start_stack "$name" $(e2e_stack_config "$name")
}
