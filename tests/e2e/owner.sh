#!/usr/bin/env bash
# owner.sh: one registry per tree (ipfs/owner.h), on the shared Kubo node.
# A second registry (another statedir) pointed at the same mfsroot, or at
# the same writeipnskey, refuses to start and names the owner; a clean stop
# releases the tree at once, a SIGKILLed owner on this host is taken over at
# once, one on another host once its heartbeat is older than owner_lease;
# the heartbeat never changes the tree's root nor causes a publish; a
# registry whose record another one took over stops.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

LEASE=3
TREE=/oci-registry-p2p-own-shared

t_record() { e2e_ipfs files read "$TREE.owner" 2>/dev/null; }
t_record_has() { t_record | grep -qF "$1"; }
t_no_record() { ! e2e_ipfs files stat "$TREE.owner" >/dev/null 2>&1; }
# t_logged NAME TEXT: NAME's registry log has TEXT
t_logged() { grep -qF -- "$2" "$E2E_RUN/$1/registry.log"; }
t_publisher_holds() { grep -qE "publisher\[[0-9]+\]: owner: this registry owns mfsroot $TREE" "$E2E_RUN/$1/registry.log"; }
t_gone() { ! pgrep -f "oci-registry-p2p -c $E2E_RUN/$1/" >/dev/null; }
# t_write_record HOST HEARTBEAT: another registry's record, by hand, in one
# MFS call (a running registry's heartbeat must never see it half written)
t_write_record() {
    jq -nc --arg h "$1" --argjson t "$2" '{host:$h,statedir:"/var/lib/x",pid:1,heartbeat:$t}' |
        e2e_ipfs files write --create --truncate "$TREE.owner"
}

# t_start NAME [CONFIG LINES...]: a registry on TREE (its own statedir).
t_start() {
    local name=$1
    shift
    E2E_MFSROOT=$TREE e2e_start_registry "$name" "owner_lease = $LEASE;" "$@"
}

# t_exited NAME: the registry NAME's master exited by itself within 15 s
# (its status in T_STATUS).
t_exited() {
    local pid
    pid=$(e2e_registry_pid "$1")
    e2e_wait_gone 15 "$pid" || return 1
    wait "$pid" 2>/dev/null
    T_STATUS=$?
}
# t_refused NAME: it exited by itself, with a failure status.
t_refused() { t_exited "$1" && [ "$T_STATUS" != 0 ]; }

# t_push_blob NAME: a 5-byte blob pushed in one POST, then a manifest that
# names it (blobs alone are not published), so the tree exists and changed
t_push_blob() {
    printf 'owner' >"$E2E_RUN/$1/owner.blob"
    [ "$(e2e_blob_post "$(e2e_url "$1")" own/test "$E2E_RUN/$1/owner.blob")" = 201 ] &&
        python3 "$E2E_ROOT/tests/e2e/gc_push.py" image "$(e2e_url "$1")" own/test v1 '{"owner":1}' \
            "$E2E_RUN/$1/owner.blob" >/dev/null
}
# t_idle NAME: its publisher published everything it was told of
t_idle() {
    local f=$E2E_RUN/$1/state/publisher.json
    [ "$(jq -r .pending "$f" 2>/dev/null)" = false ] && [ "$(jq -r .publishes_total "$f")" -ge 1 ]
}

t_serves() { e2e_code_is 200 "$(e2e_url "$1")/v2/"; }   # through its own nginx

