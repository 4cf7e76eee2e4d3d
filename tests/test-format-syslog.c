/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The RFC 5424 and RFC 3164 formatters: PRI arithmetic, header cuts,
 * escaping, UTF-8 repair, truncation and time zones, each output checked
 * against RFC 5424's grammar. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "rfc5424-grammar.h"
#include "sd-name.h"
#include "trail.h"

static trail_formatter *probe;
static char *out;
static int out_len;
static int64_t out_usec;

static bool render(const trail_record *r, void *userdata) {
        (void) userdata;
        out_len = trail_formatter_format(probe, r, NULL, 0);
        assert_true(out_len >= 0);
        free(out);
        out = malloc((size_t) out_len + 1);
        assert_int_equal(trail_formatter_format(probe, r, out, (size_t) out_len + 1), out_len);
        out_usec = trail_record_time_usec(r);
        return false; /* rendered here; no handler needed */
}

static trail_logger *lg;

static int setup(void **state) {
        (void) state;
        lg = trail_get("fmt.syslog");
        trail_logger_set_level(lg, TRAIL_DEBUG);
        trail_logger_add_filter(lg, render, NULL);
        return 0;
}

static int teardown(void **state) {
        (void) state;
        trail_logger_remove_filter(lg, render, NULL);
        free(out);
        return 0;
}

static void use(const char *format) {
        trail_formatter_unref(probe);
        probe = trail_formatter_new(format);
        assert_non_null(probe);
}

static void assert_grammar(void) {
        const char *e = rfc5424_check(out, (size_t) out_len, NULL, NULL, 0, NULL);
        if (e)
                fail_msg("%s in: %s", e, out);
}

static const char *param(const char *name) {
        static char v[4096];
        bool found;
        const char *e = rfc5424_check(out, (size_t) out_len, name, v, sizeof(v), &found);
        if (e)
                fail_msg("%s in: %s", e, out);
        return found ? v : NULL;
}

static void pri_is_facility_times_eight_plus_level(void **state) {
        (void) state;
        use("rfc5424");
        assert_int_equal(trail_formatter_set(probe, "facility", "local7"), 0);
        trail_debug(lg, "x");
        assert_true(strncmp(out, "<191>1 ", 7) == 0);
        use("rfc5424");
        assert_int_equal(trail_formatter_set(probe, "facility", "kern"), 0);
        trail_emergency(lg, "x");
        assert_true(strncmp(out, "<0>1 ", 5) == 0);
        use("rfc5424"); /* the process facility, daemon by default */
        trail_error(lg, "x");
        assert_true(strncmp(out, "<27>1 ", 6) == 0);
        assert_int_equal(trail_set_facility(20), 0);
        trail_warning(lg, "x");
        assert_true(strncmp(out, "<164>1 ", 7) == 0);
        assert_int_equal(trail_set_facility(3), 0);
        assert_int_equal(trail_formatter_set(probe, "facility", "24"), -EINVAL);
        assert_int_equal(trail_formatter_set(probe, "facility", "nope"), -EINVAL);
        assert_grammar();
}

/* The timestamp, as the test computes it from the record's own time. */
static void expect_time(const char *tz) {
        char want[64], frac[16];
        time_t sec = (time_t) (out_usec / 1000000);
        struct tm tm;
        localtime_r(&sec, &tm);
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(frac, sizeof(frac), ".%06lld", (long long) (out_usec % 1000000));
        strcat(want, frac);
        long off = tm.tm_gmtoff / 60;
        if (off == 0)
                strcat(want, "Z");
        else
                snprintf(want + strlen(want), 16, "%c%02d:%02d", off < 0 ? '-' : '+',
                         (int) (labs(off) / 60 % 100), (int) (labs(off) % 60));
        const char *ts = strchr(out, ' ') + 1;
        if (strncmp(ts, want, strlen(want)) != 0 || ts[strlen(want)] != ' ')
                fail_msg("TZ=%s: want %s in %s", tz, want, out);
}

static void timestamps_carry_the_local_offset(void **state) {
        (void) state;
        static const char *const zones[] = {"UTC",
                                            "Asia/Kolkata",
                                            "America/St_Johns",
                                            "Pacific/Chatham",
                                            "America/Los_Angeles",
                                            "Europe/Berlin"};
        char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

        use("rfc5424");
        for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
                setenv("TZ", zones[i], 1);
                tzset();
                trail_info(lg, "t");
                expect_time(zones[i]);
                assert_grammar();
        }
        /* utc=yes: always Z */
        setenv("TZ", "Asia/Kolkata", 1);
        tzset();
        assert_int_equal(trail_formatter_set(probe, "utc", "yes"), 0);
        trail_info(lg, "t");
        setenv("TZ", "UTC", 1);
        tzset();
        expect_time("UTC (utc=yes)");
        if (saved)
                setenv("TZ", saved, 1);
        else
                unsetenv("TZ");
        tzset();
        free(saved);
}

