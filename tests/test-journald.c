/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Records logged through the real journald and read back with sd-journal,
 * matched on a field unique to the test run. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "trail.h"

#define TIMEOUT_MS 10000

static char run[33];

/* A logger with its own journald handler, not propagating to the root, so
 * tests do not see each other's records twice. */
static trail_logger *test_logger(const char *name) {
        trail_logger *lg = trail_get(name);
        assert_non_null(lg);
        trail_handler *h = trail_handler_journald();
        assert_non_null(h);
        trail_logger_add_handler(lg, h); /* -EEXIST on the second call is fine */
        trail_handler_unref(h);
        assert_int_equal(trail_logger_set_propagate(lg, false), 0);
        return lg;
}

static struct jentries collect(const char *name, const char *value, size_t expected) {
        struct jentries es = journal_collect(name, value, expected, TIMEOUT_MS);
        assert_int_equal(es.n, expected);
        return es;
}

static void assert_field(const struct jentry *e, const char *name, const char *value) {
        size_t len;
        const char *v = jentry_get(e, name, &len);
        if (!v)
                fail_msg("field %s missing", name);
        assert_string_equal(v, value);
        assert_int_equal(len, strlen(value));
        assert_int_equal(jentry_count(e, name), 1);
}

static void record_carries_every_field(void **state) {
        (void) state;
        char id[33], line[16], tid[16];
        trail_logger *lg = test_logger("trailtest.every");

        test_run_id(id);
        TRAIL_SCOPE(TRAIL_STR("REQUEST_ID", id));
        int expected_line = __LINE__ + 1;
        trail_info_with(lg,
                        TRAIL_FIELDS(TRAIL_INT("ROWS", -42), TRAIL_UINT("BIG", UINT64_MAX),
                                     TRAIL_DOUBLE("RATIO", 0.5), TRAIL_BOOL("OK", true),
                                     TRAIL_MESSAGE_ID("0123456789abcdef0123456789abcdef"),
                                     TRAIL_STR("RUN", run)),
                        "query took %d ms", 17);

        struct jentries es = collect("REQUEST_ID", id, 1);
        const struct jentry *e = &es.e[0];
        snprintf(line, sizeof(line), "%d", expected_line);
        snprintf(tid, sizeof(tid), "%d", gettid());
        assert_field(e, "MESSAGE", "query took 17 ms");
        assert_field(e, "PRIORITY", "6");
        assert_field(e, "SYSLOG_IDENTIFIER", "test-journald");
        assert_field(e, "SYSLOG_FACILITY", "3");
        assert_field(e, "LOGGER", "trailtest.every");
        assert_non_null(strstr(jentry_get(e, "CODE_FILE", NULL), "test-journald.c"));
        assert_field(e, "CODE_LINE", line);
        assert_field(e, "CODE_FUNC", "record_carries_every_field");
        assert_field(e, "TID", tid);
        assert_field(e, "ROWS", "-42");
        assert_field(e, "BIG", "18446744073709551615");
        assert_field(e, "RATIO", "0.5");
        assert_field(e, "OK", "true");
        assert_field(e, "MESSAGE_ID", "0123456789abcdef0123456789abcdef");
        assert_field(e, "RUN", run);
        assert_null(jentry_get(e, "ERRNO", NULL));
        jentries_free(&es);
}

static void errno_field_and_percent_m(void **state) {
        (void) state;
        char id[33];
        trail_logger *lg = test_logger("trailtest.errno");

        test_run_id(id);
        TRAIL_SCOPE(TRAIL_STR("REQUEST_ID", id));
        errno = EPERM;
        int r = trail_error_errno(lg, ENOENT, "open failed: %m");
        assert_int_equal(r, -ENOENT);
        assert_int_equal(errno, EPERM); /* the caller's errno is untouched */
        assert_int_equal(trail_error_errno(lg, -EACCES, "again: %m"), -EACCES);
        trail_warning_with(lg, TRAIL_FIELDS(TRAIL_ERRNO(EIO)), "field: %m");

        struct jentries es = collect("REQUEST_ID", id, 3);
        assert_field(&es.e[0], "MESSAGE", "open failed: No such file or directory");
        assert_field(&es.e[0], "ERRNO", "2");
        assert_field(&es.e[0], "PRIORITY", "3");
        assert_field(&es.e[1], "MESSAGE", "again: Permission denied");
        assert_field(&es.e[1], "ERRNO", "13");
        assert_field(&es.e[2], "MESSAGE", "field: Input/output error");
        assert_field(&es.e[2], "ERRNO", "5");
        assert_field(&es.e[2], "PRIORITY", "4");
        jentries_free(&es);
}

