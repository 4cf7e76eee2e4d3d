/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Batched sends through the async handler to a real rsyslogd (TCP, TLS,
 * UDP): every record arrives once, in order, with fewer system calls than
 * records; a receiver killed mid-batch gets no corrupt frame; and "framing
 * = lf" (RFC 6587 §3.4.2) keeps a multi-line record one record. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "rsyslog-util.h"
#include "send-count.h"
#include "test-util.h"
#include "trail.h"

static struct rsyslog rs;
RSYSLOG_GROUP_FIXTURES(rs, true)

#define RECORDS 20000

static trail_handler *syslog_to(const char *scheme, int port) {
        char target[64];

        snprintf(target, sizeof(target), "%s://127.0.0.1:%d", scheme, port);
        trail_handler *h = trail_handler_syslog(target);
        assert_non_null(h);
        if (strcmp(scheme, "tls") == 0)
                assert_int_equal(trail_handler_set(h, "ca", rs.ca), 0);
        return h;
}

/* The async handler over h (whose reference it takes): blocking, with a
 * wait generous enough that a busy machine drops nothing. */
static trail_handler *async_over(trail_handler *h) {
        trail_handler *a = trail_handler_async(h, 4096, TRAIL_OVERFLOW_BLOCK);

        assert_non_null(a);
        trail_handler_unref(h);
        assert_int_equal(trail_handler_async_set_timeout(a, 30 * 1000000ULL), 0);
        assert_int_equal(trail_handler_async_set_flush_timeout(a, 60 * 1000000ULL), 0);
        return a;
}

static int port_of(const char *scheme) {
        return strcmp(scheme, "tls") == 0   ? rs.tls_port
               : strcmp(scheme, "tcp") == 0 ? rs.tcp_port
                                            : rs.udp_port;
}

/* Waits (up to 10 s) until the UDP socket bound to 127.0.0.1:port has no
 * datagram left unread (its rx_queue in /proc/net/udp). */
static void udp_wait_read(int port) {
        char want[32], line[256];

        snprintf(want, sizeof(want), "0100007F:%04X", (unsigned) port);
        for (int tries = 0; tries < 10000; tries++) {
                FILE *f = fopen("/proc/net/udp", "re");
                bool empty = true;
                assert_non_null(f);
                while (fgets(line, sizeof(line), f)) {
                        unsigned tx, rx;
                        char *p = strstr(line, want);
                        /* "sl local rem st tx_queue:rx_queue …" */
                        if (p && p < line + 16 &&
                            sscanf(p + strlen(want), " %*s %*s %x:%x", &tx, &rx) == 2 && rx > 0)
                                empty = false;
                }
                fclose(f);
                if (empty)
                        return;
                usleep(1000);
        }
}

/* Whether the record m is exactly what log_numbered() logged as seq. */
static bool is_record(json_object *m, int *ret_seq) {
        const char *seq = rs_param(m, "SEQ"), *msg = rs_get(m, "msg");
        char want[64];

        if (!seq || !msg)
                return false;
        *ret_seq = atoi(seq);
        snprintf(want, sizeof(want), "\xef\xbb\xbfrecord %d", *ret_seq);
        return strcmp(msg, want) == 0 || strcmp(msg, want + 3) == 0;
}

/* N numbered records through the async handler: all arrive once (in order
 * over a stream), and the sends to the receiver were far fewer than the
 * records: they went in batches. */
static void every_record_arrives_once_in_batches(const char *scheme) {
        char run[33];
        json_object **m = NULL;
        trail_stats st;
        int n_records = RECORDS;
        bool udp = strcmp(scheme, "udp") == 0;
        trail_handler *h = syslog_to(scheme, port_of(scheme));
        trail_handler_ref(h);
        trail_handler *a = async_over(h);
        trail_logger *lg = logger_with(udp                ? "batch.udp"
                                       : scheme[1] == 'l' ? "batch.tls"
                                                          : "batch.tcp",
                                       a);

        test_run_id(run);
        __atomic_store_n(&send_calls, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&send_count_port, port_of(scheme), __ATOMIC_RELAXED);
        if (udp) {
                /* a datagram the receiver has no room for is lost: bursts
                 * it can take, the next one once it has read the last */
                n_records = 4000;
                for (int i = 0; i < n_records; i += 50) {
                        log_numbered(lg, run, i, 50);
                        assert_int_equal(trail_flush(), 0);
                        udp_wait_read(rs.udp_port);
                }
        } else
                log_numbered(lg, run, 0, n_records);
        assert_int_equal(trail_flush(), 0);
        __atomic_store_n(&send_count_port, 0, __ATOMIC_RELAXED);
        unsigned long calls = __atomic_load_n(&send_calls, __ATOMIC_RELAXED);

        size_t n = rsyslog_collect(&rs, run, (size_t) n_records, 60000, &m);
        assert_int_equal(n, n_records);
        bool *seen = calloc((size_t) n_records, 1);
        assert_non_null(seen);
        for (size_t i = 0; i < n; i++) {
                int seq;
                assert_true(is_record(m[i], &seq));
                assert_true(seq >= 0 && seq < n_records);
                assert_false(seen[seq]);
                seen[seq] = true;
        }
        free(seen);
        if (!udp)
                assert_true(rs_seq_from(m, n, 0));
        rsyslog_messages_free(m, n);

        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, n_records);
        assert_int_equal(st.delivered, n_records);
        assert_int_equal(st.lost, 0);
        print_message("%s: %d records in %lu send calls\n", scheme, n_records, calls);
        /* one call per record without batches */
        assert_true(calls > 0 && calls * 2 < (unsigned long) n_records);
        trail_handler_unref(h);
        logger_without(lg, a);
}

