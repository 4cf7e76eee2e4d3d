/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one escaper of every text format (text, rfc3164, rfc5424, json,
 * logfmt), the KEY=value quoting rules, JSON string escaping and base64.
 * Includes only libc. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* n bytes of s at p; returns the end (mempcpy() for char). */
static inline char *put(char *p, const char *s, size_t n) {
        memcpy(p, s, n);
        return p + n;
}

/* One escaper for every text format (text, rfc3164,
 * rfc5424, json, logfmt); what differs between them is a struct escaper.
 * byte[c] says what becomes of the byte c:
 *   ESC_COPY  written as it is;
 *   ESC_HEX   "\xNN" ("\u00NN" when json);
 *   ESC_UTF8  the start of a UTF-8 sequence (every byte from 0x80 must be
 *             ESC_UTF8): a valid one is written as it is, but the C1
 *             controls U+0080..U+009F and U+2028/U+2029, which a terminal
 *             or a reader acts on, are "\xNN" for each byte ("\u0085",
 *             "\u2028" when json); an invalid byte is as invalid says;
 *   other     a backslash and that character: 'n' for "\n", '"' for "\"". */
enum {
        ESC_COPY = 0,
        ESC_HEX = 1,
        ESC_UTF8 = 2,
};
enum escape_invalid {
        ESCAPE_INVALID_HEX,     /* "\xNN" for each byte: nothing lost */
        ESCAPE_INVALID_REPLACE, /* U+FFFD for each byte */
        ESCAPE_INVALID_SUBPART, /* U+FFFD for each maximal subpart (Unicode §3.9) */
};
struct escaper {
        unsigned char byte[256];
        unsigned char invalid; /* enum escape_invalid */
        bool json;             /* JSON's \u escapes, by code point */
        /* A valid C1 control or U+2028/U+2029 is copied like any other
         * character (for a receiver that frames records by length, which
         * nothing in them can end: rfc5424's raw escapers). */
        bool copy_utf8_controls;
};
/* What every escaper's byte[] holds: the C0 controls and DEL are ESC_HEX,
 * but 0x08, '\t', '\n', 0x0c and '\r', which are as the format writes them
 * ('b', 't', 'n', 'f', 'r' or ESC_HEX); the bytes from 0x80 are ESC_UTF8.
 * Printable ASCII is ESC_COPY unless the escaper names it. */
#define ESCAPE_CONTROLS(b, t, n, f, r)                                                             \
        [0x00 ... 0x07] = ESC_HEX, [0x08] = (b), [0x09] = (t), [0x0a] = (n), [0x0b] = ESC_HEX,     \
                  [0x0c] = (f), [0x0d] = (r), [0x0e ... 0x1f] = ESC_HEX, [0x7f] = ESC_HEX,         \
                  [0x80 ... 0xff] = ESC_UTF8
/* Writes s escaped as e says, at most room bytes of it, never part of an
 * escape or of a character; *ret_consumed (if not NULL) is how much of s
 * that took. At most 4 bytes out per byte in (6 when json), so p needs
 * that much or room. A scan and one copy for what needs no escape; no
 * allocation. */
char *escape_cut(char *p, const char *s, size_t n, const struct escaper *e, size_t room,
                 size_t *ret_consumed);
static inline char *escape(char *p, const char *s, size_t n, const struct escaper *e) {
        return escape_cut(p, s, n, e, SIZE_MAX, NULL);
}
/* The length escape() writes. */
size_t escaped_len(const char *s, size_t n, const struct escaper *e);
/* KEY=value lines (text, rfc3164, logfmt): a value is written bare when it
 * is not empty and holds only printable ASCII but space, '"', '=' and '\\',
 * so that a bare value never needs an escape; otherwise in double quotes,
 * escaped with quoted. */
bool value_needs_quotes(const char *s, size_t n);
char *put_value(char *p, const char *s, size_t n, const struct escaper *quoted);
/* The message before the KEY=value fields (text, rfc3164): quoted like a
 * value when it holds '=' (it cannot pass for a field), starts with '"' or
 * is empty; otherwise escaped with bare. */
char *put_message(char *p, const char *s, size_t n, const struct escaper *bare,
                  const struct escaper *quoted);

/* The inside of a JSON string (RFC 8259 §7), logfmt's quoted values too:
 * at most 6 bytes out per byte in. */
extern const struct escaper json_escaper;
/* RFC 4648 §4 with padding: 4 bytes out per 3 in. */
char *base64_encode(char *p, const unsigned char *s, size_t n);
