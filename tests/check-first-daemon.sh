#!/usr/bin/env bash
# README.md's "Your first daemon", run as written: its program and its
# trail.conf are examples/worker.c and examples/worker.conf, byte for byte;
# its build command (cc ... $(pkg-config ...)) builds the program against
# this build tree's uninstalled libtrail.pc; its run command runs it into the
# real journald; and its queries (journalctl, jq), with the request id this
# run printed in place of the README's, find what the README says they find.
# The journalctl queries are narrowed to this run's _PID (the README's
# LOGGER= query would also find earlier runs').
#
# Usage: check-first-daemon.sh SOURCE_ROOT BUILD_ROOT [COMPILER COMMAND...]
set -euo pipefail
src=$1 build=$2
shift 2
cc_cmd=("${@:-cc}")
fail() { echo "FAIL: $*"; exit 1; }

[ -S /run/systemd/journal/socket ] || { echo "journald is not running"; exit 77; }
command -v jq >/dev/null || { echo "jq is not installed (scripts/setup-host.sh)"; exit 77; }
command -v pkg-config >/dev/null || { echo "pkg-config is not installed"; exit 77; }

section=$(awk '/^## Your first daemon$/ { on = 1; next } on && /^## / { exit } on' "$src/README.md")
[ -n "$section" ] || fail "README.md has no section '## Your first daemon'"
# block LANG N: the Nth fenced block of that language in the section
block() {
        awk -v lang="$1" -v want="$2" '
                !on && $0 == "```" lang { n++; if (n == want) { on = 1; next } }
                on && $0 == "```" { exit }
                on' <<<"$section"
}
diff <(block c 1) <(tail -n +2 "$src/examples/worker.c") >/dev/null ||
        fail "README's program is not examples/worker.c (without its SPDX line)"
diff <(block ini 1) "$src/examples/worker.conf" >/dev/null ||
        fail "README's trail.conf is not examples/worker.conf"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/examples"
cp "$src/examples/worker.c" "$src/examples/worker.conf" "$tmp/examples/"
cd "$tmp"

# The README's build and run commands, evaluated as they are written; "cc"
# is this build's compiler (with its sanitizers), pkg-config finds the
# uninstalled libtrail.
cc() { command "${cc_cmd[@]}" -Wall -Werror "$@"; }
export PKG_CONFIG_PATH=$build/meson-uninstalled
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR TRAIL_CONFIG TRAIL_LEVEL
LD_LIBRARY_PATH=$(pkg-config --libs-only-L libtrail | sed 's/^ *-L//; s/ *-L/:/g; s/ *$//')
export LD_LIBRARY_PATH
mapfile -t commands < <(block sh 1)
[ "${#commands[@]}" = 2 ] || fail "the build block has ${#commands[@]} commands, not 2"
[[ ${commands[0]} == "cc "* ]] || fail "the first command does not build with cc: ${commands[0]}"
eval "${commands[0]}"
eval "${commands[1]}" >printed.txt
cat printed.txt

# The README's sample output names three requests; this run's ids replace
# the README's, by file name.
declare -A real
while read -r word path; do real[$path]=${word#REQUEST_ID=}; done <printed.txt
sample=$(awk '!on && $0 == "```" { n++; if (n == 1) on = 1; next } on && $0 == "```" { exit } on' \
        <<<"$(awk '/^Build it against/ { on = 1 } on' <<<"$section" | sed '/^```sh$/,/^```$/d')")
mapfile -t queries < <(block sh 2)
[ "${#queries[@]}" = 3 ] || fail "the query block has ${#queries[@]} commands, not 3"
while read -r word path; do
        id=${word#REQUEST_ID=}
        [ -n "${real[$path]:-}" ] || fail "the run printed no request for $path"
        for i in "${!queries[@]}"; do queries[$i]=${queries[$i]//$id/${real[$path]}}; done
done <<<"$sample"
failed=${real[/nonexistent/order.json]}
grep -q "$failed" <<<"${queries[0]}" || fail "the first query does not name the failed request"

# pid: the JSON copy says it
pid=$(jq -r '.pid' warnings.json | head -1)
[ -n "$pid" ] && [ "$pid" != null ] || fail "no JSON copy in warnings.json"

run_journalctl() { eval "$1 _PID=$pid -o json --all --no-pager"; }
# journald writes asynchronously: wait for the last record of the request
for _ in $(seq 100); do
        [ "$(run_journalctl "${queries[0]}" | wc -l)" -ge 3 ] && break
        sleep 0.1
done
run_journalctl "${queries[0]}" >q1.json
run_journalctl "${queries[1]}" >q2.json
eval "${queries[2]}" >q3.json

python3 - "$failed" <<'PY'
import json, sys
failed = sys.argv[1]
def load(f):
    return [json.loads(l) for l in open(f) if l.strip()]
def want(cond, what, got):
    if not cond:
        print("FAIL:", what, json.dumps(got, indent=1)[:3000]); sys.exit(1)

q1 = load("q1.json")
msgs = [e["MESSAGE"] for e in q1]
want(all(e["REQUEST_ID"] == failed and e["SERVICE"] == "worker" and e["VERSION"] == "1.0"
         for e in q1), "query 1: the request's records, with the global fields", q1)
want(msgs[0] == "request for /nonexistent/order.json" and msgs[-1] == "request failed",
     "query 1: the request from start to end", msgs)
err = [e for e in q1 if e["LOGGER"] == "worker.db"]
want(len(err) == 1 and err[0]["PRIORITY"] == "3" and err[0]["ERRNO"] == "2" and
     err[0]["MESSAGE"] == "cannot open /nonexistent/order.json: No such file or directory",
     "query 1: the storage logger's errno error", err)

q2 = load("q2.json")
want(all(e["LOGGER"] == "worker.db" and int(e["PRIORITY"]) <= 4 for e in q2),
     "query 2: only worker.db's warnings and worse", q2)
want(sorted(e["MESSAGE"] for e in q2) ==
     ["cannot open /nonexistent/order.json: No such file or directory",
      "order /dev/null is empty"], "query 2: the warning and the error", q2)

q3 = load("q3.json")
want([(e["logger"], e["level"], e["message"]) for e in q3] ==
     [("worker.db", "error", "cannot open /nonexistent/order.json: No such file or directory"),
      ("worker", "warning", "request failed")] and
     all(e["REQUEST_ID"] == failed and e["SERVICE"] == "worker" for e in q3) and
     q3[0]["ERRNO"] == 2, "query 3: the JSON copy of the request's warnings", q3)
print("ok: the README's first daemon, built, run and queried as written")
PY
