#!/usr/bin/env bash
# auth.sh: access control through the front server, with the shipped
# deploy/*/oci-registry-p2p-auth.* configurations (only addresses and paths
# substituted) and clients logging in as users do, over TLS with a CA this
# suite makes (never --tls-verify=false):
#
#   one registry (require_remote_user = true) on the shared Kubo node, and in
#   front of it, each on a free loopback port:
#     nginx, lighttpd, caddy   TLS, anonymous GET/HEAD, basic auth (bcrypt
#                              htpasswd) for every other method
#     open                     plain-HTTP nginx with the shipped config
#                              without auth: a front server misconfigured to
#                              pass writes unauthenticated
#
#   through each auth front: GET /v2/ is 200 with a Basic challenge; a push
#   without credentials is 401 with WWW-Authenticate, with wrong ones 401,
#   with the right ones it succeeds: skopeo (--dest-creds, login), podman
#   (login, push, pull), crane (auth login), oras (login, push --ca-file);
#   a login with a wrong password fails (oras: its push); every client pulls anonymously; a
#   DELETE needs the user too; the registry's access lines name the user of
#   every write. Through the open front the registry itself refuses writes
#   (401 UNAUTHORIZED) while pulls work.
#
# Results (front x client x case) go to $E2E_ARTIFACTS/auth.txt.
set -uo pipefail
AU_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$AU_DIR/lib.sh"
# shellcheck source=fronts_lib.sh
. "$AU_DIR/fronts_lib.sh"

AU_USER=alice
AU_REALM=oci-registry-p2p
AU_FRONTS="nginx lighttpd caddy"

# --------------------------------------------------------------- results
# au_case FRONT CLIENT CASE COMMAND...: one check, and one row of the table.
au_case() {
    local front=$1 client=$2 what=$3 res=FAIL
    shift 3
    if "$@" >>"$AU/clients.log" 2>&1; then
        res=pass
        e2e_ok "$front: $client: $what"
    else
        e2e_fail "$front: $client: $what (output in clients.log)"
    fi
    printf '%-9s %-8s %-58s %s\n' "$front" "$client" "$what" "$res" >>"$AU_REPORT"
}
# au_refused COMMAND...: COMMAND must fail, and because it was refused
# credentials (its output says 401 or unauthorized), not for another reason.
au_refused() {
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    [ "$rc" != 0 ] && printf '%s\n' "$out" | grep -qiE '401|unauthori[sz]ed|authentication required|invalid username/password|credential not found'
}

# ----------------------------------------------------------- credentials
# A CA and a server certificate for 127.0.0.1 and localhost, signed by it;
# the clients trust the CA only (cert dirs hold it as ca.crt).
au_make_certs() {
    local d=$AU/tls
    mkdir -p "$d/certs"
    openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 2 \
        -subj "/CN=oci-registry-p2p e2e CA" -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null || return 1
    openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
        -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null || return 1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$d/ext.cnf"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
        -days 2 -extfile "$d/ext.cnf" -out "$d/server.pem" 2>/dev/null || return 1
    cp "$d/ca.pem" "$d/certs/ca.crt"
    openssl verify -CAfile "$d/ca.pem" "$d/server.pem" >/dev/null
}

# bcrypt (all three fronts take it: nginx and lighttpd through crypt(3),
# caddy natively), cost 5 so that a push of a dozen requests stays quick.
au_make_users() {
    AU_PASS=$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    htpasswd -nbB -C 5 "$AU_USER" "$AU_PASS" | sed '/^$/d' >"$AU/htpasswd" || return 1
    sed 's/:/ /' "$AU/htpasswd" >"$AU/caddy-users"
}

# --------------------------------------------------------------- fronts
# au_render IN OUT SED-EXPR...: the shipped file with the substitutions.
au_render() {
    local in=$1 out=$2
    shift 2
    fronts_sub "$in" "$out" "$@" && au_unsubstituted "$out"
}

