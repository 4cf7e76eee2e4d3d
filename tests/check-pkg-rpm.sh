#!/usr/bin/env bash
# RPM packaging: rpm/libtrail.spec parses (rpmspec -P), builds with
# "rpmbuild -bb --nodeps" on this (Debian) machine, where the spec's
# fallbacks stand in for the %meson macros, and rpmlint reports no errors
# for the spec and the packages. The packages are listed, not installed.
#
# Needs rpm and rpmlint (scripts/setup-host.sh installs them). Without tools/
# (the trail command, not yet merged), builds --without tools.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
trap 'echo "check-pkg-rpm.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
. tests/pkg-util.sh

for tool in rpmbuild rpmspec rpmlint; do
        command -v $tool >/dev/null || { echo "$tool is not installed"; exit 77; }
done
spec=rpm/libtrail.spec
with=()
if [ ! -d tools ]; then
        echo "no tools/: building without trail-tools (--without tools)"
        with=(--without tools)
fi

version=$(rpmspec -q --srpm --qf '%{version}\n' "$spec" 2>/dev/null)
meson_version=$(sed -nE "s/^ *version: '([^']+)'.*/\1/p" meson.build | head -1)
if [ "$version" != "$meson_version" ]; then
        echo "$spec says $version, meson.build $meson_version"
        exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
top=$work/rpmbuild
mkdir -p "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}
defs=(--define "_topdir $top")

step "rpmspec -P"
rpmspec -P "${defs[@]}" "${with[@]}" "$spec" >"$work/parsed.spec"
grep -q '^%files devel' "$work/parsed.spec"

step "source tarball"
# Tracked and untracked files, not ignored ones, as trail-VERSION/.
source_files |
        tar --null -T - --transform "s,^,trail-$version/," -czf "$top/SOURCES/trail-$version.tar.gz"

step "rpmbuild -bb --nodeps ${with[*]}"
if ! rpmbuild -bb --nodeps "${defs[@]}" "${with[@]}" "$spec" >"$work/build.log" 2>&1; then
        tail -n 60 "$work/build.log"
        echo "rpmbuild failed"
        exit 1
fi
grep -E '^(Ok|Fail|Skipped|Timeout): ' "$work/build.log" | tr '\n' ' '; echo
mapfile -t rpms < <(find "$top/RPMS" -name '*.rpm' | sort)
[ ${#rpms[@]} -gt 0 ]
for r in "${rpms[@]}"; do
        echo "$(basename "$r"): $(rpm -qpl "$r" | wc -l) files"
done
rpm -qpl "${rpms[@]}" | grep -x /usr/lib/systemd/catalog/trail.catalog >/dev/null
rpm -qp --provides "${rpms[@]}" | grep -e '^pkgconfig(libtrail) = ' >/dev/null

step "rpmlint"
status=0
rpmlint -r rpm/libtrail.rpmlintrc "$spec" "${rpms[@]}" >"$work/rpmlint.txt" 2>&1 || status=$?
cat "$work/rpmlint.txt"
errors=$(grep -c ': E: ' "$work/rpmlint.txt" || true)
echo "rpmlint: $errors errors (exit status $status)"
[ "$errors" -eq 0 ]
step "done"
