#!/usr/bin/env bash
# Debian packaging, end to end: debian/libtrail0.symbols lists exactly the
# version script's exports; "dpkg-buildpackage -us -uc -b" builds the
# packages from a scratch copy of the tree; lintian reports no errors; the
# packages install into this machine; the autopkgtest (debian/tests/) passes
# under autopkgtest's null runner; systemd's trigger indexed the journal
# catalog (journalctl --list-catalog); and examples/demo-daemon.c builds with
# pkg-config alone and logs into journald. The packages are purged again at the end, unless they were
# installed before or TRAIL_KEEP_PACKAGES=1.
#
# Needs root, a running journald, debhelper, lintian and autopkgtest
# (scripts/setup-host.sh installs them). Without tools/ (the trail command, not yet merged), the
# trail-tools package is left out with the build profile pkg.trail.notools.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"

if [ "$(id -u)" -ne 0 ]; then
        echo "check-packaging.sh: needs root (it installs the packages)" >&2
        exit 77
fi
trap 'echo "check-packaging.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
. tests/pkg-util.sh

step "symbols file against the version script"
# name@NODE for each export of lib/libtrail.sym, and the node names themselves.
sym_names=$(awk '
        { sub(/\/\*.*\*\//, "") }
        /^[A-Z0-9_]+ *\{/ { node = $1; sub(/\{.*/, "", node); print node "@" node; next }
        node && /^[ \t]*[A-Za-z_][A-Za-z0-9_]*;/ { s = $1; sub(/;.*/, "", s); print s "@" node }
        /^\}/ { node = "" }' lib/libtrail.sym | sort)
deb_names=$(awk '/^ / { print $1 }' debian/libtrail0.symbols | sort)
if [ "$sym_names" != "$deb_names" ]; then
        echo "debian/libtrail0.symbols and lib/libtrail.sym differ:"
        diff <(echo "$sym_names") <(echo "$deb_names") |
                sed -n 's/^</  only in lib\/libtrail.sym:/p; s/^>/  only in debian\/libtrail0.symbols:/p'
        echo "add each new export to debian/libtrail0.symbols as"
        echo "  ' name@NODE VERSION' (VERSION: the first release that has it)"
        exit 1
fi
echo "$(echo "$sym_names" | wc -l) names agree"

version=$(dpkg-parsechangelog -l debian/changelog -S Version)
upstream=${version%-*}
meson_version=$(sed -nE "s/^ *version: '([^']+)'.*/\1/p" meson.build | head -1)
if [ "$upstream" != "$meson_version" ]; then
        echo "debian/changelog says $upstream, meson.build $meson_version"
        exit 1
fi

profiles=()
packages=(libtrail0 libtrail-dev trail-tools)
if [ ! -d tools ]; then
        echo "no tools/: building without trail-tools (profile pkg.trail.notools)"
        profiles=(-Ppkg.trail.notools)
        packages=(libtrail0 libtrail-dev)
fi

work=$(mktemp -d)
installed_here=
cleanup() {
        if [ -n "$installed_here" ] && [ "${TRAIL_KEEP_PACKAGES:-0}" != 1 ]; then
                DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${packages[@]}" >/dev/null || true
        fi
        rm -rf "$work"
}
trap cleanup EXIT

step "dpkg-buildpackage -us -uc -b ${profiles[*]}"
# A scratch copy of the tree (tracked and untracked files, not ignored ones):
# dpkg-buildpackage writes its results into the parent directory.
tree=$work/trail-$upstream
mkdir -p "$tree"
source_files | xargs -0 cp --parents -t "$tree"
if ! (cd "$tree" && dpkg-buildpackage -us -uc -b "${profiles[@]}") >"$work/build.log" 2>&1; then
        tail -n 60 "$work/build.log"
        echo "dpkg-buildpackage failed"
        exit 1
fi
grep -E '^(Ok|Fail|Skipped|Timeout): ' "$work/build.log" | tr '\n' ' '; echo
ls "$work"/*.deb

step "lintian"
changes=$(ls "$work"/trail_"$version"_*.changes)
lintian --fail-on error --tag-display-limit 0 "$changes" | tee "$work/lintian.txt"
echo "lintian: $(grep -c '^E:' "$work/lintian.txt" || true) errors," \
        "$(grep -c '^W:' "$work/lintian.txt" || true) warnings"

step "install"
debs=()
for p in "${packages[@]}"; do
        debs+=("$(ls "$work"/"${p}"_"$version"_*.deb)")
done
if ! dpkg-query -W -f='${Status}' libtrail-dev 2>/dev/null | grep -e "install ok installed" >/dev/null; then
        installed_here=1
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${debs[@]}" >/dev/null
dpkg -L libtrail0 | grep -x /usr/lib/systemd/catalog/trail.catalog >/dev/null
dpkg -L libtrail-dev | grep -e '/usr/share/man/man3/trail_get.3.gz$' >/dev/null
if [ -d tools ]; then
        dpkg -L trail-tools | grep -x /usr/bin/trail >/dev/null
fi
dpkg -L libtrail-dev | grep -e '/usr/share/man/man3/libtrail.3.gz$' >/dev/null

step "systemd's dpkg trigger on /usr/lib/systemd/catalog indexed trail's catalog"
# Nothing in debian/ runs journalctl --update-catalog: systemd's trigger
# ("interest-noawait /usr/lib/systemd/catalog") does, when dpkg has
# installed the file. journalctl --list-catalog reads the live index.
listed=$(journalctl --list-catalog)
for id in $(sed -nE 's/^-- ([0-9a-f]{32})$/\1/p' catalog/trail.catalog); do
        if ! grep -q "^$id trail: " <<<"$listed"; then
                echo "journalctl --list-catalog lacks $id after the install: the trigger did not run"
                exit 1
        fi
done
echo "journalctl --list-catalog lists every trail MESSAGE_ID"

if command -v autopkgtest >/dev/null; then
        step "autopkgtest ... -- null (debian/tests/, on this machine)"
        if ! autopkgtest "${debs[@]}" "$tree" -- null >"$work/autopkgtest.log" 2>&1; then
                tail -n 40 "$work/autopkgtest.log"
                echo "autopkgtest failed"
                exit 1
        fi
        sed -n '/@@@@ summary/,/^autopkgtest/p' "$work/autopkgtest.log" | grep -v '^autopkgtest'
else
        step "debian/tests/build-and-log (autopkgtest is not installed: run directly)"
        AUTOPKGTEST_TMP=$work/autopkgtest
        mkdir -p "$AUTOPKGTEST_TMP"
        export AUTOPKGTEST_TMP
        (cd "$tree" && debian/tests/build-and-log)
fi

step "examples/demo-daemon.c against the installed packages, pkg-config alone"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR
# shellcheck disable=SC2046
cc -Wall -Werror -o "$work/demo-daemon" examples/demo-daemon.c $(pkg-config --cflags --libs libtrail)
ldd "$work/demo-daemon" | grep -E 'libtrail\.so\.0 => (/usr)?/lib/'
run=pkg$$$(date +%s)
"$work/demo-daemon" "$run"
n=0
for _ in $(seq 50); do
        n=$(journalctl -q --no-pager DEMO_RUN="$run" -o cat | wc -l)
        [ "$n" -ge 10 ] && break
        sleep 0.1
done
journalctl -q --no-pager DEMO_RUN="$run" -o cat | head -3
if [ "$n" -lt 10 ]; then
        echo "the demo's records did not reach the journal ($n found)"
        exit 1
fi
echo "the demo, built against the packages, logged $n records"
step "done"
