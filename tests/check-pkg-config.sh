#!/usr/bin/env bash
# A program builds and runs against the uninstalled build tree through
# pkg-config alone: PKG_CONFIG_PATH=<build>/meson-uninstalled.
# Usage: check-pkg-config.sh BUILD_ROOT [COMPILER COMMAND...]
set -euo pipefail
build=$1
shift
cc=("${@:-cc}")
command -v pkg-config >/dev/null || { echo "pkg-config not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

export PKG_CONFIG_PATH=$build/meson-uninstalled
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR
pkg-config --exists --print-errors libtrail
test "$(pkg-config --modversion libtrail)" = "$(pkg-config --modversion libtrail-uninstalled)"

cat > "$tmp/hello.c" <<'C'
#include <unistd.h>
#include <trail.h>
int main(void) {
        trail_logger *lg = trail_get("pkgconfig.check");
        trail_handler *h = trail_handler_stream(STDOUT_FILENO, "text");
        if (!lg || !h || trail_logger_add_handler(lg, h) < 0)
                return 1;
        trail_handler_unref(h);
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_INT("ANSWER", 42)), "hello");
        trail_shutdown();
        return 0;
}
C
# shellcheck disable=SC2046
"${cc[@]}" -Wall -Werror -o "$tmp/hello" "$tmp/hello.c" $(pkg-config --cflags --libs libtrail)
# The run-time path is the -L directory the .pc names: nothing is installed.
libpath=$(pkg-config --libs-only-L libtrail | sed 's/^ *-L//; s/ *-L/:/g; s/ *$//')
out=$(LD_LIBRARY_PATH=$libpath "$tmp/hello")
echo "$out"
case $out in
*"INFO pkgconfig.check: hello ANSWER=42"*) ;;
*) echo "unexpected output"; exit 1 ;;
esac
echo "built and ran through $PKG_CONFIG_PATH/libtrail-uninstalled.pc"
