/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* journald absent or refusing: the record goes to stderr, the failure is
 * counted and reported once, and delivery resumes when journald is back.
 * The test hides the socket in a private mount namespace, so the journald
 * other tests use is untouched. Needs root (CAP_SYS_ADMIN); exits 77 without.
 * A journald that dies while connected is test-fault-journald's. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "trail.h"

#define JDIR "/run/systemd/journal"
static char saved_dir[] = "/tmp/trail-journal-XXXXXX";
static int err_fd = -1, real_stderr = -1;

static const char *stderr_text(void) {
        static char buf[65536];
        ssize_t n = pread(err_fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        return buf;
}

static size_t count(const char *hay, const char *needle) {
        size_t c = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                c++;
        return c;
}

static void dead_socket_at(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
        assert_true(fd >= 0);
        strcpy(sa.sun_path, path);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        close(fd); /* the file stays, nobody listens: ECONNREFUSED */
}

static void missing_socket_falls_back_to_stderr(void **state) {
        (void) state;
        char id[33];
        trail_stats st;
        trail_logger *lg = trail_get("fallback");
        trail_handler *h = trail_handler_journald();

        trail_logger_add_handler(lg, h);
        trail_logger_set_propagate(lg, false);
        test_run_id(id);

        /* 1: no socket at all; sd_journal_sendv() alone would return 0 here. */
        assert_int_equal(trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("FB_ID", id)), "first %d", 1), 0);
        trail_handler_get_stats(h, &st);
        assert_int_equal(st.records, 1);
        assert_int_equal(st.delivered, 0);
        assert_int_equal(st.failed, 1);
        assert_int_equal(st.lost, 0);
        assert_non_null(strstr(stderr_text(), " INFO fallback: first 1 FB_ID="));

        /* 2: a socket nobody listens on. */
        dead_socket_at(JDIR "/socket");
        trail_error_with(lg, TRAIL_FIELDS(TRAIL_STR("FB_ID", id)), "second");
        trail_handler_get_stats(h, &st);
        assert_int_equal(st.failed, 2);
        assert_non_null(strstr(stderr_text(), " ERROR fallback: second FB_ID="));
        assert_int_equal(count(stderr_text(), "trail: journald did not take a record"), 1);

        /* 3: journald is back: delivery resumes, nothing more on stderr. */
        unlink(JDIR "/socket");
        char real[64];
        snprintf(real, sizeof(real), "%s/socket", saved_dir);
        close(open(JDIR "/socket", O_CREAT | O_WRONLY, 0600));
        assert_int_equal(mount(real, JDIR "/socket", "none", MS_BIND, NULL), 0);
        size_t before = strlen(stderr_text());
        trail_notice_with(lg, TRAIL_FIELDS(TRAIL_STR("FB_ID", id)), "third");
        trail_handler_get_stats(h, &st);
        assert_int_equal(st.delivered, 1);
        assert_int_equal(st.failed, 2);
        assert_int_equal(strlen(stderr_text()), before);

        /* 4: the path hidden again while the same journald runs: the handler
         * is connected and does not look at the path per record, so the
         * record still reaches the journald it is connected to. */
        umount(JDIR "/socket");
        unlink(JDIR "/socket");
        trail_notice_with(lg, TRAIL_FIELDS(TRAIL_STR("FB_ID", id)), "fourth");
        trail_handler_get_stats(h, &st);
        assert_int_equal(st.delivered, 2);
        assert_int_equal(st.failed, 2);
        assert_int_equal(strlen(stderr_text()), before);

        struct jentries es = journal_collect("FB_ID", id, 2, 10000);
        assert_int_equal(es.n, 2);
        assert_string_equal(jentry_get(&es.e[0], "MESSAGE", NULL), "third");
        assert_string_equal(jentry_get(&es.e[1], "MESSAGE", NULL), "fourth");
        jentries_free(&es);

        trail_logger_remove_handler(lg, h);
        trail_handler_unref(h);
}

static void auto_handler_uses_stderr_quietly_without_journald(void **state) {
        (void) state;
        trail_stats st;
        trail_logger *lg = trail_get("fallback.auto");
        trail_handler *h = trail_handler_auto();

        trail_logger_add_handler(lg, h);
        trail_logger_set_propagate(lg, false);
        assert_int_equal(ftruncate(err_fd, 0), 0);
        assert_int_equal(lseek(err_fd, 0, SEEK_SET), 0);
        trail_warning(lg, "no journald here");
        trail_handler_get_stats(h, &st);
        assert_int_equal(st.delivered, 1);
        assert_int_equal(st.failed, 0);
        assert_non_null(strstr(stderr_text(), " WARNING fallback.auto: no journald here\n"));
        assert_null(strstr(stderr_text(), "trail: journald"));
        trail_logger_remove_handler(lg, h);
        trail_handler_unref(h);
}

/* Without journald, the auto handler writes RFC 3164 to /dev/log when a
 * local syslog daemon listens there. A tmpfs over /dev in this namespace
 * holds the test's own socket. */
static void auto_handler_uses_local_syslog_without_journald(void **state) {
        (void) state;
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
        char buf[2048], id[33];
        int fd;

        assert_int_equal(mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755"), 0);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);

        trail_logger *lg = trail_get("fallback.local");
        trail_handler *h = trail_handler_auto();
        trail_logger_add_handler(lg, h);
        trail_logger_set_propagate(lg, false);
        test_run_id(id);
        size_t before = strlen(stderr_text());
        trail_warning_with(lg, TRAIL_FIELDS(TRAIL_STR("FB_ID", id)), "to syslog");

        ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        assert_true(n > 0);
        buf[n] = '\0';
        char want[96];
        snprintf(want, sizeof(want), "]: to syslog FB_ID=%s", id);
        assert_true(strncmp(buf, "<28>", 4) == 0); /* daemon.warning */
        assert_non_null(strstr(buf, want));
        assert_int_equal(strlen(stderr_text()), before); /* nothing on stderr */

        trail_logger_remove_handler(lg, h);
        trail_handler_unref(h);
        close(fd);
        assert_int_equal(umount("/dev"), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(auto_handler_uses_stderr_quietly_without_journald),
                cmocka_unit_test(auto_handler_uses_local_syslog_without_journald),
                /* last: it connects to the real journald, and a connected
                 * handler keeps sending there, hidden path or not */
                cmocka_unit_test(missing_socket_falls_back_to_stderr),
        };

        require_journald();
        if (unshare(CLONE_NEWNS) < 0) {
                fprintf(stderr, "unshare(CLONE_NEWNS): %m: skipped (needs root)\n");
                return 77;
        }
        if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 || !mkdtemp(saved_dir) ||
            mount(JDIR, saved_dir, "none", MS_BIND, NULL) < 0 ||
            mount("tmpfs", JDIR, "tmpfs", 0, "mode=0755") < 0) {
                fprintf(stderr, "cannot hide the journal socket: %m\n");
                return 1;
        }

        /* The records' fallback goes to fd 2: capture it, keep cmocka's output. */
        err_fd = memfd_create("stderr", 0);
        real_stderr = dup(STDERR_FILENO);
        dup2(err_fd, STDERR_FILENO);
        setvbuf(stdout, NULL, _IONBF, 0);

        int r = cmocka_run_group_tests(tests, NULL, NULL);

        dup2(real_stderr, STDERR_FILENO);
        fputs(stderr_text(), stderr);
        umount(JDIR);
        umount(saved_dir);
        rmdir(saved_dir);
        trail_shutdown();
        return r;
}
