/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Faults of a syslog receiver: one that refuses (nothing listens), one that
 * accepts and then resets the connection, one that accepts and never reads.
 * rsyslog cannot be made to reset or stall on demand, so a small server in
 * the test plays those parts on rsyslog's own port while rsyslog is down;
 * then the real (private) rsyslogd comes back, and the records trail held
 * arrive in order, with the LINK_LOST notice carrying the exact count of
 * those it dropped. Every call stays within the handler's timeout. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "rsyslog-util.h"
#include "test-util.h"
#include "trail.h"

#define MARGIN_USEC 1000000 /* scheduling slack on a busy 2-core machine */

static struct rsyslog rs;
RSYSLOG_GROUP_FIXTURES(rs, false)

/* ---- The fault server --------------------------------------------------- */

static int listen_on(int port, int rcvbuf) {
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t) port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int)), 0);
        if (rcvbuf > 0) /* inherited by accepted connections: a small window */
                assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(int)), 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 8), 0);
        return fd;
}

/* The SEQ of every complete octet-counted frame (RFC 6587 §3.4.1) in buf,
 * in order; *ret_end is where the last complete one ends. */
static size_t parse_frames(const char *buf, size_t len, long *seq, size_t max, size_t *ret_end) {
        size_t n = 0, off = 0;

        while (off < len) {
                const char *sp = memchr(buf + off, ' ', len - off), *s;
                if (!sp)
                        break;
                size_t flen = strtoul(buf + off, NULL, 10), start = (size_t) (sp + 1 - buf);
                if (start + flen > len)
                        break; /* a frame cut off: not received */
                s = memmem(buf + start, flen, "SEQ=\"", 5);
                assert_non_null(s);
                if (seq && n < max)
                        seq[n] = strtol(s + 5, NULL, 10);
                n++;
                off = start + flen;
        }
        *ret_end = off;
        return n;
}

/* Reads until want complete frames have come (waiting up to 30 s: how soon
 * the kernel passes on what it holds depends on the machine's load), then
 * until nothing has come for quiet_ms, and returns the SEQ of every
 * complete frame in order; *ret_partial tells whether a frame was cut off
 * at the end (a part that comes later than quiet_ms is not seen). */
static size_t read_frames(int fd, size_t want, int quiet_ms, long *seq, size_t max,
                          bool *ret_partial) {
        size_t cap = 1 << 20, len = 0, n = 0, end = 0;
        uint64_t give_up = now_usec() + 30000000;
        char *buf = malloc(cap);

        assert_non_null(buf);
        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int ms = quiet_ms;
                if (n < want) {
                        uint64_t now = now_usec();
                        if (now >= give_up)
                                break;
                        ms = (int) ((give_up - now) / 1000) + 1;
                }
                if (poll(&p, 1, ms) <= 0)
                        break;
                if (len == cap) {
                        cap *= 2;
                        buf = realloc(buf, cap);
                        assert_non_null(buf);
                }
                ssize_t k = recv(fd, buf + len, cap - len, 0);
                if (k <= 0)
                        break;
                len += (size_t) k;
                n = parse_frames(buf, len, NULL, 0, &end);
        }
        n = parse_frames(buf, len, seq, max, &end);
        if (ret_partial)
                *ret_partial = end < len;
        free(buf);
        return n < max ? n : max;
}

/* Waits (up to 30 s) until no TCP connection to the port is established:
 * the client's end has seen the reset (/proc/net/tcp: "st" 01 is
 * ESTABLISHED). How soon depends on the machine's load, not on trail. */
static void wait_no_connection_to(int port) {
        uint64_t give_up = now_usec() + 30000000;
        char line[512];

        for (;;) {
                FILE *f = fopen("/proc/net/tcp", "re");
                bool found = false;
                assert_non_null(f);
                while (fgets(line, sizeof(line), f)) {
                        unsigned rport, st;
                        if (sscanf(line, " %*d: %*x:%*x %*x:%x %x", &rport, &st) == 2 &&
                            (int) rport == port && st == 1)
                                found = true;
                }
                fclose(f);
                if (!found)
                        return;
                assert_true(now_usec() < give_up);
                usleep(1000);
        }
}

/* ---- Tests ------------------------------------------------------------- */

/* Nothing listens: records wait in the buffer, the oldest are dropped when
 * it is full, counted; when rsyslog is back the survivors arrive in order,
 * then one notice with the exact number lost. */
