/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* $TRAIL_CONFIG is read at the first trail_get() of a program that never
 * calls trail_configure(), and $TRAIL_LEVEL overrides its levels.
 * (Both are read with secure_getenv(): a setuid program ignores them.) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config-util.h"

static char path[64];

static void the_first_logger_loads_trail_config_and_trail_level(void **state) {
        (void) state;
        /* The very first call into trail in this process. */
        trail_logger *db = trail_get("env.db");

        assert_int_equal(trail_logger_level(trail_get(NULL)), TRAIL_NOTICE); /* env over file */
        assert_int_equal(trail_logger_level(db), TRAIL_DEBUG);               /* env over file */
        assert_int_equal(trail_logger_level(trail_get("env.http")), TRAIL_ERROR); /* file */
        assert_int_equal(trail_logger_level(trail_get("env.x")), TRAIL_INFO);     /* env only */
        trail_debug(db, "db debug");
        trail_info(trail_get("other"), "below notice");
        char *out = memfd_take(sink);
        assert_non_null(strstr(out, "configuration loaded from"));
        assert_non_null(strstr(out, "db debug FROM=file"));
        assert_null(strstr(out, "below notice"));
        free(out);
}

static void configure_null_reads_trail_config_again(void **state) {
        (void) state;
        assert_int_equal(trail_configure(NULL), 0);
        assert_int_equal(trail_logger_level(trail_get("env.db")), TRAIL_DEBUG);
        char *out = memfd_take(sink);
        assert_non_null(strstr(out, "configuration loaded from"));
        free(out);
}

static void a_bad_trail_level_is_reported_and_ignored_whole(void **state) {
        (void) state;
        struct errbuf e = {};

        setenv("TRAIL_LEVEL", "debug,env.db=loud", 1);
        assert_int_equal(trail_configure_full(NULL, 0, errbuf_add, &e), 0);
        assert_non_null(strstr(e.text, "$TRAIL_LEVEL: 'loud': unknown level (expected one of "
                                       "debug, info, notice, warning, error, critical, alert, "
                                       "emergency, 0 to 7): ignored"));
        assert_int_equal(trail_logger_level(trail_get(NULL)), TRAIL_WARNING); /* the file's */
        assert_int_equal(trail_logger_level(trail_get("env.db")), TRAIL_ERROR);
        free(memfd_take(sink));
}

/* Blanks around ',' and '=' (spaces, tabs), an empty entry, "root", any
 * case: each form is taken, with no message. */
static void blanks_around_commas_and_equals_are_accepted(void **state) {
        (void) state;
        static const struct {
                const char *value;
                int root, db, x;
        } forms[] = {
                {"info, env.db = debug", TRAIL_INFO, TRAIL_DEBUG, TRAIL_INFO},
                {"  notice ,\tenv.db\t=\tcrit ,env.x= 7 ,", TRAIL_NOTICE, TRAIL_CRITICAL,
                 TRAIL_DEBUG},
                {"root = err, env.db=Warning", TRAIL_ERROR, TRAIL_WARNING, TRAIL_ERROR},
                {",, env.x =debug, , DEBUG", TRAIL_DEBUG, TRAIL_ERROR, TRAIL_DEBUG},
                {"info,\n  env.db = notice\n", TRAIL_INFO, TRAIL_NOTICE, TRAIL_INFO},
        };

        for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
                struct errbuf e = {};
                setenv("TRAIL_LEVEL", forms[i].value, 1);
                assert_int_equal(trail_configure_full(NULL, 0, errbuf_add, &e), 0);
                if (e.n != 0)
                        fail_msg("'%s' refused: %s", forms[i].value, e.text);
                assert_int_equal(trail_logger_level(trail_get(NULL)), forms[i].root);
                assert_int_equal(trail_logger_level(trail_get("env.db")), forms[i].db);
                assert_int_equal(trail_logger_level(trail_get("env.x")), forms[i].x);
                free(memfd_take(sink));
        }
}

/* Each refused form: the one message that names its real problem, and
 * nothing of the variable applied. */
static void each_refused_form_names_its_problem(void **state) {
        (void) state;
        static const struct {
                const char *value, *message;
        } forms[] = {
                {"info, worker..db=debug",
                 "'worker..db': invalid logger name (no blanks or control characters, no empty "
                 "part between dots)"},
                {"debug, my worker = debug",
                 "'my worker': invalid logger name (no blanks or control characters, no empty "
                 "part between dots)"},
                {"verbose",
                 "'verbose': unknown level (expected one of debug, info, notice, warning, error, "
                 "critical, alert, emergency, 0 to 7)"},
                {"debug, env.db = loud",
                 "'loud': unknown level (expected one of debug, info, notice, warning, error, "
                 "critical, alert, emergency, 0 to 7)"},
                {"debug, env.db debug",
                 "'env.db debug': missing '=' (expected LEVEL or LOGGER=LEVEL)"},
                {"env.db", "'env.db': missing '=' (expected LEVEL or LOGGER=LEVEL)"},
                {"debug, = debug", "'=debug': missing logger name before '='"},
                {"debug, env.db = ", "'env.db=': missing level after '='"},
                {"env.db=debug=info", "'env.db=debug=info': more than one '='"},
        };

        for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
                struct errbuf e = {};
                char want[512];
                setenv("TRAIL_LEVEL", forms[i].value, 1);
                assert_int_equal(trail_configure_full(NULL, 0, errbuf_add, &e), 0);
                snprintf(want, sizeof(want), "$TRAIL_LEVEL: %s: ignored\n", forms[i].message);
                assert_string_equal(e.text, want);
                assert_int_equal(trail_logger_level(trail_get(NULL)), TRAIL_WARNING);
                assert_int_equal(trail_logger_level(trail_get("env.db")), TRAIL_ERROR);
                free(memfd_take(sink));
        }
}

static void without_trail_config_the_default_returns(void **state) {
        (void) state;
        unsetenv("TRAIL_CONFIG");
        setenv("TRAIL_LEVEL", "env.x=debug", 1);
        assert_int_equal(trail_configure(NULL), 0);
        assert_int_equal(trail_logger_level(trail_get(NULL)), TRAIL_INFO);
        assert_int_equal(trail_logger_level(trail_get("env.http")), TRAIL_INFO);
        assert_int_equal(trail_logger_level(trail_get("env.x")), TRAIL_DEBUG);
        trail_warning(trail_get("other"), "to the default handler, not the file's");
        char *out = memfd_take(sink);
        assert_null(strstr(out, "not the file's"));
        free(out);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(the_first_logger_loads_trail_config_and_trail_level),
                cmocka_unit_test(configure_null_reads_trail_config_again),
                cmocka_unit_test(a_bad_trail_level_is_reported_and_ignored_whole),
                cmocka_unit_test(blanks_around_commas_and_equals_are_accepted),
                cmocka_unit_test(each_refused_form_names_its_problem),
                cmocka_unit_test(without_trail_config_the_default_returns),
        };
        int r;

        sink = memfd_new();
        strcpy(path, conf_write("[trail]\nlevel = warning\nhandlers = mem\nfields = FROM=file\n"
                                "[logger env.db]\nlevel = error\n"
                                "[logger env.http]\nlevel = error\n"
                                "[handler mem]\ntype = stream\nfd = %d\n",
                                sink));
        setenv("TRAIL_CONFIG", path, 1);
        setenv("TRAIL_LEVEL", "notice, env.db=debug,env.x=info,trail=info", 1);
        r = cmocka_run_group_tests(tests, NULL, NULL);
        unlink(path);
        trail_shutdown();
        close(sink);
        return r;
}
