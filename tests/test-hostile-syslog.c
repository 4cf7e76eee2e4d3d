/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hostile corpus (tests/hostile/corpus.h) through the syslog handler
 * to a private rsyslogd, over UDP and TCP (RFC 5424) and a unix socket
 * (RFC 3164, and RFC 5424): rsyslog sees exactly one message per call, with
 * the priority, identifier and fields trail sent and no other, and no
 * secret; a value too big for the transport is cut, marked and counted. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hostile/corpus.h"
#include "hostile/parse.h"
#include "journal-util.h"
#include "rsyslog-util.h"
#include "test-util.h"
#include "trail.h"

#define IDENT      "hostile-syslog"
#define FACILITY   16 /* local0 */
#define TIMEOUT_MS 15000

static struct rsyslog rs;
static char run[33];
static struct kv kvs[256];

static int setup(void **state) {
        (void) state;
        int k = rsyslog_start(&rs, false);
        if (k < 0) {
                fprintf(stderr, "rsyslog_start: %s\n", strerror(-k));
                return -1;
        }
        test_run_id(run);
        return hostile_setup(run, IDENT, FACILITY);
}

static int teardown(void **state) {
        (void) state;
        trail_shutdown();
        rsyslog_cleanup(&rs);
        return 0;
}

static off_t out_size(void) {
        struct stat st;
        return stat(rs.out, &st) == 0 ? st.st_size : 0;
}

/* The lines rsyslog wrote since offset from, once the one holding marker
 * is among them; each line is one message. */
static size_t lines_since(off_t from, const char *marker, json_object ***ret, char ***ret_raw) {
        for (int waited = 0; waited < TIMEOUT_MS; waited += 20) {
                FILE *f = fopen(rs.out, "re");
                char *line = NULL;
                size_t cap = 0, n = 0;
                bool found = false;
                json_object **m = NULL;
                char **raw = NULL;

                if (f && fseeko(f, from, SEEK_SET) == 0) {
                        ssize_t len;
                        while ((len = getline(&line, &cap, f)) > 0) {
                                /* rsyslog writes a long line in pieces: the
                                 * last one read may not be whole yet */
                                if (line[len - 1] != '\n')
                                        break;
                                m = realloc(m, (n + 1) * sizeof(*m));
                                raw = realloc(raw, (n + 1) * sizeof(*raw));
                                assert_non_null(m);
                                assert_non_null(raw);
                                m[n] = json_tokener_parse(line);
                                if (!m[n])
                                        fail_msg("rsyslog wrote a line that is not JSON: %.200s",
                                                 line);
                                raw[n++] = strdup(line);
                                found = found || strstr(line, marker);
                        }
                }
                free(line);
                if (f)
                        fclose(f);
                if (found) {
                        *ret = m;
                        *ret_raw = raw;
                        return n;
                }
                for (size_t i = 0; i < n; i++)
                        free(raw[i]);
                free(raw);
                rsyslog_messages_free(m, n);
                usleep(20 * 1000);
        }
        fail_msg("rsyslog did not write %s", marker);
        return 0;
}

static void lines_free(json_object **m, char **raw, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(raw[i]);
        free(raw);
        rsyslog_messages_free(m, n);
}

/* The KEY=value fields after the message of an RFC 3164 line. */
static int legacy_fields(json_object *m) {
        const char *msg = rs_get(m, "msg");
        assert_non_null(msg);
        while (*msg == ' ')
                msg++;
        long off = after_message(msg, strlen(msg));
        if (off < 0)
                fail_msg("the message does not end: %s", msg);
        int n = kv_parse(msg + off, strlen(msg) - (size_t) off, kvs, 256);
        if (n < 0)
                fail_msg("not a KEY=value list: %s", msg + off);
        for (int i = 0; i < n; i++)
                for (int k = i + 1; k < n; k++)
                        if (kvs[i].key_len == kvs[k].key_len &&
                            memcmp(kvs[i].key, kvs[k].key, kvs[i].key_len) == 0)
                                fail_msg("key %.*s twice: %s", (int) kvs[i].key_len, kvs[i].key,
                                         msg);
        return n;
}

/* One message as rsyslog parsed it: priority, identifier, pid, one
 * SD-ELEMENT (RFC 5424) or a clean KEY=value tail (RFC 3164), RUN and SEQ
 * as sent, no secret in the line. */
/* framing = lf on the next corpus_through()'s stream target (lf_next,
 * taken by it: a failed test leaves nothing set for the next one), and
 * on the one running (lf_framing: one line per record, every newline
 * escaped, as in a datagram or an octet-counted frame it is not). */
static bool lf_next, lf_framing;

