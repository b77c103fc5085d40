#!/usr/bin/env bash
# ui.sh: the read-only web view (/ui/, setting ui) against the real stack.
#   - one stack "ui" (ui = true, a write key published offline, a second key
#     as read-only root) gets an image pushed through the API with hostile
#     annotations (HTML, script, a javascript: URL) and a referrer whose
#     artifact type has '&' (the API takes only RFC 6838 types), and an
#     index with two platforms; the read-only
#     root is a tree built here (tests/e2e/ui_tree.py: a repository and tags
#     with HTML in their names, a manifest whose artifact type is HTML,
#     1,000 repositories, a repository with 5,000
#     tags), added with `ipfs add -r` and published under the second key;
#   - headless Chromium (tests/e2e/ui_browser.py) loads every page type,
#     checks the DOM against what `ipfs` says (layer CIDs, the root CID
#     that `ipfs name resolve` gives), follows the links, fails on console
#     errors, requests to another origin, a page wider than 375 px and any
#     script that runs; screenshots go to the artifacts folder;
#   - w3m -dump of each page holds the repository, its tags, the pull command;
#   - curl: the security headers and the 405s through nginx, lighttpd and
#     caddy (the shipped configs), pagination of 1,000 repositories and
#     5,000 tags (n, last, the 1,000 cap), the Kubo RPCs a tags page costs
#     (at most 3 per tag cold, none warm), and /ui/ is 404 with ui off.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fronts_lib.sh"

STACK=ui
T=""
BASE=""
REPO=ui/demo
CSP="default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

key_id() { e2e_ipfs key list -l | awk -v k="$1" '$2 == k { print $1 }'; }
key_make() { [ -n "$(key_id "$1")" ] || e2e_ipfs key gen "$1" >/dev/null; key_id "$1"; }
metric() { curl -s "$BASE/v2/_p2p/metrics" | awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }'; }
rpcs() { metric oci_registry_p2p_kubo_rpc_duration_seconds_count; }
ro_resolved() { curl -sf "$BASE/v2/_p2p/status" | jq -e --arg c "$RO_CID" '.readonly_roots[0].cid == $c' >/dev/null; }
status_field() { curl -s "$BASE/v2/_p2p/status" | jq -r ".publisher.$1"; }

# The read-only root: the tree, added and published under key ui-ro.
setup_root() {
    local cid
    /usr/bin/python3 "$E2E_ROOT/tests/e2e/ui_tree.py" "$T/tree" >"$T/tree.json" || return 1
    cid=$(e2e_ipfs add -r -Q --cid-version 1 --pin=false "$T/tree") || return 1
    RO_KEY=$(key_make ui-ro) && OWN_KEY=$(key_make ui-own) || return 1
    e2e_ipfs name publish --allow-offline --key=ui-ro "/ipfs/$cid" >/dev/null || return 1
    RO_CID=$cid
    e2e_log "read-only root $cid under $RO_KEY ($(find "$T/tree" | wc -l) entries)"
}

