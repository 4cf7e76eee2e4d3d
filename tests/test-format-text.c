/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "text" formatter: golden corpus, patterns (parsing, every attribute,
 * width and alignment), colour, and reading the default line back. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "format-util.h"
#include "test-util.h"

#define DEFAULT_PATTERN "%(asctime)s %(levelname)s %(name)s: %(message)s %(fields)s"

static trail_formatter *text_with(const char *key, const char *value) {
        trail_formatter *f = trail_formatter_new("text");
        assert_non_null(f);
        if (key)
                assert_int_equal(trail_formatter_set(f, key, value), 0);
        return f;
}

static void text_renders_the_hostile_corpus_like_the_golden_file(void **state) {
        (void) state;
        trail_formatter *f = text_with("color", "never");
        char *all = render_corpus(f);

        assert_true(golden_matches("text-default.txt", all));
        assert_int_equal(clean_lines(all), 8);
        free(all);
        trail_formatter_unref(f);

        f = text_with("pattern", "%(created)s|%(levelno)d|%(levelname)-9s|%(name)12s|"
                                 "%(filename)s:%(lineno)d %(funcName)s()|%(REQUEST_ID)s|"
                                 "%(message)s|%(fields)s");
        all = render_corpus(f);
        all = replace_all(all, "^[0-9]{10}\\.[0-9]{6}\\|", "CREATED|");
        all = replace_all(all, "\n[0-9]{10}\\.[0-9]{6}\\|", "\nCREATED|");
        assert_true(golden_matches("text-pattern.txt", all));
        free(all);
        trail_formatter_unref(f);
}

static void the_default_pattern_is_the_documented_one(void **state) {
        (void) state;
        trail_formatter *dflt = text_with("color", "never");
        trail_formatter *explicit = text_with("pattern", DEFAULT_PATTERN);
        struct render a = {.f = dflt}, b = {.f = explicit};
        trail_fields fs = TRAIL_FIELDS(TRAIL_STR("K", "v w"), TRAIL_INT("N", 1));

        /* both in the same second, almost surely: compare without the time */
        for (int k = 0; k < 2; k++) {
                trail_fields use = k ? fs : TRAIL_NO_FIELDS;
                char *x = normalise(RENDER(&a, TRAIL_INFO, use, "same"));
                char *y = normalise(RENDER(&b, TRAIL_INFO, use, "same"));
                assert_string_equal(x, y);
                assert_string_equal(x, k ? "TIME INFO golden.app: same K=\"v w\" N=1"
                                         : "TIME INFO golden.app: same");
                free(x);
                free(y);
        }
        free(a.out);
        free(b.out);
        trail_formatter_unref(dflt);
        trail_formatter_unref(explicit);
}

static void bad_patterns_are_refused(void **state) {
        (void) state;
        static const char *const bad[] = {
                "%",
                "50%",
                "%s",
                "%(",
                "%(name",
                "%(name)",
                "%(name)x",
                "%()s",
                "%(nosuch)s",
                "%(lower_field)s",
                "%(name)5.3s",
                "%(name)+5s",
                "%(name)99999s",
                "%(_X)s",
                "%(1X)s",
                "%(ASCTIME )s",
        };
        trail_formatter *f = trail_formatter_new("text");

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (trail_formatter_set(f, "pattern", bad[i]) != -EINVAL)
                        fail_msg("pattern \"%s\" was taken", bad[i]);
        assert_int_equal(trail_formatter_set(f, "color", "sometimes"), -EINVAL);
        assert_int_equal(trail_formatter_set(f, "time", "tomorrow"), -EINVAL);
        assert_int_equal(trail_formatter_set(f, "patern", "%(name)s"), -ENOENT);
        assert_int_equal(trail_formatter_set(f, "pattern", "100%% %(name)s%%"), 0);
        trail_formatter_unref(f);

        /* and through a handler, as trail.conf(5) sets it */
        trail_handler *h = trail_handler_stream(2, "text");
        assert_int_equal(trail_handler_set(h, "pattern", "%(nosuch)s"), -EINVAL);
        assert_int_equal(trail_handler_set(h, "pattern", "%(message)s"), 0);
        trail_handler_unref(h);
}