static void multiline_and_binary_values_round_trip(void **state) {
        (void) state;
        char id[33];
        const char multi[] = "first line\nsecond line\n\nfourth = x\n";
        const unsigned char bin[] = {0x00, 0x01, 0xff, '\n', 'A', 0x00, 0x7f, 0xc3};
        trail_logger *lg = test_logger("trailtest.binary");

        test_run_id(id);
        trail_notice_with(lg,
                          TRAIL_FIELDS(TRAIL_STR("REQUEST_ID", id), TRAIL_STR("MULTI", multi),
                                       TRAIL_BYTES("BLOB", bin, sizeof(bin))),
                          "multi\nline\tmessage");

        struct jentries es = collect("REQUEST_ID", id, 1);
        size_t len;
        assert_field(&es.e[0], "MULTI", multi);
        assert_field(&es.e[0], "MESSAGE", "multi\nline\tmessage");
        const char *v = jentry_get(&es.e[0], "BLOB", &len);
        assert_non_null(v);
        assert_int_equal(len, sizeof(bin));
        assert_memory_equal(v, bin, sizeof(bin));
        jentries_free(&es);
}

static void message_of_200_kib_arrives_whole(void **state) {
        (void) state;
        char id[33];
        size_t n = 200 * 1024;
        char *big = malloc(n + 1);
        trail_logger *lg = test_logger("trailtest.big");

        assert_non_null(big);
        for (size_t i = 0; i < n; i++)
                big[i] = (char) ('a' + i % 26);
        big[n] = '\0';
        test_run_id(id);
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("REQUEST_ID", id), TRAIL_STR("BIGFIELD", big)),
                        "%s", big);

        struct jentries es = collect("REQUEST_ID", id, 1);
        assert_field(&es.e[0], "MESSAGE", big);
        assert_field(&es.e[0], "BIGFIELD", big);
        jentries_free(&es);
        free(big);
}

static int side_effects;
static int touch(void) {
        return ++side_effects;
}

static void disabled_call_evaluates_no_argument(void **state) {
        (void) state;
        char id[33];
        trail_logger *lg = test_logger("trailtest.lazy");

        test_run_id(id);
        assert_int_equal(trail_logger_set_level(lg, TRAIL_NOTICE), 0);
        side_effects = 0;
        trail_info(lg, "not logged %d %s", touch(), id);
        trail_debug_with(lg, TRAIL_FIELDS(TRAIL_INT("N", touch()), TRAIL_STR("REQUEST_ID", id)),
                         "not logged %d", touch());
        assert_int_equal(side_effects, 0);
        trail_notice_with(lg, TRAIL_FIELDS(TRAIL_STR("REQUEST_ID", id)), "logged %d", touch());
        assert_int_equal(side_effects, 1);

        struct jentries es = collect("REQUEST_ID", id, 1);
        assert_field(&es.e[0], "MESSAGE", "logged 1");
        jentries_free(&es);
        trail_logger_set_level(lg, TRAIL_LEVEL_INHERIT);
}

