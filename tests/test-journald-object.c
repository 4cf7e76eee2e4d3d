/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* journald's object fields are reserved (trail(7)): journalctl -u trusts
 * OBJECT_SYSTEMD_UNIT= (and COREDUMP_UNIT=) in a record from root, so a
 * field of that name would file the record under another unit. Logged as
 * root to the real journald, through call, context and global fields, the
 * record is not found under the unit, and its value is, renamed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal-util.h"
#include "trail.h"

/* Entries that journalctl's own matches for a unit (its -u for root's
 * records: OBJECT_SYSTEMD_UNIT= with _UID=0, COREDUMP_UNIT= with _UID=0)
 * find. */
static size_t entries_matching(const char *field, const char *unit) {
        sd_journal *j;
        char match[256];
        size_t n = 0;

        assert_int_equal(sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY), 0);
        snprintf(match, sizeof(match), "%s=%s", field, unit);
        assert_int_equal(sd_journal_add_match(j, match, 0), 0);
        assert_int_equal(sd_journal_add_match(j, "_UID=0", 0), 0);
        while (sd_journal_next(j) > 0)
                n++;
        sd_journal_close(j);
        return n;
}

/* What journalctl -u unit prints (-o cat: the messages). */
static size_t journalctl_lines(const char *flag, const char *unit) {
        char cmd[256], line[1024];
        size_t n = 0;

        snprintf(cmd, sizeof(cmd), "journalctl %s '%s' -q --no-pager -o cat 2>/dev/null", flag,
                 unit);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        while (fgets(line, sizeof(line), p))
                n++;
        pclose(p);
        return n;
}

static void object_fields_cannot_file_a_record_under_another_unit(void **state) {
        (void) state;
        char id[33], unit[64], user_unit[64];
        trail_logger *lg = trail_get("object.fields");
        trail_handler *h = trail_handler_journald();

        if (geteuid() != 0)
                skip(); /* journald trusts object fields from root only */
        test_run_id(id);
        snprintf(unit, sizeof(unit), "trail-object-%.12s.service", id);
        snprintf(user_unit, sizeof(user_unit), "trail-object-user-%.12s.service", id);
        trail_logger_add_handler(lg, h);
        trail_logger_set_propagate(lg, false);

        trail_fields spoof = TRAIL_FIELDS(
                TRAIL_STR("OBJECT_SYSTEMD_UNIT", unit),
                TRAIL_STR("object_systemd_user_unit", user_unit), TRAIL_STR("COREDUMP_UNIT", unit),
                TRAIL_STR("COREDUMP_USER_UNIT", user_unit), TRAIL_INT("OBJECT_PID", 1));
        trail_field run = TRAIL_STR("TRAIL_OBJECT_RUN", id);
        trail_field all[6];
        memcpy(all, spoof.fields, spoof.n * sizeof(all[0]));
        all[5] = run;
        assert_int_equal(trail_info_with(lg, ((trail_fields){all, 6}), "call"), 0);
        int token = trail_context_push(spoof);
        assert_true(token >= 0);
        assert_int_equal(trail_info_with(lg, TRAIL_FIELDS(run), "context"), 0);
        trail_context_pop(token);
        assert_int_equal(trail_set_global_fields(spoof), 0);
        assert_int_equal(trail_info_with(lg, TRAIL_FIELDS(run), "global"), 0);
        assert_int_equal(trail_set_global_fields(TRAIL_NO_FIELDS), 0);

        struct jentries es = journal_collect("TRAIL_OBJECT_RUN", id, 3, 10000);
        assert_int_equal(es.n, 3);
        /* not under the unit, and the value is findable under its renamed name */
        assert_int_equal(entries_matching("OBJECT_SYSTEMD_UNIT", unit), 0);
        assert_int_equal(entries_matching("OBJECT_SYSTEMD_USER_UNIT", user_unit), 0);
        assert_int_equal(entries_matching("COREDUMP_UNIT", unit), 0);
        assert_int_equal(journalctl_lines("-u", unit), 0);
        assert_int_equal(journalctl_lines("--user-unit", user_unit), 0);
        assert_int_equal(entries_matching("F_OBJECT_SYSTEMD_UNIT", unit), 3);
        for (size_t i = 0; i < es.n; i++) {
                const struct jentry *e = &es.e[i];
                for (size_t k = 0; k < e->n; k++)
                        if (strncmp(e->f[k].name, "OBJECT_", 7) == 0 ||
                            strncmp(e->f[k].name, "COREDUMP_", 9) == 0)
                                fail_msg("entry %zu: %s=%s", i, e->f[k].name, e->f[k].value);
                assert_string_equal(jentry_get(e, "_UID", NULL), "0");
                assert_string_equal(jentry_get(e, "F_OBJECT_SYSTEMD_UNIT", NULL), unit);
                assert_string_equal(jentry_get(e, "F_OBJECT_SYSTEMD_USER_UNIT", NULL), user_unit);
                assert_string_equal(jentry_get(e, "F_COREDUMP_UNIT", NULL), unit);
                assert_string_equal(jentry_get(e, "F_COREDUMP_USER_UNIT", NULL), user_unit);
                assert_string_equal(jentry_get(e, "F_OBJECT_PID", NULL), "1");
        }
        jentries_free(&es);
        trail_handler_unref(h);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(object_fields_cannot_file_a_record_under_another_unit),
        };
        require_journald();
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        trail_shutdown();
        return r;
}
