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
        uint64_t resent;                    /* RELP: sent again in a new session */
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
        uint64_t stats_walk; /* under the registry lock: the last stats walk that counted it */
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
/* An emit result: the handler counts this record's fate itself (queued and
 * counted as delivered or dropped later, or lost and counted already). */
#define HANDLER_COUNTS_ITSELF 1
/* Adds h's counters to s. */
void handler_stats_add(const trail_handler *h, trail_stats *s);

/* record-copy.c: a record copied into memory a handler owns (the async
 * handler's queue, the memory handler's ring) and rebuilt from it later.
 * The plan is what the copy of r takes, at most max bytes (the message cut
 * and fields left out, counted, when it does not fit); the writer puts it
 * into chunks of `chunk` bytes, `stride` apart, whose numbers wrap at
 * `mask` (one contiguous area: chunk SIZE_MAX, mask 0). A rebuilt record
 * points into the copy and into fields (record_copy_fields_max() of the
 * copy's size at most); its deferred and held flags are those of r. */
struct record_copy_plan {
        size_t size, n_fields, first, message_len;
        size_t name_max, src_size; /* a borrowed location's copy */
        struct rfield tf;          /* TRUNCATED_FIELDS, written when tf.v.u > 0 */
};
struct record_copy_writer {
        unsigned char *base;
        size_t chunk, stride;
        uint64_t mask, pos;
        size_t off;
};
size_t record_copy_plan(const struct trail_record *r, size_t max, struct record_copy_plan *p);
void record_copy_write(struct record_copy_writer *w, const struct trail_record *r,
                       const struct record_copy_plan *p);
/* A borrowed location (r->src_borrowed) is copied too, and rebuilt into
 * *src, which the rebuilt record then points to. */
void record_copy_rebuild(const void *copy, struct rfield *fields, trail_source *src,
                         struct trail_record *ret);
size_t record_copy_fields_max(size_t bytes);

/* handler-stream.c: writes that wait no later than a deadline
 * (CLOCK_MONOTONIC, in microseconds; DEADLINE_NONE: as long as it takes) on
 * any kind of descriptor, without changing its flags, which belong to the
 * program. A deadline already passed still allows one try without waiting.
 * 0, or a negative errno (-ETIMEDOUT: the deadline passed); *ret_partial
 * tells whether some bytes, not all, went out. */
#define DEADLINE_NONE UINT64_MAX
int fd_write_until(int fd, const char *p, size_t n, uint64_t deadline, bool *ret_partial);
/* r rendered by f as one line, with its newline, into t->render (emptied
 * first); mend: a newline before it, ending a line a failed write cut;
 * journal: "<N>" before it, N its level (journald's stdout stream). */
int stream_render_line(trail_formatter *f, const struct trail_record *r, bool terminal, bool mend,
                       bool journal, struct tls_state *t);
/* The text line on stderr: the journald and syslog handlers' fallback. While
 * stderr stays full, a record is offered once without waiting, so that it
 * costs a program one timeout, not one per record. */
int stderr_write_text(const struct trail_record *r, uint64_t deadline);
/* A handler's once-only failure report on stderr: the first call with
 * *reported false sets it and writes "trail: " and the formatted text (cut
 * to 512 bytes, a newline added), only if stderr has room now. */
TRAIL__PRINTF(2, 3)
void stderr_report_once(bool *reported, const char *fmt, ...);

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

/* handler-file.c, for trail.conf: a file handler that opens the file only
 * when it exists, and otherwise checks that its directory can take it, so
 * that a configuration checked or refused creates no file; and the open
 * (creating the file) of such a handler once its configuration is applied:
 * 0 or a negative errno. Until then it writes nothing. */
trail_handler *file_handler_deferred(const char *path);
int file_handler_open(trail_handler *h);
/* Every file handler reopens its path before its next record. */
void file_handlers_reopen(void);
