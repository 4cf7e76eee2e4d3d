/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* W3C traceparent vectors, and a thread's context captured and restored on
 * other threads, as an event loop or a thread pool would. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "trail.h"

static trail_handler *cap;
static trail_logger *lg;

static int setup(void **state) {
        (void) state;
        cap = trail_handler_capture();
        lg = trail_get("corr");
        trail_logger_set_propagate(lg, false);
        return trail_logger_add_handler(lg, cap);
}

static int teardown(void **state) {
        (void) state;
        trail_logger_remove_handler(lg, cap);
        trail_handler_unref(cap);
        trail_shutdown();
        return 0;
}

/* The string value of name in record i, or "" when absent. */
static const char *value_of(size_t i, const char *name) {
        static __thread char buf[128];
        trail_field_view v;
        const trail_record *r = trail_capture_get(cap, i);

        assert_non_null(r);
        if (trail_record_find(r, name, &v) < 0 || v.type != TRAIL_FIELD_STR)
                return "";
        snprintf(buf, sizeof(buf), "%.*s", (int) v.len, v.value.s);
        return buf;
}

static void valid_traceparents_become_context_fields(void **state) {
        (void) state;
        static const struct {
                const char *header, *trace, *span, *flags;
        } ok[] = {
                {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                 "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "01"},
                {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
                 "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", "00"},
                /* a later version may carry more, after a dash */
                {"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03-extra",
                 "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", "03"},
                {"cc-00000000000000000000000000000001-0000000000000001-ff",
                 "00000000000000000000000000000001", "0000000000000001", "ff"},
        };

        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                trail_capture_clear(cap);
                int token = trail_context_push_traceparent(ok[i].header);
                if (token < 0)
                        fail_msg("refused %s: %d", ok[i].header, token);
                trail_info(lg, "in trace");
                trail_context_pop(token);
                trail_info(lg, "after");
                assert_string_equal(value_of(0, "TRACE_ID"), ok[i].trace);
                assert_string_equal(value_of(0, "SPAN_ID"), ok[i].span);
                assert_string_equal(value_of(0, "TRACE_FLAGS"), ok[i].flags);
                assert_string_equal(value_of(1, "TRACE_ID"), "");
        }
}

static void malformed_traceparents_are_refused(void **state) {
        (void) state;
        static const char *const bad[] = {
                "",
                "00",
                /* uppercase hex */
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
                "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                /* version ff */
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                /* all-zero ids */
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                /* lengths and separators */
                "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-010",
                "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
                "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03x",
                " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902g7-01",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int r = trail_context_push_traceparent(bad[i]);
                if (r != -EINVAL)
                        fail_msg("accepted \"%s\": %d", bad[i], r);
        }
        assert_int_equal(trail_context_push_traceparent(NULL), -EINVAL);

        /* nothing was pushed */
        trail_capture_clear(cap);
        trail_info(lg, "clean");
        assert_string_equal(value_of(0, "TRACE_ID"), "");
}

struct job {
        trail_context *ctx;
        const char *expect;
};

static void *run_job(void *arg) {
        struct job *j = arg;

        {
                TRAIL_SCOPE(TRAIL_STR("WORKER", "yes"));
                TRAIL_CONTEXT_SCOPE(j->ctx);
                trail_info(lg, "in the callback");
        }
        trail_info(lg, "after the callback");
        return NULL;
}

static const trail_record *find_message(const char *m, size_t nth) {
        for (size_t i = 0; i < trail_capture_count(cap); i++) {
                const trail_record *r = trail_capture_get(cap, i);
                if (strcmp(trail_record_message(r, NULL), m) == 0 && nth-- == 0)
                        return r;
        }
        fail_msg("no record \"%s\"", m);
        return NULL;
}

static const char *record_value(const trail_record *r, const char *name, char *buf, size_t size) {
        trail_field_view v;
        if (trail_record_find(r, name, &v) < 0)
                return "";
        snprintf(buf, size, "%.*s", (int) v.len, v.value.s);
        return buf;
}