static void check_message(json_object *m, const char *raw, bool rfc5424, int level,
                          const char *seq) {
        char num[16];
        const char *secret = find_secret(raw, strlen(raw));

        if (secret)
                fail_msg("secret %s reached rsyslog: %.300s", secret, raw);
        snprintf(num, sizeof(num), "%d", level);
        assert_string_equal(rs_get(m, "severity"), num);
        snprintf(num, sizeof(num), "%d", FACILITY);
        assert_string_equal(rs_get(m, "facility"), num);
        assert_string_equal(rs_get(m, "appname"), IDENT);
        snprintf(num, sizeof(num), "%d", (int) getpid());
        assert_string_equal(rs_get(m, "procid"), num);
        if (rfc5424) {
                json_object *sd;
                if (!json_object_object_get_ex(m, "rfc5424-sd", &sd))
                        fail_msg("no structured data: %.300s", raw);
                assert_int_equal(json_object_object_length(sd), 1);
                assert_non_null(rs_param(m, "RUN"));
                assert_string_equal(rs_param(m, "RUN"), run);
                assert_non_null(rs_param(m, "SEQ"));
                assert_string_equal(rs_param(m, "SEQ"), seq);
                assert_string_equal(rs_param(m, "PASSWORD"), "****");
                assert_null(rs_param(m, "TRUNCATED_FIELDS"));
        } else {
                int n = legacy_fields(m);
                assert_true(kv_is(kvs, n, "RUN", run));
                assert_true(kv_is(kvs, n, "SEQ", seq));
                assert_true(kv_is(kvs, n, "PASSWORD", "****"));
                assert_null(kv_get(kvs, n, "TRUNCATED_FIELDS"));
        }
        if (rfc5424 && !lf_framing) {
                /* framed by length or datagram: the value as logged (by
                 * "%s": up to a NUL), control characters and all, still one
                 * record */
                char val[4 * 80 + 1], want[sizeof(val) + 16];
                size_t i = strtoul(seq, NULL, 10);
                assert_true(hostile_values[i].len <= 80);
                snprintf(want, sizeof(want), "m:%s pay ",
                         hostile_length_framed(hostile_values[i].v,
                                               strnlen(hostile_values[i].v, hostile_values[i].len),
                                               val));
                if (!strstr(rs_get(m, "msg"), want))
                        fail_msg("msg is not the value logged: %s (want %s)", rs_get(m, "msg"),
                                 want);
                return;
        }
        long bad = first_dangerous(rs_get(m, "msg"), strlen(rs_get(m, "msg")));
        if (bad >= 0)
                fail_msg("msg holds an unescaped byte at %ld: %s", bad, rs_get(m, "msg"));
}

static trail_handler *handler_for(const char *target, bool rfc5424_on_unix) {
        trail_handler *h = trail_handler_syslog(target);
        assert_non_null(h);
        if (rfc5424_on_unix)
                assert_int_equal(trail_handler_set(h, "format", "rfc5424"), 0);
        return h;
}

static void corpus_through(const char *target, bool rfc5424) {
        trail_handler *h = handler_for(target, rfc5424 && strncmp(target, "unix:", 5) == 0);
        char name[64];
        lf_framing = lf_next;
        lf_next = false;
        if (lf_framing)
                assert_int_equal(trail_handler_set(h, "framing", "lf"), 0);
        snprintf(name, sizeof(name), "hostile.syslog.%.3s%d%s", target, rfc5424,
                 lf_framing ? "lf" : "");
        trail_logger *lg = logger_with(name, h);
        json_object **m;
        char **raw, end[64];
        off_t from = out_size();

        {
                TRAIL_SCOPE(TRAIL_STR("SESSION_TOKEN", "ctx-tok-9e0b"));
                for (size_t i = 0; i < N_HOSTILE; i++) {
                        trail_field f[HOSTILE_FIELDS];
                        size_t n = hostile_fields(f, i, "forged");

                        trail_log_with(lg, (int) (i % 8), ((trail_fields){f, n}),
                                       "m:%s pay 4111111111111111 Bearer %s password=%s",
                                       hostile_values[i].v, "eyJhbGciOiJub25lIn0.bearer-e1e1",
                                       "msg-pw-6d2e");
                }
        }
        snprintf(end, sizeof(end), "end-%s", run);
        trail_notice_with(lg, TRAIL_FIELDS(TRAIL_UINT("SEQ", N_HOSTILE)), "%s", end);
        assert_int_equal(trail_flush(), 0);

        size_t n = lines_since(from, end, &m, &raw);
        if (n != N_HOSTILE + 1)
                fail_msg("%s: %zu messages for %zu calls", target, n, N_HOSTILE + 1);
        for (size_t i = 0; i < N_HOSTILE; i++) {
                char seq[24];
                snprintf(seq, sizeof(seq), "%zu", i);
                check_message(m[i], raw[i], rfc5424, (int) (i % 8), seq);
        }
        lines_free(m, raw, n);

        trail_stats st;
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.delivered, N_HOSTILE + 1);
        assert_int_equal(st.lost, 0);
        logger_without(lg, h);
}