static void every_attribute_renders(void **state) {
        (void) state;
        struct render rd = {.f = text_with("pattern",
                                           "100%% [%(levelname)-8s|%(levelname)8s|"
                                           "%(levelno)s|%(name)s|%(filename)s|%(pathname)s|"
                                           "%(lineno)d|%(funcName)s|%(R)s|%(MISSING)s|"
                                           "%(fields)s]")};
        const char *out = RENDER(&rd, TRAIL_WARNING,
                                 TRAIL_FIELDS(TRAIL_STR("R", "r 1"), TRAIL_INT("N", 5)), "m");
        assert_string_equal(out, "100% [WARNING | WARNING|4|golden.app|orders.c|src/app/orders.c|"
                                 "42|place_order|\"r 1\"|-|N=5]");
        trail_formatter_unref(rd.f);

        char want[64];
        rd.f = text_with("pattern", "%(process)d %(thread)d %(created)f %(ident)s");
        out = RENDER(&rd, TRAIL_INFO, TRAIL_NO_FIELDS, "m");
        snprintf(want, sizeof(want), "%d %d ", (int) getpid(), (int) gettid());
        assert_int_equal(strncmp(out, want, strlen(want)), 0);
        const char *created = out + strlen(want);
        assert_true(strchr(created, '.') - created == 10);
        assert_true(labs(atol(created) - (long) time(NULL)) < 5);
        assert_string_equal(strchr(created, ' ') + 1, "test-format-text");
        trail_formatter_unref(rd.f);
        free(rd.out);
}

static void width_counts_characters_and_never_truncates(void **state) {
        (void) state;
        struct render rd = {.f = text_with("pattern", "[%(message)-4s][%(message)4s][%(name)3s]")};

        const char *out = RENDER(&rd, TRAIL_INFO, TRAIL_NO_FIELDS, "\xc3\xa9t\xc3\xa9");
        assert_string_equal(out, "[\xc3\xa9t\xc3\xa9 ][ \xc3\xa9t\xc3\xa9][golden.app]");
        trail_formatter_unref(rd.f);
        free(rd.out);
}

static void fields_leave_out_the_named_and_their_separator_when_empty(void **state) {
        (void) state;
        struct render rd = {.f = text_with("pattern", "%(message)s  %(fields)s|%(A)s")};

        const char *out =
                RENDER(&rd, TRAIL_INFO, TRAIL_FIELDS(TRAIL_INT("A", 1), TRAIL_INT("B", 2)), "m");
        assert_string_equal(out, "m  B=2|1");
        out = RENDER(&rd, TRAIL_INFO, TRAIL_FIELDS(TRAIL_INT("A", 1)), "m");
        assert_string_equal(out, "m|1");
        trail_formatter_unref(rd.f);
        free(rd.out);
}

static void colour_follows_the_option(void **state) {
        (void) state;
        struct render rd = {.f = text_with("color", "always")};

        const char *out = RENDER(&rd, TRAIL_ERROR, TRAIL_NO_FIELDS, "bad");
        assert_int_equal(strncmp(out, "\x1b[31m", 5), 0);
        assert_string_equal(out + strlen(out) - 4, "\x1b[0m");
        out = RENDER(&rd, TRAIL_WARNING, TRAIL_NO_FIELDS, "hmm");
        assert_int_equal(strncmp(out, "\x1b[33m", 5), 0);
        out = RENDER(&rd, TRAIL_INFO, TRAIL_NO_FIELDS, "fine");
        assert_null(strchr(out, '\x1b')); /* info stays plain */
        trail_formatter_unref(rd.f);

        /* auto: no terminal behind trail_formatter_format() */
        rd.f = text_with("color", "auto");
        out = RENDER(&rd, TRAIL_ERROR, TRAIL_NO_FIELDS, "bad");
        assert_null(strchr(out, '\x1b'));
        trail_formatter_unref(rd.f);
        rd.f = text_with("color", "never");
        out = RENDER(&rd, TRAIL_CRITICAL, TRAIL_NO_FIELDS, "bad");
        assert_null(strchr(out, '\x1b'));
        trail_formatter_unref(rd.f);
        free(rd.out);
}