# None of the system paths or addresses may survive in a rendered file (a
# test front must never talk to a system registry or read system secrets).
au_unsubstituted() {
    if grep -nE '/etc/oci-registry-p2p|/run/oci-registry-p2p|127\.0\.0\.1:(8080|5000)\b|registry\.example\.com|:443\b' "$1"; then
        e2e_log "auth: a system path or address survived in $1"
        return 1
    fi
}

# The substitutions every auth config shares: certificate, key and users...
au_file_paths() {
    printf '%s\n' "s|/etc/oci-registry-p2p/tls/fullchain\\.pem|$AU/tls/server.pem|" \
        "s|/etc/oci-registry-p2p/tls/privkey\\.pem|$AU/tls/server.key|" \
        "s|/etc/oci-registry-p2p/htpasswd|$AU/htpasswd|" \
        "s|/etc/oci-registry-p2p/caddy-users|$AU/caddy-users|"
}
# ...then the registry's socket and Kubo's gateway.
au_paths() {
    au_file_paths
    printf '%s\n' "s|/run/oci-registry-p2p/fcgi\\.sock|$AU_SOCK|g" \
        "s|127\\.0\\.0\\.1:8080|127.0.0.1:$(e2e_kubo_gw_port)|"
}

# nginx: scripts/nginx-conf.sh's private instance around the auth server
# block. It substitutes "listen 127.0.0.1:5000;", the socket and the gateway
# itself, so the TLS listener goes in that form and comes out as
# "listen 127.0.0.1:PORT ssl;".
au_nginx_conf() {
    local out=$1 port=$2 exprs
    mapfile -t exprs < <(au_file_paths)
    mkdir -p "$out"
    fronts_sub "$E2E_ROOT/deploy/nginx/oci-registry-p2p-auth.conf" "$out/auth-site.conf" "${exprs[@]}" \
        "s|listen 443 ssl;|listen 127.0.0.1:5000;|" \
        "s|server_name registry\\.example\\.com;|server_name localhost;|" || return 1
    NGINX_SHIPPED_CONF=$out/auth-site.conf nginx_render_local "$out" "127.0.0.1:$port ssl" "$AU_SOCK" \
        "127.0.0.1:$(e2e_kubo_gw_port)" || return 1
    au_unsubstituted "$out/server.conf"
}

au_lighttpd_conf() {
    local out=$1 port=$2 exprs
    mapfile -t exprs < <(au_paths)
    mkdir -p "$out/tmp" "$out/htdocs"
    au_render "$E2E_ROOT/deploy/lighttpd/oci-registry-p2p-auth.conf" "$out/site.conf" "${exprs[@]}" \
        "s|\$SERVER\\[\"socket\"\\] == \":443\"|\$SERVER[\"socket\"] == \"127.0.0.1:$port\"|" || return 1
    cat >"$out/lighttpd.conf" <<EOF
# generated by tests/e2e/auth.sh from deploy/lighttpd/oci-registry-p2p-auth.conf
server.document-root = "$out/htdocs"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$out/error.log"
server.upload-dirs = ( "$out/tmp" )
server.modules = ( "mod_accesslog" )
accesslog.filename = "$out/access.log"
include "$out/site.conf"
EOF
    lighttpd -tt -f "$out/lighttpd.conf" >"$out/check.log" 2>&1 || { cat "$out/check.log" >&2; return 1; }
}

au_caddy_conf() {
    local out=$1 port=$2 exprs
    mapfile -t exprs < <(au_paths)
    mkdir -p "$out"
    au_render "$E2E_ROOT/deploy/caddy/oci-registry-p2p-auth.caddy" "$out/site.caddy" "${exprs[@]}" \
        "s|^https://registry\\.example\\.com {|https://127.0.0.1:$port {|" || return 1
    cat >"$out/Caddyfile" <<EOF
# generated by tests/e2e/auth.sh from deploy/caddy/oci-registry-p2p-auth.caddy
{
    admin off
    # no certificate management: the site brings its own (tls ...)
    auto_https disable_redirects
    storage file_system $out/data
    log {
        output file $out/caddy.log
    }
}
import $out/site.caddy
EOF
}

