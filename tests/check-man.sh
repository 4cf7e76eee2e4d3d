#!/usr/bin/env bash
# Every symbol of the version script, the private node LIBTRAIL_PRIVATE
# included (trail__config_check(3)), is named by a man page, and every page
# passes mandoc's lint without errors.
set -euo pipefail
sym=$1 mandir=$2
status=0
for s in $(sed -e 's,/\*.*\*/,,' "$sym" |
                grep -oE '^\s*trail_[A-Za-z0-9_]+;' | tr -d ' \t;'); do
        if ! grep -qw -- "$s" "$mandir"/*.scd; then
                echo "no man page names $s"
                status=1
        fi
done
if command -v scdoc >/dev/null && command -v mandoc >/dev/null; then
        for page in "$mandir"/*.scd; do
                if ! scdoc < "$page" | mandoc -T lint -W error >/dev/null; then
                        echo "mandoc reports errors in $page"
                        status=1
                fi
        done
fi
exit $status
