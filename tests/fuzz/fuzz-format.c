/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: one formatter (FUZZ_FORMAT, set by meson) rendering records
 * built from the input (see fuzz-input.h), each output read back:
 *   all      snprintf() semantics: the length, then the same bytes in a
 *            buffer of that size, cut and NUL-terminated in a smaller one;
 *   json     json-c (strict, UTF-8 validated) parses it; one key per
 *            built-in and field; every value equals the record's (strings
 *            after the U+FFFD repair of maximal subparts, BYTES as base64);
 *   logfmt   a go-logfmt reader gets the same pairs and values back;
 *   text     the default line read back by the rules of
 *            trail_formatter_new(3) gives the exact bytes of the message and
 *            of every value;
 *   rfc5424  tests/rfc5424-grammar.h accepts it; PRI, APP-NAME, PROCID,
 *            MSGID and every SD-PARAM value come back (after the U+FFFD
 *            repair of bad bytes); with max_length, it fits, the fields
 *            shown are the record's in order and TRUNCATED_FIELDS counts
 *            the others;
 *   rfc3164  one line of printable UTF-8, PRI and TAG right.
 * The text, json, logfmt and rfc3164 outputs never hold a control
 * character, DEL, a C1 control, U+2028/U+2029 or invalid UTF-8. */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sd-name.h"
#include "fuzz-input.h"
#include "rfc5424-grammar.h"

#ifndef FUZZ_FORMAT
#error "FUZZ_FORMAT must name the formatter"
#endif
#define IS(name) (strcmp(FUZZ_FORMAT, name) == 0)

/* HEAD[0] flags (bits 3-7) */
#define FLAG_IDENT     0x08 /* parts[2] is the ident (trail_set_ident) */
#define FLAG_PATTERN   0x10 /* text: the next part is a pattern */
#define FLAG_MAXLEN    0x20 /* rfc5424: max_length = 480 + 16 * HEAD[2] */
#define FLAG_FACILITY  0x40 /* rfc5424, rfc3164: facility = HEAD[1] % 24 */
#define FLAG_LOCALTIME 0x80 /* time=local (utc=false for rfc5424) */

static trail_logger *lg;
static const char *const logger_name = "fuzz.format";

struct run {
        trail_formatter *f;
        const char *ident; /* what APP-NAME, TAG and "ident" must be */
        int facility;
        size_t max_length; /* rfc5424 */
        bool custom_pattern;
        bool checked;
};

/* ---- json -------------------------------------------------------------- */

static json_object *json_get(json_object *o, const char *key, json_type type) {
        json_object *v;

        FUZZ_CHECK(json_object_object_get_ex(o, key, &v), "no key \"%s\"", key);
        FUZZ_CHECK(json_object_is_type(v, type), "\"%s\" has type %d", key,
                   json_object_get_type(v));
        return v;
}

static void json_string_is(json_object *v, const char *what, const void *want, size_t n) {
        struct fuzz_buf b = repair_subparts(want, n);
        const char *s = json_object_get_string(v);
        size_t len = (size_t) json_object_get_string_len(v);

        FUZZ_CHECK(len == b.n && memcmp(s, b.p, len) == 0, "%s: \"%.*s\", want \"%s\"", what,
                   (int) len, s, (const char *) b.p);
        free(b.p);
}

