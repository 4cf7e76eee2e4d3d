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
echo "installed, and a program built with pkg-config ran"
