/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The RFC 5424 formatter: "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID
 * [trail@32473 NAME="value" …] BOM MSG". Header fields are cut to their RFC
 * lengths and kept to PRINTUSASCII; every field of the record is an
 * SD-PARAM of one SD-ELEMENT; MSG is always valid UTF-8 behind a BOM. */

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "format-private.h"

#define HOSTNAME_MAX        255
#define APP_NAME_MAX        48
#define PROCID_MAX          128
#define MSGID_MAX           32
#define TRUNCATION_MARK     "...[truncated]"
#define MIN_MSG             (4 + STRLEN(TRUNCATION_MARK) + 64) /* kept for MSG when fields are cut */
#define PARAM_TRUNCATED_MAX (STRLEN(" TRUNCATED_FIELDS=\"\"") + 20)

struct rfc5424 {
        trail_formatter base;
        char sd_id[64]; /* "trail@32473" */
        char hostname[HOSTNAME_MAX + 1];
        char app_name[APP_NAME_MAX + 1]; /* empty: the ident */
        int facility;                    /* -1: trail_set_facility()'s */
        size_t max_length;               /* 0: the handler's */
        bool utc;
};

static int rfc5424_init(trail_formatter *f) {
        struct rfc5424 *x = (struct rfc5424 *) f;

        strcpy(x->sd_id, "trail@32473");
        x->facility = -1;
        local_hostname(x->hostname, sizeof(x->hostname));
        return 0;
}

static bool is_printusascii(const char *s) {
        for (; *s; s++)
                if (*s < 33 || *s > 126)
                        return false;
        return true;
}

static int rfc5424_set(trail_formatter *f, const char *key, const char *value) {
        struct rfc5424 *x = (struct rfc5424 *) f;

        if (strcmp(key, "enterprise") == 0) {
                /* RFC 5424 §7.2.2: a private enterprise number, digits and dots */
                size_t n = strlen(value);
                if (n == 0 || n > sizeof(x->sd_id) - STRLEN("trail@") - 1 ||
                    strspn(value, "0123456789.") != n || value[0] == '.' || value[n - 1] == '.')
                        return -EINVAL;
                snprintf(x->sd_id, sizeof(x->sd_id), "trail@%s", value);
        } else if (strcmp(key, "hostname") == 0) {
                if (strlen(value) > HOSTNAME_MAX || !is_printusascii(value))
                        return -EINVAL;
                strcpy(x->hostname, value);
        } else if (strcmp(key, "app_name") == 0) {
                if (strlen(value) > APP_NAME_MAX || !is_printusascii(value))
                        return -EINVAL;
                strcpy(x->app_name, value);
        } else if (strcmp(key, "facility") == 0) {
                int k = syslog_facility_parse(value);
                if (k < 0)
                        return k;
                x->facility = k;
        } else if (strcmp(key, "max_length") == 0) {
                uint64_t v;
                if (parse_size(value, &v) < 0 || v < 480 || v > 16 * 1024 * 1024)
                        return -EINVAL; /* RFC 5424 §6.1: receivers take at least 480 */
                x->max_length = (size_t) v;
        } else if (strcmp(key, "utc") == 0) {
                int b = parse_bool(value);
                if (b < 0)
                        return b;
                x->utc = b;
        } else
                return -ENOENT;
        return 0;
}

/* A header field: PRINTUSASCII only (others become '_'), at most max, or
 * the NILVALUE when empty. */
static char *put_header(char *p, const char *s, size_t n, size_t max) {
        if (n > max)
                n = max;
        if (n == 0) {
                *p++ = '-';
                return p;
        }
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                *p++ = c >= 33 && c <= 126 ? (char) c : '_';
        }
        return p;
}

/* U+FFFD for each byte that does not start a valid UTF-8 sequence: the
 * repaired text is then valid UTF-8, as a PARAM-VALUE and a BOM-marked MSG
 * must be. A PARAM-VALUE also has '"', '\' and ']' escaped (RFC 5424
 * §6.3.3). Where lines frame records, control characters (C0, DEL, C1) and
 * U+2028/9 are written as \n, \r, \t or \xNN: RFC 5424 §6.4 allows them,
 * but a receiver that reads lines, or a terminal, would act on them
 * (CWE-117). Where a record is framed by its length or a datagram, nothing
 * in it can end it: they are written as they are, as the RFC has them, so
 * that a receiver reads back the value logged (a backslash and an 'n' are
 * not a line break); but NUL, which C receivers take for the end of the
 * value, is \x00. At most 4 bytes out per byte in. */
