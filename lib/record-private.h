/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The model layer (record.c) and the fork layer (fork.c) below it: a record
 * as handlers see it, field names, the field store, the per-thread scratch
 * space, the re-entry guard, the counters, and the fork ranks. Included by
 * every layer above; see docs/architecture.md. */
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

struct handler_set;
struct filter_list;

/* journald refuses entries with more fields than this (ENTRY_FIELD_COUNT_MAX
 * in systemd 252); trail keeps room for its own nine. */
#define JOURNALD_FIELDS_MAX 1024
#define RECORD_FIELDS_MAX   (JOURNALD_FIELDS_MAX - 16)
/* Fields trail may add after the user's, within RECORD_FIELDS_MAX:
 * SAMPLE_RATE, BACKTRACE and TRUNCATED_FIELDS. */
#define RECORD_EXTRA_FIELDS 3
#define FIELD_NAME_MAX      64
/* RFC 5424 §6.3.3: an SD-NAME is at most 32 characters; the rfc5424
 * formatter shows a longer field name as its first SD_NAME_KEEP characters,
 * '~' and 8 hex digits of a hash of the whole name (redact.c judges those
 * first characters too). */
#define SD_NAME_MAX  32
#define SD_NAME_KEEP 23
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
        /* The logger the record was logged on, opaque below the loggers
         * layer (only the dispatcher follows it); NULL for trail's own
         * records that a handler delivers itself. */
        const struct trail_logger *logger;
        const char *logger_field; /* "LOGGER=name"; lives for the process */
        size_t logger_field_len;
        const trail_source *src; /* file NULL: no CODE_FILE, CODE_LINE; func NULL: no CODE_FUNC */
        bool src_borrowed;       /* src lives only during the call: a handler that keeps the
                                    record copies it (trail_log_with_location()) */
        int errnum;              /* 0: none */
        const char *message;     /* preceded in memory by "MESSAGE=" */
        size_t message_len;
        const struct rfield *fields; /* global, context, call: each name once */
        size_t n_fields;
        pid_t tid;
        struct timespec time; /* CLOCK_REALTIME at the call */
        bool deferred;        /* delivered later than logged (async): sinks carry r->time */
        /* held by a memory handler and replayed later, on a logging thread:
         * sinks carry r->time too, but the caller's deadline still holds */
        bool held;
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
        FORK_RANK_TIME_ZONE,      /* shared/util.c: around glibc's time zone lock */
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

/* Per-thread scratch: every buffer a record needs, kept between records so
 * the enabled path does not allocate. */
struct context_frame {
        size_t n, arena_len;
};

/* A block a handler keeps per thread (the memory handler's ring), one
 * malloc() whose start is this header. The thread owns it: it is freed with
 * the thread's scratch (at the thread's exit, or by trail_shutdown() for
 * the thread that calls it), or when the thread finds that its handler is
 * gone, with its extra allocation. The handler and its blocks share a tag, reference counted, so
 * that neither ever reads the other's freed memory. */
struct thread_block_tag {
        unsigned refs; /* atomic */
        bool alive;    /* atomic: false once the handler is freed */
};
struct thread_block {
        struct thread_block *next;
        struct thread_block_tag *tag;
        void *extra; /* NULL, or one more allocation the block owns */
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
        es_str_t *scrub;             /* scrubbed string values (redact.c); NULL until needed */
        es_str_t *backtrace;         /* BACKTRACE= (backtrace.c); NULL until needed */
        es_str_t *formatted;         /* trail_formatter_format()'s output; NULL until needed */
        struct thread_block *blocks; /* handlers' per-thread blocks; NULL when none */
};

/* A location that lives only during the call (trail_log_with_location()),
 * as bytes, for the handlers that keep a record longer (async, capture): a
 * trail_source, then its file and func, each cut to name_max bytes and
 * NUL-terminated. write(w, p, n) writes n bytes; get rebuilds it into dst
 * (pointing into p) and returns the end of the bytes. */
size_t source_copy_size(const trail_source *s, size_t name_max);
void source_copy_put(const trail_source *s, size_t name_max,
                     void (*write)(void *w, const void *p, size_t n), void *w);
const void *source_copy_get(trail_source *dst, const void *p);
/* The longest file or function name trail_log_with_location() takes. */
#define LOCATION_MAX 4096

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
/* Per-thread blocks: a handler makes a tag (NULL when out of memory) and
 * kills it when freed (the tag itself lives on while blocks hold it). find
 * returns this thread's block of the tag, or NULL, freeing on its way the
 * blocks whose handler is gone; add takes a reference on the tag. */
struct thread_block_tag *thread_block_tag_new(void);
void thread_block_tag_unref(struct thread_block_tag *tag);
void thread_block_tag_kill(struct thread_block_tag *tag);
void thread_block_free(struct thread_block *b);
struct thread_block *thread_block_find(struct tls_state *t, struct thread_block_tag *tag);
void thread_block_add(struct tls_state *t, struct thread_block *b, struct thread_block_tag *tag);
size_t rfield_value_bound(const struct rfield *f);
/* Renders the value of f as text (numbers, "true"/"false"; strings and bytes
 * as they are) and returns its length; out has rfield_value_bound() bytes. */
size_t rfield_render_value(const struct rfield *f, char *out);

/* trail's own records, all built here: a handler's (an async handler's
 * drops, a syslog link's lost records), which that handler delivers itself
 * with LOGGER=trail, and those that go through a logger's handlers
 * (suppressions, configuration loaded or refused), which own_record_log()
 * binds to that logger and dispatches. The MESSAGE_ID first, then the
 * given fields (their name_len, and len of strings, filled in here), the
 * message cut to fit (preceded by "MESSAGE=", as a record's must be), the
 * time and thread of the call. No context or global fields: these records
 * speak for trail, not for the code that was running. Allocates nothing. */
#define OWN_RECORD_FIELDS_MAX (2 + TRAIL_DEBUG + 1)
struct own_record {
        struct trail_record r;
        struct rfield fields[OWN_RECORD_FIELDS_MAX];
        char message[STRLEN("MESSAGE=") +
                     1024]; /* a configuration error quotes a path and a line */
};
TRAIL__PRINTF(7, 8)
void own_record_build(struct own_record *o, int level, const trail_source *src,
                      const char *message_id, const struct rfield *fields, size_t n,
                      const char *fmt, ...);

/* The drop record (TRAIL_MESSAGE_ID_DROPPED): DROPPED=total and, for each
 * level with drops, DROPPED_<LEVEL>=; "trail: N records dropped: why".
 * false (and nothing built) when nothing was dropped. */
bool own_record_drops(struct own_record *o, const trail_source *src,
                      const uint64_t dropped[TRAIL_DEBUG + 1], const char *why);

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

/* The logger's dotted name, without "LOGGER=". */
static inline const char *record_logger_name(const struct trail_record *r, size_t *ret_len) {
        *ret_len = r->logger_field_len - STRLEN("LOGGER=");
        return r->logger_field + STRLEN("LOGGER=");
}

/* stats */
extern uint64_t trail_stat_fields_renamed, trail_stat_fields_dropped, trail_stat_records,
        trail_stat_truncated; /* records whose message or frame was cut to fit a sink */