static void check_json(const struct run *run, const trail_record *r, const char *out, size_t n) {
        json_tokener *tok = json_tokener_new();
        json_object *o;
        const char *file, *func;
        int line;

        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        o = json_tokener_parse_ex(tok, out, (int) n);
        FUZZ_CHECK(o && json_tokener_get_error(tok) == json_tokener_success &&
                           json_tokener_get_parse_end(tok) == n,
                   "not one JSON value: %s: %s",
                   json_tokener_error_desc(json_tokener_get_error(tok)), out);
        json_tokener_free(tok);
        FUZZ_CHECK(json_object_is_type(o, json_type_object), "not an object");

        size_t nf = trail_record_n_fields(r);
        FUZZ_CHECK((size_t) json_object_object_length(o) == 11 + nf, "%d keys for %zu fields",
                   json_object_object_length(o), nf);
        const char *t = json_object_get_string(json_get(o, "time", json_type_string));
        FUZZ_CHECK(time_shape(t, strlen(t)) == strlen(t), "time \"%s\"", t);
        int level = trail_record_level(r);
        FUZZ_CHECK(strcmp(json_object_get_string(json_get(o, "level", json_type_string)),
                          fuzz_level_lower[level]) == 0,
                   "level");
        FUZZ_CHECK(json_object_get_int64(json_get(o, "priority", json_type_int)) == level,
                   "priority");
        json_string_is(json_get(o, "logger", json_type_string), "logger", logger_name,
                       strlen(logger_name));
        size_t mlen;
        const char *m = trail_record_message(r, &mlen);
        json_string_is(json_get(o, "message", json_type_string), "message", m, mlen);
        json_string_is(json_get(o, "ident", json_type_string), "ident", run->ident,
                       strlen(run->ident));
        trail_record_source(r, &file, &line, &func);
        json_string_is(json_get(o, "file", json_type_string), "file", file, strlen(file));
        json_string_is(json_get(o, "func", json_type_string), "func", func, strlen(func));
        FUZZ_CHECK(json_object_get_int64(json_get(o, "line", json_type_int)) == line, "line");
        FUZZ_CHECK(json_object_get_int64(json_get(o, "pid", json_type_int)) == getpid(), "pid");
        FUZZ_CHECK(json_object_get_int64(json_get(o, "tid", json_type_int)) == trail_record_tid(r),
                   "tid");

        /* the fields follow the built-in keys, in the record's order */
        size_t k = 0;
        json_object_object_foreach(o, key, val) {
                if (k++ < 11)
                        continue;
                trail_field_view v = record_field_at(r, k - 12);
                char name[128];
                snprintf(name, sizeof(name), "%.*s", (int) v.name_len, v.name);
                FUZZ_CHECK(strcmp(key, name) == 0, "key %zu is \"%s\", want \"%s\"", k - 1, key,
                           name);
                switch (v.type) {
                case TRAIL_FIELD_STR:
                        FUZZ_CHECK(json_object_is_type(val, json_type_string), "%s type", name);
                        json_string_is(val, name, v.value.s, v.len);
                        break;
                case TRAIL_FIELD_BYTES: {
                        struct fuzz_buf b = {};
                        FUZZ_CHECK(json_object_is_type(val, json_type_string) &&
                                           ref_base64_decode(
                                                   json_object_get_string(val),
                                                   (size_t) json_object_get_string_len(val), &b) &&
                                           b.n == v.len && memcmp(b.p, v.value.p, v.len) == 0,
                                   "%s: bytes", name);
                        free(b.p);
                        break;
                }
                case TRAIL_FIELD_DOUBLE: {
                        double d = v.value.d;
                        if (d != d || d == __builtin_inf() || d == -__builtin_inf()) {
                                FUZZ_CHECK(json_object_is_type(val, json_type_string) &&
                                                   double_text_matches(
                                                           json_object_get_string(val),
                                                           (size_t) json_object_get_string_len(val),
                                                           d),
                                           "%s: non-finite double", name);
                        } else {
                                FUZZ_CHECK(json_object_is_type(val, json_type_double),
                                           "%s: not a double", name);
                                double got = json_object_get_double(val);
                                FUZZ_CHECK(got == d &&
                                                   __builtin_signbit(got) == __builtin_signbit(d),
                                           "%s: %.17g, want %.17g", name, got, d);
                        }
                        break;
                }
                case TRAIL_FIELD_BOOL:
                        FUZZ_CHECK(json_object_is_type(val, json_type_boolean) &&
                                           json_object_get_boolean(val) == v.value.b,
                                   "%s: bool", name);
                        break;
                case TRAIL_FIELD_UINT:
                        FUZZ_CHECK(json_object_is_type(val, json_type_int) &&
                                           json_object_get_uint64(val) == v.value.u,
                                   "%s: uint", name);
                        break;
                default:
                        FUZZ_CHECK(json_object_is_type(val, json_type_int) &&
                                           json_object_get_int64(val) == v.value.i,
                                   "%s: int", name);
                }
        }
        json_object_put(o);
}

/* ---- logfmt ------------------------------------------------------------ */

struct pair {
        const char *key;
        size_t key_len;
        struct fuzz_buf value; /* unquoted */
        bool quoted;
};

/* go-logfmt's pairs: KEY=VALUE separated by one space; VALUE bare or a JSON
 * string. Returns how many, or aborts on a line that does not parse. */
