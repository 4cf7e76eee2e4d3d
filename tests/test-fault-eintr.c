/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* EINTR everywhere: a timer sends SIGALRM every 50 µs to the logging
 * thread, whose handler is installed without SA_RESTART, so every system
 * call that sleeps (a write into a full pipe, poll, a futex wait) returns
 * EINTR, and many that do not are interrupted too. Logging to journald, to
 * a TCP syslog receiver (a private rsyslogd), to a pipe read by a thread,
 * and through an async handler, every record arrives exactly once, and the
 * counts are exact. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "rsyslog-util.h"
#include "test-util.h"
#include "trail.h"

enum { N = 2000 };

static struct rsyslog rs;
RSYSLOG_GROUP_FIXTURES(rs, false)

/* Only the logging thread takes SIGALRM (the others start with it
 * blocked), but the count is read by the test after the storm: atomic. */
static unsigned signals;

static void on_alarm(int sig) {
        (void) sig;
        __atomic_add_fetch(&signals, 1, __ATOMIC_RELAXED);
}

struct pipe_reader {
        int fd;
        char run[33];
        long seq[N + 16];
        size_t n, garbage, reads, pipe_size;
};

/* Lines are written whole (at most PIPE_BUF bytes, so atomically): a pipe
 * with less room than a line makes the writer sleep in write(). */
enum { LINE_MAX_BYTES = 256 };

/* Whether it is time to read: the pipe has no room for another line, or
 * nothing came since the last look (the writer waits, for room if a line
 * is longer than we thought, or for its next record), or the write end is
 * closed. */
static bool pipe_ready(const struct pipe_reader *p, int *last_avail) {
        struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
        int avail = 0, last = *last_avail;

        if (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLHUP))
                return true;
        if (ioctl(p->fd, FIONREAD, &avail) < 0)
                return true; /* the read says why */
        *last_avail = avail;
        return (size_t) avail + LINE_MAX_BYTES > p->pipe_size || (avail > 0 && avail == last);
}

/* Reads the pipe when it is full, so that the writer sleeps in write()
 * before most reads however fast or slow either thread runs (on a busy
 * machine as many reads as on a quiet one, however long a pause lasts),
 * and keeps the SEQ of every line of the run. The thread starts with every
 * signal blocked (see the caller): they are for the logging thread. */
static void *read_pipe(void *arg) {
        struct pipe_reader *p = arg;
        char buf[65536], line[4096];
        size_t len = 0;
        ssize_t k;
        int avail = -1;

        for (;;) {
                while (!pipe_ready(p, &avail))
                        usleep(1000);
                avail = -1;
                k = read(p->fd, buf, sizeof(buf));
                if (k == 0)
                        break;
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                p->reads++;
                for (ssize_t i = 0; i < k; i++) {
                        if (buf[i] != '\n') {
                                if (len < sizeof(line) - 1)
                                        line[len++] = buf[i];
                                continue;
                        }
                        line[len] = '\0';
                        const char *s = strstr(line, " SEQ=");
                        if (strstr(line, p->run) && s && p->n < N + 16)
                                p->seq[p->n++] = strtol(s + 5, NULL, 10);
                        else
                                p->garbage++;
                        len = 0;
                }
        }
        return NULL;
}

static void assert_stats(trail_handler *h, uint64_t records, uint64_t delivered) {
        trail_stats st;
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, records);
        assert_int_equal(st.delivered, delivered);
        assert_int_equal(st.failed, 0);
        assert_int_equal(st.lost, 0);
        assert_int_equal(st.dropped, 0);
}

static void assert_journal_run(const char *run) {
        struct jentries es = journal_collect("RUN", run, N, 30000);
        assert_int_equal(es.n, N);
        for (size_t i = 0; i < es.n; i++)
                assert_int_equal(atol(jentry_get(&es.e[i], "SEQ", NULL)), (long) i);
        jentries_free(&es);
}