# au_start FRONT: renders and starts FRONT on a free port (three tries);
# its pid in $E2E_RUN/auth-FRONT/front.pid (e2e_teardown stops it).
au_start() {
    local front=$1 dir=$E2E_RUN/auth-$1 port try
    mkdir -p "$dir"
    for try in 1 2 3; do
        port=$(e2e_free_port) || return 1
        case $front in
            nginx)
                au_nginx_conf "$dir/nginx" "$port" || return 1
                nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log" -g 'daemon off;' \
                    >>"$dir/nginx/stderr.log" 2>&1 &
                ;;
            lighttpd)
                au_lighttpd_conf "$dir/lighttpd" "$port" || return 1
                lighttpd -D -f "$dir/lighttpd/lighttpd.conf" >>"$dir/lighttpd/stderr.log" 2>&1 &
                ;;
            caddy)
                au_caddy_conf "$dir/caddy" "$port" || return 1
                (cd "$dir/caddy" && HOME=$dir/caddy XDG_CONFIG_HOME=$dir/caddy/config XDG_DATA_HOME=$dir/caddy/data \
                    exec caddy run --config "$dir/caddy/Caddyfile" --adapter caddyfile) >>"$dir/caddy/stderr.log" 2>&1 &
                ;;
            open)
                nginx_render_local "$dir/nginx" "127.0.0.1:$port" "$AU_SOCK" "127.0.0.1:$(e2e_kubo_gw_port)" || return 1
                nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log" -g 'daemon off;' \
                    >>"$dir/nginx/stderr.log" 2>&1 &
                ;;
        esac
        echo $! >"$dir/front.pid"
        echo "$port" >"$dir/port"
        if e2e_wait_for 15 "$front on :$port" au_ping "$front"; then
            e2e_log "auth: $front on $(au_url "$front") (pid $(cat "$dir/front.pid"))"
            return 0
        fi
        e2e_log "auth: $front did not serve on :$port (try $try)"
        tail -n 5 "$dir"/*/error.log "$dir"/*/stderr.log >&2 2>/dev/null
        e2e_stop_pid "$dir/front.pid" 10
    done
    return 1
}

au_port() { cat "$E2E_RUN/auth-$1/port"; }
au_host() { printf '127.0.0.1:%s' "$(au_port "$1")"; }
au_url() {
    if [ "$1" = open ]; then printf 'http://%s' "$(au_host "$1")"; else printf 'https://%s' "$(au_host "$1")"; fi
}
# curl trusting only the suite's CA
au_curl() { curl -s --max-time 30 --cacert "$AU/tls/ca.pem" "$@"; }
au_ping() { [ "$(au_curl -o /dev/null -w '%{http_code}' "$(au_url "$1")/v2/")" = 200 ]; }

# ------------------------------------------------------------- clients
# Every client gets its own configuration and credential store under $AU:
# nothing is read from or written to the user's.
# skopeo and podman: no registries.conf of the system, and an empty auth
# file unless a case names one.
au_skopeo() {
    CONTAINERS_REGISTRIES_CONF=$AU/registries.conf REGISTRY_AUTH_FILE=$AU/anonymous.json \
        timeout 120 skopeo "$@"
}
au_podman() {
    CONTAINERS_REGISTRIES_CONF=$AU/registries.conf REGISTRY_AUTH_FILE=$AU/anonymous.json \
        timeout 120 podman --root "$AU/podman/root" --runroot "$AU/podman/run" --storage-driver vfs \
        --cgroup-manager cgroupfs --events-backend file --log-level error "$@"
}
au_crane() { DOCKER_CONFIG=$AU/crane SSL_CERT_FILE=$AU/tls/ca.pem timeout 120 "$CRANE_BIN" "$@"; }
# oras takes files by relative paths (from $AU)
au_oras() { (cd "$AU" && timeout 120 "$ORAS_BIN" "$@"); }

