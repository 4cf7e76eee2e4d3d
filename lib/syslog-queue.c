/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The syslog handler's buffer of frames for stream transports: whole
 * frames, in order, the oldest dropped when it is full (handler-syslog.c). */

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#if HAVE_GNUTLS
#include <gnutls/gnutls.h>
#endif

#include "handler-syslog-private.h"

/* ---- The frame buffer ---------------------------------------------------- */

/* The top bit of a frame's length marks trail's own notice: not a record
 * the handler was given, so not counted as one delivered. */
#define FRAME_NOTICE 0x80000000u

static uint32_t frame_word_at(const struct pending *q, size_t off) {
        uint32_t n;
        memcpy(&n, q->data + off, sizeof(n));
        return n;
}

static uint32_t frame_len_at(const struct pending *q, size_t off) {
        return frame_word_at(q, off) & ~FRAME_NOTICE;
}

static void drop_head(struct syslog_handler *s) {
        struct pending *q = &s->q;
        q->start += sizeof(uint32_t) + frame_len_at(q, q->start);
        q->head_sent = 0;
        q->in_flight = 0;
        q->n_frames--;
        if (q->n_held > 0)
                q->n_held--;
        if (q->n_held == 0)
                q->held_end = q->start;
        if (q->n_frames == 0)
                q->start = q->end = q->held_end = 0;
}

/* Drops the oldest whole frames, never one already partly on the wire,
 * handed to TLS (whose send is resumed, not redone) nor one RELP holds for
 * a resend, until n more bytes fit, leaving reserve bytes free. */
static int make_room(struct syslog_handler *s, size_t n, size_t reserve) {
        struct pending *q = &s->q;

        if (n + reserve > q->cap)
                return -EMSGSIZE;
        while (q->cap - (q->end - q->start) < n + reserve && q->n_frames > 0) {
                size_t off = q->start, kept = 0;
                bool notice;
                if (q->n_held > 0) {
                        kept = q->n_held;
                        off = q->held_end;
                } else {
                        /* the frames that bytes on their way belong to */
                        size_t committed = q->head_sent + q->in_flight, seen = 0;
                        for (; kept < q->n_frames && seen < committed; kept++) {
                                seen += frame_len_at(q, off);
                                off += sizeof(uint32_t) + frame_len_at(q, off);
                        }
                }
                if (kept > 0) {
                        /* keep those, drop the one after them */
                        if (q->n_frames <= kept)
                                return -ENOBUFS;
                        size_t len = sizeof(uint32_t) + frame_len_at(q, off);
                        notice = frame_word_at(q, off) & FRAME_NOTICE;
                        memmove(q->data + off, q->data + off + len, q->end - off - len);
                        q->end -= len;
                        q->n_frames--;
                } else {
                        notice = frame_word_at(q, off) & FRAME_NOTICE;
                        drop_head(s);
                }
                if (!notice) {
                        s->lost_unreported++;
                        atomic_inc(&s->base.stats.lost);
                }
        }
        if (q->cap - q->end < n) {
                memmove(q->data, q->data + q->start, q->end - q->start);
                q->end -= q->start;
                q->held_end -= q->start;
                q->start = 0;
        }
        return 0;
}

size_t syslog_queue_frame_at(const struct syslog_handler *s, size_t off, const char **ret_p,
                             bool *ret_notice) {
        *ret_p = s->q.data + off + sizeof(uint32_t);
        *ret_notice = frame_word_at(&s->q, off) & FRAME_NOTICE;
        return frame_len_at(&s->q, off);
}

void syslog_queue_acked(struct syslog_handler *s, size_t n) {
        for (; n > 0 && s->q.n_frames > 0; n--) {
                bool notice = frame_word_at(&s->q, s->q.start) & FRAME_NOTICE;
                drop_head(s);
                if (!notice)
                        atomic_inc(&s->base.stats.delivered);
        }
}

/* Room kept for the record that tells how many were lost, so that saying
 * so does not lose one more. */
#define NOTICE_RESERVE 1024

bool syslog_queue_fits(const struct syslog_handler *s, size_t n) {
        return s->q.cap - (s->q.end - s->q.start) >= sizeof(uint32_t) + n + NOTICE_RESERVE;
}

int syslog_queue_frame(struct syslog_handler *s, const char *p, size_t n, bool notice) {
        struct pending *q = &s->q;
        int k = make_room(s, sizeof(uint32_t) + n, notice ? 0 : NOTICE_RESERVE);

        if (k < 0)
                return k;
        uint32_t len = (uint32_t) n | (notice ? FRAME_NOTICE : 0);
        memcpy(q->data + q->end, &len, sizeof(len));
        memcpy(q->data + q->end + sizeof(len), p, n);
        q->end += sizeof(len) + n;
        q->n_frames++;
        return 0;
}

#if HAVE_GNUTLS
/* What one TLS record carries: the frames waiting, from the head's first
 * byte not yet sent, up to the size of a record, gathered in the batch
 * buffer (a head that fills a record by itself is sent from where it is).
 * A record may end inside a frame; its rest begins the next record. */
static size_t tls_chunk(struct syslog_handler *s, const char **ret) {
        const struct pending *q = &s->q;
        size_t max = gnutls_record_get_max_size(s->session), used = 0, off = q->start;

        if (max == 0 || max > DGRAM_BATCH_BYTES)
                max = DGRAM_BATCH_BYTES;
        for (size_t i = 0; i < q->n_frames && used < max; i++) {
                size_t skip = i == 0 ? q->head_sent : 0, len = frame_len_at(q, off) - skip;
                const char *p = q->data + off + sizeof(uint32_t) + skip;
                if (i == 0 && (len >= max || q->n_frames == 1)) {
                        *ret = p;
                        return len;
                }
                if (len > max - used)
                        len = max - used;
                memcpy(s->batch.data + used, p, len);
                used += len;
                off += sizeof(uint32_t) + frame_len_at(q, off);
        }
        *ret = s->batch.data;
        return used;
}
#endif

