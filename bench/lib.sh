# shellcheck shell=bash
# bench/lib.sh: the benchmark stack beside the e2e one (tests/e2e/lib.sh
# starts Kubo, our registry and its nginx; the registry API words, such as
# e2e_blob_put, e2e_blob_push and e2e_manifest_put, are tests/e2e/words.sh's).
#
#   bench_start_distribution   the CNCF distribution registry, filesystem
#                              storage in the run dir, plain HTTP on loopback
#   bench_start_proxy NAME UP  nginx as a reverse proxy to UP (host:port),
#                              with the same streaming/buffer settings as the
#                              shipped FastCGI server block
#   bench_start_ceiling        the FastCGI edge ceiling (bench/edge_ceiling.c)
#                              under spawn-fcgi, behind the shipped nginx conf

BENCH_DIR=${BENCH_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}

bench_log() { printf '[bench] %s\n' "$*" >&2; }

# ------------------------------------------------------------ distribution
bench_start_distribution() {
    local dir=$E2E_RUN/dist port
    mkdir -p "$dir/data"
    port=$(e2e_free_port) || return 1
    # The registry's stock config (the one in its container image): in-memory
    # blob descriptor cache, filesystem storage; deletes on like ours.
    cat >"$dir/config.yml" <<YML
version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
    echo "$port" >"$dir/port"
    OTEL_TRACES_EXPORTER=none "$DISTRIBUTION_BIN" serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 &
    echo $! >"$dir/registry.pid"
    e2e_wait_for 30 "distribution on :$port" curl -sf "http://127.0.0.1:$port/v2/" \
        || { tail -n 20 "$dir/registry.log" >&2; return 1; }
}

# bench_start_proxy NAME UPSTREAM(host:port)
bench_start_proxy() {
    local name=$1 up=$2 dir=$E2E_RUN/$1 port user_line=""
    mkdir -p "$dir/nginx/tmp"
    port=$(e2e_free_port) || return 1
    [ "$(id -u)" -eq 0 ] && user_line="user root;"
    # Same worker count, buffers and streaming as scripts/nginx-conf.sh plus
    # deploy/nginx/oci-registry-p2p.conf, with proxy_* in place of
    # fastcgi_*. Upstream keepalive is on: that is the reference's best case.
    cat >"$dir/nginx/nginx.conf" <<CONF
$user_line
worker_processes 2;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log $dir/nginx/access.log;
    client_body_temp_path $dir/nginx/tmp/client_body;
    proxy_temp_path $dir/nginx/tmp/proxy;
    fastcgi_temp_path $dir/nginx/tmp/fastcgi;
    uwsgi_temp_path $dir/nginx/tmp/uwsgi;
    scgi_temp_path $dir/nginx/tmp/scgi;
    upstream reference { server $up; keepalive 64; }
    server {
        listen 127.0.0.1:$port;
        client_max_body_size 0;
        location /v2/ {
            proxy_pass http://reference;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_request_buffering off;
            proxy_buffering off;
            client_body_buffer_size 1m;
            proxy_buffer_size 1m;
            proxy_buffers 4 1m;
            proxy_busy_buffers_size 1m;
            proxy_read_timeout 900s;
            proxy_send_timeout 900s;
        }
    }
}
CONF
    nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log" -g 'daemon off;' \
        >>"$dir/nginx/stderr.log" 2>&1 &
    echo $! >"$dir/nginx.pid"
    echo "$port" >"$dir/port"
    e2e_wait_for 10 "proxy $name on :$port" curl -sf "http://127.0.0.1:$port/v2/" \
        || { tail -n 5 "$dir/nginx/error.log" >&2; return 1; }
}

# The ceiling responder: built here from bench/edge_ceiling.c (never part of
# the product), N processes like the registry's pool, the shipped nginx conf.
bench_start_ceiling() {
    local dir=$E2E_RUN/ceiling n=${1:-16}
    mkdir -p "$dir"
    # the records are framed by the registry's own fcgi/fcgi_record.c
    cc -O2 -Wall -D_GNU_SOURCE -I"$BENCH_DIR/.." -o "$dir/edge_ceiling" "$BENCH_DIR/edge_ceiling.c" \
        "$BENCH_DIR/../fcgi/fcgi_record.c" -lfcgi \
        || { bench_log "building edge_ceiling failed (libfcgi-dev installed?)"; return 1; }
    rm -f "$dir/fcgi.sock"
    spawn-fcgi -s "$dir/fcgi.sock" -F "$n" -P "$dir/spawn.pid" -- "$dir/edge_ceiling" >>"$dir/registry.log" 2>&1 \
        || { bench_log "spawn-fcgi of edge_ceiling failed"; return 1; }
    e2e_start_nginx ceiling || return 1
}

