/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * trail.h — structured logging for Linux daemons, native to journald.
 *
 * The one public header of libtrail. Its comments are the short reference;
 * the man pages (trail(7) and one trail_*(3) page per family) are the long one.
 */
#ifndef TRAIL_H
#define TRAIL_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TRAIL__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TRAIL__PRINTF(fmt, args)
#endif

/* Levels are syslog priorities (RFC 5424 severities): lower is more severe. */
enum trail_level {
        TRAIL_EMERGENCY = 0,
        TRAIL_ALERT = 1,
        TRAIL_CRITICAL = 2,
        TRAIL_ERROR = 3,
        TRAIL_WARNING = 4,
        TRAIL_NOTICE = 5,
        TRAIL_INFO = 6,
        TRAIL_DEBUG = 7,
};
#define TRAIL_LEVEL_INHERIT (-1)

/* "emergency", "alert", "critical", "error", "warning", "notice", "info",
 * "debug"; NULL for anything else. */
const char *trail_level_name(int level);
/* Level names, syslog short names ("emerg", "crit", "err", "warn", …) in any
 * case, or "0".."7". Returns the level, or -EINVAL. */
int trail_level_parse(const char *s);

/* ---- Loggers ---------------------------------------------------------- */

/* Opaque. Loggers live for the whole process and are never freed by users. */
typedef struct trail_logger trail_logger;

/* "myapp.db"; NULL or "" is the root logger (named "root"). The same name
 * always gives the same pointer. Invalid name → NULL with errno = EINVAL. */
trail_logger *trail_get(const char *name);
const char *trail_logger_name(const trail_logger *lg);
/* 0..7, or TRAIL_LEVEL_INHERIT to follow the nearest ancestor. */
int trail_logger_set_level(trail_logger *lg, int level);
/* The effective level, or -EINVAL for NULL. */
int trail_logger_level(const trail_logger *lg);
int trail_logger_set_propagate(trail_logger *lg, bool propagate);

/* The effective level is the first member of the (otherwise opaque) logger,
 * so that the check is one relaxed load and one compare, with no lock. */
static inline bool trail_enabled(const trail_logger *lg, int level) {
        return lg != NULL &&
               level <= __atomic_load_n((const int *) (const void *) lg, __ATOMIC_RELAXED);
}

/* ---- Fields ------------------------------------------------------------ */

enum trail_field_type {
        TRAIL_FIELD_STR,
        TRAIL_FIELD_INT,
        TRAIL_FIELD_UINT,
        TRAIL_FIELD_DOUBLE,
        TRAIL_FIELD_BOOL,
        TRAIL_FIELD_BYTES,
        TRAIL_FIELD_ERRNO,
};

/* One typed field. Build it with the TRAIL_STR() … macros below; its name
 * and value are borrowed for the duration of the call only. */
typedef struct trail_field {
        const char *name;
        int type; /* enum trail_field_type */
        union {
                const char *s;
                int64_t i;
                uint64_t u;
                double d;
                bool b;
                const void *p;
        } value;
        size_t len; /* TRAIL_FIELD_BYTES only */
} trail_field;

typedef struct trail_fields {
        const trail_field *fields;
        size_t n;
} trail_fields;

/* Journald field names: A-Z, 0-9 and '_', not starting with a digit or '_',
 * at most 64 characters. Other names are normalised (see trail_fields(3)). */
#ifndef __cplusplus
#define TRAIL_STR(name, v)    ((trail_field){(name), TRAIL_FIELD_STR, {.s = (v)}, 0})
#define TRAIL_INT(name, v)    ((trail_field){(name), TRAIL_FIELD_INT, {.i = (int64_t) (v)}, 0})
#define TRAIL_UINT(name, v)   ((trail_field){(name), TRAIL_FIELD_UINT, {.u = (uint64_t) (v)}, 0})
#define TRAIL_DOUBLE(name, v) ((trail_field){(name), TRAIL_FIELD_DOUBLE, {.d = (double) (v)}, 0})
#define TRAIL_BOOL(name, v)   ((trail_field){(name), TRAIL_FIELD_BOOL, {.b = (bool) (v)}, 0})
#define TRAIL_BYTES(name, ptr, n)                                                                  \
        ((trail_field){(name), TRAIL_FIELD_BYTES, {.p = (ptr)}, (size_t) (n)})
/* ERRNO=; %m in the message then means strerror(errnum). */
#define TRAIL_ERRNO(errnum)                                                                        \
        ((trail_field){"ERRNO", TRAIL_FIELD_ERRNO, {.i = (int64_t) (errnum)}, 0})
#define TRAIL__FIELD_U(name, type, v, n) ((trail_field){(name), (type), {.u = (v)}, (n)})

