/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Python's "last resort": a program that only logs has its records in
 * journald; one that adds its own handlers gets no duplicates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "journal-util.h"
#include "stream-util.h"

static void records_without_handlers_reach_journald(void **state) {
        (void) state;
        char id[33];
        test_run_id(id);
        trail_info_with(trail_get("lastresort.a.b"), TRAIL_FIELDS(TRAIL_STR("LR_ID", id)),
                        "nobody listens");
        trail_debug_with(trail_get("lastresort.a.b"), TRAIL_FIELDS(TRAIL_STR("LR_ID", id)),
                         "below the root's default level");
        trail_warning_with(trail_get(NULL), TRAIL_FIELDS(TRAIL_STR("LR_ID", id)), "root too");

        struct jentries es = journal_collect("LR_ID", id, 3, 2000);
        assert_int_equal(es.n, 2);
        assert_string_equal(jentry_get(&es.e[0], "MESSAGE", NULL), "nobody listens");
        assert_string_equal(jentry_get(&es.e[0], "LOGGER", NULL), "lastresort.a.b");
        assert_string_equal(jentry_get(&es.e[1], "LOGGER", NULL), "root");
        jentries_free(&es);
}

static void a_handler_on_the_way_replaces_the_default(void **state) {
        (void) state;
        char id[33];
        struct capture c;

        test_run_id(id);
        capture_start(&c, "lastresort.private"); /* its own stream handler, no propagation */
        trail_info_with(c.lg, TRAIL_FIELDS(TRAIL_STR("LR_ID", id)), "to the stream only");
        assert_non_null(strstr(capture_take(&c), "to the stream only"));

        trail_handler *h = trail_handler_journald();
        assert_int_equal(trail_logger_add_handler(trail_get(NULL), h), 0);
        trail_info_with(trail_get("lastresort.x"), TRAIL_FIELDS(TRAIL_STR("LR_ID", id)),
                        "once, through the root's handler");

        /* Both were sent in this order: once the second is in, the first
         * would be too had it gone to journald. */
        struct jentries es = journal_collect("LR_ID", id, 3, 2000);
        assert_int_equal(es.n, 1);
        assert_string_equal(jentry_get(&es.e[0], "MESSAGE", NULL),
                            "once, through the root's handler");
        jentries_free(&es);

        trail_stats st;
        trail_handler_get_stats(h, &st);
        assert_int_equal(st.delivered, 1);
        trail_logger_remove_handler(trail_get(NULL), h);
        trail_handler_unref(h);
        capture_stop(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(records_without_handlers_reach_journald),
                cmocka_unit_test(a_handler_on_the_way_replaces_the_default),
        };
        require_journald();
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
