/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* No logging call waits longer than its handler's timeout, fallbacks
 * included: journald's socket full (a fake journald that never reads, in a
 * private mount namespace), the local syslog socket full, and stderr a full
 * pipe or socket nobody reads, as a service's stderr is when journald
 * stalls. Each case runs in a child of its own with an alarm, so that a
 * call that hangs is a failure, not a hung test. Needs root; exits 77
 * without. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "test-util.h"
#include "trail.h"

#define TIMEOUT_USEC         1000000ULL
#define DEFAULT_TIMEOUT_USEC 5000000ULL /* the default handler's: not settable */
#define SLACK_USEC           1000000ULL
#define N_RECORDS            3

/* ---- The stalled world ---------------------------------------------------- */

/* A datagram socket bound at path whose queue is full, and that nobody
 * reads: a journald (or syslog daemon) that stopped. */
static void full_dgram_socket_at(const char *path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), c;

        CHECK(s >= 0);
        strcpy(sa.sun_path, path);
        CHECK(bind(s, (struct sockaddr *) &sa, sizeof(sa)) == 0);
        c = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        CHECK(c >= 0);
        CHECK(connect(c, (struct sockaddr *) &sa, sizeof(sa)) == 0);
        while (send(c, "x", 1, MSG_DONTWAIT) == 1)
                ;
        CHECK(errno == EAGAIN);
        /* s and c stay open, unread, for the child's life */
}

/* A private mount namespace where journald's socket (unless no_journald:
 * then there is none), and with devlog /dev/log, are full sockets nobody
 * reads. */