# au_code FRONT METHOD PATH [CURL ARGS...]: the status; the headers go to $AU/last.hdr.
au_code() {
    local front=$1 method=$2 path=$3
    shift 3
    au_curl -o "$AU/last.body" -D "$AU/last.hdr" -w '%{http_code}' -X "$method" "$@" "$(au_url "$front")$path"
}
# au_challenged: the last answer carries "WWW-Authenticate: Basic realm=...".
# (lighttpd adds ', charset="UTF-8"')
au_challenged() { tr -d '\r' <"$AU/last.hdr" | grep -qi "^www-authenticate: Basic realm=\"$AU_REALM\""; }
au_is() { [ "$1" = "$2" ]; }
# au_is_challenged WANT CODE: CODE is WANT and the answer has the challenge.
au_is_challenged() { [ "$2" = "$1" ] && au_challenged; }

au_http_cases() {
    local f=$1 code
    code=$(au_code "$f" GET /v2/)
    au_case "$f" curl "anonymous GET /v2/: 200 with a Basic challenge ($code)" au_is_challenged 200 "$code"
    code=$(au_code "$f" HEAD "/v2/auth/seed/manifests/v1" -I)
    au_case "$f" curl "anonymous HEAD of a manifest: 200 ($code)" au_is "$code" 200
    code=$(au_code "$f" POST "/v2/auth/curl-$f/blobs/uploads/" -H 'Content-Length: 0')
    au_case "$f" curl "push (POST) without credentials: 401 ($code) with WWW-Authenticate: Basic" \
        au_is_challenged 401 "$code"
    code=$(au_code "$f" POST "/v2/auth/curl-$f/blobs/uploads/" -H 'Content-Length: 0' -u "$AU_USER:wrong")
    au_case "$f" curl "push (POST) with a wrong password: 401 ($code)" au_is "$code" 401
    code=$(au_code "$f" GET /v2/ -u "$AU_USER:wrong")
    au_case "$f" curl "GET /v2/ with a wrong password (a login): 401 ($code)" au_is "$code" 401
    code=$(au_code "$f" GET /v2/ -u "$AU_USER:$AU_PASS")
    au_case "$f" curl "GET /v2/ with the right password: 200 ($code)" au_is "$code" 200
    code=$(au_code "$f" POST "/v2/auth/curl-$f/blobs/uploads/" -H 'Content-Length: 0' -u "$AU_USER:$AU_PASS")
    au_case "$f" curl "push (POST) with the right password: 202 ($code)" au_is "$code" 202
    code=$(au_code "$f" DELETE "/v2/auth/seed-$f/manifests/$AU_SEED_DIGEST")
    au_case "$f" curl "DELETE of a manifest without credentials: 401 ($code)" au_is "$code" 401
    code=$(au_code "$f" DELETE "/v2/auth/seed-$f/manifests/$AU_SEED_DIGEST" -u "$AU_USER:$AU_PASS")
    au_case "$f" curl "DELETE of a manifest with the right password: 202 ($code)" au_is "$code" 202
}

au_skopeo_cases() {
    local f=$1 h dst
    h=$(au_host "$f")
    dst="docker://$h/auth/skopeo-$f:v1"
    au_case "$f" skopeo "push without credentials fails" \
        au_refused au_skopeo copy -q --preserve-digests --dest-cert-dir "$AU/tls/certs" "oci:$AU/seed:v1" "$dst"
    au_case "$f" skopeo "push with --dest-creds and a wrong password fails" \
        au_refused au_skopeo copy -q --preserve-digests --dest-cert-dir "$AU/tls/certs" --dest-creds "$AU_USER:wrong" "oci:$AU/seed:v1" "$dst"
    au_case "$f" skopeo "push with --dest-creds succeeds" \
        au_skopeo copy -q --preserve-digests --dest-cert-dir "$AU/tls/certs" --dest-creds "$AU_USER:$AU_PASS" "oci:$AU/seed:v1" "$dst"
    au_case "$f" skopeo "login with a wrong password fails" \
        au_refused au_skopeo login --cert-dir "$AU/tls/certs" --authfile "$AU/skopeo-auth.json" -u "$AU_USER" -p wrong "$h"
    au_case "$f" skopeo "login (--cert-dir) succeeds" \
        au_skopeo login --cert-dir "$AU/tls/certs" --authfile "$AU/skopeo-auth.json" -u "$AU_USER" -p "$AU_PASS" "$h"
    au_case "$f" skopeo "push with the login's credentials succeeds" \
        au_skopeo copy -q --preserve-digests --authfile "$AU/skopeo-auth.json" --dest-cert-dir "$AU/tls/certs" "oci:$AU/seed:v1" "docker://$h/auth/skopeo-login-$f:v1"
    au_case "$f" skopeo "anonymous pull (--src-cert-dir) succeeds" \
        au_skopeo copy -q --preserve-digests --src-cert-dir "$AU/tls/certs" "docker://$h/auth/skopeo-$f:v1" "oci:$AU/pulled/skopeo-$f:v1"
    au_case "$f" skopeo "the pulled manifest is the pushed one" \
        au_is "$(jq -r '.manifests[0].digest' "$AU/pulled/skopeo-$f/index.json")" "$AU_SEED_DIGEST"
}

