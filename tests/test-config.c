/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trail_configure(): every section and key takes effect, every error names
 * FILE:LINE and key, and a refused file leaves the configuration in force
 * exactly as it was — proven by logging through it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config-util.h"

/* The reference configuration: root at notice into the memfd, app.db at
 * debug with its own handler and no propagation, global fields. */
static const char *good_conf(const char *marker) {
        return conf_write("[trail]\n"
                          "level = notice\n"
                          "handlers = mem\n"
                          "ident = cfgtest\n"
                          "facility = local3\n"
                          "fields = MARK=%s ENV=\"two words\"\n"
                          "\n"
                          "[logger app.db]\n"
                          "level = debug\n"
                          "handlers = dbmem\n"
                          "propagate = no\n"
                          "\n"
                          "[handler mem]\n"
                          "type = stream\n"
                          "fd = %d\n"
                          "format = text\n"
                          "\n"
                          "[handler dbmem]\n"
                          "type = stream\n"
                          "fd = %d\n"
                          "level = info\n",
                          marker, sink, sink);
}

static void apply_good(const char *marker) {
        struct errbuf e = {};
        const char *path = good_conf(marker);
        assert_int_equal(trail_configure_full(path, 0, errbuf_add, &e), 0);
        assert_int_equal(e.n, 0);
        unlink(path);
        free(memfd_take(sink)); /* the CONFIG_LOADED record */
}

/* The reference configuration is in force: levels, handlers, propagation
 * and global fields. */
static void assert_good_in_force(const char *marker) {
        char mark[64];
        trail_logger *app = trail_get("app"), *db = trail_get("app.db");

        assert_int_equal(trail_logger_level(trail_get(NULL)), TRAIL_NOTICE);
        assert_int_equal(trail_logger_level(app), TRAIL_NOTICE);
        assert_int_equal(trail_logger_level(db), TRAIL_DEBUG);

        trail_info(app, "below the root level");
        trail_notice(app, "app notice");
        trail_debug(db, "db debug, below its handler's level");
        trail_info(db, "db info");
        char *out = memfd_take(sink);
        assert_null(strstr(out, "below"));
        assert_int_equal(count_substr(out, "app notice"), 1);
        /* once: through dbmem, not also through the root's handler */
        assert_int_equal(count_substr(out, "db info"), 1);
        snprintf(mark, sizeof(mark), "MARK=%s", marker);
        assert_int_equal(count_substr(out, mark), 2);
        assert_non_null(strstr(out, "ENV=\"two words\""));
        free(out);
}

static void a_good_file_sets_up_everything(void **state) {
        (void) state;
        apply_good("first");
        assert_good_in_force("first");
}

static void a_reload_replaces_everything(void **state) {
        (void) state;
        struct errbuf e = {};
        char path[64];

        strcpy(path, conf_write("[trail]\nlevel = warning\nhandlers = m2\n\n"
                                "[handler m2]\ntype = stream\nfd = %d\n",
                                sink));

        apply_good("before");
        assert_int_equal(trail_configure_full(path, 0, errbuf_add, &e), 0);
        unlink(path);
        free(memfd_take(sink));
        /* app.db was the old file's: back to inheriting and propagating */
        assert_int_equal(trail_logger_level(trail_get("app.db")), TRAIL_WARNING);
        trail_warning(trail_get("app.db"), "db warning");
        char *out = memfd_take(sink);
        assert_int_equal(count_substr(out, "db warning"), 1);
        assert_null(strstr(out, "MARK=")); /* global fields of the old file are gone */
        free(out);
        apply_good("after");
        assert_good_in_force("after");
}

/* Each broken file: refused with the expected FILE:LINE: key: why, and the
 * reference configuration still in force. */
struct bad {
        const char *text;
        unsigned line;
        const char *key; /* NULL: none */
        const char *why;
};

