/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small readers for what the hostile tests get back: KEY=value lists (the
 * tail of text, logfmt and RFC 3164 lines), RFC 5424 structured data, and
 * base64. Each is strict: what it cannot read is a failure of the test. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct kv {
        const char *key;
        size_t key_len;
        const char *val; /* as written: quoted values keep their escapes */
        size_t len;
        bool quoted;
};

/* The quoted string at s (s[0] == '"'): returns the offset just after the
 * closing quote, or 0 when it does not close. Inside, '\' escapes the next
 * byte. */
static inline size_t quoted_end(const char *s, size_t n) {
        for (size_t i = 1; i < n; i++) {
                if (s[i] == '\\') {
                        i++;
                        continue;
                }
                if (s[i] == '"')
                        return i + 1;
        }
        return 0;
}

/* "K=v K2="q u o t e d" …": returns the number of pairs (at most max), or
 * -1 when the text is not such a list. */
static inline int kv_parse(const char *s, size_t n, struct kv *out, int max) {
        size_t i = 0;
        int k = 0;

        while (i < n) {
                size_t start = i;
                while (i < n && s[i] != '=' && s[i] != ' ' && s[i] != '"')
                        i++;
                if (i == start || i >= n || s[i] != '=' || k >= max)
                        return -1;
                out[k].key = s + start;
                out[k].key_len = i - start;
                i++;
                if (i < n && s[i] == '"') {
                        size_t e = quoted_end(s + i, n - i);
                        if (e == 0)
                                return -1;
                        out[k].val = s + i + 1;
                        out[k].len = e - 2;
                        out[k].quoted = true;
                        i += e;
                } else {
                        size_t vs = i;
                        while (i < n && s[i] != ' ') {
                                if (s[i] == '"' || s[i] == '=')
                                        return -1; /* a bare value holds neither */
                                i++;
                        }
                        out[k].val = s + vs;
                        out[k].len = i - vs;
                        out[k].quoted = false;
                }
                k++;
                if (i < n) {
                        if (s[i] != ' ')
                                return -1;
                        i++;
                }
        }
        return k;
}

static inline int kv_count(const struct kv *kv, int n, const char *key) {
        int c = 0;
        for (int i = 0; i < n; i++)
                c += kv[i].key_len == strlen(key) && memcmp(kv[i].key, key, kv[i].key_len) == 0;
        return c;
}

static inline const struct kv *kv_get(const struct kv *kv, int n, const char *key) {
        for (int i = 0; i < n; i++)
                if (kv[i].key_len == strlen(key) && memcmp(kv[i].key, key, kv[i].key_len) == 0)
                        return &kv[i];
        return NULL;
}

static inline bool kv_is(const struct kv *kv, int n, const char *key, const char *value) {
        const struct kv *e = kv_get(kv, n, key);
        return e && e->len == strlen(value) && memcmp(e->val, value, e->len) == 0;
}

/* The tail of a line whose message may be quoted (starts with '"') or bare
 * (then it holds no '='): returns the offset where the KEY=value list
 * starts (n when there is none), or -1. */
static inline long after_message(const char *s, size_t n) {
        if (n > 0 && s[0] == '"') {
                size_t e = quoted_end(s, n);
                if (e == 0)
                        return -1;
                if (e == n)
                        return (long) n;
                return s[e] == ' ' ? (long) e + 1 : -1;
        }
        const char *eq = memchr(s, '=', n);
        if (!eq)
                return (long) n;
        const char *sp = eq;
        while (sp > s && sp[-1] != ' ')
                sp--;
        return (long) (sp - s);
}

/* RFC 5424 STRUCTURED-DATA at s: each SD-ELEMENT's id and params. Returns
 * the offset just after it, or 0 when it is not valid SD. */
struct sd_param {
        const char *elem; /* the SD-ID */
        size_t elem_len;
        const char *name;
        size_t name_len;
        const char *val; /* escaped as written */
        size_t len;
};

static inline size_t sd_parse(const char *s, size_t n, struct sd_param *out, int max, int *ret_n,
                              int *ret_elements) {
        size_t i = 0;
        int k = 0, elements = 0;

        if (n > 0 && s[0] == '-') {
                *ret_n = 0;
                *ret_elements = 0;
                return 1;
        }
        while (i < n && s[i] == '[') {
                size_t id = ++i;
                while (i < n && s[i] != ' ' && s[i] != ']' && s[i] != '=' && s[i] != '"')
                        i++;
                if (i == id || i >= n)
                        return 0;
                size_t id_len = i - id;
                elements++;
                while (i < n && s[i] == ' ') {
                        size_t nm = ++i;
                        while (i < n && s[i] != '=' && s[i] != ' ' && s[i] != ']' && s[i] != '"')
                                i++;
                        if (i == nm || i + 1 >= n || s[i] != '=' || s[i + 1] != '"' || k >= max)
                                return 0;
                        out[k] = (struct sd_param){s + id, id_len, s + nm, i - nm, s + i + 2, 0};
                        i += 2;
                        /* RFC 5424 §6.3.3: '"', '\' and ']' are escaped */
                        while (i < n && s[i] != '"') {
                                if (s[i] == ']')
                                        return 0;
                                i += s[i] == '\\' ? 2 : 1;
                        }
                        if (i >= n)
                                return 0;
                        out[k].len = (size_t) (s + i - out[k].val);
                        k++;
                        i++;
                }
                if (i >= n || s[i] != ']')
                        return 0;
                i++;
        }
        *ret_n = k;
        *ret_elements = elements;
        return elements > 0 ? i : 0;
}

/* RFC 4648 §4 decoding into out (room for 3 * n / 4 bytes); -1 when s is
 * not base64. */
static inline long base64_decode(const char *s, size_t n, unsigned char *out) {
        static const char b64[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t o = 0;
        unsigned acc = 0;
        int bits = 0;

        if (n % 4 != 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '=') {
                        if (i < n - 2 || (i == n - 2 && s[n - 1] != '='))
                                return -1;
                        break;
                }
                const char *p = memchr(b64, s[i], 64);
                if (!p || s[i] == '\0')
                        return -1;
                acc = acc << 6 | (unsigned) (p - b64);
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (unsigned char) (acc >> bits);
                        acc &= (1u << bits) - 1;
                }
        }
        return (long) o;
}
