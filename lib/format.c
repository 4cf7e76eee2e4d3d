/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Formatters in general: the registry of formatters by name, their
 * reference counting and options, and the helpers they share (UTF-8 checks,
 * RFC 3339 time). Each formatter lives in its own format-*.c. */

#include <stdio.h>
#include <string.h>

#include "trail-private.h"

static const struct formatter_ops *const formatters[] = {
        &format_text_ops,
};

trail_formatter *formatter_new(const struct formatter_ops *ops) {
        trail_formatter *f = calloc(1, ops->size);

        if (!f) {
                errno = ENOMEM;
                return NULL;
        }
        f->ops = ops;
        f->refcount = 1;
        if (ops->init) {
                int r = ops->init(f);
                if (r < 0) {
                        free(f);
                        errno = -r;
                        return NULL;
                }
        }
        return f;
}

_public_ trail_formatter *trail_formatter_new(const char *name) {
        if (!name) {
                errno = EINVAL;
                return NULL;
        }
        for (size_t i = 0; i < ELEMENTSOF(formatters); i++)
                if (strcmp(formatters[i]->name, name) == 0)
                        return formatter_new(formatters[i]);
        errno = EINVAL;
        return NULL;
}

_public_ trail_formatter *trail_formatter_ref(trail_formatter *f) {
        if (f)
                __atomic_add_fetch(&f->refcount, 1, __ATOMIC_RELAXED);
        return f;
}

_public_ trail_formatter *trail_formatter_unref(trail_formatter *f) {
        if (f && __atomic_sub_fetch(&f->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
                PROTECT_ERRNO;
                if (f->ops->done)
                        f->ops->done(f);
                for (size_t i = 0; i < f->n_options; i++)
                        free(f->options[i]);
                free(f->options);
                free(f);
        }
        return NULL;
}

_public_ const char *trail_formatter_name(const trail_formatter *f) {
        return f ? f->ops->name : NULL;
}

/* A formatter in use is read by every logging thread without a lock, so its
 * options are fixed once it is attached: build a new one to change them. */
void formatter_freeze(trail_formatter *f) {
        __atomic_store_n(&f->frozen, true, __ATOMIC_RELEASE);
}

_public_ int trail_formatter_set(trail_formatter *f, const char *key, const char *value) {
        PROTECT_ERRNO;

        if (!f || !key || !value)
                return -EINVAL;
        if (__atomic_load_n(&f->frozen, __ATOMIC_ACQUIRE))
                return -EBUSY;
        if (!f->ops->set)
                return -ENOENT;

        /* Kept for formatter_clone(); room first, so a success is never
         * forgotten. */
        char **o = realloc(f->options, (f->n_options + 2) * sizeof(char *));
        if (!o)
                return -ENOMEM;
        f->options = o;
        o[f->n_options] = strdup(key);
        o[f->n_options + 1] = strdup(value);
        if (!o[f->n_options] || !o[f->n_options + 1]) {
                free(o[f->n_options]);
                free(o[f->n_options + 1]);
                return -ENOMEM;
        }
        int r = f->ops->set(f, key, value);
        if (r < 0) {
                free(o[f->n_options]);
                free(o[f->n_options + 1]);
                return r;
        }
        f->n_options += 2;
        return r;
}

trail_formatter *formatter_clone(const trail_formatter *f) {
        trail_formatter *c = formatter_new(f->ops);

        if (!c)
                return NULL;
        for (size_t i = 0; i < f->n_options; i += 2) {
                int r = trail_formatter_set(c, f->options[i], f->options[i + 1]);
                if (r < 0) {
                        trail_formatter_unref(c);
                        errno = -r;
                        return NULL;
                }
        }
        return c;
}

_public_ int trail_formatter_format(const trail_formatter *f, const trail_record *r, char *buf,
                                    size_t size) {
        PROTECT_ERRNO;
        es_str_t *s;
        int k;

        if (!f || !r || (!buf && size > 0))
                return -EINVAL;
        s = es_newStr(256);
        if (!s)
                return -ENOMEM;
        k = f->ops->format(f, r, &s);
        if (k >= 0) {
                size_t n = s->lenStr;
                if (n > INT32_MAX)
                        k = -E2BIG;
                else {
                        if (size > 0) {
                                size_t c = n < size - 1 ? n : size - 1;
                                memcpy(buf, es_getBufAddr(s), c);
                                buf[c] = '\0';
                        }
                        k = (int) n;
                }
        }
        es_deleteStr(s);
        return k;
}

/* ---- Shared helpers ----------------------------------------------------- */

size_t utf8_sequence_len(const unsigned char *s, size_t n) {
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

bool utf8_is_valid(const char *s, size_t n) {
        const unsigned char *u = (const unsigned char *) s;

        for (size_t i = 0; i < n;) {
                if (u[i] < 0x80) {
                        i++;
                        continue;
                }
                size_t k = utf8_sequence_len(u + i, n - i);
                if (k == 0)
                        return false;
                i += k;
        }
        return true;
}

static char *put2(char *p, unsigned v) {
        *p++ = (char) ('0' + v / 10 % 10);
        *p++ = (char) ('0' + v % 10);
        return p;
}

size_t format_rfc3339(char *out, const struct timespec *ts, bool utc) {
        struct tm tmb, *tm = &tmb;
        char *p = out;
        long off;
        long usec = ts->tv_nsec / 1000;

        if (!(utc ? gmtime_r(&ts->tv_sec, tm) : localtime_r(&ts->tv_sec, tm)) ||
            tm->tm_year + 1900 > 9999 || tm->tm_year + 1900 < 0) {
                memcpy(out, "1970-01-01T00:00:00.000000Z", 27);
                return 27;
        }
        unsigned year = (unsigned) tm->tm_year + 1900;
        p = put2(p, year / 100);
        p = put2(p, year % 100);
        *p++ = '-';
        p = put2(p, (unsigned) tm->tm_mon + 1);
        *p++ = '-';
        p = put2(p, (unsigned) tm->tm_mday);
        *p++ = 'T';
        p = put2(p, (unsigned) tm->tm_hour);
        *p++ = ':';
        p = put2(p, (unsigned) tm->tm_min);
        *p++ = ':';
        p = put2(p, (unsigned) (tm->tm_sec > 59 ? 59 : tm->tm_sec)); /* RFC 5424 §6.2.3.1: no leap second */
        *p++ = '.';
        p = put2(p, (unsigned) (usec / 10000));
        p = put2(p, (unsigned) (usec / 100 % 100));
        p = put2(p, (unsigned) (usec % 100));
        off = utc ? 0 : tm->tm_gmtoff / 60;
        if (utc || off == 0)
                *p++ = 'Z';
        else {
                *p++ = off < 0 ? '-' : '+';
                if (off < 0)
                        off = -off;
                p = put2(p, (unsigned) (off / 60));
                *p++ = ':';
                p = put2(p, (unsigned) (off % 60));
        }
        return (size_t) (p - out);
}
