/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resources running out: no file descriptor left (EMFILE), and a full disk
 * (ENOSPC) under a stream handler, on /dev/full and on a tiny tmpfs of the
 * test's own (a private mount namespace). Handlers fail cleanly, count every
 * record exactly, never hang or crash, and recover when the resource is
 * back. Needs root for the tmpfs; exits 77 without. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "journal-util.h"
#include "rsyslog-util.h"
#include "test-util.h"
#include "trail.h"

static struct rsyslog rs;
RSYSLOG_GROUP_FIXTURES(rs, false)

static char tiny[] = "/tmp/trail-fault-tiny-XXXXXX";

/* ---- EMFILE --------------------------------------------------------------- */

static int spare[1024];
static size_t n_spare;

/* Takes every free descriptor below a lowered limit. */
static void exhaust_fds(void) {
        struct rlimit rl;
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
        rl.rlim_cur = 256;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
        for (int fd; (fd = dup(STDIN_FILENO)) >= 0;) {
                assert_true(n_spare < 1024);
                spare[n_spare++] = fd;
        }
        assert_int_equal(errno, EMFILE);
}

static void release_fds(void) {
        while (n_spare > 0)
                close(spare[--n_spare]);
}

/* With no descriptor to spare: handlers are still made (they connect on
 * their first record); journald and UDP records fall back to stderr,
 * counted as failed; TCP records wait in the buffer; EMFILE is reported
 * once per handler. With descriptors back, everything resumes, the TCP
 * records arrive in order, and nothing was lost. */
static void no_file_descriptors_left(void **state) {
        (void) state;
        char run_j[33], run_t[33], run_u[33], target[64];
        off_t err_start = stderr_offset();

        test_run_id(run_j);
        test_run_id(run_t);
        test_run_id(run_u);
        exhaust_fds();

        trail_handler *hj = trail_handler_journald();
        snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", rs.tcp_port);
        trail_handler *ht = trail_handler_syslog(target);
        snprintf(target, sizeof(target), "udp://127.0.0.1:%d", rs.udp_port);
        trail_handler *hu = trail_handler_syslog(target);
        trail_handler *inner = trail_handler_journald();
        trail_handler *ha = trail_handler_async(inner, 64, TRAIL_OVERFLOW_BLOCK);
        assert_non_null(hj);
        assert_non_null(ht);
        assert_non_null(hu);
        assert_non_null(ha);
        trail_handler_unref(inner);
        assert_int_equal(trail_handler_set(ht, "timeout", "100ms"), 0);
        trail_logger *lj = logger_with("fault.emfile.journald", hj);
        trail_logger *lt = logger_with("fault.emfile.tcp", ht);
        trail_logger *lu = logger_with("fault.emfile.udp", hu);

        log_numbered(lj, run_j, 0, 20);
        log_numbered(lt, run_t, 0, 20);
        log_numbered(lu, run_u, 0, 20);
        assert_handler_stats(hj, 20, 0, 20, 0);
        assert_handler_stats(ht, 20, 0, 0, 0); /* held */
        assert_handler_stats(hu, 20, 0, 20, 0);
        assert_int_equal(trail_flush(), -EMFILE);
        const char *err = stderr_from(err_start);
        assert_int_equal(count_substr(err, run_j), 20);
        assert_int_equal(count_substr(err, run_u), 20);
        assert_int_equal(count_substr(err, "(Too many open files)"), 3); /* once per handler */
        release_fds();

        /* descriptors are back */
        log_numbered(lj, run_j, 20, 5);
        log_numbered(lt, run_t, 20, 5);
        log_numbered(lu, run_u, 20, 5);
        assert_int_equal(trail_flush(), 0);
        assert_handler_stats(hj, 25, 5, 20, 0);
        assert_handler_stats(ht, 25, 25, 0, 0);
        assert_handler_stats(hu, 25, 5, 20, 0);

        struct jentries es = journal_collect("RUN", run_j, 5, 10000);
        assert_int_equal(es.n, 5);
        for (size_t i = 0; i < es.n; i++)
                assert_int_equal(atol(jentry_get(&es.e[i], "SEQ", NULL)), 20 + (long) i);
        jentries_free(&es);
        json_object **m = NULL;
        size_t n = rsyslog_collect(&rs, run_t, 25, 15000, &m);
        assert_int_equal(n, 25);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(atol(rs_param(m[i], "SEQ")), (long) i);
        rsyslog_messages_free(m, n);
        n = rsyslog_collect(&rs, run_u, 5, 15000, &m);
        assert_int_equal(n, 5);
        rsyslog_messages_free(m, n);

        /* an async handler's worker starts with the first record: with no
         * descriptor free it still starts (threads need none) */
        exhaust_fds();
        trail_logger *la = logger_with("fault.emfile.async", ha);
        char run_a[33];
        test_run_id(run_a);
        log_numbered(la, run_a, 0, 10);
        release_fds();
        assert_int_equal(trail_flush(), 0);
        trail_stats st;
        assert_int_equal(trail_handler_get_stats(ha, &st), 0);
        assert_int_equal(st.records, 10);
        assert_int_equal(st.delivered + st.failed, 10);
        assert_int_equal(st.dropped, 0);

        logger_without(lj, hj);
        logger_without(lt, ht);
        logger_without(lu, hu);
        logger_without(la, ha);
}

