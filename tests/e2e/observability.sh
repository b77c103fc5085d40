#!/usr/bin/env bash
# observability.sh: health, metrics and logs against the real stack.
#   - /v2/_p2p/health is 200 with Kubo's version while Kubo answers, and a
#     quick JSON 503 with a reason while Kubo hangs (SIGSTOP: the connection
#     is accepted but never answered, so only the probe's own timeout helps);
#   - /v2/_p2p/metrics is Prometheus text whose counters are shared by every
#     worker (requests served by many workers all show up in one scrape),
#     count uploads and bytes, and follow the master's view of its workers
#     (a killed worker is a restart, and the pool is whole again);
#   - the shipped nginx, lighttpd and caddy configs let metrics through from
#     127.0.0.1 only (a client on 127.0.0.2 gets 403 there and 200 on /v2/);
#   - every request leaves one access line (method, URI, route, status,
#     bytes, duration, worker pid);
#   - `logfile` takes the log off stderr, and SIGUSR1 (or SIGHUP) reopens it after a
#     logrotate-style rename;
#   - with writeipnskey set, health follows the publisher: 200 while its
#     heartbeat is fresh, 503 once it is stuck (SIGSTOP), 200 again after.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fronts_lib.sh"

STACK=default
T=""
BASE=""

# metric NAME_WITH_LABELS FILE: the sample's value (0 when absent).
metric() {
    awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }' "$2"
}
json_ok() { jq -e "$2" "$1" >/dev/null; }
scrape() { curl -s -m 10 -o "$1" -w '%{http_code}' "$BASE/v2/_p2p/metrics"; }
alive_is() { scrape "$T/alive" >/dev/null && [ "$(metric oci_registry_p2p_workers_alive "$T/alive")" = "$1" ]; }

# Prometheus text format: comments are HELP/TYPE, samples "name{labels} number".
metrics_syntax_ok() {
    python3 - "$1" <<'EOF'
import re, sys
ok = True
sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*",?)*\})? [-+]?([0-9.]+(e[-+]?[0-9]+)?|\+Inf)$')
for n, line in enumerate(open(sys.argv[1]), 1):
    line = line.rstrip('\n')
    if line.startswith('# HELP ') or line.startswith('# TYPE '):
        continue
    if not sample.match(line):
        print(f'line {n}: {line!r}', file=sys.stderr)
        ok = False
sys.exit(0 if ok else 1)
EOF
}

health_is() { # health_is CODE [JQ-CONDITION]
    local code
    code=$(e2e_http GET "$BASE/v2/_p2p/health" -m 10)
    [ "$code" = "$1" ] || return 1
    [ -z "${2:-}" ] || jq -e "$2" "$T/body" >/dev/null
}

t_health_ok() {
    e2e_check "health: 200, status ok, Kubo's version, no publisher required" \
        health_is 200 '.status == "ok" and .kubo.ok and (.kubo.version | length > 0) and (.publisher.required | not)'
    local code
    code=$(e2e_code -m 10 -I "$BASE/v2/_p2p/health")
    e2e_check "health: HEAD is 200 too" [ "$code" = 200 ]
}

t_stopped() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ]; }

t_health_kubo_hung() {
    local kpid t0 ms code
    kpid=$(cat "$E2E_RUN/kubo/pid")
    kill -STOP "$kpid"
    # kill returns before the process is stopped: wait until it is (state T)
    e2e_wait_for 10 "Kubo ($kpid) stopped" t_stopped "$kpid"
    t0=$(date +%s%N)
    code=$(e2e_http GET "$BASE/v2/_p2p/health" -m 20)
    ms=$((($(date +%s%N) - t0) / 1000000))
    kill -CONT "$kpid"
    e2e_check "health with Kubo hung: 503 (got $code) in ${ms} ms (< 5000)" test "$code" = 503 -a "$ms" -lt 5000
    e2e_check "health with Kubo hung: JSON reason names the IPFS node" \
        json_ok "$T/body" '.status == "unavailable" and (.reason | test("IPFS node")) and (.kubo.ok | not) and (.kubo.error | length > 0)'
    e2e_check "health: 200 again once Kubo runs" e2e_wait_for 20 "health 200" health_is 200
}

