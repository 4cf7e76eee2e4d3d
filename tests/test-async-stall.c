/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stopped journald must not stall the program: with the test's own
 * journald SIGSTOPped, every call through the async journald handler returns
 * within the timeout, and the drops are counted exactly; after SIGCONT every
 * record not counted as dropped arrives, in order, and one record reports the
 * drops. The journald is the test's own, in a private mount namespace, so the
 * one other tests use is never touched. Needs root; exits 77 without. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "trail.h"

#define JOURNALD    "/lib/systemd/systemd-journald"
#define MARGIN_USEC 1000000 /* scheduling slack on a busy 2-core machine */

static pid_t journald = -1;
static uint64_t dropped_so_far;

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static int private_journal_dirs(void) {
        static const char *const dirs[] = {"/run/systemd/journal", "/run/log/journal",
                                           "/var/log/journal"};
        struct stat st;

        if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                if (stat(dirs[i], &st) < 0)
                        continue; /* journald does not use what is not there */
                if (mount("tmpfs", dirs[i], "tmpfs", 0, "mode=0755") < 0)
                        return -errno;
        }
        return 0;
}

static int journald_start(void) {
        struct stat st;
        uint64_t deadline;

        journald = fork();
        if (journald < 0)
                return -errno;
        if (journald == 0) {
                int null = open("/dev/null", O_RDWR);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(null, 0), dup2(null, 1), dup2(null, 2);
                execl(JOURNALD, JOURNALD, (char *) NULL);
                _exit(127);
        }
        deadline = now_usec() + 10000000;
        while (stat("/run/systemd/journal/socket", &st) < 0) {
                if (now_usec() > deadline || waitpid(journald, NULL, WNOHANG) == journald)
                        return -ETIMEDOUT;
                sched_yield();
                usleep(10000); /* polling, bounded by the deadline above */
        }
        return 0;
}

static void journald_stop(void) {
        if (journald > 0) {
                kill(journald, SIGCONT); /* a stopped process does not act on SIGTERM */
                kill(journald, SIGTERM);
                waitpid(journald, NULL, 0);
                journald = -1;
        }
}

/* Sum of DROPPED= over every drop report in this journal; waits until it
 * reaches `expected` or 10 s pass. */
static uint64_t reported_drops(uint64_t expected) {
        uint64_t sum = 0;
        size_t want = 1;
        uint64_t deadline = now_usec() + 10000000;

        for (;;) {
                struct jentries es =
                        journal_collect("MESSAGE_ID", TRAIL_MESSAGE_ID_DROPPED, want, 500);
                sum = 0;
                for (size_t i = 0; i < es.n; i++) {
                        const struct jentry *e = &es.e[i];
                        uint64_t total = strtoull(jentry_get(e, "DROPPED", NULL), NULL, 10),
                                 levels = 0;
                        static const char *const names[] = {
                                "DROPPED_EMERGENCY", "DROPPED_ALERT",   "DROPPED_CRITICAL",
                                "DROPPED_ERROR",     "DROPPED_WARNING", "DROPPED_NOTICE",
                                "DROPPED_INFO",      "DROPPED_DEBUG",
                        };
                        for (size_t k = 0; k < 8; k++) {
                                const char *v = jentry_get(e, names[k], NULL);
                                if (v)
                                        levels += strtoull(v, NULL, 10);
                        }
                        assert_int_equal(levels, total);
                        assert_string_equal(jentry_get(e, "PRIORITY", NULL), "4");
                        sum += total;
                }
                want = es.n + 1;
                jentries_free(&es);
                if (sum >= expected || now_usec() > deadline)
                        return sum;
        }
}

struct phase {
        int overflow;
        int records;
        int error_every; /* every so many records is an ERROR: kept, so it waits */
        uint64_t timeout_usec;
};

