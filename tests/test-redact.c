/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Redaction by field name and the value scrubber, seen by a capture handler
 * and in what a stream handler writes: no secret in clear, and no false
 * alarm on the near misses of the corpus. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "stream-util.h"

static struct capture out; /* the stream handler's text */
static trail_handler *cap; /* the records */

static int setup(void **state) {
        (void) state;
        capture_start(&out, "redact");
        cap = trail_handler_capture();
        trail_logger_add_handler(out.lg, cap);
        return 0;
}

static int teardown(void **state) {
        (void) state;
        trail_logger_remove_handler(out.lg, cap);
        trail_handler_unref(cap);
        capture_stop(&out);
        return 0;
}

/* The value of name in the last record, NUL-terminated in a static buffer. */
static const char *last_value(const char *name) {
        static char buf[256];
        size_t n = trail_capture_count(cap);
        trail_field_view v;

        assert_true(n > 0);
        if (trail_record_find(trail_capture_get(cap, n - 1), name, &v) < 0)
                return NULL;
        if (v.type == TRAIL_FIELD_STR)
                snprintf(buf, sizeof(buf), "%.*s", (int) v.len, v.value.s);
        else if (v.type == TRAIL_FIELD_INT)
                snprintf(buf, sizeof(buf), "%lld", (long long) v.value.i);
        else
                snprintf(buf, sizeof(buf), "(type %d)", v.type);
        return buf;
}

static const char *last_message(void) {
        size_t n = trail_capture_count(cap);
        assert_true(n > 0);
        return trail_record_message(trail_capture_get(cap, n - 1), NULL);
}

static void named_fields_are_masked_on_every_sink(void **state) {
        (void) state;
        static const char *const masked[] = {
                "PASSWORD",      "password",     "DB_PASSWORD",   "db_password", "Api_Key",
                "X_API_KEY",     "ACCESS_TOKEN", "CSRF_TOKEN",    "SET_COOKIE",  "COOKIE",
                "AUTHORIZATION", "PRIVATE_KEY",  "CREDIT_CARD",   "SSN",         "SECRET",
                "CLIENT_SECRET", "PASSWD",       "REFRESH_TOKEN", "TOKEN",       "user-password",
        };
        static const char *const kept[] = {
                "PASSWORDLESS", "PASSWORD_HINT", "TOKENS", "TOKEN_COUNT", "MYPASSWORD",
                "SSNX",         "CVV2",          "USER",   "SECRETARY",
        };
        char value[64], normalised[64];

        for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++) {
                snprintf(value, sizeof(value), "hunter2-%zu", i);
                trail_info_with(out.lg, TRAIL_FIELDS(TRAIL_STR(masked[i], value)), "m%zu", i);
                size_t k = 0;
                for (const char *p = masked[i]; *p; p++)
                        normalised[k++] = (*p >= 'a' && *p <= 'z') ? (char) (*p - 32)
                                          : *p == '-'              ? '_'
                                                                   : *p;
                normalised[k] = '\0';
                const char *v = last_value(normalised);
                if (!v || strcmp(v, "****") != 0)
                        fail_msg("%s: %s", masked[i], v ? v : "(missing)");
                const char *text = capture_take(&out);
                if (strstr(text, value))
                        fail_msg("%s reached the stream in clear: %s", masked[i], text);
                assert_non_null(strstr(text, "=****"));
        }
        for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
                trail_info_with(out.lg, TRAIL_FIELDS(TRAIL_STR(kept[i], "visible")), "k%zu", i);
                const char *v = last_value(kept[i]);
                if (!v || strcmp(v, "visible") != 0)
                        fail_msg("%s was masked: %s", kept[i], v ? v : "(missing)");
        }
        (void) capture_take(&out);

        /* Any type: a number named CVV is masked too. */
        trail_info_with(out.lg, TRAIL_FIELDS(TRAIL_INT("CVV", 737)), "card check");
        assert_string_equal(last_value("CVV"), "****");
        const char *line = capture_take(&out); /* "737" alone could be in the time */
        assert_null(strstr(line, "=737"));
        assert_non_null(strstr(line, "CVV=****"));
}

