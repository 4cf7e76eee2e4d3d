/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A syslog receiver that goes away, over TLS and over TCP. A record
 * written after the receiver closed is not counted as delivered: it waits
 * for the next connection; what trail counted delivered is exactly what
 * the receiver got, and delivered + lost is every record logged.
 *
 * Two receivers: a private rsyslogd (gtls on its TLS port), killed
 * (SIGKILL: the kernel closes the connection) or stopped (SIGTERM; this
 * rsyslog sends no close_notify either way) several
 * times; and, because rsyslog sends nothing on its connections, a small
 * server in the test (GnuTLS, or plain TCP) that does what other receivers
 * do: sends TLS 1.3 session tickets after the handshake (bytes the client
 * has not read when the peer closes), then closes with close_notify or
 * without it, or (TCP) sends a few bytes before it closes. */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "rsyslog-util.h"
#include "test-util.h"
#include "trail.h"

#define MARGIN_USEC 250000 /* scheduling slack on a busy 2-core machine */

static struct rsyslog rs;
RSYSLOG_GROUP_FIXTURES(rs, true)

/* rsyslog_respawn(), then trail_flush() until what trail held is sent. */
static int receiver_back(void) {
        int k = rsyslog_respawn(&rs);

        if (k < 0)
                return k;
        k = -1;
        for (int tries = 0; tries < 100 && k < 0; tries++) {
                k = trail_flush();
                if (k < 0)
                        usleep(100 * 1000);
        }
        return k;
}

enum away { KILLED, STOPPED };

/* Rounds of: records delivered while rsyslog is up (and seen written by
 * it), the receiver goes away, records logged while it is away (none of
 * them counted delivered), the receiver comes back and gets them. */
static void receiver_goes_away_and_comes_back(const char *scheme, int port, enum away how) {
        enum { ROUNDS = 3, UP = 20, DOWN = 20, TIMEOUT_USEC = 200000 };
        char target[64], run[33];
        json_object **m = NULL;
        trail_stats st;
        int logged = 0;

        snprintf(target, sizeof(target), "%s://127.0.0.1:%d", scheme, port);
        trail_handler *h = trail_handler_syslog(target);
        assert_non_null(h);
        if (strcmp(scheme, "tls") == 0)
                assert_int_equal(trail_handler_set(h, "ca", rs.ca), 0);
        assert_int_equal(trail_handler_set(h, "timeout", "200ms"), 0);
        trail_logger *lg = logger_with("fault.tls.away", h);
        test_run_id(run);

        for (int round = 0; round < ROUNDS; round++) {
                log_numbered(lg, run, logged, UP);
                logged += UP;
                assert_int_equal(trail_flush(), 0);
                size_t n = rsyslog_collect(&rs, run, (size_t) logged, 15000, &m);
                assert_int_equal(n, logged);
                rsyslog_messages_free(m, n);
                assert_handler_stats(h, (uint64_t) logged, (uint64_t) logged, 0, 0);

                /* the receiver goes away; its close reaches trail's socket */
                assert_int_equal(how == KILLED ? rsyslog_kill(&rs) : rsyslog_stop(&rs), 0);
                usleep(100 * 1000);
                uint64_t worst = log_numbered(lg, run, logged, DOWN);
                logged += DOWN;
                print_message("%s %s round %d: slowest call %" PRIu64 " us\n", scheme,
                              how == KILLED ? "killed" : "stopped", round, worst);
                assert_true(worst <= TIMEOUT_USEC + MARGIN_USEC);
                /* none of those went anywhere: none is counted delivered */
                assert_handler_stats(h, (uint64_t) logged, (uint64_t) (logged - DOWN), 0, 0);

                assert_int_equal(receiver_back(), 0);
        }

        /* every record arrived once, in order, and the counts say so */
        size_t n = rsyslog_collect(&rs, run, (size_t) logged, 15000, &m);
        assert_int_equal(n, logged);
        assert_true(rs_seq_from(m, n, 0));
        rsyslog_messages_free(m, n);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.delivered + st.lost, logged);
        assert_int_equal(st.delivered, n);

        logger_without(lg, h);
}

/* ---- A receiver of the test's own --------------------------------------- */

enum closing { TLS_BYE, TLS_NO_BYE, TCP_AFTER_BYTES };

struct receiver {
        int listen_fd, port;
        enum closing how;
        gnutls_certificate_credentials_t cred;
        gnutls_datum_t ticket_key;
        size_t expected; /* frames to read on this connection, then close */
        long seq[256];   /* SEQ of every complete frame, all connections */
        size_t n;
        bool failed;
};