static void tcp_sends_batches_and_delivers_every_record_in_order(void **state) {
        (void) state;
        every_record_arrives_once_in_batches("tcp");
}

static void tls_sends_batches_and_delivers_every_record_in_order(void **state) {
        (void) state;
        every_record_arrives_once_in_batches("tls");
}

static void udp_sends_batches_and_delivers_every_record(void **state) {
        (void) state;
        every_record_arrives_once_in_batches("udp");
}

/* Every line of rsyslog's output that names run parses as a record of run
 * (a frame cut and resent would not), and as a numbered one logged exactly
 * when numbered; returns how many. */
static size_t lines_of_run_all_parse(const char *run, bool numbered) {
        FILE *f = fopen(rs.out, "re");
        char *line = NULL;
        size_t len = 0, n = 0;

        assert_non_null(f);
        while (getline(&line, &len, f) > 0) {
                if (!strstr(line, run))
                        continue;
                json_object *o = json_tokener_parse(line);
                int seq;
                if (!o || !rs_param(o, "RUN") || strcmp(rs_param(o, "RUN"), run) != 0 ||
                    !rs_param(o, "SEQ") || (numbered && !is_record(o, &seq)))
                        fail_msg("a line rsyslog wrote is not a whole record: %s", line);
                json_object_put(o);
                n++;
        }
        free(line);
        fclose(f);
        return n;
}

/* The receiver is killed while batches are on their way: what arrives is
 * whole records, each at most once, in order; what was lost is counted; the
 * records logged after it is back all arrive. */
static void receiver_killed_mid_batch(const char *scheme, const char *logger) {
        char run[33];
        json_object **m = NULL;
        trail_stats st;
        trail_handler *h = syslog_to(scheme, port_of(scheme));
        trail_handler_ref(h);
        assert_int_equal(trail_handler_set(h, "timeout", "200ms"), 0);
        trail_handler *a = async_over(h);
        trail_logger *lg = logger_with(logger, a);

        test_run_id(run);
        __atomic_store_n(&send_calls, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&send_count_port, port_of(scheme), __ATOMIC_RELAXED);
        log_numbered(lg, run, 0, 3000);
        assert_int_equal(rsyslog_kill(&rs), 0); /* mid-stream: the worker is sending */
        log_numbered(lg, run, 3000, 7000);
        assert_int_equal(rsyslog_back(&rs), 0);
        log_numbered(lg, run, 10000, 1000);
        assert_int_equal(trail_flush(), 0);
        __atomic_store_n(&send_count_port, 0, __ATOMIC_RELAXED);
        /* and they went in batches */
        assert_true(__atomic_load_n(&send_calls, __ATOMIC_RELAXED) * 2 < 11000);

        /* the last 1000 all arrive */
        size_t n = 0;
        for (int tries = 0; tries < 100; tries++) {
                n = rsyslog_collect(&rs, run, 100000, 100, &m);
                bool last = n > 0 && strcmp(rs_param(m[n - 1], "SEQ"), "10999") == 0;
                if (last)
                        break;
                rsyslog_messages_free(m, n);
                m = NULL;
                usleep(100 * 1000);
        }
        assert_true(n >= 1000);
        assert_true(rs_seq_from(m + n - 1000, 1000, 10000));
        int prev = -1;
        for (size_t i = 0; i < n; i++) {
                int seq;
                assert_true(is_record(m[i], &seq));
                assert_true(seq > prev); /* in order, none twice */
                prev = seq;
        }
        rsyslog_messages_free(m, n);
        assert_int_equal(lines_of_run_all_parse(run, true), n);

        /* each record is counted: delivered (what the kernel took, some of
         * it lost with the receiver: TCP has no acknowledgement) or lost */
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        print_message("%s: 11000 records, %zu arrived, %" PRIu64 " delivered, %" PRIu64
                      " counted lost\n",
                      scheme, n, st.delivered, st.lost);
        assert_int_equal(st.records, 11000);
        assert_int_equal(st.delivered + st.lost, 11000);
        assert_true(n <= st.delivered);
        trail_handler_unref(h);
        logger_without(lg, a);
}

