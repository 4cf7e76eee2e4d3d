/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A loopback syslog receiver for the RFC 5424 rows: one thread that reads
 * UDP datagrams, or one TCP or TLS (RFC 5425, a self-signed certificate
 * made at start) connection's octet-counted frames (RFC 6587 §3.4.1), and
 * counts the messages. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#if HAVE_GNUTLS
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#endif

#include "sink.h"

struct sink {
        int fd;       /* bound UDP socket, or the listening TCP socket */
        bool tcp, tls;
#if HAVE_GNUTLS
        gnutls_certificate_credentials_t cred;
        gnutls_session_t session;
#endif
        int stop[2];  /* a pipe: readable when the thread must end */
        uint64_t count; /* atomic */
        uint64_t target; /* atomic: sink_wait()'s, 0 when none */
        pthread_mutex_t lock;
        pthread_cond_t reached;
        pthread_t thread;
};

/* One more message; wakes sink_wait() when it reaches its target. */
static void counted(struct sink *s) {
        uint64_t n = __atomic_add_fetch(&s->count, 1, __ATOMIC_RELAXED);
        if (n == __atomic_load_n(&s->target, __ATOMIC_RELAXED)) {
                pthread_mutex_lock(&s->lock);
                pthread_cond_signal(&s->reached);
                pthread_mutex_unlock(&s->lock);
        }
}

/* TCP: "LEN SP MSG", frame after frame, split anywhere by the stream. */
static void count_frames(struct sink *s, int conn) {
        char buf[65536];
        uint64_t skip = 0, len = 0;
        bool in_len = true;

        for (;;) {
                struct pollfd p[2] = { { conn, POLLIN, 0 }, { s->stop[0], POLLIN, 0 } };
                ssize_t n;
#if HAVE_GNUTLS
                bool pending = s->session && gnutls_record_check_pending(s->session) > 0;
#else
                bool pending = false;
#endif
                if (!pending && (poll(p, 2, -1) < 0 || (p[1].revents && !p[0].revents)))
                        return;
#if HAVE_GNUTLS
                if (s->session) {
                        do
                                n = gnutls_record_recv(s->session, buf, sizeof(buf));
                        while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
                } else
#endif
                        n = read(conn, buf, sizeof(buf));
                if (n <= 0)
                        return;
                for (ssize_t i = 0; i < n;) {
                        if (skip > 0) {
                                uint64_t k = (uint64_t) (n - i) < skip ? (uint64_t) (n - i) : skip;
                                skip -= k;
                                i += (ssize_t) k;
                                if (skip == 0)
                                        counted(s);
                                continue;
                        }
                        if (in_len && buf[i] >= '0' && buf[i] <= '9') {
                                len = len * 10 + (uint64_t) (buf[i] - '0');
                        } else if (buf[i] == ' ') {
                                skip = len;
                                len = 0;
                                if (skip == 0)
                                        counted(s);
                        }
                        i++;
                }
        }
}

#if HAVE_GNUTLS
/* A key and a certificate for "localhost", made now: the sender does not
 * verify it (the bench measures the transport, not a PKI). */
static int tls_credentials(struct sink *s) {
        gnutls_x509_privkey_t key = NULL;
        gnutls_x509_crt_t crt = NULL;
        time_t now = time(NULL);
        int k = -1;

        if (gnutls_x509_privkey_init(&key) < 0 || gnutls_x509_crt_init(&crt) < 0 ||
            gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0)
                goto out;
        if (gnutls_x509_crt_set_version(crt, 3) < 0 ||
            gnutls_x509_crt_set_serial(crt, "\x01", 1) < 0 ||
            gnutls_x509_crt_set_activation_time(crt, now - 60) < 0 ||
            gnutls_x509_crt_set_expiration_time(crt, now + 24 * 3600) < 0 ||
            gnutls_x509_crt_set_dn(crt, "CN=localhost", NULL) < 0 ||
            gnutls_x509_crt_set_key(crt, key) < 0 ||
            gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0 ||
            gnutls_certificate_allocate_credentials(&s->cred) < 0 ||
            gnutls_certificate_set_x509_key(s->cred, &crt, 1, key) < 0)
                goto out;
        k = 0;
out:
        if (crt)
                gnutls_x509_crt_deinit(crt);
        if (key)
                gnutls_x509_privkey_deinit(key);
        return k;
}

static int tls_accept(struct sink *s, int conn) {
        int k;

        if (gnutls_init(&s->session, GNUTLS_SERVER) < 0)
                return -1;
        if (gnutls_set_default_priority(s->session) < 0 ||
            gnutls_credentials_set(s->session, GNUTLS_CRD_CERTIFICATE, s->cred) < 0)
                return -1;
        gnutls_transport_set_int(s->session, conn);
        do
                k = gnutls_handshake(s->session);
        while (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED);
        return k < 0 ? -1 : 0;
}
#endif

