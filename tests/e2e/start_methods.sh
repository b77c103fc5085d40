#!/usr/bin/env bash
# start_methods.sh: how the registry is started and stopped, for real.
#   - spawn-fcgi (-n, socket on fd 0) behind nginx: the master says so
#   - SIGHUP while requests keep coming: every request answers 200 (GETs
#     in a loop, plus a slow upload spanning the reloads), and afterwards
#     every worker is a new one (replaced one by one)
#   - SIGTERM with a slow upload in flight: the upload completes (202,
#     every byte counted), then the master exits with its pool
#   - systemd units: `systemd-analyze verify` passes and
#     `systemd-analyze security --offline=yes` scores the service (the
#     LISTEN_FDS path itself runs in fronts.sh under systemd-socket-activate;
#     systemd is not PID 1 here, so the units cannot be started)
# Results in $E2E_ARTIFACTS/start_methods.txt.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

SM_STACK=signals

sm_note() { printf '%s\n' "$*" | tee -a "$SM_REPORT"; }

sm_workers() { pgrep -P "$(e2e_registry_pid "$SM_STACK")" | sort | tr '\n' ' '; }

# sm_slow_patch OUTFILE FILE RATE: a PATCH of FILE sent at RATE (curl
# --limit-rate), so it is in flight for a known time; writes
# "<http code> <Range header>" to OUTFILE when done.
sm_slow_patch() {
    local out=$1 file=$2 rate=$3 loc code
    loc=$(e2e_upload_start "$(e2e_url "$SM_STACK")" e2e/signals)
    code=$(e2e_upload_patch "$loc" "$file" --limit-rate "$rate" -m 60)
    printf '%s %s\n' "$code" "$(e2e_header Range)" >"$out"
}

# sm_get_loop OUT SECONDS URL: GETs URL until SECONDS have passed, one
# status code per line in OUT (bounded by time and by a count).
sm_get_loop() {
    local out=$1 end=$(($(date +%s) + $2)) url=$3 i
    for ((i = 0; i < 5000; i++)); do
        [ "$(date +%s)" -lt "$end" ] || break
        printf '%s\n' "$(e2e_code -m 20 "$url")" >>"$out"
    done
}

t_reload() {
    local dir=$E2E_RUN/$SM_STACK base d before after file slow n bad total common reloads
    base=$(e2e_url "$SM_STACK")
    file=$dir/probe.bin
    head -c 200000 /dev/urandom >"$file"
    d=$(e2e_blob_put "$base" e2e/signals "$file") || { e2e_fail "reload: pushing the probe blob"; return; }
    head -c 4000000 /dev/urandom >"$dir/slow.bin"
    before=$(sm_workers)
    n=$(grep -c "SIGHUP: reloaded" "$dir/registry.log")
    : >"$dir/loop1" && : >"$dir/loop2"
    sm_get_loop "$dir/loop1" 9 "$base/v2/e2e/signals/blobs/$d" &
    local l1=$!
    sm_get_loop "$dir/loop2" 9 "$base/v2/" &
    local l2=$!
    # 4 MB at 1 MB/s: in flight across all three reloads.
    sm_slow_patch "$dir/slow-hup" "$dir/slow.bin" 1M &
    slow=$!
    sleep 1
    for _ in 1 2 3; do
        kill -HUP "$(e2e_registry_pid "$SM_STACK")"
        sleep 1.5
    done
    wait "$l1" "$l2" "$slow"
    sleep 2   # the last generation settles
    after=$(sm_workers)
    reloads=$(($(grep -c "SIGHUP: reloaded" "$dir/registry.log") - n))
    total=$(cat "$dir/loop1" "$dir/loop2" | wc -l)
    bad=$(cat "$dir/loop1" "$dir/loop2" | grep -vc '^200$')
    common=$(comm -12 <(tr ' ' '\n' <<<"$before" | sed '/^$/d' | sort) <(tr ' ' '\n' <<<"$after" | sed '/^$/d' | sort) | wc -l)
    e2e_check "reload: 3 SIGHUPs, $reloads reloads logged" [ "$reloads" = 3 ]
    e2e_check "reload: $total GETs during the reloads, $bad not 200" sh -c "[ $total -ge 20 ] && [ $bad = 0 ]"
    e2e_check "reload: the 4 MB PATCH spanning the reloads completed ($(cat "$dir/slow-hup"))" \
        [ "$(cat "$dir/slow-hup")" = "202 0-3999999" ]
    e2e_check "reload: every worker replaced (before: $before; after: $after)" \
        sh -c "[ -n '$after' ] && [ $common = 0 ]"
    sm_note "SIGHUP x3 under load: $total GETs, $bad failed; slow PATCH across the reloads: $(cat "$dir/slow-hup"); workers before [$before] after [$after]"
}

