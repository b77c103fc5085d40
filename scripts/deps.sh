# shellcheck shell=bash
# deps.sh: idempotent set-up shared by the run command (scripts/run-registry)
# and the test command (tests/run-all). Source it, then call the deps_*
# functions you need. Everything it builds or downloads goes to a cache
# outside the checkout ($OCI_P2P_CACHE), so a reused machine is fast and a
# fresh clone stays clean.
#
#   deps_packages          Debian packages (apt-get only when one is missing)
#   deps_go                make sure a Go toolchain >= 1.24 is on PATH
#   deps_kubo              sets IPFS_BIN to a Kubo v0.43.1 binary
#   deps_conformance       sets CONFORMANCE_BIN to the OCI conformance binary
#   deps_clients           sets CRANE_BIN, ORAS_BIN, REGCTL_BIN (pinned clients)
#   deps_autogen           runs ./autogen.sh when configure is missing or stale
#   deps_build NAME [ARGS] configure+make out of tree; sets BUILD_DIR

OCI_P2P_ROOT=${OCI_P2P_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
OCI_P2P_CACHE=${OCI_P2P_CACHE:-$HOME/.cache/oci-registry-p2p}
KUBO_VERSION=0.43.1
CONFORMANCE_VERSION=v0.0.0-20260831232431-97274622c111
DISTRIBUTION_VERSION=${DISTRIBUTION_VERSION:-v3.1.1}
CRANE_VERSION=v0.22.1
ORAS_VERSION=v1.3.6
REGCTL_VERSION=v0.11.7

deps_log() { printf '[deps] %s\n' "$*" >&2; }
deps_die() { printf '[deps] error: %s\n' "$*" >&2; return 1; }

# Root installs directly; anyone else goes through sudo.
deps_sudo() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages: the build tools, the product's -dev libraries, Check,
# clang with libFuzzer (libclang-rt-dev: `make fuzz`, the fuzz smoke), and
# the programs the end-to-end stack drives. apt-get runs only when one is
# missing, so a warm machine does no network work here.
DEPS_PACKAGES="autoconf automake libtool pkg-config gcc make clang libclang-rt-dev \
libfcgi-dev libcurl4-openssl-dev libjson-c-dev libssl-dev libconfig-dev check \
spawn-fcgi lighttpd lighttpd-mod-openssl caddy systemd skopeo podman umoci containerd jq curl python3 openssl ca-certificates git \
wrk hyperfine apache2-utils valgrind shellcheck \
chromium chromium-driver python3-selenium fonts-dejavu-core w3m \
debhelper dpkg-dev fakeroot build-essential groff-base"

deps_packages() {
    local missing="" p
    for p in $DEPS_PACKAGES; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing="$missing $p"
        fi
    done
    # nginx-light (older Debian) and nginx (bookworm) both provide the binary.
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
    if [ -n "$missing" ]; then
        deps_log "installing Debian packages:$missing"
        deps_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q || return 1
        # shellcheck disable=SC2086 # word splitting is the point
        deps_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing || return 1
    fi
    # /usr/sbin is not on every non-root PATH; nginx lives there.
    case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin" ;; esac
    export PATH
}

# Kubo v0.43.1 and the conformance suite need Go >= 1.24. Debian 12's own
# golang-go is 1.19, too old, so we look for a newer toolchain where the
# usual installs put it, and stop with a clear message otherwise.
deps_go() {
    local d v
    for d in /usr/local/go/bin "$HOME/go/bin" /usr/lib/go/bin; do
        [ -x "$d/go" ] && case ":$PATH:" in *":$d:"*) ;; *) PATH="$d:$PATH" ;; esac
    done
    export PATH
    command -v go >/dev/null 2>&1 || { deps_die "Go >= 1.24 is needed to build Kubo and the conformance suite: install it (https://go.dev/doc/install) and retry"; return 1; }
    v=$(go env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9][0-9]*\).*/\1/p')
    if [ -z "$v" ] || [ "$v" -lt 24 ]; then
        # Go >= 1.21 can fetch the toolchain the module asks for by itself.
        deps_log "Go $(go env GOVERSION) is older than 1.24; relying on GOTOOLCHAIN=auto"
        export GOTOOLCHAIN=auto
    fi
}

