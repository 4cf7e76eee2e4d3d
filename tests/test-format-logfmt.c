/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "logfmt" formatter: the golden corpus and its quoting. Random records
 * read back by a reference parser are in gen-records.c and check-logfmt.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "format-util.h"

static void logfmt_renders_the_hostile_corpus_like_the_golden_file(void **state) {
        (void) state;
        trail_formatter *f = trail_formatter_new("logfmt");
        char *all = render_corpus(f);

        assert_true(golden_matches("logfmt.txt", all));
        assert_int_equal(clean_lines(all), 8);
        free(all);
        trail_formatter_unref(f);
}

static void logfmt_quotes_only_what_needs_it(void **state) {
        (void) state;
        struct render rd = {.f = trail_formatter_new("logfmt")};

        const char *out =
                RENDER(&rd, TRAIL_INFO,
                       TRAIL_FIELDS(TRAIL_STR("BARE", "a-b.c/d:e"), TRAIL_STR("SP", "a b"),
                                    TRAIL_STR("EQ", "a=b"), TRAIL_STR("Q", "\""),
                                    TRAIL_STR("E", ""), TRAIL_INT("N", 7),
                                    TRAIL_BYTES("B3", "abc", 3), TRAIL_BYTES("B2", "ab", 2)),
                       "hello");
        const char *fields = strstr(out, " logger=golden.app msg=hello ");
        assert_non_null(fields);
        assert_string_equal(fields, " logger=golden.app msg=hello BARE=a-b.c/d:e SP=\"a b\" "
                                    "EQ=\"a=b\" Q=\"\\\"\" E=\"\" N=7 B3=YWJj B2=\"YWI=\"");
        assert_int_equal(strncmp(out, "time=", 5), 0);
        assert_non_null(strstr(out, " level=info "));
        free(rd.out);
        trail_formatter_unref(rd.f);
}

static void logfmt_options_are_checked(void **state) {
        (void) state;
        trail_formatter *f = trail_formatter_new("logfmt");

        assert_non_null(f);
        assert_string_equal(trail_formatter_name(f), "logfmt");
        assert_int_equal(trail_formatter_set(f, "time", "local"), 0);
        assert_int_equal(trail_formatter_set(f, "time", "mars"), -EINVAL);
        assert_int_equal(trail_formatter_set(f, "pattern", "%(message)s"), -ENOENT);
        trail_formatter_unref(f);

        trail_handler *h = trail_handler_stream(2, "logfmt");
        assert_non_null(h);
        assert_int_equal(trail_handler_set(h, "time", "utc"), 0);
        assert_int_equal(trail_handler_set(h, "format", "json"), 0);
        trail_handler_unref(h);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(logfmt_renders_the_hostile_corpus_like_the_golden_file),
                cmocka_unit_test(logfmt_quotes_only_what_needs_it),
                cmocka_unit_test(logfmt_options_are_checked),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
