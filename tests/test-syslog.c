/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The syslog handler against a real rsyslogd: every transport, every field
 * as rsyslog parsed it, and a receiver restarted mid-stream. */
#include <errno.h>
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
#include "sd-name.h"
#include "test-util.h"
#include "trail.h"

static struct rsyslog rs;
RSYSLOG_GROUP_FIXTURES(rs, true)

static const char *msg_without_bom(json_object *m) {
        const char *s = rs_get(m, "msg");
        assert_non_null(s);
        if (strncmp(s, "\xef\xbb\xbf", 3) == 0)
                s += 3;
        return s;
}

static const char hostile[] =
        "q\"uote b\\ack ]bracket\nnew line t\tab \xc3\xa9t\xc3\xa9 \xe2\x82\xac";

/* One record with hostile values through the given target, parsed by
 * rsyslog into exactly what was logged. */
static void round_trip(const char *target, const char *logger, bool rfc5424_on_unix) {
        char run[33];
        json_object **m = NULL;
        trail_handler *h = trail_handler_syslog(target);

        assert_non_null(h);
        if (rfc5424_on_unix)
                assert_int_equal(trail_handler_set(h, "format", "rfc5424"), 0);
        if (strncmp(target, "tls://", 6) == 0) {
                assert_int_equal(trail_handler_set(h, "ca", rs.ca), 0);
                assert_int_equal(trail_handler_set(h, "server_name", "localhost"), 0);
        }
        trail_logger *lg = logger_with(logger, h);
        test_run_id(run);
        assert_int_equal(trail_set_ident("trail-test"), 0);
        assert_int_equal(trail_set_facility(16), 0); /* local0 */

        int line = __LINE__ + 1;
        trail_warning_with(
                lg,
                TRAIL_FIELDS(TRAIL_STR("RUN", run), TRAIL_STR("HOSTILE", hostile),
                             TRAIL_INT("N", -42), TRAIL_DOUBLE("D", 0.5), TRAIL_BOOL("B", true),
                             TRAIL_MESSAGE_ID("0123456789abcdef0123456789abcdef"),
                             TRAIL_STR("A_NAME_LONGER_THAN_THIRTY_TWO_CHARACTERS", "cut"),
                             TRAIL_STR("A_NAME_LONGER_THAN_THIRTY_TWO_CHARACTERS_TOO", "cut2")),
                "message with %s and \xc3\xbcml\xc3\xa4uts", "\"quotes\" ] \\");
        assert_int_equal(trail_flush(), 0);

        size_t n = rsyslog_collect(&rs, run, 1, 10000, &m);
        assert_int_equal(n, 1);
        assert_string_equal(rs_get(m[0], "severity"), "4");
        assert_string_equal(rs_get(m[0], "facility"), "16");
        assert_string_equal(rs_get(m[0], "appname"), "trail-test");
        char pid[16];
        snprintf(pid, sizeof(pid), "%d", (int) getpid());
        assert_string_equal(rs_get(m[0], "procid"), pid);
        assert_string_equal(rs_get(m[0], "msgid"), "0123456789abcdef0123456789abcdef");
        assert_string_equal(msg_without_bom(m[0]),
                            "message with \"quotes\" ] \\ and \xc3\xbcml\xc3\xa4uts");
        /* framed by length or datagram, a value arrives as logged: the
         * newline and the tab are not "\\n" and "\\t" (RFC 5424 §6.3.3
         * escapes only '"', '\\' and ']') */
        assert_string_equal(rs_param(m[0], "HOSTILE"), hostile);
        assert_string_equal(rs_param(m[0], "N"), "-42");
        assert_string_equal(rs_param(m[0], "D"), "0.5");
        assert_string_equal(rs_param(m[0], "B"), "true");
        assert_string_equal(rs_param(m[0], "LOGGER"), logger);
        assert_string_equal(rs_param(m[0], "CODE_FUNC"), "round_trip");
        char ln[16];
        snprintf(ln, sizeof(ln), "%d", line);
        assert_string_equal(rs_param(m[0], "CODE_LINE"), ln);
        assert_non_null(strstr(rs_param(m[0], "CODE_FILE"), "test-syslog.c"));
        /* SD-NAME is at most 32 characters (RFC 5424 §6.3.3); names that
         * share their first 32 keep different SD-NAMEs */
        char cut[33];
        assert_string_equal(
                rs_param(m[0], sd_name_cut("A_NAME_LONGER_THAN_THIRTY_TWO_CHARACTERS", cut)),
                "cut");
        assert_string_equal(
                rs_param(m[0], sd_name_cut("A_NAME_LONGER_THAN_THIRTY_TWO_CHARACTERS_TOO", cut)),
                "cut2");
        rsyslog_messages_free(m, n);

        trail_stats st;
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, 1);
        assert_int_equal(st.delivered, 1);
        assert_int_equal(st.lost, 0);
        logger_without(lg, h);
        assert_int_equal(trail_set_ident(NULL), 0);
        assert_int_equal(trail_set_facility(3), 0);
}

