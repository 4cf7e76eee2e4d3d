/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The logger tree: names, identity, inherited levels, propagation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "trail.h"

static void same_name_gives_same_pointer(void **state) {
        (void) state;
        trail_logger *a = trail_get("app.db.pool");
        assert_non_null(a);
        assert_ptr_equal(a, trail_get("app.db.pool"));
        assert_string_equal(trail_logger_name(a), "app.db.pool");
        assert_ptr_not_equal(a, trail_get("app.db"));
}

static void root_is_null_empty_or_root(void **state) {
        (void) state;
        trail_logger *r = trail_get(NULL);
        assert_non_null(r);
        assert_ptr_equal(r, trail_get(""));
        assert_ptr_equal(r, trail_get("root"));
        assert_string_equal(trail_logger_name(r), "root");
        assert_int_equal(trail_logger_level(r), TRAIL_INFO);
        assert_int_equal(trail_logger_set_level(r, TRAIL_LEVEL_INHERIT), -EINVAL);
}

static void invalid_names_are_refused(void **state) {
        (void) state;
        static const char *bad[] = {".",    "a.",   ".a",          "a..b",  "a b",
                                    "a\tb", "a\nb", "caf\xc3\xa9", "a.\x7f"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                errno = 0;
                assert_null(trail_get(bad[i]));
                assert_int_equal(errno, EINVAL);
        }
        assert_non_null(trail_get("a-b_c.D9:x/y"));
}

static void child_inherits_parent_level(void **state) {
        (void) state;
        trail_logger *p = trail_get("inherit");
        trail_logger *c = trail_get("inherit.child.grand");

        assert_int_equal(trail_logger_level(c), TRAIL_INFO);
        assert_int_equal(trail_logger_set_level(p, TRAIL_DEBUG), 0);
        assert_int_equal(trail_logger_level(c), TRAIL_DEBUG);
        assert_int_equal(trail_logger_level(trail_get("inherit.child")), TRAIL_DEBUG);
        assert_true(trail_enabled(c, TRAIL_DEBUG));

        /* A descendant that sets its own level keeps it. */
        trail_logger *mid = trail_get("inherit.child");
        assert_int_equal(trail_logger_set_level(mid, TRAIL_ERROR), 0);
        assert_int_equal(trail_logger_set_level(p, TRAIL_NOTICE), 0);
        assert_int_equal(trail_logger_level(c), TRAIL_ERROR);
        assert_false(trail_enabled(c, TRAIL_WARNING));
        assert_true(trail_enabled(c, TRAIL_ERROR));

        /* Back to inheriting: it follows its parent again at once. */
        assert_int_equal(trail_logger_set_level(mid, TRAIL_LEVEL_INHERIT), 0);
        assert_int_equal(trail_logger_level(c), TRAIL_NOTICE);
        assert_int_equal(trail_logger_set_level(p, TRAIL_LEVEL_INHERIT), 0);
        assert_int_equal(trail_logger_level(c), TRAIL_INFO);
}

static void root_level_reaches_every_inheriting_logger(void **state) {
        (void) state;
        trail_logger *a = trail_get("rootlevel.a.b");
        trail_logger *r = trail_get(NULL);

        assert_int_equal(trail_logger_set_level(r, TRAIL_WARNING), 0);
        assert_false(trail_enabled(a, TRAIL_NOTICE));
        assert_int_equal(trail_logger_set_level(r, TRAIL_INFO), 0);
        assert_true(trail_enabled(a, TRAIL_INFO));
        assert_false(trail_enabled(a, TRAIL_DEBUG));
}

static void logger_created_after_parent_level_takes_it(void **state) {
        (void) state;
        assert_int_equal(trail_logger_set_level(trail_get("late"), TRAIL_CRITICAL), 0);
        assert_int_equal(trail_logger_level(trail_get("late.child")), TRAIL_CRITICAL);
        assert_int_equal(trail_logger_set_level(trail_get("late"), TRAIL_LEVEL_INHERIT), 0);
}

