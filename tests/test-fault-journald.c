/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Faults of journald itself, on a journald of the test's own (a private
 * mount namespace, tests/private-journald.h): killed mid-stream, the records
 * after the kill fall back and are counted, none silently lost; stopped, a
 * synchronous handler waits at most its timeout, and an async one never
 * blocks its callers and delivers after SIGCONT. Every count is exact, and
 * each record is found where the counts say it went. Needs root. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "private-journald.h"
#include "test-util.h"
#include "trail.h"

#define MARGIN_USEC 1000000 /* scheduling slack on a busy 2-core machine */

static char saved_dev[] = "/tmp/trail-fault-dev-XXXXXX";

/* The SEQ= values of the text lines on stderr since start that carry
 * RUN=run, in order. */
static size_t stderr_seqs(off_t start, const char *run, long *out, size_t max) {
        char want[64];
        size_t n = 0;

        snprintf(want, sizeof(want), "RUN=%s", run);
        for (const char *l = stderr_from(start); *l;) {
                const char *end = strchr(l, '\n');
                size_t len = end ? (size_t) (end - l) : strlen(l);
                const char *r = memmem(l, len, want, strlen(want));
                const char *s = memmem(l, len, " SEQ=", 5);
                if (r && s && n < max)
                        out[n++] = strtol(s + 5, NULL, 10);
                l += len + (end != NULL);
        }
        return n;
}

static void log_seq(trail_logger *lg, const char *run, long first, long n) {
        for (long i = first; i < first + n; i++)
                assert_int_equal(
                        trail_info_with(lg,
                                        TRAIL_FIELDS(TRAIL_STR("RUN", run), TRAIL_INT("SEQ", i)),
                                        "record %ld", i),
                        0);
}

/* seq holds exactly first, first+1, … first+n-1. */
static void assert_run(const long *seq, size_t n_seq, long first, size_t n) {
        assert_int_equal(n_seq, n);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(seq[i], first + (long) i);
}

/* Every datagram received on /dev/log, kept by a reader thread: the
 * socket's own queue holds only net.unix.max_dgram_qlen of them. */
static int devlog_fd = -1;
static char *devlog_got[1024];
static size_t devlog_n, devlog_taken;
static pthread_mutex_t devlog_lock = PTHREAD_MUTEX_INITIALIZER;

static void *devlog_reader(void *arg) {
        (void) arg;
        char buf[4096];
        ssize_t k;

        while ((k = recv(devlog_fd, buf, sizeof(buf) - 1, 0)) >= 0) {
                buf[k] = '\0';
                pthread_mutex_lock(&devlog_lock);
                if (devlog_n < 1024)
                        devlog_got[devlog_n++] = strdup(buf);
                pthread_mutex_unlock(&devlog_lock);
        }
        return NULL;
}

static size_t devlog_count(const char *want) {
        size_t n = 0;

        pthread_mutex_lock(&devlog_lock);
        for (size_t i = devlog_taken; i < devlog_n; i++)
                n += strstr(devlog_got[i], want) != NULL;
        pthread_mutex_unlock(&devlog_lock);
        return n;
}

/* The SEQ= of every datagram received on /dev/log since the last call that
 * carries RUN=run, once expect of them have come (up to 30 s: the reader
 * thread may be slow to run on a busy machine), or 100 ms when none are
 * expected. */
static size_t devlog_seqs(const char *run, size_t expect, long *out, size_t max) {
        uint64_t give_up = pj_now_usec() + 30000000;
        char want[64];
        size_t n = 0;

        snprintf(want, sizeof(want), "RUN=%s", run);
        if (expect == 0)
                usleep(100000);
        while (devlog_count(want) < expect && pj_now_usec() < give_up)
                usleep(10000);
        pthread_mutex_lock(&devlog_lock);
        for (; devlog_taken < devlog_n; devlog_taken++) {
                const char *s = strstr(devlog_got[devlog_taken], " SEQ=");
                if (strstr(devlog_got[devlog_taken], want) && s && n < max)
                        out[n++] = strtol(s + 5, NULL, 10);
        }
        pthread_mutex_unlock(&devlog_lock);
        return n;
}

/* A receiver on /dev/log: a tmpfs over /dev in this namespace, with the
 * device nodes journald and the tests need bound back in. */