main() {
    e2e_init_run
    e2e_need_kubo || { e2e_finish owner; return; }
    e2e_ipfs files rm -r "$TREE" >/dev/null 2>&1
    e2e_ipfs files rm "$TREE.owner" >/dev/null 2>&1

    # 1. the first registry owns the tree (and publishes it); a second one refuses
    e2e_ipfs key gen ownkey1 >/dev/null 2>&1
    t_start own1 'writeipnskey = "ownkey1";' "publish_allow_offline = true;" || e2e_fail "start own1"
    e2e_start_nginx own1 || e2e_fail "nginx own1"
    e2e_check "own1 serves" e2e_wait_for 20 "own1 /v2/" t_serves own1
    e2e_check "own1's record names its statedir" t_record_has "\"statedir\":\"$E2E_RUN/own1/state\""
    t_start own2
    e2e_check "a second registry on the same mfsroot refuses to start" t_refused own2
    e2e_check "  ... naming the owner's statedir and host" \
        t_logged own2 "mfsroot $TREE is owned by another registry: statedir $E2E_RUN/own1/state on host $(hostname)"
    e2e_check "  ... and the setting to change" t_logged own2 "Give this registry its own mfsroot"

    # 2. the heartbeat renews the record, never the tree's root, never a publish
    local root0 hb0 root1 hb1 pubs0 pubs1
    t_push_blob own1 || e2e_fail "push a blob to own1"
    e2e_wait_for 20 "own1 published the blob" t_idle own1
    root0=$(e2e_ipfs files stat --hash "$TREE")
    hb0=$(t_record | jq -r .heartbeat)
    pubs0=$(jq -r .publishes_total "$E2E_RUN/own1/state/publisher.json")
    sleep $((LEASE + 1))
    root1=$(e2e_ipfs files stat --hash "$TREE")
    hb1=$(t_record | jq -r .heartbeat)
    pubs1=$(jq -r .publishes_total "$E2E_RUN/own1/state/publisher.json")
    e2e_check "the heartbeat moved ($hb0 -> $hb1)" [ "$hb1" -gt "$hb0" ]
    # e2e_expect_eq fails on an empty WANT: a tree that was never made cannot pass
    e2e_expect_eq "  ... and the tree's root did not" "$root1" "$root0"
    e2e_check "  ... the registry had published it ($pubs0 publishes)" [ "${pubs0:-0}" -ge 1 ]
    e2e_expect_eq "  ... nor did the heartbeat cause a publish" "$pubs1" "$pubs0"

    # 3. a clean stop releases the tree: the other registry starts at once
    e2e_stop_nginx own1
    e2e_stop_registry own1
    e2e_check "a clean stop removes the record" t_no_record
    t_start own2 || e2e_fail "start own2"
    e2e_start_nginx own2 || e2e_fail "nginx own2"
    e2e_check "after the owner stopped, the other registry serves the tree" e2e_wait_for 20 "own2 /v2/" t_serves own2

    # 4. an owner SIGKILLed on this host is taken over at once
    local master
    master=$(e2e_registry_pid own2)
    kill -KILL "$master" 2>/dev/null
    e2e_wait_for 10 "own2's processes gone" t_gone own2
    : >"$E2E_RUN/own1/registry.log"
    t_start own1 || e2e_fail "restart own1"
    e2e_check "a SIGKILLed owner on this host is taken over at once" e2e_wait_for 10 "own1 up" \
        t_logged own1 "owns mfsroot $TREE"
    e2e_stop_registry own1
    e2e_stop_nginx own2

    # 5. an owner on another host: refused while its heartbeat is fresh,
    #    taken over once it is older than owner_lease
    t_write_record other-host "$(date +%s)" || e2e_fail "write a foreign record"
    : >"$E2E_RUN/own2/registry.log"
    t_start own2
    e2e_check "a live owner on another host: refused" t_refused own2
    e2e_check "  ... naming that host" t_logged own2 "statedir /var/lib/x on host other-host"
    t_write_record other-host "$(($(date +%s) - LEASE - 5))"
    t_start own2 || e2e_fail "start own2 over a stale record"
    e2e_start_nginx own2 || e2e_fail "nginx own2"
    e2e_check "an owner on another host whose heartbeat is older than owner_lease is taken over" \
        e2e_wait_for 20 "own2 /v2/" t_serves own2

    # 6. a record taken over while running: the registry stops
    # the publisher holds the record once it has claimed it too (after the master)
    e2e_wait_for 20 "own2's publisher holds the tree" t_publisher_holds own2
    t_write_record other-host "$(($(date +%s) + 60))"
    e2e_check "a registry whose tree another registry took stops by itself" t_exited own2
    e2e_check "  ... saying so" t_logged own2 "mfsroot $TREE is now held by another registry"
    e2e_stop_nginx own2
    e2e_ipfs files rm "$TREE.owner" >/dev/null 2>&1

    # 7. the write key has one owner too, whatever the mfsroots
    e2e_ipfs key gen ownkey >/dev/null 2>&1
    E2E_MFSROOT=/oci-registry-p2p-own-k1 e2e_start_registry ownk1 "owner_lease = $LEASE;" 'writeipnskey = "ownkey";' \
        "publish_allow_offline = true;" || e2e_fail "start ownk1"
    e2e_wait_for 20 "ownk1 owns its key" t_logged ownk1 'owns mfsroot /oci-registry-p2p-own-k1 and writeipnskey "ownkey"' 
    E2E_MFSROOT=/oci-registry-p2p-own-k2 e2e_start_registry ownk2 "owner_lease = $LEASE;" 'writeipnskey = "ownkey";' \
        "publish_allow_offline = true;"
    e2e_check "a second registry with the same writeipnskey refuses to start" t_refused ownk2
    e2e_check "  ... naming the key" t_logged ownk2 'writeipnskey "ownkey" is owned by another registry' 
    e2e_stop_registry ownk1
    e2e_finish owner
}

main