t_metrics() {
    local code ctype workers before after n i
    code=$(curl -s -m 10 -D "$T/mh" -o "$T/m0" -w '%{http_code}' "$BASE/v2/_p2p/metrics")
    ctype=$(e2e_header Content-Type "$T/mh")
    e2e_check "metrics: 200, text/plain; version=0.0.4 (got $code, $ctype)" \
        test "$code" = 200 -a "${ctype%%;*}" = text/plain -a "${ctype#*version=0.0.4}" != "$ctype"
    e2e_check "metrics: valid Prometheus text" metrics_syntax_ok "$T/m0"
    e2e_check "metrics: counters shared by all workers" [ "$(metric oci_registry_p2p_metrics_shared "$T/m0")" = 1 ]
    workers=$("$REGISTRY_BIN" --check-config -c "$E2E_RUN/$STACK/registry.conf" 2>/dev/null | sed -n 's/^workers = \([0-9]*\);/\1/p')
    # a body being read runs on a worker of its own, retired within a
    # second of its end: the suite before may have left some for a moment
    e2e_check "metrics: workers_alive = $workers" e2e_wait_for 5 "workers_alive = $workers" alive_is "$workers"

    # 40 requests at once: many workers serve them; one scrape must count all.
    scrape "$T/m1" >/dev/null
    n=40
    local pids=()
    for ((i = 0; i < n; i++)); do
        curl -s -m 30 -o /dev/null "$BASE/v2/" &
        pids+=($!)
    done
    wait "${pids[@]}"   # only these: a standalone run has Kubo and nginx as children too
    head -c 100000 /dev/urandom >"$T/blob"
    local dig
    dig=$(e2e_digest "$T/blob")
    code=$(e2e_blob_post "$BASE" e2e/obs "$T/blob")
    e2e_check "metrics: monolithic push of a 100000-byte blob -> 201 (got $code)" [ "$code" = 201 ]
    code=$(e2e_code "$BASE/v2/e2e/obs/blobs/$dig")
    e2e_check "metrics: blob GET -> 200 (got $code)" [ "$code" = 200 ]
    # a worker counts a request just before its last bytes leave; settle
    sleep 0.5
    scrape "$T/m2" >/dev/null
    local k='oci_registry_p2p_requests_total{route="base",method="GET",code="2xx"}'
    before=$(metric "$k" "$T/m1") after=$(metric "$k" "$T/m2")
    e2e_check "metrics: GET /v2/ x$n from many workers all counted ($before -> $after)" [ $((after - before)) -eq $n ]
    k='oci_registry_p2p_requests_total{route="upload_start",method="POST",code="2xx"}'
    e2e_check "metrics: the upload POST is counted" [ $(($(metric "$k" "$T/m2") - $(metric "$k" "$T/m1"))) -eq 1 ]
    for k in oci_registry_p2p_upload_sessions_started_total oci_registry_p2p_upload_sessions_completed_total; do
        e2e_check "metrics: ${k#oci_registry_p2p_} +1" [ $(($(metric $k "$T/m2") - $(metric $k "$T/m1"))) -eq 1 ]
    done
    k=oci_registry_p2p_request_bytes_total
    e2e_check "metrics: request bytes +100000" [ $(($(metric $k "$T/m2") - $(metric $k "$T/m1"))) -eq 100000 ]
    k=oci_registry_p2p_response_bytes_total
    e2e_check "metrics: response bytes grew by the blob GET (>= 100000)" \
        [ $(($(metric $k "$T/m2") - $(metric $k "$T/m1"))) -ge 100000 ]
    k=oci_registry_p2p_kubo_rpc_duration_seconds_count
    e2e_check "metrics: Kubo RPC calls counted" [ $(($(metric $k "$T/m2") - $(metric $k "$T/m1"))) -gt 0 ]
    e2e_check "metrics: histogram +Inf bucket = count" \
        [ "$(metric 'oci_registry_p2p_kubo_rpc_duration_seconds_bucket{le="+Inf"}' "$T/m2")" = "$(metric $k "$T/m2")" ]
    k=oci_registry_p2p_kubo_gateway_requests_total
    e2e_check "metrics: gateway request for the blob GET counted" [ $(($(metric $k "$T/m2") - $(metric $k "$T/m1"))) -ge 1 ]

    # A worker killed outright: the master counts a restart and refills the pool.
    local victim
    victim=$(e2e_workers "$STACK" | head -n 1)   # not the publisher sidecar
    before=$(metric oci_registry_p2p_worker_restarts_total "$T/m2")
    kill -KILL "$victim"
    restarted() {
        scrape "$T/m3" >/dev/null &&
            [ "$(metric oci_registry_p2p_worker_restarts_total "$T/m3")" -eq $((before + 1)) ] &&
            [ "$(metric oci_registry_p2p_workers_alive "$T/m3")" = "$workers" ]
    }
    e2e_check "metrics: killed worker $victim -> worker_restarts_total +1, workers_alive back to $workers" \
        e2e_wait_for 15 "worker restart in metrics" restarted
}

