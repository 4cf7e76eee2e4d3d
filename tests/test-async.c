/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The async handler against the real journald: records arrive in order with
 * every field and the call's time, a record too big for the queue is cut
 * rather than lost, bad arguments are refused, and after fork() the child
 * logs at once without delivering the parent's queued records again. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "test-util.h"
#include "trail.h"

/* These tests prove order, fields and fork, not a bound: a journald slowed
 * by a loaded machine (or valgrind) gets a minute, and so does a flush. */
static trail_handler *async_journald(size_t capacity, int overflow) {
        trail_handler *j = trail_handler_journald();
        assert_int_equal(trail_handler_set(j, "timeout", "60s"), 0);
        trail_handler *h = trail_handler_async(j, capacity, overflow);
        trail_handler_unref(j);
        assert_non_null(h);
        assert_int_equal(trail_handler_async_set_flush_timeout(h, 60000000), 0);
        return h;
}

static void records_arrive_in_order_with_fields_and_call_time(void **state) {
        (void) state;
        char run[33];
        trail_stats st;
        trail_handler *h = async_journald(0, TRAIL_OVERFLOW_BLOCK);
        trail_logger *lg = logger_with("async.basic", h);
        struct timespec before;

        test_run_id(run);
        TRAIL_SCOPE(TRAIL_STR("CTX", "from the context"));
        clock_gettime(CLOCK_REALTIME, &before);
        for (int i = 0; i < 200; i++)
                trail_warning_with(lg,
                                   TRAIL_FIELDS(TRAIL_STR("ASYNC_RUN", run), TRAIL_INT("SEQ", i),
                                                TRAIL_BYTES("BIN", "a\nb\0c", 5),
                                                TRAIL_DOUBLE("D", 1.5)),
                                   "record %d", i);
        errno = 1234;
        assert_int_equal(trail_flush(), 0);
        assert_int_equal(errno, 1234);
        trail_handler_get_stats(h, &st);
        assert_int_equal(st.records, 200);
        assert_int_equal(st.delivered, 200);
        assert_int_equal(st.dropped, 0);
        assert_true(st.queue_high_water >= 1);

        struct jentries es = journal_collect("ASYNC_RUN", run, 200, 20000);
        assert_int_equal(es.n, 200);
        for (size_t i = 0; i < es.n; i++) {
                const struct jentry *e = &es.e[i];
                char msg[32];
                size_t len;
                snprintf(msg, sizeof(msg), "record %zu", i);
                assert_string_equal(jentry_get(e, "MESSAGE", NULL), msg);
                assert_int_equal(atoi(jentry_get(e, "SEQ", NULL)), (int) i);
                assert_string_equal(jentry_get(e, "PRIORITY", NULL), "4");
                assert_string_equal(jentry_get(e, "LOGGER", NULL), "async.basic");
                assert_string_equal(jentry_get(e, "CTX", NULL), "from the context");
                assert_string_equal(jentry_get(e, "D", NULL), "1.5");
                assert_memory_equal(jentry_get(e, "BIN", &len), "a\nb\0c", 5);
                assert_int_equal(len, 5);
                assert_non_null(jentry_get(e, "CODE_FUNC", NULL));
                assert_non_null(jentry_get(e, "TID", NULL));
                /* SYSLOG_TIMESTAMP is the call's time: at or after `before`,
                 * RFC 3339 with microseconds. */
                const char *ts = jentry_get(e, "SYSLOG_TIMESTAMP", NULL);
                struct tm tm = {0};
                assert_non_null(ts);
                const char *rest = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm);
                assert_non_null(rest);
                assert_int_equal(rest[0], '.');
                assert_int_equal(strlen(rest), strlen(".123456+00:00"));
                tm.tm_isdst = -1;
                assert_true(mktime(&tm) >= before.tv_sec - 1);
                assert_true(mktime(&tm) <= time(NULL) + 1);
        }
        jentries_free(&es);
        logger_without(lg, h);
}

static void a_record_bigger_than_the_queue_is_cut_not_lost(void **state) {
        (void) state;
        char run[33];
        trail_handler *h = async_journald(64, TRAIL_OVERFLOW_BLOCK);
        trail_logger *lg = logger_with("async.big", h);
        size_t big = 200000;
        char *msg = malloc(big + 1);

        memset(msg, 'x', big);
        msg[big] = '\0';
        test_run_id(run);
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("ASYNC_RUN", run)), "%s", msg);
        assert_int_equal(trail_flush(), 0);

        struct jentries es = journal_collect("ASYNC_RUN", run, 1, 20000);
        assert_int_equal(es.n, 1);
        size_t len;
        const char *m = jentry_get(&es.e[0], "MESSAGE", &len);
        assert_true(len > 1000 && len < big);
        assert_int_equal(strspn(m, "x"), len);
        jentries_free(&es);
        free(msg);
        logger_without(lg, h);
}

