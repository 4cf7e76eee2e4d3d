/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The journald handler: one iovec per field, built straight from the record
 * in the thread's scratch buffer, sent with sd_journal_sendv(). A record that
 * journald does not take goes to stderr, and is counted. */

#define SD_JOURNAL_SUPPRESS_LOCATION /* the location is the caller's, not ours */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "trail-private.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

struct journald_handler {
        trail_handler base;
        bool automatic;    /* trail_handler_auto(): stderr is a sink, not a failure */
        bool reported;     /* the once-only failure report was written */
        trail_handler *local; /* automatic: the /dev/log step, made when first needed */
};

#define LOCAL_SYSLOG "/dev/log"

/* DESIGN.md's "journald → local syslog → stderr": without journald, a local
 * syslog daemon on /dev/log gets the record as RFC 3164 (it falls back to
 * stderr itself when it does not take it). */
static int local_syslog_emit(struct journald_handler *j, const struct trail_record *r,
                             bool *fell_back) {
        struct stat st;
        trail_handler *l;

        if (stat(LOCAL_SYSLOG, &st) < 0 || !S_ISSOCK(st.st_mode))
                return stream_write_text(STDERR_FILENO, r);
        l = __atomic_load_n(&j->local, __ATOMIC_ACQUIRE);
        if (!l) {
                trail_handler *n = trail_handler_syslog(NULL), *expected = NULL;
                if (!n)
                        return stream_write_text(STDERR_FILENO, r);
                if (!__atomic_compare_exchange_n(&j->local, &expected, n, false, __ATOMIC_ACQ_REL,
                                                 __ATOMIC_ACQUIRE)) {
                        trail_handler_unref(n);
                        n = expected;
                }
                l = n;
        }
        return l->ops->emit(l, r, fell_back);
}

/* sd_journal_sendv() returns 0 when the socket does not exist ("fail
 * silently if the journal is not available"): a record sent then would be
 * lost without a trace, so look first. */
static bool journald_present(void) {
        struct stat st;
        return stat(JOURNAL_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode);
}

static const struct iovec priority_iov[] = {
#define P(n) { (void *) "PRIORITY=" #n, STRLEN("PRIORITY=" #n) }
        P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7),
#undef P
};

#define TRAIL_OWN_FIELDS 9

/* sd_journal_sendv() turns each field into 2 iovecs, or 5 when the value
 * holds a newline, and sendmsg()/writev() take at most IOV_MAX (1024). */
#define SENDV_IOV_MAX 1024
#define SENDV_IOV_COST(has_newline) ((has_newline) ? 5 : 2)

static bool rfield_has_newline(const struct rfield *f) {
        return (f->type == TRAIL_FIELD_STR || f->type == TRAIL_FIELD_BYTES) &&
               memchr(f->v.p, '\n', f->len);
}

/* The index of the first of the record's n fields that fits the iovec
 * budget: fields are merged global first, then context, then the call's
 * own, so those of lowest precedence are the ones left out. trail's own
 * fields always fit, and so does TRUNCATED_FIELDS. */
static size_t first_field_that_fits(const struct trail_record *r, size_t n) {
        size_t budget = SENDV_IOV_MAX - 2 * (TRAIL_OWN_FIELDS - 1) - SENDV_IOV_COST(true) -
                        SENDV_IOV_COST(false) /* TRUNCATED_FIELDS */ -
                        (r->deferred ? SENDV_IOV_COST(false) : 0);
        size_t i = n;

        /* The common case fits even at the worst cost: no scan of any value. */
        if (n * SENDV_IOV_COST(true) <= budget)
                return 0;
        if (!memchr(r->message, '\n', r->message_len))
                budget += SENDV_IOV_COST(true) - SENDV_IOV_COST(false);
        while (i > 0) {
                size_t cost = SENDV_IOV_COST(rfield_has_newline(&r->fields[i - 1]));
                if (cost > budget)
                        break;
                budget -= cost;
                i--;
        }
        return i;
}

