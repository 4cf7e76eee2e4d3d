/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hostile corpus shared by the test-hostile-* tests: values that try to
 * forge a line, a record, a field, a priority or an identifier in some sink;
 * field names that try to pass for trail's or journald's own; secrets that
 * must reach no sink in clear. Values carry their length, so NUL bytes ride
 * along through TRAIL_BYTES(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trail.h"

struct hostile {
        const char *name; /* what the value tries */
        const char *v;
        size_t len;
};

#define HV(name, literal)                                                                          \
        { name, literal, sizeof(literal) - 1 }

static const struct hostile hostile_values[] = {
        HV("newline", "a\nb"),
        HV("cr", "a\rb"),
        HV("crlf", "a\r\nb"),
        HV("nul", "a\0b"),
        HV("nul-first", "\0hidden"),
        HV("tab-vt-ff-bs", "\t\v\f\b"),
        HV("ansi-colour", "\x1b[31mred\x1b[0m"),
        HV("ansi-clear", "\x1b[2J\x1b[H"),
        HV("osc-title", "\x1b]0;pwned\x07"),
        HV("del", "a\x7f"
                  "b"),
        HV("c1-nel", "a\xc2\x85"
                     "b"),
        HV("c1-csi", "\xc2\x9b"
                     "31m"),
        HV("line-separator", "a\xe2\x80\xa8"
                             "b"),
        HV("paragraph-separator", "a\xe2\x80\xa9"
                                  "b"),
        HV("invalid-utf8", "a\xff\xfe"
                           "b"),
        HV("overlong-newline", "a\xc0\x8a"
                               "b"),
        HV("overlong-slash", "\xc0\xaf\xe0\x80\xaf"),
        HV("overlong-nul", "\xc0\x80"),
        HV("surrogate", "\xed\xa0\x80\xed\xb0\x80"),
        HV("truncated-utf8", "a\xe2\x82"),
        HV("above-u10ffff", "\xf4\x90\x80\x80"),
        HV("bom", "\xef\xbb\xbf"
                  "bom"),
        HV("format-string", "%s%n%x%p%99999999d"),
        HV("text-forge", "x\n2026-01-01T00:00:00.000000Z CRITICAL root: forged"),
        HV("json-forge", "\",\"level\":\"emergency\",\"priority\":0,\"x\":\""),
        HV("logfmt-forge", "\" level=emergency msg=\"forged\" RUN=\"forged"),
        HV("kv-forge", "x RUN=forged SEQ=999 PRIORITY=0"),
        HV("sd-forge", "\"] [forged@1 X=\"1\"] [trail@32473 RUN=\"forged"),
        HV("rfc5424-forge", "\n<8>1 2026-01-01T00:00:00Z host forged - - - forged"),
        HV("rfc3164-forge", "\n<8>Jan  1 00:00:00 forged[1]: forged"),
        HV("octet-forge", "9 <8>forged"),
        HV("native-forge", "x\nPRIORITY=0\nMESSAGE=forged\n\nMESSAGE=forged2"),
        HV("backslashes", "\\n\\x00\\\\\\\""),
        HV("quotes", "\"'`"),
        HV("empty", ""),
};
#define N_HOSTILE (sizeof(hostile_values) / sizeof(hostile_values[0]))

/* Names that try to pass for trail's own fields or journald's trusted ones,
 * or to break a name=value syntax. Each is normalised (trail_fields(3)) to
 * a name that is none of those. */
static const char *const hostile_names[] = {
        "MESSAGE",
        "PRIORITY",
        "SYSLOG_IDENTIFIER",
        "SYSLOG_FACILITY",
        "LOGGER",
        "CODE_FILE",
        "CODE_LINE",
        "CODE_FUNC",
        "TID",
        "TRUNCATED_FIELDS",
        "message",
        "priority",
        "_PID",
        "__CURSOR",
        "__REALTIME_TIMESTAMP",
        "_SYSTEMD_UNIT",
        "_TRANSPORT",
        "_BOOT_ID",
        "PRIORITY\nMESSAGE",
        "A=B",
        "NAME WITH SPACE",
        "x\"y",
        "]",
        "\xc3\xa9T\xc3\xa9",
        "0DIGIT",
        "level",
        "msg",
        "time",
};
#define N_HOSTILE_NAMES (sizeof(hostile_names) / sizeof(hostile_names[0]))

/* trail's own field names: none may appear twice in a record, and none may
 * carry a value a user gave. */
static const char *const trail_own_names[] = {
        "MESSAGE",         "PRIORITY",  "SYSLOG_IDENTIFIER",
        "SYSLOG_FACILITY", "LOGGER",    "CODE_FILE",
        "CODE_LINE",       "CODE_FUNC", "TID",
};
#define N_TRAIL_OWN (sizeof(trail_own_names) / sizeof(trail_own_names[0]))

/* Secrets: every test logs them through named fields (the default list),
 * context and global fields, the message and string values (the scrubber),
 * and then searches the raw output of its sink for each. */
static const char *const hostile_secrets[] = {
        "pw-field-4a1f",
        "db-pw-77c2",
        "ctx-tok-9e0b",
        "glob-key-31d5",
        "cookie-5c5c",
        "auth-hdr-8b8b",
        "4111111111111111",
        "5500 0055 5555 5559",
        "msg-pw-6d2e",
        "val-pw-0f0f",
        "eyJhbGciOiJub25lIn0.bearer-e1e1",
};
#define N_SECRETS (sizeof(hostile_secrets) / sizeof(hostile_secrets[0]))

/* What every record of a test-hostile-* test carries besides its own
 * fields: RUN=run and a secret (API_KEY) as global fields, ident as the
 * identifier and, unless it is -1, facility as the facility. 0, or -1 (a
 * cmocka fixture's failure). */
static inline int hostile_setup(const char *run, const char *ident, int facility) {
        if (trail_set_ident(ident) < 0 || (facility != -1 && trail_set_facility(facility) < 0))
                return -1;
        return trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("RUN", run),
                                                    TRAIL_STR("API_KEY", "glob-key-31d5"))) < 0
                       ? -1
                       : 0;
}