# Kubo: the `ipfs` on PATH if it is exactly v0.43.1, else our cached build,
# else build it into the cache.
deps_kubo() {
    local cached="$OCI_P2P_CACHE/bin/ipfs-$KUBO_VERSION"
    if command -v ipfs >/dev/null 2>&1 && [ "$(ipfs version --number 2>/dev/null)" = "$KUBO_VERSION" ]; then
        IPFS_BIN=$(command -v ipfs)
    elif [ -x "$cached" ] && [ "$("$cached" version --number 2>/dev/null)" = "$KUBO_VERSION" ]; then
        IPFS_BIN=$cached
    else
        deps_kubo_build "$cached" || return 1
        IPFS_BIN=$cached
    fi
    export IPFS_BIN
    deps_log "kubo: $IPFS_BIN ($KUBO_VERSION)"
}

# Why not `go install github.com/ipfs/kubo/cmd/ipfs@v0.43.1`: go install
# refuses modules whose go.mod has replace directives, and kubo v0.43.1's
# go.mod replaces go-libp2p with a fork (github.com/lidel/go-libp2p) that the
# Go module proxy does not serve. So we take kubo's own module source from the
# proxy, drop that replace (upstream go-libp2p at the required version builds),
# pin quic-go and webtransport-go to the versions that upstream go-libp2p
# builds with, and build inside that copy. Takes 2-4 minutes on 2 cores.
deps_kubo_build() {
    local out=$1 dir src log
    deps_go || return 1
    deps_log "building Kubo v$KUBO_VERSION (a few minutes; cached in $out afterwards)"
    mkdir -p "$OCI_P2P_CACHE"
    log=$OCI_P2P_CACHE/kubo-build.log
    src=$(go mod download -json "github.com/ipfs/kubo@v$KUBO_VERSION" 2>"$log" | jq -r .Dir) || { cat "$log" >&2; return 1; }
    [ -d "$src" ] || { deps_die "go mod download of kubo v$KUBO_VERSION gave no source dir"; return 1; }
    dir=$(mktemp -d "${TMPDIR:-/tmp}/kubo-build.XXXXXX") || return 1
    cp -r "$src/." "$dir/" && chmod -R u+w "$dir" || return 1
    sed -i '/^replace github.com\/libp2p\/go-libp2p => github.com\/lidel\/go-libp2p/d' "$dir/go.mod"
    printf '%s\n' \
        'replace github.com/quic-go/quic-go => github.com/quic-go/quic-go v0.60.0' \
        'replace github.com/quic-go/webtransport-go => github.com/quic-go/webtransport-go v0.11.1' \
        >>"$dir/go.mod"
    mkdir -p "$(dirname "$out")"
    if ! (cd "$dir" && go build -mod=mod -o "$out.tmp" ./cmd/ipfs) >>"$log" 2>&1; then
        rm -rf "$dir"
        tail -n 30 "$log" >&2
        deps_die "building Kubo failed; log: $log"
        return 1
    fi
    rm -rf "$dir"
    mv -f "$out.tmp" "$out"
}

# A Go tool installed into $OCI_P2P_CACHE/bin/<dir>/<bin> once per version.
# deps_go_tool DIR BIN PACKAGE@VERSION; prints nothing, returns go's status.
deps_go_tool() {
    local dir="$OCI_P2P_CACHE/bin/$1"
    [ -x "$dir/$2" ] && return 0
    deps_go || return 1
    deps_log "installing $3"
    mkdir -p "$dir"
    GOBIN="$dir" go install "$3"
}

# The OCI conformance suite (the 2026 rewrite). Sets CONFORMANCE_BIN.
deps_conformance() {
    CONFORMANCE_BIN="$OCI_P2P_CACHE/bin/conformance-$CONFORMANCE_VERSION/conformance"
    deps_go_tool "conformance-$CONFORMANCE_VERSION" conformance \
        "github.com/opencontainers/distribution-spec/conformance@$CONFORMANCE_VERSION" || return 1
    export CONFORMANCE_BIN
}

