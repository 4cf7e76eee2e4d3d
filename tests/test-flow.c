/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sampling and rate limits per call site, with exact counts. The rate
 * limit reads trail's test clock, so nothing here depends on timing. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "trail.h"

/* lib/flow.c, reached through the internal library */
void flow_set_clock_for_test(uint64_t usec);

#define SECOND 1000000ULL

static trail_handler *cap;

static trail_logger *fresh_logger(const char *name) {
        trail_logger *lg = trail_get(name);
        assert_non_null(lg);
        trail_logger_set_propagate(lg, false);
        if (trail_logger_add_handler(lg, cap) == -EEXIST)
                fail_msg("logger %s reused", name);
        return lg;
}

static int64_t field_int(const trail_record *r, const char *name) {
        trail_field_view v;
        if (trail_record_find(r, name, &v) < 0)
                return -1;
        return v.type == TRAIL_FIELD_UINT ? (int64_t) v.value.u : v.value.i;
}

static int setup(void **state) {
        (void) state;
        cap = trail_handler_capture();
        return cap ? 0 : -1;
}

static int teardown(void **state) {
        (void) state;
        trail_shutdown(); /* detaches and releases cap's logger references */
        trail_handler_unref(cap);
        flow_set_clock_for_test(0);
        return 0;
}

static void call_sample_keeps_one_in_n_from_the_first(void **state) {
        (void) state;
        trail_logger *lg = fresh_logger("flow.sample");

        trail_capture_clear(cap);
        for (int i = 0; i < 100; i++)
                trail_info_with(lg, TRAIL_FIELDS(TRAIL_SAMPLE(10), TRAIL_INT("I", i)), "tick %d",
                                i);
        assert_int_equal(trail_capture_count(cap), 10);
        for (size_t k = 0; k < 10; k++) {
                const trail_record *r = trail_capture_get(cap, k);
                assert_int_equal(field_int(r, "I"), (int64_t) k * 10);
                assert_int_equal(field_int(r, "SAMPLE_RATE"), 10);
                /* the instruction itself is no field */
                assert_int_equal(trail_record_n_fields(r), 2);
        }
}

static void call_sites_count_separately(void **state) {
        (void) state;
        trail_logger *lg = fresh_logger("flow.sites");

        trail_capture_clear(cap);
        for (int i = 0; i < 9; i++) {
                trail_info_with(lg, TRAIL_FIELDS(TRAIL_SAMPLE(3)), "a");
                trail_info_with(lg, TRAIL_FIELDS(TRAIL_SAMPLE(9)), "b");
                trail_info_with(lg, TRAIL_FIELDS(TRAIL_SAMPLE(1)), "c");
        }
        int a = 0, b = 0, c = 0;
        for (size_t k = 0; k < trail_capture_count(cap); k++) {
                const trail_record *r = trail_capture_get(cap, k);
                const char *m = trail_record_message(r, NULL);
                a += m[0] == 'a';
                b += m[0] == 'b';
                if (m[0] == 'c') {
                        c++;
                        assert_int_equal(field_int(r, "SAMPLE_RATE"), -1);
                }
        }
        assert_int_equal(a, 3);
        assert_int_equal(b, 1);
        assert_int_equal(c, 9);
}

static void logger_sample_applies_to_its_own_records(void **state) {
        (void) state;
        trail_logger *lg = fresh_logger("flow.lsample");
        trail_logger *kid = trail_get("flow.lsample.kid");

        assert_int_equal(trail_logger_set_sample(lg, 4), 0);
        trail_capture_clear(cap);
        for (int i = 0; i < 20; i++)
                trail_info(lg, "x");
        assert_int_equal(trail_capture_count(cap), 5);
        assert_int_equal(field_int(trail_capture_get(cap, 0), "SAMPLE_RATE"), 4);

        /* the child's records are not sampled by the parent's setting */
        trail_capture_clear(cap);
        for (int i = 0; i < 20; i++)
                trail_info(kid, "y");
        assert_int_equal(trail_capture_count(cap), 20);

        /* the call's own setting wins */
        trail_capture_clear(cap);
        for (int i = 0; i < 20; i++)
                trail_info_with(lg, TRAIL_FIELDS(TRAIL_SAMPLE(2)), "z");
        assert_int_equal(trail_capture_count(cap), 10);
        assert_int_equal(field_int(trail_capture_get(cap, 0), "SAMPLE_RATE"), 2);

        assert_int_equal(trail_logger_set_sample(lg, 1), 0);
        trail_capture_clear(cap);
        for (int i = 0; i < 7; i++)
                trail_info(lg, "all");
        assert_int_equal(trail_capture_count(cap), 7);

        assert_int_equal(trail_logger_set_sample(NULL, 2), -EINVAL);
        assert_int_equal(trail_logger_set_sample(lg, 0), -EINVAL);
}

