# shellcheck shell=bash
# bench/cases_fleet.sh: one writer and FLEET_FOLLOWERS followers on shaped
# links (issue 16), on the rig of tests/fleet_lib.sh. Sourced by bench/run;
# not in its default cases: BENCH_CASES=fleet bench/run. Prints its own
# table (also $OUT/fleet.md; raw numbers in $OUT/fleet/).
#
# Phases, each with a new image of FLEET_MIB MiB in FLEET_LAYERS layers:
#   p2p_pin     pushed to the writer, followers with pinreadonly = true:
#               each follower's client polls its own registry for the tag
#               and pulls it (skopeo, every digest verified) as soon as it
#               appears; the pin of the new root runs at the same time
#   single      pinreadonly = false from here on (the followers' registries
#               restarted); one follower's client alone: the reference
#   p2p_nopin   every client again, blobs fetched on demand
#   central1    one client pulls a new image from the writer's "central"
#               stack (no key: nothing published, the followers' nodes fetch
#               nothing of it) across the links
#   central     the ten clients at once, likewise
#   late        (pinreadonly on, after p2p_pin) a new image goes to the
#               writer; while every follower pins its root, a 1 MiB tag
#               is pushed: its propagation while pins run
#   durability  (last) the writer's Kubo and half the followers stop, the
#               rest pull every tag, a new follower gets an image from
#               them alone, the writer's Kubo restarts and a tag propagates
# Per phase: times from the end of the push (p50, p99, max; n = followers,
# so p99 is the slowest but one only when n >= 100), bytes the writer's
# link sent (its eth0 counters) / image size, per follower bitswap bytes
# from the writer (ledger) and in all (stat), the machine's CPU busy %,
# and per namespace CPU-s and PSS. A run counts only if every pull verified
# and CPU stayed under 80% busy (said under the table).
#
# Settings: FLEET_FOLLOWERS (10), FLEET_RATE (25mbit), FLEET_MIB (64),
# FLEET_LAYERS (4), FLEET_PHASES (a subset of the seven, in their order),
# FLEET_KUBO_SET (Kubo settings for every node, lines of
# "Key JSON"), FLEET_SYSCTL (lines of "key=value" set in every namespace;
# both tests/fleet_lib.sh).

fb_log() { bench_log "fleet: $*"; }
fb_mib() { echo "scale=1; $1 / 1048576" | bc; }
# fb_pct Q FILE: nearest-rank percentile Q (0-100) of FILE's numbers
fb_pct() { sort -n "$2" | awk -v q="$1" '{ a[NR] = $1 } END { i = int((q * NR + 99) / 100); if (i < 1) i = 1; print a[i] }'; }

# fb_snap FILE: the counters at one moment: machine CPU, writer link bytes,
# per follower bitswap bytes (from the writer, in all), per namespace usage
fb_snap() {
    local n
    {
        echo "cpu $(fleet_cpu_snap)"
        echo "wtx $(fleet_tx_bytes w)"
        for n in $FB_NODES; do
            [ "$n" = w ] || echo "bs $n $(fleet_ledger "$n" w) $(fleet_bs_recv "$n")"
            echo "use $n $(fleet_usage "$n")"
        done
    } >"$1"
}

