#!/usr/bin/env bash
# trail(1) through its real binary: "check" on good and broken files, exit
# status and FILE:LINE messages; "send" into the real journald, read back.
set -uo pipefail
trail=$1 conf=$2
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

out=$("$trail" check "$conf/good.conf" 2>&1) && ok "check good" || bad "check good: $out"
grep -q "handler console: type stream fd=2" <<<"$out" || bad "check good describes: $out"
grep -q "logger myapp.db: level debug, propagate no, handlers: console" <<<"$out" ||
        bad "check good describes loggers: $out"
# the file's layer of global fields, as the file writes them, and how it adds up
grep -qxF 'global fields: SERVICE=billing ENV=prod VERSION="1.4 beta" (added to the program'"'"'s own; on a name set in both, these win)' <<<"$out" ||
        bad "check good describes global fields: $out"

out=$("$trail" check "$conf/bad-level.conf" 2>&1)
[ $? = 1 ] && ok "check bad exits 1" || bad "check bad exit status"
grep -qx "$conf/bad-level.conf:2: level: unknown level 'loud'.*" <<<"$out" || bad "bad-level: $out"

out=$("$trail" check "$conf/bad-many.conf" 2>&1)
[ $? = 1 ] || bad "bad-many exit status"
for want in ":2: handlers: no \[handler nosuch\]" ":3: colour: unknown key" \
        ":7: propagate: 'maybe'" ":12: duplicate section" ":17: target: 'sctp://logs.example.com:6514' is not a syslog target" \
        ":19: unknown section \[bogus\]"; do
        grep -q "bad-many.conf$want" <<<"$out" || bad "bad-many lacks $want: $out"
done

