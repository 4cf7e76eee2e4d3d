/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Generic helpers (util.h): buffers, numbers, time, the process, option
 * values, level and facility names. Nothing here knows a record. */

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "macro.h"
#include "util.h"

/* ---- Buffers ----------------------------------------------------------- */

#define BUF_KEEP_MAX (64 * 1024) /* larger buffers are released after the record */

int buf_reserve(es_str_t **b, size_t extra) {
        if ((*b)->lenBuf - (*b)->lenStr >= extra)
                return 0;
        if (extra > UINT32_MAX / 2 || (*b)->lenStr > UINT32_MAX / 2)
                return -E2BIG;
        return es_extendBuf(b, (es_size_t) extra) == 0 ? 0 : -ENOMEM;
}

void buf_trim(es_str_t **b, es_size_t keep) {
        if ((*b)->lenBuf <= BUF_KEEP_MAX)
                return;
        es_str_t *n = es_newStr(keep);
        if (n) {
                es_deleteStr(*b);
                *b = n;
        }
}

/* ---- Numbers ----------------------------------------------------------- */

size_t format_uint(char *out, uint64_t v) {
        char tmp[20];
        size_t n = 0, i = 0;

        do
                tmp[n++] = (char) ('0' + v % 10);
        while ((v /= 10) > 0);
        while (n > 0)
                out[i++] = tmp[--n];
        return i;
}

size_t format_int(char *out, int64_t v) {
        if (v < 0) {
                out[0] = '-';
                return 1 + format_uint(out + 1, (uint64_t) 0 - (uint64_t) v);
        }
        return format_uint(out, (uint64_t) v);
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_create(void) {
        c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t) 0);
}

/* The shortest of %.15g and %.17g that reads back as the same double, with
 * a decimal point whatever the program's locale says. */
size_t format_double(char *out, double v) {
        locale_t saved = (locale_t) 0;
        char tmp[40];
        int n;

        if (isnan(v))
                return memcpy(out, "nan", 3), 3;
        if (isinf(v))
                return v < 0 ? (memcpy(out, "-inf", 4), 4) : (memcpy(out, "inf", 3), 3);
        pthread_once(&c_locale_once, c_locale_create);
        if (c_locale)
                saved = uselocale(c_locale);
        n = snprintf(tmp, sizeof(tmp), "%.15g", v);
        if (strtod(tmp, NULL) != v)
                n = snprintf(tmp, sizeof(tmp), "%.17g", v);
        if (saved)
                uselocale(saved);
        if (n < 0 || n > 32)
                n = 0;
        memcpy(out, tmp, (size_t) n);
        return (size_t) n;
}

/* ---- Time -------------------------------------------------------------- */

uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static char *put2(char *p, unsigned v) {
        *p++ = (char) ('0' + v / 10 % 10);
        *p++ = (char) ('0' + v % 10);
        return p;
}

/* gmtime_r() and localtime_r() take glibc's time zone lock, which fork()
 * does not reset: trail's calls take this lock around them, and fork.c holds
 * it across fork(), so that no thread of trail's is inside glibc's lock when
 * the child is made. */
pthread_mutex_t time_zone_lock = PTHREAD_MUTEX_INITIALIZER;

struct tm *broken_down_time(const time_t *t, bool utc, struct tm *tm) {
        struct tm *r;

        pthread_mutex_lock(&time_zone_lock);
        r = utc ? gmtime_r(t, tm) : localtime_r(t, tm);
        pthread_mutex_unlock(&time_zone_lock);
        return r;
}