# fb_phase NAME STACK BASE PUSH|NOPUSH NODE...: one phase. BASE "-": each
# client polls its own registry; PUSH: clients start, then the push to the
# writer's STACK; NOPUSH: the push first, then the clients (central). Writes
# $FB/NAME/{times,sum}; returns non-zero if a pull failed.
fb_phase() {
    local name=$1 stack=$2 base=$3 mode=$4 d=$FB/$1 t0 dg secs=$((FB_SECS))
    shift 4
    mkdir -p "$d"
    fb_log "phase $name: $# client(s), image $FLEET_MIB MiB in $FLEET_LAYERS layers"
    fb_snap "$d/before"
    if [ "$mode" = PUSH ]; then
        fleet_clients "$d/c" "$base" fb/img "$name" "$secs" "$@"
        dg=$(fleet_push w "$stack" fb/img "$name" "fleet-bench-$name-$$" "$FLEET_MIB" "$FLEET_LAYERS")
        t0=$(fleet_now)
    else
        dg=$(fleet_push w "$stack" fb/img "$name" "fleet-bench-$name-$$" "$FLEET_MIB" "$FLEET_LAYERS")
        t0=$(fleet_now)
        fleet_clients "$d/c" "$base" fb/img "$name" "$secs" "$@"
    fi
    if [ -z "$dg" ]; then
        fb_log "phase $name: the push failed"
        # shellcheck disable=SC2046 # our clients' pids
        kill $(cat "$d/c/pids") 2>/dev/null
        fleet_clients_wait "$d/c"
        return 1
    fi
    fleet_clients_wait "$d/c"
    fb_snap "$d/after"
    FB_LAST=$d
    fleet_times "$d/c" "$t0" >"$d/times"
    awk '{ print $2 }' "$d/times" >"$d/seen"
    awk '{ print $3 }' "$d/times" >"$d/pulled"
    local fails busy wtx0 wtx1
    fails=$(awk '$4 != 0 || $2 < 0' "$d/times" | wc -l)
    busy=$(fleet_cpu_busy "$(sed -n 's/^cpu //p' "$d/before")" "$(sed -n 's/^cpu //p' "$d/after")")
    wtx0=$(sed -n 's/^wtx //p' "$d/before") wtx1=$(sed -n 's/^wtx //p' "$d/after")
    {
        echo "n $#"
        echo "fails $fails"
        echo "busy $busy"
        echo "wtx $((wtx1 - wtx0))"
        echo "seen $(fb_pct 50 "$d/seen") $(fb_pct 99 "$d/seen") $(fb_pct 100 "$d/seen")"
        echo "pulled $(fb_pct 50 "$d/pulled") $(fb_pct 99 "$d/pulled") $(fb_pct 100 "$d/pulled")"
        echo "wall $(echo "$(fleet_now) - $t0" | bc)"
    } >"$d/sum"
    fb_log "phase $name: $(tr '\n' ' ' <"$d/sum")"
    [ "$fails" = 0 ] || { fb_log "phase $name: $fails pull(s) failed: $(cat "$d"/c/*.log 2>/dev/null | tail -n 3)"; return 1; }
}
# fb_want PHASE: PHASE is in FLEET_PHASES (default: all five)
fb_want() { [[ " ${FLEET_PHASES:-p2p_pin late single p2p_nopin central1 central durability} " == *" $1 "* ]]; }
fb_get() { sed -n "s/^$2 //p" "$FB/$1/sum"; }   # fb_get PHASE KEY

# fb_pins_done: every follower pinned the writer's last published root
fb_pins_done() {
    local n cid
    cid=$(fleet_published)
    for n in $FB_FOLLOWERS; do fleet_pinned "$n" "$cid" || return 1; done
}
fb_all_peers() {
    local n
    for n in $FB_FOLLOWERS; do fleet_has_peers "$n" "$FLEET_FOLLOWERS" || return 1; done
}

# fb_all_pinning CID: every follower's resolver is pinning CID (started, not done)
fb_all_pinning() {
    local n
    for n in $FB_FOLLOWERS; do
        fleet_status "$n" | jq -e --arg c "$1" '.readonly_roots[0].pinning == $c' >/dev/null || return 1
    done
}
# fb_pin_state: per follower "NODE PINNED PINNING PIN_NODES"
fb_pin_state() {
    local n
    for n in $FB_FOLLOWERS; do
        echo "$n $(fleet_status "$n" | jq -r '.readonly_roots[0] | "\(.pinned) \(.pinning) \(.pin_nodes)"')"
    done
}