/* Writes frames until the buffer is empty, the deadline passes, or the
 * connection fails (then it is closed and the frames wait). */
int syslog_drain(struct syslog_handler *s, uint64_t deadline) {
        struct pending *q = &s->q;

        while (q->n_frames > 0 && s->fd >= 0) {
                ssize_t k;
#if HAVE_GNUTLS
                if (s->session) {
                        if (s->tls_again)
                                k = gnutls_record_send(s->session, NULL, 0);
                        else {
                                const char *p;
                                size_t len = tls_chunk(s, &p);
                                k = gnutls_record_send(s->session, p, len);
                                q->in_flight = len;
                        }
                        s->tls_again = k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED;
                        if (!s->tls_again)
                                q->in_flight = 0;
                        if (s->tls_again) {
                                if (poll_until(s->fd, POLLOUT, deadline) < 0)
                                        return -ETIMEDOUT;
                                continue;
                        }
                        if (k < 0) {
                                syslog_disconnect(s, now_usec());
                                return -ECONNRESET;
                        }
                } else
#endif
                {
                        struct iovec iov[256];
                        size_t n_iov = 0, off = q->start;
                        for (size_t i = 0; i < q->n_frames && n_iov < ELEMENTSOF(iov); i++) {
                                uint32_t len = frame_len_at(q, off);
                                size_t skip = i == 0 ? q->head_sent : 0;
                                iov[n_iov++] = (struct iovec){
                                        q->data + off + sizeof(uint32_t) + skip, len - skip};
                                off += sizeof(uint32_t) + len;
                        }
                        struct msghdr m = {.msg_iov = iov, .msg_iovlen = n_iov};
                        k = sendmsg(s->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (k < 0) {
                                if (errno == EINTR)
                                        continue;
                                if (errno == EAGAIN) {
                                        if (poll_until(s->fd, POLLOUT, deadline) < 0)
                                                return -ETIMEDOUT;
                                        continue;
                                }
                                int e = -errno;
                                syslog_disconnect(s, now_usec());
                                return e;
                        }
                }
                /* account for what was written: whole frames are delivered */
                size_t done = (size_t) k;
                while (done > 0 && q->n_frames > 0) {
                        size_t left = frame_len_at(q, q->start) - q->head_sent;
                        if (done < left) {
                                q->head_sent += done;
                                break;
                        }
                        done -= left;
                        bool notice = frame_word_at(q, q->start) & FRAME_NOTICE;
                        drop_head(s);
                        if (!notice)
                                atomic_inc(&s->base.stats.delivered);
                }
        }
        return 0;
}

int syslog_send_batch(struct syslog_handler *s, size_t first, uint64_t deadline) {
        struct dgram_batch *b = &s->batch;

        for (;;) {
                int k = sendmmsg(s->fd, b->msgs + first, (unsigned) (b->n - first),
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k > 0)
                        return k;
                k = k < 0 ? -errno : -EAGAIN;
                if (k == -EINTR)
                        continue;
                if (k == -EAGAIN && poll_until(s->fd, POLLOUT, deadline) == 0)
                        continue;
                return k;
        }
}

/* Reads and drops what the receiver sent: a syslog receiver sends nothing
 * on its own (RFC 6587, RFC 5425), but TLS does (TLS 1.3 session tickets,
 * key updates, the close_notify alert), and a receiver may say something
 * before it hangs up. Bounded, so a peer that floods cannot hold the call.
 * Returns whether the connection is still open. */
static bool discard_input(struct syslog_handler *s) {
        char buf[2048];

        for (int i = 0; i < 32; i++) {
                ssize_t k;
#if HAVE_GNUTLS
                if (s->session) {
                        k = gnutls_record_recv(s->session, buf, sizeof(buf));
                        if (k > 0)
                                continue;
                        if (k == GNUTLS_E_AGAIN)
                                return true;
                        /* 0: close_notify; a fatal error (among them
                         * GNUTLS_E_PREMATURE_TERMINATION, a close without
                         * close_notify) ends the session; a warning alert
                         * or a renegotiation request does not */
                        if (k == 0 || gnutls_error_is_fatal((int) k))
                                return false;
                        continue;
                }
#endif
                k = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (k > 0)
                        continue;
                if (k < 0 && errno == EINTR)
                        continue;
                return k < 0 && errno == EAGAIN;
        }
        return true;
}

/* A peer that closed its end (a receiver that stopped or was killed, with
 * or without close_notify) is noticed before a frame is written into the
 * void: such a write succeeds locally and would be counted delivered. One
 * poll() without waiting per record, the same cost as the recv(MSG_PEEK)
 * it replaces; what is readable is read, since a FIN (or close_notify)
 * that follows unread bytes does not show otherwise. A close that comes
 * after this check and before the write is not seen: the one record
 * written then is counted delivered and lost (TCP and TLS have no
 * acknowledgement a sender could wait for). */
void syslog_check_peer(struct syslog_handler *s) {
        struct pollfd p;
        int k;

        if (s->fd < 0 || !is_stream(s))
                return;
        p = (struct pollfd){.fd = s->fd, .events = POLLIN | POLLRDHUP};
        do
                k = poll(&p, 1, 0);
        while (k < 0 && errno == EINTR);
        if (k <= 0)
                return;
        if ((p.revents & (POLLERR | POLLHUP | POLLNVAL)) || !discard_input(s) ||
            (p.revents & POLLRDHUP))
                syslog_disconnect(s, now_usec());
}
