/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The enabled path allocates nothing per record once a thread is warm: this
 * program interposes malloc and friends (the library's calls resolve to
 * them) and counts. Not built under sanitizers, which own malloc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "trail.h"

#include "alloc-count.h"

static void log_a_batch(trail_logger *lg, const char *id, int n) {
        for (int i = 0; i < n; i++) {
                TRAIL_SCOPE(TRAIL_STR("REQUEST_ID", "3f2b8c1e-0a4d-4e7b-9c61-5d2a7e9f0b13"));
                trail_info_with(lg,
                                TRAIL_FIELDS(TRAIL_INT("USER_ID", 42),
                                             TRAIL_UINT("ORDER_ID", 12345),
                                             TRAIL_STR("NOALLOC_ID", id), TRAIL_DOUBLE("MS", 1.5),
                                             TRAIL_STR("lower", "x")),
                                "order %d placed for customer %d", 12345, 42);
        }
}

static void journald_records_allocate_nothing(void **state) {
        (void) state;
        char id[33];
        trail_logger *lg = trail_get("noalloc.journald");
        trail_handler *h = trail_handler_journald();

        test_run_id(id);
        trail_logger_add_handler(lg, h);
        trail_logger_set_propagate(lg, false);
        trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("SERVICE", "billing")));
        log_a_batch(lg, id, 10); /* warm: thread buffers, the journal socket */

        counting = true;
        log_a_batch(lg, id, 1000);
        counting = false;
        assert_int_equal(allocations, 0);

        struct jentries es = journal_collect("NOALLOC_ID", id, 1010, 10000);
        assert_int_equal(es.n, 1010);
        jentries_free(&es);
        trail_handler_unref(h);
}

static void stream_allocates_nothing(const char *format, const char *logger) {
        int fd = memfd_create("noalloc", 0);
        trail_logger *lg = trail_get(logger);
        trail_handler *h = trail_handler_stream(fd, format);

        assert_non_null(h);
        trail_logger_add_handler(lg, h);
        trail_logger_set_propagate(lg, false);
        log_a_batch(lg, "x", 10);
        allocations = 0;
        counting = true;
        log_a_batch(lg, "x", 1000);
        counting = false;
        assert_int_equal(allocations, 0);
        assert_true(lseek(fd, 0, SEEK_END) > 1000 * 100);
        trail_handler_unref(h);
        close(fd);
}

/* A memory handler: once a thread's ring exists and has been sent once
 * (its first trigger makes the room to rebuild records), holding records,
 * overwriting the oldest and sending them allocate nothing. */
static void memory_handler_holds_without_allocating(void **state) {
        (void) state;
        int fd = memfd_create("noalloc", 0);
        trail_logger *lg = trail_get("noalloc.memory");
        trail_handler *s = trail_handler_stream(fd, "json");
        trail_handler *h = trail_handler_memory(s, 64, TRAIL_ERROR);

        assert_non_null(h);
        trail_handler_unref(s);
        trail_logger_add_handler(lg, h);
        trail_logger_set_propagate(lg, false);
        log_a_batch(lg, "x", 10);
        trail_error(lg, "warm");
        off_t warm = lseek(fd, 0, SEEK_END);
        allocations = 0;
        counting = true;
        log_a_batch(lg, "x", 1000);
        trail_error(lg, "failed");
        counting = false;
        assert_int_equal(allocations, 0);
        trail_stats st;
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.dropped, 1000 - 64);
        assert_int_equal(st.delivered, 10 + 1 + 64 + 1);
        assert_true(lseek(fd, 0, SEEK_END) - warm > 64 * 100);
        trail_logger_remove_handler(lg, h);
        trail_handler_unref(h);
        close(fd);
}

static void stream_records_allocate_nothing(void **state) {
        (void) state;
        stream_allocates_nothing("text", "noalloc.stream");
}

static void json_records_allocate_nothing(void **state) {
        (void) state;
        stream_allocates_nothing("json", "noalloc.json");
}

static void logfmt_records_allocate_nothing(void **state) {
        (void) state;
        stream_allocates_nothing("logfmt", "noalloc.logfmt");
}

/* The file handler, JSON, looking at its path before every record
 * (check_interval 0); the file renamed and removed while counting, so that
 * the reopens are counted too. */
static void file_records_allocate_nothing(void **state) {
        (void) state;
        char dir[] = "/tmp/trail-noalloc-XXXXXX", path[64], moved[64];
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/app.log", dir);
        snprintf(moved, sizeof(moved), "%s/app.log.1", dir);
        trail_logger *lg = trail_get("noalloc.file");
        trail_handler *h = trail_handler_file(path, "json");
        struct stat st;

        assert_non_null(h);
        assert_int_equal(trail_handler_set(h, "check_interval", "0"), 0);
        trail_logger_add_handler(lg, h);
        trail_logger_set_propagate(lg, false);
        log_a_batch(lg, "x", 10);
        allocations = 0;
        counting = true;
        log_a_batch(lg, "x", 500);
        rename(path, moved);
        log_a_batch(lg, "x", 500);
        unlink(path);
        log_a_batch(lg, "x", 10);
        counting = false;
        assert_int_equal(allocations, 0);
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size > 10 * 100 && st.st_size < 20 * 1000);
        trail_stats s;
        assert_int_equal(trail_handler_get_stats(h, &s), 0);
        assert_int_equal(s.delivered, 1020);
        trail_handler_unref(h);
        unlink(path);
        unlink(moved);
        rmdir(dir);
}

/* A custom handler rendering each record with formatter objects, as a
 * program shipping records elsewhere would. */
static trail_formatter *formatters[5];
static size_t formatted_bytes;

static int format_each(const trail_record *r, void *userdata) {
        char buf[4096];
        (void) userdata;
        for (size_t i = 0; i < sizeof(formatters) / sizeof(formatters[0]); i++) {
                int k = trail_formatter_format(formatters[i], r, buf, sizeof(buf));
                if (k < 0)
                        return k;
                formatted_bytes += (size_t) k;
        }
        return 0;
}

static void formatter_objects_allocate_nothing(void **state) {
        (void) state;
        static const char *const names[] = {"text", "json", "logfmt", "rfc5424", "rfc3164"};
        const trail_handler_vtable vt = {.emit = format_each};
        trail_logger *lg = trail_get("noalloc.formatter");
        trail_handler *h = trail_handler_custom(&vt, NULL);

        assert_non_null(h);
        for (size_t i = 0; i < 5; i++)
                assert_non_null(formatters[i] = trail_formatter_new(names[i]));
        trail_logger_add_handler(lg, h);
        trail_logger_set_propagate(lg, false);
        log_a_batch(lg, "x", 10);
        formatted_bytes = 0;
        allocations = 0;
        counting = true;
        log_a_batch(lg, "x", 1000);
        counting = false;
        assert_int_equal(allocations, 0);
        assert_true(formatted_bytes > 5 * 1000 * 100); /* it did render */
        trail_logger_remove_handler(lg, h);
        trail_handler_unref(h);
        for (size_t i = 0; i < 5; i++)
                trail_formatter_unref(formatters[i]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(journald_records_allocate_nothing),
                cmocka_unit_test(stream_records_allocate_nothing),
                cmocka_unit_test(json_records_allocate_nothing),
                cmocka_unit_test(logfmt_records_allocate_nothing),
                cmocka_unit_test(file_records_allocate_nothing),
                cmocka_unit_test(formatter_objects_allocate_nothing),
                cmocka_unit_test(memory_handler_holds_without_allocating),
        };
        require_journald();
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