# fb_late: propagation while pins run (issue 18). A FLEET_MIB image goes to
# the writer with no client; once every follower is pinning its root, a
# 1 MiB tag is pushed and each follower's client polls for it and pulls it.
# Its root supersedes the pins in progress: they start again from it. Also
# records how many followers had still not pinned when their client was done.
fb_late() {
    local d=$FB/late cid running
    fb_log "phase late: a $FLEET_MIB MiB image, then a 1 MiB tag while the followers pin it"
    e2e_wait_for 30 "writer idle" fleet_idle
    fleet_push w reg fb/big v1 "fleet-bench-big-$$" "$FLEET_MIB" "$FLEET_LAYERS" >/dev/null || { fb_log "late: the push failed"; return 1; }
    e2e_wait_for 30 "writer idle" fleet_idle
    cid=$(fleet_published)
    e2e_wait_for 60 "every follower pinning $cid" fb_all_pinning "$cid" || return 1
    # the tag: a phase of its own, with a 1 MiB image in one layer
    # shellcheck disable=SC2086 # node names
    FLEET_MIB=1 FLEET_LAYERS=1 fb_phase late reg - PUSH $FB_FOLLOWERS || return 1
    fb_pin_state >"$d/pins-after"
    cid=$(fleet_published)
    running=$(awk -v c="$cid" '$2 != c' "$d/pins-after" | wc -l)
    echo "running $running" >>"$d/sum"
    fb_log "phase late: pins not completed when the clients were done: $running"
}

# fb_durability: the issue's durability steps on the whole fleet. The
# followers pin again until each holds the writer's last root; then the
# writer's Kubo and the second half of the followers stop; each survivor
# pulls every tag the writer had; a new follower that knows only f1 pulls
# one (its ledger must show 0 bytes from the writer); the writer's Kubo
# restarts and a new tag reaches every running follower.
fb_durability() {
    local d=$FB/durability n k half surv=() refs=() r ok=0 newf
    mkdir -p "$d"
    # fb_note DIR NODE WHAT: NODE's pull in DIR, "ok" or "FAILED", in the sum
    fb_note() {
        if fleet_pulled "$1" "$2"; then echo "$3 ok" >>"$d/sum"; else echo "$3 FAILED" >>"$d/sum"; ok=1; fi
    }
    half=$((FLEET_FOLLOWERS / 2))
    for n in $FB_FOLLOWERS; do fleet_stop_stack "$n" reg && fleet_follower "$n" true || return 1; done
    e2e_wait_for 600 "every follower's pin of the last root" fb_pins_done || return 1
    for r in fb/img fb/big; do
        for k in $(fleet_x w curl -sf -m 10 "$(fleet_url w reg)/v2/$r/tags/list" | jq -r '.tags // [] | .[]'); do refs+=("$r:$k"); done
    done
    for ((k = 1; k <= FLEET_FOLLOWERS; k++)); do
        if [ $k -le "$half" ]; then surv+=("f$k"); else fleet_stop_stack "f$k" reg; fleet_kubo_stop "f$k"; fi
    done
    fleet_kubo_stop w
    fleet_kubo_down w || { fb_log "durability: the writer's Kubo still answers"; return 1; }
    echo "stopped w's Kubo and f$((half + 1))-f$FLEET_FOLLOWERS; survivors ${surv[*]}; ${#refs[@]} tags: ${refs[*]}" >"$d/sum"
    for r in "${refs[@]}"; do
        fleet_clients "$d/${r//[:\/]/_}" - "${r%:*}" "${r#*:}" "$FB_SECS" "${surv[@]}"
        fleet_clients_wait "$d/${r//[:\/]/_}"
        for n in "${surv[@]}"; do fb_note "$d/${r//[:\/]/_}" "$n" "pull $n $r"; done
    done
    newf=f$((FLEET_FOLLOWERS + 1))
    if ! { fleet_nodes "$newf" && fleet_connect "$newf" f1 &&
        e2e_wait_for 60 "$newf finds the survivors" fleet_has_peers "$newf" "$half" &&
        fleet_follower "$newf" true; }; then
        fb_log "durability: $newf did not start"
        return 1
    fi
    fleet_clients "$d/new" - fb/img p2p_pin "$FB_SECS" "$newf"
    fleet_clients_wait "$d/new"
    fleet_pulled "$d/new" "$newf" || ok=1
    echo "new $newf peers $(fleet_peers "$newf") pulled fb/img:p2p_pin rc $(cut -d' ' -f3 "$d/new/$newf") in $(awk '{ printf "%.1f", $2 - $1 }' "$d/new/$newf") s; from writer $(fleet_ledger "$newf" w) bytes; bitswap in all $(fleet_bs_recv "$newf") bytes" >>"$d/sum"
    [ "$(fleet_ledger "$newf" w)" = 0 ] || ok=1
    if ! { fleet_kubo_daemon w && fleet_connect f1 w && e2e_wait_for 60 "writer peers" fleet_has_peers w "$half"; }; then
        fb_log "durability: the writer's Kubo did not restart"
        return 1
    fi
    fleet_clients "$d/after" - fb/after v1 "$FB_SECS" "${surv[@]}" "$newf"
    fleet_push w reg fb/after v1 "fleet-bench-after-$$" 1 1 >/dev/null || ok=1
    fleet_clients_wait "$d/after"
    for n in "${surv[@]}" "$newf"; do fb_note "$d/after" "$n" "restart $n fb/after:v1"; done
    fb_log "durability: $(grep -c ' ok$' "$d/sum") ok, $(grep -c FAILED "$d/sum") failed"
    return $ok
}