static void bad_arguments_are_refused(void **state) {
        (void) state;
        trail_handler *j = trail_handler_journald();

        errno = 0;
        assert_null(trail_handler_async(NULL, 0, TRAIL_OVERFLOW_BLOCK));
        assert_int_equal(errno, EINVAL);
        errno = 0;
        assert_null(trail_handler_async(j, 0, 3));
        assert_int_equal(errno, EINVAL);
        assert_int_equal(trail_handler_async_set_timeout(NULL, 1), -EINVAL);
        assert_int_equal(trail_handler_async_set_timeout(j, 1), -EOPNOTSUPP);
        assert_int_equal(trail_handler_async_set_flush_timeout(j, 1), -EOPNOTSUPP);
        assert_int_equal(trail_handler_async_set_keep_level(j, TRAIL_ERROR), -EOPNOTSUPP);

        trail_handler *h = trail_handler_async(j, 1, TRAIL_OVERFLOW_DROP_NEW);
        assert_non_null(h);
        assert_int_equal(trail_handler_async_set_keep_level(h, 8), -EINVAL);
        assert_int_equal(trail_handler_async_set_keep_level(h, -2), -EINVAL);
        assert_int_equal(trail_handler_async_set_keep_level(h, -1), 0);
        assert_int_equal(trail_handler_async_set_keep_level(h, TRAIL_CRITICAL), 0);
        trail_handler_unref(h);
        trail_handler_unref(j); /* the async handler held its own reference */
}

/* ---- fork ---- */

#define PARENT_RECORDS 3000

static void a_child_logs_at_once_and_never_repeats_the_parents_queue(void **state) {
        (void) state;
        int p[2], status;
        struct fd_reader rd = {0};
        pthread_t reader;
        trail_stats st;
        char run[33];

        /* Nobody reads the pipe yet: the worker blocks on it, and the
         * parent's records wait in the queue when fork() happens. */
        assert_int_equal(pipe(p), 0);
        trail_handler *s = trail_handler_stream(p[1], "text");
        assert_int_equal(trail_handler_set(s, "timeout", "60s"), 0);
        trail_handler *h = trail_handler_async(s, 8192, TRAIL_OVERFLOW_BLOCK);
        assert_int_equal(trail_handler_async_set_flush_timeout(h, 60000000), 0);
        trail_handler_unref(s);
        assert_non_null(h);
        trail_handler *jh = async_journald(0, TRAIL_OVERFLOW_BLOCK);
        trail_logger *lg = logger_with("async.fork", h);
        assert_int_equal(trail_logger_add_handler(lg, jh), 0);
        test_run_id(run);

        /* Both workers started and past their first record before fork():
         * a thread's start-up allocates (its per-thread buffers; under ASan
         * the runtime's own thread set-up too), and the ASan runtime of gcc
         * 12 does not hold its allocator's locks across fork() as glibc's
         * malloc does: a child forked while a worker was starting inherited
         * an allocator lock held by a thread it does not have, and its own
         * first thread hung on it (1 run in 3). With glibc's malloc fork()
         * is safe at any moment; this test is about trail's own state. */
        trail_info(lg, "warm-up");
        assert_int_equal(trail_flush(), 0);

        for (int i = 0; i < PARENT_RECORDS; i++)
                trail_info(lg, "parent <%d>", i);
        trail_handler_get_stats(h, &st);
        assert_true(st.delivered < PARENT_RECORDS); /* some still queued */

        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                for (int i = 0; i < 10; i++)
                        trail_notice_with(lg, TRAIL_FIELDS(TRAIL_STR("FORK_RUN", run)),
                                          "child <%d>", i);
                _exit(trail_flush() == 0 ? 0 : 3);
        }
        rd.fd = p[0];
        assert_int_equal(pthread_create(&reader, NULL, read_to_eof, &rd), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(trail_flush(), 0);
        logger_without(lg, h);
        logger_without(lg, jh);
        close(p[1]);
        pthread_join(reader, NULL);
        close(p[0]);

        for (int i = 0; i < PARENT_RECORDS; i++) {
                char needle[32];
                snprintf(needle, sizeof(needle), "parent <%d>", i);
                assert_int_equal(count_substr(rd.buf, needle), 1);
        }
        for (int i = 0; i < 10; i++) {
                char needle[32];
                snprintf(needle, sizeof(needle), "child <%d>", i);
                assert_int_equal(count_substr(rd.buf, needle), 1);
        }
        free(rd.buf);

        /* The child's journald records came through its own new worker. */
        struct jentries es = journal_collect("FORK_RUN", run, 10, 20000);
        assert_int_equal(es.n, 10);
        jentries_free(&es);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(records_arrive_in_order_with_fields_and_call_time),
                cmocka_unit_test(a_record_bigger_than_the_queue_is_cut_not_lost),
                cmocka_unit_test(bad_arguments_are_refused),
                cmocka_unit_test(a_child_logs_at_once_and_never_repeats_the_parents_queue),
        };

        require_journald();
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