static void call_field_wins_over_context_over_global(void **state) {
        (void) state;
        char id[33];
        trail_logger *lg = test_logger("trailtest.precedence");

        test_run_id(id);
        assert_int_equal(trail_set_global_fields(
                                 TRAIL_FIELDS(TRAIL_STR("REQUEST_ID", id), TRAIL_STR("A", "global"),
                                              TRAIL_STR("B", "global"), TRAIL_STR("C", "global"))),
                         0);
        {
                TRAIL_SCOPE(TRAIL_STR("B", "outer"), TRAIL_STR("C", "outer"));
                TRAIL_SCOPE(TRAIL_STR("C", "inner"));
                trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("D", "call"), TRAIL_STR("C", "call")),
                                "one");
                trail_info(lg, "two");
        }
        trail_info(lg, "three");
        trail_set_global_fields(TRAIL_NO_FIELDS);
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("REQUEST_ID", id)), "four");

        struct jentries es = collect("REQUEST_ID", id, 4);
        assert_field(&es.e[0], "A", "global");
        assert_field(&es.e[0], "B", "outer");
        assert_field(&es.e[0], "C", "call");
        assert_field(&es.e[0], "D", "call");
        assert_field(&es.e[1], "C", "inner");
        assert_field(&es.e[2], "B", "global");
        assert_field(&es.e[2], "C", "global");
        assert_null(jentry_get(&es.e[3], "A", NULL));
        assert_field(&es.e[3], "MESSAGE", "four");
        jentries_free(&es);
}

static void bad_field_names_are_normalised_not_lost(void **state) {
        (void) state;
        char id[33];
        trail_logger *lg = test_logger("trailtest.names");

        test_run_id(id);
        trail_info_with(lg,
                        TRAIL_FIELDS(TRAIL_STR("REQUEST_ID", id), TRAIL_STR("user-id", "u1"),
                                     TRAIL_STR("_PID", "1"), TRAIL_STR("9LIVES", "cat"),
                                     TRAIL_STR("PRIORITY", "forged"), TRAIL_STR("", "no name")),
                        "names");
        struct jentries es = collect("REQUEST_ID", id, 1);
        assert_field(&es.e[0], "USER_ID", "u1");
        assert_field(&es.e[0], "PID", "1");
        assert_field(&es.e[0], "F_9LIVES", "cat");
        assert_field(&es.e[0], "F_PRIORITY", "forged");
        assert_field(&es.e[0], "PRIORITY", "6");
        char pid[16];
        snprintf(pid, sizeof(pid), "%d", getpid());
        assert_field(&es.e[0], "_PID", pid); /* journald's trusted field, not ours */
        jentries_free(&es);
}

static void ident_and_facility_are_configurable(void **state) {
        (void) state;
        char id[33];
        trail_logger *lg = test_logger("trailtest.ident");

        test_run_id(id);
        assert_int_equal(trail_set_ident("billing"), 0);
        assert_int_equal(trail_set_facility(16), 0);
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("REQUEST_ID", id)), "with ident");
        assert_int_equal(trail_set_ident(NULL), 0);
        assert_int_equal(trail_set_facility(3), 0);
        assert_int_equal(trail_set_ident("has space"), -EINVAL);
        assert_int_equal(trail_set_facility(24), -EINVAL);

        struct jentries es = collect("REQUEST_ID", id, 1);
        assert_field(&es.e[0], "SYSLOG_IDENTIFIER", "billing");
        assert_field(&es.e[0], "SYSLOG_FACILITY", "16");
        jentries_free(&es);
}

static void handler_level_filters_records(void **state) {
        (void) state;
        char id[33];
        trail_logger *lg = trail_get("trailtest.hlevel");
        trail_handler *h = trail_handler_journald();

        assert_int_equal(trail_handler_set_level(h, TRAIL_WARNING), 0);
        assert_int_equal(trail_logger_add_handler(lg, h), 0);
        assert_int_equal(trail_logger_add_handler(lg, h), -EEXIST);
        trail_logger_set_propagate(lg, false);
        test_run_id(id);
        TRAIL_SCOPE(TRAIL_STR("REQUEST_ID", id));
        trail_info(lg, "below the handler's level");
        trail_error(lg, "above it");

        struct jentries es = collect("REQUEST_ID", id, 1);
        assert_field(&es.e[0], "MESSAGE", "above it");
        jentries_free(&es);

        trail_stats st;
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, 1);
        assert_int_equal(st.delivered, 1);
        assert_int_equal(st.failed, 0);
        assert_int_equal(trail_logger_remove_handler(lg, h), 0);
        assert_int_equal(trail_logger_remove_handler(lg, h), -ENOENT);
        trail_handler_unref(h);
}