static const struct escaper sd_value = {
        .byte = {ESCAPE_CONTROLS(ESC_HEX, 't', 'n', ESC_HEX, 'r'), ['"'] = '"', ['\\'] = '\\',
                 [']'] = ']'},
        .invalid = ESCAPE_INVALID_REPLACE,
};
static const struct escaper msg_text = {
        .byte = {ESCAPE_CONTROLS(ESC_HEX, 't', 'n', ESC_HEX, 'r')},
        .invalid = ESCAPE_INVALID_REPLACE,
};
static const struct escaper sd_value_raw = {
        .byte = {[0x00] = ESC_HEX,
                 ['"'] = '"',
                 ['\\'] = '\\',
                 [']'] = ']',
                 [0x80 ... 0xff] = ESC_UTF8},
        .invalid = ESCAPE_INVALID_REPLACE,
        .copy_utf8_controls = true,
};
static const struct escaper msg_raw = {
        .byte = {[0x00] = ESC_HEX, [0x80 ... 0xff] = ESC_UTF8},
        .invalid = ESCAPE_INVALID_REPLACE,
        .copy_utf8_controls = true,
};

/* SD-NAMEs (§6.3.3) are at most 32 characters. A longer field name is
 * shown as its first SD_NAME_KEEP (23) characters, '~' and 8 hex digits of
 * a hash of the whole name (FNV-1a 32, salted with the smallest salt from 0
 * that makes the cut differ from that of every earlier field of the
 * element with another name), so that fields with different names keep
 * different SD-NAMEs, the same name the same one, and the cut is the same
 * in every record with the same names in the same order. A name of 32 or
 * fewer characters is as it is: it has no '~' (normalised names hold A-Z,
 * 0-9, '_'), so it cannot be taken for a cut one. */
#define SD_NAME_HASH (SD_NAME_MAX - SD_NAME_KEEP - 1)
static_assert(SD_NAME_HASH == 8, "the hash shown is the whole 32-bit hash");
static uint32_t sd_name_hash(const char *name, size_t n, uint32_t salt) {
        uint32_t h = 2166136261u;

        for (int k = 0; k < 4; k++, salt >>= 8)
                h = (h ^ (salt & 0xff)) * 16777619u;
        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char) name[i]) * 16777619u;
        return h;
}

/* The name, or its cut with hash h. */
static char *put_sd_name(char *p, const char *name, size_t n, uint32_t h) {
        static const char hex[] = "0123456789abcdef";

        if (n <= SD_NAME_MAX)
                return mempcpy(p, name, n);
        p = mempcpy(p, name, SD_NAME_KEEP);
        *p++ = '~';
        for (int k = SD_NAME_HASH - 1; k >= 0; k--)
                *p++ = hex[(h >> (4 * k)) & 15];
        return p;
}

/* The hash shown for each field whose name is longer than SD_NAME_MAX, in
 * hashes (the others are not read), with the smallest salt for which its
 * cut differs from the cut of every earlier long name that is not its own.
 * One hash per long name (more only on a clash), and a comparison of two
 * integers per pair of long names. */
static void sd_name_hashes(const struct trail_record *r, size_t n, uint32_t *hashes) {
        for (size_t i = 0; i < n; i++) {
                const struct rfield *a = &r->fields[i];
                if (a->name_len <= SD_NAME_MAX)
                        continue;
                uint32_t salt = 0, h = sd_name_hash(a->name, a->name_len, 0);
                for (size_t j = 0; j < i; j++) {
                        const struct rfield *b = &r->fields[j];
                        if (b->name_len > SD_NAME_MAX && hashes[j] == h &&
                            memcmp(a->name, b->name, SD_NAME_KEEP) == 0 &&
                            (b->name_len != a->name_len ||
                             memcmp(a->name, b->name, a->name_len) != 0) &&
                            salt < UINT16_MAX) { /* the bound is never reached */
                                h = sd_name_hash(a->name, a->name_len, ++salt);
                                j = (size_t) -1; /* from the first again */
                        }
                }
                hashes[i] = h;
        }
}

static char *put_param(char *p, const char *name, size_t name_len, uint32_t hash, const char *v,
                       size_t vn, const struct escaper *e) {
        *p++ = ' ';
        p = put_sd_name(p, name, name_len, hash);
        *p++ = '=';
        *p++ = '"';
        p = escape(p, v, vn, e);
        *p++ = '"';
        return p;
}

/* The exact length put_param() writes. */
static size_t param_len(size_t name_len, const char *v, size_t vn, const struct escaper *e) {
        return 1 + (name_len < SD_NAME_MAX ? name_len : SD_NAME_MAX) + 3 + escaped_len(v, vn, e);
}

static const char *field_text(const struct rfield *fl, char *num, size_t *ret_len) {
        if (fl->type == TRAIL_FIELD_STR || fl->type == TRAIL_FIELD_BYTES) {
                *ret_len = fl->len;
                return fl->v.s;
        }
        *ret_len = rfield_render_value(fl, num);
        return num;
}

