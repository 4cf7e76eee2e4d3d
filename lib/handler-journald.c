/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The journald handler: one iovec per field, built straight from the record
 * in the thread's scratch buffer, sent in journald's native protocol on a
 * socket of trail's own, so that no call waits for journald longer than the
 * handler's timeout. A record that journald does not take goes to stderr, and
 * is counted. The auto handler (handler-auto.c) sends through the same
 * calls, and picks its own next step when journald is absent. */

#include <endian.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>

#include "handler-private.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

struct journald_handler {
        trail_handler base;
        bool reported;         /* the once-only failure report was written */
        bool stalled;          /* atomic: a send timed out, and none has succeeded since */
        uint64_t timeout_usec; /* atomic: the longest a logging call waits for journald */
};

/* ---- Transport ------------------------------------------------------------
 * journald's native protocol (https://systemd.io/JOURNAL_NATIVE_PROTOCOL/),
 * as sd_journal_sendv() speaks it, but on a socket of trail's own:
 * sd_journal_sendv() sends on a blocking socket and has no timeout, so while
 * journald is stopped or overloaded and its queue is full, it blocks the
 * logging thread without a bound. This socket blocks too, for one system call
 * per record when journald is busy, as sd_journal_sendv() makes, but with a
 * send timeout (SO_SNDTIMEO) no longer than half the shortest timeout of any
 * journald handler; a send that did not fit in it waits the rest of its
 * caller's time in poll(), which on a connected datagram socket waits for
 * room in journald's queue. */

static int journal_fd = -1; /* connected; replaced in place (dup3) on reconnect */
static pthread_mutex_t journal_fd_lock = PTHREAD_MUTEX_INITIALIZER;

/* The child shares the connected datagram socket: each send is one whole
 * record, so parent and child never interleave. */
static const struct fork_hooks journal_fd_fork = {.mutex = &journal_fd_lock};
__attribute__((constructor)) static void journal_fd_fork_register(void) {
        fork_hooks_register(FORK_RANK_JOURNAL_FD, &journal_fd_fork);
}

#define TIMEOUT_DEFAULT_USEC 5000000
/* The socket's SO_SNDTIMEO: half the shortest handler timeout so far (it
 * only ever decreases). Set on the socket before it is published here, so
 * that a send never blocks longer than this says. */
static uint64_t journal_sndtimeo_usec = TIMEOUT_DEFAULT_USEC / 2; /* atomic */
/* the kernel counts the send timeout in jiffies, rounded up */
#define SNDTIMEO_SLACK_USEC 20000

static void sndtimeo_apply(int fd, uint64_t usec) {
        struct timeval tv = {.tv_sec = (time_t) (usec / 1000000),
                             .tv_usec = (suseconds_t) (usec % 1000000)};
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A handler's timeout: the socket's send timeout becomes at most half of it. */
static void sndtimeo_lower(uint64_t timeout_usec) {
        uint64_t usec = timeout_usec / 2;

        pthread_mutex_lock(&journal_fd_lock);
        if (usec < __atomic_load_n(&journal_sndtimeo_usec, __ATOMIC_RELAXED)) {
                int fd = __atomic_load_n(&journal_fd, __ATOMIC_ACQUIRE);
                if (fd >= 0)
                        sndtimeo_apply(fd, usec);
                __atomic_store_n(&journal_sndtimeo_usec, usec, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&journal_fd_lock);
}

/* Whether journald may be there, before a record is rendered for it: when it
 * is not, the auto handler uses the local syslog without counting a failure.
 * Once connected, the send itself tells: a connected datagram socket cannot
 * lose a record silently (a journald that died refuses it, ECONNREFUSED, and
 * the reconnect finds the socket gone, ENOENT), so the path is looked at only
 * while there is no connection, not once per record. A journald whose socket
 * path is replaced while it runs keeps the records of a connected sender. */
static bool journald_present(void) {
        struct stat st;

        if (__atomic_load_n(&journal_fd, __ATOMIC_ACQUIRE) >= 0)
                return true;
        return stat(JOURNAL_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* A new connection to journald, put in the place of the old one, so that
 * threads sending at the same moment never see a closed or reused number. */
static int journal_connect(void) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET};
        int fd, cur, k;

        pthread_mutex_lock(&journal_fd_lock);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                k = -errno;
                goto out;
        }
        sndtimeo_apply(fd, __atomic_load_n(&journal_sndtimeo_usec, __ATOMIC_RELAXED));
        /* as sd_journal_sendv() does: room for large entries before the memfd path */
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){8 * 1024 * 1024}, sizeof(int));
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                k = -errno;
                close(fd);
                goto out;
        }
        cur = __atomic_load_n(&journal_fd, __ATOMIC_ACQUIRE);
        if (cur >= 0) {
                k = dup3(fd, cur, O_CLOEXEC) < 0 ? -errno : cur;
                close(fd);
        } else {
                __atomic_store_n(&journal_fd, fd, __ATOMIC_RELEASE);
                k = fd;
        }
