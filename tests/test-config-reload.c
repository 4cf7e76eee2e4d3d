/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reload under load: threads log numbered records while the main thread
 * swaps between configurations many times. Every record must arrive exactly
 * once — none lost in a swap, none delivered by both the old handlers and
 * the new — and the replaced handlers are closed as the swaps go. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config-util.h"

#define THREADS    8
#define PER_THREAD 3000
#define RELOADS    60

static int started;

static void *worker(void *arg) {
        long no = (long) arg;
        trail_logger *lg = trail_get(no % 2 ? "reload.a.b" : "reload.c");

        __atomic_add_fetch(&started, 1, __ATOMIC_RELAXED);
        for (int seq = 0; seq < PER_THREAD; seq++)
                trail_info(lg, "rec %ld/%d", no, seq);
        return NULL;
}

static void no_record_is_lost_or_doubled_by_reloads(void **state) {
        (void) state;
        char path_a[64], path_b[64];
        pthread_t w[THREADS];
        struct errbuf e = {};

        /* A: the root's handler takes everything. B: "reload.a" has its own
         * handler and stops propagation, the root has another: a record that
         * saw half of A and half of B would arrive twice or not at all. */
        strcpy(path_a, conf_write("[trail]\nlevel = info\nhandlers = one\n"
                                  "[handler one]\ntype = stream\nfd = %d\n",
                                  sink));
        strcpy(path_b, conf_write("[trail]\nlevel = info\nhandlers = two\n"
                                  "[logger reload.a]\nhandlers = three\npropagate = no\n"
                                  "[handler two]\ntype = stream\nfd = %d\n"
                                  "[handler three]\ntype = stream\nfd = %d\nformat = text\n",
                                  sink, sink));
        assert_int_equal(trail_configure_full(path_a, 0, errbuf_add, &e), 0);

        for (long i = 0; i < THREADS; i++)
                assert_int_equal(pthread_create(&w[i], NULL, worker, (void *) i), 0);
        while (__atomic_load_n(&started, __ATOMIC_RELAXED) < THREADS)
                sched_yield();
        for (int i = 0; i < RELOADS; i++)
                assert_int_equal(trail_configure_full(i % 2 ? path_a : path_b, 0, errbuf_add, &e),
                                 0);
        for (int i = 0; i < THREADS; i++)
                pthread_join(w[i], NULL);
        assert_int_equal(e.n, 0);
        unlink(path_a);
        unlink(path_b);

        char *out = memfd_take(sink);
        static unsigned char seen[THREADS][PER_THREAD];
        size_t lines = 0, dup = 0, missing = 0;
        for (char *p = strstr(out, "rec "); p; p = strstr(p + 1, "rec ")) {
                long no;
                int seq;
                if (sscanf(p, "rec %ld/%d", &no, &seq) != 2 || no < 0 || no >= THREADS || seq < 0 ||
                    seq >= PER_THREAD)
                        fail_msg("unexpected line near: %.60s", p);
                if (seen[no][seq]++)
                        dup++;
                lines++;
        }
        for (int t = 0; t < THREADS; t++)
                for (int s = 0; s < PER_THREAD; s++)
                        missing += !seen[t][s];
        if (dup || missing)
                fail_msg("%zu records, %zu doubled, %zu missing", lines, dup, missing);
        assert_int_equal(lines, THREADS * PER_THREAD);
        free(out);
}

static void reloads_close_replaced_handlers(void **state) {
        (void) state;
        struct errbuf e = {};
        char path[64];
        trail_stats before, after;

        strcpy(path, conf_write("[trail]\nhandlers = one\n[handler one]\ntype = stream\nfd = %d\n",
                                sink));
        /* Every reload builds a new handler and frees the one it replaced:
         * the number of live handlers (as counted by stats) stays one. */
        for (int i = 0; i < 20; i++)
                assert_int_equal(trail_configure_full(path, 0, errbuf_add, &e), 0);
        trail_info(trail_get("reload"), "after reloads");
        assert_int_equal(trail_get_stats(&before), 0);
        assert_int_equal(trail_configure_full(path, 0, errbuf_add, &e), 0);
        assert_int_equal(trail_get_stats(&after), 0);
        /* the new handler has counted only the CONFIG_LOADED record */
        assert_true(after.records < before.records);
        unlink(path);
        free(memfd_take(sink));
}

static void configure_from_a_filter_is_refused(void **state);

static bool reconfiguring_filter(const trail_record *r, void *userdata) {
        (void) r;
        *(int *) userdata = trail_configure("/nonexistent");
        return true;
}

static void configure_from_a_filter_is_refused(void **state) {
        (void) state;
        int r = 0;
        trail_logger *lg = trail_get("reload.filtered");

        assert_int_equal(trail_logger_add_filter(lg, reconfiguring_filter, &r), 0);
        trail_info(lg, "filtered");
        assert_int_equal(r, -EDEADLK);
        assert_int_equal(trail_logger_remove_filter(lg, reconfiguring_filter, &r), 0);
        free(memfd_take(sink));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(no_record_is_lost_or_doubled_by_reloads),
                cmocka_unit_test(reloads_close_replaced_handlers),
                cmocka_unit_test(configure_from_a_filter_is_refused),
        };
        return cmocka_run_group_tests(tests, sink_setup, sink_teardown);
}
