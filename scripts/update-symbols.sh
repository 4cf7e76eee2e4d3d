#!/usr/bin/env bash
# Regenerates debian/libtrail0.symbols from lib/libtrail.sym (names of node
# LIBTRAIL_0 at the version they first appeared: 0.1.0, unreleased).
set -euo pipefail
cd "$(dirname "$0")/.."
{
        echo "libtrail.so.0 libtrail0 #MINVER#"
        echo "* Build-Depends-Package: libtrail-dev"
        echo " LIBTRAIL_0@LIBTRAIL_0 0.1.0"
        sed -e 's,/\*.*\*/,,' lib/libtrail.sym | grep -oE '^\s*trail_[A-Za-z0-9_]+;' | tr -d ' \t;' |
                sort | sed 's/.*/ &@LIBTRAIL_0 0.1.0/'
} > debian/libtrail0.symbols
