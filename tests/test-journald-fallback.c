/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* journald absent or refusing: the record goes to stderr, the failure is
 * counted and reported once, and delivery resumes when journald is back.
 * The test hides the socket in a private mount namespace, so the journald
 * other tests use is untouched. Needs root (CAP_SYS_ADMIN); exits 77 without.
 * A journald that dies while connected is test-fault-journald's. */
#include <errno.h>
#include <fcntl.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "test-util.h"
#include "trail.h"

#define JDIR "/run/systemd/journal"
static char saved_dir[] = "/tmp/trail-journal-XXXXXX";

static void dead_socket_at(const char *path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
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
        trail_handler *h = trail_handler_journald();
        trail_logger *lg = logger_with("fallback", h);

        test_run_id(id);
        off_t err_start = stderr_offset();

        /* 1: no socket at all (sd_journal_sendv() would return 0 here). */
        assert_int_equal(trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("FB_ID", id)), "first %d", 1),
                         0);
        trail_handler_get_stats(h, &st);
        assert_int_equal(st.records, 1);
        assert_int_equal(st.delivered, 0);
        assert_int_equal(st.failed, 1);
        assert_int_equal(st.lost, 0);
        assert_non_null(strstr(stderr_from(err_start), " INFO fallback: first 1 FB_ID="));

        /* 2: a socket nobody listens on. */
        dead_socket_at(JDIR "/socket");
        trail_error_with(lg, TRAIL_FIELDS(TRAIL_STR("FB_ID", id)), "second");
        trail_handler_get_stats(h, &st);
        assert_int_equal(st.failed, 2);
        assert_non_null(strstr(stderr_from(err_start), " ERROR fallback: second FB_ID="));
        assert_int_equal(
                count_substr(stderr_from(err_start), "trail: journald did not take a record"), 1);

        /* 3: journald is back: delivery resumes, nothing more on stderr. */
        unlink(JDIR "/socket");
        char real[64];
        snprintf(real, sizeof(real), "%s/socket", saved_dir);
        close(open(JDIR "/socket", O_CREAT | O_WRONLY, 0600));
        assert_int_equal(mount(real, JDIR "/socket", "none", MS_BIND, NULL), 0);
        off_t before = stderr_offset();
        trail_notice_with(lg, TRAIL_FIELDS(TRAIL_STR("FB_ID", id)), "third");
        trail_handler_get_stats(h, &st);
        assert_int_equal(st.delivered, 1);
        assert_int_equal(st.failed, 2);
        assert_int_equal(stderr_offset(), before);

        /* 4: the path hidden again while the same journald runs: the handler
         * is connected and does not look at the path per record, so the
         * record still reaches the journald it is connected to. */
        umount(JDIR "/socket");
        unlink(JDIR "/socket");
        trail_notice_with(lg, TRAIL_FIELDS(TRAIL_STR("FB_ID", id)), "fourth");
        trail_handler_get_stats(h, &st);
        assert_int_equal(st.delivered, 2);
        assert_int_equal(st.failed, 2);
        assert_int_equal(stderr_offset(), before);

        struct jentries es = journal_collect("FB_ID", id, 2, 10000);
        assert_int_equal(es.n, 2);
        assert_string_equal(jentry_get(&es.e[0], "MESSAGE", NULL), "third");
        assert_string_equal(jentry_get(&es.e[1], "MESSAGE", NULL), "fourth");
        jentries_free(&es);

        logger_without(lg, h);
}

static void auto_handler_uses_stderr_quietly_without_journald(void **state) {
        (void) state;
        trail_stats st;
        trail_handler *h = trail_handler_auto();
        trail_logger *lg = logger_with("fallback.auto", h);
        off_t err_start = stderr_offset();

        trail_warning(lg, "no journald here");
        trail_handler_get_stats(h, &st);
        assert_int_equal(st.delivered, 1);
        assert_int_equal(st.failed, 0);
        assert_non_null(
                strstr(stderr_from(err_start), " WARNING fallback.auto: no journald here\n"));
        assert_null(strstr(stderr_from(err_start), "trail: journald"));
        logger_without(lg, h);
}

/* Without journald, the auto handler writes RFC 3164 to /dev/log when a
 * local syslog daemon listens there. A tmpfs over /dev in this namespace
 * holds the test's own socket. */
static void auto_handler_uses_local_syslog_without_journald(void **state) {
        (void) state;
        struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
        char buf[2048], id[33];
        int fd;

        assert_int_equal(mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755"), 0);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);

        trail_handler *h = trail_handler_auto();
        trail_logger *lg = logger_with("fallback.local", h);
        test_run_id(id);
        off_t before = stderr_offset();
        trail_warning_with(lg, TRAIL_FIELDS(TRAIL_STR("FB_ID", id)), "to syslog");

        ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        assert_true(n > 0);
        buf[n] = '\0';
        char want[96];
        snprintf(want, sizeof(want), "]: to syslog FB_ID=%s", id);
        assert_true(strncmp(buf, "<28>", 4) == 0); /* daemon.warning */
        assert_non_null(strstr(buf, want));
        assert_int_equal(stderr_offset(), before); /* nothing on stderr */

        logger_without(lg, h);
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

        int r;

        require_journald();
        if ((r = private_mount_namespace()) != 0)
                return r;
        if (!mkdtemp(saved_dir) || mount(JDIR, saved_dir, "none", MS_BIND, NULL) < 0 ||
            mount("tmpfs", JDIR, "tmpfs", 0, "mode=0755") < 0) {
                fprintf(stderr, "cannot hide the journal socket: %m\n");
                return 1;
        }

        /* The records' fallback goes to fd 2: capture it, keep cmocka's output. */
        stderr_capture();

        r = cmocka_run_group_tests(tests, NULL, NULL);

        stderr_restore(true);
        umount(JDIR);
        umount(saved_dir);
        rmdir(saved_dir);
        trail_shutdown();
        return r;
}
