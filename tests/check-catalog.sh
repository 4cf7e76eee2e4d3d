#!/usr/bin/env bash
# The message catalog explains trail's records: every TRAIL_MESSAGE_ID_* of
# trail.h has exactly one entry in catalog/trail.catalog and no entry is
# stale; the catalog compiles with "journalctl --root SCRATCH
# --update-catalog"; and "journalctl -x" on a real record, logged through
# libtrail into the running journald, shows the entry from that scratch
# catalog.
#
# journalctl -x (systemd 252) reads the compiled catalog only from
# /var/lib/systemd/catalog/database, whatever --root says, so the last step
# runs journalctl in a private mount namespace with the scratch catalog
# bind-mounted there: the machine's own catalog is not touched.
#
# Usage: check-catalog.sh TRAIL_H CATALOG PROBE_PROGRAM
set -euo pipefail
header=$1 catalog=$2 probe=$3

ids_h=$(sed -nE 's/^#define TRAIL_MESSAGE_ID_[A-Z_]+ +"([0-9a-f]{32})".*/\1/p' "$header" | sort)
ids_c=$(sed -nE 's/^-- ([0-9a-f]{32})( .*)?$/\1/p' "$catalog" | sort)
if [ -z "$ids_h" ]; then
        echo "no TRAIL_MESSAGE_ID_* constants found in $header"
        exit 1
fi
if [ "$ids_h" != "$ids_c" ]; then
        diff <(echo "$ids_h") <(echo "$ids_c") |
                sed -n 's/^</defined in trail.h but not in the catalog:/p; s/^>/in the catalog but not in trail.h:/p'
        exit 1
fi
if [ -n "$(echo "$ids_c" | uniq -d)" ]; then
        echo "catalog entries given twice: $(echo "$ids_c" | uniq -d)"
        exit 1
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/lib/systemd/catalog"
cp "$catalog" "$root/usr/lib/systemd/catalog/trail.catalog"
journalctl --root "$root" --update-catalog
db=$root/var/lib/systemd/catalog/database
test -s "$db"
listed=$(journalctl --root "$root" --list-catalog | awk '{print $1}' | sort)
if [ "$listed" != "$ids_c" ]; then
        echo "the compiled catalog does not list every entry:"
        echo "$listed"
        exit 1
fi

if [ ! -S /run/systemd/journal/socket ]; then
        echo "journald is not running"
        exit 77
fi
if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
        echo "needs root for a private mount namespace"
        exit 77
fi

# One real record per MESSAGE_ID, each explained by its own entry.
for id in $ids_h; do
        subject=$(awk -v id="$id" '$0 == "-- " id { e = 1; next }
                e && /^Subject:/ { sub(/^Subject: /, ""); print; exit }' "$catalog")
        tag=catalog-$$-$RANDOM
        "$probe" "$id" "$tag"

        # The Subject, with @SYSLOG_IDENTIFIER@ filled in from the record.
        want=${subject//@SYSLOG_IDENTIFIER@/$(basename "$probe")}
        # journald writes asynchronously, and a busy one (or one rotating its
        # files under the reader) takes its time: read until the record is
        # there and explained, for up to a minute.
        for _ in $(seq 600); do
                out=$(unshare -m --propagation private sh -c '
                        mount --bind "$1" /var/lib/systemd/catalog/database 2>/dev/null ||
                                mount --bind "$(dirname "$1")" /var/lib/systemd/catalog
                        exec journalctl -x -q --no-pager PROBE="$2" -n1' sh "$db" "$tag" 2>/dev/null)
                grep -qF -- "$want" <<<"$out" && break
                sleep 0.1
        done
        if ! grep -qF -- "$want" <<<"$out"; then
                echo "$out"
                echo "journalctl -x did not explain MESSAGE_ID=$id with: $want"
                exit 1
        fi
        head -2 <<<"$out"
done
echo "journalctl -x explains each of trail's MESSAGE_IDs from the scratch catalog"
