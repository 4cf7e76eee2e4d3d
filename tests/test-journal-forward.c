/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* journald's own forwarding keeps trail's fields: trail logs to the local
 * journald, systemd-journal-upload sends the journal from just before the
 * record to a private systemd-journal-remote over HTTP on loopback, which
 * writes a journal file in a temp dir; every field of the local entry is
 * in the remote one, byte for byte (typed values, BYTES with NUL,
 * multiline values, 100 KiB, TRACE_ID/SPAN_ID). The collector side is
 * tests/conf/journal-remote.sh, shown in trail-fleet(7). */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "rsyslog-util.h"
#include "test-util.h"
#include "trail.h"

#define REMOTE "/lib/systemd/systemd-journal-remote"
#define UPLOAD "/lib/systemd/systemd-journal-upload"

static void tail_cursor(char **ret) {
        sd_journal *j;
        assert_int_equal(sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY), 0);
        assert_int_equal(sd_journal_seek_tail(j), 0);
        assert_true(sd_journal_previous(j) > 0);
        assert_int_equal(sd_journal_get_cursor(j, ret), 0);
        sd_journal_close(j);
}

static void every_field_survives_upload_to_remote(void **state) {
        (void) state;
        char run[33], dir[] = "/tmp/trail-jremote-XXXXXX", cmd[1024], *cursor = NULL;
        static const char bytes[] = {'a', 0, 'b', 0, '\xff', 'c'};
        char *big = big_value(100 * 1024, "0123456789abcdef\n");

        if (access(REMOTE, X_OK) < 0 || access(UPLOAD, X_OK) < 0) {
                fprintf(stderr, "systemd-journal-remote is not installed: skipped\n");
                exit(77);
        }
        assert_non_null(mkdtemp(dir));
        tail_cursor(&cursor);
        test_run_id(run);
        trail_handler *h = trail_handler_journald();
        trail_logger *lg = logger_with("fwd", h);
        int tok = trail_context_push_traceparent(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assert_true(tok >= 0);
        trail_warning_with(lg,
                           TRAIL_FIELDS(TRAIL_STR("RUN", run), TRAIL_INT("N", -42),
                                        TRAIL_UINT("U", 18446744073709551615ULL),
                                        TRAIL_DOUBLE("D", 0.125), TRAIL_BOOL("B", true),
                                        TRAIL_BYTES("BIN", bytes, sizeof(bytes)),
                                        TRAIL_STR("MULTI", "one\ntwo\n\nfour \xc3\xa9"),
                                        TRAIL_STR("BIG", big)),
                           "forwarded\nsecond line");
        trail_context_pop(tok);
        assert_int_equal(trail_flush(), 0);
        struct jentries local = journal_collect("RUN", run, 1, 10000);
        assert_int_equal(local.n, 1);

        /* the collector (tests/conf/journal-remote.sh), then the uploader */
        int port = test_free_port(SOCK_STREAM);
        snprintf(cmd, sizeof(cmd),
                 "sh %s/journal-remote.sh %s %d >%s/remote.log 2>&1 & echo $! >%s/remote.pid",
                 TEST_CONF_DIR, dir, port, dir, dir);
        assert_int_equal(system(cmd), 0);
        bool up = false;
        for (int i = 0; i < 200 && !up; i++) {
                struct sockaddr_in sa = {.sin_family = AF_INET,
                                         .sin_port = htons((uint16_t) port),
                                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                up = fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
                if (fd >= 0)
                        close(fd);
                if (!up)
                        usleep(50 * 1000);
        }
        assert_true(up);
        snprintf(cmd, sizeof(cmd),
                 "timeout 60 " UPLOAD " --url=http://127.0.0.1:%d --after-cursor='%s' "
                 "--follow=no --save-state=%s/upload.state >%s/upload.log 2>&1",
                 port, cursor, dir, dir);
        int k = system(cmd);
        snprintf(cmd, sizeof(cmd), "kill $(cat %s/remote.pid); sleep 0.5; cat %s/upload.log", dir,
                 dir);
        (void) !system(cmd);
        assert_int_equal(k, 0);

        char path[96];
        snprintf(path, sizeof(path), "%s/remote.journal", dir);
        struct jentries remote = journal_read_file(path, "RUN", run);
        assert_int_equal(remote.n, 1);
        /* every field of the local entry, byte for byte */
        for (size_t i = 0; i < local.e[0].n; i++) {
                const struct jfield *f = &local.e[0].f[i];
                size_t len;
                const char *v = jentry_get(&remote.e[0], f->name, &len);
                if (!v || len != f->len || memcmp(v, f->value, len) != 0)
                        fail_msg("%s differs in the remote journal", f->name);
        }
        size_t len;
        assert_non_null(jentry_get(&remote.e[0], "BIN", &len));
        assert_int_equal(len, sizeof(bytes));
        assert_memory_equal(jentry_get(&remote.e[0], "BIN", NULL), bytes, sizeof(bytes));
        assert_non_null(jentry_get(&remote.e[0], "BIG", &len));
        assert_int_equal(len, 100 * 1024);
        assert_string_equal(jentry_get(&remote.e[0], "TRACE_ID", NULL),
                            "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_string_equal(jentry_get(&remote.e[0], "SPAN_ID", NULL), "00f067aa0ba902b7");
        assert_string_equal(jentry_get(&remote.e[0], "U", NULL), "18446744073709551615");
        assert_string_equal(jentry_get(&remote.e[0], "D", NULL), "0.125");
        assert_string_equal(jentry_get(&remote.e[0], "MESSAGE", NULL), "forwarded\nsecond line");

        jentries_free(&local);
        jentries_free(&remote);
        logger_without(lg, h);
        free(big);
        free(cursor);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        (void) !system(cmd);
}

int main(void) {
        require_journald();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_field_survives_upload_to_remote),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
