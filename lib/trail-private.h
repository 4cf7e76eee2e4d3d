/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library's internal model: a record as handlers see it, the handler
 * vtable, the logger node, the per-thread scratch space, and the field store
 * shared by context and global fields. */
#pragma once

#include <libestr.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "shared/escape.h"
#include "shared/macro.h"
#include "shared/retire.h"
#include "shared/util.h"
#include "trail.h"

/* journald refuses entries with more fields than this (ENTRY_FIELD_COUNT_MAX
 * in systemd 252); trail keeps room for its own nine. */
#define JOURNALD_FIELDS_MAX 1024
#define RECORD_FIELDS_MAX   (JOURNALD_FIELDS_MAX - 16)
/* Fields trail may add after the user's, within RECORD_FIELDS_MAX:
 * SAMPLE_RATE, BACKTRACE and TRUNCATED_FIELDS. */
#define RECORD_EXTRA_FIELDS 3
#define FIELD_NAME_MAX      64
/* RFC 5424 §6.3.3: an SD-NAME is at most 32 characters; the rfc5424
 * formatter shows a longer field name cut there (redact.c judges that form
 * too). */
#define SD_NAME_MAX 32
/* The end of a given name that redaction judges: a listed name (at most
 * FIELD_NAME_MAX) and the '_' before it. */
#define REDACT_TAIL_MAX (FIELD_NAME_MAX + 1)

/* A field as a record carries it: name normalised, value typed, string and
 * byte values with their length. Pointers borrow from the caller or from the
 * thread's stores for the duration of one record. */
struct rfield {
        const char *name;
        uint32_t name_len;
        int type; /* enum trail_field_type */
        union {
                const char *s;
                int64_t i;
                uint64_t u;
                double d;
                bool b;
                const void *p;
        } v;
        size_t len; /* TRAIL_FIELD_STR and TRAIL_FIELD_BYTES */
};

struct trail_record {
        int level;
        const struct trail_logger *logger;
        const trail_source *src;
        int errnum;          /* 0: none */
        const char *message; /* preceded in memory by "MESSAGE=" */
        size_t message_len;
        const struct rfield *fields; /* global, context, call: each name once */
        size_t n_fields;
        pid_t tid;
        struct timespec time; /* CLOCK_REALTIME at the call */
        bool deferred;        /* delivered later than logged (async): sinks carry r->time */
};

struct handler_ops {
        const char *type;
        /* The formatter a new handler of this type renders with; NULL for
         * handlers that do not render text (journald). */
        const char *default_format;
        /* 0 when the record reached the sink; negative errno when it did not
         * (the handler has then already tried its fallback, see "fell_back");
         * 1 when the handler counts delivered and lost records itself (it
         * holds records and delivers them later). */
        int (*emit)(trail_handler *h, const struct trail_record *r, bool *fell_back);
        int (*flush)(trail_handler *h);
        /* Options of this type, for trail_handler_set(): -ENOENT for a key it
         * does not know, -EINVAL for a bad value. */
        int (*set)(trail_handler *h, const char *key, const char *value);
        void (*free)(trail_handler *h);
        /* fork(), optional (see fork.c): prepare takes the handler's locks
         * that are held only briefly, parent releases them; child, in the
         * child, releases them and mends whatever a thread the child does
         * not have left behind (a connection, a queue, a lock held across
         * I/O). */
        void (*fork_prepare)(trail_handler *h);
        void (*fork_parent)(trail_handler *h);
        void (*fork_child)(trail_handler *h);
};

struct handler_counters {
        uint64_t records, delivered, failed, lost;
        uint64_t dropped, queue_high_water; /* async handlers */
};

struct trail_handler {
        const struct handler_ops *ops;
        /* handlers with fork hooks, until freed (handler_fork_track()) */
        trail_handler *live_prev, *live_next;
        bool live;
        unsigned refcount;
        int level;
        struct handler_counters stats;
        trail_formatter *formatter;  /* atomic; NULL when the type renders no text */
        struct filter_list *filters; /* atomic; NULL when none */
        struct retired *retired;     /* replaced formatters and filter lists */
};