static void udp_delivers_every_field(void **state) {
        (void) state;
        char target[64];
        snprintf(target, sizeof(target), "udp://127.0.0.1:%d", rs.udp_port);
        round_trip(target, "sys.udp", false);
}

static void tcp_delivers_every_field(void **state) {
        (void) state;
        char target[64];
        snprintf(target, sizeof(target), "tcp://localhost:%d", rs.tcp_port);
        round_trip(target, "sys.tcp", false);
}

static void tls_delivers_every_field(void **state) {
        (void) state;
        char target[64];
        snprintf(target, sizeof(target), "tls://127.0.0.1:%d", rs.tls_port);
        round_trip(target, "sys.tls", false);
}

static void unix_delivers_every_field(void **state) {
        (void) state;
        char target[160];
        snprintf(target, sizeof(target), "unix:%s", rs.sock);
        round_trip(target, "sys.unix", true);
}

/* The local default format: RFC 3164, fields appended to the message. */
static void unix_rfc3164_is_parsed_as_legacy_syslog(void **state) {
        (void) state;
        char target[160], run[33];
        json_object *o = NULL;

        snprintf(target, sizeof(target), "unix:%s", rs.sock);
        trail_handler *h = trail_handler_syslog(target);
        trail_logger *lg = logger_with("sys.legacy", h);
        test_run_id(run);
        assert_int_equal(trail_set_ident("legacy"), 0);
        trail_error_with(lg, TRAIL_FIELDS(TRAIL_STR("RUN", run), TRAIL_STR("V", "two\nlines")),
                         "old style");
        /* no structured data: find the line by the run id in the message */
        o = rsyslog_find_text(&rs, run, 10000);
        assert_non_null(o);
        assert_string_equal(rs_get(o, "severity"), "3");
        assert_string_equal(rs_get(o, "facility"), "3");
        assert_string_equal(rs_get(o, "appname"), "legacy");
        char expect[128];
        snprintf(expect, sizeof(expect), "old style RUN=%s V=\"two\\nlines\"", run);
        assert_non_null(strstr(rs_get(o, "msg"), expect));
        json_object_put(o);
        logger_without(lg, h);
        assert_int_equal(trail_set_ident(NULL), 0);
}

static void restart_of_the_receiver_loses_nothing_within_the_buffer(void **state,
                                                                    const char *scheme, int port) {
        (void) state;
        char target[64], run[33];
        json_object **m = NULL;
        trail_stats st;

        snprintf(target, sizeof(target), "%s://127.0.0.1:%d", scheme, port);
        trail_handler *h = trail_handler_syslog(target);
        assert_non_null(h);
        if (strcmp(scheme, "tls") == 0)
                assert_int_equal(trail_handler_set(h, "ca", rs.ca), 0);
        assert_int_equal(trail_handler_set(h, "timeout", "200ms"), 0);
        trail_logger *lg =
                logger_with(strcmp(scheme, "tls") == 0 ? "sys.restart.tls" : "sys.restart", h);
        test_run_id(run);

        log_numbered(lg, run, 0, 100);
        assert_int_equal(trail_flush(), 0);
        size_t n = rsyslog_collect(&rs, run, 100, 10000, &m);
        assert_int_equal(n, 100);
        rsyslog_messages_free(m, n);

        /* Down: records wait in the buffer. */
        assert_int_equal(rsyslog_stop(&rs), 0);
        log_numbered(lg, run, 100, 200);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.delivered, 100);

        /* Back: the first flush reconnects and sends them, in order, once. */
        assert_int_equal(rsyslog_back(&rs), 0);
        log_numbered(lg, run, 300, 10);
        assert_int_equal(trail_flush(), 0);
        n = rsyslog_collect(&rs, run, 310, 15000, &m);
        assert_int_equal(n, 310);
        assert_true(rs_seq_from(m, n, 0));
        rsyslog_messages_free(m, n);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, 310);
        assert_int_equal(st.delivered, 310);
        assert_int_equal(st.lost, 0);

        logger_without(lg, h);
}

static void tcp_receiver_restart_loses_nothing(void **state) {
        restart_of_the_receiver_loses_nothing_within_the_buffer(state, "tcp", rs.tcp_port);
}

static void tls_receiver_restart_loses_nothing(void **state) {
        restart_of_the_receiver_loses_nothing_within_the_buffer(state, "tls", rs.tls_port);
}

