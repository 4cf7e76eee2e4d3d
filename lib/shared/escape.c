/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The escaper (escape.h): UTF-8 checked as it is copied, one table per
 * format; the KEY=value quoting; JSON strings; base64. */

#include <string.h>

#include "escape.h"

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0; *ret_skip is how many bytes to
 * consume: the sequence, or the maximal invalid subpart (Unicode §3.9). */
static inline size_t utf8_scan(const unsigned char *s, size_t n, size_t *ret_skip) {
        unsigned char c = s[0], lo = 0x80, hi = 0xbf;
        size_t len;

        if (c >= 0xc2 && c <= 0xdf)
                len = 2;
        else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                if (c == 0xe0)
                        lo = 0xa0; /* overlong */
                else if (c == 0xed)
                        hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                if (c == 0xf0)
                        lo = 0x90; /* overlong */
                else if (c == 0xf4)
                        hi = 0x8f; /* above U+10FFFF */
        } else {
                *ret_skip = 1;
                return 0;
        }
        /* unrolled: this is the escapers' inner loop for non-ASCII text */
        if (n < 2 || s[1] < lo || s[1] > hi) {
                *ret_skip = 1;
                return 0;
        }
        if (len > 2 && (n < 3 || (s[2] & 0xc0) != 0x80)) {
                *ret_skip = 2;
                return 0;
        }
        if (len > 3 && (n < 4 || (s[3] & 0xc0) != 0x80)) {
                *ret_skip = 3;
                return 0;
        }
        *ret_skip = len;
        return len;
}

static const char hex_digits[] = "0123456789abcdef";

/* The C1 controls U+0080..U+009F and U+2028/U+2029, in a valid sequence of
 * len bytes: a terminal acts on the first, some readers break lines at the
 * others. */
static bool utf8_is_control(const unsigned char *s, size_t len) {
        return (len == 2 && s[0] == 0xc2 && s[1] < 0xa0) ||
               (len == 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9));
}

static char *put_hex(char *p, unsigned char c) {
        *p++ = '\\', *p++ = 'x', *p++ = hex_digits[c >> 4], *p++ = hex_digits[c & 15];
        return p;
}

/* JSON's "\uNNNN", for a code point below U+10000. */
static char *put_u(char *p, unsigned cp) {
        *p++ = '\\', *p++ = 'u';
        for (int k = 12; k >= 0; k -= 4)
                *p++ = hex_digits[(cp >> k) & 15];
        return p;
}

char *escape_cut(char *p, const char *s, size_t n, const struct escaper *e, size_t room,
                 size_t *ret_consumed) {
        const unsigned char *u = (const unsigned char *) s, *tab = e->byte;
        size_t i = 0, len, skip;

        while (i < n) {
                /* The fast path: what is written as it is, ASCII and valid
                 * UTF-8 alike, in one copy. */
                size_t run = i;
                while (run + 4 <= n && (tab[u[run]] | tab[u[run + 1]] | tab[u[run + 2]] |
                                        tab[u[run + 3]]) == ESC_COPY)
                        run += 4;
                for (;;) {
                        while (run < n && tab[u[run]] == ESC_COPY)
                                run++;
                        if (run == n || tab[u[run]] != ESC_UTF8 ||
                            (len = utf8_scan(u + run, n - run, &skip)) == 0 ||
                            (!e->copy_utf8_controls && utf8_is_control(u + run, len)))
                                break;
                        run += len;
                }
                if (run - i > room) {
                        /* cut before the character that does not fit: in
                         * the run, a byte that is no continuation byte
                         * starts one */
                        run = i + room;
                        while (run > i && (u[run] & 0xc0) == 0x80)
                                run--;
                        p = mempcpy(p, u + i, run - i);
                        i = run;
                        break;
                }
                p = mempcpy(p, u + i, run - i);
                room -= run - i;
                i = run;
                if (i == n)
                        break;

                /* u[i] is to be escaped (ESC_COPY would be in the run) */
                unsigned char c = u[i], a = tab[c];
                if (a > ESC_UTF8) {
                        if (room < 2)
                                break;
                        *p++ = '\\', *p++ = (char) a;
                        room -= 2;
                        i++;
                } else if (a == ESC_HEX) {
                        if (room < (e->json ? 6u : 4u))
                                break;
                        p = e->json ? put_u(p, c) : put_hex(p, c);
                        room -= e->json ? 6 : 4;
                        i++;
                } else if ((len = utf8_scan(u + i, n - i, &skip)) > 0) {
                        /* a control: any other valid sequence is in the run */
                        if (e->json) {
                                unsigned cp = len == 2 ? (c & 0x1fu) << 6 | (u[i + 1] & 0x3fu)
                                                       : (c & 0x0fu) << 12 |
                                                                 (u[i + 1] & 0x3fu) << 6 |
                                                                 (u[i + 2] & 0x3fu);
                                if (room < 6)
                                        break;
                                p = put_u(p, cp);
                                room -= 6;
                        } else {
                                if (room < 4 * len)
                                        break;
                                for (size_t k = 0; k < len; k++)
                                        p = put_hex(p, u[i + k]);
                                room -= 4 * len;
                        }
                        i += len;
                } else if (e->invalid == ESCAPE_INVALID_HEX) {
                        if (room < 4)
                                break;
                        p = put_hex(p, c);
                        room -= 4;
                        i++;
                } else {
                        if (room < 3)
                                break;
                        p = mempcpy(p, "\xef\xbf\xbd", 3);
                        room -= 3;
                        i += e->invalid == ESCAPE_INVALID_SUBPART ? skip : 1;
                }
        }
        if (ret_consumed)
                *ret_consumed = i;
        return p;
}

