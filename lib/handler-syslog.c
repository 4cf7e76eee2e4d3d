/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The syslog handler: records rendered by a formatter (RFC 5424 or 3164)
 * and sent over a unix socket, UDP (RFC 5426), TCP with octet counting (RFC
 * 6587 §3.4.1), TLS (RFC 5425) or RELP (syslog-relp.c). Stream transports keep what they cannot
 * send yet in a bounded buffer of whole frames, in order, dropping the
 * oldest when it is full; a record then says how many were lost. No call
 * waits longer than the handler's timeout. */

#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>

#if HAVE_GNUTLS
#include <gnutls/gnutls.h>
#endif

#include "handler-syslog-private.h"

#define BACKOFF_MIN_USEC   (100 * 1000ULL)
#define BACKOFF_MAX_USEC   (30 * 1000 * 1000ULL)
#define DGRAM_MAX_DEFAULT  (8 * 1024)
#define STREAM_MAX_DEFAULT (64 * 1024)
#define TRUNCATION_MARK    "...[truncated]"

/* ---- Connections --------------------------------------------------------- */

static int connect_unix(struct syslog_handler *s) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        size_t n = strlen(s->path);

        if (n >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, s->path, n);
        for (int type = s->unix_stream ? SOCK_STREAM : SOCK_DGRAM;;) {
                int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (fd < 0)
                        return -errno;
                if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0) {
                        s->fd = fd;
                        s->unix_stream = type == SOCK_STREAM;
                        return 0;
                }
                int k = -errno;
                close(fd);
                if (k == -EPROTOTYPE && type == SOCK_DGRAM) {
                        type = SOCK_STREAM;
                        continue;
                }
                return k;
        }
}

static int connect_inet(struct syslog_handler *s, uint64_t deadline) {
        int k = resolver_get(&s->res, deadline);

        if (k < 0)
                return k;
        k = -EHOSTUNREACH;
        for (size_t i = 0; i < s->res.addrs.n; i++) {
                const struct sockaddr *sa = (const struct sockaddr *) &s->res.addrs.a[i].sa;
                int fd = socket(s->res.addrs.a[i].family,
                                s->res.addrs.a[i].socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                                s->res.addrs.a[i].protocol);
                if (fd < 0) {
                        k = -errno;
                        continue;
                }
                if (connect(fd, sa, s->res.addrs.a[i].len) < 0) {
                        k = -errno;
                        if (k == -EINPROGRESS) {
                                int err = 0;
                                socklen_t len = sizeof(err);
                                k = poll_until(fd, POLLOUT, deadline);
                                if (k == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0)
                                        k = -err;
                        }
                        if (k < 0) {
                                close(fd);
                                continue;
                        }
                }
                if (s->res.addrs.a[i].socktype == SOCK_STREAM)
                        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
                s->fd = fd;
                k = 0;
                break;
        }
        return k;
}

static void queue_lost_notice(struct syslog_handler *s, struct tls_state *t);

/* Connects when it is time to try; a failure postpones the next attempt
 * with a doubling backoff. */
static int ensure_connected(struct syslog_handler *s, struct tls_state *t, uint64_t deadline,
                            bool force) {
        uint64_t now = now_usec();
        int k;

        if (s->fd >= 0)
                return 0;
        if (!force && now < s->next_retry_usec)
                return -EAGAIN;
        if (s->transport == T_UNIX)
                k = connect_unix(s);
        else
                k = connect_inet(s, deadline);
#if HAVE_GNUTLS
        if (k >= 0 && s->transport == T_TLS) {
                k = syslog_tls_start(s, deadline);
                if (k < 0) {
                        close(s->fd);
                        s->fd = -1;
                }
        }
#endif
        /* Out of memory here says nothing about the peer: try again with the
         * next record rather than send records elsewhere for a backoff. */
        if (k == -ENOMEM) {
                syslog_report_once(s, "cannot connect; holding records until it can", k);
                return k;
        }
        if (k < 0) {
                /* The backoff spares a receiver (and the resolver) that is
                 * down; a local shortage (no descriptor, no memory) costs
                 * nothing to retry, and should not keep records off the
                 * link for up to 30 s after it has passed. */
                if (k == -EMFILE || k == -ENFILE || k == -ENOBUFS || k == -ENOMEM)
                        s->next_retry_usec = 0;
                else {
                        s->backoff_usec = s->backoff_usec ? s->backoff_usec * 2 : BACKOFF_MIN_USEC;
                        if (s->backoff_usec > BACKOFF_MAX_USEC)
                                s->backoff_usec = BACKOFF_MAX_USEC;
                        s->next_retry_usec = now_usec() + s->backoff_usec;
                }
                syslog_report_once(s,
                                   s->transport == T_UDP ||
                                                   (s->transport == T_UNIX && !s->unix_stream)
                                           ? "cannot connect; records go to stderr until it can"
                                           : "cannot connect; holding records until it can",
                                   k);
                return k;
        }
        s->backoff_usec = 0;
        if (s->lost_unreported > 0 && t)
                queue_lost_notice(s, t);
        return 0;
}