t_drain() {
    local dir=$E2E_RUN/$SM_STACK master kids slow alive code
    master=$(e2e_registry_pid "$SM_STACK")
    kids=$(pgrep -P "$master" | tr '\n' ' ')
    head -c 6000000 /dev/urandom >"$dir/slow2.bin"
    # 6 MB at 2 MB/s: about 3 s in flight; SIGTERM lands after 1 s.
    sm_slow_patch "$dir/slow-term" "$dir/slow2.bin" 2M &
    slow=$!
    sleep 1
    kill -TERM "$master"
    wait "$slow"
    e2e_check "drain: the PATCH in flight at SIGTERM completed ($(cat "$dir/slow-term"))" \
        [ "$(cat "$dir/slow-term")" = "202 0-5999999" ]
    # shellcheck disable=SC2086 # pid lists
    e2e_wait_gone 20 $master $kids
    # shellcheck disable=SC2086
    alive=$(e2e_alive_of $master $kids)
    e2e_check "drain: master $master and its children exited within 20 s" [ -z "$alive" ]
    e2e_check "drain: the master logged the drain" grep -q "SIGTERM: draining" "$dir/registry.log"
    code=$(e2e_code -m 10 "$(e2e_url "$SM_STACK")/v2/")
    e2e_check "drain: afterwards nginx finds no backend ($code)" [ "$code" = 502 ]
    [ -z "$alive" ] && rm -f "$dir/registry.pid"
    sm_note "SIGTERM with a PATCH in flight: $(cat "$dir/slow-term"); master and workers gone: $([ -z "$alive" ] && echo yes || echo "no:$alive")"
}

t_systemd() {
    local d=$E2E_RUN/systemd-units score rc
    mkdir -p "$d"
    cp "$E2E_ROOT"/systemd/oci-registry-p2p.service "$E2E_ROOT"/systemd/oci-registry-p2p.socket "$d/"
    # verify checks that ExecStart exists: point it at the binary under test.
    sed -i "s|^ExecStart=[^ ]*oci-registry-p2p |ExecStart=$REGISTRY_BIN |" "$d/oci-registry-p2p.service"
    if ! grep -q "^ExecStart=$REGISTRY_BIN " "$d/oci-registry-p2p.service"; then
        e2e_fail "systemd: could not point ExecStart at $REGISTRY_BIN"
        return
    fi
    e2e_check "systemd: the service takes the socket via LISTEN_FDS (Sockets=, StandardInput=null) and logs to the journal" \
        sh -c "grep -q '^Sockets=oci-registry-p2p.socket' '$d/oci-registry-p2p.service' && grep -q '^StandardError=journal' '$d/oci-registry-p2p.service' && grep -q '^StateDirectory=' '$d/oci-registry-p2p.service'"
    (cd "$d" && systemd-analyze verify --man=no ./oci-registry-p2p.socket ./oci-registry-p2p.service) >"$d/verify.log" 2>&1
    rc=$?
    e2e_check "systemd: systemd-analyze verify passes (exit $rc, $(wc -l <"$d/verify.log") lines of output)" \
        sh -c "[ $rc = 0 ] && ! grep -qiE 'error|unknown|failed|not executable' '$d/verify.log'"
    systemd-analyze security --offline=yes "$d/oci-registry-p2p.service" >"$d/security.log" 2>&1
    score=$(sed -n 's/.*Overall exposure level for oci-registry-p2p.service: \([0-9.]*\).*/\1/p' "$d/security.log")
    # systemd's scale: 0 is locked down, 10 is exposed; below 2 is "OK".
    e2e_check "systemd: systemd-analyze security --offline=yes: exposure $score" \
        awk -v s="${score:-99}" 'BEGIN { exit !(s + 0 < 2.0) }'
    sm_note "systemd-analyze verify: $([ -s "$d/verify.log" ] && echo "output in log" || echo clean); security --offline=yes exposure: $score"
    cp "$d/verify.log" "$d/security.log" "$E2E_ARTIFACTS/" 2>/dev/null
}

main() {
    e2e_init_run
    SM_REPORT=$E2E_ARTIFACTS/start_methods.txt
    : >"$SM_REPORT"
    e2e_need_kubo || { e2e_finish start_methods; return; }
    echo "== start methods and signals (report: $SM_REPORT)"
    if e2e_start_stack "$SM_STACK" "workers = 3;"; then
        e2e_check "spawn-fcgi: the master serves on the socket spawn-fcgi put on fd 0" \
            grep -q "serving on inherited fd 0" "$E2E_RUN/$SM_STACK/registry.log"
        t_reload
        t_drain
        e2e_stop_nginx "$SM_STACK"
    else
        e2e_fail "stack $SM_STACK did not start"
    fi
    t_systemd
    e2e_finish start_methods
}

main "$@"