out=$("$trail" check "$conf/binary.conf" 2>&1)
[ $? = 1 ] && grep -q "binary.conf:3: binary data" <<<"$out" || bad "binary: $out"
out=$("$trail" check /nonexistent.conf 2>&1)
[ $? = 1 ] && grep -q "/nonexistent.conf: cannot open" <<<"$out" || bad "missing file: $out"
# What is not a regular file is refused at once (timeout: a regression that
# reads /dev/zero for ever or waits for a FIFO's writer fails, never hangs).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ln -s /dev/zero "$tmp/zero.conf"
mkfifo "$tmp/fifo.conf"
mkdir "$tmp/dir.conf"
for f in /dev/zero:"a character device" "$tmp/zero.conf":"a character device" \
        "$tmp/fifo.conf":"a FIFO" "$tmp/dir.conf":"a directory"; do
        path=${f%%:*} kind=${f#*:}
        out=$(timeout 20 "$trail" check "$path" 2>&1)
        [ $? = 1 ] && grep -qx "$path: cannot open: $kind, not a regular file" <<<"$out" &&
                ok "check $path refused" || bad "check $path: $out"
done
# Over 4 MiB: refused for its size; a line over 197 bytes, with its line.
{ printf '[trail]\n'; head -c 4194304 /dev/zero | tr '\0' '\n'; } >"$tmp/big.conf"
out=$(timeout 20 "$trail" check "$tmp/big.conf" 2>&1)
[ $? = 1 ] && grep -qx "$tmp/big.conf: larger than 4194304 bytes" <<<"$out" || bad "big: $out"
{ printf '[trail]\nident = '; head -c 300 /dev/zero | tr '\0' x; printf '\n'; } >"$tmp/long.conf"
out=$(timeout 20 "$trail" check "$tmp/long.conf" 2>&1)
[ $? = 1 ] && grep -q "^$tmp/long.conf:2: line longer than 197 bytes" <<<"$out" || bad "long line: $out"
# 100k [handler] sections: linear, about 1 s of CPU; quadratic, it took many
# CPU minutes. A CPU-time limit, not a clock one: a loaded machine is no failure.
python3 -c '
import sys
sys.stdout.write("[trail]\nhandlers = h0\n" + "".join("[handler h%d]\ntype=stream\n" % i for i in range(100000)))
' >"$tmp/many.conf"
out=$(ulimit -t 60; "$trail" check "$tmp/many.conf" 2>&1)
[ $? = 0 ] && grep -q "^handler h99999: type stream fd=2 (unused)" <<<"$out" &&
        ok "100k handler sections" || bad "100k handler sections: $(tail -3 <<<"$out")"

# type = memory: built after its target and described; a chain of 20000
# memory handlers that leads back to its start is one error, found without
# recursion (a stack per link would overflow)
printf '[trail]\nhandlers = rec\n[handler rec]\ntype = memory\ntarget = j\ncapacity = 5\n[handler j]\ntype = journald\n' >"$tmp/memory.conf"
out=$("$trail" check "$tmp/memory.conf" 2>&1)
[ $? = 0 ] && grep -qx "handler rec: type memory target=j capacity=5 trigger=error per_thread=yes" <<<"$out" &&
        grep -qx "handler j: type journald" <<<"$out" && ok "memory handler" || bad "memory handler: $out"
python3 -c '
import sys
n = 20000
sys.stdout.write("[trail]\nhandlers = m0\n" + "".join("[handler m%d]\ntype = memory\ntarget = m%d\n" % (i, (i + 1) % n) for i in range(n)))
' >"$tmp/cycle.conf"
out=$(timeout 60 "$trail" check "$tmp/cycle.conf" 2>&1)
[ $? = 1 ] && [ "$(wc -l <<<"$out")" = 1 ] &&
        grep -q "cycle.conf:5: target: memory handlers that hold for each other: m0 → m1 → " <<<"$out" &&
        ok "memory cycle" || bad "memory cycle: $(head -c 300 <<<"$out")"
# type = file: check creates nothing and names a missing directory; send
# appends through it
printf '[trail]\nhandlers = f\n[handler f]\ntype = file\npath = %s\nformat = json\nmode = 0600\n' \
        "$tmp/app.log" >"$tmp/file.conf"
out=$("$trail" check "$tmp/file.conf" 2>&1) && ok "check file" || bad "check file: $out"
grep -q "handler f: type file path=$tmp/app.log format=json mode=0600" <<<"$out" ||
        bad "check file describes: $out"
[ -e "$tmp/app.log" ] && bad "check created the log file"
printf '[trail]\nhandlers = f\n[handler f]\ntype = file\npath = %s\n' "$tmp/nodir/app.log" \
        >"$tmp/nodir.conf"
out=$("$trail" check "$tmp/nodir.conf" 2>&1)
[ $? = 1 ] && grep -q "nodir.conf:5: path: cannot open '$tmp/nodir/app.log': No such file or directory" <<<"$out" &&
        ok "check file in a missing directory" || bad "check file in a missing directory: $out"
"$trail" send -c "$tmp/file.conf" -p warning -l myapp.file "into the file" || bad "send to file"
grep -q '"message":"into the file"' "$tmp/app.log" && [ "$(stat -c %a "$tmp/app.log")" = 600 ] &&
        ok "send to file" || bad "send to file: $(cat "$tmp/app.log" 2>&1)"

"$trail" check >/dev/null 2>&1; [ $? = 2 ] || bad "check without a file: usage, exit 2"
"$trail" frobnicate >/dev/null 2>&1; [ $? = 2 ] || bad "unknown command: exit 2"

[ "$("$trail" levels | head -1)" = "0 emergency emerg" ] || bad "levels"
"$trail" version | grep -q "^trail [0-9]" || bad "version"

# send, into the real journald
if ! [ -S /run/systemd/journal/socket ]; then
        echo "no journald"
        [ $fail = 0 ] && exit 77 || exit 1
fi
id=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
"$trail" send -c "$conf/good.conf" -p warning -l myapp.tool -F "TOOL_RUN=$id" \
        WHO=shell "hello from" the tool || bad "send exit status"
"$trail" send -l myapp.tool -p 3 TOOL_RUN="$id" -t tooltag "second" || bad "send without config"
# The script's own location, when it gives one; --code-line alone is refused.
"$trail" send --code-file backup.sh --code-line 7 --code-func rotate TOOL_RUN="$id" \
        located || bad "send --code-file exit status"
"$trail" send --code-line 7 TOOL_RUN="$id" x >/dev/null 2>&1
[ $? = 2 ] || bad "--code-line without --code-file: usage, exit 2"
# No message: standard input, one record per line, like logger(1) and
# systemd-cat: an empty line is skipped, a NUL ends a line, a line of 100 kB
# is one record, whole, and a last line without a newline is a record.
{
        printf 'first\n\nsecond\0third\n'
        head -c 100000 /dev/zero | tr '\0' y
        printf '\nlast'
} | "$trail" send -p warning -l backup -F "TOOL_STDIN=$id" || bad "send from stdin exit status"
for i in $(seq 100); do
        n=$(journalctl --all -o json "TOOL_RUN=$id" + "TOOL_STDIN=$id" 2>/dev/null | wc -l)
        [ "$n" -ge 8 ] && break
        sleep 0.1
done
json=$(journalctl --all -o json "TOOL_RUN=$id")
python3 - "$json" <<'PY' || fail=1
import json, sys
es = [json.loads(l) for l in sys.argv[1].splitlines()]
def want(cond, what):
    if not cond:
        print("FAIL:", what, es); sys.exit(1)
want(len(es) == 3, "three entries")
a, b, c = es
want(a["MESSAGE"] == "hello from the tool", "message joined")
# trail(1)'s own location (tools/trail.c) is no use to anyone: none by default
want(not any(k.startswith("CODE_") for k in a) and not any(k.startswith("CODE_") for k in b),
     "no CODE_* fields without --code-file")
want(c["MESSAGE"] == "located" and c["CODE_FILE"] == "backup.sh" and c["CODE_LINE"] == "7"
     and c["CODE_FUNC"] == "rotate", "--code-file, --code-line, --code-func")
want(a["PRIORITY"] == "4" and a["LOGGER"] == "myapp.tool", "level and logger")
want(a["WHO"] == "shell" and a["SERVICE"] == "billing", "fields and global fields")
want(a["SYSLOG_IDENTIFIER"] == "billing", "ident from the file")
want(b["SYSLOG_IDENTIFIER"] == "tooltag" and b["PRIORITY"] == "3", "-t and numeric -p")
print("ok: send into journald")
PY
json=$(journalctl --all -o json "TOOL_STDIN=$id")
python3 - "$json" <<'PY' || fail=1
import json, sys
es = [json.loads(l) for l in sys.argv[1].splitlines()]
got = [e["MESSAGE"] for e in es]
want = ["first", "second", "third", "y" * 100000, "last"]
if got != want:
    print("FAIL: stdin records", [m[:20] + "...%d" % len(m) for m in got]); sys.exit(1)
for e in es:
    if e["PRIORITY"] != "4" or e["LOGGER"] != "backup" or any(k.startswith("CODE_") for k in e):
        print("FAIL: stdin record fields", {k: v for k, v in e.items() if k != "MESSAGE"})
        sys.exit(1)
print("ok: send from standard input, one record per line")
PY
exit $fail
