/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Global fields in two layers, the program's (trail_set_global_fields())
 * and the operator's (trail.conf's "fields ="): both reach every record in
 * the real journald, in whichever order they are set; a reload replaces
 * only the file's; on a name set in both the file's value wins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config-util.h"
#include "journal-util.h"
#include "trail.h"

/* Applies a configuration that sends the root's records to journald, with
 * the given "fields =" line (NULL: none). */
static void configure_with_fields(const char *fields) {
        struct errbuf e = {};
        const char *path =
                conf_write("[trail]\nlevel = debug\nhandlers = j\n%s%s%s\n"
                           "[handler j]\ntype = journald\n",
                           fields ? "fields = " : "", fields ? fields : "", fields ? "\n" : "");
        int r = trail_configure_full(path, 0, errbuf_add, &e);
        unlink(path);
        if (r != 0)
                fail_msg("configuration refused: %s", e.text);
}

/* Logs one record and reads it back from journald. */
static struct jentries log_one(void) {
        char id[33];

        test_run_id(id);
        trail_info_with(trail_get("layers"), TRAIL_FIELDS(TRAIL_STR("LAYERS_RUN", id)), "layers");
        struct jentries es = journal_collect("LAYERS_RUN", id, 1, 10000);
        assert_int_equal(es.n, 1);
        return es;
}

static void assert_field(const struct jentry *e, const char *name, const char *value) {
        const char *v = jentry_get(e, name, NULL);
        if (!value) {
                if (v)
                        fail_msg("%s=%s: expected none", name, v);
                return;
        }
        if (!v)
                fail_msg("%s missing: expected %s", name, value);
        assert_string_equal(v, value);
        assert_int_equal(jentry_count(e, name), 1);
}

/* Both layers on one record: the program's APP, the file's SITE, and ENV,
 * set by both, with the file's value. */
static void assert_both_layers(void) {
        struct jentries es = log_one();
        assert_field(&es.e[0], "APP", "billing");
        assert_field(&es.e[0], "SITE", "fra1");
        assert_field(&es.e[0], "ENV", "staging");
        jentries_free(&es);
}

static void program_fields(void) {
        assert_int_equal(trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("APP", "billing"),
                                                              TRAIL_STR("ENV", "dev"))),
                         0);
}

static void reset(void) {
        configure_with_fields(NULL);
        assert_int_equal(trail_set_global_fields(TRAIL_NO_FIELDS), 0);
}

static void config_then_program_add_up(void **state) {
        (void) state;
        reset();
        configure_with_fields("SITE=fra1 ENV=staging");
        program_fields();
        assert_both_layers();
}

static void program_then_config_add_up(void **state) {
        (void) state;
        reset();
        program_fields();
        configure_with_fields("SITE=fra1 ENV=staging");
        assert_both_layers();
}

static void a_reload_replaces_only_the_files_layer(void **state) {
        (void) state;
        reset();
        program_fields();
        configure_with_fields("SITE=fra1 ENV=staging");
        configure_with_fields("ZONE=b");
        struct jentries es = log_one();
        assert_field(&es.e[0], "APP", "billing");
        assert_field(&es.e[0], "ENV", "dev"); /* the file no longer sets it */
        assert_field(&es.e[0], "SITE", NULL);
        assert_field(&es.e[0], "ZONE", "b");
        jentries_free(&es);

        /* a file without "fields =" clears its layer, and only that */
        configure_with_fields(NULL);
        es = log_one();
        assert_field(&es.e[0], "APP", "billing");
        assert_field(&es.e[0], "ENV", "dev");
        assert_field(&es.e[0], "ZONE", NULL);
        jentries_free(&es);
}

static void the_program_clearing_its_layer_keeps_the_files(void **state) {
        (void) state;
        reset();
        configure_with_fields("SITE=fra1 ENV=staging");
        program_fields();
        assert_int_equal(trail_set_global_fields(TRAIL_NO_FIELDS), 0);
        struct jentries es = log_one();
        assert_field(&es.e[0], "APP", NULL);
        assert_field(&es.e[0], "SITE", "fra1");
        assert_field(&es.e[0], "ENV", "staging");
        jentries_free(&es);
}

/* The file's value wins on a shared name whichever was set last, and a
 * call's own field still wins over both. */
static void the_files_value_wins_on_a_shared_name(void **state) {
        (void) state;
        char id[33];

        reset();
        configure_with_fields("ENV=staging");
        program_fields();
        assert_int_equal(trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("ENV", "dev2"))), 0);
        struct jentries es = log_one();
        assert_field(&es.e[0], "ENV", "staging");
        jentries_free(&es);

        test_run_id(id);
        trail_info_with(trail_get("layers"),
                        TRAIL_FIELDS(TRAIL_STR("LAYERS_RUN", id), TRAIL_STR("ENV", "call")), "x");
        es = journal_collect("LAYERS_RUN", id, 1, 10000);
        assert_int_equal(es.n, 1);
        assert_field(&es.e[0], "ENV", "call");
        jentries_free(&es);
}

/* Redaction judges both layers with the list in force. */
static void both_layers_are_redacted(void **state) {
        (void) state;
        reset();
        configure_with_fields("SITE_TOKEN=op-secret");
        assert_int_equal(trail_set_global_fields(TRAIL_FIELDS(TRAIL_STR("APP_PASSWORD", "pw"))), 0);
        struct jentries es = log_one();
        assert_field(&es.e[0], "SITE_TOKEN", "****");
        assert_field(&es.e[0], "APP_PASSWORD", "****");
        jentries_free(&es);
}

static int teardown(void **state) {
        (void) state;
        trail_shutdown();
        return 0;
}

int main(void) {
        require_journald();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(config_then_program_add_up),
                cmocka_unit_test(program_then_config_add_up),
                cmocka_unit_test(a_reload_replaces_only_the_files_layer),
                cmocka_unit_test(the_program_clearing_its_layer_keeps_the_files),
                cmocka_unit_test(the_files_value_wins_on_a_shared_name),
                cmocka_unit_test(both_layers_are_redacted),
        };
        return cmocka_run_group_tests(tests, NULL, teardown);
}
