/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Filters on loggers and handlers (Python's semantics), the record as a
 * filter sees it, and formatter objects set on handlers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "stream-util.h"

struct seen {
        int calls;
        bool verdict;
        const char *drop_message; /* drop records whose message is this */
};

static bool count_filter(const trail_record *r, void *userdata) {
        struct seen *s = userdata;
        s->calls++;
        if (s->drop_message && strcmp(trail_record_message(r, NULL), s->drop_message) == 0)
                return false;
        return s->verdict;
}

static void logger_filter_sees_only_records_logged_to_it(void **state) {
        (void) state;
        struct capture c;
        struct seen parent = {.verdict = false}, child = {.verdict = true};

        capture_start(&c, "filt");
        trail_logger *kid = trail_get("filt.kid");
        assert_int_equal(trail_logger_add_filter(c.lg, count_filter, &parent), 0);
        assert_int_equal(trail_logger_add_filter(kid, count_filter, &child), 0);

        /* Logged to the child: the parent's logger filter is not asked, and
         * the record reaches the parent's handler. */
        trail_info(kid, "from the child");
        assert_int_equal(parent.calls, 0);
        assert_int_equal(child.calls, 1);
        assert_non_null(strstr(capture_take(&c), "filt.kid: from the child\n"));

        /* Logged to the parent: its filter drops it. */
        trail_info(c.lg, "from the parent");
        assert_int_equal(parent.calls, 1);
        assert_string_equal(capture_take(&c), "");

        assert_int_equal(trail_logger_add_filter(c.lg, count_filter, &parent), -EEXIST);
        assert_int_equal(trail_logger_remove_filter(c.lg, count_filter, &parent), 0);
        assert_int_equal(trail_logger_remove_filter(c.lg, count_filter, &parent), -ENOENT);
        trail_info(c.lg, "passes again");
        assert_non_null(strstr(capture_take(&c), "filt: passes again\n"));
        assert_int_equal(trail_logger_remove_filter(kid, count_filter, &child), 0);
        capture_stop(&c);
}

static void handler_filter_sees_propagated_records_too(void **state) {
        (void) state;
        struct capture c;
        struct seen h = {.verdict = true, .drop_message = "secret"};
        trail_stats st;

        capture_start(&c, "hfilt");
        trail_logger *kid = trail_get("hfilt.kid");
        assert_int_equal(trail_handler_add_filter(c.h, count_filter, &h), 0);

        trail_info(kid, "kept");
        trail_info(kid, "secret");
        trail_info(c.lg, "secret");
        assert_int_equal(h.calls, 3);
        const char *out = capture_take(&c);
        assert_non_null(strstr(out, "kept\n"));
        assert_null(strstr(out, "secret"));

        /* A filtered record is not a record the handler handled. */
        assert_int_equal(trail_handler_get_stats(c.h, &st), 0);
        assert_int_equal(st.records, 1);
        assert_int_equal(trail_handler_remove_filter(c.h, count_filter, &h), 0);
        assert_int_equal(trail_handler_add_filter(NULL, count_filter, &h), -EINVAL);
        assert_int_equal(trail_handler_add_filter(c.h, NULL, &h), -EINVAL);
        capture_stop(&c);
}

struct inspect {
        int level;
        char logger[32], message[64], file[64], func[64];
        int line, tid;
        int64_t usec;
        size_t n_fields;
        trail_field_view user_id, note;
        int find_missing;
};

static bool inspect_filter(const trail_record *r, void *userdata) {
        struct inspect *in = userdata;
        const char *file, *func;

        in->level = trail_record_level(r);
        snprintf(in->logger, sizeof(in->logger), "%s", trail_record_logger(r));
        snprintf(in->message, sizeof(in->message), "%s", trail_record_message(r, NULL));
        assert_int_equal(trail_record_source(r, &file, &in->line, &func), 0);
        snprintf(in->file, sizeof(in->file), "%s", file);
        snprintf(in->func, sizeof(in->func), "%s", func);
        in->tid = trail_record_tid(r);
        in->usec = trail_record_time_usec(r);
        in->n_fields = trail_record_n_fields(r);
        assert_int_equal(trail_record_find(r, "USER_ID", &in->user_id), 0);
        assert_int_equal(trail_record_find(r, "NOTE", &in->note), 0);
        in->find_missing = trail_record_find(r, "ABSENT", &in->note);
        trail_field_view v;
        assert_int_equal(trail_record_field(r, in->n_fields, &v), -ERANGE);
        return true;
}

static void record_accessors_show_the_record(void **state) {
        (void) state;
        struct capture c;
        struct inspect in = {};
        int64_t before = (int64_t) time(NULL) * 1000000;

        capture_start(&c, "insp");
        assert_int_equal(trail_logger_add_filter(c.lg, inspect_filter, &in), 0);
        int line = __LINE__ + 1;
        trail_warning_with(c.lg, TRAIL_FIELDS(TRAIL_INT("USER_ID", 42), TRAIL_STR("NOTE", "a b")),
                           "hello %d", 7);
        assert_int_equal(in.level, TRAIL_WARNING);
        assert_string_equal(in.logger, "insp");
        assert_string_equal(in.message, "hello 7");
        assert_non_null(strstr(in.file, "test-filter.c"));
        assert_string_equal(in.func, "record_accessors_show_the_record");
        assert_int_equal(in.line, line);
        assert_int_equal(in.tid, gettid());
        assert_true(in.usec >= before && in.usec < before + 60 * 1000000LL);
        assert_int_equal(in.n_fields, 2);
        assert_int_equal(in.user_id.type, TRAIL_FIELD_INT);
        assert_int_equal(in.user_id.value.i, 42);
        assert_int_equal(in.user_id.name_len, 7);
        assert_int_equal(in.note.type, TRAIL_FIELD_STR);
        assert_int_equal(in.note.len, 3);
        assert_memory_equal(in.note.value.s, "a b", 3);
        assert_int_equal(in.find_missing, -ENOENT);
        assert_int_equal(trail_logger_remove_filter(c.lg, inspect_filter, &in), 0);
        capture_stop(&c);

        assert_int_equal(trail_record_level(NULL), -EINVAL);
        assert_null(trail_record_logger(NULL));
        assert_int_equal(trail_record_n_fields(NULL), 0);
}

static char formatted[256], small[8];
static int formatted_len, small_len, sizing_len;
static trail_formatter *probe;

static bool format_filter(const trail_record *r, void *userdata) {
        (void) userdata;
        formatted_len = trail_formatter_format(probe, r, formatted, sizeof(formatted));
        small_len = trail_formatter_format(probe, r, small, sizeof(small));
        sizing_len = trail_formatter_format(probe, r, NULL, 0);
        return true;
}

static void formatter_renders_into_a_buffer_like_snprintf(void **state) {
        (void) state;
        struct capture c;

        probe = trail_formatter_new("text");
        assert_non_null(probe);
        assert_string_equal(trail_formatter_name(probe), "text");
        capture_start(&c, "fmt");
        assert_int_equal(trail_logger_add_filter(c.lg, format_filter, NULL), 0);
        trail_info_with(c.lg, TRAIL_FIELDS(TRAIL_BOOL("OK", true)), "rendered");
        const char *line = capture_take(&c);
        /* The same text the stream handler wrote, without the newline. */
        assert_int_equal(formatted_len, (int) strlen(line) - 1);
        assert_memory_equal(formatted, line, (size_t) formatted_len);
        assert_non_null(strstr(formatted, "fmt: rendered OK=true"));

        /* Truncated like snprintf, with the full length returned. */
        assert_int_equal(small_len, formatted_len);
        assert_int_equal(sizing_len, formatted_len);
        assert_int_equal(strlen(small), 7);
        assert_memory_equal(small, formatted, 7);
        assert_int_equal(trail_logger_remove_filter(c.lg, format_filter, NULL), 0);
        capture_stop(&c);
        trail_formatter_unref(probe);
}

static void formatter_options_and_names_are_checked(void **state) {
        (void) state;
        trail_formatter *f;

        errno = 0;
        assert_null(trail_formatter_new("no-such-format"));
        assert_int_equal(errno, EINVAL);
        assert_null(trail_formatter_new(NULL));
        f = trail_formatter_new("text");
        assert_int_equal(trail_formatter_set(f, "no-such-key", "1"), -ENOENT);
        assert_int_equal(trail_formatter_set(f, NULL, "1"), -EINVAL);
        assert_int_equal(trail_formatter_format(NULL, NULL, NULL, 0), -EINVAL);

        /* Once on a handler, its options are fixed. */
        trail_handler *h = trail_handler_stream(2, NULL);
        assert_int_equal(trail_handler_set_formatter(h, f), 0);
        assert_int_equal(trail_formatter_set(f, "no-such-key", "1"), -EBUSY);
        trail_formatter_unref(f);

        assert_int_equal(trail_handler_set(h, "level", "warning"), 0);
        assert_int_equal(trail_handler_set(h, "level", "loud"), -EINVAL);
        assert_int_equal(trail_handler_set(h, "format", "text"), 0);
        assert_int_equal(trail_handler_set(h, "format", "nope"), -EINVAL);
        assert_int_equal(trail_handler_set(h, "no-such-key", "x"), -ENOENT);
        assert_int_equal(trail_handler_set(NULL, "level", "info"), -EINVAL);
        trail_handler_unref(h);

        /* journald renders no text of its own. */
        trail_handler *j = trail_handler_journald();
        f = trail_formatter_new("text");
        assert_int_equal(trail_handler_set_formatter(j, f), -EOPNOTSUPP);
        assert_int_equal(trail_handler_set(j, "format", "text"), -EOPNOTSUPP);
        trail_formatter_unref(f);
        trail_handler_unref(j);
        assert_null(trail_formatter_unref(NULL));
}

static void stream_handler_takes_a_format_by_name(void **state) {
        (void) state;
        errno = 0;
        assert_null(trail_handler_stream(2, "no-such-format"));
        assert_int_equal(errno, EINVAL);
        trail_handler *h = trail_handler_stream(2, "text");
        assert_non_null(h);
        trail_handler_unref(h);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(logger_filter_sees_only_records_logged_to_it),
                cmocka_unit_test(handler_filter_sees_propagated_records_too),
                cmocka_unit_test(record_accessors_show_the_record),
                cmocka_unit_test(formatter_renders_into_a_buffer_like_snprintf),
                cmocka_unit_test(formatter_options_and_names_are_checked),
                cmocka_unit_test(stream_handler_takes_a_format_by_name),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