static void context_and_global_fields_are_masked(void **state) {
        (void) state;
        assert_int_equal(trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("API_KEY", "glob-k3y"))),
                         0);
        {
                TRAIL_SCOPE(TRAIL_STR("SESSION_TOKEN", "ctx-t0ken"), TRAIL_STR("REQUEST_ID", "r1"));
                trail_info(out.lg, "with context");
        }
        assert_string_equal(last_value("API_KEY"), "****");
        assert_string_equal(last_value("SESSION_TOKEN"), "****");
        assert_string_equal(last_value("REQUEST_ID"), "r1");
        const char *text = capture_take(&out);
        assert_null(strstr(text, "glob-k3y"));
        assert_null(strstr(text, "ctx-t0ken"));
        assert_int_equal(trail_set_global_fields(TRAIL_NO_FIELDS), 0);
}

/* A name over 64 characters is cut to its first 64: a listed name at its
 * end still masks the value, in the call, the context and the global
 * fields; an over-long name that merely ends in a longer word does not. */
static void over_long_names_ending_in_a_listed_name_are_masked(void **state) {
        (void) state;
        static const struct {
                const char *name, *cut, *value, *want;
        } f[] = {
                {"ORDER_PIPELINE_STAGE_THREE_UPSTREAM_CONNECTOR_REPLICA_ZONE_DB_PASSWORD",
                 "ORDER_PIPELINE_STAGE_THREE_UPSTREAM_CONNECTOR_REPLICA_ZONE_DB_PA", "hunter2",
                 "****"},
                {"tenant.billing.region.eu-west.cluster.primary.replica.seven.api-key",
                 "TENANT_BILLING_REGION_EU_WEST_CLUSTER_PRIMARY_REPLICA_SEVEN_API_", "ctx-k3y",
                 "****"},
                {"GLOBAL_SERVICE_DEPLOYMENT_ENVIRONMENT_CONFIGURATION_VALUE_CLIENT_SECRET",
                 "GLOBAL_SERVICE_DEPLOYMENT_ENVIRONMENT_CONFIGURATION_VALUE_CLIENT", "glob-s3cret",
                 "****"},
                {"ORDER_PIPELINE_STAGE_THREE_UPSTREAM_CONNECTOR_REPLICA_ZONE_PASSWORDLESS",
                 "ORDER_PIPELINE_STAGE_THREE_UPSTREAM_CONNECTOR_REPLICA_ZONE_PASSW", "visible",
                 "visible"},
        };

        assert_int_equal(trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR(f[2].name, f[2].value))),
                         0);
        {
                TRAIL_SCOPE(TRAIL_STR(f[1].name, f[1].value));
                trail_info_with(out.lg,
                                TRAIL_FIELDS(TRAIL_STR(f[0].name, f[0].value),
                                             TRAIL_STR(f[3].name, f[3].value)),
                                "long names");
        }
        for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
                const char *v = last_value(f[i].cut);
                if (!v || strcmp(v, f[i].want) != 0)
                        fail_msg("%s: %s, want %s", f[i].name, v ? v : "(missing)", f[i].want);
        }
        const char *text = capture_take(&out);
        for (size_t i = 0; i < 3; i++)
                if (strstr(text, f[i].value))
                        fail_msg("%s reached the stream in clear: %s", f[i].value, text);
        assert_non_null(strstr(text, "=visible"));
        assert_int_equal(trail_set_global_fields(TRAIL_NO_FIELDS), 0);
}

/* Appends the Luhn check digit to the n-1 digits in s. */
static void luhn_complete(char *s) {
        size_t n = strlen(s);
        unsigned sum = 0;
        for (size_t i = 0; i < n; i++) {
                unsigned d = (unsigned) (s[n - 1 - i] - '0');
                if (i % 2 == 0 && (d *= 2) > 9)
                        d -= 9;
                sum += d;
        }
        s[n] = (char) ('0' + (10 - sum % 10) % 10);
        s[n + 1] = '\0';
}