fb_table() {
    local img=$((FLEET_MIB << 20)) single p s n b0 b1 r0 r1 u0 u1 ph row busy_max=0 fails=0
    single=1
    [ -f "$FB/single/sum" ] && single=$(fb_get single pulled | cut -d' ' -f3)
    echo "### Fleet: writer + $FLEET_FOLLOWERS followers, links $FLEET_RATE (tbf on both ends of every veth; no delay applied: no netem), image $FLEET_MIB MiB in $FLEET_LAYERS layers"
    echo
    echo "| phase | clients | tag seen p50 / max | pulled p50 / p99 / max | max vs single | writer link sent / image | CPU busy |"
    echo "|---|---|---|---|---|---|---|"
    for p in p2p_pin single p2p_nopin central1 central; do
        [ -f "$FB/$p/sum" ] || continue
        read -r s _ b0 <<<"$(fb_get "$p" seen)"
        read -r n r0 r1 <<<"$(fb_get "$p" pulled)"
        case $p in
            p2p_pin) row="fleet p2p, pinreadonly on (pin and pull overlap)" ;;
            single) row="one follower alone, p2p, pinreadonly off" ;;
            p2p_nopin) row="fleet p2p, pinreadonly off (on-demand fetch)" ;;
            central1) row="central: one client, from the writer's registry" ;;
            central) row="central: every client, from the writer's registry" ;;
        esac
        printf '| %s | %s | %.1f / %.1f s | %.1f / %.1f / %.1f s | %.2fx | %.2f | %s%% |\n' "$row" "$(fb_get "$p" n)" \
            "$s" "$b0" "$n" "$r0" "$r1" "$(echo "$r1 / $single" | bc -l)" \
            "$(echo "$(fb_get "$p" wtx) / $img" | bc -l)" "$(fb_get "$p" busy)"
        busy_max=$(echo "if ($(fb_get "$p" busy) > $busy_max) $(fb_get "$p" busy) else $busy_max" | bc)
        fails=$((fails + $(fb_get "$p" fails)))
    done
    echo
    echo "Writer's eth0 qdisc at the end: $(fleet_tc w)"
    echo
    echo "Central tag seen = its clients' first answer (no propagation); p99 of $FLEET_FOLLOWERS samples is the maximum (nearest rank)."
    if [ "$fails" = 0 ] && [ "$(echo "$busy_max < 80" | bc)" = 1 ]; then
        echo "Run counts: every pull verified (skopeo), CPU busy at most $busy_max% (< 80%)."
    else
        echo "Run does NOT count: $fails failed pull(s), CPU busy at most $busy_max%."
    fi
    echo
    echo "Per follower, bitswap bytes received in the p2p phases (MiB; from the writer: its ledger; from peers: bitswap stat's DataReceived minus that, duplicate blocks included):"
    echo
    echo "| follower | pin on: from writer | from peers | pin off: from writer | from peers |"
    echo "|---|---|---|---|---|"
    for n in $FB_FOLLOWERS; do
        row="| $n"
        for ph in p2p_pin p2p_nopin; do
            [ -f "$FB/$ph/after" ] || { row="$row | - | -"; continue; }
            read -r b0 r0 <<<"$(sed -n "s/^bs $n //p" "$FB/$ph/before")"
            read -r b1 r1 <<<"$(sed -n "s/^bs $n //p" "$FB/$ph/after")"
            row="$row | $(fb_mib $((b1 - b0))) | $(fb_mib $((r1 - r0 - (b1 - b0))))"
        done
        echo "$row |"
    done
    echo
    echo "Per namespace: PSS at the end (MiB) and CPU seconds in each phase (every process of the namespace; user + system, with reaped children):"
    echo
    echo "| namespace | PSS | CPU-s p2p pin on | single | p2p pin off | central one | central all |"
    echo "|---|---|---|---|---|---|---|"
    for n in $FB_NODES; do
        row="| $n | $(fb_mib $(($(sed -n "s/^use $n //p" "$FB_LAST/after" | cut -d' ' -f1) * 1024)))"
        for ph in p2p_pin single p2p_nopin central1 central; do
            [ -f "$FB/$ph/after" ] || { row="$row | -"; continue; }
            u0=$(sed -n "s/^use $n //p" "$FB/$ph/before" | cut -d' ' -f2)
            u1=$(sed -n "s/^use $n //p" "$FB/$ph/after" | cut -d' ' -f2)
            row="$row | $(echo "$u1 - $u0" | bc)"
        done
        echo "$row |"
    done
    echo
    if [ -f "$FB/late/sum" ]; then
        read -r s _ b0 <<<"$(fb_get late seen)"
        read -r n r0 r1 <<<"$(fb_get late pulled)"
        printf 'While pins run (phase late): a 1 MiB tag pushed while every follower pinned a new %s MiB root: tag seen p50 %.1f s, max %.1f s; pulled and verified p50 %.1f s, max %.1f s; %s failed; followers whose pin had still not completed when their client was done: %s of %s; CPU busy %s%%.\n\n' \
            "$FLEET_MIB" "$s" "$b0" "$n" "$r1" "$(fb_get late fails)" "$(fb_get late running)" "$FLEET_FOLLOWERS" "$(fb_get late busy)"
    fi
    if [ -f "$FB/durability/sum" ]; then
        echo "Durability: $(head -n 1 "$FB/durability/sum")"
        echo
        echo "- survivors' pulls of every tag, writer's Kubo down: $(grep -c '^pull .* ok$' "$FB/durability/sum") verified, $(grep -c '^pull .*FAILED' "$FB/durability/sum") failed"
        echo "- $(grep '^new ' "$FB/durability/sum" | sed 's/^new //')"
        echo "- writer's Kubo restarted, a new tag pushed: $(grep -c '^restart .* ok$' "$FB/durability/sum") followers pulled it (verified), $(grep -c '^restart .*FAILED' "$FB/durability/sum") failed"
        echo
    fi
    echo "Writer's publishes (flush + name/publish; latency from the first change):"
    grep 'publisher: published' "$FLEET/w/reg/registry.log" | sed 's/.*(/- /; s/)$//'
    echo
    local kubo="defaults (and the rig's dhtserver, no bootstrap, no mDNS)"
    [ -n "${FLEET_KUBO_SET:-}" ] && kubo=$(tr '\n' ';' <<<"$FLEET_KUBO_SET")
    echo "Kubo settings: $kubo"
    [ -n "${FLEET_SYSCTL:-}" ] && echo && echo "sysctl in every namespace: $(tr '\n' ';' <<<"$FLEET_SYSCTL")"
}