static void devlog_start(void) {
        static const char *const nodes[] = {"null", "zero", "full", "urandom"};
        struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
        char from[96], to[96];

        assert_non_null(mkdtemp(saved_dev));
        assert_int_equal(mount("/dev", saved_dev, "none", MS_BIND, NULL), 0);
        assert_int_equal(mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755"), 0);
        for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
                snprintf(from, sizeof(from), "%s/%s", saved_dev, nodes[i]);
                snprintf(to, sizeof(to), "/dev/%s", nodes[i]);
                close(open(to, O_CREAT | O_WRONLY | O_CLOEXEC, 0666));
                assert_int_equal(mount(from, to, "none", MS_BIND, NULL), 0);
        }
        devlog_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(devlog_fd >= 0);
        assert_int_equal(bind(devlog_fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, devlog_reader, NULL), 0);
        pthread_detach(th);
}

/* journald is SIGKILLed between two records of a stream: it had taken every
 * record before (they are in its journal), and every record after goes to
 * the next step of the chain: stderr for the journald handler, the local
 * syslog on /dev/log for the auto handler. Counted as failed, never lost,
 * never twice. A new journald gets the records again. */
static void killed_journald_records_fall_back_and_are_counted(void **state) {
        (void) state;
        char run_j[33], run_a[33];
        long seq[256], *jseq = NULL;
        size_t n;
        trail_stats before, after;

        trail_handler *hj = trail_handler_journald(), *ha = trail_handler_auto();
        trail_logger *lj = logger_with("fault.kill.journald", hj);
        trail_logger *la = logger_with("fault.kill.auto", ha);
        test_run_id(run_j);
        test_run_id(run_a);
        off_t err_start = stderr_offset();
        assert_int_equal(trail_get_stats(&before), 0);

        /* 1: journald takes everything */
        log_seq(lj, run_j, 0, 40);
        log_seq(la, run_a, 0, 40);
        assert_handler_stats(hj, 40, 40, 0, 0);
        assert_handler_stats(ha, 40, 40, 0, 0);
        /* everything sent has been read and written before the kill */
        n = pj_collect("RUN", run_j, "SEQ", 40, 10000, &jseq);
        assert_run(jseq, n, 0, 40);
        free(jseq);
        n = pj_collect("RUN", run_a, "SEQ", 40, 10000, &jseq);
        assert_run(jseq, n, 0, 40);
        free(jseq);

        /* 2: killed; its socket stays, nobody reads it */
        pj_kill();
        log_seq(lj, run_j, 40, 60);
        log_seq(la, run_a, 40, 60);
        assert_handler_stats(hj, 100, 40, 60, 0);
        assert_handler_stats(ha, 100, 40, 60, 0);
        n = stderr_seqs(err_start, run_j, seq, 256);
        assert_run(seq, n, 40, 60);
        /* the auto handler used /dev/log */
        assert_int_equal(stderr_seqs(err_start, run_a, seq, 256), 0);
        n = devlog_seqs(run_a, 60, seq, 256);
        assert_run(seq, n, 40, 60);
        /* each handler reported the failure once */
        assert_int_equal(
                count_substr(stderr_from(err_start), "trail: journald did not take a record"), 2);

        /* 3: a new journald: delivery resumes */
        assert_int_equal(pj_start(), 0);
        log_seq(lj, run_j, 100, 20);
        log_seq(la, run_a, 100, 20);
        assert_handler_stats(hj, 120, 60, 60, 0);
        assert_handler_stats(ha, 120, 60, 60, 0);
        assert_int_equal(stderr_seqs(err_start, run_j, seq, 256), 60); /* nothing more on stderr */
        assert_int_equal(devlog_seqs(run_a, 0, seq, 256), 0);
        for (int h = 0; h < 2; h++) {
                n = pj_collect("RUN", h ? run_a : run_j, "SEQ", 60, 10000, &jseq);
                assert_int_equal(n, 60);
                for (size_t i = 0; i < n; i++)
                        assert_int_equal(jseq[i], i < 40 ? (long) i : (long) i + 60);
                free(jseq);
        }

        /* the process-wide counters moved by exactly these */
        assert_int_equal(trail_get_stats(&after), 0);
        assert_int_equal(after.records - before.records, 240);
        assert_int_equal(after.delivered - before.delivered, 120);
        assert_int_equal(after.failed - before.failed, 120);
        assert_int_equal(after.lost - before.lost, 0);

        logger_without(lj, hj);
        logger_without(la, ha);
}

struct sync_run {
        trail_logger *lg;
        const char *run;
        int n;
        uint64_t timeout_usec, worst_usec, total_usec;
        int waited; /* calls that took 90% of the timeout or more */
        bool done;
};

static void *sync_logger(void *arg) {
        struct sync_run *s = arg;
        uint64_t start = pj_now_usec();

        for (int i = 0; i < s->n; i++) {
                uint64_t t0 = pj_now_usec(), d;
                trail_info_with(s->lg, TRAIL_FIELDS(TRAIL_STR("RUN", s->run), TRAIL_INT("SEQ", i)),
                                "stopped %d", i);
                d = pj_now_usec() - t0;
                if (d > s->worst_usec)
                        s->worst_usec = d;
                s->waited += d >= s->timeout_usec / 10 * 9;
        }
        s->total_usec = pj_now_usec() - start;
        __atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
        return NULL;
}

