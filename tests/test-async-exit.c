/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The last lines before a normal exit are not lost: a child logs 10 000
 * records through the async journald handler and calls exit(0) at once;
 * the flush at exit delivers every one of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "trail.h"

#define RECORDS 10000

static void child(const char *run) {
        trail_handler *j = trail_handler_journald();
        trail_handler *h = trail_handler_async(j, 0, TRAIL_OVERFLOW_BLOCK);
        trail_logger *lg = trail_get("exit");

        trail_handler_unref(j);
        if (!h)
                _exit(2);
        /* Slow machines (valgrind, sanitizers) get time; nothing may be dropped. */
        trail_handler_async_set_timeout(h, 60000000);
        trail_handler_async_set_flush_timeout(h, 60000000);
        trail_logger_add_handler(lg, h);
        trail_handler_unref(h);
        trail_logger_set_propagate(lg, false);
        for (int i = 0; i < RECORDS; i++)
                trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("EXIT_RUN", run), TRAIL_INT("SEQ", i)),
                                "record %d before exit", i);
        exit(0);
}

static void records_logged_right_before_exit_all_arrive(void **state) {
        (void) state;
        char run[33];
        int status;

        test_run_id(run);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                child(run);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);

        struct jentries es = journal_collect("EXIT_RUN", run, RECORDS, 60000);
        assert_int_equal(es.n, RECORDS);
        for (size_t i = 0; i < es.n; i++)
                assert_int_equal(atoi(jentry_get(&es.e[i], "SEQ", NULL)), (int) i);
        jentries_free(&es);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(records_logged_right_before_exit_all_arrive),
        };

        require_journald();
        return cmocka_run_group_tests(tests, NULL, NULL);
}
