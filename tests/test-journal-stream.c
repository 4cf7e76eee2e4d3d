/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stderr that is journald's stdout stream, as systemd gives a service one
 * ($JOURNAL_STREAM): a stream handler's lines keep their level as PRIORITY
 * in the real journald, and the default configuration, which sends records
 * natively, stores each one once. The stream is made here as systemd makes
 * it: a connection to /run/systemd/journal/stdout and journald's header. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "test-util.h"
#include "trail.h"

#define STDOUT_SOCKET "/run/systemd/journal/stdout"

static char ident[40]; /* unique to each test: the stream's and trail's identifier */

static void new_ident(void) {
        char id[33];

        test_run_id(id);
        snprintf(ident, sizeof(ident), "trail-jstream-%.16s", id);
}

/* A stream to journald as systemd opens one for a service's stderr: the
 * header is the identifier, the unit (none), the default priority (info),
 * level_prefix on, and no forwarding to syslog, kmsg or the console. */
static int journal_stdout_stream(void) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = STDOUT_SOCKET};
        char header[128];
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), n;

        CHECK(fd >= 0);
        CHECK(connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
        CHECK(shutdown(fd, SHUT_RD) == 0);
        n = snprintf(header, sizeof(header), "%s\n\n6\n1\n0\n0\n0\n", ident);
        CHECK(write(fd, header, (size_t) n) == n);
        return fd;
}

/* stderr becomes the stream, and $JOURNAL_STREAM says so, as systemd does. */
static void stderr_to_journal(void) {
        int fd = journal_stdout_stream();
        struct stat st;
        char v[64];

        CHECK(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
        close(fd);
        CHECK(fstat(STDERR_FILENO, &st) == 0);
        snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long) st.st_dev,
                 (unsigned long long) st.st_ino);
        CHECK(setenv("JOURNAL_STREAM", v, 1) == 0);
        CHECK(trail_set_ident(ident) == 0);
}