au_podman_cases() {
    local f=$1 h
    h=$(au_host "$f")
    au_case "$f" podman "anonymous pull (--cert-dir) succeeds" \
        au_podman pull -q --tls-verify=true --cert-dir "$AU/tls/certs" "$h/auth/seed:v1"
    au_case "$f" podman "push without credentials fails" \
        au_refused au_podman push -q --tls-verify=true --cert-dir "$AU/tls/certs" \
            "$h/auth/seed:v1" "docker://$h/auth/podman-$f:v1"
    au_case "$f" podman "login with a wrong password fails" \
        au_refused au_podman login --tls-verify=true --cert-dir "$AU/tls/certs" --authfile "$AU/podman-$f.json" \
            -u "$AU_USER" -p wrong "$h"
    au_case "$f" podman "login succeeds" \
        au_podman login --tls-verify=true --cert-dir "$AU/tls/certs" --authfile "$AU/podman-$f.json" \
            -u "$AU_USER" -p "$AU_PASS" "$h"
    au_case "$f" podman "push after login succeeds" \
        au_podman push -q --tls-verify=true --cert-dir "$AU/tls/certs" --authfile "$AU/podman-$f.json" \
            "$h/auth/seed:v1" "docker://$h/auth/podman-$f:v1"
    au_case "$f" podman "anonymous pull of that push succeeds" \
        au_podman pull -q --tls-verify=true --cert-dir "$AU/tls/certs" "$h/auth/podman-$f:v1"
}

au_crane_cases() {
    local f=$1 h
    h=$(au_host "$f")
    rm -rf "$AU/crane"
    au_case "$f" crane "push without credentials fails" \
        au_refused au_crane push "$AU/seed.tar" "$h/auth/crane-$f:v1"
    # crane auth login only stores the credentials (it asks no registry)
    au_case "$f" crane "auth login with a wrong password, then push fails" \
        au_crane_login_push wrong "$h/auth/crane-$f:v1" 1
    au_case "$f" crane "auth login, then push succeeds" \
        au_crane_login_push "$AU_PASS" "$h/auth/crane-$f:v1" 0
    au_case "$f" crane "delete after login succeeds" \
        au_crane delete "$h/auth/crane-$f@$(au_crane digest "$h/auth/crane-$f:v1")"
    rm -rf "$AU/crane"
    au_case "$f" crane "anonymous pull succeeds" au_crane pull "$h/auth/seed:v1" "$AU/pulled/crane-$f.tar"
}

# au_crane_login_push PASSWORD REF WANT: login, push; WANT 0 success, 1 failure.
au_crane_login_push() {
    au_crane auth login "${2%%/*}" -u "$AU_USER" -p "$1" || return 1
    if au_crane push "$AU/seed.tar" "$2"; then [ "$3" = 0 ]; else [ "$3" = 1 ]; fi
}

# au_oras_login_push PASSWORD HOST REF CONFIG FILE: a login that oras may
# take for good, then a push of FILE that must be refused.
au_oras_login_push() {
    au_oras login --ca-file "$AU/tls/ca.pem" --registry-config "$4" -u "$AU_USER" -p "$1" "$2" || return 0
    au_refused au_oras push --ca-file "$AU/tls/ca.pem" --registry-config "$4" "$3" \
        --artifact-type application/vnd.e2e.auth "$5"
}