static void context_follows_a_request_across_threads(void **state) {
        (void) state;
        trail_context *ctx;
        pthread_t th[4];
        struct job job;
        char buf[64];

        trail_capture_clear(cap);
        {
                TRAIL_SCOPE(TRAIL_STR("REQUEST_ID", "req-1"), TRAIL_INT("USER_ID", 42));
                int t = trail_context_push_traceparent(
                        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
                assert_true(t >= 0);
                ctx = trail_context_capture();
                assert_non_null(ctx);
                trail_context_pop(t);
        }
        /* captured is copied: the scope has ended here */
        job.ctx = ctx;
        for (int i = 0; i < 4; i++)
                assert_int_equal(pthread_create(&th[i], NULL, run_job, &job), 0);
        for (int i = 0; i < 4; i++)
                pthread_join(th[i], NULL);

        assert_int_equal(trail_capture_count(cap), 8);
        for (size_t n = 0; n < 4; n++) {
                const trail_record *r = find_message("in the callback", n);
                trail_field_view v;
                assert_string_equal(record_value(r, "REQUEST_ID", buf, sizeof(buf)), "req-1");
                assert_string_equal(record_value(r, "TRACE_ID", buf, sizeof(buf)),
                                    "4bf92f3577b34da6a3ce929d0e0e4736");
                assert_string_equal(record_value(r, "WORKER", buf, sizeof(buf)), "yes");
                assert_int_equal(trail_record_find(r, "USER_ID", &v), 0);
                assert_int_equal(v.type, TRAIL_FIELD_INT);
                assert_int_equal(v.value.i, 42);
                r = find_message("after the callback", n);
                assert_int_equal(trail_record_find(r, "REQUEST_ID", &v), -ENOENT);
                assert_int_equal(trail_record_find(r, "WORKER", &v), -ENOENT);
        }
        trail_context_free(ctx);
}

static void restore_is_a_push_that_pop_undoes(void **state) {
        (void) state;
        trail_context *ctx, *empty;
        char buf[64];

        {
                TRAIL_SCOPE(TRAIL_STR("REQUEST_ID", "captured"));
                ctx = trail_context_capture();
        }
        empty = trail_context_capture(); /* nothing in context: restores nothing */
        assert_non_null(empty);

        trail_capture_clear(cap);
        int outer = trail_context_push(
                TRAIL_FIELDS(TRAIL_STR("REQUEST_ID", "current"), TRAIL_STR("KEEP", "k")));
        int token = trail_context_restore(ctx);
        assert_true(token > outer);
        trail_info(lg, "restored");
        trail_context_pop(token);
        trail_info(lg, "popped");
        token = trail_context_restore(empty);
        assert_true(token >= 0);
        trail_info(lg, "empty");
        trail_context_pop(token);
        trail_context_pop(outer);

        /* the captured value wins while restored; the thread's own comes back */
        assert_string_equal(
                record_value(find_message("restored", 0), "REQUEST_ID", buf, sizeof(buf)),
                "captured");
        assert_string_equal(record_value(find_message("restored", 0), "KEEP", buf, sizeof(buf)),
                            "k");
        assert_string_equal(record_value(find_message("popped", 0), "REQUEST_ID", buf, sizeof(buf)),
                            "current");
        assert_string_equal(record_value(find_message("empty", 0), "REQUEST_ID", buf, sizeof(buf)),
                            "current");
        assert_int_equal(trail_context_restore(NULL), -EINVAL);
        assert_null(trail_context_free(ctx));
        assert_null(trail_context_free(empty));
        assert_null(trail_context_free(NULL));
}

static void *capture_on_a_fresh_thread(void *arg) {
        (void) arg;
        return trail_context_capture();
}

static void a_thread_that_never_logged_captures_nothing(void **state) {
        (void) state;
        pthread_t th;
        void *ctx;

        assert_int_equal(pthread_create(&th, NULL, capture_on_a_fresh_thread, NULL), 0);
        pthread_join(th, &ctx);
        assert_non_null(ctx);
        trail_capture_clear(cap);
        int t = trail_context_restore(ctx);
        trail_info(lg, "x");
        trail_context_pop(t);
        assert_int_equal(trail_record_n_fields(trail_capture_get(cap, 0)), 0);
        trail_context_free(ctx);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(valid_traceparents_become_context_fields),
                cmocka_unit_test(malformed_traceparents_are_refused),
                cmocka_unit_test(context_follows_a_request_across_threads),
                cmocka_unit_test(restore_is_a_push_that_pop_undoes),
                cmocka_unit_test(a_thread_that_never_logged_captures_nothing),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