static size_t logfmt_parse(const char *s, size_t n, struct pair *pairs, size_t max) {
        size_t i = 0, k = 0;

        while (i < n) {
                FUZZ_CHECK(k < max, "too many pairs");
                if (k > 0)
                        FUZZ_CHECK(s[i++] == ' ', "no space before pair at %zu", i - 1);
                struct pair *p = &pairs[k++];
                p->key = s + i;
                while (i < n && s[i] != ' ' && s[i] != '=' && s[i] != '"')
                        i++;
                p->key_len = (size_t) (s + i - p->key);
                FUZZ_CHECK(p->key_len > 0 && i < n && s[i] == '=', "bad key at %zu", i);
                i++;
                memset(&p->value, 0, sizeof(p->value));
                fuzz_buf_put(&p->value, "", 0);
                if (i < n && s[i] == '"') {
                        size_t j = i + 1;
                        while (j < n && s[j] != '"')
                                j += s[j] == '\\' ? 2 : 1;
                        FUZZ_CHECK(j < n, "unterminated quote at %zu", i);
                        json_tokener *tok = json_tokener_new();
                        json_tokener_set_flags(tok,
                                               JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
                        json_object *o = json_tokener_parse_ex(tok, s + i, (int) (j + 1 - i));
                        FUZZ_CHECK(o && json_object_is_type(o, json_type_string) &&
                                           json_tokener_get_parse_end(tok) == j + 1 - i,
                                   "quoted value at %zu is no JSON string", i);
                        fuzz_buf_put(&p->value, json_object_get_string(o),
                                     (size_t) json_object_get_string_len(o));
                        json_object_put(o);
                        json_tokener_free(tok);
                        p->quoted = true;
                        i = j + 1;
                } else {
                        size_t j = i;
                        while (j < n && s[j] != ' ')
                                j++;
                        FUZZ_CHECK(j > i, "empty bare value at %zu", i);
                        for (size_t q = i; q < j; q++)
                                FUZZ_CHECK(s[q] != '=' && s[q] != '"' && s[q] != '\\' &&
                                                   (unsigned char) s[q] > 0x20 &&
                                                   (unsigned char) s[q] < 0x7f,
                                           "bare value at %zu should be quoted", i);
                        fuzz_buf_put(&p->value, s + i, j - i);
                        p->quoted = false;
                        i = j;
                }
        }
        return k;
}

static bool key_is(const struct pair *p, const char *key, size_t len) {
        return p->key_len == len && memcmp(p->key, key, len) == 0;
}

static void value_is_text(const struct fuzz_buf *got, const void *want, size_t n,
                          const char *what) {
        FUZZ_CHECK(got->n == n && memcmp(got->p, want, n) == 0, "%s: \"%s\"", what,
                   (const char *) got->p);
}

static void check_logfmt(const trail_record *r, const char *out, size_t n) {
        size_t nf = trail_record_n_fields(r), mlen, k;
        struct pair *pairs = calloc(nf + 5, sizeof(*pairs));
        const char *m = trail_record_message(r, &mlen);
        struct fuzz_buf b;

        if (!pairs)
                abort();
        k = logfmt_parse(out, n, pairs, nf + 4);
        FUZZ_CHECK(k == 4 + nf, "%zu pairs for %zu fields", k, nf);
        FUZZ_CHECK(key_is(&pairs[0], "time", 4) && key_is(&pairs[1], "level", 5) &&
                           key_is(&pairs[2], "logger", 6) && key_is(&pairs[3], "msg", 3),
                   "built-in keys");
        FUZZ_CHECK(time_shape((const char *) pairs[0].value.p, pairs[0].value.n) ==
                           pairs[0].value.n,
                   "time");
        const char *level = fuzz_level_lower[trail_record_level(r)];
        value_is_text(&pairs[1].value, level, strlen(level), "level");
        value_is_text(&pairs[2].value, logger_name, strlen(logger_name), "logger");
        b = repair_subparts(m, mlen);
        value_is_text(&pairs[3].value, b.p, b.n, "msg");
        free(b.p);
        for (size_t i = 0; i < nf; i++) {
                trail_field_view v = record_field_at(r, i);
                const struct pair *p = &pairs[4 + i];
                char name[128], num[64];
                snprintf(name, sizeof(name), "%.*s", (int) v.name_len, v.name);
                FUZZ_CHECK(key_is(p, v.name, v.name_len), "key %zu is not %s", 4 + i, name);
                switch (v.type) {
                case TRAIL_FIELD_STR:
                        b = repair_subparts(v.value.s, v.len);
                        value_is_text(&p->value, b.p, b.n, name);
                        free(b.p);
                        break;
                case TRAIL_FIELD_BYTES:
                        b = (struct fuzz_buf){};
                        FUZZ_CHECK(ref_base64_decode((const char *) p->value.p, p->value.n, &b) &&
                                           b.n == v.len && memcmp(b.p, v.value.p, v.len) == 0,
                                   "%s: bytes", name);
                        free(b.p);
                        break;
                case TRAIL_FIELD_DOUBLE:
                        FUZZ_CHECK(!p->quoted && double_text_matches((const char *) p->value.p,
                                                                     p->value.n, v.value.d),
                                   "%s: double \"%s\"", name, (const char *) p->value.p);
                        break;
                default:
                        FUZZ_CHECK(!p->quoted, "%s: quoted number", name);
                        value_is_text(&p->value, num, render_number(&v, num, sizeof(num)), name);
                }
        }
        for (size_t i = 0; i < k; i++)
                free(pairs[i].value.p);
        free(pairs);
}

/* ---- text -------------------------------------------------------------- */

/* Undoes the text escapes from s up to (not including) the closing quote
 * when quoted, else up to end; returns where it stopped. */
static const char *text_unescape(const char *s, const char *end, bool quoted, struct fuzz_buf *b) {
        static const char hexd[] = "0123456789abcdef";

        b->n = 0;
        fuzz_buf_put(b, "", 0);
        while (s < end) {
                if (quoted && *s == '"')
                        return s;
                if (*s != '\\') {
                        fuzz_buf_put(b, s++, 1);
                        continue;
                }
                FUZZ_CHECK(s + 1 < end, "lone backslash");
                char c = s[1], x;
                s += 2;
                switch (c) {
                case '\\':
                case '"':
                        x = c;
                        break;
                case 'n':
                        x = '\n';
                        break;
                case 'r':
                        x = '\r';
                        break;
                case 't':
                        x = '\t';
                        break;
                case 'x': {
                        FUZZ_CHECK(s + 2 <= end && strchr(hexd, s[0]) && strchr(hexd, s[1]) &&
                                           s[0] && s[1],
                                   "bad \\x escape");
                        x = (char) ((strchr(hexd, s[0]) - hexd) << 4 | (strchr(hexd, s[1]) - hexd));
                        s += 2;
                        break;
                }
                default:
                        FUZZ_CHECK(false, "unknown escape \\%c", c);
                }
                fuzz_buf_put(b, &x, 1);
        }
        FUZZ_CHECK(!quoted, "unterminated quote");
        return s;
}

/* A KEY=value value as the text format writes it; returns its end. */
static const char *text_value(const char *s, const char *end, struct fuzz_buf *b, bool *quoted) {
        if (s < end && *s == '"') {
                *quoted = true;
                s = text_unescape(s + 1, end, true, b);
                return s + 1;
        }
        size_t left = s < end ? (size_t) (end - s) : 0;
        const char *e = left ? memchr(s, ' ', left) : NULL;
        e = e ? e : end;
        *quoted = false;
        FUZZ_CHECK(e > s, "empty bare value");
        for (const char *q = s; q < e; q++)
                FUZZ_CHECK(*q != '"' && *q != '=' && *q != '\\' && (unsigned char) *q > ' ' &&
                                   (unsigned char) *q < 0x7f,
                           "bare value holds %#x", (unsigned char) *q);
        b->n = 0;
        fuzz_buf_put(b, s, (size_t) (e - s));
        return e;
}

static void check_text(const trail_record *r, const char *out, size_t n) {
        static const char *const upper[] = {"EMERGENCY", "ALERT",  "CRITICAL", "ERROR",
                                            "WARNING",   "NOTICE", "INFO",     "DEBUG"};
        const char *p = out, *end = out + n;
        size_t mlen, t = time_shape(out, n);
        const char *m = trail_record_message(r, &mlen);
        const char *level = upper[trail_record_level(r)];
        struct fuzz_buf b = {};

        FUZZ_CHECK(t > 0 && p[t] == ' ', "time");
        p += t + 1;
        FUZZ_CHECK(strncmp(p, level, strlen(level)) == 0 && p[strlen(level)] == ' ', "level");
        p += strlen(level) + 1;
        FUZZ_CHECK(strncmp(p, logger_name, strlen(logger_name)) == 0 &&
                           strncmp(p + strlen(logger_name), ": ", 2) == 0,
                   "logger");
        p += strlen(logger_name) + 2;

        /* the message: quoted, or up to the last space before the first '=' */
        if (*p == '"') {
                p = text_unescape(p + 1, end, true, &b) + 1;
        } else {
                const char *eq = memchr(p, '=', (size_t) (end - p)), *stop = end;
                if (eq) {
                        stop = eq;
                        while (stop > p && *stop != ' ')
                                stop--;
                        FUZZ_CHECK(stop > p, "no message before the fields");
                }
                FUZZ_CHECK(text_unescape(p, stop, false, &b) == stop, "message");
                p = stop;
        }
        FUZZ_CHECK(b.n == mlen && memcmp(b.p, m, mlen) == 0, "message \"%s\" differs",
                   (const char *) b.p);

        for (size_t i = 0, nf = trail_record_n_fields(r); i < nf; i++) {
                trail_field_view v = record_field_at(r, i);
                char name[128], num[64];
                bool quoted;
                snprintf(name, sizeof(name), "%.*s", (int) v.name_len, v.name);
                FUZZ_CHECK(p < end && *p == ' ', "no space before %s", name);
                p++;
                FUZZ_CHECK((size_t) (end - p) > v.name_len && memcmp(p, v.name, v.name_len) == 0 &&
                                   p[v.name_len] == '=',
                           "key %s missing: %s", name, p);
                p = text_value(p + v.name_len + 1, end, &b, &quoted);
                if (v.type == TRAIL_FIELD_STR || v.type == TRAIL_FIELD_BYTES)
                        FUZZ_CHECK(b.n == v.len && memcmp(b.p, v.value.p, v.len) == 0, "%s: \"%s\"",
                                   name, (const char *) b.p);
                else if (v.type == TRAIL_FIELD_DOUBLE)
                        FUZZ_CHECK(!quoted &&
                                           double_text_matches((const char *) b.p, b.n, v.value.d),
                                   "%s: \"%s\"", name, (const char *) b.p);
                else {
                        size_t k = render_number(&v, num, sizeof(num));
                        FUZZ_CHECK(!quoted && b.n == k && memcmp(b.p, num, k) == 0, "%s: \"%s\"",
                                   name, (const char *) b.p);
                }
        }
        FUZZ_CHECK(p == end, "trailing text: %s", p);
        free(b.p);
}

/* ---- rfc5424 ----------------------------------------------------------- */

/* A header field as the formatter writes it: cut to max, bytes outside
 * PRINTUSASCII as '_', "-" when empty. */
static struct fuzz_buf header_field(const char *s, size_t n, size_t max) {
        struct fuzz_buf b = {};

        fuzz_buf_put(&b, "", 0);
        if (n > max)
                n = max;
        if (n == 0)
                fuzz_buf_put(&b, "-", 1);
        for (size_t i = 0; i < n; i++) {
                char c = s[i] >= 33 && s[i] <= 126 ? s[i] : '_';
                fuzz_buf_put(&b, &c, 1);
        }
        return b;
}

static const char *expect_token(const char *p, const char *end, const struct fuzz_buf *want,
                                const char *what) {
        FUZZ_CHECK((size_t) (end - p) > want->n && memcmp(p, want->p, want->n) == 0 &&
                           p[want->n] == ' ',
                   "%s: want \"%s\" at \"%.40s\"", what, (const char *) want->p, p);
        return p + want->n + 1;
}

struct sd_param {
        const char *name;
        size_t name_len;
        struct fuzz_buf value;
};

/* trail's escapes in RFC 5424 MSG (trail_formatter_new(3)): C0 controls,
 * DEL, C1 controls and U+2028/9 as \n, \r, \t or \xNN per byte; the rest,
 * valid UTF-8 already, as is. */
static struct fuzz_buf escape_controls(const struct fuzz_buf *in) {
        static const char hexd[] = "0123456789abcdef";
        const uint8_t *u = (const uint8_t *) in->p;
        struct fuzz_buf out = {};

        fuzz_buf_put(&out, "", 0);
        for (size_t i = 0; i < in->n;) {
                size_t len = u[i] < 0x80 ? 1 : u[i] < 0xe0 ? 2 : u[i] < 0xf0 ? 3 : 4;
                bool control = u[i] < 0x20 || u[i] == 0x7f ||
                               (len == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0) ||
                               (len == 3 && u[i] == 0xe2 && u[i + 1] == 0x80 &&
                                (u[i + 2] == 0xa8 || u[i + 2] == 0xa9));
                if (!control) {
                        fuzz_buf_put(&out, (const char *) u + i, len);
                } else if (u[i] == '\n' || u[i] == '\r' || u[i] == '\t') {
                        char e[2] = {'\\', u[i] == '\n' ? 'n' : u[i] == '\r' ? 'r' : 't'};
                        fuzz_buf_put(&out, e, 2);
                } else
                        for (size_t k = 0; k < len; k++) {
                                char e[4] = {'\\', 'x', hexd[u[i + k] >> 4], hexd[u[i + k] & 15]};
                                fuzz_buf_put(&out, e, 4);
                        }
                i += len;
        }
        return out;
}

static void check_rfc5424(const struct run *run, const trail_record *r, const char *out, size_t n) {
        const char *e = rfc5424_check(out, n, NULL, NULL, 0, NULL), *p = out, *end = out + n;
        size_t nf = trail_record_n_fields(r), mlen;
        const char *m = trail_record_message(r, &mlen);
        struct fuzz_buf b;
        char num[64];

        FUZZ_CHECK(!e, "%s: %s", e, out);
        if (run->max_length)
                FUZZ_CHECK(n <= run->max_length, "%zu bytes, max_length %zu", n, run->max_length);

        /* HEADER */
        int pri = run->facility * 8 + trail_record_level(r);
        int k = snprintf(num, sizeof(num), "<%d>1 ", pri);
        FUZZ_CHECK(strncmp(p, num, (size_t) k) == 0, "PRI: want %s", num);
        p += k;
        p = memchr(p, ' ', (size_t) (end - p)) + 1; /* TIMESTAMP */
        p = memchr(p, ' ', (size_t) (end - p)) + 1; /* HOSTNAME */
        b = header_field(run->ident, strlen(run->ident), 48);
        p = expect_token(p, end, &b, "APP-NAME");
        free(b.p);
        k = snprintf(num, sizeof(num), "%d", (int) getpid());
        b = header_field(num, (size_t) k, 128);
        p = expect_token(p, end, &b, "PROCID");
        free(b.p);
        trail_field_view id;
        if (trail_record_find(r, "MESSAGE_ID", &id) == 0 && id.type == TRAIL_FIELD_STR)
                b = header_field(id.value.s, id.len, 32);
        else
                b = header_field("", 0, 32);
        p = expect_token(p, end, &b, "MSGID");
        free(b.p);

        /* STRUCTURED-DATA: one element; the grammar has been checked, so
         * this walk can be simple */
        FUZZ_CHECK(*p == '[', "SD");
        p = memchr(p, ' ', (size_t) (end - p));
        struct sd_param *params = calloc(nf + 7, sizeof(*params));
        size_t np = 0;
        while (*p == ' ') {
                FUZZ_CHECK(np < nf + 6, "too many SD-PARAMs");
                struct sd_param *sp = &params[np++];
                sp->name = ++p;
                p = memchr(p, '=', (size_t) (end - p));
                sp->name_len = (size_t) (p - sp->name);
                p += 2;
                fuzz_buf_put(&sp->value, "", 0);
                while (*p != '"') {
                        /* RFC 5424's \" \\ \], and trail's \n \r \t \xNN for
                         * control characters (a literal backslash is \\) */
                        if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == ']'))
                                p++;
                        else if (*p == '\\' && (p[1] == 'n' || p[1] == 'r' || p[1] == 't')) {
                                char c = p[1] == 'n' ? '\n' : p[1] == 'r' ? '\r' : '\t';
                                fuzz_buf_put(&sp->value, &c, 1);
                                p += 2;
                                continue;
                        } else if (*p == '\\' && p[1] == 'x') {
                                char hex[3] = {p[2], p[3], 0}, c;
                                FUZZ_CHECK(isxdigit((unsigned char) hex[0]) &&
                                                   isxdigit((unsigned char) hex[1]),
                                           "bad \\x escape in an SD-PARAM");
                                c = (char) strtoul(hex, NULL, 16);
                                fuzz_buf_put(&sp->value, &c, 1);
                                p += 4;
                                continue;
                        }
                        fuzz_buf_put(&sp->value, p++, 1);
                }
                p++;
        }
        FUZZ_CHECK(*p == ']', "SD-ELEMENT end");
        p++;

        /* LOGGER, CODE_FILE, CODE_LINE, CODE_FUNC, TID, then the fields; with
         * a maximum length, the first fields may be left out (and counted) */
        const char *file, *func;
        int line;
        trail_record_source(r, &file, &line, &func);
        char line_s[16], tid_s[16];
        snprintf(line_s, sizeof(line_s), "%d", line);
        snprintf(tid_s, sizeof(tid_s), "%d", trail_record_tid(r));
        const char *fixed[][2] = {{"LOGGER", logger_name},
                                  {"CODE_FILE", file},
                                  {"CODE_LINE", line_s},
                                  {"CODE_FUNC", func},
                                  {"TID", tid_s}};
        FUZZ_CHECK(np >= 5, "%zu SD-PARAMs", np);
        for (size_t i = 0; i < 5; i++) {
                b = repair_bytes(fixed[i][1], strlen(fixed[i][1]));
                FUZZ_CHECK(params[i].name_len == strlen(fixed[i][0]) &&
                                   memcmp(params[i].name, fixed[i][0], params[i].name_len) == 0 &&
                                   params[i].value.n == b.n &&
                                   memcmp(params[i].value.p, b.p, b.n) == 0,
                           "SD-PARAM %s", fixed[i][0]);
                free(b.p);
        }
        /* The record's fields in order, but with a maximum length some may be
         * left out (trail_handler_syslog(3)); then TRUNCATED_FIELDS, last,
         * counts them and those the record itself left out. */
        trail_field_view tf;
        uint64_t truncated = 0;
        size_t n_fields = nf, last = np, kept = 0;
        if (nf > 0 && (tf = record_field_at(r, nf - 1)).name_len == 16 &&
            memcmp(tf.name, "TRUNCATED_FIELDS", 16) == 0 && tf.type == TRAIL_FIELD_UINT)
                truncated = tf.value.u, n_fields--;
        if (np > 5 && params[np - 1].name_len == 16 &&
            memcmp(params[np - 1].name, "TRUNCATED_FIELDS", 16) == 0)
                last--;
        /* the SD-NAME of each field (trail_handler_syslog(3)): a name over 32
         * is cut to 23, '~' and a hash salted to differ from the cut of every
         * earlier field with another name */
        char(*sdn)[33] = calloc(n_fields ? n_fields : 1, 33);
        for (size_t i = 0; i < n_fields; i++) {
                trail_field_view v = record_field_at(r, i);
                char full[65];
                snprintf(full, sizeof(full), "%.*s", (int) v.name_len, v.name);
                for (uint32_t salt = 0;; salt++) {
                        bool clash = false;
                        sd_name_cut_salted(full, salt, sdn[i]);
                        for (size_t earlier = 0; earlier < i && !clash && v.name_len > 32;
                             earlier++) {
                                trail_field_view w = record_field_at(r, earlier);
                                clash = w.name_len > 32 &&
                                        (w.name_len != v.name_len ||
                                         memcmp(w.name, v.name, v.name_len) != 0) &&
                                        strcmp(sdn[earlier], sdn[i]) == 0;
                        }
                        if (!clash)
                                break;
                }
        }
        for (size_t j = 5, i = 0; j < last; j++, i++) {
                const struct sd_param *sp = &params[j];
                bool match = false;
                /* the first field from i on with this name and value */
                for (; i < n_fields && !match; i++) {
                        trail_field_view v = record_field_at(r, i);
                        if (sp->name_len != strlen(sdn[i]) ||
                            memcmp(sp->name, sdn[i], sp->name_len) != 0)
                                continue;
                        if (v.type == TRAIL_FIELD_DOUBLE)
                                match = double_text_matches((const char *) sp->value.p, sp->value.n,
                                                            v.value.d);
                        else {
                                if (v.type == TRAIL_FIELD_STR || v.type == TRAIL_FIELD_BYTES)
                                        b = repair_bytes(v.value.p, v.len);
                                else {
                                        b = (struct fuzz_buf){};
                                        fuzz_buf_put(&b, num, render_number(&v, num, sizeof(num)));
                                }
                                match = sp->value.n == b.n && memcmp(sp->value.p, b.p, b.n) == 0;
                                free(b.p);
                        }
                        if (match)
                                break;
                }
                FUZZ_CHECK(match, "SD-PARAM %zu (%.*s=\"%s\") is no field of the record, in order",
                           j, (int) sp->name_len, sp->name, (const char *) sp->value.p);
                kept++;
        }
        free(sdn);
        size_t left_out = n_fields - kept;
        FUZZ_CHECK(left_out == 0 || run->max_length, "%zu fields left out without max_length",
                   left_out);
        if (truncated + left_out > 0) {
                snprintf(num, sizeof(num), "%llu", (unsigned long long) (truncated + left_out));
                FUZZ_CHECK(last < np && strcmp((const char *) params[np - 1].value.p, num) == 0,
                           "TRUNCATED_FIELDS=%s, want %s",
                           last < np ? (const char *) params[np - 1].value.p : "(none)", num);
        } else
                FUZZ_CHECK(last == np, "TRUNCATED_FIELDS with nothing left out");
        for (size_t i = 0; i < np; i++)
                free(params[i].value.p);
        free(params);

        /* MSG: " " BOM and the repaired message; cut only with a maximum
         * length, then at a character boundary and marked */
        b = repair_bytes(m, mlen);
        struct fuzz_buf repaired = b;
        b = escape_controls(&repaired);
        free(repaired.p);
        if (mlen == 0)
                FUZZ_CHECK(p == end, "MSG for an empty message");
        else if (p < end) {
                FUZZ_CHECK(end - p >= 4 && memcmp(p, " \xef\xbb\xbf", 4) == 0, "BOM");
                p += 4;
                size_t got = (size_t) (end - p);
                if (got != b.n || memcmp(p, b.p, got) != 0) {
                        const char *mark = "...[truncated]";
                        size_t ml = strlen(mark);
                        FUZZ_CHECK(run->max_length && got >= ml && got - ml < b.n &&
                                           memcmp(p + got - ml, mark, ml) == 0 &&
                                           memcmp(p, b.p, got - ml) == 0 &&
                                           ref_utf8_valid((const uint8_t *) p, got - ml),
                                   "MSG differs");
                }
        } else
                FUZZ_CHECK(run->max_length, "MSG missing");
        free(b.p);
}