static void run_phase(const struct phase *p) {
        char run[33], name[32];
        trail_stats st;
        trail_handler *j = trail_handler_journald();
        trail_handler *h = trail_handler_async(j, 64, p->overflow);
        uint64_t worst = 0;
        int status;

        assert_non_null(h);
        trail_handler_unref(j);
        assert_int_equal(trail_handler_async_set_timeout(h, p->timeout_usec), 0);
        snprintf(name, sizeof(name), "stall.p%d", p->overflow);
        trail_logger *lg = trail_get(name);
        assert_int_equal(trail_logger_add_handler(lg, h), 0);
        trail_logger_set_propagate(lg, false);
        test_run_id(run);

        assert_int_equal(kill(journald, SIGSTOP), 0);
        assert_int_equal(waitpid(journald, &status, WUNTRACED), journald);
        assert_true(WIFSTOPPED(status));

        for (int i = 0; i < p->records; i++) {
                bool error = p->error_every && i % p->error_every == p->error_every - 1;
                uint64_t t0 = now_usec(), d;
                trail_log_with(lg, error ? TRAIL_ERROR : TRAIL_INFO,
                               TRAIL_FIELDS(TRAIL_STR("STALL_RUN", run), TRAIL_INT("SEQ", i)),
                               "stalled record %d", i);
                d = now_usec() - t0;
                if (d > worst)
                        worst = d;
        }
        /* No call waited longer than the timeout (plus scheduling slack). */
        print_message("overflow %d: %d records, slowest call %" PRIu64 " us\n", p->overflow,
                      p->records, worst);
        assert_true(worst <= p->timeout_usec + MARGIN_USEC);

        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, p->records);
        assert_true(st.dropped > 0); /* journald was stopped: the queue overflowed */
        assert_true(st.queue_high_water >= 60);
        if (p->overflow == TRAIL_OVERFLOW_BLOCK)
                assert_true(worst >= p->timeout_usec); /* it did wait */

        assert_int_equal(kill(journald, SIGCONT), 0);
        assert_int_equal(trail_flush(), 0);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, p->records);
        assert_int_equal(st.failed, 0);
        assert_int_equal(st.delivered + st.dropped, p->records); /* exact */
        dropped_so_far += st.dropped;

        /* Everything not counted as dropped arrived, in order, with the
         * call's time. */
        struct jentries es = journal_collect("STALL_RUN", run, st.delivered, 30000);
        assert_int_equal(es.n, st.delivered);
        long last = -1;
        for (size_t i = 0; i < es.n; i++) {
                long seq = atol(jentry_get(&es.e[i], "SEQ", NULL));
                assert_true(seq > last);
                last = seq;
                const char *ts = jentry_get(&es.e[i], "SYSLOG_TIMESTAMP", NULL);
                assert_non_null(ts);
                assert_int_equal(strlen(ts), strlen("2024-01-01T00:00:00.000000+00:00"));
        }
        jentries_free(&es);

        assert_int_equal(reported_drops(dropped_so_far), dropped_so_far);

        trail_logger_remove_handler(lg, h);
        trail_handler_unref(h);
}

static void drop_new_keeps_callers_moving_and_counts_exactly(void **state) {
        (void) state;
        run_phase(&(struct phase){TRAIL_OVERFLOW_DROP_NEW, 3000, 1000, 100000});
}

static void drop_old_keeps_callers_moving_and_counts_exactly(void **state) {
        (void) state;
        run_phase(&(struct phase){TRAIL_OVERFLOW_DROP_OLD, 3000, 1000, 100000});
}

static void block_waits_at_most_the_timeout(void **state) {
        (void) state;
        run_phase(&(struct phase){TRAIL_OVERFLOW_BLOCK, 120, 0, 20000});
}

/* A phase that failed while journald was stopped must not leave it so: the
 * next phase would wait forever for a stop that was already reported. */
static int resume_journald(void **state) {
        (void) state;
        if (journald > 0)
                (void) kill(journald, SIGCONT);
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(drop_new_keeps_callers_moving_and_counts_exactly,
                                          resume_journald),
                cmocka_unit_test_teardown(drop_old_keeps_callers_moving_and_counts_exactly,
                                          resume_journald),
                cmocka_unit_test_teardown(block_waits_at_most_the_timeout, resume_journald),
        };
        int r;

        if (access(JOURNALD, X_OK) < 0) {
                fprintf(stderr, JOURNALD " not found: skipped\n");
                return 77;
        }
        if (unshare(CLONE_NEWNS) < 0) {
                fprintf(stderr, "unshare(CLONE_NEWNS): %m: skipped (needs root)\n");
                return 77;
        }
        if ((r = private_journal_dirs()) < 0) {
                fprintf(stderr, "cannot mount private journal directories: %s\n", strerror(-r));
                return 1;
        }
        if ((r = journald_start()) < 0) {
                fprintf(stderr, "own journald did not start: %s\n", strerror(-r));
                journald_stop();
                return 1;
        }
        setvbuf(stdout, NULL, _IONBF, 0);
        r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        journald_stop();
        return r;
}
