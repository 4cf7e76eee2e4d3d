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
        debhelper dpkg-dev lintian autopkgtest rpm rpmlint
        clang libclang-rt-dev clang-format
        logrotate gzip
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
