/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stream handler: one line per record on a file descriptor, rendered by
 * the handler's formatter and written with one write() so lines from several
 * threads do not interleave, waiting for a reader no longer than the
 * handler's timeout; and the bounded writes the other handlers' stderr
 * fallback uses. */

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "handler-private.h"

#define TIMEOUT_DEFAULT_USEC 5000000 /* as the journald handler's */

struct stream_handler {
        trail_handler base;
        int fd;
        bool terminal;         /* a terminal, and NO_COLOR unset: "auto" colours */
        bool torn;             /* atomic: a write failed part-way, leaving part of a line */
        bool stalled;          /* atomic: a write timed out, and none has succeeded since */
        bool reported;         /* atomic: its first failure was reported on stderr */
        bool journal;          /* fd is journald's stdout stream: lines start with <N> */
        uint64_t timeout_usec; /* atomic: the longest a logging call waits for fd */
};

/* ---- Bounded writes -------------------------------------------------------
 * A logging call must not wait for a reader longer than its timeout, and the
 * descriptor's flags are not trail's to change (O_NONBLOCK is shared with
 * every process holding the same open file description: a program's stderr
 * is often its parent's). So:
 *  - a socket is written with send(MSG_DONTWAIT), and poll() waits for room;
 *  - a pipe, FIFO or terminal is written through a description of trail's
 *    own, opened again from /proc/self/fd with O_NONBLOCK and closed at once
 *    (held open, it would keep a reader from seeing the end of a pipe the
 *    program closed); where that cannot be opened, poll() waits for room
 *    before each write of at most PIPE_BUF bytes: Linux says a pipe is
 *    writable when a whole buffer slot (a page, at least PIPE_BUF) is free,
 *    and a write that fits in it does not block, unless another writer fills
 *    that slot between the poll() and the write();
 *  - a regular file or a block device does not wait for a reader, and is
 *    written as it is. */

/* 0 once fd takes data, -ETIMEDOUT when the deadline passed first (a
 * deadline already passed still looks once). */
static int wait_writable_until(int fd, uint64_t deadline) {
        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                int ms = -1, k;
                if (deadline != DEADLINE_NONE) {
                        uint64_t now = now_usec();
                        ms = now >= deadline ? 0 : (int) ((deadline - now + 999) / 1000);
                }
                k = poll(&p, 1, ms);
                if (k > 0)
                        return 0; /* POLLERR, POLLHUP too: the write says what */
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k == 0 && ms == 0)
                        return -ETIMEDOUT;
        }
}

enum write_way {
        WAY_PLAIN,  /* a regular file, a block device, a memory device: no reader to wait for */
        WAY_SEND,   /* a socket: send(MSG_DONTWAIT) */
        WAY_REOPEN, /* a pipe, FIFO or terminal: a non-blocking description of our own */
        WAY_POLL,   /* poll() before each write */
};

static enum write_way write_way(int fd, struct stat *st) {
        if (fstat(fd, st) < 0)
                return WAY_PLAIN; /* the write says why */
        if (S_ISSOCK(st->st_mode))
                return WAY_SEND;
        if (S_ISFIFO(st->st_mode))
                return WAY_REOPEN;
        if (S_ISCHR(st->st_mode)) {
                /* the memory devices (/dev/null, /dev/zero, /dev/full,
                 * /dev/kmsg: major 1) never wait for a reader: one write,
                 * as a file (a stream to /dev/null was 4 system calls a
                 * record) */
                if (major(st->st_rdev) == 1)
                        return WAY_PLAIN;
                int saved_errno = errno; /* isatty() sets ENOTTY */
                bool tty = isatty(fd) == 1;
                errno = saved_errno;
                return tty ? WAY_REOPEN : WAY_POLL;
        }
        return WAY_PLAIN;
}

/* fd opened again, non-blocking, as the same file; -1 when it cannot be. */
static int reopen_nonblocking(int fd, const struct stat *st) {
        char path[STRLEN("/proc/self/fd/") + 12];
        struct stat nst;
        int saved_errno = errno, n;

        memcpy(path, "/proc/self/fd/", STRLEN("/proc/self/fd/"));
        path[STRLEN("/proc/self/fd/") + format_int(path + STRLEN("/proc/self/fd/"), fd)] = '\0';
        n = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (n >= 0 &&
            (fstat(n, &nst) < 0 || nst.st_dev != st->st_dev || nst.st_ino != st->st_ino)) {
                close(n);
                n = -1;
        }
        errno = saved_errno;
        return n;
}