static void tcp_refusing_receiver(void **state) {
        (void) state;
        enum { N = 300 };
        char target[64], run[33];
        json_object **m = NULL;
        uint64_t notices[64], lost;
        trail_stats st;

        snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", rs.tcp_port);
        trail_handler *h = trail_handler_syslog(target);
        assert_non_null(h);
        assert_int_equal(trail_handler_set(h, "buffer", "8K"), 0);
        assert_int_equal(trail_handler_set(h, "timeout", "100ms"), 0);
        trail_logger *lg = logger_with("fault.sys.refused", h);
        test_run_id(run);
        size_t notices_before = rsyslog_link_lost(&rs, notices, 64);

        assert_int_equal(rsyslog_stop(&rs), 0);
        uint64_t worst = log_numbered(lg, run, 0, N);
        print_message("refused: slowest call %" PRIu64 " us\n", worst);
        assert_true(worst <= 100000 + MARGIN_USEC);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        lost = st.lost;
        assert_true(lost > 0 && lost < N);
        assert_handler_stats(h, N, 0, 0, lost);
        assert_int_equal(trail_flush(), -ECONNREFUSED); /* still nobody there */

        assert_int_equal(rsyslog_back(&rs), 0);
        size_t survivors = N - (size_t) lost;
        size_t n = rsyslog_collect(&rs, run, survivors, 15000, &m);
        assert_int_equal(n, survivors);
        assert_true(rs_seq_from(m, n, (int) lost)); /* the newest, in order */
        rsyslog_messages_free(m, n);
        assert_int_equal(rsyslog_link_lost(&rs, notices, 64), notices_before + 1);
        assert_int_equal(notices[notices_before], lost);
        assert_handler_stats(h, N, survivors, 0, lost);

        logger_without(lg, h);
}

/* The receiver takes one record, then resets the connection (SO_LINGER 0)
 * and goes away: the reset is noticed before the next frame is written, so
 * nothing goes into the void; the records wait, and arrive when rsyslog is
 * back. No SIGPIPE, no crash. */
static void tcp_resetting_receiver(void **state) {
        (void) state;
        char target[64], run[33];
        json_object **m = NULL;
        long seq[8];

        snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", rs.tcp_port);
        trail_handler *h = trail_handler_syslog(target);
        assert_non_null(h);
        assert_int_equal(trail_handler_set(h, "timeout", "100ms"), 0);
        trail_logger *lg = logger_with("fault.sys.reset", h);
        test_run_id(run);

        assert_int_equal(rsyslog_stop(&rs), 0);
        int l = listen_on(rs.tcp_port, 0);
        log_numbered(lg, run, 0, 1);
        int c = accept(l, NULL, NULL);
        assert_true(c >= 0);
        assert_int_equal(read_frames(c, 1, 200, seq, 8, NULL), 1);
        assert_int_equal(seq[0], 0);
        assert_int_equal(
                setsockopt(c, SOL_SOCKET, SO_LINGER, &(struct linger){1, 0}, sizeof(struct linger)),
                0);
        close(c); /* RST */
        close(l);
        wait_no_connection_to(rs.tcp_port); /* the reset has reached the client's socket */

        uint64_t worst = log_numbered(lg, run, 1, 99);
        assert_true(worst <= 100000 + MARGIN_USEC);
        assert_handler_stats(h, 100, 1, 0, 0); /* 99 held */

        assert_int_equal(rsyslog_back(&rs), 0);
        size_t n = rsyslog_collect(&rs, run, 99, 15000, &m);
        assert_int_equal(n, 99);
        assert_true(rs_seq_from(m, n, 1));
        rsyslog_messages_free(m, n);
        assert_handler_stats(h, 100, 100, 0, 0);

        logger_without(lg, h);
}

/* The receiver accepts and never reads: the kernel's buffers fill, then
 * trail's. Only the first call that finds no room waits (the timeout); the
 * others return at once while the link stays stalled. The frames the
 * receiver eventually read, those rsyslog gets later, and those counted as
 * lost add up to every record, in order, none twice.
 *
 * "Not one timeout per record" is told from time without depending on the
 * machine's speed: the timeout is long (2 s), and a call counts as having
 * waited for it only when it took 90% of it; a call that does not wait
 * takes milliseconds even on a loaded machine, far below that. Two such
 * calls must have a completed send between them (the handler's "stalled"
 * lasts until a send completes). */
