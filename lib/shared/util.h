/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Generic helpers with no knowledge of records, loggers or handlers:
 * growing buffers, numbers and times rendered without snprintf, option
 * values parsed, the monotonic clock, the cached pid and host name, and the
 * names of levels and syslog facilities. Includes only libc and libestr. */
#pragma once

#include <libestr.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* ---- Buffers ----------------------------------------------------------- */

/* Room for extra more bytes in *b: 0, -E2BIG past 2 GiB, or -ENOMEM. */
int buf_reserve(es_str_t **b, size_t extra);
/* A buffer grown past 64 KiB by one large record is replaced by one of keep
 * bytes, so that one record does not pin its size for the thread's life. */
void buf_trim(es_str_t **b, es_size_t keep);

/* ---- Numbers ----------------------------------------------------------- */

/* Numbers rendered without snprintf; returns the length written. */
size_t format_int(char *out, int64_t v);
size_t format_uint(char *out, uint64_t v);
size_t format_double(char *out, double v); /* at most 32 bytes */

/* ---- Time -------------------------------------------------------------- */

/* CLOCK_MONOTONIC in microseconds: every deadline and interval of the
 * library is measured on it. */
uint64_t now_usec(void);

/* How an RFC 3339 (§5.6) time is written: the moment in UTC ("…Z"), or the
 * local time with its offset, where a zero offset is "Z" (RFC 5424 §6.2.3
 * allows either; the formatters' output) or "+00:00" (every local time the
 * same width: journald's SYSLOG_TIMESTAMP=). */
enum rfc3339_zone {
        RFC3339_UTC,
        RFC3339_LOCAL,
        RFC3339_LOCAL_NUMERIC,
};
#define RFC3339_MAX 40
/* RFC 3339 with microseconds: "2026-11-25T20:31:00.123456+01:00". A year
 * outside 0000..9999 (RFC 3339 has four digits) is written as the epoch, a
 * leap second as :59 (RFC 5424 §6.2.3.1). Returns the length; out has
 * RFC3339_MAX bytes. */
size_t format_rfc3339(char *out, const struct timespec *ts, enum rfc3339_zone zone);
/* format_rfc3339(), cached per thread and second (gmtime_r() and
 * localtime_r() take glibc's time zone lock). At most RFC3339_MAX bytes. */
char *format_time(char *p, const struct timespec *ts, bool utc);

/* ---- The process ------------------------------------------------------- */

pid_t pid_get(void); /* getpid(), cached, refreshed in a child after fork() */
/* gethostname(), or "localhost"; never a DNS query. */
void local_hostname(char *out, size_t size);

/* ---- Option values ----------------------------------------------------- */

/* 1 or 0 ("1", "yes", "true", "on" / "0", "no", "false", "off"), -EINVAL. */
int parse_bool(const char *s);
/* "65536", "64K", "64KiB", "1M": bytes (binary suffixes). */
int parse_size(const char *s, uint64_t *ret);
/* "500ms", "1s", "2.5s", "100us", "1min", "1h"; a bare number is seconds. */
int parse_duration_usec(const char *s, uint64_t *ret);
/* gmtime_r() (utc) or localtime_r(), under time_zone_lock (see util.c). */
struct tm *broken_down_time(const time_t *t, bool utc, struct tm *tm);
extern pthread_mutex_t time_zone_lock;
/* A handler's timeout: a duration above 0 and at most an hour; -EINVAL else. */
#define TIMEOUT_MAX_USEC (3600ULL * 1000000)
int parse_timeout_usec(const char *s, uint64_t *ret);

/* ---- Names ------------------------------------------------------------- */

/* The eight levels (syslog priorities 0..7), lower case, and their lengths. */
extern const char *const level_lower[8];
extern const unsigned char level_lower_len[8];

/* RFC 5424 §6.2.1 facilities as syslog.conf spells them, or 0..23. */
int syslog_facility_parse(const char *s);
const char *syslog_facility_name(int facility); /* "?" when out of range */

/* Waits until fd has one of events, or deadline (monotonic µs) passes:
 * 0, -ETIMEDOUT, or poll()'s error. */
int poll_until(int fd, short events, uint64_t deadline);
