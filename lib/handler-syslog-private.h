/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The syslog handler's state, shared by handler-syslog.c (records,
 * connecting, options), syslog-queue.c (the frame buffer), syslog-tls.c
 * (the TLS session, closing the connection, the one-time report) and
 * syslog-relp.c (RELP: librelp on a sender thread of its own). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#if HAVE_GNUTLS
#include <gnutls/gnutls.h>
#endif

#include "handler-private.h"
#include "resolve.h"

enum transport { T_UNIX, T_UDP, T_TCP, T_TLS, T_RELP };

/* Frames waiting to be sent: [uint32 length][bytes] … in data[start, end). */
struct pending {
        char *data;
        size_t start, end, cap;
        size_t head_sent; /* bytes of the first frame already on the wire */
        size_t in_flight; /* bytes after those that TLS holds, to be resumed */
        size_t n_frames;
        /* RELP: the first n_held frames, data[start, held_end), were handed
         * to librelp and are not known to be acknowledged: never dropped */
        size_t n_held, held_end;
};

/* Datagrams of one batch, for one sendmmsg(): their bytes in data. */
#define DGRAM_BATCH_BYTES (256 * 1024)
struct dgram_batch {
        char *data; /* DGRAM_BATCH_BYTES; also TLS's buffer of frames for one record */
        size_t used, n;
        size_t index[HANDLER_BATCH_MAX]; /* of each datagram's record in the batch */
        struct iovec iov[HANDLER_BATCH_MAX];
        struct mmsghdr msgs[HANDLER_BATCH_MAX];
};

struct relp_state;

struct syslog_handler {
        trail_handler base;
        pthread_mutex_t lock; /* the connection, the buffer, the options */
        enum transport transport;
        char *target;        /* as given, for messages */
        char *path;          /* T_UNIX */
        char *host, *port;   /* T_UDP, T_TCP, T_TLS */
        struct resolver res; /* host and port to addresses (resolve.c) */
        int fd;
        bool unix_stream; /* the unix socket turned out to be a stream one */
        bool reported;
        bool stalled; /* a send timed out; none has completed since */
        uint64_t timeout_usec;
        size_t max_length; /* 0: the transport's default */
        struct pending q;
        struct dgram_batch batch;
        bool lf_framing;          /* "framing = lf" on TCP and TLS (RFC 6587 §3.4.2) */
        uint64_t lost_unreported; /* frames dropped since the last notice */
        uint64_t next_retry_usec, backoff_usec;
#if HAVE_GNUTLS
        gnutls_session_t session;
        gnutls_certificate_credentials_t cred;
        bool tls_again; /* a send returned EAGAIN: resume it with NULL, 0 */
#endif
        char *ca, *cert, *key, *server_name, *priority;
        bool verify;
        bool tls_options;        /* takes ca, cert, key, …: tls:// and relp+tls:// */
        struct relp_state *relp; /* T_RELP (syslog-relp.c) */
};

static inline bool is_stream(const struct syslog_handler *s) {
        return s->transport == T_TCP || s->transport == T_TLS ||
               (s->transport == T_UNIX && s->unix_stream);
}

/* syslog-tls.c */
void syslog_report_once(struct syslog_handler *s, const char *what, int error);
#if HAVE_GNUTLS
int syslog_tls_start(struct syslog_handler *s, uint64_t deadline);
#endif
void syslog_disconnect(struct syslog_handler *s, uint64_t deadline);

/* syslog-queue.c */
int syslog_queue_frame(struct syslog_handler *s, const char *p, size_t n, bool notice);
int syslog_drain(struct syslog_handler *s, uint64_t deadline);
/* Whether a frame of n bytes fits in the buffer without dropping one. */
bool syslog_queue_fits(const struct syslog_handler *s, size_t n);
/* One sendmmsg() of the batch's datagrams from the first, waiting for room
 * until the deadline: how many went out (> 0), or the negative errno of the
 * first (-ETIMEDOUT when the deadline passed). */
int syslog_send_batch(struct syslog_handler *s, size_t first, uint64_t deadline);
void syslog_check_peer(struct syslog_handler *s);
/* The frame at offset off of the buffer: its length, *ret_p its bytes. */
size_t syslog_queue_frame_at(const struct syslog_handler *s, size_t off, const char **ret_p,
                             bool *ret_notice);
/* The n oldest frames were acknowledged: dropped, counted delivered. */
void syslog_queue_acked(struct syslog_handler *s, size_t n);

/* syslog-relp.c: a RELP handler's sender thread and its state. */
int syslog_relp_new(struct syslog_handler *s, bool tls);
/* A frame was queued (under s->lock): the sender thread is woken. */
void syslog_relp_kick(struct syslog_handler *s);
/* Whether a RELP session is open (the lost notice waits for one). */
bool syslog_relp_connected(const struct syslog_handler *s);
int syslog_relp_flush(struct syslog_handler *s, uint64_t deadline);
int syslog_relp_set(struct syslog_handler *s, const char *key, const char *value);
/* Stops the thread (bounded by the timeout); false when it still runs and
 * will free s itself when librelp lets it go. */
bool syslog_relp_stop(struct syslog_handler *s);
void syslog_relp_fork_child(struct syslog_handler *s);
/* The end of a syslog handler of any transport (frees s). */
void syslog_release(struct syslog_handler *s);