au_oras_cases() {
    local f=$1 h cfg
    cfg=$AU/oras-$f.json
    h=$(au_host "$f")
    printf 'oras artifact pushed through %s\n' "$f" >"$AU/oras-$f.txt"
    au_case "$f" oras "push without credentials fails" \
        au_refused au_oras push --ca-file "$AU/tls/ca.pem" --registry-config "$cfg" "$h/auth/oras-$f:v1" \
            --artifact-type application/vnd.e2e.auth "oras-$f.txt"
    au_case "$f" oras "push with a wrong password fails" \
        au_refused au_oras push --ca-file "$AU/tls/ca.pem" --registry-config "$cfg" -u "$AU_USER" -p wrong \
            "$h/auth/oras-$f:v1" --artifact-type application/vnd.e2e.auth "oras-$f.txt"
    # oras login asks GET /v2/ without credentials first and is content
    # with its 200: a wrong password shows at the push
    au_case "$f" oras "login with a wrong password, then push fails" \
        au_oras_login_push wrong "$h" "$h/auth/oras-$f:v1" "$cfg-wrong" "oras-$f.txt"
    au_case "$f" oras "login succeeds" \
        au_oras login --ca-file "$AU/tls/ca.pem" --registry-config "$cfg" -u "$AU_USER" -p "$AU_PASS" "$h"
    au_case "$f" oras "push after login succeeds" \
        au_oras push --ca-file "$AU/tls/ca.pem" --registry-config "$cfg" "$h/auth/oras-$f:v1" \
            --artifact-type application/vnd.e2e.auth "oras-$f.txt"
    au_case "$f" oras "anonymous pull succeeds" \
        au_oras pull --ca-file "$AU/tls/ca.pem" --registry-config "$AU/oras-none.json" -o "$AU/pulled/oras-$f" "$h/auth/oras-$f:v1"
}

# ------------------------------------------------------------------ main
# Every write the registry accepted names the user; none went through
# without one.
au_access_lines() {
    local log=$E2E_RUN/auth/registry.log
    au_case all registry "access lines of accepted pushes name the user ($AU_USER)" \
        grep -qE " (POST|PUT|PATCH) /v2/auth/[^ ]+ [a-z_]+ 20[12] .* user $AU_USER\$" "$log"
    au_case all registry "no write was accepted without a user" \
        sh -c "! grep -E ' (POST|PUT|PATCH|DELETE) /v2/[^ ]+ [a-z_]+ 2[0-9][0-9] .* user -\$' '$log'"
    au_case all registry "anonymous reads are logged with user -" \
        grep -qE " GET /v2/auth/[^ ]+ [a-z_]+ 200 .* user -\$" "$log"
    # crane sends its credentials, right or wrong, with every read, and
    # nothing checks them there: no such name may reach the registry
    au_case all registry "no read but a login (GET /v2/) names a user: unchecked names never reach the registry" \
        sh -c "! grep -E ' (GET|HEAD) /v2/[^ ]+ [a-z_]+ [0-9]+ .* user [^-]' '$log' | grep -v ' GET /v2/ base '"
}

# A plain-HTTP nginx without auth in front of the same registry: the
# registry refuses the writes it passes (no REMOTE_USER).
au_open_cases() {
    local h code
    h=$(au_host open)
    code=$(au_code open POST /v2/auth/open/blobs/uploads/ -H 'Content-Length: 0')
    au_case open curl "push (POST) through a front without auth: the registry answers 401 ($code) UNAUTHORIZED" \
        sh -c "[ $code = 401 ] && grep -q '\"code\":\"UNAUTHORIZED\"' '$AU/last.body'"
    code=$(au_code open POST /v2/auth/open/blobs/uploads/ -H 'Content-Length: 0' -u "$AU_USER:$AU_PASS")
    au_case open curl "the same with credentials nobody checks: 401 ($code)" au_is "$code" 401
    au_case open skopeo "push through a front without auth fails" \
        au_refused au_skopeo copy -q --preserve-digests --dest-tls-verify=false --dest-creds "$AU_USER:$AU_PASS" "oci:$AU/seed:v1" "docker://$h/auth/open:v1"
    au_case open skopeo "pull through a front without auth succeeds" \
        au_skopeo copy -q --src-tls-verify=false "docker://$h/auth/seed:v1" "oci:$AU/pulled/open:v1"
    au_case open registry "the registry logged the refused writes (401, user -)" \
        grep -qE " POST /v2/auth/open/blobs/uploads/ upload_start 401 .* user -\$" "$E2E_RUN/auth/registry.log"
}