# The CNCF distribution registry, the reference the interop test and the
# benchmarks compare against (never part of the product). Sets DISTRIBUTION_BIN.
deps_distribution() {
    DISTRIBUTION_BIN="$OCI_P2P_CACHE/bin/distribution-$DISTRIBUTION_VERSION/registry"
    deps_go_tool "distribution-$DISTRIBUTION_VERSION" registry \
        "github.com/distribution/distribution/v3/cmd/registry@$DISTRIBUTION_VERSION" || return 1
    export DISTRIBUTION_BIN
}

# The registry clients other than skopeo that users point at us (crane, oras,
# regctl), pinned, for tests/e2e/clients.sh. Sets CRANE_BIN, ORAS_BIN, REGCTL_BIN.
deps_clients() {
    CRANE_BIN="$OCI_P2P_CACHE/bin/crane-$CRANE_VERSION/crane"
    ORAS_BIN="$OCI_P2P_CACHE/bin/oras-$ORAS_VERSION/oras"
    REGCTL_BIN="$OCI_P2P_CACHE/bin/regctl-$REGCTL_VERSION/regctl"
    deps_go_tool "crane-$CRANE_VERSION" crane \
        "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION" || return 1
    deps_go_tool "oras-$ORAS_VERSION" oras "oras.land/oras/cmd/oras@$ORAS_VERSION" || return 1
    deps_go_tool "regctl-$REGCTL_VERSION" regctl \
        "github.com/regclient/regclient/cmd/regctl@$REGCTL_VERSION" || return 1
    export CRANE_BIN ORAS_BIN REGCTL_BIN
}

# configure is generated, not committed: regenerate it when it is missing or
# older than its inputs. This writes only gitignored files in the checkout.
deps_autogen() {
    local f stale=0
    [ -x "$OCI_P2P_ROOT/configure" ] || stale=1
    for f in configure.ac Makefile.am tests/unit/local.mk tests/fuzz/local.mk; do
        [ -f "$OCI_P2P_ROOT/$f" ] && [ "$OCI_P2P_ROOT/$f" -nt "$OCI_P2P_ROOT/configure" ] && stale=1
    done
    if [ "$stale" = 1 ]; then
        deps_log "running autogen.sh"
        (cd "$OCI_P2P_ROOT" && ./autogen.sh) >"$OCI_P2P_CACHE/autogen.log" 2>&1 \
            || { cat "$OCI_P2P_CACHE/autogen.log" >&2; deps_die "autogen.sh failed"; return 1; }
    fi
}

# deps_build NAME [configure args...]: an out-of-tree build in the cache,
# one directory per checkout (keyed by its path) and flavour, so two clones
# never share objects. Sets BUILD_DIR. Output goes to $BUILD_DIR/build.log.
deps_build() {
    local name=$1 key
    shift
    mkdir -p "$OCI_P2P_CACHE"
    deps_autogen || return 1
    key=$(printf '%s' "$OCI_P2P_ROOT" | sha256sum | cut -c1-12)
    BUILD_DIR="$OCI_P2P_CACHE/build-$key-$name"
    mkdir -p "$BUILD_DIR"
    # Reconfigure when the arguments change or configure is newer.
    if [ ! -f "$BUILD_DIR/config.status" ] || [ "$OCI_P2P_ROOT/configure" -nt "$BUILD_DIR/config.status" ] \
        || [ "$(cat "$BUILD_DIR/.configure-args" 2>/dev/null)" != "$*" ]; then
        deps_log "configuring $name build in $BUILD_DIR"
        (cd "$BUILD_DIR" && "$OCI_P2P_ROOT/configure" -q "$@") >"$BUILD_DIR/build.log" 2>&1 \
            || { tail -n 30 "$BUILD_DIR/build.log" >&2; deps_die "configure ($name) failed"; return 1; }
        printf '%s' "$*" >"$BUILD_DIR/.configure-args"
    fi
    deps_log "building ($name)"
    (cd "$BUILD_DIR" && make -j"$(nproc)") >>"$BUILD_DIR/build.log" 2>&1 \
        || { tail -n 40 "$BUILD_DIR/build.log" >&2; deps_die "make ($name) failed; log: $BUILD_DIR/build.log"; return 1; }
    export BUILD_DIR
}
