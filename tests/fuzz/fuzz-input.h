/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the fuzz targets share: the input layout (parts split on the byte
 * 0x1e, ASCII "record separator"), a reference UTF-8 decoder written from
 * RFC 3629 and Unicode §3.9 (not the library's), the two documented repairs
 * of invalid UTF-8, and FUZZ_CHECK, which reports and aborts so that
 * libFuzzer keeps the input.
 *
 * Input of the record and formatter targets:
 *     HEAD RS MESSAGE [RS extra…] [RS NAME RS VALUE]…
 * HEAD[0]: level (bits 0-2) and flags (bits 3-7); HEAD[1], HEAD[2]: target
 * options; HEAD[3+i]: the type of field i (bits 0-2: STR INT UINT DOUBLE
 * BOOL BYTES ERRNO, 7 is STR again; bits 3-4 the layer: call, call, context,
 * global). Missing HEAD bytes read as 0. A NAME or a STR value is a C string
 * (it ends at its first NUL); a BYTES value is every byte; a number is its
 * first 8 bytes, little-endian, zero-padded. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trail.h"

#define FUZZ_SEP 0x1e

#define FUZZ_CHECK(cond, ...)                                                                      \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: oracle failed: %s: ", __FILE__, __LINE__, #cond);  \
                        fprintf(stderr, __VA_ARGS__);                                              \
                        fputc('\n', stderr);                                                       \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

struct fuzz_part {
        const uint8_t *p;
        size_t n;
};

struct fuzz_parts {
        struct fuzz_part *v;
        size_t n;
};

static inline void fuzz_split(const uint8_t *data, size_t size, struct fuzz_parts *ret) {
        size_t n = 1;

        for (size_t i = 0; i < size; i++)
                n += data[i] == FUZZ_SEP;
        ret->v = malloc(n * sizeof(*ret->v));
        if (!ret->v)
                abort();
        ret->n = 0;
        size_t start = 0;
        for (size_t i = 0; i <= size; i++)
                if (i == size || data[i] == FUZZ_SEP) {
                        ret->v[ret->n++] = (struct fuzz_part){data + start, i - start};
                        start = i + 1;
                }
}

static inline uint8_t fuzz_byte(struct fuzz_part p, size_t i) {
        return i < p.n ? p.p[i] : 0;
}

/* The part as a C string (malloc'd): what a caller passing it as a char *
 * would pass, so cut at the first NUL. */
static inline char *fuzz_cstr(struct fuzz_part p) {
        const uint8_t *nul = memchr(p.p, 0, p.n);
        size_t n = nul ? (size_t) (nul - p.p) : p.n;
        char *s = malloc(n + 1);

        if (!s)
                abort();
        memcpy(s, p.p, n);
        s[n] = '\0';
        return s;
}

static inline uint64_t fuzz_u64(struct fuzz_part p) {
        uint64_t v = 0;

        for (size_t i = 0; i < 8 && i < p.n; i++)
                v |= (uint64_t) p.p[i] << (8 * i);
        return v;
}

/* ---- UTF-8, from RFC 3629 §4 and Unicode Table 3-7 --------------------- */

/* The length of the well-formed sequence at s, or 0; *ret_sub is then the
 * length of its maximal subpart (at least 1). */
static inline size_t ref_utf8(const uint8_t *s, size_t n, size_t *ret_sub) {
        static const struct {
                uint8_t lead_lo, lead_hi, len, lo, hi; /* lo..hi: the second byte */
        } t[] = {
                {0xc2, 0xdf, 2, 0x80, 0xbf}, {0xe0, 0xe0, 3, 0xa0, 0xbf},
                {0xe1, 0xec, 3, 0x80, 0xbf}, {0xed, 0xed, 3, 0x80, 0x9f},
                {0xee, 0xef, 3, 0x80, 0xbf}, {0xf0, 0xf0, 4, 0x90, 0xbf},
                {0xf1, 0xf3, 4, 0x80, 0xbf}, {0xf4, 0xf4, 4, 0x80, 0x8f},
        };

        *ret_sub = 1;
        if (s[0] < 0x80)
                return 1;
        for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
                if (s[0] < t[k].lead_lo || s[0] > t[k].lead_hi)
                        continue;
                for (size_t i = 1; i < t[k].len; i++) {
                        uint8_t lo = i == 1 ? t[k].lo : 0x80, hi = i == 1 ? t[k].hi : 0xbf;
                        if (i >= n || s[i] < lo || s[i] > hi) {
                                *ret_sub = i;
                                return 0;
                        }
                }
                *ret_sub = t[k].len;
                return t[k].len;
        }
        return 0;
}