static const struct bad bad_files[] = {
        {"[trail]\nlevel = loud\n", 2, "level", "unknown level 'loud'"},
        {"[trail]\nlevel = inherit\n", 2, "level", "unknown level"},
        {"[trail]\ncolour = blue\n", 2, "colour", "unknown key in [trail]"},
        {"[trail]\nhandlers = nosuch\n", 2, "handlers", "no [handler nosuch] section"},
        {"[trail]\nhandlers = a, a\n[handler a]\ntype = journald\n", 2, "handlers",
         "handler 'a' listed twice"},
        {"[trail]\nident = two words\n", 2, "ident", "printable ASCII"},
        {"[trail]\nident = 0123456789012345678901234567890123456789012345678\n", 2, "ident",
         "1 to 48"},
        {"[trail]\nfacility = kitchen\n", 2, "facility", "unknown facility"},
        {"[trail]\nfacility = 24\n", 2, "facility", "unknown facility"},
        {"[trail]\nfields = lower=x\n", 2, "fields", "not a journal field name"},
        {"[trail]\nfields = MESSAGE=x\n", 2, "fields", "not a journal field name"},
        {"[trail]\nfields = A=1 A=2\n", 2, "fields", "given twice"},
        {"[trail]\nfields = NOVALUE\n", 2, "fields", "not NAME=value"},
        {"[trail]\nfields = A=\"open\n", 2, "fields", "unterminated"},
        {"[trail]\nlevel = info\nlevel = debug\n", 3, "level", "given twice"},
        {"level = info\n", 1, "level", "outside any section"},
        {"[trail]\nlevel info\n", 2, NULL, "syntax error"},
        {"[trail\nlevel = info\n", 1, NULL, "syntax error"},
        {"[bogus]\nx = 1\n", 1, NULL, "unknown section [bogus]"},
        {"[trail extra]\nlevel = info\n", 1, NULL, "takes no name"},
        {"[logger]\nlevel = info\n", 1, NULL, "needs a name"},
        {"[logger root]\nlevel = info\n", 1, NULL, "set in [trail]"},
        {"[logger a..b]\nlevel = info\n", 1, NULL, "not a logger name"},
        {"[logger x]\nlevel = loud\n", 2, "level", "unknown level"},
        {"[logger x]\npropagate = maybe\n", 2, "propagate", "not yes or no"},
        {"[logger x]\nhandlers = none_here\n", 2, "handlers", "no [handler none_here]"},
        {"[logger x]\ncolour = red\n", 2, "colour", "unknown key in [logger x]"},
        {"[handler h]\nfd = 2\n", 1, "type", "missing"},
        {"[handler h]\ntype = carrier-pigeon\n", 2, "type", "unknown handler type"},
        {"[handler h]\ntype = syslog\ntarget = sctp://x:1\n", 3, "target",
         "'sctp://x:1' is not a syslog target"},
        {"[handler h]\ntype = syslog\ntarget = udp://127.0.0.1:9\nbuffer = lots\n", 4, "buffer",
         "invalid value"},
        {"[handler h]\ntype = stream\nfd = stdlog\n", 3, "fd", "not stderr, stdout"},
        {"[handler h]\ntype = stream\nfd = -1\n", 3, "fd", "not stderr, stdout"},
        {"[handler h]\ntype = stream\nformat = sepia\n", 3, "format", "invalid value"},
        {"[handler h]\ntype = stream\nlevel = loud\n", 3, "level", "invalid value"},
        {"[handler h]\ntype = stream\ncolour = red\n", 3, "colour",
         "unknown key for a stream handler"},
        {"[handler h]\ntype = journald\nformat = text\n", 3, "format", "not supported"},
        {"[handler h]\ntype = journald\nasync = perhaps\n", 3, "async", "not yes or no"},
        {"[handler h]\ntype = journald\nasync = yes\nqueue_timeout = soon\n", 4, "queue_timeout",
         "not a duration"},
        {"[handler h]\ntype = journald\nasync = yes\nflush_timeout = 5 s\n", 4, "flush_timeout",
         "not a duration"},
        {"[handler h]\ntype = journald\nasync = yes\nkeep_level = loud\n", 4, "keep_level",
         "unknown level"},
        {"[handler h]\ntype = journald\nkeep_level = error\n", 3, "keep_level", "only with async"},
        {"[handler h]\ntype = journald\nasync = yes\nqueue = 2000000\n", 4, "queue",
         "not a queue length"},
        {"[handler h]\ntype = journald\nqueue = 10\n", 3, "queue", "only with async"},
        {"[handler h]\ntype = journald\nasync = yes\nqueue = 0\n", 4, "queue",
         "not a queue length"},
        {"[handler h]\ntype = journald\noverflow = spill\n", 3, "overflow",
         "not block, drop-new or drop-old"},
        {"[handler h]\ntype = journald\nasync = yes\nbatch = 65\n", 4, "batch",
         "not a batch size from 1 to 64"},
        {"[handler h]\ntype = journald\nasync = yes\nbatch = 0\n", 4, "batch",
         "not a batch size from 1 to 64"},
        {"[handler h]\ntype = journald\nbatch = 8\n", 3, "batch", "only with async"},
        {"[handler h]\ntype = syslog\ntarget = tcp://127.0.0.1:9\nframing = crlf\n", 4, "framing",
         "invalid value"},
        {"[handler h]\ntype = syslog\ntarget = udp://127.0.0.1:9\nframing = lf\n", 4, "framing",
         "unknown key"},
        {"[handler h]\ntype = journald\n[handler h]\ntype = auto\n", 3, NULL,
         "duplicate section [handler h] (first at line 1)"},
        {"[handler a b]\ntype = journald\n", 1, NULL, "not a handler name"},
        {"[filter]\ncolour = red\n", 2, "colour", "unknown key in [filter]"},
        {"[filter]\nredact = PASS-WORD\n", 2, "redact", "'PASS-WORD' is not a field name"},
        {"[filter]\nredact = ,\n", 2, "redact", "empty"},
        {"[filter]\nscrub = maybe\n", 2, "scrub", "not yes or no"},
        {"[filter]\nsample = 0\n", 2, "sample", "not a number from 1"},
        {"[filter]\nrate_limit = lots\n", 2, "rate_limit", "not BURST/INTERVAL"},
        {"[filter]\nrate_limit = 10/0s\n", 2, "rate_limit", "not BURST/INTERVAL"},
        {"[filter]\nrate_limit = 0/1s\n", 2, "rate_limit", "not BURST/INTERVAL"},
        {"[filter]\nrate_limit = 10/1 fortnight\n", 2, "rate_limit", "not BURST/INTERVAL"},
        {"[logger x]\nsample = -1\n", 2, "sample", "not a number from 1"},
        {"[trail]\nrate_limit = 5\n", 2, "rate_limit", "not BURST/INTERVAL"},
        {"[trail]\nbacktrace = loud\n", 2, "backtrace", "not a level or none"},
        {"[trail]\nlevel = info\n\x01\x02garbage\n", 3, NULL, "binary data"},
        {"[trail]\nlevel = info\nfields = A=%0300d\n", 3, NULL, "line longer than"},
        {"[logger 01234567890123456789012345678901234567890123456789]\nlevel = info\n", 1, NULL,
         "section name longer"},
};

