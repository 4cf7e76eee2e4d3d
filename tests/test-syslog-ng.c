/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RFC 5424 read back by a second receiver, syslog-ng (tests/syslog-ng-util.h),
 * over UDP, TCP and TLS: every field exactly as logged (multibyte UTF-8,
 * quotes, backslashes, ']', newlines and tabs, 100 fields, two long names
 * that share their first 32 characters), PRI, MSGID, the program, the pid
 * and the time zone; and a TLS close that syslog-ng takes as a clean one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "sd-name.h"
#include "syslog-ng-util.h"
#include "test-util.h"
#include "trail.h"

static struct syslog_ng sn;

static int group_setup(void **state) {
        (void) state;
        /* a zone with a 45-minute offset: the offset must arrive as sent */
        setenv("TZ", "Asia/Kathmandu", 1);
        tzset();
        int k = syslog_ng_start(&sn, TEST_CONF_DIR "/syslog-ng.conf");
        if (k < 0)
                fprintf(stderr, "syslog_ng_start: %s\n", strerror(-k));
        return k < 0 ? -1 : 0;
}

static int group_teardown(void **state) {
        (void) state;
        syslog_ng_cleanup(&sn);
        return 0;
}

static const char hostile[] = "q\"uote b\\ack ]bracket [x] \\n\nnew line t\tab "
                              "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x9b \xe6\x97\xa5";
static const char long_a[] = "A_NAME_LONGER_THAN_THIRTY_TWO_CHARACTERS_ONE";
static const char long_b[] = "A_NAME_LONGER_THAN_THIRTY_TWO_CHARACTERS_TWO";

static trail_handler *handler_for(const char *target) {
        trail_handler *h = trail_handler_syslog(target);
        assert_non_null(h);
        if (strncmp(target, "tls://", 6) == 0) {
                assert_int_equal(trail_handler_set(h, "ca", sn.ca), 0);
                assert_int_equal(trail_handler_set(h, "server_name", "localhost"), 0);
        }
        return h;
}

static void round_trip(const char *target, const char *logger) {
        char run[33], names[100][8], values[100][24], pid[16], cut[33];
        trail_field f[110];
        size_t n = 0;
        json_object **m = NULL;
        trail_handler *h = handler_for(target);
        trail_logger *lg = logger_with(logger, h);

        test_run_id(run);
        assert_int_equal(trail_set_ident("trail-sng"), 0);
        assert_int_equal(trail_set_facility(17), 0); /* local1 */
        f[n++] = TRAIL_STR("RUN", run);
        f[n++] = TRAIL_STR("HOSTILE", hostile);
        f[n++] = TRAIL_INT("N", -42);
        f[n++] = TRAIL_DOUBLE("D", 0.25);
        f[n++] = TRAIL_BOOL("B", false);
        f[n++] = TRAIL_MESSAGE_ID("4f2a9c1b3d5e6f708192a3b4c5d6e7f8");
        f[n++] = TRAIL_STR(long_a, "one");
        f[n++] = TRAIL_STR(long_b, "two");
        for (int i = 0; i < 100; i++) {
                snprintf(names[i], sizeof(names[i]), "F%03d", i);
                snprintf(values[i], sizeof(values[i]), "v%d \xc3\xbc]\"\\", i);
                f[n++] = TRAIL_STR(names[i], values[i]);
        }
        time_t before = time(NULL);
        trail_log_with(lg, TRAIL_NOTICE, ((trail_fields){f, n}), "line one\nline \"two\" ] \\ %s",
                       "\xc3\xbcml\xc3\xa4ut");
        assert_int_equal(trail_flush(), 0);

        assert_int_equal(syslog_ng_collect(&sn, run, 1, 10000, &m), 1);
        assert_string_equal(sn_get(m[0], "PRI"), "141"); /* 17 * 8 + 5 */
        assert_string_equal(sn_get(m[0], "MSGID"), "4f2a9c1b3d5e6f708192a3b4c5d6e7f8");
        assert_string_equal(sn_get(m[0], "PROGRAM"), "trail-sng");
        snprintf(pid, sizeof(pid), "%d", (int) getpid());
        assert_string_equal(sn_get(m[0], "PID"), pid);
        const char *msg = sn_get(m[0], "MESSAGE");
        assert_non_null(msg);
        if (strncmp(msg, "\xef\xbb\xbf", 3) == 0)
                msg += 3;
        assert_string_equal(msg, "line one\nline \"two\" ] \\ \xc3\xbcml\xc3\xa4ut");
        /* the sender's time and offset: +05:45 */
        char date[64];
        struct tm tm;
        localtime_r(&before, &tm);
        strftime(date, sizeof(date), "%Y-%m-%dT%H:", &tm);
        assert_non_null(sn_get(m[0], "DATE"));
        assert_true(strncmp(sn_get(m[0], "DATE"), date, strlen(date)) == 0);
        assert_non_null(strstr(sn_get(m[0], "DATE"), "+05:45"));

        assert_string_equal(sn_param(m[0], "HOSTILE"), hostile);
        assert_string_equal(sn_param(m[0], "N"), "-42");
        assert_string_equal(sn_param(m[0], "D"), "0.25");
        assert_string_equal(sn_param(m[0], "B"), "false");
        assert_string_equal(sn_param(m[0], sd_name_cut(long_a, cut)), "one");
        assert_string_equal(sn_param(m[0], sd_name_cut(long_b, cut)), "two");
        for (int i = 0; i < 100; i++)
                assert_string_equal(sn_param(m[0], names[i]), values[i]);
        assert_string_equal(sn_param(m[0], "LOGGER"), logger);
        assert_string_equal(sn_param(m[0], "CODE_FUNC"), "round_trip");
        /* every param accounted for: the 108 given (MESSAGE_ID too, besides
         * the MSGID), and LOGGER, CODE_FILE, CODE_LINE, CODE_FUNC, TID */
        assert_string_equal(sn_param(m[0], "MESSAGE_ID"), "4f2a9c1b3d5e6f708192a3b4c5d6e7f8");
        assert_int_equal(sn_n_params(m[0]), n + 5);
        syslog_ng_messages_free(m, 1);

        assert_handler_stats(h, 1, 1, 0, 0);
        logger_without(lg, h);
        assert_int_equal(trail_set_ident(NULL), 0);
        assert_int_equal(trail_set_facility(3), 0);
}