/* escape_cut() into a scratch buffer, piece by piece: the length is the
 * escaper's own, not a second copy of its rules. */
size_t escaped_len(const char *s, size_t n, const struct escaper *e) {
        char scratch[256]; /* the longest escape, U+2028 as "\xNN" thrice, fits */
        size_t total = 0;

        while (n > 0) {
                size_t used;
                total += (size_t) (escape_cut(scratch, s, n, e, sizeof(scratch), &used) - scratch);
                s += used;
                n -= used;
        }
        return total;
}

bool value_needs_quotes(const char *s, size_t n) {
        static const bool quote[256] = {
                [0x00 ... ' '] = true, ['"'] = true,           ['='] = true,
                ['\\'] = true,         [0x7f ... 0xff] = true,
        };
        const unsigned char *u = (const unsigned char *) s;
        size_t i = 0;

        if (n == 0)
                return true;
        for (; i + 4 <= n; i += 4)
                if (quote[u[i]] | quote[u[i + 1]] | quote[u[i + 2]] | quote[u[i + 3]])
                        return true;
        for (; i < n; i++)
                if (quote[u[i]])
                        return true;
        return false;
}

char *put_value(char *p, const char *s, size_t n, const struct escaper *quoted) {
        if (!value_needs_quotes(s, n))
                return mempcpy(p, s, n);
        *p++ = '"';
        p = escape(p, s, n, quoted);
        *p++ = '"';
        return p;
}

char *put_message(char *p, const char *s, size_t n, const struct escaper *bare,
                  const struct escaper *quoted) {
        if (n > 0 && s[0] != '"' && !memchr(s, '=', n))
                return escape(p, s, n, bare);
        *p++ = '"';
        p = escape(p, s, n, quoted);
        *p++ = '"';
        return p;
}

/* ---- JSON and base64 ---------------------------------------------------- */

/* RFC 8259 §7: '"', '\\' and the C0 controls escaped, by name where
 * JSON has one; trail also escapes DEL, the C1 controls and U+2028/U+2029
 * (a terminal or a JavaScript reader acts on them) and replaces each
 * maximal invalid UTF-8 subpart with U+FFFD, as Python's and WHATWG's
 * decoders do, so that the output is always valid UTF-8. */
const struct escaper json_escaper = {
        .byte = {ESCAPE_CONTROLS('b', 't', 'n', 'f', 'r'), ['"'] = '"', ['\\'] = '\\'},
        .invalid = ESCAPE_INVALID_SUBPART,
        .json = true,
};

char *base64_encode(char *p, const unsigned char *s, size_t n) {
        static const char b64[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t i = 0;

        for (; i + 3 <= n; i += 3) {
                uint32_t v = (uint32_t) s[i] << 16 | (uint32_t) s[i + 1] << 8 | s[i + 2];
                *p++ = b64[v >> 18], *p++ = b64[(v >> 12) & 63];
                *p++ = b64[(v >> 6) & 63], *p++ = b64[v & 63];
        }
        if (n - i == 1) {
                uint32_t v = (uint32_t) s[i] << 16;
                *p++ = b64[v >> 18], *p++ = b64[(v >> 12) & 63], *p++ = '=', *p++ = '=';
        } else if (n - i == 2) {
                uint32_t v = (uint32_t) s[i] << 16 | (uint32_t) s[i + 1] << 8;
                *p++ = b64[v >> 18], *p++ = b64[(v >> 12) & 63];
                *p++ = b64[(v >> 6) & 63], *p++ = '=';
        }
        return p;
}
