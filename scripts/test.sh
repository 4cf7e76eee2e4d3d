#!/usr/bin/env bash
# The whole test suite, from a fresh machine: set-up, a -Werror build, every
# test against the real journald, then the same again under ASan+UBSan, the
# fuzzers for a bounded time, the threaded tests under TSan, and packaging.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-host.sh

meson setup build --wipe -Dwerror=true -Dman=enabled >/dev/null 2>&1 ||
        meson setup build -Dwerror=true -Dman=enabled
meson compile -C build
meson test -C build --print-errorlogs
# (the layers of lib/: the call graph, the includes, clang-format and the
# sizes of files and functions run in its "abi" suite)
# memcheck over the unit and journald tests (test-memory's threads and
# rings among them; the allocation counter owns
# malloc; the thread test, slow under valgrind's one-thread-at-a-time, runs
# under TSan below; the 1000 forks of test-fork run in the build above)
meson test -C build --setup valgrind --suite unit --suite journald --no-suite noalloc --no-suite fork \
        --no-suite threads \
        --print-errorlogs
tests/check-install.sh build

meson setup build-asan --wipe -Dwerror=true -Db_sanitize=address,undefined \
        -Db_lundef=false >/dev/null 2>&1 ||
        meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C build-asan --print-errorlogs

# The libFuzzer targets (clang, ASan+UBSan): each over its seed corpus, then
# fuzzed for a bounded time; any finding fails the suite.
FUZZ_SECONDS=${FUZZ_SECONDS:-15} scripts/fuzz.sh

# The threaded tests under ThreadSanitizer.
meson setup build-tsan --wipe -Dwerror=true -Db_sanitize=thread -Db_lundef=false >/dev/null 2>&1 ||
        meson setup build-tsan -Dwerror=true -Db_sanitize=thread -Db_lundef=false
meson compile -C build-tsan
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:die_after_fork=0:suppressions=$PWD/tests/tsan.supp \
        meson test -C build-tsan --print-errorlogs test-threads test-context test-logger \
        test-async-stress test-flow test-correlation test-handler-custom test-redact \
        test-config-reload test-fault-journald test-fault-syslog test-fault-eintr \
        test-fault-resources test-fault-tls test-fault-resolver test-location test-memory \
        test-handler-file test-logrotate-create test-logrotate-copytruncate test-syslog-batch

# Packaging: the Debian packages built, linted, installed and used (then
# purged), and the RPMs built and linted.
tests/check-packaging.sh
tests/check-pkg-rpm.sh