/* fork.c: the library's locks across fork(), in this order (the lock
 * order: a thread holding one only waits for ones below it). */
enum fork_rank {
        FORK_RANK_CONFIG,         /* config.c: a configuration being loaded */
        FORK_RANK_LOGGERS,        /* logger.c: the logger tree, handler sets */
        FORK_RANK_HANDLER_CONFIG, /* handler.c: formatters and filters of handlers */
        FORK_RANK_REDACT,         /* redact.c */
        FORK_RANK_SETTINGS,       /* settings.c: identifier, facility */
        FORK_RANK_GLOBALS,        /* context.c: global fields */
        FORK_RANK_JOURNAL_FD,     /* handler-journald.c: the socket */
        FORK_RANK_DISPATCH_SLOTS, /* grace.c */
        FORK_RANK_HANDLERS,       /* handler.c: live handlers, and each one's own locks */
        _FORK_RANK_MAX,
};
struct fork_hooks {
        pthread_mutex_t
                *mutex; /* NULL, or taken before prepare(), released after parent()/child() */
        void (*prepare)(void);
        void (*parent)(void);
        void (*child)(void);
};
/* From a constructor (before any thread exists); hooks are static. */
void fork_hooks_register(enum fork_rank rank, const struct fork_hooks *h);

/* handler.c */
/* Sets the type's default formatter too; returns 0 or a negative errno. */
int handler_init(trail_handler *h, const struct handler_ops *ops);
/* A handler whose type has fork hooks, once it is fully built: fork() calls
 * them until the handler is freed. */
void handler_fork_track(trail_handler *h);
/* Returns what ops->emit returned. */
int handler_emit(trail_handler *h, const struct trail_record *r);
/* An emit result: the record was queued, the handler accounts for it itself. */
#define HANDLER_QUEUED 1
/* Adds h's counters to s. */
void handler_stats_add(const trail_handler *h, trail_stats *s);
/* Renders r with the handler's formatter, appended to *buf. */
int handler_format(trail_handler *h, const struct trail_record *r, es_str_t **buf);

/* ---- Formatters (format.c, format-*.c) ---------------------------------- */

struct formatter_ops {
        const char *name;
        size_t size; /* of the object, which starts with struct trail_formatter */
        int (*init)(trail_formatter *f); /* optional */
        /* -ENOENT for a key it does not know, -EINVAL for a bad value. */
        int (*set)(trail_formatter *f, const char *key, const char *value);
        /* Appends the record, without a line terminator, to *buf. max is
         * the most the handler can send in one record (0: no limit): a
         * formatter that can fit the record to it does (rfc5424); the
         * handler cuts whatever is still longer. Must not allocate except
         * to grow *buf; must not log. */
        int (*format)(const trail_formatter *f, const struct trail_record *r, size_t max,
                      es_str_t **buf);
        /* Optional: like format, for a handler writing to a terminal with
         * NO_COLOR unset (a formatter that colours in its "auto" mode). */
        int (*format_terminal)(const trail_formatter *f, const struct trail_record *r, size_t max,
                               es_str_t **buf);
        void (*done)(trail_formatter *f); /* optional: frees what init/set allocated */
        /* Over a stream transport: each record ends with an LF (RFC 6587
         * §3.4.2, for legacy receivers; the formatter must escape every LF
         * in a record) instead of starting with its octet count (§3.4.1). */
        bool lf_framing;
};

struct trail_formatter {
        const struct formatter_ops *ops;
        unsigned refcount;
        bool frozen;    /* attached to a handler: options no longer change */
        char **options; /* key, value, key, value, …: replayed by formatter_clone() */
        size_t n_options;
};

