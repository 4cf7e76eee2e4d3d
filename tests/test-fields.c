/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Field names, value rendering and precedence (internals and the text line). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "logger-private.h"
#include "stream-util.h"

static void valid_names_pass_as_they_are(void **state) {
        (void) state;
        size_t n;
        assert_true(field_name_is_valid("REQUEST_ID", &n));
        assert_int_equal(n, 10);
        assert_true(field_name_is_valid("A", &n));
        assert_true(field_name_is_valid("X9_", &n));
        char max[65];
        memset(max, 'A', 64);
        max[64] = '\0';
        assert_true(field_name_is_valid(max, &n));
        assert_int_equal(n, 64);
}

static void invalid_names_fail_validation(void **state) {
        (void) state;
        size_t n;
        static const char *bad[] = {"",    "request_id",        "_PID",     "9A",     "A-B",
                                    "A B", "MESSAGE",           "PRIORITY", "LOGGER", "CODE_FILE",
                                    "TID", "SYSLOG_IDENTIFIER", "A\xc3\xa9"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_false(field_name_is_valid(bad[i], &n));
        assert_false(field_name_is_valid(NULL, &n));
        char long_name[66];
        memset(long_name, 'A', 65);
        long_name[65] = '\0';
        assert_false(field_name_is_valid(long_name, &n));
}

static void check_normalised(const char *in, const char *expected) {
        char out[FIELD_NAME_MAX + 2];
        bool renamed;
        size_t n = field_name_normalise(in, out, &renamed);
        if (!expected) {
                assert_int_equal(n, 0);
                return;
        }
        out[n] = '\0';
        assert_string_equal(out, expected);
        assert_true(renamed);
}

static void invalid_names_are_normalised_as_documented(void **state) {
        (void) state;
        check_normalised("request_id", "REQUEST_ID");
        check_normalised("user-id", "USER_ID");
        check_normalised("http.status code", "HTTP_STATUS_CODE");
        check_normalised("_PID", "PID");
        check_normalised("__x", "X");
        check_normalised("9lives", "F_9LIVES");
        check_normalised("_9", "F_9");
        check_normalised("MESSAGE", "F_MESSAGE");
        check_normalised("priority", "F_PRIORITY");
        check_normalised("caf\xc3\xa9", "CAF__");
        check_normalised("", NULL);
        check_normalised("___", NULL);
        check_normalised(NULL, NULL);

        char long_in[100], expected[65];
        memset(long_in, 'b', 99);
        long_in[99] = '\0';
        memset(expected, 'B', 64);
        expected[64] = '\0';
        check_normalised(long_in, expected);
        memset(long_in, '7', 99);
        char out[FIELD_NAME_MAX + 2];
        bool renamed;
        assert_int_equal(field_name_normalise(long_in, out, &renamed), 64);
        assert_memory_equal(out, "F_77", 4);
}

static void numbers_render_exactly(void **state) {
        (void) state;
        char b[40];
        b[format_int(b, 0)] = 0;
        assert_string_equal(b, "0");
        b[format_int(b, INT64_MIN)] = 0;
        assert_string_equal(b, "-9223372036854775808");
        b[format_int(b, INT64_MAX)] = 0;
        assert_string_equal(b, "9223372036854775807");
        b[format_uint(b, UINT64_MAX)] = 0;
        assert_string_equal(b, "18446744073709551615");
        b[format_double(b, 0.1)] = 0;
        assert_string_equal(b, "0.1");
        b[format_double(b, 1.0 / 3)] = 0;
        assert_string_equal(b, "0.33333333333333331");
        b[format_double(b, -2.5e300)] = 0;
        assert_string_equal(b, "-2.5e+300");
        b[format_double(b, NAN)] = 0;
        assert_string_equal(b, "nan");
        b[format_double(b, -INFINITY)] = 0;
        assert_string_equal(b, "-inf");
}

static void text_line_escapes_control_characters(void **state) {
        (void) state;
        struct capture c;
        const unsigned char bin[] = {'a', 0, 0xff, 'b'};

        capture_start(&c, "fields.escape");
        trail_warning_with(c.lg,
                           TRAIL_FIELDS(TRAIL_STR("Q", "say \"hi\"\nINFO forged: yes"),
                                        TRAIL_STR("PLAIN", "word"), TRAIL_STR("EMPTY", ""),
                                        TRAIL_BYTES("BIN", bin, sizeof(bin)),
                                        TRAIL_STR("UTF8", "gr\xc3\xbc\xc3\x9f"), TRAIL_INT("N", -3),
                                        TRAIL_BOOL("B", false)),
                           "line1\nline2\r\x1b[31m");
        const char *t = capture_take(&c);
        assert_int_equal(strchr(t, '\n') - t, (long) strlen(t) - 1); /* one line */
        assert_non_null(strstr(t, " WARNING fields.escape: line1\\nline2\\r\\x1b[31m "));
        assert_non_null(strstr(t, " Q=\"say \\\"hi\\\"\\nINFO forged: yes\""));
        assert_non_null(strstr(t, " PLAIN=word"));
        assert_non_null(strstr(t, " EMPTY=\"\""));
        assert_non_null(strstr(t, " BIN=\"a\\x00\\xffb\""));
        assert_non_null(strstr(t, " UTF8=\"gr\xc3\xbc\xc3\x9f\""));
        assert_non_null(strstr(t, " N=-3 B=false\n"));
        capture_stop(&c);
}

static void each_name_appears_once_with_the_last_value(void **state) {
        (void) state;
        struct capture c;

        capture_start(&c, "fields.dedupe");
        trail_info_with(c.lg,
                        TRAIL_FIELDS(TRAIL_INT("X", 1), TRAIL_INT("Y", 2), TRAIL_INT("X", 3),
                                     TRAIL_STR("x", "4")),
                        "dup");
        const char *t = capture_take(&c);
        assert_non_null(strstr(t, ": dup X=4 Y=2\n"));
        capture_stop(&c);
}

static void renamed_fields_are_counted(void **state) {
        (void) state;
        struct capture c;
        trail_stats before, after;

        capture_start(&c, "fields.count");
        trail_get_stats(&before);
        trail_info_with(c.lg,
                        TRAIL_FIELDS(TRAIL_INT("lower", 1), TRAIL_INT("", 2), TRAIL_INT(NULL, 3)),
                        "counted");
        trail_get_stats(&after);
        assert_int_equal(after.fields_renamed - before.fields_renamed, 1);
        assert_int_equal(after.fields_dropped - before.fields_dropped, 2);
        assert_non_null(strstr(capture_take(&c), ": counted LOWER=1\n"));
        capture_stop(&c);
}

static void fields_past_the_journald_limit_are_dropped_and_counted(void **state) {
        (void) state;
        struct capture c;
        trail_stats before, after;
        size_t n = 2000;
        trail_field *f = calloc(n, sizeof(*f));
        char(*names)[16] = calloc(n, sizeof(*names));

        for (size_t i = 0; i < n; i++) {
                snprintf(names[i], sizeof(names[i]), "F%zu", i);
                f[i] = TRAIL_UINT(names[i], i);
        }
        capture_start(&c, "fields.many");
        trail_get_stats(&before);
        trail_info_with(c.lg, ((trail_fields){f, n}), "many");
        trail_get_stats(&after);
        size_t kept = RECORD_FIELDS_MAX - RECORD_EXTRA_FIELDS;
        assert_int_equal(after.fields_dropped - before.fields_dropped, n - kept);
        /* The first ones are left out: later fields take precedence; the
         * record says how many went. */
        const char *t = capture_take(&c);
        char first[32], last[64];
        snprintf(first, sizeof(first), ": many F%zu=%zu ", n - kept, n - kept);
        assert_non_null(strstr(t, first));
        snprintf(last, sizeof(last), " F1999=1999 TRUNCATED_FIELDS=%zu\n", n - kept);
        assert_non_null(strstr(t, last));
        capture_stop(&c);
        free(f);
        free(names);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(valid_names_pass_as_they_are),
                cmocka_unit_test(invalid_names_fail_validation),
                cmocka_unit_test(invalid_names_are_normalised_as_documented),
                cmocka_unit_test(numbers_render_exactly),
                cmocka_unit_test(text_line_escapes_control_characters),
                cmocka_unit_test(each_name_appears_once_with_the_last_value),
                cmocka_unit_test(renamed_fields_are_counted),
                cmocka_unit_test(fields_past_the_journald_limit_are_dropped_and_counted),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