static void set_level_refuses_bad_levels(void **state) {
        (void) state;
        trail_logger *lg = trail_get("badlevel");
        assert_int_equal(trail_logger_set_level(lg, 8), -EINVAL);
        assert_int_equal(trail_logger_set_level(lg, -2), -EINVAL);
        assert_int_equal(trail_logger_level(lg), TRAIL_INFO);
}

/* Handlers see records of their logger and its descendants (propagation),
 * unless a logger on the way stops it. Stream handlers on memfds show it. */
static size_t lines_in(int fd) {
        char buf[8192];
        ssize_t n = pread(fd, buf, sizeof(buf), 0);
        size_t lines = 0;
        for (ssize_t i = 0; i < n; i++)
                lines += buf[i] == '\n';
        return lines;
}

static void records_propagate_to_ancestors_handlers(void **state) {
        (void) state;
        int fa = memfd_create("a", 0), fb = memfd_create("b", 0);
        trail_handler *ha = trail_handler_stream(fa, "text");
        trail_handler *hb = trail_handler_stream(fb, NULL);
        trail_logger *a = trail_get("prop"), *b = trail_get("prop.b"), *c = trail_get("prop.b.c");

        assert_non_null(ha);
        assert_non_null(hb);
        assert_int_equal(trail_logger_add_handler(a, ha), 0);
        assert_int_equal(trail_logger_add_handler(b, hb), 0);
        trail_logger_set_propagate(a, false); /* keep these off the root's default */

        trail_info(c, "to b and a");
        assert_int_equal(lines_in(fa), 1);
        assert_int_equal(lines_in(fb), 1);
        trail_info(a, "to a only");
        assert_int_equal(lines_in(fa), 2);
        assert_int_equal(lines_in(fb), 1);
        trail_logger_set_propagate(b, false);
        trail_info(c, "to b only");
        assert_int_equal(lines_in(fa), 2);
        assert_int_equal(lines_in(fb), 2);

        assert_int_equal(trail_logger_remove_handler(a, ha), 0);
        assert_int_equal(trail_logger_remove_handler(b, hb), 0);
        trail_handler_unref(ha);
        trail_handler_unref(hb);
        close(fa);
        close(fb);
}

/* trail_get_stats() counts a handler once however many loggers have it,
 * with many handlers (it once remembered only the first 64). */
static void stats_count_each_handler_once(void **state) {
        (void) state;
        enum { N = 150 };
        trail_logger *a = trail_get("stats.a"), *b = trail_get("stats.b");
        trail_handler *h[N];
        trail_stats before, after;

        trail_logger_set_propagate(a, false);
        trail_logger_set_propagate(b, false);
        for (size_t i = 0; i < N; i++) {
                h[i] = trail_handler_capture();
                assert_non_null(h[i]);
                assert_int_equal(trail_logger_add_handler(a, h[i]), 0);
                assert_int_equal(trail_logger_add_handler(b, h[i]), 0);
        }
        assert_int_equal(trail_get_stats(&before), 0);
        trail_info(a, "one record, N handlers");
        assert_int_equal(trail_get_stats(&after), 0);
        assert_int_equal(after.records - before.records, N);
        assert_int_equal(after.delivered - before.delivered, N);

        for (size_t i = 0; i < N; i++) {
                assert_int_equal(trail_logger_remove_handler(a, h[i]), 0);
                assert_int_equal(trail_logger_remove_handler(b, h[i]), 0);
                trail_handler_unref(h[i]);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(same_name_gives_same_pointer),
                cmocka_unit_test(root_is_null_empty_or_root),
                cmocka_unit_test(invalid_names_are_refused),
                cmocka_unit_test(child_inherits_parent_level),
                cmocka_unit_test(root_level_reaches_every_inheriting_logger),
                cmocka_unit_test(logger_created_after_parent_level_takes_it),
                cmocka_unit_test(set_level_refuses_bad_levels),
                cmocka_unit_test(records_propagate_to_ancestors_handlers),
                cmocka_unit_test(stats_count_each_handler_once),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