static inline bool ref_utf8_valid(const uint8_t *s, size_t n) {
        for (size_t i = 0, sub; i < n;) {
                size_t len = ref_utf8(s + i, n - i, &sub);
                if (len == 0)
                        return false;
                i += len;
        }
        return true;
}

struct fuzz_buf {
        uint8_t *p;
        size_t n, cap;
};

static inline void fuzz_buf_put(struct fuzz_buf *b, const void *s, size_t n) {
        if (b->n + n + 1 > b->cap) {
                b->cap = 2 * (b->n + n + 1);
                b->p = realloc(b->p, b->cap);
                if (!b->p)
                        abort();
        }
        if (n)
                memcpy(b->p + b->n, s, n);
        b->n += n;
        b->p[b->n] = '\0';
}

/* Invalid UTF-8 replaced by U+FFFD: one per maximal subpart (json, logfmt:
 * Python's "replace"), or one per byte that does not start a well-formed
 * sequence (rfc5424). */
static inline struct fuzz_buf repair(const void *v, size_t n, bool per_subpart) {
        const uint8_t *s = v;
        struct fuzz_buf b = {};

        fuzz_buf_put(&b, "", 0);
        for (size_t i = 0, sub; i < n;) {
                size_t len = ref_utf8(s + i, n - i, &sub);
                if (len)
                        fuzz_buf_put(&b, s + i, len), i += len;
                else
                        fuzz_buf_put(&b, "\xef\xbf\xbd", 3), i += per_subpart ? sub : 1;
        }
        return b;
}

static inline struct fuzz_buf repair_subparts(const void *v, size_t n) {
        return repair(v, n, true);
}

static inline struct fuzz_buf repair_bytes(const void *v, size_t n) {
        return repair(v, n, false);
}

/* No byte a terminal or a line-oriented reader acts on: C0 controls, DEL,
 * C1 controls (U+0080..U+009F) and U+2028/U+2029. Returns the offending
 * offset, or -1. s must be valid UTF-8. */
