/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stream handler: one line per record on a file descriptor, written
 * with one write() so lines from several threads do not interleave. Its text
 * line is also where the journald handler falls back to. Every control
 * character and invalid UTF-8 byte is escaped, so a value cannot forge a
 * line (CWE-117). */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "trail-private.h"

struct stream_handler {
        trail_handler base;
        int fd;
};

static const char *const level_upper[] = {
        "EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG",
};

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_sequence_len(const unsigned char *s, size_t n) {
        unsigned char c = s[0];
        size_t len;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
                len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
                len = 4, cp = c & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

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

static char *put_time(char *p, const struct timespec *ts) {
        struct tm tm;
        char tmp[48];
        long off;
        int n;

        if (!localtime_r(&ts->tv_sec, &tm))
                return p;
        off = tm.tm_gmtoff / 60;
        n = snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06ld%c%02ld:%02ld ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts->tv_nsec / 1000, off < 0 ? '-' : '+',
                     (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
        if (n <= 0 || (size_t) n >= sizeof(tmp))
                return p;
        memcpy(p, tmp, (size_t) n);
        return p + n;
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

/* "2026-11-25T20:31:00.123456+01:00 INFO myapp.db: message KEY=value …" */
int stream_write_text(int fd, const struct trail_record *r) {
        struct tls_state *t = tls_state_get();
        size_t bound = 48 + 12 + r->logger->field_len + 2 + 4 * r->message_len + 1;
        char value[32];
        char *p, *start;

        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < r->n_fields; i++)
                bound += 1 + r->fields[i].name_len + 1 + 4 * rfield_value_bound(&r->fields[i]) + 2;
        es_emptyStr(t->render);
        if (buf_reserve(&t->render, bound) < 0)
                return -ENOMEM;
        p = start = (char *) es_getBufAddr(t->render);

        p = put_time(p, &r->time);
        size_t ln = strlen(level_upper[r->level]);
        memcpy(p, level_upper[r->level], ln);
        p += ln;
        *p++ = ' ';
        memcpy(p, r->logger->name, r->logger->field_len - STRLEN("LOGGER="));
        p += r->logger->field_len - STRLEN("LOGGER=");
        *p++ = ':';
        *p++ = ' ';
        p = escape(p, r->message, r->message_len, false);

        for (size_t i = 0; i < r->n_fields; i++) {
                const struct rfield *f = &r->fields[i];
                const char *v;
                size_t vn;

                *p++ = ' ';
                memcpy(p, f->name, f->name_len);
                p += f->name_len;
                *p++ = '=';
                if (f->type == TRAIL_FIELD_STR || f->type == TRAIL_FIELD_BYTES)
                        v = f->v.s, vn = f->len;
                else
                        v = value, vn = rfield_render_value(f, value);
                if (needs_quotes(v, vn)) {
                        *p++ = '"';
                        p = escape(p, v, vn, true);
                        *p++ = '"';
                } else {
                        memcpy(p, v, vn);
                        p += vn;
                }
        }
        *p++ = '\n';
        return write_all(fd, start, (size_t) (p - start));
}

static int stream_emit(trail_handler *h, const struct trail_record *r, bool *fell_back) {
        (void) fell_back;
        return stream_write_text(((struct stream_handler *) h)->fd, r);
}

static void stream_free(trail_handler *h) {
        free(h);
}

static const struct handler_ops stream_ops = {
        .type = "stream",
        .emit = stream_emit,
        .free = stream_free,
};

_public_ trail_handler *trail_handler_stream(int fd, const char *format) {
        struct stream_handler *s;

        if (fd < 0 || (format && strcmp(format, "text") != 0)) {
                errno = EINVAL;
                return NULL;
        }
        s = calloc(1, sizeof(*s));
        if (!s) {
                errno = ENOMEM;
                return NULL;
        }
        handler_init(&s->base, &stream_ops);
        s->fd = fd;
        return &s->base;
}