# The pushed image: config, one layer, a manifest with hostile annotations
# under tags 1.0 and latest; a referrer with an HTML artifact type; an
# index with two platforms under tag multi.
push_image() {
    local cfg layer m ref idx csize lsize msize
    printf '{"architecture":"amd64","os":"linux","created":"2026-12-01T10:00:00Z","rootfs":{"type":"layers","diff_ids":[]}}' >"$T/config"
    head -c 200000 /dev/urandom >"$T/layer"
    cfg=$(e2e_digest "$T/config") layer=$(e2e_digest "$T/layer")
    csize=$(stat -c %s "$T/config") lsize=$(stat -c %s "$T/layer")
    e2e_blob_push "$BASE" "$REPO" "$T/config" "$cfg" && e2e_blob_push "$BASE" "$REPO" "$T/layer" "$layer" || return 1
    jq -cn --arg c "$cfg" --argjson cs "$csize" --arg l "$layer" --argjson ls "$lsize" '{
        schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
        layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}],
        annotations: {
            "org.opencontainers.image.description": "<script>alert(\"annotation\")</script>",
            "org.opencontainers.image.created": "2026-12-02T00:00:00Z",
            "org.opencontainers.image.source": "https://example.org/src?a=1&b=<2>",
            "org.example.bad-link": "javascript:alert(\"link\")",
            "<img src=x onerror=alert(3)>": "key with HTML"}}' >"$T/manifest"
    m=$(e2e_digest "$T/manifest")
    msize=$(stat -c %s "$T/manifest")
    [ "$(e2e_manifest_put "$BASE" "$REPO" 1.0 "$T/manifest")" = 201 ] &&
        [ "$(e2e_manifest_put "$BASE" "$REPO" latest "$T/manifest")" = 201 ] || return 1
    printf '{}' >"$T/empty"
    e2e_blob_push "$BASE" "$REPO" "$T/empty" "$(e2e_digest "$T/empty")" || return 1
    jq -cn --arg s "$m" --argjson ss "$msize" --arg e "$(e2e_digest "$T/empty")" '{
        schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
        artifactType: "application/vnd.example.a&b+json",
        config: {mediaType: "application/vnd.oci.empty.v1+json", digest: $e, size: 2},
        layers: [{mediaType: "application/vnd.oci.empty.v1+json", digest: $e, size: 2}],
        subject: {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $s, size: $ss}}' >"$T/referrer"
    ref=$(e2e_digest "$T/referrer")
    [ "$(e2e_manifest_put "$BASE" "$REPO" "$ref" "$T/referrer")" = 201 ] || return 1
    jq -cn --arg m "$m" --argjson ms "$msize" '{
        schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [
            {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms, platform: {os: "linux", architecture: "amd64"}},
            {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms, platform: {os: "linux", architecture: "arm64", variant: "v8"}}]}' >"$T/index"
    idx=$(e2e_digest "$T/index")
    [ "$(e2e_manifest_put "$BASE" "$REPO" multi "$T/index" "application/vnd.oci.image.index.v1+json")" = 201 ] || return 1
    MANIFEST=$m REFERRER=$ref INDEX=$idx
    CONFIG_CID=$(e2e_ipfs files stat --hash "$(e2e_mfs_blob_path "$STACK" "$cfg")")
    LAYER_CID=$(e2e_ipfs files stat --hash "$(e2e_mfs_blob_path "$STACK" "$layer")")
}

