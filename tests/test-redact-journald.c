/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* No secret reaches the real journald in clear: records with secrets in
 * named fields, context, global fields, the message and string values are
 * read back with sd-journal, and every field of every entry is searched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "journal-util.h"
#include "redact-gen.h"
#include "trail.h"

static const char *const secrets[] = {
        "hunter2-field",
        "s3cr3t-db",
        "ctx-t0ken",
        "gl0bal-key",
        "4111111111111111",
        "4111 1111 1111 1111",
        "eyJhbGciOiJIUzI1NiJ9.payload",
        "msg-pw-9",
        "value-pw-7",
        "5500005555555559",
};

static void no_secret_reaches_journald(void **state) {
        (void) state;
        char id[33];
        trail_logger *lg = trail_get("redact.journald");
        trail_handler *h = trail_handler_journald();

        test_run_id(id);
        trail_logger_add_handler(lg, h);
        trail_logger_set_propagate(lg, false);
        trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("API_KEY", "gl0bal-key")));
        {
                TRAIL_SCOPE(TRAIL_STR("REDACT_RUN", id), TRAIL_STR("SESSION_TOKEN", "ctx-t0ken"));
                trail_warning_with(
                        lg,
                        TRAIL_FIELDS(
                                TRAIL_STR("PASSWORD", "hunter2-field"),
                                TRAIL_STR("db_password", "s3cr3t-db"),
                                TRAIL_STR("NOTE", "card 5500005555555559 and password=value-pw-7"),
                                TRAIL_STR("PASSWORDLESS", "visible-1")),
                        "pay 4111111111111111 / 4111 1111 1111 1111 with Bearer %s password=%s",
                        "eyJhbGciOiJIUzI1NiJ9.payload", "msg-pw-9");
                trail_error_with(lg, TRAIL_FIELDS(TRAIL_INT("CVV", 737)), "second");
        }
        trail_set_global_fields(TRAIL_NO_FIELDS);

        struct jentries es = journal_collect("REDACT_RUN", id, 2, 10000);
        assert_int_equal(es.n, 2);
        for (size_t i = 0; i < es.n; i++)
                for (size_t k = 0; k < es.e[i].n; k++) {
                        const struct jfield *f = &es.e[i].f[k];
                        for (size_t s = 0; s < sizeof(secrets) / sizeof(secrets[0]); s++)
                                if (memmem(f->value, f->len, secrets[s], strlen(secrets[s])))
                                        fail_msg("%s=%s holds a secret", f->name, f->value);
                }
        const struct jentry *e = &es.e[0];
        assert_string_equal(jentry_get(e, "PASSWORD", NULL), "****");
        assert_string_equal(jentry_get(e, "DB_PASSWORD", NULL), "****");
        assert_string_equal(jentry_get(e, "SESSION_TOKEN", NULL), "****");
        assert_string_equal(jentry_get(e, "API_KEY", NULL), "****");
        assert_string_equal(jentry_get(e, "PASSWORDLESS", NULL), "visible-1");
        assert_string_equal(jentry_get(e, "NOTE", NULL), "card **** and password=****");
        assert_string_equal(jentry_get(e, "MESSAGE", NULL),
                            "pay **** / **** with Bearer **** password=****");
        assert_string_equal(jentry_get(&es.e[1], "CVV", NULL), "****");
        jentries_free(&es);
        trail_handler_unref(h);
}

/* redact-gen.h's names, each listed name with every prefix and length in
 * one record per path (call, context, global): in journald, as everywhere,
 * no value in clear. */
static void generated_names_reach_journald_masked(void **state) {
        (void) state;
        char id[33];
        trail_logger *lg = trail_get("redact.journald.gen");
        trail_handler *h = trail_handler_journald();
        static char names[GEN_N_KINDS * GEN_N_LENGTHS][512];
        static trail_field f[GEN_N_KINDS * GEN_N_LENGTHS + 1];
        size_t records = 0;

        test_run_id(id);
        trail_logger_add_handler(lg, h);
        trail_logger_set_propagate(lg, false);
        gen_add_custom_names();
        for (size_t l = 0; l < GEN_N_LISTED; l++) {
                size_t n = 0;
                for (size_t k = 0; k < GEN_N_KINDS; k++)
                        for (size_t len = 0; len < GEN_N_LENGTHS; len++)
                                if (gen_name(l, k, len, names[n])) {
                                        f[n] = n % 2 ? TRAIL_BYTES(names[n], GEN_SECRET,
                                                                   strlen(GEN_SECRET))
                                                     : TRAIL_STR(names[n], GEN_SECRET);
                                        n++;
                                }
                trail_fields gen = {f, n};
                trail_field run = TRAIL_STR("REDACT_RUN", id);
                trail_fields with_run = {f, n + 1};

                f[n] = run;
                assert_int_equal(trail_info_with(lg, with_run, "call"), 0);
                int token = trail_context_push(gen);
                assert_true(token >= 0);
                assert_int_equal(trail_info_with(lg, TRAIL_FIELDS(run), "context"), 0);
                trail_context_pop(token);
                assert_int_equal(trail_set_global_fields(gen), 0);
                assert_int_equal(trail_info_with(lg, TRAIL_FIELDS(run), "global"), 0);
                assert_int_equal(trail_set_global_fields(TRAIL_NO_FIELDS), 0);
                records += 3;
        }
        trail_info_with(lg,
                        TRAIL_FIELDS(TRAIL_STR("REDACT_RUN", id),
                                     TRAIL_STR(gen_visible[0], GEN_VISIBLE_VALUE),
                                     TRAIL_STR(gen_visible[1], GEN_VISIBLE_VALUE),
                                     TRAIL_STR(gen_visible[2], GEN_VISIBLE_VALUE),
                                     TRAIL_STR(gen_visible[3], GEN_VISIBLE_VALUE)),
                        "visible");
        records++;

        struct jentries es = journal_collect("REDACT_RUN", id, records, 30000);
        assert_int_equal(es.n, records);
        size_t leaks = 0;
        for (size_t i = 0; i < es.n; i++) {
                size_t masked = 0, visible = 0;
                for (size_t k = 0; k < es.e[i].n; k++) {
                        const struct jfield *jf = &es.e[i].f[k];
                        if (memmem(jf->value, jf->len, GEN_SECRET, strlen(GEN_SECRET)) &&
                            leaks++ < 20)
                                fprintf(stderr, "entry %zu: %s=%s in clear\n", i, jf->name,
                                        jf->value);
                        masked += strcmp(jf->value, "****") == 0;
                        visible += strcmp(jf->value, GEN_VISIBLE_VALUE) == 0;
                }
                if (i + 1 < es.n)
                        assert_true(masked > 0);
                else
                        assert_int_equal(visible, 4);
        }
        jentries_free(&es);
        trail_handler_unref(h);
        assert_int_equal(trail_set_redact_fields(NULL), 0);
        if (leaks > 0)
                fail_msg("%zu values in clear", leaks);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(no_secret_reaches_journald),
                cmocka_unit_test(generated_names_reach_journald_masked),
        };
        require_journald();
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