static char *put(char *p, const char *s, size_t n) {
        memcpy(p, s, n);
        return p + n;
}

static char *put_digits(char *p, long v, int width) {
        for (int i = width - 1; i >= 0; i--, v /= 10)
                p[i] = (char) ('0' + v % 10);
        return p + width;
}

/* A deferred (async) record reaches journald after the call: journald stamps
 * what it receives, so the call's time rides along as SYSLOG_TIMESTAMP=, in
 * RFC 3339 (§5.6) with microseconds and the local offset. */
#define SYSLOG_TIMESTAMP_MAX (STRLEN("SYSLOG_TIMESTAMP=") + 40)
static char *put_rfc3339(char *p, const struct timespec *ts) {
        struct tm tm;
        long off;

        if (!localtime_r(&ts->tv_sec, &tm))
                return p;
        off = tm.tm_gmtoff / 60;
        p = put_digits(p, tm.tm_year + 1900L, 4);
        *p++ = '-';
        p = put_digits(p, tm.tm_mon + 1, 2);
        *p++ = '-';
        p = put_digits(p, tm.tm_mday, 2);
        *p++ = 'T';
        p = put_digits(p, tm.tm_hour, 2);
        *p++ = ':';
        p = put_digits(p, tm.tm_min, 2);
        *p++ = ':';
        p = put_digits(p, tm.tm_sec, 2);
        *p++ = '.';
        p = put_digits(p, ts->tv_nsec / 1000, 6);
        *p++ = off < 0 ? '-' : '+';
        off = off < 0 ? -off : off;
        p = put_digits(p, off / 60, 2);
        *p++ = ':';
        return put_digits(p, off % 60, 2);
}

/* Renders the record into iovecs; returns their number or a negative errno. */
static int journald_render(struct tls_state *t, const struct trail_record *r) {
        const trail_source *src = r->src;
        /* TRUNCATED_FIELDS (fields the record left out) is sent last, with
         * the fields left out here added */
        const struct rfield *tf = record_truncated(r);
        size_t n_fields = r->n_fields - (tf != NULL);
        size_t first = first_field_that_fits(r, n_fields);
        uint64_t truncated = (tf ? tf->v.u : 0) + first;
        size_t n_iov = TRAIL_OWN_FIELDS + n_fields - first + (truncated > 0) + r->deferred, bound;
        struct iovec *iov;
        char *p;

        if (_unlikely_(first > 0))
                __atomic_add_fetch(&trail_stat_fields_dropped, first, __ATOMIC_RELAXED);

        if (n_iov > t->iov_cap) {
                iov = realloc(t->iov, n_iov * sizeof(*iov));
                if (!iov)
                        return -ENOMEM;
                t->iov = iov;
                t->iov_cap = n_iov;
        }
        iov = t->iov;

        bound = STRLEN("SYSLOG_FACILITY=") + 4 + STRLEN("CODE_FILE=") + src->file_len +
                STRLEN("CODE_LINE=") + 12 + STRLEN("CODE_FUNC=") + src->func_len +
                STRLEN("TID=") + 12 + (r->deferred ? SYSLOG_TIMESTAMP_MAX : 0) +
                STRLEN("TRUNCATED_FIELDS=") + 20;
        for (size_t i = first; i < n_fields; i++)
                bound += r->fields[i].name_len + 1 + rfield_value_bound(&r->fields[i]);
        es_emptyStr(t->render);
        if (buf_reserve(&t->render, bound) < 0)
                return -ENOMEM;
        p = (char *) es_getBufAddr(t->render);

        const struct ident *ident = ident_get();
        if (!ident)
                return -ENOMEM;

        iov[0] = (struct iovec) { (char *) r->message - STRLEN("MESSAGE="),
                                  STRLEN("MESSAGE=") + r->message_len };
        iov[1] = priority_iov[r->level];
        iov[2] = (struct iovec) { (void *) ident->field, ident->len };
        iov[3] = (struct iovec) { (void *) r->logger->logger_field, r->logger->field_len };

#define FIELD(i, prefix, render)                                 \
        do {                                                     \
                char *start_ = p;                                \
                p = put(p, prefix, STRLEN(prefix));              \
                render;                                          \
                iov[i] = (struct iovec) { start_, (size_t) (p - start_) }; \
        } while (0)

        FIELD(4, "SYSLOG_FACILITY=", p += format_int(p, facility_get()));
        FIELD(5, "CODE_FILE=", p = put(p, src->file, src->file_len));
        FIELD(6, "CODE_LINE=", p += format_int(p, src->line));
        FIELD(7, "CODE_FUNC=", p = put(p, src->func, src->func_len));
        FIELD(8, "TID=", p += format_int(p, r->tid));
#undef FIELD

        for (size_t i = first; i < n_fields; i++) {
                const struct rfield *f = &r->fields[i];
                char *start = p;

                p = put(p, f->name, f->name_len);
                *p++ = '=';
                p += rfield_render_value(f, p);
                iov[TRAIL_OWN_FIELDS + i - first] = (struct iovec) { start, (size_t) (p - start) };
        }
        if (_unlikely_(truncated > 0)) {
                char *start = p;
                p = put(p, "TRUNCATED_FIELDS=", STRLEN("TRUNCATED_FIELDS="));
                p += format_uint(p, truncated);
                iov[TRAIL_OWN_FIELDS + n_fields - first] = (struct iovec) { start, (size_t) (p - start) };
        }
        if (r->deferred) {
                char *start = p;
                p = put(p, "SYSLOG_TIMESTAMP=", STRLEN("SYSLOG_TIMESTAMP="));
                p = put_rfc3339(p, &r->time);
                iov[n_iov - 1] = (struct iovec) { start, (size_t) (p - start) };
        }
        return (int) n_iov;
}