static void run_in_child(void (*f)(void)) {
        int status;
        pid_t pid;

        fflush(stdout);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                f();
                trail_shutdown();
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* crit .. debug (not emerg or alert: journald would wall them). */
static const int levels[] = {TRAIL_CRITICAL, TRAIL_ERROR, TRAIL_WARNING,
                             TRAIL_NOTICE,   TRAIL_INFO,  TRAIL_DEBUG};
#define N_LEVELS (sizeof(levels) / sizeof(levels[0]))

static void log_levels_to_stderr_stream(void) {
        stderr_to_journal();
        trail_handler *h = trail_handler_stream(STDERR_FILENO, "text");
        trail_logger *lg = trail_get("jstream");

        CHECK(h);
        CHECK(trail_logger_add_handler(lg, h) == 0);
        CHECK(trail_logger_set_propagate(lg, false) == 0);
        CHECK(trail_logger_set_level(lg, TRAIL_DEBUG) == 0);
        for (size_t i = 0; i < N_LEVELS; i++)
                trail_log(lg, levels[i], "at level %d", levels[i]);
        trail_handler_unref(h);
}

static void a_stream_handler_on_the_journal_stream_keeps_each_level(void **state) {
        (void) state;
        new_ident();
        run_in_child(log_levels_to_stderr_stream);

        struct jentries es = journal_collect("SYSLOG_IDENTIFIER", ident, N_LEVELS, 20000);
        assert_int_equal(es.n, N_LEVELS);
        for (size_t i = 0; i < es.n; i++) {
                const struct jentry *e = &es.e[i];
                const char *msg = jentry_get(e, "MESSAGE", NULL);
                char want[8], text[32];

                assert_non_null(msg);
                assert_string_equal(jentry_get(e, "_TRANSPORT", NULL), "stdout");
                /* the line as the text format writes it, without the prefix */
                snprintf(text, sizeof(text), "at level %d", levels[i]);
                if (!strstr(msg, text) || msg[0] == '<')
                        fail_msg("MESSAGE=%s", msg);
                snprintf(want, sizeof(want), "%d", levels[i]);
                assert_string_equal(jentry_get(e, "PRIORITY", NULL), want);
        }
        jentries_free(&es);
}

/* The default configuration (the auto handler: journald's native socket)
 * with stderr the journal stream: each record once, native. A sentinel
 * line written on the stream after the records proves that nothing went
 * that way before it: the stream is stored in order. */
static void log_through_the_default(void) {
        stderr_to_journal();
        trail_logger *lg = trail_get("jstream.default");

        CHECK(trail_logger_set_level(lg, TRAIL_DEBUG) == 0);
        trail_warning(lg, "default warning");
        trail_info(lg, "default info");
        CHECK(trail_flush() == 0);
        static const char sentinel[] = "<5>sentinel\n";
        CHECK(write(STDERR_FILENO, sentinel, sizeof(sentinel) - 1) == sizeof(sentinel) - 1);
}

static void the_default_configuration_stores_each_record_once(void **state) {
        (void) state;
        new_ident();
        run_in_child(log_through_the_default);

        struct jentries es = journal_collect("SYSLOG_IDENTIFIER", ident, 3, 20000);
        size_t native = 0, sentinel = 0;
        assert_int_equal(es.n, 3);
        for (size_t i = 0; i < es.n; i++) {
                const char *transport = jentry_get(&es.e[i], "_TRANSPORT", NULL);
                const char *msg = jentry_get(&es.e[i], "MESSAGE", NULL);
                if (strcmp(transport, "journal") == 0) {
                        native++;
                        assert_non_null(jentry_get(&es.e[i], "LOGGER", NULL));
                } else {
                        assert_string_equal(transport, "stdout");
                        assert_string_equal(msg, "sentinel");
                        sentinel++;
                }
        }
        assert_int_equal(native, 2);
        assert_int_equal(sentinel, 1);
        jentries_free(&es);
}

/* Only the stream $JOURNAL_STREAM names gets the prefix: a pipe does not,
 * nor a socket with another inode. */
static void other_descriptors_get_no_prefix(void **state) {
        (void) state;
        int p[2], sv[2];
        char buf[256];
        ssize_t n;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        struct stat st;
        assert_int_equal(fstat(sv[0], &st), 0);
        snprintf(buf, sizeof(buf), "%llu:%llu", (unsigned long long) st.st_dev,
                 (unsigned long long) st.st_ino + 1);
        setenv("JOURNAL_STREAM", buf, 1);
        trail_handler *hp = trail_handler_stream(p[1], "text");
        trail_handler *hs = trail_handler_stream(sv[0], "text");
        trail_logger *lg = trail_get("jstream.other");
        assert_int_equal(trail_logger_add_handler(lg, hp), 0);
        assert_int_equal(trail_logger_add_handler(lg, hs), 0);
        assert_int_equal(trail_logger_set_propagate(lg, false), 0);
        trail_error(lg, "plain");
        n = read(p[0], buf, sizeof(buf) - 1);
        assert_true(n > 0);
        assert_true(buf[0] != '<');
        n = read(sv[1], buf, sizeof(buf) - 1);
        assert_true(n > 0);
        assert_true(buf[0] != '<');
        unsetenv("JOURNAL_STREAM");
        trail_logger_remove_handler(lg, hp);
        trail_logger_remove_handler(lg, hs);
        trail_handler_unref(hp);
        trail_handler_unref(hs);
        close(p[0]);
        close(p[1]);
        close(sv[0]);
        close(sv[1]);
}

int main(void) {
        struct stat st;

        require_journald();
        if (stat(STDOUT_SOCKET, &st) < 0) {
                printf("no %s: skipped\n", STDOUT_SOCKET);
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(a_stream_handler_on_the_journal_stream_keeps_each_level),
                cmocka_unit_test(the_default_configuration_stores_each_record_once),
                cmocka_unit_test(other_descriptors_get_no_prefix),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