/* Some line of text starts with prefix and contains why. */
static bool line_has(const char *text, const char *prefix, const char *why) {
        for (const char *l = text; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
                const char *end = strchr(l, '\n');
                size_t len = end ? (size_t) (end - l) : strlen(l);
                char line[1024];
                snprintf(line, sizeof(line), "%.*s", (int) len, l);
                if (strncmp(line, prefix, strlen(prefix)) == 0 &&
                    strstr(line + strlen(prefix), why))
                        return true;
        }
        return false;
}

static void broken_files_are_refused_with_file_line_key(void **state) {
        (void) state;
        int failures = 0;

        for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
                const struct bad *b = &bad_files[i];
                struct errbuf e = {};
                char want[512];

                apply_good("kept");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
                const char *path = conf_write(b->text, 0);
#pragma GCC diagnostic pop
                int r = trail_configure_full(path, 0, errbuf_add, &e);
                snprintf(want, sizeof(want), "%s:%u: %s%s", path, b->line, b->key ? b->key : "",
                         b->key ? ": " : "");
                if (r >= 0 || !line_has(e.text, want, b->why)) {
                        print_error("file %zu: r=%d, wanted \"%s\" in:\n%s", i, r, want, e.text);
                        failures++;
                }
                unlink(path);
                /* the CONFIG_ERROR record goes through the configuration in force */
                char *out = memfd_take(sink);
                assert_non_null(strstr(out, "refused"));
                free(out);
                assert_good_in_force("kept");
        }
        assert_int_equal(failures, 0);
}

