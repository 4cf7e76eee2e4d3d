/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* journald's own forwarding keeps trail's fields: trail logs to the local
 * journald, systemd-journal-upload sends the journal from just before the
 * record to a private systemd-journal-remote over HTTP on loopback, which
 * writes a journal file in a temp dir; every field of the local entry is
 * in the remote one, byte for byte (typed values, BYTES with NUL,
 * multiline values, 100 KiB, TRACE_ID/SPAN_ID); and rsyslog's imjournal
 * reading the local journal. The collector sides are
 * tests/conf/journal-remote.sh and tests/conf/rsyslog-imjournal.conf,
 * shown in trail-fleet(7). */
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
#include <json-c/json.h>

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

static bool file_has(const char *path, const char *needle, char **ret) {
        FILE *f = fopen(path, "re");
        char *line = NULL;
        size_t len = 0;
        bool found = false;

        while (f && !found && getline(&line, &len, f) > 0)
                found = strstr(line, needle) != NULL;
        if (f)
                fclose(f);
        if (found && ret)
                *ret = line;
        else
                free(line);
        return found;
}

/* rsyslog's imjournal (tests/conf/rsyslog-imjournal.conf) reads the local
 * journal and sees trail's fields as JSON properties: typed values, a
 * multiline value, 100 KiB, TRACE_ID/SPAN_ID; BYTES with a NUL arrive with
 * a space for the NUL. */
static void imjournal_sees_every_field(void **state) {
        (void) state;
        char run[33], dir[] = "/tmp/trail-imjournal-XXXXXX", cmd[1024], out[96], probe[48];
        char *big = big_value(100 * 1024, "0123456789abcdef\n"), *line = NULL;

        if (access("/usr/sbin/rsyslogd", X_OK) < 0) {
                fprintf(stderr, "rsyslogd is not installed: skipped\n");
                exit(77);
        }
        assert_non_null(mkdtemp(dir));
        snprintf(cmd, sizeof(cmd),
                 "sed s,@DIR@,%s,g %s/rsyslog-imjournal.conf >%s/rsyslog.conf && "
                 "/usr/sbin/rsyslogd -f %s/rsyslog.conf -i %s/rsyslogd.pid",
                 dir, TEST_CONF_DIR, dir, dir, dir);
        assert_int_equal(system(cmd), 0);
        snprintf(out, sizeof(out), "%s/out.json", dir);
        trail_handler *h = trail_handler_journald();
        trail_logger *lg = logger_with("fleet.imjournal", h);
        test_run_id(run);
        /* imjournal starts at the journal's end once it runs: probe until a
         * record arrives */
        snprintf(probe, sizeof(probe), "probe-%s", run);
        bool up = false;
        for (int i = 0; i < 200 && !up; i++) {
                trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("PROBE", probe)), "probe");
                up = file_has(out, probe, NULL);
                if (!up)
                        usleep(50 * 1000);
        }
        if (!up) {
                snprintf(cmd, sizeof(cmd), "kill $(cat %s/rsyslogd.pid)", dir);
                (void) !system(cmd);
                fail_msg("imjournal wrote no record in 10 s");
        }

        int tok = trail_context_push_traceparent(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assert_true(tok >= 0);
        trail_warning_with(lg,
                           TRAIL_FIELDS(TRAIL_STR("RUN", run), TRAIL_INT("N", -42),
                                        TRAIL_DOUBLE("D", 0.125), TRAIL_BOOL("B", true),
                                        TRAIL_STR("MULTI", "one\ntwo \"q\" \\ \xc3\xa9"),
                                        TRAIL_STR("BIG", big), TRAIL_BYTES("BIN", "a\0b", 3)),
                           "via imjournal");
        trail_context_pop(tok);
        char needle[64];
        snprintf(needle, sizeof(needle), "\"RUN\": \"%s\"", run);
        for (int i = 0; i < 200 && !file_has(out, needle, &line); i++)
                usleep(50 * 1000);
        snprintf(cmd, sizeof(cmd), "kill $(cat %s/rsyslogd.pid)", dir);
        (void) !system(cmd);
        assert_non_null(line);
        json_object *o = json_tokener_parse(line), *v;
        if (getenv("TRAIL_DEBUG_IMJ"))
                fprintf(stderr, "%s\n", line);
        assert_non_null(o);
#define GET(k) (json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL)
        assert_string_equal(GET("RUN"), run);
        assert_string_equal(GET("N"), "-42");
        assert_string_equal(GET("D"), "0.125");
        assert_string_equal(GET("B"), "true");
        assert_string_equal(GET("MULTI"), "one\ntwo \"q\" \\ \xc3\xa9");
        assert_string_equal(GET("BIG"), big);
        assert_string_equal(GET("TRACE_ID"), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_string_equal(GET("SPAN_ID"), "00f067aa0ba902b7");
        assert_string_equal(GET("LOGGER"), "fleet.imjournal");
        assert_string_equal(GET("MESSAGE"), "via imjournal");
        assert_string_equal(GET("PRIORITY"), "4");
        /* what imjournal makes of a NUL: a space (trail-fleet(7) says so) */
        assert_string_equal(GET("BIN"), "a b");
#undef GET
        json_object_put(o);
        free(line);
        free(big);
        logger_without(lg, h);
        usleep(200 * 1000);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        (void) !system(cmd);
}

int main(void) {
        require_journald();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_field_survives_upload_to_remote),
                cmocka_unit_test(imjournal_sees_every_field),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