# spawn-fcgi -F forks N independent children (no master): stop each.
bench_stop_ceiling() {
    local dir=$E2E_RUN/ceiling pid
    # 2>/dev/null first: a missing pid file is silently nothing to stop.
    while read -r pid || [ -n "$pid" ]; do kill -TERM "$pid" 2>/dev/null; done 2>/dev/null <"$dir/spawn.pid"
    rm -f "$dir/spawn.pid"
}

# ------------------------------------------------------------ blob files
# Where stack NAME keeps blob files (replaces tests/e2e/lib.sh's
# e2e_blobdir): below the Kubo node's filestore root, the parent of its
# repository. With a borrowed node (BENCH_KUBO_RUN) that is the other run's
# kubo/ folder: the files stay there (that run removes them with its node),
# so its filestore never names a missing file.
e2e_blobdir() { printf '%s/blobs-%s' "${BENCH_BLOBROOT:-$E2E_RUN/kubo}" "$1"; }

# bench_start_static NAME DIR: nginx serving DIR's files at /static/ with
# sendfile, no registry: the physical limit for a blob file. The same
# worker count and the same directives as the shipped /_oci_p2p_file/
# location (sendfile, tcp_nopush), an access log like the shipped one.
bench_start_static() {
    local name=$1 root=$2 dir=$E2E_RUN/$1 port user_line=""
    mkdir -p "$dir/nginx/tmp"
    port=$(e2e_free_port) || return 1
    [ "$(id -u)" -eq 0 ] && user_line="user root;"
    cat >"$dir/nginx/nginx.conf" <<CONF
$user_line
worker_processes 2;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 1024; }
http {
    log_format timing '\$remote_addr [\$time_local] "\$request" \$status \$body_bytes_sent '
                      'req_len=\$request_length rt=\$request_time';
    access_log $dir/nginx/access.log timing;
    client_body_temp_path $dir/nginx/tmp/client_body;
    proxy_temp_path $dir/nginx/tmp/proxy;
    fastcgi_temp_path $dir/nginx/tmp/fastcgi;
    uwsgi_temp_path $dir/nginx/tmp/uwsgi;
    scgi_temp_path $dir/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        location /static/ {
            alias $root/;
            types { }
            default_type application/octet-stream;
            sendfile on;
            tcp_nopush on;
            send_timeout 900s;
        }
    }
}
CONF
    nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log" -g 'daemon off;' \
        >>"$dir/nginx/stderr.log" 2>&1 &
    echo $! >"$dir/nginx.pid"
    echo "$port" >"$dir/port"
    e2e_wait_for 10 "static nginx $name on :$port" curl -s -o /dev/null "http://127.0.0.1:$port/" \
        || { tail -n 5 "$dir/nginx/error.log" >&2; return 1; }
}

# bench_stack_cpu_ns STACK: the CPU time (ns, user + system) STACK's
# workers have used: each live worker's /proc/PID/schedstat run time (the
# utime+stime total, without /proc/PID/stat's 10 ms tick rounding), plus
# the master's cutime+cstime, where a worker that exited (replaced after an
# upload) left its time. The difference of two readings is what the
# workers spent in between.
bench_stack_cpu_ns() {
    local p t sum=0 tck m
    tck=$(getconf CLK_TCK)
    for p in $(e2e_workers "$1"); do
        read -r t _ 2>/dev/null <"/proc/$p/schedstat" && sum=$((sum + t))
    done
    m=$(e2e_registry_pid "$1")
    t=$(sed 's/.*) //' "/proc/$m/stat" 2>/dev/null | awk '{print $14 + $15}')
    echo $((sum + ${t:-0} * 1000000000 / tck))
}