static void report_once(struct journald_handler *j, int error) {
        char msg[160];

        if (__atomic_exchange_n(&j->reported, true, __ATOMIC_RELAXED))
                return;
        int n = snprintf(msg, sizeof(msg),
                         "trail: journald did not take a record (%s); it went to "
                         "stderr, as will any other journald refuses (reported once)\n",
                         strerror(-error));
        if (n > 0)
                (void) !write(STDERR_FILENO, msg, (size_t) n < sizeof(msg) ? (size_t) n : sizeof(msg) - 1);
}

static int journald_emit(trail_handler *h, const struct trail_record *r, bool *fell_back) {
        struct journald_handler *j = (struct journald_handler *) h;
        struct tls_state *t = tls_state_get();
        int n, k;

        if (!journald_present()) {
                if (j->automatic)
                        return local_syslog_emit(j, r, fell_back);
                k = -ENOENT;
        } else {
                n = journald_render(t, r);
                k = n < 0 ? n : sd_journal_sendv(t->iov, n);
                if (k >= 0)
                        return 0;
        }

        report_once(j, k);
        *fell_back = stream_write_text(STDERR_FILENO, r) >= 0;
        return k;
}

static void journald_free(trail_handler *h) {
        trail_handler_unref(((struct journald_handler *) h)->local);
        free(h);
}

static const struct handler_ops journald_ops = {
        .type = "journald",
        .emit = journald_emit,
        .free = journald_free,
};

static trail_handler *journald_new(bool automatic) {
        struct journald_handler *j = calloc(1, sizeof(*j));

        if (!j) {
                errno = ENOMEM;
                return NULL;
        }
        (void) handler_init(&j->base, &journald_ops); /* renders no text: cannot fail */
        j->automatic = automatic;
        return &j->base;
}

_public_ trail_handler *trail_handler_journald(void) {
        return journald_new(false);
}

/* journald when its socket is there, else stderr; the local syslog step of
 * DESIGN.md's "journald → local syslog → stderr" comes with the syslog
 * handler. */
_public_ trail_handler *trail_handler_auto(void) {
        return journald_new(true);
}
