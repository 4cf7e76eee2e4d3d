/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging from a signal handler: a record logged by a handler that
 * interrupted trail on the same thread is refused with -EDEADLK, never
 * deadlocked, the thread's first record (its state being allocated) included.
 * Each logging thread arms a timer of its own that sends it SIGALRM every
 * 50 µs; the handler logs, and pushes and pops a context. Every thread must
 * finish within a generous bound: a deadlock fails the test instead of
 * hanging it. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "trail.h"

enum {
        N_THREADS = 200,
        RECORDS_PER_THREAD = 20,
        GLOBALS_ROUNDS = 20000,
        TICK_NSEC = 50 * 1000,
        BOUND_SEC = 30, /* a thread that takes longer is deadlocked */
};

static trail_logger *lg;
/* what the calls returned: from the signal handler, and from the threads */
static uint64_t sig_ok, sig_refused, sig_bad, thread_bad, emitted;
static int sig_bad_value, thread_bad_value;

static void add(uint64_t *p) {
        __atomic_add_fetch(p, 1, __ATOMIC_RELAXED);
}

static int count_emit(const trail_record *r, void *userdata) {
        (void) r;
        (void) userdata;
        add(&emitted);
        return 0;
}

/* A logging call made by the signal handler: delivered or refused. */
static void note_from_signal(int r) {
        if (r == 0)
                add(&sig_ok);
        else if (r == -EDEADLK)
                add(&sig_refused);
        else {
                __atomic_store_n(&sig_bad_value, r, __ATOMIC_RELAXED);
                add(&sig_bad);
        }
}

/* A call made by the thread itself, which no signal handler interrupted
 * from its own point of view: it must succeed. */
static void note_from_thread(int r) {
        if (r < 0) {
                __atomic_store_n(&thread_bad_value, r, __ATOMIC_RELAXED);
                add(&thread_bad);
        }
}

static void on_alarm(int sig) {
        int saved = errno, token;

        (void) sig;
        note_from_signal(trail_info(lg, "from a signal handler"));
        token = trail_context_push(TRAIL_FIELDS(TRAIL_STR("SIGNAL", "SIGALRM")));
        if (token >= 0) {
                note_from_signal(trail_info(lg, "from a signal handler, in a context"));
                trail_context_pop(token);
        } else
                note_from_signal(token);
        errno = saved;
}

/* A timer that sends SIGALRM to the calling thread every TICK_NSEC, the
 * first one after first_nsec (spread, so that the first signals land all
 * along a thread's first record). */
static timer_t tick_this_thread(long first_nsec) {
        struct sigevent sev = {
                .sigev_notify = SIGEV_THREAD_ID,
                .sigev_signo = SIGALRM,
        };
        struct itimerspec its = {
                .it_value = {0, first_nsec},
                .it_interval = {0, TICK_NSEC},
        };
        timer_t t;

        sev._sigev_un._tid = gettid(); /* sigev_notify_thread_id, which glibc does not name */
        if (timer_create(CLOCK_MONOTONIC, &sev, &t) < 0 || timer_settime(t, 0, &its, NULL) < 0) {
                perror("timer");
                _exit(2);
        }
        return t;
}

static void *fresh_thread(void *arg) {
        long i = (long) (intptr_t) arg;
        /* 1..40 µs: before, during and after the first record */
        timer_t t = tick_this_thread(1000 + (i * 7919) % 40000);

        /* This thread's first call into trail: its state is allocated now. */
        note_from_thread(trail_info(lg, "first record of thread %ld", i));
        for (int k = 0; k < RECORDS_PER_THREAD; k++) {
                int token = trail_context_push(TRAIL_FIELDS(TRAIL_INT("K", k)));
                note_from_thread(token);
                note_from_thread(trail_info(lg, "record %d of thread %ld", k, i));
                trail_context_pop(token);
        }
        timer_delete(t);
        return NULL;
}