static void header_fields_are_cut_and_kept_printable(void **state) {
        (void) state;
        use("rfc5424");
        assert_int_equal(trail_formatter_set(probe, "hostname", "host.example.com"), 0);
        assert_int_equal(trail_formatter_set(probe, "hostname", "bad host"), -EINVAL);
        assert_int_equal(trail_formatter_set(probe, "app_name", "my-app"), 0);
        trail_info(lg, "x");
        char pid[96];
        snprintf(pid, sizeof(pid), " host.example.com my-app %d - [trail@32473 ", (int) getpid());
        assert_non_null(strstr(out, pid));

        /* the ident as APP-NAME (trail_set_ident() keeps it to APP-NAME's rules) */
        use("rfc5424");
        assert_int_equal(trail_set_ident("ident-x"), 0);
        trail_info(lg, "x");
        assert_non_null(strstr(out, " ident-x "));
        assert_int_equal(trail_set_ident(NULL), 0);

        /* MSGID: the MESSAGE_ID, cut to 32 */
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_MESSAGE_ID("0123456789abcdef0123456789abcdefXYZ")),
                        "x");
        assert_non_null(strstr(out, " 0123456789abcdef0123456789abcdef [trail@32473 "));
        assert_grammar();
}

static void sd_values_escape_quote_backslash_and_bracket(void **state) {
        (void) state;
        use("rfc5424");
        trail_info_with(lg,
                        TRAIL_FIELDS(TRAIL_STR("V", "a\"b\\c]d[e=f g"),
                                     TRAIL_STR("A_VERY_LONG_FIELD_NAME_OF_FORTY_CHARACTERS", "x"),
                                     TRAIL_STR("NL", "one\ntwo")),
                        "m");
        assert_non_null(strstr(out, " V=\"a\\\"b\\\\c\\]d[e=f g\""));
        assert_string_equal(param("V"), "a\"b\\c]d[e=f g");
        char cut[33];
        assert_string_equal(param(sd_name_cut("A_VERY_LONG_FIELD_NAME_OF_FORTY_CHARACTERS", cut)),
                            "x");
        /* control characters escaped: no line break (CWE-117) */
        assert_string_equal(param("NL"), "one\\ntwo");
        assert_string_equal(param("LOGGER"), "fmt.syslog");
        assert_string_equal(param("CODE_FUNC"), "sd_values_escape_quote_backslash_and_bracket");
        assert_non_null(param("CODE_LINE"));
        assert_non_null(param("TID"));

        /* the enterprise number is configurable, digits and dots only */
        use("rfc5424");
        assert_int_equal(trail_formatter_set(probe, "enterprise", "1.3.6"), 0);
        assert_int_equal(trail_formatter_set(probe, "enterprise", "12a"), -EINVAL);
        assert_int_equal(trail_formatter_set(probe, "enterprise", ".1"), -EINVAL);
        trail_info(lg, "m");
        assert_non_null(strstr(out, " [trail@1.3.6 LOGGER="));
        assert_grammar();
}

/* RFC 5424 §6.3.3 takes SD-NAMEs of at most 32 characters: longer names are
 * cut, and names that differ stay different within the element, the same
 * name stays the same, and the cut does not depend on anything but the
 * names (trail(7)). */
static void long_sd_names_stay_unique_within_the_element(void **state) {
        (void) state;
        /* two names that share their first 32 characters, and one of them
         * twice: repeated SD-PARAMs are RFC 5424's */
        static const char a[] = "SHARED_PREFIX_OF_THIRTY_TWO_CHAR_ALPHA",
                          b[] = "SHARED_PREFIX_OF_THIRTY_TWO_CHAR_BETA";
        /* FNV-1a 32 of these two is the same (0xb6132ccb): the second takes
         * salt 1 */
        static const char c1[] = "COLLIDING_FIELD_NAME_X_SUFFIX_LC49_END",
                          c2[] = "COLLIDING_FIELD_NAME_X_SUFFIX_00PB_END";
        char cut[33], cut2[33];

        use("rfc5424");
        trail_info_with(lg,
                        TRAIL_FIELDS(TRAIL_STR(a, "1"), TRAIL_STR(b, "2"), TRAIL_STR(c1, "3"),
                                     TRAIL_STR(c2, "4"),
                                     TRAIL_STR("EXACTLY_THIRTY_TWO_CHARACTERS_XY", "5")),
                        "m");
        assert_grammar();
        assert_string_equal(param(sd_name_cut(a, cut)), "1");
        assert_string_equal(param(sd_name_cut(b, cut)), "2");
        assert_string_not_equal(sd_name_cut(a, cut), sd_name_cut(b, cut2));
        assert_string_equal(sd_name_cut(c1, cut), sd_name_cut(c2, cut2));
        assert_string_equal(param(sd_name_cut(c1, cut)), "3");
        assert_string_equal(param(sd_name_cut_salted(c2, 1, cut)), "4");
        assert_string_equal(param("EXACTLY_THIRTY_TWO_CHARACTERS_XY"), "5");
        assert_null(param("SHARED_PREFIX_OF_THIRTY_TWO_CHAR"));

        /* in the other order the other one is salted */
        use("rfc5424");
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR(c2, "4"), TRAIL_STR(c1, "3")), "m");
        assert_string_equal(param(sd_name_cut(c2, cut)), "4");
        assert_string_equal(param(sd_name_cut_salted(c1, 1, cut)), "3");

        /* 60 names of 64 characters that share their first 60 */
        char names[60][65];
        trail_field f[60];
        for (int i = 0; i < 60; i++) {
                snprintf(names[i], sizeof(names[i]), "%s%04d",
                         "SIXTY_NAMES_THAT_SHARE_THE_FIRST_SIXTY_CHARACTERS_OF_THEIR_", i);
                f[i] = TRAIL_INT(names[i], i);
        }
        use("rfc5424");
        trail_log_with(lg, TRAIL_INFO, ((trail_fields){f, 60}), "m");
        assert_grammar();
        for (int i = 0; i < 60; i++) {
                char want[16];
                snprintf(want, sizeof(want), "%d", i);
                assert_non_null(param(sd_name_cut(names[i], cut)));
                assert_string_equal(param(sd_name_cut(names[i], cut)), want);
        }
}

