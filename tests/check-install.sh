#!/usr/bin/env bash
# meson install puts header, library and .pc in place, and a program builds
# against them through pkg-config and logs; the man pages and the journal
# catalog go where man and journalctl find them, and an install into the
# live root (not under DESTDIR) updates journald's catalog index.
set -euo pipefail
build=${1:-build}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

meson install -C "$build" --destdir "$dest" --quiet
pc=$(dirname "$(find "$dest" -name libtrail.pc | head -1)")
test -f "$dest/usr/local/include/trail.h"
lib=$(find "$dest" -name 'libtrail.so.0' | head -1)
test -n "$lib"
objdump -p "$lib" | grep -q 'SONAME *libtrail.so.0'

cat > "$dest/hello.c" <<'C'
#include <trail.h>
int main(void) {
        trail_info_with(trail_get("install.check"), TRAIL_FIELDS(TRAIL_INT("ANSWER", 42)), "hello");
        return 0;
}
C
export PKG_CONFIG_PATH=$pc PKG_CONFIG_SYSROOT_DIR=$dest
# shellcheck disable=SC2046
cc -Werror -o "$dest/hello" "$dest/hello.c" $(pkg-config --cflags --libs libtrail)
LD_LIBRARY_PATH=$(dirname "$lib") "$dest/hello"

# trail(1) runs on the installed libtrail.so.0, not on a copy of its own.
tool=$(find "$dest" -path '*/bin/trail' | head -1)
if [ -n "$tool" ]; then
        objdump -p "$tool" | grep -q 'NEEDED *libtrail.so.0'
        printf '[trail]\nhandlers = out\n\n[handler out]\ntype = stream\nfd = stdout\nformat = text\n' > "$dest/trail.conf"
        LD_LIBRARY_PATH=$(dirname "$lib") "$tool" check "$dest/trail.conf" >/dev/null
        out=$(LD_LIBRARY_PATH=$(dirname "$lib") "$tool" send -c "$dest/trail.conf" PROBE=1 installed)
        grep -q installed <<< "$out"
fi
# The man pages: "man libtrail" reaches the overview trail(7) in one step
# (a .so link in section 3), "man trail" opens trail(1), which points there.
man=$dest/usr/local/share/man
if [ -f "$man/man7/trail.7" ]; then
        [ "$(cat "$man/man3/libtrail.3")" = ".so man7/trail.7" ]
        [ "$(man -M "$man" -w libtrail)" = "$man/man7/trail.7" ]  # man follows the .so
        MANWIDTH=200 man -M "$man" libtrail 2>/dev/null | grep -q "structured logging for Linux daemons"
        [ "$(man -M "$man" -w trail)" = "$man/man1/trail.1" ]
        MANWIDTH=200 man -M "$man" trail 2>/dev/null | grep -q "start at trail(7)"
fi

# The catalog goes where journalctl reads it (/usr/local/lib/systemd/catalog
# for the default prefix); under DESTDIR, meson install does not touch the
# machine's catalog index.
test -f "$dest/usr/local/lib/systemd/catalog/trail.catalog"
ids=$(sed -nE 's/^-- ([0-9a-f]{32})$/\1/p' "$dest/usr/local/lib/systemd/catalog/trail.catalog" | sort)

# catalog/update-catalog.sh, meson's install script, by itself: with DESTDIR
# or without journalctl it runs nothing and succeeds; for a directory that
# journalctl does not read it says so; otherwise it runs the update.
script=$(dirname "$0")/../catalog/update-catalog.sh
mkdir "$dest/fakebin"
printf '#!/bin/sh\necho "$@" >> "%s/journalctl.calls"\n' "$dest" > "$dest/fakebin/journalctl"
chmod +x "$dest/fakebin/journalctl"
DESTDIR=/stage PATH=$dest/fakebin:$PATH sh "$script" /usr/local/lib/systemd/catalog >/dev/null
test ! -e "$dest/journalctl.calls"
PATH=$dest/fakebin:$PATH sh "$script" /opt/trail/lib/systemd/catalog | grep -q "does not read"
test ! -e "$dest/journalctl.calls"
env -u DESTDIR PATH=/nonexistent /bin/sh "$script" /usr/lib/systemd/catalog | grep -q "no journalctl"
env -u DESTDIR PATH=$dest/fakebin:$PATH sh "$script" /usr/local/lib/systemd/catalog >/dev/null
[ "$(cat "$dest/journalctl.calls")" = "--update-catalog" ]

# The real thing, as root, in a private mount namespace: /usr/local as an
# overlay whose writes go to a scratch tmpfs, and a scratch
# /var/lib/systemd/catalog. "meson install --destdir" leaves the catalog
# index alone; "meson install" into the live root indexes the catalog, and
# journalctl lists trail's MESSAGE_IDs; "man -w libtrail" finds the page.
if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
        build_abs=$(cd "$build" && pwd)
        mkdir "$dest/ns"
        listed=$(unshare -m --propagation private bash -euo pipefail -c '
                build=$1 s=$2
                mount -t tmpfs tmpfs "$s"
                mkdir "$s/upper" "$s/work" "$s/catalog" "$s/stage"
                mount -t overlay overlay \
                        -o "lowerdir=/usr/local,upperdir=$s/upper,workdir=$s/work" /usr/local
                mount --bind "$s/catalog" /var/lib/systemd/catalog
                meson install -C "$build" --destdir "$s/stage" --quiet >/dev/null
                if [ -n "$(ls -A /var/lib/systemd/catalog)" ]; then
                        echo "meson install --destdir updated the catalog index" >&2
                        exit 1
                fi
                meson install -C "$build" --quiet >/dev/null
                test -s /var/lib/systemd/catalog/database
                if [ -f /usr/local/share/man/man7/trail.7 ]; then
                        [ "$(man -w libtrail)" = /usr/local/share/man/man7/trail.7 ]
                fi
                journalctl --list-catalog' sh "$build_abs" "$dest/ns")
        for id in $ids; do
                if ! grep -q "^$id trail: " <<<"$listed"; then
                        echo "after meson install, journalctl --list-catalog lacks $id"
                        exit 1
                fi
        done
        echo "meson install into the live root (a private overlay) indexed trail's catalog"
else
        echo "not root: the live-root install is not tried"
fi
echo "installed, and a program built with pkg-config ran"