static int rl_line;

static void rl_site(trail_logger *lg, int i) {
        rl_line = __LINE__ + 1;
        trail_warning_with(lg, TRAIL_FIELDS(TRAIL_RATE_LIMIT(3, 10 * SECOND), TRAIL_INT("I", i)),
                           "hot %d", i);
}

static void rate_limit_passes_a_burst_then_reports_the_suppressed(void **state) {
        (void) state;
        trail_logger *lg = fresh_logger("flow.rl");
        const char *file;
        int line;

        flow_set_clock_for_test(100 * SECOND);
        trail_capture_clear(cap);
        for (int i = 0; i < 10; i++)
                rl_site(lg, i);
        assert_int_equal(trail_capture_count(cap), 3);
        assert_int_equal(field_int(trail_capture_get(cap, 2), "I"), 2);

        /* still inside the window */
        flow_set_clock_for_test(109 * SECOND);
        rl_site(lg, 10);
        assert_int_equal(trail_capture_count(cap), 3);

        /* the next window: one record about the 8 suppressed, then the record */
        flow_set_clock_for_test(110 * SECOND);
        rl_site(lg, 11);
        assert_int_equal(trail_capture_count(cap), 5);
        const trail_record *s = trail_capture_get(cap, 3);
        assert_int_equal(field_int(s, "SUPPRESSED"), 8);
        trail_field_view v;
        assert_int_equal(trail_record_find(s, "MESSAGE_ID", &v), 0);
        assert_memory_equal(v.value.s, TRAIL_MESSAGE_ID_SUPPRESSED, 32);
        assert_int_equal(trail_record_source(s, &file, &line, NULL), 0);
        assert_non_null(strstr(file, "test-flow.c"));
        assert_int_equal(line, rl_line);
        char want[64];
        snprintf(want, sizeof(want), "test-flow.c:%d", rl_line);
        assert_non_null(strstr(trail_record_message(s, NULL), want));
        assert_non_null(strstr(trail_record_message(s, NULL), "Suppressed 8 records"));
        assert_int_equal(trail_record_level(s), TRAIL_WARNING);
        assert_int_equal(field_int(trail_capture_get(cap, 4), "I"), 11);

        /* two more pass, then the window is full again; nothing to report
         * in the window after it when nothing was suppressed */
        rl_site(lg, 12);
        rl_site(lg, 13);
        assert_int_equal(trail_capture_count(cap), 7);
        flow_set_clock_for_test(125 * SECOND);
        rl_site(lg, 14);
        assert_int_equal(trail_capture_count(cap), 8);
        assert_int_equal(field_int(trail_capture_get(cap, 7), "I"), 14);
}

static void logger_rate_limit_and_its_arguments(void **state) {
        (void) state;
        trail_logger *lg = fresh_logger("flow.lrl");

        assert_int_equal(trail_logger_set_rate_limit(lg, 2, 5 * SECOND), 0);
        flow_set_clock_for_test(1000 * SECOND);
        trail_capture_clear(cap);
        for (int i = 0; i < 6; i++)
                trail_info(lg, "a");
        for (int i = 0; i < 6; i++)
                trail_info(lg, "b"); /* another site: its own burst */
        assert_int_equal(trail_capture_count(cap), 4);

        /* off again */
        assert_int_equal(trail_logger_set_rate_limit(lg, 0, 0), 0);
        trail_capture_clear(cap);
        for (int i = 0; i < 6; i++)
                trail_info(lg, "c");
        assert_int_equal(trail_capture_count(cap), 6);

        assert_int_equal(trail_logger_set_rate_limit(NULL, 1, SECOND), -EINVAL);
        assert_int_equal(trail_logger_set_rate_limit(lg, 1, 0), -EINVAL);
}