/* ---- rfc3164 ----------------------------------------------------------- */

static void check_rfc3164(const struct run *run, const trail_record *r, const char *out, size_t n) {
        char num[64];
        int k = snprintf(num, sizeof(num), "<%d>", run->facility * 8 + trail_record_level(r));
        const char *p = out + k;

        FUZZ_CHECK(strncmp(out, num, (size_t) k) == 0, "PRI: want %s in %s", num, out);
        /* "Mmm dd hh:mm:ss " */
        FUZZ_CHECK(n > (size_t) k + 16 && p[3] == ' ' && p[6] == ' ' && p[9] == ':' &&
                           p[12] == ':' && p[15] == ' ',
                   "TIMESTAMP: %s", out);
        p += 16;
        size_t tl = strlen(run->ident) < 32 ? strlen(run->ident) : 32;
        for (size_t i = 0; i < tl; i++) {
                char c = run->ident[i];
                c = c > ' ' && c < 0x7f && c != '[' && c != ':' ? c : '_';
                FUZZ_CHECK(p[i] == c, "TAG: %s", out);
        }
        k = snprintf(num, sizeof(num), "[%d]: ", (int) getpid());
        FUZZ_CHECK(strncmp(p + tl, num, (size_t) k) == 0, "PID: %s", out);
}