extern const struct formatter_ops format_text_ops;
extern const struct formatter_ops format_json_ops;
extern const struct formatter_ops format_logfmt_ops;
trail_formatter *formatter_new(const struct formatter_ops *ops);
/* The shared default text formatter (static, never freed). */
trail_formatter *formatter_default_text(void);
void formatter_freeze(trail_formatter *f);
/* A new, unfrozen formatter of the same kind with the same options. */
trail_formatter *formatter_clone(const trail_formatter *f);

extern const struct formatter_ops format_rfc5424_ops, format_rfc3164_ops;

/* format-json.c: the "time" option of text, json and logfmt: "utc" or
 * "local". */
int format_time_option(bool *utc, const char *value);
/* The logger's dotted name, without "LOGGER=". */
static inline const char *record_logger_name(const struct trail_record *r, size_t *ret_len);

/* ---- Filters (filter.c) -------------------------------------------------- */

struct filter_entry {
        trail_filter_fn fn;
        void *userdata;
};

/* Immutable, replaced as a whole like handler sets. */
struct filter_list {
        size_t n;
        struct filter_entry e[];
};

/* Adds (add) or removes a filter under the caller's lock. */
int filter_list_change(struct filter_list **list, struct retired **retired, trail_filter_fn fn,
                       void *userdata, bool add);
static inline bool filter_list_pass(const struct filter_list *l, const struct trail_record *r) {
        if (_likely_(!l))
                return true;
        for (size_t i = 0; i < l->n; i++)
                if (!l->e[i].fn(r, l->e[i].userdata))
                        return false;
        return true;
}

/* An immutable handler list; replaced as a whole, never edited in place, so
 * that a logging thread can walk it without a lock. */
struct handler_set {
        struct handler_set *retired_next;
        size_t n;
        trail_handler *h[];
};

struct trail_logger {
        int level_effective; /* first: read by the inline trail_enabled() */
        int level_set;       /* TRAIL_LEVEL_INHERIT or a level */
        bool propagate;
        struct handler_set *handlers; /* atomic pointer; NULL when none */
        struct filter_list *filters;  /* atomic pointer; NULL when none */
        struct trail_logger *parent, *first_child, *next_sibling, *hash_next;
        unsigned sample;      /* atomic: keep 1 in n per call site; 0, 1: all */
        unsigned rl_burst;    /* atomic: per call site and interval; 0: no limit */
        uint64_t rl_interval; /* atomic: microseconds */
        const char *name;     /* points into logger_field */
        size_t field_len;     /* strlen(logger_field) */
        char logger_field[];  /* "LOGGER=name" */
};
/* trail.h's inline trail_enabled() and trail__wants() read the first int of
 * the opaque logger: that int must stay the effective level. */
_Static_assert(offsetof(struct trail_logger, level_effective) == 0,
               "trail.h reads the effective level at offset 0");
_Static_assert(sizeof(((struct trail_logger *) 0)->level_effective) == sizeof(int),
               "trail.h reads the effective level as an int");

/* logger.c */
trail_logger *logger_root(void);
/* trail_get() without the configuration's autoload (for config.c). */
trail_logger *logger_get(const char *name);
void loggers_for_each_handler_set(void (*fn)(struct handler_set *set, void *userdata),
                                  void *userdata);
void loggers_detach_all_handlers(void);
void handler_sets_free_retired(void);
bool logger_name_is_valid(const char *name, size_t n);
void handler_set_release(struct handler_set *set); /* unrefs its handlers; NULL-safe */

/* config.c: one logger's part of a configuration, applied with the others
 * under the registry lock by loggers_apply(), which cannot fail. */
struct logger_change {
        trail_logger *lg;
        int level; /* TRAIL_LEVEL_INHERIT or a level */
        bool propagate, set_propagate;
        struct handler_set *set; /* taken over; NULL: no handlers */
        bool replace_handlers;
};
/* Returns the replaced handler sets, chained through retired_next. */
struct handler_set *loggers_apply(const struct logger_change *c, size_t n);