/* A pipe whose reader is gone answers a write with SIGPIPE, whose default
 * kills the program: a log line must not. The signal is blocked in this
 * thread around the write and, when the write raised it, taken back, unless
 * the program blocks it itself (then it stays pending, as for the
 * program's own writes). Sockets are sent MSG_NOSIGNAL instead. */
static bool sigpipe_hold(sigset_t *old) {
        sigset_t s;

        sigemptyset(&s);
        sigaddset(&s, SIGPIPE);
        return pthread_sigmask(SIG_BLOCK, &s, old) == 0;
}

static void sigpipe_release(const sigset_t *old, bool raised) {
        if (raised && !sigismember(old, SIGPIPE)) {
                const struct timespec zero = {};
                int saved_errno = errno;
                sigset_t s;

                sigemptyset(&s);
                sigaddset(&s, SIGPIPE);
                while (sigtimedwait(&s, NULL, &zero) < 0 && errno == EINTR)
                        ;
                errno = saved_errno;
        }
        (void) pthread_sigmask(SIG_SETMASK, old, NULL);
}

int fd_write_until(int fd, const char *p, size_t n, uint64_t deadline, bool *ret_partial) {
        size_t total = n;
        struct stat st;
        enum write_way way = write_way(fd, &st);
        int wfd = fd, k = 0;
        sigset_t old_mask;
        bool held = way != WAY_PLAIN && way != WAY_SEND && S_ISFIFO(st.st_mode) &&
                    sigpipe_hold(&old_mask);

        if (way == WAY_REOPEN) {
                wfd = reopen_nonblocking(fd, &st);
                if (wfd < 0) {
                        wfd = fd;
                        way = WAY_POLL;
                }
        }
        while (n > 0) {
                size_t chunk = n;
                ssize_t w;

                if (way == WAY_POLL) {
                        k = wait_writable_until(fd, deadline);
                        if (k < 0)
                                break;
                        if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
                                chunk = n < PIPE_BUF ? n : PIPE_BUF;
                }
                if (way == WAY_SEND)
                        w = send(fd, p, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
                else
                        w = write(wfd, p, chunk);
                if (w < 0) {
                        k = -errno;
                        if (k == -EINTR)
                                continue;
                        if (k == -EAGAIN) { /* ours, or the program's own O_NONBLOCK */
                                k = wait_writable_until(wfd, deadline);
                                if (k < 0)
                                        break;
                                continue;
                        }
                        if (k == -ENOTSOCK && way == WAY_SEND) {
                                /* fd was replaced since fstat(): a new look */
                                way = WAY_POLL;
                                continue;
                        }
                        break;
                }
                k = 0;
                p += w;
                n -= (size_t) w;
        }
        if (wfd != fd)
                close(wfd);
        if (held)
                sigpipe_release(&old_mask, k == -EPIPE);
        if (ret_partial)
                *ret_partial = n > 0 && n < total;
        return n > 0 ? (k < 0 ? k : -EIO) : 0;
}

/* ---- journald's stdout stream ----------------------------------------------
 * A service's stdout and stderr are often a stream socket to journald, and
 * systemd says which in $JOURNAL_STREAM, "DEV:INODE" of that socket
 * (systemd.exec(5)). journald stores a line there with the priority of its
 * "<N>" prefix (sd-daemon(3)), else the stream's default (info): a line to
 * such a descriptor starts with the record's level. */

/* Whether fd is the stream $JOURNAL_STREAM names. */
static bool fd_is_journal_stream(int fd) {
        const char *v = secure_getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        char *end;

        if (!v || *v < '0' || *v > '9')
                return false;
        errno = 0;
        dev = strtoull(v, &end, 10);
        if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
                return false;
        ino = strtoull(end + 1, &end, 10);
        if (errno != 0 || *end != '\0')
                return false;
        return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
               (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

int stream_render_line(trail_formatter *f, const struct trail_record *r, bool terminal, bool mend,
                       bool journal, struct tls_state *t) {
        int k;

        es_emptyStr(t->render);
        if (buf_reserve(&t->render, 4) < 0)
                return -ENOMEM;
        if (mend)
                es_getBufAddr(t->render)[t->render->lenStr++] = '\n';
        if (journal) {
                unsigned char *b = es_getBufAddr(t->render) + t->render->lenStr;
                b[0] = '<';
                b[1] = (unsigned char) ('0' + (r->level & 7));
                b[2] = '>';
                t->render->lenStr += 3;
        }
        if (terminal && f->ops->format_terminal)
                k = f->ops->format_terminal(f, r, FORMAT_FRAME_LINES, &t->render);
        else
                k = f->ops->format(f, r, FORMAT_FRAME_LINES, &t->render);
        if (k < 0)
                return k;
        if (buf_reserve(&t->render, 1) < 0)
                return -ENOMEM;
        es_getBufAddr(t->render)[t->render->lenStr++] = '\n';
        return 0;
}

/* torn: NULL, or the handler's flag: after a failed write left part of a
 * line, the next line starts with a newline, so that it is whole (the cut
 * one stays a fragment of its own, and was counted as lost). journal: the
 * line starts with "<N>", N the record's level. */
static int write_line(int fd, trail_formatter *f, const struct trail_record *r, bool terminal,
                      bool journal, bool *torn, uint64_t deadline) {
        struct tls_state *t = tls_state_get();
        bool mend = torn && __atomic_exchange_n(torn, false, __ATOMIC_RELAXED), partial = false;
        int k;

        if (!t)
                return -ENOMEM;
        k = stream_render_line(f, r, terminal, mend, journal, t);
        if (k < 0)
                return k;
        k = fd_write_until(fd, (const char *) es_getBufAddr(t->render), t->render->lenStr, deadline,
                           &partial);
        /* a line cut short now, or the cut one still not ended */
        if (torn && k < 0 && (partial || mend))
                __atomic_store_n(torn, true, __ATOMIC_RELAXED);
        return k;
}

/* A reader that stopped reading costs one timeout, not one per record:
 * while a write timed out and none has gone through since, a record is
 * offered once without waiting. */
static uint64_t stall_deadline(const bool *stalled, uint64_t deadline) {
        if (deadline != DEADLINE_NONE && __atomic_load_n(stalled, __ATOMIC_RELAXED))
                return now_usec();
        return deadline;
}

static void stall_update(bool *stalled, int k) {
        if (k == -ETIMEDOUT)
                __atomic_store_n(stalled, true, __ATOMIC_RELAXED);
        else if (k >= 0 && __atomic_load_n(stalled, __ATOMIC_RELAXED))
                __atomic_store_n(stalled, false, __ATOMIC_RELAXED);
}

static bool stderr_stalled; /* atomic */
static bool stderr_torn;    /* atomic */

/* Whether stderr is journald's stream, looked at once: the fallback's lines
 * then keep their priority there. */
static bool stderr_is_journal(void) {
        static int known; /* atomic: 0 not yet, 1 no, 2 yes */
        int v = __atomic_load_n(&known, __ATOMIC_RELAXED);

        if (_unlikely_(v == 0)) {
                int saved_errno = errno;
                v = fd_is_journal_stream(STDERR_FILENO) ? 2 : 1;
                errno = saved_errno;
                __atomic_store_n(&known, v, __ATOMIC_RELAXED);
        }
        return v == 2;
}

int stderr_write_text(const struct trail_record *r, uint64_t deadline) {
        int k = write_line(STDERR_FILENO, formatter_default_text(), r, false, stderr_is_journal(),
                           &stderr_torn, stall_deadline(&stderr_stalled, deadline));
        stall_update(&stderr_stalled, k);
        return k;
}

void stderr_report_once(bool *reported, const char *fmt, ...) {
        char msg[512];
        va_list ap;
        int n;

        if (__atomic_exchange_n(reported, true, __ATOMIC_RELAXED))
                return;
        memcpy(msg, "trail: ", STRLEN("trail: "));
        va_start(ap, fmt);
        n = vsnprintf(msg + STRLEN("trail: "), sizeof(msg) - STRLEN("trail: ") - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        n += (int) STRLEN("trail: ");
        if ((size_t) n > sizeof(msg) - 2)
                n = (int) sizeof(msg) - 2; /* as vsnprintf() cut it */
        msg[n++] = '\n';
        (void) fd_write_until(STDERR_FILENO, msg, (size_t) n, now_usec(), NULL);
}

/* Whether fd is stderr's file: its report would go where it failed. */
static bool fd_is_stderr(int fd) {
        struct stat a, b;

        if (fd == STDERR_FILENO)
                return true;
        if (fstat(fd, &a) < 0 || fstat(STDERR_FILENO, &b) < 0)
                return false;
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The first record the handler could not write is said on stderr, once,
 * as the journald and syslog handlers do; that one and the later ones are
 * counted (trail_get_stats()). Not when the handler writes to stderr. */
static void stream_report_once(struct stream_handler *s, int error) {
        if (__atomic_load_n(&s->reported, __ATOMIC_RELAXED) || fd_is_stderr(s->fd))
                return;
        stderr_report_once(&s->reported,
                           "stream handler on fd %d could not write a record (%s); it and any "
                           "other it cannot write are counted as lost (reported once)",
                           s->fd,
                           error == -ETIMEDOUT ? "nobody read it within the handler's timeout"
                                               : strerror(-error));
}

static int stream_emit(trail_handler *h, const struct trail_record *r, bool *fell_back) {
        (void) fell_back;
        struct stream_handler *s = (struct stream_handler *) h;
        /* an async handler's worker delivers later, and waits as long as it
         * takes (the async handler bounds its callers) */
        uint64_t deadline =
                r->deferred ? DEADLINE_NONE
                            : now_usec() + __atomic_load_n(&s->timeout_usec, __ATOMIC_RELAXED);
        int k = write_line(s->fd, __atomic_load_n(&h->formatter, __ATOMIC_ACQUIRE), r, s->terminal,
                           s->journal, &s->torn, stall_deadline(&s->stalled, deadline));
        if (!r->deferred)
                stall_update(&s->stalled, k);
        if (_unlikely_(k < 0))
                stream_report_once(s, k);
        return k;
}

static int stream_set(trail_handler *h, const char *key, const char *value) {
        struct stream_handler *s = (struct stream_handler *) h;
        uint64_t v;
        int k;

        if (strcmp(key, "timeout") != 0)
                return -ENOENT;
        k = parse_timeout_usec(value, &v);
        if (k < 0)
                return k;
        __atomic_store_n(&s->timeout_usec, v, __ATOMIC_RELAXED);
        return 0;
}

static void stream_free(trail_handler *h) {
        free(h);
}

static const struct handler_ops stream_ops = {
        .type = "stream",
        .default_format = "text",
        .emit = stream_emit,
        .set = stream_set,
        .free = stream_free,
};

_public_ trail_handler *trail_handler_stream(int fd, const char *format) {
        _cleanup_(trail_formatter_unrefp) trail_formatter *f = NULL;
        struct stream_handler *s;
        int r;

        if (fd < 0) {
                errno = EINVAL;
                return NULL;
        }
        if (format) {
                f = trail_formatter_new(format);
                if (!f)
                        return NULL;
        }
        s = calloc(1, sizeof(*s));
        if (!s) {
                errno = ENOMEM;
                return NULL;
        }
        s->fd = fd;
        s->timeout_usec = TIMEOUT_DEFAULT_USEC;
        /* https://no-color.org: set and not empty means no colour */
        const char *no_color = secure_getenv("NO_COLOR");
        int saved_errno = errno; /* isatty() sets ENOTTY */
        s->terminal = isatty(fd) == 1 && !(no_color && *no_color);
        s->journal = fd_is_journal_stream(fd);
        errno = saved_errno;
        r = handler_init(&s->base, &stream_ops);
        if (r >= 0 && f)
                r = trail_handler_set_formatter(&s->base, f);
        if (r < 0) {
                trail_handler_unref(&s->base);
                errno = -r;
                return NULL;
        }
        return &s->base;
}