static void tcp_stalled_receiver(void **state) {
        (void) state;
        enum { TIMEOUT_USEC = 2000000, MAX_RECORDS = 100000 };
        char target[64], run[33];
        json_object **m = NULL;
        uint64_t notices[64];
        trail_stats st;
        long *seq = calloc(MAX_RECORDS, sizeof(long));

        assert_non_null(seq);
        snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", rs.tcp_port);
        trail_handler *h = trail_handler_syslog(target);
        assert_non_null(h);
        assert_int_equal(trail_handler_set(h, "buffer", "16K"), 0);
        assert_int_equal(trail_handler_set(h, "timeout", "2s"), 0);
        trail_logger *lg = logger_with("fault.sys.stall", h);
        test_run_id(run);
        size_t notices_before = rsyslog_link_lost(&rs, notices, 64);

        assert_int_equal(rsyslog_stop(&rs), 0);
        int l = listen_on(rs.tcp_port, 4096);
        log_numbered(lg, run, 0, 1); /* connects */
        int c = accept(l, NULL, NULL);
        assert_true(c >= 0);

        /* log until trail has dropped 200 records, so everything is full */
        int total = 1, waited = 0;
        uint64_t worst = 0, start = now_usec(), delivered_after_wait = 0;
        do {
                for (int i = 0; i < 100; i++) {
                        assert_int_equal(trail_handler_get_stats(h, &st), 0);
                        uint64_t delivered_before = st.delivered;
                        uint64_t d = log_numbered(lg, run, total++, 1);
                        if (d > worst)
                                worst = d;
                        if (d < TIMEOUT_USEC / 10 * 9)
                                continue;
                        /* The kernel may make room after a while (its
                         * buffers grow): the link then moves again, and the
                         * next time it fills, one call waits again. A second
                         * timeout with nothing sent since the first is one
                         * timeout per record. */
                        assert_true(waited == 0 || delivered_before > delivered_after_wait);
                        waited++;
                        assert_int_equal(trail_handler_get_stats(h, &st), 0);
                        delivered_after_wait = st.delivered;
                }
                assert_int_equal(trail_handler_get_stats(h, &st), 0);
        } while (st.lost < 200 && total < MAX_RECORDS && now_usec() - start < 60000000);
        print_message("stalled: %d records in %" PRIu64 " us, slowest %" PRIu64
                      " us, %d waited, %" PRIu64 " lost\n",
                      total, now_usec() - start, worst, waited, st.lost);
        assert_true(st.lost >= 200);
        assert_true(worst <= TIMEOUT_USEC + MARGIN_USEC);
        assert_true(waited >= 1); /* the stall was met */
        uint64_t lost = st.lost, delivered = st.delivered;
        assert_int_equal(st.records, total);

        /* the receiver reads what reached it, then hangs up */
        bool partial;
        size_t got = read_frames(c, delivered, 300, seq, MAX_RECORDS, &partial);
        for (size_t i = 0; i < got; i++)
                assert_int_equal(seq[i], (long) i);
        assert_int_equal(got, delivered); /* what was counted delivered did arrive */
        close(c);
        close(l);

        assert_int_equal(rsyslog_back(&rs), 0);
        size_t survivors = (size_t) total - got - (size_t) lost;
        size_t n = rsyslog_collect(&rs, run, survivors, 15000, &m);
        assert_int_equal(n, survivors);
        /* the newest, in order; and a frame that was partly written when
         * the receiver stalled was never dropped (the receiver only had half
         * of it): it comes first, whole. (Its part may reach the receiver
         * after the quiet time; the oldest are dropped, but not the frame
         * being written, so only that one can come first.) */
        if (partial || (n > 0 && rs_seq_from(m, 1, (int) got))) {
                assert_true(rs_seq_from(m, 1, (int) got));
                assert_true(rs_seq_from(m + 1, n - 1, total - (int) survivors + 1));
        } else
                assert_true(rs_seq_from(m, n, total - (int) survivors));
        rsyslog_messages_free(m, n);
        assert_int_equal(rsyslog_link_lost(&rs, notices, 64), notices_before + 1);
        assert_int_equal(notices[notices_before], lost);
        assert_handler_stats(h, (uint64_t) total, got + survivors, 0, lost);

        free(seq);
        logger_without(lg, h);
}

/* UDP to a port nobody listens on: the refusal comes back as ICMP, and
 * only for an earlier datagram. No call blocks or fails the program, the
 * refusal is reported once, the counts add up, and when rsyslog is back
 * the records arrive. */
static void udp_refusing_receiver(void **state) {
        (void) state;
        char target[64], run[33];
        json_object **m = NULL;
        trail_stats st;

        snprintf(target, sizeof(target), "udp://127.0.0.1:%d", rs.udp_port);
        trail_handler *h = trail_handler_syslog(target);
        assert_non_null(h);
        assert_int_equal(trail_handler_set(h, "timeout", "100ms"), 0);
        trail_logger *lg = logger_with("fault.sys.udp", h);
        test_run_id(run);
        off_t err_start = stderr_offset();

        assert_int_equal(rsyslog_stop(&rs), 0);
        uint64_t worst = log_numbered(lg, run, 0, 20);
        assert_true(worst <= 100000 + MARGIN_USEC);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, 20);
        assert_int_equal(st.delivered + st.failed, 20);
        assert_int_equal(st.lost, 0);
        assert_int_equal(count_substr(stderr_from(err_start), run), st.failed);
        assert_int_equal(count_substr(stderr_from(err_start), "trail: syslog udp://"), 1);

        assert_int_equal(rsyslog_restart(&rs), 0);
        uint64_t delivered = st.delivered;
        log_numbered(lg, run, 20, 10);
        size_t n = rsyslog_collect(&rs, run, 10, 15000, &m);
        assert_int_equal(n, 10);
        assert_true(rs_seq_from(m, n, 20));
        rsyslog_messages_free(m, n);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.delivered, delivered + 10);

        logger_without(lg, h);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(tcp_refusing_receiver),
                cmocka_unit_test(tcp_resetting_receiver),
                cmocka_unit_test(tcp_stalled_receiver),
                cmocka_unit_test(udp_refusing_receiver),
        };

        /* fallbacks go to fd 2: capture it, keep cmocka's output */
        stderr_capture();

        int r = cmocka_run_group_tests(tests, group_setup, group_teardown);

        trail_shutdown();
        stderr_restore(r != 0);
        return r;
}
