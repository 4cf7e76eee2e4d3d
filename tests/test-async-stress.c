/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* 16 threads log through one async handler at once (also run under TSan):
 * into journald with BLOCK, every record arrives once and each thread's in
 * order; into a pipe with a tiny DROP_OLD queue, producers evict each other's
 * records while the worker delivers, and delivered + dropped is exact. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "test-util.h"
#include "trail.h"

#define THREADS         16
#define PER_THREAD      500
#define PIPE_PER_THREAD 2000

static char run[33];
static trail_logger *lg;
static int per_thread;

static void *producer(void *arg) {
        long no = (long) arg;

        for (int seq = 0; seq < per_thread; seq++)
                trail_info_with(lg,
                                TRAIL_FIELDS(TRAIL_STR("STRESS_RUN", run),
                                             TRAIL_INT("THREAD_NO", no), TRAIL_INT("SEQ", seq)),
                                "stress t=%ld s=%d", no, seq);
        return NULL;
}

static void run_producers(void) {
        pthread_t t[THREADS];

        for (long i = 0; i < THREADS; i++)
                assert_int_equal(pthread_create(&t[i], NULL, producer, (void *) i), 0);
        for (int i = 0; i < THREADS; i++)
                pthread_join(t[i], NULL);
}

static void sixteen_threads_deliver_everything_in_order(void **state) {
        (void) state;
        trail_handler *j = trail_handler_journald();
        trail_handler *h = trail_handler_async(j, 256, TRAIL_OVERFLOW_BLOCK);
        trail_stats st;

        trail_handler_unref(j);
        assert_non_null(h);
        assert_int_equal(trail_handler_async_set_timeout(h, 60000000), 0);
        assert_int_equal(trail_handler_async_set_flush_timeout(h, 60000000), 0);
        lg = logger_with("stress.journald", h);
        test_run_id(run);
        per_thread = PER_THREAD;

        run_producers();
        assert_int_equal(trail_flush(), 0);
        trail_handler_get_stats(h, &st);
        assert_int_equal(st.records, THREADS * PER_THREAD);
        assert_int_equal(st.delivered, THREADS * PER_THREAD);
        assert_int_equal(st.dropped, 0);

        struct jentries es = journal_collect("STRESS_RUN", run, THREADS * PER_THREAD, 60000);
        assert_int_equal(es.n, THREADS * PER_THREAD);
        int next[THREADS] = {0};
        for (size_t i = 0; i < es.n; i++) {
                long no = atol(jentry_get(&es.e[i], "THREAD_NO", NULL));
                int seq = atoi(jentry_get(&es.e[i], "SEQ", NULL));
                assert_true(no >= 0 && no < THREADS);
                assert_int_equal(seq, next[no]); /* once each, in order */
                next[no]++;
        }
        jentries_free(&es);
        logger_without(lg, h);
}

static void evicting_producers_account_for_every_record(void **state) {
        (void) state;
        int p[2];
        struct fd_reader rd = {0};
        pthread_t reader;
        trail_stats st;

        assert_int_equal(pipe(p), 0);
        rd.fd = p[0];
        assert_int_equal(pthread_create(&reader, NULL, read_to_eof, &rd), 0);
        trail_handler *s = trail_handler_stream(p[1], "text");
        trail_handler *h = trail_handler_async(s, 64, TRAIL_OVERFLOW_DROP_OLD);
        trail_handler_unref(s);
        assert_non_null(h);
        lg = logger_with("stress.pipe", h);
        per_thread = PIPE_PER_THREAD;

        run_producers();
        assert_int_equal(trail_flush(), 0);
        trail_handler_get_stats(h, &st);
        logger_without(lg, h);
        close(p[1]);
        pthread_join(reader, NULL);
        close(p[0]);

        assert_int_equal(st.records, THREADS * PIPE_PER_THREAD);
        assert_int_equal(st.delivered + st.dropped, THREADS * PIPE_PER_THREAD);
        print_message("%llu delivered, %llu dropped\n", (unsigned long long) st.delivered,
                      (unsigned long long) st.dropped);

        int last[THREADS];
        size_t lines = 0;
        memset(last, -1, sizeof(last));
        for (char *l = strstr(rd.buf, "stress t="); l; l = strstr(l + 1, "stress t=")) {
                long no;
                int seq;
                assert_int_equal(sscanf(l, "stress t=%ld s=%d", &no, &seq), 2);
                assert_true(no >= 0 && no < THREADS);
                assert_true(seq > last[no]); /* each thread's survivors in order */
                last[no] = seq;
                lines++;
        }
        assert_int_equal(lines, st.delivered);
        free(rd.buf);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(sixteen_threads_deliver_everything_in_order),
                cmocka_unit_test(evicting_producers_account_for_every_record),
        };

        require_journald();
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
