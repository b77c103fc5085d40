#!/usr/bin/env bash
# fleet.sh: a small fleet on shaped links (issue 16), its behaviour only
# (timings go to the report, never into a check; bench/run's fleet case
# measures). tests/fleet_lib.sh makes it: a writer w and three followers
# f1..f3, each its own Kubo node + registry + nginx in a network namespace,
# links shaped to FLEET_RATE (100mbit) with tbf on both ends, no delay (this
# kernel has no netem). The followers connect once to the writer and find
# each other through the DHT; they mirror the writer's key with pinreadonly.
#
#   propagation   a 4-layer 16 MiB image pushed to the writer is served by
#                 every follower; each follower's client pulls it from its
#                 own registry as soon as the tag appears (skopeo verifies
#                 every digest) and gets the writer's manifest digest
#   one publish   the push is one publish (the writer's publishes_total)
#   durability    with the writer's Kubo daemon and f3 stopped, f1 and f2
#                 still serve every tag (pinned); a new follower f4 that
#                 connects only to f1 resolves the key and pulls the image,
#                 its bitswap ledger showing 0 bytes from the writer; the
#                 writer's Kubo restarted, a new push reaches every follower
#
# Needs root and `ip netns`; skips (exit 0, with a message) without them.
# Numbers in $E2E_ARTIFACTS/fleet.txt.
set -u
E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export E2E_ROOT
# shellcheck source=lib.sh
. "$E2E_ROOT/tests/e2e/lib.sh"

MIB=16
LAYERS=4
FOLLOWERS=(f1 f2 f3)
export FLEET_RATE=${FLEET_RATE:-100mbit}

# shellcheck source=../fleet_lib.sh
. "$E2E_ROOT/tests/fleet_lib.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "fleet: SKIPPED: network namespaces need root"
    exit 0
fi
if ! ip netns add "$FLEET_NS-probe" 2>/dev/null; then
    echo "fleet: SKIPPED: 'ip netns add' does not work here"
    exit 0
fi
ip netns del "$FLEET_NS-probe"

e2e_init_run
FLEET=$(mktemp -d "$E2E_RUN/fleet.XXXX")
export FLEET
REPORT=$E2E_ARTIFACTS/fleet.txt
: >"$REPORT"
report() { printf '%s\n' "$*" | tee -a "$REPORT"; }
START=$SECONDS

fleet_test_teardown() {
    fleet_teardown
    [ "$E2E_OWNER" = 1 ] && e2e_teardown
}

# ---------------------------------------------------------------- helpers
manifest_digest() { # NODE REPO TAG
    fleet_x "$1" curl -sfI -m 10 -H "Accept: $MT_OCI_MANIFEST" "$(fleet_url "$1" reg)/v2/$2/manifests/$3" |
        tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" { print $2 }'
}
every_follower_has_peers() {
    local n
    for n in "${FOLLOWERS[@]}"; do fleet_has_peers "$n" "${#FOLLOWERS[@]}" || return 1; done
}
tags() { fleet_x w curl -sf -m 10 "$(fleet_url w reg)/v2/$1/tags/list" | jq -r '.tags[]'; }
stats() { sort -n | awk '{ a[NR] = $1 } END { printf "median %.2f s, max %.2f s (n=%d)", a[int((NR + 1) / 2)], a[NR], NR }'; }

# ------------------------------------------------------------------ steps
t_fleet_up() {
    local n
    if ! fleet_net_up || ! fleet_nodes w "${FOLLOWERS[@]}"; then e2e_fail "namespaces, links and Kubo nodes"; return 1; fi
    for n in "${FOLLOWERS[@]}"; do
        e2e_check "$n connects to the writer (one swarm connect, over its shaped link)" fleet_connect "$n" w
    done
    e2e_check "each follower has ${#FOLLOWERS[@]} swarm peers (the others found through the DHT)" \
        e2e_wait_for 30 "swarm peers" every_follower_has_peers
    fleet_writer || { e2e_fail "the writer's registry"; return 1; }
    for n in "${FOLLOWERS[@]}"; do
        fleet_follower "$n" true || { e2e_fail "$n's registry"; return 1; }
    done
    report "fleet: writer + ${#FOLLOWERS[@]} followers on $FLEET_RATE links (tbf both ends, no delay applied), up in $((SECONDS - START)) s"
}