/* With a maximum length, the n fields are taken from the highest
 * precedence (the last: the call's own) down, each kept when it fits in
 * room: a field too big to fit is left out, and so are the fields of
 * lowest precedence (global, then context) once room runs out, but one
 * huge value does not push out the small fields before it (a request id,
 * say). Marks the kept ones in keep; returns how many are left out. */
#define KEEP_MAX RECORD_FIELDS_MAX
static size_t fields_to_keep(const struct trail_record *r, size_t n, size_t room, uint64_t *keep,
                             const struct escaper *e) {
        size_t left_out = 0;
        char num[32];

        memset(keep, 0, (KEEP_MAX + 63) / 64 * sizeof(uint64_t));
        for (size_t i = n; i-- > 0;) {
                size_t vn;
                const char *v = field_text(&r->fields[i], num, &vn);
                size_t len = param_len(r->fields[i].name_len, v, vn, e);
                if (i < KEEP_MAX && len <= room) {
                        keep[i / 64] |= UINT64_C(1) << (i % 64);
                        room -= len;
                } else
                        left_out++;
        }
        return left_out;
}

static size_t param_bound(size_t name_len, size_t vn) {
        return 1 + (name_len < SD_NAME_MAX ? name_len : SD_NAME_MAX) + 3 + 4 * vn;
}

/* The most the record can take, and its MESSAGE_ID (the MSGID). */
static size_t record_bound(const struct rfc5424 *x, const struct trail_record *r, size_t logger_len,
                           const char **msgid, size_t *msgid_len, bool *long_names) {
        const trail_source *src = r->src;
        size_t bound;

        bound = 8 + 40 + HOSTNAME_MAX + APP_NAME_MAX + PROCID_MAX + MSGID_MAX + 8 +
                strlen(x->sd_id) + 2 + param_bound(6, logger_len) + param_bound(9, src->file_len) +
                param_bound(9, 12) + param_bound(9, src->func_len) + param_bound(3, 12) + 3 +
                4 * r->message_len + STRLEN(TRUNCATION_MARK) + PARAM_TRUNCATED_MAX;
        for (size_t i = 0; i < r->n_fields; i++) {
                const struct rfield *fl = &r->fields[i];
                bound += param_bound(fl->name_len, rfield_value_bound(fl));
                *long_names |= fl->name_len > SD_NAME_MAX;
                if (fl->name_len == STRLEN("MESSAGE_ID") &&
                    memcmp(fl->name, "MESSAGE_ID", 10) == 0 && fl->type == TRAIL_FIELD_STR)
                        *msgid = fl->v.s, *msgid_len = fl->len;
        }
        return bound;
}

/* The fields of r as SD-PARAMs, fit to max (fields_to_keep()), then
 * TRUNCATED_FIELDS when any is left out. */
/* CODE_FILE, CODE_LINE, CODE_FUNC; none of what a location given to
 * trail_log_with_location() leaves out (NULL). */
static char *put_location(char *p, const trail_source *src, const struct escaper *ev) {
        char num[24];

        if (src->file) {
                p = put_param(p, "CODE_FILE", 9, 0, src->file, src->file_len, ev);
                p = put_param(p, "CODE_LINE", 9, 0, num, format_int(num, src->line), ev);
        }
        if (src->func)
                p = put_param(p, "CODE_FUNC", 9, 0, src->func, src->func_len, ev);
        return p;
}

static char *put_fields(char *p, const char *start, const struct trail_record *r, size_t max,
                        size_t bound, bool long_names, const struct escaper *ev) {
        char num[32];

        /* TRUNCATED_FIELDS, when the record has it, is rendered last with
         * the fields left out here added */
        const struct rfield *tf = record_truncated(r);
        size_t n_fields = r->n_fields - (tf != NULL), skip = 0;
        uint64_t truncated = tf ? tf->v.u : 0, keep[(KEEP_MAX + 63) / 64];
        uint32_t hashes[RECORD_FIELDS_MAX];
        if (long_names)
                sd_name_hashes(r, n_fields < RECORD_FIELDS_MAX ? n_fields : RECORD_FIELDS_MAX,
                               hashes);
        bool all = true;
        if (max > 0 && bound > max) {
                size_t used = (size_t) (p - start) + 1 + PARAM_TRUNCATED_MAX + MIN_MSG;
                skip = fields_to_keep(r, n_fields, used < max ? max - used : 0, keep, ev);
                all = false;
        }
        for (size_t i = 0; i < n_fields; i++) {
                size_t vn;
                if (!all && (i >= KEEP_MAX || !(keep[i / 64] & (UINT64_C(1) << (i % 64)))))
                        continue;
                const char *v = field_text(&r->fields[i], num, &vn);
                p = put_param(p, r->fields[i].name, r->fields[i].name_len,
                              r->fields[i].name_len > SD_NAME_MAX && i < RECORD_FIELDS_MAX
                                      ? hashes[i]
                                      : 0,
                              v, vn, ev);
        }
        if (skip > 0)
                __atomic_add_fetch(&trail_stat_fields_dropped, skip, __ATOMIC_RELAXED);
        if (truncated + skip > 0)
                p = put_param(p, "TRUNCATED_FIELDS", 16, 0, num, format_uint(num, truncated + skip),
                              ev);
        return p;
}

