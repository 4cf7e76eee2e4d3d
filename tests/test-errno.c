/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The errno forms of every level, plain and _with: each evaluates to -|errnum|
 * whether its level is enabled or not (INT_MIN: -INT_MAX, 0: -ESTRPIPE),
 * evaluates errnum once and nothing else when disabled, and an enabled one's
 * ERRNO= reaches the real journald. Run under UBSan too (no negation of
 * INT_MIN anywhere). */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "journal-util.h"
#include "trail.h"

#define TIMEOUT_MS 10000

static int evaluated;

static int touch(int v) {
        evaluated++;
        return v;
}

static trail_logger *test_logger(const char *name, int level) {
        trail_logger *lg = trail_get(name);
        assert_non_null(lg);
        trail_handler *h = trail_handler_journald();
        trail_logger_add_handler(lg, h); /* -EEXIST on a second call is fine */
        trail_handler_unref(h);
        trail_logger_set_propagate(lg, false);
        assert_int_equal(trail_logger_set_level(lg, level), 0);
        return lg;
}

/* Both forms of one level with errnum e; n counts the records made. */
#define BOTH_FORMS(lg, lv, e, expect)                                                              \
        do {                                                                                       \
                assert_int_equal(trail_##lv##_errno(lg, touch(e), "%s: %m", #lv), (expect));       \
                assert_int_equal(trail_##lv##_errno_with(lg, touch(e),                             \
                                                         TRAIL_FIELDS(TRAIL_STR("FORM", "with")),  \
                                                         "%s with: %m", #lv),                      \
                                 (expect));                                                        \
        } while (0)

/* Not emergency: journald would broadcast it to every terminal (wall); it
 * has a test of its own, with a capture handler. */
#define EVERY_LEVEL(lg, e, expect)                                                                 \
        do {                                                                                       \
                BOTH_FORMS(lg, alert, e, expect);                                                  \
                BOTH_FORMS(lg, critical, e, expect);                                               \
                BOTH_FORMS(lg, error, e, expect);                                                  \
                BOTH_FORMS(lg, warning, e, expect);                                                \
                BOTH_FORMS(lg, notice, e, expect);                                                 \
                BOTH_FORMS(lg, info, e, expect);                                                   \
                BOTH_FORMS(lg, debug, e, expect);                                                  \
        } while (0)

static void every_level_enabled_returns_minus_abs_and_sends_errno(void **state) {
        (void) state;
        char id[33];
        trail_logger *lg = test_logger("trailtest.errno.on", TRAIL_DEBUG);

        test_run_id(id);
        TRAIL_SCOPE(TRAIL_STR("ERRNO_RUN", id));
        evaluated = 0;
        EVERY_LEVEL(lg, EIO, -EIO);
        EVERY_LEVEL(lg, -EACCES, -EACCES);
        assert_int_equal(evaluated, 28);
        assert_int_equal(trail_log_errno(lg, TRAIL_INFO, ENOENT, "log: %m"), -ENOENT);
        assert_int_equal(trail_log_errno_with(lg, TRAIL_INFO, -ENOENT,
                                              TRAIL_FIELDS(TRAIL_STR("FORM", "with")), "log: %m"),
                         -ENOENT);

        struct jentries es = journal_collect("ERRNO_RUN", id, 30, TIMEOUT_MS);
        assert_int_equal(es.n, 30);
        for (size_t i = 0; i < es.n; i++) {
                const char *want = i < 14 ? "5" : i < 28 ? "13" : "2";
                char prio[4];
                snprintf(prio, sizeof(prio), "%zu", i < 28 ? i % 14 / 2 + 1 : 6);
                assert_string_equal(jentry_get(&es.e[i], "ERRNO", NULL), want);
                assert_string_equal(jentry_get(&es.e[i], "PRIORITY", NULL), prio);
                assert_int_equal(jentry_get(&es.e[i], "FORM", NULL) != NULL, i % 2 == 1);
        }
        assert_non_null(strstr(jentry_get(&es.e[0], "MESSAGE", NULL), strerror(EIO)));
        jentries_free(&es);
}

static void emergency_forms_return_minus_abs_and_carry_errno(void **state) {
        (void) state;
        trail_logger *lg = trail_get("trailtest.errno.emergency");
        trail_handler *cap = trail_handler_capture();
        trail_field_view v;

        trail_logger_add_handler(lg, cap);
        trail_logger_set_propagate(lg, false);
        assert_int_equal(trail_emergency_errno(lg, EIO, "e: %m"), -EIO);
        assert_int_equal(trail_emergency_errno_with(lg, -EPIPE, TRAIL_NO_FIELDS, "e: %m"), -EPIPE);
        assert_int_equal(trail_capture_count(cap), 2);
        assert_int_equal(trail_record_find(trail_capture_get(cap, 0), "ERRNO", &v), 0);
        assert_int_equal(v.value.i, EIO);
        assert_int_equal(trail_record_find(trail_capture_get(cap, 1), "ERRNO", &v), 0);
        assert_int_equal(v.value.i, EPIPE);
        assert_int_equal(trail_record_level(trail_capture_get(cap, 1)), TRAIL_EMERGENCY);
        trail_logger_remove_handler(lg, cap);
        trail_handler_unref(cap);
}

static void every_level_disabled_returns_minus_abs_and_evaluates_errnum_only(void **state) {
        (void) state;
        trail_logger *lg = test_logger("trailtest.errno.off", TRAIL_EMERGENCY);

        evaluated = 0;
        /* emergency is enabled, the 7 others are not: 14 calls, 14 errnums,
         * and the format arguments of none of them (touch() is not in them) */
#undef BOTH_FORMS
#define BOTH_FORMS(lg, lv, e, expect)                                                              \
        do {                                                                                       \
                assert_int_equal(trail_##lv##_errno(lg, touch(e), "%d", touch(0)), (expect));      \
                assert_int_equal(trail_##lv##_errno_with(lg, touch(e),                             \
                                                         TRAIL_FIELDS(TRAIL_INT("N", touch(0))),   \
                                                         "%d", touch(0)),                          \
                                 (expect));                                                        \
        } while (0)
        BOTH_FORMS(lg, alert, ENOSPC, -ENOSPC);
        BOTH_FORMS(lg, critical, -ENOSPC, -ENOSPC);
        BOTH_FORMS(lg, error, ENOSPC, -ENOSPC);
        BOTH_FORMS(lg, warning, -ENOSPC, -ENOSPC);
        BOTH_FORMS(lg, notice, ENOSPC, -ENOSPC);
        BOTH_FORMS(lg, info, -ENOSPC, -ENOSPC);
        BOTH_FORMS(lg, debug, ENOSPC, -ENOSPC);
        assert_int_equal(evaluated, 14);
        BOTH_FORMS(lg, debug, INT_MIN, -INT_MAX);
        BOTH_FORMS(lg, debug, INT_MAX, -INT_MAX);
        BOTH_FORMS(lg, debug, 0, -ESTRPIPE);
        assert_int_equal(trail_log_errno(lg, TRAIL_DEBUG, INT_MIN, "x"), -INT_MAX);
        assert_int_equal(trail_log_errno_with(lg, TRAIL_DEBUG, 0, TRAIL_NO_FIELDS, "x"), -ESTRPIPE);
        /* a NULL logger: nothing logged, the value all the same */
        assert_int_equal(trail_error_errno(NULL, EBADF, "x"), -EBADF);
        assert_int_equal(trail_error_errno_with(NULL, INT_MIN, TRAIL_NO_FIELDS, "x"), -INT_MAX);
}

static void int_min_and_zero_enabled(void **state) {
        (void) state;
        char id[33];
        trail_logger *lg = test_logger("trailtest.errno.edge", TRAIL_DEBUG);

        test_run_id(id);
        TRAIL_SCOPE(TRAIL_STR("ERRNO_RUN", id));
        assert_int_equal(trail_error_errno(lg, INT_MIN, "min"), -INT_MAX);
        assert_int_equal(trail_error_errno_with(lg, INT_MIN, TRAIL_NO_FIELDS, "min with"),
                         -INT_MAX);
        assert_int_equal(trail_warning_errno(lg, 0, "zero"), -ESTRPIPE);
        assert_int_equal(trail_warning_errno_with(lg, 0, TRAIL_NO_FIELDS, "zero with"), -ESTRPIPE);

        struct jentries es = journal_collect("ERRNO_RUN", id, 4, TIMEOUT_MS);
        assert_int_equal(es.n, 4);
        assert_string_equal(jentry_get(&es.e[0], "ERRNO", NULL), "2147483647");
        assert_string_equal(jentry_get(&es.e[1], "ERRNO", NULL), "2147483647");
        assert_null(jentry_get(&es.e[2], "ERRNO", NULL)); /* 0: no error to record */
        assert_null(jentry_get(&es.e[3], "ERRNO", NULL));
        jentries_free(&es);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_level_enabled_returns_minus_abs_and_sends_errno),
                cmocka_unit_test(emergency_forms_return_minus_abs_and_carry_errno),
                cmocka_unit_test(every_level_disabled_returns_minus_abs_and_evaluates_errnum_only),
                cmocka_unit_test(int_min_and_zero_enabled),
        };

        require_journald();
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
