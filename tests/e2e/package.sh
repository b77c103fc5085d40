#!/usr/bin/env bash
# package.sh: the Debian package, built and installed for real.
#   - builds the .deb with `dpkg-buildpackage -us -uc -b` from the release
#     tarball (DIST_TARBALL, the one `make distcheck` produced in
#     tests/run-all; else `make dist` from an out-of-tree configure), unpacked
#     in a temporary directory: never in the checkout;
#   - installs it with dpkg -i and checks what landed: binary, conffile,
#     systemd units (with this package's paths), man pages, front-server
#     examples; the socket enabled and the service not;
#   - `systemd-analyze verify` on the installed units;
#   - `oci-registry-p2p --check-config` reads the installed config, whose
#     statedir is the unit's StateDirectory;
#   - a local edit of the conffile survives a reinstall;
#   - purge removes it all.
# It needs root (dpkg -i) and is meant for a throwaway machine (CI); it
# purges the package on exit, also on failure.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

PKG=oci-registry-p2p
W=""
ART=${E2E_ARTIFACTS:-$E2E_ROOT/_artifacts}

pkg_installed() { dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'install ok installed'; }
pkg_cleanup() {
    if dpkg-query -W "$PKG" >/dev/null 2>&1; then
        deps_sudo dpkg --purge "$PKG" >>"$ART/package-dpkg.log" 2>&1
    fi
    [ -n "$W" ] && rm -rf "$W"
}

pkg_tarball() {
    if [ -n "${DIST_TARBALL:-}" ] && [ -f "$DIST_TARBALL" ]; then
        echo "$DIST_TARBALL"
        return 0
    fi
    deps_autogen || return 1
    mkdir -p "$W/dist"
    (cd "$W/dist" && "$E2E_ROOT/configure" -q && make dist) >"$ART/package-dist.log" 2>&1 || return 1
    ls "$W"/dist/"$PKG"-*.tar.gz
}

t_build() {
    local tarball src
    tarball=$(pkg_tarball) || { e2e_fail "release tarball (log: $ART/package-dist.log)"; return 1; }
    e2e_log "building the .deb from $tarball"
    mkdir -p "$W/src"
    tar -xzf "$tarball" -C "$W/src" || { e2e_fail "unpack $tarball"; return 1; }
    src=$(ls -d "$W"/src/"$PKG"-*/)
    if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$ART/package-build.log" 2>&1; then
        e2e_ok "dpkg-buildpackage -us -uc -b (log: package-build.log)"
    else
        tail -n 30 "$ART/package-build.log"
        e2e_fail "dpkg-buildpackage failed (log: $ART/package-build.log)"
        return 1
    fi
    DEB=$(ls "$W"/src/"$PKG"_*.deb)
    e2e_check "the unit tests ran during the build (dh_auto_test)" \
        grep -qE 'PASS: tests/unit/unit_tests' "$ART/package-build.log"
    dpkg-deb -c "$DEB" >"$ART/package-contents.txt"
    e2e_check "/etc/oci-registry-p2p.conf is a conffile" \
        sh -c "dpkg-deb -I '$DEB' conffiles | grep -qx /etc/oci-registry-p2p.conf"
}