# Until what the key resolves to is what the publisher last published,
# with nothing pending: the registry page's root is then `ipfs name resolve`'s.
root_settled() {
    local r
    r=$(e2e_ipfs name resolve "/ipns/$OWN_KEY" 2>/dev/null) || return 1
    [ "$(status_field pending)" = false ] && [ "$r" = "/ipfs/$(status_field last_published_cid)" ] && ROOT_CID=${r#/ipfs/}
}

enc() { jq -rn --arg s "$1" '$s | @uri'; }
# has_all TEXT WORD...: every WORD is in TEXT.
has_all() {
    local text=$1 w
    shift
    for w in "$@"; do grep -qF -- "$w" <<<"$text" || return 1; done
}
# hdr HEADERS NAME VALUE: the header line "NAME: VALUE" is there (name in any case).
hdr() { grep -qixF -- "$2: $3" <<<"$1"; }
# view_headers HEADERS: the three headers every answer of the view carries.
view_headers() {
    hdr "$1" Content-Security-Policy "$CSP" && hdr "$1" X-Content-Type-Options nosniff &&
        hdr "$1" Referrer-Policy no-referrer
}
# answer_is HEADERS CODE [NAME VALUE]: status CODE, the view's headers, and
# the header NAME: VALUE if given.
answer_is() {
    [ "$(head -n1 <<<"$1" | awk '{ print $2 }')" = "$2" ] && view_headers "$1" && { [ $# -lt 4 ] || hdr "$1" "$3" "$4"; }
}
# links_ok FILE: no javascript: link; the https annotation is a link, escaped.
links_ok() {
    ! grep -qi 'href="javascript' "$1" && grep -qF 'href="https://example.org/src?a=1&amp;b=&lt;2&gt;"' "$1"
}
# off_ok HEADERS: 404 without the view's headers.
off_ok() { [ "$(head -n1 <<<"$1" | awk '{ print $2 }')" = 404 ] && ! grep -qi '^content-security-policy' <<<"$1"; }

t_browser() {
    local hr ht
    hr=$(jq -r .repo "$T/tree.json") ht=$(jq -r .tag "$T/tree.json")
    jq -n --arg base "$BASE" --arg art "$E2E_ARTIFACTS" --arg repo "$REPO" --arg m "$MANIFEST" \
        --arg ref "$REFERRER" --arg idx "$INDEX" --arg ccid "$CONFIG_CID" --arg lcid "$LAYER_CID" \
        --arg root "$ROOT_CID" --arg hr "$hr" --arg ht "$ht" --arg her "$(enc "$hr")" \
        --arg host "${BASE#http://}" '{
        base: $base, artifacts: $art,
        pages: [
            {label: "repositories", path: "/ui/?last=many%2Fr0995&n=8", shot: "repositories", must: [$repo, $hr, "Repositories", "tags5k"]},
            {label: "repository", path: ("/ui/repo?name=" + ($repo | @uri)), shot: "repository",
             must: [$repo, "1.0", "latest", "multi", $m, "linux/amd64, linux/arm64/v8", "2026-12-02T00:00:00Z",
                    ("podman pull " + $host + "/" + $repo + ":1.0")]},
            {label: "manifest", path: ("/ui/manifest?name=" + ($repo | @uri) + "&ref=1.0"), shot: "manifest",
             must: [$m, $ccid, $lcid, "2026-12-01T10:00:00Z (image config)", "<script>alert(\"annotation\")</script>", "javascript:alert(\"link\")",
                    "<img src=x onerror=alert(3)>", $ref, "application/vnd.example.a&b+json"]},
            {label: "index", path: ("/ui/manifest?name=" + ($repo | @uri) + "&ref=multi"), must: [$idx, "linux/arm64/v8"]},
            {label: "referrer", path: ("/ui/manifest?name=" + ($repo | @uri) + "&ref=" + $ref),
             must: ["application/vnd.example.a&b+json", $m]},
            {label: "registry", path: "/ui/registry", shot: "registry", must: [$root, "healthy"]},
            {label: "hostile repositories", path: "/ui/?prefix=ro%2F", must: [$hr]},
            {label: "hostile repository", path: ("/ui/repo?name=" + $her), shot: "hostile", must: [$hr, $ht]},
            {label: "hostile manifest", path: ("/ui/manifest?name=" + $her + "&ref=" + ($ht | @uri)), must: [$hr, "<b>read-only</b>"]}
        ],
        follow: {start: "/ui/?prefix=ui%2F", repo: $repo, digest: $m, cids: [$ccid, $lcid], root: $root}}' >"$T/spec.json"
    if /usr/bin/python3 "$E2E_ROOT/tests/e2e/ui_browser.py" "$T/spec.json" >"$T/browser.log" 2>&1; then
        e2e_ok "browser: $(grep -c '^ok' "$T/browser.log") checks in headless Chromium"
    else
        sed 's/^/    /' "$T/browser.log"
        e2e_fail "browser: $(grep -c '^FAIL' "$T/browser.log") failed check(s)"
    fi
    cp "$T/browser.log" "$E2E_ARTIFACTS/ui-browser.log"
    # the hostile markup is text in the HTML too: escaped, never a tag
    curl -s "$BASE/ui/manifest?name=$(enc "$REPO")&ref=1.0" >"$T/m.html"
    e2e_check "manifest HTML: the annotation's script is escaped" grep -qF '&lt;script&gt;alert(&quot;annotation&quot;)&lt;/script&gt;' "$T/m.html"
    e2e_check "manifest HTML: no javascript: link, an http(s) annotation is one" links_ok "$T/m.html"
    e2e_check "manifest HTML: the layer's CID as an ipfs:// link and a gateway link" \
        grep -qF "href=\"ipfs://$LAYER_CID\"" "$T/m.html"
    e2e_check "manifest HTML: the gateway link uses ui_gateway_url" \
        grep -qF "href=\"http://127.0.0.1:$(e2e_kubo_gw_port)/ipfs/$LAYER_CID\"" "$T/m.html"
}

t_w3m() {
    local out
    # wide enough that a table cell does not wrap the pull command
    out=$(w3m -dump -cols 400 "$BASE/ui/repo?name=$(enc "$REPO")")
    printf '%s\n' "$out" >"$E2E_ARTIFACTS/ui-w3m-repository.txt"
    e2e_check "w3m: the repository page has the name, its tags and the pull command" \
        has_all "$out" "$REPO" 1.0 latest multi "podman pull ${BASE#http://}/$REPO:1.0"
    out=$(w3m -dump "$BASE/ui/?prefix=ui%2F")
    e2e_check "w3m: the repositories page lists $REPO" grep -qF "$REPO" <<<"$out"
    out=$(w3m -dump -cols 400 "$BASE/ui/manifest?name=$(enc "$REPO")&ref=1.0")
    e2e_check "w3m: the manifest page has the pull command and the layer's CID" \
        has_all "$out" "podman pull ${BASE#http://}/$REPO:1.0" "$LAYER_CID"
    out=$(w3m -dump "$BASE/ui/registry")
    e2e_check "w3m: the registry page has the root CID" grep -qF "$ROOT_CID" <<<"$out"
}

# t_headers URL FRONT: the headers and the 405s through one front.
t_headers() {
    local url=$1 front=$2 h code m
    h=$(curl -s -D - -o /dev/null "$url/ui/" | tr -d '\r')
    e2e_check "$front: GET /ui/ 200, text/html, with Content-Security-Policy, nosniff, no-referrer" \
        answer_is "$h" 200 Content-Type "text/html; charset=utf-8"
    h=$(curl -s -D - -o /dev/null "$url/ui/style.css" | tr -d '\r')
    e2e_check "$front: /ui/style.css 200, text/css, with the same headers" \
        answer_is "$h" 200 Content-Type "text/css; charset=utf-8"
    for m in POST PUT PATCH DELETE; do
        h=$(curl -s -D - -o /dev/null -X "$m" -H 'Content-Type: text/plain' --data-binary x "$url/ui/repo?name=$REPO" | tr -d '\r')
        e2e_check "$front: $m /ui/repo -> 405 with Allow: GET, HEAD and the view's headers ($(head -n1 <<<"$h"))" \
            answer_is "$h" 405 Allow "GET, HEAD"
    done
    code=$(e2e_code -I "$url/ui/registry")
    e2e_check "$front: HEAD /ui/registry -> 200 (got $code)" [ "$code" = 200 ]
}

t_fronts() {
    local front dir port
    t_headers "$BASE" nginx
    for front in lighttpd caddy; do
        dir=$T/$front port=$(e2e_free_port)
        mkdir -p "$dir"
        case $front in
            lighttpd)
                lighttpd_render_local "$dir" "127.0.0.1:$port" "$E2E_RUN/$STACK/fcgi.sock" &&
                    { lighttpd -D -f "$dir/lighttpd.conf" >>"$dir/stderr.log" 2>&1 & } ;;
            caddy)
                caddy_render_local "$dir" "127.0.0.1:$port" "$E2E_RUN/$STACK/fcgi.sock" "127.0.0.1:$(e2e_kubo_gw_port)" &&
                    { HOME=$dir XDG_DATA_HOME=$dir XDG_CONFIG_HOME=$dir caddy run --adapter caddyfile --config "$dir/Caddyfile" >>"$dir/stderr.log" 2>&1 & } ;;
        esac || { e2e_fail "$front: could not render the shipped config"; continue; }
        echo $! >"$dir/front.pid"
        if e2e_wait_for 15 "$front on :$port" curl -sf -o /dev/null "http://127.0.0.1:$port/ui/"; then
            t_headers "http://127.0.0.1:$port" "$front"
        else
            tail -n 5 "$dir"/*.log >&2
            e2e_fail "$front: /ui/ did not answer"
        fi
        e2e_stop_pid "$dir/front.pid" 5
    done
}

# pages PATH: follows rel=next from PATH, printing every row's link target
# (the name or tag of each row) and, on stderr, how many pages it took.
pages() {
    local url=$BASE$1 n=0 html
    while [ -n "$url" ]; do
        html=$(curl -sf "$url") || { echo "GET $url failed" >&2; return 1; }
        n=$((n + 1))
        grep -oE "$2" <<<"$html"
        url=$(grep -oE '<a rel="next" href="[^"]*"' <<<"$html" | sed -e 's/^<a rel="next" href="//' -e 's/"$//' -e 's/&amp;/\&/g')
        [ -n "$url" ] && url=$BASE$url
    done
    echo "$n" >"$T/pages"
}

t_pagination() {
    local got want
    got=$(pages "/ui/?prefix=many%2F&n=300" 'name=many%2Fr[0-9]{4}"' | sort -u | wc -l)
    e2e_check "repositories: 1,000 under many/ by n=300 in $(cat "$T/pages") pages (got $got)" \
        [ "$got" = 1000 -a "$(cat "$T/pages")" = 4 ]
    got=$(pages "/ui/?prefix=many%2F" 'name=many%2Fr[0-9]{4}"' | wc -l)
    e2e_check "repositories: 100 rows a page by default ($(cat "$T/pages") pages, $got rows)" \
        [ "$got" = 1000 -a "$(cat "$T/pages")" = 10 ]
    got=$(curl -s "$BASE/ui/?n=5000" | grep -cE '<tr><td data-label="Repository">')
    e2e_check "repositories: n=5000 is capped at 1,000 rows (got $got)" [ "$got" = 1000 ]
    got=$(curl -s "$BASE/ui/?prefix=many%2F&last=many%2Fr0997" | grep -oE 'name=many%2Fr[0-9]{4}"' | tr '\n' ' ')
    e2e_check "repositories: last= in lexical order (got $got)" [ "$got" = 'name=many%2Fr0998" name=many%2Fr0999" ' ]
    local t0 t1
    t0=$(date +%s%N)
    want=$(seq -f 't%04g' 0 4999 | tr '\n' ' ')
    got=$(pages "/ui/repo?name=tags5k&n=1000" '<th scope="row" data-label="Tag">t[0-9]{4}' | sed 's/.*>//' | tr '\n' ' ')
    t1=$(date +%s%N)
    e2e_check "tags: 5,000 in $(cat "$T/pages") pages of 1,000, in order ($(((t1 - t0) / 1000000)) ms)" \
        [ "$got" = "$want" -a "$(cat "$T/pages")" = 5 ]
}

# A tags page costs at most 3 Kubo RPCs per tag shown on a cold cache (plus
# 3 for the page: its tag list and the listings of the subjects with
# referrers), and none warm (the registry's Kubo RPC counter, which the
# publisher's calls also move: so the publish a push causes is waited for,
# and a try that still saw some of its calls is repeated). Quiet, the 4 tags
# here cost 12: 3 for the page, 4 for the tag whose manifest has a referrer
# (link, revision, bytes, referrers), 3 for the index, 1 each for the two
# tags whose manifest the page read already.
t_rpc_cost() {
    local a b c try ntags=4
    for try in 1 2 3; do
        # a write bumps the cache generation: what was cached is cold again
        [ "$(e2e_manifest_put "$BASE" "$REPO" cold "$T/manifest")" = 201 ] || { e2e_fail "push :cold"; return; }
        e2e_wait_for 30 "the publish settled" root_settled
        a=$(rpcs)
        curl -sf -o /dev/null "$BASE/ui/repo?name=$(enc "$REPO")"
        b=$(rpcs)
        curl -sf -o /dev/null "$BASE/ui/repo?name=$(enc "$REPO")"
        c=$(rpcs)
        e2e_log "try $try: $((b - a)) Kubo RPCs cold, $((c - b)) warm"
        [ $((b - a)) -le $((3 * ntags + 3)) ] && [ $((c - b)) -eq 0 ] && break
    done
    echo "ui tags page ($ntags tags): $((b - a)) Kubo RPCs cold, $((c - b)) warm (try $try)" | tee "$E2E_ARTIFACTS/ui.txt"
    e2e_check "tags page: $((b - a)) Kubo RPCs cold for $ntags tags (at most 3 a tag and 3 for the page: $((3 * ntags + 3)))" \
        [ $((b - a)) -le $((3 * ntags + 3)) ]
    e2e_check "tags page: $((c - b)) Kubo RPCs warm (none)" [ $((c - b)) -eq 0 ]
}

# An OCI layout on IPFS (ipfs/<cid>: not in the catalog) has its page too.
t_layout() {
    local cid out
    cid=$(e2e_ipfs add -r -Q --cid-version 1 "$E2E_ROOT/tests/e2e/data/seed-hello-layout") || { e2e_fail "add the layout"; return; }
    out=$(curl -sf "$BASE/ui/repo?name=ipfs%2F$cid")
    e2e_check "a layout on IPFS: /ui/repo?name=ipfs/<cid> lists its tag v1 and its pull command" \
        has_all "$out" ">v1<" "podman pull ${BASE#http://}/ipfs/$cid:v1"
}

t_off() {
    local off=default h
    if ! [ -f "$E2E_RUN/$off/port" ]; then
        off=uioff
        e2e_start_stack "$off" || { e2e_fail "stack $off"; return; }
    fi
    h=$(curl -s -D - -o /dev/null "$(e2e_url "$off")/ui/" | tr -d '\r')
    e2e_check "ui off (stack $off): GET /ui/ -> 404 without the view's headers ($(head -n1 <<<"$h"))" off_ok "$h"
    if [ "$off" = uioff ]; then
        e2e_stop_nginx uioff
        e2e_stop_registry uioff
    fi
}

main() {
    e2e_init_run
    e2e_prepare || { e2e_fail "build or Kubo"; e2e_finish ui; return; }
    if [ "$E2E_OWNER" = 1 ]; then
        trap e2e_teardown EXIT
        trap 'exit 130' INT TERM
    fi
    [ -f "$E2E_RUN/kubo/api.port" ] || e2e_start_kubo || { e2e_fail "Kubo"; e2e_finish ui; return; }
    T=$(mktemp -d)
    E2E_HTTP_DIR=$T
    setup_root || { e2e_fail "the read-only root"; e2e_finish ui; return; }
    e2e_start_stack "$STACK" 'ui = true;' "ui_gateway_url = \"http://127.0.0.1:$(e2e_kubo_gw_port)\";" \
        'writeipnskey = "ui-own";' 'publish_allow_offline = true;' "readonlyipnskeys = [ \"$RO_KEY\" ];" \
        'ipnsrefresh = 60;' 'workers = 1;' || { e2e_fail "stack $STACK"; e2e_finish ui; return; }
    BASE=$(e2e_url "$STACK")
    e2e_wait_for 30 "the read-only root resolved" ro_resolved ||
        e2e_fail "the read-only root did not resolve"
    push_image || { e2e_fail "push the image"; e2e_finish ui; return; }
    e2e_wait_for 30 "the publish settled" root_settled || e2e_fail "the root was not published"
    t_rpc_cost
    t_browser
    t_w3m
    t_fronts
    t_pagination
    t_layout
    t_off
    rm -rf "$T"
    e2e_finish ui
}

main