/* ---- Records ------------------------------------------------------------- */

static size_t max_length(const struct syslog_handler *s) {
        if (s->max_length)
                return s->max_length;
        return is_stream(s) || s->transport == T_RELP ? STREAM_MAX_DEFAULT : DGRAM_MAX_DEFAULT;
}

/* Renders r into t->render, framed for the transport. Returns the frame's
 * offset in t->render (room is left in front for the octet count). */
static int render_frame(struct syslog_handler *s, struct tls_state *t, const struct trail_record *r,
                        size_t *ret_off) {
        const trail_formatter *f = __atomic_load_n(&s->base.formatter, __ATOMIC_ACQUIRE);
        size_t max = max_length(s), n;
        /* a datagram, or a frame with its length in front (octet counting,
         * RELP): nothing in the record can end it, so the formatter writes
         * values as they are; "framing = lf" makes every record a line */
        bool lf = is_stream(s) && (f->ops->lf_framing || s->lf_framing);
        const struct format_frame fr = {.max = max, .length_framed = !lf};
        char *b;
        int k;

        es_emptyStr(t->render);
        if (buf_reserve(&t->render, 16) < 0)
                return -ENOMEM;
        t->render->lenStr = 12; /* room for "LEN " */
        k = f->ops->format(f, r, &fr, &t->render);
        if (k < 0)
                return k;
        b = (char *) es_getBufAddr(t->render);
        n = t->render->lenStr - 12;
        if (n > max) {
                /* never split into a second record: cut at a UTF-8 boundary */
                size_t cut = max - STRLEN(TRUNCATION_MARK);
                atomic_inc(&trail_stat_truncated);
                while (cut > 0 && ((unsigned char) b[12 + cut] & 0xc0) == 0x80)
                        cut--;
                memcpy(b + 12 + cut, TRUNCATION_MARK, STRLEN(TRUNCATION_MARK));
                n = cut + STRLEN(TRUNCATION_MARK);
                t->render->lenStr = (es_size_t) (12 + n);
        }
        if (!is_stream(s)) {
                *ret_off = 12;
                return (int) n;
        }
        if (lf) {
                /* legacy receivers: LF-terminated (RFC 6587 §3.4.2); the
                 * formatter, told so, escapes every LF in the record */
                if (buf_reserve(&t->render, 1) < 0)
                        return -ENOMEM;
                b = (char *) es_getBufAddr(t->render);
                b[12 + n] = '\n';
                t->render->lenStr++;
                *ret_off = 12;
                return (int) n + 1;
        }
        /* RFC 6587 §3.4.1: octet counting, "MSG-LEN SP SYSLOG-MSG" */
        char num[12];
        size_t d = format_uint(num, n);
        num[d++] = ' ';
        memcpy(b + 12 - d, num, d);
        *ret_off = 12 - d;
        return (int) (n + d);
}

static const trail_source lost_src = {__FILE__, "queue_lost_notice", __LINE__, STRLEN(__FILE__),
                                      STRLEN("queue_lost_notice")};

static void queue_lost_notice(struct syslog_handler *s, struct tls_state *t) {
        const struct rfield lost = {
                .name = "LOST", .type = TRAIL_FIELD_UINT, .v.u = s->lost_unreported};
        struct own_record o;
        size_t off;

        own_record_build(&o, TRAIL_WARNING, &lost_src, TRAIL_MESSAGE_ID_LINK_LOST, &lost, 1,
                         "trail: %" PRIu64 " records to %s were lost while it was unreachable",
                         s->lost_unreported, s->target);
        int len = render_frame(s, t, &o.r, &off);
        if (len > 0 && syslog_queue_frame(s, (const char *) es_getBufAddr(t->render) + off,
                                          (size_t) len, true) >= 0)
                s->lost_unreported = 0;
}