size_t format_rfc3339(char *out, const struct timespec *ts, enum rfc3339_zone zone) {
        bool utc = zone == RFC3339_UTC;
        struct tm tmb, *tm = &tmb;
        char *p = out;
        long off;
        long usec = ts->tv_nsec / 1000;

        if (!broken_down_time(&ts->tv_sec, utc, tm) || tm->tm_year + 1900 > 9999 ||
            tm->tm_year + 1900 < 0) {
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
        p = put2(p,
                 (unsigned) (tm->tm_sec > 59 ? 59
                                             : tm->tm_sec)); /* RFC 5424 §6.2.3.1: no leap second */
        *p++ = '.';
        p = put2(p, (unsigned) (usec / 10000));
        p = put2(p, (unsigned) (usec / 100 % 100));
        p = put2(p, (unsigned) (usec % 100));
        off = utc ? 0 : tm->tm_gmtoff / 60;
        if (utc || (off == 0 && zone == RFC3339_LOCAL))
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

/* gmtime_r() and localtime_r() take glibc's time zone lock: format each
 * second once per thread and reuse it for the records within it. */
static __thread struct {
        time_t sec;
        bool valid, utc;
        unsigned char head_len, tail_len;
        char head[32], tail[8]; /* "2026-11-25T20:31:00", "+01:00" */
} time_cache;

char *format_time(char *p, const struct timespec *ts, bool utc) {
        long usec = ts->tv_nsec / 1000;

        if (!time_cache.valid || time_cache.sec != ts->tv_sec || time_cache.utc != utc) {
                char full[RFC3339_MAX];
                struct timespec whole = {ts->tv_sec, 0};
                size_t n = format_rfc3339(full, &whole, utc ? RFC3339_UTC : RFC3339_LOCAL);
                /* "YYYY-MM-DDTHH:MM:SS" ".000000" then "Z" or "+hh:mm" */
                if (n < 27 || n - 26 >= sizeof(time_cache.tail)) {
                        memcpy(p, full, n);
                        return p + n;
                }
                memcpy(time_cache.head, full, 19);
                time_cache.head_len = 19;
                time_cache.tail_len = (unsigned char) (n - 26);
                memcpy(time_cache.tail, full + 26, n - 26);
                time_cache.sec = ts->tv_sec;
                time_cache.utc = utc;
                time_cache.valid = true;
        }
        memcpy(p, time_cache.head, time_cache.head_len);
        p += time_cache.head_len;
        *p++ = '.';
        if (usec < 0 || usec > 999999)
                usec = 0;
        for (int k = 5; k >= 0; k--, usec /= 10)
                p[k] = (char) ('0' + usec % 10);
        p += 6;
        memcpy(p, time_cache.tail, time_cache.tail_len);
        return p + time_cache.tail_len;
}

/* ---- Option values ------------------------------------------------------ */

int parse_bool(const char *s) {
        static const char *const yes[] = {"1", "yes", "true", "on"}, *const no[] = {"0", "no",
                                                                                    "false", "off"};

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

/* ---- Names ------------------------------------------------------------ */

/* Names of RFC 5424 §6.2.1 table 1, as syslog.conf spells them, or 0..23. */
static const char *const facility_names[] = {
        "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
        "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "clock",
        "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7",
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

/* The levels' names: trail_level_name(), the formatters' "level". */
const char *const level_lower[8] = {
        "emergency", "alert", "critical", "error", "warning", "notice", "info", "debug",
};
const unsigned char level_lower_len[8] = {9, 5, 8, 5, 7, 6, 4, 5};

/* Waits until fd has one of events, or deadline (monotonic µs) passes:
 * 0, -ETIMEDOUT, or poll()'s error. */
int poll_until(int fd, short events, uint64_t deadline) {
        for (;;) {
                uint64_t now = now_usec();
                if (now >= deadline)
                        return -ETIMEDOUT;
                struct pollfd p = {.fd = fd, .events = events};
                int ms = (int) ((deadline - now + 999) / 1000);
                int k = poll(&p, 1, ms);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k > 0)
                        return 0;
        }
}

int parse_timeout_usec(const char *s, uint64_t *ret) {
        uint64_t v;
        int k = parse_duration_usec(s, &v);

        if (k < 0 || v == 0 || v > TIMEOUT_MAX_USEC)
                return -EINVAL;
        *ret = v;
        return 0;
}
