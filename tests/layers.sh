#!/bin/sh
# tests/layers.sh: the folders' dependency order (README, "Source layout"),
# checked on every #include "..." of the product's sources:
#
#   core (base) <- ipfs <- oci <- core/registry, core/ui <- conf <- fcgi
#
# A file may include headers of its own layer and of layers to its left,
# never to its right. Run by `make check`; exits 1 naming each upward include.
srcdir=${srcdir:-$(dirname "$0")/..}
cd "$srcdir" || exit 2

layer() { # layer PATH -> rank
    case $1 in
    core/registry/* | core/ui/*) echo 3 ;;
    core/*) echo 0 ;;
    ipfs/*) echo 1 ;;
    oci/*) echo 2 ;;
    conf/*) echo 4 ;;
    fcgi/*) echo 5 ;;
    *) echo -1 ;;
    esac
}

bad=0 n=0
for f in core/*.[ch] core/registry/*.[ch] core/ui/*.[ch] ipfs/*.[ch] oci/*.[ch] conf/*.[ch] fcgi/*.[ch]; do
    [ -f "$f" ] || continue
    from=$(layer "$f")
    # A here-document, not a pipe: the loop must update n and bad in this
    # shell. No include at all reads one empty line, which layer ranks -1.
    while IFS= read -r inc; do
        to=$(layer "$inc")
        [ "$to" -ge 0 ] || continue   # autoconf's config.h
        n=$((n + 1))
        if [ "$to" -gt "$from" ]; then
            echo "layers: $f includes $inc, a layer above its own"
            bad=1
        fi
    done <<EOF
$(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
EOF
done
[ "$n" -gt 100 ] || { echo "layers: only $n includes seen: is srcdir right?"; exit 1; }
[ "$bad" = 0 ] && echo "layers: $n includes, none upward"
exit "$bad"
