/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A record without a source location (trail__log() with a NULL file and
 * function, as trail(1) logs): no CODE_* in RFC 5424, no file/line/func keys
 * in JSON, empty location attributes in text, a NULL file from
 * trail_record_source(); with a file and a NULL function, everything but the
 * function; with a function and no file, the function only (the line of no
 * file is left out too). The journald
 * side is tests/test-tool.sh, against the real journald. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trail.h"

static trail_formatter *probe;
static char *out;
static const char *file, *func;
static int line;

static bool render(const trail_record *r, void *userdata) {
        (void) userdata;
        int n = trail_formatter_format(probe, r, NULL, 0);
        assert_true(n >= 0);
        free(out);
        out = malloc((size_t) n + 1);
        assert_non_null(out);
        assert_int_equal(trail_formatter_format(probe, r, out, (size_t) n + 1), n);
        assert_int_equal(trail_record_source(r, &file, &line, &func), 0);
        return false;
}

static const trail_source nowhere = {NULL, NULL, 99, 0, 0, NULL};
static const trail_source no_func = {"run.sh", NULL, 12, 6, 0, NULL};
static const trail_source func_only = {NULL, "main", 99, 0, 4, NULL};

static const char *log_as(const char *format, const trail_source *src) {
        trail_logger *lg = trail_get("noloc");

        trail_formatter_unref(probe);
        probe = trail_formatter_new(format);
        assert_non_null(probe);
        if (strcmp(format, "text") == 0)
                assert_int_equal(trail_formatter_set(probe, "pattern",
                                                     "[%(filename)s|%(pathname)s|%(lineno)d|"
                                                     "%(funcName)s] %(message)s"),
                                 0);
        trail_logger_add_filter(lg, render, NULL);
        assert_int_equal(trail__log(lg, TRAIL_WARNING, src, TRAIL_NO_FIELDS, 0, "m"), 0);
        trail_logger_remove_filter(lg, render, NULL);
        return out;
}

static void rfc5424_has_no_code_fields_without_a_file(void **state) {
        (void) state;
        assert_null(strstr(log_as("rfc5424", &nowhere), "CODE_"));
        const char *s = log_as("rfc5424", &no_func);
        assert_non_null(strstr(s, "CODE_FILE=\"run.sh\" CODE_LINE=\"12\""));
        assert_null(strstr(s, "CODE_FUNC"));
        s = log_as("rfc5424", &func_only);
        assert_non_null(strstr(s, "CODE_FUNC=\"main\""));
        assert_null(strstr(s, "CODE_FILE"));
        assert_null(strstr(s, "CODE_LINE"));
}

static void json_has_no_location_keys_without_a_file(void **state) {
        (void) state;
        const char *s = log_as("json", &nowhere);
        assert_null(strstr(s, "\"file\""));
        assert_null(strstr(s, "\"line\""));
        assert_null(strstr(s, "\"func\""));
        assert_non_null(strstr(s, "\"message\":\"m\""));
        s = log_as("json", &no_func);
        assert_non_null(strstr(s, "\"file\":\"run.sh\",\"line\":12,"));
        assert_null(strstr(s, "\"func\""));
        s = log_as("json", &func_only);
        assert_null(strstr(s, "\"file\""));
        assert_null(strstr(s, "\"line\""));
        assert_non_null(strstr(s, "\"func\":\"main\""));
}

static void text_leaves_location_attributes_empty_without_a_file(void **state) {
        (void) state;
        assert_string_equal(log_as("text", &nowhere), "[|||] m");
        assert_string_equal(log_as("text", &no_func), "[run.sh|run.sh|12|] m");
        assert_string_equal(log_as("text", &func_only), "[|||main] m");
}

static void record_source_is_null_without_a_file(void **state) {
        (void) state;
        (void) log_as("json", &nowhere);
        assert_null(file);
        assert_null(func);
        assert_int_equal(line, 0);
        (void) log_as("json", &func_only);
        assert_null(file);
        assert_string_equal(func, "main");
        assert_int_equal(line, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(rfc5424_has_no_code_fields_without_a_file),
                cmocka_unit_test(json_has_no_location_keys_without_a_file),
                cmocka_unit_test(text_leaves_location_attributes_empty_without_a_file),
                cmocka_unit_test(record_source_is_null_without_a_file),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_formatter_unref(probe);
        free(out);
        return r;
}