static void receiver_init(struct receiver *rv, enum closing how) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(sa);
        char cert[192], key[192];

        memset(rv, 0, sizeof(*rv));
        rv->how = how;
        rv->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(rv->listen_fd >= 0);
        assert_int_equal(bind(rv->listen_fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(rv->listen_fd, 8), 0);
        assert_int_equal(getsockname(rv->listen_fd, (struct sockaddr *) &sa, &len), 0);
        rv->port = ntohs(sa.sin_port);
        if (how == TCP_AFTER_BYTES)
                return;
        /* rsyslog's server certificate, made by rsyslog_start() */
        snprintf(cert, sizeof(cert), "%s/server.pem", rs.dir);
        snprintf(key, sizeof(key), "%s/server-key.pem", rs.dir);
        assert_int_equal(gnutls_certificate_allocate_credentials(&rv->cred), 0);
        assert_int_equal(
                gnutls_certificate_set_x509_key_file(rv->cred, cert, key, GNUTLS_X509_FMT_PEM), 0);
        assert_int_equal(gnutls_session_ticket_key_generate(&rv->ticket_key), 0);
}

static void receiver_done(struct receiver *rv) {
        close(rv->listen_fd);
        if (rv->cred) {
                gnutls_certificate_free_credentials(rv->cred);
                gnutls_free(rv->ticket_key.data);
        }
}

/* Reads from the connection until rv->expected whole octet-counted frames
 * (RFC 6587 §3.4.1) have come, or 15 s have passed. */
static void receive_frames(struct receiver *rv, int fd, gnutls_session_t session) {
        char buf[65536];
        size_t len = 0, got = 0;
        uint64_t end = now_usec() + 15000000;

        while (got < rv->expected && now_usec() < end) {
                ssize_t k;
                if (!session || gnutls_record_check_pending(session) == 0) {
                        struct pollfd p = {.fd = fd, .events = POLLIN};
                        if (poll(&p, 1, 100) <= 0)
                                continue;
                }
                k = session ? gnutls_record_recv(session, buf + len, sizeof(buf) - len)
                            : recv(fd, buf + len, sizeof(buf) - len, 0);
                if (session && (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED))
                        continue;
                if (k <= 0)
                        break;
                len += (size_t) k;
                /* take the complete frames off the front */
                size_t off = 0;
                for (;;) {
                        char *sp = memchr(buf + off, ' ', len - off);
                        if (!sp)
                                break;
                        size_t flen = strtoul(buf + off, NULL, 10), start = (size_t) (sp + 1 - buf);
                        if (start + flen > len)
                                break;
                        char *q = memmem(buf + start, flen, "SEQ=\"", 5);
                        if (q && rv->n < sizeof(rv->seq) / sizeof(rv->seq[0]))
                                rv->seq[rv->n++] = strtol(q + 5, NULL, 10);
                        got++;
                        off = start + flen;
                }
                memmove(buf, buf + off, len - off);
                len -= off;
        }
        if (got < rv->expected)
                rv->failed = true;
}

/* One connection: accept, handshake (sending session tickets), read the
 * expected frames, close as rv->how says. */