static void both_site(trail_logger *lg) {
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_SAMPLE(10), TRAIL_RATE_LIMIT(4, SECOND)), "s");
}

static void sampling_comes_before_the_rate_limit(void **state) {
        (void) state;
        trail_logger *lg = fresh_logger("flow.both");

        flow_set_clock_for_test(2000 * SECOND);
        trail_capture_clear(cap);
        for (int i = 0; i < 100; i++)
                both_site(lg);
        assert_int_equal(trail_capture_count(cap), 4);
        flow_set_clock_for_test(2001 * SECOND);
        trail_capture_clear(cap);
        for (int i = 0; i < 10; i++)
                both_site(lg);
        /* 6 sampled-in records were suppressed */
        assert_int_equal(trail_capture_count(cap), 2);
        assert_int_equal(field_int(trail_capture_get(cap, 0), "SUPPRESSED"), 6);
}

#define THREADS    4
#define PER_THREAD 1000

static trail_logger *threaded_lg;

static void *hammer(void *arg) {
        (void) arg;
        for (int i = 0; i < PER_THREAD; i++)
                trail_info_with(threaded_lg, TRAIL_FIELDS(TRAIL_RATE_LIMIT(100, SECOND)), "t");
        return NULL;
}

static void *sample_hammer(void *arg) {
        (void) arg;
        for (int i = 0; i < PER_THREAD; i++)
                trail_info_with(threaded_lg, TRAIL_FIELDS(TRAIL_SAMPLE(8)), "s");
        return NULL;
}

static void counts_are_exact_across_threads(void **state) {
        (void) state;
        pthread_t th[THREADS];

        threaded_lg = fresh_logger("flow.threads");
        flow_set_clock_for_test(5000 * SECOND);
        trail_capture_clear(cap);
        for (int i = 0; i < THREADS; i++)
                assert_int_equal(pthread_create(&th[i], NULL, hammer, NULL), 0);
        for (int i = 0; i < THREADS; i++)
                pthread_join(th[i], NULL);
        assert_int_equal(trail_capture_count(cap), 100);

        flow_set_clock_for_test(5001 * SECOND);
        hammer(NULL);
        assert_int_equal(trail_capture_count(cap), 200 + 1);
        assert_int_equal(field_int(trail_capture_get(cap, 100), "SUPPRESSED"),
                         THREADS * PER_THREAD - 100);

        trail_capture_clear(cap);
        for (int i = 0; i < THREADS; i++)
                assert_int_equal(pthread_create(&th[i], NULL, sample_hammer, NULL), 0);
        for (int i = 0; i < THREADS; i++)
                pthread_join(th[i], NULL);
        assert_int_equal(trail_capture_count(cap), THREADS * PER_THREAD / 8);
}

static void disabled_records_do_not_count(void **state) {
        (void) state;
        trail_logger *lg = fresh_logger("flow.disabled");

        trail_capture_clear(cap);
        for (int i = 0; i < 9; i++) {
                trail_debug_with(lg, TRAIL_FIELDS(TRAIL_SAMPLE(3)), "off"); /* not enabled */
                trail_info_with(lg, TRAIL_FIELDS(TRAIL_SAMPLE(3)), "on");
        }
        assert_int_equal(trail_capture_count(cap), 3);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(call_sample_keeps_one_in_n_from_the_first),
                cmocka_unit_test(call_sites_count_separately),
                cmocka_unit_test(logger_sample_applies_to_its_own_records),
                cmocka_unit_test(rate_limit_passes_a_burst_then_reports_the_suppressed),
                cmocka_unit_test(logger_rate_limit_and_its_arguments),
                cmocka_unit_test(sampling_comes_before_the_rate_limit),
                cmocka_unit_test(counts_are_exact_across_threads),
                cmocka_unit_test(disabled_records_do_not_count),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
