#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writes the hand-made seeds of tests/fuzz/corpus/ (the layout is described
# in fuzz-input.h). Seeds the fuzzers found themselves (crashes fixed since)
# are kept as they are; this script only adds or rewrites its own.
# Usage: make-seeds.py [CORPUS-DIR]
import os, struct, sys

RS = b"\x1e"
STR, INT, UINT, DOUBLE, BOOL, BYTES, ERRNO, BADTYPE = range(8)
CONTEXT, GLOBAL = 2 << 3, 3 << 3
F_IDENT, F_PATTERN, F_MAXLEN, F_FACILITY, F_LOCALTIME = 0x08, 0x10, 0x20, 0x40, 0x80


def record(level, message, fields=(), flags=0, opt1=0, opt2=0, extra=()):
    """fields: (type code, name, value bytes); extra: parts before the fields."""
    head = bytes([level | flags, opt1, opt2] + [t for t, _, _ in fields])
    parts = [head, message] + list(extra)
    for _, name, value in fields:
        parts += [name, value]
    return RS.join(parts)


def i64(v):
    return struct.pack("<q", v)


def u64(v):
    return struct.pack("<Q", v)


def f64(v):
    return struct.pack("<d", v)


HOSTILE = [
    (STR, b"NL", b"a\nb"),
    (STR, b"CRLF", b"x\r\nFORGED=1"),
    (STR, b"ANSI", b"\x1b[31mred\x1b[0m"),
    (STR, b"QUOTE", b'say "hi" \\ ]'),
    (STR, b"INVALID", b"a\xff\xfeb\xc0\xaf\xed\xa0\x80"),
    (STR, b"TRUNCATED", b"a\xe2\x82"),
    (STR, b"C1", b"a\xc2\x85b\xc2\x9bc\xe2\x80\xa8d"),
    (BYTES, b"BIN", b"\x00\x01\x02\xff"),
    (STR, b"EMPTY", b""),
]

TYPED = [
    (INT, b"I", i64(-42)),
    (INT, b"IMIN", i64(-2**63)),
    (UINT, b"UMAX", u64(2**64 - 1)),
    (DOUBLE, b"D", f64(1.5)),
    (DOUBLE, b"DNEG0", f64(-0.0)),
    (DOUBLE, b"DNAN", f64(float("nan"))),
    (DOUBLE, b"DINF", f64(float("-inf"))),
    (DOUBLE, b"DTINY", f64(5e-324)),
    (BOOL, b"T", b"\x01"),
    (ERRNO, b"ERRNO", i64(-2)),
    (STR, b"MESSAGE_ID", b"b07a249cd024414a82dd00cd181378ff"),
]

NAMES = [
    (STR, b"message", b"renamed to F_MESSAGE"),
    (STR, b"user-id", b"USER_ID"),
    (STR, b"9lives", b"F_9LIVES"),
    (STR, b"__", b"dropped: empty after normalising"),
    (STR, b"A" * 80, b"cut to 64"),
    (STR, b"B" * 40 + b"1", b"SD-NAME cut to 32"),
    (STR, b"B" * 40 + b"2", b"same 32-byte prefix"),
    (STR, b"USER", b"first"),
    (STR, b"user", b"replaces the first, in its place"),
]

RECORD = {
    "plain": record(6, b"hello", [(STR, b"USER", b"alice")]),
    "empty-message": record(3, b""),
    "nul-in-message": record(4, b"before\x00after\x00and\x00more\x00cut here"),
    "hostile-values": record(2, b"line1\nline2\r\x1b[2J \"q\" back\\slash", HOSTILE),
    "typed-values": record(7, b"every type", TYPED),
    "names": record(5, b"field names", NAMES),
    "layers": record(6, b"layers", [
        (STR | GLOBAL, b"SERVICE", b"global"),
        (STR | GLOBAL, b"SHARED", b"global loses"),
        (INT | CONTEXT, b"REQUEST", i64(7)),
        (STR | CONTEXT, b"SHARED", b"context loses"),
        (STR, b"SHARED", b"call wins"),
        (STR | CONTEXT, b"--", b"refused push"),
        (BADTYPE, b"BAD", b"dropped: not a type"),
    ]),
    "long-message": record(6, b"x" * 3000 + b"\xe2\x82\xac" * 200),
    "message-looks-like-fields": record(6, b"USER=admin LEVEL=debug", [(STR, b"USER", b"alice")]),
    # past RECORD_FIELDS_MAX (1008): the first are left out and counted
    # (type bytes left out of HEAD: they default to STR)
    "many-fields": RS.join([b"\x06", b"many"] + [b"a", b""] * 1300),
}