static inline long find_line_breaker(const uint8_t *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (s[i] < 0x20 || s[i] == 0x7f)
                        return (long) i;
                if (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
                        return (long) i;
                if (s[i] == 0xe2 && i + 2 < n && s[i + 1] == 0x80 &&
                    (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
                        return (long) i;
        }
        return -1;
}

/* RFC 4648 §4 with padding; false when not canonical base64. */
static inline bool ref_base64_decode(const char *s, size_t n, struct fuzz_buf *out) {
        static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

        fuzz_buf_put(out, "", 0);
        if (n % 4)
                return false;
        for (size_t i = 0; i < n; i += 4) {
                uint32_t v = 0;
                int pad = 0;
                for (int k = 0; k < 4; k++) {
                        const char *c = s[i + k] ? strchr(a, s[i + k]) : NULL;
                        if (s[i + k] == '=' && i + 4 == n && k >= 2) {
                                pad++;
                                v <<= 6;
                                continue;
                        }
                        if (!c || pad)
                                return false;
                        v = v << 6 | (uint32_t) (c - a);
                }
                uint8_t b[3] = {(uint8_t) (v >> 16), (uint8_t) (v >> 8), (uint8_t) v};
                fuzz_buf_put(out, b, (size_t) (3 - pad));
        }
        return true;
}

/* "2026-11-25T20:31:00.123456" then "Z" or "+hh:mm"; returns its length or 0. */
static inline size_t time_shape(const char *s, size_t n) {
        static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddddd";
        size_t i;

        for (i = 0; i < sizeof(shape) - 1; i++)
                if (i >= n || (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i]))
                        return 0;
        if (i < n && s[i] == 'Z')
                return i + 1;
        if (i + 6 <= n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':')
                return i + 6;
        return 0;
}

static const char *const fuzz_level_lower[] = {
        "emergency", "alert", "critical", "error", "warning", "notice", "info", "debug",
};

/* The record's fields through the public view. */
static inline trail_field_view record_field_at(const trail_record *r, size_t i) {
        trail_field_view v;

        FUZZ_CHECK(trail_record_field(r, i, &v) == 0, "field %zu", i);
        return v;
}

/* A number field's value as trail documents it in text: decimal integers,
 * "true"/"false". Doubles are compared by value by the callers. */
static inline size_t render_number(const trail_field_view *v, char *out, size_t size) {
        switch (v->type) {
        case TRAIL_FIELD_INT:
        case TRAIL_FIELD_ERRNO:
                return (size_t) snprintf(out, size, "%lld", (long long) v->value.i);
        case TRAIL_FIELD_UINT:
                return (size_t) snprintf(out, size, "%llu", (unsigned long long) v->value.u);
        case TRAIL_FIELD_BOOL:
                return (size_t) snprintf(out, size, "%s", v->value.b ? "true" : "false");
        }
        return 0;
}

/* A double as trail renders it: "nan", "inf", "-inf", or text that strtod
 * reads back as the same value (and sign). */
static inline bool double_text_matches(const char *s, size_t n, double d) {
        char tmp[64];
        char *end;

        if (n == 0 || n >= sizeof(tmp))
                return false;
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        if (d != d)
                return strcmp(tmp, "nan") == 0;
        if (d == __builtin_inf())
                return strcmp(tmp, "inf") == 0;
        if (d == -__builtin_inf())
                return strcmp(tmp, "-inf") == 0;
        double got = strtod(tmp, &end);
        return *end == '\0' && got == d && __builtin_signbit(got) == __builtin_signbit(d);
}

/* ---- Field names, as trail_fields(3) documents them ---------------------- */

#define REF_NAME_MAX 64

static inline bool ref_name_reserved(const char *s, size_t n) {
        static const char *const reserved[] = {
                "MESSAGE",    "PRIORITY",         "SYSLOG_IDENTIFIER", "SYSLOG_FACILITY",
                "LOGGER",     "CODE_FILE",        "CODE_LINE",         "CODE_FUNC",
                "TID",        "TRUNCATED_FIELDS", "COREDUMP_UNIT",     "COREDUMP_USER_UNIT",
                "TRAIL_HELD",
        };
        if (n >= 7 && memcmp(s, "OBJECT_", 7) == 0) /* journald's, trusted from root */
                return true;
        for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
                if (strlen(reserved[i]) == n && memcmp(reserved[i], s, n) == 0)
                        return true;
        return false;
}

/* Lower case letters upper-cased, every other byte outside A-Z 0-9 '_'
 * turned into '_', leading '_' removed, "F_" before a leading digit or a
 * name of trail's own, cut to 64. Returns the length (0: dropped); out has
 * room for REF_NAME_MAX + 1 bytes and is NUL-terminated. */
static inline size_t ref_normalise(const char *name, char *out) {
        char tmp[4096 + 3];
        size_t n = 0;

        for (const char *p = name; *p && n < sizeof(tmp) - 3; p++) {
                char c = *p;
                if (c >= 'a' && c <= 'z')
                        c = (char) (c - 'a' + 'A');
                else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
                        c = '_';
                if (n == 0 && c == '_')
                        continue;
                if (n == 0 && c >= '0' && c <= '9')
                        tmp[n++] = 'F', tmp[n++] = '_';
                tmp[n++] = c;
        }
        if (n > REF_NAME_MAX)
                n = REF_NAME_MAX;
        if (n > 0 && ref_name_reserved(tmp, n)) {
                memmove(tmp + 2, tmp, n);
                tmp[0] = 'F', tmp[1] = '_';
                n += 2;
                if (n > REF_NAME_MAX) /* OBJECT_…, up to 64 long before */
                        n = REF_NAME_MAX;
        }
        memcpy(out, tmp, n);
        out[n] = '\0';
        return n;
}

/* ---- Building the fields of a record from the input --------------------- */

enum { LAYER_CALL, LAYER_CONTEXT, LAYER_GLOBAL };

struct fuzz_field {
        trail_field f;
        int layer;
        char *name; /* malloc'd C string */
        char *str;  /* STR: malloc'd C string */
        bool invalid_type;
};

static const int fuzz_types[8] = {
        TRAIL_FIELD_STR,  TRAIL_FIELD_INT,   TRAIL_FIELD_UINT,  TRAIL_FIELD_DOUBLE,
        TRAIL_FIELD_BOOL, TRAIL_FIELD_BYTES, TRAIL_FIELD_ERRNO, 99, /* not a type */
};

/* Fields from the NAME, VALUE pairs at parts[first…]; type codes from
 * HEAD[3…]. With plain, every field is a call field of a valid type. */
static inline size_t fuzz_fields(const struct fuzz_parts *parts, size_t first, bool plain,
                                 struct fuzz_field **ret) {
        struct fuzz_part head = parts->v[0];
        size_t n = first < parts->n ? (parts->n - first) / 2 : 0;
        struct fuzz_field *v = calloc(n ? n : 1, sizeof(*v));

        if (!v)
                abort();
        for (size_t i = 0; i < n; i++) {
                struct fuzz_part name = parts->v[first + 2 * i],
                                 value = parts->v[first + 2 * i + 1];
                uint8_t code = fuzz_byte(head, 3 + i);
                int type = fuzz_types[code & 7];

                if (plain && type == 99)
                        type = TRAIL_FIELD_STR;
                v[i].layer = plain                  ? LAYER_CALL
                             : (code >> 3 & 3) == 2 ? LAYER_CONTEXT
                             : (code >> 3 & 3) == 3 ? LAYER_GLOBAL
                                                    : LAYER_CALL;
                v[i].invalid_type = type == 99;
                v[i].name = fuzz_cstr(name);
                v[i].f.name = v[i].name;
                v[i].f.type = type;
                switch (type) {
                case TRAIL_FIELD_STR:
                case 99:
                        v[i].str = fuzz_cstr(value);
                        v[i].f.value.s = v[i].str;
                        break;
                case TRAIL_FIELD_BYTES:
                        v[i].f.value.p = value.p;
                        v[i].f.len = value.n;
                        break;
                case TRAIL_FIELD_DOUBLE: {
                        uint64_t bits = fuzz_u64(value);
                        memcpy(&v[i].f.value.d, &bits, sizeof(double));
                        break;
                }
                case TRAIL_FIELD_BOOL:
                        v[i].f.value.b = fuzz_byte(value, 0) & 1;
                        break;
                default:
                        v[i].f.value.u = fuzz_u64(value);
                }
        }
        *ret = v;
        return n;
}

static inline void fuzz_fields_free(struct fuzz_field *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(v[i].name);
                free(v[i].str);
        }
        free(v);
}

