/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "trail.h"

static void level_names_follow_syslog(void **state) {
        (void) state;
        static const char *names[] = {"emergency", "alert",  "critical", "error",
                                      "warning",   "notice", "info",     "debug"};
        for (int i = 0; i < 8; i++) {
                assert_string_equal(trail_level_name(i), names[i]);
                assert_int_equal(trail_level_parse(names[i]), i);
        }
        assert_int_equal(TRAIL_EMERGENCY, 0);
        assert_int_equal(TRAIL_DEBUG, 7);
        assert_null(trail_level_name(-1));
        assert_null(trail_level_name(8));
}

static void parse_takes_short_names_any_case_and_digits(void **state) {
        (void) state;
        assert_int_equal(trail_level_parse("emerg"), TRAIL_EMERGENCY);
        assert_int_equal(trail_level_parse("panic"), TRAIL_EMERGENCY);
        assert_int_equal(trail_level_parse("crit"), TRAIL_CRITICAL);
        assert_int_equal(trail_level_parse("err"), TRAIL_ERROR);
        assert_int_equal(trail_level_parse("warn"), TRAIL_WARNING);
        assert_int_equal(trail_level_parse("WARNING"), TRAIL_WARNING);
        assert_int_equal(trail_level_parse("Debug"), TRAIL_DEBUG);
        assert_int_equal(trail_level_parse("eRr"), TRAIL_ERROR);
        for (int i = 0; i < 8; i++) {
                char s[2] = {(char) ('0' + i), 0};
                assert_int_equal(trail_level_parse(s), i);
        }
}

static void parse_rejects_everything_else(void **state) {
        (void) state;
        static const char *bad[] = {"",      "8",       "-1", "07", "infoo",   " info",
                                    "info ", "verbose", "1 ", "e",  "warnings"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(trail_level_parse(bad[i]), -EINVAL);
        assert_int_equal(trail_level_parse(NULL), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(level_names_follow_syslog),
                cmocka_unit_test(parse_takes_short_names_any_case_and_digits),
                cmocka_unit_test(parse_rejects_everything_else),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