t_push_pull() {
    local p0 p1 dg t0 n seen pulled_at rc
    e2e_wait_for 10 "writer idle" fleet_idle
    p0=$(fleet_publishes)
    fleet_clients "$FLEET/c1" - fl/app v1 90 "${FOLLOWERS[@]}"
    dg=$(fleet_push w reg fl/app v1 "fleet-test-$$" "$MIB" "$LAYERS")
    t0=$(fleet_now)
    e2e_check "push of a $LAYERS-layer $MIB MiB image to the writer" [ -n "$dg" ]
    fleet_clients_wait "$FLEET/c1"
    for n in "${FOLLOWERS[@]}"; do
        e2e_check "$n serves fl/app:v1 and its client pulled it (skopeo verified every digest)" fleet_pulled "$FLEET/c1" "$n"
        e2e_expect_eq "$n's manifest digest for fl/app:v1 is the writer's" "$(manifest_digest "$n" fl/app v1)" "$dg"
    done
    fleet_times "$FLEET/c1" "$t0" >"$FLEET/c1/times"
    while read -r n seen pulled_at rc; do
        report "$n: tag seen $seen s after the push, image pulled $pulled_at s after (rc $rc)"
    done <"$FLEET/c1/times"
    report "propagation: $(awk '{ print $2 }' "$FLEET/c1/times" | stats); pull: $(awk '{ print $3 }' "$FLEET/c1/times" | stats)"
    e2e_wait_for 10 "writer idle" fleet_idle
    p1=$(fleet_publishes)
    e2e_expect_eq "the push was one publish (writer's publishes_total $p0 -> $p1)" "$((p1 - p0))" 1
    report "writer: $(grep 'publisher: published' "$FLEET/w/reg/registry.log" | tail -n 1 | sed 's/.*(//; s/)$//')"
}

t_durability() {
    local cid n tag d size got
    cid=$(fleet_published)
    for n in "${FOLLOWERS[@]}"; do
        e2e_check "$n pinned the writer's root $cid" e2e_wait_for 60 "$n pinned" fleet_pinned "$n" "$cid"
    done
    ALL_TAGS=$(tags fl/app)
    e2e_expect_lines "the writer lists fl/app:v1" "$ALL_TAGS" v1
    fleet_kubo_stop w
    fleet_stop_stack f3 reg
    fleet_kubo_stop f3
    e2e_check "the writer's Kubo daemon is stopped (its RPC does not answer)" fleet_kubo_down w
    e2e_check "f3's Kubo daemon is stopped" fleet_kubo_down f3
    # every tag the writer had (a pull of each from each survivor)
    for tag in $ALL_TAGS; do
        fleet_clients "$FLEET/d-$tag" - fl/app "$tag" 60 f1 f2
        fleet_clients_wait "$FLEET/d-$tag"
        for n in f1 f2; do
            e2e_check "writer and f3 down: $n still serves fl/app:$tag, pulled and verified" fleet_pulled "$FLEET/d-$tag" "$n"
        done
    done

    # a new follower that knows only f1
    fleet_nodes f4 || { e2e_fail "f4's namespace and Kubo node"; return; }
    FOLLOWERS+=(f4)
    e2e_check "f4 connects to f1 (its only swarm connect)" fleet_connect f4 f1
    e2e_check "f4 finds f2 through the DHT (2 swarm peers)" e2e_wait_for 30 "f4 peers" fleet_has_peers f4 2
    fleet_follower f4 true || { e2e_fail "f4's registry"; return; }
    fleet_clients "$FLEET/d-f4" - fl/app v1 90 f4
    fleet_clients_wait "$FLEET/d-f4"
    e2e_check "f4 resolved the key from the surviving followers and pulled fl/app:v1 (verified)" fleet_pulled "$FLEET/d-f4" f4
    got=$(fleet_ledger f4 w)
    e2e_expect_eq "f4's bitswap ledger: 0 bytes from the writer" "$got" 0
    size=$((MIB << 20))
    got=$(fleet_bs_recv f4)
    e2e_check "f4 received the image from the followers over bitswap ($got bytes >= $size)" [ "${got:-0}" -ge "$size" ]
    report "f4: pulled $(awk '{ printf "%.2f s", $2 - $1 }' "$FLEET/d-f4/f4") after its tag appeared; bitswap from f1 $(fleet_ledger f4 f1), f2 $(fleet_ledger f4 f2), writer 0 bytes"

    # the writer's node back: pushes propagate again
    FOLLOWERS=(f1 f2 f4)
    if ! fleet_kubo_daemon w; then e2e_fail "the writer's Kubo restarts"; return; fi
    e2e_check "f1 connects to the restarted writer" fleet_connect f1 w
    e2e_wait_for 30 "writer peers" fleet_has_peers w 3
    fleet_clients "$FLEET/c2" - fl/app v2 90 "${FOLLOWERS[@]}"
    d=$(fleet_push w reg fl/app v2 "fleet-test-2-$$" 4 "$LAYERS")
    e2e_check "the writer takes a push after its Kubo restarted" [ -n "$d" ]
    fleet_clients_wait "$FLEET/c2"
    for n in "${FOLLOWERS[@]}"; do
        e2e_check "after the restart $n serves fl/app:v2 and its client pulled it (verified)" fleet_pulled "$FLEET/c2" "$n"
    done
    e2e_expect_lines "the writer lists both tags" "$(tags fl/app)" v1 v2
}

main() {
    e2e_prepare || { e2e_fail "prepare"; return; }
    trap fleet_test_teardown EXIT
    trap 'exit 130' INT TERM
    t_fleet_up || return
    t_push_pull
    t_durability
    report "fleet.sh: $((SECONDS - START)) s"
}

main
e2e_finish fleet