/* config.c: $TRAIL_CONFIG and $TRAIL_LEVEL, read when the first logger is
 * asked for. */
extern int config_autoload_done;
void config_autoload(void);
static inline void config_autoload_once(void) {
        if (_unlikely_(!__atomic_load_n(&config_autoload_done, __ATOMIC_ACQUIRE)))
                config_autoload();
}
void config_free(void);
/* trail check: validates path and describes what it would set up on out. */
int config_check(const char *path, trail_config_error_fn on_error, void *userdata, FILE *out);

/* A field store: fields whose names and values are copied into one arena.
 * Context (per thread) and global fields both live in one. Values are stored
 * as offsets, so the arena may move when it grows. */
struct stored_field {
        uint32_t name_off, name_len;
        /* A renamed field: the end of its name as given (redact_given_tail()),
         * judged by redaction when a record is built; given_len 0 otherwise. */
        uint32_t given_off, given_len;
        int type;
        union {
                int64_t i;
                uint64_t u;
                double d;
                bool b;
        } v;
        size_t off, len; /* STR and BYTES: the value in the arena */
};

struct field_store {
        struct stored_field *f;
        size_t n, cap;
        char *arena;
        size_t arena_len, arena_cap;
};

int field_store_append(struct field_store *s, trail_fields fields);
int field_store_copy(struct field_store *dst, const struct field_store *src);
void field_store_free(struct field_store *s);

/* Field names: returns the normalised length written to out (at most
 * FIELD_NAME_MAX + 2 bytes), 0 when the name cannot be used. *renamed tells
 * whether it differs from the input. */