static bool no_journald;
static void stalled_namespace(bool devlog) {
        if (unshare(CLONE_NEWNS) < 0) {
                printf("unshare(CLONE_NEWNS): %m: skipped (needs root)\n");
                _exit(77);
        }
        CHECK(mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0);
        (void) mkdir("/run/systemd", 0755);
        (void) mkdir("/run/systemd/journal", 0755);
        CHECK(mount("tmpfs", "/run/systemd/journal", "tmpfs", 0, "mode=0755") == 0);
        if (!no_journald)
                full_dgram_socket_at("/run/systemd/journal/socket");
        if (devlog) {
                /* a /dev of the namespace's own: nothing is created in the real one */
                CHECK(mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") == 0);
                full_dgram_socket_at("/dev/log");
        }
}

/* Fills a descriptor without waiting: pipes in whole pages, so that each
 * buffer slot is full and reading one page frees exactly one slot. */
static void fill(int fd, bool is_socket) {
        static const char page[4096];
        ssize_t k;

        do
                k = is_socket ? send(fd, page, sizeof(page), MSG_DONTWAIT)
                              : write(fd, page, sizeof(page));
        while (k > 0);
        CHECK(errno == EAGAIN);
        do
                k = is_socket ? send(fd, page, 1, MSG_DONTWAIT) : write(fd, page, 1);
        while (k > 0);
        CHECK(errno == EAGAIN);
}

/* A blocking pipe, full; its write end in *ret_w, the unread end returned. */
static int full_pipe(int *ret_w) {
        int p[2];

        CHECK(pipe2(p, O_CLOEXEC) == 0);
        CHECK(fcntl(p[1], F_SETFL, O_NONBLOCK) == 0);
        fill(p[1], false);
        CHECK(fcntl(p[1], F_SETFL, 0) == 0); /* the program's: blocking */
        *ret_w = p[1];
        return p[0];
}

/* A blocking stream socket, full; its peer, never read, returned. */
static int full_socket(int *ret_w) {
        int sv[2];

        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        fill(sv[0], true);
        *ret_w = sv[0];
        return sv[1];
}

static void stderr_onto(int fd) {
        CHECK(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
}

/* ---- Timing and counting -------------------------------------------------- */

static trail_logger *logger_alone(const char *name, trail_handler *h) {
        trail_logger *lg = trail_get(name);
        CHECK(lg);
        CHECK(h);
        CHECK(trail_logger_add_handler(lg, h) == 0);
        CHECK(trail_logger_set_propagate(lg, false) == 0);
        return lg;
}

/* The slowest of n calls, in microseconds. */
static uint64_t worst_call(trail_logger *lg, int n, const char *value) {
        uint64_t worst = 0;

        for (int i = 0; i < n; i++) {
                uint64_t t0 = now_usec(), d;
                trail_error_with(lg, TRAIL_FIELDS(TRAIL_STR("BIG", value ? value : "no")),
                                 "record %d", i);
                d = now_usec() - t0;
                printf("call %d: %llu us\n", i, (unsigned long long) d);
                if (d > worst)
                        worst = d;
        }
        return worst;
}

static void check_stats(const trail_stats *st, uint64_t records, uint64_t delivered,
                        uint64_t failed, uint64_t lost) {
        printf("records %llu delivered %llu failed %llu lost %llu\n",
               (unsigned long long) st->records, (unsigned long long) st->delivered,
               (unsigned long long) st->failed, (unsigned long long) st->lost);
        CHECK(st->records == records);
        CHECK(st->delivered == delivered);
        CHECK(st->failed == failed);
        CHECK(st->lost == lost);
}

static void check_handler_stats(trail_handler *h, uint64_t records, uint64_t delivered,
                                uint64_t failed, uint64_t lost) {
        trail_stats st;
        CHECK(trail_handler_get_stats(h, &st) == 0);
        check_stats(&st, records, delivered, failed, lost);
}

/* ---- Cases, each run in a child ------------------------------------------- */

enum stderr_kind { STDERR_PIPE, STDERR_SOCKET };

static void journald_case(trail_handler *h, bool devlog, enum stderr_kind kind) {
        int w, flags;

        stalled_namespace(devlog);
        (void) (kind == STDERR_PIPE ? full_pipe(&w) : full_socket(&w));
        stderr_onto(w);
        flags = fcntl(STDERR_FILENO, F_GETFL);
        CHECK(trail_handler_set(h, "timeout", "1s") == 0);
        trail_logger *lg = logger_alone("bounded", h);
        CHECK(worst_call(lg, N_RECORDS, NULL) <= TIMEOUT_USEC + SLACK_USEC);
        /* journald failed, and the fallbacks too: every record lost, counted */
        check_handler_stats(h, N_RECORDS, 0, N_RECORDS, N_RECORDS);
        CHECK(fcntl(STDERR_FILENO, F_GETFL) == flags);
}

static void journald_handler_stderr_pipe(void) {
        journald_case(trail_handler_journald(), false, STDERR_PIPE);
}

static void journald_handler_stderr_socket(void) {
        journald_case(trail_handler_journald(), false, STDERR_SOCKET);
}

static void auto_handler_local_syslog_and_stderr_full(void) {
        journald_case(trail_handler_auto(), true, STDERR_PIPE);
}

static void auto_handler_no_journald_local_syslog_and_stderr_full(void) {
        no_journald = true;
        journald_case(trail_handler_auto(), true, STDERR_PIPE);
}

static void default_handler_local_syslog_and_stderr_full(void) {
        trail_stats st;
        int w, flags;

        stalled_namespace(true);
        full_pipe(&w);
        stderr_onto(w);
        flags = fcntl(STDERR_FILENO, F_GETFL);
        trail_logger *lg = trail_get("bounded.default"); /* no handler anywhere */
        CHECK(lg);
        CHECK(worst_call(lg, N_RECORDS, NULL) <= DEFAULT_TIMEOUT_USEC + SLACK_USEC);
        CHECK(trail_get_stats(&st) == 0);
        check_stats(&st, N_RECORDS, 0, N_RECORDS, N_RECORDS);
        CHECK(fcntl(STDERR_FILENO, F_GETFL) == flags);
}

static void stream_case(enum stderr_kind kind) {
        int w, flags, k;

        (void) (kind == STDERR_PIPE ? full_pipe(&w) : full_socket(&w));
        flags = fcntl(w, F_GETFL);
        trail_handler *h = trail_handler_stream(w, "text");
        CHECK(h);
        /* checked after the calls: without the option, they show the hang */
        k = trail_handler_set(h, "timeout", "1s");
        trail_logger *lg = logger_alone("bounded.stream", h);
        CHECK(worst_call(lg, N_RECORDS, NULL) <= TIMEOUT_USEC + SLACK_USEC);
        CHECK(k == 0);
        check_handler_stats(h, N_RECORDS, 0, N_RECORDS, N_RECORDS);
        CHECK(fcntl(w, F_GETFL) == flags);
}

static void stream_handler_pipe(void) {
        stream_case(STDERR_PIPE);
}

static void stream_handler_socket(void) {
        stream_case(STDERR_SOCKET);
}

/* A pipe with room for one page, and a record of three: the first page goes
 * out, the call ends at its timeout, the record is counted as lost, and once
 * the reader drains the pipe the next line starts on a line of its own. */
static void stream_handler_cut_line(void) {
        static char buf[1 << 20];
        int w, r = full_pipe(&w);
        size_t n = 0;
        ssize_t k;
        char *big = big_value(3 * 4096, "0123456789");

        trail_handler *h = trail_handler_stream(w, "text");
        CHECK(h);
        k = trail_handler_set(h, "timeout", "1s");
        trail_logger *lg = logger_alone("bounded.cut", h);
        CHECK(read(r, buf, 4096) == 4096); /* one slot free */
        CHECK(worst_call(lg, 1, big) <= TIMEOUT_USEC + SLACK_USEC);
        CHECK(k == 0);
        check_handler_stats(h, 1, 0, 1, 1);

        CHECK(fcntl(r, F_SETFL, O_NONBLOCK) == 0);
        while ((k = read(r, buf, sizeof(buf))) > 0)
                n += (size_t) k;
        CHECK(n > 4096 && buf[n - 1] != '\n'); /* the cut line, not ended */
        trail_error(lg, "after the cut");
        check_handler_stats(h, 2, 1, 1, 1);
        k = read(r, buf, sizeof(buf) - 1);
        CHECK(k > 0);
        buf[k] = '\0';
        CHECK(buf[0] == '\n' && buf[k - 1] == '\n');
        CHECK(strstr(buf, " ERROR bounded.cut: after the cut\n"));
        CHECK(count_substr(buf, "\n") == 2);
        free(big);
}

/* ---- The runner ------------------------------------------------------------ */

/* Runs fn in a child that an alarm ends after limit seconds. */
static void in_child(void (*fn)(void), unsigned limit) {
        int status;
        pid_t pid;

        fflush(stdout);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                alarm(limit);
                fn();
                fflush(stdout);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
                skip();
        if (WIFSIGNALED(status))
                printf("the child was killed by signal %d (SIGALRM: a call hung)\n",
                       WTERMSIG(status));
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void journald_handler_with_stderr_a_full_pipe_waits_at_most_its_timeout(void **state) {
        (void) state;
        in_child(journald_handler_stderr_pipe, 10);
}

static void journald_handler_with_stderr_a_full_socket_waits_at_most_its_timeout(void **state) {
        (void) state;
        in_child(journald_handler_stderr_socket, 10);
}

static void auto_handler_with_every_step_full_waits_at_most_its_timeout(void **state) {
        (void) state;
        in_child(auto_handler_local_syslog_and_stderr_full, 10);
}

static void auto_handler_without_journald_waits_at_most_its_timeout(void **state) {
        (void) state;
        in_child(auto_handler_no_journald_local_syslog_and_stderr_full, 10);
}

static void default_handler_with_every_step_full_waits_at_most_its_timeout(void **state) {
        (void) state;
        in_child(default_handler_local_syslog_and_stderr_full, 15);
}

static void stream_handler_on_a_full_pipe_waits_at_most_its_timeout(void **state) {
        (void) state;
        in_child(stream_handler_pipe, 10);
}

static void stream_handler_on_a_full_socket_waits_at_most_its_timeout(void **state) {
        (void) state;
        in_child(stream_handler_socket, 10);
}

static void stream_handler_cut_by_its_timeout_mends_the_next_line(void **state) {
        (void) state;
        in_child(stream_handler_cut_line, 10);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(
                        journald_handler_with_stderr_a_full_pipe_waits_at_most_its_timeout),
                cmocka_unit_test(
                        journald_handler_with_stderr_a_full_socket_waits_at_most_its_timeout),
                cmocka_unit_test(auto_handler_with_every_step_full_waits_at_most_its_timeout),
                cmocka_unit_test(auto_handler_without_journald_waits_at_most_its_timeout),
                cmocka_unit_test(default_handler_with_every_step_full_waits_at_most_its_timeout),
                cmocka_unit_test(stream_handler_on_a_full_pipe_waits_at_most_its_timeout),
                cmocka_unit_test(stream_handler_on_a_full_socket_waits_at_most_its_timeout),
                cmocka_unit_test(stream_handler_cut_by_its_timeout_mends_the_next_line),
        };
        setvbuf(stdout, NULL, _IONBF, 0);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
