/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Wrappers and bindings: trail_logv() forwards a va_list with fields, and
 * trail_log_with_location()/trail_logv_with_location() log the caller's
 * file, line and function as CODE_FILE, CODE_LINE and CODE_FUNC into the real
 * journald (NULL file: none of them), also through an async handler and a
 * capture handler after the caller's strings are gone. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "journal-util.h"
#include "trail.h"

#define TIMEOUT_MS 10000

/* A project's own macro over trail: its records name its caller. */
#define app_log(lg, level, ...)                                                                    \
        trail_log_with_location(lg, level, __FILE__, __LINE__, __func__, TRAIL_NO_FIELDS,          \
                                __VA_ARGS__)

/* A project's own variadic function, as a binding would forward. */
static int app_vlog(trail_logger *lg, const char *file, int line, const char *func,
                    trail_fields fields, const char *fmt, ...) TRAIL__PRINTF(6, 7);
static int app_vlog(trail_logger *lg, const char *file, int line, const char *func,
                    trail_fields fields, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = trail_logv_with_location(lg, TRAIL_WARNING, file, line, func, fields, fmt, ap);
        va_end(ap);
        return r;
}

static int app_logv_here(trail_logger *lg, trail_fields fields, const char *fmt, ...)
        TRAIL__PRINTF(3, 4);
static int logv_line;
static int app_logv_here(trail_logger *lg, trail_fields fields, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        logv_line = __LINE__ + 1;
        int r = trail_logv(lg, TRAIL_NOTICE, fields, fmt, ap);
        va_end(ap);
        return r;
}

static trail_logger *test_logger(const char *name) {
        trail_logger *lg = trail_get(name);
        assert_non_null(lg);
        trail_handler *h = trail_handler_journald();
        trail_logger_add_handler(lg, h);
        trail_handler_unref(h);
        trail_logger_set_propagate(lg, false);
        return lg;
}

static void assert_field(const struct jentry *e, const char *name, const char *value) {
        const char *v = jentry_get(e, name, NULL);
        if (!v)
                fail_msg("field %s missing", name);
        assert_string_equal(v, value);
}

static void wrapper_macro_logs_its_callers_location(void **state) {
        (void) state;
        char id[33], line[16];
        trail_logger *lg = test_logger("trailtest.location");

        test_run_id(id);
        TRAIL_SCOPE(TRAIL_STR("LOC_RUN", id));
        snprintf(line, sizeof(line), "%d", __LINE__ + 1);
        assert_int_equal(app_log(lg, TRAIL_INFO, "from %s", "the caller"), 0);
        assert_int_equal(app_vlog(lg, "binding.py", 42, "handle_request",
                                  TRAIL_FIELDS(TRAIL_INT("ROWS", 7), TRAIL_STR("USER", "ann")),
                                  "%s=%d %s", "answer", 42, "forwarded"),
                         0);
        assert_int_equal(app_logv_here(lg, TRAIL_FIELDS(TRAIL_STR("VIA", "trail_logv")), "v %d", 3),
                         0);
        /* disabled: nothing, 0 */
        assert_int_equal(app_vlog(lg, "x", 1, "y", TRAIL_NO_FIELDS, "%s", "no"), 0);
        trail_logger_set_level(lg, TRAIL_ERROR);
        assert_int_equal(app_log(lg, TRAIL_INFO, "disabled"), 0);
        trail_logger_set_level(lg, TRAIL_LEVEL_INHERIT);

        struct jentries es = journal_collect("LOC_RUN", id, 4, TIMEOUT_MS);
        assert_int_equal(es.n, 4);
        assert_field(&es.e[0], "MESSAGE", "from the caller");
        assert_field(&es.e[0], "CODE_FILE", __FILE__);
        assert_field(&es.e[0], "CODE_LINE", line);
        assert_field(&es.e[0], "CODE_FUNC", "wrapper_macro_logs_its_callers_location");
        assert_field(&es.e[1], "MESSAGE", "answer=42 forwarded");
        assert_field(&es.e[1], "CODE_FILE", "binding.py");
        assert_field(&es.e[1], "CODE_LINE", "42");
        assert_field(&es.e[1], "CODE_FUNC", "handle_request");
        assert_field(&es.e[1], "ROWS", "7");
        assert_field(&es.e[1], "USER", "ann");
        assert_field(&es.e[1], "PRIORITY", "4");
        assert_int_equal(jentry_count(&es.e[1], "CODE_FILE"), 1);
        snprintf(line, sizeof(line), "%d", logv_line);
        assert_field(&es.e[2], "MESSAGE", "v 3");
        assert_field(&es.e[2], "VIA", "trail_logv");
        assert_field(&es.e[2], "CODE_LINE", line);
        assert_field(&es.e[2], "CODE_FUNC", "app_logv_here");
        assert_field(&es.e[3], "MESSAGE", "no");
        jentries_free(&es);
}