static void a_file_with_several_errors_reports_each_in_line_order(void **state) {
        (void) state;
        struct errbuf e = {};
        char path[64];

        strcpy(path, conf_write("[trail]\nhandlers = nosuch\ncolour = blue\n"
                                "[logger x]\nlevel = loud\n[handler h]\ntype = nope\n"));

        apply_good("kept");
        assert_int_equal(trail_configure_full(path, 0, errbuf_add, &e), -EINVAL);
        assert_int_equal(e.n, 4);
        const char *l2 = strstr(e.text, ":2: handlers"), *l3 = strstr(e.text, ":3: colour"),
                   *l5 = strstr(e.text, ":5: level"), *l7 = strstr(e.text, ":7: type");
        assert_true(l2 && l3 && l5 && l7 && l2 < l3 && l3 < l5 && l5 < l7);
        unlink(path);
        free(memfd_take(sink));
        assert_good_in_force("kept");
}

static void an_unreadable_file_is_refused(void **state) {
        (void) state;
        struct errbuf e = {};

        apply_good("kept");
        assert_int_equal(trail_configure_full("/nonexistent/trail.conf", 0, errbuf_add, &e),
                         -ENOENT);
        assert_non_null(strstr(e.text, "/nonexistent/trail.conf: cannot open"));
        assert_int_equal(trail_configure_full("/tmp", 0, errbuf_add, &e) < 0, 1);
        free(memfd_take(sink));
        assert_good_in_force("kept");
}

static void check_mode_applies_nothing(void **state) {
        (void) state;
        struct errbuf e = {};
        char path[64];

        strcpy(path, conf_write("[trail]\nlevel = debug\n"));

        apply_good("kept");
        assert_int_equal(trail_configure_full(path, TRAIL_CONFIGURE_CHECK, errbuf_add, &e), 0);
        assert_int_equal(e.n, 0);
        unlink(path);
        assert_good_in_force("kept");
        assert_int_equal(trail_configure_full(path, 0x100, errbuf_add, &e), -EINVAL);
}

static void comments_continuations_and_spellings(void **state) {
        (void) state;
        struct errbuf e = {};
        const char *path = conf_write("; comment\n# comment\n[trail]\n"
                                      "level = NOTICE   ; inline comment\n"
                                      "handlers = mem\n"
                                      "fields = A=1\n  B=2\n"
                                      "facility = 17\n"
                                      "[logger app.db]\nlevel = 7\npropagate = off\n"
                                      "handlers =\n"
                                      "[logger app.db.x]\nlevel = inherit\n"
                                      "[handler mem]\ntype = stream\nfd = %d\n",
                                      sink);

        assert_int_equal(trail_configure_full(path, 0, errbuf_add, &e), 0);
        assert_int_equal(e.n, 0);
        unlink(path);
        free(memfd_take(sink));
        assert_int_equal(trail_logger_level(trail_get("app.db")), TRAIL_DEBUG);
        assert_int_equal(trail_logger_level(trail_get("app.db.x")), TRAIL_DEBUG);
        trail_notice(trail_get("app.x"), "continued");
        trail_notice(trail_get("app.db.x"), "nowhere: app.db has no handlers, no propagation");
        char *out = memfd_take(sink);
        assert_non_null(strstr(out, "continued A=1 B=2"));
        assert_null(strstr(out, "nowhere"));
        free(out);
}