static void *globals_thread(void *arg) {
        timer_t t = tick_this_thread(TICK_NSEC);

        (void) arg;
        for (int k = 0; k < GLOBALS_ROUNDS; k++) {
                note_from_thread(trail_set_global_fields(
                        TRAIL_FIELDS(TRAIL_INT("ROUND", k), TRAIL_STR("GLOBAL", "value"))));
                note_from_thread(trail_info(lg, "round %d", k));
        }
        note_from_thread(trail_set_global_fields(TRAIL_NO_FIELDS));
        timer_delete(t);
        return NULL;
}

/* Runs fn in a new thread and waits BOUND_SEC for it. A thread that does not
 * finish is deadlocked: the process exits at once, failing, since whatever
 * it holds (malloc's lock) would hang cmocka too. */
static void run_bounded(void *(*fn)(void *), long i, const char *what) {
        pthread_t th;
        struct timespec deadline;
        int r;

        assert_int_equal(pthread_create(&th, NULL, fn, (void *) (intptr_t) i), 0);
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += BOUND_SEC;
        r = pthread_timedjoin_np(th, NULL, &deadline);
        if (r != 0) {
                fprintf(stderr,
                        "%s %ld did not finish within %d s: deadlocked in a signal handler\n", what,
                        i, BOUND_SEC);
                fflush(stderr);
                _exit(1);
        }
}

static void check_counts(void) {
        trail_stats st;

        if (sig_bad)
                fprintf(stderr, "a signal handler's call returned %d\n", sig_bad_value);
        if (thread_bad)
                fprintf(stderr, "a thread's call returned %d\n", thread_bad_value);
        assert_int_equal(sig_bad, 0);
        assert_int_equal(thread_bad, 0);
        /* The signals did interrupt trail (where a signal lands outside it,
         * its records are delivered: how many do depends on the scheduler). */
        assert_true(sig_refused > 0);
        assert_int_equal(trail_flush(), 0);
        assert_int_equal(trail_get_stats(&st), 0);
        (void) st;
        printf("# from signal handlers: %" PRIu64 " delivered, %" PRIu64 " refused (EDEADLK)\n",
               sig_ok, sig_refused);
}

static int setup(void **state) {
        struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
        trail_handler_vtable vt = {.emit = count_emit};
        trail_handler *h;

        (void) state;
        lg = trail_get("signal");
        h = trail_handler_custom(&vt, NULL);
        if (!lg || !h)
                return -1;
        trail_logger_set_propagate(lg, false);
        trail_logger_set_level(lg, TRAIL_DEBUG);
        if (trail_logger_add_handler(lg, h) < 0)
                return -1;
        trail_handler_unref(h);
        sigemptyset(&sa.sa_mask);
        return sigaction(SIGALRM, &sa, NULL);
}

static void reset_counts(void) {
        sig_ok = sig_refused = sig_bad = thread_bad = emitted = 0;
}

/* Every thread is new, so every first record allocates the thread's state
 * while the signals arrive. */
static void first_records_of_fresh_threads_under_a_signal_storm(void **state) {
        (void) state;
        reset_counts();
        for (long i = 0; i < N_THREADS; i++)
                run_bounded(fresh_thread, i, "thread");
        check_counts();
        /* The custom handler runs in the logging call: every 0 returned is
         * a record emitted, and no other. */
        assert_int_equal(emitted, sig_ok + N_THREADS * (1 + RECORDS_PER_THREAD));
}

/* The global fields' lock, held by trail_set_global_fields() when the signal
 * arrives, is one a record needs. */
static void global_fields_changed_under_a_signal_storm(void **state) {
        (void) state;
        reset_counts();
        run_bounded(globals_thread, 0, "globals thread");
        check_counts();
        assert_int_equal(emitted, sig_ok + GLOBALS_ROUNDS);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(first_records_of_fresh_threads_under_a_signal_storm),
                cmocka_unit_test(global_fields_changed_under_a_signal_storm),
        };
        return cmocka_run_group_tests(tests, setup, NULL);
}
