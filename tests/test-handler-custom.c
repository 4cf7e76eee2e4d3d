/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Handlers of the user's own (a vtable), the capture handler for users'
 * tests, and the BACKTRACE= field. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "trail.h"

struct sink {
        int emitted, flushed, closed, logged_inside;
        int fail_with;
        char last[128];
        trail_logger *lg;
};

static int sink_emit(const trail_record *r, void *userdata) {
        struct sink *s = userdata;
        s->emitted++;
        snprintf(s->last, sizeof(s->last), "%s|%s|%d", trail_record_logger(r),
                 trail_record_message(r, NULL), trail_record_level(r));
        /* a handler that logs is refused, not deadlocked */
        s->logged_inside = trail_info(s->lg, "from inside");
        return s->fail_with;
}

static int sink_flush(void *userdata) {
        ((struct sink *) userdata)->flushed++;
        return 0;
}

static void sink_close(void *userdata) {
        ((struct sink *) userdata)->closed++;
}

static bool drop_noise(const trail_record *r, void *userdata) {
        (void) userdata;
        return strstr(trail_record_message(r, NULL), "noise") == NULL;
}

static void custom_handler_gets_records_levels_filters_and_stats(void **state) {
        (void) state;
        struct sink s = {};
        trail_handler_vtable vt = {.emit = sink_emit, .flush = sink_flush, .close = sink_close};
        trail_handler *h = trail_handler_custom(&vt, &s);
        trail_logger *lg = trail_get("custom");
        trail_stats st;

        assert_non_null(h);
        memset(&vt, 0, sizeof(vt)); /* the vtable was copied */
        s.lg = lg;
        trail_logger_set_propagate(lg, false);
        assert_int_equal(trail_logger_add_handler(lg, h), 0);
        assert_int_equal(trail_handler_set_level(h, TRAIL_WARNING), 0);
        assert_int_equal(trail_handler_add_filter(h, drop_noise, NULL), 0);

        trail_info(lg, "below the handler's level");
        trail_error(lg, "noise");
        trail_error(lg, "boom %d", 1);
        assert_int_equal(s.emitted, 1);
        assert_string_equal(s.last, "custom|boom 1|3");
        assert_int_equal(s.logged_inside, -EDEADLK);

        s.fail_with = -EIO;
        trail_critical(lg, "refused");
        assert_int_equal(trail_handler_get_stats(h, &st), 0);
        assert_int_equal(st.records, 2);
        assert_int_equal(st.delivered, 1);
        assert_int_equal(st.failed, 1);

        assert_int_equal(trail_flush(), 0);
        assert_true(s.flushed >= 1);
        assert_int_equal(s.closed, 0);
        trail_logger_remove_handler(lg, h);
        trail_handler_unref(h);
        /* a removed handler's list is retired, not freed, while other
         * threads may walk it: close comes at shutdown, once */
        trail_shutdown();
        assert_int_equal(s.closed, 1);

        errno = 0;
        assert_null(trail_handler_custom(NULL, NULL));
        assert_int_equal(errno, EINVAL);
        trail_handler_vtable no_emit = {.flush = sink_flush};
        assert_null(trail_handler_custom(&no_emit, NULL));
}

static void capture_handler_keeps_copies_to_inspect(void **state) {
        (void) state;
        trail_handler *cap = trail_handler_capture();
        trail_logger *lg = trail_get("captest");
        trail_field_view v;
        char dyn[32];

        trail_logger_set_propagate(lg, false);
        assert_int_equal(trail_logger_add_handler(lg, cap), 0);
        snprintf(dyn, sizeof(dyn), "volatile");
        trail_warning_with(
                lg,
                TRAIL_FIELDS(TRAIL_STR("S", dyn), TRAIL_INT("N", -5), TRAIL_BYTES("B", "a\0b", 3)),
                "disk %s at %d%%", "sda", 91);
        memset(dyn, 'x', 8); /* the record holds its own copy */
        trail_info(lg, "started");
        trail_error_errno(lg, ENOENT, "cannot open: %m");

        assert_int_equal(trail_capture_count(cap), 3);
        const trail_record *r = trail_capture_get(cap, 0);
        assert_string_equal(trail_record_message(r, NULL), "disk sda at 91%");
        assert_string_equal(trail_record_logger(r), "captest");
        assert_int_equal(trail_record_level(r), TRAIL_WARNING);
        assert_int_equal(trail_record_find(r, "S", &v), 0);
        assert_int_equal(v.len, 8);
        assert_memory_equal(v.value.s, "volatile", 8);
        assert_int_equal(trail_record_find(r, "N", &v), 0);
        assert_int_equal(v.value.i, -5);
        assert_int_equal(trail_record_find(r, "B", &v), 0);
        assert_int_equal(v.len, 3);
        assert_memory_equal(v.value.p, "a\0b", 3);
        assert_int_equal(trail_record_find(trail_capture_get(cap, 2), "ERRNO", &v), 0);
        assert_int_equal(v.value.i, ENOENT);
        assert_null(trail_capture_get(cap, 3));

        /* find: this level or more severe, a substring of the message */
        assert_int_equal(trail_capture_find(cap, -1, NULL), 0);
        assert_int_equal(trail_capture_find(cap, -1, "started"), 1);
        assert_int_equal(trail_capture_find(cap, TRAIL_WARNING, "started"), -ENOENT);
        assert_int_equal(trail_capture_find(cap, TRAIL_ERROR, NULL), 2);
        assert_int_equal(trail_capture_find(cap, TRAIL_ERROR, "No such file"), 2);
        assert_int_equal(trail_capture_find(cap, TRAIL_WARNING, "sda"), 0);
        assert_int_equal(trail_capture_find(cap, TRAIL_DEBUG, "nothing like it"), -ENOENT);
        assert_int_equal(trail_capture_find(cap, 9, NULL), -EINVAL);

        assert_int_equal(trail_capture_clear(cap), 0);
        assert_int_equal(trail_capture_count(cap), 0);
        assert_int_equal(trail_capture_find(cap, -1, NULL), -ENOENT);

        /* not a capture handler */
        trail_handler *other = trail_handler_stream(2, NULL);
        assert_int_equal(trail_capture_count(other), 0);
        assert_null(trail_capture_get(other, 0));
        assert_int_equal(trail_capture_clear(other), -EINVAL);
        assert_int_equal(trail_capture_find(NULL, -1, NULL), -EINVAL);
        trail_handler_unref(other);

        trail_logger_remove_handler(lg, cap);
        trail_handler_unref(cap);
}

