/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A checker of RFC 5424 §6's ABNF, written from the RFC for the tests and
 * the fuzzer: returns NULL when the message parses, else what is wrong. It
 * can also give back SD-PARAM values unescaped. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static inline bool g_printusascii(unsigned char c) {
        return c >= 33 && c <= 126;
}

/* A header field: NILVALUE or 1..max PRINTUSASCII, then SP. */
static inline const char *g_field(const char **p, const char *end, size_t max) {
        const char *s = *p;
        while (*p < end && g_printusascii((unsigned char) **p))
                (*p)++;
        size_t n = (size_t) (*p - s);
        if (n == 0 || n > max)
                return "header field length";
        if (*p >= end || **p != ' ')
                return "header field not followed by SP";
        (*p)++;
        return NULL;
}

static inline bool g_utf8_valid(const unsigned char *s, size_t n) {
        for (size_t i = 0; i < n;) {
                unsigned char c = s[i];
                size_t len;
                unsigned cp;
                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf)
                        len = 2, cp = c & 0x1f;
                else if (c >= 0xe0 && c <= 0xef)
                        len = 3, cp = c & 0x0f;
                else if (c >= 0xf0 && c <= 0xf4)
                        len = 4, cp = c & 0x07;
                else
                        return false;
                if (i + len > n)
                        return false;
                for (size_t k = 1; k < len; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += len;
        }
        return true;
}

/* want_name: when not NULL, the unescaped value of that SD-PARAM is copied
 * to value (size bytes) and *found set. */
static inline const char *rfc5424_check(const char *msg, size_t n, const char *want_name,
                                        char *value, size_t size, bool *found) {
        const char *p = msg, *end = msg + n;
        int pri = 0, digits = 0;

        if (found)
                *found = false;
        if (p >= end || *p++ != '<')
                return "no '<'";
        while (p < end && *p >= '0' && *p <= '9' && digits < 3)
                pri = pri * 10 + (*p++ - '0'), digits++;
        if (digits == 0 || pri > 191 || (digits > 1 && msg[1] == '0'))
                return "PRIVAL";
        if (p + 3 > end || memcmp(p, ">1 ", 3) != 0)
                return "VERSION";
        p += 3;
        /* TIMESTAMP: NILVALUE or FULL-DATE "T" FULL-TIME */
        if (*p == '-') {
                if (++p >= end || *p++ != ' ')
                        return "TIMESTAMP";
        } else {
                static const char shape[] = "dddd-dd-ddTdd:dd:dd";
                for (size_t i = 0; i < sizeof(shape) - 1; i++, p++)
                        if (p >= end ||
                            (shape[i] == 'd' ? !(*p >= '0' && *p <= '9') : *p != shape[i]))
                                return "TIMESTAMP shape";
                if (p < end && *p == '.') {
                        int fd = 0;
                        for (p++; p < end && *p >= '0' && *p <= '9'; p++)
                                fd++;
                        if (fd < 1 || fd > 6)
                                return "TIME-SECFRAC";
                }
                if (p < end && *p == 'Z')
                        p++;
                else {
                        static const char off[] = "+dd:dd";
                        if (p >= end || (*p != '+' && *p != '-'))
                                return "TIME-OFFSET";
                        p++;
                        for (size_t i = 1; i < sizeof(off) - 1; i++, p++)
                                if (p >= end ||
                                    (off[i] == 'd' ? !(*p >= '0' && *p <= '9') : *p != off[i]))
                                        return "TIME-NUMOFFSET";
                }
                if (p >= end || *p++ != ' ')
                        return "SP after TIMESTAMP";
        }
        const char *e;
        if ((e = g_field(&p, end, 255)) || (e = g_field(&p, end, 48)) ||
            (e = g_field(&p, end, 128)) || (e = g_field(&p, end, 32)))
                return e;
        /* STRUCTURED-DATA */
        if (p < end && *p == '-')
                p++;
        else {
                if (p >= end || *p != '[')
                        return "STRUCTURED-DATA";
                while (p < end && *p == '[') {
                        p++;
                        const char *id = p;
                        while (p < end && g_printusascii((unsigned char) *p) && *p != '=' &&
                               *p != ']' && *p != '"')
                                p++;
                        if (p == id || p - id > 32)
                                return "SD-ID";
                        while (p < end && *p == ' ') {
                                p++;
                                const char *name = p;
                                while (p < end && g_printusascii((unsigned char) *p) && *p != '=' &&
                                       *p != ']' && *p != '"')
                                        p++;
                                size_t name_len = (size_t) (p - name);
                                if (name_len == 0 || name_len > 32)
                                        return "PARAM-NAME";
                                if (p + 2 > end || p[0] != '=' || p[1] != '"')
                                        return "PARAM '=\"'";
                                p += 2;
                                bool want = want_name && strlen(want_name) == name_len &&
                                            memcmp(want_name, name, name_len) == 0;
                                size_t vn = 0;
                                const char *vstart = p;
                                while (p < end && *p != '"') {
                                        char c = *p;
                                        if (c == '\\' && p + 1 < end &&
                                            (p[1] == '"' || p[1] == '\\' || p[1] == ']')) {
                                                c = p[1];
                                                p++;
                                        } else if (c == ']')
                                                return "unescaped ']' in PARAM-VALUE";
                                        if (want && vn + 1 < size)
                                                value[vn++] = c;
                                        p++;
                                }
                                if (p >= end)
                                        return "unterminated PARAM-VALUE";
                                if (!g_utf8_valid((const unsigned char *) vstart,
                                                  (size_t) (p - vstart)))
                                        return "PARAM-VALUE not UTF-8";
                                p++;
                                if (want) {
                                        value[vn] = '\0';
                                        *found = true;
                                }
                        }
                        if (p >= end || *p++ != ']')
                                return "SD-ELEMENT not closed";
                }
        }
        if (p == end)
                return NULL;
        if (*p++ != ' ')
                return "SP before MSG";
        if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0 &&
            !g_utf8_valid((const unsigned char *) p + 3, (size_t) (end - p - 3)))
                return "MSG-UTF8 after a BOM is not UTF-8";
        return NULL;
}
