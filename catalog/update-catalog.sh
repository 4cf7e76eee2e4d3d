#!/bin/sh
# meson install's last step (catalog/meson.build): rebuild journald's
# message catalog index after trail.catalog went into CATALOGDIR of the
# live root, so that "journalctl -x" explains trail's records. Never under
# DESTDIR (a staged install for a package: the package's trigger runs it
# on the target machine), never fatal: without journalctl (no systemd) there
# is nothing to update, and a failed update leaves the install as it is,
# with the command to run printed.
#
# Usage: update-catalog.sh CATALOGDIR
dir=$1
if [ -n "${DESTDIR:-}" ]; then
        echo "trail: DESTDIR is set: not running journalctl --update-catalog (the package's trigger does)"
        exit 0
fi
case "$dir" in
/usr/lib/systemd/catalog | /usr/lib/systemd/catalog/ | \
        /usr/local/lib/systemd/catalog | /usr/local/lib/systemd/catalog/) ;;
*)
        echo "trail: journalctl does not read catalogs in $dir (only in /usr/lib/systemd/catalog" \
                "and /usr/local/lib/systemd/catalog): journalctl -x will not explain trail's records"
        exit 0
        ;;
esac
if ! command -v journalctl >/dev/null 2>&1; then
        echo "trail: no journalctl: the journal message catalog is installed, not indexed"
        exit 0
fi
if journalctl --update-catalog; then
        echo "trail: journalctl --update-catalog: journalctl -x now explains trail's records"
else
        echo "trail: warning: journalctl --update-catalog failed; run it as root" \
                "for journalctl -x to explain trail's records" >&2
fi
exit 0