FORMAT_EXTRA = {
    "ident": record(6, b"with an ident", [(STR, b"K", b"v")], flags=F_IDENT,
                    extra=[b"my-daemon[1]:x"]),
    "ident-refused": record(6, b"ident refused", flags=F_IDENT, extra=[b"has space\n"]),
    "facility-local7": record(0, b"emergency", flags=F_FACILITY, opt1=23),
    "localtime": record(6, b"local", flags=F_LOCALTIME),
}
TEXT_EXTRA = {
    "pattern": record(6, b"custom", [(STR, b"REQUEST_ID", b"r-1"), (INT, b"N", i64(3))],
                      flags=F_PATTERN,
                      extra=[b"%(levelno)d %(name)-12s|%(REQUEST_ID)s %(message)s%(fields)s %%"]),
    "pattern-widths": record(6, b"caf\xc3\xa9", flags=F_PATTERN,
                             extra=[b"%(funcName)1000s %(lineno)5d %(ident)s %(thread)d"]),
    "pattern-bad": record(6, b"x", flags=F_PATTERN, extra=[b"%(message)q %("]),
}
RFC5424_EXTRA = {
    "max-length": record(6, b"m" * 600 + b"\xf0\x9f\x98\x80" * 50,
                         [(STR, b"F%d" % i, b"v" * 40) for i in range(20)], flags=F_MAXLEN, opt2=0),
    "max-length-big": record(6, b"\xe2\x82\xac" * 400, HOSTILE, flags=F_MAXLEN, opt2=20),
}

FIELD_NAMES = {
    "valid": b"REQUEST_ID", "lower": b"request_id", "dash": b"user-id", "digit": b"1st",
    "underscores": b"__x", "only-underscores": b"___", "reserved": b"MESSAGE",
    "reserved-lower": b"priority", "reserved-after-strip": b"_tid", "long": b"a" * 70,
    "long-digit": b"9" * 70, "utf8": b"caf\xc3\xa9", "nul": b"AB\x00CD", "empty": b"",
    "ansi": b"\x1b[31mX", "f-prefix": b"F_MESSAGE",
}

CONFIGS = {
    "minimal": b"[trail]\nlevel = debug\n",
    "env-level": b"#!TRAIL_LEVEL=warning,myapp.db=debug,bad=level\n[trail]\nlevel = info\n",
    "crlf": b"[trail]\r\nlevel = info\r\nident = app\r\n",
    "continuation": b"[trail]\nhandlers = a,\n  b\n[handler a]\ntype = journald\n"
                    b"[handler b]\ntype = stream\nfd = stdout\nformat = json\n",
    "fields-quoted": b'[trail]\nfields = A=1 B="two words" C="q\\"x\\\\"\n',
    "async": b"[trail]\nhandlers = q\n[handler q]\ntype = journald\nasync = yes\n"
             b"queue = 16\noverflow = drop-old\nqueue_timeout = 10ms\nkeep_level = err\n",
    "syslog": b"[trail]\nhandlers = s\n[handler s]\ntype = syslog\ntarget = udp://[::1]:514\n"
              b"format = rfc5424\nenterprise = 1.3.6\nmax_length = 2k\n",
    "filter": b"[filter]\nsample = 10\nrate_limit = 5/1s\nredact = PASSWORD TOKEN\nscrub = no\n"
              b"[trail]\nbacktrace = error\n[logger a.b]\nrate_limit = off\nsample = 1\n",
    "long-line": b"[trail]\nident = " + b"x" * 300 + b"\n",
    "binary": b"[trail]\nlevel = info\x00debug\n",
    "ansi": b"[trail]\nlevel = \x1b[31mdebug\n",
    "invalid-utf8": b"[logger caf\xc3\xa9.\xff]\nlevel = debug\n",
    "unknown": b"[trail]\ncolour = blue\n[nonsense]\nx = 1\n[logger]\n",
}


def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    for name, data in RECORD.items():
        write(os.path.join(root, "record"), name, data)
    for fmt in ["json", "logfmt", "text", "rfc5424", "rfc3164"]:
        d = os.path.join(root, "format-" + fmt)
        for name, data in RECORD.items():
            if name != "layers":
                write(d, name, data)
        for name, data in FORMAT_EXTRA.items():
            write(d, name, data)
        for name, data in (TEXT_EXTRA if fmt == "text" else RFC5424_EXTRA if fmt == "rfc5424"
                           else {}).items():
            write(d, name, data)
    for name, data in FIELD_NAMES.items():
        write(os.path.join(root, "field-name"), name, data)
    for name, data in CONFIGS.items():
        write(os.path.join(root, "config"), name, data)


main()
