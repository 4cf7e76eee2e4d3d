#!/usr/bin/env bash
# Runs trail-bench from a build directory, prints its table, and writes
# results.csv and results.svg (the chart) next to it.
#   bench/run.sh BUILDDIR [--out DIR] [trail-bench options: --runs N --records N --only S]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run.sh BUILDDIR [--out DIR] [trail-bench options]}
shift
out=$build/bench
if [ "${1:-}" = "--out" ]; then
        out=$2
        shift 2
fi
mkdir -p "$out"

# glibc's syslog(3) (and spdlog's syslog_sink) write to /dev/log only. Where
# journald's syslog socket is not linked there, link it for the run and
# remove the link afterwards; the syslog rows are skipped when we cannot.
linked=
if [ ! -e /dev/log ] && [ -S /run/systemd/journal/dev-log ]; then
        if ln -s /run/systemd/journal/dev-log /dev/log 2>/dev/null; then
                linked=1
                echo "note: /dev/log was absent; linked to /run/systemd/journal/dev-log for this run"
                trap 'rm -f /dev/log' EXIT
        fi
fi

# GLib must drop debug records, as it does by default.
unset G_MESSAGES_DEBUG

echo "machine: $(nproc) CPUs, $(uname -r); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/bench/trail-bench" --csv "$out/results.csv" "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$here/chart.py" "$out/results.csv" "$out/results.svg"
echo "wrote $out/results.csv and $out/results.svg"
if [ -n "$linked" ]; then
        rm -f /dev/log
        trap - EXIT
fi