size_t field_name_normalise(const char *name, char *out, bool *renamed);
static inline bool field_char_ok(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
/* One character of a name, as normalising makes it: upper case, or '_'. */
static inline char field_char_normalise(char c) {
        if (c >= 'a' && c <= 'z')
                return (char) (c - 'a' + 'A');
        return field_char_ok(c) ? c : '_';
}
bool field_name_is_valid(const char *name, size_t *ret_len);

/* grace.c: each thread that logs has a dispatch slot, so that a swap of the
 * whole configuration (config.c) can hold new records at the door, wait for
 * those already walking handler sets, and then free what it replaced. */
struct dispatch_slot {
        struct dispatch_slot *prev, *next; /* the registry, under its lock */
        uint64_t seq;  /* odd while this thread dispatches; written by it only */
        uint64_t snap; /* the swapper's: seq when it started waiting */
        bool wait;     /* the swapper's: still waiting for this slot */
};

extern int dispatch_swap_pending;
/* This thread's slot, registered at its first call; NULL on ENOMEM. */
struct dispatch_slot *dispatch_slot_get(void);
/* For the thread that unloads or exits the program (no destructor runs). */
void dispatch_slot_release(void);
void dispatch_wait_swap(struct dispatch_slot *s);

/* One seq_cst store and one load of a flag that is almost never set: against
 * the swapper's store of the flag and load of seq, either this thread sees
 * the swap coming or the swapper sees this thread in dispatch. */
static inline void dispatch_enter(struct dispatch_slot *s) {
        __atomic_store_n(&s->seq, __atomic_load_n(&s->seq, __ATOMIC_RELAXED) + 1, __ATOMIC_SEQ_CST);
        if (_unlikely_(__atomic_load_n(&dispatch_swap_pending, __ATOMIC_SEQ_CST)))
                dispatch_wait_swap(s);
}

static inline void dispatch_exit(struct dispatch_slot *s) {
        __atomic_store_n(&s->seq, __atomic_load_n(&s->seq, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

/* The swapper's side: holds new records back (swap_begin) and waits up to
 * timeout_ms for those in dispatch to finish; true when they all did. */
bool dispatch_swap_begin(int timeout_ms);
void dispatch_swap_end(void);
/* Waits up to timeout_ms for every record in dispatch now to finish. */
bool dispatch_grace_wait(int timeout_ms);

/* Per-thread scratch: every buffer a record needs, kept between records so
 * the enabled path does not allocate. */
struct context_frame {
        size_t n, arena_len;
};

struct tls_state {
        es_str_t *message;     /* "MESSAGE=" + the formatted message */
        es_str_t *render;      /* handlers render here */
        es_str_t *names;       /* normalised names of the call's fields */
        struct rfield *merged; /* the record's fields */
        size_t merged_cap;
        struct field_store context;
        struct context_frame *frames;
        size_t n_frames, frames_cap;
        struct field_store globals; /* this thread's copy of the global fields */
        uint64_t globals_gen;
        void *iov; /* struct iovec[], for handler-journald.c */
        size_t iov_cap;
        pid_t tid;
        es_str_t *scrub;     /* scrubbed string values (redact.c); NULL until needed */
        es_str_t *backtrace; /* BACKTRACE= (backtrace.c); NULL until needed */
        es_str_t *formatted; /* trail_formatter_format()'s output; NULL until needed */
};

/* record.c */
/* An errno's magnitude, as an int: TRAIL_ERRNO(-e) means e. A value out of
 * int's range (a hand-made field: its value is an int64_t) is cut to
 * INT_MAX rather than negated or narrowed past its type. */
static inline int errno_abs(int64_t v) {
        if (v < 0)
                return v < -(int64_t) INT_MAX ? INT_MAX : (int) -v;
        return v > INT_MAX ? INT_MAX : (int) v;
}
/* The re-entry guard: > 0 while this thread is inside a logging call (its
 * filters and handlers included), a context push or pop, or a change of the
 * global fields. Raised before anything else, the allocation of the thread's
 * state included, so that a signal handler's record that interrupted any of
 * them is refused with -EDEADLK instead of waiting for a lock the interrupted
 * code holds (malloc's among them) or writing over its half-built record.
 * Initial-exec TLS: the static TLS block, so that testing it never calls
 * __tls_get_addr, which may allocate on a thread's first access when the
 * library was loaded by dlopen(). */
extern __thread unsigned thread_busy __attribute__((tls_model("initial-exec")));

static inline void thread_busy_enter(void) {
        thread_busy++;
        /* raised before the guarded work, as a signal handler sees it */
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static inline void thread_busy_leave(void) {
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        thread_busy--;
}

struct tls_state *tls_state_get(void);
struct tls_state *tls_state_peek(void); /* NULL when this thread has none yet */
void tls_state_release(void);
size_t rfield_value_bound(const struct rfield *f);
/* Renders the value of f as text (numbers, "true"/"false"; strings and bytes
 * as they are) and returns its length; out has rfield_value_bound() bytes. */
size_t rfield_render_value(const struct rfield *f, char *out);

/* trail's own records that a handler delivers itself, not a logger (an
 * async handler's drops, a syslog link's lost records): LOGGER=trail, the
 * MESSAGE_ID first, then the given fields (their name_len, and len of
 * strings, filled in here), the message cut to fit (preceded by "MESSAGE=",
 * as a record's must be), the time and thread of the call. Allocates
 * nothing. */
#define OWN_RECORD_FIELDS_MAX (2 + TRAIL_DEBUG + 1)
struct own_record {
        struct trail_record r;
        struct rfield fields[OWN_RECORD_FIELDS_MAX];
        char message[STRLEN("MESSAGE=") + 256];
};
TRAIL__PRINTF(7, 8)
void own_record_build(struct own_record *o, int level, const trail_source *src,
                      const char *message_id, const struct rfield *fields, size_t n,
                      const char *fmt, ...);

/* context.c */
void globals_refresh(struct tls_state *t);
void globals_free(void);

/* settings.c: ident and facility, read on every record */
struct ident {
        size_t len; /* of "SYSLOG_IDENTIFIER=..." */
        char field[];
};
const struct ident *ident_get(void);
int facility_get(void);
/* Two halves of trail_set_ident(), so that a configuration can prepare the
 * new identifier aside and publish it with the rest without failing. */
struct ident_prepared;
int ident_prepare(const char *name, struct ident_prepared **ret);
void ident_publish(struct ident_prepared *p);
void ident_prepared_free(struct ident_prepared *p); /* NULL-safe; not after publish */
/* The same for global fields (context.c). */
int globals_prepare(trail_fields fields, struct field_store *ret);
void globals_publish(struct field_store *s); /* takes over *s */
void settings_free(void);

/* TRUNCATED_FIELDS=N, the number of fields left out while the record was
 * built; when present it is the last field, and no user field has the name
 * (it is reserved). Sinks that leave out more fields add theirs to N. */
static inline const struct rfield *record_truncated(const struct trail_record *r) {
        const struct rfield *f;

        if (_likely_(r->n_fields == 0))
                return NULL;
        f = &r->fields[r->n_fields - 1];
        if (_likely_(f->name_len != STRLEN("TRUNCATED_FIELDS")) || f->type != TRAIL_FIELD_UINT ||
            memcmp(f->name, "TRUNCATED_FIELDS", STRLEN("TRUNCATED_FIELDS")) != 0)
                return NULL;
        return f;
}

static inline const char *record_logger_name(const struct trail_record *r, size_t *ret_len) {
        *ret_len = r->logger->field_len - STRLEN("LOGGER=");
        return r->logger->name;
}

/* handler-stream.c: writes that wait no later than a deadline
 * (CLOCK_MONOTONIC, in microseconds; DEADLINE_NONE: as long as it takes) on
 * any kind of descriptor, without changing its flags, which belong to the
 * program. A deadline already passed still allows one try without waiting.
 * 0, or a negative errno (-ETIMEDOUT: the deadline passed); *ret_partial
 * tells whether some bytes, not all, went out. */
#define DEADLINE_NONE UINT64_MAX
int fd_write_until(int fd, const char *p, size_t n, uint64_t deadline, bool *ret_partial);
/* The text line on stderr: the journald and syslog handlers' fallback. While
 * stderr stays full, a record is offered once without waiting, so that it
 * costs a program one timeout, not one per record. */
int stderr_write_text(const struct trail_record *r, uint64_t deadline);
/* A once-only failure report on stderr, written only if there is room now. */
void stderr_report(const char *msg, size_t n);

/* handler-journald.c, for the auto handler: the deadline of a call (the
 * handler's timeout from now; DEADLINE_NONE for a deferred record); one
 * send of r, neither reported nor fallen back from: 0 when journald took
 * it, -ENOENT when journald is absent (its socket is not there, or went
 * away), else the negative errno of a journald that did not take it; and
 * the once-only report of that, naming where the record went instead. */
uint64_t journald_deadline(trail_handler *h, const struct trail_record *r);
int journald_send_record(trail_handler *h, struct tls_state *t, const struct trail_record *r,
                         uint64_t deadline);
void journald_report_once(trail_handler *h, int error, const char *went_to);

/* handler-auto.c: the handler for records that no logger's handler took,
 * made on first use; the peek never makes it (NULL when not made). */
trail_handler *handler_last_resort(void);
trail_handler *handler_last_resort_peek(void);

/* handler-syslog.c: a syslog handler's emit, with the caller's deadline
 * (the auto handler's local syslog step) besides its own timeout. */
int syslog_emit_until(trail_handler *h, const struct trail_record *r, bool *fell_back,
                      uint64_t deadline);

/* stats */
extern uint64_t trail_stat_fields_renamed, trail_stat_fields_dropped, trail_stat_records,
        trail_stat_truncated; /* records whose message or frame was cut to fit a sink */

/* Sampling, rate limits, redaction, backtraces: flow-private.h */
#include "flow-private.h"