static int rfc5424_format(const trail_formatter *f, const struct trail_record *r,
                          const struct format_frame *fr, es_str_t **buf) {
        const struct rfc5424 *x = (const struct rfc5424 *) f;
        const trail_source *src = r->src;
        const struct escaper *ev = fr->length_framed ? &sd_value_raw : &sd_value;
        const struct escaper *em = fr->length_framed ? &msg_raw : &msg_text;
        size_t logger_len, max = x->max_length ? x->max_length : fr->max;
        const char *logger = record_logger_name(r, &logger_len);
        const char *msgid = NULL;
        size_t msgid_len = 0, bound, start_len = (*buf)->lenStr;
        bool long_names = false;
        char num[32], *p, *start;

        bound = record_bound(x, r, logger_len, &msgid, &msgid_len, &long_names);
        if (buf_reserve(buf, bound) < 0)
                return -ENOMEM;
        p = start = (char *) es_getBufAddr(*buf) + start_len;

        /* HEADER (§6.2) */
        int facility = x->facility >= 0 ? x->facility : facility_get();
        *p++ = '<';
        p += format_int(p, facility * 8 + r->level);
        memcpy(p, ">1 ", 3);
        p += 3;
        p += format_rfc3339(p, &r->time, x->utc ? RFC3339_UTC : RFC3339_LOCAL);
        *p++ = ' ';
        p = put_header(p, x->hostname, strlen(x->hostname), HOSTNAME_MAX);
        *p++ = ' ';
        if (x->app_name[0])
                p = put_header(p, x->app_name, strlen(x->app_name), APP_NAME_MAX);
        else {
                const struct ident *id = ident_get();
                if (!id)
                        return -ENOMEM;
                p = put_header(p, id->field + STRLEN("SYSLOG_IDENTIFIER="),
                               id->len - STRLEN("SYSLOG_IDENTIFIER="), APP_NAME_MAX);
        }
        *p++ = ' ';
        p += format_int(p, pid_get());
        *p++ = ' ';
        p = put_header(p, msgid, msgid_len, MSGID_MAX);
        *p++ = ' ';

        /* STRUCTURED-DATA (§6.3): one element with every field. */
        *p++ = '[';
        p = stpcpy(p, x->sd_id);
        p = put_param(p, "LOGGER", 6, 0, logger, logger_len, ev);
        p = put_location(p, src, ev);
        p = put_param(p, "TID", 3, 0, num, format_int(num, r->tid), ev);
        p = put_fields(p, start, r, max, bound, long_names, ev);
        *p++ = ']';

        /* MSG (§6.4): a BOM, then UTF-8, cut to the maximum length at a
         * character boundary and marked, never split into a second record. */
        if (r->message_len > 0) {
                size_t used = (size_t) (p - start), room, consumed;
                if (max > 0 && used + 4 + STRLEN(TRUNCATION_MARK) > max) {
                        (*buf)->lenStr += (es_size_t) used; /* the header and SD alone: no MSG */
                        if (used <= max)                    /* else the handler cuts, and counts */
                                atomic_inc(&trail_stat_truncated);
                        return 0;
                }
                room = max > 0 ? max - used - 4 : SIZE_MAX;
                memcpy(p, " \xef\xbb\xbf", 4);
                p += 4;
                char *m = escape_cut(p, r->message, r->message_len, em, room, &consumed);
                if (consumed < r->message_len) {
                        m = escape_cut(p, r->message, r->message_len, em,
                                       room - STRLEN(TRUNCATION_MARK), NULL);
                        m = stpcpy(m, TRUNCATION_MARK);
                        atomic_inc(&trail_stat_truncated);
                }
                p = m;
        }
        (*buf)->lenStr += (es_size_t) (p - start);
        return 0;
}

const struct formatter_ops format_rfc5424_ops = {
        .name = "rfc5424",
        .size = sizeof(struct rfc5424),
        .init = rfc5424_init,
        .set = rfc5424_set,
        .format = rfc5424_format,
};