static void every_record_arrives_once_under_a_signal_storm(void **state) {
        (void) state;
        char run_j[33], run_t[33], run_a[33], target[64];
        struct pipe_reader pr = {0};
        int pfd[2];
        pthread_t th;

        test_run_id(run_j);
        test_run_id(run_t);
        test_run_id(run_a);
        test_run_id(pr.run);

        /* What is proved is that no record is lost or repeated, not how long
         * a call waits: the waits are generous. The machine's journald,
         * shared with every other test, can take seconds to read its socket
         * on a busy machine (7 s seen; a minute while another program forked
         * without pause), longer than the default timeout. */
        trail_handler *hj = trail_handler_journald();
        assert_int_equal(trail_handler_set(hj, "timeout", "60s"), 0);
        snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", rs.tcp_port);
        trail_handler *ht = trail_handler_syslog(target);
        assert_non_null(ht);
        assert_int_equal(trail_handler_set(ht, "timeout", "60s"), 0);
        assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
        int pipe_size = fcntl(pfd[1], F_SETPIPE_SZ, 4096); /* fills at once */
        assert_true(pipe_size > 0);
        pr.pipe_size = (size_t) pipe_size;
        trail_handler *hp = trail_handler_stream(pfd[1], "text");
        /* exactness, not the bound: the reader waits for a full pipe */
        assert_int_equal(trail_handler_set(hp, "timeout", "60s"), 0);
        trail_handler *aj = trail_handler_journald();
        assert_int_equal(trail_handler_set(aj, "timeout", "60s"), 0);
        trail_handler *ha = trail_handler_async(aj, 256, TRAIL_OVERFLOW_BLOCK);
        trail_handler_unref(aj);
        assert_non_null(ha);
        assert_int_equal(trail_handler_async_set_timeout(ha, 60000000), 0);
        trail_logger *lj = logger_with("fault.eintr.journald", hj);
        trail_logger *lt = logger_with("fault.eintr.tcp", ht);
        trail_logger *lp = logger_with("fault.eintr.pipe", hp);
        trail_logger *la = logger_with("fault.eintr.async", ha);

        /* the reader inherits a mask that blocks every signal: were it to
         * block them itself, a signal could reach it before it did */
        sigset_t all, saved;
        sigfillset(&all);
        assert_int_equal(pthread_sigmask(SIG_SETMASK, &all, &saved), 0);
        pr.fd = pfd[0];
        assert_int_equal(pthread_create(&th, NULL, read_pipe, &pr), 0);
        assert_int_equal(pthread_sigmask(SIG_SETMASK, &saved, NULL), 0);

        struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
        sigemptyset(&sa.sa_mask);
        assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
        struct itimerval it = {{0, 50}, {0, 50}};
        assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);

        for (int i = 0; i < N; i++) {
                trail_fields f = TRAIL_FIELDS(TRAIL_STR("RUN", run_j), TRAIL_INT("SEQ", i));
                assert_int_equal(trail_info_with(lj, f, "storm %d", i), 0);
                f = TRAIL_FIELDS(TRAIL_STR("RUN", run_t), TRAIL_INT("SEQ", i));
                assert_int_equal(trail_info_with(lt, f, "storm %d", i), 0);
                f = TRAIL_FIELDS(TRAIL_STR("RUN", pr.run), TRAIL_INT("SEQ", i));
                assert_int_equal(trail_info_with(lp, f, "storm %d", i), 0);
                f = TRAIL_FIELDS(TRAIL_STR("RUN", run_a), TRAIL_INT("SEQ", i));
                assert_int_equal(trail_info_with(la, f, "storm %d", i), 0);
        }
        assert_int_equal(trail_flush(), 0); /* waits in futex and poll: interrupted too */

        memset(&it, 0, sizeof(it));
        assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
        unsigned n_signals = __atomic_load_n(&signals, __ATOMIC_RELAXED);
        print_message("%u signals while logging\n", n_signals);
        assert_true(n_signals > 500);

        close(pfd[1]);
        pthread_join(th, NULL);
        close(pfd[0]);
        print_message("the pipe was read %zu times\n", pr.reads);

        assert_stats(hj, N, N);
        assert_stats(ht, N, N);
        assert_stats(hp, N, N);
        assert_stats(ha, N, N);

        assert_int_equal(pr.n, N);
        assert_int_equal(pr.garbage, 0);
        for (size_t i = 0; i < pr.n; i++)
                assert_int_equal(pr.seq[i], (long) i);
        assert_journal_run(run_j);
        assert_journal_run(run_a);
        json_object **m = NULL;
        size_t n = rsyslog_collect(&rs, run_t, N, 30000, &m);
        assert_int_equal(n, N);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(atol(rs_param(m[i], "SEQ")), (long) i);
        rsyslog_messages_free(m, n);

        logger_without(lj, hj);
        logger_without(lt, ht);
        logger_without(lp, hp);
        logger_without(la, ha);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_record_arrives_once_under_a_signal_storm),
        };

        require_journald();
        setvbuf(stdout, NULL, _IONBF, 0);
        int r = cmocka_run_group_tests(tests, group_setup, group_teardown);
        trail_shutdown();
        return r;
}
