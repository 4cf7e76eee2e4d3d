/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handlers layer (handler.c, handler-*.c, resolve.c, handler-auto.c):
 * the handler vtable and what handlers share. */
#pragma once

#include "format-private.h"

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
        /* Optional: n records (at most HANDLER_BATCH_MAX) at once, in order,
         * as the async worker hands them over when several are waiting; the
         * result of each in ret[i] and fell_back[i], as emit's. A handler
         * sends them with as few system calls as it can; without this op,
         * handler_emit_batch() calls emit for each. */
        void (*emit_batch)(trail_handler *h, const struct trail_record *const *r, size_t n,
                           int *ret, bool *fell_back);
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

/* handler.c */
/* Sets the type's default formatter too; returns 0 or a negative errno. */
int handler_init(trail_handler *h, const struct handler_ops *ops);
/* A handler whose type has fork hooks, once it is fully built: fork() calls
 * them until the handler is freed. */
void handler_fork_track(trail_handler *h);
/* Returns what ops->emit returned. */
int handler_emit(trail_handler *h, const struct trail_record *r);
/* Like handler_emit() for each of n records (at most HANDLER_BATCH_MAX), in
 * order, through ops->emit_batch when the type has it; each counted as
 * handler_emit() counts it. ret[i] is what handler_emit() would return. */
#define HANDLER_BATCH_MAX 64
void handler_emit_batch(trail_handler *h, const struct trail_record *const *r, size_t n, int *ret);
/* An emit result: the record was queued, the handler accounts for it itself. */
#define HANDLER_QUEUED 1
/* Adds h's counters to s. */
void handler_stats_add(const trail_handler *h, trail_stats *s);
/* Renders r with the handler's formatter, appended to *buf. */
int handler_format(trail_handler *h, const struct trail_record *r, es_str_t **buf);

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

/* async-record.c: the async handler's record in its ring: this header,
 * "MESSAGE=" and the message, then per field a struct qfield, the name, and
 * for strings and bytes the value. */
struct qrecord {
        const struct trail_logger *logger; /* loggers live for the process */
        const trail_source *src;           /* static at the call site */
        struct timespec time;
        int32_t level, errnum, tid;
        uint32_t message_len, n_fields;
};

struct qfield {
        uint32_t name_len;
        int32_t type;
        uint64_t len;
        union {
                int64_t i;
                uint64_t u;
                double d;
                bool b;
        } v;
};
/* The bytes r takes in the queue, at most max: when it does not fit, the
 * message is cut to *ret_message_len and the fields before *ret_first are
 * left out (see async_emit()). */
size_t async_record_fit(const struct trail_record *r, size_t max, size_t n_fields,
                        const struct rfield *tf_new, size_t *ret_message_len, size_t *ret_first);
/* Rebuilds the record from its copy at p; the fields, written to fields,
 * point into the copy. Returns the number of fields. */
uint32_t async_record_rebuild(const unsigned char *p, struct rfield *fields,
                              struct trail_record *r);