static void *receiver_serve(void *arg) {
        struct receiver *rv = arg;
        gnutls_session_t session = NULL;
        struct pollfd p = {.fd = rv->listen_fd, .events = POLLIN};
        int fd, k;

        if (poll(&p, 1, 15000) <= 0 ||
            (fd = accept4(rv->listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
                rv->failed = true;
                return NULL;
        }
        if (rv->how != TCP_AFTER_BYTES) {
                if (gnutls_init(&session, GNUTLS_SERVER) < 0 ||
                    gnutls_set_default_priority(session) < 0 ||
                    gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, rv->cred) < 0 ||
                    gnutls_session_ticket_enable_server(session, &rv->ticket_key) < 0) {
                        rv->failed = true;
                        goto out;
                }
                gnutls_transport_set_int(session, fd);
                gnutls_handshake_set_timeout(session, 15000);
                do
                        k = gnutls_handshake(session);
                while (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED);
                if (k < 0) {
                        rv->failed = true;
                        goto out;
                }
        }
        receive_frames(rv, fd, session);
        if (rv->how == TLS_BYE)
                (void) gnutls_bye(session, GNUTLS_SHUT_WR);
        if (rv->how == TCP_AFTER_BYTES)
                (void) !send(fd, "bye\n", 4, MSG_NOSIGNAL);
out:
        if (session)
                gnutls_deinit(session);
        close(fd);
        return NULL;
}

/* The receiver takes ten records and closes; ten more are logged; it is
 * back (a new connection) and gets them. None is counted delivered that
 * did not arrive, and all twenty arrive, once, in order. */
static void receiver_closes_after_sending_bytes(enum closing how) {
        enum { N = 10 };
        char target[64], run[33];
        struct receiver rv;
        pthread_t thread;

        receiver_init(&rv, how);
        snprintf(target, sizeof(target), "%s://127.0.0.1:%d",
                 how == TCP_AFTER_BYTES ? "tcp" : "tls", rv.port);
        trail_handler *h = trail_handler_syslog(target);
        assert_non_null(h);
        if (how != TCP_AFTER_BYTES) {
                assert_int_equal(trail_handler_set(h, "ca", rs.ca), 0);
                assert_int_equal(trail_handler_set(h, "server_name", "localhost"), 0);
        }
        assert_int_equal(trail_handler_set(h, "timeout", "2s"), 0);
        trail_logger *lg = logger_with("fault.tls.own", h);
        test_run_id(run);

        rv.expected = N;
        assert_int_equal(pthread_create(&thread, NULL, receiver_serve, &rv), 0);
        log_numbered(lg, run, 0, N);
        assert_int_equal(pthread_join(thread, NULL), 0);
        assert_false(rv.failed);
        assert_int_equal(rv.n, N);
        usleep(100 * 1000); /* the close has reached trail's socket */

        assert_int_equal(pthread_create(&thread, NULL, receiver_serve, &rv), 0);
        log_numbered(lg, run, N, N);
        int k = -1;
        for (int tries = 0; tries < 50 && k < 0; tries++) {
                k = trail_flush();
                if (k < 0)
                        usleep(100 * 1000);
        }
        assert_int_equal(pthread_join(thread, NULL), 0);
        trail_stats st;
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        print_message("received %zu, delivered %" PRIu64 ", lost %" PRIu64 "\n", rv.n, st.delivered,
                      st.lost);
        assert_int_equal(k, 0);
        assert_false(rv.failed);
        assert_int_equal(rv.n, 2 * N);
        for (size_t i = 0; i < rv.n; i++)
                assert_int_equal(rv.seq[i], (long) i);
        assert_handler_stats(h, 2 * N, 2 * N, 0, 0);

        logger_without(lg, h);
        receiver_done(&rv);
}

static void tls_receiver_closing_with_close_notify_loses_nothing(void **state) {
        (void) state;
        receiver_closes_after_sending_bytes(TLS_BYE);
}

static void tls_receiver_closing_without_close_notify_loses_nothing(void **state) {
        (void) state;
        receiver_closes_after_sending_bytes(TLS_NO_BYE);
}

static void tcp_receiver_closing_after_sending_bytes_loses_nothing(void **state) {
        (void) state;
        receiver_closes_after_sending_bytes(TCP_AFTER_BYTES);
}

static void tls_rsyslog_killed_loses_nothing_uncounted(void **state) {
        (void) state;
        receiver_goes_away_and_comes_back("tls", rs.tls_port, KILLED);
}

static void tls_rsyslog_stopped_loses_nothing_uncounted(void **state) {
        (void) state;
        receiver_goes_away_and_comes_back("tls", rs.tls_port, STOPPED);
}

static void tcp_rsyslog_killed_loses_nothing_uncounted(void **state) {
        (void) state;
        receiver_goes_away_and_comes_back("tcp", rs.tcp_port, KILLED);
}

static void tcp_rsyslog_stopped_loses_nothing_uncounted(void **state) {
        (void) state;
        receiver_goes_away_and_comes_back("tcp", rs.tcp_port, STOPPED);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(tls_rsyslog_killed_loses_nothing_uncounted),
                cmocka_unit_test(tls_rsyslog_stopped_loses_nothing_uncounted),
                cmocka_unit_test(tcp_rsyslog_killed_loses_nothing_uncounted),
                cmocka_unit_test(tcp_rsyslog_stopped_loses_nothing_uncounted),
                cmocka_unit_test(tls_receiver_closing_with_close_notify_loses_nothing),
                cmocka_unit_test(tls_receiver_closing_without_close_notify_loses_nothing),
                cmocka_unit_test(tcp_receiver_closing_after_sending_bytes_loses_nothing),
        };

        /* failure reports go to fd 2: capture it, keep cmocka's output */
        stderr_capture();

        int r = cmocka_run_group_tests(tests, group_setup, group_teardown);

        trail_shutdown();
        stderr_restore(r != 0);
        return r;
}