struct scrub_case {
        const char *in, *want;
};

static void check_message(const char *in, const char *want) {
        trail_info(out.lg, "%s", in);
        if (strcmp(last_message(), want) != 0)
                fail_msg("scrubbed\n  \"%s\"\nto\n  \"%s\"\nwanted\n  \"%s\"", in, last_message(),
                         want);
        /* As the text formatter renders a message: quoted when it holds '='
         * or starts with '"', with '\\' (and, quoted, '"') escaped. */
        bool quoted = want[0] == '"' || strchr(want, '=');
        char esc[512], *e = esc;
        for (const char *w = want; *w && e < esc + sizeof(esc) - 3; w++) {
                if (*w == '\\' || (quoted && *w == '"'))
                        *e++ = '\\';
                *e++ = *w;
        }
        *e = '\0';
        const char *text = capture_take(&out);
        if (!strstr(text, esc))
                fail_msg("stream line \"%s\" lacks \"%s\"", text, esc);
}

static void messages_are_scrubbed(void **state) {
        (void) state;
        static const struct scrub_case cases[] = {
                {"card 4111111111111111 ok", "card **** ok"},
                {"card 4111 1111 1111 1111.", "card ****."},
                {"card 4111-1111-1111-1111", "card ****"},
                {"4111111111111111", "****"},
                {"amex 378282246310005 end", "amex **** end"},
                {"13 digits 4222222222222", "13 digits ****"},
                {"call 555-0100 4111111111111111", "call 555-0100 ****"},
                /* near misses: Luhn fails, too short, too long, glued to letters */
                {"near 4111111111111112 miss", "near 4111111111111112 miss"},
                {"id x4111111111111111", "id x4111111111111111"},
                {"id 4111111111111111x", "id 4111111111111111x"},
                {"order 12345 placed for customer 42", "order 12345 placed for customer 42"},
                {"4111--1111-1111-1111", "4111--1111-1111-1111"},
                /* grouped otherwise than cards are printed: identifiers
                 * (each of these passes the Luhn check) */
                {"run job-14399-1795651130", "run job-14399-1795651130"},
                {"ref 411111-1111111111", "ref 411111-1111111111"},
                {"ref 4111-11-11-1111-1111", "ref 4111-11-11-1111-1111"},
                {"amex 3782 822463 10005 grouped", "amex **** grouped"},
                /* bearer tokens */
                {"Authorization: Bearer abc.def-ghi_jkl~+/= next",
                 "Authorization: Bearer **** next"},
                {"token at the end bearer eyJhbGciOiJIUzI1NiJ9", "token at the end bearer ****"},
                {"BEARER  x", "BEARER  ****"},
                {"Bearerx abc", "Bearerx abc"},
                {"unbearer abc", "unbearer abc"},
                {"bearer", "bearer"},
                /* pairs */
                {"login password=hunter2 user=bob", "login password=**** user=bob"},
                {"PASSWORD: hunter2", "PASSWORD: ****"},
                {"url ?user=a&db_password=s3cr3t&x=1", "url ?user=a&db_password=****&x=1"},
                {"password=\"two words\" then", "password=\"****\" then"},
                {"{\"password\": \"x y\", \"n\": 1}", "{\"password\": \"****\", \"n\": 1}"},
                {"passwd=abc", "passwd=****"},
                {"client secret=abc;", "client secret=****;"},
                {"passwords=3", "passwords=3"},
                {"nosecret=abc", "nosecret=abc"},
                {"empty password=", "empty password="},
                /* the next word is the value: better hidden than not */
                {"empty password= then", "empty password= ****"},
                {"password = x", "password = ****"},
                {"", ""},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                check_message(cases[i].in, cases[i].want);
}

static void card_lengths_are_13_to_19_digits(void **state) {
        (void) state;
        char num[32], in[64];

        for (int len = 11; len <= 21; len++) {
                memset(num, 0, sizeof(num));
                for (int i = 0; i < len - 1; i++)
                        num[i] = (char) ('1' + (i * 7) % 9);
                luhn_complete(num);
                assert_int_equal(strlen(num), len);
                snprintf(in, sizeof(in), "n=%s.", num);
                check_message(in, len >= 13 && len <= 19 ? "n=****." : in);
        }
}

static void string_values_are_scrubbed_and_numbers_kept(void **state) {
        (void) state;
        trail_info_with(out.lg,
                        TRAIL_FIELDS(TRAIL_STR("NOTE", "paid with 4111111111111111 today"),
                                     TRAIL_STR("HEADER", "Bearer abc123"),
                                     TRAIL_STR("DSN", "host=db password=pw1 port=5432"),
                                     TRAIL_UINT("ORDER", 4111111111111111ULL),
                                     TRAIL_STR("PLAIN", "nothing here")),
                        "values");
        assert_string_equal(last_value("NOTE"), "paid with **** today");
        assert_string_equal(last_value("HEADER"), "Bearer ****");
        assert_string_equal(last_value("DSN"), "host=db password=**** port=5432");
        assert_string_equal(last_value("PLAIN"), "nothing here");
        const char *text = capture_take(&out);
        assert_null(strstr(text, "abc123"));
        assert_null(strstr(text, "pw1"));
        /* A number is a number: the scrubber reads text only. */
        assert_non_null(strstr(text, "ORDER=4111111111111111"));
}

static void the_scrubber_can_be_turned_off(void **state) {
        (void) state;
        assert_int_equal(trail_set_scrub(false), 0);
        check_message("password=hunter2 4111111111111111", "password=hunter2 4111111111111111");
        trail_info_with(out.lg, TRAIL_FIELDS(TRAIL_STR("PASSWORD", "still-hidden")), "x");
        assert_string_equal(last_value("PASSWORD"), "****");
        (void) capture_take(&out);
        assert_int_equal(trail_set_scrub(true), 0);
        check_message("password=hunter2", "password=****");
}

static void the_list_can_be_replaced_extended_and_emptied(void **state) {
        (void) state;
        const char *const mine[] = {"pin", "x-otp", NULL};
        const char *const none[] = {NULL};
        const char *const bad[] = {"ok", "", NULL};

        assert_int_equal(trail_set_redact_fields(mine), 0);
        trail_info_with(out.lg,
                        TRAIL_FIELDS(TRAIL_STR("PIN", "1234"), TRAIL_STR("CARD_PIN", "9"),
                                     TRAIL_STR("X_OTP", "7"), TRAIL_STR("PASSWORD", "p")),
                        "custom");
        assert_string_equal(last_value("PIN"), "****");
        assert_string_equal(last_value("CARD_PIN"), "****");
        assert_string_equal(last_value("X_OTP"), "****");
        assert_string_equal(last_value("PASSWORD"), "p");

        assert_int_equal(trail_add_redact_field("session_id"), 0);
        assert_int_equal(trail_add_redact_field("session_id"), 0);
        trail_info_with(out.lg,
                        TRAIL_FIELDS(TRAIL_STR("WEB_SESSION_ID", "s"), TRAIL_STR("PIN", "1")),
                        "added");
        assert_string_equal(last_value("WEB_SESSION_ID"), "****");
        assert_string_equal(last_value("PIN"), "****");

        assert_int_equal(trail_set_redact_fields(none), 0);
        trail_info_with(out.lg, TRAIL_FIELDS(TRAIL_STR("PASSWORD", "p"), TRAIL_STR("PIN", "1")),
                        "none");
        assert_string_equal(last_value("PASSWORD"), "p");
        assert_string_equal(last_value("PIN"), "1");

        /* A one-letter name: the quick test must not hide it. */
        const char *const short_names[] = {"K", NULL};
        assert_int_equal(trail_set_redact_fields(short_names), 0);
        trail_info_with(out.lg, TRAIL_FIELDS(TRAIL_STR("API_K", "v"), TRAIL_STR("KK", "w")),
                        "short");
        assert_string_equal(last_value("API_K"), "****");
        assert_string_equal(last_value("KK"), "w");

        assert_int_equal(trail_set_redact_fields(bad), -EINVAL);
        assert_int_equal(trail_add_redact_field(NULL), -EINVAL);
        assert_int_equal(trail_add_redact_field("--"), -EINVAL);
        assert_int_equal(trail_set_redact_fields(NULL), 0); /* the built-in list again */
        trail_info_with(out.lg, TRAIL_FIELDS(TRAIL_STR("PASSWORD", "p"), TRAIL_STR("PIN", "1")),
                        "default");
        assert_string_equal(last_value("PASSWORD"), "****");
        assert_string_equal(last_value("PIN"), "1");
        (void) capture_take(&out);
}

static void errno_is_kept(void **state) {
        (void) state;
        const char *const mine[] = {"pin", NULL};
        errno = 42;
        trail_set_redact_fields(mine);
        trail_add_redact_field("x");
        trail_set_redact_fields(NULL);
        trail_info(out.lg, "password=x %s", "4111111111111111");
        assert_int_equal(errno, 42);
        (void) capture_take(&out);
}

static void *log_secrets(void *arg) {
        trail_logger *lg = arg;
        for (int i = 0; i < 2000; i++)
                trail_info_with(lg, TRAIL_FIELDS(TRAIL_STR("PASSWORD", "race-secret")), "r %d", i);
        return NULL;
}

/* Lists replaced while other threads log: every list here holds PASSWORD,
 * so no record may carry it in clear (and TSan sees the publication). */
static void lists_change_safely_while_threads_log(void **state) {
        (void) state;
        const char *const a[] = {"PASSWORD", "PIN", NULL};
        pthread_t th[2];
        trail_handler *c = trail_handler_capture();
        trail_logger *lg = trail_get("redact.race");

        trail_logger_set_propagate(lg, false);
        trail_logger_add_handler(lg, c);
        for (int i = 0; i < 2; i++)
                assert_int_equal(pthread_create(&th[i], NULL, log_secrets, lg), 0);
        for (int i = 0; i < 200; i++) {
                assert_int_equal(trail_set_redact_fields(i % 2 ? a : NULL), 0);
                assert_int_equal(trail_add_redact_field(i % 3 ? "OTP" : "SEED"), 0);
        }
        for (int i = 0; i < 2; i++)
                pthread_join(th[i], NULL);
        assert_int_equal(trail_capture_count(c), 4000);
        for (size_t i = 0; i < 4000; i++) {
                trail_field_view v;
                assert_int_equal(trail_record_find(trail_capture_get(c, i), "PASSWORD", &v), 0);
                assert_memory_equal(v.value.s, "****", 4);
        }
        trail_set_redact_fields(NULL);
        trail_logger_remove_handler(lg, c);
        trail_handler_unref(c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(named_fields_are_masked_on_every_sink),
                cmocka_unit_test(context_and_global_fields_are_masked),
                cmocka_unit_test(over_long_names_ending_in_a_listed_name_are_masked),
                cmocka_unit_test(messages_are_scrubbed),
                cmocka_unit_test(card_lengths_are_13_to_19_digits),
                cmocka_unit_test(string_values_are_scrubbed_and_numbers_kept),
                cmocka_unit_test(the_scrubber_can_be_turned_off),
                cmocka_unit_test(the_list_can_be_replaced_extended_and_emptied),
                cmocka_unit_test(errno_is_kept),
                cmocka_unit_test(lists_change_safely_while_threads_log),
        };
        int r = cmocka_run_group_tests(tests, setup, teardown);
        trail_shutdown();
        return r;
}