/* ---- Driving ----------------------------------------------------------- */

static bool render(const trail_record *r, void *userdata) {
        struct run *run = userdata;
        int n = trail_formatter_format(run->f, r, NULL, 0);
        char *out;

        FUZZ_CHECK(n >= 0, "format: %d", n);
        out = malloc((size_t) n + 1);
        if (!out)
                abort();
        FUZZ_CHECK(trail_formatter_format(run->f, r, out, (size_t) n + 1) == n && out[n] == '\0',
                   "second rendering");
        /* a smaller buffer: cut, NUL-terminated, the same prefix */
        size_t small = (size_t) n / 2 + 1;
        char *cut = malloc(small);
        if (!cut)
                abort();
        FUZZ_CHECK(trail_formatter_format(run->f, r, cut, small) == n && cut[small - 1] == '\0' &&
                           memcmp(cut, out, small - 1) == 0,
                   "cut rendering");
        free(cut);

        /* a custom pattern's own text is the user's: only attributes are escaped */
        if (!IS("rfc5424") && !run->custom_pattern) {
                FUZZ_CHECK(ref_utf8_valid((const uint8_t *) out, (size_t) n), "invalid UTF-8: %s",
                           out);
                long bad = find_line_breaker((const uint8_t *) out, (size_t) n);
                FUZZ_CHECK(bad < 0, "control character at %ld: %s", bad, out);
        }
        if (!run->custom_pattern) {
                if (IS("json"))
                        check_json(run, r, out, (size_t) n);
                else if (IS("logfmt"))
                        check_logfmt(r, out, (size_t) n);
                else if (IS("text"))
                        check_text(r, out, (size_t) n);
                else if (IS("rfc5424"))
                        check_rfc5424(run, r, out, (size_t) n);
                else if (IS("rfc3164"))
                        check_rfc3164(run, r, out, (size_t) n);
                else
                        abort();
        }
        free(out);
        run->checked = true;
        return false; /* rendered here: no handler */
}

