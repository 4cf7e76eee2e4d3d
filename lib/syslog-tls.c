/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The syslog handler's TLS session (RFC 5425) and closing the connection,
 * with the report a failure gives once (handler-syslog.c). */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#if HAVE_GNUTLS
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#endif

#include "handler-syslog-private.h"

void syslog_report_once(struct syslog_handler *s, const char *what, int error) {
        stderr_report_once(&s->reported, "syslog %s: %s (%s) (reported once)", s->target, what,
                           strerror(error < 0 ? -error : error));
}

/* ---- TLS --------------------------------------------------------------- */

#if HAVE_GNUTLS
/* GnuTLS writes with send(fd, …, 0): a peer that went away would kill the
 * host program with SIGPIPE. */
static ssize_t tls_push(gnutls_transport_ptr_t p, const void *data, size_t n) {
        return send((int) (intptr_t) p, data, n, MSG_NOSIGNAL);
}

static ssize_t tls_push_vec(gnutls_transport_ptr_t p, const giovec_t *iov, int n) {
        struct msghdr m = {.msg_iov = (struct iovec *) iov, .msg_iovlen = (size_t) n};
        return sendmsg((int) (intptr_t) p, &m, MSG_NOSIGNAL);
}

static int tls_credentials(struct syslog_handler *s) {
        int k;

        if (s->cred)
                return 0;
        if (gnutls_certificate_allocate_credentials(&s->cred) < 0)
                return -ENOMEM;
        if (s->ca)
                k = gnutls_certificate_set_x509_trust_file(s->cred, s->ca, GNUTLS_X509_FMT_PEM);
        else
                k = gnutls_certificate_set_x509_system_trust(s->cred);
        if (k <= 0 && s->verify)
                goto fail; /* no CA at all: nothing could be verified */
        if (s->cert &&
            gnutls_certificate_set_x509_key_file(s->cred, s->cert, s->key ? s->key : s->cert,
                                                 GNUTLS_X509_FMT_PEM) < 0)
                goto fail;
        return 0;
fail:
        gnutls_certificate_free_credentials(s->cred);
        s->cred = NULL;
        return -EBADMSG;
}

int syslog_tls_start(struct syslog_handler *s, uint64_t deadline) {
        const char *name = s->server_name ? s->server_name : s->host;
        int k;

        k = tls_credentials(s);
        if (k < 0)
                return k;
        if (gnutls_init(&s->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0)
                return -ENOMEM;
        /* RFC 9662: TLS 1.2 or later, with the ECDHE AEAD suites */
        if (gnutls_priority_set_direct(s->session,
                                       s->priority ? s->priority
                                                   : "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
                                       NULL) < 0 ||
            gnutls_credentials_set(s->session, GNUTLS_CRD_CERTIFICATE, s->cred) < 0)
                goto fail;
        if (name && gnutls_server_name_set(s->session, GNUTLS_NAME_DNS, name, strlen(name)) < 0)
                goto fail;
        if (s->verify)
                gnutls_session_set_verify_cert(s->session, name, 0);
        gnutls_transport_set_int(s->session, s->fd);
        gnutls_transport_set_ptr(s->session, (gnutls_transport_ptr_t) (intptr_t) s->fd);
        gnutls_transport_set_push_function(s->session, tls_push);
        gnutls_transport_set_vec_push_function(s->session, tls_push_vec);
        gnutls_handshake_set_timeout(s->session, 0);

        for (;;) {
                k = gnutls_handshake(s->session);
                if (k == GNUTLS_E_SUCCESS)
                        return 0;
                if (k != GNUTLS_E_AGAIN && k != GNUTLS_E_INTERRUPTED)
                        break;
                k = poll_until(s->fd, gnutls_record_get_direction(s->session) ? POLLOUT : POLLIN,
                               deadline);
                if (k < 0)
                        goto fail_errno;
        }
        if (k == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR || k == GNUTLS_E_CERTIFICATE_ERROR)
                syslog_report_once(s, "the server certificate did not verify", EBADMSG);
        k = -ECONNREFUSED;
fail_errno:
        gnutls_deinit(s->session);
        s->session = NULL;
        return k;
fail:
        gnutls_deinit(s->session);
        s->session = NULL;
        return -EINVAL;
}
#endif

/* ---- Connections --------------------------------------------------------- */

/* The most a close waits for the receiver to close its side, within the
 * caller's deadline. */
#define CLOSE_LINGER_USEC (250 * 1000ULL)

/* A graceful close of a stream: FIN after what was sent, then what the
 * receiver sent and trail never read (TLS 1.3 session tickets, its own
 * close_notify) taken off the socket until it closes too, or until the
 * deadline. Closing a socket with unread data makes the kernel send a
 * reset instead of a FIN, and the receiver logs ECONNRESET or an
 * unexpected EOF, and may drop the close_notify it has not read yet. */
static void stream_linger(int fd, uint64_t deadline) {
        char sink[4096];
        uint64_t now = now_usec();

        if (shutdown(fd, SHUT_WR) < 0)
                return;
        if (deadline > now + CLOSE_LINGER_USEC)
                deadline = now + CLOSE_LINGER_USEC;
        for (;;) {
                ssize_t n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                        return; /* the receiver closed, or is gone */
                if (n < 0 && errno == EAGAIN && poll_until(fd, POLLIN, deadline) < 0)
                        return; /* the deadline: close with nothing left unread */
        }
}

void syslog_disconnect(struct syslog_handler *s, uint64_t deadline) {
#if HAVE_GNUTLS
        if (s->session) {
                /* RFC 5425 §4.4: close_notify before closing */
                for (int k;;) {
                        k = gnutls_bye(s->session, GNUTLS_SHUT_WR);
                        if ((k != GNUTLS_E_AGAIN && k != GNUTLS_E_INTERRUPTED) ||
                            poll_until(s->fd, POLLOUT, deadline) < 0)
                                break;
                }
                gnutls_deinit(s->session);
                s->session = NULL;
        }
        s->tls_again = false;
#endif
        if (s->fd >= 0) {
                if (is_stream(s))
                        stream_linger(s->fd, deadline);
                close(s->fd);
        }
        s->fd = -1;
        /* a frame cut off mid-way is sent whole on the next connection */
        s->q.head_sent = 0;
        s->q.in_flight = 0;
        s->stalled = false;
}
