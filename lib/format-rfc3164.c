/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The RFC 3164 formatter, for local /dev/log receivers that only know the
 * legacy format (journald among them): "<PRI>Mmm dd hh:mm:ss TAG[pid]: MSG
 * KEY=value …". Such receivers split on newlines and stop at NUL, so every
 * control character is escaped (CWE-117), in the message and in values. */

#include <string.h>

#include "format-private.h"

#define TAG_MAX 32 /* RFC 3164 §4.1.3 */

struct rfc3164 {
        trail_formatter base;
        char tag[TAG_MAX + 1]; /* empty: the ident */
        int facility;          /* -1: trail_set_facility()'s */
};

static int rfc3164_init(trail_formatter *f) {
        ((struct rfc3164 *) f)->facility = -1;
        return 0;
}

static int rfc3164_set(trail_formatter *f, const char *key, const char *value) {
        struct rfc3164 *x = (struct rfc3164 *) f;

        if (strcmp(key, "app_name") == 0 || strcmp(key, "tag") == 0) {
                size_t n = strlen(value);
                if (n == 0 || n > TAG_MAX || strcspn(value, " :[]\t\r\n") != n)
                        return -EINVAL;
                strcpy(x->tag, value);
        } else if (strcmp(key, "facility") == 0) {
                int k = syslog_facility_parse(value);
                if (k < 0)
                        return k;
                x->facility = k;
        } else
                return -ENOENT;
        return 0;
}

/* Control characters (C0, DEL, the C1 controls U+0080..U+009F, and the
 * line separators U+2028/U+2029, as the text formatter counts them) and
 * invalid UTF-8 as \n, \r, \t, \xNN (trail(7)); in a quoted value '"' and
 * '\' too. At most 4 bytes out per byte in. */
static const struct escaper rfc3164_bare = {
        .byte = {ESCAPE_CONTROLS(ESC_HEX, 't', 'n', ESC_HEX, 'r')},
        .invalid = ESCAPE_INVALID_HEX,
};
static const struct escaper rfc3164_quoted = {
        .byte = {ESCAPE_CONTROLS(ESC_HEX, 't', 'n', ESC_HEX, 'r'), ['"'] = '"', ['\\'] = '\\'},
        .invalid = ESCAPE_INVALID_HEX,
};

static int rfc3164_format(const trail_formatter *f, const struct trail_record *r,
                          const struct format_frame *fr, es_str_t **buf) {
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        const struct rfc3164 *x = (const struct rfc3164 *) f;
        const char *tag = x->tag;
        size_t tag_len = strlen(tag), bound;
        char num[32], *p, *start;
        struct tm tm;

        if (tag_len == 0) {
                const struct ident *id = ident_get();
                if (!id)
                        return -ENOMEM;
                tag = id->field + STRLEN("SYSLOG_IDENTIFIER=");
                tag_len = id->len - STRLEN("SYSLOG_IDENTIFIER=");
                if (tag_len > TAG_MAX)
                        tag_len = TAG_MAX;
        }
        bound = 8 + 16 + tag_len + 16 + 2 + 4 * r->message_len;
        for (size_t i = 0; i < r->n_fields; i++)
                bound += 1 + r->fields[i].name_len + 3 + 4 * rfield_value_bound(&r->fields[i]);
        if (buf_reserve(buf, bound) < 0)
                return -ENOMEM;
        p = start = (char *) es_getBufAddr(*buf) + (*buf)->lenStr;

        int facility = x->facility >= 0 ? x->facility : facility_get();
        *p++ = '<';
        p += format_int(p, facility * 8 + r->level);
        *p++ = '>';
        /* §4.1.2: "Mmm dd hh:mm:ss", the day padded with a space, local time */
        if (!broken_down_time(&r->time.tv_sec, false, &tm))
                memset(&tm, 0, sizeof(tm));
        memcpy(p, months + 3 * (tm.tm_mon % 12), 3);
        p += 3;
        *p++ = ' ';
        *p++ = tm.tm_mday >= 10 ? (char) ('0' + tm.tm_mday / 10) : ' ';
        *p++ = (char) ('0' + tm.tm_mday % 10);
        *p++ = ' ';
        for (int k = 0, v[3] = {tm.tm_hour, tm.tm_min, tm.tm_sec}; k < 3; k++) {
                *p++ = (char) ('0' + v[k] / 10 % 10);
                *p++ = (char) ('0' + v[k] % 10);
                *p++ = k < 2 ? ':' : ' ';
        }
        for (size_t i = 0; i < tag_len; i++) {
                char c = tag[i];
                *p++ = c > ' ' && c < 0x7f && c != '[' && c != ':' ? c : '_';
        }
        *p++ = '[';
        p += format_int(p, pid_get());
        memcpy(p, "]: ", 3);
        p += 3;
        p = put_message(p, r->message, r->message_len, &rfc3164_bare, &rfc3164_quoted);

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
                        v = num, vn = rfield_render_value(fl, num);
                p = put_value(p, v, vn, &rfc3164_quoted);
        }
        (*buf)->lenStr += (es_size_t) (p - start);
        return 0;
}

const struct formatter_ops format_rfc3164_ops = {
        .name = "rfc3164",
        .size = sizeof(struct rfc3164),
        .init = rfc3164_init,
        .set = rfc3164_set,
        .format = rfc3164_format,
        .lf_framing = true,
};
