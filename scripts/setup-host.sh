#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine, as root: installs what trail builds and
# tests with, and makes sure a journald runs with its rate limit off (on a
# machine that does not boot with systemd, it starts one).
set -euo pipefail

packages=(
        build-essential meson ninja-build pkg-config
        libsystemd-dev libestr-dev libcmocka-dev libinih-dev
        systemd procps scdoc mandoc valgrind
        libgnutls28-dev rsyslog rsyslog-gnutls gnutls-bin libjson-c-dev
        librelp-dev rsyslog-relp
        debhelper dpkg-dev lintian autopkgtest rpm rpmlint
        clang libclang-rt-dev clang-format jq
        systemd-journal-remote logrotate gzip
)

if [ "$(id -u)" -ne 0 ]; then
        echo "setup-host.sh: run as root (it installs packages and starts journald)" >&2
        exit 1
fi

missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        apt-get install -y --no-install-recommends "${missing[@]}"
fi

# syslog-ng, a second receiver for the syslog tests: its package conflicts
# with rsyslog's, so its files (and the libraries it needs that rsyslog's
# machine lacks) are unpacked, not installed, into a fixed directory that
# tests/syslog-ng-util.c runs it from. Idempotent: the stamp names the set.
syslog_ng_root=/opt/trail-test-syslog-ng
syslog_ng_debs=(syslog-ng-core libivykis0 libnet1 libwrap0)
if [ "$(cat "$syslog_ng_root/.stamp" 2>/dev/null)" != "${syslog_ng_debs[*]}" ]; then
        dl=$(mktemp -d)
        chmod 755 "$dl" # apt-get download drops to _apt
        # (container images often ship without package lists)
        (cd "$dl" && apt-get download "${syslog_ng_debs[@]}") ||
                (apt-get update && cd "$dl" && apt-get download "${syslog_ng_debs[@]}")
        rm -rf "$syslog_ng_root.new"
        mkdir -p "$syslog_ng_root.new"
        for deb in "$dl"/*.deb; do
                dpkg -x "$deb" "$syslog_ng_root.new"
        done
        echo "${syslog_ng_debs[*]}" > "$syslog_ng_root.new/.stamp"
        rm -rf "$syslog_ng_root" "$dl"
        mv "$syslog_ng_root.new" "$syslog_ng_root"
fi

# Tests log thousands of records a second: no rate limit, and a volatile
# journal so that nothing persists past the machine.
mkdir -p /etc/systemd/journald.conf.d
cat > /etc/systemd/journald.conf.d/50-trail-tests.conf <<'CONF'
[Journal]
RateLimitBurst=0
RateLimitIntervalSec=0
CONF

# journald needs a machine id; container images often ship an empty one.
if [ ! -s /etc/machine-id ]; then
        systemd-machine-id-setup
fi

if [ ! -S /run/systemd/journal/socket ] || ! pgrep -x systemd-journal >/dev/null; then
        mkdir -p /run/systemd/journal
        setsid /lib/systemd/systemd-journald </dev/null >/dev/null 2>&1 &
        for _ in $(seq 50); do
                [ -S /run/systemd/journal/socket ] && break
                sleep 0.1
        done
fi
if [ ! -S /run/systemd/journal/socket ]; then
        echo "setup-host.sh: journald did not start" >&2
        exit 1
fi
