#!/usr/bin/env bash
# trail.h as C++17 under one compiler, -pedantic -Werror: every macro
# (test-header-cxx.cc, linked and run) and every README example
# (readme-examples.cc, compiled). Exits 77 when the compiler is missing.
# Usage: check-cxx.sh CXX SOURCE_ROOT LIBDIR [SANITIZE|compile-only]
set -euo pipefail
cxx=$1 root=$2 libdir=$3 sanitize=${4:-none}
if ! command -v "$cxx" >/dev/null; then
        echo "check-cxx.sh: $cxx not found" >&2
        exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags=(-std=c++17 -Wall -Wextra -pedantic -Werror -I"$root/lib")
# the README's first daemon, a whole program of examples/, as C++ too
"$cxx" "${flags[@]}" -x c++ -c "$root/examples/worker.c" -o "$tmp/worker.o"
if [ "$sanitize" = compile-only ]; then
        "$cxx" "${flags[@]}" -c "$root/tests/readme-examples.cc" -o "$tmp/readme-examples.o"
        "$cxx" "${flags[@]}" -c "$root/tests/test-header-cxx.cc" -o "$tmp/test-header-cxx.o"
        echo "$cxx: trail.h and the README examples compile as C++17 (not linked: sanitizer)"
        exit 0
elif [ "$sanitize" != none ]; then
        flags+=(-fsanitize="$sanitize")
fi
"$cxx" "${flags[@]}" -c "$root/tests/readme-examples.cc" -o "$tmp/readme-examples.o"
"$cxx" "${flags[@]}" "$root/tests/test-header-cxx.cc" -o "$tmp/test-header-cxx" \
        -L"$libdir" -Wl,-rpath,"$libdir" -ltrail
"$tmp/test-header-cxx"
echo "$cxx: trail.h and the README examples compile as C++17; the macros work"
