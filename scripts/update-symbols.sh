#!/usr/bin/env bash
# Regenerates debian/libtrail0.symbols from lib/libtrail.sym: each node's
# names at the version they first appeared (0.1.0, unreleased), the private
# node LIBTRAIL_PRIVATE included (trail-tools depends on exactly its
# libtrail0 for those, in debian/control).
set -euo pipefail
cd "$(dirname "$0")/.."
{
        echo "libtrail.so.0 libtrail0 #MINVER#"
        echo "* Build-Depends-Package: libtrail-dev"
        awk '
                { sub(/\/\*.*\*\//, "") }
                /^[A-Z0-9_]+ *\{/ { node = $1; sub(/\{.*/, "", node); print node "@" node; next }
                node && /^[ \t]*[A-Za-z_][A-Za-z0-9_]*;/ { s = $1; sub(/;.*/, "", s); print s "@" node }
                /^\}/ { node = "" }' lib/libtrail.sym | LC_ALL=C sort | sed 's/.*/ & 0.1.0/'
} > debian/libtrail0.symbols
