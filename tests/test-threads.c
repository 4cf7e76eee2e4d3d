/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Several threads log through shared loggers while another changes levels
 * and global fields: every record arrives once, with its own thread's
 * context. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "journal-util.h"
#include "trail.h"

#define THREADS    8
#define PER_THREAD 400

static char run[33];
static trail_logger *shared;
static volatile int stop;

static void *worker(void *arg) {
        long no = (long) arg;
        char ctx[32];

        snprintf(ctx, sizeof(ctx), "ctx-%ld", no);
        TRAIL_SCOPE(TRAIL_INT("THREAD_NO", no), TRAIL_STR("THREAD_CTX", ctx));
        for (int seq = 0; seq < PER_THREAD; seq++) {
                TRAIL_SCOPE(TRAIL_INT("SEQ", seq));
                trail_info_with(shared, TRAIL_FIELDS(TRAIL_STR("THREADS_RUN", run)),
                                "thread %ld record %d", no, seq);
        }
        return NULL;
}

static void *meddler(void *arg) {
        (void) arg;
        trail_logger *parent = trail_get("threads");
        for (unsigned gen = 0; !__atomic_load_n(&stop, __ATOMIC_RELAXED); gen++) {
                trail_logger_set_level(parent, gen % 2 ? TRAIL_DEBUG : TRAIL_INFO);
                trail_set_global_fields(
                        TRAIL_FIELDS(TRAIL_UINT("GEN", gen), TRAIL_STR("GLOBAL_RUN", run)));
        }
        return NULL;
}

static void every_record_arrives_once_with_its_context(void **state) {
        (void) state;
        pthread_t w[THREADS], m;
        trail_handler *h = trail_handler_journald();

        /* Exact delivery is the point here, not the bound on a stalled
         * journald (test-fault-journald): wait as long as a loaded machine's
         * journald needs. */
        assert_int_equal(trail_handler_set(h, "timeout", "60s"), 0);
        shared = trail_get("threads.shared");
        trail_logger_add_handler(shared, h);
        trail_logger_set_propagate(shared, false);
        trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("GLOBAL_RUN", run)));

        assert_int_equal(pthread_create(&m, NULL, meddler, NULL), 0);
        for (long i = 0; i < THREADS; i++)
                assert_int_equal(pthread_create(&w[i], NULL, worker, (void *) i), 0);
        for (int i = 0; i < THREADS; i++)
                pthread_join(w[i], NULL);
        __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
        pthread_join(m, NULL);

        trail_stats st;
        trail_handler_get_stats(h, &st);
        assert_int_equal(st.delivered, THREADS * PER_THREAD);

        struct jentries es = journal_collect("THREADS_RUN", run, THREADS * PER_THREAD, 30000);
        assert_int_equal(es.n, THREADS * PER_THREAD);
        static bool seen[THREADS][PER_THREAD];
        for (size_t i = 0; i < es.n; i++) {
                const struct jentry *e = &es.e[i];
                long no = atol(jentry_get(e, "THREAD_NO", NULL));
                int seq = atoi(jentry_get(e, "SEQ", NULL));
                char expect[64];

                assert_in_range(no, 0, THREADS - 1);
                assert_in_range(seq, 0, PER_THREAD - 1);
                assert_false(seen[no][seq]);
                seen[no][seq] = true;
                snprintf(expect, sizeof(expect), "thread %ld record %d", no, seq);
                assert_string_equal(jentry_get(e, "MESSAGE", NULL), expect);
                snprintf(expect, sizeof(expect), "ctx-%ld", no);
                assert_string_equal(jentry_get(e, "THREAD_CTX", NULL), expect);
                assert_string_equal(jentry_get(e, "GLOBAL_RUN", NULL), run);
                assert_int_equal(jentry_count(e, "SEQ"), 1);
                assert_int_equal(jentry_count(e, "THREAD_NO"), 1);
        }
        jentries_free(&es);
        trail_handler_unref(h);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_record_arrives_once_with_its_context),
        };
        require_journald();
        test_run_id(run);
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
