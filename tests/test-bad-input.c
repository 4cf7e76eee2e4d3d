/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NULL and invalid arguments: a clear negative errno, never a crash. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "trail.h"

static void null_logger_is_einval(void **state) {
        (void) state;
        trail_logger *none = NULL;
        assert_int_equal(trail_info(none, "x"), -EINVAL);
        assert_int_equal(trail_log_with(none, TRAIL_ERROR, TRAIL_FIELDS(TRAIL_INT("A", 1)), "x"),
                         -EINVAL);
        assert_int_equal(trail_error_errno(none, EIO, "x"), -EIO);
        assert_false(trail_enabled(NULL, TRAIL_EMERGENCY));
        assert_null(trail_logger_name(NULL));
        assert_int_equal(trail_logger_level(NULL), -EINVAL);
        assert_int_equal(trail_logger_set_level(NULL, TRAIL_INFO), -EINVAL);
        assert_int_equal(trail_logger_set_propagate(NULL, true), -EINVAL);
        assert_int_equal(trail_logger_add_handler(NULL, NULL), -EINVAL);
        assert_int_equal(trail_logger_remove_handler(NULL, NULL), -EINVAL);
}

/* The compiler rightly refuses a NULL format; this test wants to send one. */
#pragma GCC diagnostic ignored "-Wformat-security"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void null_format_is_einval(void **state) {
        (void) state;
        const char *fmt = NULL;
        trail_logger *lg = trail_get("bad.format");
        assert_int_equal(trail__log(lg, TRAIL_ERROR, &(trail_source){"f", "g", 1, 1, 1},
                                    TRAIL_NO_FIELDS, 0, fmt),
                         -EINVAL);
}

static void bad_levels_and_fields_are_einval(void **state) {
        (void) state;
        trail_logger *lg = trail_get("bad.level");
        assert_int_equal(trail_log(lg, -1, "x"), -EINVAL);
        assert_int_equal(trail_log_with(lg, TRAIL_ERROR, ((trail_fields){NULL, 2}), "x"), -EINVAL);
}

static void null_handler_is_einval(void **state) {
        (void) state;
        trail_stats st;
        trail_logger *lg = trail_get("bad.handler");
        assert_null(trail_handler_ref(NULL));
        assert_null(trail_handler_unref(NULL));
        assert_int_equal(trail_handler_set_level(NULL, TRAIL_INFO), -EINVAL);
        assert_int_equal(trail_logger_add_handler(lg, NULL), -EINVAL);
        assert_int_equal(trail_handler_get_stats(NULL, &st), -EINVAL);
        assert_int_equal(trail_get_stats(NULL), -EINVAL);
        trail_handler *h = trail_handler_journald();
        assert_int_equal(trail_handler_set_level(h, 9), -EINVAL);
        assert_int_equal(trail_handler_get_stats(h, NULL), -EINVAL);
        trail_handler_unref(h);
}

static void bad_stream_arguments_are_einval(void **state) {
        (void) state;
        errno = 0;
        assert_null(trail_handler_stream(-1, "text"));
        assert_int_equal(errno, EINVAL);
        errno = 0;
        assert_null(trail_handler_stream(2, "no-such-format"));
        assert_int_equal(errno, EINVAL);
}

static void invalid_logger_names_are_einval(void **state) {
        (void) state;
        errno = 0;
        assert_null(trail_get("a..b"));
        assert_int_equal(errno, EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(null_logger_is_einval),
                cmocka_unit_test(null_format_is_einval),
                cmocka_unit_test(bad_levels_and_fields_are_einval),
                cmocka_unit_test(null_handler_is_einval),
                cmocka_unit_test(bad_stream_arguments_are_einval),
                cmocka_unit_test(invalid_logger_names_are_einval),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