case_fleet() {
    local n ok=0
    FLEET_FOLLOWERS=${FLEET_FOLLOWERS:-10}
    FLEET_MIB=${FLEET_MIB:-64}
    FLEET_LAYERS=${FLEET_LAYERS:-4}
    export FLEET_RATE=${FLEET_RATE:-25mbit}
    # a client's bound: ten times the image over one link, and a minute
    FB_SECS=$((60 + 10 * FLEET_MIB * 8 * 1000000 / $(fleet_rate_bits)))
    FB_FOLLOWERS=$(seq -f 'f%g' 1 "$FLEET_FOLLOWERS" | tr '\n' ' ')
    FB_NODES="w $FB_FOLLOWERS"
    FLEET=$(mktemp -d "$E2E_RUN/fl.XXXX") FB=$OUT/fleet
    export FLEET FLEET_TMP=$WORK
    rm -rf "$FB" && mkdir -p "$FB"
    [ "$(id -u)" = 0 ] || { fb_log "needs root (network namespaces)"; return 1; }
    # our namespaces go with the stacks, also on Ctrl-C
    trap 'fleet_teardown; bench_cleanup' EXIT
    # shellcheck disable=SC2086 # node names
    if ! fleet_net_up || ! fleet_nodes $FB_NODES; then fb_log "fleet did not start"; fleet_teardown; trap bench_cleanup EXIT; return 1; fi
    for n in $FB_FOLLOWERS; do fleet_connect "$n" w || ok=1; done
    if [ $ok = 0 ] && e2e_wait_for 120 "every follower with $FLEET_FOLLOWERS swarm peers" fb_all_peers &&
        fleet_writer && fleet_stack w central; then
        for n in $FB_FOLLOWERS; do fleet_follower "$n" true || ok=1; done
    else
        ok=1
    fi
    if [ $ok = 0 ]; then
        fb_log "up: $(for n in $FB_NODES; do printf '%s:%s ' "$n" "$(fleet_peers "$n")"; done)(swarm peers)"
        # shellcheck disable=SC2086
        fb_want p2p_pin && { fb_phase p2p_pin reg - PUSH $FB_FOLLOWERS || ok=1; }
        if fb_want p2p_pin || fb_want late; then
            e2e_wait_for 300 "every follower's pin of the last root" fb_pins_done || ok=1
        fi
        fb_want late && { fb_late || ok=1; }
        for n in $FB_FOLLOWERS; do fleet_stop_stack "$n" reg && fleet_follower "$n" false || ok=1; done
        fb_want single && { fb_phase single reg - PUSH f1 || ok=1; }
        # shellcheck disable=SC2086
        fb_want p2p_nopin && { fb_phase p2p_nopin reg - PUSH $FB_FOLLOWERS || ok=1; }
        fb_want central1 && { fb_phase central1 central "$(fleet_addr w central)" NOPUSH f1 || ok=1; }
        # shellcheck disable=SC2086
        fb_want central && { fb_phase central central "$(fleet_addr w central)" NOPUSH $FB_FOLLOWERS || ok=1; }
        fb_want durability && { fb_durability || ok=1; }
        fb_table | tee "$OUT/fleet.md"
    fi
    fleet_teardown
    trap bench_cleanup EXIT
    return $ok
}