/* journald SIGSTOPped: its socket queue fills, and a synchronous handler
 * waits at most its "timeout" for room, once: after a timeout, records go
 * to stderr at once until journald takes one again. Each record is in the
 * journal or on stderr, exactly once, as counted. */
static void stopped_journald_sync_handler_waits_at_most_its_timeout(void **state) {
        (void) state;
        enum { N = 300, TIMEOUT_USEC = 1000000 };
        char run[33];
        long seq[N + 16], *jseq = NULL;
        pthread_t th;

        trail_handler *h = trail_handler_journald();
        assert_int_equal(trail_handler_set(h, "timeout", "1s"), 0);
        assert_int_equal(trail_handler_set(h, "timeout", "0"), -EINVAL);
        trail_logger *lg = logger_with("fault.stop.sync", h);
        test_run_id(run);
        off_t err_start = stderr_offset();

        pj_pause();
        struct sync_run s = {.lg = lg, .run = run, .n = N, .timeout_usec = TIMEOUT_USEC};
        assert_int_equal(pthread_create(&th, NULL, sync_logger, &s), 0);
        /* a logger that never returns would hang the test: give up after 30 s,
         * and let journald go so that the thread can finish */
        uint64_t deadline = pj_now_usec() + 30000000;
        while (!__atomic_load_n(&s.done, __ATOMIC_ACQUIRE) && pj_now_usec() < deadline)
                usleep(10000);
        bool finished = __atomic_load_n(&s.done, __ATOMIC_ACQUIRE);
        pj_resume();
        pthread_join(th, NULL);
        print_message("sync, journald stopped: %d records in %" PRIu64 " us, slowest %" PRIu64
                      " us, %d waited\n",
                      N, s.total_usec, s.worst_usec, s.waited);
        assert_true(finished);
        assert_true(s.worst_usec <= TIMEOUT_USEC + MARGIN_USEC);
        assert_true(s.worst_usec >= TIMEOUT_USEC); /* it did wait */
        /* once: journald never took one again (a call that does not wait
         * takes milliseconds even on a busy machine, far from 0.9 s) */
        assert_int_equal(s.waited, 1);

        trail_stats st;
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, N);
        assert_int_equal(st.lost, 0);
        assert_int_equal(st.delivered + st.failed, N);
        assert_true(st.delivered > 0 && st.delivered < 100); /* the socket queue's worth */
        assert_int_equal(
                count_substr(stderr_from(err_start),
                             "trail: journald did not take a record (Connection timed out)"),
                1);

        /* journald reads again: the queued ones are in the journal, the
         * others on stderr, each once, together every record */
        size_t nj = pj_collect("RUN", run, "SEQ", st.delivered, 10000, &jseq);
        size_t ne = stderr_seqs(err_start, run, seq, N + 16);
        assert_int_equal(nj, st.delivered);
        assert_int_equal(ne, st.failed);
        /* the queue's records came first, in order */
        assert_run(jseq, nj, 0, nj);
        assert_run(seq, ne, (long) nj, ne);
        free(jseq);

        /* and the stall is over: the next records go to journald again */
        s = (struct sync_run){.lg = lg, .run = run, .n = 10};
        sync_logger(&s);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.delivered, nj + 10);
        assert_int_equal(st.failed, N - nj);

        logger_without(lg, h);
}

/* journald SIGSTOPped behind an async handler: no call blocks beyond the
 * async timeout, drops are counted, and after SIGCONT every record not
 * dropped is in the journal, in order, plus one record telling the drops. */