au_main() {
    local f t0
    t0=$(date +%s)
    e2e_init_run
    AU=$E2E_RUN/auth-data
    AU_REPORT=$E2E_ARTIFACTS/auth.txt
    mkdir -p "$AU/pulled"
    : >"$AU_REPORT"
    e2e_need_kubo || { e2e_finish auth; return; }
    [ -n "${CRANE_BIN:-}" ] && [ -n "${ORAS_BIN:-}" ] || deps_clients \
        || { e2e_fail "crane/oras"; e2e_finish auth; return; }
    au_make_certs || { e2e_fail "certificates"; e2e_finish auth; return; }
    au_make_users || { e2e_fail "htpasswd"; e2e_finish auth; return; }
    printf 'unqualified-search-registries = []\n' >"$AU/registries.conf"
    echo '{}' >"$AU/oras-none.json"
    echo '{}' >"$AU/anonymous.json"
    cp -r "$E2E_ROOT/tests/e2e/data/seed-hello-layout" "$AU/seed" && chmod -R u+w "$AU/seed"
    AU_SEED_DIGEST=$(jq -r '.manifests[0].digest' "$AU/seed/index.json")
    timeout 120 skopeo copy -q "oci:$AU/seed:v1" "docker-archive:$AU/seed.tar:auth/seed:v1" >/dev/null \
        || { e2e_fail "seed image as a docker archive"; e2e_finish auth; return; }

    e2e_start_registry auth "workers = 4;" "require_remote_user = true;" \
        || { e2e_fail "registry did not start"; e2e_finish auth; return; }
    AU_SOCK=$E2E_RUN/auth/fcgi.sock
    printf '%-9s %-8s %-58s %s\n' front client case result >>"$AU_REPORT"
    for f in $AU_FRONTS open; do
        au_start "$f" || { e2e_fail "$f: front did not start"; continue; }
    done
    for f in $AU_FRONTS; do
        [ -f "$E2E_RUN/auth-$f/port" ] || continue
        echo "== $f ($(au_url "$f"))"
        # the image every anonymous pull reads
        au_case "$f" skopeo "seed push with --dest-creds" \
            au_skopeo copy -q --preserve-digests --dest-cert-dir "$AU/tls/certs" --dest-creds "$AU_USER:$AU_PASS" \
                "oci:$AU/seed:v1" "docker://$(au_host "$f")/auth/seed:v1"
        au_skopeo copy -q --preserve-digests --dest-cert-dir "$AU/tls/certs" --dest-creds "$AU_USER:$AU_PASS" \
            "oci:$AU/seed:v1" "docker://$(au_host "$f")/auth/seed-$f:v1" >>"$AU/clients.log" 2>&1
        au_http_cases "$f"
        au_skopeo_cases "$f"
        au_podman_cases "$f"
        au_crane_cases "$f"
        au_oras_cases "$f"
    done
    [ -f "$E2E_RUN/auth-open/port" ] && au_open_cases
    au_access_lines
    for f in $AU_FRONTS open; do e2e_stop_pid "$E2E_RUN/auth-$f/front.pid" 10; done
    e2e_stop_registry auth
    cp "$AU/clients.log" "$E2E_ARTIFACTS/auth-clients.log" 2>/dev/null
    printf 'auth suite: %s s\n' "$(($(date +%s) - t0))" | tee -a "$AU_REPORT"
    e2e_finish auth
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then au_main "$@"; fi
