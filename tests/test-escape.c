/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one escaper of the text formats (format.c): what each kind of byte
 * becomes, the three ways with invalid UTF-8, and the cut to a length:
 * never inside an escape or a character, and escaped_len() always what
 * escape() writes. The formats' own output is in the golden and fuzz tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "logger-private.h"

static const struct escaper plain = {
        .byte = {ESCAPE_CONTROLS(ESC_HEX, 't', 'n', ESC_HEX, 'r'), ['\\'] = '\\', [']'] = ']'},
        .invalid = ESCAPE_INVALID_HEX,
};
static const struct escaper replacing = {
        .byte = {ESCAPE_CONTROLS(ESC_HEX, 't', 'n', ESC_HEX, ESC_HEX)},
        .invalid = ESCAPE_INVALID_REPLACE,
};

static char out[4096];

static const char *esc(const char *s, size_t n, const struct escaper *e) {
        char *end = escape(out, s, n, e);
        assert_true(end >= out && end < out + sizeof(out));
        *end = '\0';
        return out;
}
#define ESC(lit, e) esc((lit), sizeof(lit) - 1, (e))

static void text_that_needs_nothing_is_copied(void **state) {
        (void) state;
        assert_string_equal(ESC("", &plain), "");
        assert_string_equal(ESC("plain ASCII \"quoted\" = x", &plain),
                            "plain ASCII \"quoted\" = x");
        /* 2, 3 and 4 bytes, U+00A0 (after the C1 controls), U+FFFF, U+10FFFF */
        assert_string_equal(ESC("Z\xc3\xbcrich \xe6\x97\xa5 \xf0\x9f\x98\x80 \xc2\xa0\xef\xbf\xbf"
                                "\xf4\x8f\xbf\xbf",
                                &plain),
                            "Z\xc3\xbcrich \xe6\x97\xa5 \xf0\x9f\x98\x80 \xc2\xa0\xef\xbf\xbf"
                            "\xf4\x8f\xbf\xbf");
}

static void the_table_names_each_escape(void **state) {
        (void) state;
        assert_string_equal(ESC("a\\b]c\n\r\t", &plain), "a\\\\b\\]c\\n\\r\\t");
        assert_string_equal(ESC("\x01\x1b[0m\x7f", &plain), "\\x01\\x1b[0m\\x7f");
        assert_string_equal(ESC("\r\b\f", &replacing), "\\x0d\\x08\\x0c");
        assert_string_equal(ESC("\b\f\"\\", &json_escaper), "\\b\\f\\\"\\\\");
        assert_string_equal(ESC("\x01\x7f", &json_escaper), "\\u0001\\u007f");
}

static void c1_controls_and_line_separators_are_escaped(void **state) {
        (void) state;
        /* U+0085, U+009F, U+2028, U+2029: per byte, or JSON's code point */
        assert_string_equal(ESC("\xc2\x85\xc2\x9f", &plain), "\\xc2\\x85\\xc2\\x9f");
        assert_string_equal(ESC("\xe2\x80\xa8\xe2\x80\xa9", &plain),
                            "\\xe2\\x80\\xa8\\xe2\\x80\\xa9");
        assert_string_equal(ESC("\xc2\x85\xe2\x80\xa8\xe2\x80\xa9", &json_escaper),
                            "\\u0085\\u2028\\u2029");
        /* their neighbours are text */
        assert_string_equal(ESC("\xe2\x80\xa7\xe2\x80\xaa", &json_escaper),
                            "\xe2\x80\xa7\xe2\x80\xaa");
}

static void invalid_utf8_is_hex_or_replaced_per_byte_or_per_subpart(void **state) {
        (void) state;
        /* a 3-byte sequence cut short, an overlong, a surrogate, a stray byte */
        static const char bad[] = "\xe2\x80!\xc0\xaf\xed\xa0\x80\xff";
        assert_string_equal(esc(bad, sizeof(bad) - 1, &plain),
                            "\\xe2\\x80!\\xc0\\xaf\\xed\\xa0\\x80\\xff");
        assert_string_equal(esc(bad, sizeof(bad) - 1, &replacing),
                            "\xef\xbf\xbd\xef\xbf\xbd!\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
        /* Unicode §3.9: "\xe2\x80" is one maximal subpart; the others one byte each */
        assert_string_equal(esc(bad, sizeof(bad) - 1, &json_escaper),
                            "\xef\xbf\xbd!\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                            "\xef\xbf\xbd\xef\xbf\xbd");
}

/* Every kind of byte, with runs long enough for the fast path. */
static size_t mixed(char *s) {
        static const char *const parts[] = {
                "a long run of plain ASCII, long enough for the fast path ",
                "\n",
                "\\",
                "]",
                "\x01",
                "\xc3\xa9",
                "\xe6\x97\xa5",
                "\xf0\x9f\x98\x80",
                "\xc2\x85",
                "\xe2\x80\xa8",
                "\xe2\x80",
                "\xff",
                "\xed\xa0\x80",
                "xy",
        };
        size_t n = 0;
        for (int round = 0; round < 3; round++)
                for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
                        size_t k = strlen(parts[(i * 3 + (size_t) round) % 14]);
                        memcpy(s + n, parts[(i * 3 + (size_t) round) % 14], k);
                        n += k;
                }
        return n;
}

static void a_cut_is_a_whole_prefix_that_fits(void **state) {
        (void) state;
        const struct escaper *all[] = {&plain, &replacing, &json_escaper};
        char s[512], full[2048], cut[2048], again[2048];
        size_t n = mixed(s);

        for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
                size_t full_len = (size_t) (escape(full, s, n, all[k]) - full), last = 0;
                assert_int_equal(escaped_len(s, n, all[k]), full_len);
                for (size_t room = 0; room <= full_len + 1; room++) {
                        size_t used;
                        size_t len = (size_t) (escape_cut(cut, s, n, all[k], room, &used) - cut);
                        assert_true(len <= room);
                        assert_true(used >= last); /* more room, never less text */
                        last = used;
                        /* exactly the escape of what it consumed: no escape
                         * or character is split */
                        assert_int_equal((size_t) (escape(again, s, used, all[k]) - again), len);
                        assert_memory_equal(again, cut, len);
                        assert_memory_equal(full, cut, len);
                        if (room >= full_len)
                                assert_int_equal(used, n);
                        else
                                assert_true(used < n);
                }
        }
}

static void escaped_len_counts_what_escape_writes(void **state) {
        (void) state;
        const struct escaper *all[] = {&plain, &replacing, &json_escaper};
        unsigned seed = 1;
        char s[700];

        for (int t = 0; t < 2000; t++) {
                size_t n = (size_t) (rand_r(&seed) % (int) sizeof(s));
                for (size_t i = 0; i < n; i++)
                        s[i] = (char) (rand_r(&seed) % 4 ? 0x20 + rand_r(&seed) % 95
                                                         : rand_r(&seed) % 256);
                for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
                        char w[6 * sizeof(s)];
                        size_t len = (size_t) (escape(w, s, n, all[k]) - w);
                        assert_int_equal(escaped_len(s, n, all[k]), len);
                        assert_true(len <= (all[k]->json ? 6 : 4) * n);
                }
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(text_that_needs_nothing_is_copied),
                cmocka_unit_test(the_table_names_each_escape),
                cmocka_unit_test(c1_controls_and_line_separators_are_escaped),
                cmocka_unit_test(invalid_utf8_is_hex_or_replaced_per_byte_or_per_subpart),
                cmocka_unit_test(a_cut_is_a_whole_prefix_that_fits),
                cmocka_unit_test(escaped_len_counts_what_escape_writes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