static void set(trail_formatter *f, const char *key, const char *value) {
        int r = trail_formatter_set(f, key, value);
        FUZZ_CHECK(r == 0, "%s=%s: %d", key, value, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct run run = {.facility = 3};
        struct fuzz_parts parts;
        struct fuzz_message msg;
        struct fuzz_field *ff;
        char *ident = NULL, *pattern = NULL;
        bool ident_set = false;
        size_t next = 2, nf;

        if (!lg) {
                static const char *const none[] = {NULL};
                lg = trail_get(logger_name);
                if (!lg || trail_logger_set_level(lg, TRAIL_DEBUG) < 0 ||
                    trail_logger_set_propagate(lg, false) < 0 ||
                    trail_set_redact_fields(none) < 0 || trail_set_scrub(false) < 0)
                        abort();
        }
        fuzz_split(data, size, &parts);
        if (parts.n < 2) {
                free(parts.v);
                return 0;
        }
        uint8_t h0 = fuzz_byte(parts.v[0], 0), h1 = fuzz_byte(parts.v[0], 1),
                h2 = fuzz_byte(parts.v[0], 2);
        run.ident = program_invocation_short_name;
        if ((h0 & FLAG_IDENT) && next < parts.n) {
                ident = fuzz_cstr(parts.v[next++]);
                /* printable ASCII, 1..48: else refused and the old one stays */
                if (trail_set_ident(ident) == 0)
                        run.ident = ident, ident_set = true;
        }
        run.f = trail_formatter_new(FUZZ_FORMAT);
        if (!run.f)
                abort();
        if (IS("text")) {
                set(run.f, "color", "always");
                set(run.f, "color", "never");
                if ((h0 & FLAG_PATTERN) && next < parts.n) {
                        pattern = fuzz_cstr(parts.v[next++]);
                        int r = trail_formatter_set(run.f, "pattern", pattern);
                        FUZZ_CHECK(r == 0 || r == -EINVAL, "pattern: %d", r);
                        run.custom_pattern = r == 0;
                }
        }
        if ((h0 & FLAG_LOCALTIME) && !IS("rfc3164"))
                set(run.f, IS("rfc5424") ? "utc" : "time", IS("rfc5424") ? "false" : "local");
        if ((h0 & FLAG_FACILITY) && (IS("rfc5424") || IS("rfc3164"))) {
                char v[8];
                run.facility = h1 % 24;
                snprintf(v, sizeof(v), "%d", run.facility);
                set(run.f, "facility", v);
        }
        if ((h0 & FLAG_MAXLEN) && IS("rfc5424")) {
                char v[16];
                run.max_length = 480 + 16 * (size_t) h2;
                snprintf(v, sizeof(v), "%zu", run.max_length);
                set(run.f, "max_length", v);
        }

        fuzz_message(parts.v[1], &msg);
        nf = fuzz_fields(&parts, next, true, &ff);
        trail_field *fields = calloc(nf + 1, sizeof(*fields));
        if (!fields)
                abort();
        for (size_t i = 0; i < nf; i++)
                fields[i] = ff[i].f;

        trail_logger_add_filter(lg, render, &run);
        int r = FUZZ_LOG(lg, fuzz_byte(parts.v[0], 0) & 7, ((trail_fields){fields, nf}), &msg);
        trail_logger_remove_filter(lg, render, &run);
        FUZZ_CHECK(r == 0 && run.checked, "log: %d", r);

        if (ident_set)
                trail_set_ident(NULL);
        trail_formatter_unref(run.f);
        free(fields);
        free(ident);
        free(pattern);
        fuzz_fields_free(ff, nf);
        fuzz_message_free(&msg);
        free(parts.v);
        return 0;
}