/* Logs one error through a stream handler on a pseudo-terminal and returns
 * whether the line came out coloured. */
static bool coloured_on_a_terminal(const char *color_option) {
        int master = posix_openpt(O_RDWR | O_NOCTTY);
        char buf[512] = "";

        assert_true(master >= 0);
        assert_int_equal(grantpt(master), 0);
        assert_int_equal(unlockpt(master), 0);
        int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
        assert_true(slave >= 0);

        trail_handler *h = trail_handler_stream(slave, "text");
        trail_logger *lg = trail_get("colour.tty");
        if (color_option)
                assert_int_equal(trail_handler_set(h, "color", color_option), 0);
        trail_logger_add_handler(lg, h);
        trail_logger_set_propagate(lg, false);
        trail_error(lg, "on a terminal");
        ssize_t n = read(master, buf, sizeof(buf) - 1);
        assert_true(n > 0);
        assert_non_null(strstr(buf, "on a terminal"));
        trail_logger_remove_handler(lg, h);
        trail_handler_unref(h);
        close(slave);
        close(master);
        return strstr(buf, "\x1b[31m") != NULL;
}

static void colour_on_a_terminal_unless_no_color(void **state) {
        (void) state;
        unsetenv("NO_COLOR");
        assert_true(coloured_on_a_terminal(NULL));
        assert_false(coloured_on_a_terminal("never"));
        setenv("NO_COLOR", "", 1); /* empty: no effect (no-color.org) */
        assert_true(coloured_on_a_terminal(NULL));
        setenv("NO_COLOR", "1", 1);
        assert_false(coloured_on_a_terminal(NULL));
        assert_true(coloured_on_a_terminal("always"));
        unsetenv("NO_COLOR");
}

/* ---- Reading the default line back -------------------------------------- */

/* Undoes escape(): "\\", "\"", "\n", "\r", "\t", "\xNN". */
static size_t unescape(const char *s, size_t n, char *out) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] != '\\') {
                        out[k++] = s[i];
                        continue;
                }
                char c = s[++i];
                if (c == 'n')
                        out[k++] = '\n';
                else if (c == 'r')
                        out[k++] = '\r';
                else if (c == 't')
                        out[k++] = '\t';
                else if (c == 'x') {
                        char h[3] = {s[i + 1], s[i + 2], 0};
                        out[k++] = (char) strtol(h, NULL, 16);
                        i += 2;
                } else
                        out[k++] = c;
        }
        return k;
}

/* A quoted string starting at s: its end (after the closing quote). */
static const char *quoted_end(const char *s) {
        for (s++; *s != '"'; s++)
                if (*s == '\\')
                        s++;
        return s + 1;
}

/* Parses "TIME LEVEL logger: MESSAGE K=V …": the message, and the value of
 * field key (NULL if absent). The message is quoted, or holds no '=' so the
 * first '=' is the first field's. */
static void parse_line(const char *line, char *msg, size_t *msg_len, const char *key, char *val,
                       size_t *val_len) {
        const char *m = strstr(line, ": ") + 2, *end;

        if (*m == '"') {
                end = quoted_end(m);
                *msg_len = unescape(m + 1, (size_t) (end - m - 2), msg);
        } else {
                const char *eq = strchr(m, '=');
                if (eq) {
                        end = eq;
                        while (end > m && end[-1] != ' ')
                                end--;
                        end--; /* the one space before the first field */
                } else
                        end = m + strlen(m);
                *msg_len = unescape(m, (size_t) (end - m), msg);
        }
        *val_len = (size_t) -1;
        for (const char *p = end; *p == ' ';) {
                const char *k = p + 1, *eq = strchr(k, '='), *v = eq + 1, *vend;
                vend = *v == '"' ? quoted_end(v) : v + strcspn(v, " ");
                if ((size_t) (eq - k) == strlen(key) && memcmp(k, key, strlen(key)) == 0) {
                        if (*v == '"')
                                *val_len = unescape(v + 1, (size_t) (vend - v - 2), val);
                        else
                                *val_len = unescape(v, (size_t) (vend - v), val);
                }
                p = vend;
        }
}

