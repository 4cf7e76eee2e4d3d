#!/usr/bin/env bash
# The built library exports exactly the symbols of the version script.
set -euo pipefail
lib=$1 sym=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ { sub(/@.*/, "", $3); print $3 }' | sort)
listed=$(sed -e 's,/\*.*\*/,,' "$sym" | grep -oE '^\s*trail_[A-Za-z0-9_]+;' | tr -d ' \t;' | sort)
if [ "$exported" != "$listed" ]; then
        diff <(echo "$listed") <(echo "$exported") | sed 's/^</only in the version script:/; s/^>/exported but not listed:/'
        exit 1
fi
if echo "$exported" | grep -v '^trail_'; then
        echo "exported names must start with trail_" >&2
        exit 1
fi
echo "$(echo "$exported" | wc -l) symbols, all listed"
