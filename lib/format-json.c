/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "json" formatter: one JSON object (RFC 8259) per record, for jq, Loki,
 * Elasticsearch and Vector, and the "time" option text and logfmt share.
 * Everything is written straight into the output buffer after one
 * buf_reserve() with an upper bound. */

#include <math.h>
#include <string.h>

#include "format-private.h"

int format_time_option(bool *utc, const char *value) {
        if (strcmp(value, "utc") == 0)
                *utc = true;
        else if (strcmp(value, "local") == 0)
                *utc = false;
        else
                return -EINVAL;
        return 0;
}

/* ---- The formatter -------------------------------------------------------- */

struct json_formatter {
        trail_formatter base;
        bool utc;
};

static int json_init(trail_formatter *f) {
        ((struct json_formatter *) f)->utc = true;
        return 0;
}

static int json_set(trail_formatter *f, const char *key, const char *value) {
        if (strcmp(key, "time") == 0)
                return format_time_option(&((struct json_formatter *) f)->utc, value);
        return -ENOENT;
}

#define PUT(p, lit) put((p), (lit), STRLEN(lit))

static char *json_string(char *p, const char *s, size_t n) {
        *p++ = '"';
        p = escape(p, s, n, &json_escaper);
        *p++ = '"';
        return p;
}

/* {"time":…,"level":"info","priority":6,"logger":…,"message":…,"ident":…,
 *  "file":…,"line":…,"func":…,"pid":…,"tid":…,"FIELD":…}
 * Built-in keys are lower-case and field names are upper-case journald names
 * (record.c normalises them), so no key can appear twice. */
static int json_format(const trail_formatter *f, const struct trail_record *r,
                       const struct format_frame *fr, es_str_t **buf) {
        const struct json_formatter *jf = (const struct json_formatter *) f;
        const struct ident *ident = ident_get();
        size_t name_len, bound;
        const char *name = record_logger_name(r, &name_len);
        const char *id = "";
        size_t id_len = 0;
        char *p, *start;

        if (ident) {
                id = ident->field + STRLEN("SYSLOG_IDENTIFIER=");
                id_len = ident->len - STRLEN("SYSLOG_IDENTIFIER=");
        }
        bound = 256 +
                6 * (name_len + r->message_len + id_len + r->src->file_len + r->src->func_len);
        for (size_t i = 0; i < r->n_fields; i++) {
                const struct rfield *fl = &r->fields[i];
                bound += fl->name_len + 4;
                if (fl->type == TRAIL_FIELD_STR)
                        bound += 6 * fl->len + 2;
                else if (fl->type == TRAIL_FIELD_BYTES)
                        bound += (fl->len + 2) / 3 * 4 + 2;
                else
                        bound += 34;
        }
        if (buf_reserve(buf, bound) < 0)
                return -ENOMEM;
        p = start = (char *) es_getBufAddr(*buf) + (*buf)->lenStr;

        p = PUT(p, "{\"time\":\"");
        p = format_time(p, &r->time, jf->utc);
        p = PUT(p, "\",\"level\":\"");
        p = put(p, level_lower[r->level], level_lower_len[r->level]);
        p = PUT(p, "\",\"priority\":");
        *p++ = (char) ('0' + r->level);
        p = PUT(p, ",\"logger\":");
        p = json_string(p, name, name_len);
        p = PUT(p, ",\"message\":");
        p = json_string(p, r->message, r->message_len);
        p = PUT(p, ",\"ident\":");
        p = json_string(p, id, id_len);
        /* no location (trail_log_with_location()): no keys */
        if (r->src->file) {
                p = PUT(p, ",\"file\":");
                p = json_string(p, r->src->file, r->src->file_len);
                p = PUT(p, ",\"line\":");
                p += format_int(p, r->src->line);
        }
        if (r->src->func) {
                p = PUT(p, ",\"func\":");
                p = json_string(p, r->src->func, r->src->func_len);
        }
        p = PUT(p, ",\"pid\":");
        p += format_int(p, pid_get());
        p = PUT(p, ",\"tid\":");
        p += format_int(p, r->tid);

        for (size_t i = 0; i < r->n_fields; i++) {
                const struct rfield *fl = &r->fields[i];

                *p++ = ',';
                *p++ = '"';
                p = put(p, fl->name, fl->name_len); /* A-Z, 0-9, _: nothing to escape */
                *p++ = '"';
                *p++ = ':';
                switch (fl->type) {
                case TRAIL_FIELD_STR:
                        p = json_string(p, fl->v.s, fl->len);
                        break;
                case TRAIL_FIELD_BYTES:
                        *p++ = '"';
                        p = base64_encode(p, fl->v.p, fl->len);
                        *p++ = '"';
                        break;
                case TRAIL_FIELD_DOUBLE:
                        /* JSON has no NaN or infinities: "nan", "inf", "-inf"
                         * as strings, as journald gets them. */
                        if (!isfinite(fl->v.d)) {
                                *p++ = '"';
                                p += format_double(p, fl->v.d);
                                *p++ = '"';
                        } else {
                                /* "3.0", not "3": a reader that types values
                                 * by their first sight (Elasticsearch) must
                                 * see a float. */
                                size_t k = format_double(p, fl->v.d);
                                if (!memchr(p, '.', k) && !memchr(p, 'e', k))
                                        p[k++] = '.', p[k++] = '0';
                                p += k;
                        }
                        break;
                default:
                        p += rfield_render_value(fl, p);
                }
        }
        *p++ = '}';
        (*buf)->lenStr += (es_size_t) (p - start);
        return 0;
}

const struct formatter_ops format_json_ops = {
        .name = "json",
        .size = sizeof(struct json_formatter),
        .init = json_init,
        .set = json_set,
        .format = json_format,
};