t_installed() {
    local unitdir f
    unitdir=$(pkg-config --variable=systemdsystemunitdir systemd)
    for f in /usr/bin/oci-registry-p2p /etc/oci-registry-p2p.conf \
        "$unitdir/oci-registry-p2p.service" "$unitdir/oci-registry-p2p.socket" \
        /usr/share/man/man8/oci-registry-p2p.8.gz /usr/share/man/man5/oci-registry-p2p.conf.5.gz \
        /usr/share/doc/oci-registry-p2p/README.md \
        /usr/share/doc/oci-registry-p2p/examples/nginx/oci-registry-p2p.conf \
        /usr/share/doc/oci-registry-p2p/examples/lighttpd/oci-registry-p2p.conf \
        /usr/share/doc/oci-registry-p2p/examples/caddy/oci-registry-p2p.caddy \
        /usr/share/doc/oci-registry-p2p/examples/nginx/oci-registry-p2p-auth.conf \
        /usr/share/doc/oci-registry-p2p/examples/lighttpd/oci-registry-p2p-auth.conf \
        /usr/share/doc/oci-registry-p2p/examples/caddy/oci-registry-p2p-auth.caddy; do
        e2e_check "installed: $f" test -s "$f"
    done
    e2e_check "installed unit starts /usr/bin/oci-registry-p2p -c /etc/oci-registry-p2p.conf" \
        grep -qx 'ExecStart=/usr/bin/oci-registry-p2p -c /etc/oci-registry-p2p.conf' "$unitdir/oci-registry-p2p.service"
    e2e_check "installed units name no /usr/local path" \
        bash -c "! grep -v '^#' '$unitdir'/oci-registry-p2p.* | grep /usr/local"
    if systemd-analyze verify "$unitdir/oci-registry-p2p.socket" "$unitdir/oci-registry-p2p.service" \
        >"$ART/package-verify.log" 2>&1; then
        e2e_ok "systemd-analyze verify on the installed units"
    else
        cat "$ART/package-verify.log"
        e2e_fail "systemd-analyze verify on the installed units"
    fi
    e2e_check "the socket is enabled on install" test -L /etc/systemd/system/sockets.target.wants/oci-registry-p2p.socket
    e2e_check "the service is not enabled on its own" test ! -e /etc/systemd/system/multi-user.target.wants/oci-registry-p2p.service
    if /usr/bin/oci-registry-p2p --check-config >"$ART/package-check-config.txt" 2>&1; then
        e2e_ok "oci-registry-p2p --check-config reads the installed /etc/oci-registry-p2p.conf"
    else
        cat "$ART/package-check-config.txt"
        e2e_fail "oci-registry-p2p --check-config with the installed config"
    fi
    e2e_check "its statedir is the unit's StateDirectory (/var/lib/oci-registry-p2p)" \
        grep -qx 'statedir = "/var/lib/oci-registry-p2p";' "$ART/package-check-config.txt"
    e2e_check "--version is the package's" sh -c "/usr/bin/oci-registry-p2p --version | grep -q ' $(dpkg-query -W -f='${Version}' $PKG)\$'"
    for f in /usr/share/man/man8/oci-registry-p2p.8.gz /usr/share/man/man5/oci-registry-p2p.conf.5.gz; do
        e2e_check "man page renders without groff warnings: $(basename "$f")" \
            bash -c "[ -z \"\$(zcat '$f' | LC_ALL=C.UTF-8 groff -man -ww -z -t 2>&1)\" ] && [ \$(zcat '$f' | LC_ALL=C.UTF-8 groff -man -Tutf8 -t 2>/dev/null | wc -l) -gt 50 ]"
    done
}

main() {
    if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
        e2e_fail "package.sh needs root (dpkg -i)"
        e2e_finish package
        return
    fi
    mkdir -p "$ART"
    W=$(mktemp -d /tmp/oci-p2p-pkg.XXXXXX)
    trap pkg_cleanup EXIT
    # a leftover from an interrupted run would hide what this one installs
    pkg_installed && deps_sudo dpkg --purge "$PKG" >>"$ART/package-dpkg.log" 2>&1
    if t_build; then
        if deps_sudo dpkg -i "$DEB" >>"$ART/package-dpkg.log" 2>&1; then
            e2e_ok "dpkg -i $(basename "$DEB")"
            t_installed
            echo '# local edit' | deps_sudo tee -a /etc/oci-registry-p2p.conf >/dev/null
            deps_sudo dpkg -i --force-confold "$DEB" >>"$ART/package-dpkg.log" 2>&1
            e2e_check "a local edit of the conffile survives a reinstall" grep -qx '# local edit' /etc/oci-registry-p2p.conf
            deps_sudo dpkg --purge "$PKG" >>"$ART/package-dpkg.log" 2>&1
            e2e_check "purge removes binary, config, units and the socket's enablement" \
                bash -c "[ ! -e /usr/bin/oci-registry-p2p ] && [ ! -e /etc/oci-registry-p2p.conf ] && [ ! -e '$(pkg-config --variable=systemdsystemunitdir systemd)/oci-registry-p2p.service' ] && [ ! -L /etc/systemd/system/sockets.target.wants/oci-registry-p2p.socket ]"
        else
            tail -n 20 "$ART/package-dpkg.log"
            e2e_fail "dpkg -i $DEB"
        fi
    fi
    e2e_finish package
}

main