# The metrics restriction of each shipped front-server config, with a
# client that is not 127.0.0.1: a second front on the same rendered config
# (only listen address and socket substituted), in front of the default
# stack's socket, reached from 127.0.0.2 (any 127/8 address is loopback).
t_front_restriction() {
    local front=$1 dir=$T/$1 port code_m code_v
    port=$(e2e_free_port)
    mkdir -p "$dir"
    case $front in
        nginx)
            nginx_render_local "$dir" "127.0.0.1:$port" "$E2E_RUN/$STACK/fcgi.sock" "127.0.0.1:$(e2e_kubo_gw_port)" &&
                { nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' >>"$dir/stderr.log" 2>&1 & } ;;
        lighttpd)
            lighttpd_render_local "$dir" "127.0.0.1:$port" "$E2E_RUN/$STACK/fcgi.sock" &&
                { lighttpd -D -f "$dir/lighttpd.conf" >>"$dir/stderr.log" 2>&1 & } ;;
        caddy)
            caddy_render_local "$dir" "127.0.0.1:$port" "$E2E_RUN/$STACK/fcgi.sock" "127.0.0.1:$(e2e_kubo_gw_port)" &&
                { HOME=$dir XDG_DATA_HOME=$dir XDG_CONFIG_HOME=$dir caddy run --adapter caddyfile --config "$dir/Caddyfile" >>"$dir/stderr.log" 2>&1 & } ;;
    esac || { e2e_fail "$front: could not render the shipped config"; return; }
    echo $! >"$dir/front.pid"
    if ! e2e_wait_for 15 "$front on :$port" curl -s -o /dev/null "http://127.0.0.1:$port/v2/"; then
        tail -n 5 "$dir"/*.log >&2
        e2e_fail "$front: did not start"
        e2e_stop_pid "$dir/front.pid" 5
        return
    fi
    code_m=$(e2e_code --interface 127.0.0.2 "http://127.0.0.1:$port/v2/_p2p/metrics")
    code_v=$(e2e_code --interface 127.0.0.2 "http://127.0.0.1:$port/v2/")
    e2e_check "$front: metrics from 127.0.0.2 -> 403 (got $code_m), /v2/ -> 200 (got $code_v)" \
        test "$code_m" = 403 -a "$code_v" = 200
    code_m=$(e2e_code "http://127.0.0.1:$port/v2/_p2p/metrics")
    e2e_check "$front: metrics from 127.0.0.1 -> 200 (got $code_m)" [ "$code_m" = 200 ]
    e2e_stop_pid "$dir/front.pid" 5
}

t_access_log() {
    local log=$E2E_RUN/$STACK/registry.log
    e2e_check "access log: 'GET /v2/ base 200 in 0 out 2 bytes N ms user -' from a worker pid" \
        grep -qE 'info worker\[[0-9]+\]: GET /v2/ base 200 in 0 out 2 bytes [0-9.]+ ms user -$' "$log"
    e2e_check "access log: the monolithic push with its body size" \
        grep -qE 'info worker\[[0-9]+\]: POST /v2/e2e/obs/blobs/uploads/\?digest=sha256:[0-9a-f]{64} upload_start 201 in 100000 out 0 bytes' "$log"
}

# A stack of its own with `logfile`: lines go to the file, and a rename plus
# SIGUSR1 (what the logrotate entry does) starts a new file without
# replacing workers; SIGHUP reopens it as well.
t_logfile() {
    local name=obslog dir=$E2E_RUN/obslog lf
    lf=$dir/registry-file.log
    if ! e2e_start_stack "$name" "logfile = \"$lf\";" "workers = 2;"; then
        e2e_fail "logfile: stack did not start"
        return
    fi
    local url
    url=$(e2e_url "$name")
    curl -s -o /dev/null "$url/v2/?before-rotate"
    e2e_check "logfile: access line in the file" e2e_wait_for 5 "line in $lf" grep -q 'GET /v2/?before-rotate' "$lf"
    e2e_check "logfile: nothing on stderr after start" bash -c "! grep -q 'before-rotate' '$dir/registry.log'"
    # A worker busy with a slow upload across the rotation must log into the
    # new file when it finishes (it follows the master's reopen counter).
    local loc slow
    loc=$(e2e_upload_start "$url" e2e/obslog)
    head -c 3000000 /dev/urandom >"$T/slow"
    e2e_upload_patch "$loc" "$T/slow" --limit-rate 1M -m 60 >/dev/null &
    slow=$!
    sleep 1
    local master workers_before
    master=$(e2e_registry_pid "$name")
    workers_before=$(e2e_workers "$name" | sort | tr '\n' ' ')
    mv "$lf" "$lf.1"
    kill -USR1 "$master"
    e2e_check "logfile: SIGUSR1 -> a new file" e2e_wait_for 10 "new $lf" test -s "$lf"
    e2e_check "logfile: SIGUSR1 replaced no worker ($workers_before)" \
        test -n "$workers_before" -a "$(e2e_workers "$name" | sort | tr '\n' ' ')" = "$workers_before"
    # idle workers reopen before their next line; poll until one serves us
    after_rotate() { curl -s -o /dev/null "$url/v2/?after-rotate" && grep -q 'after-rotate' "$lf"; }
    e2e_check "logfile: requests after the rotation go to the new file" e2e_wait_for 10 "after-rotate line" after_rotate
    e2e_check "logfile: the rotated file gets no new request lines" bash -c "! grep -q 'after-rotate' '$lf.1'"
    wait "$slow"
    e2e_check "logfile: the upload in flight during the rotation logged into the new file" \
        e2e_wait_for 5 "PATCH line in $lf" grep -qE 'PATCH /v2/e2e/obslog/blobs/uploads/[^ ]+ upload 202 in 3000000 ' "$lf"
    e2e_check "logfile: ...and not into the old one" bash -c "! grep -q 'PATCH /v2/e2e/obslog' '$lf.1'"
    # SIGHUP (a reload) reopens the log too
    mv "$lf" "$lf.2"
    kill -HUP "$master"
    after_reload() { curl -s -o /dev/null "$url/v2/?after-reload" && grep -q 'after-reload' "$lf"; }
    e2e_check "logfile: SIGHUP -> a new file too" e2e_wait_for 10 "after-reload line" after_reload
    e2e_stop_nginx "$name"
    e2e_stop_registry "$name"
}

# With writeipnskey, health needs a live publisher.
t_health_publisher() {
    local name=obspub dir=$E2E_RUN/obspub url ppid
    if ! e2e_start_stack "$name" 'writeipnskey = "self";' 'publish_allow_offline = true;' "workers = 2;"; then
        e2e_fail "publisher: stack did not start"
        return
    fi
    url=$(e2e_url "$name")
    local saved=$BASE
    BASE=$url
    e2e_check "publisher: health 200 once the publisher is up (required: true)" \
        e2e_wait_for 30 "health 200" health_is 200 '.publisher.required and .publisher.ok'
    ppid=$(jq -r .pid "$dir/state/publisher.json" 2>/dev/null)
    if [ -n "$ppid" ] && e2e_alive "$ppid"; then
        kill -STOP "$ppid"
        local t0=$SECONDS
        e2e_check "publisher stuck (SIGSTOP): health 503 with the stale heartbeat as reason" \
            e2e_wait_for 30 "health 503" health_is 503 '.reason | test("heartbeat")'
        e2e_log "publisher stuck: health went 503 after $((SECONDS - t0)) s (stale after 15 s without a heartbeat)"
        kill -CONT "$ppid"
        e2e_check "publisher resumed: health 200" e2e_wait_for 20 "health 200" health_is 200
        scrape "$T/mp" >/dev/null
        e2e_check "metrics: publisher lines present" grep -q '^oci_registry_p2p_publishes_total ' "$T/mp"
    else
        e2e_fail "publisher: no live pid in $dir/state/publisher.json"
    fi
    BASE=$saved
    e2e_stop_nginx "$name"
    e2e_stop_registry "$name"
}

main() {
    e2e_ensure_stack "$STACK" || { e2e_fail "stack $STACK did not start"; e2e_finish observability; return; }
    T=$(mktemp -d)
    E2E_HTTP_DIR=$T
    BASE=$(e2e_url "$STACK")
    t_health_ok
    t_metrics
    t_access_log
    t_front_restriction nginx
    t_front_restriction lighttpd
    t_front_restriction caddy
    t_health_kubo_hung
    t_logfile
    t_health_publisher
    rm -rf "$T"
    e2e_finish observability
}

main