static void the_default_line_reads_back_byte_for_byte(void **state) {
        (void) state;
        static const char *const hostile[] = {
                "plain",
                "a=b",
                "USER=admin forged",
                "\"quoted\" start",
                "back\\slash \\x41 not an escape",
                "new\nline\rcr\ttab \x1b[31m esc",
                "invalid \xff\xfe utf8 \xc0\xaf overlong \xe2\x82",
                "valid caf\xc3\xa9 C1 \xc2\x85 lsep \xe2\x80\xa8",
                "trailing space ",
                " leading space",
                "",
                "= K=V",
                "\" K=\"V\"",
        };
        struct render rd = {.f = text_with("color", "never")};
        char msg[256], val[256];
        size_t ml, vl;

        for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
                for (size_t j = 0; j < sizeof(hostile) / sizeof(hostile[0]); j++) {
                        const char *m = hostile[i] ? hostile[i] : "";
                        const char *out = RENDER(
                                &rd, TRAIL_INFO,
                                TRAIL_FIELDS(TRAIL_STR("K", hostile[j]),
                                             TRAIL_BYTES("B", hostile[i], strlen(hostile[i]) + 1)),
                                "%s", m);
                        parse_line(out, msg, &ml, "K", val, &vl);
                        if (ml != strlen(hostile[i]) || memcmp(msg, hostile[i], ml) != 0)
                                fail_msg("message %zu did not read back from: %s", i, out);
                        if (vl != strlen(hostile[j]) || memcmp(val, hostile[j], vl) != 0)
                                fail_msg("value %zu did not read back from: %s", j, out);
                        parse_line(out, msg, &ml, "B", val, &vl);
                        if (vl != strlen(hostile[i]) + 1 || memcmp(val, hostile[i], vl) != 0)
                                fail_msg("bytes %zu did not read back from: %s", i, out);
                }
        trail_formatter_unref(rd.f);
        free(rd.out);
}

static void text_takes_a_value_of_a_mebibyte(void **state) {
        (void) state;
        struct render rd = {.f = text_with("color", "never")};
        size_t n = 1 << 20;
        char *big = big_value(n, "a\n\x1b\\");

        const char *out = RENDER(&rd, TRAIL_INFO, TRAIL_FIELDS(TRAIL_STR("BIG", big)), "big");
        const char *v = strstr(out, " BIG=\"");
        assert_non_null(v);
        v += strlen(" BIG=\"");
        for (size_t i = 0; i < n / 4; i++)
                assert_memory_equal(v + i * 9, "a\\n\\x1b\\\\", 9);
        assert_string_equal(v + n / 4 * 9, "\"");
        free(big);
        free(rd.out);
        trail_formatter_unref(rd.f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(text_renders_the_hostile_corpus_like_the_golden_file),
                cmocka_unit_test(the_default_pattern_is_the_documented_one),
                cmocka_unit_test(bad_patterns_are_refused),
                cmocka_unit_test(every_attribute_renders),
                cmocka_unit_test(width_counts_characters_and_never_truncates),
                cmocka_unit_test(fields_leave_out_the_named_and_their_separator_when_empty),
                cmocka_unit_test(colour_follows_the_option),
                cmocka_unit_test(colour_on_a_terminal_unless_no_color),
                cmocka_unit_test(the_default_line_reads_back_byte_for_byte),
                cmocka_unit_test(text_takes_a_value_of_a_mebibyte),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
