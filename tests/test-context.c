/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Context fields: push, pop, scopes, copies, and per-thread isolation. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "stream-util.h"

static struct capture c;

static int setup(void **state) {
        (void) state;
        capture_start(&c, "ctx");
        return 0;
}

static int teardown(void **state) {
        (void) state;
        capture_stop(&c);
        return 0;
}

static void push_returns_depth_and_pop_restores(void **state) {
        (void) state;
        int a = trail_context_push(TRAIL_FIELDS(TRAIL_STR("A", "1")));
        int b = trail_context_push(TRAIL_FIELDS(TRAIL_STR("B", "2"), TRAIL_INT("N", 7)));
        assert_int_equal(a, 0);
        assert_int_equal(b, 1);

        trail_info(c.lg, "both");
        assert_non_null(strstr(capture_take(&c), ": both A=1 B=2 N=7\n"));
        trail_context_pop(b);
        trail_info(c.lg, "outer");
        assert_non_null(strstr(capture_take(&c), ": outer A=1\n"));
        trail_context_pop(a);
        trail_info(c.lg, "none");
        assert_non_null(strstr(capture_take(&c), ": none\n"));
}

static void popping_an_outer_token_pops_everything_inside(void **state) {
        (void) state;
        int a = trail_context_push(TRAIL_FIELDS(TRAIL_STR("A", "1")));
        (void) trail_context_push(TRAIL_FIELDS(TRAIL_STR("B", "2")));
        (void) trail_context_push(TRAIL_FIELDS(TRAIL_STR("C", "3")));
        trail_context_pop(a);
        trail_info(c.lg, "empty");
        assert_non_null(strstr(capture_take(&c), ": empty\n"));
        /* Stale and negative tokens are ignored. */
        trail_context_pop(a);
        trail_context_pop(-EINVAL);
        assert_int_equal(trail_context_push(TRAIL_NO_FIELDS), 0);
        trail_context_pop(0);
}

static void values_are_copied_at_push(void **state) {
        (void) state;
        char value[16] = "before";
        int t = trail_context_push(TRAIL_FIELDS(TRAIL_STR("V", value)));
        strcpy(value, "after");
        trail_info(c.lg, "copy");
        assert_non_null(strstr(capture_take(&c), ": copy V=before\n"));
        trail_context_pop(t);
}

static void scope_pops_at_the_end_of_the_block(void **state) {
        (void) state;
        {
                TRAIL_SCOPE(TRAIL_STR("REQUEST_ID", "r1"));
                {
                        TRAIL_SCOPE(TRAIL_STR("STEP", "inner"), TRAIL_STR("REQUEST_ID", "r2"));
                        trail_info(c.lg, "inner");
                        assert_non_null(
                                strstr(capture_take(&c), ": inner REQUEST_ID=r2 STEP=inner\n"));
                }
                trail_info(c.lg, "outer");
                assert_non_null(strstr(capture_take(&c), ": outer REQUEST_ID=r1\n"));
        }
        trail_info(c.lg, "after");
        assert_non_null(strstr(capture_take(&c), ": after\n"));
}

static void push_with_an_unusable_name_fails_whole(void **state) {
        (void) state;
        assert_int_equal(trail_context_push(TRAIL_FIELDS(TRAIL_STR("OK", "1"), TRAIL_STR("", "x"))),
                         -EINVAL);
        assert_int_equal(trail_context_push((trail_fields){NULL, 3}), -EINVAL);
        trail_info(c.lg, "clean");
        assert_non_null(strstr(capture_take(&c), ": clean\n"));
}

static void *other_thread(void *arg) {
        (void) arg;
        TRAIL_SCOPE(TRAIL_STR("THREAD", "other"));
        return NULL;
}

static void context_is_per_thread(void **state) {
        (void) state;
        pthread_t th;
        TRAIL_SCOPE(TRAIL_STR("THREAD", "main"));
        assert_int_equal(pthread_create(&th, NULL, other_thread, NULL), 0);
        pthread_join(th, NULL);
        trail_info(c.lg, "mine");
        assert_non_null(strstr(capture_take(&c), ": mine THREAD=main\n"));
}

static void global_fields_come_first_and_are_replaced(void **state) {
        (void) state;
        char v[8] = "g1";
        assert_int_equal(trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("G", v))), 0);
        strcpy(v, "zz");
        TRAIL_SCOPE(TRAIL_STR("C", "ctx"));
        trail_info(c.lg, "g");
        assert_non_null(strstr(capture_take(&c), ": g G=g1 C=ctx\n"));
        assert_int_equal(trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("H", "2"))), 0);
        trail_info(c.lg, "h");
        assert_non_null(strstr(capture_take(&c), ": h H=2 C=ctx\n"));
        /* A failed set changes nothing. */
        assert_int_equal(trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("", "x"))), -EINVAL);
        trail_info(c.lg, "kept");
        assert_non_null(strstr(capture_take(&c), ": kept H=2 C=ctx\n"));
        assert_int_equal(trail_set_global_fields(TRAIL_NO_FIELDS), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(push_returns_depth_and_pop_restores),
                cmocka_unit_test(popping_an_outer_token_pops_everything_inside),
                cmocka_unit_test(values_are_copied_at_push),
                cmocka_unit_test(scope_pops_at_the_end_of_the_block),
                cmocka_unit_test(push_with_an_unusable_name_fails_whole),
                cmocka_unit_test(context_is_per_thread),
                cmocka_unit_test(global_fields_come_first_and_are_replaced),
        };
        int r = cmocka_run_group_tests(tests, setup, teardown);
        trail_shutdown();
        return r;
}