/* The fields of the record the test-hostile-* tests log for value i of the
 * corpus: SEQ=i; every hostile name, with name_value; the value as bytes
 * (VALUE) and as a string (SVALUE); secrets under names the default
 * redaction list covers (PASSWORD, db.password, Cookie, AUTHORIZATION) and
 * in a value the scrubber reads (NOTE). f has room for HOSTILE_FIELDS;
 * returns how many it filled. */
#define HOSTILE_FIELDS (8 + N_HOSTILE_NAMES)
static inline size_t hostile_fields(trail_field *f, size_t i, const char *name_value) {
        const struct hostile *h = &hostile_values[i];
        size_t n = 0;

        f[n++] = TRAIL_UINT("SEQ", i);
        for (size_t k = 0; k < N_HOSTILE_NAMES; k++)
                f[n++] = TRAIL_STR(hostile_names[k], name_value);
        f[n++] = TRAIL_BYTES("VALUE", h->v, h->len);
        f[n++] = TRAIL_STR("SVALUE", h->v);
        f[n++] = TRAIL_STR("PASSWORD", "pw-field-4a1f");
        f[n++] = TRAIL_STR("db.password", "db-pw-77c2");
        f[n++] = TRAIL_STR("Cookie", "cookie-5c5c");
        f[n++] = TRAIL_STR("AUTHORIZATION", "auth-hdr-8b8b");
        f[n++] = TRAIL_STR("NOTE", "card 5500 0055 5555 5559 password=val-pw-0f0f");
        return n;
}

/* The first secret found in the bytes, or NULL. */
static inline const char *find_secret(const char *s, size_t n) {
        for (size_t i = 0; i < N_SECRETS; i++)
                if (memmem(s, n, hostile_secrets[i], strlen(hostile_secrets[i])))
                        return hostile_secrets[i];
        return NULL;
}

/* RFC 3629: the length of the valid UTF-8 sequence at s (no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. Written here from the RFC's
 * table, not taken from the library, so a bug there cannot hide itself. */
static inline size_t test_utf8_len(const unsigned char *s, size_t n) {
        if (n == 0)
                return 0;
        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
        if (s[0] >= 0xe0 && s[0] <= 0xef) {
                unsigned lo = s[0] == 0xe0 ? 0xa0 : 0x80, hi = s[0] == 0xed ? 0x9f : 0xbf;
                return n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
        }
        if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                unsigned lo = s[0] == 0xf0 ? 0x90 : 0x80, hi = s[0] == 0xf4 ? 0x8f : 0xbf;
                return n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
                                       (s[3] & 0xc0) == 0x80
                               ? 4
                               : 0;
        }
        return 0;
}

/* A byte, or a UTF-8 character, that a terminal or a line-based reader may
 * act on: C0 controls, DEL, C1 controls, U+2028 and U+2029, and any byte
 * that is not part of valid UTF-8. Returns its length at s, or 0 when s
 * starts with a harmless character. */
static inline size_t dangerous_at(const unsigned char *s, size_t n) {
        size_t len;

        if (s[0] < 0x20 || s[0] == 0x7f)
                return 1;
        if (s[0] < 0x80)
                return 0;
        len = test_utf8_len(s, n);
        if (len == 0)
                return 1;
        if (len == 2 && s[0] == 0xc2 && s[1] < 0xa0)
                return 2;
        if (len == 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
                return 3;
        return 0;
}

/* v as an RFC 5424 value or MSG arrives where records are framed by length
 * or datagram (trail_handler_syslog(3)): each valid UTF-8 character as it
 * is, control characters too, NUL as "\\x00", each byte of invalid UTF-8
 * as U+FFFD. out needs 4 bytes per byte of v and one more. */
static inline char *hostile_length_framed(const char *v, size_t n, char *out) {
        const unsigned char *u = (const unsigned char *) v;
        char *p = out;

        for (size_t i = 0; i < n;) {
                size_t len = test_utf8_len(u + i, n - i);
                if (u[i] == 0)
                        p = stpcpy(p, "\\x00"), len = 1;
                else if (len == 0)
                        p = stpcpy(p, "\xef\xbf\xbd"), len = 1;
                else
                        p = (char *) memcpy(p, u + i, len) + len;
                i += len;
        }
        *p = '\0';
        return out;
}

/* The offset of the first dangerous byte or character, or -1. */
static inline long first_dangerous(const char *s, size_t n) {
        const unsigned char *u = (const unsigned char *) s;
        for (size_t i = 0; i < n;) {
                size_t k = dangerous_at(u + i, n - i);
                if (k > 0)
                        return (long) i;
                i += u[i] < 0x80 ? 1 : test_utf8_len(u + i, n - i);
        }
        return -1;
}
