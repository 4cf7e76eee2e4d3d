/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "logfmt" formatter: `time=… level=info logger=… msg="…" KEY=value …`,
 * quoted and escaped as go-logfmt does (a quoted value is a JSON string), so
 * that grep, Loki's logfmt parser and go-logfmt read it back. */

#include <string.h>

#include "format-private.h"

struct logfmt_formatter {
        trail_formatter base;
        bool utc;
};

static int logfmt_init(trail_formatter *f) {
        ((struct logfmt_formatter *) f)->utc = true;
        return 0;
}

static int logfmt_set(trail_formatter *f, const char *key, const char *value) {
        if (strcmp(key, "time") == 0)
                return format_time_option(&((struct logfmt_formatter *) f)->utc, value);
        return -ENOENT;
}

/* go-logfmt quotes a value with a space, control character, '=', '"' or
 * invalid UTF-8; trail also quotes '\\', DEL, any non-ASCII character and the
 * empty value (value_needs_quotes()), so that a bare value is always read
 * back byte for byte. A quoted value is a JSON string. */
static char *logfmt_value(char *p, const char *s, size_t n) {
        return put_value(p, s, n, &json_escaper);
}

static int logfmt_format(const trail_formatter *f, const struct trail_record *r,
                         const struct format_frame *fr, es_str_t **buf) {
        const struct logfmt_formatter *lf = (const struct logfmt_formatter *) f;
        size_t name_len, bound;
        const char *name = record_logger_name(r, &name_len);
        char *p, *start;

        bound = 96 + 6 * (name_len + r->message_len);
        for (size_t i = 0; i < r->n_fields; i++) {
                const struct rfield *fl = &r->fields[i];
                bound += fl->name_len + 4;
                if (fl->type == TRAIL_FIELD_STR)
                        bound += 6 * fl->len;
                else if (fl->type == TRAIL_FIELD_BYTES)
                        bound += (fl->len + 2) / 3 * 4;
                else
                        bound += 32;
        }
        if (buf_reserve(buf, bound) < 0)
                return -ENOMEM;
        p = start = (char *) es_getBufAddr(*buf) + (*buf)->lenStr;

        memcpy(p, "time=", 5);
        p = format_time(p + 5, &r->time, lf->utc);
        memcpy(p, " level=", 7);
        p += 7;
        memcpy(p, level_lower[r->level], level_lower_len[r->level]);
        p += level_lower_len[r->level];
        memcpy(p, " logger=", 8);
        p = logfmt_value(p + 8, name, name_len);
        memcpy(p, " msg=", 5);
        p = logfmt_value(p + 5, r->message, r->message_len);

        for (size_t i = 0; i < r->n_fields; i++) {
                const struct rfield *fl = &r->fields[i];

                *p++ = ' ';
                memcpy(p, fl->name, fl->name_len);
                p += fl->name_len;
                *p++ = '=';
                if (fl->type == TRAIL_FIELD_STR)
                        p = logfmt_value(p, fl->v.s, fl->len);
                else if (fl->type == TRAIL_FIELD_BYTES) {
                        /* base64 (RFC 4648 §4), as in JSON: lossless. Quoted
                         * when it is empty or ends in '=' padding. */
                        bool q = fl->len % 3 != 0 || fl->len == 0;
                        if (q)
                                *p++ = '"';
                        p = base64_encode(p, fl->v.p, fl->len);
                        if (q)
                                *p++ = '"';
                } else
                        p += rfield_render_value(fl, p);
        }
        (*buf)->lenStr += (es_size_t) (p - start);
        return 0;
}

const struct formatter_ops format_logfmt_ops = {
        .name = "logfmt",
        .size = sizeof(struct logfmt_formatter),
        .init = logfmt_init,
        .set = logfmt_set,
        .format = logfmt_format,
};