/* The native protocol takes each field as 2 iovecs (5 with a newline) and
 * sendmsg() takes at most 1024: past that, the fields of lowest precedence
 * are left out and counted, and the record still arrives. */
static void record_with_too_many_fields_arrives_with_the_call_fields(void **state) {
        (void) state;
        char id[33];
        size_t n = 2000;
        trail_field *f = calloc(n + 2, sizeof(*f));
        char(*names)[16] = calloc(n, sizeof(*names));
        trail_stats before, after;
        trail_logger *lg = test_logger("trailtest.many");

        test_run_id(id);
        assert_int_equal(trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("GLOBAL_ONE", "g"))), 0);
        for (size_t i = 0; i < n; i++) {
                snprintf(names[i], sizeof(names[i]), "MANY_%zu", i);
                f[i] = i % 2 ? TRAIL_UINT(names[i], i) : TRAIL_STR(names[i], "two\nlines");
        }
        f[n] = TRAIL_STR("REQUEST_ID", id);
        f[n + 1] = TRAIL_ERRNO(EIO);
        trail_get_stats(&before);
        trail_info_with(lg, ((trail_fields){f, n + 2}), "many fields");
        trail_get_stats(&after);
        trail_set_global_fields(TRAIL_NO_FIELDS);

        struct jentries es = collect("REQUEST_ID", id, 1);
        const struct jentry *e = &es.e[0];
        assert_field(e, "MESSAGE", "many fields");
        assert_field(e, "ERRNO", "5");
        assert_field(e, "MANY_1999", "1999");
        assert_field(e, "MANY_1998", "two\nlines");
        assert_null(jentry_get(e, "GLOBAL_ONE", NULL));
        assert_null(jentry_get(e, "MANY_0", NULL));
        size_t many = 0;
        for (size_t i = 0; i < e->n; i++)
                many += strncmp(e->f[i].name, "MANY_", 5) == 0;
        /* every field the record carried is either in the journal or counted */
        assert_int_equal(after.fields_dropped - before.fields_dropped, 1 + n - many);
        assert_true(many > 250);
        jentries_free(&es);
        free(f);
        free(names);
}

/* The child of fork() logs with its own thread id. */
static void child_after_fork_logs_its_own_tid(void **state) {
        (void) state;
        char id[33], tid[16];
        trail_logger *lg = test_logger("trailtest.fork");

        test_run_id(id);
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("REQUEST_ID", id)), "parent");
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("REQUEST_ID", id)), "child");
                _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        struct jentries es = collect("REQUEST_ID", id, 2);
        snprintf(tid, sizeof(tid), "%d", (int) pid);
        assert_field(&es.e[1], "MESSAGE", "child");
        assert_field(&es.e[1], "TID", tid);
        assert_field(&es.e[1], "_PID", tid);
        jentries_free(&es);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(record_carries_every_field),
                cmocka_unit_test(errno_field_and_percent_m),
                cmocka_unit_test(multiline_and_binary_values_round_trip),
                cmocka_unit_test(message_of_200_kib_arrives_whole),
                cmocka_unit_test(disabled_call_evaluates_no_argument),
                cmocka_unit_test(call_field_wins_over_context_over_global),
                cmocka_unit_test(bad_field_names_are_normalised_not_lost),
                cmocka_unit_test(ident_and_facility_are_configurable),
                cmocka_unit_test(handler_level_filters_records),
                cmocka_unit_test(record_with_too_many_fields_arrives_with_the_call_fields),
                cmocka_unit_test(child_after_fork_logs_its_own_tid),
        };

        require_journald();
        test_run_id(run);
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
