# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by check-json.py and check-logfmt.py: runs gen-records, which writes
# for every random record a line "E {...}" saying what was logged and then
# the record as the formatter rendered it, and hands each pair to the
# script's own check(expect, line), which raises when the line does not
# read back as what was logged.
import json, subprocess, sys


def read_back(check):
    """Runs GEN-RECORDS FORMAT COUNT (the script's arguments); the exit
    status: 0 when every record read back, else 1 after saying which."""
    gen, fmt, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    out = subprocess.run([gen, fmt, str(count)], stdout=subprocess.PIPE, check=True).stdout
    lines = out.split(b"\n")
    assert lines[-1] == b"", "output does not end with a newline"
    lines = lines[:-1]
    assert len(lines) == 2 * count, "expected %d lines, got %d" % (2 * count, len(lines))
    for i in range(count):
        e, line = lines[2 * i], lines[2 * i + 1]
        assert e.startswith(b"E "), e
        try:
            # the output must be UTF-8 whatever went in
            check(json.loads(e[2:]), line.decode("utf-8", "strict"))
        except Exception as ex:
            print("record %d: %r\n%r" % (i, ex, line[:2000]), file=sys.stderr)
            return 1
    print("%d records read back" % count)
    return 0