static void errno_is_kept(void **state) {
        (void) state;
        struct errbuf e = {};

        errno = 4242;
        (void) trail_configure_full("/nonexistent", 0, errbuf_add, &e);
        assert_int_equal(errno, 4242);
        apply_good("kept");
        assert_int_equal(errno, 4242);
}

/* [filter] redaction: the list replaced ("default" keeps the built-in
 * names), the scrubber switched; a reload without [filter] restores both. */
static void filter_redaction_and_its_reset(void **state) {
        (void) state;
        struct errbuf e = {};
        char path[64];
        trail_logger *lg = trail_get("redact.cfg");

        strcpy(path, conf_write("[trail]\nhandlers = mem\n"
                                "[handler mem]\ntype = stream\nfd = %d\n"
                                "[filter]\nredact = default SESSION_ID\nscrub = no\n",
                                sink));
        assert_int_equal(trail_configure_full(path, 0, errbuf_add, &e), 0);
        unlink(path);
        free(memfd_take(sink));
        trail_info_with(lg,
                        TRAIL_FIELDS(TRAIL_STR("SESSION_ID", "s-3cr3t"),
                                     TRAIL_STR("DB_PASSWORD", "pw-3cr3t")),
                        "card 4111111111111111");
        char *out = memfd_take(sink);
        assert_null(strstr(out, "s-3cr3t"));
        assert_null(strstr(out, "pw-3cr3t"));
        assert_non_null(strstr(out, "SESSION_ID=****"));
        assert_non_null(strstr(out, "4111111111111111")); /* scrub = no */
        free(out);

        /* "none": names are no longer redacted */
        strcpy(path, conf_write("[trail]\nhandlers = mem\n"
                                "[handler mem]\ntype = stream\nfd = %d\n"
                                "[filter]\nredact = none\n",
                                sink));
        assert_int_equal(trail_configure_full(path, 0, errbuf_add, &e), 0);
        unlink(path);
        free(memfd_take(sink));
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("PASSWORD", "pw-clear")), "none");
        out = memfd_take(sink);
        assert_non_null(strstr(out, "PASSWORD=pw-clear"));
        free(out);

        /* a file without [filter] gives back the built-in list and the scrubber */
        apply_good("reset");
        trail_notice_with(
                lg,
                TRAIL_FIELDS(TRAIL_STR("SESSION_ID", "s-clear"), TRAIL_STR("PASSWORD", "pw-3cr3t")),
                "card 4111111111111111");
        out = memfd_take(sink);
        assert_non_null(strstr(out, "SESSION_ID=s-clear"));
        assert_null(strstr(out, "pw-3cr3t"));
        assert_null(strstr(out, "4111111111111111"));
        free(out);
        assert_good_in_force("reset");
}

/* Sampling and rate limits count per call site: one site each. */
static void log_from_one_site(trail_logger *lg, int n) {
        for (int i = 0; i < n; i++)
                trail_notice(lg, "site record %d", i);
}

static void log_from_another_site(trail_logger *lg, int n) {
        for (int i = 0; i < n; i++)
                trail_notice(lg, "site record %d", i);
}

/* sample and rate_limit: [filter]'s for every logger the file names, a
 * logger's own winning; a reload without them turns them off. */
