/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Formatters in general: the registry of formatters by name, their
 * reference counting and options, and the helpers they share (the escaper,
 * RFC 3339 time). Each formatter lives in its own format-*.c. */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "trail-private.h"

static const struct formatter_ops *const formatters[] = {
        &format_text_ops,
        &format_rfc5424_ops,
        &format_rfc3164_ops,
        &format_json_ops,
        &format_logfmt_ops,
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
        struct tls_state *t;
        es_str_t *s;
        int k;

        if (!f || !r || (!buf && size > 0))
                return -EINVAL;
        /* rendered into the thread's buffer: no allocation per record */
        t = tls_state_get();
        if (!t)
                return -ENOMEM;
        if (!t->formatted && !(t->formatted = es_newStr(256)))
                return -ENOMEM;
        es_emptyStr(t->formatted);
        k = f->ops->format(f, r, 0, &t->formatted);
        s = t->formatted;
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
        buf_trim(&t->formatted, 256);
        return k;
}

/* ---- Escaping ----------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0; *ret_skip is how many bytes to
 * consume: the sequence, or the maximal invalid subpart (Unicode §3.9). */
static inline size_t utf8_scan(const unsigned char *s, size_t n, size_t *ret_skip) {
        unsigned char c = s[0], lo = 0x80, hi = 0xbf;
        size_t len;

        if (c >= 0xc2 && c <= 0xdf)
                len = 2;
        else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                if (c == 0xe0)
                        lo = 0xa0; /* overlong */
                else if (c == 0xed)
                        hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                if (c == 0xf0)
                        lo = 0x90; /* overlong */
                else if (c == 0xf4)
                        hi = 0x8f; /* above U+10FFFF */
        } else {
                *ret_skip = 1;
                return 0;
        }
        /* unrolled: this is the escapers' inner loop for non-ASCII text */
        if (n < 2 || s[1] < lo || s[1] > hi) {
                *ret_skip = 1;
                return 0;
        }
        if (len > 2 && (n < 3 || (s[2] & 0xc0) != 0x80)) {
                *ret_skip = 2;
                return 0;
        }
        if (len > 3 && (n < 4 || (s[3] & 0xc0) != 0x80)) {
                *ret_skip = 3;
                return 0;
        }
        *ret_skip = len;
        return len;
}

static const char hex_digits[] = "0123456789abcdef";

/* The C1 controls U+0080..U+009F and U+2028/U+2029, in a valid sequence of
 * len bytes: a terminal acts on the first, some readers break lines at the
 * others. */
static bool utf8_is_control(const unsigned char *s, size_t len) {
        return (len == 2 && s[0] == 0xc2 && s[1] < 0xa0) ||
               (len == 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9));
}

static char *put_hex(char *p, unsigned char c) {
        *p++ = '\\', *p++ = 'x', *p++ = hex_digits[c >> 4], *p++ = hex_digits[c & 15];
        return p;
}

/* JSON's "\uNNNN", for a code point below U+10000. */
static char *put_u(char *p, unsigned cp) {
        *p++ = '\\', *p++ = 'u';
        for (int k = 12; k >= 0; k -= 4)
                *p++ = hex_digits[(cp >> k) & 15];
        return p;
}

char *escape_cut(char *p, const char *s, size_t n, const struct escaper *e, size_t room,
                 size_t *ret_consumed) {
        const unsigned char *u = (const unsigned char *) s, *tab = e->byte;
        size_t i = 0, len, skip;

        while (i < n) {
                /* The fast path: what is written as it is, ASCII and valid
                 * UTF-8 alike, in one copy. */
                size_t run = i;
                while (run + 4 <= n && (tab[u[run]] | tab[u[run + 1]] | tab[u[run + 2]] |
                                        tab[u[run + 3]]) == ESC_COPY)
                        run += 4;
                for (;;) {
                        while (run < n && tab[u[run]] == ESC_COPY)
                                run++;
                        if (run == n || tab[u[run]] != ESC_UTF8 ||
                            (len = utf8_scan(u + run, n - run, &skip)) == 0 ||
                            utf8_is_control(u + run, len))
                                break;
                        run += len;
                }
                if (run - i > room) {
                        /* cut before the character that does not fit: in
                         * the run, a byte that is no continuation byte
                         * starts one */
                        run = i + room;
                        while (run > i && (u[run] & 0xc0) == 0x80)
                                run--;
                        p = mempcpy(p, u + i, run - i);
                        i = run;
                        break;
                }
                p = mempcpy(p, u + i, run - i);
                room -= run - i;
                i = run;
                if (i == n)
                        break;

                /* u[i] is to be escaped (ESC_COPY would be in the run) */
                unsigned char c = u[i], a = tab[c];
                if (a > ESC_UTF8) {
                        if (room < 2)
                                break;
                        *p++ = '\\', *p++ = (char) a;
                        room -= 2;
                        i++;
                } else if (a == ESC_HEX) {
                        if (room < (e->json ? 6u : 4u))
                                break;
                        p = e->json ? put_u(p, c) : put_hex(p, c);
                        room -= e->json ? 6 : 4;
                        i++;
                } else if ((len = utf8_scan(u + i, n - i, &skip)) > 0) {
                        /* a control: any other valid sequence is in the run */
                        if (e->json) {
                                unsigned cp = len == 2 ? (c & 0x1fu) << 6 | (u[i + 1] & 0x3fu)
                                                       : (c & 0x0fu) << 12 |
                                                                 (u[i + 1] & 0x3fu) << 6 |
                                                                 (u[i + 2] & 0x3fu);
                                if (room < 6)
                                        break;
                                p = put_u(p, cp);
                                room -= 6;
                        } else {
                                if (room < 4 * len)
                                        break;
                                for (size_t k = 0; k < len; k++)
                                        p = put_hex(p, u[i + k]);
                                room -= 4 * len;
                        }
                        i += len;
                } else if (e->invalid == ESCAPE_INVALID_HEX) {
                        if (room < 4)
                                break;
                        p = put_hex(p, c);
                        room -= 4;
                        i++;
                } else {
                        if (room < 3)
                                break;
                        p = mempcpy(p, "\xef\xbf\xbd", 3);
                        room -= 3;
                        i += e->invalid == ESCAPE_INVALID_SUBPART ? skip : 1;
                }
        }
        if (ret_consumed)
                *ret_consumed = i;
        return p;
}