static int lock_until(struct syslog_handler *s, uint64_t timeout_usec) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t) (timeout_usec / 1000000);
        ts.tv_nsec += (long) (timeout_usec % 1000000) * 1000;
        if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
        }
        return -pthread_mutex_timedlock(&s->lock, &ts);
}

static const char refused[] = "the receiver refused earlier datagrams (nothing listens)";

static int send_dgram(struct syslog_handler *s, const char *p, size_t n, uint64_t deadline) {
        for (int attempt = 0; attempt < 2; attempt++) {
                int k = ensure_connected(s, NULL, deadline, attempt > 0);
                if (k < 0)
                        return k;
                for (;;) {
                        if (send(s->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
                                return 0;
                        k = -errno;
                        if (k == -EINTR)
                                continue;
                        if (k == -EAGAIN && poll_until(s->fd, POLLOUT, deadline) == 0)
                                continue;
                        break;
                }
                if (k == -EAGAIN || k == -ETIMEDOUT || k == -EMSGSIZE)
                        return k;
                /* UDP: an ICMP "port unreachable" for an earlier datagram,
                 * which was counted as sent and is lost; nothing says which
                 * one, but the host should hear of it. */
                if (s->transport == T_UDP && k == -ECONNREFUSED)
                        syslog_report_once(s, refused, k);
                /* a receiver restarted (new socket) or an ICMP error from an
                 * earlier datagram: reconnect and try once more */
                syslog_disconnect(s, deadline);
        }
        return -ECONNREFUSED;
}

/* A receiver that stopped reading costs one timeout, not one per record:
 * while the link is stalled, records are offered without waiting for room
 * (stream transports keep them in the buffer, datagram ones fall back). */
static uint64_t send_deadline(const struct syslog_handler *s, uint64_t deadline) {
        return s->stalled ? now_usec() : deadline;
}

/* RELP: the record is queued for the sender thread (syslog-relp.c), which
 * counts it delivered once acknowledged. Called with s->lock held. */
static void relp_queue(struct syslog_handler *s, struct tls_state *t,
                       const struct trail_record *r) {
        size_t off;
        int len;

        /* the count of records lost while the link was down, first */
        if (s->lost_unreported > 0 && syslog_relp_connected(s))
                queue_lost_notice(s, t);
        len = render_frame(s, t, r, &off);
        if (len < 0 || syslog_queue_frame(s, (const char *) es_getBufAddr(t->render) + off,
                                          (size_t) len, false) < 0)
                atomic_inc(&s->base.stats.lost);
        else
                syslog_relp_kick(s);
}

/* Within the handler's timeout and by the caller's deadline, whichever
 * comes first, the stderr fallback included. */
int syslog_emit_until(trail_handler *h, const struct trail_record *r, bool *fell_back,
                      uint64_t call_deadline) {
        struct syslog_handler *s = (struct syslog_handler *) h;
        struct tls_state *t = tls_state_get();
        uint64_t now = now_usec(), timeout = __atomic_load_n(&s->timeout_usec, __ATOMIC_RELAXED);
        uint64_t deadline = now + timeout;
        size_t off;
        int k, len;

        if (!t)
                return -ENOMEM;
        if (call_deadline < deadline) {
                deadline = call_deadline;
                timeout = deadline > now ? deadline - now : 0;
        }
        k = lock_until(s, timeout);
        if (k < 0) {
                /* another thread holds the link past our timeout */
                atomic_inc(&h->stats.lost);
                return HANDLER_COUNTS_ITSELF;
        }

        if (s->transport == T_RELP) {
                relp_queue(s, t, r);
                pthread_mutex_unlock(&s->lock);
                return HANDLER_COUNTS_ITSELF;
        }

        /* whether a unix socket is a datagram or a stream one shows at connect */
        if (s->transport == T_UNIX && s->fd < 0)
                (void) ensure_connected(s, t, deadline, false);
        if (is_stream(s)) {
                syslog_check_peer(s);
                (void) ensure_connected(s, t, deadline, false);
                len = render_frame(s, t, r, &off);
                if (len < 0)
                        k = len;
                else
                        k = syslog_queue_frame(s, (const char *) es_getBufAddr(t->render) + off,
                                               (size_t) len, false);
                if (k < 0) {
                        /* larger than the whole buffer: it can never be sent */
                        atomic_inc(&h->stats.lost);
                        pthread_mutex_unlock(&s->lock);
                        return HANDLER_COUNTS_ITSELF;
                }
                if (s->fd >= 0)
                        s->stalled = syslog_drain(s, send_deadline(s, deadline)) == -ETIMEDOUT;
                pthread_mutex_unlock(&s->lock);
                return HANDLER_COUNTS_ITSELF; /* delivered or lost frames are counted as they go */
        }

        len = render_frame(s, t, r, &off);
        k = len < 0 ? len
                    : send_dgram(s, (const char *) es_getBufAddr(t->render) + off, (size_t) len,
                                 send_deadline(s, deadline));
        s->stalled = k == -EAGAIN || k == -ETIMEDOUT;
        pthread_mutex_unlock(&s->lock);
        if (k >= 0)
                return 0;
        syslog_report_once(s, "the receiver did not take a record; it went to stderr", k);
        *fell_back = stderr_write_text(r, deadline) >= 0;
        return k;
}

static int syslog_emit(trail_handler *h, const struct trail_record *r, bool *fell_back) {
        return syslog_emit_until(h, r, fell_back, DEADLINE_NONE);
}

/* ---- Batches (the async worker's) -------------------------------------- */

/* Stream transports: every frame into the buffer, then one drain, which
 * writes many frames per system call (sendmsg() of many, or TLS records of
 * many); a frame that would push older ones out while the link takes them
 * drains them first. Counted as syslog_emit_until() counts each record. */
static void stream_batch(struct syslog_handler *s, struct tls_state *t,
                         const struct trail_record *const *r, size_t n, int *ret,
                         uint64_t deadline) {
        size_t off;

        syslog_check_peer(s);
        (void) ensure_connected(s, t, deadline, false);
        for (size_t i = 0; i < n; i++) {
                int k, len = render_frame(s, t, r[i], &off);
                ret[i] = HANDLER_COUNTS_ITSELF;
                if (len >= 0 && s->fd >= 0 && !syslog_queue_fits(s, (size_t) len))
                        s->stalled = syslog_drain(s, send_deadline(s, deadline)) == -ETIMEDOUT;
                k = len < 0 ? len
                            : syslog_queue_frame(s, (const char *) es_getBufAddr(t->render) + off,
                                                 (size_t) len, false);
                if (k < 0)
                        atomic_inc(&s->base.stats.lost);
        }
        if (s->fd >= 0)
                s->stalled = syslog_drain(s, send_deadline(s, deadline)) == -ETIMEDOUT;
}

/* Sends the datagrams gathered in the batch, as send_dgram() sends one: a
 * send that fails (not for want of room) reconnects and is tried once
 * more. Each one's result in ret. */
static void dgram_batch_send(struct syslog_handler *s, int *ret, uint64_t deadline) {
        struct dgram_batch *b = &s->batch;
        size_t i = 0;

        for (size_t j = 0; j < b->n; j++)
                b->msgs[j] = (struct mmsghdr){.msg_hdr = {.msg_iov = &b->iov[j], .msg_iovlen = 1}};
        for (int attempt = 0; i < b->n;) {
                int k = ensure_connected(s, NULL, deadline, attempt > 0);
                bool sent = k >= 0;
                if (sent)
                        k = syslog_send_batch(s, i, send_deadline(s, deadline));
                if (k > 0) {
                        for (int j = 0; j < k; j++)
                                ret[b->index[i++]] = 0;
                        s->stalled = false;
                        attempt = 0;
                        continue;
                }
                if (sent && k != -EAGAIN && k != -ETIMEDOUT && k != -EMSGSIZE) {
                        if (s->transport == T_UDP && k == -ECONNREFUSED)
                                syslog_report_once(s, refused, k);
                        syslog_disconnect(s, deadline);
                        if (attempt++ == 0)
                                continue;
                        k = -ECONNREFUSED;
                }
                s->stalled = k == -EAGAIN || k == -ETIMEDOUT;
                ret[b->index[i++]] = k;
                attempt = 0;
        }
        b->n = b->used = 0;
}

/* Datagram transports: the records rendered into the batch buffer, then
 * sent with sendmmsg(), many datagrams per call. */
static void dgram_batch(struct syslog_handler *s, struct tls_state *t,
                        const struct trail_record *const *r, size_t n, int *ret,
                        uint64_t deadline) {
        struct dgram_batch *b = &s->batch;
        size_t off;

        b->n = b->used = 0;
        for (size_t i = 0; i < n; i++) {
                int len = render_frame(s, t, r[i], &off);
                if (len < 0) {
                        ret[i] = len;
                        continue;
                }
                if (b->used + (size_t) len > DGRAM_BATCH_BYTES)
                        dgram_batch_send(s, ret, deadline);
                if ((size_t) len > DGRAM_BATCH_BYTES) {
                        ret[i] = send_dgram(s, (const char *) es_getBufAddr(t->render) + off,
                                            (size_t) len, send_deadline(s, deadline));
                        s->stalled = ret[i] == -EAGAIN || ret[i] == -ETIMEDOUT;
                        continue;
                }
                memcpy(b->data + b->used, (const char *) es_getBufAddr(t->render) + off,
                       (size_t) len);
                b->iov[b->n] = (struct iovec){b->data + b->used, (size_t) len};
                b->used += (size_t) len;
                b->index[b->n++] = i;
        }
        if (b->n > 0)
                dgram_batch_send(s, ret, deadline);
}

static void syslog_emit_batch(trail_handler *h, const struct trail_record *const *r, size_t n,
                              int *ret, bool *fell_back) {
        struct syslog_handler *s = (struct syslog_handler *) h;
        struct tls_state *t = tls_state_get();
        uint64_t timeout = __atomic_load_n(&s->timeout_usec, __ATOMIC_RELAXED);
        uint64_t deadline = now_usec() + timeout;

        if (!t || lock_until(s, timeout) < 0) {
                for (size_t i = 0; i < n; i++) {
                        ret[i] = t ? HANDLER_COUNTS_ITSELF : -ENOMEM;
                        if (t) /* another thread holds the link past our timeout */
                                atomic_inc(&h->stats.lost);
                }
                return;
        }
        if (s->transport == T_UNIX && s->fd < 0)
                (void) ensure_connected(s, t, deadline, false);
        if (s->transport == T_RELP) /* one by one to the sender thread */
                for (size_t i = 0; i < n; i++) {
                        relp_queue(s, t, r[i]);
                        ret[i] = HANDLER_COUNTS_ITSELF;
                }
        else if (is_stream(s))
                stream_batch(s, t, r, n, ret, deadline);
        else
                dgram_batch(s, t, r, n, ret, deadline);
        pthread_mutex_unlock(&s->lock);
        for (size_t i = 0; i < n; i++)
                if (ret[i] < 0) {
                        syslog_report_once(
                                s, "the receiver did not take a record; it went to stderr", ret[i]);
                        fell_back[i] = stderr_write_text(r[i], deadline) >= 0;
                }
}

static int syslog_flush(trail_handler *h) {
        struct syslog_handler *s = (struct syslog_handler *) h;
        uint64_t timeout = __atomic_load_n(&s->timeout_usec, __ATOMIC_RELAXED);
        uint64_t deadline = now_usec() + timeout;
        int k;

        if (lock_until(s, timeout) < 0)
                return -ETIMEDOUT;
        k = 0;
        if (s->transport == T_RELP) {
                if (s->relp)
                        k = syslog_relp_flush(s, deadline);
        } else if (s->q.n_frames > 0) {
                syslog_check_peer(s);
                k = ensure_connected(s, tls_state_get(), deadline, true);
                if (k >= 0)
                        k = syslog_drain(s, deadline);
                s->stalled = k == -ETIMEDOUT;
                if (k >= 0 && s->q.n_frames > 0)
                        k = -ETIMEDOUT;
        }
        pthread_mutex_unlock(&s->lock);
        return k;
}

static void syslog_free(trail_handler *h) {
        struct syslog_handler *s = (struct syslog_handler *) h;

        resolver_drop(&s->res); /* a resolution in flight finishes on its own, and frees the job */
        /* a sender thread stuck in librelp past the timeout frees s itself */
        if (s->transport == T_RELP && !syslog_relp_stop(s))
                return;
        syslog_release(s);
}

/* fork(): the lock is held across I/O, up to the timeout, so fork() does
 * not wait for it. In the child it is released, or made anew when a thread
 * of the parent held it. A stream connection is the parent's: frames of the
 * child's would interleave with the parent's, and a TLS session cannot be
 * shared at all. The child drops its copy without a word to the receiver
 * and connects anew at its first record. Frames waiting in the buffer are
 * the parent's to send. */
static void syslog_fork_child(trail_handler *h) {
        struct syslog_handler *s = (struct syslog_handler *) h;
        bool consistent = pthread_mutex_trylock(&s->lock) == 0;

        if (consistent)
                pthread_mutex_unlock(&s->lock);
        else
                pthread_mutex_init(&s->lock, NULL);
        if (!consistent) {
                /* A thread of the parent was connecting or sending: the
                 * addresses, the resolution and the socket may be
                 * half-written (a torn address list failed every connect
                 * with EAFNOSUPPORT): the child resolves and connects
                 * anew; a resolution job is its parent's thread's. */
                s->res.addrs.n = 0;
                s->res.numeric = false;
                s->res.job = NULL;
        }
        if (is_stream(s) || !consistent) {
#if HAVE_GNUTLS
                /* Frees memory, sends nothing; a session a thread of the
                 * parent was using may be half-changed: left alone. */
                if (s->session && consistent)
                        gnutls_deinit(s->session);
                s->session = NULL;
                s->tls_again = false;
#endif
                if (s->fd >= 0)
                        close(s->fd);
                s->fd = -1;
        }
        s->q.start = s->q.end = s->q.head_sent = s->q.in_flight = s->q.n_frames = 0;
        s->q.n_held = s->q.held_end = 0;
        if (s->transport == T_RELP)
                syslog_relp_fork_child(s);
        s->lost_unreported = 0;
        s->stalled = false;
        s->next_retry_usec = 0;
}

static int set_string(char **field, const char *value) {
        char *c = *value ? strdup(value) : NULL;
        if (*value && !c)
                return -ENOMEM;
        free(*field);
        *field = c;
        return 0;
}

static int syslog_set(trail_handler *h, const char *key, const char *value) {
        struct syslog_handler *s = (struct syslog_handler *) h;
        uint64_t v;
        int k = 0;

        pthread_mutex_lock(&s->lock);
        if (strcmp(key, "timeout") == 0) {
                k = parse_timeout_usec(value, &v);
                if (k >= 0)
                        __atomic_store_n(&s->timeout_usec, v, __ATOMIC_RELAXED);
        } else if (strcmp(key, "buffer") == 0) {
                k = parse_size(value, &v);
                if (k >= 0 && (v < 4096 || v > 1024ULL * 1024 * 1024))
                        k = -EINVAL;
                if (k >= 0 && v != s->q.cap) {
                        size_t used = s->q.end - s->q.start;
                        if (v < used + 4096)
                                k = -EBUSY;
                        else {
                                char *d = malloc(v);
                                if (!d)
                                        k = -ENOMEM;
                                else {
                                        memcpy(d, s->q.data + s->q.start, used);
                                        free(s->q.data);
                                        s->q.data = d;
                                        s->q.held_end -= s->q.start;
                                        s->q.start = 0;
                                        s->q.end = used;
                                        s->q.cap = v;
                                }
                        }
                }
        } else if (strcmp(key, "max_length") == 0) {
                k = parse_size(value, &v);
                if (k >= 0 && (v < 480 || v > 16 * 1024 * 1024))
                        k = -EINVAL;
                if (k >= 0)
                        s->max_length = v;
        } else if ((s->transport == T_TCP || s->transport == T_TLS) &&
                   strcmp(key, "framing") == 0) {
                /* RFC 6587 §3.4.1 octet counting, or §3.4.2 LF-terminated */
                if (strcmp(value, "octet") == 0 || strcmp(value, "lf") == 0)
                        s->lf_framing = value[0] == 'l';
                else
                        k = -EINVAL;
        } else if (s->transport == T_RELP && strcmp(key, "window") == 0) {
                k = syslog_relp_set(s, key, value);
        } else if (s->tls_options && strcmp(key, "verify") == 0) {
                k = parse_bool(value);
                if (k >= 0)
                        s->verify = k, k = 0;
        } else if (s->tls_options && (strcmp(key, "ca") == 0 || strcmp(key, "cert") == 0 ||
                                      strcmp(key, "key") == 0)) {
                if (*value && access(value, R_OK) < 0)
                        k = -errno;
                else
                        k = set_string(strcmp(key, "ca") == 0     ? &s->ca
                                       : strcmp(key, "cert") == 0 ? &s->cert
                                                                  : &s->key,
                                       value);
#if HAVE_GNUTLS
                if (k >= 0 && s->cred) {
                        /* takes effect on the next connection */
                        gnutls_certificate_free_credentials(s->cred);
                        s->cred = NULL;
                }
#endif
        } else if (s->tls_options && strcmp(key, "server_name") == 0)
                k = set_string(&s->server_name, value);
        else if (s->tls_options && strcmp(key, "priority") == 0)
                k = set_string(&s->priority, value);
        else
                k = -ENOENT;
        pthread_mutex_unlock(&s->lock);
        return k;
}

static const struct handler_ops syslog_ops_network = {
        .type = "syslog",
        .default_format = "rfc5424",
        .emit = syslog_emit,
        .emit_batch = syslog_emit_batch,
        .flush = syslog_flush,
        .set = syslog_set,
        .free = syslog_free,
        .fork_child = syslog_fork_child,
};

static const struct handler_ops syslog_ops_local = {
        .type = "syslog",
        .default_format = "rfc3164",
        .emit = syslog_emit,
        .emit_batch = syslog_emit_batch,
        .flush = syslog_flush,
        .set = syslog_set,
        .free = syslog_free,
        .fork_child = syslog_fork_child,
};

_public_ trail_handler *trail_handler_syslog(const char *target) {
        struct syslog_handler *s;
        const char *rest;
        int k;

        if (!target)
                target = "unix:/dev/log";
        s = calloc(1, sizeof(*s));
        if (!s) {
                errno = ENOMEM;
                return NULL;
        }
        s->fd = -1;
        s->verify = true;
        s->timeout_usec = 1000000;
        pthread_mutex_init(&s->lock, NULL);
        s->target = strdup(target);
        if (!s->target) {
                k = -ENOMEM;
                goto fail;
        }

        k = -EINVAL;
        if ((rest = startswith(target, "unix:"))) {
                s->transport = T_UNIX;
                if (rest[0] != '/')
                        goto fail;
                s->path = strdup(rest);
                if (!s->path) {
                        k = -ENOMEM;
                        goto fail;
                }
        } else if ((rest = startswith(target, "udp://")))
                s->transport = T_UDP;
        else if ((rest = startswith(target, "tcp://")))
                s->transport = T_TCP;
        else if ((rest = startswith(target, "tls://"))) {
#if HAVE_GNUTLS
                s->transport = T_TLS;
#else
                k = -EPROTONOSUPPORT;
                goto fail;
#endif
        } else if ((rest = startswith(target, "relp://")) ||
                   (rest = startswith(target, "relp+tls://"))) {
                s->transport = T_RELP;
                s->tls_options = startswith(target, "relp+tls://") != NULL;
                k = syslog_relp_new(s, s->tls_options);
                if (k < 0)
                        goto fail;
                k = -EINVAL;
        } else
                goto fail;
        if (s->transport == T_TLS)
                s->tls_options = true;
        if (s->transport != T_UNIX) {
                /* RELP: 2514, where rsyslog's examples listen (IANA has none) */
                static const char *const default_port[] = {NULL, "514", "601", "6514", "2514"};
                k = parse_host_port(rest, default_port[s->transport], &s->host, &s->port);
                if (k < 0)
                        goto fail;
                s->res = (struct resolver){.host = s->host,
                                           .port = s->port,
                                           .socktype = s->transport == T_UDP ? SOCK_DGRAM
                                                                             : SOCK_STREAM};
        }

        s->q.cap = 1024 * 1024;
        s->q.data = malloc(s->q.cap);
        s->batch.data = malloc(DGRAM_BATCH_BYTES);
        if (!s->q.data || !s->batch.data) {
                k = -ENOMEM;
                goto fail;
        }
        k = handler_init(&s->base,
                         s->transport == T_UNIX ? &syslog_ops_local : &syslog_ops_network);
        if (k < 0) {
                s->base.ops = &syslog_ops_local;
                trail_handler_unref(&s->base);
                errno = -k;
                return NULL;
        }
        handler_fork_track(&s->base);
        /* the first record connects, so that creating a handler never waits */
        return &s->base;

fail:
        s->base.ops = &syslog_ops_local;
        s->base.refcount = 1;
        trail_handler_unref(&s->base);
        errno = -k;
        return NULL;
}