static void udp_rfc5424_takes_the_corpus(void **state) {
        (void) state;
        char target[64];
        snprintf(target, sizeof(target), "udp://127.0.0.1:%d", rs.udp_port);
        corpus_through(target, true);
}

static void tcp_rfc5424_takes_the_corpus(void **state) {
        (void) state;
        char target[64];
        snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", rs.tcp_port);
        corpus_through(target, true);
}

/* framing = lf: one line per record, so every newline escaped */
static void tcp_lf_rfc5424_takes_the_corpus(void **state) {
        (void) state;
        char target[64];
        snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", rs.tcp_port);
        lf_next = true;
        corpus_through(target, true);
}

static void unix_rfc3164_takes_the_corpus(void **state) {
        (void) state;
        char target[160];
        snprintf(target, sizeof(target), "unix:%s", rs.sock);
        corpus_through(target, false);
}

static void unix_rfc5424_takes_the_corpus(void **state) {
        (void) state;
        char target[160];
        snprintf(target, sizeof(target), "unix:%s", rs.sock);
        corpus_through(target, true);
}

/* A mebibyte in a field and in the message: one message, within the
 * transport's maximum, cut at a character and marked, never split into a
 * second record; the cut is counted. */
static void big(const char *target, bool rfc5424) {
        trail_handler *h = handler_for(target, rfc5424 && strncmp(target, "unix:", 5) == 0);
        char name[64];
        snprintf(name, sizeof(name), "hostile.syslog.big.%.3s", target);
        trail_logger *lg = logger_with(name, h);
        char *value = big_value(1 << 20, "0123456789abcdef\n");
        char end[64];
        json_object **m;
        char **raw;
        off_t from = out_size();
        trail_stats before, after;

        assert_int_equal(trail_get_stats(&before), 0);
        trail_warning_with(lg, TRAIL_FIELDS(TRAIL_UINT("SEQ", 1), TRAIL_STR("BIG", value)), "%s",
                           value);
        snprintf(end, sizeof(end), "end-%s", run);
        trail_notice_with(lg, TRAIL_FIELDS(TRAIL_UINT("SEQ", 2)), "%s", end);
        assert_int_equal(trail_flush(), 0);
        assert_int_equal(trail_get_stats(&after), 0);

        size_t n = lines_since(from, end, &m, &raw);
        for (size_t i = 0; i < n && getenv("TRAIL_TEST_DEBUG"); i++)
                fprintf(stderr, "%zu: %.300s ... %s\n", i, raw[i], raw[i] + strlen(raw[i]) - 200);
        if (n != 2)
                fail_msg("%s: %zu messages for 2 calls", target, n);
        const char *msg = rs_get(m[0], "msg");
        assert_non_null(msg);
        assert_non_null(strstr(msg, "...[truncated]"));
        assert_string_equal(rs_get(m[0], "severity"), "4");
        if (rfc5424) {
                /* the field went, and the record says so */
                assert_non_null(rs_param(m[0], "SEQ"));
                assert_string_equal(rs_param(m[0], "SEQ"), "1");
                assert_string_equal(rs_param(m[0], "RUN"), run);
                assert_null(rs_param(m[0], "BIG"));
                assert_string_equal(rs_param(m[0], "TRUNCATED_FIELDS"), "1");
                assert_int_equal(after.fields_dropped - before.fields_dropped, 1);
        }
        assert_int_equal(after.truncated - before.truncated, 1);
        lines_free(m, raw, n);
        logger_without(lg, h);
        free(value);
}

static void udp_cuts_a_mebibyte_into_one_datagram(void **state) {
        (void) state;
        char target[64];
        snprintf(target, sizeof(target), "udp://127.0.0.1:%d", rs.udp_port);
        big(target, true);
}

static void tcp_cuts_a_mebibyte_into_one_frame(void **state) {
        (void) state;
        char target[64];
        snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", rs.tcp_port);
        big(target, true);
}

static void unix_rfc3164_cuts_a_mebibyte_into_one_line(void **state) {
        (void) state;
        char target[160];
        snprintf(target, sizeof(target), "unix:%s", rs.sock);
        big(target, false);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(udp_rfc5424_takes_the_corpus),
                cmocka_unit_test(tcp_rfc5424_takes_the_corpus),
                cmocka_unit_test(tcp_lf_rfc5424_takes_the_corpus),
                cmocka_unit_test(unix_rfc3164_takes_the_corpus),
                cmocka_unit_test(unix_rfc5424_takes_the_corpus),
                cmocka_unit_test(udp_cuts_a_mebibyte_into_one_datagram),
                cmocka_unit_test(tcp_cuts_a_mebibyte_into_one_frame),
                cmocka_unit_test(unix_rfc3164_cuts_a_mebibyte_into_one_line),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