static void sampling_and_rate_limits(void **state) {
        (void) state;
        struct errbuf e = {};
        char path[64];

        strcpy(path, conf_write("[trail]\nhandlers = mem\n"
                                "[logger s.sampled]\nsample = 3\n"
                                "[logger s.limited]\nlevel = info\n"
                                "[handler mem]\ntype = stream\nfd = %d\n"
                                "[filter]\nrate_limit = 2/1h\n",
                                sink));
        assert_int_equal(trail_configure_full(path, 0, errbuf_add, &e), 0);
        assert_int_equal(e.n, 0);
        unlink(path);
        free(memfd_take(sink));

        log_from_one_site(trail_get("s.sampled"), 9); /* 1 in 3, no limit of its own… */
        char *out = memfd_take(sink);
        /* …but [filter]'s rate limit: 2 of the 3 sampled */
        assert_int_equal(count_substr(out, "site record"), 2);
        assert_int_equal(count_substr(out, "SAMPLE_RATE=3"), 2);
        free(out);
        log_from_another_site(trail_get("s.limited"), 5);
        out = memfd_take(sink);
        assert_int_equal(count_substr(out, "site record"), 2);
        free(out);

        apply_good("flow-off");
        log_from_another_site(trail_get("s.limited"), 5);
        out = memfd_take(sink);
        assert_int_equal(count_substr(out, "site record"), 5);
        assert_null(strstr(out, "SAMPLE_RATE"));
        free(out);
}

/* async = yes wraps the handler: records arrive after trail_flush(). */
static void an_async_handler(void **state) {
        (void) state;
        struct errbuf e = {};
        char path[64];
        trail_stats st;

        strcpy(path, conf_write("[trail]\nhandlers = q\n"
                                "[handler q]\ntype = stream\nfd = %d\nformat = json\n"
                                "async = yes\nqueue = 64\noverflow = drop-old\n"
                                "queue_timeout = 50ms\nkeep_level = error\nflush_timeout = 2s\n"
                                "batch = 8\n",
                                sink));
        assert_int_equal(trail_configure_full(path, 0, errbuf_add, &e), 0);
        assert_int_equal(e.n, 0);
        unlink(path);
        for (int i = 0; i < 40; i++)
                trail_info(trail_get("async.cfg"), "queued %d", i);
        assert_int_equal(trail_flush(), 0);
        char *out = memfd_take(sink);
        assert_int_equal(count_substr(out, "\"queued "), 40);
        free(out);
        assert_int_equal(trail_get_stats(&st), 0);
        assert_int_equal(st.dropped, 0);
        apply_good("after-async");
        assert_good_in_force("after-async");
}

/* trail check lists a syslog handler without connecting to it. */
static void a_syslog_handler_is_checked_without_connecting(void **state) {
        (void) state;
        struct errbuf e = {};
        apply_good("kept");
        const char *path = conf_write("[trail]\nhandlers = remote\n"
                                      "[handler remote]\ntype = syslog\n"
                                      "target = tcp://192.0.2.1:6514\nformat = rfc5424\n"
                                      "timeout = 100ms\nframing = lf\n%s",
                                      "");
        assert_int_equal(trail_configure_full(path, TRAIL_CONFIGURE_CHECK, errbuf_add, &e), 0);
        assert_int_equal(e.n, 0);
        unlink(path);
        assert_good_in_force("kept");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(a_good_file_sets_up_everything),
                cmocka_unit_test(a_reload_replaces_everything),
                cmocka_unit_test(broken_files_are_refused_with_file_line_key),
                cmocka_unit_test(a_file_with_several_errors_reports_each_in_line_order),
                cmocka_unit_test(an_unreadable_file_is_refused),
                cmocka_unit_test(check_mode_applies_nothing),
                cmocka_unit_test(comments_continuations_and_spellings),
                cmocka_unit_test(errno_is_kept),
                cmocka_unit_test(filter_redaction_and_its_reset),
                cmocka_unit_test(sampling_and_rate_limits),
                cmocka_unit_test(an_async_handler),
                cmocka_unit_test(a_syslog_handler_is_checked_without_connecting),
        };
        return cmocka_run_group_tests(tests, sink_setup, sink_teardown);
}