/* A full buffer drops the oldest, counts them, and says so on reconnect. */
static void full_buffer_drops_oldest_and_reports_the_loss(void **state) {
        (void) state;
        char target[64], run[33];
        json_object **m = NULL;
        trail_stats st;

        snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", rs.tcp_port);
        trail_handler *h = trail_handler_syslog(target);
        assert_int_equal(trail_handler_set(h, "buffer", "8K"), 0);
        assert_int_equal(trail_handler_set(h, "timeout", "200ms"), 0);
        trail_logger *lg = logger_with("sys.full", h);
        test_run_id(run);

        log_numbered(lg, run, 0, 1);
        assert_int_equal(trail_flush(), 0);
        assert_int_equal(rsyslog_collect(&rs, run, 1, 10000, &m), 1);
        rsyslog_messages_free(m, 1);

        assert_int_equal(rsyslog_stop(&rs), 0);
        log_numbered(lg, run, 1, 500); /* far more than 8 KiB */
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        uint64_t lost = st.lost;
        assert_true(lost > 0 && lost < 500);

        assert_int_equal(rsyslog_back(&rs), 0);
        size_t survivors = 500 - (size_t) lost;
        size_t n = rsyslog_collect(&rs, run, 1 + survivors, 15000, &m);
        assert_int_equal(n, 1 + survivors);
        /* the newest survive, in order */
        assert_string_equal(rs_param(m[0], "SEQ"), "0");
        assert_true(rs_seq_from(m + 1, survivors, 1 + (int) lost));
        rsyslog_messages_free(m, n);

        /* and one record says how many were lost */
        uint64_t notices[64];
        size_t n_notices = rsyslog_link_lost(&rs, notices, 64);
        bool found = false;
        for (size_t i = 0; i < n_notices; i++)
                found = found || notices[i] == lost;
        assert_true(found);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.lost, lost);
        assert_int_equal(st.delivered, 1 + survivors);

        logger_without(lg, h);
}

/* A server whose certificate does not verify gets nothing. */
static void tls_refuses_a_server_it_cannot_verify(void **state) {
        (void) state;
        char target[64], run[33];
        json_object **m = NULL;
        trail_stats st;

        snprintf(target, sizeof(target), "tls://127.0.0.1:%d", rs.tls_port);
        trail_handler *h = trail_handler_syslog(target); /* system CAs only */
        assert_int_equal(trail_handler_set(h, "timeout", "300ms"), 0);
        trail_logger *lg = logger_with("sys.untrusted", h);
        test_run_id(run);
        log_numbered(lg, run, 0, 3);
        assert_true(trail_flush() < 0);
        assert_int_equal(rsyslog_collect(&rs, run, 1, 1000, &m), 0);
        rsyslog_messages_free(m, 0);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.delivered, 0);
        logger_without(lg, h);
}

/* With a client certificate configured, the handshake still succeeds. */
static void tls_with_a_client_certificate(void **state) {
        (void) state;
        char target[64], run[33];
        json_object **m = NULL;

        snprintf(target, sizeof(target), "tls://localhost:%d", rs.tls_port);
        trail_handler *h = trail_handler_syslog(target);
        assert_int_equal(trail_handler_set(h, "ca", rs.ca), 0);
        assert_int_equal(trail_handler_set(h, "cert", rs.client_cert), 0);
        assert_int_equal(trail_handler_set(h, "key", rs.client_key), 0);
        assert_int_equal(trail_handler_set(h, "cert", "/nonexistent/cert.pem"), -ENOENT);
        trail_logger *lg = logger_with("sys.clientcert", h);
        test_run_id(run);
        log_numbered(lg, run, 0, 1);
        assert_int_equal(trail_flush(), 0);
        assert_int_equal(rsyslog_collect(&rs, run, 1, 10000, &m), 1);
        rsyslog_messages_free(m, 1);
        logger_without(lg, h);
}

static void bad_targets_are_refused(void **state) {
        (void) state;
        static const char *const bad[] = {
                "",
                "udp://",
                "udp://host:0",
                "udp://host:65536",
                "tcp://host:x",
                "unix:relative",
                "http://host:80",
                "udp://::1:514",
                "udp://[::1",
                "tcp://[::1]x",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                errno = 0;
                assert_null(trail_handler_syslog(bad[i]));
                assert_int_equal(errno, EINVAL);
        }
        trail_handler *h = trail_handler_syslog("udp://[::1]:514");
        assert_non_null(h);
        assert_int_equal(trail_handler_set(h, "timeout", "0"), -EINVAL);
        assert_int_equal(trail_handler_set(h, "timeout", "soon"), -EINVAL);
        assert_int_equal(trail_handler_set(h, "max_length", "100"), -EINVAL);
        assert_int_equal(trail_handler_set(h, "ca", "/etc/hostname"), -ENOENT); /* not for udp */
        trail_handler_unref(h);
}