out:
        pthread_mutex_unlock(&journal_fd_lock);
        return k;
}

#define NO_DEADLINE DEADLINE_NONE

static int wait_writable(int fd, uint64_t deadline) {
        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                int ms = -1, k;
                if (deadline != NO_DEADLINE) {
                        uint64_t now = now_usec();
                        if (now >= deadline)
                                return -ETIMEDOUT;
                        ms = (int) ((deadline - now + 999) / 1000);
                }
                k = poll(&p, 1, ms);
                if (k > 0)
                        return 0;
                if (k < 0 && errno != EINTR)
                        return -errno;
        }
}

/* Whether a blocking send, bounded by the socket's send timeout, ends before
 * the deadline. */
static bool may_block(uint64_t now, uint64_t deadline) {
        uint64_t t = __atomic_load_n(&journal_sndtimeo_usec, __ATOMIC_ACQUIRE);
        return deadline == NO_DEADLINE || now + t + SNDTIMEO_SLACK_USEC <= deadline;
}

/* One datagram to journald: first a blocking send when block says it ends in
 * time (may_block(); one
 * system call while journald's queue is full), then non-blocking ones,
 * retried after EINTR, after EAGAIN once poll() says there is room (until
 * the deadline), and once on a new connection when journald was restarted
 * (the old socket refuses). */
static int journal_sendmsg(const struct msghdr *mh, uint64_t deadline, bool block) {
        int fd = __atomic_load_n(&journal_fd, __ATOMIC_ACQUIRE), k;
        bool reconnected = false;

        if (fd < 0) {
                fd = journal_connect();
                if (fd < 0)
                        return fd;
                reconnected = true;
        }
        for (;;) {
                int flags = MSG_NOSIGNAL | (block ? 0 : MSG_DONTWAIT);
                block = false;
                if (sendmsg(fd, mh, flags) >= 0)
                        return 0;
                k = -errno;
                if (k == -EINTR)
                        continue;
                if (k == -EAGAIN) {
                        k = wait_writable(fd, deadline);
                        if (k < 0)
                                return k;
                        continue;
                }
                if ((k == -ECONNREFUSED || k == -ENOTCONN) && !reconnected) {
                        fd = journal_connect();
                        if (fd < 0)
                                return fd;
                        reconnected = true;
                        continue;
                }
                return k;
        }
}