static void stopped_journald_async_handler_never_blocks(void **state) {
        (void) state;
        enum { N = 2000, TIMEOUT_USEC = 50000 };
        char run[33];
        long *jseq = NULL;
        uint64_t worst = 0;

        trail_handler *j = trail_handler_journald();
        trail_handler *h = trail_handler_async(j, 64, TRAIL_OVERFLOW_DROP_NEW);
        assert_non_null(h);
        trail_handler_unref(j);
        assert_int_equal(trail_handler_async_set_timeout(h, TIMEOUT_USEC), 0);
        trail_logger *lg = logger_with("fault.stop.async", h);
        test_run_id(run);

        pj_pause();
        for (int i = 0; i < N; i++) {
                uint64_t t0 = pj_now_usec(), d;
                /* every 500th is an ERROR, which waits for room rather than
                 * being dropped, up to the timeout */
                trail_log_with(lg, i % 500 == 499 ? TRAIL_ERROR : TRAIL_INFO,
                               TRAIL_FIELDS(TRAIL_STR("RUN", run), TRAIL_INT("SEQ", i)), "async %d",
                               i);
                d = pj_now_usec() - t0;
                if (d > worst)
                        worst = d;
        }
        print_message("async, journald stopped: slowest call %" PRIu64 " us\n", worst);
        assert_true(worst <= TIMEOUT_USEC + MARGIN_USEC);

        trail_stats st;
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, N);
        assert_true(st.dropped > N / 2);
        assert_int_equal(st.failed, 0);

        pj_resume();
        assert_int_equal(trail_flush(), 0);
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, N);
        assert_int_equal(st.failed, 0);
        assert_int_equal(st.lost, 0);
        assert_int_equal(st.delivered + st.dropped, N);

        size_t n = pj_collect("RUN", run, "SEQ", st.delivered, 15000, &jseq);
        assert_int_equal(n, st.delivered);
        for (size_t i = 1; i < n; i++)
                assert_true(jseq[i] > jseq[i - 1]);
        free(jseq);

        /* the drop report: DROPPED= is the exact count */
        char want[32];
        snprintf(want, sizeof(want), "%" PRIu64, st.dropped);
        long *dseq = NULL;
        n = pj_collect("DROPPED", want, "DROPPED", 1, 10000, &dseq);
        assert_int_equal(n, 1);
        free(dseq);

        logger_without(lg, h);
}

/* An entry larger than any datagram (the socket's send buffer is at most
 * net.core.wmem_max) goes in a sealed memfd, and arrives whole. */
static void entry_larger_than_a_datagram_arrives_by_memfd(void **state) {
        (void) state;
        size_t n = 6 * 1024 * 1024;
        char run[33], *big = malloc(n + 1);
        long *jseq = NULL;

        assert_non_null(big);
        for (size_t i = 0; i < n; i++)
                big[i] = (char) ('a' + i % 26);
        big[n] = '\0';
        big[1000] = '\n'; /* the length-prefixed form, too */
        trail_handler *h = trail_handler_journald();
        trail_logger *lg = logger_with("fault.big", h);
        test_run_id(run);
        assert_int_equal(trail_info_with(lg,
                                         TRAIL_FIELDS(TRAIL_STR("RUN", run), TRAIL_INT("SEQ", 7),
                                                      TRAIL_STR("HUGE", big)),
                                         "big"),
                         0);
        assert_handler_stats(h, 1, 1, 0, 0);
        assert_int_equal(pj_collect("RUN", run, "SEQ", 1, 10000, &jseq), 1);
        assert_int_equal(jseq[0], 7);
        free(jseq);

        /* and whole: read HUGE back */
        sd_journal *j = NULL;
        const void *data;
        size_t len;
        char match[64];
        snprintf(match, sizeof(match), "RUN=%s", run);
        assert_int_equal(sd_journal_open_directory(&j, PJ_DIR, 0), 0);
        assert_int_equal(sd_journal_set_data_threshold(j, 0), 0);
        assert_int_equal(sd_journal_add_match(j, match, 0), 0);
        assert_int_equal(sd_journal_next(j), 1);
        assert_int_equal(sd_journal_get_data(j, "HUGE", &data, &len), 0);
        assert_int_equal(len, n + 5);
        assert_memory_equal((const char *) data + 5, big, n);
        sd_journal_close(j);

        free(big);
        logger_without(lg, h);
}

/* Each test starts with a running journald, whatever the one before did. */
static int journald_running(void **state) {
        (void) state;
        pj_resume();
        return pj_pid > 0 ? 0 : pj_start();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(killed_journald_records_fall_back_and_are_counted,
                                       journald_running),
                cmocka_unit_test_setup(stopped_journald_sync_handler_waits_at_most_its_timeout,
                                       journald_running),
                cmocka_unit_test_setup(stopped_journald_async_handler_never_blocks,
                                       journald_running),
                cmocka_unit_test_setup(entry_larger_than_a_datagram_arrives_by_memfd,
                                       journald_running),
        };
        int r = pj_setup();

        if (r != 0) {
                if (r < 0)
                        fprintf(stderr, "private journal directories: %s\n", strerror(-r));
                return r < 0 ? 1 : r;
        }
        devlog_start();
        if ((r = pj_start()) < 0) {
                fprintf(stderr, "own journald did not start: %s\n", strerror(-r));
                pj_stop();
                return 1;
        }

        /* The records' fallback goes to fd 2: capture it, keep cmocka's output. */
        stderr_capture();

        r = cmocka_run_group_tests(tests, NULL, NULL);

        trail_shutdown();
        pj_stop();
        stderr_restore(r != 0);
        return r;
}