/* ---- ENOSPC --------------------------------------------------------------- */

/* /dev/full: every write fails with ENOSPC. Each record is counted failed
 * and lost, at once, and the program goes on. */
static void dev_full_counts_every_record_lost(void **state) {
        (void) state;
        int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        trail_handler *h = trail_handler_stream(fd, "json");
        trail_logger *lg = logger_with("fault.full.dev", h);
        for (int i = 0; i < 100; i++)
                assert_int_equal(trail_info(lg, "to /dev/full %d", i), 0);
        assert_handler_stats(h, 100, 0, 100, 100);
        logger_without(lg, h);
        close(fd);
}

struct lines {
        long seq[4096];
        size_t n, broken;
};

/* The JSON lines of path that carry RUN=run (their SEQ), and the number of
 * lines that are not whole JSON objects. */
static void read_json_lines(const char *path, const char *run, struct lines *l) {
        FILE *f = fopen(path, "re");
        char *line = NULL;
        size_t len = 0;

        memset(l, 0, sizeof(*l));
        assert_non_null(f);
        while (getline(&line, &len, f) > 0) {
                json_object *o = json_tokener_parse(line), *v;
                if (!o) {
                        l->broken++;
                        continue;
                }
                if (json_object_object_get_ex(o, "RUN", &v) &&
                    strcmp(json_object_get_string(v), run) == 0 &&
                    json_object_object_get_ex(o, "SEQ", &v) && l->n < 4096)
                        l->seq[l->n++] = json_object_get_int64(v);
                json_object_put(o);
        }
        free(line);
        fclose(f);
}

/* A log file on a tiny tmpfs fills up: records that do not fit are counted
 * failed and lost, one write each, no hang; the file holds exactly the
 * delivered ones, whole and in order. When space is freed, logging
 * resumes, and the next record is whole even though the last failed write
 * left part of a line behind. */
static void full_tmpfs_counts_losses_and_recovers(void **state) {
        (void) state;
        char path[128], filler[128], run[33];
        struct lines l;
        trail_stats st;

        snprintf(path, sizeof(path), "%s/log.json", tiny);
        snprintf(filler, sizeof(filler), "%s/filler", tiny);
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        /* half the filesystem taken by another file, freed later */
        int ff = open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        char block[4096];
        memset(block, 'x', sizeof(block));
        for (int i = 0; i < 8; i++)
                assert_int_equal(write(ff, block, sizeof(block)), (ssize_t) sizeof(block));
        close(ff);

        trail_handler *h = trail_handler_stream(fd, "json");
        trail_logger *lg = logger_with("fault.full.tmpfs", h);
        test_run_id(run);
        int total = 0;
        do {
                log_numbered(lg, run, total, 10);
                total += 10;
                assert_int_equal(trail_handler_get_stats(h, &st), 0);
        } while (st.lost == 0 && total < 4000);
        assert_true(st.lost > 0);
        log_numbered(lg, run, total, 50); /* all of these fail */
        total += 50;
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        uint64_t delivered = st.delivered;
        print_message("tmpfs full after %" PRIu64 " records; %" PRIu64 " lost\n", delivered,
                      st.lost);
        assert_handler_stats(h, (uint64_t) total, delivered, (uint64_t) total - delivered,
                             (uint64_t) total - delivered);

        read_json_lines(path, run, &l);
        assert_int_equal(l.n, delivered);
        for (size_t i = 0; i < l.n; i++)
                assert_int_equal(l.seq[i], (long) i);

        /* space again */
        assert_int_equal(unlink(filler), 0);
        log_numbered(lg, run, total, 10);
        assert_handler_stats(h, (uint64_t) total + 10, delivered + 10, (uint64_t) total - delivered,
                             (uint64_t) total - delivered);
        read_json_lines(path, run, &l);
        assert_int_equal(l.n, delivered + 10);
        for (size_t i = 0; i < 10; i++)
                assert_int_equal(l.seq[delivered + i], total + (long) i);
        assert_true(l.broken <= 1); /* at most the one line cut short */

        logger_without(lg, h);
        close(fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(no_file_descriptors_left),
                cmocka_unit_test(dev_full_counts_every_record_lost),
                cmocka_unit_test(full_tmpfs_counts_losses_and_recovers),
        };

        int r;

        require_journald();
        if ((r = private_mount_namespace()) != 0)
                return r;
        /* 64 KiB: 16 pages, half of them taken by the filler */
        if (!mkdtemp(tiny) || mount("tmpfs", tiny, "tmpfs", 0, "size=64k,mode=0700") < 0) {
                fprintf(stderr, "cannot mount a tiny tmpfs: %m\n");
                return 1;
        }

        /* fallbacks go to fd 2: capture it, keep cmocka's output */
        stderr_capture();

        r = cmocka_run_group_tests(tests, group_setup, group_teardown);

        trail_shutdown();
        stderr_restore(r != 0);
        umount(tiny);
        rmdir(tiny);
        return r;
}
