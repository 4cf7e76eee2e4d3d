/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "text" formatter: a line a person reads, and the journald handler's
 * stderr fallback. Every control character and invalid UTF-8 byte is
 * escaped, so a value cannot forge a line (CWE-117). */

#include <string.h>

#include "trail-private.h"

static const char *const level_upper[] = {
        "EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG",
};

static bool needs_quotes(const char *s, size_t n) {
        if (n == 0)
                return true;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f)
                        return true;
        }
        return false;
}

/* At most 4 bytes out per byte in. */
static char *escape(char *p, const char *s, size_t n, bool quoted) {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *u = (const unsigned char *) s;

        for (size_t i = 0; i < n;) {
                unsigned char c = u[i];
                size_t len;

                if (c == '\n')
                        *p++ = '\\', *p++ = 'n';
                else if (c == '\r')
                        *p++ = '\\', *p++ = 'r';
                else if (c == '\t')
                        *p++ = '\\', *p++ = 't';
                else if (quoted && (c == '"' || c == '\\'))
                        *p++ = '\\', *p++ = (char) c;
                else if (c < 0x20 || c == 0x7f)
                        goto hex_escape;
                else if (c < 0x80)
                        *p++ = (char) c;
                else if ((len = utf8_sequence_len(u + i, n - i)) > 0) {
                        memcpy(p, u + i, len);
                        p += len;
                        i += len;
                        continue;
                } else {
                hex_escape:
                        *p++ = '\\', *p++ = 'x', *p++ = hex[c >> 4], *p++ = hex[c & 15];
                }
                i++;
        }
        return p;
}

/* "2026-11-25T20:31:00.123456+01:00 INFO myapp.db: message KEY=value …" */
static int text_format(const trail_formatter *f, const struct trail_record *r, es_str_t **buf) {
        size_t name_len, bound = 48 + 12 + r->logger->field_len + 2 + 4 * r->message_len;
        const char *name = record_logger_name(r, &name_len);
        char value[32];
        char *p, *start;

        (void) f;
        for (size_t i = 0; i < r->n_fields; i++)
                bound += 1 + r->fields[i].name_len + 1 + 4 * rfield_value_bound(&r->fields[i]) + 2;
        if (buf_reserve(buf, bound) < 0)
                return -ENOMEM;
        p = start = (char *) es_getBufAddr(*buf) + (*buf)->lenStr;

        p += format_rfc3339(p, &r->time, false);
        *p++ = ' ';
        size_t ln = strlen(level_upper[r->level]);
        memcpy(p, level_upper[r->level], ln);
        p += ln;
        *p++ = ' ';
        memcpy(p, name, name_len);
        p += name_len;
        *p++ = ':';
        *p++ = ' ';
        p = escape(p, r->message, r->message_len, false);

        for (size_t i = 0; i < r->n_fields; i++) {
                const struct rfield *fl = &r->fields[i];
                const char *v;
                size_t vn;

                *p++ = ' ';
                memcpy(p, fl->name, fl->name_len);
                p += fl->name_len;
                *p++ = '=';
                if (fl->type == TRAIL_FIELD_STR || fl->type == TRAIL_FIELD_BYTES)
                        v = fl->v.s, vn = fl->len;
                else
                        v = value, vn = rfield_render_value(fl, value);
                if (needs_quotes(v, vn)) {
                        *p++ = '"';
                        p = escape(p, v, vn, true);
                        *p++ = '"';
                } else {
                        memcpy(p, v, vn);
                        p += vn;
                }
        }
        (*buf)->lenStr += (es_size_t) (p - start);
        return 0;
}

const struct formatter_ops format_text_ops = {
        .name = "text",
        .size = sizeof(trail_formatter),
        .format = text_format,
};

static trail_formatter default_text = {
        .ops = &format_text_ops,
        .refcount = 1,
        .frozen = true,
};

trail_formatter *formatter_default_text(void) {
        return &default_text;
}