static void *sink_main(void *userdata) {
        struct sink *s = userdata;
        char buf[65536];

        if (s->tcp) {
                struct pollfd pl[2] = { { s->fd, POLLIN, 0 }, { s->stop[0], POLLIN, 0 } };
                if (poll(pl, 2, -1) < 0 || !pl[0].revents)
                        return NULL;
                int conn = accept(s->fd, NULL, NULL);
                if (conn < 0)
                        return NULL;
#if HAVE_GNUTLS
                if (s->tls && tls_accept(s, conn) < 0) {
                        close(conn);
                        return NULL;
                }
#endif
                count_frames(s, conn);
#if HAVE_GNUTLS
                if (s->session)
                        gnutls_deinit(s->session);
                s->session = NULL;
#endif
                close(conn);
                return NULL;
        }
        for (;;) {
                struct pollfd p[2] = { { s->fd, POLLIN, 0 }, { s->stop[0], POLLIN, 0 } };
                if (poll(p, 2, -1) < 0 || (p[1].revents && !p[0].revents))
                        return NULL;
                /* many datagrams per call, as rsyslog's imudp reads them */
                struct mmsghdr m[64];
                struct iovec iov[64];
                for (int i = 0; i < 64; i++) {
                        iov[i] = (struct iovec){buf + i * 1024, 1024};
                        m[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
                }
                int k = recvmmsg(s->fd, m, 64, MSG_DONTWAIT, NULL);
                for (int i = 0; i < k; i++)
                        counted(s);
        }
}

struct sink *sink_start(bool tcp, bool tls, int *ret_port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        struct sink *s = calloc(1, sizeof(*s));
        int rcvbuf = 8 << 20;

        if (!s)
                return NULL;
        s->fd = -1;
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->reached, NULL);
        s->tcp = tcp || tls;
        s->tls = tls;
        tcp = s->tcp;
#if HAVE_GNUTLS
        if (tls && tls_credentials(s) < 0)
                goto fail;
#else
        if (tls)
                goto fail;
#endif
        s->fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
        if (s->fd < 0 || pipe(s->stop) < 0)
                goto fail;
        /* UDP has no flow control: a deep queue so the count shows loss, not a tiny buffer. */
        (void) setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
        if (bind(s->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            getsockname(s->fd, (struct sockaddr *) &sa, &len) < 0 || (tcp && listen(s->fd, 1) < 0))
                goto fail;
        if (pthread_create(&s->thread, NULL, sink_main, s) != 0)
                goto fail;
        *ret_port = ntohs(sa.sin_port);
        return s;
fail:
        if (s->fd >= 0)
                close(s->fd);
#if HAVE_GNUTLS
        if (s->cred)
                gnutls_certificate_free_credentials(s->cred);
#endif
        free(s);
        return NULL;
}

uint64_t sink_count(struct sink *s) {
        return __atomic_load_n(&s->count, __ATOMIC_RELAXED);
}

uint64_t sink_wait(struct sink *s, uint64_t want, int still_ms) {
        uint64_t n, last = sink_count(s);
        struct timespec until;

        pthread_mutex_lock(&s->lock);
        __atomic_store_n(&s->target, want, __ATOMIC_RELAXED);
        while ((n = sink_count(s)) < want) {
                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_nsec += (long) still_ms * 1000000;
                until.tv_sec += until.tv_nsec / 1000000000;
                until.tv_nsec %= 1000000000;
                if (pthread_cond_timedwait(&s->reached, &s->lock, &until) != 0 &&
                    (n = sink_count(s)) == last)
                        break;
                last = n;
        }
        __atomic_store_n(&s->target, 0, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&s->lock);
        return n;
}

uint64_t sink_stop(struct sink *s, uint64_t want) {
        uint64_t n, last = 0;
        int still = 0;

        /* Wait for the last messages in flight: until all are in, or the count
         * has not moved for 300 ms. */
        while ((n = sink_count(s)) < want && still < 30) {
                still = n == last ? still + 1 : 0;
                last = n;
                usleep(10000);
        }
        (void) !write(s->stop[1], "x", 1);
        pthread_join(s->thread, NULL);
        close(s->fd);
        close(s->stop[0]);
        close(s->stop[1]);
        n = sink_count(s);
#if HAVE_GNUTLS
        if (s->cred)
                gnutls_certificate_free_credentials(s->cred);
#endif
        free(s);
        return n;
}
