#!/usr/bin/env bash
# The benchmarks, from a fresh Debian 12 machine, as root: installs the peers'
# libraries, makes sure journald runs (scripts/setup-host.sh), builds with
# -Dbench=true and runs every benchmark; prints one table and writes
# build-bench/bench/results.csv and results.svg.
# Extra arguments go to bench/run.sh (e.g. --runs 7 --records 20000).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-host.sh >/dev/null

packages=(g++ python3 libglib2.0-dev libspdlog-dev libfmt-dev)
missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        apt-get install -y --no-install-recommends "${missing[@]}"
fi

meson setup build-bench -Dbench=true -Dwerror=true -Dtests=false -Dexamples=false \
        -Dman=disabled -Dbuildtype=release >/dev/null 2>&1 ||
        meson setup build-bench --reconfigure -Dbench=true -Dwerror=true -Dtests=false \
                -Dexamples=false -Dman=disabled -Dbuildtype=release
meson compile -C build-bench

exec bench/run.sh build-bench "$@"