/* A trail_fields value built on the stack: TRAIL_FIELDS(TRAIL_INT("N", 1), …).
 * In C the array lives until the enclosing block ends. */
#define TRAIL_FIELDS(...)                                                                          \
        ((trail_fields){(const trail_field[]){__VA_ARGS__},                                        \
                        sizeof((const trail_field[]){__VA_ARGS__}) / sizeof(trail_field)})
#define TRAIL_NO_FIELDS ((trail_fields){NULL, 0})
#else
/* C++ has no compound literals and (before C++20) no designated
 * initializers: the same fields from inline functions, and TRAIL_FIELDS()
 * an array object that converts to trail_fields. It lives until the end of
 * the full-expression: pass it to the call, or keep it with
 * "auto f = TRAIL_FIELDS(…);" (not in a trail_fields variable). */
} /* extern "C" */
inline trail_field trail__field(const char *name, int type, size_t len) {
        trail_field f = {};
        f.name = name;
        f.type = type;
        f.len = len;
        return f;
}
inline trail_field trail__field_s(const char *name, const char *s) {
        trail_field f = trail__field(name, TRAIL_FIELD_STR, 0);
        f.value.s = s;
        return f;
}
inline trail_field trail__field_i(const char *name, int type, int64_t i) {
        trail_field f = trail__field(name, type, 0);
        f.value.i = i;
        return f;
}
inline trail_field trail__field_u(const char *name, int type, uint64_t u, size_t len) {
        trail_field f = trail__field(name, type, len);
        f.value.u = u;
        return f;
}
inline trail_field trail__field_d(const char *name, double d) {
        trail_field f = trail__field(name, TRAIL_FIELD_DOUBLE, 0);
        f.value.d = d;
        return f;
}
inline trail_field trail__field_b(const char *name, bool b) {
        trail_field f = trail__field(name, TRAIL_FIELD_BOOL, 0);
        f.value.b = b;
        return f;
}
inline trail_field trail__field_p(const char *name, const void *p, size_t len) {
        trail_field f = trail__field(name, TRAIL_FIELD_BYTES, len);
        f.value.p = p;
        return f;
}
template <size_t N> struct trail__field_array {
        trail_field f[N];
        operator trail_fields() const {
                return trail_fields{f, N};
        }
};
template <typename... T> inline trail__field_array<sizeof...(T)> trail__fields_of(const T &...f) {
        return {{f...}};
}
extern "C" {
#define TRAIL_STR(name, v)               trail__field_s((name), (v))
#define TRAIL_INT(name, v)               trail__field_i((name), TRAIL_FIELD_INT, static_cast<int64_t>(v))
#define TRAIL_UINT(name, v)              trail__field_u((name), TRAIL_FIELD_UINT, static_cast<uint64_t>(v), 0)
#define TRAIL_DOUBLE(name, v)            trail__field_d((name), static_cast<double>(v))
#define TRAIL_BOOL(name, v)              trail__field_b((name), static_cast<bool>(v))
#define TRAIL_BYTES(name, ptr, n)        trail__field_p((name), (ptr), static_cast<size_t>(n))
#define TRAIL_ERRNO(errnum)              trail__field_i("ERRNO", TRAIL_FIELD_ERRNO, static_cast<int64_t>(errnum))
#define TRAIL__FIELD_U(name, type, v, n) trail__field_u((name), (type), (v), (n))
#define TRAIL_FIELDS(...)                trail__fields_of(__VA_ARGS__)
#define TRAIL_NO_FIELDS                  (trail_fields{NULL, 0})
#endif
/* MESSAGE_ID= (an id128: 32 hex digits), for journal catalogs. */
#define TRAIL_MESSAGE_ID(id128) TRAIL_STR("MESSAGE_ID", id128)

/* ---- Logging ----------------------------------------------------------- */

/* Mutable per-call-site state for sampling and rate limiting (see
 * trail_logger_set_sample(3)); zero-initialised, updated with atomics. Internal. */
typedef struct trail__site {
        uint64_t sampled;    /* records seen by the sampler */
        uint64_t window;     /* rate limit: window number << 32 | records in it */
        uint64_t suppressed; /* rate limit: records dropped, not yet reported */
} trail__site;

/* Where a record was logged; one static instance per call site. */
typedef struct trail_source {
        const char *file;
        const char *func;
        int line;
        unsigned file_len;
        unsigned func_len;
        trail__site *site; /* NULL: the site is never sampled or rate limited */
} trail_source;

/* Internal entry point of the macros below: do not call it directly. The
 * macros test the level first, so no argument is evaluated when disabled.
 * Returns 0, or a negative errno (-EINVAL for a NULL logger or format). */
int trail__log(const trail_logger *lg, int level, const trail_source *src, trail_fields fields,
               int errnum, const char *fmt, ...) TRAIL__PRINTF(6, 7);

/* The level test of the macros: unlike trail_enabled(), a NULL logger passes,
 * so that trail__log() can report it as -EINVAL. */
static inline bool trail__wants(const trail_logger *lg, int level) {
        return lg == NULL ||
               level <= __atomic_load_n((const int *) (const void *) lg, __ATOMIC_RELAXED);
}

#define TRAIL__SOURCE                                                                              \
        { __FILE__, __func__, __LINE__, sizeof(__FILE__) - 1, sizeof(__func__) - 1 }
#define TRAIL__SOURCE_SITE(site)                                                                   \
        { __FILE__, __func__, __LINE__, sizeof(__FILE__) - 1, sizeof(__func__) - 1, (site) }

/* The level test, then the call: fields and format arguments are not
 * evaluated when the level is disabled. Evaluates to trail__log()'s value. */
#define trail__log_at(lg, level, errnum, fields, ...)                                              \
        __extension__({                                                                            \
                static trail__site trail__st;                                                      \
                static const trail_source trail__src = TRAIL__SOURCE_SITE(&trail__st);             \
                const trail_logger *trail__lg = (lg);                                              \
                int trail__lv = (level), trail__r = 0;                                             \
                if (trail__wants(trail__lg, trail__lv))                                            \
                        trail__r = trail__log(trail__lg, trail__lv, &trail__src, (fields),         \
                                              (errnum), __VA_ARGS__);                              \
                trail__r;                                                                          \
        })

#define trail_log_with(lg, level, fields, ...) trail__log_at(lg, level, 0, fields, __VA_ARGS__)
#define trail_log(lg, level, ...)              trail_log_with(lg, level, TRAIL_NO_FIELDS, __VA_ARGS__)

#define trail_emergency(lg, ...) trail_log(lg, TRAIL_EMERGENCY, __VA_ARGS__)
#define trail_alert(lg, ...)     trail_log(lg, TRAIL_ALERT, __VA_ARGS__)
#define trail_critical(lg, ...)  trail_log(lg, TRAIL_CRITICAL, __VA_ARGS__)
#define trail_error(lg, ...)     trail_log(lg, TRAIL_ERROR, __VA_ARGS__)
#define trail_warning(lg, ...)   trail_log(lg, TRAIL_WARNING, __VA_ARGS__)
#define trail_notice(lg, ...)    trail_log(lg, TRAIL_NOTICE, __VA_ARGS__)
#define trail_info(lg, ...)      trail_log(lg, TRAIL_INFO, __VA_ARGS__)
#define trail_debug(lg, ...)     trail_log(lg, TRAIL_DEBUG, __VA_ARGS__)

#define trail_emergency_with(lg, f, ...) trail_log_with(lg, TRAIL_EMERGENCY, f, __VA_ARGS__)
#define trail_alert_with(lg, f, ...)     trail_log_with(lg, TRAIL_ALERT, f, __VA_ARGS__)
#define trail_critical_with(lg, f, ...)  trail_log_with(lg, TRAIL_CRITICAL, f, __VA_ARGS__)
#define trail_error_with(lg, f, ...)     trail_log_with(lg, TRAIL_ERROR, f, __VA_ARGS__)
#define trail_warning_with(lg, f, ...)   trail_log_with(lg, TRAIL_WARNING, f, __VA_ARGS__)
#define trail_notice_with(lg, f, ...)    trail_log_with(lg, TRAIL_NOTICE, f, __VA_ARGS__)
#define trail_info_with(lg, f, ...)      trail_log_with(lg, TRAIL_INFO, f, __VA_ARGS__)
#define trail_debug_with(lg, f, ...)     trail_log_with(lg, TRAIL_DEBUG, f, __VA_ARGS__)

/* The value of the errno forms: -|e|. A magnitude int cannot hold
 * (INT_MIN) is cut to INT_MAX, as its ERRNO= field is: -INT_MAX. 0 (no
 * error: a bug of the caller) is -ESTRPIPE, as systemd's log_*_errno() have
 * it, so that "return trail_error_errno(…);" always reports a failure. */
static inline int trail__errno_result(int e) {
        return e > 0 ? -e : e == 0 ? -ESTRPIPE : e < -INT_MAX ? -INT_MAX : e;
}

/* Logs with ERRNO=|errnum| (and %m = strerror(|errnum|)); evaluates to
 * trail__errno_result(errnum) whether or not the level is enabled, for
 * "return trail_error_errno(lg, r, …);". errnum is evaluated first, always. */
#define trail_log_errno_with(lg, level, errnum, fields, ...)                                       \
        __extension__({                                                                            \
                int trail__en = (errnum);                                                          \
                (void) trail__log_at(lg, level, trail__en, fields, __VA_ARGS__);                   \
                trail__errno_result(trail__en);                                                    \
        })
#define trail_log_errno(lg, level, errnum, ...)                                                    \
        trail_log_errno_with(lg, level, errnum, TRAIL_NO_FIELDS, __VA_ARGS__)

#define trail_emergency_errno(lg, e, ...) trail_log_errno(lg, TRAIL_EMERGENCY, e, __VA_ARGS__)
#define trail_alert_errno(lg, e, ...)     trail_log_errno(lg, TRAIL_ALERT, e, __VA_ARGS__)
#define trail_critical_errno(lg, e, ...)  trail_log_errno(lg, TRAIL_CRITICAL, e, __VA_ARGS__)
#define trail_error_errno(lg, e, ...)     trail_log_errno(lg, TRAIL_ERROR, e, __VA_ARGS__)
#define trail_warning_errno(lg, e, ...)   trail_log_errno(lg, TRAIL_WARNING, e, __VA_ARGS__)
#define trail_notice_errno(lg, e, ...)    trail_log_errno(lg, TRAIL_NOTICE, e, __VA_ARGS__)
#define trail_info_errno(lg, e, ...)      trail_log_errno(lg, TRAIL_INFO, e, __VA_ARGS__)
#define trail_debug_errno(lg, e, ...)     trail_log_errno(lg, TRAIL_DEBUG, e, __VA_ARGS__)
#define trail_emergency_errno_with(lg, e, f, ...)                                                  \
        trail_log_errno_with(lg, TRAIL_EMERGENCY, e, f, __VA_ARGS__)
#define trail_alert_errno_with(lg, e, f, ...)                                                      \
        trail_log_errno_with(lg, TRAIL_ALERT, e, f, __VA_ARGS__)
#define trail_critical_errno_with(lg, e, f, ...)                                                   \
        trail_log_errno_with(lg, TRAIL_CRITICAL, e, f, __VA_ARGS__)
#define trail_error_errno_with(lg, e, f, ...)                                                      \
        trail_log_errno_with(lg, TRAIL_ERROR, e, f, __VA_ARGS__)
#define trail_warning_errno_with(lg, e, f, ...)                                                    \
        trail_log_errno_with(lg, TRAIL_WARNING, e, f, __VA_ARGS__)
#define trail_notice_errno_with(lg, e, f, ...)                                                     \
        trail_log_errno_with(lg, TRAIL_NOTICE, e, f, __VA_ARGS__)
#define trail_info_errno_with(lg, e, f, ...) trail_log_errno_with(lg, TRAIL_INFO, e, f, __VA_ARGS__)
#define trail_debug_errno_with(lg, e, f, ...)                                                      \
        trail_log_errno_with(lg, TRAIL_DEBUG, e, f, __VA_ARGS__)

/* ---- Wrappers and bindings (trail_logv(3)) ------------------------------ */

/* trail_log_with() for a va_list, at the place of the trail_logv() call. */
#define trail_logv(lg, level, fields, fmt, ap)                                                     \
        __extension__({                                                                            \
                static trail__site trail__st;                                                      \
                static const trail_source trail__src = TRAIL__SOURCE_SITE(&trail__st);             \
                const trail_logger *trail__lg = (lg);                                              \
                int trail__lv = (level), trail__r = 0;                                             \
                if (trail__wants(trail__lg, trail__lv))                                            \
                        trail__r = trail__logv(trail__lg, trail__lv, &trail__src, (fields), 0,     \
                                               (fmt), (ap));                                       \
                trail__r;                                                                          \
        })
/* Internal: trail__log() for a va_list. */
int trail__logv(const trail_logger *lg, int level, const trail_source *src, trail_fields fields,
                int errnum, const char *fmt, va_list ap) TRAIL__PRINTF(6, 0);

/* For a project's own wrapper macro or a language binding: logs with the
 * caller's source location as CODE_FILE, CODE_LINE and CODE_FUNC (copied as
 * needed). file NULL: no CODE_FILE and CODE_LINE; func NULL: no CODE_FUNC.
 * Tests the level itself (its arguments are evaluated in any case). Returns
 * 0, or a negative errno. */
int trail_log_with_location(const trail_logger *lg, int level, const char *file, int line,
                            const char *func, trail_fields fields, const char *fmt, ...)
        TRAIL__PRINTF(7, 8);
int trail_logv_with_location(const trail_logger *lg, int level, const char *file, int line,
                             const char *func, trail_fields fields, const char *fmt, va_list ap)
        TRAIL__PRINTF(7, 0);

/* ---- Context ------------------------------------------------------------ */

/* Adds fields to every record of this thread until popped. Values are
 * copied. Returns a depth token ≥ 0 for trail_context_pop(), or -errno. */
int trail_context_push(trail_fields fields);
/* Pops back to the state before the push that returned token; a negative
 * token (a failed push) is ignored. */
void trail_context_pop(int token);

static inline void trail__scope_end(const int *token) {
        trail_context_pop(*token);
}
#define TRAIL__CAT2(a, b) a##b
#define TRAIL__CAT(a, b)  TRAIL__CAT2(a, b)
/* Push the fields now, pop them when the enclosing block ends. */
#ifndef __cplusplus
#define TRAIL__SCOPE_GUARD(push)                                                                   \
        __attribute__((cleanup(trail__scope_end), unused)) const int TRAIL__CAT(                   \
                trail__scope_, __COUNTER__) = (push)
#else
} /* extern "C" */
/* C++: the same as an RAII guard. */
struct trail__scope_guard {
        int token;
        explicit trail__scope_guard(int t) : token(t) {
        }
        trail__scope_guard(const trail__scope_guard &) = delete;
        trail__scope_guard &operator=(const trail__scope_guard &) = delete;
        ~trail__scope_guard() {
                trail_context_pop(token);
        }
};
extern "C" {
#define TRAIL__SCOPE_GUARD(push)                                                                   \
        const trail__scope_guard TRAIL__CAT(trail__scope_, __COUNTER__) {                          \
                (push)                                                                             \
        }
#endif
#define TRAIL_SCOPE(...) TRAIL__SCOPE_GUARD(trail_context_push(TRAIL_FIELDS(__VA_ARGS__)))

/* Fields added to every record of every thread (copied); replaces the
 * previous set. TRAIL_NO_FIELDS clears it. Safe while other threads log. */
int trail_set_global_fields(trail_fields fields);

/* SYSLOG_IDENTIFIER / APP-NAME (copied); NULL restores the program name. */
int trail_set_ident(const char *ident);
/* SYSLOG_FACILITY: a syslog facility number 0..23 (default 3, daemon). */
int trail_set_facility(int facility);

/* ---- Handlers ----------------------------------------------------------- */

/* Opaque, reference counted: a constructor returns one reference. */
typedef struct trail_handler trail_handler;

/* Native journald protocol; when journald is absent, a send fails, or
 * journald has no room for the "timeout" option's time (default 5 s), the
 * record goes to stderr instead, and the handler's "failed" count rises. */
trail_handler *trail_handler_journald(void);
/* Writes one line per record to fd (not owned). Formats: "text" (NULL),
 * "json", "logfmt"; see trail_formatter_new(3). */
trail_handler *trail_handler_stream(int fd, const char *format);
/* Appends one line per record to the file at path (made absolute now),
 * created with mode 0640 if absent ("mode" option), with one write() per
 * record (O_APPEND), and reopened when the path names another file or none
 * (logrotate): the path is looked at once a second ("check_interval"
 * option). Formats as trail_handler_stream(). See trail_handler_file(3). */
trail_handler *trail_handler_file(const char *path, const char *format);
/* Every file handler reopens its path before its next record. One atomic
 * add: safe in a signal handler (SIGHUP). Returns 0. */
int trail_reopen(void);
/* Syslog: "unix:/path", "udp://host:port", "tcp://host:port",
 * "tls://host:port" (IPv6 as "[addr]:port"); NULL is "unix:/dev/log".
 * Network targets speak RFC 5424, unix ones RFC 3164 (set "format" to
 * change it). Options by trail_handler_set(): "timeout", "buffer",
 * "max_length", and for TLS "ca", "cert", "key", "verify", "server_name",
 * "priority". See trail_handler_syslog(3). */
trail_handler *trail_handler_syslog(const char *target);
/* journald when its socket is present and it takes the record, else local
 * syslog (/dev/log), else stderr; decided per record. */
trail_handler *trail_handler_auto(void);

/* ---- Async delivery (trail_handler_async(3)) ---- */

/* What a full queue does with a new record. */
enum trail_overflow {
        TRAIL_OVERFLOW_BLOCK,    /* the caller waits for room, up to the timeout */
        TRAIL_OVERFLOW_DROP_NEW, /* the new record is dropped (and counted) */
        TRAIL_OVERFLOW_DROP_OLD, /* the oldest queued record is dropped (and counted) */
};
/* Records are copied into a bounded queue of `capacity` slots (0: 4096) and
 * delivered to inner, in order, by one worker thread. Takes its own
 * reference on inner. NULL with errno set on error. */
trail_handler *trail_handler_async(trail_handler *inner, size_t capacity, int overflow);
/* How long a caller may wait for room (default 1 s); then the record is dropped. */
int trail_handler_async_set_timeout(trail_handler *h, uint64_t usec);
/* Records at this level or more severe are never dropped by DROP_NEW or
 * DROP_OLD: they wait up to the timeout instead (default TRAIL_ERROR;
 * -1: none). */
int trail_handler_async_set_keep_level(trail_handler *h, int level);
/* How long trail_flush(), trail_shutdown() and exit wait for the queue to
 * drain (default 5 s). */
int trail_handler_async_set_flush_timeout(trail_handler *h, uint64_t usec);

/* ---- A flight recorder (trail_handler_memory(3)) ---- */

/* Records less severe than trigger_level are held in a ring of the last
 * `capacity` records (0: 64), one ring per thread, and not sent; a record
 * at trigger_level or more severe sends the ring's records, oldest first,
 * with TRAIL_HELD=1 and their own time, then itself, to target. Takes its
 * own reference on target. Keys for trail_handler_set(): "trigger" (a
 * level), "per_thread" ("no": one ring for all threads; before the first
 * record). NULL with errno set on error. */
trail_handler *trail_handler_memory(trail_handler *target, size_t capacity, int trigger_level);

trail_handler *trail_handler_ref(trail_handler *h);   /* returns h */
trail_handler *trail_handler_unref(trail_handler *h); /* NULL-safe; returns NULL */
static inline void trail_handler_unrefp(trail_handler **h) {
        trail_handler_unref(*h);
}
/* Records less severe than level are ignored by this handler (default: all). */
int trail_handler_set_level(trail_handler *h, int level);

/* The logger takes its own reference. Adding a handler twice is -EEXIST. */
int trail_logger_add_handler(trail_logger *lg, trail_handler *h);
int trail_logger_remove_handler(trail_logger *lg, trail_handler *h); /* -ENOENT */

/* Counters, for a handler or (trail_get_stats) the whole process. */
typedef struct trail_stats {
        uint64_t records;          /* records handled */
        uint64_t delivered;        /* reached their sink */
        uint64_t failed;           /* sink refused or absent: fell back */
        uint64_t lost;             /* not delivered anywhere */
        uint64_t fields_renamed;   /* field names normalised (process only) */
        uint64_t fields_dropped;   /* fields dropped: empty name, over the limit */
        uint64_t dropped;          /* async: records dropped on overflow; memory: overwritten */
        uint64_t queue_high_water; /* async: most queue slots ever in use; memory: records held */
        uint64_t truncated;        /* records cut to fit a sink (process only) */
        uint64_t resent;           /* RELP: records sent again after a reconnect (at most
                                      this many duplicates) */
        uint64_t reserved[6];
} trail_stats;
int trail_handler_get_stats(const trail_handler *h, trail_stats *ret);
int trail_get_stats(trail_stats *ret);

/* ---- Records, as filters, formatters and custom handlers see them -------- */

/* Opaque; valid only during the call that received it. */
typedef struct trail_record trail_record;

/* One field of a record. Names and string values are NOT NUL-terminated:
 * use name_len and len. */
typedef struct trail_field_view {
        const char *name;
        size_t name_len;
        int type; /* enum trail_field_type */
        union {
                const char *s;
                int64_t i;
                uint64_t u;
                double d;
                bool b;
                const void *p;
        } value;
        size_t len; /* TRAIL_FIELD_STR and TRAIL_FIELD_BYTES */
} trail_field_view;

int trail_record_level(const trail_record *r);          /* or -EINVAL */
const char *trail_record_logger(const trail_record *r); /* dotted name */
/* The formatted message (NUL-terminated); its length in *ret_len if not NULL. */
const char *trail_record_message(const trail_record *r, size_t *ret_len);
/* Global, context and call fields, each name once (ERRNO and MESSAGE_ID
 * among them when given). */
size_t trail_record_n_fields(const trail_record *r);
int trail_record_field(const trail_record *r, size_t i, trail_field_view *ret);        /* -ERANGE */
int trail_record_find(const trail_record *r, const char *name, trail_field_view *ret); /* -ENOENT */
/* Where it was logged; any output pointer may be NULL. */
int trail_record_source(const trail_record *r, const char **ret_file, int *ret_line,
                        const char **ret_func);
/* CLOCK_REALTIME at the call, in microseconds since the epoch. */
int64_t trail_record_time_usec(const trail_record *r);
int trail_record_tid(const trail_record *r); /* the thread that logged it */

/* ---- Filters ------------------------------------------------------------ */

/* Returns false to drop the record. Must not log, must not block. */
typedef bool (*trail_filter_fn)(const trail_record *r, void *userdata);

/* Python's semantics: a logger's filters see the records logged to that
 * logger (not those propagated from its children); a handler's see every
 * record it handles. Adding the same fn+userdata twice is -EEXIST;
 * removing one not there is -ENOENT. */
int trail_logger_add_filter(trail_logger *lg, trail_filter_fn fn, void *userdata);
int trail_logger_remove_filter(trail_logger *lg, trail_filter_fn fn, void *userdata);
int trail_handler_add_filter(trail_handler *h, trail_filter_fn fn, void *userdata);
int trail_handler_remove_filter(trail_handler *h, trail_filter_fn fn, void *userdata);

/* ---- Formatters --------------------------------------------------------- */

/* Opaque, reference counted: renders a record as one line of text. */
typedef struct trail_formatter trail_formatter;

/* By name: "text", "json", "logfmt", "rfc5424", "rfc3164". NULL with
 * errno = EINVAL for an unknown name. */
trail_formatter *trail_formatter_new(const char *name);
trail_formatter *trail_formatter_ref(trail_formatter *f);
trail_formatter *trail_formatter_unref(trail_formatter *f); /* NULL-safe; returns NULL */
static inline void trail_formatter_unrefp(trail_formatter **f) {
        trail_formatter_unref(*f);
}
const char *trail_formatter_name(const trail_formatter *f);
/* Options by name (see trail_formatter_new(3)): -ENOENT for an unknown key,
 * -EINVAL for a bad value, -EBUSY once the formatter is set on a handler. */
int trail_formatter_set(trail_formatter *f, const char *key, const char *value);
/* Renders r like snprintf(): writes at most size bytes including the NUL and
 * returns the full length, or a negative errno. */
int trail_formatter_format(const trail_formatter *f, const trail_record *r, char *buf, size_t size);

/* The handler takes a reference. -EOPNOTSUPP for a handler that renders no
 * text (journald). */
int trail_handler_set_formatter(trail_handler *h, trail_formatter *f);
/* Handler options by name, as trail.conf(5) spells them: "level", "format",
 * the type's own (see its man page), and the formatter's. -ENOENT for an
 * unknown key, -EINVAL for a bad value. */
int trail_handler_set(trail_handler *h, const char *key, const char *value);

/* ---- Custom and capture handlers ---------------------------------------- */

/* A handler of the user's own (trail_handler_custom(3)). emit returns 0 when
 * the record was delivered, a negative errno when not; flush and close may be
 * NULL. close runs once, when the last reference goes. None may log. */
typedef struct trail_handler_vtable {
        int (*emit)(const trail_record *r, void *userdata);
        int (*flush)(void *userdata);
        void (*close)(void *userdata);
} trail_handler_vtable;
/* The vtable is copied. NULL with errno = EINVAL when vt or vt->emit is NULL. */
trail_handler *trail_handler_custom(const trail_handler_vtable *vt, void *userdata);

/* Keeps a copy of every record in memory, for tests (trail_handler_capture(3)). */
trail_handler *trail_handler_capture(void);
/* Records kept so far; 0 for NULL or another handler type. */
size_t trail_capture_count(trail_handler *h);
/* The i-th record (oldest first), valid until trail_capture_clear() or the
 * handler is freed; NULL when out of range. */
const trail_record *trail_capture_get(trail_handler *h, size_t i);
/* The index of the first record at level or more severe (-1: any level) whose
 * message contains substring (NULL: any), or -ENOENT. */
int trail_capture_find(trail_handler *h, int level, const char *substring);
int trail_capture_clear(trail_handler *h);

/* ---- Redaction (trail_set_redact_fields(3)) ------------------------------ */

/* Fields whose name is in the list, or ends in '_' and a name of the list,
 * have their value replaced by "****" before any handler sees them. names is
 * NULL-terminated and copied; NULL restores the built-in list, an empty list
 * turns it off. */
int trail_set_redact_fields(const char *const *names);
int trail_add_redact_field(const char *name);
/* The value scrubber (on by default): card numbers, bearer tokens and
 * password=… pairs in messages and string values become "****". */
int trail_set_scrub(bool enabled);

/* ---- Sampling, rate limits, backtraces (trail_logger_set_sample(3)) ---- */

/* Not fields: instructions for this call, given among its fields. Honoured
 * by the logging macros (which keep per-call-site state). */
#define TRAIL__FIELD_SAMPLE     0x100
#define TRAIL__FIELD_RATE_LIMIT 0x101
#define TRAIL__FIELD_BACKTRACE  0x102
/* Keep 1 record in n of this call site; the kept ones carry SAMPLE_RATE=n. */
#define TRAIL_SAMPLE(n) TRAIL__FIELD_U("SAMPLE_RATE", TRAIL__FIELD_SAMPLE, (uint64_t) (n), 0)
/* At most burst records of this call site per interval_usec. */
#define TRAIL_RATE_LIMIT(burst, interval_usec)                                                     \
        TRAIL__FIELD_U("RATE_LIMIT", TRAIL__FIELD_RATE_LIMIT, (uint64_t) (interval_usec),          \
                       (size_t) (burst))
/* Adds BACKTRACE= with the calling thread's stack. */
#define TRAIL_BACKTRACE() TRAIL__FIELD_U("BACKTRACE", TRAIL__FIELD_BACKTRACE, 0, 0)

/* For records logged to lg (not its children): keep 1 in n of each call
 * site (n = 1: all); at most burst per interval_usec at each call site
 * (burst = 0: no limit). A call's TRAIL_SAMPLE/TRAIL_RATE_LIMIT wins. */
int trail_logger_set_sample(trail_logger *lg, unsigned n);
int trail_logger_set_rate_limit(trail_logger *lg, unsigned burst, uint64_t interval_usec);
/* Records at level or more severe get BACKTRACE=; -1 (the default) turns it off. */
int trail_set_backtrace_level(int level);

/* ---- Correlation (trail_context_push_traceparent(3)) --------------------- */

/* Parses a W3C traceparent header and pushes TRACE_ID, SPAN_ID and
 * TRACE_FLAGS as context fields. Returns a token for trail_context_pop(), or
 * -EINVAL for a malformed header. */
int trail_context_push_traceparent(const char *header);

/* A copy of the calling thread's context fields, to restore elsewhere. */
typedef struct trail_context trail_context;
trail_context *trail_context_capture(void);
/* Pushes the captured fields on top of this thread's context: returns a
 * token for trail_context_pop(), or -errno. The object may be restored on
 * many threads at once. */
int trail_context_restore(const trail_context *c);
trail_context *trail_context_free(trail_context *c); /* NULL-safe; returns NULL */
static inline void trail_context_freep(trail_context **c) {
        trail_context_free(*c);
}
/* Restore now, pop at the end of the enclosing block. */
#define TRAIL_CONTEXT_SCOPE(c) TRAIL__SCOPE_GUARD(trail_context_restore(c))

/* ---- trail's own records ------------------------------------------------ */

/* MESSAGE_IDs of the records trail itself logs, explained by the catalog
 * (catalog/trail.catalog, shown by journalctl -x). */
/* queue overflow */
#define TRAIL_MESSAGE_ID_DROPPED "43fa990483bd45b6ad0768776eb489e1"
/* rate limit */
#define TRAIL_MESSAGE_ID_SUPPRESSED "69e151c6f8c84491b97169ab3d2bbbd2"
/* lost while disconnected */
#define TRAIL_MESSAGE_ID_LINK_LOST "6d973cf0fc854a80b37653470f00d52d"
/* sink gone, fell back */
#define TRAIL_MESSAGE_ID_FALLBACK "e3784ed4064b4a8aa83797ca26a763bb"
/* configuration applied */
#define TRAIL_MESSAGE_ID_CONFIG_LOADED "7352e71ced0d4e289dcd5b46da44d964"
/* configuration refused */
#define TRAIL_MESSAGE_ID_CONFIG_ERROR "73dec577b83e4e4cb2ad8c27996e9692"

/* ---- Configuration ------------------------------------------------------ */

/* Reads an INI file (trail.conf(5)) and applies it as a whole: levels,
 * handlers, propagation, ident, facility, global fields, then $TRAIL_LEVEL.
 * NULL means $TRAIL_CONFIG (when that is unset too: the built-in default).
 * All or nothing: on any error nothing changes; each error is written to
 * stderr as "FILE:LINE: key: why" and the first one's -errno returned. May be
 * called again at any time (a reload) while other threads log. */
int trail_configure(const char *path);

/* One error of a configuration: line is 0 and key NULL when the error
 * concerns the whole file. */
typedef void (*trail_config_error_fn)(const char *file, unsigned line, const char *key,
                                      const char *message, void *userdata);
#define TRAIL_CONFIGURE_CHECK 0x1u /* validate only: apply nothing, log nothing */
/* trail_configure() with flags, errors passed to on_error (NULL: stderr). */
int trail_configure_full(const char *path, unsigned flags, trail_config_error_fn on_error,
                         void *userdata);

/* ---- Lifetime ----------------------------------------------------------- */

/* Every handler has delivered what it holds. */
int trail_flush(void);
/* Flush, detach and release every handler. Call it when no other thread
 * logs; records logged afterwards go to the default handler. */
void trail_shutdown(void);

#ifdef __cplusplus
}
#endif

#endif /* TRAIL_H */