/* escape_cut() into a scratch buffer, piece by piece: the length is the
 * escaper's own, not a second copy of its rules. */
size_t escaped_len(const char *s, size_t n, const struct escaper *e) {
        char scratch[256]; /* the longest escape, U+2028 as "\xNN" thrice, fits */
        size_t total = 0;

        while (n > 0) {
                size_t used;
                total += (size_t) (escape_cut(scratch, s, n, e, sizeof(scratch), &used) - scratch);
                s += used;
                n -= used;
        }
        return total;
}

bool value_needs_quotes(const char *s, size_t n) {
        static const bool quote[256] = {
                [0x00 ... ' '] = true, ['"'] = true, ['='] = true, ['\\'] = true, [0x7f ... 0xff] = true,
        };
        const unsigned char *u = (const unsigned char *) s;
        size_t i = 0;

        if (n == 0)
                return true;
        for (; i + 4 <= n; i += 4)
                if (quote[u[i]] | quote[u[i + 1]] | quote[u[i + 2]] | quote[u[i + 3]])
                        return true;
        for (; i < n; i++)
                if (quote[u[i]])
                        return true;
        return false;
}

char *put_value(char *p, const char *s, size_t n, const struct escaper *quoted) {
        if (!value_needs_quotes(s, n))
                return mempcpy(p, s, n);
        *p++ = '"';
        p = escape(p, s, n, quoted);
        *p++ = '"';
        return p;
}

char *put_message(char *p, const char *s, size_t n, const struct escaper *bare,
                  const struct escaper *quoted) {
        if (n > 0 && s[0] != '"' && !memchr(s, '=', n))
                return escape(p, s, n, bare);
        *p++ = '"';
        p = escape(p, s, n, quoted);
        *p++ = '"';
        return p;
}

/* ---- Shared helpers ----------------------------------------------------- */

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

/* gethostname(), which is the FQDN when the host is set up with one; no
 * DNS query (it could block the logging thread for seconds). */
void local_hostname(char *out, size_t size) {
        if (gethostname(out, size) < 0 || out[0] == '\0')
                snprintf(out, size, "%s", "localhost");
        out[size - 1] = '\0';
}

/* getpid() is a system call since glibc 2.25; records need it often. */
static pid_t pid_cached;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

static void pid_after_fork_in_child(void) {
        __atomic_store_n(&pid_cached, getpid(), __ATOMIC_RELAXED);
}

static void pid_init(void) {
        __atomic_store_n(&pid_cached, getpid(), __ATOMIC_RELAXED);
        (void) pthread_atfork(NULL, NULL, pid_after_fork_in_child);
}

pid_t pid_get(void) {
        pthread_once(&pid_once, pid_init);
        return __atomic_load_n(&pid_cached, __ATOMIC_RELAXED);
}

/* ---- Option values ------------------------------------------------------ */

int parse_bool(const char *s) {
        static const char *const yes[] = { "1", "yes", "true", "on" }, *const no[] = { "0", "no", "false", "off" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        }
        return -EINVAL;
}

/* "65536", "64K", "64KiB", "1M": bytes (binary suffixes). */
int parse_size(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;
        uint64_t mul = 1;

        if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s)
                return -EINVAL;
        if (*end) {
                if (strcasecmp(end, "k") == 0 || strcasecmp(end, "kib") == 0)
                        mul = 1024;
                else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "mib") == 0)
                        mul = 1024 * 1024;
                else if (strcasecmp(end, "g") == 0 || strcasecmp(end, "gib") == 0)
                        mul = 1024 * 1024 * 1024;
                else
                        return -EINVAL;
        }
        if (v > UINT64_MAX / mul)
                return -ERANGE;
        *ret = v * mul;
        return 0;
}

/* "500ms", "1s", "2.5s", "100us", "1min"; a bare number is seconds. */
int parse_duration_usec(const char *s, uint64_t *ret) {
        char *end;
        double v;

        if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || !(v >= 0) || v > 1e12)
                return -EINVAL;
        if (*end == '\0' || strcmp(end, "s") == 0)
                v *= 1e6;
        else if (strcmp(end, "ms") == 0)
                v *= 1e3;
        else if (strcmp(end, "us") == 0)
                ;
        else if (strcmp(end, "min") == 0)
                v *= 60e6;
        else if (strcmp(end, "h") == 0)
                v *= 3600e6;
        else
                return -EINVAL;
        *ret = (uint64_t) v;
        return 0;
}

/* Names of RFC 5424 §6.2.1 table 1, as syslog.conf spells them, or 0..23. */
static const char *const facility_names[] = {
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
        "uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "clock",
        "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

const char *syslog_facility_name(int facility) {
        return facility >= 0 && facility < (int) ELEMENTSOF(facility_names)
                       ? facility_names[facility]
                       : "?";
}

int syslog_facility_parse(const char *s) {
        char *end;
        long v;

        if (!s || !*s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(facility_names); i++)
                if (strcasecmp(s, facility_names[i]) == 0)
                        return (int) i;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || *end || end == s || v < 0 || v > 23)
                return -EINVAL;
        return (int) v;
}
