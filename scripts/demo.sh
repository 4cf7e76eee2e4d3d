#!/usr/bin/env bash
# Builds trail and its demo daemon, makes sure journald runs, runs the demo
# and shows its records as journald stored them.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-host.sh >/dev/null

meson setup build >/dev/null 2>&1 || true
meson compile -C build examples/demo-daemon >/dev/null

run=$(build/examples/demo-daemon | sed -n 's/^DEMO_RUN=//p')
# journald writes asynchronously: wait until the demo's last record is in.
for _ in $(seq 50); do
        journalctl DEMO_RUN="$run" -o cat --no-pager 2>/dev/null | grep -q "demo done" && break
        sleep 0.1
done
echo "== journalctl DEMO_RUN=$run -o verbose"
journalctl DEMO_RUN="$run" -o verbose --no-pager
echo
echo "== journalctl DEMO_RUN=$run REQUEST_ID=9a7c6e5d-4b3a-4f21-8e0d-1c2b3a4d5e6f -o cat"
journalctl DEMO_RUN="$run" REQUEST_ID=9a7c6e5d-4b3a-4f21-8e0d-1c2b3a4d5e6f -o cat --no-pager
