#!/usr/bin/env bash
# meson install puts header, library and .pc in place, and a program builds
# against them through pkg-config and logs.
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
echo "installed, and a program built with pkg-config ran"