static void invalid_utf8_is_repaired_never_sent_as_utf8(void **state) {
        (void) state;
        use("rfc5424");
        trail_info_with(lg,
                        TRAIL_FIELDS(TRAIL_BYTES("B",
                                                 "a\xff\xfe"
                                                 "b",
                                                 4)),
                        "bad \xc3\x28 and \xe0\x80\x80 end");
        assert_grammar();
        assert_string_equal(param("B"), "a\xef\xbf\xbd\xef\xbf\xbd"
                                        "b");
        const char *msg = strstr(out, "] \xef\xbb\xbf");
        assert_non_null(msg);
        assert_string_equal(msg + 5,
                            "bad \xef\xbf\xbd( and \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end");
}

static void long_messages_are_cut_at_a_character_and_marked(void **state) {
        (void) state;
        char *big = malloc(3001);
        for (int i = 0; i < 3000; i += 2)
                memcpy(big + i, "\xc3\xa9", 2);
        big[3000] = '\0';

        use("rfc5424");
        assert_int_equal(trail_formatter_set(probe, "max_length", "100"), -EINVAL);
        assert_int_equal(trail_formatter_set(probe, "max_length", "600"), 0);
        trail_info(lg, "%s", big);
        assert_true(out_len <= 600);
        assert_grammar();
        assert_true(strcmp(out + out_len - 14, "...[truncated]") == 0);

        /* fields too big for the maximum: the lowest precedence ones go */
        trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("FIRST", big), TRAIL_STR("LAST", "kept")),
                        "short");
        assert_true(out_len <= 600);
        assert_grammar();
        assert_null(param("FIRST"));
        assert_string_equal(param("LAST"), "kept");
        assert_string_equal(param("TRUNCATED_FIELDS"), "1");
        assert_non_null(strstr(out, "\xef\xbb\xbfshort"));
        free(big);
}

static void rfc3164_is_the_legacy_line_with_escapes(void **state) {
        (void) state;
        use("rfc3164");
        assert_int_equal(trail_formatter_set(probe, "tag", "legacy"), 0);
        assert_int_equal(trail_formatter_set(probe, "tag", "has space"), -EINVAL);
        trail_notice_with(lg, TRAIL_FIELDS(TRAIL_STR("K", "v w"), TRAIL_INT("N", 3)),
                          "line\none\x1b[31m");

        char want[128], stamp[32];
        time_t sec = (time_t) (out_usec / 1000000);
        struct tm tm;
        localtime_r(&sec, &tm);
        strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
        snprintf(want, sizeof(want), "<29>%s legacy[%d]: line\\none\\x1b[31m K=\"v w\" N=3", stamp,
                 (int) getpid());
        assert_string_equal(out, want);
        assert_null(strchr(out, '\n'));
}

/* trail(7): in every text line, newline, carriage return and tab are
 * \n, \r and \t, in the message and in values. */
static void rfc3164_writes_cr_lf_and_tab_as_letter_escapes(void **state) {
        (void) state;
        use("rfc3164");
        trail_notice_with(lg, TRAIL_FIELDS(TRAIL_STR("K", "x\r\ny\tz")), "a\r\nb\tc");
        assert_non_null(strstr(out, "]: a\\r\\nb\\tc K=\"x\\r\\ny\\tz\""));
        assert_null(strchr(out, '\r'));
        assert_null(strchr(out, '\n'));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(pri_is_facility_times_eight_plus_level),
                cmocka_unit_test(timestamps_carry_the_local_offset),
                cmocka_unit_test(header_fields_are_cut_and_kept_printable),
                cmocka_unit_test(sd_values_escape_quote_backslash_and_bracket),
                cmocka_unit_test(long_sd_names_stay_unique_within_the_element),
                cmocka_unit_test(invalid_utf8_is_repaired_never_sent_as_utf8),
                cmocka_unit_test(long_messages_are_cut_at_a_character_and_marked),
                cmocka_unit_test(rfc3164_is_the_legacy_line_with_escapes),
                cmocka_unit_test(rfc3164_writes_cr_lf_and_tab_as_letter_escapes),
        };
        int r = cmocka_run_group_tests(tests, setup, teardown);
        trail_formatter_unref(probe);
        return r;
}
