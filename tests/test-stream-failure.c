/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stream handler that cannot write (a pipe nobody reads any more, a pipe
 * full past the handler's timeout, a closed descriptor) says so once on
 * stderr, counts every record it lost, and a pipe whose reader is gone does
 * not kill the program with SIGPIPE. Each case runs in a child whose fd 2
 * is a file the parent reads afterwards. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "test-util.h"
#include "trail.h"

#define N_RECORDS 3

/* Logs N_RECORDS through h, alone on a logger, and checks they were all
 * counted as lost; takes over the caller's reference. */
static void log_lost(trail_handler *h) {
        trail_logger *lg = trail_get("failing");
        trail_stats st;

        CHECK(trail_logger_add_handler(lg, h) == 0);
        CHECK(trail_logger_set_propagate(lg, false) == 0);
        for (int i = 0; i < N_RECORDS; i++)
                trail_warning_with(lg, TRAIL_FIELDS(TRAIL_INT("SEQ", i)), "record %d", i);
        CHECK(trail_handler_get_stats(h, &st) == 0);
        CHECK(st.records == N_RECORDS);
        CHECK(st.failed == N_RECORDS);
        CHECK(st.lost == N_RECORDS);
        trail_handler_unref(h); /* the logger keeps its own reference */
}

/* A pipe whose reader closed: EPIPE, and no SIGPIPE for the program. */
static void closed_pipe(void) {
        int p[2];

        CHECK(pipe2(p, O_CLOEXEC) == 0);
        close(p[0]);
        log_lost(trail_handler_stream(p[1], "json"));
}

/* A pipe nobody reads, full: each write gives up at the timeout. */
static void full_pipe(void) {
        static const char page[4096];
        int p[2];
        trail_handler *h;

        CHECK(pipe2(p, O_CLOEXEC) == 0);
        CHECK(fcntl(p[1], F_SETFL, O_NONBLOCK) == 0);
        while (write(p[1], page, sizeof(page)) > 0)
                ;
        while (write(p[1], page, 1) > 0)
                ;
        CHECK(errno == EAGAIN);
        CHECK(fcntl(p[1], F_SETFL, 0) == 0);
        h = trail_handler_stream(p[1], "json");
        CHECK(trail_handler_set(h, "timeout", "100ms") == 0);
        log_lost(h);
}

/* A descriptor closed after the handler was made. */
static void closed_fd(void) {
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        trail_handler *h;

        CHECK(fd >= 0);
        h = trail_handler_stream(fd, "text");
        close(fd);
        log_lost(h);
}

/* stderr's own file, opened again read-only: every write fails (EBADF),
 * and a report would go to the same file, so there is none. */
static void stderrs_file_read_only(void) {
        int fd = open("/proc/self/fd/2", O_RDONLY | O_CLOEXEC);

        CHECK(fd >= 0);
        log_lost(trail_handler_stream(fd, "text"));
}

/* Runs f in a child with fd 2 a file; returns what the child wrote there. */
static char *in_child(void (*f)(void)) {
        char path[] = "/tmp/trail-stderr-XXXXXX";
        int fd = mkstemp(path), status;
        pid_t pid;

        assert_true(fd >= 0);
        unlink(path);
        fflush(stdout);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* the default: a program that did not ignore SIGPIPE */
                signal(SIGPIPE, SIG_DFL);
                dup2(fd, STDERR_FILENO);
                f();
                trail_shutdown();
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFSIGNALED(status))
                fail_msg("the child was killed by signal %d", WTERMSIG(status));
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                skip();
        assert_int_equal(WEXITSTATUS(status), 0);

        off_t n = lseek(fd, 0, SEEK_END);
        char *text = calloc(1, (size_t) n + 1);
        assert_non_null(text);
        assert_int_equal(pread(fd, text, (size_t) n, 0), n);
        close(fd);
        return text;
}

/* Exactly one line on stderr, the report, naming why. */
static void assert_reported_once(const char *text, const char *why) {
        char want[256];

        assert_int_equal(count_substr(text, "trail: stream handler on fd "), 1);
        assert_int_equal(count_substr(text, "\n"), 1);
        snprintf(want, sizeof(want),
                 "could not write a record (%s); it and any other it cannot write are counted "
                 "as lost (reported once)\n",
                 why);
        if (!strstr(text, want))
                fail_msg("stderr: %s\nexpected: %s", text, want);
}

static void a_closed_pipe_is_reported_once_without_sigpipe(void **state) {
        (void) state;
        char *text = in_child(closed_pipe);
        assert_reported_once(text, strerror(EPIPE));
        free(text);
}

static void a_full_pipe_is_reported_once(void **state) {
        (void) state;
        char *text = in_child(full_pipe);
        assert_reported_once(text, "nobody read it within the handler's timeout");
        free(text);
}

static void a_closed_descriptor_is_reported_once(void **state) {
        (void) state;
        char *text = in_child(closed_fd);
        assert_reported_once(text, strerror(EBADF));
        free(text);
}

static void a_handler_on_stderrs_own_file_does_not_report(void **state) {
        (void) state;
        char *text = in_child(stderrs_file_read_only);
        assert_string_equal(text, "");
        free(text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(a_closed_pipe_is_reported_once_without_sigpipe),
                cmocka_unit_test(a_full_pipe_is_reported_once),
                cmocka_unit_test(a_closed_descriptor_is_reported_once),
                cmocka_unit_test(a_handler_on_stderrs_own_file_does_not_report),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
