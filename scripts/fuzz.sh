#!/usr/bin/env bash
# The fuzz targets of tests/fuzz/: a clang build with libFuzzer, ASan and
# UBSan (build-fuzz, -Dfuzz=true), every target run once over its seed
# corpus, then fuzzed for $FUZZ_SECONDS (default 45 when run alone, 15 in scripts/test.sh; 0: the corpus only),
# $FUZZ_JOBS at a time (default 2). Fails on any finding: the input is left
# in build-fuzz/fuzz-artifacts/TARGET/ (replay it with
# build-fuzz/tests/fuzz/fuzz-TARGET FILE, and once fixed, add it to
# tests/fuzz/corpus/TARGET/). New inputs found along the way collect in
# build-fuzz/fuzz-corpus/TARGET/, kept between runs.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-45}
jobs=${FUZZ_JOBS:-2}
build=${FUZZ_BUILD:-build-fuzz}

if ! command -v clang >/dev/null; then
        echo "fuzz.sh: clang is needed (scripts/setup-host.sh installs it)" >&2
        exit 1
fi
if [ -f "$build/build.ninja" ]; then
        meson configure "$build" -Dfuzz=true -Dwerror=true >/dev/null
else
        CC=clang meson setup "$build" -Dfuzz=true -Dwerror=true -Dtests=false -Dexamples=false \
                -Dman=disabled -Dbench=false
fi
meson compile -C "$build"

# The configuration target must not see the caller's configuration.
unset TRAIL_CONFIG TRAIL_LEVEL
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# Each target once over its seeds (meson's suite "fuzz": -runs=0 over the corpus).
meson test -C "$build" --suite fuzz --print-errorlogs

[ "$seconds" -gt 0 ] || exit 0

targets=()
for d in tests/fuzz/corpus/*/; do
        targets+=("$(basename "$d")")
done

dict_of() {
        case "$1" in
        field-name) echo tests/fuzz/field-name.dict ;;
        config) echo tests/fuzz/config.dict ;;
        *) echo tests/fuzz/record.dict ;;
        esac
}

run_one() {
        local t=$1 exe="$build/tests/fuzz/fuzz-$1" work="$build/fuzz-corpus/$1"
        local art="$build/fuzz-artifacts/$1" log="$build/fuzz-logs/$1.log"

        mkdir -p "$work" "$art" "$(dirname "$log")"
        if "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
                -dict="$(dict_of "$t")" -artifact_prefix="$art/" -print_final_stats=1 \
                "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
                echo "fuzz-$t: $(grep -a '^Done' "$log" | tail -n1)"
        else
                echo "fuzz-$t: FINDING (log: $log, input in $art/)" >&2
                grep -a -E 'oracle failed|runtime error|ERROR: |SUMMARY' "$log" | head -n 20 >&2
                return 1
        fi
}

failed=0
running=0
for t in "${targets[@]}"; do
        if [ "$running" -ge "$jobs" ]; then
                wait -n || failed=1
                running=$((running - 1))
        fi
        run_one "$t" &
        running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
        wait -n || failed=1
        running=$((running - 1))
done

if [ "$failed" -ne 0 ]; then
        echo "fuzz.sh: findings; see above" >&2
        exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, ${seconds}s each, no findings"
