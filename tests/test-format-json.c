/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "json" formatter: the golden corpus, a 1 MiB value, options, and the
 * key set. Random records parsed by python3 are in gen-records.c and
 * check-json.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "format-util.h"
#include "test-util.h"

static void json_renders_the_hostile_corpus_like_the_golden_file(void **state) {
        (void) state;
        trail_formatter *f = trail_formatter_new("json");
        char *all = render_corpus(f);

        assert_true(golden_matches("json.txt", all));
        /* one line per record: no raw newline, CR or ESC reached the output */
        assert_int_equal(clean_lines(all), 8);
        free(all);
        trail_formatter_unref(f);
}

static void json_keys_never_repeat(void **state) {
        (void) state;
        struct render rd = {.f = trail_formatter_new("json")};
        const char *keys[] = {"time", "level", "priority", "logger", "message", "ident",
                              "file", "line",  "func",     "pid",    "tid"};

        const char *out = RENDER(&rd, TRAIL_INFO,
                                 TRAIL_FIELDS(TRAIL_STR("message", "m"), TRAIL_STR("time", "t"),
                                              TRAIL_STR("level", "l"), TRAIL_STR("tid", "x")),
                                 "built-in names");
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                char k[32];
                snprintf(k, sizeof(k), "\"%s\":", keys[i]);
                assert_int_equal(count_substr(out, k), 1);
        }
        assert_non_null(strstr(out, "\"F_MESSAGE\":\"m\""));
        assert_non_null(strstr(out, "\"TIME\":\"t\""));
        assert_non_null(strstr(out, "\"LEVEL\":\"l\""));
        assert_non_null(strstr(out, "\"F_TID\":\"x\""));
        free(rd.out);
        trail_formatter_unref(rd.f);
}

static void json_takes_a_value_of_a_mebibyte(void **state) {
        (void) state;
        struct render rd = {.f = trail_formatter_new("json")};
        size_t n = 1 << 20;
        char *big = big_value(n, "ab\n\"\x01");

        const char *out = RENDER(&rd, TRAIL_INFO, TRAIL_FIELDS(TRAIL_STR("BIG", big)), "big");
        const char *v = strstr(out, "\"BIG\":\"");
        assert_non_null(v);
        v += strlen("\"BIG\":\"");
        /* every 5 bytes: a b \n \" \u0001 */
        for (size_t i = 0; i < n / 5; i++)
                assert_memory_equal(v + i * 12, "ab\\n\\\"\\u0001", 12);
        assert_string_equal(v + n / 5 * 12, "a\"}");
        free(big);
        free(rd.out);
        trail_formatter_unref(rd.f);
}

static void json_time_is_utc_unless_told(void **state) {
        (void) state;
        struct render rd = {.f = trail_formatter_new("json")};

        assert_int_equal(trail_formatter_set(rd.f, "time", "sometimes"), -EINVAL);
        assert_int_equal(trail_formatter_set(rd.f, "colour", "always"), -ENOENT);
        const char *out = RENDER(&rd, TRAIL_INFO, TRAIL_NO_FIELDS, "t");
        assert_int_equal(strncmp(out, "{\"time\":\"", 9), 0);
        assert_memory_equal(out + 9 + 26, "Z\"", 2);

        setenv("TZ", "XYZ-05:30", 1);
        tzset();
        assert_int_equal(trail_formatter_set(rd.f, "time", "local"), 0);
        out = RENDER(&rd, TRAIL_INFO, TRAIL_NO_FIELDS, "t");
        assert_memory_equal(out + 9 + 26, "+05:30\"", 7);
        unsetenv("TZ");
        tzset();
        free(rd.out);
        trail_formatter_unref(rd.f);
}

static void stream_handler_writes_json_lines(void **state) {
        (void) state;
        int fd = memfd_create("json", 0);
        trail_handler *h = trail_handler_stream(fd, "json");
        trail_logger *lg = trail_get("json.stream");
        char buf[4096] = "";

        assert_non_null(h);
        trail_formatter *f = trail_formatter_new("json");
        assert_string_equal(trail_formatter_name(f), "json");
        trail_formatter_unref(f);
        trail_logger_add_handler(lg, h);
        trail_logger_set_propagate(lg, false);
        trail_info(lg, "one");
        trail_info(lg, "two");
        assert_true(pread(fd, buf, sizeof(buf) - 1, 0) > 0);
        const char *second = strchr(buf, '\n');
        assert_non_null(second);
        assert_non_null(strstr(buf, "\"message\":\"one\""));
        assert_non_null(strstr(second + 1, "\"message\":\"two\""));
        assert_int_equal(buf[strlen(buf) - 1], '\n');
        assert_int_equal(buf[strlen(buf) - 2], '}');
        trail_logger_remove_handler(lg, h);
        trail_handler_unref(h);
        close(fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(json_renders_the_hostile_corpus_like_the_golden_file),
                cmocka_unit_test(json_keys_never_repeat),
                cmocka_unit_test(json_takes_a_value_of_a_mebibyte),
                cmocka_unit_test(json_time_is_utc_unless_told),
                cmocka_unit_test(stream_handler_writes_json_lines),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
