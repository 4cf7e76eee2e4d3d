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
#include "trail.h"

static const char *const secrets[] = {
        "hunter2-field", "s3cr3t-db", "ctx-t0ken", "gl0bal-key", "4111111111111111",
        "4111 1111 1111 1111", "eyJhbGciOiJIUzI1NiJ9.payload", "msg-pw-9", "value-pw-7",
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
                trail_warning_with(lg,
                                   TRAIL_FIELDS(TRAIL_STR("PASSWORD", "hunter2-field"),
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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(no_secret_reaches_journald),
        };
        require_journald();
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