/* The message: its bytes, NULs included, up to a fourth NUL (logged with
 * "%s%c%s…", as a caller with NULs in its text would). */
struct fuzz_message {
        char *seg[4];
        size_t n_seg;
        struct fuzz_buf expect;
};

static inline void fuzz_message(struct fuzz_part p, struct fuzz_message *m) {
        size_t start = 0;

        memset(m, 0, sizeof(*m));
        fuzz_buf_put(&m->expect, "", 0);
        for (size_t i = 0; i <= p.n && m->n_seg < 4; i++)
                if (i == p.n || p.p[i] == 0) {
                        struct fuzz_part s = {p.p + start, i - start};
                        m->seg[m->n_seg++] = fuzz_cstr(s);
                        if (m->n_seg > 1)
                                fuzz_buf_put(&m->expect, "", 1);
                        fuzz_buf_put(&m->expect, s.p, s.n);
                        start = i + 1;
                }
}

static inline void fuzz_message_free(struct fuzz_message *m) {
        for (size_t i = 0; i < m->n_seg; i++)
                free(m->seg[i]);
        free(m->expect.p);
}

/* Logs the message with fields at level; returns what trail__log did. */
#define FUZZ_LOG(lg, level, fields, m)                                                             \
        ((m)->n_seg == 1 ? trail_log_with(lg, level, fields, "%s", (m)->seg[0])                    \
         : (m)->n_seg == 2                                                                         \
                 ? trail_log_with(lg, level, fields, "%s%c%s", (m)->seg[0], 0, (m)->seg[1])        \
         : (m)->n_seg == 3 ? trail_log_with(lg, level, fields, "%s%c%s%c%s", (m)->seg[0], 0,       \
                                            (m)->seg[1], 0, (m)->seg[2])                           \
                           : trail_log_with(lg, level, fields, "%s%c%s%c%s%c%s", (m)->seg[0], 0,   \
                                            (m)->seg[1], 0, (m)->seg[2], 0, (m)->seg[3]))