/* trail.conf sets up the collector (TLS, RFC 5424, through an async queue)
 * and local syslog (RFC 3164 on a unix socket); what rsyslog parsed holds
 * no secret: redaction by name ([filter] redact = default SESSION_ID) and
 * the scrubber on the message, on both wire formats. */
static void a_configured_collector_gets_redacted_records(void **state) {
        (void) state;
        char path[] = "/tmp/trail-syslog-conf-XXXXXX", run[33];
        json_object **m = NULL;
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        FILE *f = fdopen(fd, "w");
        assert_non_null(f);
        fprintf(f,
                "[trail]\nhandlers = collector, local\nident = trail-conf\nfacility = local1\n"
                "[handler collector]\ntype = syslog\ntarget = tls://127.0.0.1:%d\n"
                "format = rfc5424\nca = %s\nserver_name = localhost\n"
                "async = yes\nqueue = 1024\noverflow = drop-old\n"
                "[handler local]\ntype = syslog\ntarget = unix:%s\nformat = rfc3164\n"
                "[filter]\nredact = default SESSION_ID\n",
                rs.tls_port, rs.ca, rs.sock);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(trail_configure(path), 0);

        test_run_id(run);
        trail_warning_with(trail_get("conf.pay"),
                           TRAIL_FIELDS(TRAIL_STR("RUN", run), TRAIL_STR("SESSION_ID", "s-3cr3t"),
                                        TRAIL_STR("DB_PASSWORD", "pw-3cr3t"),
                                        TRAIL_STR("NOTE", "Bearer tok3n.abc")),
                           "paid with 4111 1111 1111 1111, password=hunter2");
        assert_int_equal(trail_flush(), 0);

        size_t n = rsyslog_collect(&rs, run, 1, 10000, &m); /* RFC 5424 */
        assert_int_equal(n, 1);
        char needle[64];
        snprintf(needle, sizeof(needle), "RUN=%s", run);
        json_object *legacy = rsyslog_find_text(&rs, needle, 10000); /* RFC 3164 */
        assert_non_null(legacy);
        json_object **grown = realloc(m, 2 * sizeof(*m));
        assert_non_null(grown);
        m = grown;
        m[n++] = legacy;
        for (size_t i = 0; i < n; i++) {
                const char *raw = json_object_to_json_string(m[i]);
                static const char *const secrets[] = {"s-3cr3t", "pw-3cr3t", "tok3n", "1111 1111",
                                                      "hunter2"};
                for (size_t k = 0; k < sizeof(secrets) / sizeof(secrets[0]); k++)
                        if (strstr(raw, secrets[k]))
                                fail_msg("%s leaked: %s", secrets[k], raw);
                assert_string_equal(rs_get(m[i], "facility"), "17");
                assert_string_equal(rs_get(m[i], "severity"), "4");
                assert_non_null(strstr(msg_without_bom(m[i]), "paid with "));
                if (rs_param(m[i], "SESSION_ID")) { /* RFC 5424: structured data */
                        assert_string_equal(rs_get(m[i], "appname"), "trail-conf");
                        assert_string_equal(rs_param(m[i], "SESSION_ID"), "****");
                        assert_string_equal(rs_param(m[i], "DB_PASSWORD"), "****");
                } else { /* RFC 3164: fields after the message */
                        assert_non_null(strstr(rs_get(m[i], "msg"), "SESSION_ID=****"));
                        assert_non_null(strstr(rs_get(m[i], "msg"), "DB_PASSWORD=****"));
                }
        }
        rsyslog_messages_free(m, n);

        /* A file without handlers or [filter]: back to the defaults. */
        f = fopen(path, "w");
        assert_non_null(f);
        fputs("[trail]\nlevel = info\n", f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(trail_configure(path), 0);
        unlink(path);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(bad_targets_are_refused),
                cmocka_unit_test(udp_delivers_every_field),
                cmocka_unit_test(tcp_delivers_every_field),
                cmocka_unit_test(tls_delivers_every_field),
                cmocka_unit_test(unix_delivers_every_field),
                cmocka_unit_test(unix_rfc3164_is_parsed_as_legacy_syslog),
                cmocka_unit_test(tls_refuses_a_server_it_cannot_verify),
                cmocka_unit_test(tls_with_a_client_certificate),
                cmocka_unit_test(tcp_receiver_restart_loses_nothing),
                cmocka_unit_test(tls_receiver_restart_loses_nothing),
                cmocka_unit_test(full_buffer_drops_oldest_and_reports_the_loss),
                cmocka_unit_test(a_configured_collector_gets_redacted_records),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