#define THREADS    4
#define PER_THREAD 500

static trail_logger *threads_lg;
static trail_handler *threads_cap;

static void *log_many(void *arg) {
        long id = (long) arg;
        for (int i = 0; i < PER_THREAD; i++) {
                trail_info_with(threads_lg, TRAIL_FIELDS(TRAIL_INT("T", id)), "n %d", i);
                /* readers while writers append */
                if (i % 50 == 0) {
                        size_t n = trail_capture_count(threads_cap);
                        if (n > 0)
                                assert_non_null(trail_capture_get(threads_cap, n - 1));
                        (void) trail_capture_find(threads_cap, TRAIL_INFO, "n 499");
                }
        }
        return NULL;
}

static void capture_handler_is_thread_safe(void **state) {
        (void) state;
        pthread_t th[THREADS];

        threads_cap = trail_handler_capture();
        threads_lg = trail_get("captest.threads");
        trail_logger_set_propagate(threads_lg, false);
        trail_logger_add_handler(threads_lg, threads_cap);
        for (long i = 0; i < THREADS; i++)
                assert_int_equal(pthread_create(&th[i], NULL, log_many, (void *) i), 0);
        for (int i = 0; i < THREADS; i++)
                pthread_join(th[i], NULL);
        assert_int_equal(trail_capture_count(threads_cap), THREADS * PER_THREAD);
        int per[THREADS] = {};
        for (size_t i = 0; i < THREADS * PER_THREAD; i++) {
                trail_field_view v;
                assert_int_equal(trail_record_find(trail_capture_get(threads_cap, i), "T", &v), 0);
                per[v.value.i]++;
        }
        for (int i = 0; i < THREADS; i++)
                assert_int_equal(per[i], PER_THREAD);
        trail_logger_remove_handler(threads_lg, threads_cap);
        trail_handler_unref(threads_cap);
}

static const char *backtrace_of(trail_handler *cap, size_t i, size_t *len) {
        trail_field_view v;
        if (trail_record_find(trail_capture_get(cap, i), "BACKTRACE", &v) < 0)
                return NULL;
        *len = v.len;
        return v.value.s;
}

static void backtraces_on_request_and_from_a_level(void **state) {
        (void) state;
        trail_handler *cap = trail_handler_capture();
        trail_logger *lg = trail_get("bt");
        char bt[8192];
        size_t len = 0;
        const char *p;

        trail_logger_set_propagate(lg, false);
        trail_logger_add_handler(lg, cap);

        trail_error_with(lg, TRAIL_FIELDS(TRAIL_BACKTRACE()), "asked for one");
        trail_error(lg, "no backtrace");
        assert_int_equal(trail_set_backtrace_level(TRAIL_CRITICAL), 0);
        trail_critical(lg, "critical");
        trail_error(lg, "error");
        assert_int_equal(trail_set_backtrace_level(-1), 0);
        trail_critical(lg, "off again");

        p = backtrace_of(cap, 0, &len);
        assert_non_null(p);
        assert_true(len > 0 && len < sizeof(bt));
        memcpy(bt, p, len);
        bt[len] = '\0';
        /* starts at the caller: trail's own frames are left out */
        assert_memory_equal(bt, "#0 0x", 5);
        char *nl = strchr(bt, '\n');
        assert_non_null(nl);
        *nl = '\0';
        assert_non_null(strstr(bt, "test-handler-custom"));
        assert_null(strstr(bt, "libtrail"));
        *nl = '\n';
        assert_non_null(strstr(bt, "\n#1 0x"));
        assert_non_null(strstr(bt, "libc.so"));

        assert_null(backtrace_of(cap, 1, &len));
        assert_non_null(backtrace_of(cap, 2, &len));
        assert_null(backtrace_of(cap, 3, &len));
        assert_null(backtrace_of(cap, 4, &len));
        assert_int_equal(trail_set_backtrace_level(8), -EINVAL);
        assert_int_equal(trail_set_backtrace_level(-2), -EINVAL);

        trail_logger_remove_handler(lg, cap);
        trail_handler_unref(cap);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(custom_handler_gets_records_levels_filters_and_stats),
                cmocka_unit_test(capture_handler_keeps_copies_to_inspect),
                cmocka_unit_test(capture_handler_is_thread_safe),
                cmocka_unit_test(backtraces_on_request_and_from_a_level),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
