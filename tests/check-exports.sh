#!/usr/bin/env bash
# The built library exports exactly the symbols of the version script. The
# API nodes export trail_* names; the one private node, LIBTRAIL_PRIVATE
# (for trail(1) of the same build, lib/trail-tool.h), only trail__* names.
set -euo pipefail
lib=$1 sym=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ { sub(/@.*/, "", $3); print $3 }' | sort)
# "node name" for every symbol the script lists under global:
listed_by_node=$(awk '
        { sub(/\/\*.*\*\//, "") }
        /^[A-Za-z0-9_]+ *\{/ { node = $1; sub(/\{.*/, "", node); scope = ""; next }
        /^[ \t]*(global|local):/ { scope = $1; sub(/:.*/, "", scope); next }
        /^\}/ { node = ""; next }
        node && scope == "global" && /^[ \t]*[A-Za-z_][A-Za-z0-9_]*;/ { s = $1; sub(/;.*/, "", s); print node, s }' "$sym")
listed=$(echo "$listed_by_node" | awk '{ print $2 }' | sort)
if [ "$exported" != "$listed" ]; then
        diff <(echo "$listed") <(echo "$exported") | sed 's/^</only in the version script:/; s/^>/exported but not listed:/'
        exit 1
fi
status=0
while read -r node s; do
        if [ "$node" = LIBTRAIL_PRIVATE ]; then
                [[ $s == trail__* ]] && continue
                echo "$s: the private node LIBTRAIL_PRIVATE exports only trail__ names" >&2
        else
                [[ $s == trail_* ]] && continue
                echo "$s: exported names must start with trail_" >&2
        fi
        status=1
done <<< "$listed_by_node"
[ $status -eq 0 ] || exit 1
n_private=$(echo "$listed_by_node" | grep -c '^LIBTRAIL_PRIVATE ' || true)
echo "$(echo "$exported" | wc -l) symbols, all listed ($n_private of them private)"