static void udp_reads_back_every_field(void **state) {
        (void) state;
        char target[64];
        snprintf(target, sizeof(target), "udp://127.0.0.1:%d", sn.udp_port);
        round_trip(target, "sng.udp");
}

static void tcp_reads_back_every_field(void **state) {
        (void) state;
        char target[64];
        snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", sn.tcp_port);
        round_trip(target, "sng.tcp");
}

static void tls_reads_back_every_field(void **state) {
        (void) state;
        char target[64];
        snprintf(target, sizeof(target), "tls://127.0.0.1:%d", sn.tls_port);
        round_trip(target, "sng.tls");
}

/* RFC 5425 §4.4: trail closes with close_notify and a graceful TCP close,
 * so syslog-ng sees a clean end of each connection: no "unexpected eof", no
 * reset, for connections closed after 1, 11 and 21 records and the ones
 * the tests before left open. The last test: trail_shutdown() closes every
 * handler (a handler taken off a logger lives until then). */
static void tls_close_is_clean_for_syslog_ng(void **state) {
        (void) state;
        char target[64];
        snprintf(target, sizeof(target), "tls://127.0.0.1:%d", sn.tls_port);
        for (int i = 0; i < 3; i++) {
                trail_handler *h = handler_for(target);
                char name[32], run[33];
                snprintf(name, sizeof(name), "sng.close%d", i);
                trail_logger *lg = logger_with(name, h);
                test_run_id(run);
                for (int k = 0; k <= i * 10; k++)
                        trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("RUN", run)), "close %d", k);
                assert_int_equal(trail_flush(), 0);
                logger_without(lg, h);
        }
        trail_shutdown();
        /* the TCP connection, the TLS one and the three here */
        char *log = NULL;
        for (int waited = 0; waited < 10000; waited += 50) {
                free(log);
                log = syslog_ng_log(&sn);
                if (log && count_substr(log, "Syslog connection closed") >= 5)
                        break;
                usleep(50 * 1000);
        }
        assert_non_null(log);
        if (count_substr(log, "Syslog connection closed") < 5 || strstr(log, "unexpected eof") ||
            strstr(log, "ECONNRESET") || strstr(log, "Connection reset") ||
            strstr(log, "SSL error"))
                fail_msg("syslog-ng did not see 5 clean closes:\n%s", log);
        free(log);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(udp_reads_back_every_field),
                cmocka_unit_test(tcp_reads_back_every_field),
                cmocka_unit_test(tls_reads_back_every_field),
                cmocka_unit_test(tls_close_is_clean_for_syslog_ng),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