static void tcp_receiver_killed_mid_batch_gets_no_corrupt_frame(void **state) {
        (void) state;
        receiver_killed_mid_batch("tcp", "batch.kill.tcp");
}

static void tls_receiver_killed_mid_batch_gets_no_corrupt_frame(void **state) {
        (void) state;
        receiver_killed_mid_batch("tls", "batch.kill.tls");
}

/* framing = lf: a record with line feeds in its message and in a field is
 * one line, so one record at the receiver, with its content exact (the
 * line feeds escaped as \n, CWE-117), batched or not. */
static void lf_framing_keeps_multiline_records_whole(const char *scheme, bool async) {
        char run[33], logger[32];
        json_object **m = NULL;
        trail_handler *h = syslog_to(scheme, port_of(scheme));

        assert_int_equal(trail_handler_set(h, "framing", "lf"), 0);
        if (async)
                h = async_over(h);
        snprintf(logger, sizeof(logger), "batch.lf.%s.%d", scheme, async);
        trail_logger *lg = logger_with(logger, h);
        test_run_id(run);
        for (int i = 0; i < 200; i++)
                trail_info_with(lg,
                                TRAIL_FIELDS(TRAIL_STR("RUN", run), TRAIL_INT("SEQ", i),
                                             TRAIL_STR("LINES", "one\ntwo\r\nthree\n")),
                                "first line %d\nsecond line\n<13>1 - forged - - - - third", i);
        assert_int_equal(trail_flush(), 0);

        size_t n = rsyslog_collect(&rs, run, 200, 30000, &m);
        assert_int_equal(n, 200);
        assert_true(rs_seq_from(m, n, 0));
        for (size_t i = 0; i < n; i++) {
                char want[128];
                const char *msg = rs_get(m[i], "msg");
                snprintf(want, sizeof(want),
                         "\xef\xbb\xbf"
                         "first line %zu\\nsecond line\\n<13>1 - forged - - - - third",
                         i);
                assert_non_null(msg);
                assert_true(strcmp(msg, want) == 0 || strcmp(msg, want + 3) == 0);
                assert_string_equal(rs_param(m[i], "LINES"), "one\\ntwo\\r\\nthree\\n");
        }
        rsyslog_messages_free(m, n);
        assert_int_equal(lines_of_run_all_parse(run, false), 200);
        logger_without(lg, h);
}

static void tcp_lf_framing_keeps_multiline_records_whole(void **state) {
        (void) state;
        lf_framing_keeps_multiline_records_whole("tcp", false);
        lf_framing_keeps_multiline_records_whole("tcp", true);
}

static void tls_lf_framing_keeps_multiline_records_whole(void **state) {
        (void) state;
        lf_framing_keeps_multiline_records_whole("tls", false);
        lf_framing_keeps_multiline_records_whole("tls", true);
}

/* framing is an option of the stream transports, octet or lf. */
static void framing_takes_octet_or_lf_on_streams_only(void **state) {
        (void) state;
        trail_handler *h = syslog_to("tcp", rs.tcp_port);
        assert_int_equal(trail_handler_set(h, "framing", "lf"), 0);
        assert_int_equal(trail_handler_set(h, "framing", "octet"), 0);
        assert_int_equal(trail_handler_set(h, "framing", "LF"), -EINVAL);
        assert_int_equal(trail_handler_set(h, "framing", ""), -EINVAL);
        trail_handler_unref(h);
        h = syslog_to("udp", rs.udp_port);
        assert_int_equal(trail_handler_set(h, "framing", "lf"), -ENOENT);
        trail_handler_unref(h);

        /* the async handler's batch size: 1 (none) to 64 */
        h = async_over(syslog_to("tcp", rs.tcp_port));
        assert_int_equal(trail_handler_set(h, "batch", "1"), 0);
        assert_int_equal(trail_handler_set(h, "batch", "64"), 0);
        assert_int_equal(trail_handler_set(h, "batch", "0"), -EINVAL);
        assert_int_equal(trail_handler_set(h, "batch", "65"), -EINVAL);
        assert_int_equal(trail_handler_set(h, "batch", "2x"), -EINVAL);
        trail_handler_unref(h);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(tcp_sends_batches_and_delivers_every_record_in_order),
                cmocka_unit_test(tls_sends_batches_and_delivers_every_record_in_order),
                cmocka_unit_test(udp_sends_batches_and_delivers_every_record),
                cmocka_unit_test(tcp_receiver_killed_mid_batch_gets_no_corrupt_frame),
                cmocka_unit_test(tls_receiver_killed_mid_batch_gets_no_corrupt_frame),
                cmocka_unit_test(tcp_lf_framing_keeps_multiline_records_whole),
                cmocka_unit_test(tls_lf_framing_keeps_multiline_records_whole),
                cmocka_unit_test(framing_takes_octet_or_lf_on_streams_only),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