static int writev_all(int fd, struct iovec *iov, size_t n) {
        while (n > 0) {
                ssize_t k = writev(fd, iov, (int) n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                while (n > 0 && (size_t) k >= iov->iov_len) {
                        k -= (ssize_t) iov->iov_len;
                        iov++;
                        n--;
                }
                if (n > 0) {
                        iov->iov_base = (char *) iov->iov_base + k;
                        iov->iov_len -= (size_t) k;
                }
        }
        return 0;
}

/* An entry too large for a datagram goes in a sealed memfd whose descriptor
 * is sent instead, as sd_journal_sendv() does. */
static int journal_send_memfd(struct iovec *iov, size_t n, uint64_t deadline) {
        _cleanup_close_ int fd = memfd_create("journal-data", MFD_ALLOW_SEALING | MFD_CLOEXEC);
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct msghdr mh = {.msg_control = &control, .msg_controllen = sizeof(control)};
        struct cmsghdr *c;
        int k;

        if (fd < 0)
                return -errno;
        k = writev_all(fd, iov, n);
        if (k < 0)
                return k;
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return -errno;
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        return journal_sendmsg(&mh, deadline, may_block(now_usec(), deadline));
}

/* The native serialisation of fields given as "NAME=value" iovecs: each
 * followed by a newline, or, when the value holds a newline, as NAME, a
 * newline, the value's length (64 bits, little endian), the value and a
 * newline. out has room for 5 iovecs and lens for one length per field. */
static size_t native_serialise(const struct iovec *in, size_t n, struct iovec *out,
                               uint64_t *lens) {
        static char nl[] = "\n";
        size_t o = 0;

        for (size_t i = 0; i < n; i++) {
                const char *p = in[i].iov_base, *eq = memchr(p, '=', in[i].iov_len);
                size_t name_len = (size_t) (eq - p), value_len = in[i].iov_len - name_len - 1;
                if (!memchr(eq + 1, '\n', value_len)) {
                        out[o++] = in[i];
                        out[o++] = (struct iovec){nl, 1};
                        continue;
                }
                lens[i] = htole64((uint64_t) value_len);
                out[o++] = (struct iovec){(void *) p, name_len};
                out[o++] = (struct iovec){nl, 1};
                out[o++] = (struct iovec){&lens[i], sizeof(uint64_t)};
                out[o++] = (struct iovec){(void *) (eq + 1), value_len};
                out[o++] = (struct iovec){nl, 1};
        }
        return o;
}

static const struct iovec priority_iov[] = {
#define P(n)                                                                                       \
        { (void *) "PRIORITY=" #n, STRLEN("PRIORITY=" #n) }
        P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7),
#undef P
};

#define TRAIL_OWN_FIELDS 9

/* A record that reaches journald later than it was logged (an async
 * handler's, or one a memory handler held) carries its time (below). */
static bool record_stamped(const struct trail_record *r) {
        return r->deferred || r->held;
}

/* The native protocol turns each field into 2 iovecs, or 5 when the value
 * holds a newline (native_serialise()), and sendmsg()/writev() take at most
 * IOV_MAX (1024). */
#define SENDV_IOV_MAX               1024
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
                        (record_stamped(r) ? SENDV_IOV_COST(false) : 0);
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

/* A deferred or held record reaches journald after the call: journald stamps
 * what it receives, so the call's time rides along as SYSLOG_TIMESTAMP=, in
 * RFC 3339 (§5.6) with microseconds and the local offset, "+00:00" rather
 * than "Z" when it is zero (the same width always). */
#define SYSLOG_TIMESTAMP_MAX (STRLEN("SYSLOG_TIMESTAMP=") + RFC3339_MAX)

/* Takes CODE_FILE and CODE_LINE (iov[5], iov[6]) and/or CODE_FUNC (iov[7])
 * out of the n iovecs; returns how many are left. */
static size_t drop_location(struct iovec *iov, size_t n, bool file, bool func) {
        if (file && !func) {
                memmove(iov + 5, iov + 7, (n - 7) * sizeof(*iov));
                return n - 2;
        }
        size_t from = file ? 5 : 7, count = file ? 3 : 1;
        memmove(iov + from, iov + from + count, (n - from - count) * sizeof(*iov));
        return n - count;
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
        size_t n_iov = TRAIL_OWN_FIELDS + n_fields - first + (truncated > 0) + record_stamped(r),
               bound;
        struct iovec *iov;
        char *p;

        if (_unlikely_(first > 0))
                __atomic_add_fetch(&trail_stat_fields_dropped, first, __ATOMIC_RELAXED);

        if (n_iov > t->iov_cap) {
                /* the fields, their native serialisation, and its lengths */
                iov = realloc(t->iov, n_iov * (6 * sizeof(*iov) + sizeof(uint64_t)));
                if (!iov)
                        return -ENOMEM;
                t->iov = iov;
                t->iov_cap = n_iov;
        }
        iov = t->iov;

        bound = STRLEN("SYSLOG_FACILITY=") + 4 + STRLEN("CODE_FILE=") + src->file_len +
                STRLEN("CODE_LINE=") + 12 + STRLEN("CODE_FUNC=") + src->func_len + STRLEN("TID=") +
                12 + (record_stamped(r) ? SYSLOG_TIMESTAMP_MAX : 0) + STRLEN("TRUNCATED_FIELDS=") +
                20;
        for (size_t i = first; i < n_fields; i++)
                bound += r->fields[i].name_len + 1 + rfield_value_bound(&r->fields[i]);
        es_emptyStr(t->render);
        if (buf_reserve(&t->render, bound) < 0)
                return -ENOMEM;
        p = (char *) es_getBufAddr(t->render);

        const struct ident *ident = ident_get();
        if (!ident)
                return -ENOMEM;

        iov[0] = (struct iovec){(char *) r->message - STRLEN("MESSAGE="),
                                STRLEN("MESSAGE=") + r->message_len};
        iov[1] = priority_iov[r->level];
        iov[2] = (struct iovec){(void *) ident->field, ident->len};
        iov[3] = (struct iovec){(void *) r->logger_field, r->logger_field_len};

#define FIELD(i, prefix, render)                                                                   \
        do {                                                                                       \
                char *start_ = p;                                                                  \
                p = put(p, prefix, STRLEN(prefix));                                                \
                render;                                                                            \
                iov[i] = (struct iovec){start_, (size_t) (p - start_)};                            \
        } while (0)

        FIELD(4, "SYSLOG_FACILITY=", p += format_int(p, facility_get()));
        /* no location (trail_log_with_location()): no CODE_* fields (below) */
        FIELD(5, "CODE_FILE=", if (src->file) p = put(p, src->file, src->file_len));
        FIELD(6, "CODE_LINE=", p += format_int(p, src->line));
        FIELD(7, "CODE_FUNC=", if (src->func) p = put(p, src->func, src->func_len));
        FIELD(8, "TID=", p += format_int(p, r->tid));
#undef FIELD

        for (size_t i = first; i < n_fields; i++) {
                const struct rfield *f = &r->fields[i];
                char *start = p;

                p = put(p, f->name, f->name_len);
                *p++ = '=';
                p += rfield_render_value(f, p);
                iov[TRAIL_OWN_FIELDS + i - first] = (struct iovec){start, (size_t) (p - start)};
        }
        if (_unlikely_(truncated > 0)) {
                char *start = p;
                p = put(p, "TRUNCATED_FIELDS=", STRLEN("TRUNCATED_FIELDS="));
                p += format_uint(p, truncated);
                iov[TRAIL_OWN_FIELDS + n_fields - first] =
                        (struct iovec){start, (size_t) (p - start)};
        }
        if (record_stamped(r)) {
                char *start = p;
                p = put(p, "SYSLOG_TIMESTAMP=", STRLEN("SYSLOG_TIMESTAMP="));
                p += format_rfc3339(p, &r->time, RFC3339_LOCAL_NUMERIC);
                iov[n_iov - 1] = (struct iovec){start, (size_t) (p - start)};
        }
        if (_unlikely_(!src->file || !src->func))
                n_iov = drop_location(iov, n_iov, !src->file, !src->func);
        return (int) n_iov;
}

void journald_report_once(trail_handler *h, int error, const char *went_to) {
        struct journald_handler *j = (struct journald_handler *) h;

        stderr_report_once(&j->reported,
                           "journald did not take a record (%s); it went to %s, as will any "
                           "other journald refuses (reported once)",
                           strerror(-error), went_to);
}

/* The record's fields (iovecs from journald_render()) to journald, by the
 * call's deadline (NO_DEADLINE: a record delivered later by an async
 * handler's worker waits as long as it takes; the async handler bounds its
 * callers). */
static int journal_send(struct journald_handler *j, struct tls_state *t, size_t n,
                        uint64_t deadline) {
        struct iovec *fields = t->iov, *out = fields + n;
        uint64_t *lens = (uint64_t *) (void *) (out + 5 * n), now = 0;
        size_t n_out = native_serialise(fields, n, out, lens);
        struct msghdr mh = {.msg_iov = out, .msg_iovlen = n_out};
        int k;

        if (deadline != NO_DEADLINE) {
                now = now_usec();
                if (__atomic_load_n(&j->stalled, __ATOMIC_RELAXED))
                        deadline = now; /* one try, no wait */
        }
        k = journal_sendmsg(&mh, deadline, may_block(now, deadline));
        if (k == -EMSGSIZE || k == -ENOBUFS || k == -ENOMEM)
                k = journal_send_memfd(out, n_out, deadline);
        if (k == -ETIMEDOUT)
                __atomic_store_n(&j->stalled, true, __ATOMIC_RELAXED);
        else if (k >= 0 && __atomic_load_n(&j->stalled, __ATOMIC_RELAXED))
                __atomic_store_n(&j->stalled, false, __ATOMIC_RELAXED);
        return k;
}

uint64_t journald_deadline(trail_handler *h, const struct trail_record *r) {
        struct journald_handler *j = (struct journald_handler *) h;

        return r->deferred ? NO_DEADLINE
                           : now_usec() + __atomic_load_n(&j->timeout_usec, __ATOMIC_RELAXED);
}

int journald_send_record(trail_handler *h, struct tls_state *t, const struct trail_record *r,
                         uint64_t deadline) {
        struct journald_handler *j = (struct journald_handler *) h;
        int n;

        if (!journald_present())
                return -ENOENT;
        n = journald_render(t, r);
        /* -ENOENT from the send: the connection's journald is gone, and its
         * socket with it; as if it had never been there */
        return n < 0 ? n : journal_send(j, t, (size_t) n, deadline);
}

/* One deadline for the whole call: journald, then stderr, get what is left
 * of the handler's timeout between them. */
static int journald_emit(trail_handler *h, const struct trail_record *r, bool *fell_back) {
        struct tls_state *t = tls_state_get();
        uint64_t deadline = journald_deadline(h, r);
        int k;

        if (!t)
                return -ENOMEM;
        k = journald_send_record(h, t, r, deadline);
        if (k >= 0)
                return 0;
        journald_report_once(h, k, "stderr");
        *fell_back = stderr_write_text(r, deadline) >= 0;
        return k;
}

static int journald_set(trail_handler *h, const char *key, const char *value) {
        struct journald_handler *j = (struct journald_handler *) h;
        uint64_t v;
        int k;

        if (strcmp(key, "timeout") != 0)
                return -ENOENT;
        k = parse_timeout_usec(value, &v);
        if (k < 0)
                return k;
        sndtimeo_lower(v);
        __atomic_store_n(&j->timeout_usec, v, __ATOMIC_RELAXED);
        return 0;
}

static void journald_free(trail_handler *h) {
        free(h);
}

static const struct handler_ops journald_ops = {
        .type = "journald",
        .emit = journald_emit,
        .set = journald_set,
        .free = journald_free,
};

_public_ trail_handler *trail_handler_journald(void) {
        struct journald_handler *j = calloc(1, sizeof(*j));

        if (!j) {
                errno = ENOMEM;
                return NULL;
        }
        (void) handler_init(&j->base, &journald_ops); /* renders no text: cannot fail */
        /* long enough for a busy journald whose short queue (10 datagrams
         * on some hosts) starves one of many senders for a second */
        j->timeout_usec = TIMEOUT_DEFAULT_USEC;
        return &j->base;
}