static void null_file_means_no_code_fields(void **state) {
        (void) state;
        char id[33];
        trail_logger *lg = test_logger("trailtest.location.none");

        test_run_id(id);
        TRAIL_SCOPE(TRAIL_STR("LOC_RUN", id));
        assert_int_equal(
                trail_log_with_location(lg, TRAIL_INFO, NULL, 12, NULL, TRAIL_NO_FIELDS, "nowhere"),
                0);
        assert_int_equal(trail_log_with_location(lg, TRAIL_INFO, "script.sh", 12, NULL,
                                                 TRAIL_NO_FIELDS, "no function"),
                         0);
        assert_int_equal(trail_log_with_location(lg, TRAIL_INFO, NULL, 0, "main", TRAIL_NO_FIELDS,
                                                 "function only"),
                         0);

        struct jentries es = journal_collect("LOC_RUN", id, 3, TIMEOUT_MS);
        assert_int_equal(es.n, 3);
        assert_null(jentry_get(&es.e[0], "CODE_FILE", NULL));
        assert_null(jentry_get(&es.e[0], "CODE_LINE", NULL));
        assert_null(jentry_get(&es.e[0], "CODE_FUNC", NULL));
        assert_field(&es.e[0], "TID", jentry_get(&es.e[0], "TID", NULL)); /* the rest is there */
        assert_field(&es.e[0], "LOGGER", "trailtest.location.none");
        assert_field(&es.e[1], "CODE_FILE", "script.sh");
        assert_field(&es.e[1], "CODE_LINE", "12");
        assert_null(jentry_get(&es.e[1], "CODE_FUNC", NULL));
        assert_null(jentry_get(&es.e[2], "CODE_FILE", NULL));
        assert_null(jentry_get(&es.e[2], "CODE_LINE", NULL));
        assert_field(&es.e[2], "CODE_FUNC", "main");
        jentries_free(&es);
}

/* The caller's strings die right after the call: the async queue and the
 * capture handler keep copies (ASan would see a use after free). */
static void borrowed_location_outlives_the_call(void **state) {
        (void) state;
        char id[33], buf[512];
        trail_logger *lg = trail_get("trailtest.location.kept");
        trail_handler *j = trail_handler_journald();
        trail_handler *a = trail_handler_async(j, 16, TRAIL_OVERFLOW_BLOCK);
        trail_handler *cap = trail_handler_capture();
        const char *file, *func;
        int line;

        trail_handler_unref(j);
        trail_logger_add_handler(lg, a);
        trail_logger_add_handler(lg, cap);
        trail_logger_set_propagate(lg, false);
        test_run_id(id);
        TRAIL_SCOPE(TRAIL_STR("LOC_RUN", id));
        char *f = strdup("/srv/app/handlers.py"), *fn = strdup("on_request");
        char *long_file = malloc(4000);
        memset(long_file, 'd', 3999);
        long_file[3999] = '\0';
        assert_int_equal(
                trail_log_with_location(lg, TRAIL_ERROR, f, 99, fn, TRAIL_NO_FIELDS, "kept"), 0);
        assert_int_equal(trail_log_with_location(lg, TRAIL_ERROR, long_file, 1, NULL,
                                                 TRAIL_NO_FIELDS, "long"),
                         0);
        memset(f, 'X', strlen(f));
        memset(fn, 'X', strlen(fn));
        memset(long_file, 'X', 3999);
        free(f);
        free(fn);
        free(long_file);
        assert_int_equal(trail_flush(), 0);

        assert_int_equal(trail_capture_count(cap), 2);
        const trail_record *r = trail_capture_get(cap, 0);
        assert_int_equal(trail_record_source(r, &file, &line, &func), 0);
        assert_string_equal(file, "/srv/app/handlers.py");
        assert_int_equal(line, 99);
        assert_string_equal(func, "on_request");
        assert_int_equal(trail_record_source(trail_capture_get(cap, 1), &file, &line, &func), 0);
        assert_int_equal(strlen(file), 3999);
        assert_null(func);

        /* formatters leave out what is not there */
        trail_formatter *json = trail_formatter_new("json");
        assert_true(trail_formatter_format(json, trail_capture_get(cap, 1), buf, sizeof(buf)) > 0);
        assert_null(strstr(buf, "\"func\""));
        trail_formatter_unref(json);

        struct jentries es = journal_collect("LOC_RUN", id, 2, TIMEOUT_MS);
        assert_int_equal(es.n, 2);
        assert_field(&es.e[0], "CODE_FILE", "/srv/app/handlers.py");
        assert_field(&es.e[0], "CODE_LINE", "99");
        assert_field(&es.e[0], "CODE_FUNC", "on_request");
        /* a 16-slot queue has room for a quarter of 4 slots: the name is cut there */
        size_t len;
        assert_non_null(jentry_get(&es.e[1], "CODE_FILE", &len));
        assert_true(len > 0 && len <= 3999);
        assert_int_equal(strspn(jentry_get(&es.e[1], "CODE_FILE", NULL), "d"), len);
        assert_null(jentry_get(&es.e[1], "CODE_FUNC", NULL));
        jentries_free(&es);

        trail_logger_remove_handler(lg, a);
        trail_logger_remove_handler(lg, cap);
        trail_handler_unref(a);
        trail_handler_unref(cap);
}

static void bad_arguments_are_refused(void **state) {
        (void) state;
        trail_logger *lg = trail_get("trailtest.location.bad");
        char *huge = malloc(5000);

        memset(huge, 'a', 4999);
        huge[4999] = '\0';
        assert_int_equal(
                trail_log_with_location(NULL, TRAIL_INFO, "f", 1, "g", TRAIL_NO_FIELDS, "x"),
                -EINVAL);
        assert_int_equal(trail_log_with_location(lg, -1, "f", 1, "g", TRAIL_NO_FIELDS, "x"),
                         -EINVAL);
        assert_int_equal(
                trail_log_with_location(lg, TRAIL_ERROR, huge, 1, "g", TRAIL_NO_FIELDS, "x"),
                -EINVAL);
        assert_int_equal(
                trail_log_with_location(lg, TRAIL_ERROR, "f", 1, huge, TRAIL_NO_FIELDS, "x"),
                -EINVAL);
        free(huge);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(wrapper_macro_logs_its_callers_location),
                cmocka_unit_test(null_file_means_no_code_fields),
                cmocka_unit_test(borrowed_location_outlives_the_call),
                cmocka_unit_test(bad_arguments_are_refused),
        };

        require_journald();
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
